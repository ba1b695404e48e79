"""symlab — symmetry discovery with deep learning.

Companion package of the book that follows K. Desai, B. Nachman and J. Thaler,
"Symmetry discovery with deep learning", Phys. Rev. D 105, 096031 (2022), arXiv:2112.05722.
"""

from . import data, infer, landscape, paper, plotting, spaces, verify, widgets
from .densities import Gaussian, GaussianMixture
from .discover import GroupReport, discover
from .gan import Discovery, History, SymmetryGAN
from .pushforward import NonlinearPushforward  # noqa: F401  (also sl.pushforward, sl.flows)

__all__ = ["Gaussian", "GaussianMixture", "SymmetryGAN", "Discovery", "History", "discover",
           "GroupReport",
           "paper", "spaces", "landscape", "verify", "infer", "data", "plotting", "widgets"]
__version__ = "0.1.0"
