"""Property tests for every search space: determinants, matrix/apply agreement, shapes."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from symlab import spaces

ALL = [spaces.Affine(1), spaces.Affine(2), spaces.Affine(3), spaces.Slope1D(), spaces.RotationScale2D(),
       spaces.O2(), spaces.Iwasawa2D(), spaces.SO2xSO2(), spaces.SO(3), spaces.SO(4)]
IDS = [repr(s) for s in ALL]
seeds = st.integers(min_value=0, max_value=2**31 - 1)


@pytest.mark.parametrize("space", ALL, ids=IDS)
@given(seed=seeds)
def test_shapes_and_apply_matches_matrix(space, seed):
    K, N, n = 5, 7, space.dim
    p = space.sample_init(K, seed=seed).double()
    assert p.shape == (K, space.n_params) and len(space.param_names) == space.n_params
    M, V = space.matrix(p), space.shift(p)
    assert M.shape == (K, n, n) and V.shape == (K, n)
    x = torch.randn(N, n, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    y = space.apply(p, x)
    assert y.shape == (K, N, n)
    ref = torch.einsum("kij,nj->kni", M, x) + V[:, None, :]
    torch.testing.assert_close(y, ref)
    # per-run inputs [K, N, n] give the same answer
    torch.testing.assert_close(space.apply(p, x.expand(K, N, n)), ref)


@pytest.mark.parametrize("space", [spaces.Affine(2), spaces.Affine(3), spaces.Affine(4), spaces.O2("reflection"),
                                   spaces.SO2xSO2(), spaces.SO(2), spaces.SO(4), spaces.SO(5)],
                         ids=lambda s: repr(s))
@given(seed=seeds)
def test_unit_determinant_where_promised(space, seed):
    p = space.sample_init(6, seed=seed).double()
    if isinstance(space, spaces.O2):  # unit-norm (c, s): exactly a reflection
        p[:, :2] = p[:, :2] / p[:, :2].norm(dim=1, keepdim=True)
    det = torch.linalg.det(space.matrix(p))
    torch.testing.assert_close(det.abs(), torch.ones_like(det), atol=1e-9, rtol=0)


@pytest.mark.parametrize("space", [spaces.SO2xSO2(), spaces.SO(3), spaces.SO(4)], ids=lambda s: repr(s))
@given(seed=seeds)
def test_rotations_are_orthogonal_with_det_plus_one(space, seed):
    M = space.matrix(space.sample_init(4, seed=seed).double())
    eye = torch.eye(space.dim, dtype=M.dtype).expand_as(M)
    torch.testing.assert_close(M @ M.transpose(1, 2), eye, atol=1e-12, rtol=0)
    torch.testing.assert_close(torch.linalg.det(M), torch.ones(len(M), dtype=M.dtype), atol=1e-12, rtol=0)


def test_so4_is_the_ordered_givens_product_of_eq37():
    sp = spaces.SO(4)
    theta = torch.tensor([[0.3, -1.1, 0.7, 2.0, -0.4, 1.3]], dtype=torch.float64)
    expected = torch.eye(4, dtype=torch.float64)
    for k, (i, j) in enumerate([(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]):
        c, s = math.cos(theta[0, k]), math.sin(theta[0, k])
        R = torch.eye(4, dtype=torch.float64)
        R[i, i] = R[j, j] = c
        R[i, j], R[j, i] = s, -s  # Eqs. 35-36: a -> a cos + b sin, b -> b cos - a sin
        expected = expected @ R
    torch.testing.assert_close(sp.matrix(theta)[0], expected)


@pytest.mark.parametrize("n", [2, 3, 5, 6, 7])
def test_so_n_matches_the_sequential_givens_product_with_its_gradient(n):
    # SO(n) multiplies its m = n(n-1)/2 factors pairwise (odd m included): the same matrix,
    # and the same gradient, as R_1 R_2 ... R_m one factor at a time
    sp = spaces.SO(n)
    theta = (torch.rand(5, len(sp.pairs), generator=torch.Generator().manual_seed(n),
                        dtype=torch.float64) * 2 * math.pi).requires_grad_()
    expected = torch.eye(n, dtype=torch.float64).expand(5, n, n)
    for k, (i, j) in enumerate(sp.pairs):
        R = torch.eye(n, dtype=torch.float64).repeat(5, 1, 1)
        R[:, i, i] = R[:, j, j] = torch.cos(theta[:, k])
        R[:, i, j], R[:, j, i] = torch.sin(theta[:, k]), -torch.sin(theta[:, k])
        expected = expected @ R
    got = sp.matrix(theta)
    torch.testing.assert_close(got, expected, atol=1e-12, rtol=0)
    weights = torch.randn(5, n, n, generator=torch.Generator().manual_seed(0),
                          dtype=torch.float64)
    g_got, = torch.autograd.grad((got * weights).sum(), theta)
    g_exp, = torch.autograd.grad((expected * weights).sum(), theta)
    torch.testing.assert_close(g_got, g_exp, atol=1e-12, rtol=0)


def test_so2xso2_matches_eq30():
    M = spaces.SO2xSO2().matrix([[0.5, -2.0]])[0]
    c1, s1, c2, s2 = math.cos(0.5), math.sin(0.5), math.cos(-2.0), math.sin(-2.0)
    expected = torch.tensor([[c1, s1, 0, 0], [-s1, c1, 0, 0], [0, 0, c2, s2], [0, 0, -s2, c2]],
                            dtype=torch.float64)
    torch.testing.assert_close(M, expected)


@given(seed=seeds)
def test_iwasawa_round_trip(seed):
    g = torch.Generator().manual_seed(seed)
    M = torch.randn(50, 2, 2, dtype=torch.float64, generator=g)
    V = torch.randn(50, 2, dtype=torch.float64, generator=g)
    sp = spaces.Iwasawa2D()
    p = sp.params_from_matrix(M, V)
    torch.testing.assert_close(sp.matrix(p), M, atol=1e-10, rtol=0)
    torch.testing.assert_close(sp.shift(p), V)
    torch.testing.assert_close(torch.linalg.det(sp.matrix(p)), p[:, 0])  # det M = d
    assert (p[:, 2] > 0).all() and (p[:, 1] >= 0).all() and (p[:, 1] < 2 * math.pi).all()


def test_iwasawa_reconstruction_error_on_1000_random_matrices():
    M = torch.randn(1000, 2, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    sp = spaces.Iwasawa2D()
    err = (sp.matrix(sp.params_from_matrix(M)) - M).abs().max().item()
    assert err <= 1e-10


def test_o2_components_and_frozen_label():
    sp = spaces.O2()
    p = sp.sample_init(6, seed=0)
    assert p[:, 2].tolist() == [1.0, -1.0, 1.0, -1.0, 1.0, -1.0]
    theta = p.clone().requires_grad_(True)
    sp.matrix(theta).sum().backward()
    assert (theta.grad[:, 2] == 0).all()  # the component label never moves
    M = sp.matrix(torch.tensor([[math.cos(0.3), math.sin(0.3), -1.0]], dtype=torch.float64))[0]
    torch.testing.assert_close(M @ M, torch.eye(2, dtype=torch.float64))  # a reflection squares to 1


def test_init_ranges_are_the_papers_and_seeded():
    p = spaces.Affine(1).sample_init(4000, seed=3)
    assert p.min() >= -5 and p.max() <= 5 and p.min() < -4.9 and p.max() > 4.9
    assert torch.equal(p, spaces.Affine(1).sample_init(4000, seed=3))
    q = spaces.RotationScale2D().sample_init(1000, seed=1)
    assert q.abs().max() <= 1
    r = spaces.Iwasawa2D(ranges={"r": (0.5, 2.0)}).sample_init(1000, seed=1)
    assert r[:, 2].min() >= 0.5 and r[:, 2].max() <= 2.0


def test_bad_inputs():
    sp = spaces.RotationScale2D()
    with pytest.raises(ValueError, match="shape"):
        sp.matrix(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="NaN"):
        sp.matrix([[np.nan, 1.0]])
    with pytest.raises(ValueError, match="dimension"):
        sp.apply([[1.0, 0.0]], np.zeros((4, 3)))
    with pytest.raises(ValueError, match="unknown parameter"):
        spaces.RotationScale2D(ranges={"theta": (0, 1)})
    with pytest.raises(ValueError, match="singular"):
        spaces.Iwasawa2D.params_from_matrix(np.zeros((2, 2)))
