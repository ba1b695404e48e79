"""The adversarial loop of the inference learners, built from SymmetryGAN's parts.

:meth:`symlab.SymmetryGAN.fit` trains one fixed map per run. The learners of this subpackage
— :func:`~symlab.infer.learn_generator` (maps ``exp(tL)``) and
:func:`~symlab.infer.learn_discovery_map` (maps ``g(x | Ω(c))``, Eq. 44) — train a *family*
of maps per run instead, drawing a new member for every transformed event. Everything else
is SymmetryGAN's, and is taken from :mod:`symlab.gan` rather than rewritten:

* data handling: ``SymmetryGAN._sampler`` (finite samples and densities, the data mean and one
  common scale for standardised coordinates);
* the discriminator: :class:`~symlab.discriminator.EnsembleMLP` and its hand-written passes
  ``forward_cached`` / ``backward_cached``, its ``reinitialise`` for dead networks;
* the optimiser: ``gan._Adam`` on the flat discriminator parameters and on the learner's
  parameters (with SymmetryGAN's large ``eps_g``);
* the schedule of :class:`symlab.SymmetryGAN`: one simultaneous step of both players from
  one discriminator pass, non-saturating generator objective, learning rates decaying along a
  cosine to ``lr_floor``, tail averaging, runs that diverge stopped without harming the others.

:func:`run` is that loop with two hooks: ``fake(params, z, frac)`` returns the transformed
events (differentiable in ``params``), ``settle(params)`` projects the parameters after each
update (e.g. back onto a sphere).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..discriminator import EnsembleMLP
from ..gan import SymmetryGAN, _Adam, _use_progress
from ..spaces import Affine


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


@dataclass
class LoopResult:
    final: torch.Tensor          # tail-averaged parameters (float64, before any projection)
    last: torch.Tensor           # the last iterate
    loss: np.ndarray             # [K] tail mean of the discriminator loss of Eq. (13)
    failed: np.ndarray           # [K]
    revived: np.ndarray          # [K]
    steps: np.ndarray            # [T] recorded steps (0 = start)
    records: list                # T records of record(params)
    d_loss: np.ndarray           # [T, K], row 0 NaN


def run(draw, centre: torch.Tensor, scale: float, n: int, params: torch.Tensor,
        fake: Callable, settings: Settings, gen: torch.Generator,
        settle: Callable | None = None, record: Callable | None = None,
        desc: str = "learner") -> LoopResult:
    """Train ``params [K, …]`` (a leaf tensor with ``requires_grad``) against ``K`` discriminators.

    Each step draws ``batch_size`` events per run (``draw``), standardises them with
    ``centre`` and ``scale``, keeps the first half as real events and passes the second half to
    ``fake(params, z_src [K, B − B/2, n], frac)``, which returns the transformed events
    (``frac`` is the training progress in [0, 1]; ``fake`` may draw from ``gen``). Then one
    simultaneous update of the discriminators and of ``params``, as in SymmetryGAN.
    """
    s = settings
    steps, B = int(s.steps), int(s.batch_size)
    K = params.shape[0]
    dev = params.device
    disc = EnsembleMLP(K, n, tuple(int(h) for h in s.hidden), seed=int(s.seed) + 1).to(dev)
    opt_g = _Adam(params, eps=float(s.eps_g))
    opt_d = _Adam(disc.flat.data, eps=1e-7)  # as SymmetryGAN (Keras' Adam ε)
    half = B // 2
    # d/dl of softplus(−l) on real rows is sigmoid(l) − 1, of softplus(l) on fake rows sigmoid(l)
    shift_d = torch.cat([torch.full((half,), -1.0), torch.zeros(B - half)]).to(dev)
    failed = torch.zeros(K, dtype=torch.bool, device=dev)
    revived = torch.zeros(K, dtype=torch.int64, device=dev)
    last_good = params.detach().clone()
    tail_start = steps - int(round(float(s.average) * steps)) + 1
    tail_sum = torch.zeros_like(last_good, dtype=torch.float64)
    tail_loss = torch.zeros(K, dtype=torch.float64, device=dev)
    every = max(1, steps // 100) if s.record_every is None else int(s.record_every)
    record = record or (lambda p: p.detach().double().cpu().numpy())
    rec_steps, rec, rec_d = [0], [record(params)], []
    acc_d, acc_n = torch.zeros(K, device=dev), 0
    d_loss = torch.zeros(K, device=dev)

    bar = None
    if _use_progress(s.progress):
        from tqdm.auto import tqdm
        bar = tqdm(total=steps, desc=f"{desc} ×{K}", delay=2.0, leave=False)

    for step in range(1, steps + 1):
        frac = (step - 1) / max(1, steps - 1)
        decay = s.lr_floor + (1 - s.lr_floor) * 0.5 * (1 + math.cos(math.pi * frac))
        z = (draw(K, B) - centre) / scale
        z_real, z_src = z[:, :half], z[:, half:]
        alive = (~failed).to(z.dtype)[:, None]
        gz = fake(params, z_src, frac)  # [K, B − half, n], differentiable in params
        with torch.no_grad():  # SymmetryGAN's simultaneous step: one pass serves both players
            logits, ws = disc.forward_cached(torch.cat([z_real, gz.detach().to(z.dtype)], 1))
            l_fake = logits[:, half:]
            dl = (torch.sigmoid(logits) + shift_d) * (alive / half)
            d_loss = F.softplus(-logits[:, :half]).mean(1) + F.softplus(l_fake).mean(1)
            dl_g = (torch.sigmoid(l_fake) - 1.0) * (alive / half)  # non-saturating objective
            _, dgz = disc.backward_cached(dl_g, ws, param_grads=False, input_grad=True,
                                          rows=slice(half, None))
            grad_d, _ = disc.backward_cached(dl, ws, param_grads=True)
            dead = (dgz.abs().amax(dim=(1, 2)) == 0) & ~failed
        opt_d.step(grad_d, s.lr_d * decay)
        if dead.any():  # a discriminator whose ReLUs all died passes no gradient: revive it
            disc.reinitialise(dead)
            disc.set_rows(opt_d.m, dead)
            disc.set_rows(opt_d.v, dead)
            revived += dead.to(revived.dtype)
        params.grad = None
        (gz * dgz.to(gz.dtype)).sum().backward()
        grad = params.grad
        bad_grad = ~torch.isfinite(grad).reshape(K, -1).all(1)
        opt_g.step(torch.nan_to_num(grad, nan=0.0, posinf=0.0, neginf=0.0), s.lr_g * decay)
        with torch.no_grad():  # divergence bookkeeping: a run with a non-finite value stops
            bad = ~torch.isfinite(params).reshape(K, -1).all(1) | ~torch.isfinite(d_loss) | bad_grad
            if bad.any():
                failed |= bad
                params[failed] = last_good[failed]
                disc.flat.data.nan_to_num_(nan=0.0, posinf=0.0, neginf=0.0)
            if settle is not None:
                settle(params)
            last_good.copy_(params)
            if step >= tail_start:
                tail_sum += params.detach().double()
                tail_loss += torch.nan_to_num(d_loss, nan=0.0).double()
            acc_d += torch.nan_to_num(d_loss, nan=0.0)
            acc_n += 1
        if every and (step % every == 0 or step == steps):
            rec_steps.append(step)
            rec.append(record(params))
            rec_d.append((acc_d / acc_n).cpu().numpy())
            acc_d.zero_()
            acc_n = 0
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()

    n_tail = steps - tail_start + 1
    final = tail_sum / n_tail if n_tail > 0 else params.detach().double()
    loss = (tail_loss / n_tail if n_tail > 0 else d_loss.double()).cpu().numpy()
    return LoopResult(final=final, last=params.detach().clone(), loss=loss,
                      failed=failed.cpu().numpy(), revived=revived.cpu().numpy(),
                      steps=np.asarray(rec_steps), records=rec,
                      d_loss=np.stack([np.full(K, np.nan)] + rec_d))
