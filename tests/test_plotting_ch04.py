"""symlab.plotting as chapter 4 uses it: the landscape colour bar reads 0 at the top."""

from symlab import plotting


def test_even_levels_end_exactly_at_zero():
    """-1.4 + 0.1 * 14 is 2.2e-16 in floats; the colour bar would print that as its top tick."""
    assert plotting.EVEN_LEVELS[-1] == 0.0
    assert plotting.EVEN_LEVELS[0] == -1.4 and len(plotting.EVEN_LEVELS) == 15
    steps = [b - a for a, b in zip(plotting.EVEN_LEVELS, plotting.EVEN_LEVELS[1:])]
    assert all(abs(s - 0.1) < 1e-9 for s in steps)
