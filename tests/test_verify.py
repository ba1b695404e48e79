"""Post-hoc verification: the held-out classifier test, the ROC AUC helper and the azimuthal KL."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from symlab import paper, verify

ROT1 = np.array([[math.cos(1.0), math.sin(1.0)], [-math.sin(1.0), math.cos(1.0)]])


# ----------------------------------------------------------------------------- posthoc acceptance
def test_posthoc_default_settings_on_n11():
    """Acceptance: a rotation passes, x ↦ 2x is caught with AUC near its optimum 4/5."""
    rot = verify.posthoc(paper.n11(), ROT1, seed=0)
    assert len(rot) == 1 and rot.n_test == 5000
    assert rot.passed().all() and rot.p_value[0] > 0.0027
    assert abs(rot.auc[0] - 0.5) <= 3 * rot.sigma0[0]
    assert abs(rot.loss_gap[0]) < 0.01 and rot.loss_eq13[0] == pytest.approx(2 * math.log(2), abs=0.02)

    scaled = verify.posthoc(paper.n11(), 2.0 * np.eye(2), seed=0)
    assert scaled.auc[0] >= 0.78 and scaled.auc[0] <= 0.8 + 3 * scaled.auc_err[0]
    assert not scaled.passed().any() and scaled.p_value[0] < 1e-12
    assert scaled.loss_gap[0] < -0.1


def test_posthoc_batch_matches_expectations_and_handles_shifts():
    mats = np.stack([ROT1, 2.0 * np.eye(2), np.eye(2), ROT1.T])
    shifts = np.array([[0.0, 0.0], [0.0, 0.0], [2.0, 0.0], [0.0, 0.0]])
    res = verify.posthoc(paper.n11(), mats, shift=shifts, seed=1, n=8000)
    assert res.auc.shape == res.z.shape == res.p_value.shape == res.sigma0.shape == (4,)
    np.testing.assert_array_equal(res.passed(), [True, False, False, True])
    assert res.auc[2] > 0.8  # a shift by 2σ is easy to see
    assert "AUC" in res.summary()
    # a shared [n] shift broadcasts over the batch
    shared = verify.posthoc(paper.n11(), mats[[0, 3]], shift=[0.0, 0.0], seed=1, n=400, epochs=1)
    assert shared.auc.shape == (2,)


def test_posthoc_is_deterministic_and_accepts_finite_samples():
    x = paper.n12().sample(3000, seed=5)
    a = verify.posthoc(x, -np.eye(2), seed=3, n=2000, epochs=3)
    b = verify.posthoc(x.numpy(), torch.tensor(-np.eye(2)), seed=3, n=2000, epochs=3)
    np.testing.assert_array_equal(a.auc, b.auc)
    np.testing.assert_array_equal(a.loss, b.loss)
    assert a.n_test == 500  # subsampled to n = 2000 points
    assert verify.posthoc(x[:400], -np.eye(2), seed=3, epochs=2).n_test == 100  # fewer points than n


def test_posthoc_one_dimensional_data():
    x = paper.gaussian_1d().sample(4000, seed=0)
    res = verify.posthoc(x, [[-1.0]], shift=[1.0], seed=0, epochs=5)
    assert res.passed()[0]


def test_posthoc_bad_inputs():
    x = paper.n11().sample(400, seed=0)
    with pytest.raises(ValueError, match="shape"):
        verify.posthoc(x, np.ones(2))                       # matrix ndim 1
    with pytest.raises(ValueError, match="square"):
        verify.posthoc(x, np.ones((2, 3)))                  # not square
    with pytest.raises(ValueError, match="dimension"):
        verify.posthoc(x, np.eye(3))                        # wrong size
    with pytest.raises(ValueError, match="NaN"):
        verify.posthoc(x, np.full((2, 2), np.nan))
    with pytest.raises(ValueError, match="shift"):
        verify.posthoc(x, np.eye(2), shift=np.zeros(3))
    with pytest.raises(ValueError, match="shift"):
        verify.posthoc(x, np.stack([np.eye(2)] * 3), shift=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="NaN"):
        verify.posthoc(x, np.eye(2), shift=[np.inf, 0.0])
    bad = x.clone()
    bad[3, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        verify.posthoc(bad, np.eye(2))
    with pytest.raises(ValueError, match=r"\[N, n\]"):
        verify.posthoc(np.zeros((10, 2, 2)), np.eye(2))    # data ndim 3
    with pytest.raises(ValueError, match="at least"):
        verify.posthoc(x[:20], np.eye(2))                   # too few points
    with pytest.raises(ValueError, match="n must be"):
        verify.posthoc(x, np.eye(2), n=10)
    with pytest.raises(ValueError, match="epochs"):
        verify.posthoc(x, np.eye(2), epochs=0)


# ----------------------------------------------------------------------------- ROC AUC
def _pairwise_auc(pos, neg):
    diff = np.asarray(pos, float)[:, None] - np.asarray(neg, float)[None, :]
    return (diff > 0).mean() + 0.5 * (diff == 0).mean()


@given(pos=st.lists(st.integers(-5, 5), min_size=1, max_size=40),
       neg=st.lists(st.integers(-5, 5), min_size=1, max_size=40))
def test_roc_auc_matches_pairwise_counting_with_ties(pos, neg):
    auc, se = verify.roc_auc(pos, neg)
    assert auc == pytest.approx(_pairwise_auc(pos, neg), abs=1e-12)
    assert se >= 0


def test_roc_auc_continuous_scores_and_standard_error():
    rng = np.random.default_rng(0)
    pos, neg = rng.normal(1.0, 1.0, 300), rng.normal(0.0, 1.0, 200)
    auc, se = verify.roc_auc(pos, neg)
    assert auc == pytest.approx(_pairwise_auc(pos, neg), abs=1e-12)
    a, n1, n2 = auc, 300, 200
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    expected = math.sqrt((a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n2 - 1) * (q2 - a * a)) / (n1 * n2))
    assert se == pytest.approx(expected)
    assert verify.roc_auc([2.0, 3.0], [0.0, 1.0]) == (1.0, 0.0)
    assert verify.roc_auc(torch.tensor([0.0]), torch.tensor([1.0]))[0] == 0.0


def test_roc_auc_bad_inputs():
    with pytest.raises(ValueError, match="empty"):
        verify.roc_auc([], [1.0])
    with pytest.raises(ValueError, match="NaN"):
        verify.roc_auc([1.0, np.nan], [1.0])


# ----------------------------------------------------------------------------- azimuthal KL
def _dijet_like(n, seed):
    """Two back-to-back 'jets' with a uniform azimuth: a rotation-symmetric 4D sample."""
    rng = np.random.default_rng(seed)
    phi = rng.uniform(-np.pi, np.pi, n)
    pt1, pt2 = rng.normal(1300, 100, n), rng.normal(1200, 100, n)
    dphi = np.pi + rng.normal(0, 0.1, n)
    return np.stack([pt1 * np.cos(phi), pt1 * np.sin(phi),
                     pt2 * np.cos(phi + dphi), pt2 * np.sin(phi + dphi)], axis=1)


def test_azimuthal_kl_zero_small_and_large():
    x = _dijet_like(50_000, 0)
    np.testing.assert_array_equal(verify.azimuthal_kl(x, x), [0.0, 0.0])
    noise = verify.azimuthal_kl(x, _dijet_like(50_000, 1), bins=100)
    assert noise.shape == (2,) and np.all(noise < 0.01)
    # a "bad map": squash every azimuth into one half-plane
    squash = x.copy()
    squash[:, [1, 3]] = np.abs(squash[:, [1, 3]])
    bad = verify.azimuthal_kl(squash, x, bins=100)
    assert np.all(bad > 0.5)
    assert np.all(verify.azimuthal_kl(x, squash, bins=100) == np.inf)  # y empty where x is not


def test_azimuthal_kl_matches_scipy_entropy():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(5000, 2)), rng.normal(size=(4000, 2)) + [0.3, 0.0]
    edges = np.linspace(-np.pi, np.pi, 51)
    px = np.histogram(np.arctan2(x[:, 1], x[:, 0]), edges)[0]
    py = np.histogram(np.arctan2(y[:, 1], y[:, 0]), edges)[0]
    assert verify.azimuthal_kl(x, y, bins=50)[0] == pytest.approx(stats.entropy(px, py), rel=1e-12)


def test_azimuthal_kl_bad_inputs():
    x = np.ones((10, 4))
    with pytest.raises(ValueError, match="even"):
        verify.azimuthal_kl(np.ones((10, 3)), np.ones((10, 3)))
    with pytest.raises(ValueError, match="columns"):
        verify.azimuthal_kl(x, np.ones((10, 2)))
    with pytest.raises(ValueError, match="NaN"):
        verify.azimuthal_kl(x, np.full((10, 4), np.nan))
    with pytest.raises(ValueError, match=r"\[N, n\]"):
        verify.azimuthal_kl(np.ones((2, 2, 4)), x)
    with pytest.raises(ValueError, match="bins"):
        verify.azimuthal_kl(x, x, bins=0)


def test_azimuthal_kl_stack_matches_one_at_a_time():
    x = _dijet_like(4000, 3)
    rng = np.random.default_rng(4)
    mats = []
    for t in rng.uniform(0, 2 * np.pi, 3):
        c, s = np.cos(t), np.sin(t)
        mats.append(np.kron(np.eye(2), [[c, s], [-s, c]]))      # joint rotations
    mats.append(np.diag([1.0, 1.0, 0.2, 5.0]))                   # distorts jet 2 only
    y = x @ np.transpose(mats, (0, 2, 1))                        # [K, N, 4]
    stacked = verify.azimuthal_kl(x, y, bins=40)
    assert stacked.shape == (4, 2)
    for k in range(4):
        np.testing.assert_allclose(stacked[k], verify.azimuthal_kl(x, y[k], bins=40), rtol=1e-12, atol=0)
    assert stacked[3, 0] == 0.0 and stacked[3, 1] > 0.05
    np.testing.assert_allclose(verify.azimuthal_kl(x, torch.as_tensor(y), bins=40), stacked)


def test_azimuthal_kl_bins_match_numpy_histogram():
    """Points exactly at -pi and at pi both land in the first bin, as documented."""
    phi = np.array([-np.pi, np.pi, 0.0, 1.0, -2.0, 3.0])
    x = np.c_[np.cos(phi), np.sin(phi)]
    x[1] = [-1.0, 0.0]                                           # atan2(0, -1) = +pi exactly
    y = np.c_[np.cos(phi + 0.3), np.sin(phi + 0.3)]
    edges = np.linspace(-np.pi, np.pi, 9)

    def hist(p):
        a = np.arctan2(p[:, 1], p[:, 0])
        return np.histogram(np.where(a >= np.pi, a - 2 * np.pi, a), edges)[0]

    px, py = hist(x) / 6, hist(y) / 6
    m = px > 0
    with np.errstate(divide="ignore"):
        expected = np.sum(px[m] * np.log(px[m] / py[m]))
    assert verify.azimuthal_kl(x, y, bins=8)[0] == pytest.approx(expected, rel=1e-12)


def test_azimuthal_kl_floor_mean_and_determinism():
    floor = verify.azimuthal_kl_floor(20_000, 20_000, bins=50, trials=400, seed=1)
    assert floor.shape == (400,) and np.all(floor > 0)
    expected = (50 - 1) * (1 / 20_000 + 1 / 20_000) / 2      # chi-square asymptotics
    assert floor.mean() == pytest.approx(expected, rel=0.1)
    np.testing.assert_array_equal(floor, verify.azimuthal_kl_floor(20_000, 20_000, bins=50, trials=400, seed=1))
    # the same law as histogramming two uniform samples
    rng = np.random.default_rng(7)
    direct = [verify.azimuthal_kl(np.c_[np.cos(a), np.sin(a)], np.c_[np.cos(b), np.sin(b)], bins=50)[0]
              for a, b in rng.uniform(-np.pi, np.pi, (200, 2, 20_000))]
    assert np.mean(direct) == pytest.approx(floor.mean(), rel=0.1)


def test_azimuthal_kl_stack_and_floor_bad_inputs():
    x = np.ones((10, 4))
    with pytest.raises(ValueError, match="NaN"):
        verify.azimuthal_kl(x, np.full((2, 10, 4), np.nan))
    with pytest.raises(ValueError, match="empty"):
        verify.azimuthal_kl(x, np.ones((0, 10, 4)))
    with pytest.raises(ValueError, match="columns"):
        verify.azimuthal_kl(x, np.ones((2, 10, 2)))
    with pytest.raises(ValueError, match="positive"):
        verify.azimuthal_kl_floor(0, 10)
    with pytest.raises(ValueError, match="positive"):
        verify.azimuthal_kl_floor(10, 10, trials=0)


def test_rayleigh_p_values_are_calibrated_and_detect_a_preferred_axis():
    rng = np.random.default_rng(0)
    p = np.array([verify.rayleigh(rng.uniform(0, 2 * np.pi, 20))[1] for _ in range(4000)])
    assert abs(np.mean(p < 0.05) - 0.05) < 0.012          # calibrated at n = 20
    assert abs(np.mean(p < 0.5) - 0.5) < 0.04
    # mirror axes that avoid 0 and 90 degrees: invisible to the plain angle, seen at 4 alpha
    alpha = np.radians(rng.choice([45.0, 135.0], 40) + rng.normal(0, 10, 40))
    assert verify.rayleigh(2 * alpha)[1] > 0.01
    R, p4 = verify.rayleigh(4 * alpha)
    assert R > 0.8 and p4 < 1e-6
    assert verify.rayleigh(np.degrees(4 * alpha), period=360.0)[1] == pytest.approx(p4)


@pytest.mark.parametrize("bad", [[0.3], [], [0.1, np.nan]])
def test_rayleigh_refuses_too_few_or_non_finite_angles(bad):
    with pytest.raises(ValueError, match="angles"):
        verify.rayleigh(bad)
