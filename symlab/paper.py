"""The datasets of Desai, Nachman & Thaler (PRD 105, 096031) as exact densities.

Where the printed equations and the figures (or the original study's code) disagree, the
preset follows what reproduces the figure and the keyword arguments give the printed form:

* Eq. (25), the bimodal mixture, is printed with unit width, at which it is not bimodal at
  all: an equal mixture of two Gaussians at ±μ with width σ has two maxima only for μ > σ,
  and at μ = σ = 1 it has a single flat-topped maximum at 0. The original code drew the
  modes with standard deviation 0.4 (two well-separated peaks, as in Fig. 9).
  ``bimodal()`` uses 0.4, ``bimodal(sigma=1.0)`` the printed form.
* Eq. (27) as printed centres the 5×5 grid at (1, 1) (centres i − 2 for i = 1…5), but the D4
  symmetry of Fig. 10 under the linear map of Eq. (28) needs the grid centred at the origin;
  ``square()`` is centred, ``square(centered=False)`` is the printed form.
* Eqs. (26)–(27) write the component widths as ``N(·, 0.1)``; we read 0.1 as the standard
  deviation (variance 0.01), which gives the well-separated blobs of Fig. 10.
"""

from __future__ import annotations

import math

import numpy as np

from . import _checks
from .densities import Gaussian, GaussianMixture

__all__ = ["gaussian_1d", "n11", "n12", "bimodal", "octagon", "square"]


def _variance(sigma) -> float:
    """``sigma²`` for a standard deviation ``sigma``: finite, > 0, with a representable square."""
    sigma = _checks.rate(sigma, "sigma")
    var = sigma * sigma
    if not (math.isfinite(var) and var > 0):
        raise ValueError(f"sigma = {sigma:.3g} has no representable variance sigma² in float64; "
                         "pass a standard deviation between 1e-150 and 1e150.")
    return var


def gaussian_1d(mean: float = 0.5, variance: float = 1.0) -> Gaussian:
    """N(0.5, 1) of §V.A; its symmetries in g(x) = b + cx are (b, c) = (0, 1) and (1, −1) (Eq. 19).

    ``mean`` is any finite number, ``variance`` a finite number > 0.
    """
    return Gaussian(_checks.real(mean, "mean"), _checks.rate(variance, "variance"))


def n11() -> Gaussian:
    """N_{1,1} = N(0, 1₂) of Eq. (21): symmetric under all of O(2)."""
    return Gaussian([0.0, 0.0], [1.0, 1.0])


def n12() -> Gaussian:
    """N_{1,2} = N(0, diag(1, 2)) of Eq. (22): contains the Klein four-group {±1, ±σ₃}."""
    return Gaussian([0.0, 0.0], [1.0, 2.0])


def bimodal(sigma: float = 0.4, separation: float = 1.0) -> GaussianMixture:
    """½ N(−1, σ²) + ½ N(1, σ²) (Eq. 25, symmetric under x ↦ ±x).

    ``sigma`` is the standard deviation of each mode: 0.4 as in the original study's code
    (default), 1.0 as printed in Eq. (25); a finite number > 0. ``separation``: the modes sit
    at ``±separation`` (any finite number). The density has two maxima only when
    ``|separation| > sigma``; the printed ``sigma = separation = 1`` is unimodal.
    """
    var = _variance(sigma)
    separation = _checks.real(separation, "separation")
    return GaussianMixture([[-separation], [separation]], var)


def octagon(sigma: float = 0.1, radius: float = 1.0) -> GaussianMixture:
    """Eight Gaussians at the vertices of a regular octagon (Eq. 26); symmetry group D8.

    ``sigma`` (the standard deviation of each component, > 0) and ``radius`` (of the octagon,
    a finite number) are floats.
    """
    var = _variance(sigma)
    radius = _checks.real(radius, "radius")
    angles = 2.0 * math.pi * np.arange(1, 9) / 8.0
    means = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return GaussianMixture(means, var)


def square(sigma: float = 0.1, centered: bool = True) -> GaussianMixture:
    """A 5×5 grid of Gaussians (Eq. 27); symmetry group D4 when centred at the origin.

    ``centered=False`` reproduces the printed Eq. (27), with centres i − 2 for i = 1…5, i.e.
    a grid centred at (1, 1), which is *not* symmetric under the linear maps of Eq. (28).
    ``sigma`` is the standard deviation of each component (a finite number > 0).
    """
    var = _variance(sigma)
    centered = _checks.flag(centered, "centered")
    offset = 3.0 if centered else 2.0
    ticks = np.arange(1, 6) - offset
    xx, yy = np.meshgrid(ticks, ticks, indexing="ij")
    means = np.stack([xx.ravel(), yy.ravel()], axis=1)
    return GaussianMixture(means, var)
