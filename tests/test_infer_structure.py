"""Structure of groups of dimension 2-4 in 4-6 dimensions from a few dozen elements:
``lie_algebra(densify=True)`` and ``components(algebra=...)`` (issue 11)."""

import numpy as np
import pytest
from scipy.linalg import block_diag, expm
from scipy.stats import special_ortho_group

import symlab as sl
from symlab import problems

FLIP = np.diag([1.0, -1.0])


def _rot(t):
    return np.array([[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]])


def _flip(f):  # the reflection diag(1, -1) to the power f
    return np.linalg.matrix_power(FLIP, int(f))


def _noisy(M, rng, size=0.01):
    A = rng.standard_normal(M.shape) * size
    return np.stack([m @ expm(a - a.T) for m, a in zip(M, A)])


def _sets():
    rng = np.random.default_rng(0)
    torus = [block_diag(_rot(a) @ _flip(f), _rot(b) @ _flip(f))
             for a, b, f in zip(rng.uniform(0, 6.3, 28), rng.uniform(0, 6.3, 28),
                                rng.integers(0, 2, 28))]
    so3xso2 = []
    for f in rng.integers(0, 2, 24):
        Q = special_ortho_group.rvs(3, random_state=rng) @ np.diag([1.0, 1.0, (-1.0) ** f])
        so3xso2.append(block_diag(Q, _rot(rng.uniform(0, 6.3)) @ _flip(f)))
    diag = [block_diag(Q, Q) for Q in special_ortho_group.rvs(3, size=27, random_state=rng)]
    d8 = list(problems._dihedral(8)) * 2
    perms = list(problems._signed_permutations(4)[:40])
    return {  # name: (elements, algebra dimension, components)
        "S(O(2) x O(2)) in SO(4)": (_noisy(np.array(torus), rng), 2, 2),
        "S(O(3) x O(2)) in SO(5)": (_noisy(np.array(so3xso2), rng), 4, 2),
        "diagonal SO(3) in SO(6)": (_noisy(np.array(diag), rng), 3, 1),
        "D8, every element twice": (_noisy(np.array(d8), rng), 0, 16),
        "40 signed permutations": (_noisy(np.array(perms), rng), 0, 40),
    }


SETS = _sets()


@pytest.mark.parametrize("name", list(SETS))
def test_structure_of_a_few_dozen_elements(name):
    E, dim, n_comp = SETS[name]
    alg = sl.infer.lie_algebra(E, tol=0.8, densify=True)
    assert alg.dimension == dim, (alg.dimension, alg.spread[:6])
    comps = sl.infer.components(E, densify=True, algebra=alg)
    assert len(comps) == n_comp
    if dim > 0:
        assert comps[0].identity and comps[0].size > 1  # the identity component first


def test_pairs_alone_miss_the_algebra_of_a_larger_group():
    # the reason for densify: no pair of these 27 elements is near enough to another
    E = SETS["diagonal SO(3) in SO(6)"][0]
    assert sl.infer.lie_algebra(E).dimension == 0
    assert len(sl.infer.components(E)) == 27


def test_densify_marks_products_and_respects_the_cap():
    E = SETS["diagonal SO(3) in SO(6)"][0]
    alg = sl.infer.lie_algebra(E, tol=0.8, densify=True, max_products=50, seed=3)
    products = np.all(alg.pairs == -2, axis=1)
    assert 0 < products.sum() <= 50 and alg.n_pairs == len(alg.pairs)
    again = sl.infer.lie_algebra(E, tol=0.8, densify=True, max_products=50, seed=3)
    assert np.array_equal(alg.singular_values, again.singular_values)


def test_algebra_links_only_elements_of_the_identity_component():
    # O(2): the reflections' relative elements with rotations have no real logarithm
    rng = np.random.default_rng(1)
    rot = [_rot(t) for t in rng.uniform(0, 6.3, 5)]
    refl = [_rot(t) @ FLIP for t in rng.uniform(0, 6.3, 5)]
    E = np.array(rot + refl)
    alg = sl.infer.lie_algebra(np.array([_rot(t) for t in np.linspace(0, 0.6, 8)]))
    assert alg.dimension == 1
    comps = sl.infer.components(E, algebra=alg)
    assert len(comps) == 2 and sorted(comps.sizes.tolist()) == [5, 5]
    assert set(comps.det_signs.tolist()) == {1, -1}


@pytest.mark.parametrize("kwargs", [dict(max_products=0), dict(densify="yes")])
def test_densify_bad_arguments(kwargs):
    with pytest.raises((ValueError, TypeError)):
        sl.infer.lie_algebra(SETS["D8, every element twice"][0], **kwargs)
