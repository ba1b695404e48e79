"""One-parameter symmetry subgroups: learn a generator ``L`` with ``exp(tL)`` a symmetry for all ``t``.

The cyclic penalty of Eq. (18) asks one discovered element for ``g^q = 1``; the continuous
analogue asks for a whole one-parameter subgroup ``{exp(tL)}``: at every step each transformed
event is mapped by ``exp(tL)`` with its own random ``t``, and the discriminator has to tell the
data from the transformed data. The loss reaches 2 log 2 only if ``L`` lies in the Lie algebra
of the symmetry group. This is the idea behind LieGAN (Yang et al., ICML 2023), which learns
a basis of generators with a distribution of coefficients; here one generator per run, with
SymmetryGAN's discriminator and training loop (``symlab.infer._adversarial``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from .. import _checks
from .._checks import as_points
from . import _adversarial
from ._common import _square
from .algebra import cosine

__all__ = ["GeneratorFit", "learn_generator"]


@dataclass
class GeneratorFit:
    """Result of :func:`learn_generator` for ``K`` runs.

    Attributes:
        generators: ``[K, n, n]`` the learned generators ``L`` with ``‖L‖_F = norm``.
        init_generators: ``[K, n, n]`` their initial values.
        centre: ``[n]`` the data mean: the subgroup acts as ``x ↦ c + exp(tL)(x − c)``.
        scale: the common spread used to standardise the data.
        loss: ``[K]`` the discriminator loss of Eq. (13) averaged over the final ``average``
            fraction of the steps: ≈ 2 log 2 ≈ 1.386 when ``exp(tL)`` is a symmetry for the
            sampled ``t`` — a learned generator with a clearly lower value is not one.
        failed: ``[K]`` True where a run diverged (non-finite values).
        history: ``dict(steps [T], generators [T, K, n, n], d_loss [T, K])`` or ``None``.
        seconds: wall time.
        config: the settings.
    """

    generators: np.ndarray
    init_generators: np.ndarray
    centre: np.ndarray
    scale: float
    loss: np.ndarray
    failed: np.ndarray
    history: dict | None
    seconds: float
    config: dict = field(default_factory=dict)

    @property
    def runs(self) -> int:
        return len(self.generators)

    def __len__(self) -> int:
        return self.runs

    def cosine(self, reference) -> np.ndarray:
        """``[K]`` ``|cos|`` between each learned generator and ``reference [n, n]``."""
        return cosine(self.generators, _square(reference, "reference"))

    def elements(self, t: float, run: int | None = None):
        """The maps ``exp(tL)`` about the data centre as ``(M, V)``: ``[K, n, n]``, ``[K, n]``
        (or one run's ``[n, n]``, ``[n]``)."""
        L = self.generators if run is None else self.generators[run]
        M = torch.linalg.matrix_exp(float(t) * torch.from_numpy(L)).numpy()
        V = self.centre - M @ self.centre
        return M, V

    def __repr__(self) -> str:
        return (f"GeneratorFit({self.runs} runs, n={self.generators.shape[-1]}, "
                f"{int(self.failed.sum())} failed, {self.seconds:.1f} s)")


def _project(A: torch.Tensor, antisymmetric: bool, C: torch.Tensor | None = None) -> torch.Tensor:
    """The generator's direction: the antisymmetric part if asked, scaled to unit norm — the
    Frobenius norm, or with ``C [n, n]`` the data-weighted norm ``√tr(A C Aᵀ)``."""
    if antisymmetric:
        A = 0.5 * (A - A.transpose(-1, -2))
    if C is None:
        sq = A.pow(2).sum((-1, -2), keepdim=True)
    else:
        sq = (A @ C.to(A) * A).sum((-1, -2), keepdim=True)
    return A / sq.sqrt().clamp_min(1e-12)


class OneParameterSubgroup(_adversarial.MapFamily):
    """The learner's family: per run a generator direction ``A`` (kept on a sphere), and for
    every transformed event ``exp(tL) z`` with ``L = norm · A / |A|`` and its own ``t``."""

    def __init__(self, gen, K, n_fake, antisymmetric, C, norm, t_max, ramp, draws):
        self.gen, self.K, self.anti, self.C = gen, K, antisymmetric, C
        self.norm, self.t_max, self.ramp, self.draws = float(norm), float(t_max), ramp, int(draws)
        self.which = torch.arange(n_fake) % self.draws  # event → its draw of t

    def transform(self, A, z, frac):
        """``exp(tL) z`` with a fresh ``t`` per draw; ``t``'s range ramps up to ``t_max``."""
        L = self.norm * _project(A, self.anti, self.C)  # [K, n, n], differentiable in A
        grow = min(1.0, (1.0 + 2.0 * frac / self.ramp) / 3.0) if self.ramp > 0 else 1.0
        t = (torch.rand(self.K, self.draws, generator=self.gen) * 2.0 - 1.0).to(z.device)
        E = torch.linalg.matrix_exp((self.t_max * grow * t)[:, :, None, None] * L[:, None])
        return torch.einsum("kbij,kbj->kbi", E[:, self.which.to(z.device)], z)

    def project(self, A):  # back onto the sphere
        A.copy_(_project(A, self.anti, self.C))

    def to_space(self, A):  # reported with ‖L‖_F = norm
        return self.norm * _project(A.detach().double(), self.anti).cpu().numpy()


def learn_generator(data, runs: int = 8, steps: int = 2000, seed: int = 0,
                    antisymmetric: bool = True, norm: float = math.sqrt(2.0),
                    t_max: float = math.pi, ramp: float = 0.5, draws: int = 16,
                    batch_size: int = 128,
                    lr_g: float = 0.03, lr_d: float = 0.01, hidden=(25, 25),
                    lr_floor: float = 0.02, average: float = 0.3, eps_g: float = 0.3,
                    normalise: str = "data", init=None, dim: int | None = None,
                    record_every: int | None = None, progress: bool | None = None,
                    device=None) -> GeneratorFit:
    """Learn generators ``L`` of one-parameter symmetry subgroups ``{exp(tL)}``.

    The cyclic penalty of Eq. (18) asks one element to satisfy ``g^q = 1``; here we ask for a
    whole one-parameter subgroup: at every step each transformed event is mapped by
    ``exp(tL)`` with its own ``t ~ U(−t_max, t_max)``, and the discriminator of Eq. (13) has to
    tell ``x`` from ``exp(tL) x'``. The loss reaches 2 log 2 only if ``exp(tL)`` is a symmetry
    for (almost) every ``t`` in the range — i.e. ``L`` is in the Lie algebra of the symmetry
    group.

    Without a constraint the generator would collapse to the trivial solution ``L = 0``
    (``exp(tL) = 1`` is always a symmetry). The size of ``L`` is therefore fixed: the trained
    parameter is a direction, put back on the unit sphere after every step. With
    ``normalise="frobenius"`` the sphere is ``‖L‖_F = norm``. The default ``"data"`` fixes instead
    the data-weighted norm ``E‖L z‖² = tr(L C Lᵀ) = norm²`` (``C`` the second moments of the
    standardised data): the mean squared speed at which the flow moves the data. For isotropic
    data (``C = 1``, as for N_{1,1}) the two agree; for anisotropic data the Frobenius sphere
    leaves a loophole — a generator can put most of its norm into directions the data barely
    occupy and move the data hardly at all, which is the trivial solution in disguise (seen
    on the back-to-back toy of the tests, where such runs got stuck). The default
    ``norm = √2`` is ``‖J‖_F`` for ``J = [[0, 1], [−1, 0]]``, so that for a 2D rotation generator
    ``t ∈ [−π, π]`` sweeps the whole circle; any fixed norm works, a smaller one (or a smaller
    ``t_max``) explores a shorter arc. The reported generators are rescaled to ``‖L‖_F = norm``.

    The range of ``t`` grows during training (``ramp``): from ``t_max / 3`` to ``t_max`` over
    the first ``ramp`` fraction of the steps. For small ``t``, ``exp(tL) ≈ 1 + tL`` and the loss
    is nearly a quadratic form in the direction of ``L`` on the sphere, which has no spurious
    local optima; large ``t`` then tells exact from first-order symmetries. Starting at the
    full range left most runs of the 4D test stuck at non-symmetries; with the ramp, all
    converge.

    Parametrisations: ``antisymmetric=True`` (default) restricts ``L`` to so(n) — the algebra
    of O(n), which contains the symmetries of any density with an isotropic covariance in the
    standardised coordinates; ``antisymmetric=False`` searches all of gl(n) (it finds, e.g.,
    the elliptic rotations ``Σ^{1/2} J Σ^{-1/2}`` that preserve N_{1,2}). For ``n = 2``, so(2) is
    one-dimensional and the antisymmetric search is trivial (``L = ±J``).

    Check ``GeneratorFit.loss``: a run whose loss stays clearly below 2 log 2 did not find
    a symmetry (there may be none in the searched algebra).

    Data handling is SymmetryGAN's: an array ``[N, n]`` (batches drawn with replacement) or a
    density (fresh batches), standardised with the data mean and one common scale, so ``L``
    means the same in the data's units; the subgroup acts about the data mean. The
    discriminator is the same :class:`~symlab.discriminator.EnsembleMLP` with its fast passes,
    trained simultaneously with the generator exactly as in :meth:`symlab.SymmetryGAN.fit`.

    Args:
        data: ``[N, n]`` sample or a density with ``.sample``/``.log_prob``.
        runs: number of independent runs ``K`` (random initial directions).
        steps: training iterations.
        seed: seeds initial generators, discriminators, batches and the ``t`` draws.
        antisymmetric: restrict ``L`` to antisymmetric matrices (so(n)).
        norm: the fixed norm of ``L`` (see ``normalise``).
        t_max: ``t ~ U(−t_max, t_max)`` (after the ramp).
        ramp: fraction of the steps over which the range of ``t`` grows from ``t_max / 3`` to
            ``t_max`` (0: the full range from the start).
        draws: distinct values of ``t`` per run and step (the transformed half-batch is split
            among them; each costs one matrix exponential).
        batch_size, lr_g, lr_d, hidden, lr_floor, average, eps_g: as in
            :class:`symlab.SymmetryGAN` (``average``: tail-average the direction over that
            final fraction of the steps).
        normalise: ``"data"`` (default) or ``"frobenius"``: which norm of ``L`` is fixed.
        init: optional ``[K, n, n]`` initial generators (normalised here; its ``K`` overrides
            ``runs``).
        dim: the data dimension ``n`` (checked against the data; optional).
        record_every: record the trajectory every this many steps (default ~100 records,
            0 disables).
        progress: tqdm bar (default as SymmetryGAN).
        device: torch device.

    Returns:
        :class:`GeneratorFit` with ``generators [K, n, n]``.
    """
    t0 = time.perf_counter()
    if hasattr(data, "sample") and hasattr(data, "log_prob"):
        n = _checks.density(data, "data", need=("sample", "log_prob")).dim
    else:
        n = as_points(data, None, name="data").shape[1]
    if dim is not None and _checks.count(dim, "dim") != n:
        raise ValueError(f"dim={dim} but the data have dimension {n}")
    if n < 2:
        raise ValueError("a one-parameter subgroup of linear maps needs n >= 2 "
                         "(in one dimension the only generator is a dilation)")
    _checks.count(runs, "runs")
    draws = _checks.count(draws, "draws")
    norm, t_max = _checks.rate(norm, "norm"), _checks.rate(t_max, "t_max")
    antisymmetric = _checks.flag(antisymmetric, "antisymmetric")
    _checks.choice(normalise, "normalise", ("data", "frobenius"))
    ramp = _checks.fraction(ramp, "ramp")
    settings = _adversarial.Settings(steps=steps, batch_size=batch_size, lr_g=lr_g, lr_d=lr_d,
                                     hidden=hidden, lr_floor=lr_floor, average=average,
                                     eps_g=eps_g)
    seed = _checks.resolve_seed(seed)
    K, B = _checks.count(runs, "runs"), settings.batch_size
    dev = _checks.device(device)

    gen = torch.Generator()
    gen.manual_seed(seed)
    sampler = _adversarial.Sampler(data, n, gen, device=dev)
    C = None
    if normalise == "data":  # second moments of the standardised data (tr C ≈ n)
        probe = sampler.draw(1, 8192)[0].double().cpu()
        C = probe.T @ probe / len(probe)
        C = C + 1e-3 * torch.trace(C) / n * torch.eye(n, dtype=C.dtype)
        C = C.to(dev)

    if init is None:
        A0 = torch.randn(K, n, n, generator=gen, dtype=torch.float64)
    else:
        A0 = torch.as_tensor(_square(init, "init"))
        if A0.ndim != 3 or A0.shape[1:] != (n, n):
            raise ValueError(f"init must have shape [K, {n}, {n}]; got {tuple(A0.shape)}")
        K = A0.shape[0]
    A0 = _project(A0, antisymmetric)
    if not torch.isfinite(A0).all() or (A0.pow(2).sum((-1, -2)) < 0.5).any():
        raise ValueError("init has a zero generator (or a symmetric one with antisymmetric=True)")
    A0 = _project(A0, antisymmetric, C)
    A = A0.float().to(dev).clone().requires_grad_(True)
    family = OneParameterSubgroup(gen, K, B - B // 2, antisymmetric, C, norm, t_max, ramp,
                                  draws)
    out = _adversarial.run(sampler, family, A, settings, seed=seed,
                           record_every=record_every, progress=progress, desc="generator")
    final = float(norm) * _project(out.final, antisymmetric)
    history = None
    if record_every is None or int(record_every) > 0:
        history = dict(steps=out.steps, generators=np.stack(out.records), d_loss=out.d_loss)
    config = dict(settings.as_dict(), runs=K, seed=seed, antisymmetric=antisymmetric,
                  norm=float(norm), t_max=float(t_max), draws=int(draws), scale=sampler.scale)
    return GeneratorFit(generators=final.cpu().numpy(), init_generators=out.records[0],
                        centre=sampler.centre.double().cpu().numpy(), scale=sampler.scale, loss=out.loss,
                        failed=out.failed, history=history,
                        seconds=time.perf_counter() - t0, config=config)
