"""Inputs and errors (issue 13): every public call answers correctly or says what is wrong.

Three kinds of tests:

* the validation layer itself (``symlab._checks``): counts, rates, seeds, widths, devices,
  arrays and tensors alike;
* hypothesis-generated bad values for the public entry points: each raises a ``ValueError`` /
  ``TypeError`` / ``OSError`` whose message names the argument;
* legitimate unusual inputs (lists, tensors with ``requires_grad``, non-contiguous and
  read-only arrays, float32/float64, integer and float16 tensors) give the plain-array answer;

plus one regression test for each wrong answer the review found.
"""

from __future__ import annotations

import math
import warnings

import h5py
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import symlab as sl
from symlab import _checks, infer, landscape, paper, spaces, verify
from symlab import data as sd
from symlab.discriminator import EnsembleMLP

ERRORS = (ValueError, TypeError, OSError)
MAX_LOSS = 2.0 * math.log(2.0)


def raises_naming(expected, fn, /, *args, **kw):
    """``fn(*args, **kw)`` raises a ValueError/TypeError/OSError whose message names ``expected``."""
    with pytest.raises(ERRORS) as info:
        fn(*args, **kw)
    assert expected in str(info.value), f"message does not name {expected!r}: {info.value}"
    return info.value


# ----------------------------------------------------------------------------- strategies
non_integral = st.floats(allow_nan=False, allow_infinity=False).filter(lambda v: not float(v).is_integer())
bad_count_values = st.one_of(
    non_integral,
    st.sampled_from([float("nan"), float("inf"), -float("inf"), True, False, "2", "ten", None,
                     [3], (2,), 1 + 2j, np.array([1, 2]), torch.tensor([1, 2]), object()]),
)
bad_rate_values = st.one_of(
    st.floats(max_value=0.0, allow_nan=False),  # 0 and negatives (and -inf)
    st.sampled_from([float("nan"), float("inf"), "0.1", None, True, [0.1], 1j, np.array([0.1, 0.2])]),
)
bad_seed_values = st.one_of(
    st.integers(max_value=-1), st.integers(min_value=2**63, max_value=2**70), non_integral,
    st.sampled_from(["0", True, 1.5, float("nan"), [0], object()]),
)


def _spoil(x: np.ndarray, how: str, where: int):
    """A bad version of the array ``x``."""
    if how in ("nan", "inf"):
        y = np.array(x, dtype=np.float64)
        y.flat[where % y.size] = np.nan if how == "nan" else -np.inf
        return y
    return {"complex": x.astype(np.complex128), "bool": x > 0, "str": x.astype(str),
            "scalar": np.float64(0.5), "empty": x[:0]}[how]


bad_array_kinds = st.sampled_from(["nan", "inf", "complex", "bool", "str", "scalar", "empty"])
as_torch = st.booleans()


def _maybe_torch(a, use_torch: bool):
    if use_torch and isinstance(a, np.ndarray) and a.dtype.kind in "fcb":
        return torch.from_numpy(np.ascontiguousarray(a))
    return a


# ----------------------------------------------------------------------------- the layer itself
@given(value=bad_count_values)
def test_count_refuses_non_integral_strings_bools_and_non_numbers(value):
    raises_naming("runs", _checks.count, value, "runs")


@given(value=st.integers(1, 10**6), kind=st.sampled_from(["int", "np", "torch", "float"]))
def test_count_accepts_integers_of_every_kind(value, kind):
    v = {"int": value, "np": np.int64(value), "torch": torch.tensor(value), "float": float(value)}[kind]
    out = _checks.count(v, "runs")
    assert out == value and type(out) is int


@given(value=st.integers(min_value=-10**12, max_value=0))
def test_count_refuses_values_below_the_minimum(value):
    err = raises_naming("steps", _checks.count, value, "steps")
    assert "positive integer" in str(err)


@given(value=bad_rate_values)
def test_rate_refuses_nan_inf_nonpositive_and_non_numbers(value):
    raises_naming("lr_g", _checks.rate, value, "lr_g")


@given(value=st.floats(min_value=1e-300, max_value=1e300))
def test_rate_accepts_finite_positive(value):
    assert _checks.rate(value, "lr") == value
    assert _checks.rate(np.float32(1.5), "lr") == 1.5 and _checks.rate(torch.tensor(2.0), "lr") == 2.0


@given(value=st.one_of(st.floats(max_value=-1e-12, allow_nan=False),
                       st.sampled_from([float("nan"), float("inf"), "1", None])))
def test_nonnegative_refuses_negative_and_non_finite(value):
    raises_naming("alpha", _checks.nonnegative, value, "alpha")


def test_nonnegative_and_fraction_bounds():
    assert _checks.nonnegative(0, "alpha") == 0.0
    assert _checks.fraction(0.0, "average", 0, 1, hi_open=True) == 0.0
    raises_naming("average", _checks.fraction, 1.0, "average", 0, 1, hi_open=True)
    raises_naming("average", _checks.fraction, -0.1, "average")
    raises_naming("average", _checks.fraction, float("nan"), "average")


@given(value=bad_seed_values)
def test_seed_refuses_negative_huge_fractional_and_strings(value):
    raises_naming("seed", _checks.seed, value)


def test_seed_none_means_fresh_entropy_and_leaves_global_generators_alone():
    state_t, state_np = torch.get_rng_state(), np.random.get_state()[1].copy()
    assert _checks.seed(None) is None and _checks.seed(np.int64(3)) == 3
    a, b = _checks.resolve_seed(None), _checks.resolve_seed(None)
    assert isinstance(a, int) and 0 <= a < 2**63 and a != b
    d = paper.n11()
    assert not torch.equal(d.sample(50), d.sample(50))          # None: fresh every call
    assert torch.equal(d.sample(50, seed=4), d.sample(50, seed=4))
    assert torch.equal(torch.get_rng_state(), state_t)
    assert np.array_equal(np.random.get_state()[1], state_np)


@given(widths=st.one_of(
    st.lists(st.integers(max_value=0), min_size=1, max_size=3).map(tuple),
    st.sampled_from([25, "25", (25, 2.5), (25, True), None, (25, "8")])))
def test_hidden_refuses_zero_negative_and_non_integer_widths(widths):
    raises_naming("hidden", _checks.hidden, widths)


def test_hidden_accepts_lists_numpy_widths_and_the_empty_linear_model():
    assert _checks.hidden([25, np.int64(8)]) == (25, 8)
    assert _checks.hidden(()) == ()


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU is present")
def test_device_cuda_on_a_cpu_only_torch_is_a_clear_value_error():
    err = raises_naming("device", _checks.device, "cuda")
    assert isinstance(err, ValueError) and "device='cpu'" in str(err)
    raises_naming("device", _checks.device, torch.device("cuda:0"))


def test_device_cpu_none_and_nonsense():
    assert _checks.device(None) == torch.device("cpu") == _checks.device("cpu")
    raises_naming("device", _checks.device, "quantum")
    raises_naming("device", _checks.device, 3)


@given(how=bad_array_kinds, where=st.integers(0, 50), use_torch=as_torch)
def test_as_points_refuses_bad_arrays_numpy_and_torch(how, where, use_torch):
    x = np.random.default_rng(where).normal(size=(10, 2))
    bad = _maybe_torch(_spoil(x, how, where), use_torch)
    raises_naming("data", _checks.as_points, bad, 2)


@given(how=st.sampled_from(["nan", "inf", "complex", "bool", "str", "empty"]), where=st.integers(0, 9),
       use_torch=as_torch)
def test_as_params_refuses_bad_arrays_numpy_and_torch(how, where, use_torch):
    p = np.random.default_rng(where).normal(size=(5, 2))
    bad = _maybe_torch(_spoil(p, how, where), use_torch)
    raises_naming("init", _checks.as_params, bad, 2, name="init")


def test_as_points_converts_every_real_dtype_to_the_same_values():
    ref = _checks.as_points(np.array([[1.0, 2.0], [3.0, 4.0]]), 2, dtype=torch.float64)
    variants = [
        [[1, 2], [3, 4]],
        np.array([[1, 2], [3, 4]], dtype=np.int32),
        torch.tensor([[1, 2], [3, 4]]),
        torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float16),
        torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.bfloat16),
        torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True),
        np.array([[3.0, 4.0], [1.0, 2.0]])[::-1],                    # negative strides
        np.asfortranarray([[1.0, 2.0], [3.0, 4.0]]),
    ]
    for v in variants:
        out = _checks.as_points(v, 2, dtype=torch.float64)
        assert out.dtype == torch.float64 and not out.requires_grad
        torch.testing.assert_close(out, ref, rtol=0, atol=0)


def test_read_only_arrays_give_no_torch_warning():
    x = np.random.default_rng(0).normal(size=(50, 2))
    x.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = _checks.as_points(x, 2, dtype=torch.float64)
        p = _checks.as_params(x[:3], 2, dtype=torch.float64)
    assert np.array_equal(t.numpy(), x) and np.array_equal(p.numpy(), x[:3])


def test_zero_d_and_empty_inputs_are_value_errors():
    raises_naming("data", _checks.as_points, 0.5)
    raises_naming("data", _checks.as_points, torch.tensor(0.5))
    raises_naming("data", _checks.as_points, np.zeros((0, 2)))
    raises_naming("params", _checks.as_params, np.zeros((0, 2)), 2)
    raises_naming("data", _checks.as_points, "points")
    raises_naming("data", _checks.as_points, None)
    raises_naming("data", _checks.as_points, {"x": [1.0]})


def test_float32_overflow_is_reported_as_an_extreme_scale():
    x = np.random.default_rng(0).normal(size=(20, 2)) * 1e39
    err = raises_naming("data", _checks.as_points, x, 2)
    assert "scale is extreme" in str(err) and "zero spread" not in str(err)


@pytest.mark.parametrize("factor", [1e-25, 1e-12, 1.0, 1e12, 1e18, 1e25])
def test_data_scale_is_computed_in_float64_at_any_reasonable_scale(factor):
    x = np.random.default_rng(1).normal(size=(20_000, 3)).astype(np.float32)
    c1, s1 = _checks.data_scale(x)
    cf, sf = _checks.data_scale(torch.from_numpy(x) * factor)     # float32 data, scaled
    assert sf == pytest.approx(s1 * factor, rel=1e-5)
    torch.testing.assert_close(cf, c1 * factor, rtol=1e-4, atol=1e-4 * factor)
    assert cf.dtype == torch.float64


def test_data_scale_messages_name_the_real_cause():
    x = np.random.default_rng(1).normal(size=(100, 2))
    assert "zero spread" in str(raises_naming("data", _checks.data_scale, np.ones((10, 2))))
    assert "extreme" in str(raises_naming("data", _checks.data_scale, x * 1e-33))
    assert "extreme" in str(raises_naming("data", _checks.data_scale, x * 1e33))
    assert "subtract the mean" in str(raises_naming("data", _checks.data_scale, 1e9 + x * 1e-3))


def test_path_text_density_space_checks():
    raises_naming("path", _checks.path, None)
    raises_naming("path", _checks.path, 3)
    raises_naming("path", _checks.path, "")
    raises_naming("key", _checks.text, None, "key")
    raises_naming("key", _checks.text, "/", "key")
    raises_naming("density", _checks.density, np.zeros((3, 1)))
    raises_naming("space", _checks.space, "SO(2)")
    err = raises_naming("space", _checks.space, paper.n11())
    assert isinstance(err, TypeError) and isinstance(err, ValueError)


# ----------------------------------------------------------------------------- densities, presets
@given(how=bad_array_kinds, where=st.integers(0, 5), use_torch=as_torch)
def test_gaussian_refuses_bad_means(how, where, use_torch):
    mean = _maybe_torch(_spoil(np.array([0.5, -1.0, 2.0]), how, where), use_torch)
    if how == "scalar":  # a scalar mean is a 1D Gaussian: legitimate
        assert sl.Gaussian(mean).dim == 1
        return
    raises_naming("mean", sl.Gaussian, mean, 1.0)


@given(how=st.sampled_from(["nan", "inf", "complex", "bool", "str"]), where=st.integers(0, 3))
def test_gaussian_refuses_bad_covariances(how, where):
    cov = _spoil(np.array([[2.0, 0.3], [0.3, 1.0]]), how, where)
    raises_naming("cov", sl.Gaussian, [0.0, 0.0], cov)


@given(how=st.sampled_from(["nan", "inf", "complex", "str"]), where=st.integers(0, 2))
def test_mixture_refuses_bad_weights(how, where):
    w = _spoil(np.array([1.0, 2.0, 3.0]), how, where)
    raises_naming("weights", sl.GaussianMixture, [[0.0], [1.0], [2.0]], 1.0, w)


@given(n=st.one_of(non_integral, st.integers(max_value=-1), st.sampled_from(["5", None, True, [5]])))
def test_sample_refuses_bad_sizes(n):
    raises_naming("n", paper.n11().sample, n)


@given(seed=bad_seed_values)
def test_sample_refuses_bad_seeds(seed):
    raises_naming("seed", paper.n11().sample, 5, seed)


def test_sample_shaped_checks_shape_and_dtype():
    d = paper.n11()
    assert d.sample_shaped((2, 3), seed=0).shape == (2, 3, 2)
    assert d.sample_shaped(4, seed=0).shape == (4, 2)
    assert d.sample(0).shape == (0, 2)
    raises_naming("shape", d.sample_shaped, (2, -1))
    raises_naming("shape", d.sample_shaped, (2, 2.5))
    raises_naming("dtype", d.sample_shaped, (2,), 0, torch.int64)


@given(how=st.sampled_from(["nan", "complex", "bool", "str", "scalar"]), use_torch=as_torch)
def test_log_prob_refuses_bad_points(how, use_torch):
    x = _maybe_torch(_spoil(np.array([[0.1, 0.2], [0.3, -1.0]]), how, 1), use_torch)
    raises_naming("x", paper.n11().log_prob, x)


@pytest.mark.parametrize("preset, kw, name", [
    (paper.octagon, {"sigma": -0.1}, "sigma"), (paper.octagon, {"sigma": 0.0}, "sigma"),
    (paper.octagon, {"radius": float("nan")}, "radius"), (paper.square, {"sigma": float("inf")}, "sigma"),
    (paper.square, {"centered": "yes"}, "centered"), (paper.bimodal, {"sigma": -0.4}, "sigma"),
    (paper.bimodal, {"separation": "1"}, "separation"), (paper.gaussian_1d, {"variance": 0.0}, "variance"),
    (paper.gaussian_1d, {"mean": float("nan")}, "mean"),
])
def test_paper_presets_refuse_bad_settings(preset, kw, name):
    raises_naming(name, preset, **kw)


def test_density_legitimate_unusual_inputs_give_the_plain_answer():
    ref = sl.Gaussian([0.5, -1.0], [[2.0, 0.3], [0.3, 1.0]])
    for mean in ([0.5, -1.0], torch.tensor([0.5, -1.0], requires_grad=True),
                 np.array([-1.0, 0.5])[::-1], np.array([0.5, -1.0], dtype=np.float32)):
        g = sl.Gaussian(mean, torch.tensor([[2.0, 0.3], [0.3, 1.0]], dtype=torch.float64,
                                           requires_grad=True))
        torch.testing.assert_close(g.mean, ref.mean, rtol=0, atol=0)
        torch.testing.assert_close(g.cov, ref.cov, rtol=0, atol=0)
    x = np.random.default_rng(0).normal(size=(30, 2))
    want = ref.log_prob(x)
    ro = x.copy()
    ro.flags.writeable = False
    for v in (x.tolist(), ro, np.asfortranarray(x), torch.from_numpy(x).requires_grad_(True)):
        torch.testing.assert_close(ref.log_prob(v).detach(), want, rtol=0, atol=0)
    # integer and float16 points: float64 arithmetic
    assert ref.log_prob(torch.tensor([[1, 2]])).dtype == torch.float64
    h = torch.tensor([[0.5, 0.25]], dtype=torch.float16)
    torch.testing.assert_close(ref.log_prob(h), ref.log_prob(h.double()))
    # gradients flow through float tensors
    xt = torch.zeros(1, 2, dtype=torch.float64, requires_grad=True)
    ref.log_prob(xt).sum().backward()
    assert xt.grad is not None and torch.isfinite(xt.grad).all()


# ----------------------------------------------------------------------------- spaces
ALL_SPACES = [spaces.Affine(1), spaces.Affine(2), spaces.Slope1D(), spaces.RotationScale2D(),
              spaces.O2(), spaces.Iwasawa2D(), spaces.SO2xSO2(), spaces.SO(3)]


@given(space=st.sampled_from(ALL_SPACES), how=st.sampled_from(["nan", "inf", "complex", "bool", "str", "empty"]),
       where=st.integers(0, 20), use_torch=as_torch)
def test_every_space_refuses_bad_parameters_numpy_and_torch(space, how, where, use_torch):
    p = np.random.default_rng(where).uniform(0.5, 1.5, size=(3, space.n_params))
    bad = _maybe_torch(_spoil(p, how, where), use_torch)
    raises_naming("params", space.matrix, bad)
    raises_naming("params", space.shift, bad)


@given(space=st.sampled_from(ALL_SPACES), kind=st.sampled_from(["int64", "int32", "float16", "float32", "list"]))
def test_integer_and_low_precision_parameters_give_the_float64_matrices(space, kind):
    p = np.array([[1, 2, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1][: space.n_params]])
    if isinstance(space, spaces.Affine) and space.dim == 2:
        p = np.array([[2, 1, 1, 1, 0, 1]])
    ref = space.matrix(p.astype(np.float64))
    v = {"int64": torch.from_numpy(p), "int32": torch.from_numpy(p.astype(np.int32)),
         "float16": torch.from_numpy(p.astype(np.float16)), "float32": torch.from_numpy(p.astype(np.float32)),
         "list": p.tolist()}[kind]
    M = space.matrix(v)
    assert M.dtype.is_floating_point and bool(torch.isfinite(M).all())
    torch.testing.assert_close(M.double(), ref, rtol=1e-6, atol=1e-6)
    assert bool((M.abs().sum((-1, -2)) > 0).all())  # integer tensors no longer give zero matrices


@given(space=st.sampled_from([s for s in ALL_SPACES if s.dim > 1]), k=st.integers(1, 4))
def test_apply_to_one_point_of_a_multidimensional_space(space, k):
    p = space.sample_init(k, seed=0)
    pt = [0.5 * (i + 1) for i in range(space.dim)]
    y = space.apply(p, pt)
    assert y.shape == (k, 1, space.dim)
    torch.testing.assert_close(y, space.apply(p, torch.tensor([pt], dtype=torch.float64)))


def test_apply_checks_points_and_keeps_gradients():
    sp = spaces.RotationScale2D()
    p = torch.tensor([[1.0, 0.5]], dtype=torch.float64)
    raises_naming("x", sp.apply, p, [[np.nan, 1.0]])
    raises_naming("x", sp.apply, p, torch.tensor([[np.inf, 1.0]]))
    raises_naming("x", sp.apply, p, np.zeros((3, 3)))
    raises_naming("x", sp.apply, p, 1.0)
    raises_naming("x", sp.apply, p, np.zeros((2, 4, 2)))        # K = 2 point sets for 1 row
    theta = p.clone().requires_grad_(True)
    sp.apply(theta, torch.ones(3, 2)).sum().backward()
    assert theta.grad is not None
    assert spaces.Affine(1).apply([[0.0, 2.0]], [1.0, 2.0, 3.0]).shape == (1, 3, 1)


@pytest.mark.parametrize("matrix, name", [
    (np.eye(3), "matrix"), (np.zeros((0, 2, 2)), "matrix"), (np.ones(2), "matrix"),
    (np.full((2, 2), np.nan), "matrix"), ("eye", "matrix"), (np.zeros((2, 2)), "singular"),
])
def test_iwasawa_params_from_matrix_bad_inputs(matrix, name):
    raises_naming(name, spaces.Iwasawa2D.params_from_matrix, matrix)


def test_iwasawa_params_from_matrix_shift_checks_and_round_trip():
    raises_naming("shift", spaces.Iwasawa2D.params_from_matrix, np.eye(2), np.zeros(3))
    M = torch.tensor([[[1.0, 2.0], [0.0, 1.0]], [[0.0, -1.0], [2.0, 0.0]]], requires_grad=True)
    p = spaces.Iwasawa2D.params_from_matrix(M, [1.0, 2.0])
    iw = spaces.Iwasawa2D()
    torch.testing.assert_close(iw.matrix(p), M.detach().double())
    torch.testing.assert_close(iw.shift(p), torch.tensor([[1.0, 2.0]] * 2, dtype=torch.float64))


@pytest.mark.parametrize("make, name", [
    (lambda: spaces.Affine(2.5), "n"), (lambda: spaces.Affine("2"), "n"), (lambda: spaces.Affine(0), "n"),
    (lambda: spaces.SO(1), "n"), (lambda: spaces.SO(True), "n"), (lambda: spaces.Slope1D(b="1"), "b"),
    (lambda: spaces.Slope1D(b=float("nan")), "b"), (lambda: spaces.O2(kind="rot"), "kind"),
    (lambda: spaces.SO2xSO2(ranges={"theta1": (1.0, float("nan"))}), "ranges"),
    (lambda: spaces.SO2xSO2(ranges={"theta1": (2.0, 1.0)}), "ranges"),
    (lambda: spaces.SO2xSO2(ranges={"theta1": 1.0}), "ranges"),
])
def test_space_constructors_refuse_bad_arguments(make, name):
    raises_naming(name, make)


# ----------------------------------------------------------------------------- discriminator
@given(widths=st.lists(st.integers(-5, 0), min_size=1, max_size=2).map(tuple))
def test_discriminator_refuses_zero_and_negative_widths(widths):
    raises_naming("hidden", EnsembleMLP, 2, 1, widths)


def test_discriminator_refuses_bad_sizes_and_seeds():
    raises_naming("K", EnsembleMLP, 0, 2)
    raises_naming("K", EnsembleMLP, 2.5, 2)
    raises_naming("n_in", EnsembleMLP, 2, 0)
    raises_naming("seed", EnsembleMLP, 2, 2, (4,), -1)
    a, b = EnsembleMLP(2, 2, [4, 3], seed=np.int64(5)), EnsembleMLP(2, 2, (4, 3), seed=5)
    assert torch.equal(a.flat, b.flat)


# ----------------------------------------------------------------------------- landscape
@given(nodes=bad_count_values.filter(lambda v: v is not None))   # None: the default order
def test_landscape_refuses_bad_nodes(nodes):
    raises_naming("nodes", landscape.loss, paper.gaussian_1d(), spaces.Affine(1), [[0.0, 1.0]], nodes=nodes)


@given(value=bad_count_values)
def test_landscape_refuses_bad_mc_samples(value):
    raises_naming("mc_samples", landscape.loss, paper.gaussian_1d(), spaces.Affine(1), [[0.0, 1.0]],
                  mc_samples=value)


@given(seed=bad_seed_values)
def test_landscape_refuses_bad_seeds(seed):
    raises_naming("seed", landscape.loss, paper.gaussian_1d(), spaces.Affine(1), [[0.0, 1.0]], seed=seed)


@given(how=st.sampled_from(["nan", "inf", "complex", "bool", "str", "empty"]), where=st.integers(0, 5),
       use_torch=as_torch)
def test_landscape_refuses_bad_parameters(how, where, use_torch):
    p = _maybe_torch(_spoil(np.array([[0.0, 1.0], [1.0, -1.0], [0.3, 2.0]]), how, where), use_torch)
    raises_naming("params", landscape.loss, paper.gaussian_1d(), spaces.Affine(1), p)


def test_landscape_wrong_objects_and_settings():
    g1, aff = paper.gaussian_1d(), spaces.Affine(1)
    raises_naming("density", landscape.loss, np.zeros((10, 1)), aff, [[0.0, 1.0]])
    raises_naming("space", landscape.loss, g1, "Affine(1)", [[0.0, 1.0]])
    raises_naming("objective", landscape.generator_gradient, g1, aff, [[0.0, 1.0]], objective=None)
    raises_naming("axes", landscape.grid, g1, aff, [("b", [0.0])])
    raises_naming("fixed", landscape.grid, g1, aff, {"b": [0.0, 1.0]}, {"c": "one"})
    raises_naming("x", landscape.optimal_discriminator, g1, aff, [[0.0, 1.0]], [[np.nan]])
    raises_naming("nodes", landscape.loss, paper.n11(), spaces.SO(2), [[0.0]], nodes=10_000)


def test_quadrature_node_limit_regression():
    """nodes=400 returned 0.0: numpy's Gauss-Hermite weights overflow to NaN beyond ~370."""
    g1, aff = paper.gaussian_1d(), spaces.Affine(1)
    for nodes in (370, 400, 1000):
        assert landscape.loss(g1, aff, [[0.0, 1.0]], nodes=nodes)[0] == pytest.approx(MAX_LOSS, abs=1e-12)
        pts, w = g1.quadrature(nodes)
        assert bool(torch.isfinite(pts).all() and torch.isfinite(w).all()) and w.sum() == pytest.approx(1.0)
    off = [[0.3, 1.5]]
    assert landscape.loss(g1, aff, off, nodes=1000)[0] == pytest.approx(landscape.loss(g1, aff, off)[0], abs=1e-9)
    # the rule below the limit is numpy's, unchanged
    t, w = np.polynomial.hermite_e.hermegauss(120)
    pts, wts = g1.quadrature(120)
    np.testing.assert_array_equal(pts[:, 0].numpy(), 0.5 + t)
    np.testing.assert_array_equal(wts.numpy(), w / w.sum())


def test_landscape_legitimate_unusual_parameters_give_the_plain_answer():
    g1, aff = paper.gaussian_1d(), spaces.Affine(1)
    p = np.array([[0.0, 1.0], [0.4, 1.3], [1.0, -1.0]])
    want = landscape.loss(g1, aff, p)
    ro = p.copy()
    ro.flags.writeable = False
    for v in (p.tolist(), ro, np.asfortranarray(p), p[::-1].copy()[::-1], torch.from_numpy(p).requires_grad_(True),
              torch.from_numpy(p).float()):
        got = landscape.loss(g1, aff, v)
        np.testing.assert_allclose(got, want, rtol=1e-6 if isinstance(v, torch.Tensor) and v.dtype == torch.float32
                                   else 0, atol=1e-7)
    assert landscape.loss(g1, aff, torch.tensor([[0, 1]]))[0] == pytest.approx(MAX_LOSS)   # integers
    assert landscape.loss(g1, aff, [[0.0, 1.0]], seed=None)[0] == pytest.approx(MAX_LOSS)  # None = fresh


# ----------------------------------------------------------------------------- verify
@pytest.fixture(scope="module")
def n11_points():
    return paper.n11().sample(2000, seed=0).numpy()


@pytest.mark.parametrize("kw, name", [
    ({"n": 39}, "n"), ({"n": 400.5}, "n"), ({"n": "400"}, "n"), ({"epochs": 0}, "epochs"),
    ({"epochs": 1.5}, "epochs"), ({"batch_size": -1}, "batch_size"), ({"lr": float("nan")}, "lr"),
    ({"lr": 0.0}, "lr"), ({"lr": float("inf")}, "lr"), ({"hidden": (0,)}, "hidden"),
    ({"hidden": (-5,)}, "hidden"), ({"hidden": 32}, "hidden"), ({"seed": -1}, "seed"), ({"seed": "0"}, "seed"),
])
def test_posthoc_refuses_bad_settings(n11_points, kw, name):
    raises_naming(name, verify.posthoc, n11_points, np.eye(2), **kw)


@given(how=bad_array_kinds, where=st.integers(0, 3), use_torch=as_torch)
def test_posthoc_refuses_bad_matrices(n11_points, how, where, use_torch):
    M = _maybe_torch(_spoil(np.array([[0.0, 1.0], [-1.0, 0.0]]), how, where), use_torch)
    raises_naming("matrix", verify.posthoc, n11_points, M)


def test_posthoc_refuses_wrong_objects(n11_points):
    raises_naming("data", verify.posthoc, "n11", np.eye(2))
    raises_naming("data", verify.posthoc, None, np.eye(2))
    raises_naming("shift", verify.posthoc, n11_points, np.eye(2), shift="0")


def test_posthoc_at_extreme_data_scales_regression(n11_points):
    """posthoc(x * 1e-30, 2 I) passed: the spread was clamped at 1e-12 before standardising."""
    x = paper.n11().sample(4000, seed=1).numpy().astype(np.float64)
    kw = dict(n=4000, epochs=6, seed=0)
    base = verify.posthoc(x, 2 * np.eye(2), **kw)
    assert base.auc[0] > 0.7
    for factor in (1e-30, 1e-15, 1e15, 1e30):
        r = verify.posthoc(x * factor, 2 * np.eye(2), **kw)
        assert r.auc[0] == pytest.approx(base.auc[0], abs=0.01) and not r.passed()[0]
    raises_naming("data", verify.posthoc, np.ones((100, 2)), np.eye(2))


def test_posthoc_legitimate_unusual_data_give_the_plain_answer(n11_points):
    kw = dict(n=400, epochs=1, seed=3)
    want = verify.posthoc(n11_points, np.eye(2), **kw).auc
    ro = n11_points.copy()
    ro.flags.writeable = False
    for v in (ro, np.asfortranarray(n11_points), torch.from_numpy(n11_points).requires_grad_(True)):
        np.testing.assert_array_equal(verify.posthoc(v, torch.eye(2, requires_grad=True), **kw).auc, want)
    assert verify.posthoc(n11_points, np.eye(2), n=400, epochs=1, seed=None).auc.shape == (1,)


@given(bins=bad_count_values)
def test_azimuthal_kl_refuses_bad_bins(bins):
    x = np.ones((10, 2))
    raises_naming("bins", verify.azimuthal_kl, x, x, bins)


@pytest.mark.parametrize("kw, name", [
    ({"n_x": 0}, "n_x"), ({"n_y": 2.5}, "n_y"), ({"trials": "3"}, "trials"), ({"bins": True}, "bins"),
    ({"seed": -3}, "seed"),
])
def test_azimuthal_kl_floor_refuses_bad_settings(kw, name):
    args = {"n_x": 10, "n_y": 10, **kw}
    raises_naming(name, verify.azimuthal_kl_floor, **args)


def test_roc_auc_refuses_strings_and_accepts_tensors():
    raises_naming("scores_pos", verify.roc_auc, ["a", "b"], [0.1])
    a = verify.roc_auc(torch.tensor([0.3, 0.9], requires_grad=True), np.array([0.1, 0.5]))
    assert a == verify.roc_auc([0.3, 0.9], [0.1, 0.5])


# ----------------------------------------------------------------------------- infer
def _rotations(k=12, seed=0):
    th = np.random.default_rng(seed).uniform(0, 2 * np.pi, k)
    c, s = np.cos(th), np.sin(th)
    rot = np.stack([np.stack([c, s], -1), np.stack([-s, c], -1)], -2)
    refl = rot @ np.diag([1.0, -1.0])
    return np.concatenate([rot, refl])


def test_compose_of_nothing_is_a_value_error():
    raises_naming("matrices", infer.compose, np.zeros((0, 2, 2)))
    M, V = infer.compose(np.eye(2)[None])
    np.testing.assert_array_equal(M, np.eye(2))


def test_components_max_cloud_regression():
    """max_cloud=0 found 12 components where there are 2; now too small a cloud is refused."""
    els = _rotations(40)
    assert len(infer.components(els)) == 2
    raises_naming("max_cloud", infer.components, els, max_cloud=0)
    raises_naming("max_cloud", infer.components, els, max_cloud=10)
    raises_naming("max_cloud", infer.components, els, max_cloud=2.5)


def test_lie_algebra_min_spread_regression():
    """min_spread=-1 reported dimension 4 for the 1D algebra of SO(2)."""
    els = _rotations(60)
    assert infer.lie_algebra(els).dimension == 1
    for bad in (-1, 0, float("nan"), "0.1"):
        raises_naming("min_spread", infer.lie_algebra, els, min_spread=bad)


@pytest.mark.parametrize("call, name", [
    (lambda e: infer.components(e, tol=0), "tol"), (lambda e: infer.components(e, tol="0.5"), "tol"),
    (lambda e: infer.components(e, shift_scale=-1), "shift_scale"),
    (lambda e: infer.components(e, densify="yes"), "densify"),
    (lambda e: infer.components(e, seed=-1), "seed"),
    (lambda e: infer.lie_algebra(e, tol=float("nan")), "tol"),
    (lambda e: infer.lie_algebra(e, shift_scale=0), "shift_scale"),
    (lambda e: infer.power(e, 2.5), "k"), (lambda e: infer.power(e, "2"), "k"),
    (lambda e: infer.power(e, []), "k"),
    (lambda e: infer.composition_error(e, 0), "steps"), (lambda e: infer.composition_error(e, 2.5), "steps"),
    (lambda e: infer.nearest_power(e[0], e[1], max_power=0), "max_power"),
    (lambda e: infer.nearest_power(e[0], e[1], max_power=1.5), "max_power"),
    (lambda e: infer.composition_error(e, 3).steps_within(float("nan")), "tol"),
    (lambda e: infer.inverse(np.zeros((2, 2))), "singular"),
    (lambda e: infer.power(np.zeros((2, 2)), -1), "singular"),
    (lambda e: infer.components("rotations"), "matrices"),
    (lambda e: infer.cosine(np.eye(2), np.eye(3)), "a and b"),
    (lambda e: infer.logm(np.full((2, 2), np.nan)), "NaN"),
])
def test_infer_refuses_bad_settings(call, name):
    raises_naming(name, call, _rotations(6))


@given(how=st.sampled_from(["nan", "inf", "complex", "bool", "str", "empty"]), where=st.integers(0, 40),
       use_torch=as_torch, fn=st.sampled_from([infer.components, infer.lie_algebra, infer.relative,
                                                infer.products]))
def test_infer_refuses_bad_element_arrays(how, where, use_torch, fn):
    bad = _maybe_torch(_spoil(_rotations(3), how, where), use_torch)
    with pytest.raises(ERRORS):
        fn(bad)


def test_infer_legitimate_unusual_inputs_give_the_plain_answer():
    els = _rotations(20)
    want = infer.components(els)
    la = infer.lie_algebra(els)
    ro = els.copy()
    ro.flags.writeable = False
    for v in (ro, els.tolist(), torch.from_numpy(els).requires_grad_(True), els[::-1].copy()[::-1]):
        got = infer.components(v)
        np.testing.assert_array_equal(got.labels, want.labels)
        np.testing.assert_array_equal(infer.lie_algebra(v).basis, la.basis)
    M, V = infer.compose(torch.from_numpy(els[:3]).float())
    np.testing.assert_allclose(M, infer.compose(els[:3].astype(np.float32).astype(np.float64))[0], rtol=0, atol=0)


# ----------------------------------------------------------------------------- data
def test_load_dijets_and_readers_refuse_bad_arguments(tmp_path):
    raises_naming("key", sd.load_dijets, None, key=None)
    raises_naming("key", sd.read_lhco_features, sd.sample_path(), key=None)
    raises_naming("path", sd.load_dijets, 42)
    raises_naming("background_only", sd.load_dijets, None, background_only="no")
    raises_naming("columns", sd.read_lhco_features, sd.sample_path(), columns="pxj1")
    raises_naming("columns", sd.read_lhco_features, sd.sample_path(), columns=[1, 2])
    raises_naming("x", sd.dijet_summary, [["a", "b", "c", "d"]])


def test_lhco_block_listing_more_items_than_columns(tmp_path):
    path = sd.write_lhco_features(tmp_path / "f.h5", {"a": np.arange(5.0), "b": np.ones(5)})
    with h5py.File(path, "a") as f:
        for name in ("axis0", "block0_items"):
            del f["df"][name]
            f["df"].create_dataset(name, data=np.array([b"a", b"b", b"c"]))
    err = raises_naming("block 0", sd.read_lhco_features, path)
    assert isinstance(err, ValueError) and "3 column name(s)" in str(err)


def test_write_lhco_features_refuses_values_beyond_float32(tmp_path):
    err = raises_naming("columns['a']", sd.write_lhco_features, tmp_path / "f.h5", {"a": np.array([1.0, 1e39])})
    assert "inf" in str(err)
    raises_naming("columns", sd.write_lhco_features, tmp_path / "f.h5", [("a", np.ones(3))])
    raises_naming("columns['a']", sd.write_lhco_features, tmp_path / "f.h5", {"a": np.array(["x", "y"])})
    raises_naming("key", sd.write_lhco_features, tmp_path / "f.h5", {"a": np.ones(3)}, key=None)
    raises_naming("compression", sd.write_lhco_features, tmp_path / "f.h5", {"a": np.ones(3)}, compression="zip")
    # legitimate: inf, NaN and bool columns are stored as they are (0/1 for bools)
    p = sd.write_lhco_features(tmp_path / "g.h5", {"a": np.array([np.inf, np.nan, 1.0]),
                                                   "label": np.array([True, False, True])})
    back = sd.read_lhco_features(p)
    assert np.isinf(back["a"][0]) and np.isnan(back["a"][1]) and back["label"].tolist() == [1.0, 0.0, 1.0]


def test_generator_config_and_arguments_are_checked_before_pythia():
    from symlab.data import generate as gen

    raises_naming("chunk", gen.GeneratorConfig, chunk=0)
    raises_naming("pt_resolution", gen.GeneratorConfig, pt_resolution=-0.1)
    raises_naming("ecm", gen.GeneratorConfig, ecm=float("nan"))
    raises_naming("events", gen.generate, 0, 1)
    raises_naming("events", gen.generate, 2.5, 1)
    raises_naming("seed", gen.generate, 10, None)
    raises_naming("config", gen.generate, 10, 1, config={"chunk": 5})
    raises_naming("pthat_floor", gen.pthat_check, 10, 1, pthat_floor=-1)


def test_huge_sizes_are_refused_up_front_not_inside_torch():
    raises_naming("n", paper.n11().sample, 2**40)
    raises_naming("shape", paper.n11().sample_shaped, (2**20, 2**20))
    raises_naming("nodes", paper.gaussian_1d().quadrature, 5000)
    raises_naming("mc_samples", landscape.loss, sl.Gaussian([0, 0, 0]), spaces.SO(3), [[0.0, 0, 0]],
                  mc_samples=10**9)
    raises_naming("k", infer.power, np.eye(2), 10**9)
    raises_naming("max_power", infer.nearest_power, np.eye(2), np.eye(2), max_power=10**9)
    raises_naming("bins", verify.azimuthal_kl, np.ones((4, 2)), np.ones((4, 2)), 10**9)
    raises_naming("K", EnsembleMLP, 10**9, 2)
    raises_naming("runs", _checks.count, 1e308, "runs")


def test_valid_calls_keep_their_dtypes():
    so2 = spaces.SO(2)
    assert so2.matrix(torch.tensor([[0.3]])).dtype == torch.float32           # [K, P] float tensor kept
    for p in (torch.tensor([0.3]), np.array([[0.3]], dtype=np.float32), [[0.3]], torch.tensor([[1]])):
        assert so2.matrix(p).dtype == torch.float64
    d = paper.n11()
    assert d.log_prob(np.zeros((2, 2), dtype=np.float32)).dtype == torch.float32
    assert d.log_prob(np.zeros((2, 2))).dtype == torch.float64
    assert d.sample(3, seed=0).dtype == torch.float32


# ----------------------------------------------------------------------------- second sweep
# Regression tests for what a re-run of the review's sweep still found (issue 13, second pass).
ALL_SPACES = [spaces.Affine(1), spaces.Affine(2), spaces.Slope1D(), spaces.RotationScale2D(),
              spaces.O2(), spaces.Iwasawa2D(), spaces.SO2xSO2(), spaces.SO(2), spaces.SO(3)]


@pytest.mark.parametrize("space", ALL_SPACES, ids=repr)
def test_sample_init_checks_its_count_and_seed_in_every_space(space):
    raises_naming("K", space.sample_init, -1)
    raises_naming("K", space.sample_init, 2.5)
    raises_naming("K", space.sample_init, "2")
    raises_naming("seed", space.sample_init, 3, seed=-1)
    raises_naming("seed", space.sample_init, 3, seed=1.5)
    assert space.sample_init(0, seed=0).shape == (0, space.n_params)
    assert torch.equal(space.sample_init(3, seed=np.int64(4)), space.sample_init(3, seed=4))
    assert not torch.equal(space.sample_init(3, seed=None), space.sample_init(3, seed=None))


@pytest.mark.parametrize("space", ALL_SPACES, ids=repr)
def test_nan_parameters_with_requires_grad_are_refused_too(space):
    p = torch.full((1, space.n_params), float("nan"), requires_grad=True)
    for method in (space.matrix, space.shift):
        raises_naming("params", method, p)
    raises_naming("params", space.apply, p, torch.zeros(3, space.dim))
    good = space.sample_init(2, seed=0).requires_grad_(True)
    assert space.matrix(good).requires_grad            # finite ones still carry gradients


def test_so_params_from_matrix_refuses_non_rotations():
    so3 = spaces.SO(3)
    raises_naming("matrix", so3.params_from_matrix, np.diag([1.0, 1.0, -1.0]))   # a reflection
    raises_naming("matrix", so3.params_from_matrix, 2 * np.eye(3))                # not orthogonal
    raises_naming("matrix", so3.params_from_matrix, np.full((3, 3), np.nan))
    raises_naming("matrix", so3.params_from_matrix, np.zeros((0, 3, 3)))
    raises_naming("matrix", so3.params_from_matrix, np.eye(2))
    M = so3.matrix(so3.sample_uniform(4, seed=1).double())
    assert torch.allclose(so3.matrix(so3.params_from_matrix(M)), M, atol=1e-10)
    assert so3.params_from_matrix(M.float()).shape == (4, 3)   # float32 rotations are fine


def test_empty_element_sets_and_mismatched_batches_name_the_argument():
    R = np.stack([np.eye(2)] * 3)
    for fn in (infer.relative, infer.lie_algebra, infer.components):
        raises_naming("matrices", fn, np.zeros((0, 2, 2)))
    raises_naming("others", infer.products, R, others=np.zeros((0, 2, 2)))
    raises_naming("others", infer.products, R, others=np.eye(3)[None])
    raises_naming("other_shifts", infer.products, R, others=R, other_shifts=np.zeros((2, 5)))
    raises_naming("others", infer.commutator_norm, R[:2], R)            # batches 2 and 3
    assert infer.commutator_norm(R, R[0]).shape == (3,)                  # broadcasting still works
    raises_naming("matrix", infer.lie_algebra(R @ _rot(np.linspace(-0.3, 0.3, 3))).contains, np.eye(3))


def _rot(t):
    return np.stack([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]]).transpose(2, 0, 1)


def test_log_prob_of_infinite_points_is_minus_inf():
    for d in (paper.n11(), paper.octagon(), sl.Gaussian([0.0, 0.0], [[2.0, 0.5], [0.5, 1.0]])):
        x = torch.tensor([[np.inf, 0.0], [0.0, -np.inf], [0.3, 0.2]], dtype=torch.float64)
        out = d.log_prob(x)
        assert torch.isneginf(out[:2]).all()
        assert out[2] == d.log_prob(x[2:])[0]                               # finite rows unchanged


def test_a_spread_that_underflows_float64_is_reported_as_extreme_not_as_zero():
    x = paper.n11().sample(200, seed=0).double().numpy() * 1e-200
    err = raises_naming("data", _checks.data_scale, x)
    assert "extreme" in str(err) and "all" not in str(err).split("extreme")[0]
    err = raises_naming("data", _checks.data_scale, np.ones((5, 2)))
    assert "zero spread" in str(err)


def test_landscape_grid_empty_axis_names_axes():
    raises_naming("axes", landscape.grid, paper.n11(), spaces.SO(2), {"theta1": []})


def test_write_lhco_features_to_a_directory_is_an_oserror_naming_path(tmp_path):
    err = raises_naming("path", sd.write_lhco_features, tmp_path, {"a": np.ones(3)})
    assert isinstance(err, OSError)


def test_learn_generator_and_discovery_map_check_every_argument():
    x = paper.n11().sample(200, seed=0).numpy()
    for kw, name in [({"draws": 2.5}, "draws"), ({"norm": "x"}, "norm"), ({"norm": float("nan")}, "norm"),
                     ({"t_max": float("inf")}, "t_max"), ({"ramp": float("nan")}, "ramp"),
                     ({"dim": 2.5}, "dim"), ({"normalise": "x"}, "normalise"), ({"runs": "2"}, "runs"),
                     ({"antisymmetric": 1}, "antisymmetric")]:
        raises_naming(name, infer.learn_generator, x, steps=2, **kw)
    raises_naming("data", infer.learn_generator, object(), steps=2)
    o2 = spaces.O2()
    for kw, name in [({"ansatz": "poly", "degree": 0}, "degree"), ({"ansatz": "poly", "degree": 2.5}, "degree"),
                     ({"runs": 2.5}, "runs"), ({"init": "x"}, "init"), ({"ansatz": "zz"}, "ansatz")]:
        raises_naming(name, infer.learn_discovery_map, x, o2, steps=2, **kw)
    raises_naming("data", infer.learn_discovery_map, paper.gaussian_1d(), o2, steps=2)
    raises_naming("space", infer.learn_discovery_map, x, "O2", steps=2)


def test_twobody_arguments_are_checked_and_the_global_rng_is_left_alone():
    from symlab import twobody

    raises_naming("x", twobody.angular_momentum, 0.5)
    raises_naming("x", twobody.energy, np.zeros((3, 3)))
    orb = twobody.orbits(trials=4, timesteps=6)
    tr, te = orb.split(2)
    raises_naming("augmentations", twobody.augmentation_test, tr, te, [None], steps=2)
    raises_naming("train", twobody.augmentation_test, "x", te, {}, steps=2)
    raises_naming("m", twobody.rotations, -1, torch.Generator())
    raises_naming("scales", twobody.from_algebra, np.zeros((1, 8, 8)), [-1.0])
    raises_naming("sigma", twobody.from_algebra, np.zeros((1, 8, 8)), [1.0], sigma=float("nan"))
    raises_naming("matrices", twobody.from_elements, np.zeros((0, 8, 8)))
    state = torch.random.get_rng_state()
    augs = {"none": None, "true": twobody.rotations}
    a = twobody.augmentation_test(tr, te, augs, steps=3).mse
    assert torch.equal(state, torch.random.get_rng_state())
    assert a == twobody.augmentation_test(tr, te, augs, steps=3).mse


def test_problem_helpers_check_their_arguments():
    from symlab import problems

    raises_naming("q", problems.polygon, 0)
    raises_naming("sigma", problems.polygon, 4, sigma=-1)
    raises_naming("n", problems.cross_polytope, 0)
    raises_naming("n", problems.ring_sample, -1, 0)
    raises_naming("seed", problems.two_rings_sample, 5, -1)
    assert np.array_equal(problems.ring_sample(5, 3), problems.ring_sample(5, 3))


def test_posthoc_result_passed_needs_a_positive_nsigma():
    res = verify.posthoc(paper.n11().sample(400, seed=0).numpy(), np.eye(2), n=400, epochs=1)
    raises_naming("nsigma", res.passed, -1)
    assert res.passed().shape == (1,)


# ---------------------------------------------------------------- flows and push-forwards
def test_flow_fit_and_init_check_counts_and_seeds():
    from symlab import flows
    flow = flows.VolumePreservingFlow(2, layers=3, hidden=4)
    data = sl.paper.n11()
    with pytest.raises(ValueError, match="runs"):
        flows.fit(data, flow, runs="2", steps=2)
    with pytest.raises(ValueError, match="runs"):
        flows.fit(data, flow, runs=2.5, steps=2)
    with pytest.raises(ValueError, match="seed"):
        flow.sample_init(2, seed="x")
    with pytest.raises(ValueError, match="K"):
        flow.sample_init(0)
    with pytest.raises(ValueError, match="record_every"):
        flows.fit(data, flow, runs=2, steps=2, record_every=-1)
    fit = flows.fit(data, flow, runs=2, steps=2, seed=None, progress=False)   # fresh entropy
    assert fit.runs == 2
    with pytest.raises(ValueError, match="x must have shape"):
        flow.apply(flow.sample_init(2, seed=0), np.zeros((5, 3)))


def test_mc_loss_and_pushforward_refuse_bad_maps_and_points():
    from symlab import flows, pushforward
    p = sl.NonlinearPushforward(sl.paper.n11(), pushforward.henon())
    with pytest.raises(TypeError, match="fn"):
        flows.mc_loss(p, "not a map")
    with pytest.raises(ValueError, match="n must"):
        flows.mc_loss(p, p.rotation(0.3), n=1)
    with pytest.raises(ValueError, match="theta"):
        pushforward.rotation_2d(float("nan"))
    with pytest.raises(ValueError, match="matrix"):
        p.h.conjugate(np.full((2, 2), np.nan))
    with pytest.raises(ValueError, match="x must have shape"):
        p.h.forward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="x must have shape"):
        p.log_prob(0.5)
