"""The analytic loss landscape (Eqs. 14–15): exact values at symmetries, brute-force agreement."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from symlab import GaussianMixture, paper, spaces
from symlab import landscape as ls
from symlab.landscape import MAX_LOSS

LOG2 = math.log(2.0)


def _norm_pdf(x, mean, sd):
    return np.exp(-0.5 * ((x - mean) / sd) ** 2) / (sd * math.sqrt(2.0 * math.pi))


def _brute_force_1d(b, c, mean=0.5, sd=1.0):
    """Eq. 14 on a fine grid in y: p_g is the density of b + cX, X ~ N(mean, sd²)."""
    y = np.linspace(-40.0, 40.0, 400_001)
    p, q = _norm_pdf(y, mean, sd), _norm_pdf(y, b + c * mean, abs(c) * sd)
    with np.errstate(divide="ignore", invalid="ignore"):
        real = np.where(p > 0, p * np.log((p + q) / p), 0.0)   # −p log d*
        fake = np.where(q > 0, q * np.log((p + q) / q), 0.0)   # −p_g log(1 − d*)
    return np.trapezoid(real + fake, y)


# ----------------------------------------------------------------------------- exact values
def test_one_dimensional_gaussian_has_its_two_symmetries():
    dens, space = paper.gaussian_1d(), spaces.Affine(1)
    np.testing.assert_allclose(ls.loss(dens, space, [[0.0, 1.0], [1.0, -1.0]]), MAX_LOSS, atol=1e-3)
    b, c = np.meshgrid(np.linspace(-3, 3, 41), np.linspace(-3, 3, 41), indexing="ij")
    params = np.stack([b.ravel(), c.ravel()], axis=1)
    far = np.min(np.stack([np.hypot(b.ravel() - 0, c.ravel() - 1),
                           np.hypot(b.ravel() - 1, c.ravel() + 1)]), axis=0) > 0.1
    values = ls.loss(dens, space, params)
    assert np.all(values[far] < MAX_LOSS - 1e-3)
    assert np.all(values >= 0)


def test_n11_is_flat_on_the_unit_circle_and_lower_off_it():
    dens, space = paper.n11(), spaces.RotationScale2D()
    theta = np.linspace(0, 2 * np.pi, 13)
    on = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    np.testing.assert_allclose(ls.loss(dens, space, on), MAX_LOSS, atol=1e-3)
    for radius in (0.5, 0.8, 1.2, 1.6):
        assert np.all(ls.loss(dens, space, radius * on) < MAX_LOSS - 1e-3)


@pytest.mark.parametrize("bc", [(0.0, 1.0), (1.0, -1.0), (0.3, 0.7), (1.2, -0.5), (-2.0, 2.5),
                                (0.0, -1.0)])
def test_loss_matches_brute_force_integration(bc):
    got = ls.loss(paper.gaussian_1d(), spaces.Affine(1), [bc])[0]
    assert got == pytest.approx(_brute_force_1d(*bc), abs=1e-4)


def test_jsd_identity_in_two_dimensions():
    """L = 2 log 2 − 2 JSD(p, p_g), with the JSD from a fine 2D grid (N12 rotated by 0.7 rad)."""
    theta, s = 0.7, 1.3
    R = np.array([[math.cos(theta), math.sin(theta)], [-math.sin(theta), math.cos(theta)]])
    M = s * R
    cov_p, cov_q = np.diag([1.0, 2.0]), M @ np.diag([1.0, 2.0]) @ M.T
    t = np.linspace(-12, 12, 1201)
    X, Y = np.meshgrid(t, t, indexing="ij")
    pts = np.stack([X, Y], axis=-1)

    def pdf(cov):
        inv = np.linalg.inv(cov)
        return np.exp(-0.5 * np.einsum("...i,ij,...j->...", pts, inv, pts)) / (
            2 * math.pi * math.sqrt(np.linalg.det(cov)))

    p, q = pdf(cov_p), pdf(cov_q)
    m = 0.5 * (p + q)
    with np.errstate(divide="ignore", invalid="ignore"):
        integrand = 0.5 * np.where(p > 0, p * np.log(p / m), 0) + 0.5 * np.where(q > 0, q * np.log(q / m), 0)
    jsd = np.trapezoid(np.trapezoid(integrand, t, axis=1), t)
    got = ls.loss(paper.n12(), spaces.RotationScale2D(), [[s * math.cos(theta), s * math.sin(theta)]])[0]
    assert got == pytest.approx(2 * LOG2 - 2 * jsd, abs=1e-4)


def test_singular_maps_give_the_limit_zero():
    assert ls.loss(paper.gaussian_1d(), spaces.Affine(1), [[0.5, 0.0]])[0] == 0.0
    assert ls.loss(paper.n11(), spaces.RotationScale2D(), [[0.0, 0.0]])[0] == 0.0
    # and the loss does go to zero as the map degenerates
    assert ls.loss(paper.gaussian_1d(), spaces.Affine(1), [[0.5, 1e-4]])[0] < 0.01


def test_mixture_symmetries_are_exact():
    sq, octa = paper.square(), paper.octagon()
    quarter = [[0.0, 1.0, 1.0], [0.0, 1.0, -1.0], [-1.0, 0.0, 1.0]]  # O2: rotations, reflection
    np.testing.assert_allclose(ls.loss(sq, spaces.O2(), quarter), MAX_LOSS, atol=1e-9)
    eighth = [[math.cos(math.pi / 4), math.sin(math.pi / 4)]]
    np.testing.assert_allclose(ls.loss(octa, spaces.RotationScale2D(), eighth), MAX_LOSS, atol=1e-9)
    off = ls.loss(octa, spaces.RotationScale2D(), [[math.cos(0.3), math.sin(0.3)]])
    assert off[0] < MAX_LOSS - 0.1


@pytest.mark.parametrize("density", [paper.square(), paper.octagon(), paper.bimodal(),
                                     GaussianMixture([[0.0, 0.0], [1.0, -1.0]],
                                                     [[[1.0, 0.3], [0.3, 0.5]], [[0.2, 0.0], [0.0, 2.0]]],
                                                     weights=[0.3, 0.7])],
                         ids=["square", "octagon", "bimodal", "full-cov"])
def test_fast_mixture_density_matches_log_prob(density):
    f, _ = ls._log_density(density)
    x = 3.0 * density.sample(200, seed=3).double()
    torch.testing.assert_close(f(x), density.log_prob(x), atol=1e-9, rtol=0)


def test_default_quadrature_is_close_to_a_fine_rule():
    params = [[0.9, 0.3, 1.0], [0.7, 0.7, 1.0], [1.1, 0.0, 1.0], [0.5, 0.5, -1.0]]
    coarse = ls.loss(paper.square(), spaces.O2(), params)
    fine = ls.loss(paper.square(), spaces.O2(), params, nodes=40)
    np.testing.assert_allclose(coarse, fine, atol=5e-3)


# ----------------------------------------------------------------------------- Monte Carlo path
def test_monte_carlo_rotation_of_4d_isotropic_gaussian_is_a_symmetry():
    dens = GaussianMixture([[0.0, 0.0, 0.0, 0.0]], [1.0])
    params = spaces.SO(4).sample_init(3, seed=1)
    np.testing.assert_allclose(ls.loss(dens, spaces.SO(4), params, mc_samples=20_000), MAX_LOSS,
                               atol=1e-9)


def test_monte_carlo_3d_matches_the_2d_quadrature():
    """A rotation in the (x₀, x₁) plane of N(0, diag(1, 2, 1)) is the N12 problem times a spectator."""
    theta = 0.6
    dens3 = GaussianMixture([[0.0, 0.0, 0.0]], [[1.0, 2.0, 1.0]])
    mc = ls.loss(dens3, spaces.SO(3), [[theta, 0.0, 0.0]], mc_samples=100_000, seed=2)[0]
    exact = ls.loss(paper.n12(), spaces.RotationScale2D(), [[math.cos(theta), math.sin(theta)]])[0]
    assert mc == pytest.approx(exact, abs=5e-3)
    assert mc < MAX_LOSS - 0.01
    # an explicit quadrature order replaces Monte Carlo in 3D
    quad = ls.loss(dens3, spaces.SO(3), [[theta, 0.0, 0.0]], nodes=16)[0]
    assert quad == pytest.approx(exact, abs=1e-6)


# ----------------------------------------------------------------------------- grid
def test_grid_shapes_and_values():
    mesh, values = ls.grid(paper.gaussian_1d(), spaces.Affine(1),
                           {"b": np.linspace(-1, 2, 7), "c": np.linspace(-2, 2, 5)})
    assert values.shape == mesh["b"].shape == mesh["c"].shape == (7, 5)
    assert mesh["b"][3, 0] == pytest.approx(0.5) and mesh["c"][0, 4] == pytest.approx(2.0)
    np.testing.assert_allclose(values[2, 4], ls.loss(paper.gaussian_1d(), spaces.Affine(1), [[0.0, 2.0]]))
    mesh1, v1 = ls.grid(paper.gaussian_1d(), spaces.Affine(1), {"c": [-1.0, 1.0]}, fixed={"b": 1.0})
    assert v1.shape == (2,) and v1[0] == pytest.approx(MAX_LOSS, abs=1e-9)


def test_grid_input_errors():
    dens, space = paper.gaussian_1d(), spaces.Affine(1)
    with pytest.raises(ValueError, match=r"missing \['b'\]"):
        ls.grid(dens, space, {"c": [1.0]})
    with pytest.raises(ValueError, match="unknown parameter"):
        ls.grid(dens, space, {"q": [1.0]}, fixed={"b": 0.0, "c": 1.0})
    with pytest.raises(ValueError, match="one or two"):
        ls.grid(paper.n11(), spaces.Iwasawa2D(), {"d": [1], "theta": [0], "r": [1]})
    with pytest.raises(ValueError, match="both on an axis and fixed"):
        ls.grid(dens, space, {"b": [0.0], "c": [1.0]}, fixed={"b": 0.0})
    with pytest.raises(ValueError, match="at least one value"):
        ls.grid(dens, space, {"b": [], "c": [1.0]})


# ----------------------------------------------------------------------------- generator gradient
def test_minimax_gradient_is_minus_the_loss_gradient():
    dens, space = paper.gaussian_1d(), spaces.Affine(1)
    params = np.array([[0.3, 0.7], [1.2, -0.5], [-0.4, 1.6]])
    eps = 1e-5
    fd = np.stack([(ls.loss(dens, space, params + eps * e) - ls.loss(dens, space, params - eps * e))
                   / (2 * eps) for e in np.eye(2)], axis=1)
    np.testing.assert_allclose(ls.generator_gradient(dens, space, params, "minimax"), -fd, rtol=1e-5,
                               atol=1e-8)


def test_gradients_vanish_at_symmetries():
    grad = ls.generator_gradient(paper.n11(), spaces.RotationScale2D(), [[0.6, 0.8], [-1.0, 0.0]])
    np.testing.assert_allclose(grad, 0.0, atol=1e-10)


def test_non_saturating_gradient_matches_brute_force():
    """∂/∂c of E_p[−log d*(1 + c x)] with d* frozen at c₀ = 0.5, by a 1D trapezoid rule."""
    c0, eps = 0.5, 1e-5
    x = np.linspace(-40, 40, 400_001)
    px = _norm_pdf(x, 0.5, 1.0)

    def frozen_objective(c):
        y = 1.0 + c * x
        p, q = _norm_pdf(y, 0.5, 1.0), _norm_pdf(y, 1.0 + 0.5 * c0, c0)
        with np.errstate(divide="ignore", invalid="ignore"):
            val = np.where(px > 0, px * (np.logaddexp(np.log(p), np.log(q)) - np.log(p)), 0.0)
        return np.trapezoid(val, x)

    fd = (frozen_objective(c0 + eps) - frozen_objective(c0 - eps)) / (2 * eps)
    got = ls.generator_gradient(paper.gaussian_1d(), spaces.Slope1D(b=1.0), [[c0]])[0, 0]
    assert got == pytest.approx(fd, rel=1e-5)


def test_slope1d_maximum_and_non_saturating_fixed_point():
    """FACTS: for g(x) = 1 + cx on N(0.5, 1) the c > 0 maximum of L is at c = 1, the NS point near 0.73."""
    dens, space = paper.gaussian_1d(), spaces.Slope1D(b=1.0)
    c = np.linspace(0.3, 1.5, 1201)[:, None]
    values = ls.loss(dens, space, c)
    assert c[values.argmax(), 0] == pytest.approx(1.0, abs=1e-3)
    assert ls.loss(dens, space, [[-1.0]])[0] == pytest.approx(MAX_LOSS, abs=1e-9)  # the symmetry
    ns = ls.generator_gradient(dens, space, c, "non-saturating")[:, 0]
    mm = ls.generator_gradient(dens, space, c, "minimax")[:, 0]
    root_ns = c[np.flatnonzero(np.diff(np.sign(ns)))[0], 0]
    root_mm = c[np.flatnonzero(np.diff(np.sign(mm)))[0], 0]
    assert root_mm == pytest.approx(1.0, abs=2e-3)
    assert 0.71 < root_ns < 0.74  # 0.7253 (the generator's descent moves c towards it from both sides)
    assert ns[0] < 0 < ns[-1]


def test_singular_rows_have_nan_gradient():
    grad = ls.generator_gradient(paper.gaussian_1d(), spaces.Affine(1), [[0.0, 0.0], [0.0, 1.0]])
    assert np.isnan(grad[0]).all() and np.isfinite(grad[1]).all()


# ----------------------------------------------------------------------------- properties
@settings(max_examples=15)
@given(theta=st.floats(-10, 10), b=st.floats(-4, 4), c=st.floats(-4, 4))
def test_loss_is_bounded_by_its_symmetry_value(theta, b, c):
    rot = ls.loss(paper.n11(), spaces.RotationScale2D(), [[math.cos(theta), math.sin(theta)]])[0]
    assert rot == pytest.approx(MAX_LOSS, abs=1e-9)
    value = ls.loss(paper.gaussian_1d(), spaces.Affine(1), [[b, c]])[0]
    assert -1e-12 <= value <= MAX_LOSS + 1e-9


def test_tensor_params_and_single_rows_are_accepted():
    dens, space = paper.gaussian_1d(), spaces.Affine(1)
    a = ls.loss(dens, space, torch.tensor([0.0, 1.0], requires_grad=True))
    assert a.shape == (1,) and a[0] == pytest.approx(MAX_LOSS)


# ----------------------------------------------------------------------------- bad inputs
def test_bad_inputs():
    dens, space = paper.gaussian_1d(), spaces.Affine(1)
    with pytest.raises(ValueError, match="dimension"):
        ls.loss(paper.n11(), space, [[0.0, 1.0]])
    with pytest.raises(ValueError, match="shape"):
        ls.loss(dens, space, [[0.0, 1.0, 2.0]])
    with pytest.raises(ValueError, match="shape"):
        ls.loss(dens, space, np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="NaN"):
        ls.loss(dens, space, [[np.nan, 1.0]])
    with pytest.raises(ValueError, match="nodes"):
        ls.loss(dens, space, [[0.0, 1.0]], nodes=0)
    with pytest.raises(ValueError, match="mc_samples"):
        ls.loss(GaussianMixture([[0.0, 0.0, 0.0]], [1.0]), spaces.SO(3), [[0.0, 0.0, 0.0]], mc_samples=0)
    with pytest.raises(ValueError, match="objective"):
        ls.generator_gradient(dens, space, [[0.0, 1.0]], objective="wasserstein")


def test_optimal_discriminator_matches_closed_form_and_is_half_at_symmetries():
    from symlab import landscape, paper, spaces

    g1 = paper.gaussian_1d()
    x = np.linspace(-2, 3, 11)
    d = landscape.optimal_discriminator(g1, spaces.Affine(1), [[0.2, 1.5], [1.0, -1.0]], x)
    # g(X) ~ N(0.2 + 1.5·0.5, 1.5²) for X ~ N(0.5, 1)
    def pdf(y, m, s):
        return np.exp(-0.5 * ((y - m) / s) ** 2) / (s * np.sqrt(2 * np.pi))
    p, pg = pdf(x, 0.5, 1.0), pdf(x, 0.95, 1.5)
    np.testing.assert_allclose(d[0], p / (p + pg), rtol=1e-10)
    np.testing.assert_allclose(d[1], 0.5, atol=1e-12)
    with pytest.raises(ValueError, match="shape"):
        landscape.optimal_discriminator(g1, spaces.Affine(1), [0.0, 1.0], np.zeros((3, 2)))
