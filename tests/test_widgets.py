"""symlab.widgets (the one "Try it" explorer) and the figure panels of symlab.plotting."""

import matplotlib

matplotlib.use("Agg")

import ipywidgets as w  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import symlab as sl  # noqa: E402
from symlab import plotting, widgets  # noqa: E402


def test_controls_from_specifications():
    c = widgets.controls({
        "x": (0.0, 1.0, 0.25), "n": ("count", 1, 9, 3), "s": (0.0, 2.0, 1.0, 0.5),
        "pick": ["a", "b"], "named": ("data", {"first": 1, "second": 2}), "on": True,
        "ready": w.IntText(value=7)})
    assert isinstance(c["x"], w.FloatSlider) and c["x"].value == 0.25
    assert not c["x"].continuous_update                 # retrain on release only
    assert isinstance(c["n"], w.IntSlider) and c["n"].description == "count"
    assert c["s"].step == 0.5
    assert isinstance(c["pick"], w.Dropdown) and c["pick"].value == "a"
    assert c["named"].value == 1 and c["named"].description == "data"
    assert isinstance(c["on"], w.Checkbox) and c["on"].value is True
    assert c["ready"].value == 7


@pytest.mark.parametrize("spec, error", [
    ((0.0, 1.0, 2.0), ValueError),       # initial value outside the slider
    ((0.0, 1.0, 0.5, 0.0), ValueError),  # zero step
    ([], ValueError),                    # no options
    (object(), TypeError),
    ("text", TypeError),
])
def test_bad_control_specifications_name_the_control(spec, error):
    with pytest.raises(error, match="'bad'"):
        widgets.controls({"bad": spec})


def test_explorer_redraws_with_the_new_values_and_hides_controls():
    calls = []
    box = widgets.explorer(lambda a, mode: calls.append((a, mode)),
                           {"a": (0.0, 1.0, 0.5), "mode": ["one", "two"]},
                           visible={"a": lambda mode, **_: mode == "one"})
    assert calls == [(0.5, "one")]                     # drawn once at the start
    box.controls["mode"].value = "two"
    assert calls[-1] == (0.5, "two")
    assert box.controls["a"].layout.display == "none"   # hidden for "two"
    box.controls["mode"].value = "one"
    assert box.controls["a"].layout.display is None
    assert box.children[-1] is box.output


def test_explorer_refuses_a_visibility_rule_for_no_control():
    with pytest.raises(ValueError, match="missing"):
        widgets.explorer(lambda a: None, {"a": (0.0, 1.0, 0.5)},
                         visible={"missing": lambda **_: True})
    with pytest.raises(TypeError, match="draw"):
        widgets.explorer("not a function", {"a": (0.0, 1.0, 0.5)})


def test_fit_explorer_trains_from_the_chosen_start():
    space, data = sl.spaces.Affine(1), sl.paper.gaussian_1d()

    def start(b0, c0, **_):
        return np.c_[b0 + 0.1 * np.arange(3), np.full(3, c0)]

    box = widgets.fit_explorer(
        space, data, start, {"b0": (-3.0, 3.0, 1.0), "c0": (-3.0, 3.0, 2.0)},
        settings={"steps": 40}, landscape=lambda ax, **_: ax.set(xlim=(-3, 3), ylim=(-3, 3)))
    assert box.fit.runs == 3
    np.testing.assert_allclose(box.fit.init_params[:, 0], [1.0, 1.1, 1.2])
    first = box.fit
    box.controls["b0"].value = -2.0
    assert box.fit is not first
    np.testing.assert_allclose(box.fit.init_params[:, 0], [-2.0, -1.9, -1.8])
    plt.close("all")


def test_fit_explorer_takes_space_data_and_settings_from_the_controls():
    spaces = {"affine": sl.spaces.Affine(1), "scale": sl.spaces.Scale(1)} \
        if hasattr(sl.spaces, "Scale") else {"affine": sl.spaces.Affine(1)}
    seen = []

    def settings(objective, **_):
        seen.append(objective)
        return {"steps": 20, "objective": objective}

    box = widgets.fit_explorer(
        lambda family, **_: spaces[family], lambda **_: sl.paper.gaussian_1d(),
        lambda **_: [[0.0, 1.5], [0.0, -1.5]],
        {"family": ["affine"], "objective": ["non-saturating", "minimax"]},
        settings=settings, summary=lambda fit, **_: f"{fit.runs} runs", loss_panel=False)
    box.controls["objective"].value = "minimax"
    assert seen == ["non-saturating", "minimax"] and box.fit.runs == 2
    with pytest.raises(TypeError, match="start"):
        widgets.fit_explorer(spaces["affine"], sl.paper.gaussian_1d(), None,
                             {"a": (0.0, 1.0, 0.5)})
    plt.close("all")


def test_panels_draw_landscapes_paths_and_losses():
    x = np.linspace(-1, 1, 11)
    X, Y = np.meshgrid(x, x)
    L = sl.landscape.MAX_LOSS - X**2 - Y**2
    fig, (a1, a2) = plt.subplots(1, 2)
    cf = plotting.landscape_panel(a1, X, Y, L, fine=True, symmetries=[[0, 0]], title="t")
    assert list(cf.levels) == list(plotting.FINE_LEVELS) and a1.get_title() == "t"
    path = np.zeros((5, 2, 2))
    path[:, 1] = np.linspace(0, 1, 5)[:, None]
    plotting.runs_on_landscape(a1, path)
    assert len(a1.lines) == 2                     # one line per run
    plotting.runs_on_landscape(a2, path[:, :, :1])  # one parameter against the record
    with pytest.raises(ValueError, match="path"):
        plotting.runs_on_landscape(a2, np.zeros(3))
    hist = sl.History(steps=np.arange(4), params=path[:4], d_loss=np.ones((4, 2)),
                      g_loss=np.ones((4, 2)))
    plotting.loss_curves(a2, hist)
    assert a2.get_ylim() == (0.3, 1.5)
    plt.close(fig)
