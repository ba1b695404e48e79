"""An ensemble of K independent MLP discriminators evaluated in one batched call.

Run ``k`` has its own weights ``W_l[k]``; a pass over inputs ``[K, N, n]`` is a chain of
batched matrix products, so hundreds of SymmetryGANs train as one computation with no Python
loop over runs. The default architecture is the paper's (§V): two hidden layers of 25 ReLU
units and a sigmoid output; we work with the logit and keep the sigmoid in the loss.

Forward and backward passes are written out by hand into preallocated buffers (the network
is three batched products and two ReLUs): for these small layers, the time of a training
step is dominated by memory traffic and allocation rather than arithmetic, and autograd's
temporaries would cost more than the products themselves.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from . import _checks


def _relu_grad(grad: torch.Tensor, activation: torch.Tensor) -> None:
    """In place: ``grad *= (activation > 0)`` — the ReLU's backward, from its output."""
    torch.ops.aten.threshold_backward.grad_input(grad, activation, 0.0, grad_input=grad)


class EnsembleMLP(nn.Module):
    """K independent MLPs ``n_in → hidden… → 1`` with hand-written batched passes.

    Args:
        K: number of independent networks (the ensemble axis, first in every tensor).
        n_in: input dimension ``n``.
        hidden: hidden layer widths (default the paper's ``(25, 25)``): positive integers
            (a width 0 would make a constant discriminator that learns nothing; ``()`` is a
            linear model).
        seed: seed for the Glorot-uniform initial weights (Keras' default); biases start at 0.
            An integer ``>= 0``, or ``None`` for fresh OS entropy.
        dtype: a floating torch dtype for the weights.

    ``forward(x [K, N, n_in]) -> logits [K, N]`` (differentiable with autograd, for general
    use); :meth:`forward_cached` / :meth:`backward_cached` are the fast training passes.
    """

    def __init__(self, K: int, n_in: int, hidden=(25, 25), seed=None, dtype=torch.float32):
        super().__init__()
        K = _checks.count(K, "K (the number of networks)")
        n_in = _checks.count(n_in, "n_in (the input dimension)")
        hidden = _checks.hidden(hidden)
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise _checks.ArgumentTypeError(f"dtype must be a floating torch dtype; got {dtype!r}")
        self._gen = _checks.generator(seed, "seed")
        sizes = [n_in, *hidden, 1]
        _checks.memory(K * sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:])),
                       "runs (K) x the network's parameters")
        self.K = K
        self.sizes = sizes
        # All parameters live in one flat tensor; each layer's weights [K, in, out] and biases
        # [K, 1, out] are contiguous views of it (contiguous per layer, so batched products
        # run at full speed). One optimiser update then covers the whole ensemble.
        self._slices = []
        offset = 0
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            self._slices.append((offset, (self.K, fan_in, fan_out)))
            offset += self.K * fan_in * fan_out
            self._slices.append((offset, (self.K, 1, fan_out)))
            offset += self.K * fan_out
        self.flat = nn.Parameter(torch.zeros(offset, dtype=dtype))
        self.flat_grad = torch.zeros_like(self.flat)
        with torch.no_grad():
            for view, init in zip(self.parts(self.flat), self._initial(self.K)):
                view.copy_(init)
        self._buffers_by_rows: dict = {}

    def parts(self, t: torch.Tensor) -> list:
        """``[W₀, b₀, W₁, b₁, …]``: views ``[K, in, out]`` / ``[K, 1, out]`` of a flat tensor
        laid out like ``flat`` (the parameters, their gradient, optimiser moments)."""
        return [t[o:o + math.prod(shape)].view(shape) for o, shape in self._slices]

    def _param_parts(self) -> list:
        """:meth:`parts` of ``flat``. Under ``no_grad`` (the fast training passes) the views
        are cached (rebuilt if the storage moves, e.g. ``.to()``); with autograd on they are
        made fresh, so that gradients flow back to ``flat``."""
        if torch.is_grad_enabled():
            return self.parts(self.flat)
        key = (self.flat.data_ptr(), self.flat.device)
        if getattr(self, "_parts_key", None) != key:
            self._parts_cache = self.parts(self.flat)
            self._parts_key = key
        return self._parts_cache

    @property
    def weights(self) -> list:
        return self._param_parts()[0::2]

    @property
    def biases(self) -> list:
        return self._param_parts()[1::2]

    def _initial(self, rows: int) -> list:
        """Glorot-uniform weights (Keras' default) and zero biases for ``rows`` networks."""
        out = []
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:]):
            limit = math.sqrt(6.0 / (fan_in + fan_out))
            w = (torch.rand(rows, fan_in, fan_out, generator=self._gen, dtype=self.flat.dtype) * 2 - 1) * limit
            out += [w, torch.zeros(rows, 1, fan_out, dtype=self.flat.dtype)]
        return out

    @torch.no_grad()
    def reinitialise(self, runs: torch.Tensor) -> None:
        """Draw fresh weights for the networks selected by the boolean mask ``runs [K]``.

        Used to revive a discriminator whose ReLUs have all died (constant output, zero
        gradient): its run would otherwise stop learning.
        """
        if not isinstance(runs, torch.Tensor) or runs.shape != (self.K,):
            raise ValueError(f"runs must be a boolean mask of shape [{self.K}]; got "
                             f"{getattr(runs, 'shape', type(runs).__name__)}")
        idx = torch.nonzero(runs).flatten()
        if len(idx):
            for view, init in zip(self.parts(self.flat), self._initial(len(idx))):
                view[idx] = init.to(view.device)

    @torch.no_grad()
    def set_rows(self, t: torch.Tensor, runs: torch.Tensor, value: float = 0.0) -> None:
        """Set the entries of the runs in mask ``runs [K]`` of a flat tensor ``t`` to ``value``."""
        for view in self.parts(t):
            view[runs] = value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``[K, N]`` for inputs ``[K, N, n_in]`` (autograd-friendly).

        ``x`` is a real tensor (or array); it is cast to the weights' dtype and device.
        """
        if not isinstance(x, torch.Tensor) or not x.is_floating_point():
            x = torch.from_numpy(_checks.as_array(x, "x", finite=False).copy())
        if x.ndim != 3 or x.shape[0] != self.K or x.shape[2] != self.sizes[0]:
            raise ValueError(f"x must have shape [K={self.K}, N, n_in={self.sizes[0]}]; got "
                             f"{tuple(x.shape)}")
        if x.dtype != self.flat.dtype or x.device != self.flat.device:
            x = x.to(dtype=self.flat.dtype, device=self.flat.device)
        h = x
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = torch.baddbmm(b, h, w)
            if i < last:
                h = torch.relu(h)
        return h[..., 0]

    # ------------------------------------------------------------------ fast passes
    def _workspace(self, rows: int) -> dict:
        ws = self._buffers_by_rows.get(rows)
        if ws is None:
            w0 = self.weights[0]
            kw = dict(dtype=w0.dtype, device=w0.device)
            outs = [torch.empty(self.K, rows, s, **kw) for s in self.sizes[1:]]
            deltas = [torch.empty(self.K, rows, s, **kw) for s in self.sizes[:-1]]
            views = self.parts(self.flat_grad)
            grads_w, grads_b = views[0::2], views[1::2]
            ws = dict(outs=outs, deltas=deltas, grads_w=grads_w, grads_b=grads_b)
            self._buffers_by_rows[rows] = ws
        return ws

    def _deltas(self, rows: int) -> list:
        key = ("deltas", rows)
        if key not in self._buffers_by_rows:
            w0 = self.weights[0]
            self._buffers_by_rows[key] = [torch.empty(self.K, rows, s, dtype=w0.dtype, device=w0.device)
                                          for s in self.sizes[:-1]]
        return self._buffers_by_rows[key]

    @torch.no_grad()
    def forward_cached(self, x: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """Logits ``[K, N]`` for ``x [K, N, n_in]``, keeping activations for :meth:`backward_cached`.

        The returned logits live in a reused buffer: copy them to keep them past the next call.
        Layers with one input (1D data) or one output (the logit) avoid ``bmm``, whose
        kernels are slow for those degenerate shapes: an outer product and a row-vector
        product do the same arithmetic.
        """
        K, N = x.shape[0], x.shape[1]
        ws = self._workspace(N)
        ws["input"] = x
        h = x
        weights, biases = self.weights, self.biases
        last = len(weights) - 1
        for i, (w, b) in enumerate(zip(weights, biases)):
            out = ws["outs"][i]
            fan_in, fan_out = w.shape[1], w.shape[2]
            if fan_out == 1:  # [K,1,in] @ [K,in,N] -> [K,1,N], same memory as [K,N,1]
                torch.bmm(w.view(K, 1, fan_in), h.transpose(1, 2), out=out.view(K, 1, N))
                out.add_(b)
            elif fan_in == 1:  # outer product
                torch.mul(h, w, out=out).add_(b)
            else:
                torch.baddbmm(b, h, w, out=out)
            if i < last:
                out.clamp_(min=0.0)
            h = out
        return h[..., 0], ws

    @torch.no_grad()
    def backward_cached(self, dlogits: torch.Tensor, ws: dict, param_grads: bool = True,
                        input_grad: bool = False, rows: slice | None = None):
        """Backpropagate ``dlogits [K, N]`` through the last :meth:`forward_cached`.

        ``rows`` restricts the pass to a slice of the cached rows (then ``dlogits`` has that
        many rows): e.g. the generator only needs the input gradient of the transformed half.
        Returns ``(grad, dx)``: ``grad`` is the flat gradient of ``flat`` (a
        reused buffer; ``None`` unless ``param_grads``) and ``dx [K, N, n_in]`` (or ``None``).
        """
        weights = self.weights
        n_layers = len(weights)
        K, N = dlogits.shape
        sel = slice(None) if rows is None else rows

        def act(i):  # input of layer i on the selected rows
            return (ws["input"] if i == 0 else ws["outs"][i - 1])[:, sel]

        deltas = ws["deltas"] if rows is None else self._deltas(N)
        delta = dlogits.unsqueeze(-1)
        for i in range(n_layers - 1, -1, -1):
            w = weights[i]
            fan_in, fan_out = w.shape[1], w.shape[2]
            if param_grads:
                a_in = act(i)
                gw = ws["grads_w"][i]
                if fan_out == 1:  # [K,1,N] @ [K,N,in] -> [K,1,in], same memory as [K,in,1]
                    torch.bmm(delta.view(K, 1, N), a_in, out=gw.view(K, 1, fan_in))
                else:
                    torch.bmm(a_in.transpose(1, 2), delta, out=gw)
                torch.sum(delta, dim=1, keepdim=True, out=ws["grads_b"][i])
            if i == 0 and not input_grad:
                break
            d_in = deltas[i]
            if fan_out == 1:  # outer product
                torch.mul(delta, w.view(K, 1, fan_in), out=d_in)
            elif fan_in == 1:  # [K,1,out] @ [K,out,N] -> [K,1,N], same memory as [K,N,1]
                torch.bmm(w.view(K, 1, fan_out), delta.transpose(1, 2), out=d_in.view(K, 1, N))
            else:
                torch.bmm(delta, w.transpose(1, 2), out=d_in)
            if i > 0:  # ReLU backward: keep the gradient where the unit was active
                _relu_grad(d_in, ws["outs"][i - 1][:, sel])
            delta = d_in
        return (self.flat_grad if param_grads else None), (delta if input_grad else None)
