"""Parametrised search spaces: the generator families ``g`` of the paper.

A space maps a parameter tensor ``params [K, P]`` (one row per run — the ensemble axis comes
first) to affine maps ``g_k(x) = M_k x + V_k``:

* ``matrix(params) -> [K, n, n]`` and ``shift(params) -> [K, n]``;
* ``apply(params, x)`` with ``x [N, n]`` (the same points for every run) or ``[K, N, n]``
  returns ``[K, N, n]``;
* ``sample_init(K, seed)`` draws initial parameters from the paper's ranges
  (``init_ranges``; pass ``ranges={...}`` to the constructor to change them).

All spaces are inertial restrictions in the sense of §III except where noted: the maps
preserve the uniform density on Rⁿ up to the constant factor |det M| that the learned
parameters must bring to 1 (``Affine(1)``, ``RotationScale2D``, ``Iwasawa2D`` leave the
determinant free, as in the paper's Eqs. 20, 23 and 24, so that the GAN has to find it).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from . import _checks
from ._checks import as_params

__all__ = ["SearchSpace", "Affine", "Slope1D", "RotationScale2D", "O2", "Iwasawa2D",
           "SO2xSO2", "SO", "rotation_2d"]

TWO_PI = 2.0 * math.pi


def rotation_2d(theta):
    """The paper's rotation ``[[cos θ, sin θ], [−sin θ, cos θ]]`` (Eqs. 23, 24, 30):
    ``[...] -> [..., 2, 2]``; a tensor for a tensor, otherwise a float64 numpy array."""
    if not isinstance(theta, torch.Tensor):
        t = np.asarray(theta, dtype=float)
        c, s = np.cos(t), np.sin(t)
        return np.stack([np.stack([c, s], -1), np.stack([-s, c], -1)], -2)
    c, s = torch.cos(theta), torch.sin(theta)
    return torch.stack([torch.stack([c, s], -1), torch.stack([-s, c], -1)], -2)


class SearchSpace:
    """Base class. Subclasses set ``dim``, ``param_names``, ``default_ranges`` and ``_matrix``."""

    dim: int = 1
    param_names: tuple[str, ...] = ()
    default_ranges: dict[str, tuple[float, float]] = {}
    #: True when every map of the space is a rotation (SO(n), SO(2) × SO(2)): no dilations,
    #: shears or translations, the directions that need a final polish in ``sl.discover``.
    compact: bool = False
    #: indices of parameters that *are* the translation V (so V = params[:, shift_params]);
    #: empty when V is fixed or zero. The trainer re-centres these (see symlab.gan).
    shift_params: tuple[int, ...] = ()

    def __init__(self, ranges: dict | None = None):
        self.init_ranges = dict(self.default_ranges)
        if ranges is not None and not isinstance(ranges, dict):
            raise _checks.ArgumentTypeError(f"ranges must be a dict {{name: (low, high)}} or None; "
                                            f"got {type(ranges).__name__}")
        if ranges:
            unknown = set(ranges) - set(self.param_names)
            if unknown:
                raise ValueError(f"unknown parameter(s) {sorted(unknown)}; this space has {self.param_names}")
            for k, v in ranges.items():
                pair = _checks.as_array(v, f"ranges[{k!r}]", finite=False)
                if pair.shape != (2,):
                    raise ValueError(f"ranges[{k!r}] must be a pair (low, high); got {v!r}")
                lo = _checks.real(pair[0], f"ranges[{k!r}][0]")
                hi = _checks.real(pair[1], f"ranges[{k!r}][1]")
                if lo > hi:
                    raise ValueError(f"ranges[{k!r}] = ({lo}, {hi}) has low > high; swap them")
                self.init_ranges[k] = (lo, hi)

    @property
    def n_params(self) -> int:
        return len(self.param_names)

    # -- to be provided by subclasses ------------------------------------------------
    def _matrix(self, p: torch.Tensor) -> torch.Tensor:  # p: [K, P] -> [K, n, n]
        raise NotImplementedError

    def _shift(self, p: torch.Tensor) -> torch.Tensor:  # p: [K, P] -> [K, n]
        return p.new_zeros(p.shape[0], self.dim)

    # -- public API --------------------------------------------------------------------
    def _prep(self, params) -> torch.Tensor:
        """``params`` as a float tensor ``[K, P]`` (a single ``[P]`` row becomes ``K = 1``).

        ``[K, P]`` float32/float64 tensors keep their dtype and device; everything else (lists,
        numpy arrays, ``[P]`` rows, integer, float16 or bfloat16 tensors) becomes float64.
        NaN/inf are refused, for tensors with ``requires_grad`` too (the trainer calls
        ``_matrix``/``_shift`` directly, so that a diverged run is reported as failed).
        """
        if isinstance(params, torch.Tensor) and params.requires_grad:
            if params.ndim != 2 or params.shape[1] != self.n_params:
                raise ValueError(f"params must have shape [K, {self.n_params}] (one row of "
                                 f"{self.param_names} per run); got {tuple(params.shape)}")
            if params.dtype not in (torch.float32, torch.float64):
                params = params.to(torch.float64)
            if not bool(torch.isfinite(params.detach()).all()):
                raise ValueError("params contains NaN or inf; pass finite parameters.")
            return params
        keep = (isinstance(params, torch.Tensor) and params.ndim == 2
                and params.dtype in (torch.float32, torch.float64))
        return as_params(params, self.n_params, dtype=None if keep else torch.float64)

    def matrix(self, params) -> torch.Tensor:
        """Linear part ``M``: ``[K, P] -> [K, n, n]``."""
        return self._matrix(self._prep(params))

    def shift(self, params) -> torch.Tensor:
        """Translation ``V``: ``[K, P] -> [K, n]`` (zeros for linear spaces)."""
        return self._shift(self._prep(params))

    def apply(self, params, x) -> torch.Tensor:
        """``g(x) = M x + V`` for every run: ``x [N, n]`` or ``[K, N, n]`` → ``[K, N, n]``.

        A 1D ``x`` is ``N`` points in one dimension for a 1D space and one point ``[n]``
        (→ ``[K, 1, n]``) otherwise. ``x`` may be a list, array or tensor (gradients flow
        through float tensors); NaN/inf points are refused unless ``x`` requires grad.
        """
        p = self._prep(params)
        if not (isinstance(x, torch.Tensor) and x.dtype in (torch.float32, torch.float64)):
            from ._checks import as_array
            x = torch.from_numpy(as_array(x, "x").copy())
        elif not x.requires_grad and not bool(torch.isfinite(x).all()):
            raise ValueError("x contains NaN or inf; drop or fix those points first")
        if x.ndim == 0:
            raise ValueError(f"x must have shape [N, {self.dim}] or [K, N, {self.dim}]; got a "
                             "single number")
        if x.ndim == 1:
            x = x[:, None] if self.dim == 1 else x[None, :]
        if x.ndim > 3 or x.shape[-1] != self.dim:
            raise ValueError(f"x must have shape [N, {self.dim}] or [K, N, {self.dim}] (points of "
                             f"dimension {self.dim}, the space's); got {tuple(x.shape)}")
        if x.ndim == 3 and x.shape[0] not in (1, p.shape[0]):
            raise ValueError(f"x of shape [K, N, n] must have K = {p.shape[0]} (one set of points "
                             f"per parameter row) or 1; got {tuple(x.shape)}")
        M, V = self._matrix(p), self._shift(p)
        x = x.to(device=M.device, dtype=M.dtype)
        return torch.matmul(x, M.transpose(-1, -2)) + V[:, None, :]

    def sample_init(self, K: int, seed=None) -> torch.Tensor:
        """Initial parameters ``[K, P]`` drawn uniformly from ``init_ranges`` (float32)."""
        K = _checks.count(K, "K", minimum=0)
        g = _checks.generator(seed)
        lo = torch.tensor([self.init_ranges[n][0] for n in self.param_names])
        hi = torch.tensor([self.init_ranges[n][1] for n in self.param_names])
        return lo + (hi - lo) * torch.rand(K, self.n_params, generator=g)

    def sample_uniform(self, K: int, seed=None) -> torch.Tensor:
        """Initial parameters ``[K, P]`` whose maps are spread without preferring a basis:
        uniform on the group (Haar) where it is compact (``SO(n)``), rotation-invariant where
        the paper's box prefers its diagonals (``RotationScale2D``, ``O2``), and
        ``sample_init`` elsewhere. ``sl.discover`` starts from these."""
        return self.sample_init(K, seed)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim}, params={self.param_names})"


# --------------------------------------------------------------------------- 1D spaces
class Affine(SearchSpace):
    """Affine maps ``g(x) = M x + V`` in ``n`` dimensions.

    * ``n = 1``: the paper's Eq. (20), ``g(x) = b + c x`` with parameters ``(b, c)``; the slope
      is free (the symmetry search has to find ``|c| = 1``). Initialisation U(−5, 5)² (Fig. 3).
    * ``n ≥ 2``: the area-preserving group ASL±n(R) of §III, ``det M = ±1``: the free matrix
      ``A`` (parameters ``a11 … ann``) is normalised, ``M = A / |det A|^{1/n}``, and the shift
      ``V = (v1 … vn)``; ``n(n+1)`` parameters for the ``n(n+1) − 1`` dimensional group.
      Initialisation: ``A = 1 + U(−0.5, 0.5)`` entrywise, ``V`` in U(−1, 1).
    """


    def __init__(self, n: int = 1, ranges: dict | None = None):
        n = _checks.count(n, "n (the dimension of Affine(n))")
        self.dim = n
        if self.dim == 1:
            self.param_names = ("b", "c")
            self.default_ranges = {"b": (-5.0, 5.0), "c": (-5.0, 5.0)}
            self.shift_params = (0,)
        else:
            mats = tuple(f"a{i + 1}{j + 1}" for i in range(n) for j in range(n))
            vecs = tuple(f"v{i + 1}" for i in range(n))
            self.param_names = mats + vecs
            self.default_ranges = {m: (-0.5, 0.5) for m in mats} | {v: (-1.0, 1.0) for v in vecs}
            self.shift_params = tuple(range(n * n, n * n + n))
        super().__init__(ranges)

    def sample_init(self, K: int, seed=None) -> torch.Tensor:
        p = super().sample_init(K, seed)
        if self.dim > 1:  # entries drawn around the identity
            n = self.dim
            p[:, : n * n] += torch.eye(n).reshape(-1)
        return p

    def _matrix(self, p):
        n = self.dim
        if n == 1:
            return p[:, 1].reshape(-1, 1, 1)
        A = p[:, : n * n].reshape(-1, n, n)
        det = torch.linalg.det(A)
        return A / det.abs().pow(1.0 / n)[:, None, None]

    def _shift(self, p):
        return p[:, :1] if self.dim == 1 else p[:, self.dim * self.dim:]


class Slope1D(SearchSpace):
    """The restricted family ``g(x) = b + c x`` with fixed intercept ``b`` (Fig. 4; default b = 1)."""

    dim = 1
    param_names = ("c",)
    default_ranges = {"c": (-5.0, 5.0)}

    def __init__(self, b: float = 1.0, ranges: dict | None = None):
        self.b = _checks.real(b, "b")
        super().__init__(ranges)

    def _matrix(self, p):
        return p[:, 0].reshape(-1, 1, 1)

    def _shift(self, p):
        return torch.full_like(p[:, :1], self.b)


# --------------------------------------------------------------------------- 2D spaces
def _disk_init(space, K: int, seed) -> torch.Tensor:
    """``[K, P]`` with ``(c, s)`` uniform on the disk of area 4 (the paper's square
    U(−1, 1)² has that area, but prefers its diagonals: a start's angle should not depend on
    the basis the data are written in); other parameters from ``init_ranges``."""
    p = SearchSpace.sample_init(space, K, seed)
    g = _checks.generator(None if seed is None else int(seed) + 7919)
    u = torch.rand(p.shape[0], 2, generator=g)
    r = (2.0 / math.sqrt(math.pi)) * u[:, 0].sqrt()
    a = TWO_PI * u[:, 1]
    p[:, 0], p[:, 1] = r * torch.cos(a), r * torch.sin(a)
    return p


class RotationScale2D(SearchSpace):
    """``g(x) = [[c, s], [−s, c]] x`` (Eq. 23): rotations times dilatations, SO(2) × R⁺.

    Symmetries of N_{1,1} lie on the unit circle c² + s² = 1. Initialisation U(−1, 1)² (the
    paper's); ``sample_uniform`` draws uniformly on the disk of the same area instead,
    which does not prefer the square's diagonals.
    """

    dim = 2
    param_names = ("c", "s")
    default_ranges = {"c": (-1.0, 1.0), "s": (-1.0, 1.0)}

    def sample_uniform(self, K: int, seed=None) -> torch.Tensor:
        return _disk_init(self, K, seed)

    def _matrix(self, p):
        c, s = p[:, 0], p[:, 1]
        return torch.stack([torch.stack([c, s], -1), torch.stack([-s, c], -1)], -2)


class O2(SearchSpace):
    """Rotations and reflections with free scale (Eq. 28).

    Parameters ``(c, s, sigma)``: ``sigma > 0`` gives the rotation-like ``[[c, s], [−s, c]]``,
    ``sigma < 0`` the reflection-like ``[[c, s], [s, −c]]`` (det = −(c² + s²)). ``sigma`` is
    a discrete label: its gradient is zero, so each run stays in the component it starts in.
    ``kind`` chooses the initial components: ``"both"`` (half the runs each, alternating),
    ``"rotation"`` or ``"reflection"``. Initialisation of (c, s): U(−1, 1)²
    (``sample_uniform``: the disk of the same area, as in :class:`RotationScale2D`).
    """

    dim = 2
    param_names = ("c", "s", "sigma")
    default_ranges = {"c": (-1.0, 1.0), "s": (-1.0, 1.0), "sigma": (1.0, 1.0)}

    def __init__(self, kind: str = "both", ranges: dict | None = None):
        _checks.choice(kind, "kind", ("both", "rotation", "reflection"))
        self.kind = kind
        super().__init__(ranges)

    def sample_init(self, K: int, seed=None) -> torch.Tensor:
        return self._components(super().sample_init(K, seed))

    def sample_uniform(self, K: int, seed=None) -> torch.Tensor:
        return self._components(_disk_init(self, K, seed))

    def _components(self, p: torch.Tensor) -> torch.Tensor:
        K = p.shape[0]
        if self.kind == "both":
            p[:, 2] = torch.where(torch.arange(K) % 2 == 0, 1.0, -1.0)
        else:
            p[:, 2] = 1.0 if self.kind == "rotation" else -1.0
        return p

    def _matrix(self, p):
        c, s = p[:, 0], p[:, 1]
        refl = (p[:, 2] < 0).to(p.dtype)  # 0 or 1, no gradient
        sign = 1.0 - 2.0 * refl
        return torch.stack([torch.stack([c, s], -1), torch.stack([-sign * s, sign * c], -1)], -2)


class Iwasawa2D(SearchSpace):
    """The six-parameter Iwasawa form of Aff₂(R) (Eq. 24).

    ``g(x) = √|d| · diag(1, −1)^δ · R(θ) · diag(r, 1/r) · [[1, u], [0, 1]] · x + (a, b)`` with
    ``δ = (1 − sgn d)/2``, so ``det M = d``. Initialisation as in the original study:
    θ ~ U(0, 2π), r ~ U(0.1, 5), u ~ U(−3, 3); and d ~ U(−2, 2), (a, b) ~ U(−1, 1)².
    :meth:`params_from_matrix` inverts the map (the Iwasawa / QR decomposition).
    """

    dim = 2
    param_names = ("d", "theta", "r", "u", "a", "b")
    default_ranges = {"d": (-2.0, 2.0), "theta": (0.0, TWO_PI), "r": (0.1, 5.0),
                      "u": (-3.0, 3.0), "a": (-1.0, 1.0), "b": (-1.0, 1.0)}
    shift_params = (4, 5)

    def _matrix(self, p):
        d, theta, r, u = p[:, 0], p[:, 1], p[:, 2], p[:, 3]
        one, zero = torch.ones_like(d), torch.zeros_like(d)
        flip = torch.where(d < 0, -one, one)
        S = torch.diag_embed(torch.stack([one, flip], -1))
        A = torch.diag_embed(torch.stack([r, 1.0 / r], -1))
        N = torch.stack([torch.stack([one, u], -1), torch.stack([zero, one], -1)], -2)
        return torch.sqrt(d.abs())[:, None, None] * (S @ rotation_2d(theta) @ A @ N)

    def _shift(self, p):
        return p[:, 4:6]

    @staticmethod
    def params_from_matrix(matrix, shift=None) -> torch.Tensor:
        """Iwasawa decomposition of invertible ``[K, 2, 2]`` matrices (and ``[K, 2]`` shifts).

        Returns ``[K, 6]`` float64 parameters ``(d, θ, r, u, a, b)`` with θ in [0, 2π),
        r > 0, such that ``matrix`` reproduces the input.
        """
        from ._checks import as_array

        M = torch.from_numpy(as_array(matrix, "matrix").copy())
        if M.ndim == 2:
            M = M[None]
        if M.ndim != 3 or M.shape[-2:] != (2, 2) or M.shape[0] == 0:
            raise ValueError(f"matrix must be one 2x2 matrix [2, 2] or a stack [K, 2, 2] with K >= 1 "
                             f"(Iwasawa2D acts on the plane); got shape {tuple(M.shape)}")
        if shift is not None:
            V = torch.from_numpy(as_array(shift, "shift").copy())
            if V.ndim == 1:
                V = V[None]
            if V.ndim != 2 or V.shape[-1] != 2 or V.shape[0] not in (1, M.shape[0]):
                raise ValueError(f"shift must have shape [2] or [K={M.shape[0]}, 2] to match the "
                                 f"matrix; got {tuple(V.shape)}")
            shift = V.expand(M.shape[0], 2)
        d = torch.linalg.det(M)
        if (d.abs() < 1e-300).any():
            raise ValueError("a singular matrix has no Iwasawa decomposition (det = 0)")
        flip = torch.where(d < 0, -1.0, 1.0).to(M.dtype)
        S = torch.diag_embed(torch.stack([torch.ones_like(flip), flip], -1))
        B = S @ M / torch.sqrt(d.abs())[:, None, None]  # det B = +1
        # B = R(θ) · U with U upper triangular, positive diagonal: QR with sign fix.
        Q, U = torch.linalg.qr(B)
        signs = torch.sign(torch.diagonal(U, dim1=-2, dim2=-1))
        Q = Q * signs[:, None, :]
        U = U * signs[:, :, None]
        theta = torch.remainder(torch.atan2(Q[:, 0, 1], Q[:, 0, 0]), TWO_PI)
        r = U[:, 0, 0]
        u = U[:, 0, 1] / r
        V = torch.zeros(M.shape[0], 2, dtype=M.dtype) if shift is None else shift
        return torch.stack([d, theta, r, u, V[:, 0], V[:, 1]], -1)


class SO2xSO2(SearchSpace):
    """Two independent rotations of two planes, ``diag(R(θ₁), R(θ₂))`` (Eq. 30), for the dijets.

    Initialisation θ₁, θ₂ ~ U(0, 2π). Symmetries of the dijet data: θ₁ = θ₂.
    """

    compact = True

    dim = 4
    param_names = ("theta1", "theta2")
    default_ranges = {"theta1": (0.0, TWO_PI), "theta2": (0.0, TWO_PI)}

    def _matrix(self, p):
        M = p.new_zeros(p.shape[0], 4, 4)
        M[:, :2, :2] = rotation_2d(p[:, 0])
        M[:, 2:, 2:] = rotation_2d(p[:, 1])
        return M


class SO(SearchSpace):
    """SO(n) as a product of Givens rotations, ``g = R₁ R₂ ⋯ R_m x`` with m = n(n−1)/2 (Eq. 37).

    ``R_k`` rotates the coordinate pair ``(i, j)`` (in the order (0,1), (0,2), …, (n−2, n−1)) as
    in Eqs. (35)–(36): ``x_i ↦ x_i cos θ + x_j sin θ``, ``x_j ↦ x_j cos θ − x_i sin θ``.
    Initialisation θ_k ~ U(0, 2π), the original study's. These are not uniform on SO(n) for
    n ≥ 3; :meth:`sample_uniform` draws from the Haar measure instead (the Q factor of a
    Gaussian matrix, decomposed into angles by :meth:`params_from_matrix`).
    """

    compact = True

    def __init__(self, n: int = 4, ranges: dict | None = None):
        n = _checks.count(n, "n", minimum=2)
        self.dim = n
        self.pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
        self.param_names = tuple(f"theta{k + 1}" for k in range(len(self.pairs)))
        self.default_ranges = {name: (0.0, TWO_PI) for name in self.param_names}
        super().__init__(ranges)

    def sample_uniform(self, K: int, seed=None) -> torch.Tensor:
        """``[K, m]`` angles of rotations drawn from the Haar measure of SO(n)."""
        g = _checks.generator(seed)
        A = torch.randn(_checks.count(K, "K", minimum=0), self.dim, self.dim, generator=g,
                        dtype=torch.float64)
        Q, R = torch.linalg.qr(A)
        Q = Q * torch.sign(torch.diagonal(R, dim1=-2, dim2=-1))[:, None, :]
        flip = torch.linalg.det(Q) < 0
        Q[flip, :, 0] = -Q[flip, :, 0]  # into SO(n), still Haar
        return self.params_from_matrix(Q).float()

    def _givens_basis(self, dtype, device):
        """Constant parts of the m Givens factors ``R_k = E_k + cos θ_k C_k + sin θ_k S_k``
        (``C_k = e_ii + e_jj``): ``E [m, n, n]`` (the identity off the pair) and ``S``
        (``e_ij − e_ji``, the generators), cached per dtype and device."""
        key = (dtype, str(device))
        cache = self.__dict__.setdefault("_givens_cache", {})
        if key not in cache:
            cache[key] = self._givens_constants(dtype, device)
        return cache[key]

    def _givens_constants(self, dtype, device):
        n, m = self.dim, len(self.pairs)
        E, S = torch.eye(n).repeat(m, 1, 1), torch.zeros(m, n, n)
        for k, (i, j) in enumerate(self.pairs):
            E[k, i, i] = E[k, j, j] = 0.0
            S[k, i, j], S[k, j, i] = 1.0, -1.0
        return tuple(t.to(dtype=dtype, device=device) for t in (E, S))

    def _givens_factors(self, p):
        """``[K, m, n, n]`` the Givens factors ``R_k = E_k + cos θ_k C_k + sin θ_k S_k`` of
        angles ``p [K, m]``, written by placing ``(cos, cos, sin, −sin)`` at the four entries
        of each pair into ``E`` (the same numbers as the sum, in a few operations)."""
        key = ("slots", p.dtype, str(p.device))
        cache = self.__dict__.setdefault("_givens_cache", {})
        if key not in cache:
            n = self.dim
            E = self._givens_basis(p.dtype, p.device)[0]
            slots = torch.tensor([[i * n + i, j * n + j, i * n + j, j * n + i]
                                  for i, j in self.pairs], device=p.device)  # [m, 4]
            cache[key] = (E.reshape(len(self.pairs), n * n), slots)
        base, slots = cache[key]
        K, m, n = p.shape[0], len(self.pairs), self.dim
        c, s = torch.cos(p), torch.sin(p)
        values = torch.stack([c, c, s, -s], -1)  # [K, m, 4]
        R = base.expand(K, m, n * n).scatter(2, slots.expand(K, m, 4), values)
        return R.view(K, m, n, n)

    def algebra_basis(self, dtype=torch.float64, device=None) -> torch.Tensor:
        """``[m, n, n]``: the generators ``E_ij − E_ji`` of so(n), in the order of the pairs;
        ``exp(θ (E_ij − E_ji))`` is the Givens factor of Eq. (36) with angle θ."""
        return self._givens_basis(dtype, device)[1]

    def _matrix(self, p):
        # All m Givens factors at once ([K, m, n, n]), then their ordered product
        # R₁ R₂ ⋯ R_m by pairwise products (⌈log₂ m⌉ batched matmuls): a few large operations
        # instead of m small ones, forward and backward (a training step on SO(n) would
        # otherwise spend most of its time here).
        R = self._givens_factors(p)
        while R.shape[1] > 1:
            if R.shape[1] % 2:  # an odd factor out waits for the next level
                R = torch.cat([R[:, :-1:2] @ R[:, 1::2], R[:, -1:]], 1)
            else:
                R = R[:, 0::2] @ R[:, 1::2]
        return R[:, 0]

    def params_from_matrix(self, matrix) -> torch.Tensor:
        """Givens angles ``[K, m]`` (float64) of rotations ``[K, n, n]`` (det +1).

        The first column of ``R_{01} R_{02} ⋯ R_{0,n−1}`` is ``(Π c_k, …, −s_j Π_{k>j} c_k, …)``,
        spherical coordinates of the matrix's first column; the rest acts on the remaining
        coordinates and is decomposed the same way, one coordinate at a time.
        """
        M = torch.from_numpy(_checks.as_array(matrix, "matrix").copy())
        if M.ndim == 2:
            M = M[None]
        n = self.dim
        if M.ndim != 3 or M.shape[1:] != (n, n) or M.shape[0] == 0:
            raise ValueError(f"matrix must be one rotation [{n}, {n}] or a stack [K, {n}, {n}] "
                             f"with K >= 1; got shape {tuple(M.shape)}")
        eye_n = torch.eye(n, dtype=torch.float64)
        err = (M.transpose(-1, -2) @ M - eye_n).abs().amax((-1, -2))
        det = torch.linalg.det(M)
        bad = torch.nonzero((err > 1e-6) | (det < 0)).flatten().tolist()
        if bad:
            raise ValueError(f"matrix: element(s) {bad[:10]} are not rotations (MᵀM = 1 and "
                             f"det M = +1, to 1e-6); SO({n}) angles exist only for those. Project "
                             "first (symlab.infer.nearest_orthogonal), or flip a reflection.")
        K = M.shape[0]
        angles = torch.zeros(K, len(self.pairs), dtype=torch.float64)
        rest = M.clone()
        eye = torch.eye(n, dtype=torch.float64)
        k = 0
        for i in range(n - 1):
            v = rest[:, :, i]  # column i; entries above i are 0 by now
            rho = v[:, i]
            block = eye.repeat(K, 1, 1)
            start = k
            for j in range(i + 1, n):
                angles[:, k] = torch.atan2(-v[:, j], rho)
                rho = torch.sqrt(rho**2 + v[:, j] ** 2)
                k += 1
            # A = R_(i,i+1) ⋯ R_(i,n−1); rest ← Aᵀ rest
            for kk, j in zip(range(start, k), range(i + 1, n)):
                c, s = torch.cos(angles[:, kk]), torch.sin(angles[:, kk])
                R = eye.repeat(K, 1, 1)
                R[:, i, i] = c
                R[:, j, j] = c
                R[:, i, j] = s
                R[:, j, i] = -s
                block = block @ R
            rest = block.transpose(1, 2) @ rest
        return torch.remainder(angles, TWO_PI)

from .flows import VolumePreservingFlow  # noqa: E402,F401  (nonlinear: see symlab.flows)
