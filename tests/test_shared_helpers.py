"""Helpers the chapters share: the exact Gaussian criterion, the nearest element of C_q,
local maxima of a landscape grid, the paper's 2-D rotation for numpy input."""

import numpy as np
import pytest
import torch

import symlab as sl


def test_gaussian_error_is_zero_exactly_on_symmetries():
    mean, cov = np.array([0.5, -1.0]), np.diag([1.0, 4.0])
    flip_x = np.diag([-1.0, 1.0])
    cov_err, mean_err = sl.verify.gaussian_error(flip_x, [1.0, 0.0], mean, cov)
    assert cov_err == pytest.approx(0) and mean_err == pytest.approx(0)   # x -> 1 - x
    R = sl.spaces.rotation_2d(np.pi / 2)
    cov_err, mean_err = sl.verify.gaussian_error(np.stack([R, np.eye(2)]), None, mean, cov)
    # R diag(1, 4) R^T = diag(4, 1): relative Frobenius error 3 sqrt(2) / sqrt(17)
    np.testing.assert_allclose(cov_err, [3 * np.sqrt(2) / np.sqrt(17), 0.0], atol=1e-12)
    np.testing.assert_allclose(mean_err, [np.linalg.norm(R @ mean - mean), 0.0], atol=1e-12)


def test_gaussian_error_bad_shapes():
    with pytest.raises(ValueError, match="mean"):
        sl.verify.gaussian_error(np.eye(2), None, [0.0, 0.0, 0.0], np.eye(2))
    with pytest.raises(ValueError, match="shifts"):
        sl.verify.gaussian_error(np.stack([np.eye(2)] * 2), np.zeros((3, 2)), [0, 0], np.eye(2))
    with pytest.raises(ValueError, match="matrices"):
        sl.verify.gaussian_error(np.zeros((2, 3)), None, [0, 0], np.eye(2))


def test_nearest_root():
    theta = np.radians([0.0, 44.0, 46.0, -10.0, 181.0])
    k, off = sl.infer.nearest_root(np.cos(theta), np.sin(theta), 4)
    assert k.tolist() == [0, 0, 1, 0, 2]
    np.testing.assert_allclose(off, [0.0, 44.0, 44.0, 10.0, 1.0], atol=1e-9)
    k, off = sl.infer.nearest_root(2.0, 0.0, 1)            # scale does not matter
    assert int(k) == 0 and float(off) == 0.0
    with pytest.raises(ValueError, match="q"):
        sl.infer.nearest_root(1.0, 0.0, 0)
    with pytest.raises(ValueError, match="same shape"):
        sl.infer.nearest_root([1.0, 0.0], [0.0], 3)


def test_local_maxima_of_a_grid():
    x = np.linspace(-2, 2, 41)
    X, Y = np.meshgrid(x, x)
    L = np.exp(-((X - 1) ** 2 + Y**2) * 4) + 0.5 * np.exp(-((X + 1) ** 2 + Y**2) * 4)
    i, j = sl.landscape.local_maxima(L)
    found = sorted(zip(X[i, j].round(6), Y[i, j].round(6)))
    assert found == [(-1.0, 0.0), (1.0, 0.0)]
    with pytest.raises(ValueError, match="3 x 3"):
        sl.landscape.local_maxima(np.zeros((2, 5)))


def test_rotation_2d_numpy_and_torch_agree():
    theta = np.array([0.3, -1.2])
    R = sl.spaces.rotation_2d(theta)
    assert isinstance(R, np.ndarray) and R.shape == (2, 2, 2)
    np.testing.assert_allclose(R, sl.spaces.rotation_2d(torch.tensor(theta)).numpy())
    np.testing.assert_allclose(R[0], [[np.cos(0.3), np.sin(0.3)], [-np.sin(0.3), np.cos(0.3)]])
