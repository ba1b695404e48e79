"""`python -m symlab.bench` keeps working (a tiny configuration; no timing is asserted)."""

from symlab import bench


def test_bench_reports_every_figure_with_consistent_arithmetic():
    r = bench.run(big_K=4, steps=4)
    assert set(r["us_per_run_step"]) == {"K=1", "K=4"}
    S, R = 1 * 25 + 25 * 25 + 25 * 1, 128
    assert r["model_flops_per_run_step"] == 2 * R * S + 2 * R * S + 2 * R * (S - 25) + 2 * (R // 2) * S
    per_run = r["us_per_run_step"]["K=4"] * 1e-6
    # train_gflops is the FLOP count divided by the measured time (rounding aside)
    assert abs(r["train_gflops"] - r["model_flops_per_run_step"] / per_run / 1e9) <= 0.02 * r["train_gflops"] + 0.01
    assert r["mm_gflops_2048"] > 0
    assert abs(r["train_fraction_of_mm"] - r["train_gflops"] / r["mm_gflops_2048"]) < 2e-3


def test_mirror_axes_reports_the_pooled_test_and_the_samples_own_lean():
    import math

    import numpy as np
    import pytest

    from symlab import data

    r = bench.mirror_axes(seeds=[0, 1], runs=8, steps=30, half=1, rotate=10.0)
    assert r["seeds"] == [0, 1] and len(r["p_per_seed"]) == 2
    assert 0 <= r["joint_o2"] <= 1
    if r["mirrorings"] > 1:
        assert 0 <= r["p_value"] <= 1 and 0 <= r["R"] <= 1
    else:  # too few axes for a test: reported as such, not as a number
        assert math.isnan(r["p_value"])
    # the prediction is 2 arg mean(e^{2i phi}) of the jets' azimuths, turned by 10 degrees
    x = data.load_dijets()[50_000:100_000]
    phi = np.concatenate([np.arctan2(x[:, 1], x[:, 0]), np.arctan2(x[:, 3], x[:, 2])])
    c2 = np.exp(2j * (phi + math.radians(10.0))).mean()
    assert r["predicted_4alpha_deg"] == round(math.degrees(2 * np.angle(c2)) % 360)
    assert r["noise_1_over_sqrt_n"] == round(1 / math.sqrt(50_000), 4)
    with pytest.raises(ValueError, match="half"):
        bench.mirror_axes(half=2)
