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
