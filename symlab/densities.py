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

_LOG_2PI = math.log(2.0 * math.pi)


def _generator(seed) -> torch.Generator | None:
    if seed is None:
        return None
    if isinstance(seed, torch.Generator):
        return seed
    g = torch.Generator()
    g.manual_seed(int(seed))
    return g


def _as_matrix(cov, dim: int) -> torch.Tensor:
    c = torch.as_tensor(np.asarray(cov, dtype=np.float64))
    if c.ndim == 0:
        c = c * torch.eye(dim, dtype=torch.float64)
    elif c.ndim == 1:
        c = torch.diag(c)
    if c.shape != (dim, dim):
        raise ValueError(f"covariance must be a scalar, a length-{dim} diagonal or a {dim}x{dim} "
                         f"matrix; got shape {tuple(c.shape)}")
    if not torch.allclose(c, c.T, atol=1e-12):
        raise ValueError("covariance must be symmetric")
    if torch.linalg.eigvalsh(c).min() <= 0:
        raise ValueError("covariance must be positive definite (all eigenvalues > 0)")
    return c


def _per_component(covs, n_comp: int, dim: int) -> list:
    """Read ``covs`` as one covariance per component (see :class:`GaussianMixture`)."""
    if isinstance(covs, (list, tuple)) and len(covs) == n_comp:
        return list(covs)
    c = np.asarray(covs, dtype=np.float64)
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

    def __init__(self, means, covs, weights=None):
        m = torch.as_tensor(np.asarray(means, dtype=np.float64))
        if m.ndim == 1:
            m = m[:, None]
        if m.ndim != 2 or m.shape[0] == 0:
            raise ValueError(f"means must have shape [C, dim]; got {tuple(m.shape)}")
        if not torch.isfinite(m).all():
            raise ValueError("means contain NaN or inf")
        n_comp, dim = m.shape
        covs_list = _per_component(covs, n_comp, dim)
        self.means = m
        self.covs = torch.stack([_as_matrix(c, dim) for c in covs_list])  # [C, d, d]
        if weights is None:
            w = torch.full((n_comp,), 1.0 / n_comp, dtype=torch.float64)
        else:
            w = torch.as_tensor(np.asarray(weights, dtype=np.float64))
            if w.shape != (n_comp,) or (w < 0).any() or w.sum() <= 0:
                raise ValueError(f"weights must be {n_comp} nonnegative numbers with a positive sum")
            w = w / w.sum()
        self.weights = w
        self.chol = torch.linalg.cholesky(self.covs)  # [C, d, d]
        self.dim = dim

    # ----------------------------------------------------------------- sampling
    def sample(self, n: int, seed=None) -> torch.Tensor:
        """Draw ``n`` points, returned as ``float32 [n, dim]``."""
        return self.sample_shaped((int(n),), seed=seed)

    def sample_shaped(self, shape: tuple, seed=None, dtype=torch.float32) -> torch.Tensor:
        """Draw points of shape ``[*shape, dim]`` (e.g. ``(K, B)`` for an ensemble batch)."""
        g = _generator(seed)
        n = int(np.prod(shape))
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
        """Exact log density at ``x [..., dim]`` (computed in the dtype of ``x``, float64 if numpy)."""
        x = torch.as_tensor(x) if not isinstance(x, torch.Tensor) else x
        if not x.is_floating_point():
            x = x.double()
        if x.shape[-1] != self.dim:
            raise ValueError(f"points have dimension {x.shape[-1]}, the density has {self.dim}")
        dt = x.dtype
        diff = x[..., None, :] - self.means.to(dt)  # [..., C, d]
        # Solve L y = diff for each component.
        L = self.chol.to(dt)
        y = torch.linalg.solve_triangular(
            L.expand(*diff.shape[:-1], self.dim, self.dim), diff[..., None], upper=False)[..., 0]
        maha = (y * y).sum(-1)  # [..., C]
        logdet = 2.0 * torch.log(torch.diagonal(L, dim1=-2, dim2=-1)).sum(-1)  # [C]
        comp = -0.5 * (maha + logdet + self.dim * _LOG_2PI) + torch.log(self.weights.to(dt))
        return torch.logsumexp(comp, dim=-1)

    def prob(self, x) -> torch.Tensor:
        return self.log_prob(x).exp()

    # ----------------------------------------------------------------- quadrature
    def quadrature(self, nodes: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Gauss–Hermite nodes ``[M, dim]`` and weights ``[M]`` for expectations under the density.

        ``E_p[f] ≈ sum_m w_m f(x_m)``: a tensor-product Gauss–Hermite rule per component, mapped
        through its Cholesky factor. Exact for polynomials of degree < 2·nodes per axis.
        """
        if nodes is None:
            nodes = {1: 120, 2: 48}.get(self.dim, 12)
        t, w = np.polynomial.hermite_e.hermegauss(nodes)  # probabilists' Hermite: weight e^{-t²/2}
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
        mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
        super().__init__(mean[None, :], [cov])
        self.mean = self.means[0]
        self.cov = self.covs[0]

    def __repr__(self) -> str:
        return f"Gaussian(mean={self.mean.tolist()}, cov={self.cov.tolist()})"
