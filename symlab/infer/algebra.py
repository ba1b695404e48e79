"""The Lie algebra of the discovered group: matrix logarithms and their span (§VII).

If the symmetry group is continuous, an element near the identity is ``exp(X)`` with ``X`` in
the group's Lie algebra. Relative elements ``g_i⁻¹ g_j`` of nearby discovered elements are
such elements; :func:`lie_algebra` takes their logarithms (:func:`logm`) and reads the
dimension and an orthonormal basis of the algebra off the singular values of the stacked
logarithms. :func:`cosine` compares generators up to sign.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from .. import _checks
from ._common import _array, _elements, _hom, _square

__all__ = ["cosine", "logm", "LieAlgebra", "lie_algebra"]


def cosine(a, b, signed: bool = False):
    """Cosine similarity ``⟨A, B⟩_F / (‖A‖_F ‖B‖_F)`` of matrices ``[..., n, n]`` (broadcasting).

    With ``signed=False`` (default) the absolute value: generators ``L`` and ``−L`` span the
    same one-parameter subgroup.
    """
    A, B = _array(a, "a"), _array(b, "b")
    if A.ndim < 2 or B.ndim < 2:
        raise ValueError(f"a and b must be matrices [..., n, n]; got shapes {A.shape} and {B.shape}")
    try:
        np.broadcast_shapes(A.shape, B.shape)
    except ValueError:
        raise ValueError(f"a and b must have broadcastable shapes; got {A.shape} and {B.shape}") from None
    num = (A * B).sum((-1, -2))
    den = np.sqrt((A * A).sum((-1, -2)) * (B * B).sum((-1, -2)))
    c = num / np.maximum(den, 1e-300)
    return c if signed else np.abs(c)



def logm(matrices) -> np.ndarray:
    """Principal matrix logarithm of matrices near the identity, ``[..., n, n] → [..., n, n]``.

    Needs the spectral norm ``‖H − 1‖₂ < 1`` (all eigenvalues within the unit disc around 1;
    guaranteed when ``‖H − 1‖_F < 1``), which is where the principal logarithm is real and the
    one a near-identity group element calls for. Each matrix goes through
    ``scipy.linalg.logm`` (inverse scaling and squaring on the Schur form); the result is
    real (float64), an imaginary part at rounding level being dropped. The error is about
    ``1e-15`` in absolute terms, the size of the rounding of ``H`` itself; relative to a very
    small logarithm it is larger (about ``1e-6`` for ``‖H − 1‖ ≈ 1e-9``).
    """
    H = _square(matrices)
    n = H.shape[-1]
    if H.size == 0:
        return H.copy()
    far = np.linalg.norm(H - np.eye(n), ord=2, axis=(-2, -1)) >= 1.0
    if far.any():
        raise ValueError("logm is for matrices near the identity (spectral norm ‖H − 1‖₂ < 1); "
                         f"{int(far.sum())} matrix(es) are farther away. Select near-identity "
                         "relative elements first (see lie_algebra's tol).")
    flat = H.reshape(-1, n, n)
    out = np.empty(flat.shape)
    for k, h in enumerate(flat):  # scipy < 1.15 has no batched logm
        F = scipy.linalg.logm(h)
        if np.iscomplexobj(F):
            # no eigenvalue lies on the negative real axis here, so the logarithm is real
            # and any imaginary part is rounding
            imag = float(np.abs(F.imag).max())
            if imag > 1e-8 * max(1.0, float(np.abs(F.real).max())):
                raise ValueError(f"logm: matrix {k} of the (flattened) batch has a complex "
                                 f"logarithm (imaginary part up to {imag:.3g})")
            F = F.real
        out[k] = F
    return out.reshape(H.shape)



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
        pairs: ``[N, 2]`` their element indices ``(i, j)`` (``i = −1`` for the identity,
            ``(−2, −2)`` for a product of two relative elements added by ``densify``).
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
        n = self.basis.shape[-1]
        if L.shape[-1] != n:
            raise ValueError(f"matrix must have shape [{n}, {n}] or [..., {n}, {n}] (the algebra's "
                             f"dimension n = {n}); got {L.shape}")
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
                shift_scale: float = 1.0, include_identity: bool = True,
                densify: bool = False, max_products: int = 600, seed: int = 0) -> LieAlgebra:
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

    ``densify=True`` fills the near-identity cloud with compositions (§VII.B): products
    ``(g_i⁻¹ g_j)(g_k⁻¹ g_l)`` of two relative elements that land within ``tol`` of ``1``,
    found among all ``K⁴`` of them by a nearest-neighbour search (``g_k⁻¹ g_l ≈ g_j⁻¹ g_i``),
    at most ``max_products`` of them (a random choice), besides the pairs. A few dozen
    elements of a group of dimension 2–4 (a torus or ``SO(3) × SO(2)`` in 4–6 dimensions)
    leave almost no near-identity pairs, but many such products. Every product of
    symmetries is a symmetry, so use it on verified elements only: a product with an
    element that is no symmetry is none either, and would widen the cloud. Its error is
    that of up to four elements (``min_spread`` must stay above that).

    Args:
        matrices: ``[K, n, n]`` or a :class:`symlab.Discovery` (failed runs are left out).
        shifts: ``[K, n]`` translations (default zero; then the translation parts are dropped).
        tol: the selection radius ``‖g_i⁻¹ g_j − 1‖_F ≤ tol`` (at most 1, where the logarithm
            series is guaranteed).
        min_spread: threshold on the RMS extent (default ``tol / 4``): a finite number > 0
            (at 0 or below every direction, noise included, would count).
        shift_scale: translations are divided by this length (> 0) before the analysis.
        include_identity: also use the pairs (identity, ``g_i``).
        densify: also use near-identity products of two relative elements (see above).
        max_products: the most products ``densify`` adds (an integer >= 1).
        seed: seeds the choice of products when more than ``max_products`` qualify.

    Returns:
        :class:`LieAlgebra` with ``dimension``, ``basis [d, n, n]``, ``singular_values`` …
    """
    M, V, index = _elements(matrices, shifts)
    tol = _checks.real(tol, "tol")
    if not 0 < tol <= 1.0:
        raise ValueError("tol must be in (0, 1]: farther from the identity the logarithm is "
                         "not guaranteed to be real")
    threshold = tol / 4.0 if min_spread is None else _checks.rate(min_spread, "min_spread")
    shift_scale = _checks.rate(shift_scale, "shift_scale")
    include_identity = _checks.flag(include_identity, "include_identity")
    densify = _checks.flag(densify, "densify")
    max_products = _checks.count(max_products, "max_products")
    seed = _checks.resolve_seed(seed)
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
    if densify and K >= 2:
        products = _near_identity_products(R, sign, tol, max_products, seed)
        rel = np.concatenate([rel, products])
        pairs = np.concatenate([pairs, np.full((len(products), 2), -2)])
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


def _near_identity_products(R: np.ndarray, sign: np.ndarray, tol: float, limit: int,
                            seed: int, chunk: int = 1024) -> np.ndarray:
    """Products ``R_a R_b`` of two relative elements (``R [K, K, m, m]``, pairs of equal
    ``det`` sign, ``i ≠ j``) within ``tol`` (Frobenius) of the identity: ``[P, m, m]`` with ``P <= limit``. A product is that close only if
    ``R_b`` is close to ``R_a⁻¹``; candidates come from a nearest-neighbour search of the
    flattened inverses against the flattened cloud, with a radius widened by ``‖R_a‖₂``.
    Products ``(g_i⁻¹ g_j)(g_j⁻¹ g_l)`` are left out: they are relative elements already."""
    K, m = R.shape[0], R.shape[-1]
    ii, jj = np.nonzero((sign[:, None] == sign[None, :]) & ~np.eye(K, dtype=bool))
    cloud = R[ii, jj]  # [C, m, m]
    if len(cloud) < 2:
        return np.zeros((0, m, m))
    inv = R[jj, ii]  # (g_i⁻¹ g_j)⁻¹ = g_j⁻¹ g_i
    flat, flat_inv = cloud.reshape(len(cloud), -1), inv.reshape(len(cloud), -1)
    norm = np.linalg.norm(cloud, ord=2, axis=(1, 2))  # ‖R_a R_b − 1‖ ≤ ‖R_a‖₂ ‖R_b − R_a⁻¹‖
    rr = (flat * flat).sum(1)
    eye = np.eye(m)
    found = []
    for a0 in range(0, len(cloud), chunk):
        A = flat_inv[a0:a0 + chunk]
        d2 = (A * A).sum(1)[:, None] + rr[None, :] - 2.0 * (A @ flat.T)
        a, b = np.nonzero(d2 <= (tol * np.maximum(norm[a0:a0 + chunk], 1.0))[:, None] ** 2)
        a = a + a0
        # (g_i⁻¹ g_j)(g_j⁻¹ g_l) = g_i⁻¹ g_l is a relative element itself (the identity for
        # l = i): only products with a new middle, j ≠ k, add points
        keep = jj[a] != ii[b]
        a, b = a[keep], b[keep]
        if len(a):
            P = cloud[a] @ cloud[b]
            near = np.sqrt(((P - eye) ** 2).sum((-1, -2))) <= tol
            found.append(P[near])
    out = np.concatenate(found) if found else np.zeros((0, m, m))
    if len(out) > limit:
        pick = np.random.default_rng(int(seed)).choice(len(out), size=limit, replace=False)
        out = out[np.sort(pick)]
    return out
