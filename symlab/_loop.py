"""The one adversarial training loop of symlab.

:meth:`symlab.SymmetryGAN.fit` (one map per run) and the learners of :mod:`symlab.infer`
(a family of maps per run: ``exp(tL)``, or ``g(x | Ω(c))`` of Eq. 44) differ only in how a
run's parameters turn standardised events into transformed events. Everything else — the
ensemble of discriminators, the simultaneous step of both players from one discriminator
pass, the learning-rate schedule, tail averaging, reviving dead discriminators, stopping runs
that diverge — is this loop.

Hooks supplied by the caller:

* ``fake(params, z_src [K, B', n], frac) -> [K, B', n]``: the transformed events,
  differentiable in ``params`` (``frac`` is the training progress in [0, 1]);
* ``penalties(z_src) -> [(weight, values [K]), …]``: terms added to the generator's
  objective (Eqs. 18 and 41), computed after ``fake`` in the same step;
* ``settle(params)``: projects the parameters in place after each update;
* ``record(params) -> array``: what the history keeps of the parameters.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ._progress import use_progress
from .discriminator import EnsembleMLP


class Adam:
    """Adam (Kingma & Ba) on one ``[K, …]`` tensor — a generator's parameters or the flat
    parameters of the discriminator ensemble — without torch.optim's per-call overhead,
    which costs more than the update itself at these sizes."""

    def __init__(self, param: torch.Tensor, eps: float, betas=(0.9, 0.999)):
        self.param, self.eps, (self.b1, self.b2) = param, float(eps), betas
        self.m = torch.zeros_like(param)
        self.v = torch.zeros_like(param)
        self.t = 0

    @torch.no_grad()
    def step(self, grad: torch.Tensor, lr: float) -> None:
        self.t += 1
        self.m.mul_(self.b1).add_(grad, alpha=1 - self.b1)
        self.v.mul_(self.b2).addcmul_(grad, grad, value=1 - self.b2)
        denom = (self.v / (1 - self.b2**self.t)).sqrt_().add_(self.eps)
        self.param.addcdiv_(self.m, denom, value=-lr / (1 - self.b1**self.t))


@dataclass
class Schedule:
    """The training settings the loop itself uses (see :class:`symlab.SymmetryGAN`)."""

    steps: int
    batch_size: int
    lr_g: float
    lr_d: float
    hidden: tuple
    lr_floor: float
    average: float
    eps_g: float
    seed: int
    objective: str = "non-saturating"


@dataclass
class LoopResult:
    """What :func:`train` returns (``K`` runs, ``T`` records)."""

    final: torch.Tensor    # tail-averaged parameters (float64), or the last iterate if no tail
    last: torch.Tensor     # the last iterate
    loss: np.ndarray       # [K] mean loss of Eq. (13) over the tail
    failed: np.ndarray     # [K] runs stopped for a non-finite value
    revived: np.ndarray    # [K] how often each run's discriminator was re-initialised
    steps: np.ndarray      # [T] recorded steps (0 = start)
    records: list          # T records of record(params)
    d_loss: np.ndarray     # [T, K] mean loss of Eq. (13) since the previous record; row 0 NaN
    g_loss: np.ndarray     # [T, K] the generator's objective plus penalties, same averaging


def train(draw: Callable, centre: torch.Tensor, scale: float, n: int, params: torch.Tensor,
          fake: Callable, sched: Schedule, *, penalties: Callable | None = None,
          settle: Callable | None = None, record: Callable | None = None,
          first_record=None, every: int = 0, progress: bool | None = None,
          desc: str = "SymmetryGAN") -> LoopResult:
    """Train ``params [K, …]`` (a leaf tensor with ``requires_grad``) against ``K`` discriminators.

    Each step draws ``batch_size`` events per run (``draw(K, B) -> [K, B, n]``), standardises
    them, ``z = (x − centre) / scale``, keeps the first half as real events and transforms the
    second half with ``fake``. One discriminator pass over (real, transformed) then serves
    both players (simultaneous gradient steps): ``d`` descends Eq. (13) with labels real → 1,
    transformed → 0, and ``params`` descend the generator's objective (non-saturating
    ``−log d(g x)``, or minimax ``log(1 − d(g x))``) plus penalties, through ``d``'s input
    gradient on the transformed half. Learning rates decay along a cosine to ``lr_floor``.
    """
    s = sched
    steps, B = int(s.steps), int(s.batch_size)
    K = params.shape[0]
    dev = params.device
    disc = EnsembleMLP(K, n, tuple(int(h) for h in s.hidden), seed=int(s.seed) + 1).to(dev)
    opt_g = Adam(params, eps=float(s.eps_g))
    opt_d = Adam(disc.flat.data, eps=1e-7)  # Keras' Adam ε
    half = B // 2
    # d/dl of softplus(−l) on real rows is sigmoid(l) − 1, of softplus(l) on fake rows sigmoid(l)
    shift_d = torch.cat([torch.full((half,), -1.0), torch.zeros(B - half)]).to(dev)
    failed = torch.zeros(K, dtype=torch.bool, device=dev)
    revived = torch.zeros(K, dtype=torch.int64, device=dev)
    last_good = params.detach().clone()
    tail_start = steps - int(round(float(s.average) * steps)) + 1
    tail_sum = torch.zeros_like(last_good, dtype=torch.float64)
    tail_loss = torch.zeros(K, dtype=torch.float64, device=dev)
    record = record or (lambda p: p.detach().double().cpu().numpy())
    rec_steps = [0]
    rec = [record(params) if first_record is None else first_record]
    rec_d, rec_g = [], []
    acc_d = torch.zeros(K, device=dev)
    acc_g = torch.zeros(K, device=dev)
    acc_n = 0
    d_loss = torch.zeros(K, device=dev)

    bar = None
    if use_progress(progress):
        from tqdm.auto import tqdm
        bar = tqdm(total=steps, desc=f"{desc} ×{K}", delay=2.0, leave=False)

    for step in range(1, steps + 1):
        frac = (step - 1) / max(1, steps - 1)
        decay = s.lr_floor + (1 - s.lr_floor) * 0.5 * (1 + math.cos(math.pi * frac))

        z = (draw(K, B) - centre) / scale  # [K, B, n] in standardised units
        z_real, z_src = z[:, :half], z[:, half:]
        alive = (~failed).to(z.dtype)[:, None]
        gz = fake(params, z_src, frac)  # [K, B − half, n], differentiable in params
        with torch.no_grad():
            logits, ws = disc.forward_cached(torch.cat([z_real, gz.detach().to(z.dtype)], 1))
            l_fake = logits[:, half:]
            dl = (torch.sigmoid(logits) + shift_d) * (alive / half)
            d_loss = F.softplus(-logits[:, :half]).mean(1) + F.softplus(l_fake).mean(1)
            if s.objective == "non-saturating":  # minimise softplus(−l) = −log d(g x)
                g_obj = F.softplus(-l_fake).mean(1)
                dl_g = (torch.sigmoid(l_fake) - 1.0) * (alive / half)
            else:  # minimise −softplus(l) = log(1 − d(g x)), i.e. maximise Eq. (13)
                g_obj = -F.softplus(l_fake).mean(1)
                dl_g = -torch.sigmoid(l_fake) * (alive / half)
            _, dgz = disc.backward_cached(dl_g, ws, param_grads=False, input_grad=True,
                                          rows=slice(half, None))
            grad_d, _ = disc.backward_cached(dl, ws, param_grads=True)
            # A discriminator whose ReLUs all died outputs a constant and passes no
            # gradient: its run would freeze wherever it is. Give it fresh weights.
            dead = (dgz.abs().amax(dim=(1, 2)) == 0) & ~failed
        opt_d.step(grad_d, s.lr_d * decay)
        if dead.any():
            disc.reinitialise(dead)
            disc.set_rows(opt_d.m, dead)
            disc.set_rows(opt_d.v, dead)
            revived += dead.to(revived.dtype)
        surrogate = (gz * dgz.to(gz.dtype)).sum()
        for weight, values in (penalties(z_src) if penalties is not None else ()):
            surrogate = surrogate + weight * (values * alive[:, 0]).sum()
            g_obj = g_obj + weight * values.detach()
        params.grad = None
        surrogate.backward()
        grad = params.grad
        bad_grad = ~torch.isfinite(grad).reshape(K, -1).all(1)
        opt_g.step(torch.nan_to_num(grad, nan=0.0, posinf=0.0, neginf=0.0), s.lr_g * decay)

        with torch.no_grad():  # divergence bookkeeping: a run with a non-finite value stops
            bad = (~torch.isfinite(params).reshape(K, -1).all(1) | ~torch.isfinite(d_loss)
                   | ~torch.isfinite(g_obj) | bad_grad)
            if bad.any():
                failed |= bad
                params[failed] = last_good[failed]
                disc.flat.data.nan_to_num_(nan=0.0, posinf=0.0, neginf=0.0)
            if settle is not None:
                settle(params)
            last_good.copy_(params)
            if step >= tail_start:
                tail_sum += params.detach()
                tail_loss += torch.nan_to_num(d_loss, nan=0.0).double()
            acc_d += torch.nan_to_num(d_loss, nan=0.0)
            acc_g += torch.nan_to_num(g_obj, nan=0.0)
            acc_n += 1
        if every and (step % every == 0 or step == steps):
            rec_steps.append(step)
            rec.append(record(params))
            rec_d.append((acc_d / acc_n).cpu().numpy())
            rec_g.append((acc_g / acc_n).cpu().numpy())
            acc_d.zero_()
            acc_g.zero_()
            acc_n = 0
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()

    n_tail = steps - tail_start + 1
    final = tail_sum / n_tail if n_tail > 0 else params.detach()
    loss = (tail_loss / n_tail if n_tail > 0 else d_loss.double()).cpu().numpy()
    nan_row = [np.full(K, np.nan)]
    return LoopResult(final=final, last=params.detach().clone(), loss=loss,
                      failed=failed.cpu().numpy(), revived=revived.cpu().numpy(),
                      steps=np.asarray(rec_steps), records=rec,
                      d_loss=np.stack(nan_row + rec_d), g_loss=np.stack(nan_row + rec_g))
