"""symlab.infer on top of SciPy: the contract of logm (scipy.linalg.logm per matrix) and the
component labelling (scipy.sparse.csgraph.connected_components)."""

import numpy as np
import pytest
import torch
from groups import J, refl, rot

from symlab import infer


@pytest.mark.parametrize("n", range(1, 8))
def test_logm_inverts_expm_in_every_dimension_and_keeps_the_batch_shape(n):
    rng = np.random.default_rng(n)
    X = rng.normal(size=(2, 3, n, n))
    X *= 0.6 / np.linalg.norm(X, 2, axis=(-2, -1))[..., None, None]   # ‖X‖₂ = 0.6: ‖e^X − 1‖₂ < 1
    X[0, 0] = X[0, 0] - X[0, 0].T                                      # a rotation among them
    H = torch.linalg.matrix_exp(torch.from_numpy(X)).numpy()
    L = infer.logm(H)
    assert L.shape == H.shape and L.dtype == np.float64 and np.isrealobj(L)
    np.testing.assert_allclose(L, X, atol=1e-12)
    np.testing.assert_allclose(infer.logm(H[1, 2]), X[1, 2], atol=1e-12)   # a single matrix


def test_logm_edge_cases():
    assert infer.logm(np.zeros((0, 3, 3))).shape == (0, 3, 3)
    assert infer.logm(np.zeros((2, 0, 4, 4))).shape == (2, 0, 4, 4)
    np.testing.assert_allclose(infer.logm([[[1.5]], [[0.25]]]), np.log([[[1.5]], [[0.25]]]), rtol=1e-14)
    np.testing.assert_allclose(infer.logm(torch.from_numpy(rot(0.3))), 0.3 * J, atol=1e-14)
    np.testing.assert_array_equal(infer.logm(np.eye(3)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="near the identity"):
        infer.logm(np.diag([1.0, 2.0]))                     # ‖H − 1‖₂ = 1 exactly
    with pytest.raises(ValueError, match="near the identity"):
        infer.logm(refl(0.0))                               # det −1: no real logarithm


def test_components_are_ordered_identity_first_then_by_size():
    """Two clusters of rotations half a turn apart (SO(2) ⊃ a two-element quotient) and a
    cluster of reflections, fed in reverse: three components, the one holding the identity
    first, then by decreasing size; labels follow that order."""
    a = rot(0.1 * np.arange(6))                   # holds the identity
    b = rot(np.pi + 0.1 * np.arange(8))
    f = refl(0.1 * np.arange(5))
    c = infer.components(np.concatenate([a, b, f])[::-1].copy(), tol=0.15)
    assert c.sizes.tolist() == [6, 8, 5] and c.det_signs.tolist() == [1, 1, -1]
    assert [x.identity for x in c] == [True, False, False]
    assert c[0].members.tolist() == list(range(13, 19))
    np.testing.assert_array_equal(c.labels, [2] * 5 + [1] * 8 + [0] * 6)
