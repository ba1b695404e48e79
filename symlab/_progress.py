"""When to show a tqdm progress bar (shared by the trainers and the event generator)."""

from __future__ import annotations

import os
import sys


def use_progress(progress) -> bool:
    """``progress`` if given; else ``SYMLAB_PROGRESS`` (0/false/no/off disable); else on in
    notebooks (an IPython kernel is loaded) and in terminals, off otherwise."""
    if progress is not None:
        return bool(progress)
    env = os.environ.get("SYMLAB_PROGRESS")
    if env is not None:
        return env.strip().lower() not in ("0", "false", "no", "off", "")
    return "ipykernel" in sys.modules or sys.stderr.isatty()
