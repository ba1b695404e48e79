"""Volume-preserving flows, push-forward densities and the nonlinear post-hoc test (chapter 9)."""

import math

import numpy as np
import pytest
import torch

import symlab as sl
from symlab import flows
from symlab import pushforward as pf
from symlab.flows import VolumePreservingFlow


def _points(n, dim=2, seed=0, scale=1.5):
    return scale * torch.randn(n, dim, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("near", [True, False])
@pytest.mark.parametrize("dim", [2, 3])
def test_jacobian_determinant_is_one(dim, near):
    flow = VolumePreservingFlow(dim, layers=4, hidden=8)
    p = flow.sample_init(3, seed=1, near_identity=near).double()
    det = flow.jacobian_det(p, _points(1000, dim))
    assert det.shape == (3, 1000)
    assert (det - 1).abs().max() < 1e-5
    if not near:  # a random flow is far from the identity, so the test is not trivial
        assert (flow.apply(p, _points(1000, dim)) - _points(1000, dim)).norm(dim=-1).mean() > 0.3


@pytest.mark.parametrize("dim", [2, 3, 5])
def test_inverse_reconstructs(dim):
    flow = VolumePreservingFlow(dim, layers=5, hidden=8)
    p = flow.sample_init(4, seed=2, near_identity=False).double()
    x = _points(1000, dim)
    y = flow.apply(p, x)
    assert y.shape == (4, 1000, dim)
    assert (flow.inverse(p, y) - x).abs().max() < 1e-5
    assert (flow.apply(p, flow.inverse(p, y)) - y).abs().max() < 1e-5


def test_batched_equals_per_run():
    flow = VolumePreservingFlow(2)
    p = flow.sample_init(5, seed=3, near_identity=False).double()
    x = _points(50)
    batched = flow.apply(p, x)
    for k in range(5):
        torch.testing.assert_close(batched[k], flow.apply(p[k:k + 1], x)[0])
    # per-run points [K, N, n]
    xs = _points(5 * 50).reshape(5, 50, 2)
    for k in range(5):
        torch.testing.assert_close(flow.apply(p, xs)[k], flow.apply(p[k:k + 1], xs[k])[0])


def test_near_identity_init_is_close_and_seeded():
    flow = VolumePreservingFlow(2)
    a, b = flow.sample_init(4, seed=7), flow.sample_init(4, seed=7)
    torch.testing.assert_close(a, b)
    x = _points(200)
    move = (flow.apply(a.double(), x) - x).norm(dim=-1).mean()
    assert 0 < move < 0.1
    assert flow.n_params == a.shape[1] == len(flow.param_names)


def test_bad_flow_inputs():
    with pytest.raises(ValueError, match="nothing nonlinear"):
        VolumePreservingFlow(1)
    with pytest.raises(ValueError, match="layers"):
        VolumePreservingFlow(2, layers=0)
    with pytest.raises(ValueError, match="hidden"):
        VolumePreservingFlow(2, hidden=0)
    with pytest.raises(ValueError, match="integer"):
        VolumePreservingFlow(2.5)
    flow = VolumePreservingFlow(2)
    p = flow.sample_init(2, seed=0)
    with pytest.raises(ValueError, match="dimension|shape"):
        flow.apply(p, torch.zeros(4, 3))
    with pytest.raises(ValueError, match="NaN"):
        flow.apply(p, torch.tensor([[0.0, float("nan")]]))
    bad = p.clone()
    bad[0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        flow.apply(bad, torch.zeros(4, 2))
    with pytest.raises(ValueError, match="shape"):
        flow.apply(p[:, :-1], torch.zeros(4, 2))
    with pytest.raises(ValueError, match="no matrix"):
        flow.matrix(p)


# ---------------------------------------------------------------------------- densities
def test_shear_and_henon_are_equiareal_and_invertible():
    for h in (pf.henon(1.0), pf.Shear((0.0, 0.5, 0.0, 0.25)), pf.Shear((1.0, 2.0), 2, 0, dim=3)):
        x = _points(1000, h.dim)
        assert (pf.jacobian_det(h.forward, x) - 1).abs().max() < 1e-9
        assert (h.inverse(h.forward(x)) - x).abs().max() < 1e-9
        h.check()  # the generic checks agree
    y = pf.henon(1.0).forward(torch.tensor([[2.0, 1.0]], dtype=torch.float64))
    torch.testing.assert_close(y, torch.tensor([[2.0, -3.0]], dtype=torch.float64))  # y - x^2


def test_custom_map_checks():
    ok = pf.EquiarealMap(lambda x: x + 1.0, lambda y: y - 1.0, dim=2)
    assert ok.dim == 2
    with pytest.raises(ValueError, match="not invertible|inverse"):
        pf.EquiarealMap(lambda x: x**2, lambda y: y.abs().sqrt(), dim=2)  # x -> x^2 folds the plane
    with pytest.raises(ValueError, match="not equiareal"):
        pf.EquiarealMap(lambda x: 2 * x, lambda y: y / 2, dim=2)
    with pytest.raises(ValueError, match="distinct"):
        pf.Shear((0.0, 1.0), source=1, target=1)
    with pytest.raises(ValueError, match="dimension"):
        sl.NonlinearPushforward(sl.paper.gaussian_1d(), pf.henon())
    with pytest.raises(ValueError, match="equiareal map"):
        sl.NonlinearPushforward(sl.paper.n11(), lambda x: x)


def test_pushforward_log_prob_is_exact_and_matches_samples():
    dens = sl.NonlinearPushforward(sl.paper.n11(), pf.henon(0.5))
    # normalised: integrate exp(log p) on a grid covering the banana
    xs, ys = np.linspace(-7, 7, 561), np.linspace(-18, 7, 1001)
    X, Y = np.meshgrid(xs, ys, indexing="ij")
    p = dens.prob(np.stack([X, Y], -1)).numpy()
    total = p.sum() * (xs[1] - xs[0]) * (ys[1] - ys[0])
    assert abs(total - 1) < 1e-4
    # samples: E[y] = -0.5 E[x^2] = -0.5, and the histogram agrees with the density
    s = dens.sample(200_000, seed=0).double()
    assert abs(float(s[:, 1].mean()) + 0.5) < 0.01
    # P(|x| < 1/2, |y| < 1/2) with y = z - x^2/2, z ~ N(0, 1): a 1D integral over x
    t = np.linspace(-0.5, 0.5, 20001)
    cdf = np.vectorize(lambda v: 0.5 * (1 + math.erf(v / math.sqrt(2))))
    integrand = np.exp(-t**2 / 2) / math.sqrt(2 * math.pi) * (cdf(0.5 + t**2 / 2) - cdf(-0.5 + t**2 / 2))
    expected = float(np.sum((integrand[1:] + integrand[:-1]) / 2) * (t[1] - t[0]))
    box = (s[:, 0].abs() < 0.5) & (s[:, 1].abs() < 0.5)
    assert abs(float(box.double().mean()) - expected) < 4 * math.sqrt(expected / 200_000)
    shaped = dens.sample_shaped((3, 5), seed=torch.Generator().manual_seed(1))
    assert shaped.shape == (3, 5, 2)
    with pytest.raises(ValueError, match="NaN"):
        dens.log_prob(torch.tensor([[float("nan"), 0.0]]))
    with pytest.raises(ValueError, match="dimension"):
        dens.log_prob(torch.zeros(2, 3))


def test_conjugated_rotation_is_an_exact_symmetry():
    dens = sl.NonlinearPushforward(sl.paper.n11(), pf.henon(0.5))
    g = dens.rotation(1.0)
    x = dens.sample(2000, seed=3).double()
    torch.testing.assert_close(dens.log_prob(g(x)), dens.log_prob(x))   # p(g x) = p(x)
    assert (pf.jacobian_det(g, x[:200]) - 1).abs().max() < 1e-9
    torch.testing.assert_close(g.inverse(g(x)), x)
    assert abs(flows.mc_loss(dens, g) - sl.landscape.MAX_LOSS) < 1e-9
    # a plain rotation is not a symmetry of the banana: the loss drops below 2 log 2
    R = pf.rotation_2d(1.0)

    def rot(x):
        return x @ R.T

    def rot_inv(y):
        return y @ R
    assert flows.mc_loss(dens, rot, rot_inv) < sl.landscape.MAX_LOSS - 0.05
    # the odd cubic shear keeps -1 as a linear symmetry; the Henon shear does not
    cubic = sl.NonlinearPushforward(sl.paper.n11(), pf.Shear((0, 0, 0, 0.25)))
    torch.testing.assert_close(cubic.rotation(math.pi)(x), -x)
    assert (dens.rotation(math.pi)(x) + x).abs().max() > 1.0
    with pytest.raises(ValueError, match="inverse"):
        flows.mc_loss(dens, rot)


def test_nearest_rotation_recovers_theta():
    dens = sl.NonlinearPushforward(sl.paper.n11(), pf.henon(0.5))
    x = dens.sample(500, seed=4).double()
    thetas = np.array([0.3, 2.0, 4.5])
    maps = dens.rotation(thetas)(x).numpy()
    th, rms = flows.nearest_rotation(maps, dens, x)
    assert np.abs(th - thetas).max() < 1e-4 and rms.max() < 1e-3
    assert np.allclose(flows.identity_distance(maps[:1], x), np.sqrt(((maps[0] - x.numpy())**2).sum(-1).mean()))


# ---------------------------------------------------------------------------- post-hoc
def test_posthoc_accepts_callables():
    dens = sl.NonlinearPushforward(sl.paper.n11(), pf.henon(0.5))
    sym = dens.rotation(2.0)
    R = pf.rotation_2d(2.0).numpy()
    res = sl.verify.posthoc(dens, [sym, lambda x: x @ R.T], seed=0, n=8000)
    assert len(res) == 2
    assert res.passed()[0] and abs(res.z[0]) < 3          # the exact nonlinear symmetry passes
    assert not res.passed()[1] and res.auc[1] > 0.6       # the linear rotation is caught
    single = sl.verify.posthoc(dens, sym, seed=0, n=8000)
    assert len(single) == 1 and single.passed()[0]
    with pytest.raises(ValueError, match="shape"):
        sl.verify.posthoc(dens, lambda x: x[:, :1], n=400)
    with pytest.raises(ValueError, match="shift"):
        sl.verify.posthoc(dens, sym, shift=[0.0, 1.0], n=400)


# ---------------------------------------------------------------------------- training
def test_flow_fit_runs_through_the_loop_and_result_api():
    dens = sl.NonlinearPushforward(sl.paper.n11(), pf.henon(0.5))
    flow = VolumePreservingFlow(2, layers=3, hidden=4)
    fit = flows.fit(dens, flow, runs=4, seed=0, steps=60, progress=False)
    assert fit.params.shape == (4, flow.n_params) and fit.init_params.shape == fit.params.shape
    assert fit.history["params"].shape[1:] == (4, flow.n_params)
    assert fit.history["d_loss"].shape[1] == 4 and not fit.failed.any()
    x = dens.sample(100, seed=1).numpy()
    allm = fit.transform_all(x)
    assert allm.shape == (4, 100, 2)
    np.testing.assert_allclose(fit.transform(x, run=2), allm[2], atol=1e-10)
    np.testing.assert_allclose(fit.map(2).inverse(allm[2]), x, atol=1e-8)
    with pytest.raises(ValueError, match="no matrices"):
        _ = fit.matrices
    assert fit.config["steps"] == 60 and fit.config["batch_size"] == flows.FLOW_DEFAULTS["batch_size"]
    assert flows.FLOW_DEFAULTS["steps"] == 4000         # measured: 2000 steps leave most runs short
    res = sl.verify.posthoc(dens, fit, n=400, epochs=1)   # a Discovery-like result: every run
    assert len(res) == 4
    # the same seed gives the same numbers
    again = flows.fit(dens, flow, runs=4, seed=0, steps=60, progress=False)
    np.testing.assert_array_equal(fit.params, again.params)
    with pytest.raises(ValueError, match="dimension"):
        flows.fit(sl.paper.gaussian_1d(), flow, runs=2, steps=5)
    with pytest.raises(ValueError, match="unknown setting"):
        flows.fit(dens, flow, runs=2, steps=5, lr_shift=1.0)
    with pytest.raises(ValueError, match="runs"):
        flows.fit(dens, flow, runs=0, steps=5)


def test_rotation_init_is_a_rigid_rotation():
    flow = VolumePreservingFlow(2)          # five layers: R(θ) = R(θ/2)², bounded shears
    p = flow.sample_init(64, seed=5, scale=0.0, rotation=math.pi).double()
    x = _points(20)
    y = flow.apply(p, x)
    R = torch.linalg.lstsq(x.expand(64, 20, 2), y).solution.transpose(1, 2)  # [K, 2, 2]
    torch.testing.assert_close(R @ R.transpose(1, 2), torch.eye(2, dtype=torch.float64).expand(64, 2, 2))
    assert (torch.linalg.det(R) - 1).abs().max() < 1e-9
    angles = torch.atan2(R[:, 0, 1], R[:, 0, 0])
    assert angles.min() < -2.5 and angles.max() > 2.5   # the whole circle is covered
    with pytest.raises(ValueError, match="rotation"):
        VolumePreservingFlow(2, layers=3).sample_init(2, rotation=math.pi)
    with pytest.raises(ValueError, match="even dim"):
        VolumePreservingFlow(3).sample_init(2, rotation=1.0)


def test_twists_are_exact_symmetries_far_from_rigid_rotations():
    dens = sl.NonlinearPushforward(sl.paper.n11(), pf.henon(0.5))
    g = dens.h.conjugate_map(pf.twist(lambda r: r))      # each circle turns by its radius
    x = dens.sample(3000, seed=5).double()
    torch.testing.assert_close(dens.log_prob(g(x)), dens.log_prob(x))
    torch.testing.assert_close(g.inverse(g(x)), x)
    assert abs(flows.mc_loss(dens, g) - sl.landscape.MAX_LOSS) < 1e-9
    _, rms = flows.nearest_rotation(g(x)[None].numpy(), dens, x)
    assert rms[0] / dens.spread() > 0.2                  # ... yet no rigid h R h^-1 is close


def test_chapter_helpers_classify_exact_maps():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from symlab import flows_plotting as fp

    dens = sl.NonlinearPushforward(sl.paper.n11(), pf.henon(0.5))
    x = dens.sample(500, seed=6).double()
    maps = np.stack([x.numpy(), dens.rotation(2.0)(x).numpy(), (x @ pf.rotation_2d(2.0).T).numpy()])
    theta, rms = flows.nearest_rotation(maps, dens, x)
    spread = dens.spread()
    match = {"theta": theta, "error": rms / spread,
             "moved": flows.identity_distance(maps, x) / spread, "plain": np.array([0.0, 0.5, 0.5])}
    o = fp.outcomes(match, passed=[True, True, False])
    assert o["identity"].tolist() == [True, False, False]
    assert o["rigid"].tolist() == [False, True, False]
    assert o["failed"].tolist() == [False, False, True]
    text = fp.describe("x", match, [True, True, False], loss=[1.386, 1.386, 1.2])
    assert "1 at the identity, 1 at angles [115] deg" in text and "the other 1:" in text
    fig, ax = plt.subplots()
    fp.outcome_scatter(ax, match, [True, True, False])
    fp.grid_images(dens, [("t", dens.rotation(1.0), None)], sample=200)
    plt.close("all")
