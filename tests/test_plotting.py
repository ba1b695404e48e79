"""symlab.plotting: one style for the book's figures."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from symlab import plotting  # noqa: E402


def test_cycle_and_roles_are_valid_colours():
    assert len(plotting.CYCLE) == len(set(plotting.CYCLE)) == 10
    # the chapters' "tab:" colours, in matplotlib's order, so restyled figures keep theirs
    assert plotting.CYCLE[:4] == tuple(mcolors.to_hex(f"tab:{c}")
                                       for c in ("blue", "orange", "green", "red"))
    for name, colour in plotting.ROLES.items():
        assert mcolors.is_color_like(colour), name
    for name, kw in plotting.MARKERS.items():
        assert mcolors.is_color_like(kw.get("color", kw.get("facecolor"))), name
    assert plotting.LANDSCAPE_CMAP in matplotlib.colormaps


def test_rc_is_accepted_by_matplotlib_and_overridable():
    params = plotting.rc({"font.size": 13})
    assert params["font.size"] == 13 and plotting.RC["font.size"] == 10   # RC is untouched
    matplotlib.RcParams(params)       # raises on an unknown key or an invalid value
    assert [c["color"] for c in params["axes.prop_cycle"]] == list(plotting.CYCLE)


def test_style_is_a_context_and_restores_the_previous_settings():
    before = dict(matplotlib.rcParams)
    with plotting.style({"lines.linewidth": 3.0}):
        assert matplotlib.rcParams["figure.dpi"] == plotting.RC["figure.dpi"]
        assert matplotlib.rcParams["lines.linewidth"] == 3.0
        fig, ax = plt.subplots()
        (line,) = ax.plot([0, 1], [0, 1])
        assert mcolors.to_hex(line.get_color()) == plotting.CYCLE[0]
        assert not ax.spines["top"].get_visible()
        ax.scatter([0], [0], **plotting.MARKERS["start"])
        ax.scatter([1], [1], **plotting.MARKERS["end"])
        ax.scatter([0.5], [0.5], **plotting.MARKERS["symmetry"])
        fig.canvas.draw()                 # the markers and the layout render
        plt.close(fig)
    assert dict(matplotlib.rcParams) == before


def test_apply_sets_the_style_globally():
    with matplotlib.rc_context():         # undo afterwards, for the other tests
        plotting.apply()
        assert matplotlib.rcParams["font.size"] == plotting.RC["font.size"]
        assert matplotlib.rcParams["image.cmap"] == plotting.LANDSCAPE_CMAP
    with pytest.raises((KeyError, ValueError)):
        plotting.apply({"no.such.key": 1})
