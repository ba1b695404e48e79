"""Figures of chapter 9 (nonlinear symmetries and volume-preserving flows).

Each function draws on matplotlib axes it is given (or makes a figure) and returns it; the
chapter calls them from cells tagged ``hide-input``.
"""

from __future__ import annotations

import numpy as np
import torch

from . import plotting

__all__ = ["grid_images", "outcome_scatter", "twist_profile", "match_rotations"]


def _grid_lines(lo, hi, n_lines: int = 9, n_pts: int = 80):
    """Horizontal and vertical lines of a grid over the box ``lo..hi``: list of ``[n_pts, 2]``."""
    xs, ys = np.linspace(lo[0], hi[0], n_lines), np.linspace(lo[1], hi[1], n_lines)
    tx, ty = np.linspace(lo[0], hi[0], n_pts), np.linspace(lo[1], hi[1], n_pts)
    return ([np.stack([tx, np.full(n_pts, y)], 1) for y in ys]
            + [np.stack([np.full(n_pts, x), ty], 1) for x in xs])


def _as_np(y) -> np.ndarray:
    return np.asarray(y.detach() if isinstance(y, torch.Tensor) else y, dtype=np.float64)


def grid_images(density, panels, sample: int = 3000, seed: int = 0, axes=None,
                quantile: float = 0.02):
    """A sample of ``density`` with a grid of lines, and the grid's image under maps.

    Args:
        density: a 2D density (``.sample``).
        panels: list of ``(title, learned, exact)``: ``learned`` a map ``[N, 2] -> [N, 2]`` drawn
            in solid lines, ``exact`` one drawn dashed (either may be ``None``).
        sample: points drawn in grey.
        axes: optional axes, one per panel.
        quantile: the grid spans the central ``1 − 2·quantile`` of the sample in each axis.
    """
    import matplotlib.pyplot as plt

    x = _as_np(density.sample(sample, seed=seed))
    lo, hi = np.quantile(x, quantile, axis=0), np.quantile(x, 1 - quantile, axis=0)
    lines = _grid_lines(lo, hi)
    if axes is None:
        _, axes = plt.subplots(1, len(panels), figsize=(3.3 * len(panels), 3.4),
                               layout="constrained", squeeze=False)
        axes = axes[0]
    pad = 0.15 * (hi - lo)
    for ax, (title, learned, exact) in zip(axes, panels):
        ax.scatter(*x.T, s=2, color="0.82", lw=0, rasterized=True)
        for line in lines:
            if exact is not None:
                ax.plot(*_as_np(exact(line)).reshape(-1, 2).T, "--", lw=1.0,
                        color=plotting.ROLES["analytic"])
            if learned is not None:
                ax.plot(*_as_np(learned(line)).reshape(-1, 2).T, "-", lw=0.8,
                        color=plotting.ROLES["transformed"])
            if learned is None and exact is None:
                ax.plot(*line.T, "-", color=plotting.ROLES["data"], lw=0.8)
        ax.set(title=title, xlim=(lo[0] - pad[0], hi[0] + pad[0]),
               ylim=(lo[1] - 2 * pad[1], hi[1] + pad[1]), xlabel="$x$", ylabel="$y$")
    return axes


def outcome_scatter(ax, match: dict, passed, tol: float = 0.05, title: str = ""):
    """Each run's fitted angle θ against its distance from ``h ∘ R_θ ∘ h⁻¹`` (fraction of the
    data's spread); filled markers passed the post-hoc test, open ones failed it."""
    th = np.degrees(match["theta"])
    err = match["error"]
    ok = np.asarray(passed, bool)
    ax.scatter(th[ok], err[ok], s=22, color=plotting.ROLES["data"], zorder=3,
               label="post-hoc test passed")
    ax.scatter(th[~ok], err[~ok], s=22, facecolor="none", edgecolor=plotting.ROLES["end"],
               zorder=3, label="failed")
    ax.axhline(tol, ls=":", color="k", lw=1)
    ax.set(xlim=(-5, 365), xticks=range(0, 361, 90), yscale="log", title=title,
           xlabel=r"best-fitting $\theta$ (degrees)",
           ylabel=r"RMS distance from $h\circ R_\theta\circ h^{-1}$ / spread")
    return ax


def twist_profile(ax, density, x, maps, runs, labels=None, reference=None):
    """How far a learned map is from turning all circles alike: in the base coordinates
    ``w = h⁻¹(x)``, the angle by which it turns the points at radius ``|w|``, minus its mean
    angle (wrapped to ±180°). A conjugated rotation ``h ∘ R_θ ∘ h⁻¹`` is the zero line; a
    twist is a curve. ``reference``: an optional exact map drawn dashed (e.g. a twist)."""
    pts = torch.as_tensor(np.asarray(x, dtype=np.float64))
    w = density.h.inverse(pts).numpy()
    r = np.hypot(*w.T)
    edges = np.quantile(r, np.linspace(0, 1, 11))
    mid = 0.5 * (edges[1:] + edges[:-1])
    idx = np.clip(np.digitize(r, edges) - 1, 0, 9)

    def profile(y):
        wk = density.h.inverse(torch.as_tensor(np.asarray(y, dtype=np.float64))).numpy()
        turn = np.exp(1j * (np.arctan2(wk[:, 1], wk[:, 0]) - np.arctan2(w[:, 1], w[:, 0])))
        turn = turn / np.exp(1j * np.angle(turn.mean()))        # relative to the mean angle
        return np.array([np.degrees(np.angle(turn[idx == b].mean())) for b in range(10)])

    for j, k in enumerate(runs):
        ax.plot(mid, profile(maps[k]), "o-", ms=3, label=labels[j] if labels else f"run {k}")
    if reference is not None:
        ax.plot(mid, profile(_as_np(reference[1](pts))), "--", color=plotting.ROLES["analytic"],
                label=reference[0])
    ax.axhline(0, color=plotting.ROLES["reference"], lw=0.8)
    ax.set(xlabel=r"radius $|h^{-1}(x)|$",
           ylabel=r"turn at this radius $-$ mean turn (degrees)")
    return ax


def match_rotations(fit, density, n: int = 2000, seed: int = 1) -> dict:
    """For every run of a flow fit, the best ``θ`` of ``h ∘ R_θ ∘ h⁻¹`` and two distances in
    units of the data's spread (RMS over ``n`` fresh points): ``error`` from that exact
    symmetry, ``moved`` from the identity; ``plain`` is how far the rigid rotation ``R(θ)``
    alone is from the nearest exact symmetry (the distance a run starts from, roughly).
    Returns a dict of ``[K]`` arrays plus ``x``, ``maps``, ``spread``."""
    from .flows import identity_distance, nearest_rotation

    x = density.sample(int(n), seed=int(seed)).double()
    maps = fit.transform_all(x)
    theta, rms = nearest_rotation(maps, density, x)
    spread = density.spread()
    from .pushforward import rotation_2d
    plain = np.einsum("kij,nj->kni", rotation_2d(theta).numpy(), x.numpy())  # R(θ_k) alone
    return {"theta": theta, "error": rms / spread, "moved": identity_distance(maps, x) / spread,
            "plain": nearest_rotation(plain, density, x)[1] / spread,
            "x": x.numpy(), "maps": maps, "spread": spread}


def outcomes(match: dict, passed, tol: float = 0.05) -> dict:
    """Sort runs by outcome: ``identity`` (within ``tol`` of the identity), ``rigid`` (within
    ``tol`` of some ``h ∘ R_θ ∘ h⁻¹`` other than the identity), ``other`` (neither, but the
    post-hoc test passed: a symmetry the classifier cannot tell from one, e.g. a twist) and
    ``failed`` (the post-hoc test failed). Values are boolean ``[K]`` masks; distances in units
    of the data's spread (:func:`match_rotations`)."""
    ok = np.asarray(passed, bool)
    near = match["error"] < tol
    ident = near & (match["moved"] < tol)
    rigid = near & ~ident
    return {"identity": ident, "rigid": rigid, "other": ~near & ok, "failed": ~near & ~ok}


def describe(name: str, match: dict, passed, tol: float = 0.05, loss=None) -> str:
    """Two lines: how many runs ended where (see :func:`outcomes`), with the rigid angles;
    for the others, how many sit near the identity (fitted angle within 20°) and their
    median distances (and median loss − 2 log 2 when ``loss [K]`` is given)."""
    o = outcomes(match, passed, tol)
    K = len(match["error"])
    ang = np.sort(np.round(np.degrees(match["theta"][o["rigid"]])).astype(int)) % 360
    rest = ~(o["identity"] | o["rigid"])
    deg = np.degrees(match["theta"]) % 360
    near0 = rest & ((deg < 20) | (deg > 340))
    line = (f"{name}: {(o['identity'] | o['rigid']).sum()}/{K} within {tol:.0%} of some "
            f"h R h^-1 ({o['identity'].sum()} at the identity, {o['rigid'].sum()} at angles "
            f"{ang.tolist()} deg); {o['other'].sum()} other maps pass the post-hoc test, "
            f"{o['failed'].sum()} fail it")
    if rest.any():
        line += (f"\n  the other {rest.sum()}: {near0.sum()} within 20 deg of the identity; "
                 f"median distance from h R h^-1 {np.median(match['error'][rest]):.0%} "
                 f"(R alone at their angles: {np.median(match['plain'][rest]):.0%})")
        if loss is not None:
            line += f", median loss - 2 log 2 {np.median(np.asarray(loss)[rest]) - 2 * np.log(2):+.4f}"
    return line
