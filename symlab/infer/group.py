"""Group composition (§VII.B): products, powers, inverses, relative elements, commutators.

Discovered symmetries are elements of one group, so everything built from them by
composition is a symmetry too: ``K`` runs give ``K²`` products, and the powers ``g^k`` of a
single rotation by an irrational multiple of π come arbitrarily close to every rotation
(Eq. 42). Each composition also compounds the elements' numerical error;
:func:`composition_error` measures how fast. :func:`commutator_norm` is the quantity behind the
commutator penalty of Eq. (41).

Conventions: :func:`compose` multiplies left to right as maps compose,
``(g₁ ∘ g₂)(x) = g₁(g₂(x))``, so the rightmost element acts first. Elements are affine,
``g(x) = M x + V``, passed as ``matrices [..., n, n]`` and ``shifts [..., n]`` (default zero)
and returned as float64 numpy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _checks
from ._common import _elements, _hom, _shift_array, _singular, _split, _square

#: The highest power composed (one factor at a time) by power, composition_error, nearest_power.
MAX_POWER = 10**6

__all__ = ["inverse", "compose", "products", "relative", "power", "commutator_norm",
           "nearest_orthogonal", "CompositionError", "composition_error", "nearest_power"]


def inverse(matrices, shifts=None):
    """Inverse elements: ``g⁻¹(x) = M⁻¹ x − M⁻¹ V``.

    Args:
        matrices: ``[..., n, n]``; shifts: ``[..., n]`` (default zero).

    Returns:
        ``(M⁻¹ [..., n, n], −M⁻¹V [..., n])``.
    """
    M = _square(matrices)
    V = _shift_array(shifts, M)
    _singular(M)
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
    if M.shape[-3] == 0:
        raise ValueError(f"matrices: compose needs at least one element (m >= 1 along axis -3); "
                         f"got shape {M.shape}")
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
        N, W, _ = _elements(others, other_shifts, "others", "other_shifts")
        if N.shape[-1] != M.shape[-1]:
            raise ValueError(f"matrices and others act on dimensions {M.shape[-1]} and "
                             f"{N.shape[-1]}; pass elements of the same dimension")
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
    if scalar:
        ks = np.array([_checks.integer(k, "k", -MAX_POWER, MAX_POWER)], dtype=np.int64)
    else:
        kf = _checks.as_array(k, "k").ravel()
        if kf.size == 0 or not np.all(kf == np.round(kf)):
            raise ValueError(f"k must be an integer or a non-empty sequence of integers; got {k!r}")
        if np.abs(kf).max() > MAX_POWER:
            raise ValueError(f"k: powers are composed one factor at a time; |k| <= {MAX_POWER}")
        ks = kf.astype(np.int64)
    if (ks < 0).any():
        _singular(M)
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


def commutator_norm(matrices, others, shifts=None, other_shifts=None):
    """How far two elements are from commuting: ``‖g ∘ h − h ∘ g‖_F`` (Eq. 41).

    The penalty of Eq. (41) is the data average ``E‖g(h(x)) − h(g(x))‖²``. For linear maps
    it equals ``E‖[M, N] x‖² = tr([M, N] C [M, N]ᵀ)`` with ``C`` the data's second moments, so
    for data with ``C = 1`` it is the squared norm returned here. For the plane:
    two rotations always commute (SO(2) is abelian), and a rotation ``R(θ)`` and a reflection
    ``F`` have ``‖R F − F R‖_F = 2√2 |sin θ|`` — they commute only for ``θ = 0, π``.

    Args:
        matrices, others: ``[..., n, n]`` (broadcasting), the elements ``g`` and ``h``.
        shifts, other_shifts: ``[..., n]`` their translations (default zero); with
            translations the norm is taken in the homogeneous form ``[[M, V], [0, 1]]``.

    Returns:
        ``[...]`` the Frobenius norm of the commutator ``g h − h g``.
    """
    M, N = _square(matrices), _square(others, "others")
    if M.shape[-1] != N.shape[-1]:
        raise ValueError(f"matrices and others act on dimensions {M.shape[-1]} and {N.shape[-1]}; "
                         "pass elements of the same dimension")
    try:
        np.broadcast_shapes(M.shape[:-2], N.shape[:-2])
    except ValueError:
        raise ValueError(f"matrices {M.shape} and others {N.shape}: their batch shapes "
                         f"{M.shape[:-2]} and {N.shape[:-2]} do not broadcast; pass one element, "
                         "or the same number of each") from None
    G = _hom(M, _shift_array(shifts, M))
    H = _hom(N, _shift_array(other_shifts, N, "other_shifts"))
    C = G @ H - H @ G
    return np.sqrt((C * C).sum((-1, -2)))


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
        ok = np.cumprod(self.error <= _checks.nonnegative(tol, "tol"), axis=-1).astype(bool)
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
        ks = np.arange(1, _checks.count(steps, "steps (the number of compositions)",
                                        maximum=MAX_POWER) + 1)
    else:
        kf = _checks.as_array(steps, "steps").ravel()
        if kf.size == 0 or not np.all(kf == np.round(kf)):
            raise ValueError(f"steps must be a positive integer or a non-empty list of integer "
                             f"powers; got {steps!r}")
        ks = kf.astype(np.int64)
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
    max_power = _checks.count(max_power, "max_power", maximum=MAX_POWER)
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


def nearest_root(c, s, q: int) -> tuple[np.ndarray, np.ndarray]:
    """Which element of the cyclic group ``C_q`` a 2-D rotation is nearest to.

    The rotation (or rotation-dilation) with parameters ``(c, s)``
    (:class:`symlab.spaces.RotationScale2D`, the first two parameters of
    :class:`symlab.spaces.O2`) has polar angle ``θ = atan2(s, c)``; the elements of ``C_q``
    have angles ``2πk/q``.

    Args:
        c, s: arrays of the same shape ``[...]``.
        q: the order of the group (≥ 1).

    Returns:
        ``(k [...], distance [...])``: the index ``k ∈ {0, …, q−1}`` of the nearest element and
        the angle to it in degrees (at most ``180/q``).
    """
    q = _checks.count(q, "q")
    c = _checks.as_array(c, "c")
    s = _checks.as_array(s, "s")
    if c.shape != s.shape:
        raise ValueError(f"c and s must have the same shape; got {c.shape} and {s.shape}")
    theta = np.degrees(np.arctan2(s, c))
    k = np.round(theta / (360 / q)).astype(int) % q
    off = np.abs((theta - k * 360 / q + 180) % 360 - 180)
    return k, off
