"""Input checks shared by the public API: every boundary error names the problem and the fix."""

from __future__ import annotations

import numpy as np
import torch


def as_points(x, dim: int | None = None, *, name: str = "data", min_points: int = 2,
              dtype=torch.float32) -> torch.Tensor:
    """Validate a finite sample and return it as a float tensor of shape ``[N, n]``.

    A 1D array of length N is read as N points in one dimension.
    """
    if isinstance(x, torch.Tensor):
        t = x.detach()
    else:
        try:
            arr = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{name} must be a numeric array of shape [N, n]; got {type(x).__name__}") from err
        t = torch.from_numpy(arr)
    if t.ndim == 1:
        t = t[:, None]
    if t.ndim != 2:
        raise ValueError(
            f"{name} must have shape [N, n] (N points in n dimensions); got ndim={t.ndim} "
            f"with shape {tuple(t.shape)}. Reshape it, e.g. x.reshape(len(x), -1)."
        )
    if t.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {tuple(t.shape)}): pass at least {min_points} points.")
    if t.shape[0] < min_points:
        raise ValueError(
            f"{name} has {t.shape[0]} point(s); at least {min_points} are needed to train and compare."
        )
    if dim is not None and t.shape[1] != dim:
        raise ValueError(
            f"{name} has dimension {t.shape[1]} but the search space acts on dimension {dim}: "
            f"pick a space with dim={t.shape[1]} or select the matching columns."
        )
    if not torch.isfinite(t).all():
        bad = int((~torch.isfinite(t)).any(dim=1).sum())
        raise ValueError(f"{name} contains NaN or inf in {bad} row(s); drop or fix them first "
                         f"(e.g. x[np.isfinite(x).all(axis=1)]).")
    return t.to(dtype)


def as_params(params, n_params: int, *, name: str = "params", dtype=torch.float32) -> torch.Tensor:
    """Validate parameters and return a tensor ``[K, P]`` (a single ``[P]`` vector becomes ``K = 1``)."""
    t = params.detach() if isinstance(params, torch.Tensor) else torch.as_tensor(
        np.asarray(params, dtype=np.float64))
    if t.ndim == 1:
        t = t[None, :]
    if t.ndim != 2 or t.shape[1] != n_params:
        raise ValueError(f"{name} must have shape [K, {n_params}] (one row per run); got {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} contains NaN or inf; pass finite parameters.")
    return t.to(dtype)
