"""Chapter 4 (one-dimensional Gaussian): the analytic claims the chapter makes about Fig. 4."""

import math

import numpy as np
import pytest
from scipy import integrate, optimize
from scipy.special import expit

import symlab as sl

MAX_LOSS = 2.0 * math.log(2.0)
DATA = sl.paper.gaussian_1d()


def _log_normal(x, mu, sd):
    return -0.5 * ((x - mu) / sd) ** 2 - math.log(sd * math.sqrt(2.0 * math.pi))


def _loss_quad(c, b=1.0, mean=0.5):
    """2 log 2 − 2 JSD(N(mean, 1), N(b + c·mean, c²)) by adaptive quadrature (no symlab)."""
    mg, sg = b + c * mean, abs(c)

    def integrand(x):
        la, lb = _log_normal(x, mean, 1.0), _log_normal(x, mg, sg)
        lm = np.logaddexp(la, lb) - math.log(2.0)
        return 0.5 * (math.exp(la) * (la - lm) + math.exp(lb) * (lb - lm))

    lo, hi = min(mean - 40, mg - 40 * sg), max(mean + 40, mg + 40 * sg)
    return MAX_LOSS - 2.0 * integrate.quad(integrand, lo, hi, points=[mean, mg], limit=400)[0]


def _ns_gradient_quad(c, mean=0.5):
    """dJ/dc of the non-saturating objective E_p[−log d*(1 + c x)] with d* frozen."""
    mg, sg = 1.0 + c * mean, abs(c)

    def integrand(x):
        y = 1.0 + c * x
        ell = _log_normal(y, mean, 1.0) - _log_normal(y, mg, sg)
        dell = -(y - mean) + (y - mg) / sg**2
        return math.exp(_log_normal(x, mean, 1.0)) * (-dell * x) * expit(-ell)

    return integrate.quad(integrand, mean - 40, mean + 40, points=[mean], limit=400)[0]


def test_slope_family_loss_matches_quadrature():
    """Gauss–Hermite (symlab) against adaptive quadrature; ~1e-5 at the contracting c = 0.3."""
    space = sl.spaces.Slope1D(b=1.0)
    cs = np.array([-2.5, -1.3, -1.0, -0.4, 0.3, 0.7253, 1.0, 2.2])
    expected = [_loss_quad(c) for c in cs]
    np.testing.assert_allclose(sl.landscape.loss(DATA, space, cs[:, None]), expected, atol=1e-4)


def test_slope_family_loss_is_invariant_under_inversion():
    """L(c) = L(1/c) for g(x) = 1 + c x on N(0.5, 1): the false maximum is at c = 1."""
    space = sl.spaces.Slope1D(b=1.0)
    cs = np.r_[np.linspace(0.2, 5.0, 25), -np.linspace(0.2, 5.0, 25)]
    np.testing.assert_allclose(sl.landscape.loss(DATA, space, cs[:, None]),
                               sl.landscape.loss(DATA, space, 1.0 / cs[:, None]), atol=1e-12)


@pytest.mark.parametrize("lo, hi, expected", [(0.05, 3.0, 1.0), (-3.0, -0.05, -1.0)])
def test_slope_family_maxima(lo, hi, expected):
    res = optimize.minimize_scalar(lambda c: -_loss_quad(c), bounds=(lo, hi), method="bounded",
                                   options={"xatol": 1e-8})
    assert res.x == pytest.approx(expected, abs=1e-5)
    space = sl.spaces.Slope1D(b=1.0)
    cs = np.linspace(lo, hi, 2000)
    L = sl.landscape.loss(DATA, space, cs[:, None])
    assert cs[np.argmax(L)] == pytest.approx(expected, abs=2e-3)


def test_stationary_points_of_the_two_generator_objectives():
    space = sl.spaces.Slope1D(b=1.0)

    def zero(obj):
        return optimize.brentq(
            lambda c: sl.landscape.generator_gradient(DATA, space, [[c]], objective=obj)[0, 0],
            0.3, 1.5, xtol=1e-10)

    c_ns = zero("non-saturating")
    assert c_ns == pytest.approx(optimize.brentq(_ns_gradient_quad, 0.3, 1.5, xtol=1e-10), abs=1e-6)
    assert c_ns == pytest.approx(0.7253, abs=5e-4)
    assert zero("minimax") == pytest.approx(1.0, abs=1e-6)


def test_intercept_zero_family_is_the_mirror_image():
    """x ↦ 1 − x is a symmetry of the data, so the family c x at c is 1 + c x at −c."""
    cs = np.linspace(0.1, 3.0, 30)[:, None]
    a, b = sl.spaces.Slope1D(b=0.0), sl.spaces.Slope1D(b=1.0)
    np.testing.assert_allclose(sl.landscape.loss(DATA, a, cs), sl.landscape.loss(DATA, b, -cs),
                               atol=1e-12)
    np.testing.assert_allclose(sl.landscape.generator_gradient(DATA, a, cs),
                               -sl.landscape.generator_gradient(DATA, b, -cs), atol=1e-9)
