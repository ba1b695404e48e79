"""Towards symmetry inference (§VII): composition, components, Lie algebra, one-parameter subgroups.

SymmetryGAN *discovers* points of the symmetry group, one per run. This module turns a cloud of
discovered affine elements ``g(x) = M x + V`` — ``matrices [K, n, n]`` and ``shifts [K, n]``,
e.g. ``fit.matrices`` and ``fit.shifts`` of a :class:`symlab.Discovery` — into statements
about the group they came from:

* **composition** (§VII.B): products, powers, inverses and relative elements
  ``g_i⁻¹ ∘ g_j`` of discovered elements; :func:`composition_error` measures how the error of a
  discovered element compounds along its powers ``g^k`` (the practical limit the paper notes
  after Eq. 42); :func:`nearest_power` finds the power that best approximates a target (Eq. 42).
* **connected components**: :func:`components` groups the elements into the components of the
  symmetry group they sample (2 for O(2), 16 for the octagon's D8, see its docstring).
* **Lie algebra**: :func:`lie_algebra` takes matrix logarithms of near-identity relative
  elements and reads the dimension and a basis of the algebra off their singular values.
* **one-parameter subgroups**: :func:`learn_generator` trains a generator ``L`` such that
  ``exp(tL)`` is a symmetry for every ``t`` — the continuous counterpart of the cyclic penalty
  of Eq. (18), which asks for ``g^q = 1`` of one element.

Affine elements are handled internally as ``(n+1) × (n+1)`` homogeneous matrices
``[[M, V], [0, 1]]``, so that composing maps is multiplying matrices; every public function
takes and returns the ``(M, V)`` pair as float64 numpy arrays. Group-theoretic conventions:
``compose`` multiplies left to right as maps compose, ``(g₁ ∘ g₂)(x) = g₁(g₂(x))``, so the
rightmost element acts first.

Example::

    fit = sl.SymmetryGAN(sl.spaces.O2()).fit(sl.paper.n11(), runs=32)
    infer.components(fit)          # 2 components: rotations (det +1), reflections (det −1)
    infer.lie_algebra(fit).basis   # [1, 2, 2] ≈ J = [[0, 1], [−1, 0]] / √2
    infer.learn_generator(sl.paper.n11(), antisymmetric=False).cosine(J)   # ≈ 1 for every run

Implementation note. :func:`learn_generator` runs SymmetryGAN's training step with one
difference: the generator's map is drawn anew for every event (``exp(tL)``, random ``t``)
rather than being one fixed affine map per run. A hook in :class:`symlab.SymmetryGAN` would let
the trainer do this itself (a search space whose ``matrix`` depends on per-event noise); until
then the loop lives here, reusing the trainer's data handling, the discriminator's fast passes
and its Adam.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from ._checks import as_points
from .discriminator import EnsembleMLP
from .gan import SymmetryGAN, _Adam, _use_progress
from .spaces import Affine

__all__ = [
    "inverse", "compose", "products", "power", "relative", "nearest_orthogonal",
    "composition_error", "CompositionError", "nearest_power", "logm", "cosine",
    "components", "Component", "Components", "lie_algebra", "LieAlgebra",
    "learn_generator", "GeneratorFit",
]


# ----------------------------------------------------------------------------- input handling
def _array(x, name: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a numeric array; got {type(x).__name__}") from err
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or inf; drop those elements first "
                         f"(for a Discovery, pass the fit itself: failed runs are skipped)")
    return a


def _square(x, name: str = "matrices") -> np.ndarray:
    a = _array(x, name)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2] or a.shape[-1] == 0:
        raise ValueError(f"{name} must be square matrices of shape [..., n, n]; got {a.shape}")
    return a


def _shift_array(shifts, M: np.ndarray, name: str = "shifts") -> np.ndarray:
    n = M.shape[-1]
    if shifts is None:
        return np.zeros(M.shape[:-1])
    V = _array(shifts, name)
    try:
        return np.broadcast_to(V, M.shape[:-1]).copy()
    except ValueError:
        raise ValueError(f"{name} must have shape {M.shape[:-1]} (one [{n}] translation per "
                         f"matrix) or [{n}] shared; got {V.shape}") from None


def _elements(matrices, shifts=None):
    """Read a set of elements: ``(M [K, n, n], V [K, n], index [K])``.

    Accepts a Discovery-like object (``.matrices``, ``.shifts``, ``.failed``; failed runs are
    left out and ``index`` maps back to the run numbers), or arrays ``[K, n, n]`` / ``[K, n]``.
    """
    if hasattr(matrices, "matrices") and not isinstance(matrices, (np.ndarray, torch.Tensor)):
        if shifts is not None:
            raise ValueError("pass either a Discovery (its shifts are used) or matrices and shifts")
        fit = matrices
        n_runs = len(fit.matrices)
        ok = ~np.asarray(getattr(fit, "failed", np.zeros(n_runs, dtype=bool)), dtype=bool)
        index = np.flatnonzero(ok)
        M = _square(np.asarray(fit.matrices, dtype=np.float64)[ok], "fit.matrices")
        shifts = getattr(fit, "shifts", None)
        V = _shift_array(None if shifts is None else np.asarray(shifts, dtype=np.float64)[ok], M,
                         "fit.shifts")
    else:
        M = _square(matrices)
        if M.ndim == 2:
            M = M[None]
        if M.ndim != 3:
            raise ValueError(f"matrices must have shape [K, n, n]; got {M.shape}")
        V = _shift_array(shifts, M)
        index = np.arange(len(M))
    if len(M) == 0:
        raise ValueError("no elements to analyse (empty input, or every run failed)")
    dets = np.linalg.det(M)
    if (np.abs(dets) < 1e-12).any():
        bad = np.flatnonzero(np.abs(dets) < 1e-12)[:10].tolist()
        raise ValueError(f"element(s) {bad} are singular (det M ≈ 0) and are no group elements; "
                         "drop them first")
    return M, V, index


def _hom(M: np.ndarray, V: np.ndarray) -> np.ndarray:
    """``[..., n, n]``, ``[..., n]`` → homogeneous ``[..., n+1, n+1]``."""
    n = M.shape[-1]
    H = np.zeros(M.shape[:-2] + (n + 1, n + 1))
    H[..., :n, :n] = M
    H[..., :n, n] = V
    H[..., n, n] = 1.0
    return H


def _split(H: np.ndarray):
    n = H.shape[-1] - 1
    return H[..., :n, :n].copy(), H[..., :n, n].copy()


# ----------------------------------------------------------------------------- composition (§VII.B)
def inverse(matrices, shifts=None):
    """Inverse elements: ``g⁻¹(x) = M⁻¹ x − M⁻¹ V``.

    Args:
        matrices: ``[..., n, n]``; shifts: ``[..., n]`` (default zero).

    Returns:
        ``(M⁻¹ [..., n, n], −M⁻¹V [..., n])``.
    """
    M = _square(matrices)
    V = _shift_array(shifts, M)
    Mi = np.linalg.inv(M)
    return Mi, -np.einsum("...ij,...j->...i", Mi, V)


def compose(matrices, shifts=None):
    """The composition ``g₁ ∘ g₂ ∘ ⋯ ∘ g_m`` of ``m`` elements (the rightmost acts first).

    Discovered symmetries are elements of one group, so their compositions are symmetries as
    well (§VII.B): a few runs give many more points of the group.

    Args:
        matrices: ``[..., m, n, n]`` — the elements to compose along axis ``-3``; leading axes
            are batch axes (compose several words at once).
        shifts: ``[..., m, n]`` translations (default zero: linear maps).

    Returns:
        ``(M [..., n, n], V [..., n])`` of the composed map ``x ↦ M x + V``.
    """
    M = _square(matrices)
    if M.ndim < 3:
        raise ValueError(f"compose needs a sequence of elements [..., m, n, n]; got {M.shape}")
    H = _hom(M, _shift_array(shifts, M))
    out = H[..., 0, :, :]
    for i in range(1, H.shape[-3]):
        out = out @ H[..., i, :, :]
    return _split(out)


def products(matrices, shifts=None, others=None, other_shifts=None):
    """All pairwise compositions ``g_i ∘ h_j``: ``K`` and ``L`` elements give ``K·L`` more.

    Args:
        matrices, shifts: ``[K, n, n]``, ``[K, n]`` — the elements ``g_i``.
        others, other_shifts: ``[L, n, n]``, ``[L, n]`` — the elements ``h_j`` (default: the
            same set, which gives the ``K²`` products ``g_i ∘ g_j``).

    Returns:
        ``(M [K, L, n, n], V [K, L, n])`` with entry ``[i, j]`` the map ``g_i ∘ h_j``.
    """
    M, V, _ = _elements(matrices, shifts)
    if others is None:
        if other_shifts is not None:
            raise ValueError("other_shifts needs others")
        N, W = M, V
    else:
        N, W, _ = _elements(others, other_shifts)
        if N.shape[-1] != M.shape[-1]:
            raise ValueError(f"elements act on dimensions {M.shape[-1]} and {N.shape[-1]}")
    H = _hom(M, V)[:, None] @ _hom(N, W)[None, :]
    return _split(H)


def relative(matrices, shifts=None):
    """Relative elements ``g_i⁻¹ ∘ g_j`` of every pair: ``(M [K, K, n, n], V [K, K, n])``.

    ``g_i⁻¹ ∘ g_j`` is close to the identity exactly when ``g_i`` and ``g_j`` are close in the
    group's own (left-invariant) sense; it is the object :func:`components` and
    :func:`lie_algebra` work with.
    """
    M, V, _ = _elements(matrices, shifts)
    H = _hom(M, V)
    return _split(np.linalg.inv(H)[:, None] @ H[None, :])


def power(matrices, k, shifts=None):
    """Powers ``g^k = g ∘ g ∘ ⋯ ∘ g`` (``k`` times; ``g⁰ = 1``, negative ``k`` use ``g⁻¹``).

    Powers are accumulated by repeated composition, one factor at a time, as a user
    composing discovered symmetries would (§VII.B, Eq. 42).

    Args:
        matrices: ``[..., n, n]`` one element or a batch; shifts: ``[..., n]``.
        k: an integer, or a sequence of ``T`` integers.

    Returns:
        For an integer ``k``: ``(M [..., n, n], V [..., n])``. For a sequence:
        ``(M [..., T, n, n], V [..., T, n])``, the power axis after the batch axes.
    """
    M = _square(matrices)
    H = _hom(M, _shift_array(shifts, M))
    scalar = np.ndim(k) == 0
    ks = np.atleast_1d(np.asarray(k))
    if ks.ndim != 1 or not np.issubdtype(ks.dtype, np.integer):
        if not np.all(np.asarray(ks, dtype=np.float64) == np.round(ks)):
            raise ValueError(f"k must be an integer or a sequence of integers; got {k!r}")
        ks = np.asarray(ks, dtype=np.int64).ravel()
    out = np.empty(H.shape[:-2] + (len(ks),) + H.shape[-2:])
    for sign, base in ((1, H), (-1, None)):
        wanted = {int(abs(x)) for x in ks if (x > 0 if sign > 0 else x < 0)}
        if not wanted:
            continue
        if base is None:
            base = np.linalg.inv(H)
        cur = np.broadcast_to(np.eye(H.shape[-1]), H.shape).copy()
        for i in range(1, max(wanted) + 1):
            cur = cur @ base
            if i in wanted:
                for t in np.flatnonzero(ks == sign * i):
                    out[..., t, :, :] = cur
    for t in np.flatnonzero(ks == 0):
        out[..., t, :, :] = np.eye(H.shape[-1])
    Mk, Vk = _split(out)
    if scalar:
        return Mk[..., 0, :, :], Vk[..., 0, :]
    return Mk, Vk


def nearest_orthogonal(matrices):
    """The nearest orthogonal matrix (Frobenius norm) and the distance to it.

    The polar decomposition ``M = U P`` (``U`` orthogonal, ``P`` symmetric positive) gives the
    nearest element of O(n), ``U = A Bᵀ`` from the SVD ``M = A Σ Bᵀ``, at distance
    ``‖M − U‖_F = ‖Σ − 1‖`` (the deviation of the singular values from 1).

    Args:
        matrices: ``[..., n, n]``.

    Returns:
        ``(U [..., n, n], distance [...])``.
    """
    M = _square(matrices)
    A, s, Bt = np.linalg.svd(M)
    return A @ Bt, np.sqrt(((s - 1.0) ** 2).sum(-1))


@dataclass
class CompositionError:
    """How the error of a discovered element compounds along its powers (§VII.B).

    Attributes:
        k: ``[T]`` the powers.
        error: ``[T]`` (one element) or ``[K, T]`` (a batch): the distance of ``g^k`` from an
            exact group element — from O(n) (``reference="orthogonal"``) or from the power
            ``r^k`` of a supplied exact element (``reference="given"``).
        reference: ``"orthogonal"`` or ``"given"``.
    """

    k: np.ndarray
    error: np.ndarray
    reference: str

    def steps_within(self, tol: float):
        """The largest ``k`` (of ``k``, taken in order) up to which every error is ``≤ tol``:
        how often the element can be composed before its error exceeds ``tol``. An int for one
        element, ``[K]`` for a batch; 0 if already the first power is off."""
        ok = np.cumprod(self.error <= float(tol), axis=-1).astype(bool)
        n_ok = ok.sum(-1)
        ks = np.concatenate([[0], self.k])
        out = ks[n_ok]
        return int(out) if np.ndim(out) == 0 else out


def composition_error(matrices, steps, shifts=None, reference=None,
                      reference_shift=None) -> CompositionError:
    """Distance of ``g^k`` from an exact group element as a function of ``k`` (§VII.B).

    Composing a discovered symmetry with itself reaches new points of the group (Eq. 42: the
    powers of a rotation by an irrational multiple of π fill the circle), but every factor
    brings its own error. The two kinds of error compound differently: a wrong *angle* ``δ``
    grows linearly, ``‖R(θ+δ)^k − R(θ)^k‖_F = 2√2 |sin(kδ/2)| ≈ √2 k δ``, while a wrong *scale*
    ``1 + ε`` grows geometrically, ``√2 ((1+ε)^k − 1)`` for 2D rotations — and leaves the group.

    Args:
        matrices: ``[n, n]`` one element or ``[K, n, n]`` a batch; shifts: ``[n]`` / ``[K, n]``.
        steps: an integer ``T`` (powers ``k = 1 … T``) or a sequence of powers.
        reference: ``None`` — measure the distance of ``M^k`` from the orthogonal group
            (:func:`nearest_orthogonal`; the nearest element of O(n) in Frobenius norm; the
            translation is ignored, as every translation belongs to the Euclidean group); or an
            exact element ``[n, n]`` / ``[K, n, n]`` — measure ``‖g^k − r^k‖`` in the
            homogeneous Frobenius norm ``√(‖M_k − R_k‖² + ‖V_k − W_k‖²)``.
        reference_shift: the translation of ``reference`` (default zero).

    Returns:
        :class:`CompositionError` with ``k [T]`` and ``error [T]`` or ``[K, T]``.
    """
    if np.ndim(steps) == 0:
        if int(steps) < 1:
            raise ValueError("steps must be a positive number of compositions or a list of powers")
        ks = np.arange(1, int(steps) + 1)
    else:
        ks = np.asarray(steps, dtype=np.int64).ravel()
    Mk, Vk = power(matrices, ks, shifts)
    if reference is None:
        _, err = nearest_orthogonal(Mk)
        kind = "orthogonal"
    else:
        R = _square(reference, "reference")
        if R.shape[-1] != Mk.shape[-1]:
            raise ValueError(f"reference acts on dimension {R.shape[-1]}, the elements on {Mk.shape[-1]}")
        Rk, Wk = power(R, ks, reference_shift)
        err = np.sqrt(((Mk - Rk) ** 2).sum((-1, -2)) + ((Vk - Wk) ** 2).sum(-1))
        kind = "given"
    return CompositionError(k=ks, error=err, reference=kind)


def nearest_power(matrix, target, max_power: int = 1000, shift=None, target_shift=None):
    """The power ``g^k`` (``1 ≤ k ≤ max_power``) closest to a target element (Eq. 42).

    For a rotation by an irrational multiple of π the best error shrinks towards 0 as
    ``max_power`` grows — until the element's own error, compounded ``k`` times, takes over.

    Args:
        matrix: ``[n, n]`` or ``[K, n, n]``; shift: ``[n]`` / ``[K, n]``.
        target: ``[n, n]`` the element to approximate; target_shift: ``[n]``.

    Returns:
        ``(k, error)``: ints/floats for one element, ``[K]`` arrays for a batch; ``error`` is the
        homogeneous Frobenius distance ``‖g^k − target‖``.
    """
    M = _square(matrix)
    H = _hom(M, _shift_array(shift, M))
    T = _square(target, "target")
    if T.shape != (M.shape[-1],) * 2:
        raise ValueError(f"target must be one [{M.shape[-1]}, {M.shape[-1]}] matrix; got {T.shape}")
    Th = _hom(T, _shift_array(target_shift, T))
    if int(max_power) < 1:
        raise ValueError("max_power must be >= 1")
    best = np.full(H.shape[:-2], np.inf)
    best_k = np.zeros(H.shape[:-2], dtype=np.int64)
    cur = H.copy()
    for k in range(1, int(max_power) + 1):
        if k > 1:
            cur = cur @ H
        d = np.sqrt(((cur - Th) ** 2).sum((-1, -2)))
        better = d < best
        best = np.where(better, d, best)
        best_k = np.where(better, k, best_k)
    if best.ndim == 0:
        return int(best_k), float(best)
    return best_k, best


def cosine(a, b, signed: bool = False):
    """Cosine similarity ``⟨A, B⟩_F / (‖A‖_F ‖B‖_F)`` of matrices ``[..., n, n]`` (broadcasting).

    With ``signed=False`` (default) the absolute value: generators ``L`` and ``−L`` span the
    same one-parameter subgroup.
    """
    A, B = _array(a, "a"), _array(b, "b")
    num = (A * B).sum((-1, -2))
    den = np.sqrt((A * A).sum((-1, -2)) * (B * B).sum((-1, -2)))
    c = num / np.maximum(den, 1e-300)
    return c if signed else np.abs(c)


# ----------------------------------------------------------------------------- matrix logarithm
def _sqrtm(A: np.ndarray, iters: int = 60) -> np.ndarray:
    """Principal square root by the Denman–Beavers iteration (batched; A near the identity)."""
    Y, Z = A.copy(), np.broadcast_to(np.eye(A.shape[-1]), A.shape).copy()
    for _ in range(iters):
        Yi, Zi = np.linalg.inv(Y), np.linalg.inv(Z)
        Y_new, Z = 0.5 * (Y + Zi), 0.5 * (Z + Yi)
        done = np.abs(Y_new - Y).max() < 1e-15 * max(1.0, np.abs(Y_new).max())
        Y = Y_new
        if done:
            break
    return Y


def logm(matrices) -> np.ndarray:
    """Principal matrix logarithm of matrices near the identity, ``[..., n, n] → [..., n, n]``.

    Needs the spectral norm ``‖H − 1‖₂ < 1`` (all eigenvalues within the unit disc around 1;
    guaranteed when ``‖H − 1‖_F < 1``), which is where the principal logarithm is real and the
    one a near-identity group element calls for. Computed by inverse scaling and squaring:
    take square roots (Denman–Beavers) until ``‖H^{1/2^s} − 1‖_F ≤ 0.2``, sum the Mercator
    series ``log(1 + A) = A − A²/2 + A³/3 − …`` to machine precision, multiply by ``2^s``.
    Only numpy is needed (scipy's ``logm`` gives the same numbers).
    """
    H = _square(matrices)
    n = H.shape[-1]
    eye = np.eye(n)
    if H.size == 0:
        return H.copy()
    far = np.linalg.norm(H - eye, ord=2, axis=(-2, -1)) >= 1.0
    if far.any():
        raise ValueError("logm is for matrices near the identity (spectral norm ‖H − 1‖₂ < 1); "
                         f"{int(far.sum())} matrix(es) are farther away. Select near-identity "
                         "relative elements first (see lie_algebra's tol).")
    s = 0
    X = H.copy()
    while np.sqrt(((X - eye) ** 2).sum((-1, -2))).max() > 0.2 and s < 40:
        X = _sqrtm(X)
        s += 1
    A = X - eye
    out = np.zeros_like(A)
    term = np.broadcast_to(eye, A.shape).copy()
    for j in range(1, 40):  # 0.2^40 / 40 ≪ 1e-17
        term = term @ A
        out += ((-1) ** (j + 1) / j) * term
    return out * (2.0 ** s)


# ----------------------------------------------------------------------------- components
@dataclass
class Component:
    """One connected component of the symmetry group, as sampled by the discovered elements.

    Attributes:
        members: indices of the elements in the component (run numbers for a Discovery).
        representative: index of its medoid (the member with the smallest summed distance
            ``Σ_j ‖g_i⁻¹ g_j − 1‖_F`` to the others).
        matrix: ``[n, n]`` linear part of the representative element.
        shift: ``[n]`` translation of the representative element.
        det_sign: ``+1`` or ``−1``, the sign of ``det M`` shared by all members.
        radius: largest ``‖g_rep⁻¹ g_j − 1‖_F`` over the members: the size of the patch the
            component covers (≈ the elements' noise for an isolated element of a discrete
            group; up to ``2√2`` for a whole circle of 2D rotations).
        identity: True if the component is the identity component (it reaches the identity
            through the cloud of relative elements).
    """

    members: np.ndarray
    representative: int
    matrix: np.ndarray
    shift: np.ndarray
    det_sign: int
    radius: float
    identity: bool

    @property
    def size(self) -> int:
        return len(self.members)


@dataclass
class Components:
    """Result of :func:`components`: a list of :class:`Component` (identity component first,
    then by decreasing size) with ``labels [K]`` giving each input element's component (−1 for
    a run left out because it failed)."""

    components: list
    labels: np.ndarray
    tol: float
    n_relative: int
    identity_cloud: int

    def __len__(self) -> int:
        return len(self.components)

    def __iter__(self):
        return iter(self.components)

    def __getitem__(self, i) -> Component:
        return self.components[i]

    @property
    def matrices(self) -> np.ndarray:
        """``[C, n, n]`` the representatives."""
        return np.stack([c.matrix for c in self.components])

    @property
    def shifts(self) -> np.ndarray:
        """``[C, n]`` the representatives' translations."""
        return np.stack([c.shift for c in self.components])

    @property
    def det_signs(self) -> np.ndarray:
        return np.array([c.det_sign for c in self.components])

    @property
    def sizes(self) -> np.ndarray:
        return np.array([c.size for c in self.components])

    def __repr__(self) -> str:
        parts = ", ".join(f"{c.size}×det{'+' if c.det_sign > 0 else '−'}" for c in self.components[:8])
        more = ", …" if len(self) > 8 else ""
        return f"Components({len(self)}: {parts}{more}; tol={self.tol})"


def _min_dist_below(points: np.ndarray, refs: np.ndarray, tol: float, chunk: int = 2048):
    """``[P]`` True where a row of ``points [P, D]`` lies within ``tol`` of some row of ``refs``."""
    out = np.zeros(len(points), dtype=bool)
    if len(refs) == 0 or len(points) == 0:
        return out
    # float32 products: distances are compared with tol, far above float32 rounding
    refs = refs.astype(np.float32)
    rr = (refs * refs).sum(1)
    for a in range(0, len(points), chunk):
        p = points[a:a + chunk].astype(np.float32)
        d2 = (p * p).sum(1)[:, None] + rr[None, :] - 2.0 * (p @ refs.T)
        out[a:a + chunk] = (d2 <= tol * tol).any(1)
    return out


def _identity_cluster(points: np.ndarray, origin: np.ndarray, tol: float) -> np.ndarray:
    """Single-linkage cluster of ``points [P, D]`` reached from ``origin [D]`` with link ``tol``:
    a breadth-first search that repeatedly adds every point within ``tol`` of the last layer."""
    member = np.zeros(len(points), dtype=bool)
    frontier = origin[None]
    while len(frontier):
        rest = np.flatnonzero(~member)
        if not len(rest):
            break
        new = rest[_min_dist_below(points[rest], frontier, tol)]
        member[new] = True
        frontier = points[new]
    return member


def _connected(adj: np.ndarray) -> np.ndarray:
    """Connected-component labels of a symmetric boolean adjacency ``[K, K]`` (min-label
    propagation); labels are the smallest member index."""
    K = len(adj)
    lab = np.arange(K)
    adj = adj | np.eye(K, dtype=bool)
    while True:
        new = np.where(adj, lab[None, :], K).min(1)
        new = new[new]  # pointer jumping speeds up long chains
        if np.array_equal(new, lab):
            return lab
        lab = new


def components(matrices, shifts=None, tol: float = 0.5, shift_scale: float = 1.0,
               densify: bool = False, max_cloud: int = 4096, seed: int = 0) -> Components:
    """Group discovered elements into the connected components of the symmetry group.

    Two elements ``g_i``, ``g_j`` lie in the same component exactly when the relative element
    ``h = g_i⁻¹ g_j`` lies in the identity component. We estimate the identity component from
    the data themselves:

    1. form the cloud of relative elements ``{g_i⁻¹ g_j}`` of all pairs with equal sign of
       ``det M`` (``K²`` points; a random subset of ``max_cloud`` if larger): every one is a
       group element, and there are many more of them than discovered elements (§VII.B);
    2. the identity component ``H₀`` is the single-linkage cluster of that cloud that contains
       the identity: points joined by steps of Frobenius length ``≤ tol``;
    3. ``g_i`` and ``g_j`` are linked when ``det`` signs agree and ``g_i⁻¹ g_j`` is within
       ``tol`` of ``H₀``; the components are the connected components of these links.

    What this means in practice:

    * a **finite group** (the octagon's D8): the only relative elements near the identity are
      those between numerically identical copies, so each group element found is its own
      component — 16 components when all of D8 was found;
    * a **continuous group** (N_{1,1} and O(2)): the relative elements of a few dozen rotations
      cover the circle densely (far more densely than the rotations themselves), so all
      rotations form one component and all reflections (det −1) another — 2 components.

    ``tol`` is the resolution: it must exceed the elements' numerical error (``~√2 × n ×`` the
    entrywise error, so that copies of one element link) and the gaps in the relative cloud
    of a continuous group, but stay below the distance ``‖h − 1‖_F`` of the closest
    non-identity element of a finite group (``2√2 sin(π/q)`` for a rotation by ``2π/q``:
    1.08 for D8, so the default 0.5 resolves rotation groups up to q ≈ 17). A finite group
    finer than ``tol`` cannot be told from a continuous one by this test. Only components that
    some discovered element lies in can be counted.

    Two practical limits. *Few elements*: the ``K²`` relative elements of ``K`` rotations leave
    gaps of about ``2π · 2 ln K / K²`` (a few dozen elements per component are plenty; with a
    dozen the circle may fall apart into pieces). ``densify=True`` then fills the cloud up to
    ``max_cloud`` points with random products of two relative elements (compositions again,
    §VII.B). *Outliers*: an element that is no symmetry (an unconverged run) a little off a
    finite group's element creates relative elements off the grid, and their products step
    between the grid points — ``densify`` can then bridge a finite group into one continuous
    cloud (the octagon with a few unconverged runs out of 64 does). Drop runs that failed the
    post-hoc test (:func:`symlab.verify.posthoc`) first, and use ``densify`` on clean sets.

    Args:
        matrices: ``[K, n, n]``, or a :class:`symlab.Discovery` (its shifts are used; failed
            runs are left out, member indices are run numbers).
        shifts: ``[K, n]`` translations (default zero).
        tol: the link length in the Frobenius norm of ``g_i⁻¹ g_j − 1`` (homogeneous form, see
            ``shift_scale``).
        shift_scale: translations are divided by this length (e.g. the data's spread) before
            distances are taken.
        densify: fill the cloud with products of two relative elements (for few, clean
            elements; see above).
        max_cloud: the largest number of group elements used to trace ``H₀``.
        seed: seeds the subset (or the products) drawn for the cloud.

    Returns:
        :class:`Components`.
    """
    M, V, index = _elements(matrices, shifts)
    tol = float(tol)
    if not tol > 0:
        raise ValueError("tol must be positive")
    if not float(shift_scale) > 0:
        raise ValueError("shift_scale must be positive")
    K, n = M.shape[0], M.shape[-1]
    H = _hom(M, V / float(shift_scale))
    sign = np.sign(np.linalg.det(M)).astype(int)
    Hi = np.linalg.inv(H)
    R = Hi[:, None] @ H[None, :]  # [K, K, n+1, n+1], R[i, j] = g_i⁻¹ g_j
    D = (n + 1) * (n + 1)
    flat = R.reshape(K, K, D)
    same = sign[:, None] == sign[None, :]
    cloud_idx = np.flatnonzero(same.ravel())
    rng = np.random.default_rng(int(seed))
    if len(cloud_idx) > int(max_cloud):
        cloud_idx = np.sort(rng.choice(cloud_idx, size=int(max_cloud), replace=False))
    cloud = flat.reshape(K * K, D)[cloud_idx]
    n_rel = len(cloud)
    if densify and 1 < n_rel < int(max_cloud):
        extra = int(max_cloud) - n_rel
        a, b = rng.integers(0, n_rel, size=(2, extra))
        Rs = R.reshape(K * K, n + 1, n + 1)[cloud_idx]
        cloud = np.concatenate([cloud, (Rs[a] @ Rs[b]).reshape(extra, D)])
    eye = np.eye(n + 1).ravel()
    in_h0 = _identity_cluster(cloud, eye, tol)
    h0 = np.concatenate([eye[None], cloud[in_h0]])
    # Pairs i < j with equal det signs: linked if their relative element is in H₀ — known for
    # the pairs in the (sampled) cloud, measured for the others.
    link = np.zeros(K * K, dtype=bool)
    link[cloud_idx[in_h0[:n_rel]]] = True
    upper = np.triu(same, k=1).ravel()
    upper[cloud_idx] = False
    todo = np.flatnonzero(upper)
    link[todo] = _min_dist_below(flat.reshape(K * K, D)[todo], h0, tol)
    link = np.triu(link.reshape(K, K), k=1)
    lab = _connected(link | link.T)
    at_identity = _min_dist_below(H.reshape(K, D), h0, tol) & (sign > 0)

    dist = np.sqrt(((flat - eye) ** 2).sum(-1))  # ‖g_i⁻¹ g_j − 1‖_F
    comps = []
    for root in np.unique(lab):
        mem = np.flatnonzero(lab == root)
        sub = dist[np.ix_(mem, mem)]
        rep = mem[int(np.argmin(sub.sum(1)))]
        comps.append(Component(
            members=index[mem], representative=int(index[rep]), matrix=M[rep].copy(),
            shift=V[rep].copy(), det_sign=int(sign[rep]), radius=float(dist[rep, mem].max()),
            identity=bool(at_identity[mem].any())))
    comps.sort(key=lambda c: (not c.identity, -c.size, int(c.members.min())))
    n_runs = len(matrices.matrices) if hasattr(matrices, "matrices") else K
    labels = np.full(n_runs, -1)
    for i, c in enumerate(comps):
        labels[c.members] = i
    return Components(components=comps, labels=labels, tol=tol, n_relative=len(cloud),
                      identity_cloud=int(in_h0.sum()))


# ----------------------------------------------------------------------------- Lie algebra
@dataclass
class LieAlgebra:
    """Result of :func:`lie_algebra`.

    Attributes:
        dimension: the inferred dimension ``d`` of the symmetry group's Lie algebra.
        basis: ``[d, n, n]`` an orthonormal basis (Frobenius inner product, ``‖B_a‖_F = 1``
            including the translation part) of the linear parts of the generators; each sign
            fixed so that its first entry (row-major) larger than half its largest is positive
            (``J = [[0, 1], [−1, 0]]`` rather than ``−J``).
        basis_shifts: ``[d, n]`` the translation parts of the generators (zero for linear
            elements; in units of ``shift_scale``).
        singular_values: ``[m]`` singular values of the stacked logarithms ``[N, m]``
            (``m = n²``, or ``n² + n`` with translations), largest first.
        spread: ``[m]`` ``singular_values / √N``: the RMS extent of the near-identity cloud
            along each direction (same units as ``tol``).
        n_pairs: ``N``, the number of near-identity relative elements used.
        pairs: ``[N, 2]`` their element indices ``(i, j)`` (``i = −1`` for the identity).
        threshold: the ``min_spread`` used to count directions.
        closure: ``max ‖[B_a, B_b] − P[B_a, B_b]‖_F`` — how far the commutators of the basis
            fall outside its span (0 for a Lie algebra; large values flag a wrong dimension).
    """

    dimension: int
    basis: np.ndarray
    basis_shifts: np.ndarray
    singular_values: np.ndarray
    spread: np.ndarray
    n_pairs: int
    pairs: np.ndarray
    threshold: float
    closure: float

    def contains(self, matrix) -> np.ndarray:
        """How much of a generator ``[n, n]`` (or ``[..., n, n]``) lies in the algebra:
        ``‖P L‖_F / ‖L‖_F`` in [0, 1] (the cosine of its angle to the span; linear parts)."""
        L = _square(matrix, "matrix")
        if self.dimension == 0:
            return np.zeros(L.shape[:-2]) if L.ndim > 2 else 0.0
        B = self.basis.reshape(self.dimension, -1)
        B = np.linalg.qr(B.T)[0].T  # orthonormal rows of the linear parts
        flat = L.reshape(L.shape[:-2] + (-1,))
        proj = flat @ B.T
        out = np.sqrt((proj**2).sum(-1)) / np.maximum(np.sqrt((flat**2).sum(-1)), 1e-300)
        return float(out) if np.ndim(out) == 0 else out

    def __repr__(self) -> str:
        sv = ", ".join(f"{s:.3g}" for s in self.spread[:6])
        return (f"LieAlgebra(dimension={self.dimension}, n_pairs={self.n_pairs}, "
                f"spread=[{sv}{', …' if len(self.spread) > 6 else ''}], threshold={self.threshold:.3g})")


def lie_algebra(matrices, shifts=None, tol: float = 0.5, min_spread: float | None = None,
                shift_scale: float = 1.0, include_identity: bool = True) -> LieAlgebra:
    """Infer the Lie algebra of the symmetry group from discovered elements (§VII).

    If the group is continuous, elements near the identity are ``exp(X)`` with ``X`` in its
    Lie algebra; relative elements ``g_i⁻¹ g_j`` of nearby discovered elements are such
    elements, and their logarithms span the algebra. The recipe:

    1. keep the pairs ``i < j`` with equal sign of ``det`` and ``‖g_i⁻¹ g_j − 1‖_F ≤ tol``
       (with ``include_identity``, also ``g_i`` itself when it is that close to ``1``);
    2. take their logarithms (:func:`logm`; real and unique this close to ``1``) and stack them,
       flattened, into ``[N, m]``;
    3. the right singular vectors are the directions of the cloud, and ``spread_k = s_k / √N``
       its RMS extent along each. The **dimension** is the number of directions with
       ``spread_k ≥ min_spread``.

    The rule works because of the scale difference it relies on: along a genuine direction of
    a continuous group the pairs fill the selection ball out to ``tol`` (RMS extent about
    ``0.3 tol`` for a one-dimensional group sampled densely enough), while for a finite group
    the near-identity pairs are copies of one element, and their logarithms are pure noise of
    the size of the elements' error. The default ``min_spread = tol / 4`` (0.125) therefore
    assumes elements accurate to a few per cent; set it to about three times their RMS error
    when that is known, and read ``LieAlgebra.spread`` to see the gap. The number of
    usable pairs grows like ``K² tol^d``: a ``d``-dimensional algebra needs more runs the
    larger ``d``.

    Args:
        matrices: ``[K, n, n]`` or a :class:`symlab.Discovery` (failed runs are left out).
        shifts: ``[K, n]`` translations (default zero; then the translation parts are dropped).
        tol: the selection radius ``‖g_i⁻¹ g_j − 1‖_F ≤ tol`` (at most 1, where the logarithm
            series is guaranteed).
        min_spread: threshold on the RMS extent (default ``tol / 4``).
        shift_scale: translations are divided by this length before the analysis.
        include_identity: also use the pairs (identity, ``g_i``).

    Returns:
        :class:`LieAlgebra` with ``dimension``, ``basis [d, n, n]``, ``singular_values`` …
    """
    M, V, index = _elements(matrices, shifts)
    tol = float(tol)
    if not 0 < tol <= 1.0:
        raise ValueError("tol must be in (0, 1]: farther from the identity the logarithm is "
                         "not guaranteed to be real")
    threshold = tol / 4.0 if min_spread is None else float(min_spread)
    use_shift = shifts is not None or (hasattr(matrices, "shifts") and np.any(V != 0))
    K, n = M.shape[0], M.shape[-1]
    H = _hom(M, V / float(shift_scale))
    sign = np.sign(np.linalg.det(M))
    R = np.linalg.inv(H)[:, None] @ H[None, :]
    eye = np.eye(n + 1)
    dist = np.sqrt(((R - eye) ** 2).sum((-1, -2)))
    iu, ju = np.triu_indices(K, k=1)
    keep = (dist[iu, ju] <= tol) & (sign[iu] == sign[ju])
    rel = R[iu[keep], ju[keep]]
    pairs = np.stack([index[iu[keep]], index[ju[keep]]], 1)
    if include_identity:
        d0 = np.sqrt(((H - eye) ** 2).sum((-1, -2)))
        k0 = (d0 <= tol) & (sign > 0)
        rel = np.concatenate([rel, H[k0]])
        pairs = np.concatenate([pairs, np.stack([np.full(int(k0.sum()), -1), index[k0]], 1)])
    if len(rel) == 0:
        return LieAlgebra(dimension=0, basis=np.zeros((0, n, n)), basis_shifts=np.zeros((0, n)),
                          singular_values=np.zeros(0), spread=np.zeros(0), n_pairs=0,
                          pairs=pairs.reshape(0, 2), threshold=threshold, closure=0.0)
    X = logm(rel)
    flat = X[:, :n, :n].reshape(len(X), n * n)
    if use_shift:
        flat = np.concatenate([flat, X[:, :n, n]], 1)
    _, s, Vt = np.linalg.svd(flat, full_matrices=False)
    spread = s / math.sqrt(len(flat))
    d = int((spread >= threshold).sum())
    B = Vt[:d]
    for a in range(d):  # sign convention: the first sizeable entry (row-major) positive
        j = int(np.argmax(np.abs(B[a]) > 0.5 * np.abs(B[a]).max()))
        if B[a, j] < 0:
            B[a] = -B[a]
    basis = B[:, : n * n].reshape(d, n, n)
    basis_shifts = B[:, n * n:] if use_shift else np.zeros((d, n))
    closure = 0.0
    if d >= 2:
        G = _hom(basis, basis_shifts)
        G[:, n, n] = 0.0
        Q = np.linalg.qr(G.reshape(d, -1).T)[0]
        for a in range(d):
            for b in range(a + 1, d):
                c = (G[a] @ G[b] - G[b] @ G[a]).ravel()
                closure = max(closure, float(np.linalg.norm(c - Q @ (Q.T @ c))))
    return LieAlgebra(dimension=d, basis=basis, basis_shifts=basis_shifts, singular_values=s,
                      spread=spread, n_pairs=len(flat), pairs=pairs, threshold=threshold,
                      closure=closure)


# ----------------------------------------------------------------------------- one-parameter subgroups
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
        n = int(data.dim)
    else:
        n = as_points(data, None, name="data").shape[1]
    if dim is not None and int(dim) != n:
        raise ValueError(f"dim={dim} but the data have dimension {n}")
    if n < 2:
        raise ValueError("a one-parameter subgroup of linear maps needs n >= 2 "
                         "(in one dimension the only generator is a dilation)")
    if int(steps) < 1 or int(runs) < 1 or int(draws) < 1 or int(batch_size) < 4:
        raise ValueError("steps, runs and draws must be >= 1 and batch_size >= 4")
    if not (norm > 0 and t_max > 0 and lr_g > 0 and lr_d > 0):
        raise ValueError("norm, t_max and the learning rates must be positive")
    if not 0.0 <= float(average) < 1.0:
        raise ValueError("average must be a fraction in [0, 1)")
    if normalise not in ("data", "frobenius"):
        raise ValueError("normalise must be 'data' or 'frobenius'")
    if not 0.0 <= float(ramp) <= 1.0:
        raise ValueError("ramp must be a fraction in [0, 1]")
    steps, K, B = int(steps), int(runs), int(batch_size)
    dev = torch.device(device) if device is not None else torch.device("cpu")

    gen = torch.Generator()
    gen.manual_seed(int(seed))
    # SymmetryGAN's data handling (draw batches, mean and one common scale).
    draw, centre, scale = SymmetryGAN(Affine(n), batch_size=B, device=dev)._sampler(data, gen)
    C = None
    if normalise == "data":  # second moments of the standardised data (tr C ≈ n)
        probe = ((draw(1, 8192)[0] - centre) / scale).double().cpu()
        C = probe.T @ probe / len(probe)
        C = C + 1e-3 * torch.trace(C) / n * torch.eye(n, dtype=C.dtype)
        C = C.to(dev)

    if init is None:
        A0 = torch.randn(K, n, n, generator=gen, dtype=torch.float64)
    else:
        A0 = torch.as_tensor(_square(init, "init"))
        if A0.shape != (K, n, n):
            if A0.ndim == 3 and A0.shape[1:] == (n, n):
                K = A0.shape[0]
            else:
                raise ValueError(f"init must have shape [K, {n}, {n}]; got {tuple(A0.shape)}")
    A0 = _project(A0, antisymmetric)
    if not torch.isfinite(A0).all() or (A0.pow(2).sum((-1, -2)) < 0.5).any():
        raise ValueError("init has a zero generator (or a symmetric one with antisymmetric=True)")
    A0 = _project(A0, antisymmetric, C)
    A = A0.float().to(dev).clone().requires_grad_(True)

    disc = EnsembleMLP(K, n, tuple(int(h) for h in hidden), seed=int(seed) + 1).to(dev)
    opt_g = _Adam(A, eps=eps_g)
    opt_d = _Adam(disc.flat.data, eps=1e-7)
    half = B // 2
    shift_d = torch.cat([torch.full((half,), -1.0), torch.zeros(B - half)]).to(dev)
    which = torch.arange(B - half, device=dev) % int(draws)  # event → its t draw
    failed = torch.zeros(K, dtype=torch.bool, device=dev)
    last_good = A.detach().clone()
    tail_start = steps - int(round(float(average) * steps)) + 1
    tail_sum = torch.zeros(K, n, n, dtype=torch.float64, device=dev)
    tail_loss = torch.zeros(K, dtype=torch.float64, device=dev)
    every = max(1, steps // 100) if record_every is None else int(record_every)
    init_L = float(norm) * _project(A0, antisymmetric).cpu().numpy()  # reported: ‖L‖_F = norm
    rec_steps, rec_L, rec_d = [0], [init_L], []
    acc_d, acc_n = torch.zeros(K, device=dev), 0

    bar = None
    if _use_progress(progress):
        from tqdm.auto import tqdm
        bar = tqdm(total=steps, desc=f"generator ×{K}", delay=2.0, leave=False)

    # The loop is SymmetryGAN.fit's with one change: the generator's map is drawn per event,
    # exp(t·L) with random t, instead of one fixed M z + u per run. Until gan.py has a hook
    # for that (a space whose maps are sampled per step, see the module's notes), it is kept
    # here, self-contained; data handling, the discriminator passes and Adam are shared.
    for step in range(1, steps + 1):
        frac = (step - 1) / max(1, steps - 1)
        decay = lr_floor + (1 - lr_floor) * 0.5 * (1 + math.cos(math.pi * frac))
        z = (draw(K, B) - centre) / scale
        z_real, z_src = z[:, :half], z[:, half:]
        alive = (~failed).to(z.dtype)[:, None]

        L = float(norm) * _project(A, antisymmetric, C)  # [K, n, n], differentiable in A
        t_now = float(t_max) * min(1.0, (1.0 + 2.0 * frac / ramp) / 3.0) if ramp > 0 else float(t_max)
        t = (torch.rand(K, int(draws), generator=gen) * 2.0 - 1.0).to(dev) * t_now
        E = torch.linalg.matrix_exp(t[:, :, None, None] * L[:, None])  # [K, draws, n, n]
        gz = torch.einsum("kbij,kbj->kbi", E[:, which], z_src)  # [K, B−half, n]
        with torch.no_grad():  # the simultaneous step of SymmetryGAN.fit
            logits, ws = disc.forward_cached(torch.cat([z_real, gz.detach()], 1))
            l_fake = logits[:, half:]
            dl = (torch.sigmoid(logits) + shift_d) * (alive / half)
            d_loss = F.softplus(-logits[:, :half]).mean(1) + F.softplus(l_fake).mean(1)
            dl_g = (torch.sigmoid(l_fake) - 1.0) * (alive / half)  # non-saturating
            _, dgz = disc.backward_cached(dl_g, ws, param_grads=False, input_grad=True,
                                          rows=slice(half, None))
            grad_d, _ = disc.backward_cached(dl, ws, param_grads=True)
            dead = (dgz.abs().amax(dim=(1, 2)) == 0) & ~failed
        opt_d.step(grad_d, lr_d * decay)
        if dead.any():
            disc.reinitialise(dead)
            disc.set_rows(opt_d.m, dead)
            disc.set_rows(opt_d.v, dead)
        A.grad = None
        (gz * dgz).sum().backward()
        bad_grad = ~torch.isfinite(A.grad).all(dim=(1, 2))
        opt_g.step(torch.nan_to_num(A.grad, nan=0.0, posinf=0.0, neginf=0.0), lr_g * decay)
        with torch.no_grad():
            bad = ~torch.isfinite(A).all(dim=(1, 2)) | ~torch.isfinite(d_loss) | bad_grad
            if bad.any():
                failed |= bad
                A[failed] = last_good[failed]
                disc.flat.data.nan_to_num_(nan=0.0, posinf=0.0, neginf=0.0)
            A.copy_(_project(A, antisymmetric, C))  # back onto the unit sphere
            last_good.copy_(A)
            if step >= tail_start:
                tail_sum += A.double()
                tail_loss += torch.nan_to_num(d_loss, nan=0.0).double()
            acc_d += torch.nan_to_num(d_loss, nan=0.0)
            acc_n += 1
        if every and (step % every == 0 or step == steps):
            rec_steps.append(step)
            rec_L.append(float(norm) * _project(A.detach().double(), antisymmetric).cpu().numpy())
            rec_d.append((acc_d / acc_n).cpu().numpy())
            acc_d.zero_()
            acc_n = 0
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()

    n_tail = steps - tail_start + 1
    final = tail_sum / n_tail if n_tail > 0 else A.detach().double()
    loss = (tail_loss / n_tail if n_tail > 0 else d_loss.double()).cpu().numpy()
    final = float(norm) * _project(final, antisymmetric)
    history = None
    if every:
        history = dict(steps=np.asarray(rec_steps), generators=np.stack(rec_L),
                       d_loss=np.stack([np.full(K, np.nan)] + rec_d))
    config = dict(steps=steps, runs=K, seed=seed, antisymmetric=antisymmetric, norm=float(norm),
                  t_max=float(t_max), draws=int(draws), batch_size=B, lr_g=lr_g, lr_d=lr_d,
                  hidden=tuple(hidden), scale=scale)
    return GeneratorFit(generators=final.cpu().numpy(), init_generators=init_L,
                        centre=centre.double().cpu().numpy(), scale=float(scale), loss=loss,
                        failed=failed.cpu().numpy(), history=history,
                        seconds=time.perf_counter() - t0, config=config)
