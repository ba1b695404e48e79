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

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from . import _checks, _loop
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
        loss: ``[K]`` the loss of Eq. (13) averaged over the final ``average`` fraction of
            the steps (≈ 2 log 2 ≈ 1.386 at a symmetry; clearly lower: not one).
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
    loss: np.ndarray
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
        run = _checks.index(run, "run", self.runs, "runs")
        pts = as_points(x, self.space.dim, name="x", min_points=1, dtype=torch.float64)
        M = torch.from_numpy(self.matrices[run]).double()
        V = torch.from_numpy(self.shifts[run]).double()
        return (pts @ M.T + V).numpy()

    def __repr__(self) -> str:
        return (f"Discovery({self.runs} runs on {type(self.space).__name__}, "
                f"{int(self.failed.sum())} failed, {self.seconds:.1f} s)")


class LinearMaps(_loop.MapFamily):
    """SymmetryGAN's family: one affine map ``z ↦ M z + u`` per run, in the trainer's
    standardised coordinates (:class:`symlab._loop.Standardised`), with the penalties of
    Eqs. (18) and (41) and the metric of the natural-gradient step."""

    def __init__(self, std: _loop.Standardised, settings: _loop.Settings):
        self.std, self.s = std, settings
        self._maps = None

    def transform(self, theta, z, frac):
        self._maps = M, u = self.std.maps(theta)
        return self.std.apply(M, u, z)

    def penalties(self, theta, z):  # Eqs. (18) and (41), on the maps of this step
        M, u = self._maps
        terms = []
        if self.s.cyclic is not None:
            y = z
            for _ in range(self.s.cyclic):
                y = self.std.apply(M, u, y)
            terms.append((self.s.alpha, (y - z).pow(2).sum(-1).mean(1)))
        if self.s.commutator is not None:
            terms.append((self.s.commutator, _commutator_penalty(M, u, z)))
        return terms

    def metric(self, theta):
        return self.std.metric(theta, shift_gain=self.s.lr_shift / self.s.lr_g)

    def to_space(self, theta):
        return self.std.to_space(theta).cpu().numpy()


class RotationMaps(LinearMaps):
    """``optimizer="lie"``'s family on ``SO(n)``: the trainer's parameters are the rotations
    ``M [K, n, n]`` themselves (:class:`symlab._loop.LieAdam` steps on the group), acting as
    ``z ↦ M z + u`` with ``u`` the displacement of the data's centre."""

    def transform(self, theta, z, frac):
        M = self.std._conjugate(theta)
        self._maps = M, u = M, self.std._u(M, torch.zeros_like(M[:, 0]))
        return self.std.apply(M, u, z)

    def metric(self, theta):
        return None

    def algebra_basis(self):
        return self.std.space.algebra_basis()

    def project(self, theta):  # one Newton step of the polar decomposition: MᵀM = 1 again
        eye = torch.eye(theta.shape[-1], dtype=theta.dtype, device=theta.device)
        theta.copy_(theta @ (1.5 * eye - 0.5 * theta.transpose(-1, -2) @ theta))

    def to_space(self, theta):
        return _loop.frame_params(self.std.space, self.std._conjugate(theta.detach())).numpy()


class SymmetryGAN:
    """Configure a SymmetryGAN; ``fit`` trains ``K`` independent runs at once.

    The defaults depend only on the kind of search space, never on the problem. On a compact
    group (``space.compact``: ``SO(n)``, ``SO(2)×SO(2)``) they are
    ``symlab._loop.COMPACT_DEFAULTS``: 5000 long steps that stay normalised down to small
    gradients (``lr_g=0.2``, ``eps_g=0.01``). On spaces with dilations, shears or
    translations they are the class defaults of :class:`symlab._loop.Settings` (3000 steps,
    ``lr_g=0.01``, ``eps_g=0.3``), with which the paper's figures are reproduced. On
    ``SO(n)`` the generator steps on the group (``optimizer="lie"``), which prefers no basis,
    and the last half of the steps is averaged (``symlab._loop.ROTATION_DEFAULTS``);
    elsewhere it is Adam on the space's parameters (``optimizer="adam"``). All of this was
    measured on the discovery suite (``python -m symlab.bench discovery``); change a setting
    to study it, not to make a problem work. ``sl.discover`` adds restarts, a polishing fit
    and held-out verification.

    Args:
        space: a search space from ``symlab.spaces``.
        steps: training iterations. Each draws ``batch_size`` events per run, transforms one
            half, and makes one simultaneous update of both players from one discriminator
            pass: ``d`` descends Eq. (13) on real (→ 1) and transformed (→ 0) halves, ``g``
            descends its objective through ``d``'s input gradient on the transformed half.
        batch_size: events per step and run (half real, half transformed; the original study
            used 64 + 64 for its discriminator).
        lr_g, lr_d: learning rates of generator and discriminator. Both decay along a cosine
            to ``lr_floor`` of their value at the end, so runs settle precisely. ``lr_g`` is
            the length of a normalised step of the map, ``‖δM‖_F`` in standardised units.
        lr_floor: the final learning rate as a fraction of the initial one.
        hidden: discriminator hidden widths (the paper's ``(25, 25)``).
        objective: ``"non-saturating"`` (default) or ``"minimax"`` (Eq. 13 exactly).
        cyclic: ``q`` to add the cyclic penalty of Eq. (18), or ``None``.
        alpha: weight α of the cyclic penalty. Penalties are measured in the trainer's
            standardised coordinates (data divided by one common scale), so α does not depend
            on the units of the data.
        commutator: weight of the commutator penalty of Eq. (41) between paired runs, or None.
        lr_shift: how many times farther than the matrix a step may move a free translation
            (in units of the data's spread: far-away initial maps first travel to the data).
        optimizer: the generator's optimiser (see :mod:`symlab._loop`): ``"lie"`` (the
            default on ``SO(n)``) steps on the group, ``M ← M exp(A)``, normalised in every
            direction of the Lie algebra at once (:class:`symlab._loop.LieAdam`), and so
            prefers no basis; ``"adam"`` (elsewhere) is Adam on the space's parameters, one
            normalisation per coordinate; ``"group"`` is the natural-gradient step of
            :class:`symlab._loop.GroupAdam` (``sl.discover``'s recipe off compact groups).
        eps_g: ε of the generator's optimiser. Far from a symmetry the gradients are ≫ ε and
            steps have length ≈ ``lr_g``; near one they are ≪ ε (mostly batch noise) and
            steps shrink in proportion, as in gradient descent, instead of being blown up to
            ``lr_g`` by the normalisation. This is what lets runs settle to within ~0.01 of
            a symmetry.
        average: the reported parameters are the mean of the iterates over this final fraction
            of the steps (tail averaging, which removes the adversarial jitter; 0 = last
            iterate; on ``SO(n)`` the mean rotation, projected back onto the group).
        frame: ``"data"`` (default): the parameters describe the map in the data's basis;
            ``"random"`` (``SO(n)``, ``O2``): run ``k`` trains the map ``P_kᵀ M P_k`` in its
            own Haar-random basis ``P_k``, so that an optimiser that prefers a basis
            (``"adam"``) prefers none across the ensemble. Measured with per-coordinate Adam
            on the dijets in ``SO(4)`` with ``cyclic=2`` and 4000 steps (chapter 7's study),
            64 runs for each of the seeds 3–10, one thread: the pooled mirror axes α lean
            to the diagonals with ``"data"`` (Rayleigh test of 4α: 320 axes, p = 0.0003) and
            not with ``"random"`` (297 axes, p = 0.43), but only 84 % of the runs end within
            0.1 of the joint ``O(2)``, against 94 %. The group step (``"lie"``) needs no
            frames: it is the same in every basis.
        device: torch device (default CPU).
    """

    def __init__(self, space: SearchSpace, device=None, **settings):
        if not isinstance(space, SearchSpace):
            raise ValueError("space must be a symlab.spaces search space (e.g. "
                             f"sl.spaces.SO(4)); got {type(space).__name__}")
        unknown = set(settings) - set(_loop.Settings.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown setting(s) {sorted(unknown)}; SymmetryGAN takes "
                             f"{sorted(_loop.Settings.__dataclass_fields__)}")
        self.space = space
        self.settings = _loop.Settings.for_space(space, **settings)
        self.device = _checks.device(device)

    def __getattr__(self, name):  # gan.steps, gan.lr_g, … read the settings
        settings = self.__dict__.get("settings")
        if settings is not None and name in _loop.Settings.__dataclass_fields__:
            return getattr(settings, name)
        raise AttributeError(name)

    def _init_params(self, runs, init, seed) -> torch.Tensor:
        if init is None:
            p = self.space.sample_init(_checks.count(runs, "runs"), seed=seed)
        else:
            p = as_params(init, self.space.n_params, name="init", dtype=torch.float32)
            if p.shape[0] == 0:
                raise ValueError("init is empty: pass at least one row of parameters")
            if runs is not None and _checks.count(runs, "runs") != p.shape[0]:
                raise ValueError(f"runs={runs} but init has {p.shape[0]} rows; pass one or "
                                 "make them agree")
        det = torch.linalg.det(self.space.matrix(p.double()))
        bad = torch.nonzero(~(det.abs() > 1e-6)).flatten().tolist()
        if bad:
            raise ValueError(
                f"degenerate initialisation: det M ≈ 0 for run(s) {bad[:10]} (e.g. a slope c = 0); "
                "the map is not invertible. Move those initial parameters away from det = 0.")
        if self.settings.commutator is not None and p.shape[0] % 2:
            raise ValueError("the commutator penalty pairs runs (0,1), (2,3), …: use an even "
                             "number of runs")
        return p.float()

    # ------------------------------------------------------------------ training
    def fit(self, data, runs: int | None = None, seed: int = 0, init=None,
            record_every: int | None = None, progress: bool | None = None) -> Discovery:
        """Train ``runs`` independent SymmetryGANs on ``data``.

        Args:
            data: a finite sample ``[N, n]`` (array or tensor; batches drawn with replacement)
                or a density with ``.sample`` and ``.log_prob`` (fresh samples every step).
            runs: number of runs K (default: ``len(init)``, or 1).
            seed: seeds the initialisation, the discriminators and every batch (an int, or
                None for fresh entropy).
            init: optional ``[K, P]`` initial generator parameters.
            record_every: record the trajectory every this many steps (default ~200 records;
                0 disables the history).
            progress: show a tqdm bar (default: in notebooks and terminals).

        Returns:
            :class:`Discovery` with ``[K, P]`` parameters, ``[K, n, n]`` matrices and the history.
        """
        t0 = time.perf_counter()
        seed = _checks.resolve_seed(seed)
        progress = _checks.optional_flag(progress, "progress")
        if runs is None and init is None:
            runs = 1
        s = self.settings
        every = max(1, s.steps // 200) if record_every is None else \
            _checks.count(record_every, "record_every", minimum=0)
        gen = torch.Generator()
        gen.manual_seed(seed)
        p0 = self._init_params(runs, init, seed)
        sampler = _loop.Sampler(data, self.space.dim, gen, device=self.device)
        group = s.optimizer == "group"  # the natural-gradient step needs no gain
        frames = None if s.frame == "data" else _loop.random_frames(self.space, p0.shape[0], gen)
        std = _loop.Standardised(self.space, sampler.centre, sampler.scale,
                                 gain=1.0 if group else s.lr_shift / s.lr_g, frames=frames)
        if s.optimizer == "lie":
            if not hasattr(self.space, "algebra_basis"):
                raise ValueError(f"optimizer='lie' steps on a rotation group: it needs "
                                 f"SO(n) as the search space, not {type(self.space).__name__}")
            family = RotationMaps(std, s)
            theta = std._conjugate(self.space.matrix(p0.double()), inverse=True)
        else:
            family = LinearMaps(std, s)
            theta = std.to_train(p0)
        theta = theta.float().to(self.device).requires_grad_(True)
        out = _loop.train(sampler, family, theta, s, seed=seed, every=every,
                          first_record=p0.numpy().copy(), progress=progress,
                          desc="SymmetryGAN")
        final = torch.as_tensor(family.to_space(out.final))
        with torch.no_grad():
            M = self.space.matrix(final).numpy()
            V = self.space.shift(final).numpy()
        history = None
        if every:
            history = History(steps=out.steps, params=np.stack(out.records),
                              d_loss=out.d_loss, g_loss=out.g_loss)
        config = dict(s.as_dict(), seed=seed, scale=sampler.scale)
        return Discovery(space=self.space, init_params=p0.numpy(), params=final.numpy(),
                         matrices=M, shifts=V, loss=out.loss, failed=out.failed,
                         revived=out.revived, history=history,
                         seconds=time.perf_counter() - t0, config=config)


def _commutator_penalty(M: torch.Tensor, u: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Eq. (41) for run pairs (2i, 2i+1): ``mean ‖g₁(g₂ z) − g₂(g₁ z)‖²``, per run ``[K]``."""
    K = M.shape[0]
    M1, M2, u1, u2, zs = M[0::2], M[1::2], u[0::2], u[1::2], z[0::2]
    apply = _loop.Standardised.apply
    a = apply(M1, u1, apply(M2, u2, zs))
    b = apply(M2, u2, apply(M1, u1, zs))
    return (a - b).pow(2).sum(-1).mean(1).repeat_interleave(2)[:K]
