"""Probability densities with exact ``log_prob`` and seeded sampling.

Every density has ``.dim``, ``.sample(n, seed=None) -> Tensor[n, dim]`` and
``.log_prob(x) -> Tensor[...]`` for ``x`` of shape ``[..., dim]``. The trainer draws fresh
batches from a density; the analytic landscape (Eq. 14 with the optimal discriminator of
Eq. 15) integrates its exact density. A density may also carry a ``quadrature`` rule: nodes
and weights that integrate smooth functions against it exactly enough for the landscape.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from . import _checks

_LOG_2PI = math.log(2.0 * math.pi)

#: The most quadrature points (nodes**dim per component, times components) one rule may have.
MAX_QUADRATURE_POINTS = 20_000_000
#: The highest Gauss–Hermite order per axis (the rule beyond numpy's takes ~0.3 s at 1000).
MAX_NODES = 1000


def _generator(seed) -> torch.Generator:
    """``seed``: an int (seeds a fresh generator), a ``torch.Generator`` (used as is), or
    ``None`` (fresh OS entropy; the global torch generator is never used)."""
    return _checks.generator(seed, "seed")


def _hermite_e_rule(order: int) -> tuple[np.ndarray, np.ndarray]:
    """Probabilists' Gauss–Hermite nodes ``[order]`` and weights (weight ``e^{-t²/2}``).

    numpy's ``hermegauss`` (used as long as it is finite: every order up to ~370) overflows
    for larger orders — its weights ``1 / He_{n−1}(t)²`` turn into inf/NaN. Beyond that the
    Golub–Welsch rule is used: the nodes are the eigenvalues of the Jacobi matrix (off-diagonal
    ``√k``) and the weights ``√(2π)`` times the squared first components of its eigenvectors;
    the extreme weights then underflow to 0 instead of poisoning the rule.
    """
    with np.errstate(all="ignore"):
        t, w = np.polynomial.hermite_e.hermegauss(order)
    if np.isfinite(t).all() and np.isfinite(w).all() and (w >= 0).all() and w.sum() > 0:
        return t, w
    off = np.sqrt(np.arange(1, order, dtype=np.float64))
    jacobi = np.diag(off, 1) + np.diag(off, -1)
    t, vecs = np.linalg.eigh(jacobi)
    t = 0.5 * (t - t[::-1])  # exact symmetry about 0
    w = vecs[0] ** 2
    w = 0.5 * (w + w[::-1])
    return t, w * (math.sqrt(2.0 * math.pi) / w.sum())


def _as_matrix(cov, dim: int, name: str = "cov") -> torch.Tensor:
    c = torch.from_numpy(_checks.as_array(cov, name).copy())
    if c.ndim == 0:
        c = c * torch.eye(dim, dtype=torch.float64)
    elif c.ndim == 1:
        c = torch.diag(c)
    if c.shape != (dim, dim):
        raise ValueError(f"{name}: a covariance must be a scalar, a length-{dim} diagonal or a "
                         f"{dim}x{dim} matrix; got shape {tuple(c.shape)}")
    if not torch.allclose(c, c.T, atol=1e-12):
        raise ValueError(f"{name}: a covariance must be symmetric (cov == cov.T); pass (C + C.T) / 2")
    if torch.linalg.eigvalsh(c).min() <= 0:
        raise ValueError(f"{name}: a covariance must be positive definite (all eigenvalues > 0; "
                         "variances > 0)")
    return c


def _per_component(covs, n_comp: int, dim: int) -> list:
    """Read ``covs`` as one covariance per component (see :class:`GaussianMixture`)."""
    if isinstance(covs, (list, tuple)) and len(covs) == n_comp:
        return list(covs)
    c = _checks.as_array(covs, "covs")
    if c.ndim == 0 or (c.ndim == 2 and c.shape == (dim, dim)) or (c.ndim == 1 and len(c) == dim != n_comp):
        return [c] * n_comp
    if (c.ndim == 1 or c.ndim == 3) and len(c) == n_comp:
        return list(c)
    raise ValueError(f"covs must be one covariance shared by all {n_comp} components or a list of "
                     f"{n_comp}; got shape {c.shape}")


class GaussianMixture:
    """Mixture of Gaussians ``sum_k w_k N(mean_k, cov_k)`` in ``dim`` dimensions.

    Args:
        means: ``[C, dim]`` component means (a 1D list is read as C means in one dimension).
        covs: one covariance per component — scalars (isotropic variance), diagonals or
            ``[dim, dim]`` matrices — or a single one shared by all components.
        weights: ``[C]`` nonnegative weights, normalised here; equal if omitted.
    """

    def __init__(self, means, covs, weights=None, *, _names=("means", "covs")):
        m = torch.from_numpy(_checks.as_array(means, _names[0], finite=False).copy())
        if m.ndim == 1:
            m = m[:, None]
        if m.ndim != 2 or m.shape[0] == 0 or m.shape[1] == 0:
            raise ValueError(f"{_names[0]} must have shape [C, dim] with C, dim >= 1; got "
                             f"{tuple(m.shape)}")
        if not torch.isfinite(m).all():
            raise ValueError(f"{_names[0]} contain NaN or inf; pass finite means")
        n_comp, dim = m.shape
        covs_list = _per_component(covs, n_comp, dim)
        self.means = m
        self.covs = torch.stack([_as_matrix(c, dim, _names[1] if n_comp == 1 else f"{_names[1]}[{i}]")
                                 for i, c in enumerate(covs_list)])  # [C, d, d]
        if weights is None:
            w = torch.full((n_comp,), 1.0 / n_comp, dtype=torch.float64)
        else:
            w = torch.from_numpy(_checks.as_array(weights, "weights").copy())
            if w.shape != (n_comp,) or (w < 0).any() or w.sum() <= 0:
                raise ValueError(f"weights must be {n_comp} nonnegative numbers with a positive sum "
                                 f"(one per component); got shape {tuple(w.shape)}")
            w = w / w.sum()
        self.weights = w
        self.chol = torch.linalg.cholesky(self.covs)  # [C, d, d]
        self.dim = dim

    # ----------------------------------------------------------------- sampling
    def sample(self, n: int, seed=None) -> torch.Tensor:
        """Draw ``n`` points, returned as ``float32 [n, dim]``.

        ``n`` is an integer ``>= 0``; ``seed`` an integer ``>= 0``, a ``torch.Generator``, or
        ``None`` (fresh OS entropy: a different sample every call).
        """
        return self.sample_shaped((_checks.count(n, "n", minimum=0),), seed=seed)

    def sample_shaped(self, shape: tuple, seed=None, dtype=torch.float32) -> torch.Tensor:
        """Draw points of shape ``[*shape, dim]`` (e.g. ``(K, B)`` for an ensemble batch).

        ``shape`` is a tuple of integers ``>= 0`` (an integer means ``(shape,)``); ``dtype`` a
        floating torch dtype; ``seed`` as in :meth:`sample`.
        """
        if isinstance(shape, (tuple, list, torch.Size)):
            shape = tuple(_checks.count(s, f"shape[{i}]", minimum=0) for i, s in enumerate(shape))
        else:
            shape = (_checks.count(shape, "shape", minimum=0),)
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise _checks.ArgumentTypeError(f"dtype must be a floating torch dtype such as "
                                            f"torch.float32; got {dtype!r}")
        n = math.prod(shape)
        _checks.memory(n * self.dim, f"shape {shape} (points x dimension)")
        g = _generator(seed)
        means, chol = self._cast(dtype)
        z = torch.randn(n, self.dim, generator=g, dtype=dtype)
        if len(self.weights) == 1:  # one Gaussian: no component draw
            x = torch.addmm(means[0], z, chol[0].T)
        else:
            comp = torch.multinomial(self.weights.float(), n, replacement=True, generator=g)
            x = means[comp] + torch.einsum("nij,nj->ni", chol[comp], z)
        return x.reshape(*shape, self.dim)

    def _cast(self, dtype) -> tuple[torch.Tensor, torch.Tensor]:
        cache = self.__dict__.setdefault("_cast_cache", {})
        if dtype not in cache:
            cache[dtype] = (self.means.to(dtype), self.chol.to(dtype))
        return cache[dtype]

    # ----------------------------------------------------------------- density
    def log_prob(self, x) -> torch.Tensor:
        """Exact log density at ``x [..., dim]`` → ``[...]``.

        Computed in the dtype of a float32/float64 array or tensor ``x`` (differentiable for
        tensors), in float64 for everything else (lists, integer, float16 and bfloat16
        values). NaN points are refused; points at ±inf get ``−inf``.
        """
        if not (isinstance(x, torch.Tensor) and x.dtype in (torch.float32, torch.float64)):
            x = _checks._float_tensor(x, "x", f"points [..., {self.dim}]")
        if x.ndim == 0:
            raise ValueError(f"x must have shape [..., {self.dim}] (points along the last axis); "
                             f"got a single number. Pass e.g. [[{x.detach().item():g}]]"
                             + (" for one 1D point." if self.dim == 1 else "."))
        if x.shape[-1] != self.dim:
            raise ValueError(f"x: points have dimension {x.shape[-1]}, the density has dimension "
                             f"{self.dim}; pass x of shape [..., {self.dim}]")
        if bool(torch.isnan(x).any()):
            raise ValueError("x contains NaN; drop or fix those points first")
        dt = x.dtype
        diff = x[..., None, :] - self.means.to(dt)  # [..., C, d]
        # Solve L y = diff for each component.
        L = self.chol.to(dt)
        y = torch.linalg.solve_triangular(
            L.expand(*diff.shape[:-1], self.dim, self.dim), diff[..., None], upper=False)[..., 0]
        maha = (y * y).sum(-1)  # [..., C]
        logdet = 2.0 * torch.log(torch.diagonal(L, dim1=-2, dim2=-1)).sum(-1)  # [C]
        comp = -0.5 * (maha + logdet + self.dim * _LOG_2PI) + torch.log(self.weights.to(dt))
        out = torch.logsumexp(comp, dim=-1)
        far = torch.isinf(x).any(-1)
        if bool(far.any()):  # inf − inf in the solve gives NaN: the density there is 0
            out = torch.where(far, torch.full_like(out, -math.inf), out)
        return out

    def prob(self, x) -> torch.Tensor:
        return self.log_prob(x).exp()

    # ----------------------------------------------------------------- quadrature
    def quadrature(self, nodes: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Gauss–Hermite nodes ``[M, dim]`` and weights ``[M]`` for expectations under the density.

        ``E_p[f] ≈ sum_m w_m f(x_m)``: a tensor-product Gauss–Hermite rule per component, mapped
        through its Cholesky factor. Exact for polynomials of degree < 2·nodes per axis.
        ``nodes``: 1 to ``MAX_NODES`` = 1000 per axis, at most ``MAX_QUADRATURE_POINTS`` in all.
        """
        if nodes is None:
            nodes = {1: 120, 2: 48}.get(self.dim, 12)
        nodes = _checks.count(nodes, "nodes", maximum=MAX_NODES)
        total = float(nodes) ** self.dim * len(self.weights)
        if total > MAX_QUADRATURE_POINTS:
            raise ValueError(f"nodes={nodes} gives {total:.3g} quadrature points in {self.dim} "
                             f"dimension(s) ({len(self.weights)} component(s)), more than "
                             f"{MAX_QUADRATURE_POINTS:.3g}: pass fewer nodes (or use Monte Carlo).")
        t, w = _hermite_e_rule(nodes)  # probabilists' Hermite: weight e^{-t²/2}
        w = w / w.sum()
        grids = np.meshgrid(*([t] * self.dim), indexing="ij")
        z = torch.as_tensor(np.stack([gr.ravel() for gr in grids], axis=-1))  # [G, d]
        wz = torch.as_tensor(np.prod(np.meshgrid(*([w] * self.dim), indexing="ij"), axis=0).ravel())
        pts = self.means[:, None, :] + torch.einsum("cij,gj->cgi", self.chol, z)  # [C, G, d]
        wts = self.weights[:, None] * wz[None, :]
        return pts.reshape(-1, self.dim), wts.reshape(-1)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim}, components={len(self.weights)})"


class Gaussian(GaussianMixture):
    """Multivariate normal ``N(mean, cov)``.

    Args:
        mean: ``[dim]`` mean vector (a scalar means ``dim = 1``).
        cov: variance (scalar), diagonal ``[dim]`` or full ``[dim, dim]`` covariance.
    """

    def __init__(self, mean, cov=1.0):
        mean = _checks.as_array(mean, "mean", finite=False)
        if mean.ndim > 1:
            raise ValueError(f"mean must be a number or a vector [dim]; got shape {mean.shape}")
        if mean.size == 0:
            raise ValueError("mean is empty: pass a number (1D) or a vector [dim] with dim >= 1")
        mean = np.atleast_1d(mean)
        super().__init__(mean[None, :], [cov], _names=("mean", "cov"))
        self.mean = self.means[0]
        self.cov = self.covs[0]

    def __repr__(self) -> str:
        return f"Gaussian(mean={self.mean.tolist()}, cov={self.cov.tolist()})"
