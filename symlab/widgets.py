"""The book's one "Try it" explorer: controls, a redraw on every change, and a training view.

Usage::

    from symlab import widgets

    # any figure that depends on a few values (chapters 1-3, 9, 10)
    widgets.explorer(draw, {"w": ("mixture w", 0.1, 0.9, 0.3),
                            "map": {"1 - u": "flip", "u + 1/2 mod 1": "half"}})

    # train a few runs from a chosen start and watch them on the landscape (chapters 4-8)
    widgets.fit_explorer(space, data, start=lambda b0, c0, **_: [[b0, c0]] * 8,
                         controls={"b0": ("start b", -5, 5, 3.0),
                                   "c0": ("start c", -5, 5, -2.0)},
                         landscape=lambda ax, **_: plotting.landscape_panel(ax, B, C, L))

Control specifications (:func:`controls`), one per keyword of the drawing function:

- ``(low, high, value)`` or ``(label, low, high, value)``, optionally with a final ``step``:
  a slider (integer if ``low``, ``high`` and ``value`` are all ``int``);
- a list of options, or a dict ``{label: value}``, optionally as ``(label, options)``:
  a drop-down menu whose first option is the initial value;
- ``True`` / ``False`` (or ``(label, bool)``): a check box;
- an ``ipywidgets`` widget: used as it is.

Sliders update when released (``continuous_update=False``): every change retrains or
redraws, and a drag would queue a redraw per pixel. ipywidgets is imported on first use.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from . import _checks

Spec = Any

_WIDE = {"description_width": "initial"}   # show whole labels


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _control(name: str, spec: Spec):
    """One ipywidgets control from its specification (see the module docstring)."""
    import ipywidgets as w

    if isinstance(spec, w.Widget):
        return spec
    label = name
    if isinstance(spec, tuple) and spec and isinstance(spec[0], str) and len(spec) >= 2:
        label, spec = spec[0], (spec[1] if len(spec) == 2 else spec[1:])
    if isinstance(spec, bool):
        return w.Checkbox(value=spec, description=label, style=_WIDE)
    if isinstance(spec, Mapping) or isinstance(spec, list):
        options = list(spec.items()) if isinstance(spec, Mapping) else list(spec)
        if not options:
            raise ValueError(f"control {name!r}: give at least one option")
        return w.Dropdown(options=options, description=label, style=_WIDE)
    if isinstance(spec, tuple) and len(spec) in (3, 4) and all(map(_is_number, spec)):
        low, high, value = spec[:3]
        if not low <= value <= high:
            raise ValueError(f"control {name!r}: the initial value {value} lies outside "
                             f"[{low}, {high}]; put it between the slider's ends")
        integral = all(isinstance(v, (int, np.integer)) for v in spec)
        step = spec[3] if len(spec) == 4 else (1 if integral else (high - low) / 100)
        if not step > 0:
            raise ValueError(f"control {name!r}: the slider step must be > 0, got {step}")
        kind = w.IntSlider if integral else w.FloatSlider
        return kind(value=value, min=low, max=high, step=step, description=label,
                    continuous_update=False, style=_WIDE)
    raise TypeError(f"control {name!r}: cannot make a control from {spec!r}; give "
                    "(low, high, value), a list or dict of options, a bool, or a widget")


def controls(specs: Mapping[str, Spec]) -> dict[str, Any]:
    """Widgets for ``specs`` ``{keyword: specification}``, in the same order."""
    if not isinstance(specs, Mapping) or not specs:
        raise TypeError("controls must be a non-empty dict {keyword: specification}")
    return {str(k): _control(str(k), v) for k, v in specs.items()}


def explorer(draw: Callable[..., Any], specs: Mapping[str, Spec], *,
             visible: Mapping[str, Callable[..., bool]] | None = None):
    """A "Try it" box: the controls of ``specs`` above the output of ``draw(**values)``.

    Args:
        draw: called with every control's value as keywords, once at the start and after each
            change; it draws (``plt.show()``) and prints what it wants to show.
        specs: ``{keyword: specification}`` (see the module docstring), in display order.
        visible: ``{keyword: predicate(**values) -> bool}``: show that control only while the
            predicate holds (e.g. sliders that only mean something for one data set).

    Returns:
        The ``ipywidgets.VBox`` (a notebook shows it when it is a cell's last value).
        ``box.controls`` is the dict of control widgets, ``box.output`` the output area.
    """
    import ipywidgets as w

    if not callable(draw):
        raise TypeError(f"draw must be a function of the controls' values, got {draw!r}")
    widgets = controls(specs)
    visible = dict(visible or {})
    unknown = set(visible) - set(widgets)
    if unknown:
        raise ValueError(f"visible names controls that do not exist: {sorted(unknown)}")

    def values() -> dict[str, Any]:
        return {k: c.value for k, c in widgets.items()}

    def relayout(_=None) -> None:
        v = values()
        for key, shown in visible.items():
            widgets[key].layout.display = None if shown(**v) else "none"

    for c in widgets.values():
        c.observe(relayout, names="value")
    relayout()
    output = w.interactive_output(draw, widgets)
    box = w.VBox([*widgets.values(), output])
    box.controls, box.output = widgets, output
    return box


def _resolve(value, v: dict):
    return value(**v) if callable(value) and not hasattr(value, "matrix") \
        and not hasattr(value, "log_prob") else value


def fit_explorer(space, data, start: Callable[..., Any], specs: Mapping[str, Spec], *,
                 landscape: Callable[..., Any] | None = None,
                 settings: Mapping[str, Any] | Callable[..., Mapping[str, Any]] | None = None,
                 seed: int = 0, dims: tuple[int, int] = (0, 1),
                 summary: Callable[..., str] | None = None, loss_panel: bool = True,
                 visible: Mapping[str, Callable[..., bool]] | None = None,
                 figsize: tuple[float, float] | None = None, path_color: str | None = None):
    """A "Try it" box that trains a few SymmetryGAN runs and draws where they go.

    On each change of a control: ``start(**values)`` gives the initial parameters
    ``[K, P]``, ``SymmetryGAN(space, **settings).fit(data, init=…)`` trains the K runs with
    the trainer's defaults unless ``settings`` says otherwise, and the figure shows the paths
    on the landscape (left: :func:`symlab.plotting.runs_on_landscape` over ``landscape``)
    and the discriminator loss per run (right: :func:`symlab.plotting.loss_curves`).

    Args:
        space, data: the search space and the data (array ``[N, n]`` or density), or
            functions of the control values returning them (e.g. a drop-down of data sets).
        start: ``start(**values) -> [K, P]`` initial parameters (K runs of P parameters).
        specs: the controls, ``{keyword: specification}`` (see the module docstring).
        landscape: ``landscape(ax, **values)`` draws the background of the left panel (for
            instance :func:`symlab.plotting.landscape_panel`), or None for plain axes.
        settings: keyword arguments of :class:`symlab.SymmetryGAN` (``steps``, ``objective``,
            ``cyclic``, …), or a function of the control values returning them.
        seed: the seed of ``fit`` (every change of the controls reruns with the same seed).
        dims: the two parameters drawn as the plane's x and y.
        summary: ``summary(fit, **values) -> str`` printed under the figure; the default
            prints the final parameters of every run.
        loss_panel: draw the loss curves beside the paths.
        visible: as in :func:`explorer`.
        figsize: the figure size (default 10.5 x 4.2 with the loss panel, 5.6 x 4.3 without).
        path_color: colour of the paths (default white over a ``landscape``, grey without;
            give one when ``landscape`` draws no dark background).

    Returns:
        The ``ipywidgets.VBox`` of :func:`explorer`; after each redraw ``box.fit`` is the
        latest :class:`symlab.Discovery`.
    """
    import matplotlib.pyplot as plt

    from . import plotting
    from .gan import SymmetryGAN

    if not callable(start):
        raise TypeError("start must be a function of the controls' values returning the "
                        "initial parameters [K, P]")
    seed = _checks.resolve_seed(seed)
    holder: dict[str, Any] = {}

    def draw(**v):
        gan_space = _resolve(space, v)
        options = dict(_resolve(settings, v) or {})
        t0 = time.perf_counter()
        fit = SymmetryGAN(gan_space, **options).fit(
            _resolve(data, v), init=np.asarray(start(**v), dtype=float), seed=seed,
            progress=False)
        seconds = time.perf_counter() - t0
        holder["fit"] = fit
        if "box" in holder:
            holder["box"].fit = fit
        if loss_panel:
            fig, (ax, ax_loss) = plt.subplots(
                1, 2, figsize=figsize or (10.5, 4.2), gridspec_kw={"width_ratios": [1.15, 1]})
            plotting.loss_curves(ax_loss, fit.history)
        else:
            fig, ax = plt.subplots(figsize=figsize or (5.6, 4.3))
        if landscape is not None:
            landscape(ax, **v)
        limits = ax.get_xlim(), ax.get_ylim()
        colour = path_color or (None if landscape is not None else "0.4")
        plotting.runs_on_landscape(ax, fit.history.params, dims=dims, color=colour)
        if landscape is not None:
            ax.set(xlim=limits[0], ylim=limits[1])
        ax.set_title(ax.get_title() or f"{fit.runs} runs on {gan_space!r}")
        plt.show()
        if summary is not None:
            print(summary(fit, **v))
        else:
            names = gan_space.param_names
            for k, row in enumerate(fit.params):
                print(f"run {k}: " + ", ".join(f"{n} = {x:+.3f}" for n, x in zip(names, row)))
        print(f"{fit.runs} runs x {fit.history.steps[-1]} steps in {seconds:.1f} s")

    box = explorer(draw, specs, visible=visible)
    box.fit = holder.get("fit")
    holder["box"] = box
    return box
