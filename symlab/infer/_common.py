"""Input handling shared by :mod:`symlab.infer`: element sets in, homogeneous matrices inside.

Affine elements ``g(x) = M x + V`` are handled as ``(n+1) × (n+1)`` homogeneous matrices
``[[M, V], [0, 1]]``, so that composing maps is multiplying matrices; the public functions
take and return the ``(M, V)`` pair as float64 numpy arrays.
"""

from __future__ import annotations

import numpy as np
import torch

from .. import _checks


def _array(x, name: str) -> np.ndarray:
    """A real array (list, numpy, torch — detached) as float64 numpy; NaN/inf refused."""
    a = _checks.as_array(x, name, finite=False)
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or inf; drop those elements first "
                         f"(for a Discovery, pass the fit itself: failed runs are skipped)")
    return a


def _singular(M: np.ndarray, name: str = "matrices") -> None:
    """Raise if any matrix of ``M [..., n, n]`` is singular (no inverse, no group element)."""
    if M.size == 0:
        return
    dets = np.atleast_1d(np.abs(np.linalg.det(M)))
    if (dets < 1e-12).any() or not np.isfinite(dets).all():
        bad = [tuple(int(v) for v in i) if len(i) > 1 else int(i[0])
               for i in np.argwhere(~(dets >= 1e-12))[:10]]
        raise ValueError(f"{name}: element(s) {bad} are singular (det M ≈ 0) and have no inverse; "
                         "drop them first")


def _square(x, name: str = "matrices") -> np.ndarray:
    a = _array(x, name)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2] or a.shape[-1] == 0:
        raise ValueError(f"{name} must be square matrices of shape [..., n, n]; got {a.shape}")
    return a


def _shift_array(shifts, M: np.ndarray, name: str = "shifts") -> np.ndarray:
    n = M.shape[-1]
    if shifts is None:
        return np.zeros(M.shape[:-1])
    V = _array(shifts, name)
    try:
        return np.broadcast_to(V, M.shape[:-1]).copy()
    except ValueError:
        raise ValueError(f"{name} must have shape {M.shape[:-1]} (one [{n}] translation per "
                         f"matrix) or [{n}] shared; got {V.shape}") from None


def _elements(matrices, shifts=None, name: str = "matrices", shift_name: str = "shifts"):
    """Read a set of elements: ``(M [K, n, n], V [K, n], index [K])``.

    Accepts a Discovery-like object (``.matrices``, ``.shifts``, ``.failed``; failed runs are
    left out and ``index`` maps back to the run numbers), or arrays ``[K, n, n]`` / ``[K, n]``.
    """
    if hasattr(matrices, "matrices") and not isinstance(matrices, (np.ndarray, torch.Tensor)):
        if shifts is not None:
            raise ValueError("pass either a Discovery (its shifts are used) or matrices and shifts")
        fit = matrices
        mats = _checks.as_array(fit.matrices, "fit.matrices", finite=False)
        if mats.ndim != 3:
            raise ValueError(f"fit.matrices must have shape [K, n, n]; got {mats.shape}")
        n_runs = len(mats)
        ok = ~np.asarray(getattr(fit, "failed", np.zeros(n_runs, dtype=bool)), dtype=bool)
        if ok.shape != (n_runs,):
            raise ValueError(f"fit.failed must have shape [{n_runs}] (one flag per run); got {ok.shape}")
        index = np.flatnonzero(ok)
        M = _square(mats[ok], "fit.matrices")
        shifts = getattr(fit, "shifts", None)
        V = _shift_array(None if shifts is None else _checks.as_array(shifts, "fit.shifts",
                                                                      finite=False)[ok], M,
                         "fit.shifts")
    else:
        M = _square(matrices, name)
        if M.ndim == 2:
            M = M[None]
        if M.ndim != 3:
            raise ValueError(f"{name} must have shape [K, n, n]; got {M.shape}")
        V = _shift_array(shifts, M, shift_name)
        index = np.arange(len(M))
    if len(M) == 0:
        what = (f"{name}: every run of the fit failed" if M is not None and hasattr(
            matrices, "matrices") and not isinstance(matrices, (np.ndarray, torch.Tensor))
            else f"{name} is empty (shape {M.shape})")
        raise ValueError(f"{what}; there are no elements to analyse. Pass at least one "
                         "element [n, n] or [K, n, n].")
    dets = np.linalg.det(M)
    if (np.abs(dets) < 1e-12).any():
        bad = np.flatnonzero(np.abs(dets) < 1e-12)[:10].tolist()
        raise ValueError(f"element(s) {bad} are singular (det M ≈ 0) and are no group elements; "
                         "drop them first")
    return M, V, index



def _hom(M: np.ndarray, V: np.ndarray) -> np.ndarray:
    """``[..., n, n]``, ``[..., n]`` → homogeneous ``[..., n+1, n+1]``."""
    n = M.shape[-1]
    H = np.zeros(M.shape[:-2] + (n + 1, n + 1))
    H[..., :n, :n] = M
    H[..., :n, n] = V
    H[..., n, n] = 1.0
    return H


def _split(H: np.ndarray):
    n = H.shape[-1] - 1
    return H[..., :n, :n].copy(), H[..., :n, n].copy()
