"""SymmetryGAN: adversarial training of a map g against a discriminator d (§IV).

The generator ``g`` is a point of a search space (``symlab.spaces``); the discriminator tells
data ``x`` from transformed data ``g(x)``. The loss of Eq. (13),

    L[g, d] = −(1/N) Σ_x [log d(x) + log(1 − d(g(x)))],

is minimised by ``d`` and maximised by ``g``; at the optimum ``d = 1/2`` and ``L = 2 log 2``
exactly when ``g`` is a symmetry (Eq. 17). ``objective="minimax"`` trains ``g`` on Eq. (13)
itself; the default ``"non-saturating"`` objective (the one the original study's code
trained) has ``g`` minimise ``−log d(g(x))`` instead, which has the same fixed points at
symmetries but stronger gradients far from them.

Penalties (added to the generator's loss):

* ``cyclic=q`` — Eq. (18): ``α · mean ‖g^q(x) − x‖²`` favours elements of order q;
* ``commutator=β`` — Eq. (41): runs are paired (0, 1), (2, 3), … and each pair pays
  ``β · mean ‖g₁(g₂(x)) − g₂(g₁(x))‖²``, favouring commuting symmetries.

Every tensor has the ensemble axis first: ``K`` runs train together in one batched
computation (see :class:`symlab.discriminator.EnsembleMLP`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from . import _loop
from ._checks import as_params, as_points
from .spaces import SearchSpace

__all__ = ["SymmetryGAN", "Discovery", "History"]


@dataclass
class History:
    """Recorded training trajectory.

    Attributes:
        steps: ``[T]`` step index of each record (0 = the initialisation).
        params: ``[T, K, P]`` generator parameters.
        d_loss: ``[T, K]`` the loss of Eq. (13), ``−log d(x) − log(1 − d(g x))``, on the
            discriminator's batches (mean since the previous record; → 2 log 2 ≈ 1.386 at a
            symmetry). Row 0 (the initialisation) is NaN.
        g_loss: ``[T, K]`` the generator's objective (``−log d(g x)`` for the non-saturating
            objective, ``log(1 − d(g x))`` for minimax) plus any penalty, same averaging.
    """

    steps: np.ndarray
    params: np.ndarray
    d_loss: np.ndarray
    g_loss: np.ndarray


@dataclass
class Discovery:
    """The result of :meth:`SymmetryGAN.fit` for ``K`` runs.

    Attributes:
        space: the search space.
        init_params: ``[K, P]`` initial parameters (numpy).
        params: ``[K, P]`` final parameters (numpy; the mean over the last ``average``
            fraction of the steps, see :class:`SymmetryGAN`).
        matrices: ``[K, n, n]`` linear parts ``M`` of the final maps ``g(x) = M x + V``.
        shifts: ``[K, n]`` translations ``V`` of the final maps.
        failed: ``[K]`` True where a run diverged (non-finite values); its parameters are the
            last finite ones and it stopped training, the other runs were unaffected.
        revived: ``[K]`` how often each run's discriminator was re-initialised because all its
            ReLUs had died (a constant discriminator passes no gradient to ``g``).
        history: :class:`History` (``None`` when ``record_every=0``).
        seconds: wall time of the fit.
    """

    space: SearchSpace
    init_params: np.ndarray
    params: np.ndarray
    matrices: np.ndarray
    shifts: np.ndarray
    failed: np.ndarray
    revived: np.ndarray
    history: History | None
    seconds: float
    config: dict = field(default_factory=dict)

    @property
    def ok(self) -> np.ndarray:
        """``[K]`` True for runs that trained to the end."""
        return ~self.failed

    @property
    def runs(self) -> int:
        return len(self.params)

    def __len__(self) -> int:
        return self.runs

    def transform(self, x, run: int = 0) -> np.ndarray:
        """Apply run ``run``'s learned map to points ``x [N, n]``; returns ``[N, n]``."""
        pts = as_points(x, self.space.dim, name="x", min_points=1, dtype=torch.float64)
        M = torch.from_numpy(self.matrices[run]).double()
        V = torch.from_numpy(self.shifts[run]).double()
        return (pts @ M.T + V).numpy()

    def __repr__(self) -> str:
        return (f"Discovery({self.runs} runs on {type(self.space).__name__}, "
                f"{int(self.failed.sum())} failed, {self.seconds:.1f} s)")


class _Standardised:
    """A search space seen in the trainer's coordinates ``z = (x − m) / s``.

    ``m`` is the data mean and ``s`` one common scale (the RMS distance from the mean, the
    same for every coordinate, so rotations stay rotations). In these coordinates a map
    ``g(x) = M x + V`` acts as ``z ↦ M z + u`` with ``u = (M m + V − m) / s``, the
    displacement of the data's centre in units of its spread. For spaces whose translation
    is a free parameter, the trainer optimises ``u`` in place of ``V``: the same set of maps,
    but moving the centre no longer drags the matrix along, and learning rates mean the same
    thing for data in GeV as for data of unit variance. Results are converted back.
    """

    def __init__(self, space: SearchSpace, centre: torch.Tensor, scale: float, gain: float = 1.0):
        self.space = space
        self.m = centre.double()
        self.s = float(scale)
        self.idx = list(space.shift_params)
        self.gain = float(gain)  # u = gain · (trained value): Adam moves u gain× faster

    def _u(self, M, V):
        return (torch.einsum("kij,j->ki", M, self.m.to(M.dtype)) + V - self.m.to(M.dtype)) / self.s

    def to_train(self, theta: torch.Tensor) -> torch.Tensor:
        t = theta.double().clone()
        if self.idx:
            M, V = self.space.matrix(t), self.space.shift(t)
            t[:, self.idx] = self._u(M, V) / self.gain
        return t.float()

    def to_space(self, theta_t: torch.Tensor) -> torch.Tensor:
        t = theta_t.detach().double().clone()
        if self.idx:
            M = self.space.matrix(t)
            m = self.m.to(t.dtype)
            u = self.gain * t[:, self.idx]
            t[:, self.idx] = m + self.s * u - torch.einsum("kij,j->ki", M, m)
        return t

    def maps(self, theta_t: torch.Tensor):
        """``(M [K, n, n], u [K, n])`` of ``z ↦ M z + u``, differentiable in ``theta_t``."""
        M = self.space.matrix(theta_t)
        if self.idx:
            return M, self.gain * theta_t[:, self.idx]
        V = self.space.shift(theta_t)
        return M, self._u(M, V).to(M.dtype)

    @staticmethod
    def apply(M, u, z):
        return torch.matmul(z, M.transpose(-1, -2)) + u[:, None, :]


class SymmetryGAN:
    """Configure a SymmetryGAN; ``fit`` trains ``K`` independent runs at once.

    Args:
        space: a search space from ``symlab.spaces``.
        steps: training iterations. Each draws ``batch_size`` events per run, transforms one
            half, and makes one simultaneous update of both players from one discriminator
            pass: ``d`` descends Eq. (13) on real (→ 1) and transformed (→ 0) halves, ``g``
            descends its objective through ``d``'s input gradient on the transformed half.
        batch_size: events per step and run (half real, half transformed; the original study
            used 64 + 64 for its discriminator).
        lr_g, lr_d: Adam learning rates of generator and discriminator. Both decay along a
            cosine to ``lr_floor`` of their value at the end, so runs settle precisely.
        lr_floor: the final learning rate as a fraction of the initial one.
        hidden: discriminator hidden widths (the paper's ``(25, 25)``).
        objective: ``"non-saturating"`` (default) or ``"minimax"`` (Eq. 13 exactly).
        cyclic: ``q`` to add the cyclic penalty of Eq. (18), or ``None``.
        alpha: weight α of the cyclic penalty. Penalties are measured in the trainer's
            standardised coordinates (data divided by one common scale), so α does not depend
            on the units of the data.
        commutator: weight of the commutator penalty of Eq. (41) between paired runs, or None.
        lr_shift: learning rate of free translation parameters, in units of the data's spread
            (default ``2 × lr_g``: far-away initial maps first have to travel to the data).
        eps_g: Adam's ε for the generator, deliberately large. Far from a symmetry the
            generator's gradients are ≫ ε and Adam takes its usual normalised steps; near one
            they are ≪ ε (mostly noise from the finite batches) and the steps shrink in
            proportion, as in plain gradient descent, instead of being blown up to ``lr`` by
            Adam's normalisation. This is what lets runs settle to within ~0.01 of a symmetry.
        average: the reported parameters are the mean of the iterates over this final fraction
            of the steps (tail averaging, which removes the adversarial jitter; 0 = last iterate).
        device: torch device (default CPU).
    """

    def __init__(self, space: SearchSpace, steps: int = 3000, batch_size: int = 128,
                 lr_g: float = 0.01, lr_d: float = 0.01, hidden=(25, 25),
                 objective: str = "non-saturating", cyclic: int | None = None, alpha: float = 0.1,
                 commutator: float | None = None, lr_floor: float = 0.02, average: float = 0.3,
                 lr_shift: float | None = None, eps_g: float = 0.3, device=None):
        if not isinstance(space, SearchSpace):
            raise ValueError(f"space must be a symlab.spaces search space; got {type(space).__name__}")
        if objective not in ("non-saturating", "minimax"):
            raise ValueError("objective must be 'non-saturating' or 'minimax'")
        if int(steps) < 1 or int(batch_size) < 2:
            raise ValueError("steps must be >= 1 and batch_size >= 2")
        if cyclic is not None and int(cyclic) < 1:
            raise ValueError("cyclic must be a positive integer q (Eq. 18) or None")
        self.space = space
        self.steps = int(steps)
        self.batch_size = int(batch_size)
        self.lr_g, self.lr_d, self.lr_floor = float(lr_g), float(lr_d), float(lr_floor)
        if not 0.0 <= float(average) < 1.0:
            raise ValueError("average must be a fraction in [0, 1)")
        self.average = float(average)
        self.lr_shift = 2.0 * self.lr_g if lr_shift is None else float(lr_shift)
        self.eps_g = float(eps_g)
        if self.lr_g <= 0 or self.lr_d <= 0 or self.lr_shift <= 0:
            raise ValueError("learning rates must be positive")
        self.hidden = tuple(int(h) for h in hidden)
        self.objective = objective
        self.cyclic = None if cyclic is None else int(cyclic)
        self.alpha = float(alpha)
        self.commutator = None if commutator is None else float(commutator)
        self.device = torch.device(device) if device is not None else torch.device("cpu")

    # ------------------------------------------------------------------ data handling
    def _sampler(self, data, gen: torch.Generator):
        """Return (draw(K, B) -> [K, B, n], centre [n], scale) for a density or a finite sample."""
        n = self.space.dim
        if hasattr(data, "sample_shaped") or (hasattr(data, "sample") and hasattr(data, "log_prob")):
            if getattr(data, "dim", n) != n:
                raise ValueError(f"the density has dimension {data.dim} but the search space acts on "
                                 f"dimension {n}: pick a space with dim={data.dim}.")
            probe = data.sample(20000, seed=int(torch.randint(0, 2**31 - 1, (1,), generator=gen)))
            probe = probe.to(torch.float32)
            if hasattr(data, "sample_shaped"):
                def draw(K, B):
                    return data.sample_shaped((K, B), seed=gen).to(self.device)
            else:
                def draw(K, B):
                    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=gen))
                    return torch.as_tensor(data.sample(K * B, seed=seed),
                                           dtype=torch.float32).reshape(K, B, n).to(self.device)
            ref = probe
        else:
            x = as_points(data, n, name="data").to(self.device)

            def draw(K, B):
                idx = torch.randint(0, x.shape[0], (K * B,), generator=gen)
                return x[idx.to(self.device)].reshape(K, B, n)
            ref = x
        centre = ref.mean(0)
        scale = float((ref - centre).pow(2).mean().sqrt())
        if not math.isfinite(scale) or scale <= 0:
            raise ValueError("the data have zero spread (all points equal); nothing to learn")
        return draw, centre.to(self.device), scale

    def _init_params(self, runs, init, seed) -> torch.Tensor:
        if init is None:
            if runs is None or int(runs) < 1:
                raise ValueError("runs must be a positive integer (or pass init=[K, P])")
            p = self.space.sample_init(int(runs), seed=seed)
        else:
            p = as_params(init, self.space.n_params, name="init", dtype=torch.float32)
            if runs is not None and int(runs) != p.shape[0]:
                raise ValueError(f"runs={runs} but init has {p.shape[0]} rows; pass one or make them agree")
        det = torch.linalg.det(self.space.matrix(p.double()))
        bad = torch.nonzero(~(det.abs() > 1e-6)).flatten().tolist()
        if bad:
            raise ValueError(
                f"degenerate initialisation: det M ≈ 0 for run(s) {bad[:10]} (e.g. a slope c = 0); "
                "the map is not invertible. Move those initial parameters away from det = 0.")
        if self.commutator is not None and p.shape[0] % 2:
            raise ValueError("the commutator penalty pairs runs (0,1), (2,3), …: use an even number of runs")
        return p

    # ------------------------------------------------------------------ training
    def fit(self, data, runs: int | None = None, seed: int = 0, init=None,
            record_every: int | None = None, progress: bool | None = None) -> Discovery:
        """Train ``runs`` independent SymmetryGANs on ``data``.

        Args:
            data: a finite sample ``[N, n]`` (array or tensor; batches drawn with replacement)
                or a density with ``.sample`` and ``.log_prob`` (fresh samples every step).
            runs: number of runs K (default: ``len(init)``, or 1).
            seed: seeds the initialisation, the discriminators and every batch.
            init: optional ``[K, P]`` initial generator parameters.
            record_every: record the trajectory every this many steps (default ~200 records;
                0 disables the history).
            progress: show a tqdm bar (default: in notebooks and terminals).

        Returns:
            :class:`Discovery` with ``[K, P]`` parameters, ``[K, n, n]`` matrices and the history.
        """
        t0 = time.perf_counter()
        if runs is None and init is None:
            runs = 1
        gen = torch.Generator()
        gen.manual_seed(int(seed))
        p0 = self._init_params(runs, init, seed)
        n = self.space.dim
        draw, centre, scale = self._sampler(data, gen)

        std = _Standardised(self.space, centre.cpu(), scale, gain=self.lr_shift / self.lr_g)
        theta = std.to_train(p0).to(self.device).requires_grad_(True)
        maps = {}

        def fake(theta, z_src, frac):  # g(z) = M z + u for each run's map
            maps["M"], maps["u"] = M, u = std.maps(theta)
            return std.apply(M, u, z_src)

        def penalties(z_src):  # Eqs. (18) and (41), on the same maps and events
            M, u = maps["M"], maps["u"]
            terms = []
            if self.cyclic is not None:
                y = z_src
                for _ in range(self.cyclic):
                    y = std.apply(M, u, y)
                terms.append((self.alpha, (y - z_src).pow(2).sum(-1).mean(1)))
            if self.commutator is not None:
                terms.append((self.commutator, _commutator_penalty(M, u, z_src)))
            return terms

        every = max(1, self.steps // 200) if record_every is None else int(record_every)
        sched = _loop.Schedule(steps=self.steps, batch_size=self.batch_size, lr_g=self.lr_g,
                               lr_d=self.lr_d, hidden=self.hidden, lr_floor=self.lr_floor,
                               average=self.average, eps_g=self.eps_g, seed=int(seed),
                               objective=self.objective)
        out = _loop.train(draw, centre, scale, n, theta, fake, sched, penalties=penalties,
                          record=lambda th: std.to_space(th).cpu().numpy(),
                          first_record=p0.numpy().copy(), every=every, progress=progress,
                          desc="SymmetryGAN")

        final = std.to_space(out.final).cpu()
        with torch.no_grad():
            M = self.space.matrix(final).numpy()
            V = self.space.shift(final).numpy()
        history = None
        if every:
            history = History(steps=out.steps, params=np.stack(out.records),
                              d_loss=out.d_loss, g_loss=out.g_loss)
        config = dict(steps=self.steps, batch_size=self.batch_size, lr_g=self.lr_g, lr_d=self.lr_d,
                      hidden=self.hidden, objective=self.objective, cyclic=self.cyclic,
                      alpha=self.alpha, commutator=self.commutator, seed=seed, scale=scale)
        return Discovery(space=self.space, init_params=p0.numpy(), params=final.numpy(),
                         matrices=M, shifts=V, failed=out.failed, revived=out.revived,
                         history=history, seconds=time.perf_counter() - t0, config=config)


def _commutator_penalty(M: torch.Tensor, u: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Eq. (41) for run pairs (2i, 2i+1): ``mean ‖g₁(g₂ z) − g₂(g₁ z)‖²``, per run ``[K]``."""
    K = M.shape[0]
    M1, M2, u1, u2, zs = M[0::2], M[1::2], u[0::2], u[1::2], z[0::2]
    a = _Standardised.apply(M1, u1, _Standardised.apply(M2, u2, zs))
    b = _Standardised.apply(M2, u2, _Standardised.apply(M1, u1, zs))
    return (a - b).pow(2).sum(-1).mean(1).repeat_interleave(2)[:K]
