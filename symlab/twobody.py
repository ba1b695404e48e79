"""Two-body orbits, regenerated offline, and the augmentation test of chapter 10.

LieGAN (Yang et al., ICML 2023) discovers the rotation symmetry of the gravitational
two-body problem on the orbits of the Hamiltonian-neural-network paper (Greydanus, Dzamba
and Yosinski, NeurIPS 2019). We regenerate such orbits with SciPy's ``solve_ivp`` following
that recipe — unit masses and ``G = 1``, the two bodies at ``±q`` with ``|q|`` from the
radius range, velocities that give a circular orbit, scaled by ``1 + orbit_noise · N(0, 1)``
to make the orbits slightly elliptical, integrated over ``t ∈ [0, 20]`` at ``rtol = 1e-9`` —
and store each state as four 2-vectors ``[q1, p1, q2, p2]`` (``p = m v = v``).

Differences from the pickled file LieGAN loads: (1) the recipe draws the initial position
in the square ``[min_radius, max_radius]²`` (the first quadrant only), and orbits of period
up to ``4π r^{3/2} ≈ 39`` do not complete a turn in ``t ≤ 20``, so its states are not
uniformly spread in angle; by default (``uniform_angle=True``) we rotate each initial
state by a uniform random angle, which makes the rotation group an exact symmetry of the
distribution (``uniform_angle=False`` reproduces the recipe). (2) Our random numbers come
from ``numpy.random.default_rng(seed)``, so individual orbits differ. (3) We integrate with
``DOP853`` and ``atol = 1e-12`` besides ``rtol = 1e-9``, so that energy and angular momentum
are conserved to better than ``1e-6`` relative along every trajectory (the tests check it).

As in the recipe, the centre of mass sits at rest at the origin: ``q2 = −q1`` and
``p2 = −p1``, so the states fill a 4-D subspace of the 8-D state space.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from scipy.integrate import solve_ivp

from . import _checks

__all__ = ["Orbits", "orbits", "energy", "angular_momentum", "rotation_generator",
           "augmentation_test", "Augmentation"]


@dataclass
class Orbits:
    """Trajectories of :func:`orbits`.

    Attributes:
        states: ``[trials, timesteps, 8]`` the states ``[q1x, q1y, p1x, p1y, q2x, q2y, p2x, p2y]``.
        t: ``[timesteps]`` the sampling times.
        config: the generator settings.
    """

    states: np.ndarray
    t: np.ndarray
    config: dict

    def points(self) -> np.ndarray:
        """``[trials · timesteps, 8]`` every state as one event."""
        return self.states.reshape(-1, 8)

    def split(self, n_train: int):
        """The first ``n_train`` trajectories and the rest, as two :class:`Orbits`."""
        n_train = _checks.count(n_train, "n_train")
        if n_train >= len(self.states):
            raise ValueError(f"n_train={n_train} leaves no test trajectories "
                             f"(there are {len(self.states)})")
        return (Orbits(self.states[:n_train], self.t, self.config),
                Orbits(self.states[n_train:], self.t, self.config))


def _rhs(t, y):
    """Newton's equations for two unit masses, ``G = 1``; ``y = [q1, p1, q2, p2]``."""
    q1, p1, q2, p2 = y[0:2], y[2:4], y[4:6], y[6:8]
    d = q2 - q1
    f = d / np.linalg.norm(d) ** 3  # force on body 1
    return np.concatenate([p1, f, p2, -f])


def orbits(trials: int = 1000, timesteps: int = 50, t_span=(0.0, 20.0),
           orbit_noise: float = 5e-2, min_radius: float = 0.5, max_radius: float = 1.5,
           uniform_angle: bool = True, noise: float = 0.0, seed: int = 0) -> Orbits:
    """Integrate ``trials`` two-body orbits (the Greydanus et al. 2019 recipe; see the module).

    Args:
        trials: number of trajectories.
        timesteps: states per trajectory, evenly spaced over ``t_span``.
        t_span: ``(t0, t1)``.
        orbit_noise: relative spread of the initial speed around the circular-orbit speed
            ``1 / (2 √r)`` (``r = |q1|``, half the separation).
        min_radius, max_radius: each coordinate of ``q1(0)`` is uniform in this range.
        uniform_angle: rotate each initial state by a uniform random angle (the default).
        noise: standard deviation of Gaussian noise added to the stored states (0: none).
        seed: the random seed.

    Returns:
        :class:`Orbits` with ``states [trials, timesteps, 8]``.
    """
    trials = _checks.count(trials, "trials")
    timesteps = _checks.count(timesteps, "timesteps", minimum=2)
    t0, t1 = (_checks.real(v, "t_span") for v in t_span)
    if not t1 > t0:
        raise ValueError(f"t_span must be increasing; got {t_span}")
    orbit_noise = _checks.nonnegative(orbit_noise, "orbit_noise")
    lo, hi = _checks.rate(min_radius, "min_radius"), _checks.rate(max_radius, "max_radius")
    if hi < lo:
        raise ValueError(f"max_radius={hi} is below min_radius={lo}")
    noise = _checks.nonnegative(noise, "noise")
    uniform_angle = _checks.flag(uniform_angle, "uniform_angle")
    rng = np.random.default_rng(_checks.resolve_seed(seed))
    t_eval = np.linspace(t0, t1, timesteps)
    out = np.empty((trials, timesteps, 8))
    for i in range(trials):
        q = rng.random(2) * (hi - lo) + lo
        r = float(np.linalg.norm(q))
        v = np.array([-q[1], q[0]]) / (2.0 * r**1.5)  # circular orbit about the centre
        v = v * (1.0 + orbit_noise * rng.standard_normal())
        if uniform_angle:
            a = rng.uniform(0.0, 2.0 * math.pi)
            R = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
            q, v = R @ q, R @ v
        y0 = np.concatenate([q, v, -q, -v])
        sol = solve_ivp(_rhs, (t0, t1), y0, t_eval=t_eval, method="DOP853", rtol=1e-9,
                        atol=1e-12)
        if not sol.success:  # pragma: no cover - the recipe's orbits are regular
            raise RuntimeError(f"orbit {i} failed to integrate: {sol.message}")
        out[i] = sol.y.T
    if noise > 0:
        out = out + noise * rng.standard_normal(out.shape)
    config = dict(trials=trials, timesteps=timesteps, t_span=(t0, t1), orbit_noise=orbit_noise,
                  min_radius=lo, max_radius=hi, uniform_angle=uniform_angle, noise=noise,
                  seed=seed)
    return Orbits(states=out, t=t_eval, config=config)


def _states(x, name: str = "x") -> np.ndarray:
    if isinstance(x, Orbits):
        return x.states
    s = _checks.as_array(x, name)
    if s.ndim == 0 or s.shape[-1] != 8 or s.size == 0:
        raise ValueError(f"{name} must be an Orbits or states [..., 8] ending in the 8 coordinates "
                         f"[q1, p1, q2, p2] (non-empty); got shape {s.shape}")
    return s


def energy(x) -> np.ndarray:
    """``[...]`` the energy ``(|p1|² + |p2|²)/2 − 1/|q1 − q2|`` of states ``[..., 8]``."""
    s = _states(x)
    kin = 0.5 * ((s[..., 2:4] ** 2).sum(-1) + (s[..., 6:8] ** 2).sum(-1))
    return kin - 1.0 / np.linalg.norm(s[..., 0:2] - s[..., 4:6], axis=-1)


def angular_momentum(x) -> np.ndarray:
    """``[...]`` the angular momentum ``q1 × p1 + q2 × p2`` of states ``[..., 8]``."""
    s = _states(x)

    def cross(a, b):
        return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    return cross(s[..., 0:2], s[..., 2:4]) + cross(s[..., 4:6], s[..., 6:8])


def rotation_generator() -> np.ndarray:
    """``[8, 8]`` the generator ``J ⊕ J ⊕ J ⊕ J`` (``J = [[0, −1], [1, 0]]``) of the rotation of
    all four 2-vectors together: the diagonal so(2)."""
    J = np.array([[0.0, -1.0], [1.0, 0.0]])
    return np.kron(np.eye(4), J)


@dataclass
class Augmentation:
    """Result of :func:`augmentation_test`: test MSE per augmentation (``dict`` name →
    float), and the settings."""

    mse: dict
    config: dict


def _sampler_from(aug, rng: torch.Generator):
    """``m -> [m, 8, 8]`` random matrices for one augmentation specification."""
    if aug is None:
        return None
    if callable(aug):
        return aug
    raise ValueError("an augmentation is None or a callable m -> [m, 8, 8] matrices")


def augmentation_test(train: Orbits, test: Orbits, augmentations: dict, horizon: int = 1,
                      steps: int = 2000, batch_size: int = 256, hidden=(64, 64),
                      lr: float = 3e-3, seed: int = 0) -> Augmentation:
    """LieGAN's augmentation protocol: an MLP predicts ``x(t + horizon)`` from ``x(t)``,
    trained on ``train`` with each batch's pairs mapped by random symmetries ``(g x, g y)``,
    and scored by its mean squared error on every pair of ``test``.

    ``augmentations`` maps a name to ``None`` (no augmentation) or a callable
    ``sample(m, generator) -> [m, 8, 8]`` drawing ``m`` matrices ``g`` (for instance from a
    learned algebra, a set of discovered elements, or the true rotation group). Every
    augmentation uses the same initial network, the same batches and the same optimiser
    (Adam), so their MSEs differ only through the augmentation. The predictors, one per
    augmentation, are trained together as one batch of networks (``bmm``), each on its own
    loss.
    """
    horizon = _checks.count(horizon, "horizon")
    steps = _checks.count(steps, "steps")
    B = _checks.count(batch_size, "batch_size")
    hidden = _checks.hidden(hidden)
    lr = _checks.rate(lr, "lr")
    seed = _checks.resolve_seed(seed)
    s_tr, s_te = _states(train, "train"), _states(test, "test")
    for nm, st in (("train", s_tr), ("test", s_te)):
        if st.ndim != 3:
            raise ValueError(f"{nm} must be an Orbits or states [trials, timesteps, 8]; got shape "
                             f"{st.shape}")
    if not isinstance(augmentations, Mapping):
        raise _checks.ArgumentTypeError(
            "augmentations must be a dict mapping a name to None or a sampler (m, generator) -> "
            f"[m, 8, 8], e.g. {{'none': None, 'true': twobody.rotations}}; got "
            f"{type(augmentations).__name__}")
    if min(s_tr.shape[1], s_te.shape[1]) <= horizon:
        raise ValueError(f"horizon={horizon} needs trajectories longer than {horizon} steps")
    x_tr = torch.tensor(s_tr[:, :-horizon].reshape(-1, 8), dtype=torch.float32)
    y_tr = torch.tensor(s_tr[:, horizon:].reshape(-1, 8), dtype=torch.float32)
    x_te = torch.tensor(s_te[:, :-horizon].reshape(-1, 8), dtype=torch.float32)
    y_te = torch.tensor(s_te[:, horizon:].reshape(-1, 8), dtype=torch.float32)
    config = dict(horizon=horizon, steps=steps, batch_size=B, hidden=hidden, lr=lr, seed=seed,
                  n_train=len(s_tr), n_test=len(s_te))
    names = list(augmentations)
    draws = [_sampler_from(augmentations[k], None) for k in names]
    if not names:
        return Augmentation(mse={}, config=config)
    # One predictor per augmentation, all trained at once as a batch: the same initial
    # network (copied), the same batches, the same schedule; Adam acts on each entry
    # separately, so the copies train independently.
    with torch.random.fork_rng(devices=[]):  # the initial weights, global RNG left untouched
        torch.manual_seed(seed)
        init, w = [], 8
        for h in (*hidden, 8):
            layer = torch.nn.Linear(w, h)
            init.append((layer.weight.detach().T, layer.bias.detach()))
            w = h
    A = len(names)
    params = []
    for W, b in init:  # [A, in, out] and [A, 1, out]
        params += [W.expand(A, *W.shape).clone().requires_grad_(),
                   b.expand(A, 1, b.shape[0]).clone().requires_grad_()]

    def predict(x):  # [A, m, 8] -> [A, m, 8]
        for i in range(0, len(params), 2):
            x = torch.baddbmm(params[i + 1], x, params[i])
            if i + 2 < len(params):
                x = torch.tanh(x)
        return x

    opt = torch.optim.Adam(params, lr=lr)
    gen = torch.Generator().manual_seed(seed)  # the batches
    aug_gens = [torch.Generator().manual_seed(seed + 1) for _ in names]  # each its own draws
    for step in range(steps):
        idx = torch.randint(0, len(x_tr), (B,), generator=gen)
        xs, ys = [], []
        x0, y0 = x_tr[idx], y_tr[idx]
        for draw, g in zip(draws, aug_gens):
            x, y = x0, y0
            if draw is not None:
                G = torch.as_tensor(draw(B, g), dtype=torch.float32)
                x = torch.einsum("bij,bj->bi", G, x)
                y = torch.einsum("bij,bj->bi", G, y)
            xs.append(x)
            ys.append(y)
        for group in opt.param_groups:  # cosine decay
            group["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step / steps))
        # the sum of the A mean squared errors: each copy gets the gradient of its own
        loss = (predict(torch.stack(xs)) - torch.stack(ys)).pow(2).mean((1, 2)).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        err = (predict(x_te.expand(A, *x_te.shape)) - y_te).pow(2).mean((1, 2))
    mse = {k: float(e) for k, e in zip(names, err)}
    return Augmentation(mse=mse, config=config)


def rotations(m: int, generator: torch.Generator) -> torch.Tensor:
    """``[m, 8, 8]`` rotations of all four 2-vectors by uniform random angles (the true
    symmetry group, for :func:`augmentation_test`)."""
    m = _checks.count(m, "m", minimum=0)
    a = torch.rand(m, generator=generator, dtype=torch.float64) * 2 * math.pi
    c, s = torch.cos(a), torch.sin(a)
    R = torch.stack([torch.stack([c, -s], -1), torch.stack([s, c], -1)], -2)  # [m, 2, 2]
    out = torch.zeros(m, 8, 8, dtype=torch.float64)
    for b in range(4):
        out[:, 2 * b:2 * b + 2, 2 * b:2 * b + 2] = R
    return out


def from_algebra(generators, scales, sigma: float = 1.0):
    """A sampler ``(m, generator) -> [m, n, n]`` of ``exp(Σ_j c_j L_j)``,
    ``c_j ~ N(0, (σ s_j)²)``, for ``generators [k, n, n]`` and ``scales [k]`` (one run of a
    :class:`~symlab.infer.AlgebraFit`)."""
    L = torch.as_tensor(_checks.as_array(generators, "generators"))
    if L.ndim == 2:
        L = L[None]
    s = torch.as_tensor(_checks.as_array(scales, "scales")).reshape(-1)
    if (s < 0).any():
        raise ValueError(f"scales must be >= 0 (standard deviations of the coefficients); got "
                         f"{s.tolist()}")
    s = s * _checks.nonnegative(sigma, "sigma")
    if L.ndim != 3 or L.shape[-1] != L.shape[-2] or len(s) != len(L):
        raise ValueError(f"generators must be [k, n, n] with one scale each; got "
                         f"{tuple(L.shape)} and {len(s)} scale(s)")

    def draw(m, generator):
        c = torch.randn(m, len(s), generator=generator, dtype=torch.float64) * s
        return torch.linalg.matrix_exp(torch.einsum("mj,jab->mab", c, L))
    return draw


def from_elements(matrices):
    """A sampler ``(m, generator) -> [m, n, n]`` drawing uniformly from a finite set of
    discovered elements ``[K, n, n]`` (SymmetryGAN's route)."""
    M = torch.as_tensor(_checks.as_array(matrices, "matrices"))
    if M.ndim == 2:
        M = M[None]
    if M.ndim != 3 or M.shape[-1] != M.shape[-2] or M.shape[0] == 0:
        raise ValueError(f"matrices must be a non-empty stack of square matrices [K, n, n]; got "
                         f"shape {tuple(M.shape)}")

    def draw(m, generator):
        return M[torch.randint(0, len(M), (m,), generator=generator)]
    return draw
