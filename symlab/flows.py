"""Nonlinear equiareal search spaces: volume-preserving flows of additive coupling layers.

§III of the paper shows that the maps preserving the uniform inertial density are exactly the
equiareal ones (``|det ∂g/∂x| = 1`` everywhere), and that this group is far larger than the
linear ``ASL±n(R)`` the paper then searches. An *additive coupling layer* (NICE: Dinh,
Krueger & Bengio 2014, arXiv:1410.8516) splits the coordinates into a kept block ``u`` and an
updated block ``v`` and shifts the second by a function of the first,

    (u, v) ↦ (u, v + m(u)),

so its Jacobian is block-triangular with identity blocks on the diagonal: ``det = 1`` exactly,
for *any* network ``m``, and the inverse is ``v ↦ v − m(u)``. A stack of such layers that
alternate which block is updated is again equiareal and exactly invertible: a search space of
nonlinear maps on which the inertial restriction holds by construction, with no penalty and no
approximation.

:class:`VolumePreservingFlow` is that search space with the ensemble axis first: ``K`` flows
(one per run) live in one parameter tensor ``[K, P]`` and are evaluated with batched matrix
products. Each coupling network is ``m(u) = u L + softplus(u W₁ + b₁) W₂ + b₂``: a linear part
(so that linear shears — and hence rotations, products of three shears — are represented
exactly) plus one hidden softplus layer.

:func:`fit` trains ``K`` flows as SymmetryGAN generators through the package's one training
loop (:func:`symlab._loop.train`) and returns a :class:`FlowDiscovery`; :func:`mc_loss` is the
analytic loss of Eq. (14) with the optimal discriminator of Eq. (15), by Monte Carlo, for an
equiareal map with an inverse; :func:`nearest_rotation` fits ``θ`` of ``h ∘ R(θ) ∘ h⁻¹`` to a
learned map.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from . import _checks, _loop
from ._checks import as_points

__all__ = ["VolumePreservingFlow", "FlowDiscovery", "FlowMap", "fit", "mc_loss",
           "nearest_rotation", "identity_distance"]


class VolumePreservingFlow:
    """``K`` volume-preserving flows ``g = c_L ∘ ⋯ ∘ c_1`` of additive coupling layers.

    Layer ``l`` updates one block of coordinates from the other, alternating: with
    ``u = x[:, :n//2]`` and ``v = x[:, n//2:]``, even layers do ``v ← v + m_l(u)`` and odd
    layers ``u ← u + m_l(v)``, where ``m_l(a) = a L + softplus(a W₁ + b₁) W₂ + b₂`` (a linear
    part plus ``hidden`` softplus units). ``det ∂g/∂x = 1`` exactly at every point; the inverse
    undoes the layers in reverse order.

    Args:
        dim: number of coordinates ``n ≥ 2``. For ``n = 1`` there is nothing nonlinear to gain:
            an additive coupling needs two blocks of coordinates, and the equiareal maps of the
            line are the translations and reflections ``x ↦ ±x + b`` (``|g'| = 1`` everywhere),
            which ``sl.spaces.Affine(1)`` already covers — a ``ValueError`` says so.
        layers: number of coupling layers (≥ 1; default 5 — in the plane, a rotation is three
            linear shears, and conjugating it by a shear ``(x, y) ↦ (x, y + f(x))`` adds two).
        hidden: softplus units of each coupling network (≥ 1).

    The attributes ``dim``, ``layers`` and ``hidden`` are the arguments; ``n_params`` is the
    number ``P`` of weights per flow and ``param_names`` are ``w0 … w{P−1}``.

    Parameters are one tensor ``[K, P]`` (one row per run, the ensemble axis first), like every
    search space of ``symlab.spaces``; :meth:`apply` and :meth:`inverse` take ``x [N, n]``
    (the same points for every run) or ``[K, N, n]`` and return ``[K, N, n]``.
    """

    def __init__(self, dim: int, layers: int = 5, hidden: int = 8):
        for name, v in (("dim", dim), ("layers", layers), ("hidden", hidden)):
            if isinstance(v, bool) or not float(v).is_integer():
                raise ValueError(f"{name} must be an integer; got {v!r}")
        dim, layers, hidden = int(dim), int(layers), int(hidden)
        if dim == 1:
            raise ValueError(
                "VolumePreservingFlow(1): in one dimension there is nothing nonlinear to gain. An "
                "additive coupling layer needs two blocks of coordinates (one shifted by a function "
                "of the other), and the only equiareal maps of the line (|g'(x)| = 1 everywhere) "
                "are x -> ±x + b: use sl.spaces.Affine(1), which searches exactly those.")
        if dim < 1:
            raise ValueError(f"dim must be a positive integer (2 or more for a flow); got {dim}")
        if layers < 1:
            raise ValueError(f"layers must be at least 1; got {layers}")
        if hidden < 1:
            raise ValueError(f"hidden must be at least 1; got {hidden}")
        self.dim, self.layers, self.hidden = dim, layers, hidden
        lo, hi = dim // 2, dim - dim // 2
        self._blocks = (slice(0, lo), slice(lo, dim))
        self._layout = []  # per layer: list of (name, offset, shape)
        off = 0
        for l in range(layers):
            a, m = (lo, hi) if l % 2 == 0 else (hi, lo)  # kept size, updated size
            entries = []
            for name, shape in (("L", (a, m)), ("W1", (a, hidden)), ("b1", (1, hidden)),
                                ("W2", (hidden, m)), ("b2", (1, m))):
                entries.append((name, off, shape))
                off += shape[0] * shape[1]
            self._layout.append(entries)
        self.n_params = off
        self.param_names = tuple(f"w{i}" for i in range(off))

    # ------------------------------------------------------------------ parameters
    def _prep(self, params) -> torch.Tensor:
        if isinstance(params, torch.Tensor):
            p = params
        else:
            p = torch.as_tensor(np.asarray(params, dtype=np.float64))
        if p.ndim == 1:
            p = p[None]
        if p.ndim != 2 or p.shape[1] != self.n_params:
            raise ValueError(f"params must have shape [K, {self.n_params}] (one row per run) for "
                             f"{self!r}; got {tuple(p.shape)}")
        if not p.requires_grad and not torch.isfinite(p).all():
            raise ValueError("params contain NaN or inf; drop the failed runs first")
        return p if p.is_floating_point() else p.double()

    def _unpack(self, p: torch.Tensor, l: int) -> dict:
        K = p.shape[0]
        return {name: p[:, off:off + shape[0] * shape[1]].reshape(K, *shape)
                for name, off, shape in self._layout[l]}

    def sample_init(self, K: int, seed=None, near_identity: bool = True,
                    scale: float | None = None, rotation: float | None = None) -> torch.Tensor:
        """Initial parameters ``[K, P]`` (float32).

        The hidden units' input weights and biases are ``N(0, 1)`` (their softplus kinks spread over
        standardised data); the coupling outputs ``L``, ``W₂``, ``b₂`` are ``N(0, s²/fan_in)``
        with ``s = 0.01`` near the identity (the map moves points by ~1 % of the data's spread)
        and ``s = 0.5`` at random (``near_identity=False``: a random nonlinear equiareal map
        that moves points by about the data's spread). ``scale`` overrides ``s``.

        ``rotation = a`` (even ``dim``) adds a random rigid rotation by ``θ ~ U(−a, a)`` of
        each coordinate pair ``(u_i, v_i)`` (the paper's sign convention,
        ``[[cos θ, sin θ], [−sin θ, cos θ]]``), written into the linear parts ``L`` of the
        first layers as shears ``S_v(c): v += c u`` and ``S_u(c): u += c v``. With five layers
        or more, ``R(θ) = R(θ/2)² = S_v(−t) S_u(σ) S_v(−2t) S_u(σ) S_v(−t)`` with
        ``t = tan θ/4``, ``σ = sin θ/2``: bounded coefficients on the whole circle, ``a ≤ π``
        (``a = π``: uniform angles). With three or four layers, three shears
        ``S_v(−tan θ/2) S_u(sin θ) S_v(−tan θ/2)``, which grow without bound as ``θ → ±π``
        (``a < π``). The start is then a rotation plus a random nonlinear distortion of size
        ``s`` — away from the identity, like the linear spaces' random starts.
        """
        K = _checks.count(K, "K")
        s = float(scale) if scale is not None else (0.01 if near_identity else 0.5)
        if not math.isfinite(s) or s < 0:
            raise ValueError(f"scale must be a finite number >= 0; got {scale}")
        g = _checks.generator(seed)
        p = torch.empty(K, self.n_params)
        for entries in self._layout:
            for name, off, shape in entries:
                size = shape[0] * shape[1]
                z = torch.randn(K, size, generator=g)
                fan_in = shape[0] if name in ("L", "W2") else 1
                p[:, off:off + size] = z if name in ("W1", "b1") else z * (s / math.sqrt(fan_in))
        if rotation is not None:
            amax = float(rotation)
            if self.dim % 2 or self.layers < 3:
                raise ValueError("rotation= needs an even dim and at least 3 layers")
            five = self.layers >= 5
            if not (0 <= amax <= math.pi if five else 0 <= amax < math.pi):
                raise ValueError(f"rotation must be an angle in [0, π] (below π with fewer than "
                                 f"5 layers); got {rotation}")
            theta = (2 * torch.rand(K, generator=g, dtype=torch.float64) - 1) * amax
            self.set_rotation(p, theta)
        return p

    def set_rotation(self, params: torch.Tensor, theta) -> torch.Tensor:
        """Write rigid rotations by ``theta [K]`` (radians) into the linear parts of the first
        layers of ``params [K, P]``, in place (see :meth:`sample_init`); returns ``params``.
        Even ``dim`` and at least 3 layers (5 for ``|θ|`` up to π)."""
        if self.dim % 2 or self.layers < 3:
            raise ValueError("rotation= needs an even dim and at least 3 layers")
        th = (theta.detach().double() if isinstance(theta, torch.Tensor)
              else torch.as_tensor(np.array(theta, dtype=np.float64))).reshape(-1)
        if th.shape[0] not in (1, params.shape[0]):
            raise ValueError(f"theta must have 1 or K={params.shape[0]} angles")
        th = th.expand(params.shape[0])
        if self.layers >= 5:  # R(θ) = R(θ/2)²: five shears v-u-v-u-v, bounded for |θ| <= π
            t, sn = torch.tan(th / 4), torch.sin(th / 2)
            coef = (-t, sn, -2 * t, sn, -t)
        else:                 # R(θ): three shears v-u-v (unbounded as θ -> ±π)
            coef = (-torch.tan(th / 2), torch.sin(th), -torch.tan(th / 2))
        m = self.dim // 2
        eye = torch.eye(m, dtype=params.dtype).reshape(-1)
        with torch.no_grad():
            for l, c in enumerate(coef):
                _, off, _ = self._layout[l][0]  # "L" of layer l
                params[:, off:off + m * m] = c.to(params.dtype)[:, None] * eye
        return params

    # ------------------------------------------------------------------ maps
    def _points(self, x, K: int, dtype) -> torch.Tensor:
        t = x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x, dtype=np.float64))
        if t.ndim == 2:
            t = t[None].expand(K, *t.shape)
        if t.ndim != 3 or t.shape[-1] != self.dim or t.shape[0] != K:
            raise ValueError(f"x must have shape [N, {self.dim}] or [K={K}, N, {self.dim}]; "
                             f"got {tuple(t.shape)}")
        if not t.requires_grad and not torch.isfinite(t).all():
            raise ValueError("x contains NaN or inf; drop or fix those points first")
        return t.to(dtype)

    @staticmethod
    def _shift(w: dict, a: torch.Tensor) -> torch.Tensor:
        """The coupling network ``m(a) = a L + softplus(a W₁ + b₁) W₂ + b₂``: ``[K, N, ·] -> [K, N, m]``."""
        return torch.baddbmm(w["b2"], a, w["L"]) + F.softplus(torch.baddbmm(w["b1"], a, w["W1"])) @ w["W2"]

    def apply(self, params, x) -> torch.Tensor:
        """``g_k(x)`` for every run: ``x [N, n]`` or ``[K, N, n]`` → ``[K, N, n]`` (differentiable)."""
        p = self._prep(params)
        dtype = p.dtype if p.dtype in (torch.float32, torch.float64) else torch.float64
        y = self._points(x, p.shape[0], dtype)
        p = p.to(dtype)
        u, v = y[..., self._blocks[0]], y[..., self._blocks[1]]
        for l in range(self.layers):
            w = self._unpack(p, l)
            if l % 2 == 0:
                v = v + self._shift(w, u)
            else:
                u = u + self._shift(w, v)
        return torch.cat([u, v], -1)

    def inverse(self, params, y) -> torch.Tensor:
        """``g_k⁻¹(y)`` (exact: the layers undone in reverse order): ``[N, n] | [K, N, n] -> [K, N, n]``."""
        p = self._prep(params)
        dtype = p.dtype if p.dtype in (torch.float32, torch.float64) else torch.float64
        x = self._points(y, p.shape[0], dtype)
        p = p.to(dtype)
        u, v = x[..., self._blocks[0]], x[..., self._blocks[1]]
        for l in reversed(range(self.layers)):
            w = self._unpack(p, l)
            if l % 2 == 0:
                v = v - self._shift(w, u)
            else:
                u = u - self._shift(w, v)
        return torch.cat([u, v], -1)

    def jacobian_det(self, params, x) -> torch.Tensor:
        """``det ∂g_k/∂x`` by autograd at ``x [N, n]`` for every run: ``[K, N]`` (1 by construction)."""
        p = self._prep(params).detach().double()
        xs = torch.as_tensor(np.asarray(x, dtype=np.float64)) if not isinstance(x, torch.Tensor) else x
        xs = xs.detach().double()
        if xs.ndim == 2:
            xs = xs[None].expand(p.shape[0], *xs.shape)
        xs = xs.clone().requires_grad_(True)
        y = self.apply(p, xs)
        rows = [torch.autograd.grad(y[..., i].sum(), xs, retain_graph=True)[0] for i in range(self.dim)]
        return torch.linalg.det(torch.stack(rows, -2))

    # ------------------------------------------------------------------ linear-only API
    def matrix(self, params):
        raise ValueError("a VolumePreservingFlow is nonlinear: it has no matrix M. Use "
                         "apply(params, x) (and inverse) for its action on points.")

    shift = matrix

    def __repr__(self) -> str:
        return f"VolumePreservingFlow(dim={self.dim}, layers={self.layers}, hidden={self.hidden})"


# ---------------------------------------------------------------------------- results
class FlowMap:
    """One learned flow in data coordinates, ``g(x) = c + s·F((x − c)/s)``, with its exact inverse.

    ``__call__(x [N, n]) -> [N, n]`` and ``inverse`` (numpy in, numpy out for numpy input;
    tensors stay tensors): what :func:`symlab.verify.posthoc` and :func:`mc_loss` accept.
    """

    def __init__(self, flow: VolumePreservingFlow, params, centre, scale: float):
        self.flow = flow
        self.params = torch.as_tensor(np.asarray(params, dtype=np.float64)).reshape(1, -1)
        self.centre = torch.as_tensor(np.asarray(centre, dtype=np.float64))
        self.scale = float(scale)
        self.dim = flow.dim

    def _run(self, x, inverse: bool):
        is_np = not isinstance(x, torch.Tensor)
        t = torch.as_tensor(np.asarray(x, dtype=np.float64)) if is_np else x.double()
        z = (t - self.centre) / self.scale
        fn = self.flow.inverse if inverse else self.flow.apply
        y = self.centre + self.scale * fn(self.params, z.reshape(-1, self.dim))[0]
        y = y.reshape(t.shape)
        return y.detach().numpy() if is_np else y

    def __call__(self, x):
        return self._run(x, inverse=False)

    def inverse(self, y):
        return self._run(y, inverse=True)


@dataclass
class FlowDiscovery:
    """The result of :func:`fit` for ``K`` flow runs.

    Attributes:
        flow: the :class:`VolumePreservingFlow`.
        init_params: ``[K, P]`` initial parameters (numpy).
        params: ``[K, P]`` final parameters (numpy; tail-averaged like
            :class:`symlab.SymmetryGAN`'s).
        centre: ``[n]`` the data mean; the flows act on ``z = (x − centre) / scale``.
        scale: the common scale of that standardisation (float).
        loss: ``[K]`` the discriminator loss of Eq. (13) over the averaging tail (≈ 2 log 2 at a
            symmetry).
        failed: ``[K]`` runs stopped for a non-finite value (the others are unaffected).
        revived: ``[K]`` discriminator re-initialisations.
        history: a dict of ``steps [T]``, ``params [T, K, P]``, ``d_loss [T, K]`` and
            ``g_loss [T, K]`` (as :class:`symlab.History`), or ``None``.
        seconds: wall time.
    """

    flow: VolumePreservingFlow
    init_params: np.ndarray
    params: np.ndarray
    centre: np.ndarray
    scale: float
    loss: np.ndarray
    failed: np.ndarray
    revived: np.ndarray
    history: dict | None
    seconds: float
    config: dict = field(default_factory=dict)

    @property
    def runs(self) -> int:
        return len(self.params)

    def __len__(self) -> int:
        return self.runs

    @property
    def ok(self) -> np.ndarray:
        return ~self.failed

    def map(self, run: int = 0) -> FlowMap:
        """Run ``run``'s learned map in data coordinates (callable, with ``.inverse``)."""
        return FlowMap(self.flow, self.params[run], self.centre, self.scale)

    def transform(self, x, run: int = 0) -> np.ndarray:
        """Apply run ``run``'s learned map to points ``x [N, n]``; returns ``[N, n]``."""
        pts = as_points(x, self.flow.dim, name="x", min_points=1, dtype=torch.float64)
        return self.map(run)(pts).numpy()

    def transform_all(self, x) -> np.ndarray:
        """Every run's map applied to ``x [N, n]`` in one batched call: ``[K, N, n]``."""
        pts = as_points(x, self.flow.dim, name="x", min_points=1, dtype=torch.float64)
        c = torch.as_tensor(self.centre)
        z = (pts - c) / self.scale
        with torch.no_grad():
            y = self.flow.apply(torch.as_tensor(self.params), z)
        return (c + self.scale * y).numpy()

    @property
    def matrices(self):
        raise ValueError("learned flows are nonlinear maps: they have no matrices. Use "
                         "transform(x, run) / transform_all(x), or map(run) for a callable.")

    shifts = matrices

    def __repr__(self) -> str:
        return (f"FlowDiscovery({self.runs} runs on {self.flow!r}, {int(self.failed.sum())} failed, "
                f"{self.seconds:.1f} s)")


# ---------------------------------------------------------------------------- training
#: The flow family's own settings (everything else is the trainer's defaults,
#: :class:`symlab._loop.Settings`), measured on chapter 9's problems (not yet on the discovery
#: suite): the basis-free ``GroupAdam`` step (one normalisation for the whole tangent vector
#: of a run's few hundred weights, so ``lr_g`` is the length of a step in weight space);
#: ``lr_g = 0.1`` (at 0.01 and 0.03 runs stopped short of the symmetry: the coupling networks
#: have to grow the nonlinear part of h ∘ R ∘ h⁻¹ from zero); ``eps_g = 1e-3``; and 512 events
#: per step, because near a symmetry the discriminator's gradient is mostly batch noise —
#: with 128 events the learned maps stayed ~10 % of the data's spread away from it, with
#: 512 about 2–5 %. ``steps = 4000``, because training length is what limits most runs: on
#: chapter 9's two push-forwards of N₁,₁ (32 runs from uniformly random rotations, the
#: chapter's seeds), the held-out post-hoc test passed 5 and 7 of 32 runs after 2000 steps
#: and 15 and 23 after 4000 (Hénon-type, cubic); at 2000 steps a batch of 1024 gave 12 (Hénon-type),
#: ``lr_g = 0.03`` 6, ``lr_d = 0.003`` 9 and ``lr_d = 0.03`` 1. After 4000 steps 7 and 14 of
#: the 32 runs were at the identity and 5 and 7 within 5 % of another ``h ∘ R_θ ∘ h⁻¹``;
#: 8000 steps (Hénon-type only) passed 23 of 32, but 13 at the identity, 3 rigid and 9 other
#: symmetries (twists): longer training finds *a* symmetry more often, not a rigid one.
FLOW_DEFAULTS = dict(optimizer="group", lr_g=0.1, eps_g=1e-3, batch_size=512, steps=4000)


class FlowFamily(_loop.MapFamily):
    """The flows as a family of maps for :func:`symlab._loop.train`: ``theta [K, P]``.

    ``transform`` applies each run's flow to its standardised events; with ``cyclic = q``
    the penalty of Eq. (18), ``α · mean ‖g^q(z) − z‖²``, favours elements of order ``q``.
    """

    def __init__(self, flow: VolumePreservingFlow, cyclic: int | None = None, alpha: float = 0.1):
        self.flow, self.cyclic, self.alpha = flow, cyclic, float(alpha)

    def transform(self, theta, z, frac):
        return self.flow.apply(theta, z)

    def penalties(self, theta, z):
        if self.cyclic is None:
            return []
        y = z
        for _ in range(self.cyclic):
            y = self.flow.apply(theta, y)
        return [(self.alpha, (y - z).pow(2).sum(-1).mean(1))]


def fit(data, flow: VolumePreservingFlow, runs: int = 32, seed: int = 0,
        near_identity: bool = False, init=None, record_every: int | None = None,
        progress: bool | None = None, **settings) -> FlowDiscovery:
    """Train ``runs`` flows as SymmetryGAN generators on ``data`` (one batched computation).

    Training is :func:`symlab._loop.train` — the loop of :class:`symlab.SymmetryGAN` — with the
    flow as the family of maps (:class:`FlowFamily`): each step transforms half of every run's
    standardised batch with its flow, and the flow's weights follow the discriminator's input
    gradient. Everything the loop does for linear maps (simultaneous steps, learning-rate
    decay, tail averaging, reviving dead discriminators, stopping diverged runs) applies.

    Args:
        data: a finite sample ``[N, n]`` or a density with ``.sample``/``.log_prob``.
        flow: a :class:`VolumePreservingFlow` of the data's dimension.
        runs: ``K``.
        seed: seeds the initialisation, the discriminators and every batch.
        near_identity: start near the identity (``True``) or at random flows (default).
        init: optional ``[K, P]`` initial parameters (overrides ``runs``/``near_identity``).
        record_every: record the losses every this many steps (default ~100 records; 0: none).
        progress: tqdm bar (default: in notebooks and terminals).
        **settings: any field of :class:`symlab._loop.Settings` (``steps``, ``batch_size``,
            ``lr_g``, ``lr_d``, ``hidden``, ``objective``, ``lr_floor``, ``average``,
            ``eps_g``, ``cyclic``, ``alpha``); the defaults are the trainer's, except
            :data:`FLOW_DEFAULTS`.

    Returns:
        :class:`FlowDiscovery`.
    """
    t0 = time.perf_counter()
    if not isinstance(flow, VolumePreservingFlow):
        raise ValueError(f"flow must be a VolumePreservingFlow; got {type(flow).__name__}")
    fields = set(_loop.Settings.__dataclass_fields__) - {"lr_shift", "commutator"}
    unknown = set(settings) - fields
    if unknown:
        raise ValueError(f"unknown setting(s) {sorted(unknown)}; a flow takes {sorted(fields)}")
    cfg = _loop.Settings().replace(**(FLOW_DEFAULTS | settings))
    seed = _checks.resolve_seed(seed)
    near_identity = _checks.flag(near_identity, "near_identity")
    progress = _checks.optional_flag(progress, "progress")
    gen = _checks.generator(seed)
    if init is None:
        runs = _checks.count(runs, "runs")
        p0 = flow.sample_init(runs, seed=seed, near_identity=near_identity)
    else:
        p0 = flow._prep(init).float()
    sampler = _loop.Sampler(data, flow.dim, gen)
    theta = p0.clone().requires_grad_(True)
    family = FlowFamily(flow, cfg.cyclic, cfg.alpha)
    every = max(1, cfg.steps // 100) if record_every is None else \
        _checks.count(record_every, "record_every", minimum=0)
    out = _loop.train(sampler, family, theta, cfg, seed=seed, every=every,
                      first_record=p0.double().numpy(), progress=progress,
                      desc="Flow SymmetryGAN")
    history = None
    if every:
        history = {"steps": out.steps, "params": np.stack(out.records), "d_loss": out.d_loss,
                   "g_loss": out.g_loss}
    return FlowDiscovery(flow=flow, init_params=p0.double().numpy(),
                         params=out.final.double().cpu().numpy(),
                         centre=sampler.centre64.numpy(), scale=sampler.scale, loss=out.loss,
                         failed=out.failed, revived=out.revived, history=history,
                         seconds=time.perf_counter() - t0,
                         config=dict(cfg.as_dict(), seed=seed, near_identity=near_identity))


# ---------------------------------------------------------------------------- analysis
def mc_loss(density, fn, inverse=None, n: int = 100_000, seed: int = 0) -> float:
    """The loss of Eq. (14) with the optimal discriminator of Eq. (15), by Monte Carlo, for an
    *equiareal* map ``g`` (``|det ∂g/∂x| = 1``) and a density with an exact ``log_prob``.

    With ``p_g(y) = p(g⁻¹(y))`` the density of ``g(X)``,

        L(g) = E_p[softplus(log p(g⁻¹x) − log p(x))] + E_p[softplus(log p(g x) − log p(x))],

    ``2 log 2`` exactly when ``g`` is a symmetry and smaller otherwise (``2 log 2 − 2 JSD``).
    The same ``n`` points ``x ~ p`` (drawn with ``seed``) serve both terms, so for a symmetry
    the estimate is exact, not just unbiased.

    Args:
        density: ``.sample`` and an exact ``.log_prob`` (e.g. a :class:`~symlab.NonlinearPushforward`).
        fn: the map ``[N, n] -> [N, n]`` (e.g. ``fit.map(k)`` or ``density.rotation(θ)``).
        inverse: its inverse (default ``fn.inverse``); required, because ``p_g`` needs it.
        n: Monte Carlo points.
        seed: seed of the draw.

    Returns:
        the loss (float).
    """
    if not (hasattr(density, "log_prob") and hasattr(density, "sample")):
        raise ValueError("mc_loss needs a density with .sample and an exact .log_prob")
    if not callable(fn):
        raise _checks.ArgumentTypeError(f"fn must be a map [N, n] -> [N, n] (a callable); got "
                                f"{type(fn).__name__}")
    inv = inverse if inverse is not None else getattr(fn, "inverse", None)
    if not callable(inv):
        raise ValueError("mc_loss needs the map and its inverse (p_g(y) = p(g⁻¹(y))): pass "
                         "inverse=..., or a map with an .inverse method such as fit.map(k)")
    n = _checks.count(n, "n", minimum=2)
    x = torch.as_tensor(density.sample(n, seed=_checks.resolve_seed(seed))).double()
    lp = density.log_prob(x).double()
    gx = torch.as_tensor(fn(x)).double().reshape(x.shape)
    gix = torch.as_tensor(inv(x)).double().reshape(x.shape)
    if not (torch.isfinite(gx).all() and torch.isfinite(gix).all()):
        raise ValueError("the map or its inverse returned NaN or inf")
    t1 = F.softplus(density.log_prob(gix).double() - lp).mean()
    t2 = F.softplus(density.log_prob(gx).double() - lp).mean()
    return float(t1 + t2)


def nearest_rotation(maps, density, x, thetas: int = 180) -> tuple[np.ndarray, np.ndarray]:
    """Fit ``θ`` of the exact symmetry ``h ∘ R(θ) ∘ h⁻¹`` to each of ``K`` learned maps.

    Args:
        maps: ``[K, N, n]`` the learned maps applied to ``x`` (e.g. ``fit.transform_all(x)``).
        density: a 2D :class:`~symlab.NonlinearPushforward` whose base is rotation invariant.
        x: ``[N, 2]`` the (held-out) points.
        thetas: grid size over ``[0, 2π)``; the best grid angle is refined by golden-section search.

    Returns:
        ``(theta [K], rms [K])``: the best angle in ``[0, 2π)`` and the RMS distance over the
        points between the learned and the exact map at that angle.
    """
    y = np.asarray(maps, dtype=np.float64)
    pts = torch.as_tensor(np.asarray(x, dtype=np.float64))
    if y.ndim == 2:
        y = y[None]
    if y.ndim != 3 or y.shape[1:] != tuple(pts.shape) or pts.shape[-1] != 2:
        raise ValueError(f"maps must be [K, N, 2] for x [N, 2]; got {y.shape} and {tuple(pts.shape)}")
    from .pushforward import rotation_2d

    z = density.h.inverse(pts)                                   # [N, 2]

    def rms(th):  # th [K, T] -> [K, T]: distance of run k from the exact map at th[k, t]
        ex = density.h.forward(torch.einsum("ktij,nj->ktni", rotation_2d(th), z)).numpy()
        return np.sqrt(((y[:, None] - ex) ** 2).sum(-1).mean(-1))

    K, T = y.shape[0], int(thetas)
    grid = np.linspace(0.0, 2 * math.pi, T, endpoint=False)
    table = np.concatenate([rms(np.broadcast_to(grid[i:i + 60], (K, len(grid[i:i + 60]))))
                            for i in range(0, T, 60)], axis=1)
    start = grid[table.argmin(1)]
    lo, hi = start - 2 * math.pi / T, start + 2 * math.pi / T
    for _ in range(25):  # golden-section search on [lo, hi], all runs at once
        a, b = hi - 0.618 * (hi - lo), lo + 0.618 * (hi - lo)
        f = rms(np.stack([a, b], 1))
        left = f[:, 0] < f[:, 1]
        lo, hi = np.where(left, lo, a), np.where(left, b, hi)
    theta = np.mod(0.5 * (lo + hi), 2 * math.pi)
    return theta, rms(theta[:, None])[:, 0]


def identity_distance(maps, x) -> np.ndarray:
    """RMS distance ``√(mean |g_k(x) − x|²)`` of each learned map from the identity: ``[K]``."""
    y = np.asarray(maps, dtype=np.float64)
    xs = np.asarray(x, dtype=np.float64)
    if y.ndim == 2:
        y = y[None]
    return np.sqrt(((y - xs[None]) ** 2).sum(-1).mean(-1))
