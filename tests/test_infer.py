"""symlab.infer (§VII): every function on exactly constructed groups (SO(2), D4, SO(2) and O(2)
acting alike on two planes of R⁴, with noise) and on trained SymmetryGAN results."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from groups import JJ, J, refl, rot
from hypothesis import given
from hypothesis import strategies as st

import symlab as sl
from symlab import infer, paper, spaces

MAX_LOSS = sl.landscape.MAX_LOSS


def noisy(M, sigma=0.01, seed=0):
    return M + sigma * np.random.default_rng(seed).normal(size=M.shape)


def dihedral(q, copies=3, seed=0):
    a = 2 * np.pi * np.arange(q) / q
    return noisy(np.concatenate([rot(a), refl(a)] * copies), seed=seed)


def so2(K=32, seed=0):
    return noisy(rot(np.random.default_rng(seed + 100).uniform(0, 2 * np.pi, K)), seed=seed)


def o2(K=32, seed=0):
    a = np.random.default_rng(seed + 100).uniform(0, 2 * np.pi, K)
    return noisy(np.concatenate([rot(a[: K // 2]), refl(a[K // 2:])]), seed=seed)


def so2_in_so4(K=32, seed=0):
    a = np.random.default_rng(seed + 100).uniform(0, 2 * np.pi, K)
    M = np.zeros((K, 4, 4))
    M[:, :2, :2] = rot(a)
    M[:, 2:, 2:] = rot(a)
    return noisy(M, seed=seed)


def back_to_back(n, seed=0):
    """A dijet-like toy [n, 4]: p1 = r1 û(φ), p2 = −r2 û(φ) + noise with r2 < r1 and φ uniform.
    Its only continuous symmetry is the simultaneous rotation of both planes, generator J ⊕ J."""
    r = np.random.default_rng(seed)
    phi = r.uniform(0, 2 * np.pi, n)
    u = np.stack([np.cos(phi), np.sin(phi)], 1)
    r1 = 1.0 + 0.3 * r.exponential(size=n)
    r2 = r1 * r.uniform(0.4, 0.9, n)
    return np.concatenate([r1[:, None] * u, -r2[:, None] * u + 0.05 * r.normal(size=(n, 2))], 1)


# ----------------------------------------------------------------------------- composition
def _apply(M, V, x):
    return x @ M.T + V


def test_compose_products_inverse_and_relative_agree_with_applying_maps():
    rng = np.random.default_rng(0)
    M = rng.normal(size=(3, 2, 2)) + 2 * np.eye(2)
    V = rng.normal(size=(3, 2))
    x = rng.normal(size=(5, 2))
    Mc, Vc = infer.compose(M, V)  # g0 ∘ g1 ∘ g2: g2 acts first
    want = _apply(M[0], V[0], _apply(M[1], V[1], _apply(M[2], V[2], x)))
    np.testing.assert_allclose(_apply(Mc, Vc, x), want, atol=1e-12)
    Mp, Vp = infer.products(M, V)
    assert Mp.shape == (3, 3, 2, 2) and Vp.shape == (3, 3, 2)
    np.testing.assert_allclose(_apply(Mp[0, 2], Vp[0, 2], x),
                               _apply(M[0], V[0], _apply(M[2], V[2], x)), atol=1e-12)
    Mi, Vi = infer.inverse(M, V)
    np.testing.assert_allclose(_apply(Mi[1], Vi[1], _apply(M[1], V[1], x)), x, atol=1e-12)
    Mr, Vr = infer.relative(M, V)
    np.testing.assert_allclose(_apply(Mr[2, 1], Vr[2, 1], x),
                               _apply(Mi[2], Vi[2], _apply(M[1], V[1], x)), atol=1e-12)
    np.testing.assert_allclose(Mr[np.arange(3), np.arange(3)], np.broadcast_to(np.eye(2), (3, 2, 2)),
                               atol=1e-12)
    # batched words: two compositions of two elements each
    Mw, _ = infer.compose(np.stack([M[:2], M[1:]]))
    np.testing.assert_allclose(Mw, np.stack([M[0] @ M[1], M[1] @ M[2]]), atol=1e-12)


def test_power_of_affine_elements():
    g, v = rot(0.3), np.array([1.0, -2.0])
    Mk, Vk = infer.power(g, [0, 1, 3, -2], v)
    assert Mk.shape == (4, 2, 2) and Vk.shape == (4, 2)
    np.testing.assert_allclose(Mk[0], np.eye(2), atol=1e-14)
    np.testing.assert_allclose(Mk[2], rot(0.9), atol=1e-12)
    np.testing.assert_allclose(Vk[2], v + g @ v + g @ g @ v, atol=1e-12)
    np.testing.assert_allclose(Mk[3], rot(-0.6), atol=1e-12)
    M5, V5 = infer.power(rot([0.1, 0.2]), 5)  # a batch and an integer power
    np.testing.assert_allclose(M5, rot(np.array([0.5, 1.0])), atol=1e-12)
    assert V5.shape == (2, 2)


@given(st.floats(-3.0, 3.0), st.floats(-3.0, 3.0))
def test_composing_rotations_adds_angles(a, b):
    M, _ = infer.compose(np.stack([rot(a), rot(b)]))
    np.testing.assert_allclose(M, rot(a + b), atol=1e-12)
    Mi, _ = infer.inverse(rot(a))
    np.testing.assert_allclose(Mi, rot(-a), atol=1e-12)


def test_composition_error_grows_linearly_for_an_angle_error_and_geometrically_for_scale():
    theta, delta = 1.0, 1e-3
    res = infer.composition_error(rot(theta + delta), 200, reference=rot(theta))
    k = np.arange(1, 201)
    assert res.reference == "given" and res.error.shape == (200,)
    np.testing.assert_allclose(res.error, 2 * np.sqrt(2) * np.abs(np.sin(k * delta / 2)), rtol=1e-6)
    assert res.steps_within(0.1) == int(np.floor(2 * np.arcsin(0.1 / (2 * np.sqrt(2))) / delta))
    eps = 0.01
    grow = infer.composition_error((1 + eps) * rot(theta), [1, 10, 100])
    assert grow.reference == "orthogonal"
    np.testing.assert_allclose(grow.error, np.sqrt(2) * ((1 + eps) ** np.array([1, 10, 100]) - 1),
                               rtol=1e-8)
    # a batch: one error curve per element; exact elements stay exact
    batch = infer.composition_error(np.stack([rot(0.5), 1.001 * rot(0.5)]), 50)
    assert batch.error.shape == (2, 50)
    assert batch.error[0].max() < 1e-12 and batch.error[1, -1] > 40 * batch.error[1, 0]
    assert list(batch.steps_within(0.01)) == [50, 7]


def test_nearest_power_illustrates_eq42():
    """Powers of a rotation by 1 rad (an irrational multiple of π) come close to any rotation."""
    k, err = infer.nearest_power(rot(1.0), rot(0.5), max_power=1000)
    assert 1 <= k <= 1000 and err < 0.02
    np.testing.assert_allclose(np.linalg.norm(np.linalg.matrix_power(rot(1.0), k) - rot(0.5)), err,
                               rtol=1e-6)
    # a rotation by 2π/8 only ever reaches the eight multiples of 45°
    _, err8 = infer.nearest_power(rot(2 * np.pi / 8), rot(0.5), max_power=1000)
    assert err8 > 0.3


def test_nearest_orthogonal_and_cosine():
    U, d = infer.nearest_orthogonal(np.stack([2.0 * rot(0.4), rot(0.1)]))
    np.testing.assert_allclose(U, rot(np.array([0.4, 0.1])), atol=1e-12)
    np.testing.assert_allclose(d, [np.sqrt(2), 0.0], atol=1e-12)
    assert infer.cosine(-J, J) == pytest.approx(1.0)
    assert infer.cosine(-J, J, signed=True) == pytest.approx(-1.0)
    assert infer.cosine(np.eye(2), J) == pytest.approx(0.0)


def test_logm_inverts_the_matrix_exponential():
    rng = np.random.default_rng(1)
    X = 0.25 * rng.normal(size=(20, 3, 3))
    H = torch.linalg.matrix_exp(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(infer.logm(H), X, atol=1e-10)
    np.testing.assert_allclose(infer.logm(rot(0.6)), 0.6 * J, atol=1e-12)
    with pytest.raises(ValueError, match="near the identity"):
        infer.logm(rot(2.0))


# ----------------------------------------------------------------------------- components
def test_components_of_so2_and_o2():
    c = infer.components(so2())
    assert len(c) == 1 and c[0].det_sign == 1 and c[0].identity and c[0].size == 32
    assert c[0].radius > 2.0  # the cloud wraps around the circle
    c = infer.components(o2())
    assert len(c) == 2
    assert list(c.det_signs) == [1, -1] and list(c.sizes) == [16, 16]
    assert c[0].identity and not c[1].identity
    assert sorted(np.concatenate([x.members for x in c]).tolist()) == list(range(32))
    assert np.all(c.labels[:16] == 0) and np.all(c.labels[16:] == 1)
    assert c.matrices.shape == (2, 2, 2) and c.shifts.shape == (2, 2)


@pytest.mark.parametrize("q", [4, 8])
def test_components_of_dihedral_groups(q):
    """D4 (square, Eq. 28) and D8 (octagon, Eq. 26): every element is its own component."""
    G = dihedral(q, copies=3)
    c = infer.components(G)
    assert len(c) == 2 * q
    assert (c.det_signs == 1).sum() == q and (c.det_signs == -1).sum() == q
    assert np.all(c.sizes == 3) and max(x.radius for x in c) < 0.1
    assert c[0].identity and sum(x.identity for x in c) == 1
    for x in c:  # members are the copies of one group element
        assert len({int(i) % (2 * q) for i in x.members}) == 1
        np.testing.assert_allclose(x.matrix, G[x.representative])


def test_components_accept_a_discovery_and_skip_failed_runs():
    G = o2(12)
    failed = np.zeros(12, dtype=bool)
    failed[3] = True
    fit = SimpleNamespace(matrices=G, shifts=np.zeros((12, 2)), failed=failed)
    # 11 elements leave gaps in the relative cloud; products of relative elements fill them
    c = infer.components(fit, densify=True)
    assert len(c) == 2 and c.labels[3] == -1 and 3 not in np.concatenate([x.members for x in c])
    assert len(c.labels) == 12 and c.n_relative == 4096
    # a coarse tol merges nothing across det signs; a tiny one splits the continuous cloud
    assert len(infer.components(G, tol=1.5)) == 2
    assert len(infer.components(G, tol=0.02)) > 2
    # densify keeps a finite group finite
    assert len(infer.components(dihedral(8, copies=2), densify=True)) == 16


# ----------------------------------------------------------------------------- Lie algebra
@pytest.mark.parametrize("make", [so2, o2])
def test_lie_algebra_of_so2_and_o2(make):
    la = infer.lie_algebra(make())
    assert la.dimension == 1 and la.basis.shape == (1, 2, 2)
    assert infer.cosine(la.basis[0], J, signed=True) > 0.999  # sign convention: +J
    assert np.linalg.norm(la.basis[0]) == pytest.approx(1.0)
    assert la.spread[0] > 1.5 * la.threshold and la.threshold > 5 * la.spread[1]
    assert la.n_pairs == len(la.pairs) > 10 and la.contains(J) > 0.999 and la.contains(np.eye(2)) < 0.05


@pytest.mark.parametrize("q", [4, 8])
def test_lie_algebra_of_dihedral_groups_is_zero_dimensional(q):
    la = infer.lie_algebra(dihedral(q))
    assert la.dimension == 0 and la.basis.shape == (0, 2, 2) and la.n_pairs > 0
    assert la.spread[0] < la.threshold / 3
    assert la.contains(J) == 0.0


def test_lie_algebra_of_so2_embedded_diagonally_in_so4():
    la = infer.lie_algebra(so2_in_so4())
    assert la.dimension == 1 and la.basis.shape == (1, 4, 4)
    assert infer.cosine(la.basis[0], JJ) > 0.999 and la.closure == 0.0


def test_lie_algebra_of_rotations_about_a_centre_has_the_translation_part():
    m = np.array([1.0, 2.0])
    M = so2(24)
    V = m - M @ m  # x ↦ m + R (x − m)
    la = infer.lie_algebra(M, V)
    assert la.dimension == 1
    X, y = la.basis[0], la.basis_shifts[0]
    assert infer.cosine(X, J) > 0.995
    np.testing.assert_allclose(y, -X @ m, atol=0.03)  # generator of x ↦ m + exp(tJ)(x − m)


def test_lie_algebra_of_a_three_dimensional_group():
    rng = np.random.default_rng(0)
    Q, R = np.linalg.qr(rng.normal(size=(96, 3, 3)))
    Q = Q * np.sign(np.diagonal(R, axis1=1, axis2=2))[:, None, :]
    Q[np.linalg.det(Q) < 0] *= -1  # SO(3)
    la = infer.lie_algebra(noisy(Q))
    assert la.dimension == 3
    for i, j in [(0, 1), (0, 2), (1, 2)]:  # the span is so(3)
        E = np.zeros((3, 3))
        E[i, j], E[j, i] = 1.0, -1.0
        assert la.contains(E) > 0.95
    assert la.closure < 0.2  # (nearly) closed under commutators


def test_bad_inputs_raise_value_errors():
    with pytest.raises(ValueError, match="square"):
        infer.components(np.zeros((3, 2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        infer.lie_algebra(np.full((2, 2, 2), np.nan))
    with pytest.raises(ValueError, match="singular"):
        infer.components(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="tol"):
        infer.lie_algebra(so2(), tol=1.5)
    with pytest.raises(ValueError, match="shifts"):
        infer.components(so2(4), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="dimension"):
        infer.learn_generator(paper.n11(), dim=3, steps=1)
    with pytest.raises(ValueError, match="n >= 2"):
        infer.learn_generator(paper.gaussian_1d(), steps=1)


# ----------------------------------------------------------------------------- learner
def test_learn_generator_finds_the_rotation_generator_of_n11():
    """Acceptance (fast settings): in gl(2), every run ends at ±J."""
    fit = infer.learn_generator(paper.n11(), runs=8, steps=500, seed=0, antisymmetric=False)
    assert fit.generators.shape == (8, 2, 2) and not fit.failed.any()
    np.testing.assert_allclose(np.linalg.norm(fit.generators, axis=(1, 2)), math.sqrt(2), rtol=1e-6)
    assert fit.cosine(J).min() >= 0.99, fit.cosine(J)
    assert np.abs(fit.loss - 2 * math.log(2)).max() < 0.02
    M, V = fit.elements(1.0)
    assert M.shape == (8, 2, 2) and V.shape == (8, 2)
    h = fit.history
    assert h["generators"].shape == (len(h["steps"]), 8, 2, 2) and h["d_loss"].shape == (len(h["steps"]), 8)


def test_learn_generator_finds_the_simultaneous_rotation_of_two_planes():
    """The 4D back-to-back toy; so(4) search with Adam's normalised steps, cosine with J ⊕ J."""
    fit = infer.learn_generator(back_to_back(20000), runs=8, steps=400, seed=0, lr_g=0.1, eps_g=0.01)
    np.testing.assert_allclose(fit.generators + fit.generators.transpose(0, 2, 1), 0.0, atol=1e-6)
    assert fit.cosine(JJ).min() >= 0.95, fit.cosine(JJ)


def test_learn_generator_is_deterministic():
    x = paper.n11().sample(2000, seed=3).numpy()
    a = infer.learn_generator(x, runs=2, steps=20, seed=5, antisymmetric=False, record_every=0)
    b = infer.learn_generator(x, runs=2, steps=20, seed=5, antisymmetric=False, record_every=0)
    np.testing.assert_array_equal(a.generators, b.generators)
    assert a.history is None
    c = infer.learn_generator(x, runs=2, steps=20, seed=6, antisymmetric=False, record_every=0)
    assert not np.array_equal(a.generators, c.generators)


# ----------------------------------------------------------------------------- exact groups: every operation
def o2_in_so4(K=32, seed=0):
    """O(2) acting on both planes alike, A ⊕ A: in SO(4) for reflections A too (det = (−1)²)."""
    a = np.random.default_rng(seed + 100).uniform(0, 2 * np.pi, K)
    A = np.concatenate([rot(a[: K // 2]), refl(a[K // 2:])])
    M = np.zeros((K, 4, 4))
    M[:, :2, :2] = A
    M[:, 2:, 2:] = A
    return noisy(M, seed=seed)


D4_EXACT = np.concatenate([rot(np.pi / 2 * np.arange(4)), refl(np.pi / 2 * np.arange(4))])


def distance_to_group(name, M):
    """[...] Frobenius distance of M [..., n, n] from the exact group."""
    if name == "SO(2)":
        U, d = infer.nearest_orthogonal(M)
        return np.where(np.linalg.det(U) > 0, d, np.inf)
    if name == "D4":
        return np.linalg.norm(M[..., None, :, :] - D4_EXACT, axis=(-2, -1)).min(-1)
    U, _ = infer.nearest_orthogonal(M[..., :2, :2] + M[..., 2:, 2:])  # SO(2) as A ⊕ A
    D = np.zeros(M.shape)
    D[..., :2, :2] = D[..., 2:, 2:] = U
    return np.where(np.linalg.det(U) > 0, np.linalg.norm(M - D, axis=(-2, -1)), np.inf)


EXACT = {"SO(2)": so2, "D4": lambda: dihedral(4, copies=2), "SO(2) in SO(4)": so2_in_so4}


@pytest.mark.parametrize("name", list(EXACT))
def test_compositions_of_group_elements_stay_in_the_group(name):
    G = EXACT[name]()
    tol = 0.05 * G.shape[-1]  # N(0, 0.01²) noise per entry: ~0.01 n in norm; products add it up
    assert distance_to_group(name, G).max() < tol / 2
    Mp, Vp = infer.products(G)
    assert distance_to_group(name, Mp).max() < tol and np.abs(Vp).max() == 0.0
    Mr, _ = infer.relative(G)
    assert distance_to_group(name, Mr).max() < tol
    Mi, _ = infer.inverse(G)
    np.testing.assert_allclose(Mi @ G, np.broadcast_to(np.eye(G.shape[-1]), G.shape), atol=1e-12)
    M3, _ = infer.power(G, 3)
    assert distance_to_group(name, M3).max() < tol
    Mc, _ = infer.compose(G[:5])
    assert distance_to_group(name, Mc) < tol
    U, d = infer.nearest_orthogonal(G)
    assert d.max() < 0.05 and distance_to_group(name, U).max() < tol / 2


@pytest.mark.parametrize("name", list(EXACT))
def test_commutator_norm_on_exact_groups(name):
    G = EXACT[name]()
    C = infer.commutator_norm(G[:, None], G[None])
    assert C.shape == (len(G), len(G)) and np.allclose(np.diagonal(C), 0.0)
    if name == "D4":  # R(θ) F − F R(θ) has norm 2√2 |sin θ|; reflections: 2√2 |sin Δφ|
        a = np.pi / 2 * np.arange(4)
        np.testing.assert_allclose(infer.commutator_norm(rot(a)[:, None], refl(a)[None]),
                                   np.repeat(2 * np.sqrt(2) * np.abs(np.sin(a))[:, None], 4, 1), atol=1e-12)
        np.testing.assert_allclose(infer.commutator_norm(refl(a)[:, None], refl(a)[None]),
                                   2 * np.sqrt(2) * np.abs(np.sin(a[None] - a[:, None])), atol=1e-12)
        assert C.max() > 2.5 and C.min() == 0.0
    else:  # abelian: only the noise is left
        assert C.max() < 0.05 * G.shape[-1]
    # translations enter through the homogeneous form: two translations always commute
    assert infer.commutator_norm(np.eye(2), np.eye(2), [1.0, 0.0], [0.0, 2.0]) == 0.0
    assert infer.commutator_norm(rot(0.5), np.eye(2), None, [1.0, 0.0]) > 0.4
    with pytest.raises(ValueError, match="dimensions"):
        infer.commutator_norm(np.eye(2), np.eye(3))


def test_power_orders_and_nearest_power_on_exact_groups():
    g90 = noisy(rot(np.pi / 2), sigma=0.003, seed=3)
    M, _ = infer.power(g90, [1, 2, 3, 4])
    dist_to_one = np.linalg.norm(M - np.eye(2), axis=(-2, -1))
    assert np.argmin(dist_to_one) == 3 and dist_to_one[3] < 0.05      # order 4 in D4
    k, err = infer.nearest_power(g90, rot(np.pi), max_power=8)
    assert k in (2, 6) and err < 0.05
    res = infer.composition_error(g90, 50, reference=rot(np.pi / 2))
    assert res.error[0] < 0.02 and res.error[-1] > res.error[0]
    # SO(2) diagonally in SO(4): powers of a rotation by 1 rad approach any simultaneous rotation
    G = np.zeros((4, 4))
    G[:2, :2] = G[2:, 2:] = rot(1.0)
    T = np.zeros((4, 4))
    T[:2, :2] = T[2:, 2:] = rot(0.5)
    k, err = infer.nearest_power(G, T, max_power=2000)
    assert err < 0.02 and distance_to_group("SO(2) in SO(4)", infer.power(G, k)[0]) < 1e-9
    res = infer.composition_error(noisy(G, sigma=0.003, seed=4), [1, 10, 100], reference=G)
    assert res.error.shape == (3,) and res.error[0] < 0.03 and res.error[2] > 3 * res.error[0]
    np.testing.assert_allclose(infer.logm(T), 0.5 * JJ, atol=1e-12)
    Mr, _ = infer.relative(so2_in_so4(64))
    near = Mr[np.linalg.norm(Mr - np.eye(4), axis=(-2, -1)) < 0.3]     # g_i⁻¹ g_j close to 1, i ≠ j
    near = near[np.linalg.norm(near - np.eye(4), axis=(-2, -1)) > 0.1]
    assert len(near) > 10 and infer.cosine(infer.logm(near), JJ).min() > 0.8


def test_components_and_lie_algebra_of_o2_acting_on_two_planes():
    """The dijets' group: A ⊕ A for A in O(2) — two components, both with det +1, algebra J ⊕ J."""
    G = o2_in_so4()
    c = infer.components(G)
    assert len(c) == 2 and list(c.det_signs) == [1, 1] and list(c.sizes) == [16, 16]
    assert c[0].identity and set(c[0].members) == set(range(16))
    la = infer.lie_algebra(G)
    assert la.dimension == 1 and infer.cosine(la.basis[0], JJ / 2, signed=True) > 0.99
    assert len(infer.components(so2_in_so4())) == 1


# ----------------------------------------------------------------------------- discovery map (Eq. 44)
def test_omega_ansaetze_start_at_the_identity_and_have_the_printed_forms():
    c = torch.linspace(-1, 1, 11, dtype=torch.float64)[None, :, None]   # [K=1, N, P=1]
    for ansatz in infer.ANSATZE:
        a0 = infer.discovery_map._identity(ansatz, 1, 1, 11)
        np.testing.assert_allclose(infer.omega(ansatz, a0, c, 1.0), c, atol=1e-12)
    x = c[0, :, 0].numpy()
    relu = infer.omega("relu", torch.tensor([[[2.0, 0.5, 0.1]]], dtype=torch.float64), c)
    np.testing.assert_allclose(relu[0, :, 0], 2 * np.maximum(x, 0) - 0.5 * np.maximum(-x, 0) + 0.1)
    sign = infer.omega("sign", torch.tensor([[[0.25, 0.3]]], dtype=torch.float64), c)
    np.testing.assert_allclose(sign[0, :, 0], 0.25 * x + 0.75 * np.sign(x - 0.3))
    coef = torch.zeros(1, 1, 11, dtype=torch.float64)
    coef[0, 0, 2] = 1.0  # a3 c³, with h = 2: 2 (c/2)³
    np.testing.assert_allclose(infer.omega("poly", coef, 2 * c, 2.0)[0, :, 0], 2 * x ** 3, atol=1e-12)
    with pytest.raises(ValueError, match="ansatz"):
        infer.omega("mlp", coef, c)


def test_learn_discovery_map_moves_eq_a9_towards_the_sign_map():
    """Short run (convergence to sign(c) is tested in test_ch08): λ falls from 1, μ stays."""
    slope = spaces.Slope1D(b=0.0, ranges={"c": (-1.0, 1.0)})
    fit = infer.learn_discovery_map(sl.Gaussian([0.0], [[1.0]]), slope, ansatz="sign", runs=2,
                                    steps=300, seed=0)
    assert fit.coefficients.shape == (2, 1, 2) and fit.names == ("lambda", "mu")
    np.testing.assert_array_equal(fit.init_coefficients[:, 0], [[1.0, 0.0]] * 2)
    assert fit.coefficients[:, 0, 0].max() < 0.7                            # λ → 0: Ω → sign(c)
    np.testing.assert_array_equal(fit.coefficients[:, 0, 1], 0.0)          # μ gets no gradient
    c = np.linspace(-1, 1, 101)
    assert fit(c).shape == (2, 101, 1) and fit(c, run=0).shape == (101, 1)
    h = fit.history
    assert h["coefficients"].shape == (len(h["steps"]), 2, 1, 2) and h["d_loss"].shape == (len(h["steps"]), 2)


def test_learn_discovery_map_is_deterministic_and_checks_its_inputs():
    slope = spaces.Slope1D(b=0.0, ranges={"c": (-1.0, 1.0)})
    x = paper.gaussian_1d().sample(1000, seed=0).numpy() - 0.5
    a = infer.learn_discovery_map(x, slope, ansatz="poly", degree=3, runs=2, steps=10, seed=1, record_every=0)
    b = infer.learn_discovery_map(x, slope, ansatz="poly", degree=3, runs=2, steps=10, seed=1, record_every=0)
    np.testing.assert_array_equal(a.coefficients, b.coefficients)
    assert a.history is None and a.coefficients.shape == (2, 1, 3) and a.names == ("a1", "a2", "a3")
    # Affine(1): Ω on both parameters; translations handled in the trainer's coordinates
    f = infer.learn_discovery_map(paper.gaussian_1d(), spaces.Affine(1), ansatz="relu", runs=1, steps=5)
    assert f.coefficients.shape == (1, 2, 3) and np.isfinite(f.coefficients).all()
    with pytest.raises(ValueError, match="ansatz"):
        infer.learn_discovery_map(x, slope, ansatz="step")
    with pytest.raises(ValueError, match="dimension"):
        infer.learn_discovery_map(paper.n11(), slope)
    with pytest.raises(ValueError, match="init"):
        infer.learn_discovery_map(x, slope, ansatz="sign", init=np.zeros((2, 1, 3)))
    with pytest.raises(ValueError, match="search space"):
        infer.learn_discovery_map(x, "slope")


# ----------------------------------------------------------------------------- trained results
@pytest.fixture(scope="module")
def fit_n11_o2():
    return sl.SymmetryGAN(spaces.O2(), steps=800).fit(paper.n11(), runs=16, seed=0)


@pytest.fixture(scope="module")
def fit_square():
    """D4 on the centred 5 × 5 grid (Eq. 27): 16 runs started evenly around both (c, s) circles."""
    phi = np.radians(45.0 * (np.arange(8) + 0.5))
    init = np.c_[np.tile(np.c_[np.cos(phi), np.sin(phi)], (2, 1)), np.repeat([1.0, -1.0], 8)]
    return sl.SymmetryGAN(spaces.O2(), steps=800).fit(paper.square(), init=init, seed=0)


def test_trained_n11_o2_components_algebra_and_commutators(fit_n11_o2):
    fit = fit_n11_o2
    rot_runs = np.flatnonzero(fit.params[:, 2] > 0)
    c = infer.components(fit)
    assert len(c) == 2 and list(c.det_signs) == [1, -1] and set(c[0].members) == set(rot_runs)
    la = infer.lie_algebra(fit)
    assert la.dimension == 1 and infer.cosine(la.basis[0], J / math.sqrt(2)) >= 0.99
    M = fit.matrices
    R, F = M[rot_runs], M[np.setdiff1d(np.arange(fit.runs), rot_runs)]
    assert infer.commutator_norm(R[:, None], R[None]).max() < 1e-12     # rotations commute
    r = np.hypot(*fit.params[:, :2].T)
    theta = np.arctan2(fit.params[rot_runs, 1], fit.params[rot_runs, 0])
    want = 2 * np.sqrt(2) * np.abs(np.sin(theta))[:, None] * r[rot_runs][:, None] * np.delete(r, rot_runs)[None]
    np.testing.assert_allclose(infer.commutator_norm(R[:, None], F[None]), want, rtol=1e-6, atol=1e-9)
    Mp, _ = infer.products(fit)
    assert Mp.shape == (16, 16, 2, 2)
    assert np.all(np.sign(np.linalg.det(Mp)) == np.outer(np.sign(np.linalg.det(M)), np.sign(np.linalg.det(M))))


def test_trained_n11_rotation_composes_as_eq42_predicts(fit_n11_o2):
    fit = fit_n11_o2
    i = int(np.flatnonzero(fit.params[:, 2] > 0)[0])
    g, eps = fit.matrices[i], math.hypot(*fit.params[i, :2]) - 1
    assert 0 < abs(eps) < 0.05
    res = infer.composition_error(g, 100)  # distance of g^k = r^k R(kθ) from O(2): √2 |r^k − 1|
    np.testing.assert_allclose(res.error, np.sqrt(2) * np.abs((1 + eps) ** res.k - 1), rtol=1e-6)
    assert res.steps_within(0.1) == int(np.sum(np.cumprod(res.error <= 0.1)))
    U, _ = infer.nearest_orthogonal(g)
    _, err = infer.nearest_power(U, rot(np.pi / 2), max_power=300)
    assert err < 0.05                                     # the length-corrected powers are dense
    Mk, _ = infer.power(g, [0, 5])
    np.testing.assert_allclose(Mk[1], np.linalg.matrix_power(g, 5), atol=1e-12)
    # inverse, compose, relative and logm of learned elements: R(a)⁻¹ R(b) = R(b − a) = exp((b − a) J)
    theta = np.arctan2(fit.params[:, 1], fit.params[:, 0])
    rot_runs = np.flatnonzero(fit.params[:, 2] > 0)
    diff = lambda i, j: (theta[j] - theta[i] + np.pi) % (2 * np.pi) - np.pi  # noqa: E731
    # a pair of learned rotations 0.1 to 0.9 rad apart: ‖R(d) − 1‖₂ = 2|sin(d/2)| < 1, logm applies
    a, b = next((i, j) for i in rot_runs for j in rot_runs if 0.1 < abs(diff(i, j)) < 0.9)
    Mi, _ = infer.inverse(fit.matrices[a])
    Mc, _ = infer.compose(np.stack([Mi, fit.matrices[b]]))
    Mr, _ = infer.relative(fit)
    np.testing.assert_allclose(Mr[a, b], Mc, atol=1e-12)
    X = infer.logm(Mr[a, b])                      # ≈ log(r_b / r_a) 1 + d J
    assert infer.cosine(X - np.trace(X) / 2 * np.eye(2), J) > 0.999
    assert abs(X[0, 1] - diff(a, b)) < 1e-6


def test_trained_square_is_a_finite_group(fit_square):
    fit = fit_square
    c = infer.components(fit)
    assert len(c) == 8 and sorted(c.det_signs.tolist()) == [-1] * 4 + [1] * 4
    assert infer.lie_algebra(fit).dimension == 0
    U, _ = infer.nearest_orthogonal(fit.matrices)
    U4, _ = infer.power(U, 4)
    assert np.linalg.norm(U4 - np.eye(2), axis=(-2, -1)).max() < 0.3     # every element of D4 has g⁴ = 1
    assert distance_to_group("D4", c.matrices).max() < 0.15


def test_trained_dijet_generator_is_the_simultaneous_rotation():
    """The real dijet sample: so(4) search, cosine with J ⊕ J ≥ 0.95 in every run (the chapter
    checks 8 runs)."""
    fit = infer.learn_generator(sl.data.load_dijets(), runs=4, steps=1000, seed=0, lr_g=0.1, eps_g=0.01)
    assert fit.cosine(JJ).min() >= 0.95, fit.cosine(JJ)
