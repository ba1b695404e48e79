"""The one validation layer of symlab's public API (see the book's "Inputs and errors" page).

Every public entry point passes its arguments through these functions, so the same input
gets the same answer (or the same error) everywhere, for numpy arrays and torch tensors alike.
The policy:

* **Counts** (sizes, steps, runs, nodes, epochs …) are integral: a Python ``int``, a numpy
  or torch integer scalar, or a float with an integral value (``1e4``). ``2.5`` is refused
  rather than truncated; ``"2"`` and ``True`` are refused.
* **Rates and scales** are finite real numbers, ``> 0`` (:func:`rate`), ``≥ 0``
  (:func:`nonnegative`) or inside an interval (:func:`fraction`); NaN and inf are refused.
* **Seeds** are an integer in ``[0, 2⁶³)`` or ``None``. ``None`` means the same thing
  everywhere: fresh entropy from the operating system, i.e. a different result every call
  (the global numpy/torch generators are never used or advanced).
* **Arrays and tensors** (:func:`as_points`, :func:`as_params`, ``as_array``): lists,
  numpy arrays and torch tensors are accepted alike. Tensors are detached (``requires_grad``
  is fine) and stay on their device; read-only and non-contiguous arrays are copied when
  needed. Integer, float16, bfloat16, float32 and float64 values are converted (to float64
  for statistics); complex, boolean, string and object data are refused. NaN/inf, 0-D
  (scalar) and empty inputs are refused with a message.
* **Data statistics** (:func:`data_scale`) are computed in float64 before anything is cast
  to float32; a scale float32 cannot represent is reported as such.
* **Errors**: a bad value raises ``ValueError``; a value of the wrong kind raises
  :class:`ArgumentTypeError`, which is both a ``TypeError`` and a ``ValueError``; an unreadable
  file raises ``OSError``. Every message names the argument, what is wrong and what to do.
"""

from __future__ import annotations

import math
import numbers
import os
from pathlib import Path

import numpy as np
import torch

__all__ = [
    "ArgumentTypeError", "count", "integer", "real", "rate", "positive", "nonnegative",
    "fraction", "memory", "index", "flag", "optional_flag", "choice", "seed", "resolve_seed", "generator",
    "hidden", "device",
    "as_array", "as_points", "as_params", "data_scale", "path", "text", "density", "space",
]

_F32 = torch.finfo(torch.float32)
#: Largest RMS spread / smallest RMS spread symlab trains on in float32 (see data_scale).
EXTREME_SCALE = (1e-30, 1e30)
_SEED_MAX = 2**63
#: The largest count accepted by :func:`count` unless a function sets its own maximum.
MAX_COUNT = 2**31 - 1
#: The most array elements one request may allocate (see :func:`memory`): 8 GiB of float64.
MAX_ELEMENTS = 2**30


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong kind (a string for a count, an array for a density …).

    A ``TypeError`` and a ``ValueError`` at once, so ``except ValueError`` catches every
    input problem symlab reports.
    """


def _kind(value) -> str:
    if isinstance(value, (np.ndarray, torch.Tensor)):
        return f"{type(value).__name__} of shape {tuple(value.shape)} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}"[:120]


def _number(value, name: str):
    """A real scalar as a Python int or float; refuses bools, strings, arrays, complex, None."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1 or value.ndim > 1:
            raise ArgumentTypeError(f"{name} must be a single number; got {_kind(value)}")
        if value.dtype == torch.bool or value.is_complex():
            raise ArgumentTypeError(f"{name} must be a real number; got {_kind(value)}")
        return value.detach().cpu().reshape(()).item()
    if isinstance(value, np.ndarray):
        if value.ndim != 0:
            raise ArgumentTypeError(f"{name} must be a single number; got {_kind(value)}")
        value = value[()]
    if isinstance(value, (bool, np.bool_)):
        raise ArgumentTypeError(f"{name} must be a number, not a bool ({value!r})")
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    raise ArgumentTypeError(f"{name} must be a number; got {_kind(value)}")


# ----------------------------------------------------------------------------- scalars
def integer(value, name: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """An integral number as ``int`` (``2``, ``np.int64(2)``, ``torch.tensor(2)``, ``2.0``, ``1e4``).

    Refuses non-integral floats (``2.5``: no silent truncation), NaN/inf, bools and strings.
    """
    v = _number(value, name)
    if isinstance(v, float):
        if not math.isfinite(v) or not v.is_integer():
            raise ValueError(f"{name} must be an integer; got {value!r}. Pass a whole number "
                             f"(e.g. {name}={int(v) if math.isfinite(v) else 1}).")
        v = int(v)
    if abs(v) >= 2**62:
        raise ValueError(f"{name} = {v:.3g} is too large an integer (|{name}| < 2**62).")
    if minimum is not None and v < minimum:
        what = "a positive integer (>= 1)" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {what}; got {v}.")
    if maximum is not None and v > maximum:
        raise ValueError(f"{name} must be an integer <= {maximum}; got {v}.")
    return v


def count(value, name: str, minimum: int = 1, maximum: int | None = MAX_COUNT) -> int:
    """A count (a number of points, steps, runs …): an integer ``>= minimum`` (default 1) and
    ``<= maximum`` (default ``MAX_COUNT`` = 2³¹ − 1: larger sizes only exhaust memory)."""
    return integer(value, name, minimum=minimum, maximum=maximum)


def memory(elements: int, name: str, limit: int = MAX_ELEMENTS) -> None:
    """Refuse a request for more than ``limit`` array elements (one temporary) up front,
    instead of failing inside torch or numpy with an allocation error."""
    if elements > limit:
        raise ValueError(f"{name} is too large: it needs {elements:.3g} array elements "
                         f"({8 * elements / 2**30:.3g} GiB in float64), more than the limit of "
                         f"{limit:.3g}. Use a smaller {name.split(' ')[0]}.")


def real(value, name: str) -> float:
    """A finite real number as ``float``."""
    v = float(_number(value, name))
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number; got {v}.")
    return v


def rate(value, name: str) -> float:
    """A finite number ``> 0`` (learning rates, widths, tolerances, scales)."""
    v = float(_number(value, name))
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a finite number > 0; got {v}.")
    return v


positive = rate


def nonnegative(value, name: str) -> float:
    """A finite number ``>= 0`` (penalty weights, Adam's ε …)."""
    v = float(_number(value, name))
    if not (math.isfinite(v) and v >= 0):
        raise ValueError(f"{name} must be a finite number >= 0; got {v}.")
    return v


def fraction(value, name: str, lo: float = 0.0, hi: float = 1.0, *, lo_open: bool = False,
             hi_open: bool = False) -> float:
    """A finite number in the interval from ``lo`` to ``hi`` (closed unless ``*_open``)."""
    v = real(value, name)
    below = v <= lo if lo_open else v < lo
    above = v >= hi if hi_open else v > hi
    if below or above:
        interval = f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
        raise ValueError(f"{name} must be in {interval}; got {v}.")
    return v


def index(value, name: str, size: int, what: str = "entries") -> int:
    """An index into ``size`` items: an integer in ``[0, size)`` (negative indices are refused)."""
    v = integer(value, name)
    if not 0 <= v < size:
        raise ValueError(f"{name}={v} is out of range: there are {size} {what}, numbered 0 to "
                         f"{size - 1}.")
    return v


def flag(value, name: str) -> bool:
    """A bool (Python or numpy)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ArgumentTypeError(f"{name} must be True or False; got {_kind(value)}")


def optional_flag(value, name: str) -> bool | None:
    """``None`` (automatic) or a bool."""
    return None if value is None else flag(value, name)


def choice(value, name: str, options) -> str:
    """One of the strings ``options``."""
    options = tuple(options)
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}")
    return value


# ----------------------------------------------------------------------------- seeds, devices
def seed(value, name: str = "seed", *, allow_generator: bool = False):
    """``None`` or an integer in ``[0, 2⁶³)`` (a ``torch.Generator`` too with ``allow_generator``).

    ``None`` means fresh operating-system entropy (see :func:`resolve_seed`).
    """
    if value is None:
        return None
    if allow_generator and isinstance(value, torch.Generator):
        return value
    try:
        v = _number(value, name)
    except ArgumentTypeError:
        raise ArgumentTypeError(f"{name} must be an integer >= 0 or None (fresh randomness); got "
                                f"{_kind(value)}") from None
    if isinstance(v, float) and not (math.isfinite(v) and v.is_integer()):
        raise ValueError(f"{name} must be an integer >= 0 or None; got {value!r}")
    v = int(v)
    if not 0 <= v < _SEED_MAX:
        raise ValueError(f"{name} must be an integer in [0, 2**63) or None; got {v}")
    return v


def resolve_seed(value, name: str = "seed") -> int:
    """:func:`seed`, with ``None`` replaced by a fresh integer from the OS entropy pool."""
    v = seed(value, name)
    if v is None:
        v = int(np.random.SeedSequence().entropy % _SEED_MAX)
    return v


def generator(value, name: str = "seed", device=None) -> torch.Generator:
    """A ``torch.Generator`` seeded with ``value`` (``None``: OS entropy; a Generator: itself)."""
    v = seed(value, name, allow_generator=True)
    if isinstance(v, torch.Generator):
        return v
    g = torch.Generator() if device is None else torch.Generator(device=device)
    if v is None:
        g.seed()
    else:
        g.manual_seed(v)
    return g


def hidden(widths, name: str = "hidden") -> tuple[int, ...]:
    """Hidden-layer widths: a tuple/list of positive integers (``()`` is a linear model)."""
    if isinstance(widths, (str, bytes)) or not isinstance(widths, (tuple, list, np.ndarray, range)):
        raise ArgumentTypeError(f"{name} must be a tuple of layer widths such as (25, 25); got "
                                f"{_kind(widths)}")
    out = tuple(count(w, f"{name}[{i}] (a layer width)") for i, w in enumerate(widths))
    return out


def device(value, name: str = "device") -> torch.device:
    """A torch device that exists here (``None`` → CPU); clear errors for unavailable ones."""
    if value is None:
        return torch.device("cpu")
    if not isinstance(value, (str, torch.device)):
        raise ArgumentTypeError(f"{name} must be a string such as 'cpu' or 'cuda', or a "
                                f"torch.device; got {_kind(value)}")
    try:
        dev = torch.device(value)
    except (RuntimeError, ValueError) as err:
        raise ValueError(f"{name}={value!r} is not a torch device ({err}); use 'cpu' or 'cuda'") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"{name}={value!r}: this torch has no usable CUDA GPU "
                             "(torch.cuda.is_available() is False). Use device='cpu' (the "
                             "default), or install a CUDA build of torch on a machine with a GPU.")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"{name}={value!r}: only {torch.cuda.device_count()} CUDA device(s) "
                             f"are visible; use an index below that.")
    elif dev.type == "mps":
        if not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
            raise ValueError(f"{name}={value!r}: MPS is not available here; use device='cpu'.")
    elif dev.type != "cpu":
        raise ValueError(f"{name}={value!r}: symlab runs on 'cpu', 'cuda' or 'mps' devices.")
    return dev


# ----------------------------------------------------------------------------- arrays
_REFUSED_KINDS = {"b": "boolean", "c": "complex", "U": "string", "S": "bytes", "O": "object",
                  "V": "structured", "M": "datetime", "m": "timedelta"}


def _numeric(x, name: str, what: str):
    """``x`` as a real numpy array (any float/int dtype) or a detached real tensor."""
    if isinstance(x, torch.Tensor):
        t = x.detach()
        if t.dtype == torch.bool or t.is_complex():
            raise ArgumentTypeError(f"{name} must hold real numbers; got a {t.dtype} tensor. "
                                    f"Convert it first, e.g. {name}.double().")
        return t
    if x is None or isinstance(x, (str, bytes, dict)) or (
            not isinstance(x, (np.ndarray, list, tuple, numbers.Number, np.generic))
            and not hasattr(x, "__array__")):
        raise ArgumentTypeError(f"{name} must be {what} (a list, numpy array or torch tensor); "
                                f"got {_kind(x)}")
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be {what}; could not read it as an array ({err}). "
                         "Are its rows of different lengths?") from None
    if arr.dtype.kind in _REFUSED_KINDS:
        if arr.dtype.kind == "O":
            try:
                arr = arr.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"{name} must be {what}; it could not be read as numbers (rows of "
                                 "different lengths, or non-numeric entries?)") from None
        else:
            raise ArgumentTypeError(f"{name} must hold real numbers; got {_REFUSED_KINDS[arr.dtype.kind]} "
                                    f"values (dtype {arr.dtype}). Convert them to floats first.")
    return arr


def _float_tensor(x, name: str, what: str) -> torch.Tensor:
    """A real array/tensor as a float tensor: float32/float64 kept, everything else float64."""
    a = _numeric(x, name, what)
    if isinstance(a, torch.Tensor):
        if a.dtype not in (torch.float32, torch.float64):
            a = a.to(torch.float64)
        return a
    if a.dtype not in (np.float32, np.float64):
        a = a.astype(np.float64)
    elif not a.flags.writeable or any(s < 0 for s in a.strides):
        a = a.copy()  # torch.from_numpy warns on read-only arrays, fails on negative strides
    return torch.from_numpy(a)


def _check_finite(t: torch.Tensor, name: str, fix: str) -> None:
    if not bool(torch.isfinite(t).all()):
        n_bad = int((~torch.isfinite(t)).sum())
        raise ValueError(f"{name} contains NaN or inf ({n_bad} value(s)); {fix}")


def _cast(t: torch.Tensor, dtype, name: str) -> torch.Tensor:
    if dtype is None or t.dtype == dtype:
        return t
    out = t.to(dtype)
    if dtype in (torch.float32, torch.float16, torch.bfloat16) and not bool(torch.isfinite(out).all()):
        big = float(t.abs().max())
        raise ValueError(f"{name} has values up to {big:.3g}, beyond the range of {dtype} "
                         f"({torch.finfo(dtype).max:.3g}) that symlab computes in: the data scale "
                         f"is extreme. Rescale it first (e.g. divide by {big:.3g}).")
    return out


def as_array(x, name: str, *, ndim: int | None = None, min_ndim: int = 0, finite: bool = True,
             allow_empty: bool = True) -> np.ndarray:
    """Any real array-like as a float64 numpy array (a copy when needed; never a view to write to)."""
    t = _float_tensor(x, name, "a numeric array")
    if ndim is not None and t.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s); got shape {tuple(t.shape)}")
    if t.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimension(s); got shape {tuple(t.shape)}")
    if not allow_empty and t.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(t.shape)}); pass at least one value.")
    if finite:
        _check_finite(t, name, "drop or fix those entries first.")
    return t.cpu().numpy().astype(np.float64, copy=False)


def as_points(x, dim: int | None = None, *, name: str = "data", min_points: int = 2,
              dtype=torch.float32) -> torch.Tensor:
    """Validate a finite sample and return it as a float tensor of shape ``[N, n]``.

    Args:
        x: ``[N, n]`` points: a list, numpy array or torch tensor (detached; kept on its device).
            A 1D array of length N is read as N points in one dimension, except that when
            ``dim > 1`` is given a 1D array of length ``dim`` is one point ``[1, dim]``.
        dim: the dimension ``n`` the points must have (``None``: any).
        min_points: the fewest points accepted.
        dtype: the returned dtype (``None``: float32/float64 kept, other dtypes float64).
            A cast to float32 that overflows is reported as an extreme data scale.
    """
    t = _float_tensor(x, name, "an array of points [N, n]")
    if t.ndim == 0:
        raise ValueError(f"{name} must have shape [N, n] (N points in n dimensions); got the single "
                         f"number {float(t):g}. Pass an array, e.g. [[{float(t):g}]] for one 1D point.")
    if t.ndim == 1:
        t = t[None, :] if dim is not None and dim > 1 and t.shape[0] == dim else t[:, None]
    if t.ndim != 2:
        raise ValueError(
            f"{name} must have shape [N, n] (N points in n dimensions); got ndim={t.ndim} "
            f"with shape {tuple(t.shape)}. Reshape it, e.g. x.reshape(len(x), -1)."
        )
    if t.shape[0] == 0 or t.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {tuple(t.shape)}): pass at least {min_points} "
                         f"point(s) with at least one coordinate.")
    if t.shape[0] < min_points:
        raise ValueError(
            f"{name} has {t.shape[0]} point(s); at least {min_points} are needed here."
        )
    if dim is not None and t.shape[1] != dim:
        raise ValueError(
            f"{name} has shape {tuple(t.shape)}, i.e. dimension {t.shape[1]}, but the search space "
            f"acts on dimension {dim}: "
            f"pick a space with dim={t.shape[1]} or select the matching columns."
        )
    if not bool(torch.isfinite(t).all()):
        bad = int((~torch.isfinite(t)).any(dim=1).sum())
        raise ValueError(f"{name} contains NaN or inf in {bad} row(s); drop or fix them first "
                         f"(e.g. x[np.isfinite(x).all(axis=1)]).")
    return _cast(t, dtype, name)


def as_params(params, n_params: int, *, name: str = "params", dtype=torch.float32) -> torch.Tensor:
    """Validate parameters and return a tensor ``[K, P]`` (a single ``[P]`` vector becomes ``K = 1``).

    Same conversions as :func:`as_points`; ``dtype=None`` keeps float32/float64 tensors as
    they are and turns everything else into float64.
    """
    t = _float_tensor(params, name, f"parameters [K, {n_params}]")
    if t.ndim == 0 and n_params == 1:
        t = t.reshape(1, 1)
    if t.ndim == 1:
        t = t[None, :]
    if t.ndim != 2 or t.shape[1] != n_params:
        raise ValueError(f"{name} must have shape [K, {n_params}] (one row of {n_params} "
                         f"parameter(s) per run) or [{n_params}]; got {tuple(t.shape)}")
    if t.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {tuple(t.shape)}): pass at least one row.")
    _check_finite(t, name, "pass finite parameters.")
    return _cast(t, dtype, name)


def data_scale(x, *, name: str = "data") -> tuple[torch.Tensor, float]:
    """Centre ``[n]`` (float64) and RMS spread (float) of points ``[N, n]``, computed in float64.

    The spread is ``sqrt(mean ‖x − centre‖² / n)``, one common scale for every coordinate (the
    trainer's standardisation). Raises ``ValueError`` when it is zero (all points equal), when
    float32 cannot resolve it (the spread is below float32's resolution at the data's offset:
    subtract the mean first) or when it is outside ``EXTREME_SCALE`` (rescale the data).
    """
    t = as_points(x, name=name, min_points=1, dtype=torch.float64)
    centre = t.mean(0)
    scale = float((t - centre).square().mean().sqrt())
    offset = float(t.abs().max())
    if not math.isfinite(scale):
        raise ValueError(f"{name}: the spread overflows even in float64 (values up to {offset:.3g}); "
                         "the data scale is extreme. Rescale the data first.")
    if scale == 0:
        if bool((t != centre).any()):  # the points differ: their squares underflow float64
            raise ValueError(f"{name}: the data scale is extreme (the spread is below "
                             f"{EXTREME_SCALE[0]:g}, so small that its square underflows even in "
                             "float64); symlab trains in float32. Multiply the data by a constant "
                             "first (e.g. x / abs(x - x.mean(0)).max()); the symmetries do not change.")
        raise ValueError(f"{name} have zero spread (all {t.shape[0]} points are equal); there is "
                         "nothing to learn. Pass points that differ.")
    lo, hi = EXTREME_SCALE
    if not lo <= scale <= hi:
        raise ValueError(f"{name}: the data scale is extreme (RMS spread {scale:.3g}, outside "
                         f"[{lo:g}, {hi:g}]); symlab trains in float32. Multiply the data by a "
                         f"constant first (e.g. x / {scale:.3g}); the symmetries do not change.")
    if scale < 64 * _F32.eps * offset:
        raise ValueError(f"{name}: the spread {scale:.3g} is too small compared with the offset "
                         f"{offset:.3g} for float32 to tell the points apart; subtract the mean "
                         "first (x - x.mean(0)).")
    return centre, scale


# ----------------------------------------------------------------------------- files, objects
def path(value, name: str = "path") -> Path:
    """A file path (``str`` or ``os.PathLike``)."""
    if isinstance(value, bytes):
        value = os.fsdecode(value)
    if not isinstance(value, (str, os.PathLike)):
        raise ArgumentTypeError(f"{name} must be a file path (str or pathlib.Path); got {_kind(value)}")
    if not os.fspath(value):
        raise ValueError(f"{name} is empty; pass the path of a file")
    return Path(os.fspath(value))


def text(value, name: str) -> str:
    """A non-empty string (e.g. an HDF5 group name)."""
    if not isinstance(value, str):
        raise ArgumentTypeError(f"{name} must be a string; got {_kind(value)}")
    if not value.strip("/ "):
        raise ValueError(f"{name} must be a non-empty name; got {value!r}")
    return value


def density(obj, name: str = "density", dim: int | None = None, need=("log_prob",)):
    """A density: an object with an integer ``dim`` and the methods in ``need``."""
    missing = [m for m in ("dim", *need) if not hasattr(obj, m)]
    if missing or isinstance(obj, (np.ndarray, torch.Tensor, list, tuple)):
        raise ArgumentTypeError(f"{name} must be a density such as sl.Gaussian(...) or "
                                f"sl.paper.n11() (with .dim and .{', .'.join(need)}); got "
                                f"{_kind(obj)}")
    if dim is not None and obj.dim != dim:
        raise ValueError(f"{name} has dimension {obj.dim} but the search space acts on dimension "
                         f"{dim}: pick a matching space")
    return obj


def space(obj, name: str = "space"):
    """A search space from ``symlab.spaces``."""
    from .spaces import SearchSpace

    if not isinstance(obj, SearchSpace):
        raise ArgumentTypeError(f"{name} must be a symlab.spaces search space such as "
                                f"sl.spaces.SO(2); got {_kind(obj)}")
    return obj
