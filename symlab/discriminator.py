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


def _relu_grad(grad: torch.Tensor, activation: torch.Tensor) -> None:
    """In place: ``grad *= (activation > 0)`` — the ReLU's backward, from its output."""
    torch.ops.aten.threshold_backward.grad_input(grad, activation, 0.0, grad_input=grad)


class EnsembleMLP(nn.Module):
    """K independent MLPs ``n_in → hidden… → 1`` with hand-written batched passes.

    Args:
        K: number of independent networks (the ensemble axis, first in every tensor).
        n_in: input dimension ``n``.
        hidden: hidden layer widths (default the paper's ``(25, 25)``).
        seed: seed for the Glorot-uniform initial weights (Keras' default); biases start at 0.

    ``forward(x [K, N, n_in]) -> logits [K, N]`` (differentiable with autograd, for general
    use); :meth:`forward_cached` / :meth:`backward_cached` are the fast training passes.
    """

    def __init__(self, K: int, n_in: int, hidden=(25, 25), seed=None, dtype=torch.float32):
        super().__init__()
        self._gen = torch.Generator()
        if seed is None:
            self._gen.seed()
        else:
            self._gen.manual_seed(int(seed))
        sizes = [int(n_in), *[int(h) for h in hidden], 1]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            self.weights.append(nn.Parameter(self._glorot(K, fan_in, fan_out, dtype)))
            self.biases.append(nn.Parameter(torch.zeros(K, 1, fan_out, dtype=dtype)))
        self.K = int(K)
        self.sizes = sizes
        self._buffers_by_rows: dict[int, dict] = {}

    def _glorot(self, K, fan_in, fan_out, dtype=torch.float32):
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        return (torch.rand(K, fan_in, fan_out, generator=self._gen, dtype=dtype) * 2 - 1) * limit

    @torch.no_grad()
    def reinitialise(self, runs: torch.Tensor, optimizer=None) -> None:
        """Draw fresh weights for the networks selected by the boolean mask ``runs [K]``.

        Used to revive a discriminator whose ReLUs have all died (constant output, zero
        gradient): its run would otherwise stop learning. Adam moments of those rows are reset.
        """
        idx = torch.nonzero(runs).flatten()
        if len(idx) == 0:
            return
        for w, b in zip(self.weights, self.biases):
            w[idx] = self._glorot(len(idx), w.shape[1], w.shape[2], w.dtype).to(w.device)
            b[idx] = 0.0
            if optimizer is not None:
                for prm in (w, b):
                    for key, val in optimizer.state.get(prm, {}).items():
                        if key != "step" and torch.is_tensor(val) and val.shape == prm.shape:
                            val[idx] = 0.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``[K, N]`` for inputs ``[K, N, n_in]`` (autograd-friendly)."""
        h = x
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = torch.baddbmm(b, h, w)
            if i < last:
                h = torch.relu(h)
        return h[..., 0]

    def flops_per_row(self) -> int:
        """Σ in·out over the layers: multiply–adds of one forward pass for one input row."""
        return sum(a * b for a, b in zip(self.sizes[:-1], self.sizes[1:]))

    # ------------------------------------------------------------------ fast passes
    def _workspace(self, rows: int) -> dict:
        ws = self._buffers_by_rows.get(rows)
        if ws is None:
            w0 = self.weights[0]
            kw = dict(dtype=w0.dtype, device=w0.device)
            outs = [torch.empty(self.K, rows, s, **kw) for s in self.sizes[1:]]
            deltas = [torch.empty(self.K, rows, s, **kw) for s in self.sizes[:-1]]
            grads_w = [torch.empty_like(w) for w in self.weights]
            grads_b = [torch.empty_like(b) for b in self.biases]
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
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
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
        Returns ``(grads, dx)``: ``grads`` is a list ``[dW₀, db₀, dW₁, db₁, …]`` in the order
        of :meth:`optim_params` (or ``None``); ``dx [K, N, n_in]`` (or ``None``).
        """
        n_layers = len(self.weights)
        K, N = dlogits.shape
        sel = slice(None) if rows is None else rows

        def act(i):  # input of layer i on the selected rows
            return (ws["input"] if i == 0 else ws["outs"][i - 1])[:, sel]

        deltas = ws["deltas"] if rows is None else self._deltas(N)
        delta = dlogits.unsqueeze(-1)
        for i in range(n_layers - 1, -1, -1):
            w = self.weights[i]
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
        grads = None
        if param_grads:
            grads = []
            for gw, gb in zip(ws["grads_w"], ws["grads_b"]):
                grads += [gw, gb]
        return grads, (delta if input_grad else None)

    def set_grads(self, grads: list) -> None:
        """Attach ``grads`` from :meth:`backward_cached` as ``.grad`` for a torch optimiser."""
        params = [p for pair in zip(self.weights, self.biases) for p in pair]
        for p, gr in zip(params, grads):
            p.grad = gr

    def optim_params(self) -> list:
        """Parameters in the order of :meth:`backward_cached`'s gradients."""
        return [p for pair in zip(self.weights, self.biases) for p in pair]
