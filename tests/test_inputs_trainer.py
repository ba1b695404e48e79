"""Inputs and errors of the trainer (issue 13): SymmetryGAN settings, fit arguments, transform.

Every bad value raises a ``ValueError``/``TypeError`` whose message names the argument; the
validators are those of ``symlab._checks`` (see the book's "Inputs and errors" page). Fits
here run a handful of steps: only the checks at the boundary are under test.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import symlab as sl
from symlab import paper, spaces

ERRORS = (ValueError, TypeError)


def raises_naming(expected, fn, /, *args, **kw):
    with pytest.raises(ERRORS) as info:
        fn(*args, **kw)
    assert expected in str(info.value), f"message does not name {expected!r}: {info.value}"
    return info.value


def quick(space=None, **kw):
    return sl.SymmetryGAN(space or spaces.Affine(1), **{"steps": 4, **kw})


@pytest.fixture(scope="module")
def x1():
    return paper.gaussian_1d().sample(400, seed=0).numpy()


# ----------------------------------------------------------------------------- settings
@pytest.mark.parametrize("name, value", [
    ("lr_g", float("nan")), ("lr_g", float("inf")), ("lr_g", 0.0), ("lr_g", -0.01), ("lr_g", "0.01"),
    ("lr_d", float("nan")), ("lr_d", float("inf")), ("lr_shift", -1.0),
    ("alpha", -0.1), ("alpha", float("nan")), ("eps_g", -1e-3), ("eps_g", float("inf")),
    ("lr_floor", -0.1), ("lr_floor", 1.5), ("lr_floor", float("nan")), ("average", 1.0), ("average", -0.2),
    ("steps", 2.5), ("steps", "10"), ("steps", 0), ("steps", True), ("batch_size", 64.5), ("batch_size", -1),
    ("hidden", (0,)), ("hidden", (-5,)), ("hidden", (25, 0)), ("hidden", 25), ("hidden", (25, 2.5)),
    ("hidden", "25"), ("cyclic", 0), ("cyclic", 2.5), ("commutator", -1.0), ("commutator", float("nan")),
    ("objective", "wasserstein"), ("objective", None),
])
def test_symmetrygan_refuses_bad_settings(name, value):
    raises_naming(name, sl.SymmetryGAN, spaces.SO(2), **{name: value})


@given(value=st.one_of(st.floats(max_value=0.0, allow_nan=False), st.just(float("nan")), st.just(float("inf"))))
def test_learning_rates_must_be_finite_and_positive(value):
    for name in ("lr_g", "lr_d"):
        raises_naming(name, sl.SymmetryGAN, spaces.SO(2), **{name: value})


@given(widths=st.lists(st.integers(-10, 0), min_size=1, max_size=3).map(tuple))
def test_hidden_widths_must_be_positive(widths):
    """hidden=(0,) trained nothing and reported the loss of a symmetry for every run."""
    raises_naming("hidden", sl.SymmetryGAN, spaces.SO(2), hidden=widths)


def test_wrong_objects_as_space():
    for bad in ("SO(2)", paper.n11(), spaces.SO, None, np.eye(2)):
        raises_naming("space", sl.SymmetryGAN, bad)


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU is present")
def test_cuda_on_a_cpu_only_torch_is_a_value_error_not_an_assertion():
    err = raises_naming("device", sl.SymmetryGAN, spaces.SO(2), device="cuda")
    assert isinstance(err, ValueError) and not isinstance(err, AssertionError)
    raises_naming("device", sl.SymmetryGAN, spaces.SO(2), device="quantum")


def test_legitimate_settings_of_every_numeric_kind_are_accepted():
    gan = sl.SymmetryGAN(spaces.SO(2), steps=np.int64(4), batch_size=64.0, lr_g=np.float32(0.02),
                         hidden=[8, np.int64(4)], alpha=0, eps_g=0.0, lr_floor=1.0, average=0.0)
    assert gan.steps == 4 and gan.batch_size == 64 and gan.hidden == (8, 4)


# ----------------------------------------------------------------------------- fit arguments
@pytest.mark.parametrize("runs", [2.5, "2", 0, -1, True, [2], float("nan")])
def test_fit_refuses_bad_runs(x1, runs):
    """runs=2.5 silently became 2 and runs="2" was accepted."""
    raises_naming("runs", quick().fit, x1, runs=runs)


@pytest.mark.parametrize("seed", [-1, "0", 1.5, float("nan"), 2**64, [0]])
def test_fit_refuses_bad_seeds(x1, seed):
    raises_naming("seed", quick().fit, x1, runs=1, seed=seed)


def test_fit_seed_none_means_fresh_entropy(x1):
    """seed=None was rejected by fit with an int() error but accepted by sample_init."""
    gan = quick()
    a, b = gan.fit(x1, runs=2, seed=None), gan.fit(x1, runs=2, seed=None)
    assert not np.array_equal(a.init_params, b.init_params)
    c, d = gan.fit(x1, runs=2, seed=np.int64(3)), gan.fit(x1, runs=2, seed=3)
    np.testing.assert_array_equal(c.params, d.params)


@pytest.mark.parametrize("every", [-1, 2.5, "10", float("inf")])
def test_fit_refuses_bad_record_every(x1, every):
    raises_naming("record_every", quick().fit, x1, runs=1, record_every=every)


@pytest.mark.parametrize("progress", ["yes", 1.5, [True]])
def test_fit_refuses_bad_progress(x1, progress):
    raises_naming("progress", quick().fit, x1, runs=1, progress=progress)


@pytest.mark.parametrize("init", [
    np.zeros((0, 2)), np.array([[np.nan, 1.0]]), torch.tensor([[float("nan"), 1.0]]),
    torch.tensor([[0.0, float("inf")]]), np.array([[0.0, 1.0, 2.0]]), np.array([[0j, 1.0]]),
    np.array([[True, True]]), "0 1", np.float64(1.0),
])
def test_fit_refuses_bad_init(x1, init):
    raises_naming("init", quick().fit, x1, init=init)


def test_fit_accepts_unusual_legitimate_init(x1):
    gan = quick()
    ref = gan.fit(x1, init=np.array([[0.2, 1.5], [0.0, -1.2]]), seed=0)
    for init in ([[0.2, 1.5], [0.0, -1.2]], torch.tensor([[0.2, 1.5], [0.0, -1.2]], requires_grad=True),
                 np.array([[0.0, -1.2], [0.2, 1.5]])[::-1]):
        np.testing.assert_array_equal(gan.fit(x1, init=init, seed=0).params, ref.params)


@pytest.mark.parametrize("data", ["data", None, {"x": [1.0, 2.0]}, object(), spaces.Affine(1),
                                  np.array([[1 + 2j], [3j]]), np.array([["a"], ["b"]])])
def test_fit_refuses_wrong_objects_as_data(data):
    raises_naming("data", quick().fit, data, runs=1)


def test_fit_data_scale_messages_and_float64_statistics(x1):
    """Data scaled by 1e18 or 1e-25 got "zero spread"; the spread is now taken in float64."""
    gan = quick()
    ref = gan.fit(x1, runs=2, seed=0)
    for factor in (1e-25, 1e18):
        fit = gan.fit(x1 * factor, runs=2, seed=0, init=ref.init_params * [factor, 1.0])
        np.testing.assert_allclose(fit.matrices, ref.matrices, rtol=1e-4, atol=1e-5)
    err = raises_naming("data", gan.fit, x1.astype(np.float64) * 1e39, runs=1)
    assert "extreme" in str(err) and "zero spread" not in str(err)
    assert "zero spread" in str(raises_naming("data", gan.fit, np.ones((10, 1)), runs=1))


def test_fit_unusual_legitimate_data_give_the_plain_answer(x1):
    gan = quick()
    ref = gan.fit(x1, runs=2, seed=1)
    ro = x1.copy()
    ro.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "The given NumPy array is not writable"
        got = gan.fit(ro, runs=2, seed=1)
    np.testing.assert_array_equal(got.params, ref.params)
    for data in (x1.tolist(), torch.from_numpy(x1).requires_grad_(True), np.asfortranarray(x1)):
        np.testing.assert_array_equal(gan.fit(data, runs=2, seed=1).params, ref.params)


# ----------------------------------------------------------------------------- Discovery.transform
def test_transform_refuses_bad_runs_and_points(x1):
    fit = quick().fit(x1, runs=2, seed=0)
    for run in (5, 2, -3, 1.5, "0", None):
        raises_naming("run", fit.transform, x1, run=run)
    raises_naming("x", fit.transform, [[np.nan]])
    raises_naming("x", fit.transform, np.zeros((3, 2)))
    raises_naming("x", fit.transform, 0.5)
    np.testing.assert_array_equal(fit.transform(x1[:3].tolist(), run=np.int64(1)), fit.transform(x1[:3], run=1))


def test_transform_of_one_point_in_two_dimensions():
    fit = quick(spaces.SO(2)).fit(paper.n11(), runs=1, seed=0)
    np.testing.assert_allclose(fit.transform([1.0, 2.0]), fit.transform([[1.0, 2.0]]))


# ----------------------------------------------------------------------------- second sweep
def test_cyclic_order_one_is_refused():
    raises_naming("cyclic", sl.SymmetryGAN, spaces.SO(2), cyclic=1)   # would penalise every map
    assert sl.SymmetryGAN(spaces.SO(2), cyclic=2).cyclic == 2


def test_batches_too_large_for_memory_are_refused_before_training(x1):
    raises_naming("batch_size", quick(batch_size=10**9).fit, x1, runs=2, progress=False)
    raises_naming("runs", quick(spaces.SO(2)).fit, paper.n11(), runs=10**7, progress=False)


def test_the_trainer_still_reports_nan_runs_as_failed_not_as_errors(x1):
    fit = quick(spaces.Affine(1), lr_g=1e6, lr_d=1e6, steps=20).fit(x1, runs=3, progress=False)
    assert fit.failed.shape == (3,)
