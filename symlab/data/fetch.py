"""Download the LHC Olympics 2020 R&D feature files (Zenodo record 4536377) with a checksum.

Needs the optional extra ``pip install 'symlab[fetch]'`` (pooch); nothing here runs at import.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

__all__ = ["LHCO_RECORD", "LHCO_FILES", "fetch_lhco"]

#: Zenodo record of the LHCO 2020 R&D dataset (Kasieczka, Nachman, Shih; doi:10.5281/zenodo.4536377).
LHCO_RECORD = "https://zenodo.org/record/4536377/files"

#: The one table of downloadable files: ``which`` → (file name, md5 or None, (rows, columns)).
#: ``None`` means no published checksum is known to symlab: the download is then checked by
#: its layout and shape only, and its md5 is reported so you can pin it with ``md5=...``.
LHCO_FILES: dict[str, tuple[str, str | None, tuple[int, int]]] = {
    "features": ("events_anomalydetection_v2.features.h5",
                 "271cf5e71fc756b2a8d2b32730689bdb", (1_100_000, 15)),
    "qcd": ("events_anomalydetection_DelphesPythia8_v2_qcd_features.h5", None, (999_999, 14)),
}


def _md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch_lhco(dest=".", which: str = "features", *, base_url: str | None = None,
               md5: str | None = None, progress: bool | None = None) -> Path:
    """Download one LHCO feature file into ``dest`` (skipped if a verified copy is there).

    Args:
        dest: directory to store the file in (created if needed).
        which: ``"features"`` (1.1 M events, QCD + W' signal, with ``label``; ~74 MB) or
            ``"qcd"`` (999,999 QCD events, no label) — the keys of ``LHCO_FILES``.
        base_url: where the files live (default ``LHCO_RECORD``); a mirror or a test server.
        md5: expected md5 (default: the one in ``LHCO_FILES``).
        progress: show pooch's progress bar (default: in terminals).

    Returns:
        Path of the verified file; read it with :func:`~symlab.data.load_dijets` or
        :func:`~symlab.data.read_lhco_features`.

    Raises:
        ImportError: pooch is missing (``pip install 'symlab[fetch]'``).
        ValueError: unknown ``which``; the download does not match its checksum or its layout.
        OSError: the download failed (network, HTTP error).
    """
    if not isinstance(which, str) or which not in LHCO_FILES:
        raise ValueError(f"which must be one of {sorted(LHCO_FILES)}; got {which!r}")
    from .. import _checks

    dest = _checks.path(dest, "dest")
    if md5 is not None and not (isinstance(md5, str) and len(md5) == 32
                                and all(ch in "0123456789abcdefABCDEF" for ch in md5)):
        raise ValueError(f"md5 must be a 32-character hexadecimal checksum or None; got {md5!r}")
    if base_url is not None and not isinstance(base_url, str):
        raise _checks.ArgumentTypeError(f"base_url must be a string (a URL) or None; got "
                                        f"{type(base_url).__name__}")
    try:
        import pooch
    except ImportError as err:
        raise ImportError("fetch_lhco needs pooch: pip install 'symlab[fetch]' (or pip install pooch)"
                          ) from err
    name, known, shape = LHCO_FILES[which]
    md5 = md5 or known
    url = f"{(base_url or LHCO_RECORD).rstrip('/')}/{name}"
    dest.mkdir(parents=True, exist_ok=True)
    progress = _checks.optional_flag(progress, "progress")
    if progress is None:
        import sys
        progress = sys.stderr.isatty()
    try:
        path = Path(pooch.retrieve(url, known_hash=f"md5:{md5}" if md5 else None, fname=name,
                                   path=dest, progressbar=bool(progress)))
    except ValueError as err:                      # pooch's hash mismatch
        if "hash" not in str(err).lower():
            raise
        raise ValueError(
            f"checksum mismatch for {name} from {url}: expected md5 {md5} ({err}). The download "
            "is corrupted or the file changed upstream; it was not kept. Retry, or check the URL "
            "/ pass the right md5=...") from err
    except Exception as err:                       # requests/HTTP errors -> OSError
        if isinstance(err, OSError):
            raise OSError(f"could not download {url}: {err}. Check the network or pass base_url= "
                          "to a mirror.") from err
        raise OSError(f"could not download {url}: {type(err).__name__}: {err}. Check the network "
                      "or pass base_url= to a mirror.") from err
    _check_shape(path, shape)
    if md5 is None:
        warnings.warn(f"{name}: no published md5 is known to symlab; the layout and shape {shape} "
                      f"check out and its md5 is {_md5(path)} (pin it with md5=...)", stacklevel=2)
    return path


def _check_shape(path: Path, shape: tuple[int, int]) -> None:
    from .lhco import _frame_group, _layout, _open

    with _open(path) as f:
        grp = _frame_group(f, "df", path)
        names, _ = _layout(grp, path, "df")
        rows = int(grp["axis1"].shape[0])
    if (rows, len(names)) != tuple(shape):
        raise ValueError(f"{path.name} has {rows} rows × {len(names)} columns, expected "
                         f"{shape[0]} × {shape[1]}: a wrong or truncated file. Delete it and fetch again.")
