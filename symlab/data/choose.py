"""Which dijet events a chapter runs on: a reader's LHC Olympics file, or the bundled sample.

The dijet chapter has one setting, a path to the LHCO features file (or ``"download"``, or
``None``); :func:`choose_dijets` turns it into the events and a line saying where they came
from, so the chapter's first output tells the reader which data it shows.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .. import _checks

__all__ = ["DijetEvents", "LHCO_ENV", "choose_dijets"]

#: The environment variable read when no path is given: a path to an LHCO features file,
#: ``download`` (fetch it with :func:`~symlab.data.fetch_lhco`), or empty/unset.
LHCO_ENV = "SYMLAB_LHCO_FILE"


class DijetEvents(NamedTuple):
    """Events and where they came from (:func:`choose_dijets`)."""

    x: np.ndarray       #: float32 ``[n, 4]`` = (p1x, p1y, p2x, p2y) in GeV (Eq. 29)
    source: str         #: ``"lhco"`` (a reader's LHCO file) or ``"sample"`` (the bundled one)
    path: Path          #: the file read
    total: int          #: background events in that file (``x`` holds the first ``n``)
    description: str    #: one line for the chapter's first output


def _default_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "symlab"


def choose_dijets(path=None, n: int | None = 100_000, *, env: str = LHCO_ENV,
                  download_dir=None) -> DijetEvents:
    """The dijet events of a chapter: the LHCO file where the reader has it, else the sample.

    Args:
        path: the LHCO features file (``events_anomalydetection_v2.features.h5`` or the
            QCD-only file; its background rows are used); ``"download"`` to fetch the
            features file with :func:`~symlab.data.fetch_lhco` (needs the network and
            ``symlab[fetch]``); ``None`` (default) to read the environment variable ``env``
            with the same meaning, and the bundled sample when it is unset or empty.
        n: keep the first ``n`` events (default 100,000, the size of the bundled sample);
            ``None`` keeps them all.
        env: the environment variable read when ``path`` is None (``SYMLAB_LHCO_FILE``).
        download_dir: where ``"download"`` stores the file (default ``~/.cache/symlab``).

    Returns:
        :class:`DijetEvents` ``(x, source, path, total, description)``.

    Raises:
        FileNotFoundError: a path was given (or set in ``env``) but no such file exists —
            a typo is reported, not silently replaced by the sample.
        OSError, ValueError: the file cannot be read as an LHCO features file
            (see :func:`~symlab.data.load_dijets`).

    A failed download (no network, no pooch) falls back to the bundled sample and says so
    in ``description``.
    """
    from .fetch import fetch_lhco
    from .lhco import load_dijets, sample_path

    if n is not None:
        n = _checks.count(n, "n", maximum=None)
    env = _checks.text(env, "env")
    origin = "path"
    if path is None:
        path, origin = os.environ.get(env, "").strip() or None, f"${env}"
    note = ""
    if isinstance(path, str) and path.strip().lower() == "download":
        try:
            path = fetch_lhco(_default_dir() if download_dir is None else download_dir,
                              "features", progress=False)
        except (ImportError, OSError, ValueError) as err:
            path, note = None, f" (the LHCO download failed: {type(err).__name__}: {err})"
    if path is None:
        file, source = sample_path(), "sample"
    else:
        file, source = _checks.path(path, "path").expanduser(), "lhco"
        if not file.is_file():
            raise FileNotFoundError(
                f"{file}: no such file ({origin} names it). Give the path of the LHCO features "
                f"file, 'download' to fetch it, or None / unset {env} for the bundled sample.")
    x = load_dijets(file)
    total = len(x)
    x = np.ascontiguousarray(x[:n]) if n is not None else x
    if source == "sample":
        description = (f"data: the bundled Pythia 8 sample, {len(x):,} events{note}; set "
                       f"LHCO_FILE (or ${env}) to the LHCO features file to run on it")
    else:
        description = (f"data: the LHC Olympics file {file.name}, the first {len(x):,} of its "
                       f"{total:,} background events")
    return DijetEvents(x, source, file, total, description)
