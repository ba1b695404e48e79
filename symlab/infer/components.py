"""Connected components of the discovered group.

Two discovered elements lie in the same connected component of the symmetry group exactly
when their relative element ``g_i⁻¹ g_j`` lies in the identity component. :func:`components`
traces the identity component through the cloud of all relative elements (many more points
of the group than there are runs, §VII.B) and links the elements accordingly: 2 components
for O(2) (rotations, reflections), 16 for the octagon's D8 (every element is isolated).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from .. import _checks
from ._common import _elements, _hom

__all__ = ["Component", "Components", "components"]


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
    tol2 = np.float32(min(tol, 1e18) ** 2)  # a larger tol links everything just the same
    rr = (refs * refs).sum(1)
    for a in range(0, len(points), chunk):
        p = points[a:a + chunk].astype(np.float32)
        d2 = (p * p).sum(1)[:, None] + rr[None, :] - 2.0 * (p @ refs.T)
        out[a:a + chunk] = (d2 <= tol2).any(1)
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


def components(matrices, shifts=None, tol: float = 0.5, shift_scale: float = 1.0,
               densify: bool = False, max_cloud: int = 4096, seed: int = 0,
               algebra=None) -> Components:
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
        max_cloud: the largest number of group elements used to trace ``H₀``: an integer
            at least ``min(K, 4096)`` for ``K`` elements (fewer relative elements than
            elements cannot trace the identity component; the default 4096 covers ``K ≤ 64``
            completely).
        seed: seeds the subset (or the products) drawn for the cloud (``None``: fresh OS
            entropy).
        algebra: the identity component's :class:`symlab.infer.LieAlgebra` (from
            :func:`symlab.infer.lie_algebra` on the same elements and ``shift_scale``), or
            ``None``. With it, ``g_i`` and ``g_j`` are also linked when the principal
            logarithm of ``g_i⁻¹ g_j`` is real and lies in the algebra (``contains ≥ 0.99``,
            linear and translation parts together): then ``g_i⁻¹ g_j = exp(X)`` with ``X`` in
            the algebra, so it lies in the identity component however far from ``1`` it is.
            This links the elements of a group of dimension 3 or more, whose relative
            elements are too sparse for the cloud (``SO(3)`` in 6 dimensions).

    Returns:
        :class:`Components`.
    """
    M, V, index = _elements(matrices, shifts)
    tol = _checks.rate(tol, "tol")
    shift_scale = _checks.rate(shift_scale, "shift_scale")
    densify = _checks.flag(densify, "densify")
    K, n = M.shape[0], M.shape[-1]
    max_cloud = _checks.count(max_cloud, "max_cloud")
    if max_cloud < min(K, 4096):
        raise ValueError(f"max_cloud={max_cloud} is smaller than the number of elements K={K}: so "
                         "few relative elements cannot trace the identity component (every "
                         f"element would look isolated). Use max_cloud >= {min(K, 4096)} "
                         "(default 4096).")
    seed = _checks.resolve_seed(seed)
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
    if algebra is not None and getattr(algebra, "dimension", 0) > 0:
        link |= _linked_by_algebra(R, same & ~link & np.triu(np.ones((K, K), bool), k=1),
                                   algebra, n)
    # component labels number the components in the order of their smallest member
    lab = connected_components(csr_matrix(link | link.T), directed=False)[1]
    at_identity = _min_dist_below(H.reshape(K, D), h0, tol) & (sign > 0)
    if algebra is not None and getattr(algebra, "dimension", 0) > 0:
        at_identity |= _linked_by_algebra(H[None], ((sign > 0) & ~at_identity)[None],
                                          algebra, n)[0]

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


def _linked_by_algebra(R: np.ndarray, todo: np.ndarray, algebra, n: int,
                       min_share: float = 0.99) -> np.ndarray:
    """``[K, K]`` True where ``todo`` and the principal logarithm of ``R[i, j]`` (homogeneous,
    ``[K, K, n+1, n+1]``) is real and lies in the span of ``algebra`` (share of its norm
    ``≥ min_share``; linear and translation parts)."""
    out = np.zeros(todo.shape, dtype=bool)
    B = np.concatenate([algebra.basis.reshape(algebra.dimension, -1),
                        np.asarray(algebra.basis_shifts).reshape(algebra.dimension, -1)], 1)
    Q = np.linalg.qr(B.T)[0]  # orthonormal basis of the generators, [n² + n, d]
    for i, j in zip(*np.nonzero(todo)):
        with np.errstate(all="ignore"):
            X = scipy.linalg.logm(R[i, j])
        if np.iscomplexobj(X):
            if np.abs(X.imag).max() > 1e-8 * max(1.0, np.abs(X.real).max()):
                continue  # an eigenvalue on the negative real axis: no real logarithm
            X = X.real
        if not np.all(np.isfinite(X)):
            continue
        v = np.concatenate([X[:n, :n].ravel(), X[:n, n]])
        norm = np.linalg.norm(v)
        if norm < 1e-12 or np.linalg.norm(Q.T @ v) >= min_share * norm:
            out[i, j] = True
    return out
