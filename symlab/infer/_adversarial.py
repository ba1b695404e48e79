"""The inference learners' settings and data handling, around symlab's one training loop.

:meth:`symlab.SymmetryGAN.fit` trains one fixed map per run. The learners of this subpackage
— :func:`~symlab.infer.learn_generator` (maps ``exp(tL)``) and
:func:`~symlab.infer.learn_discovery_map` (maps ``g(x | Ω(c))``, Eq. 44) — train a *family*
of maps per run instead, drawing a new member for every transformed event. Everything else
is SymmetryGAN's: data handling (``SymmetryGAN._sampler``: finite samples and densities, the
data mean and one common scale for standardised coordinates) and the training loop itself
(:func:`symlab._loop.train`: the discriminator ensemble, one simultaneous step of both
players from one discriminator pass, the non-saturating objective, cosine learning-rate
decay, tail averaging, reviving dead discriminators, stopping runs that diverge).

:func:`run` calls that loop with the learner's hooks: ``fake(params, z, frac)`` returns the
transformed events (differentiable in ``params``), ``settle(params)`` projects the parameters
after each update (e.g. back onto a sphere).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from .. import _loop
from .._loop import LoopResult
from ..gan import SymmetryGAN
from ..spaces import Affine

__all__ = ["Settings", "sampler", "run", "LoopResult"]


@dataclass
class Settings:
    """Training settings shared with :class:`symlab.SymmetryGAN` (same meaning, same defaults
    where the learners do not say otherwise)."""

    steps: int = 2000
    batch_size: int = 128
    lr_g: float = 0.01
    lr_d: float = 0.01
    hidden: tuple = (25, 25)
    lr_floor: float = 0.02
    average: float = 0.3
    eps_g: float = 0.3
    seed: int = 0
    record_every: int | None = None
    progress: bool | None = None
    device: object = None

    def check(self) -> None:
        if int(self.steps) < 1 or int(self.batch_size) < 4:
            raise ValueError("steps must be >= 1 and batch_size >= 4")
        if not (self.lr_g > 0 and self.lr_d > 0):
            raise ValueError("the learning rates must be positive")
        if not 0.0 <= float(self.average) < 1.0:
            raise ValueError("average must be a fraction in [0, 1)")


def sampler(data, n: int, settings: Settings, gen: torch.Generator):
    """SymmetryGAN's data handling for ``n``-dimensional data: ``(draw(K, B), centre, scale)``."""
    device = torch.device(settings.device) if settings.device is not None else None
    return SymmetryGAN(Affine(n), batch_size=int(settings.batch_size), device=device)._sampler(data, gen)


def run(draw, centre: torch.Tensor, scale: float, n: int, params: torch.Tensor,
        fake: Callable, settings: Settings, gen: torch.Generator,
        settle: Callable | None = None, record: Callable | None = None,
        desc: str = "learner") -> LoopResult:
    """Train ``params [K, …]`` (a leaf tensor with ``requires_grad``) against ``K`` discriminators.

    Each step draws ``batch_size`` events per run (``draw``), standardises them with
    ``centre`` and ``scale``, keeps the first half as real events and passes the second half to
    ``fake(params, z_src [K, B − B/2, n], frac)``, which returns the transformed events
    (``frac`` is the training progress in [0, 1]; ``fake`` may draw from ``gen``). Then one
    simultaneous update of the discriminators and of ``params``, as in SymmetryGAN
    (:func:`symlab._loop.train`). ``final`` in the result is float64.
    """
    s = settings
    steps = int(s.steps)
    every = max(1, steps // 100) if s.record_every is None else int(s.record_every)
    sched = _loop.Schedule(steps=steps, batch_size=int(s.batch_size), lr_g=float(s.lr_g),
                           lr_d=float(s.lr_d), hidden=tuple(int(h) for h in s.hidden),
                           lr_floor=float(s.lr_floor), average=float(s.average),
                           eps_g=float(s.eps_g), seed=int(s.seed))
    out = _loop.train(draw, centre, scale, n, params, fake, sched, settle=settle, record=record,
                      every=every, progress=s.progress, desc=desc)
    out.final = out.final.double()
    return out
