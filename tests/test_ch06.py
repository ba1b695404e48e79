"""Chapter 6 (Gaussian mixtures): the analytic claims the chapter makes beyond symlab's own tests."""

import math

import numpy as np
import pytest
import torch

import symlab as sl

MAX_LOSS = sl.landscape.MAX_LOSS


def dihedral(n):
    """(c, s, sigma) of the 2n elements of D_n in the O2 space: rotations, then reflections."""
    phi = 2 * np.pi * np.arange(n) / n
    rot = np.c_[np.cos(phi), np.sin(phi), np.ones(n)]
    return np.r_[rot, rot * [1, 1, -1]]


@pytest.mark.parametrize("phi_deg", [0.0, 22.5, 45.0, 100.0, 237.0])
def test_reflection_branch_is_the_reflection_about_half_the_polar_angle(phi_deg):
    phi = math.radians(phi_deg)
    F = sl.spaces.O2().matrix([[math.cos(phi), math.sin(phi), -1.0]])[0].numpy()
    axis = np.array([math.cos(phi / 2), math.sin(phi / 2)])
    normal = np.array([-axis[1], axis[0]])
    np.testing.assert_allclose(F @ F, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(F @ axis, axis, atol=1e-12)
    np.testing.assert_allclose(F @ normal, -normal, atol=1e-12)


def test_two_reflections_make_a_rotation_by_the_difference_of_polar_angles():
    o2 = sl.spaces.O2()
    p1, p2 = 0.3, 1.4
    F1 = o2.matrix([[math.cos(p1), math.sin(p1), -1.0]])[0].numpy()
    F2 = o2.matrix([[math.cos(p2), math.sin(p2), -1.0]])[0].numpy()
    R = o2.matrix([[math.cos(p2 - p1), math.sin(p2 - p1), 1.0]])[0].numpy()
    np.testing.assert_allclose(F1 @ F2, R, atol=1e-12)


def test_printed_reflection_branch_of_eq28_is_not_orthogonal():
    c = s = math.sqrt(0.5)
    printed = np.array([[c, s], [-s, -c]])
    assert abs(np.linalg.det(printed)) < 1e-12


@pytest.mark.parametrize("density, n", [(sl.paper.octagon(), 8), (sl.paper.square(), 4)])
def test_landscape_reaches_2log2_at_every_dihedral_element(density, n):
    L = sl.landscape.loss(density, sl.spaces.O2(), dihedral(n))
    np.testing.assert_allclose(L, MAX_LOSS, atol=1e-9)
    # half-way between two rotations of the group is clearly not a symmetry
    half = math.pi / n
    assert sl.landscape.loss(density, sl.spaces.O2(), [[math.cos(half), math.sin(half), 1.0]])[0] < MAX_LOSS - 0.1


@pytest.mark.parametrize("density", [sl.paper.octagon(), sl.paper.square()])
def test_reflection_landscape_is_the_rotation_landscape(density):
    """F(c, s) = sigma_3 R(c, s) and R(c, -s) = sigma_3 R(c, s) sigma_3, and sigma_3 is a symmetry
    of both mixtures: both families have the loss of R(c, s), which is even in s (the chapter
    draws both from one grid of the rotations with s >= 0)."""
    o2 = sl.spaces.O2()
    c, s = np.meshgrid(np.linspace(-1.5, 1.5, 9), np.linspace(-1.5, 1.5, 9))
    cs = np.c_[c.ravel(), s.ravel()]
    F = o2.matrix(np.c_[cs, -np.ones(len(cs))]).numpy()
    R = o2.matrix(np.c_[cs, np.ones(len(cs))]).numpy()
    np.testing.assert_allclose(F, np.diag([1.0, -1.0]) @ R, atol=1e-12)
    L_rot = sl.landscape.loss(density, o2, np.c_[cs, np.ones(len(cs))])
    L_ref = sl.landscape.loss(density, o2, np.c_[cs, -np.ones(len(cs))])
    np.testing.assert_allclose(L_ref, L_rot, atol=1e-9)
    L_mirror = sl.landscape.loss(density, o2, np.c_[cs[:, 0], -cs[:, 1], np.ones(len(cs))])
    np.testing.assert_allclose(L_mirror, L_rot, atol=1e-9)


def test_printed_square_keeps_only_identity_and_diagonal_swap():
    L = sl.landscape.loss(sl.paper.square(centered=False), sl.spaces.O2(), dihedral(4))
    at_max = np.abs(L - MAX_LOSS) < 1e-9
    # rows: rotations 0, 90, 180, 270; reflections with phi = 0, 90, 180, 270 (axes 0, 45, 90, 135)
    assert at_max.tolist() == [True, False, False, False, False, True, False, False]


def test_octagon_landscape_is_invariant_under_composition_with_a_symmetry():
    """L(h g) = L(g) for a symmetry h: turning (c, s) by 45 degrees leaves the loss unchanged."""
    rng = np.random.default_rng(0)
    cs = rng.uniform(-1.2, 1.2, size=(6, 2))
    t = math.pi / 4
    turned = cs @ np.array([[math.cos(t), math.sin(t)], [-math.sin(t), math.cos(t)]])
    for label in (1.0, -1.0):
        a = sl.landscape.loss(sl.paper.octagon(), sl.spaces.O2(), np.c_[cs, np.full(6, label)])
        b = sl.landscape.loss(sl.paper.octagon(), sl.spaces.O2(), np.c_[turned, np.full(6, label)])
        np.testing.assert_allclose(a, b, atol=2e-3)


@pytest.mark.parametrize("sigma, modes", [(0.4, 2), (1.0, 1)])
def test_bimodal_width(sigma, modes):
    x = torch.linspace(-3, 3, 1201, dtype=torch.float64)[:, None]
    f = sl.paper.bimodal(sigma).log_prob(x).numpy()
    assert int(np.sum((f[1:-1] > f[:-2]) & (f[1:-1] > f[2:]))) == modes


def test_bimodal_landscape_traps_and_inverse_symmetry():
    dens, space = sl.paper.bimodal(), sl.spaces.Affine(1)
    b, c = 0.994, 0.384
    L_trap = sl.landscape.loss(dens, space, [[b, c], [b + 0.05, c], [b, c + 0.05], [b - 0.05, c], [b, c - 0.05]])
    assert L_trap[0] == pytest.approx(MAX_LOSS - 0.552, abs=2e-3)
    assert np.all(L_trap[1:] < L_trap[0])
    # g and its inverse x -> (x - b) / c have the same loss
    rng = np.random.default_rng(1)
    bc = np.c_[rng.uniform(-2, 2, 5), rng.uniform(0.3, 2, 5) * rng.choice([-1, 1], 5)]
    inv = np.c_[-bc[:, 0] / bc[:, 1], 1 / bc[:, 1]]
    np.testing.assert_allclose(sl.landscape.loss(dens, space, bc), sl.landscape.loss(dens, space, inv), atol=1e-6)


def test_square_starts_oversample_the_diagonals_by_41_percent():
    """Chapter 6 separates the start distribution from the optimiser: (c, s) uniform on the
    square [-1, 1]^2 points towards a diagonal element of D8 (polar angle 45 + k 90 deg) with
    probability tan 45 - tan 22.5 = 0.586 (41 % more than the 0.414 towards the axes); the
    disk of the same area (O2.sample_uniform) prefers no direction."""
    def diagonal_share(p):
        k, _ = sl.infer.nearest_root(p[:, 0], p[:, 1], 8)
        return np.mean(k % 2 == 1)

    o2 = sl.spaces.O2()
    expected = math.tan(math.pi / 4) - math.tan(math.pi / 8)
    assert abs(expected / (1 - expected) - math.sqrt(2)) < 1e-12          # 41 % more
    assert abs(diagonal_share(o2.sample_init(200_000, seed=0).numpy()) - expected) < 0.005
    assert abs(diagonal_share(o2.sample_uniform(200_000, seed=0).numpy()) - 0.5) < 0.005
