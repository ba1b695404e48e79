"""``optimizer="lie"``: Adam that steps on the rotation group, ``M ← M exp(A)`` (issue 11)."""

import math

import numpy as np
import pytest
import torch
from groups import fit_so3_on_a_long_gaussian

import symlab as sl
from symlab import _loop


def _rotations(n, K, seed):
    return sl.spaces.SO(n).matrix(sl.spaces.SO(n).sample_uniform(K, seed=seed).double())


def test_on_so2_it_is_adam_on_the_angle():
    """SO(2) is abelian and its one generator's coefficient is the angle: the group step
    and Adam on the angle follow the same path for any gradients."""
    so2 = sl.spaces.SO(2)
    theta = torch.tensor([[0.3], [2.0], [-1.0]], dtype=torch.float64)
    M = so2.matrix(theta.clone())
    adam = _loop.Adam(theta, eps=0.01)
    lie = _loop.LieAdam(M, so2.algebra_basis(), eps=0.01)
    gen = torch.Generator().manual_seed(0)
    for _ in range(25):
        g_angle = torch.randn(3, 1, generator=gen, dtype=torch.float64)
        # a gradient ∂L/∂M whose derivative along M·S is g_angle: (M S) g / ‖S‖²
        G = (M @ so2.algebra_basis()[0]) * (g_angle[:, :, None] / 2.0)
        adam.step(g_angle, lr=0.1)
        lie.step(G, lr=0.1)
    assert torch.allclose(M, so2.matrix(theta), atol=1e-12)


def test_steps_are_conjugated_by_a_change_of_basis():
    """Writing the data in a basis rotated by Q conjugates every map and every gradient by
    Q; the group step then gives the conjugated path (per-coordinate Adam on Givens angles
    does not)."""
    n, K = 4, 5
    basis = sl.spaces.SO(n).algebra_basis()
    Q = _rotations(n, 1, seed=3)[0]
    M = _rotations(n, K, seed=1)
    Mq = Q @ M @ Q.T
    opt, opt_q = (_loop.LieAdam(T, basis, eps=0.01) for T in (M, Mq))
    gen = torch.Generator().manual_seed(2)
    for _ in range(30):
        G = torch.randn(K, n, n, generator=gen, dtype=torch.float64)
        opt.step(G, lr=0.2)
        opt_q.step(Q @ G @ Q.T, lr=0.2)
    assert torch.allclose(Mq, Q @ M @ Q.T, atol=1e-10)
    assert torch.allclose(M.transpose(-1, -2) @ M, torch.eye(n, dtype=M.dtype).expand(K, n, n),
                          atol=1e-12)
    # the same experiment with per-coordinate Adam on the angles breaks the symmetry
    so4 = sl.spaces.SO(n)
    th = so4.params_from_matrix(_rotations(n, K, seed=1)).requires_grad_(True)
    th_q = so4.params_from_matrix(Q @ so4.matrix(th.detach()) @ Q.T).requires_grad_(True)
    adam, adam_q = _loop.Adam(th.data, eps=0.01), _loop.Adam(th_q.data, eps=0.01)
    gen = torch.Generator().manual_seed(2)
    for _ in range(30):
        G = torch.randn(K, n, n, generator=gen, dtype=torch.float64)
        for t, G_t, a in ((th, G, adam), (th_q, Q @ G @ Q.T, adam_q)):
            t.grad = None
            (so4.matrix(t) * G_t).sum().backward()
            a.step(t.grad, lr=0.2)
    gap = (so4.matrix(th_q.detach()) - Q @ so4.matrix(th.detach()) @ Q.T).abs().max()
    assert gap > 0.05


def test_the_step_is_normalised_in_every_direction():
    """Adam's property, without its basis: a steady gradient of any size and direction
    gives a step of length ≈ lr along it (ε aside)."""
    so3 = sl.spaces.SO(3)
    basis = so3.algebra_basis()
    for size in (1e-3, 1.0, 1e3):
        M = torch.eye(3, dtype=torch.float64)[None].clone()
        g = size * torch.tensor([0.6, 0.0, -0.8], dtype=torch.float64)
        G = torch.einsum("p,pij->ij", g, basis)[None] / 2.0  # ⟨Mᵀ G, B_p⟩ = g_p
        opt = _loop.LieAdam(M, basis, eps=1e-8)
        opt.step(G, lr=0.01)
        A = M[0] - torch.eye(3, dtype=torch.float64)
        a = torch.einsum("ij,pij->p", A, basis) / 2.0
        assert torch.allclose(a, -0.01 * g / g.norm(), atol=1e-6)


def test_fit_with_the_group_step_finds_rotations_of_a_gaussian():
    fit, err = fit_so3_on_a_long_gaussian(optimizer="lie")
    M = fit.matrices
    assert np.allclose(np.linalg.det(M), 1.0, atol=1e-6)
    # the reported angles are those of the reported matrices
    assert np.allclose(sl.spaces.SO(3).matrix(torch.as_tensor(fit.params)).numpy(), M, atol=1e-8)
    assert np.mean(err < 0.07) >= 0.8, err
    # the history records Givens angles, starting at the initial ones
    assert fit.history.params.shape[1:] == (16, 3)
    assert np.allclose(fit.history.params[0], fit.init_params, atol=1e-6)


@pytest.mark.parametrize("space", [sl.spaces.O2(), sl.spaces.Affine(2)])
def test_the_group_step_needs_a_rotation_group(space):
    x = np.random.default_rng(0).normal(size=(500, 2))
    with pytest.raises(ValueError, match="lie"):
        sl.SymmetryGAN(space, optimizer="lie").fit(x, runs=2, progress=False)


def test_its_generators_give_the_givens_factors():
    so4 = sl.spaces.SO(4)
    B = so4.algebra_basis()
    for k in range(len(so4.pairs)):
        angles = torch.zeros(1, len(so4.pairs), dtype=torch.float64)
        angles[0, k] = 0.7
        assert torch.allclose(torch.linalg.matrix_exp(0.7 * B[k]), so4.matrix(angles)[0],
                              atol=1e-12)
    assert math.isclose(float((B[0] * B[1]).sum()), 0.0)
