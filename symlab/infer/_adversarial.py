"""The inference learners around symlab's one training loop (:mod:`symlab._loop`).

:meth:`symlab.SymmetryGAN.fit` trains one fixed map per run. The learners of this subpackage
— :func:`~symlab.infer.learn_generator` (maps ``exp(tL)``) and
:func:`~symlab.infer.learn_discovery_map` (maps ``g(x | Ω(c))``, Eq. 44) — train a *family*
of maps per run instead, drawing a new member for every transformed event. Each is a
:class:`symlab._loop.MapFamily`; the data handling (:class:`symlab._loop.Sampler`), the
settings and their defaults (:class:`symlab._loop.Settings`) and the loop itself
(:func:`symlab._loop.train`) are SymmetryGAN's.
"""

from __future__ import annotations

import torch

from .. import _checks, _loop
from .._loop import LoopResult, MapFamily, Sampler, Settings

__all__ = ["Settings", "Sampler", "MapFamily", "run", "LoopResult"]


def run(sampler: Sampler, family: MapFamily, theta: torch.Tensor, settings: Settings, *,
        seed: int, record_every=None, progress=None, desc: str = "learner") -> LoopResult:
    """Train ``theta [K, …]`` of ``family`` with :func:`symlab._loop.train` (about 100
    records by default; ``record_every=0`` keeps none). ``final`` is float64."""
    every = max(1, settings.steps // 100) if record_every is None else \
        _checks.count(record_every, "record_every", minimum=0)
    out = _loop.train(sampler, family, theta, settings, seed=seed, every=every,
                      progress=progress, desc=desc)
    out.final = out.final.double()
    return out
