"""The one adversarial training loop of symlab, and everything it needs.

* :class:`Settings` — the trainer's settings and their defaults, in one place;
* :class:`Sampler` — batches from a finite sample or a density, standardised;
* :class:`MapFamily` — what the loop trains: ``K`` runs of some family of maps;
* :func:`train` — the loop.

:meth:`symlab.SymmetryGAN.fit` (one affine map per run), the learners of
:mod:`symlab.infer` (a family of maps per run: ``exp(tL)``, or ``g(x | Ω(c))`` of Eq. 44) and
the nonlinear flows differ only in their :class:`MapFamily`. Everything else — the ensemble
of discriminators, the simultaneous step of both players from one discriminator pass, the
optimiser, the learning-rate schedule, tail averaging, reviving dead discriminators,
stopping runs that diverge — is here.

Three generator optimisers (``Settings.optimizer``). ``"adam"``: Adam on the space's own
parameters, one normalisation per coordinate; it moves along the diagonals of the
coordinate axes (``sign(∇)`` steps) and so prefers the basis the parameters are written in.
``"group"`` (:class:`GroupAdam`): the natural gradient ``F⁻¹ ∇θ`` of the family's metric
``F`` (for linear maps the metric that the Frobenius norm of ``δM`` and the length of ``δu``
induce on the parameters), with one normalisation per run, the length of the whole tangent
vector. ``"lie"`` (:class:`LieAdam`, rotation groups): a step on the group,
``M ← M exp(A)``, with Adam's normalisation in every direction of the Lie algebra at once
(a full second-moment matrix), so that no basis is preferred and there are no angles whose
chart could be singular; the default on ``SO(n)``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F

from . import _checks
from ._progress import use_progress
from .discriminator import EnsembleMLP

__all__ = ["Settings", "COMPACT_DEFAULTS", "ROTATION_DEFAULTS", "Sampler", "MapFamily",
           "LoopResult", "train", "Adam", "GroupAdam", "LieAdam"]


# ----------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class Settings:
    """The trainer's settings and their defaults (see SymmetryGAN); on a compact group
    :meth:`for_space` starts from ``COMPACT_DEFAULTS`` instead.

    The defaults were measured on the discovery suite (``python -m symlab.bench discovery``).
    """

    steps: int = 3000
    batch_size: int = 128
    lr_g: float = 0.01
    lr_d: float = 0.01
    hidden: tuple = (25, 25)
    objective: str = "non-saturating"
    lr_floor: float = 0.02
    average: float = 0.3
    eps_g: float = 0.3
    lr_shift: float | None = None   # learning rate of free translations (None: 2 lr_g)
    optimizer: str = "adam"
    cyclic: int | None = None
    alpha: float = 0.1
    commutator: float | None = None
    frame: str = "data"

    def __post_init__(self):
        c = _checks
        set_ = object.__setattr__
        set_(self, "steps", c.count(self.steps, "steps", minimum=1))
        set_(self, "batch_size", c.count(self.batch_size, "batch_size", minimum=4))
        for name in ("lr_g", "lr_d"):
            set_(self, name, c.rate(getattr(self, name), name))
        set_(self, "lr_shift", 2.0 * self.lr_g if self.lr_shift is None
             else c.rate(self.lr_shift, "lr_shift"))
        set_(self, "optimizer", c.choice(self.optimizer, "optimizer", ("adam", "group", "lie")))
        set_(self, "frame", c.choice(self.frame, "frame", ("data", "random")))
        set_(self, "hidden", c.hidden(self.hidden))
        if self.objective not in ("non-saturating", "minimax"):
            raise ValueError(f"objective must be 'non-saturating' or 'minimax'; "
                             f"got {self.objective!r}")
        set_(self, "lr_floor", c.fraction(self.lr_floor, "lr_floor", 0.0, 1.0))
        set_(self, "average", c.fraction(self.average, "average", 0.0, 1.0, hi_open=True))
        set_(self, "eps_g", c.nonnegative(self.eps_g, "eps_g"))
        if self.cyclic is not None:
            # q = 1 would penalise every map but the identity: the penalty needs q >= 2
            set_(self, "cyclic", c.count(self.cyclic, "cyclic (the order q of Eq. 18)", minimum=2))
        set_(self, "alpha", c.nonnegative(self.alpha, "alpha"))
        if self.commutator is not None:
            set_(self, "commutator", c.nonnegative(self.commutator, "commutator"))

    def replace(self, **changes) -> Settings:
        return replace(self, **changes)

    @classmethod
    def for_space(cls, space, **changes) -> Settings:
        """The defaults for ``space`` (``COMPACT_DEFAULTS`` on a compact group, and
        ``ROTATION_DEFAULTS`` on top on ``SO(n)``), then ``changes``."""
        base = COMPACT_DEFAULTS if getattr(space, "compact", False) else {}
        if base and hasattr(space, "algebra_basis"):  # SO(n): step on the group
            base = dict(base, **ROTATION_DEFAULTS)
        return cls(**{**base, **changes})

    def as_dict(self) -> dict:
        return asdict(self)


#: The defaults on a compact search space, ``SO(n)`` and ``SO(2)×SO(2)`` (``space.compact``),
#: where every map is a rotation and nothing can run off to infinity. Long steps
#: (``lr_g = 0.2``) that stay normalised down to small gradients (``eps_g = 0.01``), so that
#: runs cross the nearly flat directions of the loss, over a long cosine schedule (5000
#: steps) that lets them settle. The class defaults above (``lr_g = 0.01``, ``eps_g = 0.3``,
#: 3000 steps) leave 94 % of the SO(4) runs on the dijets short of a symmetry. On ``SO(n)``
#: the step is taken on the group (``optimizer="lie"``, :class:`LieAdam`; on the abelian
#: ``SO(2)×SO(2)`` Adam on its two angles already is such a step). With per-coordinate Adam
#: on the Givens angles the learned maps carried a fingerprint of the basis: in chapter 7's
#: study of mirrorings (the dijets in ``SO(4)``, ``cyclic=2``, 4000 steps, 64 runs for each
#: of the seeds 3–10, two threads) their axes α pooled leaned towards 4α = 156°, a
#: preference tied to the basis (turning the data did not move it). With the group step the
#: axes lean instead where the sample itself is most nearly mirror-symmetric: a finite
#: sample has a quadrupole moment ``c₂ = mean(e^{2iφ})`` of the jets' azimuths at the level
#: of its noise (``|c₂| ≈ 1/√N``), a density is mirror-symmetric about α only if
#: ``4α = 2 arg c₂``, and the lean follows the sample: predicted 311° and 175° for the two
#: halves of the bundled sample, measured 299° and 159° (327° and 159° on a second
#: machine, where per-coordinate Adam, settling less, showed no lean: ``python -m symlab.bench mirrors``
#: with the defaults, ``half=1`` for the second; chapter 7 discusses it). Fraction within
#: the exact criterion, plain fits of 32 runs, seed 0, 30 % tail average, group step
#: against per-coordinate Adam: 0.81 and 0.81 (two 3-vectors in ``SO(6)``), 0.94 and 0.94
#: (4-D cross-polytope), 1.00 and 1.00 (3-D Gaussian), 0.94 and 0.97 (dijets), with the
#: same median distances to the group (0.099 and 0.099, 0.028 and 0.029 on the first and
#: the last).
#: On spaces with dilations, shears or translations long normalised steps leave runs ~0.03
#: from the symmetry (the 1-D Gaussian: 69 % of runs within tolerance, against 100 % with
#: the class defaults), so there the class defaults stay.
COMPACT_DEFAULTS = dict(steps=5000, lr_g=0.2, eps_g=0.01)

#: On ``SO(n)``, on top of ``COMPACT_DEFAULTS``: the group step (see above), and a tail
#: average over the last half of the steps instead of the last 30 %. Near a symmetry the
#: normalised steps random-walk about it, and the longer average cancels more of the walk:
#: plain fits of 32 runs, seed 0, median distance to the exact group (fraction within the
#: criterion) with 0.3 → 0.5: two 3-vectors in ``SO(6)`` 0.099 → 0.065 (0.81 → 0.97),
#: dijets in ``SO(4)`` 0.028 → 0.027 (0.94 → 0.97), 4-D cross-polytope 0.036 → 0.026
#: (0.94 → 0.97), 3-D Gaussian 0.011 → 0.009 (1.00 both).
ROTATION_DEFAULTS = dict(optimizer="lie", average=0.5)


# ----------------------------------------------------------------------------- data
class Sampler:
    """Batches of standardised events from a finite sample ``[N, n]`` or a density.

    ``z = (x − centre) / scale`` with the data mean and one common scale (the RMS distance
    from the mean, the same for every coordinate, so rotations stay rotations); the data are
    validated, and their spread checked, in float64 (:func:`symlab._checks.data_scale`). A
    density (``.sample``/``.log_prob``) gives fresh events every step (its statistics come
    from a probe of 20 000 events); a finite sample is drawn from with replacement.
    """

    def __init__(self, data, dim: int, gen: torch.Generator, device=None):
        self.dim, self.gen = int(dim), gen
        self.device = torch.device("cpu") if device is None else torch.device(device)
        if hasattr(data, "sample") and hasattr(data, "log_prob"):  # a density
            if int(getattr(data, "dim", dim)) != dim:
                raise ValueError(f"the density has dimension {data.dim} but the search space acts "
                                 f"on dimension {dim}: pick a space with dim={data.dim}.")
            self.density, self.points = data, None
            ref = torch.as_tensor(data.sample(20000, seed=self._seed())).reshape(-1, dim)
        else:
            self.density = None
            ref = _checks.as_points(data, dim, name="data", dtype=torch.float64)
        centre64, scale64 = _checks.data_scale(ref, name="data")  # float64, clear errors
        ref = ref.to(torch.float32)
        centre = ref.mean(0)
        scale = float((ref - centre).pow(2).mean().sqrt())
        if not (math.isfinite(scale) and scale > 0 and torch.isfinite(centre).all()):
            centre, scale = centre64.float(), scale64  # float32 over- or underflowed
        self.scale = scale
        self.centre = centre.to(self.device)
        self.centre64 = centre.double()
        if self.density is None:
            self.points = ref.to(self.device)

    def _seed(self) -> int:
        return int(torch.randint(0, 2**31 - 1, (1,), generator=self.gen))

    def draw(self, K: int, B: int) -> torch.Tensor:
        """``[K, B, n]`` standardised events."""
        n = self.dim
        if self.points is not None:
            idx = torch.randint(0, self.points.shape[0], (K * B,), generator=self.gen)
            x = torch.index_select(self.points, 0, idx.to(self.device)).reshape(K, B, n)
        elif hasattr(self.density, "sample_shaped"):
            x = self.density.sample_shaped((K, B), seed=self.gen).to(self.device)
        else:
            x = self.density.sample(K * B, seed=self._seed())
            x = torch.as_tensor(x, dtype=torch.float32).reshape(K, B, n).to(self.device)
        return (x - self.centre) / self.scale


# ----------------------------------------------------------------------------- families
class MapFamily:
    """What :func:`train` trains: ``K`` runs, each a map (or a family of maps) of the
    standardised events, with trainable parameters ``theta [K, …]``.

    Subclasses implement :meth:`transform`; the other hooks have neutral defaults.
    """

    def transform(self, theta: torch.Tensor, z: torch.Tensor, frac: float) -> torch.Tensor:
        """The transformed events ``[K, B, n]`` of ``z [K, B, n]``, differentiable in
        ``theta``; ``frac`` is the training progress in [0, 1]."""
        raise NotImplementedError

    def penalties(self, theta: torch.Tensor, z: torch.Tensor) -> list:
        """Terms added to the generator's objective: ``[(weight, values [K]), …]``; called
        right after :meth:`transform` in the same step (so it may reuse what it computed)."""
        return []

    def metric(self, theta: torch.Tensor) -> torch.Tensor | None:
        """The metric ``F [K, P, P]`` on the flattened parameters for the natural-gradient
        step, or ``None`` for the Euclidean metric."""
        return None

    def algebra_basis(self) -> torch.Tensor:
        """``[P, n, n]`` basis of the Lie algebra that ``optimizer="lie"`` steps in."""
        raise ValueError("optimizer='lie' steps on a rotation group: it needs SO(n) as the "
                         "search space")

    def project(self, theta: torch.Tensor) -> None:
        """Put the parameters back where they belong, in place, after each update."""

    def to_space(self, theta: torch.Tensor) -> np.ndarray:
        """What the history records of the parameters (float64, numpy)."""
        return theta.detach().double().cpu().numpy()

    def average(self, total: torch.Tensor, count: int) -> torch.Tensor:
        """Tail average of parameters from their float64 sum (default: the arithmetic mean)."""
        return total / count


# ----------------------------------------------------------------------------- optimisers
class Adam:
    """Adam (Kingma & Ba) with per-coordinate normalisation, on one ``[K, …]`` tensor — the
    flat parameters of the discriminator ensemble — without torch.optim's per-call
    overhead, which costs more than the update itself at these sizes (it computes the same
    update as ``torch.optim.Adam``; see the tests)."""

    def __init__(self, param: torch.Tensor, eps: float, betas=(0.9, 0.999)):
        self.param, self.eps, (self.b1, self.b2) = param, float(eps), betas
        self.m = torch.zeros_like(param)
        self.v = torch.zeros_like(param)
        self.t = 0

    @torch.no_grad()
    def step(self, grad: torch.Tensor, lr: float) -> None:
        self.t += 1
        self.m.mul_(self.b1).add_(grad, alpha=1 - self.b1)
        self.v.mul_(self.b2).addcmul_(grad, grad, value=1 - self.b2)
        denom = (self.v / (1 - self.b2**self.t)).sqrt_().add_(self.eps)
        self.param.addcdiv_(self.m, denom, value=-lr / (1 - self.b1**self.t))


class GroupAdam:
    """Adam on ``K`` runs whose steps do not depend on the basis or the parametrisation.

    ``step(grad, metric, lr)``: the natural gradient ``n = F⁻¹ g`` per run (``F [K, P, P]``
    from the family, ``None`` = Euclidean), momentum ``m ← β₁ m + (1 − β₁) n``, one second
    moment per run ``v ← β₂ v + (1 − β₂) gᵀ F⁻¹ g`` (the squared length of the whole tangent
    vector), and ``θ ← θ − lr · m̂ / (√v̂ + ε)``. ``ε`` sets where steps stop being normalised:
    far from a symmetry gradients are ≫ ε and steps have length ≈ lr; near one they are ≪ ε
    (mostly batch noise) and steps shrink in proportion, as in gradient descent.
    """

    def __init__(self, param: torch.Tensor, eps: float, betas=(0.9, 0.999)):
        self.param, self.eps, (self.b1, self.b2) = param, float(eps), betas
        K = param.shape[0]
        self.m = torch.zeros_like(param)
        self.v = torch.zeros(K, dtype=param.dtype, device=param.device)
        self.t = 0
        self._factored = (None, None)  # (the metric last seen, LU factors of its damped form)

    def _lu(self, metric: torch.Tensor):
        """LU factors of the damped metric, kept while the same metric tensor is passed
        (the loop recomputes it every ``METRIC_EVERY`` steps)."""
        seen, factors = self._factored
        if seen is not metric:
            Fm = metric.to(torch.float64)
            P = Fm.shape[-1]
            damp = DAMPING * Fm.diagonal(dim1=-2, dim2=-1).mean(-1).clamp_min(1e-12)
            Fm = Fm + damp[:, None, None] * torch.eye(P, dtype=Fm.dtype, device=Fm.device)
            factors = torch.linalg.lu_factor(Fm)
            self._factored = (metric, factors)
        return factors

    @torch.no_grad()
    def step(self, grad: torch.Tensor, metric: torch.Tensor | None, lr: float) -> None:
        self.t += 1
        K = grad.shape[0]
        g = grad.reshape(K, -1)
        if metric is None:
            nat = g
        else:  # the same arithmetic as torch.linalg.solve, without refactoring each step
            LU, pivots = self._lu(metric)
            nat = torch.linalg.lu_solve(LU, pivots, g.to(torch.float64)[..., None])[..., 0]
            nat = nat.to(g.dtype)
        sq = (g * nat).sum(1).clamp_min(0)
        self.m.mul_(self.b1).add_(nat.reshape(self.m.shape), alpha=1 - self.b1)
        self.v.mul_(self.b2).add_(sq, alpha=1 - self.b2)
        denom = (self.v / (1 - self.b2**self.t)).sqrt_().add_(self.eps)
        shape = (K,) + (1,) * (self.m.ndim - 1)
        self.param.sub_(self.m * (lr / (1 - self.b1**self.t) / denom).reshape(shape))


class LieAdam:
    """Adam on ``K`` rotations ``M [K, n, n]`` that steps on the group, ``M ← M · exp(A)``.

    ``step(grad, lr)`` with ``grad = ∂L/∂M [K, n, n]``: the gradient in the Lie algebra at
    ``M`` (left-trivialised, ``Mᵀ ∂L/∂M`` read in the algebra's basis ``E_ij − E_ji``, whose
    coordinates are rotation angles), momentum ``m ← β₁ m + (1 − β₁) g`` and a full second
    moment ``V ← β₂ V + (1 − β₂) g gᵀ [K, P, P]``; then ``a = −lr · (√V̂ + ε)⁻¹ m̂`` and
    ``M ← M exp(Σ a_p B_p)``. Like Adam it normalises the step in every direction of the
    gradient's spread, but with the whole matrix ``V`` instead of its diagonal, so it
    prefers no basis: conjugating the data's basis by an orthogonal ``Q`` conjugates every
    step by ``Q`` (the adjoint action is orthogonal in these coordinates). There are no
    angles, hence no chart singularities (Givens angles at ±π/2, like gimbal lock). The
    preconditioner ``(√V̂ + ε)⁻¹`` is recomputed every step for the first 100 steps and
    every ``PRECONDITION_EVERY`` steps after that.
    """

    def __init__(self, param: torch.Tensor, basis: torch.Tensor, eps: float,
                 betas=(0.9, 0.999)):
        self.param, self.eps, (self.b1, self.b2) = param, float(eps), betas
        self.basis = basis.to(dtype=param.dtype, device=param.device)  # [P, n, n]
        K, P = param.shape[0], basis.shape[0]
        self.m = torch.zeros(K, P, dtype=param.dtype, device=param.device)
        self.V = torch.zeros(K, P, P, dtype=torch.float64, device=param.device)
        self.precondition = None
        self.t = 0

    def algebra_gradient(self, grad: torch.Tensor) -> torch.Tensor:
        """``[K, P]`` coordinates of the left-trivialised gradient ``Mᵀ ∂L/∂M``."""
        X = self.param.transpose(-1, -2) @ grad
        return torch.einsum("kij,pij->kp", X, self.basis)

    @torch.no_grad()
    def step(self, grad: torch.Tensor, lr: float) -> None:
        self.t += 1
        g = self.algebra_gradient(grad)
        self.m.mul_(self.b1).add_(g, alpha=1 - self.b1)
        g64 = g.double()
        self.V.mul_(self.b2).add_(g64[:, :, None] * g64[:, None, :], alpha=1 - self.b2)
        if self.t <= 100 or self.t % PRECONDITION_EVERY == 1:  # (√V̂ + ε)⁻¹ changes slowly
            lam, U = torch.linalg.eigh(self.V / (1 - self.b2**self.t))
            scale = 1.0 / (lam.clamp_min(0).sqrt() + self.eps)
            self.precondition = U @ (scale[:, :, None] * U.transpose(-1, -2))
        m = self.m.double() / (1 - self.b1**self.t)
        a = -lr * (self.precondition @ m[..., None])[..., 0]
        A = torch.einsum("kp,pij->kij", a.to(self.param.dtype), self.basis)
        self.param.copy_(self.param @ torch.linalg.matrix_exp(A))


# ----------------------------------------------------------------------------- the loop
#: Levenberg–Marquardt damping of ``GroupAdam``'s metric, as a fraction of its mean
#: eigenvalue: ``F + DAMPING · mean(diag F) · 1``. A parametrisation can be singular where the
#: group is not (the six Givens angles of SO(4) at an angle of ±π/2, like Euler angles at
#: gimbal lock); there ``F⁻¹∇`` is an unbounded step in the angles for a small motion of the
#: map, and runs that pass near such a point jumped about until the end. With 10⁻⁶, 9 of 32
#: SO(4) runs on the dijets ended at symmetries; with 0.1, 29 of 32 (0.01: 28, 1: 26).
DAMPING = 0.1

#: ``LieAdam`` recomputes its preconditioner ``(√V̂ + ε)⁻¹`` (an eigendecomposition per run,
#: about a third of a step on SO(4)) at every one of the first 100 steps, while ``V`` is
#: still filling up, and then every this many steps.
PRECONDITION_EVERY = 10

#: ``GroupAdam`` recomputes the family's metric every this many steps (it changes slowly
#: along a run; computing it costs about a third of a step).
METRIC_EVERY = 10


@dataclass
class LoopResult:
    """What :func:`train` returns (``K`` runs, ``T`` records)."""

    final: torch.Tensor    # tail-averaged parameters (float64), or the last iterate if no tail
    loss: np.ndarray       # [K] mean loss of Eq. (13) over the tail
    failed: np.ndarray     # [K] runs stopped for a non-finite value
    revived: np.ndarray    # [K] how often each run's discriminator was re-initialised
    steps: np.ndarray      # [T] recorded steps (0 = start)
    records: list          # T records of family.to_space(theta)
    d_loss: np.ndarray     # [T, K] mean loss of Eq. (13) since the previous record; row 0 NaN
    g_loss: np.ndarray     # [T, K] the generator's objective plus penalties, same averaging


def train(sampler: Sampler, family: MapFamily, theta: torch.Tensor, settings: Settings, *,
          seed: int, every: int = 0, first_record=None, progress: bool | None = None,
          desc: str = "SymmetryGAN") -> LoopResult:
    """Train ``theta [K, …]`` (a leaf tensor with ``requires_grad``) against ``K``
    discriminators, one per run.

    Each step draws ``batch_size`` standardised events per run, keeps the first half as real
    events and transforms the second half with ``family.transform``. One discriminator pass
    over (real, transformed) then serves both players (simultaneous gradient steps): ``d``
    descends Eq. (13) with labels real → 1, transformed → 0, and ``theta`` descends the
    generator's objective (non-saturating ``−log d(g x)``, or minimax ``log(1 − d(g x))``)
    plus the family's penalties, through ``d``'s input gradient on the transformed half.
    Learning rates decay along a cosine to ``lr_floor`` of their start. The reported
    parameters average the iterates over the last ``average`` fraction of the steps.
    """
    s = settings
    steps, B = s.steps, s.batch_size
    K = theta.shape[0]
    # the largest temporaries of a step: [K, B, width] activations of the discriminators
    _checks.memory(K * B * max(sampler.dim, *s.hidden, 1), "batch_size x runs x layer width")
    dev = theta.device
    disc = EnsembleMLP(K, sampler.dim, s.hidden, seed=int(seed) + 1).to(dev)
    group = s.optimizer == "group"
    metric = None
    if s.optimizer == "lie":
        opt_g = LieAdam(theta.data, family.algebra_basis(), eps=s.eps_g)
    elif group:
        opt_g = GroupAdam(theta, eps=s.eps_g)
    else:
        opt_g = Adam(theta.data, eps=s.eps_g)
    opt_d = Adam(disc.flat.data, eps=1e-7)  # Keras' Adam ε
    half = B // 2
    # d/dl of softplus(−l) on real rows is sigmoid(l) − 1, of softplus(l) on fake rows sigmoid(l)
    shift_d = torch.cat([torch.full((half,), -1.0), torch.zeros(B - half)]).to(dev)
    failed = torch.zeros(K, dtype=torch.bool, device=dev)
    alive = torch.ones(K, 1, device=dev)  # 1 for a run still training, 0 for a failed one
    alive_w = alive / half  # the per-row weight of a mean over one half of the batch
    revived = torch.zeros(K, dtype=torch.int64, device=dev)
    last_good = theta.detach().clone()
    tail_start = steps - int(round(s.average * steps)) + 1
    tail_sum = torch.zeros_like(last_good, dtype=torch.float64)
    tail_loss = torch.zeros(K, dtype=torch.float64, device=dev)
    rec_steps = [0]
    rec = [family.to_space(theta) if first_record is None else first_record]
    rec_d, rec_g = [], []
    acc_d = torch.zeros(K, device=dev)
    acc_g = torch.zeros(K, device=dev)
    acc_n = 0
    d_loss = torch.zeros(K, device=dev)

    bar = None
    if use_progress(progress):
        from tqdm.auto import tqdm
        bar = tqdm(total=steps, desc=f"{desc} ×{K}", delay=2.0, leave=False)

    for step in range(1, steps + 1):
        frac = (step - 1) / max(1, steps - 1)
        decay = s.lr_floor + (1 - s.lr_floor) * 0.5 * (1 + math.cos(math.pi * frac))

        z = sampler.draw(K, B)  # [K, B, n] in standardised units
        z_real, z_src = z[:, :half], z[:, half:]
        gz = family.transform(theta, z_src, frac)  # [K, B − half, n]
        with torch.no_grad():
            logits, ws = disc.forward_cached(torch.cat([z_real, gz.detach().to(z.dtype)], 1))
            l_fake = logits[:, half:]
            dl = (torch.sigmoid(logits) + shift_d) * alive_w
            d_loss = F.softplus(-logits[:, :half]).mean(1) + F.softplus(l_fake).mean(1)
            if s.objective == "non-saturating":  # minimise softplus(−l) = −log d(g x)
                g_obj = F.softplus(-l_fake).mean(1)
                dl_g = (torch.sigmoid(l_fake) - 1.0) * alive_w
            else:  # minimise −softplus(l) = log(1 − d(g x)), i.e. maximise Eq. (13)
                g_obj = -F.softplus(l_fake).mean(1)
                dl_g = -torch.sigmoid(l_fake) * alive_w
            _, dgz = disc.backward_cached(dl_g, ws, param_grads=False, input_grad=True,
                                          rows=slice(half, None))
            grad_d, _ = disc.backward_cached(dl, ws, param_grads=True)
            # A discriminator whose ReLUs all died outputs a constant and passes no
            # gradient: its run would freeze wherever it is. Give it fresh weights.
            silent = dgz.abs().amax(dim=(1, 2)) == 0
            dead = silent & ~failed if silent.any() else None
        opt_d.step(grad_d, s.lr_d * decay)
        if dead is not None and dead.any():
            disc.reinitialise(dead)
            disc.set_rows(opt_d.m, dead)
            disc.set_rows(opt_d.v, dead)
            revived += dead.to(revived.dtype)
        surrogate = (gz * dgz.to(gz.dtype)).sum()
        for weight, values in family.penalties(theta, z_src):
            surrogate = surrogate + weight * (values * alive[:, 0]).sum()
            g_obj = g_obj + weight * values.detach()
        theta.grad = None
        surrogate.backward()
        grad = theta.grad
        bad_grad = None  # a finite sum means every entry is finite: the common case, cheaply
        if not torch.isfinite(grad.sum()):
            bad_grad = ~torch.isfinite(grad).reshape(K, -1).all(1)
            grad = torch.nan_to_num(grad, nan=0.0, posinf=0.0, neginf=0.0)
        if group:
            if step % METRIC_EVERY == 1 or METRIC_EVERY == 1:  # the metric changes slowly
                with torch.no_grad():
                    metric = family.metric(theta.detach())
                    if metric is not None:
                        metric = torch.nan_to_num(metric, nan=0.0, posinf=0.0, neginf=0.0)
            opt_g.step(grad, metric, s.lr_g * decay)
        else:
            opt_g.step(grad, s.lr_g * decay)

        with torch.no_grad():  # divergence bookkeeping: a run with a non-finite value stops
            finite = bad_grad is None and bool(torch.isfinite(
                theta.sum() + d_loss.sum() + g_obj.sum()))  # all finite: nothing to do
            bad = None if finite else (
                ~torch.isfinite(theta).reshape(K, -1).all(1) | ~torch.isfinite(d_loss)
                | ~torch.isfinite(g_obj) | (False if bad_grad is None else bad_grad))
            if bad is not None and bad.any():
                failed |= bad
                alive = (~failed).to(alive.dtype)[:, None]
                alive_w = alive / half
                theta[failed] = last_good[failed]
                disc.flat.data.nan_to_num_(nan=0.0, posinf=0.0, neginf=0.0)
            family.project(theta)
            last_good.copy_(theta)
            if step >= tail_start:
                tail_sum += theta.detach()
                tail_loss += torch.nan_to_num(d_loss, nan=0.0).double()
            if every:  # the averages between records
                acc_d += torch.nan_to_num(d_loss, nan=0.0)
                acc_g += torch.nan_to_num(g_obj, nan=0.0)
                acc_n += 1
        if every and (step % every == 0 or step == steps):
            rec_steps.append(step)
            rec.append(family.to_space(theta))
            rec_d.append((acc_d / acc_n).cpu().numpy())
            rec_g.append((acc_g / acc_n).cpu().numpy())
            acc_d.zero_()
            acc_g.zero_()
            acc_n = 0
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()

    n_tail = steps - tail_start + 1
    final = family.average(tail_sum, n_tail) if n_tail > 0 else theta.detach().double()
    loss = (tail_loss / n_tail if n_tail > 0 else d_loss.double()).cpu().numpy()
    nan_row = [np.full(K, np.nan)]
    return LoopResult(final=final, loss=loss, failed=failed.cpu().numpy(),
                      revived=revived.cpu().numpy(), steps=np.asarray(rec_steps), records=rec,
                      d_loss=np.stack(nan_row + rec_d), g_loss=np.stack(nan_row + rec_g))


# ----------------------------------------------------------------------------- affine maps
def random_frames(space, K: int, gen: torch.Generator) -> torch.Tensor:
    """``[K, n, n]`` Haar-random orthogonal matrices, one basis per run (``frame="random"``),
    for the spaces that conjugation by ``O(n)`` maps onto themselves (``SO(n)``, ``O2``)."""
    from . import spaces as sp
    if not isinstance(space, (sp.SO, sp.O2)):
        raise ValueError(f"frame='random' needs a space closed under conjugation by O(n) "
                         f"(SO(n), O2); got {type(space).__name__}")
    n = space.dim
    A = torch.randn(K, n, n, generator=gen, dtype=torch.float64)
    Q, R = torch.linalg.qr(A)
    return Q * torch.sign(torch.diagonal(R, dim1=-2, dim2=-1))[:, None, :]  # Haar on O(n)


def frame_params(space, M: torch.Tensor) -> torch.Tensor:
    """Parameters ``[K, P]`` (float64) of the maps ``M [K, n, n]`` of ``SO(n)`` or ``O2``;
    rows with NaN (failed runs) stay NaN."""
    from . import spaces as sp
    M = M.double().cpu()
    bad = ~torch.isfinite(M).all(-1).all(-1)
    if isinstance(space, sp.O2):
        sigma = torch.sign(torch.linalg.det(torch.nan_to_num(M)))
        out = torch.stack([M[:, 0, 0], M[:, 0, 1], torch.where(sigma < 0, -1.0, 1.0)], 1)
    else:
        safe = torch.where(bad[:, None, None], torch.eye(space.dim, dtype=M.dtype), M)
        U, _, Vh = torch.linalg.svd(safe)  # rounding off the group: nearest rotation
        out = space.params_from_matrix((U @ Vh).numpy())
    out[bad] = float("nan")
    return out


class Standardised:
    """A search space seen in the trainer's coordinates ``z = (x − m) / s``.

    ``m`` is the data mean and ``s`` one common scale (:class:`Sampler`). In these coordinates
    a map ``g(x) = M x + V`` acts as ``z ↦ M z + u`` with ``u = (M m + V − m) / s``, the
    displacement of the data's centre in units of its spread. For spaces whose translation
    is a free parameter, the trainer optimises ``u / gain`` in place of ``V``: the same set
    of maps, but moving the centre no longer drags the matrix along, and learning rates mean
    the same for data in GeV as for data of unit variance (with per-coordinate Adam, ``gain``
    makes translations move ``gain`` times faster). Results are converted back.
    """

    def __init__(self, space, centre: torch.Tensor, scale: float, gain: float = 1.0,
                 frames: torch.Tensor | None = None):
        self.space = space
        self.m = centre.double().cpu()
        self.s = float(scale)
        self.idx = list(space.shift_params)
        self.gain = float(gain)
        # frames [K, n, n] (orthogonal): run k's parameters describe P_kᵀ M P_k, the map seen
        # in its own basis (``frame="random"``), so that no basis is preferred by the ensemble
        self.frames = None if frames is None else frames.double().cpu()
        if self.frames is not None and self.idx:
            raise ValueError("frame='random' is for spaces without free translations")

    def _conjugate(self, M: torch.Tensor, inverse: bool = False) -> torch.Tensor:
        """``P M Pᵀ`` (or ``Pᵀ M P``) per run; ``M`` unchanged without frames."""
        if self.frames is None:
            return M
        P = self.frames.to(device=M.device, dtype=M.dtype)
        Pt = P.transpose(-1, -2)
        return Pt @ M @ P if inverse else P @ M @ Pt

    def _u(self, M, V):
        m = self.m.to(device=M.device, dtype=M.dtype)
        return (torch.einsum("kij,j->ki", M, m) + V - m) / self.s

    def to_train(self, theta: torch.Tensor) -> torch.Tensor:
        """Space parameters ``[K, P]`` → trainer parameters ``[K, P]`` (float64)."""
        t = theta.double().clone()
        if self.frames is not None:
            return frame_params(self.space, self._conjugate(self.space.matrix(t), True))
        if self.idx:
            M, V = self.space.matrix(t), self.space.shift(t)
            t[:, self.idx] = self._u(M, V) / self.gain
        return t

    def to_space(self, theta_t: torch.Tensor) -> torch.Tensor:
        """Trainer parameters ``[K, P]`` → space parameters ``[K, P]`` (float64)."""
        t = theta_t.detach().double().clone()
        if self.frames is not None:
            return frame_params(self.space, self._conjugate(self.space.matrix(t).to(t.device)))
        if self.idx:
            M = self.space.matrix(t)
            m = self.m.to(device=t.device, dtype=t.dtype)
            u = self.gain * t[:, self.idx]
            t[:, self.idx] = m + self.s * u - torch.einsum("kij,j->ki", M, m)
        return t

    def maps(self, theta_t: torch.Tensor):
        """``(M [K, n, n], u [K, n])`` of ``z ↦ M z + u``, differentiable in ``theta_t``."""
        M = self.space._matrix(theta_t)  # the trainer's own [K, P] tensor: NaN marks a failed run
        M = self._conjugate(M)
        if self.idx:
            return M, self.gain * theta_t[:, self.idx]
        return M, self._u(M, self.space._shift(theta_t)).to(M.dtype)

    @staticmethod
    def apply(M, u, z):
        """``M z + u`` for every run: ``z [K, B, n]`` → ``[K, B, n]``."""
        return torch.matmul(z, M.transpose(-1, -2)) + u[:, None, :]

    def metric(self, theta_t: torch.Tensor, shift_gain: float = 1.0, stretch: float = 5.0,
               h: float = 1e-5) -> torch.Tensor:
        """The left-invariant metric ``F = JᵀJ [K, P, P]`` of the affine group on the
        parameters. ``J`` is the Jacobian in ``theta_t`` of the left-translated tangent
        ``A = M⁻¹ δM``, ``b = M⁻¹ δu``, weighted as

            ‖(A − Aᵀ)/2‖²_F + stretch² · ‖(A + Aᵀ)/2‖²_F + ‖b‖² / shift_gain²,

        so a step of length ``lr`` is the same motion of the map whatever the
        parametrisation, the basis (each term is invariant under ``M ↦ QMQᵀ``) or the current
        map, and singular maps (det M = 0) are infinitely far away. Rotations (the
        antisymmetric part) take full steps; dilations and shears (the symmetric part), the
        directions in which a generator can squeeze the data onto their mode faster than
        the discriminator follows, move ``stretch`` times slower, and translations
        ``1 / shift_gain`` times slower. Central differences in float64, all runs and
        parameters in one batched call."""
        t = theta_t.detach().double()
        K, P = t.shape
        step = h * torch.eye(P, dtype=t.dtype, device=t.device)
        probe = torch.cat([t[:, None, :] + step, t[:, None, :] - step], 1).reshape(-1, P)
        M, u = self.maps(probe)
        n = M.shape[-1]
        dM = (M.reshape(K, 2, P, n, n)[:, 0] - M.reshape(K, 2, P, n, n)[:, 1]) / (2 * h)
        du = (u.reshape(K, 2, P, n)[:, 0] - u.reshape(K, 2, P, n)[:, 1]) / (2 * h)
        inv = torch.linalg.inv(self.maps(t)[0])[:, None]  # [K, 1, n, n]
        A = inv @ dM  # [K, P, n, n]
        b = (inv @ du[..., None])[..., 0] / shift_gain
        At = A.transpose(-1, -2)
        J = torch.cat([(0.5 * (A - At)).reshape(K, P, -1),
                       (0.5 * stretch * (A + At)).reshape(K, P, -1), b], -1)
        return J @ J.transpose(1, 2)
