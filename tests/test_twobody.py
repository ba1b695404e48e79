"""symlab.twobody: the offline two-body orbits (Greydanus et al. 2019 recipe) and the
augmentation test."""

import math

import numpy as np
import pytest
import torch

from symlab import twobody


@pytest.fixture(scope="module")
def orbits():
    return twobody.orbits(trials=40, timesteps=50, seed=3)


def test_shapes_and_centre_of_mass(orbits):
    s = orbits.states
    assert s.shape == (40, 50, 8) and orbits.t.shape == (50,)
    assert np.allclose(s[..., 0:2], -s[..., 4:6]) and np.allclose(s[..., 2:4], -s[..., 6:8])
    assert orbits.points().shape == (2000, 8)


def test_energy_and_angular_momentum_conserved_to_1e6_relative(orbits):
    e, L = twobody.energy(orbits), twobody.angular_momentum(orbits)
    assert np.all(e < 0) and np.all(L > 0)  # bound, counter-clockwise orbits
    assert np.abs(e / e[:, :1] - 1).max() < 1e-6
    assert np.abs(L / L[:, :1] - 1).max() < 1e-6


def test_near_circular_and_radius_range(orbits):
    r = np.linalg.norm(orbits.states[..., 0:2], axis=-1)  # half the separation
    r0 = r[:, 0]
    assert np.all(r0 >= 0.5 * math.sqrt(2) - 1e-12) and np.all(r0 <= 1.5 * math.sqrt(2) + 1e-12)
    assert np.median(r.max(1) / r.min(1)) < 1.3  # slightly elliptical


def test_energy_is_not_conserved_by_a_wrong_integration():
    # the check above can fail: a crude Euler step of the same equations drifts
    o = twobody.orbits(trials=1, timesteps=2, seed=0)
    y = o.states[0, 0].copy()
    dt = 0.05
    for _ in range(400):
        y = y + dt * twobody._rhs(0.0, y)
    e0, e1 = twobody.energy(o.states[0, 0]), twobody.energy(y)
    assert abs(e1 / e0 - 1) > 1e-6


def test_uniform_angle_and_recipe_angles():
    a = twobody.orbits(trials=300, timesteps=2, seed=1)
    b = twobody.orbits(trials=300, timesteps=2, seed=1, uniform_angle=False)
    ang_a = np.arctan2(a.states[:, 0, 1], a.states[:, 0, 0])
    ang_b = np.arctan2(b.states[:, 0, 1], b.states[:, 0, 0])
    assert np.all((ang_b > 0) & (ang_b < math.pi / 2))  # the recipe's first quadrant
    assert (ang_a < 0).mean() > 0.3  # rotated over the whole circle


def test_rotation_generator_is_a_symmetry_of_the_equations(orbits):
    T = twobody.rotation_generator()
    R = torch.linalg.matrix_exp(torch.tensor(0.7 * T)).numpy()
    y = orbits.states[0, 5]
    assert np.allclose(twobody._rhs(0.0, R @ y), R @ twobody._rhs(0.0, y))
    assert np.allclose(twobody.energy(R @ y), twobody.energy(y))


def test_deterministic_and_bad_inputs():
    a = twobody.orbits(trials=2, timesteps=3, seed=7)
    b = twobody.orbits(trials=2, timesteps=3, seed=7)
    assert np.array_equal(a.states, b.states)
    with pytest.raises(ValueError, match="trials"):
        twobody.orbits(trials=0)
    with pytest.raises(ValueError, match="t_span"):
        twobody.orbits(trials=1, t_span=(1.0, 0.0))
    with pytest.raises(ValueError, match="max_radius"):
        twobody.orbits(trials=1, min_radius=2.0, max_radius=1.0)
    with pytest.raises(ValueError, match="8 coordinates"):
        twobody.energy(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="n_train"):
        a.split(2)


def test_augmentation_with_the_true_group_beats_none():
    o = twobody.orbits(trials=60, timesteps=20, seed=2)
    train, test = o.split(6)
    res = twobody.augmentation_test(train, test, {"none": None, "true": twobody.rotations},
                                    steps=600, seed=0)
    assert set(res.mse) == {"none", "true"}
    assert res.mse["true"] < res.mse["none"]


def test_augmentations_train_independently_of_each_other():
    """The predictors train together as one batch; each must still learn as if alone: the
    same augmentation gives the same MSE whatever else is trained beside it."""
    o = twobody.orbits(trials=30, timesteps=12, seed=3)
    train, test = o.split(4)
    alone = twobody.augmentation_test(train, test, {"true": twobody.rotations}, steps=40,
                                      seed=1).mse["true"]
    both = twobody.augmentation_test(train, test, {"none": None, "true": twobody.rotations},
                                     steps=40, seed=1).mse
    assert both["true"] == pytest.approx(alone, rel=1e-5)
    assert both["none"] != pytest.approx(alone, rel=1e-3)
