"""The analytic SymmetryGAN loss landscape: Eq. (14) with the optimal discriminator of Eq. (15).

For a density ``p`` and an affine map ``g(x) = M x + V``, the transformed sample ``g(X)``,
``X ~ p``, has density ``p_g(y) = p(M⁻¹(y − V)) / |det M|``. The best discriminator between
real points and transformed points is ``d*(y) = p(y) / (p(y) + p_g(y))`` (Eq. 15), and the
loss of Eq. (13) in the limit of infinite data becomes

    L(g) = −E_{x∼p}[log d*(x)] − E_{x∼p}[log(1 − d*(g(x)))]            (Eqs. 13–15)
         = 2 log 2 − 2 JSD(p, p_g).

Writing the second expectation over ``x ∼ p`` (rather than over ``y = g(x)`` with the Jacobian
factor of the printed Eq. 14) avoids any ambiguity in how the Jacobian is placed. ``L`` equals
``MAX_LOSS = 2 log 2`` exactly when ``p_g = p``, i.e. when ``g`` is a symmetry (Eq. 17), and is
smaller everywhere else. Both expectations are over ``p``, so they are computed with the
density's Gauss–Hermite rule in one and two dimensions and by Monte Carlo in three or more.

Everything is evaluated in log space and float64, with

    −log d*(x)          = softplus(log p_g(x) − log p(x)),
    −log(1 − d*(g(x)))  = softplus(log p(g(x)) − log p(x) + log|det M|),

using ``log p_g(g(x)) = log p(x) − log|det M|``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from . import _checks
from ._checks import as_params
from .densities import GaussianMixture

__all__ = ["MAX_LOSS", "loss", "grid", "generator_gradient", "optimal_discriminator"]

#: The loss at a symmetry, 2 log 2 (Eq. 17 and below).
MAX_LOSS = 2.0 * math.log(2.0)

#: |det M| below this counts as singular: ``loss`` returns its limit 0 there.
SINGULAR_DET = 1e-12

_MEMORY_BUDGET = 2_000_000  # float64 elements per temporary tensor (16 MB) when chunking over K
_SOFTPLUS_THRESHOLD = 40.0  # exact to ~4e-18 beyond it


def _softplus(a: torch.Tensor) -> torch.Tensor:
    return F.softplus(a, beta=1.0, threshold=_SOFTPLUS_THRESHOLD)


# ----------------------------------------------------------------------------- helpers
class _MixtureLogDensity:
    """Fast exact ``log p`` of a :class:`GaussianMixture` for points ``[..., n]`` (float64).

    ``log N(x; μ_c, Σ_c)`` is quadratic in ``x``, so one matrix product of the features
    ``(x_i x_j for i ≤ j, x_i)`` with a ``[F, C]`` table gives every component at once.
    """

    def __init__(self, mix: GaussianMixture):
        C, n = mix.means.shape
        prec = torch.cholesky_inverse(mix.chol)  # [C, n, n] = Σ_c⁻¹
        self.iu = torch.triu_indices(n, n).T.tolist()
        quad = prec * (2.0 - torch.eye(n, dtype=prec.dtype))  # off-diagonal pairs counted twice
        lin = torch.einsum("cij,cj->ci", prec, mix.means)  # Σ⁻¹ μ   [C, n]
        logdet = 2.0 * torch.log(torch.diagonal(mix.chol, dim1=-2, dim2=-1)).sum(-1)
        lognorm = torch.log(mix.weights) - 0.5 * (logdet + n * math.log(2.0 * math.pi))
        self.const = lognorm - 0.5 * (lin * mix.means).sum(-1)  # [C]
        quad_terms = torch.stack([quad[:, i, j] for i, j in self.iu], dim=1)
        self.table = torch.cat([-0.5 * quad_terms, lin], dim=1).T.contiguous()  # [F, C]
        self.C, self.n = C, n
        self.width = C + len(self.iu) + n  # float64 temporaries per point

    def _features(self, x):
        cols = [x[..., i] * x[..., j] for i, j in self.iu] + [x[..., i] for i in range(self.n)]
        return torch.stack(cols, dim=-1)  # [..., F]

    @staticmethod
    def _logsumexp_(comp):  # in place over the last axis
        top = comp.amax(dim=-1, keepdim=True)
        return comp.sub_(top).exp_().sum(dim=-1).log_().add_(top[..., 0])

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """``x [..., n] -> log p [...]`` (float64)."""
        flat = x.reshape(-1, self.n)
        comp = torch.addmm(self.const, self._features(flat), self.table)  # [N, C]
        out = comp[:, 0] if self.C == 1 else self._logsumexp_(comp)
        return out.reshape(x.shape[:-1])


def _log_density(density):
    """Return ``(f, width)``: ``f(x [..., n]) -> log p [...]`` (float64) and a cost per point.

    Gaussian mixtures get the fast exact path above; any other object with ``log_prob`` is
    used as it is.
    """
    if isinstance(density, GaussianMixture):
        f = _MixtureLogDensity(density)
        return f, f.width

    def g(x):
        return torch.as_tensor(density.log_prob(x), dtype=torch.float64)

    return g, 4 * density.dim


def _default_nodes(density) -> int:
    """Per-axis Gauss–Hermite order used when ``nodes`` is not given.

    1D: 120. 2D: 48 for one Gaussian; for a mixture of C components the cost per parameter
    row grows like ``nodes² · C²``, so the order is ``√50000 / C`` clipped to [8, 48]
    (8 for the 25-component square, 27 for the octagon). Typical error ~1e-4–1e-3; the
    largest (up to ~2e-2 for the square) are at strongly contracting maps, where the loss
    is near 0. The value at a symmetry is exact for any order. Pass ``nodes`` for more.
    """
    if density.dim == 1:
        return 120
    n_comp = len(getattr(density, "weights", [0]))
    if density.dim == 2:
        return int(np.clip(math.sqrt(50_000) / n_comp, 8, 48))
    return 12


def _expectation_points(density, nodes, mc_samples, seed):
    """Points ``[Q, n]`` and weights ``[Q]`` (float64) with ``E_p[f] ≈ Σ_q w_q f(x_q)``.

    Quadrature in 1–2 D (or whenever ``nodes`` is given and the density has a rule), keeping
    only the nodes of weight ≥ 1e-13 (a tensor-product rule's corners carry a negligible
    total weight, < 1e-9) and renormalising. Otherwise ``mc_samples`` draws from
    ``density.sample`` with ``seed``.
    """
    nodes = None if nodes is None else _checks.count(nodes, "nodes")
    mc_samples = _checks.count(mc_samples, "mc_samples")
    _checks.memory(mc_samples * density.dim, "mc_samples x dimension")
    seed = _checks.seed(seed)
    if hasattr(density, "quadrature") and (density.dim <= 2 or nodes is not None):
        order = nodes if nodes is not None else _default_nodes(density)
        x, w = density.quadrature(order)
        x = _checks.as_points(x, density.dim, name="the density's quadrature nodes", min_points=1,
                              dtype=torch.float64)
        w = torch.from_numpy(_checks.as_array(w, "the density's quadrature weights").copy()).reshape(-1)
        if w.shape[0] != x.shape[0] or (w < 0).any() or not w.sum() > 0:
            raise ValueError(f"the density's quadrature rule for nodes={order} is invalid "
                             f"({x.shape[0]} nodes, {w.shape[0]} weights, sum {float(w.sum()):.3g}); "
                             "pass fewer nodes or fix the density's quadrature()")
        keep = w >= 1e-13 * w.sum()
        x, w = x[keep], w[keep]
    else:
        x = _checks.as_points(density.sample(mc_samples, seed=seed), density.dim,
                              name="the density's samples", min_points=1, dtype=torch.float64)
        w = torch.ones(x.shape[0], dtype=torch.float64)
    return x, w / w.sum()


def _check_dims(density, space):
    _checks.density(density, "density")
    _checks.space(space, "space")
    if density.dim != space.dim:
        raise ValueError(f"the density has dimension {density.dim} but the space acts on "
                         f"dimension {space.dim}: pick a matching space")


def _maps(space, theta):
    """``M [K, n, n]``, ``V [K, n]``, ``log|det M| [K]``, ``M⁻¹`` (identity where singular), mask."""
    M, V = space.matrix(theta), space.shift(theta)
    det = torch.linalg.det(M)
    ok = det.abs() >= SINGULAR_DET
    eye = torch.eye(M.shape[-1], dtype=M.dtype).expand_as(M)
    M_safe = torch.where(ok[:, None, None], M, eye)
    logdet = torch.where(ok, torch.log(det.abs().clamp_min(SINGULAR_DET)), torch.zeros_like(det))
    return M, V, logdet, torch.linalg.inv(M_safe), ok


def _chunks(K: int, points: int, width: int):
    size = max(1, _MEMORY_BUDGET // max(1, points * width))
    for start in range(0, K, size):
        yield slice(start, min(K, start + size))


# ----------------------------------------------------------------------------- public API
def loss(density, space, params, nodes: int | None = None, mc_samples: int = 200_000,
         seed: int = 0) -> np.ndarray:
    """Eq. (14) with the optimal discriminator ``d*`` of Eq. (15), for every parameter row.

    Args:
        density: a density with ``dim`` and ``log_prob`` (and ``quadrature`` / ``sample``).
        space: a search space of the same dimension (``symlab.spaces``).
        params: ``[K, P]`` (or one ``[P]`` row) array or tensor of the space's parameters.
        nodes: per-axis Gauss–Hermite order. Default: 120 in 1D; in 2D 48 for one Gaussian
            and ``√50000 / C`` clipped to [8, 48] for a C-component mixture (8 for
            ``paper.square()``: a 100×100 grid then takes ~7 s on two CPU cores; typical
            error 1e-4–1e-3, up to ~2e-2 for strongly contracting maps where ``L`` is near 0;
            pass ``nodes=32`` for ~1e-3 everywhere). Given in ≥ 3 D, it replaces Monte Carlo
            by a tensor-product rule with ``nodes**dim`` points per component.
        mc_samples, seed: Monte Carlo sample size and seed, used for ``dim ≥ 3`` (error
            ~1e-3 for the default 200 000 samples); ``seed=None`` draws fresh samples (OS
            entropy) every call.

    Returns:
        ``np.ndarray [K]`` (float64): ``L = 2 log 2 − 2 JSD(p, p_g)``, equal to
        ``MAX_LOSS`` at a symmetry and smaller elsewhere. A singular map
        (``|det M| < 1e-12``) gets ``0``, the limit of ``L`` as ``M`` degenerates (``p_g``
        collapses onto a lower-dimensional set, so JSD → log 2).
    """
    _check_dims(density, space)
    theta = as_params(params, space.n_params, dtype=torch.float64).cpu()
    x, w = _expectation_points(density, nodes, mc_samples, seed)
    logp, width = _log_density(density)
    lp_x = logp(x)  # [Q]
    out = torch.zeros(theta.shape[0], dtype=torch.float64)
    with torch.no_grad():
        for sl in _chunks(theta.shape[0], x.shape[0], width + space.dim):
            M, V, logdet, Minv, ok = _maps(space, theta[sl])
            y = x @ M.transpose(-1, -2) + V[:, None, :]           # g(x)        [k, Q, n]
            x_pre = (x - V[:, None, :]) @ Minv.transpose(-1, -2)  # M⁻¹(x − V)  [k, Q, n]
            real = _softplus(logp(x_pre) - logdet[:, None] - lp_x)  # −log d*(x)
            fake = _softplus(logp(y) - lp_x + logdet[:, None])      # −log(1 − d*(g x))
            out[sl] = torch.where(ok, (real + fake) @ w, torch.zeros_like(logdet))
    return out.numpy()


def grid(density, space, axes: dict, fixed: dict | None = None, **kw):
    """Evaluate :func:`loss` on a 1D or 2D grid of named parameters.

    Args:
        axes: ``{name: values}`` for one or two of ``space.param_names`` (e.g.
            ``{"b": np.linspace(-2, 2, 101), "c": np.linspace(-2, 2, 101)}``).
        fixed: ``{name: value}`` for every other parameter of the space (required: there is no
            universal "neutral" value, so missing ones raise a ``ValueError`` naming them).
        **kw: passed to :func:`loss` (``nodes``, ``mc_samples``, ``seed``).

    Returns:
        ``(mesh, values)``: ``mesh`` maps each axis name to an array shaped like the grid
        (``[n₁]`` or ``[n₁, n₂]``, ``indexing="ij"``: the first axis name runs along rows);
        ``values`` has the same shape.
    """
    _checks.space(space, "space")
    names = list(space.param_names)
    if not isinstance(axes, dict):
        raise _checks.ArgumentTypeError(f"axes must be a dict {{name: values}}; got {type(axes).__name__}")
    if fixed is not None and not isinstance(fixed, dict):
        raise _checks.ArgumentTypeError(f"fixed must be a dict {{name: value}} or None; got "
                                        f"{type(fixed).__name__}")
    axes = dict(axes)
    fixed = dict(fixed or {})
    if not 1 <= len(axes) <= 2:
        raise ValueError(f"axes must name one or two parameters; got {list(axes)}")
    unknown = [k for k in [*axes, *fixed] if k not in names]
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown}; this space has {tuple(names)}")
    both = sorted(set(axes) & set(fixed))
    if both:
        raise ValueError(f"parameter(s) {both} are both on an axis and fixed: give each once")
    missing = [k for k in names if k not in axes and k not in fixed]
    if missing:
        raise ValueError(f"fixed must give a value for every parameter not on an axis; missing "
                         f"{missing} (e.g. fixed={{{', '.join(f'{m!r}: 0.0' for m in missing)}}})")
    values = [_checks.as_array(v, f"axes[{k!r}]").ravel() for k, v in axes.items()]
    if any(v.size == 0 for v in values):
        raise ValueError("axes: every axis needs at least one value; got an empty one")
    fixed = {k: _checks.real(v, f"fixed[{k!r}]") for k, v in fixed.items()}
    meshes = np.meshgrid(*values, indexing="ij")
    mesh = dict(zip(axes, meshes, strict=True))
    params = np.empty((meshes[0].size, len(names)))
    for j, name in enumerate(names):
        params[:, j] = mesh[name].ravel() if name in mesh else float(fixed[name])
    return mesh, loss(density, space, params, **kw).reshape(meshes[0].shape)


def generator_gradient(density, space, params, objective: str = "non-saturating",
                       nodes: int | None = None, mc_samples: int = 200_000,
                       seed: int = 0) -> np.ndarray:
    """Gradient of the generator's objective at ``θ`` with the optimal discriminator held fixed.

    This is the direction the GAN's generator follows when its discriminator is ideal: ``d*``
    of Eq. (15) is computed from the current ``θ`` and frozen, and only ``g_θ(x)`` is
    differentiated. The objectives (both *minimised* by the generator):

    * ``"minimax"``: ``J(θ) = E_p[log(1 − d*(g_θ(x)))]`` — Eq. (13) as the generator sees it.
      Because ``d*`` is optimal, ``∇J = −∇L`` with ``L`` from :func:`loss` (envelope theorem).
    * ``"non-saturating"``: ``J(θ) = E_p[−log d*(g_θ(x))]`` (the original study's choice). Its
      stationary points need not coincide with those of ``L`` away from symmetries.

    Args:
        params: ``[K, P]`` or ``[P]``; other arguments as in :func:`loss`.

    Returns:
        ``np.ndarray [K, P]``: ``∇_θ J``. The generator's update is along ``−∇_θ J``. Rows whose
        map is singular (``|det M| < 1e-12``) are NaN.
    """
    _checks.choice(objective, "objective", ("non-saturating", "minimax"))
    _check_dims(density, space)
    theta_all = as_params(params, space.n_params, dtype=torch.float64).cpu()
    x, w = _expectation_points(density, nodes, mc_samples, seed)
    logp, width = _log_density(density)
    out = torch.full(theta_all.shape, float("nan"), dtype=torch.float64)
    for sl in _chunks(theta_all.shape[0], x.shape[0], 3 * (width + space.dim)):
        theta = theta_all[sl].clone().requires_grad_(True)
        with torch.no_grad():
            _, V0, logdet0, Minv0, ok = _maps(space, theta.detach())
        y = space.apply(theta, x)  # g_θ(x) [k, Q, n]
        log_p = logp(y)
        log_pg = logp((y - V0[:, None, :]) @ Minv0.transpose(-1, -2)) - logdet0[:, None]
        if objective == "non-saturating":
            obj = _softplus(log_pg - log_p)   # −log d*(y)
        else:
            obj = -_softplus(log_p - log_pg)  # log(1 − d*(y))
        (grad,) = torch.autograd.grad((obj @ w).sum(), theta)
        out[sl] = torch.where(ok[:, None], grad, torch.full_like(grad, float("nan")))
    return out.numpy()


def optimal_discriminator(density, space, params, x) -> np.ndarray:
    """The optimal discriminator ``d*(x) = p(x) / (p(x) + p_g(x))`` (Eq. 15) at points ``x``.

    Labels as in the trainer: data → 1, transformed data ``g(X)`` → 0, so ``p_g`` is the
    density of ``g(X)``, ``p_g(y) = p(M⁻¹(y − V)) / |det M|``. At a symmetry ``d* = 1/2``.

    Args:
        density: a density with ``log_prob`` (e.g. ``symlab.paper.gaussian_1d()``).
        space: the search space of ``params``.
        params: ``[K, P]`` (or ``[P]``) parameters.
        x: ``[N, n]`` points (a 1D array is read as N points in one dimension).

    Returns:
        ``[K, N]`` float64 numpy array.
    """
    _check_dims(density, space)
    theta = as_params(params, space.n_params, dtype=torch.float64).cpu()
    pts = _checks.as_points(x, space.dim, name="x", min_points=1, dtype=torch.float64).cpu()
    log_p, _ = _log_density(density)
    M, V, logdet, M_inv, ok = _maps(space, theta)
    pre = torch.einsum("kij,knj->kni", M_inv, pts[None] - V[:, None, :])  # g⁻¹(x): [K, N, n]
    log_pg = log_p(pre) - logdet[:, None]
    d = torch.sigmoid(log_p(pts)[None] - log_pg)  # p / (p + p_g)
    d = torch.where(ok[:, None], d, torch.ones_like(d))  # a singular g: p_g is singular, d* = 1 a.e.
    return d.numpy()


def local_maxima(values) -> tuple[np.ndarray, np.ndarray]:
    """Interior grid points of a landscape ``[ny, nx]`` not lower than any of their 8
    neighbours (points on the edge of the grid are never reported).

    Returns:
        ``(i, j)``: row and column indices of the maxima, so that ``X[i, j]``, ``Y[i, j]`` of
        the grid's meshgrids are their coordinates and ``values[i, j]`` their heights.
    """
    L = _checks.as_array(values, "values", ndim=2)
    if min(L.shape) < 3:
        raise ValueError(f"values must be a grid of at least 3 x 3 points; got {L.shape}")
    inner = L[1:-1, 1:-1]
    rows, cols = L.shape
    neighbours = [L[1 + di:rows - 1 + di, 1 + dj:cols - 1 + dj]
                  for di in (-1, 0, 1) for dj in (-1, 0, 1) if (di, dj) != (0, 0)]
    i, j = np.nonzero(np.all([inner >= nb for nb in neighbours], axis=0))
    return i + 1, j + 1
