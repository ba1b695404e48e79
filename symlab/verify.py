"""Post-hoc checks of a discovered map: a held-out classifier test and the azimuthal KL (§VI).

:func:`posthoc` trains a fresh classifier to tell data ``x`` from transformed data
``g(x) = M x + V`` and scores it on points it never saw. If ``g`` is a symmetry the two
samples have the same distribution, so no classifier can beat chance: the held-out binary
cross entropy per sample stays at ``ln 2`` (``2 ln 2`` in the two-term form of Eq. 13, the
value Fig. 16 compares with) and the ROC AUC at ``1/2`` up to its statistical error. Unlike
the final *training* loss of a classifier (which also measures overfitting), held-out numbers
give a calibrated test: under the null hypothesis "``g`` is a symmetry" the AUC is a
Mann–Whitney statistic with known standard deviation σ₀.

:func:`azimuthal_kl` is the check of Fig. 15: the KL divergence between the histograms of
the azimuthal angle ``φ = atan2(p_y, p_x)`` of each particle before and after the map (one
sample or a stack of ``K`` transformed samples at once); :func:`azimuthal_kl_floor` gives its
finite-sample floor, the KL between two exactly uniform samples of the same sizes.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from . import _checks
from ._checks import as_points
from .discriminator import EnsembleMLP

__all__ = ["PosthocResult", "posthoc", "roc_auc", "azimuthal_kl", "azimuthal_kl_floor", "rayleigh"]

LN2 = math.log(2.0)


# ----------------------------------------------------------------------------- ROC AUC
def _hanley_mcneil(auc: float, n_pos: int, n_neg: int) -> float:
    """Standard error of an AUC estimate (Hanley & McNeil 1982, Radiology 143, 29)."""
    q1 = auc / (2.0 - auc)
    q2 = 2.0 * auc * auc / (1.0 + auc)
    var = (auc * (1.0 - auc) + (n_pos - 1) * (q1 - auc * auc)
           + (n_neg - 1) * (q2 - auc * auc)) / (n_pos * n_neg)
    return math.sqrt(max(var, 0.0))


def _as_scores(s, name: str) -> np.ndarray:
    arr = _checks.as_array(s, name, finite=False).ravel()
    if arr.size == 0:
        raise ValueError(f"{name} is empty: pass at least one score")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or inf; drop or fix those scores first")
    return arr


def roc_auc(scores_pos, scores_neg) -> tuple[float, float]:
    """ROC AUC ``P(score_pos > score_neg) + ½ P(tie)`` and its Hanley–McNeil standard error.

    Computed from ranks (the Mann–Whitney U statistic), with tied scores given their average
    rank, in ``O(N log N)``.

    Args:
        scores_pos: ``[n₁]`` scores of the positive class (here: real data).
        scores_neg: ``[n₂]`` scores of the negative class (here: transformed data).

    Returns:
        ``(auc, se)`` as floats.
    """
    pos, neg = _as_scores(scores_pos, "scores_pos"), _as_scores(scores_neg, "scores_neg")
    n1, n2 = pos.size, neg.size
    values = np.concatenate([pos, neg])
    order = np.argsort(values, kind="mergesort")
    sorted_v = values[order]
    starts = np.flatnonzero(np.r_[True, sorted_v[1:] != sorted_v[:-1]])
    ends = np.r_[starts[1:], values.size]
    ranks = np.empty(values.size)
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)  # 1-based mean rank
    auc = (ranks[:n1].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n2)
    return float(auc), _hanley_mcneil(float(auc), n1, n2)


# ----------------------------------------------------------------------------- post-hoc test
@dataclass
class PosthocResult:
    """Held-out classifier test of ``K`` maps; every field is an array ``[K]``.

    Attributes:
        loss: mean binary cross entropy per held-out sample (real and transformed points in
            equal numbers); ``ln 2`` for a symmetry, lower when the classifier tells them apart.
        auc: ROC AUC of the classifier on the held-out points (real = positive class).
        auc_err: its Hanley–McNeil standard error.
        sigma0: standard deviation of the AUC if ``g`` is a symmetry,
            ``σ₀ = √((n₁ + n₂ + 1) / (12 n₁ n₂))``.
        z: ``(auc − ½) / σ₀``.
        p_value: two-sided p-value of ``z`` for "indistinguishable" (normal approximation).
        n_test: held-out points per class.
        seconds: wall time of the call.

    A single matrix gives ``K = 1``: read ``result.auc[0]`` (or ``float(result.auc)``).
    """

    loss: np.ndarray
    auc: np.ndarray
    auc_err: np.ndarray
    sigma0: np.ndarray
    z: np.ndarray
    p_value: np.ndarray
    n_test: int
    seconds: float

    @property
    def loss_eq13(self) -> np.ndarray:
        """``[K]`` the loss in the two-term form of Eq. (13) (= 2·``loss``): ``2 ln 2`` at a symmetry."""
        return 2.0 * self.loss

    @property
    def loss_gap(self) -> np.ndarray:
        """``[K]`` ``loss − ln 2``: ≈ 0 for a symmetry, negative when the classifier wins."""
        return self.loss - LN2

    def passed(self, nsigma: float = 3.0) -> np.ndarray:
        """``[K]`` bool: ``|AUC − ½| ≤ nsigma · σ₀`` (consistent with a symmetry)."""
        return np.abs(self.auc - 0.5) <= _checks.rate(nsigma, "nsigma") * self.sigma0

    def __len__(self) -> int:
        return len(self.auc)

    def summary(self) -> str:
        """One line per map: AUC ± error, z, p-value, loss − ln 2."""
        rows = [f"{k:3d}: AUC = {a:.4f} ± {e:.4f}  z = {z:+.2f}  p = {p:.3g}  loss − ln2 = {g:+.4f}"
                for k, (a, e, z, p, g) in enumerate(zip(self.auc, self.auc_err, self.z, self.p_value,
                                                        self.loss_gap, strict=True))]
        return "\n".join(rows)


def _maps(matrix, shift, dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate ``matrix [n, n] | [K, n, n]`` and ``shift None | [n] | [K, n]``; float64 tensors."""
    M = torch.from_numpy(_checks.as_array(matrix, "matrix", finite=False).copy())
    if M.ndim == 2:
        M = M[None]
    if M.ndim != 3 or M.shape[-1] != M.shape[-2] or M.shape[0] == 0:
        raise ValueError(f"matrix must have shape [n, n] or [K, n, n] (square); got "
                         f"{tuple(M.shape)}. Stack several maps along a first axis.")
    if M.shape[-1] != dim:
        raise ValueError(f"matrix acts on dimension {M.shape[-1]} but the data have dimension "
                         f"{dim}: pass {dim}x{dim} matrices")
    if not torch.isfinite(M).all():
        raise ValueError("matrix contains NaN or inf; drop the failed runs first")
    K = M.shape[0]
    if shift is None:
        return M, torch.zeros(K, dim, dtype=torch.float64)
    V = torch.from_numpy(_checks.as_array(shift, "shift", finite=False).copy())
    if V.ndim == 1:
        V = V[None]
    if V.ndim != 2 or V.shape[-1] != dim or V.shape[0] not in (1, K):
        raise ValueError(f"shift must have shape [{dim}] or [K={K}, {dim}] to match the matrix; "
                         f"got {tuple(V.shape)}")
    if not torch.isfinite(V).all():
        raise ValueError("shift contains NaN or inf")
    return M, V.expand(K, dim)


def _as_callables(maps, shift) -> list | None:
    """``None`` for matrices; else the list of maps ``[N, n] -> [N, n]`` to test: one callable,
    a list/tuple of callables, or a result with ``transform(x, run=k)`` and ``len`` (a
    :class:`symlab.Discovery` or a flow fit: every run)."""
    if hasattr(maps, "transform") and hasattr(maps, "__len__"):
        fns = [lambda z, k=k: maps.transform(z, run=k) for k in range(len(maps))]
    elif callable(maps):
        fns = [maps]
    elif isinstance(maps, (list, tuple)) and maps and all(callable(f) for f in maps):
        fns = list(maps)
    else:
        return None
    if shift is not None:
        raise ValueError("shift is only for matrices; a callable map includes its translation")
    return fns


def _apply_callables(fns: list, z: torch.Tensor) -> torch.Tensor:
    """``[K, q, n]``: each map applied to the points ``z [q, n]`` (float64), shapes checked."""
    out = []
    for k, fn in enumerate(fns):
        y = fn(z.numpy().copy())
        y = torch.as_tensor(np.asarray(y.detach().cpu() if isinstance(y, torch.Tensor) else y,
                                       dtype=np.float64))
        if y.shape != z.shape:
            raise ValueError(f"map {k} returned shape {tuple(y.shape)} for points of shape "
                             f"{tuple(z.shape)}; a map must send [N, n] to [N, n]")
        if not torch.isfinite(y).all():
            raise ValueError(f"map {k} returned NaN or inf; drop failed runs first")
        out.append(y)
    return torch.stack(out)


def posthoc(data, matrix, shift=None, seed: int = 0, n: int = 20_000, hidden=(32, 32),
            epochs: int = 15, batch_size: int = 256, lr: float = 3e-3) -> PosthocResult:
    """Held-out classifier test of whether ``g(x) = M x + V`` is a symmetry of ``data``.

    The points are shuffled and cut into four disjoint quarters A, B, C, D. A classifier
    learns real ``A`` against transformed ``g(B)`` and is scored on real ``C`` against
    transformed ``g(D)``: since no point appears both raw and transformed, the classifier
    cannot win by matching pairs. Inputs are standardised with the mean and one common scale
    of ``A``. For ``K`` maps, ``K`` independent classifiers (an ``EnsembleMLP``) train in
    one batched computation on the same split. Everything is deterministic given ``seed``.

    Args:
        data: a finite sample ``[N, n]`` (subsampled to ``n`` points if larger) or a density
            (``n`` points drawn with ``seed``).
        matrix: ``[n, n]`` or ``[K, n, n]`` — or nonlinear maps: a callable ``[N, n] -> [N, n]``
            (numpy in; numpy or tensor out), a list of them, or a fit result with
            ``transform(x, run=k)`` (every run is tested).
        shift: ``None`` (zero), ``[n]`` (shared) or ``[K, n]``.
        seed: seeds the draw, the split, the initial weights and the minibatch order (an
            integer ``>= 0``; ``None`` draws one fresh seed from the OS for all of them).
        n: number of points used (a quarter of them per role).
        hidden, epochs, batch_size, lr: the classifier (ReLU MLP) and its Adam training;
            ``batch_size`` points of each class per step.

    Returns:
        :class:`PosthocResult` with ``[K]`` arrays (``K = 1`` for a single matrix).

    The defaults were tuned on N₁,₁ (Eq. 21) with n = 20 000: against x ↦ 2x (best possible
    AUC 4/5, since r² is exponential) ten seeds gave AUC 0.793–0.805; against a rotation
    ``|z| < 1.7``. One map takes ~0.2 s and 128 maps ~9 s on two CPU cores.
    """
    start = time.perf_counter()
    n = _checks.integer(n, "n", maximum=_checks.MAX_COUNT)
    if n < 40:
        raise ValueError(f"n must be at least 40 (10 points per quarter); got {n}")
    epochs = _checks.count(epochs, "epochs")
    batch_size = _checks.count(batch_size, "batch_size")
    lr = _checks.rate(lr, "lr")
    hidden = _checks.hidden(hidden)
    seed = _checks.resolve_seed(seed)  # None: fresh OS entropy, then one seed for everything
    gen = torch.Generator().manual_seed(int(seed))
    if hasattr(data, "sample") and hasattr(data, "log_prob"):
        x = as_points(data.sample(int(n), seed=gen), name="data", dtype=torch.float64).cpu()
    else:
        x = as_points(data, name="data", min_points=40, dtype=torch.float64).cpu()
    fns = _as_callables(matrix, shift)  # nonlinear maps: a callable, a list, a Discovery
    if fns is None:
        M, V = _maps(matrix, shift, x.shape[1])
    K, dim = (M.shape[0] if fns is None else len(fns)), x.shape[1]

    perm = torch.randperm(x.shape[0], generator=gen)[: int(n)]
    q = len(perm) // 4
    real_a, src_b, real_c, src_d = (x[perm[i * q:(i + 1) * q]] for i in range(4))
    centre = real_a.mean(dim=0)
    scale = (real_a - centre).square().mean().sqrt()  # float64: any data scale is fine
    if not (torch.isfinite(scale) and scale > 0):
        raise ValueError(f"data: the RMS spread of the points is {float(scale):.3g}; the test needs "
                         "points that differ and a finite spread in float64 (rescale the data).")

    def prepare(z):  # standardise and cast for training
        return ((z - centre) / scale).float()

    def transform(z):  # g_k(z) for every map: [q, n] -> [K, q, n]
        if fns is not None:
            return _apply_callables(fns, z)
        return z @ M.transpose(-1, -2) + V[:, None, :]

    train_real, train_fake = prepare(real_a), prepare(transform(src_b))  # [q, n], [K, q, n]
    test_real, test_fake = prepare(real_c), prepare(transform(src_d))

    net = EnsembleMLP(K, dim, hidden=hidden, seed=int(seed))
    opt = torch.optim.Adam(net.parameters(), lr=float(lr))
    b = max(1, min(int(batch_size), q))
    labels = torch.cat([torch.ones(b), torch.zeros(b)])
    for _ in range(int(epochs)):
        order = torch.randperm(q, generator=gen)
        for i in range(0, q - b + 1, b):
            idx = order[i:i + b]
            batch = torch.cat([train_real[idx].expand(K, b, dim), train_fake[:, idx]], dim=1)
            loss = F.binary_cross_entropy_with_logits(net(batch), labels.expand(K, 2 * b),
                                                      reduction="none").mean(dim=1).sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    with torch.no_grad():
        logit_real = net(test_real.expand(K, q, dim)).double()  # [K, q]
        logit_fake = net(test_fake).double()
    bce = 0.5 * (F.softplus(-logit_real).mean(dim=1) + F.softplus(logit_fake).mean(dim=1))
    auc, err = np.array([roc_auc(r, f) for r, f in zip(logit_real.numpy(), logit_fake.numpy(),
                                                        strict=True)]).T.reshape(2, K)
    sigma0 = math.sqrt((2 * q + 1) / (12.0 * q * q))
    z = (auc - 0.5) / sigma0
    p_value = np.array([math.erfc(abs(v) / math.sqrt(2.0)) for v in z])
    return PosthocResult(loss=bce.numpy(), auc=auc, auc_err=err, sigma0=np.full(K, sigma0), z=z,
                         p_value=p_value, n_test=q, seconds=time.perf_counter() - start)


# ----------------------------------------------------------------------------- azimuthal KL
def _phi_counts(pts: np.ndarray, bins: int) -> np.ndarray:
    """Histogram counts of ``φ = atan2(p_y, p_x)`` per particle: ``[..., N, 2k] -> [..., k, bins]``.

    The bins split ``[−π, π)`` evenly (φ = π is folded to −π), as ``np.histogram`` with edges
    ``linspace(−π, π, bins + 1)`` would (up to floating-point ties at interior edges).
    """
    phi = np.arctan2(pts[..., 1::2], pts[..., 0::2])          # [..., N, k]
    idx = np.floor((phi + math.pi) * (bins / (2.0 * math.pi))).astype(np.int64)
    idx = np.where(idx >= bins, idx - bins, idx)               # φ = π (and round-up) -> first bin
    idx = np.clip(idx, 0, bins - 1)
    idx = np.moveaxis(idx, -2, -1)                             # [..., k, N]
    lead = idx.shape[:-1]
    flat = idx.reshape(-1, idx.shape[-1]) + bins * np.arange(int(np.prod(lead)))[:, None]
    counts = np.bincount(flat.ravel(), minlength=bins * flat.shape[0]).astype(np.float64)
    return counts.reshape(*lead, bins)


def _kl_from_counts(cx: np.ndarray, cy: np.ndarray) -> np.ndarray:
    """``KL(P_x ‖ P_y)`` of normalised count arrays along the last axis (0 where ``P_x = 0``)."""
    px = cx / cx.sum(axis=-1, keepdims=True)
    py = cy / cy.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(px > 0, px * (np.log(px) - np.log(py)), 0.0)
    return terms.sum(axis=-1)


def azimuthal_kl(x, y, bins: int = 100) -> np.ndarray:
    """KL divergence of the azimuthal-angle histograms of ``x`` and ``y``, per particle (Fig. 15).

    The ``2k`` columns are read as ``k`` pairs ``(p_x, p_y)`` (e.g. dijets
    ``(p1x, p1y, p2x, p2y)``). For each pair, ``φ = atan2(p_y, p_x)`` is histogrammed over
    ``[−π, π)`` in ``bins`` equal bins (φ = π is folded to −π), both histograms are normalised
    and ``KL(P_x ‖ P_y) = Σ P_x log(P_x / P_y)`` is returned — the same number as
    ``scipy.stats.entropy(counts_x, counts_y)``. Bins empty in ``x`` contribute 0; a bin filled
    in ``x`` but empty in ``y`` makes the result ``inf`` (use fewer bins or more points).

    Args:
        x: ``[N, 2k]`` original points.
        y: ``[M, 2k]`` transformed points (``M`` may differ from ``N``), or ``[K, M, 2k]``:
            ``K`` transformed samples at once (e.g. ``x_b @ matrices.transpose(0, 2, 1)`` for
            ``K`` learned maps), each compared with ``x``.
        bins: number of φ bins (the original study used 1000 with ~10⁶ events).

    Returns:
        ``np.ndarray [k]`` (or ``[K, k]`` for a stack of samples ``y``).
    """
    bins = _checks.count(bins, "bins", maximum=10**7)
    xs = as_points(x, name="x", min_points=1, dtype=torch.float64).numpy()
    if xs.shape[1] % 2:
        raise ValueError(f"x has {xs.shape[1]} columns; azimuthal_kl needs an even number, "
                         f"read as (px, py) pairs")
    stacked = np.ndim(y) == 3
    if stacked:
        ys = _checks.as_array(y, "y", finite=False)
        if 0 in ys.shape[:2]:
            raise ValueError(f"y is empty (shape {ys.shape}): pass [K, M, 2k] with K, M >= 1")
        if not np.isfinite(ys).all():
            raise ValueError("y contains NaN or inf; drop the failed maps or fix the points first")
    else:
        ys = as_points(y, name="y", min_points=1, dtype=torch.float64).numpy()
    if ys.shape[-1] != xs.shape[1]:
        raise ValueError(f"x has {xs.shape[1]} columns but y has {ys.shape[-1]}: pass the same "
                         f"(px, py) pairs before and after the map")
    cx = _phi_counts(xs, bins)                                   # [k, bins]
    cy = _phi_counts(ys, bins)                                   # [k, bins] or [K, k, bins]
    return _kl_from_counts(np.broadcast_to(cx, cy.shape), cy)


def azimuthal_kl_floor(n_x: int, n_y: int, bins: int = 100, trials: int = 128,
                       seed: int = 0) -> np.ndarray:
    """The finite-sample floor of :func:`azimuthal_kl`: KL between two exactly uniform samples.

    Draws ``trials`` pairs of independent samples of ``φ ~ U[−π, π)`` with ``n_x`` and ``n_y``
    points and returns the KL divergence of their histograms (same ``bins`` as
    :func:`azimuthal_kl`). This is what an exact symmetry of data with uniform azimuths would
    give, compared on disjoint samples of these sizes (the "irreducible noise" of Fig. 15); its
    mean is close to ``(bins − 1) (1/n_x + 1/n_y) / 2``.

    Returns:
        ``np.ndarray [trials]``.
    """
    n_x, n_y = _checks.count(n_x, "n_x"), _checks.count(n_y, "n_y")
    trials, bins = _checks.count(trials, "trials"), _checks.count(bins, "bins", maximum=10**7)
    _checks.memory(trials * bins, "trials x bins")
    rng = np.random.default_rng(_checks.resolve_seed(seed))

    def counts(n):  # multinomial bin counts of n uniform angles: the same law as histogramming them
        return rng.multinomial(int(n), np.full(bins, 1.0 / bins), size=trials).astype(np.float64)

    return _kl_from_counts(counts(n_x), counts(n_y))


def rayleigh(angles, period: float = 2 * math.pi) -> tuple[float, float]:
    """Rayleigh test of uniformity for angles on a circle of circumference ``period``.

    ``angles`` (any shape, radians when ``period = 2π``) are mapped to the unit circle,
    ``u = exp(2πi·angle/period)``; the mean resultant length ``R = |mean u|`` is near 0 for
    uniform angles and near 1 when they cluster. For ``n`` angles the statistic ``Z = n R²``
    has approximately the p-value ``exp(√(1 + 4n + 4(n² − nZ)) − (1 + 2n))`` (the
    approximation given in Zar, *Biostatistical Analysis*; the tests check its calibration at
    ``n = 20``). A preferred direction of period
    ``period / k`` shows up with the angles multiplied by ``k`` (mirror axes that avoid 0° and
    90°: ``rayleigh(4 α)``).

    Returns:
        ``(R, p)``: the mean resultant length and the p-value of uniformity.
    """
    a = _checks.as_array(angles, "angles").ravel()
    if a.size < 2:
        raise ValueError(f"angles: the Rayleigh test needs at least 2 angles; got {a.size}")
    period = _checks.rate(period, "period")
    n = a.size
    R = float(np.abs(np.exp(2j * np.pi * a / period).mean()))
    Z = n * R * R
    p = math.exp(math.sqrt(1 + 4 * n + 4 * (n * n - n * Z)) - (1 + 2 * n))
    return R, min(1.0, p)


def gaussian_error(matrices, shifts, mean, cov) -> tuple[np.ndarray, np.ndarray]:
    """The exact symmetry test for a Gaussian ``N(μ, Σ)``: how far ``g(x) = M x + V`` is from
    preserving it.

    ``g`` maps ``N(μ, Σ)`` to ``N(M μ + V, M Σ Mᵀ)``, so it is a symmetry exactly when
    ``M Σ Mᵀ = Σ`` and ``M μ + V = μ`` (§V.B).

    Args:
        matrices: ``[K, n, n]`` (or one ``[n, n]``) linear parts ``M``.
        shifts: ``[K, n]`` (or one ``[n]``) translations ``V``, or None for zero.
        mean: ``[n]`` the mean ``μ``.
        cov: ``[n, n]`` the covariance ``Σ``.

    Returns:
        ``(cov_error [K], mean_error [K])``: ``‖M Σ Mᵀ − Σ‖_F / ‖Σ‖_F`` and
        ``‖M μ + V − μ‖`` (one number each for a single ``M``).
    """
    M = _checks.as_array(matrices, "matrices", min_ndim=2, allow_empty=False)
    single = M.ndim == 2
    M = M.reshape((-1,) + M.shape[-2:])
    n = M.shape[-1]
    if M.shape[-2] != n:
        raise ValueError(f"matrices must be square [K, n, n]; got shape {M.shape}")
    mu = _checks.as_array(mean, "mean", ndim=1)
    S = _checks.as_array(cov, "cov", ndim=2)
    if mu.shape != (n,) or S.shape != (n, n):
        raise ValueError(f"mean must be [{n}] and cov [{n}, {n}] for {n}x{n} matrices; got "
                         f"{mu.shape} and {S.shape}")
    V = np.zeros((len(M), n)) if shifts is None else \
        _checks.as_array(shifts, "shifts").reshape(-1, n)
    if len(V) != len(M):
        raise ValueError(f"shifts has {len(V)} rows for {len(M)} matrices")
    cov_err = np.linalg.norm(M @ S @ np.swapaxes(M, -1, -2) - S, axis=(-2, -1)) \
        / np.linalg.norm(S)
    mean_err = np.linalg.norm(M @ mu + V - mu, axis=-1)
    return (cov_err[0], mean_err[0]) if single else (cov_err, mean_err)
