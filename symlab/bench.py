"""Performance figures: ``python -m symlab.bench`` (or ``make bench``) prints JSON.

``python -m symlab.bench discovery [NAME …]`` (``make bench-discovery``) runs the discovery
suite instead, one JSON line per problem (:func:`discovery`); ``python -m symlab.bench
equivariance`` the basis-equivariance test of the recipe (``equivariance``); ``python -m
symlab.bench mirrors [half=1] [rotate=22.5] [optimizer=adam]`` chapter 7's mirror axes over
eight seeds (``mirror_axes``).

Measured in one process on one machine, as ratios:

* ``us_per_run_step``: wall time of one training step divided by the number of runs K, for
  the paper's 1D configuration (N(0.5, 1), ``Affine(1)``, 2×25 discriminator, batch 128) at
  K = 1 and K = 256, and their ratio (the gain of the ensemble axis);
* ``mm_gflops``: a 2048×2048 float32 ``torch.mm`` in the same process (the machine's
  practical matrix-multiply peak);
* ``train_gflops``: the training loop's achieved model FLOP rate and its fraction of the
  ``torch.mm`` figure.

FLOP count (multiply–add = 2 FLOPs), with ``S = Σ in·out`` over the discriminator layers and
``R`` the rows of a step (``batch_size``: half real, half transformed): the forward pass costs
``2·R·S``, the discriminator's weight gradients ``2·R·S``, the input gradients that flow back
through the hidden layers ``2·R·(S − in₀·out₀)``, and the generator's input gradient on the
transformed half ``2·(R/2)·S``. The generator's own few parameters and the elementwise work
(activations, losses, Adam) are not counted.
"""

from __future__ import annotations

import json
import time

import numpy as np
import torch

from . import paper, spaces
from .gan import SymmetryGAN


def _best_of(fn, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def mm_gflops(n: int = 2048, iters: int = 10) -> float:
    """GFLOP/s of an ``n×n`` float32 ``torch.mm`` (best of three timings)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    seconds = _best_of(lambda: [torch.mm(a, b) for _ in range(iters)])
    return 2 * n**3 * iters / seconds / 1e9


def flops_per_run_step(batch_size: int = 128, n_in: int = 1, hidden=(25, 25)) -> int:
    """Model FLOPs of one training step of one run (see the module docstring)."""
    sizes = [n_in, *hidden, 1]
    s = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    first = sizes[0] * sizes[1]
    R = batch_size
    return 2 * R * s + 2 * R * s + 2 * R * (s - first) + 2 * (R // 2) * s


def time_per_step(K: int, steps: int = 300, batch_size: int = 128) -> float:
    """Seconds per training step for K runs of the paper's 1D configuration.

    Measured as the difference between fits of ``2·steps`` and ``steps`` steps (best of three
    each), so the fixed set-up cost of a fit (initialisation, checks, results) cancels.
    """
    density = paper.gaussian_1d()

    def timed(n_steps):
        gan = SymmetryGAN(spaces.Affine(1), steps=n_steps, batch_size=batch_size)
        return _best_of(lambda: gan.fit(density, runs=K, seed=1, progress=False, record_every=0))

    timed(20)  # warm-up: allocations, thread pools
    return (timed(2 * steps) - timed(steps)) / steps


def run(big_K: int = 256, steps: int = 300) -> dict:
    """All figures as a dict (see the module docstring)."""
    t1 = time_per_step(1, steps=steps)
    tK = time_per_step(big_K, steps=steps)
    mm = mm_gflops()
    flops = flops_per_run_step()
    train = flops * big_K / tK / 1e9
    return {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "config": "N(0.5,1), Affine(1), discriminator 1-25-25-1, batch 128 (64 real + 64 transformed)",
        "us_per_run_step": {"K=1": round(t1 * 1e6, 2), f"K={big_K}": round(tK / big_K * 1e6, 3)},
        "speedup_per_run_step": round(t1 / (tK / big_K), 1),
        "mm_gflops_2048": round(mm, 1),
        "model_flops_per_run_step": flops,
        "train_gflops": round(train, 2),
        "train_fraction_of_mm": round(train / mm, 3),
        "flop_count": "2·R·S forward + 2·R·S weight grads + 2·R·(S − in·out of layer 1) hidden input "
                      "grads + 2·(R/2)·S generator input grads; S = Σ in·out = 675, R = 128",
    }


def discovery(names=None, seed: int = 0, progress: bool | None = False, runs=None,
              **overrides) -> list:
    """The discovery suite (:mod:`symlab.problems`): one row per problem, ``sl.discover``
    with its defaults. ``success``: the share of runs that converged (after restarts) to a
    map within the problem's tolerance of its true group (the exact criterion);
    ``false_symmetry``: the share of reported elements that fail the criterion.
    ``runs`` replaces every problem's number of runs; ``overrides`` go to ``sl.discover``
    (to measure another recipe)."""
    from .discover import discover
    from .problems import PROBLEMS

    rows = []
    for prob in PROBLEMS:
        if names and prob.name not in names:
            continue
        train, held_out = prob.make_data(seed)
        data = train if held_out is train else np.concatenate([train, held_out])
        t0 = time.perf_counter()
        report = discover(data, prob.make_space(), runs=runs or prob.runs, seed=seed,
                          progress=progress, **overrides)
        seconds = time.perf_counter() - t0
        fit = report.discovery
        err_runs = prob.error(fit.matrices, fit.shifts)
        err_elem = prob.error(report.elements, report.shifts) if len(report.elements) else \
            np.zeros(0)
        rows.append(dict(problem=prob.name, kind=prob.kind, group=prob.group, runs=fit.runs,
                         success=round(float(np.mean(err_runs < prob.tol)), 3),
                         elements=len(report.elements),
                         false_symmetry=round(float(np.mean(err_elem >= prob.tol)), 3)
                         if len(err_elem) else 0.0,
                         identity_only=report.identity_only,
                         algebra=None if report.algebra is None else report.algebra.dimension,
                         components=report.components,
                         restarted_runs=int((report.restarts > 0).sum()),
                         seconds=round(seconds, 1)))
        print(json.dumps(rows[-1]), flush=True)
    return rows


def _angle(M: np.ndarray) -> np.ndarray:
    """The angle of each element's first 2×2 block (rotation angle, or twice the mirror axis
    for a reflection): ``[K]`` in (−π, π]."""
    A = M[:, :2, :2]
    return np.arctan2(A[:, 0, 1], A[:, 0, 0])


def equivariance(name: str = "n11_o2", runs: int = 64, seed: int = 0, q_seed: int = 12) -> dict:
    """Basis equivariance of the discovery settings (``symlab.discover.recipe_for``):
    train on the data and on the data rotated
    by a fixed random orthogonal ``Q`` (``x ↦ Q x``), conjugate what the second found back
    (``Qᵀ M Q``), and compare the two distributions of the elements' angle with a two-sample
    Kolmogorov–Smirnov test (a preferred basis would show as a p-value near 0)."""
    from scipy.stats import ks_2samp

    from .discover import recipe_for
    from .problems import problem

    prob = problem(name)
    train, _ = prob.make_data(seed)
    space = prob.make_space()
    n = space.dim
    x = np.asarray(train.sample(100_000, seed=seed) if hasattr(train, "sample") else train)
    g = np.random.default_rng(q_seed)
    Q, R = np.linalg.qr(g.standard_normal((n, n)))
    Q = Q * np.sign(np.diag(R))
    if np.linalg.det(Q) < 0:
        Q[:, 0] = -Q[:, 0]
    gan = SymmetryGAN(space, **recipe_for(space))
    init = space.sample_uniform(runs, seed=seed)
    a = gan.fit(x, init=init, seed=seed, record_every=0, progress=False)
    b = gan.fit(x @ Q.T, init=init, seed=seed + 1, record_every=0, progress=False)
    ok_a = a.loss > 2 * np.log(2) - 0.01
    ok_b = b.loss > 2 * np.log(2) - 0.01
    back = np.einsum("ji,kjl,lm->kim", Q, b.matrices, Q)
    test = ks_2samp(_angle(a.matrices[ok_a]), _angle(back[ok_b]))
    return dict(problem=name, runs=runs, converged=[int(ok_a.sum()), int(ok_b.sum())],
                ks_statistic=round(float(test.statistic), 3), p_value=round(float(test.pvalue), 3))


def mirror_axes(seeds=range(3, 11), half: int = 0, rotate: float = 0.0, runs: int = 64,
                steps: int = 4000, **settings) -> dict:
    """Chapter 7's study of mirrorings, repeated over ``seeds``: ``SymmetryGAN(SO(4),
    steps=steps, cyclic=2)`` on one half of the bundled dijets (``half`` 0 or 1, 50 000
    events), optionally turned about the beam by ``rotate`` degrees (both jets alike).

    A run is a mirroring of both jets when the nearest ``diag(A, A)`` with ``A ∈ O(2)`` is
    within 0.1 (Frobenius) and ``det A < 0``; its axis is ``α = atan2(A₀₁, A₀₀) / 2``. Axes
    90° apart are alike for the dijets' azimuths, so uniformity is tested on ``4α``
    (Rayleigh, pooled over the seeds, and per seed). ``predicted_4alpha_deg`` is where a
    finite sample leans: a density is mirror-symmetric about α only if its quadrupole
    moment ``c₂ = mean(e^{2iφ})`` over the jets' azimuths φ has ``arg c₂ = 2α`` (mod π),
    and a sample's ``c₂`` is of the size of its noise, ``|c₂| ≈ 1/√N`` for ``N`` events
    (the jets are back to back: both give the same ``e^{2iφ}``). ``settings`` go to
    ``SymmetryGAN`` (e.g. ``optimizer="adam"`` for the previous default)."""
    import math

    from . import data, verify

    if half not in (0, 1):
        raise ValueError(f"half must be 0 or 1 (which 50 000 events); got {half!r}")
    x = data.load_dijets()
    x = x[:50_000] if half == 0 else x[50_000:100_000]
    c, s = math.cos(math.radians(rotate)), math.sin(math.radians(rotate))
    x = x @ np.kron(np.eye(2), np.array([[c, -s], [s, c]])).T
    phi = np.concatenate([np.arctan2(x[:, 1], x[:, 0]), np.arctan2(x[:, 3], x[:, 2])])
    c2 = np.exp(2j * phi).mean()
    so4 = spaces.SO(4)
    axes, per_seed, joint = [], [], []
    for seed in seeds:
        fit = SymmetryGAN(so4, steps=steps, cyclic=2, **settings).fit(
            x, runs=runs, seed=seed, record_every=0, progress=False)
        M = fit.matrices
        U, _, Vt = np.linalg.svd((M[:, :2, :2] + M[:, 2:, 2:]) / 2)
        A = U @ Vt
        J = np.zeros_like(M)
        J[:, :2, :2] = J[:, 2:, 2:] = A
        near = np.linalg.norm(M - J, axis=(1, 2)) < 0.1
        mirror = near & (np.linalg.det(A) < 0)
        alpha = np.arctan2(A[mirror, 0, 1], A[mirror, 0, 0]) / 2
        axes.append(alpha)
        per_seed.append(round(verify.rayleigh(4 * alpha)[1], 3) if mirror.sum() > 1 else None)
        joint.append(float(near.mean()))
    alpha = np.concatenate(axes)
    R, p = verify.rayleigh(4 * alpha) if len(alpha) > 1 else (float("nan"), float("nan"))
    centre = math.degrees(np.angle(np.exp(4j * alpha).mean())) % 360 if len(alpha) else None
    predicted = math.degrees(2 * np.angle(c2)) % 360
    return dict(half=half, rotate=rotate, settings=settings, seeds=list(seeds),
                mirrorings=len(alpha), R=round(R, 3), p_value=round(p, 4),
                centre_4alpha_deg=None if centre is None else round(centre),
                predicted_4alpha_deg=round(predicted), c2_abs=round(abs(c2), 4),
                noise_1_over_sqrt_n=round(1 / math.sqrt(len(x)), 4),
                p_per_seed=per_seed, joint_o2=round(float(np.mean(joint)), 3))


def main(argv=None) -> None:
    import sys
    args = sys.argv[1:] if argv is None else list(argv)
    if args and args[0] == "discovery":
        discovery(names=args[1:] or None)
        return
    if args and args[0] == "mirrors":  # e.g. mirrors half=1 rotate=22.5 optimizer=adam
        kw = {}
        for a in args[1:]:
            key, _, value = a.partition("=")
            try:  # numbers as numbers (half=1, rotate=22.5, average=0.3), the rest as text
                kw[key] = json.loads(value)
            except ValueError:
                kw[key] = value
        print(json.dumps(mirror_axes(**kw)), flush=True)
        return
    if args and args[0] == "equivariance":
        for name in args[1:] or ["n11_o2", "dijets_so4"]:
            print(json.dumps(equivariance(name)), flush=True)
        return
    print(json.dumps(run(), indent=2))


if __name__ == "__main__":
    main()
