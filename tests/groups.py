"""Exactly constructed group elements shared by the inference tests (not a test module)."""

import numpy as np

J = np.array([[0.0, 1.0], [-1.0, 0.0]])
JJ = np.block([[J, np.zeros((2, 2))], [np.zeros((2, 2)), J]])


def rot(a):
    """The paper's rotation [[cos, sin], [−sin, cos]] = exp(a J): [...] -> [..., 2, 2]."""
    c, s = np.cos(a), np.sin(a)
    return np.stack([np.stack([c, s], -1), np.stack([-s, c], -1)], -2)


def refl(a):
    """The reflection [[cos, sin], [sin, −cos]] about the axis at angle a/2: [...] -> [..., 2, 2]."""
    c, s = np.cos(a), np.sin(a)
    return np.stack([np.stack([c, s], -1), np.stack([s, -c], -1)], -2)
