"""Densities: exact log densities, seeded sampling, quadrature, the paper's presets."""

import math

import numpy as np
import pytest
import torch

import symlab as sl
from symlab import paper


def test_gaussian_log_prob_matches_closed_form():
    g = sl.Gaussian([1.0, -2.0], [[2.0, 0.3], [0.3, 1.0]])
    x = torch.tensor([[0.3, 0.1], [1.0, -2.0]], dtype=torch.float64)
    cov = torch.tensor([[2.0, 0.3], [0.3, 1.0]], dtype=torch.float64)
    ref = torch.distributions.MultivariateNormal(torch.tensor([1.0, -2.0], dtype=torch.float64), cov).log_prob(x)
    torch.testing.assert_close(g.log_prob(x), ref)


def test_mixture_log_prob_is_weighted_sum():
    m = sl.GaussianMixture([[-1.0], [2.0]], [0.5, 2.0], weights=[1, 3])
    x = torch.linspace(-3, 4, 11, dtype=torch.float64)[:, None]
    ref = (0.25 * torch.exp(-0.5 * (x + 1) ** 2 / 0.5) / math.sqrt(2 * math.pi * 0.5)
           + 0.75 * torch.exp(-0.5 * (x - 2) ** 2 / 2.0) / math.sqrt(2 * math.pi * 2.0))[:, 0]
    torch.testing.assert_close(m.log_prob(x).exp(), ref)


def test_sampling_is_seeded_and_has_the_right_moments():
    g = paper.n12()
    a, b = g.sample(200_000, seed=5), g.sample(200_000, seed=5)
    assert torch.equal(a, b) and a.shape == (200_000, 2) and a.dtype == torch.float32
    cov = np.cov(a.numpy().T)
    np.testing.assert_allclose(cov, [[1, 0], [0, 2]], atol=0.03)


@pytest.mark.parametrize("density", [paper.gaussian_1d(), paper.n12(), paper.bimodal(), paper.octagon()],
                         ids=repr)
def test_quadrature_integrates_moments(density):
    pts, w = density.quadrature()
    assert abs(w.sum().item() - 1) < 1e-12
    mean = (w[:, None] * pts).sum(0)
    x = density.sample(400_000, seed=0).double()
    torch.testing.assert_close(mean, x.mean(0), atol=0.01, rtol=0)


def test_paper_presets():
    assert paper.gaussian_1d().dim == 1 and float(paper.gaussian_1d().mean) == 0.5
    sq = paper.square()
    torch.testing.assert_close(sq.means.mean(0), torch.zeros(2, dtype=torch.float64))  # centred
    torch.testing.assert_close(paper.square(centered=False).means.mean(0), torch.ones(2, dtype=torch.float64))
    oc = paper.octagon()
    torch.testing.assert_close(oc.means.norm(dim=1), torch.ones(8, dtype=torch.float64))
    assert paper.bimodal().covs[0, 0, 0].item() == pytest.approx(0.16)
    assert paper.bimodal(sigma=1.0).covs[0, 0, 0].item() == pytest.approx(1.0)


def test_bad_density_inputs():
    with pytest.raises(ValueError, match="positive definite"):
        sl.Gaussian([0, 0], [[1, 2], [2, 1]])
    with pytest.raises(ValueError, match="symmetric"):
        sl.Gaussian([0, 0], [[1, 0.5], [0, 1]])
    with pytest.raises(ValueError, match="NaN"):
        sl.GaussianMixture([[np.nan, 0]], 1.0)
    with pytest.raises(ValueError, match="weights"):
        sl.GaussianMixture([[0.0], [1.0]], 1.0, weights=[1, -1])
    with pytest.raises(ValueError, match="dimension"):
        paper.n11().log_prob(torch.zeros(3, 3))
