"""Chapter 5 (two-dimensional Gaussians): the claims the chapter makes beyond symlab's own tests."""

import math

import numpy as np
import pytest

import symlab as sl

MAX_LOSS = 2.0 * math.log(2.0)
SIGMA12 = np.diag([1.0, 2.0])
SQRT12 = np.diag(np.sqrt([1.0, 2.0]))


def _rot(theta):
    c, s = np.cos(theta), np.sin(theta)
    return np.stack([np.stack([c, s], -1), np.stack([-s, c], -1)], -2)


def _squeezed(phi, reflect=False):
    """The symmetry group of N12: Σ^{1/2} O Σ^{-1/2} with O a rotation (or rotation · σ3)."""
    O = _rot(phi) @ (np.diag([1.0, -1.0]) if reflect else np.eye(2))
    return SQRT12 @ O @ np.linalg.inv(SQRT12)


@pytest.mark.parametrize("reflect", [False, True])
def test_squeezed_o2_is_the_symmetry_group_of_n12(reflect):
    """Every M = Σ^{1/2} O Σ^{-1/2} satisfies MΣMᵀ = Σ and reaches 2 log 2 in the landscape."""
    phi = np.linspace(0.0, 2.0 * np.pi, 13)
    M = _squeezed(phi, reflect)
    np.testing.assert_allclose(M @ SIGMA12 @ np.swapaxes(M, -1, -2), np.broadcast_to(SIGMA12, M.shape),
                               atol=1e-12)
    iw = sl.spaces.Iwasawa2D()
    params = iw.params_from_matrix(M).numpy()
    np.testing.assert_allclose(params[:, 0], -1.0 if reflect else 1.0, atol=1e-12)
    np.testing.assert_allclose(sl.landscape.loss(sl.paper.n12(), iw, params), MAX_LOSS, atol=1e-9)


def test_projection_of_the_n12_group_in_iwasawa_coordinates():
    """r = √(1 + sin²φ), tan θ = √2 tan φ, u = −sin 2φ / (2√2 (1 + sin²φ)), so |u| ≤ 1/4."""
    phi = np.linspace(0.0, 2.0 * np.pi, 721)
    d, theta, r, u, a, b = sl.spaces.Iwasawa2D.params_from_matrix(_squeezed(phi)).numpy().T
    np.testing.assert_allclose(r, np.sqrt(1.0 + np.sin(phi) ** 2), atol=1e-12)
    np.testing.assert_allclose(np.cos(theta) * np.sqrt(2.0) * np.sin(phi),
                               np.sin(theta) * np.cos(phi), atol=1e-12)
    np.testing.assert_allclose(u, -np.sin(2 * phi) / (2 * np.sqrt(2) * (1 + np.sin(phi) ** 2)),
                               atol=1e-12)
    assert np.abs(u).max() == pytest.approx(0.25, abs=1e-5)


def test_squeezed_quarter_turn_is_the_papers_sqrt2_symmetry():
    """(d, θ, r, u) = (1, π/2, √2, 0): the symmetry of N12 named below Eq. 24."""
    p = sl.spaces.Iwasawa2D.params_from_matrix(_squeezed(np.pi / 2)).numpy()[0]
    np.testing.assert_allclose(p, [1.0, np.pi / 2, np.sqrt(2.0), 0.0, 0.0, 0.0], atol=1e-12)
    stars = [[1, 0, 1, 0, 0, 0], [1, np.pi / 2, np.sqrt(2), 0, 0, 0], [1, np.pi, 1, 0, 0, 0],
             [1, 3 * np.pi / 2, np.sqrt(2), 0, 0, 0]]
    L = sl.landscape.loss(sl.paper.n12(), sl.spaces.Iwasawa2D(), stars)
    np.testing.assert_allclose(L, MAX_LOSS, atol=1e-9)
    # the plain quarter turn (r = 1) is not a symmetry of N12
    L_plain = sl.landscape.loss(sl.paper.n12(), sl.spaces.Iwasawa2D(), [[1, np.pi / 2, 1, 0, 0, 0]])
    assert L_plain[0] < MAX_LOSS - 0.05


def test_rotation_scale_landscape_on_n11_depends_only_on_radius():
    """Exercise 1: M = rR and R is a symmetry of N11, so L(c, s) = L(r)."""
    rng = np.random.default_rng(0)
    r = rng.uniform(0.3, 1.7, 20)
    ang = rng.uniform(0, 2 * np.pi, (20, 2))
    space, n11 = sl.spaces.RotationScale2D(), sl.paper.n11()
    L1 = sl.landscape.loss(n11, space, np.c_[r * np.cos(ang[:, 0]), r * np.sin(ang[:, 0])])
    L2 = sl.landscape.loss(n11, space, np.c_[r * np.cos(ang[:, 1]), r * np.sin(ang[:, 1])])
    np.testing.assert_allclose(L1, L2, atol=1e-10)


def test_cyclic_penalty_training_lands_on_roots_of_unity():
    """A small version of Fig. 6 (q = 3): every run ends within 2° of a cube root of unity."""
    space = sl.spaces.RotationScale2D()
    fit = sl.SymmetryGAN(space, steps=800, cyclic=3, alpha=0.1).fit(
        sl.paper.n11(), runs=32, seed=0, progress=False)
    c, s = fit.params.T
    theta = np.degrees(np.arctan2(s, c))
    off = np.abs((theta + 60) % 120 - 60)
    assert np.mean((off <= 2.0) & (np.abs(np.hypot(c, s) - 1) <= 0.03)) >= 0.9


def test_numbers_quoted_in_the_solution_of_the_z4_exercise():
    """ch05-ex-z4: the cyclic penalty with q = 4 on N12 (128 runs, 800 steps, alpha = 0.1,
    the chapter's seed) keeps the quarter turns, which are not symmetries of N12."""
    mu0 = np.zeros(2)
    rot_scale = sl.spaces.RotationScale2D()
    n12 = sl.paper.n12()
    fit_z4 = sl.SymmetryGAN(rot_scale, steps=800, cyclic=4, alpha=0.1).fit(
        n12, runs=128, seed=0, progress=False)
    ce, me = sl.verify.gaussian_error(fit_z4.matrices, fit_z4.shifts, mu0, SIGMA12)
    k, _ = sl.infer.nearest_root(*fit_z4.params.T, 4)
    quarter = np.isin(k, [1, 3])
    assert 0.3 < quarter.mean() < 0.5 and 0.5 < np.mean((ce <= 0.05) & (me <= 0.05)) < 0.6
    assert 0.55 < np.median(ce[quarter]) < 0.65, np.median(ce[quarter])
    assert 0.93 < np.median(np.hypot(*fit_z4.params[quarter].T)) < 0.97
    assert 0.10 < MAX_LOSS - sl.landscape.loss(n12, rot_scale, [[0, 1]])[0] < 0.115
    auc_q = sl.verify.posthoc(n12, fit_z4.matrices[quarter][:4], fit_z4.shifts[quarter][:4],
                              seed=0).auc
    assert np.all(np.abs(auc_q - 2 / 3) < 0.03), auc_q
    assert fit_z4.history.d_loss[-1][quarter].mean() < MAX_LOSS - 0.05
