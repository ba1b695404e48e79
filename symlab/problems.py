"""The discovery suite: problems whose symmetry group in a search space is known exactly.

Each :class:`Problem` holds its data (a density, or a finite sample split into a training
and a held-out part), its search space, and an exact criterion: ``error(M, V) -> [m]``, the
distance of each map ``x ↦ M x + V`` to the nearest element of the true symmetry group
(Frobenius norm of the linear parts plus the length of the shift difference, in the data's
standardised units), with the tolerance ``tol`` that counts as "at a symmetry".

``PROBLEMS`` lists every problem of the paper and our own: Gaussians in 3–6 dimensions whose
covariance leaves a known subgroup, regular polygons D_q for q = 3…8, a product of two
independent symmetric blocks, non-Gaussian data with a diagonal O(3), an off-centre ring,
a 4-D cross-polytope with only discrete symmetries, and two problems whose only symmetry in
the space is the identity. ``python -m symlab.bench discovery`` runs them all
(:mod:`symlab.bench`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.linalg import polar

from . import _checks, paper, spaces
from .densities import Gaussian, GaussianMixture

__all__ = ["Problem", "PROBLEMS", "problem"]


@dataclass
class Problem:
    """One problem of the suite.

    Attributes:
        name: short identifier.
        kind: ``"paper"``, ``"own"`` or ``"identity"`` (its only symmetry is the identity).
        make_space: builds the search space.
        make_data: ``seed -> (train, held_out)``: densities, or arrays ``[N, n]``.
        error: ``(M [m, n, n], V [m, n]) -> [m]`` distance to the true group.
        tol: the distance below which a map counts as a symmetry.
        runs: runs of the suite's ``sl.discover`` call.
        group: a sentence naming the true group.
    """

    name: str
    kind: str
    make_space: Callable
    make_data: Callable
    error: Callable
    tol: float
    runs: int = 32
    group: str = ""
    extra: dict = field(default_factory=dict)


# ----------------------------------------------------------------------------- criteria
def _nearest(M, V, elements, shifts=None):
    """Distance of each ``(M, V)`` to the nearest of finitely many ``elements [g, n, n]``."""
    M, V = np.asarray(M, float), np.asarray(V, float)
    E = np.asarray(elements, float)
    S = np.zeros(E.shape[:2]) if shifts is None else np.asarray(shifts, float)
    d = (np.linalg.norm(M[:, None] - E[None], axis=(-1, -2))
         + np.linalg.norm(V[:, None] - S[None], axis=-1))
    return d.min(1)


def _covariance_error(cov, centre=None):
    """Symmetries of a Gaussian ``N(c, Σ)`` among affine maps: ``M Σ Mᵀ = Σ``, ``M c + V = c``;
    the distance is measured in whitened units, ``‖Σ^{-1/2} M Σ^{1/2} − nearest O(n)‖``."""
    cov = np.atleast_2d(np.asarray(cov, float))
    w, U = np.linalg.eigh(cov)
    half, ihalf = U @ np.diag(np.sqrt(w)) @ U.T, U @ np.diag(1 / np.sqrt(w)) @ U.T
    scale = math.sqrt(np.trace(cov) / len(cov))
    c = np.zeros(len(cov)) if centre is None else np.asarray(centre, float)

    def error(M, V):
        out = []
        for m, v in zip(np.asarray(M, float), np.asarray(V, float)):
            W = ihalf @ m @ half
            Q, _ = polar(W)
            out.append(np.linalg.norm(W - Q) + np.linalg.norm(m @ c + v - c) / scale)
        return np.array(out)
    return error


def _ring_error(centre, scale):
    """Symmetries of a ring about ``centre``: orthogonal ``M`` with ``M c + V = c``."""
    c = np.asarray(centre, float)

    def error(M, V):
        out = []
        for m, v in zip(np.asarray(M, float), np.asarray(V, float)):
            Q, _ = polar(m)
            out.append(np.linalg.norm(m - Q) + np.linalg.norm(m @ c + v - c) / scale)
        return np.array(out)
    return error


def _diagonal_error(k: int, cov=None):
    """Distance of ``M [2k, 2k]`` to the nearest ``Q ⊕ Q`` with ``Q`` orthogonal; with the
    data's covariance ``cov``, measured in whitened units, ``‖C^{-1/2} (M − T) C^{1/2}‖``
    (a small error that moves a wide direction into a narrow one counts in proportion)."""
    if cov is not None:
        w, U = np.linalg.eigh(np.asarray(cov, float))
        half = U @ np.diag(np.sqrt(w)) @ U.T
        ihalf = U @ np.diag(1 / np.sqrt(w)) @ U.T

    def error(M, V):
        out = []
        for m in np.asarray(M, float):
            Q, _ = polar((m[:k, :k] + m[k:, k:]) / 2)
            T = np.zeros_like(m)
            T[:k, :k] = T[k:, k:] = Q
            D = m - T if cov is None else ihalf @ (m - T) @ half
            out.append(np.linalg.norm(D))
        return np.array(out)
    return error


def _block_error(sizes):
    """Distance of orthogonal ``M`` to the block-diagonal ``O(a) × O(b) × …``."""
    edges = np.cumsum([0, *sizes])

    def error(M, V):
        out = []
        for m in np.asarray(M, float):
            T = np.zeros_like(m)
            for a, b in zip(edges[:-1], edges[1:]):
                T[a:b, a:b] = polar(m[a:b, a:b])[0]
            out.append(np.linalg.norm(m - T))
        return np.array(out)
    return error


def _dihedral(q: int, phase: float = 0.0) -> np.ndarray:
    """The ``2q`` elements ``[2q, 2, 2]`` of D_q for a polygon with a vertex at ``phase``."""
    out = []
    for k in range(q):
        a = 2 * math.pi * k / q
        c, s = math.cos(a), math.sin(a)
        out.append([[c, s], [-s, c]])
        b = 2 * phase + a  # reflection across the axis at angle phase + a/2
        out.append([[math.cos(b), math.sin(b)], [math.sin(b), -math.cos(b)]])
    return np.array(out)


def _signed_permutations(n: int, det: int | None = 1) -> np.ndarray:
    out = []
    for perm in itertools.permutations(range(n)):
        for signs in itertools.product((1, -1), repeat=n):
            m = np.zeros((n, n))
            m[np.arange(n), perm] = signs
            if det is None or round(np.linalg.det(m)) == det:
                out.append(m)
    return np.array(out)


def _rotations_2d(theta):
    c, s = np.cos(theta), np.sin(theta)
    return np.stack([np.stack([c, s], -1), np.stack([-s, c], -1)], -2)


# ----------------------------------------------------------------------------- data
def _same(density):
    return lambda seed: (density, density)


def _split(make: Callable, n_train: int, n_test: int):
    def data(seed):
        x = make(n_train + n_test, seed)
        return x[:n_train], x[n_train:]
    return data


def ring_sample(n: int, seed: int, centre=(2.0, -1.0), radius: float = 1.5,
                noise: float = 0.1) -> np.ndarray:
    """``[n, 2]`` points of a noisy ring of the given centre and radius."""
    n, seed = _checks.count(n, "n", minimum=0), _checks.seed(seed)
    rng = np.random.default_rng(seed)
    phi = rng.uniform(0, 2 * math.pi, n)
    r = radius + noise * rng.standard_normal(n)
    return np.stack([centre[0] + r * np.cos(phi), centre[1] + r * np.sin(phi)], 1)


def two_vectors_sample(n: int, seed: int) -> np.ndarray:
    """``[n, 6]``: two 3-vectors ``a = r₁ u``, ``b = r₂ (cos φ u + sin φ w)`` with ``u`` uniform
    on the sphere and ``w ⊥ u`` uniform: invariant exactly under ``(a, b) ↦ (Q a, Q b)`` for
    ``Q ∈ O(3)``, and under nothing else in SO(6) (the radii and the angle φ have different,
    skewed laws)."""
    n, seed = _checks.count(n, "n", minimum=0), _checks.seed(seed)
    rng = np.random.default_rng(seed)
    u = rng.standard_normal((n, 3))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    v = rng.standard_normal((n, 3))
    v -= (v * u).sum(1, keepdims=True) * u
    w = v / np.linalg.norm(v, axis=1, keepdims=True)
    r1 = rng.gamma(4.0, 0.25, (n, 1)) + 0.2
    r2 = rng.gamma(2.0, 0.8, (n, 1))
    phi = rng.beta(2.0, 5.0, (n, 1)) * math.pi
    return np.hstack([r1 * u, r2 * (np.cos(phi) * u + np.sin(phi) * w)])


def two_rings_sample(n: int, seed: int) -> np.ndarray:
    """``[n, 4]``: two independent rings in the planes (x₁, x₂) and (x₃, x₄), radii 1 and 2
    (noise 0.1 and 0.3): symmetric under O(2) × O(2), block by block."""
    n, seed = _checks.count(n, "n", minimum=0), _checks.seed(seed)
    rng = np.random.default_rng(seed)
    out = []
    for radius, noise in ((1.0, 0.1), (2.0, 0.3)):
        phi = rng.uniform(0, 2 * math.pi, n)
        r = radius + noise * rng.standard_normal(n)
        out += [r * np.cos(phi), r * np.sin(phi)]
    return np.stack(out, 1)


def polygon(q: int, sigma: float = 0.1) -> GaussianMixture:
    """A regular q-gon of unit radius, one Gaussian of width ``sigma`` at each vertex."""
    q, sigma = _checks.count(q, "q"), _checks.rate(sigma, "sigma")
    a = 2 * math.pi * np.arange(q) / q
    return GaussianMixture(np.stack([np.cos(a), np.sin(a)], 1), sigma**2)


def cross_polytope(n: int = 4, sigma: float = 0.3) -> GaussianMixture:
    """Gaussians at the ``2n`` vertices ``±e_i`` of the cross-polytope: the signed
    permutations (the hyperoctahedral group) are its only linear symmetries."""
    n, sigma = _checks.count(n, "n"), _checks.rate(sigma, "sigma")
    means = np.concatenate([np.eye(n), -np.eye(n)])
    return GaussianMixture(means, sigma**2)


def lopsided_2d() -> GaussianMixture:
    """Three unequal Gaussians at generic places: no affine symmetry but the identity."""
    return GaussianMixture([[0.0, 0.0], [1.5, 0.4], [0.3, 1.2]],
                           [[[0.3, 0.1], [0.1, 0.2]], [[0.2, -0.05], [-0.05, 0.4]],
                            [[0.15, 0.0], [0.0, 0.15]]], weights=[0.5, 0.3, 0.2])


def lopsided_3d() -> GaussianMixture:
    """Four unequal Gaussians in 3-D: no rotation but the identity preserves it."""
    return GaussianMixture([[0.0, 0.0, 0.0], [1.2, 0.3, -0.2], [-0.4, 1.0, 0.5],
                            [0.2, -0.6, 1.1]], [0.25, 0.1, 0.2, 0.15],
                           weights=[0.4, 0.3, 0.2, 0.1])


# ----------------------------------------------------------------------------- the suite
_dijet_cache: dict = {}


def _paper_problems() -> list:
    I2 = np.eye(2)
    n12_cov = np.diag([1.0, 2.0])

    def _dijet_events():
        from .data import load_dijets
        return np.asarray(load_dijets(), dtype=np.float64)

    def dijets(seed):
        x = _dijet_events()
        return x[:50_000], x[50_000:]

    def dijet_err(M, V):  # whitened: the small imbalance p1 + p2 is what tells maps apart
        if "err" not in _dijet_cache:
            _dijet_cache["err"] = _diagonal_error(2, np.cov(_dijet_events().T))
        return _dijet_cache["err"](M, V)

    def gauss_1d_err(M, V):  # x ↦ x and x ↦ 1 − x (mean 0.5)
        return _nearest(M, V, [[[1.0]], [[-1.0]]], [[0.0], [1.0]])

    return [
        Problem("gaussian_1d", "paper", lambda: spaces.Affine(1), _same(paper.gaussian_1d()),
                gauss_1d_err, 0.05, group="{x, 1 − x}"),
        Problem("n11_rotscale", "paper", spaces.RotationScale2D, _same(paper.n11()),
                _covariance_error(I2), 0.05, group="SO(2)"),
        Problem("n12_rotscale", "paper", spaces.RotationScale2D, _same(paper.n12()),
                lambda M, V: _nearest(M, V, [I2, -I2]), 0.05, group="{1, −1}"),
        Problem("n11_iwasawa", "paper", spaces.Iwasawa2D, _same(paper.n11()),
                _covariance_error(I2), 0.07, group="O(2)"),
        Problem("n12_iwasawa", "paper", spaces.Iwasawa2D, _same(paper.n12()),
                _covariance_error(n12_cov), 0.07, group="Σ^½ O(2) Σ^-½"),
        Problem("n11_o2", "paper", spaces.O2, _same(paper.n11()), _covariance_error(I2), 0.05,
                group="O(2)"),
        Problem("bimodal", "paper", lambda: spaces.Affine(1), _same(paper.bimodal()),
                lambda M, V: _nearest(M, V, [[[1.0]], [[-1.0]]]), 0.05, group="{x, −x}"),
        Problem("octagon", "paper", spaces.O2, _same(paper.octagon()),
                lambda M, V: _nearest(M, V, _dihedral(8)), 0.05, runs=64, group="D8"),
        Problem("square", "paper", spaces.O2, _same(paper.square()),
                lambda M, V: _nearest(M, V, _dihedral(4, math.pi / 4)), 0.05, group="D4"),
        Problem("dijets_so2xso2", "paper", spaces.SO2xSO2, dijets, dijet_err, 0.1,
                group="joint rotations"),
        Problem("dijets_so4", "paper", lambda: spaces.SO(4), dijets, dijet_err, 0.1,
                group="joint rotations and mirrorings (≈ O(2))"),
    ]


def _own_problems() -> list:
    out = [
        Problem("gauss3d_so3", "own", lambda: spaces.SO(3),
                _same(Gaussian([0.0] * 3, [1.0, 1.0, 4.0])),
                _covariance_error(np.diag([1.0, 1.0, 4.0])), 0.07,
                group="O(2) about the long axis (det +1)"),
        Problem("gauss4d_so4", "own", lambda: spaces.SO(4),
                _same(Gaussian([0.0] * 4, [1.0, 1.0, 3.0, 3.0])),
                _covariance_error(np.diag([1.0, 1.0, 3.0, 3.0])), 0.1,
                group="S(O(2) × O(2))"),
        Problem("gauss5d_so5", "own", lambda: spaces.SO(5),
                _same(Gaussian([0.0] * 5, [1.0, 1.0, 1.0, 4.0, 4.0])),
                _covariance_error(np.diag([1.0, 1.0, 1.0, 4.0, 4.0])), 0.12,
                group="S(O(3) × O(2))"),
        Problem("gauss6d_so6", "own", lambda: spaces.SO(6),
                _same(Gaussian([0.0] * 6, [1.0, 1.0, 2.5, 2.5, 6.0, 6.0])),
                _covariance_error(np.diag([1.0, 1.0, 2.5, 2.5, 6.0, 6.0])), 0.15,
                group="S(O(2) × O(2) × O(2))"),
    ]
    for q in range(3, 9):
        out.append(Problem(f"polygon{q}", "own", spaces.O2, _same(polygon(q)),
                           lambda M, V, q=q: _nearest(M, V, _dihedral(q)), 0.05,
                           runs=48, group=f"D{q}"))
    out += [
        Problem("two_rings_so4", "own", lambda: spaces.SO(4),
                _split(two_rings_sample, 100_000, 100_000), _block_error([2, 2]), 0.1,
                group="O(2) × O(2) ∩ SO(4), block by block"),
        Problem("two_vectors_so6", "own", lambda: spaces.SO(6),
                _split(two_vectors_sample, 100_000, 100_000), _diagonal_error(3), 0.15,
                group="diagonal O(3): (a, b) ↦ (Q a, Q b)"),
        Problem("ring_affine2", "own", lambda: spaces.Affine(2),
                _split(ring_sample, 100_000, 100_000), _ring_error((2.0, -1.0), 1.5), 0.07,
                group="O(2) about the centre (2, −1)"),
        Problem("cross_polytope_so4", "own", lambda: spaces.SO(4), _same(cross_polytope(4)),
                lambda M, V: _nearest(M, V, _signed_permutations(4)), 0.1,
                group="signed permutations with det +1 (192 elements)"),
        Problem("lopsided_affine2", "identity", lambda: spaces.Affine(2), _same(lopsided_2d()),
                lambda M, V: _nearest(M, V, [np.eye(2)]), 0.07, group="{1}"),
        Problem("lopsided_so3", "identity", lambda: spaces.SO(3), _same(lopsided_3d()),
                lambda M, V: _nearest(M, V, [np.eye(3)]), 0.07, group="{1}"),
    ]
    return out


PROBLEMS = _paper_problems() + _own_problems()


def problem(name: str) -> Problem:
    """The suite's problem called ``name``."""
    for p in PROBLEMS:
        if p.name == name:
            return p
    raise ValueError(f"no problem {name!r}; the suite has {[p.name for p in PROBLEMS]}")
