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


# --- panels the chapters share -------------------------------------------------------------

#: Contour levels of ``L - 2 log 2``: finer near the maximum 0, where landscapes are flat.
FINE_LEVELS: tuple[float, ...] = (-1.4, -1.0, -0.7, -0.5, -0.35, -0.25, -0.16, -0.1, -0.06,
                                  -0.03, -0.015, -0.005, 0.0)

#: Evenly spaced contour levels of ``L - 2 log 2`` from -1.4 to 0.
EVEN_LEVELS: tuple[float, ...] = tuple(round(-1.4 + 0.1 * i, 10) for i in range(15))


def landscape_panel(ax, x, y, loss, *, fine: bool = False, symmetries=None, colorbar=True,
                    title: str | None = None, xlabel: str | None = None,
                    ylabel: str | None = None, aspect: str | None = None):
    """Filled contours of the loss landscape ``L - 2 log 2`` (Eq. 14) on a parameter plane.

    Args:
        ax: the matplotlib axes.
        x, y: the grid, 1-D axes ``[nx]``, ``[ny]`` or meshgrids ``[ny, nx]`` (as
            ``ax.contourf`` takes them).
        loss: ``L`` itself (not shifted) ``[ny, nx]``; it is drawn as ``L - 2 log 2``,
            clipped at -1.4, so that every symmetry sits at the top of the colour map (0).
        fine: levels :data:`FINE_LEVELS` (finer near 0) instead of :data:`EVEN_LEVELS`.
        symmetries: ``[m, 2]`` points marked as exact symmetries (white stars), or None.
        colorbar: add a colour bar beside ``ax`` (``True``), or not.
        title, xlabel, ylabel, aspect: passed to ``ax.set`` when given.

    Returns:
        The ``QuadContourSet`` (for a shared colour bar, pass ``colorbar=False`` and use it).
    """
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.colors import BoundaryNorm

    from .landscape import MAX_LOSS

    levels = list(FINE_LEVELS if fine else EVEN_LEVELS)
    norm = BoundaryNorm(levels, 256) if fine else None
    shifted = np.clip(np.asarray(loss, dtype=float) - MAX_LOSS, levels[0], 0.0)
    cf = ax.contourf(x, y, shifted, levels=levels, norm=norm, cmap=LANDSCAPE_CMAP)
    if symmetries is not None:
        group_elements(ax, symmetries)
    if colorbar:
        plt.colorbar(cf, ax=ax, ticks=levels[::2], format="%.3g", label=r"$L - 2\log 2$")
    ax.set(**{k: v for k, v in dict(title=title, xlabel=xlabel, ylabel=ylabel,
                                    aspect=aspect).items() if v is not None})
    return cf


def group_elements(ax, points, **style):
    """Mark exact symmetries ``points`` ``[m, 2]`` on a parameter plane (white stars).

    ``style`` overrides :data:`MARKERS` ``["symmetry"]`` (e.g. ``s=80``)."""
    import numpy as np

    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    return ax.scatter(pts[:, 0], pts[:, 1], **{**MARKERS["symmetry"], **style})


def runs_on_landscape(ax, path, dims: tuple[int, int] = (0, 1), *, starts: bool = True,
                      ends: bool = True, color: str | None = None, lw: float = 0.8,
                      alpha: float = 0.85):
    """Draw training paths on a parameter plane: lines, start dots and end crosses.

    Args:
        path: recorded parameters ``[T, K, P]`` (``Discovery.history.params``: T records of K
            runs), or one run ``[T, P]``.
        dims: which two of the P parameters are the plane's x and y; with ``P = 1`` the single
            parameter is drawn against the record index.
        starts, ends: mark the first (orange dots) and last (red crosses) records.
        color: line colour (default :data:`ROLES` ``["path"]``, white on a landscape).
    """
    import numpy as np

    p = np.asarray(path, dtype=float)
    if p.ndim == 2:
        p = p[:, None, :]
    if p.ndim != 3:
        raise ValueError(f"path must have shape [T, K, P] or [T, P], got {p.shape}")
    if p.shape[-1] == 1:
        t = np.broadcast_to(np.arange(p.shape[0], dtype=float)[:, None, None], p.shape)
        p = np.concatenate([t, p], axis=-1)
        dims = (0, 1)
    i, j = dims
    ax.plot(p[:, :, i], p[:, :, j], color=color or ROLES["path"], lw=lw, alpha=alpha)
    if starts:
        ax.scatter(p[0, :, i], p[0, :, j], **MARKERS["start"])
    if ends:
        ax.scatter(p[-1, :, i], p[-1, :, j], **MARKERS["end"])


def loss_curves(ax, history, ylim: tuple[float, float] | None = (0.3, 1.5),
                title: str = "the referee's loss"):
    """The discriminator loss of Eq. (13) per run against the training step, with 2 log 2.

    Args:
        history: a :class:`symlab.History` (``Discovery.history``): ``steps [T]`` and
            ``d_loss [T, K]``; the first record (before any step) is left out.
    """
    from .landscape import MAX_LOSS

    ax.plot(history.steps[1:], history.d_loss[1:], lw=0.8)
    ax.axhline(MAX_LOSS, color=ROLES["analytic"], ls="--", lw=1, label=r"$2\log 2$")
    ax.set(xlabel="training step", ylabel="discriminator loss (Eq. 13)", title=title)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.legend(loc="lower right")
