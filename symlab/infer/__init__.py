"""Towards symmetry inference (§VII): from discovered elements to the group they belong to.

SymmetryGAN *discovers* points of the symmetry group, one per run. This subpackage turns a
cloud of discovered affine elements ``g(x) = M x + V`` — ``matrices [K, n, n]`` and
``shifts [K, n]``, or a :class:`symlab.Discovery` itself (failed runs are left out) — into
statements about the group, and learns group structure directly:

* ``group`` — composition (§VII.B): :func:`compose`, :func:`products`,
  :func:`power`, :func:`inverse`, :func:`relative` elements ``g_i⁻¹ ∘ g_j``,
  :func:`commutator_norm` (Eq. 41), how error compounds along powers
  (:func:`composition_error`) and the power nearest to a target (:func:`nearest_power`, Eq. 42);
* ``components`` — :func:`components`: the connected components of the group
  that the elements sample (2 for O(2), 16 for the octagon's D8);
* ``algebra`` — :func:`lie_algebra`: the dimension and a basis of the Lie
  algebra from matrix logarithms (:func:`logm`) of near-identity relative elements;
  :func:`cosine` compares generators;
* ``generator`` — :func:`learn_generator`: a one-parameter subgroup
  ``{exp(tL)}`` of symmetries, the continuous counterpart of the cyclic penalty of Eq. (18);
* ``algebra_learner`` — :func:`learn_algebra`: ``k`` generators per run at once, LieGAN-style
  (``exp(Σ_j c_j L_j)`` with learned coefficient scales), and :func:`choose_k`;
* ``discovery_map`` — :func:`learn_discovery_map`: the symmetry discovery
  map of Eq. (43), learned through Eq. (44) with the ansätze of Eqs. (A7)–(A9).

The two learners share SymmetryGAN's discriminator, optimiser, data handling and schedule
(``symlab.infer._adversarial``).

Example::

    fit = sl.SymmetryGAN(sl.spaces.O2()).fit(sl.paper.n11(), runs=32)
    infer.components(fit)          # 2 components: rotations (det +1), reflections (det −1)
    infer.lie_algebra(fit).basis   # [1, 2, 2] ≈ J = [[0, 1], [−1, 0]] / √2
    infer.learn_generator(sl.paper.n11(), antisymmetric=False).cosine(J)   # ≈ 1 for every run
"""

from .algebra import LieAlgebra, cosine, lie_algebra, logm
from .algebra_learner import AlgebraFit, KChoice, choose_k, learn_algebra, principal_cosines
from .components import Component, Components, components
from .discovery_map import ANSATZE, DiscoveryMapFit, learn_discovery_map, omega
from .generator import GeneratorFit, learn_generator
from .group import (
    CompositionError,
    commutator_norm,
    compose,
    composition_error,
    inverse,
    nearest_orthogonal,
    nearest_power,
    nearest_root,
    power,
    products,
    relative,
)

__all__ = [
    "inverse", "compose", "products", "power", "relative", "commutator_norm",
    "nearest_orthogonal", "composition_error", "CompositionError", "nearest_power", "nearest_root",
    "logm", "cosine", "lie_algebra", "LieAlgebra",
    "components", "Component", "Components",
    "learn_generator", "GeneratorFit",
    "learn_algebra", "AlgebraFit", "choose_k", "KChoice", "principal_cosines",
    "learn_discovery_map", "DiscoveryMapFit", "omega", "ANSATZE",
]
