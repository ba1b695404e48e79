"""The symmetry discovery map Ω (§VII.C, Eq. 43) and learning it in one training (Eq. 44).

Every SymmetryGAN run carries its initial parameters ``c`` to learned ones; the map
``Ω: c ↦ c_final`` (Eq. 43) is the *symmetry discovery map*. It can be read off many runs
(``fit.init_params → fit.params``; Fig. 17 and Eqs. A1–A5), or learned directly: let a
function ``Ω`` with a few coefficients produce the parameters, and train it against a
discriminator with parameters ``c`` drawn afresh for every transformed event (Eq. 44),

    L[Ω, d] = −Σ_c Σ_x [log d(x) + log(1 − d(g(x | Ω(c))))].

:func:`learn_discovery_map` does this for the three one-dimensional ansätze of the paper's
Appendix, applied to each parameter separately and started at the identity ``Ω(c) = c``:

* ``"relu"`` — Eq. (A7), ``Ω(c) = λ ReLU(c) − μ ReLU(−c) + ρ``, from ``λ = μ = 1, ρ = 0``;
* ``"poly"`` — Eq. (A8), ``Ω(c) = h Σ_{j=1}^{degree} a_j (c/h)^j`` with ``h`` the largest
  ``|c|`` of the range (``h = 1`` gives the printed polynomial), from ``a_1 = 1``, others 0;
* ``"sign"`` — Eq. (A9), ``Ω(c) = λ c + (1 − λ) sign(c − μ)``, from ``λ = 1, μ = 0``.

One discriminator per run judges the whole family ``{g(· | Ω(c))}`` at once, as Eq. (44) is
written: it sees the data against the *mixture* over ``c`` of the transformed data.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from .. import _checks
from .._checks import as_points
from .._loop import Standardised
from ..spaces import SearchSpace
from . import _adversarial

__all__ = ["ANSATZE", "omega", "DiscoveryMapFit", "learn_discovery_map"]

#: The ansätze of the Appendix: name → (equation, names of the coefficients).
ANSATZE = {"relu": ("A7", ("lambda", "mu", "rho")),
           "poly": ("A8", None),  # a_1 … a_degree
           "sign": ("A9", ("lambda", "mu"))}


def _coefficient_names(ansatz: str, degree: int) -> tuple:
    names = ANSATZE[ansatz][1]
    return tuple(f"a{j}" for j in range(1, degree + 1)) if names is None else names


def _identity(ansatz: str, K: int, P: int, degree: int) -> torch.Tensor:
    """Coefficients ``[K, P, m]`` of the identity map ``Ω(c) = c``."""
    if ansatz == "relu":
        row = [1.0, 1.0, 0.0]
    elif ansatz == "sign":
        row = [1.0, 0.0]
    else:
        row = [1.0] + [0.0] * (degree - 1)
    return torch.tensor(row, dtype=torch.float64).expand(K, P, len(row)).clone()


def omega(ansatz: str, coefficients, c, scale=1.0) -> torch.Tensor:
    """Evaluate an ansatz: ``Ω(c)`` for coefficients ``[K, P, m]`` and parameters ``c [K, N, P]``.

    ``scale`` (``[P]`` or a number) is ``h`` of the polynomial ansatz. Differentiable in the
    coefficients; returns ``[K, N, P]``.
    """
    if ansatz not in ANSATZE:
        raise ValueError(f"ansatz must be one of {sorted(ANSATZE)}; got {ansatz!r}")
    a = torch.as_tensor(coefficients)
    c = torch.as_tensor(c, dtype=a.dtype)
    a = a[:, None]  # [K, 1, P, m]
    if ansatz == "relu":
        return a[..., 0] * torch.relu(c) - a[..., 1] * torch.relu(-c) + a[..., 2]
    if ansatz == "sign":
        return a[..., 0] * c + (1.0 - a[..., 0]) * torch.sign(c - a[..., 1])
    h = torch.as_tensor(scale, dtype=a.dtype)
    u = c / h
    powers = torch.stack([u ** j for j in range(1, a.shape[-1] + 1)], -1)  # [K, N, P, m]
    return h * (a * powers).sum(-1)


@dataclass
class DiscoveryMapFit:
    """Result of :func:`learn_discovery_map` for ``K`` runs.

    Attributes:
        ansatz: ``"relu"`` (Eq. A7), ``"poly"`` (Eq. A8) or ``"sign"`` (Eq. A9).
        coefficients: ``[K, P, m]`` the learned coefficients, one set per parameter of the
            space (tail-averaged as in :class:`symlab.SymmetryGAN`).
        init_coefficients: ``[K, P, m]`` the start (the identity map).
        names: the coefficients' names (``m`` of them).
        ranges: ``[P, 2]`` the range of each parameter ``c`` that ``Ω`` was trained on.
        scale: ``[P]`` the ``h`` of the polynomial ansatz (largest ``|c|`` of the range).
        loss: ``[K]`` the discriminator loss of Eq. (13) over the final ``average`` fraction of
            the steps: ≈ 2 log 2 ≈ 1.386 when ``g(· | Ω(c))`` is a symmetry for the sampled ``c``.
        failed: ``[K]`` True where a run diverged.
        history: ``dict(steps [T], coefficients [T, K, P, m], d_loss [T, K])`` or ``None``.
        seconds: wall time.
        config: the settings.
    """

    ansatz: str
    coefficients: np.ndarray
    init_coefficients: np.ndarray
    names: tuple
    ranges: np.ndarray
    scale: np.ndarray
    loss: np.ndarray
    failed: np.ndarray
    history: dict | None
    seconds: float
    config: dict = field(default_factory=dict)

    @property
    def runs(self) -> int:
        return len(self.coefficients)

    def __len__(self) -> int:
        return self.runs

    def __call__(self, c, run: int | None = None) -> np.ndarray:
        """``Ω(c)`` for parameters ``c [N, P]`` (or ``[N]`` when ``P = 1``): ``[K, N, P]``, or
        ``[N, P]`` for one run."""
        c = np.asarray(c, dtype=np.float64)
        if c.ndim == 1:
            c = c[:, None]
        if c.ndim != 2 or c.shape[1] != self.coefficients.shape[1]:
            raise ValueError(f"c must have shape [N, {self.coefficients.shape[1]}]; got {c.shape}")
        coef = self.coefficients if run is None else self.coefficients[run:run + 1]
        out = omega(self.ansatz, torch.from_numpy(coef), torch.from_numpy(c)[None].expand(
            len(coef), -1, -1), torch.from_numpy(self.scale)).numpy()
        return out if run is None else out[0]

    def __repr__(self) -> str:
        return (f"DiscoveryMapFit({self.runs} runs, ansatz={self.ansatz!r} "
                f"(Eq. {ANSATZE[self.ansatz][0]}), {int(self.failed.sum())} failed, "
                f"{self.seconds:.1f} s)")


class DiscoveryMapFamily(_adversarial.MapFamily):
    """Eq. (44)'s family: per run the coefficients ``a`` of ``Ω``; every transformed event
    ``z ↦ g(z | Ω(c))`` with its own ``c`` drawn from the space's initialisation box."""

    def __init__(self, gen, std: Standardised, ansatz, lo, width, h):
        self.gen, self.std, self.ansatz = gen, std, ansatz
        self.lo, self.width, self.h = lo, width, h

    def transform(self, a, z, frac):
        """``g(z | Ω(c))`` with its own ``c`` for every event, in standardised coordinates."""
        Kr, Nr, n = z.shape
        P = self.lo.shape[0]
        c = self.lo + self.width * torch.rand(Kr, Nr, P, generator=self.gen).to(z.device)
        p = omega(self.ansatz, a, c, self.h).reshape(Kr * Nr, P)
        M = self.std.space._matrix(p)  # the learner's own tensor: NaN marks a failed run
        u = self.std._u(M, self.std.space._shift(p))  # the centre's displacement, in spreads
        return (torch.einsum("eij,ej->ei", M, z.reshape(Kr * Nr, n)) + u).reshape(Kr, Nr, n)


def learn_discovery_map(data, space: SearchSpace, ansatz: str = "sign", runs: int = 8,
                        steps: int = 2000, seed: int = 0, degree: int = 11, init=None,
                        batch_size: int = 128, lr_g: float = 0.01, lr_d: float = 0.01,
                        hidden=(25, 25), lr_floor: float = 0.02, average: float = 0.3,
                        eps_g: float = 0.3, record_every: int | None = None,
                        progress: bool | None = None, device=None) -> DiscoveryMapFit:
    """Learn the symmetry discovery map ``Ω`` of Eq. (43) by minimising Eq. (44).

    At every step each transformed event gets its own parameters ``c``, drawn uniformly
    from the space's initialisation ranges (``space.init_ranges``, the domain on which
    SymmetryGAN starts its runs; construct the space with ``ranges={...}`` to change it), and
    is mapped by ``g(x | Ω(c))``. A discriminator per run tells the data from these events;
    ``Ω``'s coefficients play the generator. If ``g(· | Ω(c))`` is a symmetry for every ``c``
    the loss is 2 log 2.

    Two cautions, both from the paper's Appendix. (1) Eq. (44) rewards *any* ``Ω`` whose maps
    are symmetries — a constant ``Ω(c) = c*`` at one symmetry ``c*`` is a perfect solution, but
    not the discovery map; only an ``Ω`` started at the identity and moved by gradient descent
    can be expected to approximate it. (2) The discriminator sees the mixture over ``c`` of
    the transformed data, so ``Ω`` can also fool it with maps that are no symmetry one by one
    but whose mixture resembles the data (the mode collapse of GANs).

    The training loop, the data handling (standardised coordinates) and the settings are
    those of :class:`symlab.SymmetryGAN` (see ``symlab.infer._adversarial``).

    Args:
        data: ``[N, n]`` sample or a density with ``.sample``/``.log_prob``.
        space: the search space ``g(x | c)`` (e.g. ``sl.spaces.Slope1D(b=0.0)`` for
            ``g(x) = c x``); ``Ω`` acts on each of its ``P`` parameters separately.
        ansatz: ``"relu"`` (Eq. A7), ``"poly"`` (Eq. A8) or ``"sign"`` (Eq. A9).
        runs: independent runs ``K`` (each with its own discriminator and batches).
        steps, seed, batch_size, lr_g, lr_d, hidden, lr_floor, average, eps_g: as in
            :class:`symlab.SymmetryGAN`.
        record_every, progress, device: as in :meth:`symlab.SymmetryGAN.fit`.
        degree: the polynomial's degree (Eq. A8 has 11).
        init: optional coefficients ``[K, P, m]`` (default: the identity map; its ``K``
            overrides ``runs``).

    Returns:
        :class:`DiscoveryMapFit`.
    """
    t0 = time.perf_counter()
    _checks.choice(ansatz, "ansatz", sorted(ANSATZE))
    _checks.space(space)
    degree = _checks.count(degree, "degree", minimum=1 if ansatz == "poly" else 0)
    n, P = space.dim, space.n_params
    if hasattr(data, "sample") and hasattr(data, "log_prob"):
        _checks.density(data, "data", dim=n, need=("sample", "log_prob"))
    else:
        as_points(data, n, name="data")
    settings = _adversarial.Settings(steps=steps, batch_size=batch_size, lr_g=lr_g, lr_d=lr_d,
                                     hidden=hidden, lr_floor=lr_floor, average=average,
                                     eps_g=eps_g)
    seed = _checks.resolve_seed(seed)
    K = _checks.count(runs, "runs")
    dev = _checks.device(device)
    names = _coefficient_names(ansatz, int(degree))
    if init is None:
        a0 = _identity(ansatz, K, P, int(degree))
    else:
        a0 = torch.from_numpy(_checks.as_array(init, "init", finite=False).copy())
        if a0.ndim != 3 or a0.shape[1:] != (P, len(names)):
            raise ValueError(f"init must have shape [K, {P}, {len(names)}] for ansatz {ansatz!r}; "
                             f"got {tuple(a0.shape)}")
        if not torch.isfinite(a0).all():
            raise ValueError("init contains NaN or inf")
        K = a0.shape[0]
    ranges = np.array([space.init_ranges[name] for name in space.param_names], dtype=np.float64)
    lo = torch.tensor(ranges[:, 0], dtype=torch.float32, device=dev)
    width = torch.tensor(ranges[:, 1] - ranges[:, 0], dtype=torch.float32, device=dev)
    scale_h = np.abs(ranges).max(1)
    h = torch.tensor(scale_h, dtype=torch.float32, device=dev)

    gen = torch.Generator()
    gen.manual_seed(seed)
    sampler = _adversarial.Sampler(data, n, gen, device=dev)
    std = Standardised(space, sampler.centre, sampler.scale)  # z = (x − m) / s
    family = DiscoveryMapFamily(gen, std, ansatz, lo, width, h)
    a = a0.float().to(dev).clone().requires_grad_(True)
    out = _adversarial.run(sampler, family, a, settings, seed=seed, record_every=record_every,
                           progress=progress, desc=f"Ω ({ansatz})")
    history = None
    if record_every is None or int(record_every) > 0:
        history = dict(steps=out.steps, coefficients=np.stack(out.records), d_loss=out.d_loss)
    config = dict(settings.as_dict(), runs=K, seed=seed, degree=int(degree),
                  scale=sampler.scale)
    return DiscoveryMapFit(ansatz=ansatz, coefficients=out.final.cpu().numpy(),
                           init_coefficients=a0.numpy(), names=names, ranges=ranges,
                           scale=scale_h, loss=out.loss, failed=out.failed, history=history,
                           seconds=time.perf_counter() - t0, config=config)
