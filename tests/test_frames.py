"""``frame="random"``: each run trains in its own Haar-random basis (issue 11)."""

import numpy as np
import pytest
import torch
from groups import fit_so3_on_a_long_gaussian

import symlab as sl
from symlab import _loop


def test_frames_are_haar_orthogonal_and_seeded():
    P = _loop.random_frames(sl.spaces.SO(3), 500, torch.Generator().manual_seed(0))
    eye = torch.eye(3, dtype=torch.float64)
    assert torch.allclose(P.transpose(-1, -2) @ P, eye.expand(500, 3, 3), atol=1e-12)
    det = torch.linalg.det(P)
    assert 0.4 < float((det > 0).double().mean()) < 0.6       # O(3): both components
    # Haar: the first column is uniform on the sphere (mean ~ 0, second moment 1/3 each)
    col = P[:, :, 0]
    assert float(col.mean(0).abs().max()) < 0.1
    assert torch.allclose(col.pow(2).mean(0), torch.full((3,), 1 / 3, dtype=col.dtype),
                          atol=0.06)
    again = _loop.random_frames(sl.spaces.SO(3), 500, torch.Generator().manual_seed(0))
    assert torch.equal(P, again)


@pytest.mark.parametrize("space", [sl.spaces.SO(4), sl.spaces.O2()])
def test_frames_round_trip_the_parameters(space):
    gen = torch.Generator().manual_seed(1)
    p = space.sample_uniform(16, seed=2).double()
    std = _loop.Standardised(space, torch.zeros(space.dim), 1.0,
                             frames=_loop.random_frames(space, 16, gen))
    t = std.to_train(p)
    M, _ = std.maps(t)
    assert np.allclose(M.numpy(), space.matrix(p).numpy(), atol=1e-10)  # same maps
    back = std.to_space(t)
    assert np.allclose(space.matrix(back).numpy(), space.matrix(p).numpy(), atol=1e-10)


def test_random_frames_find_the_symmetries():
    _, err = fit_so3_on_a_long_gaussian(frame="random")
    assert np.mean(err < 0.07) >= 0.8, err


def test_random_frames_need_a_space_closed_under_conjugation():
    with pytest.raises(ValueError, match="frame"):
        sl.SymmetryGAN(sl.spaces.Affine(2), frame="random").fit(
            np.random.default_rng(0).normal(size=(500, 2)), runs=2, progress=False)
    with pytest.raises(ValueError, match="frame"):
        sl.SymmetryGAN(sl.spaces.SO(2), frame="basis")
