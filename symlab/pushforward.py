"""Densities with a known *nonlinear* symmetry: a base density pushed through an equiareal map.

Let ``q`` be a density whose symmetries are known (``N₁,₁`` and all of O(2), a mixture with
D4, …) and ``h`` an equiareal map (``|det ∂h/∂x| = 1`` everywhere, §III) with an exact
inverse. The push-forward ``p = h#q`` — the law of ``h(X)`` for ``X ~ q`` — has the density::

    p(x) = q(h⁻¹(x)) · |det ∂h⁻¹/∂x| = q(h⁻¹(x)),

and for every symmetry ``R`` of ``q`` the conjugate ``h ∘ R ∘ h⁻¹`` is a symmetry of ``p``:
if ``X ~ p`` then ``h⁻¹(X) ~ q``, ``R h⁻¹(X) ~ q`` and ``h R h⁻¹(X) ~ p``. It is equiareal
(a composition of equiareal maps) but, for a nonlinear ``h``, no longer linear: the linear
search spaces of the paper cannot express it, while the volume-preserving flows of
:mod:`symlab.flows` can.

The maps here:

* :class:`Shear` — ``(x, y) ↦ (x, y + f(x))`` with a polynomial ``f`` (Jacobian triangular
  with unit diagonal, so ``det = 1``; inverse ``y ↦ y − f(x)``);
* :func:`twist` — ``w ↦ R(α(|w|)) w``, which keeps every round density;
* :func:`henon` — the paper's example of a nonlinear area-preserving map,
  ``(x, y) ↦ (x, y − a x²)`` (Hénon 1969; §III with ``a = 1``);
* :class:`EquiarealMap` — any user-supplied pair ``(forward, inverse)``, checked on probe
  points (inverse reconstructs, unit Jacobian determinant by autograd).

All maps act on tensors ``[..., n]`` and keep the leading axes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

__all__ = ["EquiarealMap", "Shear", "henon", "twist", "NonlinearPushforward", "rotation_2d"]


def rotation_2d(theta) -> torch.Tensor:
    """The paper's rotation ``[[cos θ, sin θ], [−sin θ, cos θ]]``: ``θ [...] -> [..., 2, 2]`` (float64)."""
    t = (theta.detach().to(torch.float64) if isinstance(theta, torch.Tensor)
         else torch.as_tensor(np.array(theta, dtype=np.float64)))
    if not torch.isfinite(t).all():
        raise ValueError("theta contains NaN or inf; pass finite angles (radians)")
    c, s = torch.cos(t), torch.sin(t)
    return torch.stack([torch.stack([c, s], -1), torch.stack([-s, c], -1)], -2)


def _as_tensor(x) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x if x.is_floating_point() else x.double()
    return torch.as_tensor(np.array(x, dtype=np.float64))


class EquiarealMap:
    """An equiareal map ``h: Rⁿ → Rⁿ`` with an exact inverse.

    Args:
        forward: ``[..., n] -> [..., n]`` (torch, differentiable).
        inverse: ``[..., n] -> [..., n]``, the exact inverse of ``forward``.
        dim: ``n``.
        check: verify on 256 probe points from ``N(0, 4·1)`` (seeded) that ``inverse`` undoes
            ``forward`` and that ``|det ∂h/∂x| = 1`` (autograd), both within ``tol``; a
            ``ValueError`` names what failed. Subclasses that are equiareal by construction
            skip it.
        tol: tolerance of the check (relative to the size of the points).
    """

    def __init__(self, forward: Callable, inverse: Callable, dim: int, check: bool = True,
                 tol: float = 1e-6):
        if not (callable(forward) and callable(inverse)):
            raise ValueError("forward and inverse must be callables [..., n] -> [..., n]")
        if int(dim) < 1:
            raise ValueError(f"dim must be a positive integer; got {dim}")
        self._fwd, self._inv, self.dim = forward, inverse, int(dim)
        if check:
            self.check(tol=tol)

    def forward(self, x) -> torch.Tensor:
        """``h(x)``: ``[..., n] -> [..., n]``."""
        return self._fwd(self._points(x, "x"))

    def inverse(self, y) -> torch.Tensor:
        """``h⁻¹(y)``: ``[..., n] -> [..., n]``."""
        return self._inv(self._points(y, "y"))

    __call__ = forward

    def _points(self, x, name: str = "x") -> torch.Tensor:
        t = _as_tensor(x)
        if t.ndim == 0 or t.shape[-1] != self.dim:
            raise ValueError(f"{name} must have shape [..., {self.dim}]; got {tuple(t.shape)}")
        return t

    def check(self, n: int = 256, seed: int = 0, tol: float = 1e-6) -> None:
        """Raise ``ValueError`` unless ``h⁻¹(h(x)) = x`` and ``|det ∂h/∂x| = 1`` at ``n`` probe points."""
        g = torch.Generator().manual_seed(int(seed))
        x = 2.0 * torch.randn(int(n), self.dim, generator=g, dtype=torch.float64)
        y = self.forward(x)
        if y.shape != x.shape or not torch.isfinite(y).all():
            raise ValueError(f"forward must map [N, {self.dim}] to finite [N, {self.dim}] points")
        back = self.inverse(y)
        err = float((back - x).abs().max() / (1.0 + x.abs().max()))
        if not err <= tol:
            raise ValueError(f"inverse does not undo forward (max relative error {err:.2e}): the map "
                             "is not invertible or the inverse is wrong; pass its exact inverse.")
        det = jacobian_det(self.forward, x)
        dev = float((det.abs() - 1.0).abs().max())
        if not dev <= max(tol, 1e-9) * 1e3:
            raise ValueError(f"the map is not equiareal: |det ∂h/∂x| deviates from 1 by up to "
                             f"{dev:.2e}. A push-forward keeps p(x) = q(h⁻¹(x)) only for det = ±1.")

    def conjugate(self, matrix, shift=None) -> Conjugate:
        """The map ``x ↦ h(M h⁻¹(x) + V)`` (a symmetry of ``h#q`` when ``Mx + V`` is one of ``q``).

        ``matrix`` ``[n, n]`` or ``[K, n, n]``; ``shift`` ``None``, ``[n]`` or ``[K, n]``.
        """
        return Conjugate(self, matrix, shift)

    def conjugate_map(self, g: EquiarealMap) -> EquiarealMap:
        """``h ∘ g ∘ h⁻¹`` for another equiareal map ``g`` (e.g. :func:`twist`), with its inverse."""
        if not isinstance(g, EquiarealMap) or g.dim != self.dim:
            raise ValueError(f"g must be an EquiarealMap of dimension {self.dim}")
        return EquiarealMap(lambda x: self.forward(g.forward(self.inverse(x))),
                            lambda y: self.forward(g.inverse(self.inverse(y))), self.dim,
                            check=False)

    def conjugate_rotation(self, theta) -> Conjugate:
        """``h ∘ R(θ) ∘ h⁻¹`` for the paper's rotation ``R(θ)`` (2D): ``θ`` scalar or ``[K]``."""
        if self.dim != 2:
            raise ValueError("conjugate_rotation needs a map of the plane (dim = 2)")
        return Conjugate(self, rotation_2d(theta))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim})"


class Conjugate:
    """``x ↦ h(M_k h⁻¹(x) + V_k)`` for ``K`` linear maps; ``inverse`` is exact.

    ``__call__(x [N, n] | [K, N, n]) -> [K, N, n]`` (``[N, n]`` when ``K = 1`` and ``x`` is ``[N, n]``).
    """

    def __init__(self, h: EquiarealMap, matrix, shift=None):
        M = _as_tensor(matrix).double()
        if M.ndim == 2:
            M = M[None]
        n = h.dim
        if M.ndim != 3 or M.shape[1:] != (n, n):
            raise ValueError(f"matrix must have shape [{n}, {n}] or [K, {n}, {n}]; got {tuple(M.shape)}")
        V = torch.zeros(M.shape[0], n, dtype=torch.float64) if shift is None else _as_tensor(shift).double()
        if V.ndim == 1:
            V = V[None].expand(M.shape[0], n)
        if V.shape != (M.shape[0], n):
            raise ValueError(f"shift must have shape [{n}] or [K, {n}]; got {tuple(V.shape)}")
        for name, t in (("matrix", M), ("shift", V)):
            if not torch.isfinite(t).all():
                raise ValueError(f"{name} contains NaN or inf; pass a finite linear map")
        self.h, self.M, self.V, self.dim = h, M, V, n
        self._single = M.shape[0] == 1

    def _lin(self, z, M, V):
        return torch.matmul(z, M.transpose(-1, -2)) + V[:, None, :]

    def _run(self, x, inverse: bool):
        x = _as_tensor(x)
        flat = x.ndim == 2
        z = self.h.inverse(x.to(torch.float64))
        if flat:
            z = z[None]
        if inverse:
            Minv = torch.linalg.inv(self.M)
            out = self._lin(z - self.V[:, None, :], Minv, torch.zeros_like(self.V))
        else:
            out = self._lin(z, self.M, self.V)
        y = self.h.forward(out)
        return y[0] if (flat and self._single) else y

    def __call__(self, x) -> torch.Tensor:
        return self._run(x, inverse=False)

    def inverse(self, y) -> torch.Tensor:
        return self._run(y, inverse=True)

    def __len__(self) -> int:
        return self.M.shape[0]


class Shear(EquiarealMap):
    """``x_target ↦ x_target + f(x_source)`` with ``f(t) = Σ_k c_k t^k``; other coordinates kept.

    The Jacobian is triangular with unit diagonal, so ``det = 1`` everywhere, and the inverse
    subtracts ``f`` again: no check is needed. In the plane (defaults) it is
    ``(x, y) ↦ (x, y + f(x))``.

    Args:
        coeffs: ``(c_0, c_1, …)`` of the polynomial ``f``.
        source, target: coordinate indices (distinct).
        dim: number of coordinates (default 2).
    """

    def __init__(self, coeffs, source: int = 0, target: int = 1, dim: int = 2):
        c = np.asarray(coeffs, dtype=np.float64).ravel()
        if c.size == 0 or not np.isfinite(c).all():
            raise ValueError("coeffs must be a non-empty list of finite polynomial coefficients")
        dim, source, target = int(dim), int(source), int(target)
        if not (0 <= source < dim and 0 <= target < dim) or source == target:
            raise ValueError(f"source and target must be distinct coordinates in [0, {dim}); "
                             f"got source={source}, target={target}")
        self.coeffs = tuple(float(v) for v in c)
        self.source, self.target = source, target
        super().__init__(self._apply_fwd, self._apply_inv, dim, check=False)

    def f(self, t: torch.Tensor) -> torch.Tensor:
        """``f(t) = Σ_k c_k t^k`` (Horner)."""
        out = torch.zeros_like(t)
        for c in reversed(self.coeffs):
            out = out * t + c
        return out

    def _apply(self, x, sign):
        d = self.f(x[..., self.source])
        cols = list(x.unbind(-1))
        cols[self.target] = cols[self.target] + sign * d
        return torch.stack(cols, -1)

    def _apply_fwd(self, x):
        return self._apply(x, 1.0)

    def _apply_inv(self, y):
        return self._apply(y, -1.0)

    def __repr__(self) -> str:
        terms = " + ".join(f"{c:g}·t^{k}" for k, c in enumerate(self.coeffs) if c != 0) or "0"
        return f"Shear(x{self.target} += f(x{self.source}), f(t) = {terms})"


def twist(alpha: Callable) -> EquiarealMap:
    """The twist ``w ↦ R(α(|w|)) w`` of the plane: each circle about the origin turns by its own
    angle ``α(r)`` (``alpha``: a torch function of the radius ``[...] -> [...]``, radians).

    In polar coordinates it is ``(r, φ) ↦ (r, φ + α(r))``, with Jacobian determinant 1: the
    map is equiareal and keeps every rotation-invariant density, so ``h ∘ twist ∘ h⁻¹`` is a
    symmetry of ``h#N₁,₁`` — one of infinitely many beyond ``h ∘ R_θ ∘ h⁻¹`` (constant ``α``).
    The inverse turns by ``−α(r)``. Checked like any :class:`EquiarealMap`.
    """
    def turn(w, sign):
        a = sign * alpha(w.norm(dim=-1))
        c, s = torch.cos(a), torch.sin(a)
        u, v = w[..., 0], w[..., 1]
        return torch.stack([c * u + s * v, c * v - s * u], -1)  # the paper's R(α)

    return EquiarealMap(lambda w: turn(w, 1.0), lambda w: turn(w, -1.0), dim=2)


def henon(a: float = 1.0) -> Shear:
    """The Hénon map of §III, ``(x, y) ↦ (x, y − a x²)`` (the paper's example has ``a = 1``)."""
    return Shear((0.0, 0.0, -float(a)))


def jacobian_det(fn: Callable, x: torch.Tensor) -> torch.Tensor:
    """``det ∂fn/∂x`` at every point of ``x [N, n]`` by autograd (``fn`` acts row-wise): ``[N]``."""
    x = _as_tensor(x).detach().clone().requires_grad_(True)
    y = fn(x)
    if y.ndim == 3 and y.shape[0] == 1:
        y = y[0]
    rows = [torch.autograd.grad(y[..., i].sum(), x, retain_graph=True)[0] for i in range(x.shape[-1])]
    return torch.linalg.det(torch.stack(rows, -2)).detach()


class NonlinearPushforward:
    """The push-forward ``p = h#q`` of a density ``q`` through an equiareal map ``h``.

    ``p(x) = q(h⁻¹(x))`` exactly (``|det| = 1``), so ``log_prob`` is exact and the analytic
    checks of the book (the Monte Carlo loss :func:`symlab.flows.mc_loss`) apply.

    Args:
        base: a density with ``.dim``, ``.sample(n, seed)`` and ``.log_prob`` (e.g.
            ``sl.paper.n11()``); ``sample_shaped`` is used when it has one.
        h: an :class:`~symlab.pushforward.EquiarealMap` (e.g. a
            :class:`~symlab.pushforward.Shear`, :func:`~symlab.pushforward.henon`) of the
            same dimension.

    The attributes ``dim``, ``base`` and ``h`` are the arguments. Every symmetry ``R`` of ``base`` gives the symmetry ``h ∘ R ∘ h⁻¹`` of this density:
    :meth:`symmetry` and :meth:`rotation` build them (with exact inverses).
    """

    def __init__(self, base, h: EquiarealMap):
        if not (hasattr(base, "sample") and hasattr(base, "log_prob") and hasattr(base, "dim")):
            raise ValueError("base must be a density with .dim, .sample and .log_prob "
                             "(e.g. sl.paper.n11())")
        if not isinstance(h, EquiarealMap):
            raise ValueError("h must be an equiareal map from symlab.pushforward (Shear, henon(), "
                             "or EquiarealMap(forward, inverse, dim) for your own)")
        if h.dim != base.dim:
            raise ValueError(f"h acts on dimension {h.dim} but the base density has dimension "
                             f"{base.dim}; pick matching ones")
        self.base, self.h, self.dim = base, h, int(base.dim)

    def sample(self, n: int, seed=None) -> torch.Tensor:
        """``n`` points ``h(X)``, ``X ~ q``: ``float32 [n, dim]``."""
        return self.sample_shaped((int(n),), seed=seed)

    def sample_shaped(self, shape: tuple, seed=None, dtype=torch.float32) -> torch.Tensor:
        """Points of shape ``[*shape, dim]`` (e.g. ``(K, B)``); ``seed`` an int or a ``torch.Generator``."""
        if hasattr(self.base, "sample_shaped"):
            z = self.base.sample_shaped(tuple(shape), seed=seed, dtype=torch.float64)
        else:
            z = _as_tensor(self.base.sample(int(np.prod(shape)), seed=seed)).double()
            z = z.reshape(*shape, self.dim)
        return self.h.forward(z).to(dtype)

    def log_prob(self, x) -> torch.Tensor:
        """Exact ``log p(x) = log q(h⁻¹(x))`` at ``x [..., dim]`` (float64 for numpy input)."""
        x = _as_tensor(x)
        if x.ndim == 0 or x.shape[-1] != self.dim:
            raise ValueError(f"x must have shape [..., {self.dim}] (the density's dimension); "
                             f"got {tuple(x.shape)}")
        if not torch.isfinite(x).all():
            raise ValueError("x contains NaN or inf; drop or fix those points first")
        return self.base.log_prob(self.h.inverse(x))

    def prob(self, x) -> torch.Tensor:
        return self.log_prob(x).exp()

    def symmetry(self, matrix, shift=None) -> Conjugate:
        """``h ∘ (x ↦ Mx + V) ∘ h⁻¹`` — a symmetry when ``Mx + V`` is a symmetry of ``base``."""
        return self.h.conjugate(matrix, shift)

    def rotation(self, theta) -> Conjugate:
        """``h ∘ R(θ) ∘ h⁻¹`` (2D; ``θ`` scalar or ``[K]``): symmetries when ``base`` is round."""
        return self.h.conjugate_rotation(theta)

    def spread(self, n: int = 200_000, seed: int = 0) -> float:
        """The RMS distance of the points from their mean, ``√(E|X − E X|²)``, by Monte Carlo."""
        x = self.sample_shaped((int(n),), seed=int(seed), dtype=torch.float64)
        return float((x - x.mean(0)).pow(2).sum(-1).mean().sqrt())

    def __repr__(self) -> str:
        return f"NonlinearPushforward({self.base!r}, {self.h!r})"
