"""One plotting style for the book's figures.

Usage::

    from symlab import plotting

    plotting.apply()                  # once, at the top of a notebook: every figure after it
    with plotting.style():            # or for the figures inside the block only
        fig, ax = plt.subplots()
        ax.plot(x, y)                                   # colours follow plotting.CYCLE
        ax.scatter(*start.T, **plotting.MARKERS["start"])
        ax.scatter(*end.T, **plotting.MARKERS["end"])

What the style fixes: one colour cycle (:data:`CYCLE`, matplotlib's ten "tab" colours, the
ones the chapters already use, so a figure keeps its colours when it moves to the style), a
size that reads well in the book's column (figure dpi 80, 10-point text), light axes without
top and right spines, the colour map of loss landscapes (:data:`LANDSCAPE_CMAP`), and the
book's conventions for what a colour means (:data:`ROLES`): data blue, transformed data
orange, run starts orange dots, run ends red crosses, exact symmetries white stars, analytic
curves black. Matplotlib is imported on first use, not with ``symlab``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

#: The colour cycle, matplotlib's "tab10" colours in its order (C0, C1, …).
CYCLE: tuple[str, ...] = (
    "#1f77b4",  # blue
    "#ff7f0e",  # orange
    "#2ca02c",  # green
    "#d62728",  # red
    "#9467bd",  # purple
    "#8c564b",  # brown
    "#e377c2",  # pink
    "#7f7f7f",  # grey
    "#bcbd22",  # olive
    "#17becf",  # cyan
)

#: What a colour means in the book's figures.
ROLES: dict[str, str] = {
    "data": CYCLE[0],           # the sample {x_i}
    "transformed": CYCLE[1],    # g(x_i)
    "start": CYCLE[1],          # initial parameters of a run
    "end": CYCLE[3],            # learned parameters of a run
    "path": "white",            # training trajectories drawn on a landscape
    "symmetry": "white",        # exact symmetries (marker face; edge black)
    "analytic": "black",        # exact curves: densities, 2 log 2, the optimal discriminator
    "reference": CYCLE[7],      # guides: the identity, 2 log 2 lines, barriers
}

#: Marker conventions for runs and exact symmetries on parameter planes.
MARKERS: dict[str, dict[str, Any]] = {
    "start": {"marker": "o", "s": 12, "color": ROLES["start"], "zorder": 3},
    "end": {"marker": "x", "s": 18, "color": ROLES["end"], "linewidths": 1.2, "zorder": 4},
    "symmetry": {"marker": "*", "s": 160, "facecolor": ROLES["symmetry"], "edgecolor": "black",
                 "linewidths": 0.8, "zorder": 5},
}

#: Colour map of loss landscapes, shifted so that 2 log 2 is 0 (bright = high).
LANDSCAPE_CMAP = "viridis"

RC: dict[str, Any] = {
    "figure.dpi": 80,
    "savefig.dpi": 80,
    "figure.facecolor": "white",
    "figure.constrained_layout.use": True,
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "lines.linewidth": 1.5,
    "lines.markersize": 4,
    "image.cmap": LANDSCAPE_CMAP,
    "mathtext.fontset": "dejavusans",
}


def rc(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The book's rcParams, with its colour cycle, updated by ``overrides``.

    Args:
        overrides: matplotlib rcParams to change, e.g. ``{"font.size": 12}``.
    """
    from cycler import cycler

    params = dict(RC)
    params["axes.prop_cycle"] = cycler(color=list(CYCLE))
    params.update(overrides or {})
    return params


@contextlib.contextmanager
def style(overrides: dict[str, Any] | None = None) -> Iterator[None]:
    """Context manager: the book's style for the figures made inside the block.

    The previous settings come back afterwards. ``overrides`` as in :func:`rc`.
    """
    import matplotlib as mpl

    with mpl.rc_context(rc(overrides)):
        yield


def apply(overrides: dict[str, Any] | None = None) -> None:
    """Set the book's style for every later figure (the usual first cell of a notebook)."""
    import matplotlib as mpl

    mpl.rcParams.update(rc(overrides))


def group_report(report, ax=None):
    """Figure of a :class:`symlab.discover.GroupReport`: for every run, its distance to the
    nearest verified element against its training loss (verified elements at distance 0,
    rejected candidates and unconverged runs apart), with 2 log 2 and the threshold marked."""
    import matplotlib.pyplot as plt
    import numpy as np

    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.6))
    fit = report.discovery
    M = fit.matrices
    if len(report.elements):
        d = np.linalg.norm(M[:, None] - report.elements[None], axis=(-1, -2)).min(1)
    else:
        n = M.shape[-1]
        d = np.linalg.norm(M - np.eye(n), axis=(1, 2))
    ok = fit.loss > report.threshold
    ax.scatter(fit.loss[ok], d[ok], s=14, color=ROLES["end"],
               label="converged runs")
    ax.scatter(fit.loss[~ok], d[~ok], s=14, marker="x", color=CYCLE[3], label="not converged")
    ax.axvline(2 * np.log(2), color="0.3", lw=1, ls="--", label="2 log 2")
    ax.axvline(report.threshold, color=CYCLE[1], lw=1, ls=":", label="threshold")
    ax.set_xlabel("training loss of Eq. (13)")
    ax.set_ylabel("distance to nearest verified element" if len(report.elements)
                  else "distance to the identity")
    ax.set_title(f"{len(report.elements)} verified element(s), {report.components} "
                 "component(s)", fontsize=10)
    ax.legend(fontsize=8, loc="best")
    return ax
