"""Shared test settings: deterministic torch, quiet progress bars, a hypothesis profile."""

import os

import torch
from hypothesis import settings

os.environ.setdefault("SYMLAB_PROGRESS", "0")
torch.set_num_threads(min(2, torch.get_num_threads()))

settings.register_profile("ci", max_examples=40, deadline=None)
settings.load_profile("ci")
