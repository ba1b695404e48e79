"""Chapter 7 (dijets): the analytic claims the chapter makes beyond symlab's own tests."""

import math

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
