"""Learn a whole Lie algebra of symmetries at once (LieGAN-style, Yang et al., ICML 2023).

:func:`~symlab.infer.learn_generator` learns one generator per run. Here each run learns
``k`` generators ``L_1 … L_k`` together: every transformed event is mapped by

    g = exp(Σ_j c_j L_j),    c_j ~ N(0, σ_j²),                                   (10.1)

with its own coefficients, and the discriminator of Eq. (13) has to tell ``x`` from
``g x'``. The loss reaches 2 log 2 only if every such ``g`` is a symmetry, i.e. the span of
the ``L_j`` lies in the Lie algebra of the symmetry group. The family (``AlgebraFamily``)
is trained by symlab's one loop (:func:`symlab._loop.train`) exactly like the one-parameter
family of ``symlab.infer.generator``.

Two things keep the solution from being trivial (``L = 0``, or ``k`` copies of one
generator): the basis is kept **orthonormal** in the data-weighted inner product
``⟨A, B⟩_C = tr(A C Bᵀ) / 2`` (``C`` the second moments of the standardised data) after every
step, so every generator moves the data by the same amount and no two coincide (LieGAN uses
a cosine penalty between generators instead; an exact constraint has no weight to tune).
Each generator has a **learned coefficient scale** ``σ_j = σ_max (f + (1 − f) sigmoid(ρ_j))``
with a small reward ``−β mean_j log σ_j`` for large scales: along a symmetry the discriminator
cannot push ``σ_j`` down and it stays near ``σ_max``; along a direction that is no symmetry
it collapses towards the floor ``f σ_max``. That collapse is how ``k`` is chosen
(:func:`~symlab.infer.choose_k`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from .. import _checks
from .._checks import as_points
from . import _adversarial
from ._common import _square
from .algebra import LieAlgebra

__all__ = ["AlgebraFit", "AlgebraFamily", "KChoice", "learn_algebra", "choose_k",
           "principal_cosines", "compare_routes", "RouteComparison", "comparison_problems"]


# ----------------------------------------------------------------------------- subspaces
def _orthonormal_rows(B: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """``[d, m]`` → an orthonormal basis ``[r, m]`` of the rows' span (SVD, rank ``r``)."""
    if len(B) == 0:
        return B.reshape(0, B.shape[-1])
    _, s, Vt = np.linalg.svd(B, full_matrices=False)
    return Vt[s > tol * max(1.0, s[0])]


def principal_cosines(a, b) -> np.ndarray:
    """Cosines of the principal angles between the spans of two sets of matrices.

    ``a [..., k, n, n]`` and ``b [d, n, n]`` (an ``[n, n]`` is one matrix) are flattened to
    vectors of ``n²`` entries; with ``Q_a``, ``Q_b`` orthonormal bases of the two spans
    (Frobenius inner product) the cosines are the singular values of ``Q_a Q_bᵀ``, largest
    first: ``[..., min(k, d)]``. All equal to 1 iff one span contains the other.
    """
    A, B = _square(a, "a"), _square(b, "b")
    if A.ndim == 2:
        A = A[None]
    if B.ndim == 2:
        B = B[None]
    if B.ndim != 3 or A.shape[-1] != B.shape[-1]:
        raise ValueError(f"b must be [d, n, n] with the n of a; got {B.shape} and {A.shape}")
    n = A.shape[-1]
    Qb = _orthonormal_rows(B.reshape(len(B), n * n))
    lead = A.shape[:-3]
    flat = A.reshape((-1,) + A.shape[-3:-2] + (n * n,))
    out = []
    for rows in flat:
        Qa = _orthonormal_rows(rows)
        s = np.linalg.svd(Qa @ Qb.T, compute_uv=False) if len(Qa) and len(Qb) else np.zeros(0)
        m = min(A.shape[-3], len(B))
        out.append(np.pad(np.clip(s, 0.0, 1.0), (0, max(0, m - len(s))))[:m])
    return np.stack(out).reshape(lead + (-1,))


def _closure(basis: np.ndarray) -> float:
    """``max ‖[B_a, B_b] − P[B_a, B_b]‖_F`` over pairs of an orthonormal ``basis [d, n, n]``."""
    d = len(basis)
    if d < 2:
        return 0.0
    Q = _orthonormal_rows(basis.reshape(d, -1))
    worst = 0.0
    for a in range(d):
        for b in range(a + 1, d):
            c = (basis[a] @ basis[b] - basis[b] @ basis[a]).ravel()
            worst = max(worst, float(np.linalg.norm(c - Q.T @ (Q @ c))))
    return worst


# ----------------------------------------------------------------------------- result
@dataclass
class AlgebraFit:
    """Result of :func:`learn_algebra` for ``K`` runs of ``k`` generators.

    Attributes:
        generators: ``[K, k, n, n]`` the learned generators, orthonormal in the data-weighted
            inner product (each moves the standardised data at unit RMS speed per unit of
            coefficient), in the data's units.
        basis: ``[K, k, n, n]`` an orthonormal basis (Frobenius inner product) of each run's
            span, ordered by decreasing learned scale of the generators it comes from.
        scales: ``[K, k]`` the learned coefficient scales ``σ_j`` of Eq. (10.1) divided by
            ``σ_max`` (near 1: a symmetry direction; near ``floor``: collapsed), largest first.
        support: ``[n, n]`` the projector onto the directions the data occupy (the identity
            unless the data lie in a subspace); only the generators' action there is learned.
        moments: ``[n, n]`` ``C``, the second moments of the standardised data (the
            data-weighted inner product ``⟨A, B⟩_C = tr(A C Bᵀ) = E[(A z)·(B z)]``).
        centre: ``[n]`` the data mean (the group acts as ``x ↦ c + g (x − c)``).
        scale: the common spread used to standardise the data.
        loss: ``[K]`` the tail-averaged discriminator loss of Eq. (13) (≈ 2 log 2 at a
            symmetry of every sampled ``g``).
        failed: ``[K]`` runs that diverged.
        history: ``dict(steps [T], generators [T, K, k, n, n], scales [T, K, k], d_loss [T, K])``
            or ``None``.
        seconds: wall time.
        config: the settings.
    """

    generators: np.ndarray
    basis: np.ndarray
    scales: np.ndarray
    support: np.ndarray
    moments: np.ndarray
    centre: np.ndarray
    scale: float
    loss: np.ndarray
    failed: np.ndarray
    history: dict | None
    seconds: float
    config: dict = field(default_factory=dict)

    @property
    def runs(self) -> int:
        return len(self.basis)

    @property
    def k(self) -> int:
        return self.basis.shape[1]

    def __len__(self) -> int:
        return self.runs

    def _truth(self, truth) -> np.ndarray:
        if isinstance(truth, LieAlgebra):
            truth = truth.basis
        T = _square(truth, "truth")
        if T.ndim == 2:
            T = T[None]
        n = self.basis.shape[-1]
        if T.ndim != 3 or T.shape[-1] != n:
            raise ValueError(f"truth must be [d, {n}, {n}] (or one [{n}, {n}]); got {T.shape}")
        return T

    def principal_cosines(self, truth, metric: str = "data") -> np.ndarray:
        """``[K, min(k, d)]`` cosines of the principal angles between each run's span and the
        span of ``truth [d, n, n]`` (or a :class:`LieAlgebra`), largest first.

        ``metric="data"`` (default) measures angles in the data-weighted inner product
        ``⟨A, B⟩_C = E[(A z)·(B z)]``: two generators are close when they *move the data*
        alike (parts acting on directions the data barely occupy count in proportion, and
        parts acting where there are no data not at all). ``"frobenius"``: ``tr(A Bᵀ)``.
        For isotropic data the two agree."""
        T = self._truth(truth)
        metric = _checks.choice(metric, "metric", ("data", "frobenius"))
        if metric == "frobenius":
            return principal_cosines(self.basis, T)
        w, U = np.linalg.eigh(self.moments)
        half = U @ np.diag(np.sqrt(np.clip(w, 0.0, None))) @ U.T
        return principal_cosines(self.basis @ half, T @ half)

    def cosine(self, truth, metric: str = "data") -> np.ndarray:
        """``[K]`` the smallest principal cosine: every learned direction (if ``k ≤ d``) or
        every true direction (if ``k ≥ d``) is within ``arccos`` of the other span."""
        return self.principal_cosines(truth, metric).min(-1)

    def distance(self, truth, metric: str = "data") -> np.ndarray:
        """``[K]`` chordal subspace distance ``√Σ sin² θ_i`` over the principal angles."""
        c = self.principal_cosines(truth, metric)
        return np.sqrt(np.clip(1.0 - c**2, 0.0, None).sum(-1))

    def algebra(self, run: int | None = None, collapse: float = 0.5) -> LieAlgebra:
        """One run's span as a :class:`LieAlgebra` (chapter 8's type): the generators whose
        scale stayed above ``collapse``, orthonormalised. ``run=None``: :meth:`best_run`."""
        if run is None:
            run = self.best_run()
        run = _checks.index(run, "run", self.runs, "runs")
        keep = self.scales[run] >= float(collapse)
        n = self.basis.shape[-1]
        B = _orthonormal_rows(self.basis[run][keep].reshape(-1, n * n)).reshape(-1, n, n)
        s = self.scales[run][keep]
        return LieAlgebra(dimension=len(B), basis=B, basis_shifts=np.zeros((len(B), n)),
                          singular_values=s, spread=s, n_pairs=0,
                          pairs=np.zeros((0, 2), dtype=int), threshold=float(collapse),
                          closure=_closure(B))

    def best_run(self, tol: float = 0.01) -> int:
        """The run to report: among the runs that did not fail and whose tail loss is within
        ``tol`` of the best one, the run whose smallest scale is largest. (The loss alone
        would prefer a run whose scales collapsed: small moves are easy to hide.)"""
        ok = np.flatnonzero(~self.failed)
        if len(ok) == 0:
            return 0
        near = ok[self.loss[ok] >= self.loss[ok].max() - float(tol)]
        return int(near[np.argmax(self.scales[near].min(1))])

    def elements(self, coefficients, run: int = 0):
        """The maps ``g = exp(Σ_j c_j L_j)`` about the data centre for ``coefficients [m, k]``
        of one run's ``generators``: ``(M [m, n, n], V [m, n])``."""
        c = _checks.as_array(coefficients, "coefficients")
        c = c.reshape(-1, self.k)
        L = self.generators[_checks.index(run, "run", self.runs, "runs")]
        X = torch.from_numpy(np.einsum("mj,jab->mab", c, L))
        M = torch.linalg.matrix_exp(X).numpy()
        return M, self.centre - M @ self.centre

    def __repr__(self) -> str:
        return (f"AlgebraFit({self.runs} runs × {self.k} generators, "
                f"n={self.basis.shape[-1]}, {int(self.failed.sum())} failed, "
                f"{self.seconds:.1f} s)")


# ----------------------------------------------------------------------------- the family
def _antisym(A: torch.Tensor) -> torch.Tensor:
    return 0.5 * (A - A.transpose(-1, -2))


class AlgebraFamily(_adversarial.MapFamily):
    """The learner's family: per run ``k`` generator directions and ``k`` scale logits,
    packed as ``theta [K, k·n² + k]``; each transformed event gets ``exp(Σ_j c_j L_j)``.

    ``L = norm · orth_C(A)`` — the directions orthonormalised (Cholesky, i.e. Gram–Schmidt in
    order) in ``⟨A, B⟩ = tr(A C Bᵀ)`` and scaled so that ``tr(L_j C L_jᵀ) = norm²`` (the same
    normalisation as :class:`~symlab.infer.generator.OneParameterSubgroup`). ``null`` (a
    projector or ``None``) removes the block acting only on directions the data do not
    occupy, which no discriminator can see.
    """

    def __init__(self, gen, K, k, n, n_fake, antisymmetric, C, null, norm, sigma, floor,
                 reward, ramp, draws):
        self.gen, self.K, self.k, self.n = gen, K, k, n
        self.anti, self.C, self.null = antisymmetric, C, null
        self.norm, self.sigma, self.floor = float(norm), float(sigma), float(floor)
        self.reward, self.ramp, self.draws = float(reward), float(ramp), int(draws)
        self.which = torch.arange(n_fake) % self.draws
        self._sig = None

    def split(self, theta):
        K, k, n = theta.shape[0], self.k, self.n
        return theta[:, : k * n * n].reshape(K, k, n, n), theta[:, k * n * n:]

    def directions(self, A: torch.Tensor) -> torch.Tensor:
        """``[K, k, n, n]`` → orthonormal (data-weighted) directions, differentiable."""
        if self.anti:
            A = _antisym(A)
        if self.null is not None:
            P = self.null.to(A)
            A = A - P @ A @ P
        C = self.C.to(A)
        flat = A.reshape(A.shape[0], self.k, -1)
        AC = (A @ C).reshape(A.shape[0], self.k, -1)
        G = AC @ flat.transpose(1, 2)  # [K, k, k] Gram matrix
        eye = torch.eye(self.k, dtype=G.dtype, device=G.device)
        G = G + 1e-9 * G.diagonal(dim1=1, dim2=2).mean(-1)[:, None, None] * eye
        R = torch.linalg.cholesky(G)
        Q = torch.linalg.solve_triangular(R, flat, upper=False)
        return Q.reshape(A.shape)

    def sigmas(self, rho: torch.Tensor) -> torch.Tensor:
        """``[K, k]`` coefficient scales in units of ``σ_max``: ``f + (1 − f) sigmoid(ρ)``."""
        return self.floor + (1.0 - self.floor) * torch.sigmoid(rho)

    def transform(self, theta, z, frac):
        A, rho = self.split(theta)
        L = self.norm * self.directions(A)  # [K, k, n, n]
        sig = self.sigmas(rho)
        self._sig = sig
        grow = min(1.0, (1.0 + 2.0 * frac / self.ramp) / 3.0) if self.ramp > 0 else 1.0
        c = torch.randn(self.K, self.draws, self.k, generator=self.gen).to(z.device)
        c = c * (self.sigma * grow) * sig[:, None, :].to(z.dtype)
        X = torch.einsum("kdj,kjab->kdab", c, L.to(z.dtype))
        E = torch.linalg.matrix_exp(X)  # [K, draws, n, n]
        return torch.einsum("kbij,kbj->kbi", E[:, self.which.to(z.device)], z)

    def penalties(self, theta, z):
        if self.reward <= 0 or self._sig is None:
            return []
        return [(self.reward, -torch.log(self._sig).mean(-1))]

    @torch.no_grad()
    def project(self, theta):
        A, rho = self.split(theta)
        A.copy_(self.directions(A.double()).to(A))
        rho.clamp_(-8.0, 8.0)

    def to_space(self, theta):
        A, rho = self.split(theta.detach().double())
        L = self.norm * self.directions(A)
        return torch.cat([L.reshape(L.shape[0], -1), self.sigmas(rho)], 1).cpu().numpy()


# ----------------------------------------------------------------------------- learner
def _ambient(n: int, antisymmetric: bool) -> int:
    return n * (n - 1) // 2 if antisymmetric else n * n


def learn_algebra(data, k: int, seed: int = 0, runs: int = 8, steps: int = 2000,
                  antisymmetric: bool = True, norm: float = math.sqrt(2.0),
                  sigma: float = 1.5, floor: float = 0.05, reward: float = 0.02,
                  ramp: float = 0.5, draws: int = 8, batch_size: int = 128,
                  lr_g: float = 0.03, lr_d: float = 0.01, hidden=(25, 25),
                  lr_floor: float = 0.02, average: float = 0.3, eps_g: float = 0.3,
                  dim: int | None = None, record_every: int | None = None,
                  progress: bool | None = None, device=None) -> AlgebraFit:
    """Learn ``k`` generators of the symmetry algebra per run, all at once (Eq. 10.1).

    Each transformed event is mapped by ``g = exp(Σ_j c_j L_j)`` with coefficients
    ``c_j ~ N(0, (σ σ_j)²)`` of its own, and the discriminator of Eq. (13) has to tell ``x``
    from ``g x'`` (LieGAN, Yang et al. 2023). The loss reaches 2 log 2 only if the span of the
    ``L_j`` lies in the Lie algebra of the data's symmetry group.

    The trained parameters per run are ``k`` directions ``A_j [n, n]`` and ``k`` scale logits
    ``ρ_j``: ``theta [K, k·n² + k]`` for ``K`` runs, one batched call. After each step the
    directions are put back on the orthonormal frames of the data-weighted inner product,
    ``tr(L_a C L_bᵀ) = norm² δ_ab`` (``C`` the second moments of the standardised data): the
    regulariser that keeps generators independent is this exact constraint, not a penalty.
    It also closes the loophole of generators that barely move the data (see
    :func:`~symlab.infer.learn_generator`, ``normalise="data"``). The coefficient scale of
    generator ``j`` is ``σ · σ_j`` with ``σ_j = floor + (1 − floor) sigmoid(ρ_j)`` learned,
    rewarded by ``reward · (−mean_j log σ_j)``: along a symmetry it stays near 1, along a
    direction that is none it collapses to ``floor`` (the signal :func:`choose_k` reads).
    The range of the coefficients ramps from a third to all of ``σ`` over the first
    ``ramp`` fraction of the steps, as in ``learn_generator``.

    If the data occupy only a subspace (eigenvalues of ``C`` below ``1e-6`` of the largest,
    as for two-body orbits in the centre-of-mass frame), the block of ``L`` that acts only
    on the empty directions is invisible to any discriminator; it is removed, so the
    generators reported are the smallest ones with the learned action on the data.

    The loop, its optimiser and the discriminator are symlab's one training loop
    (:func:`symlab._loop.train`); every setting is passed explicitly, these defaults are the
    learner's own.

    Args:
        data: ``[N, n]`` sample or a density with ``.sample``/``.log_prob``.
        k: generators per run, ``1 ≤ k ≤`` the dimension of the ambient algebra
            (``n(n−1)/2`` for so(n), ``n²`` for gl(n)).
        seed: seeds the initial frames, discriminators, batches and coefficients.
        runs: independent runs ``K``.
        steps: training iterations (discriminator updates per run).
        antisymmetric: search so(n) (default) or all of gl(n).
        norm: RMS speed ``√tr(L C Lᵀ)`` of each generator (``√2``: unit angular speed of a 2D
            rotation of isotropic data).
        sigma: ``σ``, the largest coefficient scale.
        floor: smallest coefficient scale, in units of ``σ`` (``0 < floor < 1``).
        reward: weight of the scale reward (``0``: scales kept at their start, ≈ 1).
        ramp, draws: as in :func:`~symlab.infer.learn_generator` (``draws`` coefficient
            vectors per run and step).
        batch_size, lr_g, lr_d, hidden, lr_floor, average, eps_g: the loop's settings.
        dim: the data dimension (checked; optional).
        record_every: record every this many steps (default ~100 records, 0: none).
        progress: tqdm bar.
        device: torch device.

    Returns:
        :class:`AlgebraFit` with ``basis [K, k, n, n]`` and ``scales [K, k]``.
    """
    t0 = time.perf_counter()
    if hasattr(data, "sample") and hasattr(data, "log_prob"):
        n = _checks.count(data.dim, "data.dim")
    else:
        n = as_points(data, dim, name="data").shape[1]
    if dim is not None and _checks.count(dim, "dim") != n:
        raise ValueError(f"dim={dim} but the data have dimension {n}")
    antisymmetric = _checks.flag(antisymmetric, "antisymmetric")
    if n < 2:
        raise ValueError("learn_algebra needs data in n >= 2 dimensions (in one dimension "
                         "the only linear generator is a dilation)")
    amb = _ambient(n, antisymmetric)
    k = _checks.count(k, "k")
    if k > amb:
        raise ValueError(f"k={k} is larger than the dimension {amb} of the ambient algebra "
                         f"{'so' if antisymmetric else 'gl'}({n}); pass k <= {amb}")
    norm, sigma = _checks.rate(norm, "norm"), _checks.rate(sigma, "sigma")
    floor = _checks.fraction(floor, "floor", 0.0, 1.0, lo_open=True, hi_open=True)
    reward = _checks.nonnegative(reward, "reward")
    ramp = _checks.fraction(ramp, "ramp", 0.0, 1.0)
    draws = _checks.count(draws, "draws")
    settings = _adversarial.Settings(
        steps=steps, batch_size=batch_size, lr_g=lr_g, lr_d=lr_d, hidden=hidden,
        objective="non-saturating", lr_floor=lr_floor, average=average, eps_g=eps_g,
        lr_shift=None, optimizer="adam", cyclic=None, alpha=0.0, commutator=None)
    seed = _checks.resolve_seed(seed)
    K, B = _checks.count(runs, "runs"), settings.batch_size
    _checks.memory(K * draws * n * n * k, "runs × draws × k × n²")
    dev = _checks.device(device)

    gen = torch.Generator()
    gen.manual_seed(seed)
    sampler = _adversarial.Sampler(data, n, gen, device=dev)
    probe = sampler.draw(1, 8192)[0].double().cpu()
    C = probe.T @ probe / len(probe)
    moments = C.numpy().copy()
    evals, evecs = torch.linalg.eigh(C)
    empty = evals < 1e-6 * evals.max()
    null = support = None
    if empty.any():
        V0 = evecs[:, empty]
        null = V0 @ V0.T
        support = torch.eye(n, dtype=C.dtype) - null
    C = C + 1e-3 * torch.trace(C) / n * torch.eye(n, dtype=C.dtype)

    family = AlgebraFamily(gen, K, k, n, B - B // 2, antisymmetric, C, null, norm, sigma,
                           floor, reward, ramp, draws)
    A0 = torch.randn(K, k, n, n, generator=gen, dtype=torch.float64)
    A0 = family.directions(A0)
    rho0 = torch.full((K, k), 3.0, dtype=torch.float64)
    theta = torch.cat([A0.reshape(K, -1), rho0], 1).float().to(dev).requires_grad_(True)
    out = _adversarial.run(sampler, family, theta, settings, seed=seed,
                           record_every=record_every, progress=progress, desc="algebra")
    rec = family.to_space(out.final)
    L = rec[:, : k * n * n].reshape(K, k, n, n)
    sig = rec[:, k * n * n:]
    order = np.argsort(-sig, axis=1, kind="stable")
    L = np.take_along_axis(L, order[:, :, None, None], 1)
    sig = np.take_along_axis(sig, order, 1)
    P = np.eye(n) if support is None else support.numpy()
    basis = np.zeros_like(L)
    for r in range(K):  # Frobenius-orthonormal basis of the span, in the order of the scales
        q, _ = np.linalg.qr(L[r].reshape(k, -1).T)
        b = q.T.reshape(k, n, n)
        sign = np.sign((b * L[r]).sum((-1, -2)))
        basis[r] = b * np.where(sign == 0, 1.0, sign)[:, None, None]
    history = None
    if record_every is None or int(record_every) > 0:
        recs = np.stack(out.records)
        history = dict(steps=out.steps, generators=recs[:, :, : k * n * n].reshape(-1, K, k, n, n),
                       scales=recs[:, :, k * n * n:], d_loss=out.d_loss)
    config = dict(settings.as_dict(), runs=K, k=k, seed=seed, antisymmetric=antisymmetric,
                  norm=norm, sigma=sigma, floor=floor, reward=reward, ramp=ramp, draws=draws,
                  scale=sampler.scale)
    # generators back in the data's units: z = (x − m)/s is linear, L is unchanged
    return AlgebraFit(generators=L, basis=basis, scales=sig, support=P, moments=moments,
                      centre=sampler.centre64.numpy(), scale=sampler.scale, loss=out.loss,
                      failed=out.failed, history=history, seconds=time.perf_counter() - t0,
                      config=config)


@dataclass
class KChoice:
    """Result of :func:`choose_k`: the chosen ``k``, and per tried ``k`` the median over runs
    of the smallest learned scale and the fits themselves."""

    k: int
    tried: list
    min_scale: list
    fits: list


def choose_k(data, k_max: int | None = None, collapse: float = 0.5, quorum: float = 0.5,
             **kwargs) -> KChoice:
    """Choose the number of generators by growing ``k`` until one collapses.

    For ``k = 1, 2, …`` fit :func:`learn_algebra`; a fit *passes* when in at least
    ``quorum`` of the runs every generator kept its coefficient scale above ``collapse``
    (in units of ``σ``; a generator with no symmetry to find collapses to ``floor``). The
    answer is the last ``k`` that passed (0 if ``k = 1`` already fails); the search stops at
    the first failure or at ``k_max`` (default: the ambient algebra's dimension).
    ``kwargs`` go to :func:`learn_algebra`.
    """
    collapse = _checks.fraction(collapse, "collapse", 0.0, 1.0, lo_open=True, hi_open=True)
    quorum = _checks.fraction(quorum, "quorum", 0.0, 1.0, lo_open=True)
    tried, mins, fits, best = [], [], [], 0
    k = 1
    while True:
        fit = learn_algebra(data, k, **kwargs)
        ok = fit.scales.min(1) >= collapse
        tried.append(k)
        mins.append(float(np.median(fit.scales.min(1))))
        fits.append(fit)
        if ok.mean() < quorum:
            break
        best = k
        n = fit.basis.shape[-1]
        top = _ambient(n, kwargs.get("antisymmetric", True))
        if k >= (top if k_max is None else min(_checks.count(k_max, "k_max"), top)):
            break
        k += 1
    return KChoice(k=best, tried=tried, min_scale=mins, fits=fits)


# ----------------------------------------------------------------------------- two routes
#: SymmetryGAN's settings in chapter 10's comparison, stated explicitly (the exploration
#: phase of ``sl.discover``'s recipe, without its restarts and polishing, at the learner's
#: number of steps), so that both routes get the same discriminator updates.
SYMMETRYGAN_SETTINGS = dict(steps=2000, batch_size=128, lr_g=0.2, lr_d=0.01, hidden=(25, 25),
                            objective="non-saturating", optimizer="group", eps_g=0.01,
                            lr_floor=0.02, average=0.3, cyclic=None, commutator=None)


def _moments(data, n: int) -> np.ndarray:
    """``[n, n]`` second moments of the standardised data (as the learner computes them)."""
    gen = torch.Generator().manual_seed(0)
    z = _adversarial.Sampler(data, n, gen).draw(1, 8192)[0].double()
    return (z.T @ z / len(z)).numpy()


def _data_cosines(a, b, moments) -> np.ndarray:
    w, U = np.linalg.eigh(moments)
    half = U @ np.diag(np.sqrt(np.clip(w, 0.0, None))) @ U.T
    return principal_cosines(np.asarray(a) @ half, np.asarray(b) @ half)


@dataclass
class RouteComparison:
    """One problem of chapter 10: the elements route (SymmetryGAN → ``lie_algebra``) and
    the direct route (``learn_algebra``) with the same runs × steps.

    Attributes:
        name: the problem.
        truth_dim: the dimension of its true algebra.
        elements: the SymmetryGAN :class:`~symlab.Discovery`.
        element_algebra: its :class:`~symlab.infer.LieAlgebra`.
        element_cosine: the smallest principal cosine of that algebra to the truth (data
            metric; ``nan`` if it found no direction).
        element_runs_needed: the fewest of the first runs whose elements already give the
            true dimension with cosine ≥ 0.95 (``None``: not reached with all of them).
        element_distance: chordal distance of the element algebra to the truth.
        algebra: the :class:`~symlab.infer.AlgebraFit`.
        algebra_cosine: ``[K]`` each run's smallest cosine.
        algebra_dim: the chosen run's number of uncollapsed generators.
        algebra_distance: ``[K]`` each run's chordal distance to the truth.
        seconds: wall time of each route.
    """

    name: str
    truth_dim: int
    elements: object
    element_algebra: LieAlgebra
    element_cosine: float
    element_runs_needed: int | None
    algebra: AlgebraFit
    algebra_cosine: np.ndarray
    algebra_dim: int
    seconds: tuple
    element_distance: float = float("nan")
    algebra_distance: np.ndarray = None

    def row(self, good: float = 0.98) -> dict:
        """The table row: dimension found, subspace distance to the truth (chordal,
        ``√Σ sin² θ`` over the principal angles; ``nan`` when nothing was found), runs
        needed, seconds."""
        c = self.algebra_cosine
        ok = np.flatnonzero(c >= good)
        n_e = len(self.elements.matrices)
        return {
            "problem": self.name, "true dim": self.truth_dim,
            "SymmetryGAN dim": self.element_algebra.dimension,
            "SymmetryGAN distance": round(self.element_distance, 3),
            "SymmetryGAN runs needed": (str(self.element_runs_needed)
                                        if self.element_runs_needed is not None
                                        else f"> {n_e}"),
            "SymmetryGAN s": round(self.seconds[0], 1),
            "learner dim": self.algebra_dim,
            "learner distance (median)": round(float(np.median(self.algebra_distance)), 3),
            f"learner runs ≥ {good}": f"{len(ok)}/{len(c)}",
            "learner runs needed": str(int(ok[0]) + 1) if len(ok) else f"> {len(c)}",
            "learner s": round(self.seconds[1], 1),
        }


def compare_routes(name: str, data, space, k: int, truth, runs: int = 8, seed: int = 0,
                   antisymmetric: bool = True, progress: bool | None = None,
                   **learner) -> RouteComparison:
    """Run both routes on ``data`` with ``runs`` runs of the same number of steps each:
    SymmetryGAN in ``space`` (settings :data:`SYMMETRYGAN_SETTINGS`, steps = the learner's)
    followed by :func:`~symlab.infer.lie_algebra`, and
    :func:`~symlab.infer.learn_algebra` with ``k`` generators. ``truth [d, n, n]`` is the true algebra. Cosines are measured in the
    data-weighted inner product (see :meth:`symlab.infer.AlgebraFit.principal_cosines`)."""
    from ..gan import SymmetryGAN
    from .algebra import lie_algebra

    T = _square(truth, "truth")
    T = T[None] if T.ndim == 2 else T
    steps = learner.get("steps", 2000)
    t0 = time.perf_counter()
    settings = dict(SYMMETRYGAN_SETTINGS, steps=steps)
    disc = SymmetryGAN(space, **settings).fit(data, runs=runs, seed=seed, progress=progress)
    alg_e = lie_algebra(disc)
    t1 = time.perf_counter()
    fit = learn_algebra(data, k, seed=seed, runs=runs, antisymmetric=antisymmetric,
                        progress=progress, **learner)
    t2 = time.perf_counter()
    C = fit.moments
    d = len(T)

    def score(alg, distance=False):
        if alg.dimension == 0:
            return float("nan")
        cs = _data_cosines(alg.basis, T, C)
        if distance:
            return float(np.sqrt(np.clip(1.0 - cs**2, 0.0, None).sum()))
        return float(cs.min())

    needed = None
    ok = np.flatnonzero(~disc.failed)
    for m in range(2, len(ok) + 1):
        sub = lie_algebra(disc.matrices[ok[:m]])
        if sub.dimension == d and score(sub) >= 0.95:
            needed = int(ok[m - 1]) + 1
            break
    cos = fit.cosine(T)
    return RouteComparison(name=name, truth_dim=d, elements=disc, element_algebra=alg_e,
                           element_cosine=score(alg_e), element_runs_needed=needed,
                           algebra=fit, algebra_cosine=cos,
                           algebra_dim=fit.algebra().dimension, seconds=(t1 - t0, t2 - t1),
                           element_distance=score(alg_e, distance=True),
                           algebra_distance=fit.distance(T))


# ----------------------------------------------------------------------------- chapter 10
def rotation_generator(n: int, i: int, j: int) -> np.ndarray:
    """``[n, n]`` the generator ``E_ij − E_ji`` of rotations in the plane of axes ``i, j``."""
    L = np.zeros((n, n))
    L[i, j], L[j, i] = 1.0, -1.0
    return L


def comparison_problems(orbit_points) -> list:
    """Chapter 10's five problems as dicts (``name, data, space, k, antisymmetric, truth``):
    N_{1,1} in gl(2) (SymmetryGAN in O(2)); a 3-D Gaussian with covariance diag(1, 1, 4) in
    so(3); two 3-vectors rotated together (``symlab.problems.two_vectors_sample``, 50 000
    events) in so(6); the bundled dijets in so(4); the two-body states ``orbit_points
    [N, 8]`` in so(8)."""
    from .. import data as _data
    from .. import paper, spaces
    from ..densities import Gaussian
    from ..problems import two_vectors_sample

    E = rotation_generator
    diag3 = np.stack([E(6, a, b) + E(6, a + 3, b + 3) for a, b in ((0, 1), (0, 2), (1, 2))])
    return [
        dict(name="N11", data=paper.n11(), space=spaces.O2(), k=1, antisymmetric=False,
             truth=E(2, 0, 1)),
        dict(name="Gaussian 3D", data=Gaussian([0.0] * 3, [1.0, 1.0, 4.0]), space=spaces.SO(3),
             k=1, antisymmetric=True, truth=E(3, 0, 1)),
        dict(name="two 3-vectors", data=two_vectors_sample(50_000, 0), space=spaces.SO(6), k=3,
             antisymmetric=True, truth=diag3),
        dict(name="dijets", data=_data.load_dijets(), space=spaces.SO(4), k=1,
             antisymmetric=True, truth=E(4, 0, 1) + E(4, 2, 3)),
        dict(name="two-body", data=np.asarray(orbit_points), space=spaces.SO(8), k=1,
             antisymmetric=True, truth=np.kron(np.eye(4), E(2, 1, 0))),
    ]


def plot_scales(ax, fit: AlgebraFit, title: str = ""):
    """The learned coefficient scales ``σ_j / σ_max`` of every run along training (one line
    per run and generator; colour = generator index after sorting by final scale)."""
    h = fit.history
    if h is None:
        raise ValueError("the fit has no history (record_every=0)")
    order = np.argsort(-h["scales"][-1], axis=1, kind="stable")
    s = np.take_along_axis(h["scales"], order[None], 2)
    colors = ["C0", "C1", "C2", "C3", "C4", "C5"]
    for j in range(s.shape[2]):
        for r in range(s.shape[1]):
            ax.plot(h["steps"], s[:, r, j], color=colors[j % 6], lw=0.8, alpha=0.7,
                    label=f"generator {j + 1}" if r == 0 else None)
    ax.axhline(0.5, color="k", ls=":", lw=0.8)
    ax.set_xlabel("step")
    ax.set_ylabel(r"scale $\sigma_j / \sigma_{\max}$")
    ax.set_ylim(0, 1.05)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def plot_generator(ax, L, title: str = "", labels=None):
    """A generator ``[n, n]`` as a signed heat map (scaled to its largest entry)."""
    L = np.asarray(L, dtype=float)
    m = np.abs(L).max() or 1.0
    ax.imshow(L / m, cmap="RdBu_r", vmin=-1, vmax=1)
    n = len(L)
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    if labels is not None:
        ax.set_xticklabels(labels, fontsize=7, rotation=90)
        ax.set_yticklabels(labels, fontsize=7)
    else:
        ax.set_xticklabels([])
        ax.set_yticklabels([])
    if title:
        ax.set_title(title, fontsize=10)
    return ax
