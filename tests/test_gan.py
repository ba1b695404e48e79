"""SymmetryGAN: convergence on the paper's 1D example, penalties, determinism, bad inputs."""

import numpy as np
import pytest
import torch

import symlab as sl
from symlab import paper, spaces


def _distance_to_symmetries_1d(params):
    d_id = np.hypot(params[:, 0] - 0.0, params[:, 1] - 1.0)
    d_ref = np.hypot(params[:, 0] - 1.0, params[:, 1] + 1.0)
    return np.minimum(d_id, d_ref)


def test_converges_on_the_1d_gaussian():
    """Paper §V.A: runs end at (0, 1) or (1, −1), on the side of c = 0 where they started."""
    fit = sl.SymmetryGAN(spaces.Affine(1)).fit(paper.gaussian_1d(), runs=64, seed=0)
    d = _distance_to_symmetries_1d(fit.params)
    assert np.mean(d < 0.1) >= 0.95, np.sort(d)[-5:]
    assert np.mean(np.sign(fit.params[:, 1]) == np.sign(fit.init_params[:, 1])) >= 0.95
    assert not fit.failed.any()
    h = fit.history
    assert h.params.shape == (len(h.steps), 64, 2) and h.d_loss.shape == (len(h.steps), 64)
    # at the end the discriminator is confounded: Eq. 13 is close to 2 log 2
    assert abs(np.median(h.d_loss[-1]) - 2 * np.log(2)) < 0.05


def test_finite_sample_and_density_inputs_agree_in_shape():
    x = paper.n11().sample(5000, seed=1).numpy()
    gan = sl.SymmetryGAN(spaces.RotationScale2D(), steps=50)
    a = gan.fit(x, runs=3, seed=0)
    b = gan.fit(paper.n11(), runs=3, seed=0)
    assert a.params.shape == b.params.shape == (3, 2)
    assert a.matrices.shape == (3, 2, 2) and a.shifts.shape == (3, 2)
    y = a.transform(x[:10], run=1)
    np.testing.assert_allclose(y, x[:10] @ a.matrices[1].T + a.shifts[1], rtol=1e-6)


def test_same_seed_same_numbers():
    gan = sl.SymmetryGAN(spaces.Affine(1), steps=100)
    a = gan.fit(paper.gaussian_1d(), runs=4, seed=7)
    b = gan.fit(paper.gaussian_1d(), runs=4, seed=7)
    np.testing.assert_array_equal(a.params, b.params)
    c = gan.fit(paper.gaussian_1d(), runs=4, seed=8)
    assert not np.array_equal(a.params, c.params)


def test_explicit_init_and_history_start():
    init = np.array([[0.2, 0.8], [0.9, -1.3]])
    fit = sl.SymmetryGAN(spaces.Affine(1), steps=30).fit(paper.gaussian_1d(), init=init, record_every=10)
    np.testing.assert_allclose(fit.init_params, init, rtol=1e-6)
    np.testing.assert_allclose(fit.history.params[0], init, rtol=1e-6)
    assert list(fit.history.steps) == [0, 10, 20, 30]


def test_cyclic_penalty_selects_roots_of_unity():
    """Eq. 18 with q = 4 on N11: rotations by multiples of 90°."""
    gan = sl.SymmetryGAN(spaces.RotationScale2D(), cyclic=4, alpha=0.1)
    fit = gan.fit(paper.n11(), runs=32, seed=0)
    angle = np.arctan2(fit.params[:, 1], fit.params[:, 0])
    off = np.abs((angle + np.pi / 4) % (np.pi / 2) - np.pi / 4)
    radius = np.hypot(fit.params[:, 0], fit.params[:, 1])
    assert np.mean(off < np.deg2rad(5)) >= 0.9, np.rad2deg(np.sort(off)[-5:])
    assert np.median(np.abs(radius - 1)) < 0.03


def test_commutator_penalty_is_zero_for_commuting_pairs():
    from symlab.gan import _commutator_penalty
    rot = spaces.RotationScale2D().matrix([[0.6, 0.8], [0.0, 1.0]]).float()
    u = torch.zeros(2, 2)
    z = torch.randn(2, 100, 2)
    assert _commutator_penalty(rot, u, z).abs().max() < 1e-10
    refl = torch.tensor([[[1.0, 0.0], [0.0, -1.0]], [[0.0, 1.0], [-1.0, 0.0]]])
    assert _commutator_penalty(refl, u, z).min() > 1.0


def test_a_diverging_run_is_marked_failed_and_does_not_affect_the_others():
    init = np.array([[0.3, 0.7], [3e38, 3e38], [0.6, -0.8]])  # overflows float32
    gan = sl.SymmetryGAN(spaces.Affine(1), steps=200)
    fit = gan.fit(paper.gaussian_1d(), init=init, seed=0)
    assert fit.failed.tolist() == [False, True, False]
    assert np.isfinite(fit.params[[0, 2]]).all()
    healthy = init.copy()
    healthy[1] = [0.5, 1.0]
    ref = gan.fit(paper.gaussian_1d(), init=healthy, seed=0)
    # the other runs compute exactly what they compute beside a healthy run
    np.testing.assert_array_equal(fit.params[[0, 2]], ref.params[[0, 2]])


@pytest.mark.parametrize("data, match", [
    (np.array([[0.0], [np.nan], [1.0]]), "NaN"),
    (np.array([[0.0], [np.inf], [1.0]]), "NaN or inf"),
    (np.zeros((4, 2, 1)), "ndim"),
    (np.zeros((10, 3)), "dimension 3"),
    (np.zeros((1, 1)), "at least 2"),
    (np.zeros((0, 1)), "empty"),
    (np.ones((10, 1)), "zero spread"),
])
def test_bad_data_raise_value_errors(data, match):
    with pytest.raises(ValueError, match=match):
        sl.SymmetryGAN(spaces.Affine(1), steps=5).fit(data, runs=2)


def test_density_of_wrong_dimension():
    with pytest.raises(ValueError, match="dimension"):
        sl.SymmetryGAN(spaces.Affine(1), steps=5).fit(paper.n11(), runs=2)


def test_degenerate_initialisation():
    with pytest.raises(ValueError, match="degenerate initialisation"):
        sl.SymmetryGAN(spaces.Affine(1), steps=5).fit(paper.gaussian_1d(), init=[[0.5, 0.0]])
    with pytest.raises(ValueError, match="degenerate initialisation"):
        sl.SymmetryGAN(spaces.RotationScale2D(), steps=5).fit(paper.n11(), init=[[0.0, 0.0]])


def test_bad_configuration():
    with pytest.raises(ValueError, match="objective"):
        sl.SymmetryGAN(spaces.Affine(1), objective="wasserstein")
    with pytest.raises(ValueError, match="search space"):
        sl.SymmetryGAN("affine")
    with pytest.raises(ValueError, match="init has"):
        sl.SymmetryGAN(spaces.Affine(1), steps=5).fit(paper.gaussian_1d(), runs=3, init=[[0.0, 1.0]])
    with pytest.raises(ValueError, match="even number"):
        sl.SymmetryGAN(spaces.RotationScale2D(), commutator=0.1, steps=5).fit(paper.n11(), runs=3)
