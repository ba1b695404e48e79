"""The hand-written training passes of EnsembleMLP agree with autograd."""

import pytest
import torch

from symlab.discriminator import EnsembleMLP

SHAPES = [(1, (25, 25)), (2, (25, 25)), (4, (7,)), (3, (5, 6, 4)), (2, ())]


def _autograd(net, x, dlogits, dx_upstream, rows):
    """Reference gradients: parameters for ``dlogits``, input for ``dx_upstream`` on ``rows``."""
    flat = net.flat.detach().clone().requires_grad_(True)
    xr = x.clone().requires_grad_(True)

    def logits(params, inputs):
        h = inputs
        parts = net.parts(params)
        for i, (w, b) in enumerate(zip(parts[0::2], parts[1::2])):
            h = torch.baddbmm(b, h, w)
            if i < len(parts) // 2 - 1:
                h = torch.relu(h)
        return h[..., 0]

    (g_flat,) = torch.autograd.grad((logits(flat, x) * dlogits).sum(), flat)
    (g_x,) = torch.autograd.grad((logits(flat.detach(), xr)[:, rows] * dx_upstream).sum(), xr)
    return g_flat, g_x[:, rows], logits(flat.detach(), x)


@pytest.mark.parametrize("n_in, hidden", SHAPES)
def test_fast_passes_match_autograd(n_in, hidden):
    K, N, half = 3, 10, 4
    net = EnsembleMLP(K, n_in, hidden, seed=1, dtype=torch.float64)
    with torch.no_grad():  # non-zero biases, so that every term is exercised
        net.flat.add_(0.1 * torch.randn(net.flat.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(2)))
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(K, N, n_in, dtype=torch.float64, generator=gen)
    dl = torch.randn(K, N, dtype=torch.float64, generator=gen)
    dl_in = torch.randn(K, N - half, dtype=torch.float64, generator=gen)
    rows = slice(half, None)
    g_ref, dx_ref, logits_ref = _autograd(net, x, dl, dl_in, rows)

    logits, ws = net.forward_cached(x)
    torch.testing.assert_close(logits, logits_ref)
    grad2, none = net.backward_cached(dl, ws, param_grads=True)
    assert none is None
    torch.testing.assert_close(grad2, g_ref)
    _, dx2 = net.backward_cached(dl_in, ws, param_grads=False, input_grad=True, rows=rows)
    torch.testing.assert_close(dx2, dx_ref)
    # the autograd-friendly forward gives the same logits
    torch.testing.assert_close(net(x), logits_ref)
