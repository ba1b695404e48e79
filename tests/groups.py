"""Exactly constructed group elements shared by the inference tests (not a test module)."""

import numpy as np

J = np.array([[0.0, 1.0], [-1.0, 0.0]])
JJ = np.block([[J, np.zeros((2, 2))], [np.zeros((2, 2)), J]])


def rot(a):
    """The paper's rotation [[cos, sin], [−sin, cos]] = exp(a J): [...] -> [..., 2, 2]."""
    c, s = np.cos(a), np.sin(a)
    return np.stack([np.stack([c, s], -1), np.stack([-s, c], -1)], -2)


def refl(a):
    """The reflection [[cos, sin], [sin, −cos]] about the axis at angle a/2: [...] -> [..., 2, 2]."""
    c, s = np.cos(a), np.sin(a)
    return np.stack([np.stack([c, s], -1), np.stack([s, -c], -1)], -2)


def fit_so3_on_a_long_gaussian(**settings):
    """16 runs of ``SymmetryGAN(SO(3), steps=1500, **settings)`` on N(0, diag(1, 1, 4)):
    the fit and each map's relative covariance error ``‖M C Mᵀ − C‖_F / 4`` ``[16]``."""
    import symlab as sl

    gauss = sl.Gaussian([0.0, 0.0, 0.0], [1.0, 1.0, 4.0])
    fit = sl.SymmetryGAN(sl.spaces.SO(3), steps=1500, **settings).fit(
        gauss, runs=16, seed=0, progress=False)
    M, cov = fit.matrices, np.diag([1.0, 1.0, 4.0])
    assert np.allclose(np.einsum("kji,kjl->kil", M, M), np.eye(3), atol=1e-6)
    return fit, np.linalg.norm(M @ cov @ np.swapaxes(M, 1, 2) - cov, axis=(1, 2)) / 4
