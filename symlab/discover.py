"""``sl.discover``: from data to its verified symmetry group, in one call.

The pipeline:

1. **Split.** A finite sample is shuffled and cut into a training part and a held-out part
   (``test_fraction``); a density trains on fresh events and is verified on a fresh sample.
2. **Train** ``runs`` SymmetryGANs from starts spread uniformly on the group
   (``space.sample_uniform``): on a compact group with SymmetryGAN's defaults there, on other
   spaces with the discovery recipe (:data:`RECIPE`: the basis-free natural-gradient
   optimiser of :class:`symlab._loop.GroupAdam`), then polish each run with two short fits
   of small steps (``POLISH``, ``SETTLE``).
3. **Global search.** A run that settles at a spurious maximum ends with its training loss
   below ``2 log 2`` by more than the batch noise. The first fit trains ``spares`` more runs
   than asked for, in the same batch (a few more runs cost little more per step, while a
   restart round costs about a whole fit); converged spares replace stuck runs. Runs still stuck after that start again, up
   to ``restarts`` times, from ``tries`` new uniform starts each (all of them in one batched
   fit) and keep the best of their results. The report counts the restarts (a run replaced
   by a spare counts once).
4. **Verify.** Runs whose loss is within the noise of ``2 log 2`` are merged into distinct
   elements (maps closer than ``merge`` in ``‖ΔM‖_F + ‖ΔV‖/scale``); each element is tested
   on the held-out part with :func:`symlab.verify.posthoc` (all held-out points, up to
   ``verify_points``; epochs from :func:`verify_epochs`), one-sided (a classifier that tells data from transformed data beats
   chance), with a Bonferroni correction over the ``m`` elements tested: an element is
   rejected when its p-value is below ``level / m``.
5. **Structure.** The verified elements give the identity component's Lie algebra
   (:func:`symlab.infer.lie_algebra`, with products of relative elements, ``densify``) and
   the number of connected components (:func:`symlab.infer.components`, linking elements
   whose relative element lies in that algebra). "Only the identity" is a valid answer.
   When the candidates' algebra is 0-dimensional (a finite group), products of candidates
   that no run reached are polished and tested too (``compose``).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from . import _checks, infer, verify
from .gan import Discovery, SymmetryGAN
from .spaces import SearchSpace

__all__ = ["RECIPE", "POLISH", "SETTLE", "GroupReport", "discover", "recipe_for",
           "verify_epochs"]

LOG4 = 2.0 * math.log(2.0)

#: The settings ``sl.discover`` explores with on spaces with dilations, shears or
#: translations: the basis-free optimiser (:class:`symlab._loop.GroupAdam`) with long
#: normalised steps (``lr_g``) that stay normalised down to small gradients (``eps_g``),
#: translations five times slower (``lr_shift``), and a cosine schedule of 3000 steps;
#: every run is then polished (``POLISH``). Exploration only has to reach a symmetry's basin
#: (the polishing stages make it precise). On the 17 such problems of the discovery suite
#: (seed 0, two threads) 3000 exploration steps gave success 1.000 on each (5000 steps: 1.000
#: on 16, 0.969 on N₁,₁ with ``Iwasawa2D``; 2000 steps on one thread: 0.969 on the lopsided
#: 2-D sample) and no false element; the whole suite took 840.7 s (938–989 s with 5000).
#: On a compact group ``sl.discover`` explores with SymmetryGAN's defaults there
#: (``symlab._loop.COMPACT_DEFAULTS``), which succeed more often.
RECIPE = dict(optimizer="group", steps=3000, lr_g=0.2, eps_g=0.01, lr_shift=0.04)


def recipe_for(space: SearchSpace) -> dict:
    """The exploration settings of :func:`discover` on ``space`` (empty: the defaults)."""
    return {} if space.compact else dict(RECIPE)


#: The polishing fit that starts where exploration ended, with the same optimiser and forty
#: times shorter steps, so that a fresh discriminator can settle without moving the map far;
#: it pulls in the runs that exploration left a few hundredths off (N₁,₂ with
#: ``RotationScale2D``: 90 % of the runs within 0.025 of a symmetry after it).
POLISH = dict(optimizer="group", steps=1500, lr_g=0.005, eps_g=0.01, lr_shift=0.001)

#: A second polishing fit with five times shorter steps again, which removes the jitter the
#: first one leaves (~0.005–0.013 in ``‖ΔM‖_F``). The held-out test of 25 000 points per
#: class rejects a true element of the octagon's D8 that is 0.008 off. Measured with seed 0,
#: 2 threads: the octagon (64 runs) verified 15 of its 16 elements with 750 steps here and
#: all 16 with 1500; the 8-gon (48 runs) 14 of 16 with ``POLISH`` alone, 16 with both
#: stages (two of them by composition); N₁,₂ with ``RotationScale2D`` keeps 97 % of its
#: runs within tolerance (``lr_g = 0.001`` alone, without ``POLISH``: 84 %).
SETTLE = dict(optimizer="group", steps=1500, lr_g=0.001, eps_g=0.01, lr_shift=0.0002)


@dataclass
class GroupReport:
    """What :func:`discover` found.

    Attributes:
        elements: ``[m, n, n]`` linear parts of the distinct verified symmetries.
        shifts: ``[m, n]`` their translations.
        p_values: ``[m]`` one-sided p-values of the held-out test of each element.
        z: ``[m]`` its z-scores (AUC − ½ in units of its null standard deviation).
        counts: ``[m]`` how many runs ended at each element (0: found by composition).
        algebra: :class:`symlab.infer.LieAlgebra` of the identity component (``None`` if
            fewer than two elements).
        components: number of connected components among the verified elements.
        discovery: the underlying :class:`symlab.Discovery` (every run, rejected ones too).
        candidates: how many distinct elements were tested.
        rejected: ``[r, n, n]`` the candidates the held-out test rejected.
        rejected_p: ``[r]`` their p-values.
        restarts: ``[K]`` how many times each run was restarted.
        threshold: a run counts as converged when its training loss is above this.
        level: the family-wise level of the held-out tests (Bonferroni).
        n_test: held-out points per class in each test.
        seconds: wall time.
        space: the search space, as text.
        composed: candidates added by composing candidates (``compose``).
        extra: room for what a caller adds.
    """

    elements: np.ndarray
    shifts: np.ndarray
    p_values: np.ndarray
    z: np.ndarray
    counts: np.ndarray
    algebra: object
    components: int
    discovery: Discovery
    candidates: int
    rejected: np.ndarray
    rejected_p: np.ndarray
    restarts: np.ndarray
    threshold: float
    level: float
    n_test: int
    seconds: float
    space: str = ""
    composed: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def identity_only(self) -> bool:
        """True when the only verified symmetry is (near) the identity."""
        n = self.elements.shape[-1] if self.elements.ndim == 3 else 0
        if len(self.elements) == 0:
            return True
        eye = np.eye(n)
        d = np.linalg.norm(self.elements - eye, axis=(1, 2)) + np.linalg.norm(self.shifts, axis=1)
        return bool(len(self.elements) == 1 and d[0] < 0.1)

    def summary(self) -> str:
        """A table a person can read."""
        K = self.discovery.runs
        conv = int((self.discovery.loss > self.threshold).sum())
        lines = [
            f"sl.discover on {self.space}: {K} runs, {conv} converged (loss > "
            f"{self.threshold:.4f}), {int((self.restarts > 0).sum())} restarted "
            f"({int(self.restarts.sum())} restarts), {self.seconds:.1f} s",
            f"{self.candidates} distinct candidate(s) ({self.composed} by composition) tested "
            f"on {self.n_test} held-out points per class; {len(self.elements)} verified, "
            f"{len(self.rejected)} rejected (Bonferroni, family-wise level {self.level})",
        ]
        dim = None if self.algebra is None else self.algebra.dimension
        lines.append(f"group: {len(self.elements)} element(s), {self.components} component(s), "
                     f"Lie algebra of dimension {dim if dim is not None else 'n/a'}"
                     + ("  — only the identity" if self.identity_only else ""))
        lines.append(f"{'#':>3} {'runs':>5} {'det':>6} {'|M - 1|':>8} {'|V|':>7} {'z':>6} "
                     f"{'p':>8}")
        n = self.elements.shape[-1] if len(self.elements) else 0
        for i, (M, V) in enumerate(zip(self.elements, self.shifts)):
            lines.append(f"{i:>3} {int(self.counts[i]):>5} {np.linalg.det(M):>6.3f} "
                         f"{np.linalg.norm(M - np.eye(n)):>8.3f} {np.linalg.norm(V):>7.3f} "
                         f"{self.z[i]:>6.2f} {self.p_values[i]:>8.3g}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict:
        """Everything a JSON report holds."""
        alg = self.algebra
        return dict(space=self.space, runs=int(self.discovery.runs),
                    elements=self.elements.tolist(), shifts=self.shifts.tolist(),
                    p_values=self.p_values.tolist(), z=self.z.tolist(),
                    counts=self.counts.tolist(), components=int(self.components),
                    algebra_dimension=None if alg is None else int(alg.dimension),
                    algebra_basis=None if alg is None else np.asarray(alg.basis).tolist(),
                    identity_only=self.identity_only, candidates=int(self.candidates),
                    rejected=self.rejected.tolist(), rejected_p=self.rejected_p.tolist(),
                    restarted_runs=int((self.restarts > 0).sum()),
                    restarts=int(self.restarts.sum()), composed=int(self.composed),
                    threshold=self.threshold,
                    level=self.level, n_test=int(self.n_test), seconds=self.seconds)

    def to_json(self, path=None) -> str:
        text = json.dumps(self.to_dict(), indent=1)
        if path is not None:
            with open(_checks.path(path, "path"), "w") as fh:
                fh.write(text)
        return text

    def plot(self, ax=None):
        """The verified elements: each run's final map as ``(det-sign, angle)`` points for
        2-D spaces, or the distance of every run to the nearest verified element."""
        from .plotting import group_report  # matplotlib only when plotting
        return group_report(self, ax=ax)


# ----------------------------------------------------------------------------- helpers
#: Examples of each class the held-out test's classifier trains on (``verify.posthoc`` is
#: tuned at 15 epochs of 5000; with more held-out points, fewer epochs over more distinct
#: points): see :func:`verify_epochs`.
VERIFY_EXAMPLES = 125_000


def verify_epochs(n_points: int) -> int:
    """Epochs of the held-out test on ``n_points`` points (a quarter of them train each
    class): ``VERIFY_EXAMPLES`` examples, between 5 and 15 epochs. Measured on the 6-D
    two-vector sample (``problems.two_vectors_sample``), 10⁵ points, a near-symmetry
    ``(Q ⊕ Q) exp(εA)`` coupling the two vectors (``‖A‖_F = 1``), two seeds: 15 epochs give
    z = 6.9 at ε = 0.1 and 12.5 at ε = 0.14 (11 s for 4 maps on one core); 5 epochs z = 5.7
    and 11.2 (3.3 s); the exact symmetry z = −0.4 to 1.2 either way. The test keeps its
    power at the Bonferroni threshold (z ≈ 3.4) and takes a third of the time."""
    quarter = max(1, int(n_points) // 4)
    return int(min(15, max(5, math.ceil(VERIFY_EXAMPLES / quarter))))


def _split(data, test_fraction: float, seed: int):
    if hasattr(data, "sample") and hasattr(data, "log_prob"):
        return data, data
    x = _checks.as_points(data, None, name="data", dtype=torch.float64)
    n_test = int(round(test_fraction * x.shape[0]))
    if n_test < 40:
        raise ValueError(f"data: the held-out part would have {n_test} points (of "
                         f"{x.shape[0]}); the test needs at least 40. Pass more points or a "
                         "larger test_fraction.")
    if x.shape[0] - n_test < 2:
        raise ValueError(f"data: the training part would have {x.shape[0] - n_test} points; "
                         "pass more points or a smaller test_fraction.")
    perm = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(seed))
    return x[perm[n_test:]].numpy(), x[perm[:n_test]].numpy()


_PER_RUN = ("init_params", "params", "matrices", "shifts", "loss", "failed", "revived")


def _take(fit, idx: np.ndarray):
    """The runs ``idx`` of a Discovery (fitted with ``record_every=0``), as a new one."""
    return replace(fit, **{name: np.array(getattr(fit, name)[idx]) for name in _PER_RUN})


def _put(fit, idx: np.ndarray, other, pick: np.ndarray) -> None:
    """In place: runs ``idx`` of ``fit`` become runs ``pick`` of ``other``."""
    for name in _PER_RUN:
        getattr(fit, name)[idx] = getattr(other, name)[pick]


def _threshold(loss: np.ndarray) -> float:
    """Converged runs sit at 2 log 2 up to the noise of their tail-averaged batch losses; a
    run is spurious when it is below by more than that noise (and a floor of 0.01)."""
    ok = loss[np.isfinite(loss)]
    top = np.sort(ok)[len(ok) // 2:] if len(ok) else np.array([LOG4])
    spread = float(np.median(np.abs(top - np.median(top)))) * 1.4826 if len(top) > 2 else 0.0
    return LOG4 - max(0.01, 4.0 * spread)


def _merge(M: np.ndarray, V: np.ndarray, scale: float, radius: float):
    """Greedy clustering of maps: ``(representatives M [m, n, n], V [m, n], counts [m],
    labels [K])``; a representative is the mean of its cluster, projected back onto the
    orthogonal group when every member is orthogonal."""
    K = len(M)
    labels = -np.ones(K, dtype=int)
    reps_M, reps_V, counts = [], [], []
    order = np.arange(K)
    for i in order:
        if labels[i] >= 0:
            continue
        d = (np.linalg.norm(M - M[i], axis=(1, 2))
             + np.linalg.norm(V - V[i], axis=1) / scale)
        members = np.flatnonzero((d < radius) & (labels < 0))
        labels[members] = len(reps_M)
        Mm, Vm = M[members].mean(0), V[members].mean(0)
        if np.allclose(np.einsum("kji,kjl->kil", M[members], M[members]),
                       np.eye(M.shape[-1]), atol=1e-6):
            U, _, Wt = np.linalg.svd(Mm)
            Mm = U @ Wt
        reps_M.append(Mm)
        reps_V.append(Vm)
        counts.append(len(members))
    n = M.shape[-1]
    return (np.asarray(reps_M).reshape(-1, n, n), np.asarray(reps_V).reshape(-1, n),
            np.asarray(counts, dtype=int), labels)


def _params_of(space: SearchSpace, M: np.ndarray, V: np.ndarray):
    """Parameters ``[m, P]`` of the maps ``x ↦ M x + V`` (``M [m, n, n]``, ``V [m, n]``) in
    ``space``, or ``None`` where the space offers no inverse. Rotations are projected onto
    the orthogonal group first (products of discovered elements are so up to their error)."""
    from . import spaces as sp

    def orthogonal(A):
        U, _, Wt = np.linalg.svd(A)
        return U @ Wt

    if isinstance(space, sp.SO):
        R = orthogonal(M)
        if np.any(np.linalg.det(R) < 0):
            return None
        return space.params_from_matrix(R).numpy()
    if isinstance(space, sp.Iwasawa2D):
        return space.params_from_matrix(M, V).numpy()
    if isinstance(space, sp.SO2xSO2):
        R = orthogonal(M)
        return np.stack([np.arctan2(R[:, 0, 1], R[:, 0, 0]),
                         np.arctan2(R[:, 2, 3], R[:, 2, 2])], 1)
    if isinstance(space, sp.O2):
        return np.stack([M[:, 0, 0], M[:, 0, 1], np.sign(np.linalg.det(M))], 1)
    if isinstance(space, sp.RotationScale2D):
        return np.stack([M[:, 0, 0], M[:, 0, 1]], 1)
    if isinstance(space, sp.Affine):
        if space.dim == 1:
            return np.stack([V[:, 0], M[:, 0, 0]], 1)
        return np.concatenate([M.reshape(len(M), -1), V], 1)
    return None


def _compositions(M: np.ndarray, V: np.ndarray, scale: float, radius: float, limit: int,
                  seed: int):
    """Products ``g_i g_j`` of the candidates (``M [m, n, n]``, ``V [m, n]``) that are no
    candidate yet, merged like runs (``‖ΔM‖_F + ‖ΔV‖/scale < radius``): at most ``limit``
    of them (a random choice), as ``(M [u, n, n], V [u, n])`` (§VII.B: compositions of
    symmetries are symmetries)."""
    n = M.shape[-1]
    PM = np.einsum("iab,jbc->ijac", M, M).reshape(-1, n, n)
    PV = (np.einsum("iab,jb->ija", M, V) + V[:, None, :]).reshape(-1, n)
    new = np.zeros(len(PM), dtype=bool)
    for a in range(0, len(PM), 2048):  # chunks keep the [chunk, m, n, n] differences small
        d = (np.linalg.norm(PM[a:a + 2048, None] - M[None], axis=(2, 3))
             + np.linalg.norm(PV[a:a + 2048, None] - V[None], axis=2) / scale)
        new[a:a + 2048] = d.min(1) >= radius
    if not new.any():
        return np.zeros((0, n, n)), np.zeros((0, n))
    UM, UV, _, _ = _merge(PM[new], PV[new], scale, radius)
    if len(UM) > limit:
        pick = np.sort(np.random.default_rng(seed).choice(len(UM), size=limit, replace=False))
        UM, UV = UM[pick], UV[pick]
    return UM, UV


# ----------------------------------------------------------------------------- the pipeline
def discover(data, space: SearchSpace, runs: int = 64, seed: int = 0, *, restarts: int = 4,
             tries: int = 4, spares: float = 0.25, test_fraction: float = 0.5, level: float = 0.01,
             merge: float | None = None, verify_points: int = 100_000, polish=True,
             compose: bool = True, progress: bool | None = None, device=None, **settings) -> GroupReport:
    """Find the symmetry group of ``data`` in ``space`` and verify every element.

    Args:
        data: a finite sample ``[N, n]`` (array or tensor) or a density.
        space: a search space from ``symlab.spaces`` acting on ``n`` dimensions.
        runs: SymmetryGAN runs ``K`` (at least 2).
        seed: seeds the split, the starts, the training and the tests (an int, or None).
        restarts: rounds of restarting the runs stuck at spurious maxima (0: none).
        tries: fresh starts per stuck run in each round (all trained in one batched fit; the
            best replaces the run when it beats it). The budget is at most
            ``runs + spares + restarts · tries · runs`` fits, in ``1 + restarts`` batched
            calls.
        spares: extra runs of the first fit, as a fraction of ``runs`` (rounded up; 0:
            none), trained in the same batch; converged ones replace stuck runs before any
            restart round. A restart round costs about a whole fit, whatever its size.
            Measured on the octagon (seed 0, 2 threads): exploring with 64 runs took 24.0 s
            and its restart round of 8 runs 22.1 s more; with 80 runs (16 spares) it took
            28.5 s and needed no round.
        test_fraction: the held-out share of a finite sample.
        level: family-wise level of the held-out tests (Bonferroni over the elements).
        merge: runs closer than this (``‖ΔM‖_F + ‖ΔV‖ / spread``) are one element
            (default ``0.1 √n``).
        verify_points: at most this many held-out points go into each test.
        polish: refine every run with a short fit of small steps (``POLISH``) before
            verifying, for spaces with dilations, shears or translations: exploration with
            long steps ends ~1 % from a symmetry, which a held-out test of 10⁵ points
            detects. Not on compact groups, where the fresh discriminator of a second fit
            shakes the runs along nearly flat directions: polished, 72 % of 32 runs on the
            dijets in ``SO(4)`` stayed within the exact criterion (100 % unpolished), with
            per-coordinate Adam 22 % (the 5-D Gaussian in ``SO(5)`` would gain: 11 of 32
            candidates, errors 0.04–0.12, fail the held-out test unpolished, none
            polished). Two stages, ``POLISH`` then ``SETTLE``; ``False`` skips them, a dict
            of settings replaces both.
        compose: complete a finite group by composition (§VII.B): when the candidates'
            Lie algebra is 0-dimensional, the products ``g_i g_j`` of candidates that are no
            candidate yet (at most ``runs`` of them) are settled with the polishing stages
            (on every space: a product of two elements carries both their errors) and those
            that converge are tested with the rest (their ``counts`` are 0: no run of the
            search ended there). The report's ``composed`` counts them.
        progress: tqdm bars (default: in notebooks and terminals).
        device: torch device of the training.
        **settings: SymmetryGAN settings that override ``recipe_for`` (to study one; the
            defaults are the measured recipe).

    Returns:
        :class:`GroupReport`.
    """
    t0 = time.perf_counter()
    space = _checks.space(space)
    runs = _checks.count(runs, "runs", minimum=2)
    seed = _checks.resolve_seed(seed)
    restarts = _checks.count(restarts, "restarts", minimum=0)
    tries = _checks.count(tries, "tries", minimum=1)
    spares = _checks.fraction(spares, "spares", 0.0, 4.0)
    test_fraction = _checks.fraction(test_fraction, "test_fraction", 0.0, 1.0, lo_open=True,
                                     hi_open=True)
    level = _checks.fraction(level, "level", 0.0, 1.0, lo_open=True, hi_open=True)
    verify_points = _checks.count(verify_points, "verify_points", minimum=40)
    progress = _checks.optional_flag(progress, "progress")
    compose = _checks.flag(compose, "compose")
    if not isinstance(polish, dict):
        polish = _checks.flag(polish, "polish")
    n = space.dim
    radius = 0.1 * math.sqrt(n) if merge is None else _checks.rate(merge, "merge")
    if not (hasattr(data, "sample") and hasattr(data, "log_prob")):
        _checks.as_points(data, n, name="data")
    else:
        _checks.density(data, "data", dim=n, need=("sample", "log_prob"))
    train, held_out = _split(data, test_fraction, seed)

    gan = SymmetryGAN(space, device=device, **{**recipe_for(space), **settings})
    settings_of = (POLISH, SETTLE) if not isinstance(polish, dict) else (dict(polish),)
    stages_of = [SymmetryGAN(space, device=device, **st) for st in settings_of]
    stages = stages_of if polish is not False and not space.compact else []

    def refine(init, seed_, with_stages=None):
        """The polishing stages from ``init`` ``[K, P]``: a Discovery."""
        out = None
        for k, stage in enumerate(stages if with_stages is None else with_stages):
            out = stage.fit(train, init=init if out is None else out.params,
                            seed=seed_ + k, record_every=0, progress=progress)
        return out

    def attempt(init, seed_):
        """Explore from ``init``, then polish (non-compact spaces): a Discovery."""
        out = gan.fit(train, init=init, seed=seed_, record_every=0, progress=progress)
        if stages:  # refine with small steps from where exploration ended
            # a run that collapsed onto a singular map (det M ≈ 0) cannot be polished: it
            # polishes its start instead and is reported as failed (so it is restarted)
            collapsed = ~(np.abs(np.linalg.det(out.matrices)) > 1e-6) | out.failed
            start = np.where(collapsed[:, None], out.init_params, out.params)
            polished = refine(start, seed_ + 1)
            polished.init_params = out.init_params
            polished.failed = polished.failed | collapsed
            out = polished
        return out

    def _algebra(M, V):
        """The algebra of verified elements: near-identity pairs and their products
        (``densify``) out to ``‖h − 1‖_F ≤ 0.8``, so that a few dozen elements of a group of
        dimension up to 4 show it (§VII.B)."""
        return infer.lie_algebra(M, V, shift_scale=scale, tol=0.8, densify=True, seed=seed)

    def _complete(cand_M, cand_V, counts):
        """A finite group (the candidates' algebra is 0-dimensional) is completed by
        composition: products of candidates that are not yet candidates start a polishing
        fit each (at most ``runs``), and those that end converged join the candidates."""
        if _algebra(cand_M, cand_V).dimension > 0:
            return cand_M, cand_V, counts, 0
        PM, PV = _compositions(cand_M, cand_V, scale, radius, runs, seed)
        init = _params_of(space, PM, PV) if len(PM) else None
        if init is None:
            return cand_M, cand_V, counts, 0
        out = refine(init, seed + 7, stages_of)  # products settle as polished runs do
        good = (out.loss > threshold) & ~out.failed
        if not good.any():
            return cand_M, cand_V, counts, 0
        NM, NV, ncount, _ = _merge(out.matrices[good], out.shifts[good], scale, radius)
        d = (np.linalg.norm(NM[:, None] - cand_M[None], axis=(2, 3))
             + np.linalg.norm(NV[:, None] - cand_V[None], axis=2) / scale)
        fresh = d.min(1) >= radius  # a product that settled onto a known element adds nothing
        return (np.concatenate([cand_M, NM[fresh]]), np.concatenate([cand_V, NV[fresh]]),
                np.concatenate([counts, np.zeros(int(fresh.sum()), dtype=int)]),
                int(fresh.sum()))

    extra = math.ceil(spares * runs - 1e-9)
    first = attempt(space.sample_uniform(runs + extra, seed=seed), seed)
    threshold = _threshold(first.loss)
    fit = _take(first, np.arange(runs))
    restarted = np.zeros(runs, dtype=int)
    # converged spares, best first, replace the stuck runs
    stuck = np.flatnonzero(~(fit.loss > threshold) | fit.failed)
    spare_ok = runs + np.flatnonzero((first.loss[runs:] > threshold) & ~first.failed[runs:])
    spare_ok = spare_ok[np.argsort(-first.loss[spare_ok], kind="stable")]
    use = min(len(stuck), len(spare_ok))
    _put(fit, stuck[:use], first, spare_ok[:use])
    restarted[stuck[:use]] += 1
    for round_ in range(1, restarts + 1):
        stuck = np.flatnonzero(~(fit.loss > threshold) | fit.failed)
        if len(stuck) == 0:
            break
        # ``tries`` fresh starts per stuck run in one batched fit (a fit of a few runs costs
        # about as much per step as one of a few dozen), the best of them replaces the run
        again = attempt(space.sample_uniform(tries * len(stuck), seed=seed + 1000 * round_),
                        seed + 1000 * round_)
        score = np.where(again.failed, -np.inf, again.loss).reshape(len(stuck), tries)
        pick = np.arange(len(stuck)) * tries + np.argmax(score, axis=1)
        better = again.loss[pick] > np.where(fit.failed[stuck], -np.inf, fit.loss[stuck])
        better &= ~again.failed[pick]
        _put(fit, stuck[better], again, pick[better])
        restarted[stuck] += 1

    ok = (fit.loss > threshold) & ~fit.failed
    scale = float(fit.config.get("scale", 1.0))
    cand_M, cand_V, counts, _ = _merge(fit.matrices[ok], fit.shifts[ok], scale, radius)
    composed = 0
    if compose and len(cand_M) >= 2:
        cand_M, cand_V, counts, composed = _complete(cand_M, cand_V, counts)
    m = len(cand_M)
    p = np.ones(0)
    z = np.zeros(0)
    n_test = 0
    if m:
        n_pts = verify_points if hasattr(held_out, "sample") else min(len(held_out),
                                                                      verify_points)
        test = verify.posthoc(held_out, cand_M, cand_V, seed=seed, n=n_pts,
                              epochs=verify_epochs(n_pts))
        z = np.asarray(test.z, dtype=float)
        p = 0.5 * np.array([math.erfc(v / math.sqrt(2.0)) for v in z])  # one-sided
        n_test = int(test.n_test)
    keep = p >= level / max(m, 1)
    elements, shifts = cand_M[keep], cand_V[keep]
    algebra, n_comp = None, 0
    if len(elements) >= 2:
        algebra = _algebra(elements, shifts)
        n_comp = len(infer.components(elements, shifts, shift_scale=scale, densify=True,
                                      algebra=algebra, seed=seed))
    elif len(elements) == 1:
        n_comp = 1
    fit.seconds = time.perf_counter() - t0
    return GroupReport(elements=elements, shifts=shifts, p_values=p[keep], z=z[keep],
                       counts=counts[keep], algebra=algebra, components=n_comp, discovery=fit,
                       candidates=m, rejected=cand_M[~keep], rejected_p=p[~keep],
                       restarts=restarted, threshold=threshold, level=level, n_test=n_test,
                       seconds=time.perf_counter() - t0, space=repr(space), composed=composed)
