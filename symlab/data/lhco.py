"""Read and write the LHC Olympics 2020 "features" HDF5 layout with h5py alone.

The LHC Olympics (LHCO) R&D files were written by ``pandas.DataFrame.to_hdf(key="df",
format="fixed")``. On disk that is plain HDF5, so no pandas, PyTables or pickle is needed:

``/df``  (group)
    attributes ``pandas_type = b"frame"``, ``ndim = 2``, ``nblocks = B``, ``encoding``.
``/df/axis0``  ``[C]`` bytes
    the column names, in column order.
``/df/axis1``  ``[N]`` int64
    the row index.
``/df/block{i}_items``  ``[C_i]`` bytes
    the names of the columns stored in block ``i`` (columns of one dtype share a block; with
    several blocks the items interleave with the order of ``axis0``).
``/df/block{i}_values``  ``[N, C_i]``
    the values of those columns.

:func:`read_lhco_features` reads any file of that layout (any number of blocks, numeric
columns); :func:`write_lhco_features` writes one (a single float32 block, gzip-compressed),
readable by both this module and ``pandas.read_hdf``. :func:`load_dijets` turns either the
bundled sample or a real LHCO file into the ``[N, 4]`` array of the paper's Sec. VI.A (Eq. 29).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path

import h5py
import numpy as np

from .. import _checks

__all__ = [
    "LHCO_COLUMNS", "DIJET_COLUMNS", "BLOSC_FILTER_ID",
    "read_lhco_features", "write_lhco_features", "load_dijets", "sample_path",
    "check_filters", "dijet_summary", "LHCO_REFERENCE",
]

#: The 14 per-event features of the LHCO files (jets ordered by pT), in file order;
#: the mixed signal+background file adds a float ``label`` column (0 = QCD, 1 = signal).
LHCO_COLUMNS: tuple[str, ...] = (
    "pxj1", "pyj1", "pzj1", "mj1", "tau1j1", "tau2j1", "tau3j1",
    "pxj2", "pyj2", "pzj2", "mj2", "tau1j2", "tau2j2", "tau3j2",
)

#: The columns of the paper's event vector X = (p1x, p1y, p2x, p2y) (Eq. 29), in GeV.
DIJET_COLUMNS: tuple[str, ...] = ("pxj1", "pyj1", "pxj2", "pyj2")

#: HDF5 filter id registered for Blosc (used by the LHCO raw-hadron files).
BLOSC_FILTER_ID = 32001

_SAMPLE_NAME = "dijets_sample.h5"
_REGENERATE = ("python -m symlab.data.generate --events 100000 --seed 20220531 "
               "--out symlab/data/dijets_sample.h5  (needs `pip install symlab[generate]`)")


# ----------------------------------------------------------------------------- reading
def read_lhco_features(path, key: str = "df", columns: Sequence[str] | None = None
                       ) -> dict[str, np.ndarray]:
    """Read a pandas ``format="fixed"`` frame (the LHCO features layout) with h5py alone.

    Args:
        path: the HDF5 file, e.g. ``events_anomalydetection_v2.features.h5`` or the bundled
            sample (:func:`sample_path`).
        key: the group that holds the frame (pandas' ``key``; ``"df"`` in the LHCO files).
        columns: read only these columns (default: all, in file order).

    Returns:
        ``dict`` mapping column name → 1D numpy array ``[N]`` with the stored dtype (float32
        in the LHCO files), in the column order of ``axis0`` (or of ``columns``). The row
        index (``axis1``) is not returned; ``label`` (when present) is a float column with
        0 = background.

    Raises:
        FileNotFoundError: the file does not exist.
        OSError: the file is not HDF5, or a dataset needs an HDF5 filter that is not
            available (Blosc: ``pip install hdf5plugin`` and ``import hdf5plugin``).
        ValueError: the group is missing, or it is not a pandas fixed-format frame.
    """
    path = _checks.path(path, "path")
    key = _checks.text(key, "key")
    if columns is not None:
        if isinstance(columns, (str, bytes)) or not isinstance(columns, (Sequence, np.ndarray)):
            raise _checks.ArgumentTypeError(f"columns must be a list of column names (e.g. "
                                            f"columns=['pxj1']) or None; got {columns!r}")
        if not all(isinstance(c, str) for c in columns):
            raise _checks.ArgumentTypeError(f"columns must be column names (strings); got {list(columns)!r}")
    with _open(path) as f:
        grp = _frame_group(f, key, path)
        names, blocks = _layout(grp, path, key)
        wanted = list(names) if columns is None else list(columns)
        missing = [c for c in wanted if c not in names]
        if missing:
            raise ValueError(f"{path.name}: no column(s) {missing} in /{key}; the file has {list(names)}")
        n_rows = int(grp["axis1"].shape[0])
        where = {}                                 # column name -> (block values dataset, position)
        for items, dset in blocks:
            for j, name in enumerate(items):
                where[name] = (dset, j)
        out: dict[str, np.ndarray] = {}
        cache: dict[str, np.ndarray] = {}
        for name in wanted:
            dset, j = where[name]
            check_filters(dset)
            if dset.name not in cache:
                cache[dset.name] = _read_block(dset, n_rows, path)
            out[name] = np.ascontiguousarray(cache[dset.name][:, j])
        return out


def check_filters(dset: h5py.Dataset) -> None:
    """Raise ``OSError`` if ``dset`` needs an HDF5 filter this h5py cannot apply.

    The LHCO raw-hadron files use Blosc (filter id 32001), which plain h5py lacks; the
    ``hdf5plugin`` package registers it on import. Reads the dataset's filter pipeline
    (``dset.id.get_create_plist()``) without touching the data.
    """
    if not isinstance(dset, h5py.Dataset):
        raise _checks.ArgumentTypeError(f"dset must be an h5py.Dataset; got {type(dset).__name__}")
    plist = dset.id.get_create_plist()
    for i in range(plist.get_nfilters()):
        code, _flags, _values, name = plist.get_filter(i)
        if h5py.h5z.filter_avail(code):
            continue
        label = name.decode(errors="replace") if isinstance(name, bytes) else str(name)
        if code == BLOSC_FILTER_ID:
            raise OSError(
                f"dataset {dset.name} in {Path(dset.file.filename).name} is Blosc-compressed "
                f"(HDF5 filter {BLOSC_FILTER_ID}), which plain h5py cannot decode. Fix: "
                "`pip install hdf5plugin`, then `import hdf5plugin` before reading.")
        raise OSError(
            f"dataset {dset.name} in {Path(dset.file.filename).name} needs HDF5 filter {code} "
            f"({label or 'unnamed'}), which is not available. Fix: install and import the "
            "plugin that provides it (most third-party filters: `pip install hdf5plugin`, "
            "then `import hdf5plugin`).")


def _open(path: Path) -> h5py.File:
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: no such file. Check the path, or download the LHCO file with "
            "symlab.data.fetch_lhco(dest) (needs `pip install symlab[fetch]`).")
    if path.is_dir():
        raise OSError(f"{path} is a directory; pass the .h5 file inside it")
    if not h5py.is_hdf5(path):
        raise OSError(
            f"{path} is not an HDF5 file (a partial download, an HTML error page, or another "
            "format?). Fix: download it again (symlab.data.fetch_lhco checks the md5) or pass "
            "the right file.")
    try:
        return h5py.File(path, "r")
    except OSError as err:
        raise OSError(f"{path}: HDF5 file could not be opened ({err}); it may be truncated or "
                      "corrupted. Download or regenerate it.") from err


def _frame_group(f: h5py.File, key: str, path: Path) -> h5py.Group:
    key = key.strip("/")
    if key not in f or not isinstance(f[key], h5py.Group):
        groups = sorted(k for k in f.keys() if isinstance(f[k], h5py.Group))
        hint = f"pass key={groups[0]!r}" if groups else "it holds no frame at all"
        raise ValueError(f"{path.name}: no group /{key} (the LHCO files keep their frame in /df); "
                         f"the file has groups {groups}: {hint}.")
    return f[key]


def _text(value) -> str:
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, bytes | np.bytes_):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)


def _names(dset: h5py.Dataset, encoding: str) -> list[str]:
    raw = dset[()]
    return [v.decode(encoding) if isinstance(v, bytes | np.bytes_) else str(v) for v in np.ravel(raw)]


def _layout(grp: h5py.Group, path: Path, key: str):
    """Validate a pandas fixed frame; return (column names, [(block items, values dataset)])."""
    where = f"{path.name}:/{key}"
    kind = _text(grp.attrs.get("pandas_type", b""))
    fix_hint = ("Read it with pandas.read_hdf, or rewrite it with "
                "df.to_hdf(path, key='df', format='fixed') (all-numeric columns).")
    if kind == "frame_table":
        raise ValueError(f"{where} was written with format='table', not the fixed layout of the "
                         f"LHCO files. {fix_hint}")
    if kind != "frame":
        raise ValueError(f"{where}: unknown layout (pandas_type={kind or 'missing'!r}; expected "
                         f"'frame', a pandas DataFrame in fixed format). {fix_hint}")
    ndim = int(grp.attrs.get("ndim", 2))
    if ndim != 2 or "axis0" not in grp or "axis1" not in grp:
        raise ValueError(f"{where}: unknown layout (ndim={ndim}, datasets {sorted(grp)}); expected "
                         f"a 2D frame with axis0, axis1 and block*_items/values. {fix_hint}")
    if "nblocks" not in grp.attrs:
        raise ValueError(f"{where}: unknown layout (no 'nblocks' attribute). {fix_hint}")
    if _text(grp.attrs.get("axis0_variety", b"regular")) != "regular":
        raise ValueError(f"{where}: MultiIndex columns are not supported. {fix_hint}")
    encoding = _text(grp.attrs.get("encoding", b"UTF-8")) or "UTF-8"
    if encoding.lower() in ("none", ""):
        encoding = "UTF-8"
    names = _names(grp["axis0"], encoding)
    nblocks = int(grp.attrs["nblocks"])
    blocks, seen = [], []
    for i in range(nblocks):
        ik, vk = f"block{i}_items", f"block{i}_values"
        if ik not in grp or vk not in grp:
            raise ValueError(f"{where}: unknown layout (nblocks={nblocks} but {ik}/{vk} missing). "
                             f"{fix_hint}")
        dset = grp[vk]
        if not isinstance(dset, h5py.Dataset) or dset.dtype.kind not in "biuf":
            raise ValueError(f"{where}: block {i} holds non-numeric data ({getattr(dset, 'dtype', '?')}, "
                             "e.g. pickled strings), which symlab does not read. Keep only numeric "
                             "columns or use pandas.read_hdf.")
        items = _names(grp[ik], encoding)
        if dset.ndim != 2:
            raise ValueError(f"{where}: unknown layout ({vk} has shape {dset.shape}, expected a 2D "
                             f"[N, C] block). {fix_hint}")
        n_cols = dset.shape[1] if bool(dset.attrs.get("transposed", True)) else dset.shape[0]
        if len(items) != n_cols:
            raise ValueError(f"{where}: block {i} lists {len(items)} column name(s) in {ik} but "
                             f"{vk} holds {n_cols} column(s); the file is corrupted or not a "
                             f"pandas fixed frame. {fix_hint}")
        blocks.append((items, dset))
        seen += items
    if sorted(seen) != sorted(names) or len(set(names)) != len(names):
        raise ValueError(f"{where}: unknown layout: the block items {seen} do not match the "
                         f"columns {names} one to one. {fix_hint}")
    return names, blocks


def _read_block(dset: h5py.Dataset, n_rows: int, path: Path) -> np.ndarray:
    """Values of one block as ``[N, C_i]``; pandas stores ``[N, C_i]`` with ``transposed=1``."""
    try:
        values = dset[()]
    except OSError as err:                         # e.g. a filter that failed at read time
        check_filters(dset)
        raise OSError(f"{path.name}:{dset.name} could not be read ({err}); the file may be "
                      "truncated or corrupted. Download or regenerate it.") from err
    if values.ndim != 2:
        raise ValueError(f"{path.name}:{dset.name}: unknown layout (values have shape "
                         f"{values.shape}, expected [N, C]).")
    transposed = bool(dset.attrs.get("transposed", True))
    if not transposed:                             # stored [C_i, N]
        values = values.T
    if values.shape[0] != n_rows:
        raise ValueError(f"{path.name}:{dset.name}: unknown layout ({values.shape[0]} rows but the "
                         f"index axis1 has {n_rows}); the file may be corrupted.")
    return values


# ----------------------------------------------------------------------------- writing
def _set_attrs(obj, items: Mapping[str, object]) -> None:
    """Set HDF5 attributes; ``bytes`` become fixed-length UTF-8 strings, as PyTables writes
    them (PyTables, hence pandas, decodes only those to ``str``); ``np.bytes_`` stay ASCII."""
    for k, v in items.items():
        if type(v) is bytes:
            obj.attrs.create(k, np.bytes_(v), dtype=h5py.string_dtype("utf-8", max(len(v), 1)))
        else:
            obj.attrs[k] = v


def write_lhco_features(path, columns: Mapping[str, np.ndarray], key: str = "df",
                        compression: str | None = "gzip", attrs: Mapping[str, object] | None = None
                        ) -> Path:
    """Write columns in the LHCO features layout (pandas fixed format), with h5py alone.

    All columns go into one float32 block ``[N, C]``; the file reads back with
    :func:`read_lhco_features` and with ``pandas.read_hdf(path, key)``.

    Args:
        path: output file (overwritten).
        columns: ordered mapping name → 1D array ``[N]`` (e.g. ``LHCO_COLUMNS`` + ``label``).
        key: the group name (``"df"`` as in the LHCO files).
        compression: ``"gzip"`` (default; built into every h5py) or ``None``.
        attrs: extra provenance attributes stored on the root of the file (strings/numbers).

    Returns:
        The path written.
    """
    if not isinstance(columns, Mapping):
        raise _checks.ArgumentTypeError(f"columns must be a mapping name -> 1D array (e.g. a dict); "
                                        f"got {type(columns).__name__}")
    path = _checks.path(path, "path")
    key = _checks.text(key, "key").strip("/")
    if compression is not None:
        _checks.choice(compression, "compression", ("gzip",))
    if attrs is not None and not isinstance(attrs, Mapping):
        raise _checks.ArgumentTypeError(f"attrs must be a mapping or None; got {type(attrs).__name__}")
    if not all(isinstance(c, str) for c in columns):
        raise _checks.ArgumentTypeError(f"column names must be strings; got {list(columns)!r}")
    names = list(columns)
    if not names:
        raise ValueError("no columns to write")
    arrays = []
    for c in names:
        col = columns[c]
        if isinstance(col, np.ndarray) and col.dtype == bool:
            col = col.astype(np.float64)  # a boolean label column is stored as 0/1
        arrays.append(_checks.as_array(col, f"columns[{c!r}]", finite=False))
    n = arrays[0].shape[0] if arrays[0].ndim else 0
    if any(a.ndim != 1 or a.shape[0] != n for a in arrays):
        raise ValueError(f"every column must be 1D with the same length; got shapes "
                         f"{[a.shape for a in arrays]}")
    for c, a in zip(names, arrays, strict=True):
        too_big = np.isfinite(a) & (np.abs(a) > np.finfo(np.float32).max)
        if too_big.any():
            raise ValueError(f"columns[{c!r}] has {int(too_big.sum())} value(s) up to "
                             f"{np.abs(a[too_big]).max():.3g}, beyond the float32 range of the "
                             "LHCO layout (3.4e38): they would be stored as inf. Rescale them "
                             "(e.g. other units) first.")
    values = np.stack(arrays, axis=1).astype(np.float32)      # [N, C]
    name_bytes = np.array([c.encode("utf-8") for c in names])
    if path.is_dir():
        raise IsADirectoryError(f"path {path} is a directory; pass the name of the .h5 file to "
                                "write (e.g. path / 'features.h5')")
    path.parent.mkdir(parents=True, exist_ok=True)
    opts = {"compression": compression, "compression_opts": 9, "shuffle": True} if compression else {}
    title = h5py.Empty(np.dtype("S1"))
    with h5py.File(path, "w") as f:
        # PyTables' node metadata, so that pandas/PyTables decode the attributes as strings
        _set_attrs(f, {"CLASS": b"GROUP", "PYTABLES_FORMAT_VERSION": b"2.1", "TITLE": title,
                       "VERSION": b"1.0"})
        for k, v in (attrs or {}).items():
            f.attrs[k] = v
        gcpl = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
        gcpl.set_obj_track_times(False)            # no timestamps: same data, same bytes
        g = h5py.Group(h5py.h5g.create(f.id, key.encode(), gcpl=gcpl))
        _set_attrs(g, {"CLASS": b"GROUP", "TITLE": title, "VERSION": b"1.0",
                       "pandas_type": b"frame", "pandas_version": b"0.15.2", "encoding": b"UTF-8",
                       "errors": b"strict", "ndim": np.int64(2), "axis0_variety": b"regular",
                       "axis1_variety": b"regular", "nblocks": np.int64(1),
                       "block0_items_variety": b"regular"})
        array_meta = {"CLASS": b"ARRAY", "FLAVOR": b"numpy", "TITLE": title, "VERSION": b"2.4"}
        for dname, data, kind in (("axis0", name_bytes, b"string"),
                                  ("axis1", np.arange(n, dtype=np.int64), b"integer"),
                                  ("block0_items", name_bytes, b"string")):
            d = g.create_dataset(dname, data=data, track_times=False,
                                 **(opts if dname == "axis1" and n else {}))
            _set_attrs(d, {**array_meta, "kind": kind, "name": np.bytes_(b"N."), "transposed": np.uint8(1)})
        d = g.create_dataset("block0_values", data=values, track_times=False, **(opts if n else {}))
        _set_attrs(d, {**array_meta, "transposed": np.uint8(1)})
    return path


# ----------------------------------------------------------------------------- dijets
def sample_path() -> Path:
    """Path of the bundled dijet sample ``symlab/data/dijets_sample.h5`` (package data).

    Raises ``FileNotFoundError`` (with the regeneration command) if it is missing.
    """
    p = Path(str(resources.files("symlab.data") / _SAMPLE_NAME))
    if not p.exists():
        raise FileNotFoundError(
            f"the bundled dijet sample {p} is missing (a partial checkout or install?). "
            f"Reinstall symlab, pass path=... to a LHCO file, or regenerate it: {_REGENERATE}")
    return p


def load_dijets(path=None, background_only: bool = True, key: str = "df") -> np.ndarray:
    """The paper's dijet event vectors X = (p1x, p1y, p2x, p2y) (Sec. VI.A, Eq. 29).

    Args:
        path: a file in the LHCO features layout, e.g. ``events_anomalydetection_v2.features.h5``
            (QCD + signal, with ``label``) or the QCD-only
            ``events_anomalydetection_DelphesPythia8_v2_qcd_features.h5``. ``None`` (default)
            reads the bundled Pythia 8 sample (:func:`sample_path`, see ``data/README.md``).
        background_only: keep only ``label == 0`` rows (QCD) when the file has a ``label``
            column; files without one are taken to be all background.
        key: the HDF5 group of the frame.

    Returns:
        float32 numpy array ``[N, 4]`` with columns ``pxj1, pyj1, pxj2, pyj2`` in GeV
        (jet 1 = the leading jet in pT).

    Raises:
        OSError: an unreadable file or layout (see :func:`read_lhco_features`).
        ValueError: no background rows, or non-finite momenta.
    """
    path = sample_path() if path is None else _checks.path(path, "path")
    background_only = _checks.flag(background_only, "background_only")
    key = _checks.text(key, "key")
    with _open(path) as f:
        grp = _frame_group(f, key, path)
        names, _ = _layout(grp, path, key)
    want = list(DIJET_COLUMNS) + (["label"] if background_only and "label" in names else [])
    cols = read_lhco_features(path, key=key, columns=want)
    x = np.stack([cols[c] for c in DIJET_COLUMNS], axis=1).astype(np.float32, copy=False)
    if "label" in cols:
        label = cols["label"]
        x = x[label == 0]
        if len(x) == 0:
            raise ValueError(f"{path.name}: no background rows (label == 0) among {len(label)}; "
                             "pass background_only=False to load them all.")
    bad = ~np.isfinite(x).all(axis=1)
    if bad.any():
        raise ValueError(f"{path.name}: {int(bad.sum())} row(s) with NaN/inf jet momenta; the file "
                         "is corrupted. Download or regenerate it.")
    return np.ascontiguousarray(x)


# ----------------------------------------------------------------------------- summaries
#: Distributions of the LHCO R&D QCD sample (Pythia 8 + Delphes), for comparison.
LHCO_REFERENCE: dict[str, float] = {
    "pt1_median": 1336.0, "pt2_median": 1195.0, "frac_pt2_below_1200": 0.5,
    "imbalance_median": 0.042, "dphi_median": 3.09, "frac_dphi_above_2.5": 0.94,
}


def dijet_summary(x) -> dict[str, float]:
    """Kinematic summary of dijet events ``x`` ``[N, 4]`` = (p1x, p1y, p2x, p2y) in GeV.

    Returns a dict with ``n``, ``pt1_median``, ``pt2_median``, ``frac_pt2_below_1200``,
    ``imbalance_median`` (of (pT1 − pT2)/(pT1 + pT2)), ``dphi_median`` (of ``|Δφ|`` in [0, π]) and
    ``frac_dphi_above_2.5``; compare with ``LHCO_REFERENCE``.
    """
    x = _checks.as_array(x, "x")
    if x.ndim != 2 or x.shape[1] != 4 or len(x) == 0:
        raise ValueError(f"x must have shape [N, 4] = (p1x, p1y, p2x, p2y) with N ≥ 1; got {x.shape}")
    pt1, pt2 = np.hypot(x[:, 0], x[:, 1]), np.hypot(x[:, 2], x[:, 3])
    dphi = np.abs(np.angle(np.exp(1j * (np.arctan2(x[:, 1], x[:, 0]) - np.arctan2(x[:, 3], x[:, 2])))))
    return {
        "n": float(len(x)),
        "pt1_median": float(np.median(pt1)),
        "pt2_median": float(np.median(pt2)),
        "frac_pt2_below_1200": float(np.mean(pt2 < 1200.0)),
        "imbalance_median": float(np.median((pt1 - pt2) / (pt1 + pt2))),
        "dphi_median": float(np.median(dphi)),
        "frac_dphi_above_2.5": float(np.mean(dphi > 2.5)),
    }
