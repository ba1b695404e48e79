"""symlab.infer.learn_algebra: a LieGAN-style learner of k generators per run, on the one loop."""

import math

import numpy as np
import pytest
import torch

import symlab as sl
from symlab import infer, paper
from symlab.infer import algebra_learner as al

J2 = np.array([[0.0, 1.0], [-1.0, 0.0]])


def rot_gen(n, i, j):
    M = np.zeros((n, n))
    M[i, j], M[j, i] = 1.0, -1.0
    return M


def test_principal_cosines_exact():
    n = 3
    a = np.stack([rot_gen(n, 0, 1), rot_gen(n, 0, 2)])
    assert np.allclose(al.principal_cosines(a, a), 1.0)
    c = al.principal_cosines(a, rot_gen(n, 1, 2))
    assert c.shape == (1,) and abs(c[0]) < 1e-12
    # a 45° tilt inside the plane of two generators: one cosine 1, one cos 45°
    tilt = np.stack([rot_gen(n, 0, 1), (rot_gen(n, 0, 2) + rot_gen(n, 1, 2)) / math.sqrt(2)])
    c = al.principal_cosines(tilt, np.stack([rot_gen(n, 0, 1), rot_gen(n, 0, 2)]))
    assert np.allclose(c, [1.0, math.cos(math.pi / 4)])


def test_learn_algebra_finds_so2_of_n11_in_gl2_and_collapses_a_second_generator():
    fit = infer.learn_algebra(paper.n11(), 2, runs=8, steps=800, seed=0, antisymmetric=False,
                              progress=False)
    assert fit.basis.shape == (8, 2, 2, 2) and fit.scales.shape == (8, 2)
    flat = fit.basis.reshape(8, 2, 4)
    assert np.allclose(flat @ flat.transpose(0, 2, 1), np.eye(2), atol=1e-8)  # orthonormal
    # J lies in each run's span, and is the generator that kept its scale
    assert (fit.cosine(J2) > 0.99).mean() >= 0.9
    assert (infer.cosine(fit.basis[:, 0], J2) > 0.95).mean() >= 0.9
    assert np.all(fit.scales[:, 0] > 0.8) and np.median(fit.scales[:, 1]) < 0.5
    alg = fit.algebra()
    assert isinstance(alg, infer.LieAlgebra) and alg.dimension == 1
    assert alg.contains(J2) > 0.98


def test_learn_algebra_finds_the_rotation_of_a_3d_gaussian():
    g = sl.Gaussian([0.0] * 3, [1.0, 1.0, 4.0])
    fit = infer.learn_algebra(g, 1, runs=4, steps=800, seed=1, progress=False)
    assert np.all(fit.cosine(rot_gen(3, 0, 1)) > 0.99)
    assert np.all(fit.loss > 1.37)


def test_generators_are_orthonormal_in_the_data_metric_and_elements_are_maps():
    fit = infer.learn_algebra(paper.n12(), 1, runs=2, steps=30, seed=0, record_every=10,
                              progress=False)
    L = fit.generators
    C = fit.moments + 1e-3 * np.trace(fit.moments) / 2 * np.eye(2)
    assert np.allclose(np.einsum("kjab,bc,kjac->kj", L, C, L), 2.0, rtol=1e-5)
    assert fit.history["generators"].shape[1:] == (2, 1, 2, 2)
    assert fit.history["scales"].shape[1:] == (2, 1)
    M, V = fit.elements([[0.0], [0.3]], run=0)
    assert np.allclose(M[0], np.eye(2)) and np.allclose(V[0], 0.0, atol=1e-12)
    assert np.allclose(M[1], torch.linalg.matrix_exp(torch.tensor(0.3 * L[0, 0])).numpy())


def test_learn_algebra_is_deterministic():
    x = np.random.default_rng(0).normal(size=(2000, 3))
    a = infer.learn_algebra(x, 2, runs=2, steps=20, seed=5, record_every=0, progress=False)
    b = infer.learn_algebra(x, 2, runs=2, steps=20, seed=5, record_every=0, progress=False)
    c = infer.learn_algebra(x, 2, runs=2, steps=20, seed=6, record_every=0, progress=False)
    assert np.array_equal(a.basis, b.basis) and np.array_equal(a.scales, b.scales)
    assert not np.allclose(a.basis, c.basis)


def test_data_in_a_subspace_the_invisible_block_is_removed():
    rng = np.random.default_rng(0)
    q = rng.normal(size=(4000, 2))
    x = np.concatenate([q, -q], 1)  # data in a 2-D subspace of R⁴
    fit = infer.learn_algebra(x, 1, runs=2, steps=30, seed=0, progress=False)
    P = fit.support
    assert np.allclose(P @ P, P, atol=1e-10) and abs(np.trace(P) - 2) < 1e-8
    Q = np.eye(4) - P
    assert np.allclose(Q @ fit.generators[:, 0] @ Q, 0.0, atol=1e-6)


def test_choose_k_grows_until_a_scale_collapses():
    res = infer.choose_k(paper.n11(), antisymmetric=False, runs=4, steps=800, seed=0,
                         progress=False)
    assert res.k == 1 and res.tried == [1, 2]
    assert res.min_scale[0] > 0.8 > 0.5 > res.min_scale[1]


@pytest.mark.parametrize("k, kw, match", [
    (0, {}, "k must be"),
    (-1, {}, "k must be"),
    (2, {}, "larger than the dimension 1 of the ambient algebra so"),
    (5, dict(antisymmetric=False), "larger than the dimension 4 of the ambient algebra gl"),
    (1.5, {}, "k must be an integer"),
])
def test_bad_k(k, kw, match):
    with pytest.raises(ValueError, match=match):
        infer.learn_algebra(np.random.default_rng(0).normal(size=(100, 2)), k, steps=1, **kw)


def test_bad_data():
    x = np.random.default_rng(0).normal(size=(100, 2))
    with pytest.raises(ValueError, match="dim=3 but|dimension 2"):
        infer.learn_algebra(x, 1, dim=3, steps=1)
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        infer.learn_algebra(bad, 1, steps=1)
    with pytest.raises(ValueError, match="n >= 2"):
        infer.learn_algebra(paper.gaussian_1d(), 1, steps=1)
    with pytest.raises(ValueError, match="floor"):
        infer.learn_algebra(x, 1, steps=1, floor=1.0)
    fit = infer.learn_algebra(x, 1, runs=1, steps=2, progress=False, record_every=0)
    with pytest.raises(ValueError, match="truth"):
        fit.cosine(np.eye(3))
    with pytest.raises(ValueError, match="metric"):
        fit.cosine(J2, metric="euclid")


def test_best_run_prefers_a_full_scale_among_the_best_losses():
    fit = infer.learn_algebra(paper.n11(), 1, runs=3, steps=2, antisymmetric=False,
                              record_every=0, progress=False)
    fit.loss = np.array([1.386, 1.30, 1.3862])
    fit.scales = np.array([[0.95], [0.99], [0.3]])
    fit.failed = np.array([False, False, False])
    assert fit.best_run() == 0          # run 1's loss is too low, run 2's scale collapsed
    fit.failed = np.array([True, False, False])
    assert fit.best_run() == 2
    assert fit.algebra().dimension == 0  # its only generator collapsed


def test_augmentation_samplers():
    from symlab import twobody
    gen = torch.Generator().manual_seed(0)
    L = twobody.rotation_generator()
    G = twobody.from_algebra(L, [1.0], sigma=0.5)(5, gen)
    assert G.shape == (5, 8, 8)
    assert torch.allclose(G @ G.transpose(1, 2), torch.eye(8, dtype=G.dtype), atol=1e-10)
    R = twobody.rotations(4, gen)
    assert torch.allclose(torch.linalg.det(R), torch.ones(4, dtype=R.dtype))
    E = twobody.from_elements(np.stack([np.eye(8), -np.eye(8)]))(6, gen)
    assert E.shape == (6, 8, 8)
    with pytest.raises(ValueError, match="one scale each"):
        twobody.from_algebra(np.stack([L, L]), [1.0])
