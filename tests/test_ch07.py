"""Chapter 7 (dijets): the analytic claims the chapter makes beyond symlab's own tests."""

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

import symlab as sl


def rot(a):
    """The paper's rotation [[cos a, sin a], [-sin a, cos a]] (Eq. 30)."""
    return np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])


def refl(phi):
    """The reflection [[cos phi, sin phi], [sin phi, -cos phi]] about the axis at phi / 2."""
    return np.array([[math.cos(phi), math.sin(phi)], [math.sin(phi), -math.cos(phi)]])


def joint(A):
    """A acting on both jets: diag(A, A)."""
    return np.kron(np.eye(2), A)


SWAP = np.kron(np.array([[0.0, 1.0], [1.0, 0.0]]), np.eye(2))   # (p1, p2) -> (p2, p1)


def omega(t1, t2):
    """The discovery map of Eq. 31 for initial angles in [0, 2 pi)."""
    t1, t2 = np.mod(t1, 2 * np.pi), np.mod(t2, 2 * np.pi)
    mid = (t1 + t2) / 2
    return np.where(np.abs(t1 - t2) < np.pi, mid, mid - np.pi)


def wrap(a):
    return np.angle(np.exp(1j * np.asarray(a)))


# ----------------------------------------------------------------------------- Eq. 31
def test_eq31_is_the_bisector_of_the_smaller_arc():
    rng = np.random.default_rng(0)
    t1, t2 = rng.uniform(0, 2 * np.pi, (2, 2000))
    keep = np.abs(np.abs(t1 - t2) - np.pi) > 1e-6
    t1, t2 = t1[keep], t2[keep]
    # Omega is the direction of e^{i t1} + e^{i t2}: the circular mean of the two angles
    np.testing.assert_allclose(wrap(omega(t1, t2) - np.angle(np.exp(1j * t1) + np.exp(1j * t2))), 0, atol=1e-12)
    # and it is equally far from both, by less than pi / 2
    d1, d2 = np.abs(wrap(omega(t1, t2) - t1)), np.abs(wrap(omega(t1, t2) - t2))
    np.testing.assert_allclose(d1, d2, atol=1e-12)
    assert d1.max() < np.pi / 2


@pytest.mark.parametrize("eps", [1e-8, 0.3])
def test_adam_on_a_loss_of_the_angle_difference_conserves_the_sum_and_ends_at_eq31(eps):
    """If L depends on theta1 - theta2 only, dL/dtheta1 = -dL/dtheta2: Adam's moments stay
    opposite and equal, so theta1 + theta2 never changes and the run ends on Eq. 31."""
    rng = np.random.default_rng(1)
    start = rng.uniform(0, 2 * np.pi, (64, 2))
    start = start[np.abs(np.abs(start[:, 0] - start[:, 1]) - np.pi) > 0.2]
    theta = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([theta], lr=0.02, eps=eps)
    for _ in range(3000):
        opt.zero_grad()
        loss = -torch.cos(theta[:, 0] - theta[:, 1]).sum()   # maximal on the bisector
        loss.backward()
        opt.step()
    end = theta.detach().numpy()
    np.testing.assert_allclose(end.sum(1), start.sum(1), atol=1e-9)
    np.testing.assert_allclose(wrap(end[:, 0] - end[:, 1]), 0, atol=1e-6)
    np.testing.assert_allclose(wrap(end[:, 0] - omega(start[:, 0], start[:, 1])), 0, atol=1e-6)


# ----------------------------------------------------------------------------- the spaces
def test_givens_angles_of_the_joint_rotations_and_reflections():
    so4, so2 = sl.spaces.SO(4), sl.spaces.SO2xSO2()
    assert so4.pairs == [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]   # R1 ... R6 of Eqs. 32-34
    a = 0.7
    np.testing.assert_allclose(so4.matrix([[a, 0, 0, 0, 0, a]])[0].numpy(), joint(rot(a)), atol=1e-12)
    np.testing.assert_allclose(so2.matrix([[a, a]])[0].numpy(), joint(rot(a)), atol=1e-12)
    # theta5 = pi (the p1y, p2y plane) flips both y components: the joint reflection about x
    np.testing.assert_allclose(so4.matrix([[0, 0, 0, 0, math.pi, 0]])[0].numpy(),
                               np.diag([1.0, -1.0, 1.0, -1.0]), atol=1e-12)
    # theta2 = theta5 = pi/2 sends p1 -> p2 and p2 -> -p1
    np.testing.assert_allclose(so4.matrix([[0, math.pi / 2, 0, 0, math.pi / 2, 0]])[0].numpy(),
                               SWAP @ np.diag([-1.0, -1.0, 1.0, 1.0]), atol=1e-12)


def test_one_common_scale_keeps_rotations_rotations_and_per_coordinate_scales_do_not():
    for M in (joint(rot(0.4)), SWAP, sl.spaces.SO(4).matrix([[0.3, 1.1, -0.4, 2.0, 0.2, -1.3]])[0].numpy()):
        s = 937.0
        np.testing.assert_allclose((s * np.eye(4)) @ M @ np.linalg.inv(s * np.eye(4)), M, atol=1e-12)
    D = np.diag([986.0, 986.0, 870.0, 870.0])          # the two jets' spreads differ (pT1 >= pT2)
    Dj = D @ joint(rot(0.4)) @ np.linalg.inv(D)
    np.testing.assert_allclose(Dj @ Dj.T, np.eye(4), atol=1e-12)   # same scale within a jet: fine
    Ds = D @ SWAP @ np.linalg.inv(D)
    assert np.abs(Ds @ Ds.T - np.eye(4)).max() > 0.2                # the swap is no longer orthogonal


# ----------------------------------------------------------------------------- Z2 elements
@pytest.mark.parametrize("name", ["-1", "swap", "-swap", "joint reflection", "swap o reflection", "half-turn"])
def test_order_two_elements_of_so4(name):
    phi = 1.3
    M = {"-1": -np.eye(4), "swap": SWAP, "-swap": -SWAP, "joint reflection": joint(refl(phi)),
         "swap o reflection": SWAP @ joint(refl(phi)),
         "half-turn": sl.spaces.SO(4).matrix([[0, 0, math.pi, 0, 0, 0]])[0].numpy()}[name]
    np.testing.assert_allclose(M @ M, np.eye(4), atol=1e-12)
    assert np.linalg.det(M) == pytest.approx(1.0)                     # all are in SO(4)
    eig = np.sort(np.linalg.eigvalsh((M + M.T) / 2))
    if name != "-1":                                                  # a half-turn: I - 2 Pi, Pi a 2-plane
        np.testing.assert_allclose(eig, [-1, -1, 1, 1], atol=1e-12)


def test_swap_composed_with_a_rotation_has_order_two_only_at_0_and_pi():
    for a in (0.0, math.pi, 0.5, 2.0):
        M = SWAP @ joint(rot(a))
        np.testing.assert_allclose(M @ M, joint(rot(2 * a)), atol=1e-12)
        assert np.allclose(M @ M, np.eye(4)) == (a in (0.0, math.pi))


# ----------------------------------------------------------------------------- on the data
@pytest.fixture(scope="module")
def dijets():
    return sl.data.load_dijets().astype(np.float64)


def test_joint_rotations_by_whole_bins_roll_the_azimuth_histograms(dijets):
    """A joint rotation by k bin widths shifts every phi by exactly k bins: the KL between the
    histograms of the same events before and after is KL(h, roll(h, k)), and rotating both of
    two samples leaves their KL unchanged."""
    bins = 50
    xa, xb = dijets[:30_000], dijets[30_000:60_000]
    width = 2 * math.pi / bins
    edges = np.linspace(-np.pi, np.pi, bins + 1)
    h = np.stack([np.histogram(np.arctan2(xa[:, 2 * j + 1], xa[:, 2 * j]), edges)[0] for j in (0, 1)]) / len(xa)
    for k in (1, 7, 25):
        R = joint(rot(-k * width))                      # the paper's R(a) turns by -a
        kl = sl.verify.azimuthal_kl(xa, xa @ R.T, bins=bins)
        expected = [np.sum(h[j] * np.log(h[j] / np.roll(h[j], k))) for j in (0, 1)]
        np.testing.assert_allclose(kl, expected, rtol=1e-9)
        np.testing.assert_allclose(sl.verify.azimuthal_kl(xa @ R.T, xb @ R.T, bins=bins),
                                   sl.verify.azimuthal_kl(xa, xb, bins=bins), rtol=1e-9)
    np.testing.assert_array_equal(sl.verify.azimuthal_kl(xa, xa, bins=bins), [0.0, 0.0])


def test_pt_ordering_and_the_swap(dijets):
    """|p1|^2 - |p2|^2 = 2 u.v with u = (p1 - p2)/sqrt2, v = (p1 + p2)/sqrt2; the swap sends
    u -> -u, v -> v, so it reverses the pT ordering of every event."""
    x = dijets[:20_000]
    pt1, pt2 = np.hypot(x[:, 0], x[:, 1]), np.hypot(x[:, 2], x[:, 3])
    assert np.all(pt1 >= pt2)
    u, v = (x[:, :2] - x[:, 2:]) / math.sqrt(2), (x[:, :2] + x[:, 2:]) / math.sqrt(2)
    np.testing.assert_allclose(pt1**2 - pt2**2, 2 * np.sum(u * v, 1), rtol=1e-9, atol=1e-6)
    y = x @ SWAP.T
    assert np.all(np.hypot(y[:, 0], y[:, 1]) <= np.hypot(y[:, 2], y[:, 3]))
    np.testing.assert_allclose((y[:, :2] - y[:, 2:]) / math.sqrt(2), -u, atol=1e-9)
    np.testing.assert_allclose((y[:, :2] + y[:, 2:]) / math.sqrt(2), v, atol=1e-9)


def test_swap_is_a_symmetry_of_unordered_jets(dijets):
    """Shuffling the jet labels makes the swap an exact symmetry: the held-out test passes."""
    rng = np.random.default_rng(3)
    x = dijets[:8000].copy()
    flip = rng.random(len(x)) < 0.5
    x[flip] = x[flip] @ SWAP.T
    res = sl.verify.posthoc(x, np.stack([SWAP, np.eye(4)]), seed=0, n=8000, epochs=5)
    assert res.passed().all()
    ordered = sl.verify.posthoc(dijets[:8000], SWAP, seed=0, n=8000, epochs=5)
    assert not ordered.passed().any() and ordered.auc[0] > 0.7


# ----------------------------------------------------------------------------- which events
HAVE_PANDAS = all(importlib.util.find_spec(m) is not None for m in ("pandas", "tables"))
needs_pandas = pytest.mark.skipif(not HAVE_PANDAS, reason="pandas/PyTables not installed")
NOTEBOOK = Path(__file__).resolve().parents[1] / "book" / "07_dijets.ipynb"


def _lhco_file(path, n=3000):
    """A pandas-written file in the LHCO features layout (``to_hdf(format="fixed")``): the
    first ``n`` events of the bundled sample, every tenth labelled signal."""
    import pandas as pd

    cols = sl.data.read_lhco_features(sl.data.sample_path())
    df = pd.DataFrame({c: cols[c][:n] for c in sl.data.LHCO_COLUMNS})
    df["label"] = (np.arange(n) % 10 == 3).astype(np.float32)
    df.to_hdf(path, key="df", format="fixed")
    background = df[df["label"] == 0]
    return np.stack([background[c].to_numpy() for c in sl.data.DIJET_COLUMNS], 1)


@needs_pandas
def test_choose_dijets_takes_a_real_file_from_a_path_or_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "events_anomalydetection_v2.features.h5"
    expect = _lhco_file(path)
    monkeypatch.delenv(sl.data.LHCO_ENV, raising=False)
    got = sl.data.choose_dijets(path)
    assert got.source == "lhco" and got.path == path and got.total == len(expect) == 2700
    np.testing.assert_array_equal(got.x, expect)                 # background rows only
    assert "LHC Olympics" in got.description and path.name in got.description
    assert sl.data.choose_dijets(str(path), n=100).x.shape == (100, 4)
    monkeypatch.setenv(sl.data.LHCO_ENV, str(path))             # the same through $SYMLAB_...
    from_env = sl.data.choose_dijets()
    assert from_env.source == "lhco"
    np.testing.assert_array_equal(from_env.x, expect)


def test_choose_dijets_falls_back_to_the_bundled_sample(monkeypatch):
    for value in (None, "", "  "):
        if value is None:
            monkeypatch.delenv(sl.data.LHCO_ENV, raising=False)
        else:
            monkeypatch.setenv(sl.data.LHCO_ENV, value)
        got = sl.data.choose_dijets()
        assert got.source == "sample" and got.path == sl.data.sample_path()
        assert got.x.shape == (100_000, 4) and got.total == 100_000
        assert got.description.startswith("data: the bundled")


def test_choose_dijets_reports_a_missing_file_instead_of_using_the_sample(tmp_path, monkeypatch):
    missing = tmp_path / "no_such.h5"
    with pytest.raises(FileNotFoundError, match="no_such.h5"):
        sl.data.choose_dijets(missing)
    monkeypatch.setenv(sl.data.LHCO_ENV, str(missing))
    with pytest.raises(FileNotFoundError, match=sl.data.LHCO_ENV):
        sl.data.choose_dijets()
    with pytest.raises(ValueError, match="n must be"):
        sl.data.choose_dijets(None, n=0)
    with pytest.raises(TypeError, match="path"):
        sl.data.choose_dijets(42)
    with pytest.raises(TypeError, match="env"):
        sl.data.choose_dijets(None, env=None)


@needs_pandas
def test_choose_dijets_download(tmp_path, monkeypatch):
    from symlab.data import fetch

    path = tmp_path / "events_anomalydetection_v2.features.h5"
    expect = _lhco_file(path)
    calls = []

    def fake_fetch(dest, which="features", **kw):
        calls.append((Path(dest), which))
        return path

    monkeypatch.setattr(fetch, "fetch_lhco", fake_fetch)
    got = sl.data.choose_dijets("download", download_dir=tmp_path / "cache")
    assert calls == [(tmp_path / "cache", "features")] and got.source == "lhco"
    np.testing.assert_array_equal(got.x, expect)

    def no_network(dest, which="features", **kw):
        raise OSError("could not download")

    monkeypatch.setattr(fetch, "fetch_lhco", no_network)
    got = sl.data.choose_dijets("download")                      # falls back, and says so
    assert got.source == "sample" and "download failed" in got.description


def _chapter_cells(*ids):
    cells = {c["id"]: "".join(c["source"]) for c in json.loads(NOTEBOOK.read_text())["cells"]}
    return [cells[i] for i in ids]


@needs_pandas
@pytest.mark.parametrize("how", ["environment", "setting"])
def test_chapter_7_takes_the_real_file_path(tmp_path, monkeypatch, capsys, how):
    """The chapter's own data-selection cells, run on a pandas-written LHCO-layout file:
    they read that file, not the sample, and say so in their first line of output."""
    import matplotlib

    path = tmp_path / "events_anomalydetection_v2.features.h5"
    expect = _lhco_file(path)
    setup, helpers, data, table = _chapter_cells("ch07-03", "ch07-helpers", "ch07-05",
                                                 "ch07-05b")
    assert "LHCO_FILE = None" in setup and "choose_dijets(LHCO_FILE)" in data
    if how == "environment":
        monkeypatch.setenv(sl.data.LHCO_ENV, str(path))
    else:
        monkeypatch.delenv(sl.data.LHCO_ENV, raising=False)
        setup = setup.replace("LHCO_FILE = None", f"LHCO_FILE = {str(path)!r}")
    ns: dict = {}
    with matplotlib.rc_context():
        for source in (setup, helpers, data, table):
            exec(compile(source, str(NOTEBOOK), "exec"), ns)
    assert ns["events"].source == "lhco"
    np.testing.assert_array_equal(ns["x"], expect)
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("data: the LHC Olympics file") and path.name in first


def test_chapter_7_runs_on_the_sample_by_default(monkeypatch, capsys):
    import matplotlib

    monkeypatch.delenv(sl.data.LHCO_ENV, raising=False)
    ns: dict = {}
    with matplotlib.rc_context():
        for source in _chapter_cells("ch07-03", "ch07-helpers", "ch07-05"):
            exec(compile(source, str(NOTEBOOK), "exec"), ns)
    assert ns["events"].source == "sample" and len(ns["x_check"]) == 50_000
    assert capsys.readouterr().out.startswith("data: the bundled Pythia 8 sample")
