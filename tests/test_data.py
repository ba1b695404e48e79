"""symlab.data: the LHCO features layout, the bundled sample, downloads, the generator.

Fixtures are written in the real on-disk layout (pandas ``to_hdf(format="fixed")`` and the same
layout by hand with h5py). No network: ``fetch_lhco`` talks to a local HTTP server.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import importlib.util
import re
import sys
import threading
from pathlib import Path

import h5py
import numpy as np
import pytest

from symlab import data as sd
from symlab.data import fetch as sd_fetch

COLUMNS = [*sd.LHCO_COLUMNS, "label"]
HAVE_PANDAS = all(importlib.util.find_spec(m) is not None for m in ("pandas", "tables"))
HAVE_GENERATOR = all(importlib.util.find_spec(m) is not None for m in ("pythia8mc", "fastjet"))
HAVE_FASTJET = importlib.util.find_spec("fastjet") is not None
REPO = Path(__file__).resolve().parents[1]


def _events(n=50, seed=0):
    """Random LHCO-like columns: name -> float32 [n]; label alternates 0 / 1 / 0 …"""
    rng = np.random.default_rng(seed)
    cols = {c: rng.normal(0, 500, n).astype(np.float32) for c in sd.LHCO_COLUMNS}
    cols["label"] = (np.arange(n) % 3 == 1).astype(np.float32)
    return cols


def _write_fixed_by_hand(path, cols, blocks, key="df", as_bytes=True):
    """The pandas fixed layout written with h5py, with the given blocks of column names."""
    names = list(cols)
    enc = (lambda s: s.encode()) if as_bytes else str
    with h5py.File(path, "w") as f:
        g = f.create_group(key)
        g.attrs["pandas_type"] = np.bytes_(b"frame")
        g.attrs["ndim"] = 2
        g.attrs["nblocks"] = len(blocks)
        g.attrs["encoding"] = np.bytes_(b"UTF-8")
        dt = h5py.string_dtype() if not as_bytes else None
        g.create_dataset("axis0", data=np.array([enc(c) for c in names], dtype=dt))
        g.create_dataset("axis1", data=np.arange(len(cols[names[0]]), dtype=np.int64))
        for i, (items, dtype) in enumerate(blocks):
            g.create_dataset(f"block{i}_items", data=np.array([enc(c) for c in items], dtype=dt))
            d = g.create_dataset(f"block{i}_values",
                                 data=np.stack([cols[c] for c in items], 1).astype(dtype))
            d.attrs["transposed"] = np.uint8(1)


# ----------------------------------------------------------------------------- reading
@pytest.mark.skipif(not HAVE_PANDAS, reason="pandas/PyTables not installed (optional)")
def test_reads_pandas_fixed_file_exactly(tmp_path):
    import pandas as pd

    cols = _events(40)
    path = tmp_path / "lhco.h5"
    pd.DataFrame(cols).to_hdf(path, key="df", format="fixed")
    got = sd.read_lhco_features(path)
    assert list(got) == COLUMNS
    for c in COLUMNS:
        assert got[c].dtype == np.float32
        np.testing.assert_array_equal(got[c], cols[c])
    x = sd.load_dijets(path)
    bg = cols["label"] == 0
    expect = np.stack([cols[c][bg] for c in sd.DIJET_COLUMNS], 1)
    assert x.dtype == np.float32 and x.shape == (bg.sum(), 4)
    np.testing.assert_array_equal(x, expect)
    assert sd.load_dijets(path, background_only=False).shape == (40, 4)


@pytest.mark.skipif(not HAVE_PANDAS, reason="pandas/PyTables not installed (optional)")
def test_reads_pandas_multiblock_and_pandas_reads_ours(tmp_path):
    import pandas as pd

    rng = np.random.default_rng(1)
    df = pd.DataFrame({"pxj1": rng.normal(size=7).astype(np.float32), "n": np.arange(7),
                       "pyj1": rng.normal(size=7), "pxj2": rng.normal(size=7).astype(np.float32),
                       "pyj2": rng.normal(size=7), "label": np.zeros(7, np.float32)})
    path = tmp_path / "mixed.h5"
    df.to_hdf(path, key="df", format="fixed")
    with h5py.File(path) as f:
        assert f["df"].attrs["nblocks"] >= 3          # float32, int64, float64 blocks
    got = sd.read_lhco_features(path)
    assert list(got) == list(df.columns)
    for c in df.columns:
        np.testing.assert_array_equal(got[c], df[c].to_numpy())
    # and the other way round: pandas reads what write_lhco_features writes
    cols = _events(9)
    sd.write_lhco_features(tmp_path / "ours.h5", cols)
    back = pd.read_hdf(tmp_path / "ours.h5", "df")
    assert list(back.columns) == COLUMNS
    np.testing.assert_array_equal(back.to_numpy(), np.stack([cols[c] for c in COLUMNS], 1))


@pytest.mark.parametrize("as_bytes", [True, False])
def test_h5py_fixture_interleaved_blocks(tmp_path, as_bytes):
    cols = _events(30, seed=2)
    # three blocks whose items interleave with the column order of axis0
    blocks = [(COLUMNS[0::3], np.float32), (COLUMNS[1::3], np.float64), (COLUMNS[2::3], np.float32)]
    path = tmp_path / "hand.h5"
    _write_fixed_by_hand(path, cols, blocks, as_bytes=as_bytes)
    got = sd.read_lhco_features(path)
    assert list(got) == COLUMNS
    for c in COLUMNS:
        np.testing.assert_allclose(got[c], cols[c], rtol=0, atol=0)
    sub = sd.read_lhco_features(path, columns=["pyj2", "pxj1"])
    assert list(sub) == ["pyj2", "pxj1"]
    x = sd.load_dijets(path)
    bg = cols["label"] == 0
    np.testing.assert_array_equal(x[:, 3], cols["pyj2"][bg])
    assert x.dtype == np.float32


def test_write_read_roundtrip_and_no_label_means_background(tmp_path):
    cols = {c: v for c, v in _events(12, seed=3).items() if c != "label"}
    p = sd.write_lhco_features(tmp_path / "qcd.h5", cols, attrs={"seed": 7})
    got = sd.read_lhco_features(p)
    assert list(got) == list(sd.LHCO_COLUMNS)
    x = sd.load_dijets(p)                                # no label column: all rows kept
    assert x.shape == (12, 4)
    np.testing.assert_array_equal(x[:, 0], cols["pxj1"])


def test_unknown_column_and_no_background(tmp_path):
    cols = _events(6)
    cols["label"][:] = 1.0
    p = sd.write_lhco_features(tmp_path / "sig.h5", cols)
    with pytest.raises(ValueError, match="no column"):
        sd.read_lhco_features(p, columns=["ptj1"])
    with pytest.raises(ValueError, match="background_only=False"):
        sd.load_dijets(p)


# ----------------------------------------------------------------------------- errors
def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="fetch_lhco"):
        sd.read_lhco_features(tmp_path / "nope.h5")


def test_not_hdf5(tmp_path):
    p = tmp_path / "page.h5"
    p.write_text("<html>503 Service Unavailable</html>")
    with pytest.raises(OSError, match="not an HDF5 file"):
        sd.load_dijets(p)


def test_truncated_file(tmp_path):
    p = sd.write_lhco_features(tmp_path / "full.h5", _events(2000), compression=None)
    raw = p.read_bytes()
    (tmp_path / "cut.h5").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(OSError, match="truncated|corrupted"):
        sd.read_lhco_features(tmp_path / "cut.h5")


def test_missing_group(tmp_path):
    p = sd.write_lhco_features(tmp_path / "x.h5", _events(5), key="events")
    with pytest.raises(ValueError, match=r"no group /df.*key='events'"):
        sd.read_lhco_features(p)
    assert len(sd.read_lhco_features(p, key="events")["pxj1"]) == 5


@pytest.mark.parametrize("breakage, message", [
    ("pandas_type", "unknown layout"),
    ("table", "format='table'"),
    ("nblocks", "block1_items"),
    ("items", "do not match"),
    ("rows", "rows but the index"),
    ("strings", "non-numeric"),
])
def test_unknown_layout(tmp_path, breakage, message):
    p = sd.write_lhco_features(tmp_path / "x.h5", _events(5))
    with h5py.File(p, "a") as f:
        g = f["df"]
        if breakage == "pandas_type":
            del g.attrs["pandas_type"]
        elif breakage == "table":
            g.attrs["pandas_type"] = np.bytes_(b"frame_table")
        elif breakage == "nblocks":
            g.attrs["nblocks"] = 2
        elif breakage == "items":
            del g["block0_items"]
            g["block0_items"] = np.array([c.encode() for c in COLUMNS[::-1][:-1]] + [b"zzz"])
        elif breakage == "rows":
            del g["axis1"]
            g["axis1"] = np.arange(4)
        elif breakage == "strings":
            del g["block0_values"]
            g.create_dataset("block0_values", data=np.array([[b"x"] * len(COLUMNS)] * 5))
    with pytest.raises(ValueError, match=message):
        sd.read_lhco_features(p)


def _dataset_with_filter(path, filter_id):
    """A block whose pipeline lists ``filter_id`` (optional, so HDF5 lets us create it)."""
    p = sd.write_lhco_features(path, _events(4), compression=None)
    with h5py.File(p, "a") as f:
        g = f["df"]
        values = g["block0_values"][()]
        del g["block0_values"]
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_chunk(values.shape)
        dcpl.set_filter(filter_id, h5py.h5z.FLAG_OPTIONAL, (2, 2, 4, 0, 5, 1, 0))
        space = h5py.h5s.create_simple(values.shape)
        dsid = h5py.h5d.create(g.id, b"block0_values", h5py.h5t.NATIVE_FLOAT, space, dcpl=dcpl)
        h5py.Dataset(dsid)[...] = values
        g["block0_values"].attrs["transposed"] = np.uint8(1)
    return p


@pytest.mark.skipif(h5py.h5z.filter_avail(sd.BLOSC_FILTER_ID), reason="a Blosc plugin is loaded")
def test_blosc_filter_detected(tmp_path):
    p = _dataset_with_filter(tmp_path / "blosc.h5", sd.BLOSC_FILTER_ID)
    with h5py.File(p) as f:
        code = f["df/block0_values"].id.get_create_plist().get_filter(0)[0]
        assert code == 32001
        with pytest.raises(OSError, match=r"Blosc.*pip install hdf5plugin.*import hdf5plugin"):
            sd.check_filters(f["df/block0_values"])
    with pytest.raises(OSError, match="hdf5plugin"):
        sd.load_dijets(p)


def test_other_missing_filter(tmp_path):
    fid = 32767                                     # a registered-range id nobody loads
    if h5py.h5z.filter_avail(fid):
        pytest.skip("filter unexpectedly available")
    p = _dataset_with_filter(tmp_path / "odd.h5", fid)
    with pytest.raises(OSError, match="filter 32767"):
        sd.read_lhco_features(p)


def test_nan_momenta_rejected(tmp_path):
    cols = _events(5)
    cols["pxj2"][2] = np.nan
    p = sd.write_lhco_features(tmp_path / "nan.h5", cols)
    with pytest.raises(ValueError, match="NaN"):
        sd.load_dijets(p, background_only=False)


# ----------------------------------------------------------------------------- fetch
@pytest.fixture
def http_dir(tmp_path, monkeypatch):
    """Serve a temporary directory on 127.0.0.1; yields (directory, base URL)."""
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _serve_features(root, monkeypatch, n=20):
    name = sd.LHCO_FILES["features"][0]
    p = sd.write_lhco_features(root / name, _events(n))
    md5 = hashlib.md5(p.read_bytes()).hexdigest()
    monkeypatch.setitem(sd_fetch.LHCO_FILES, "features", (name, md5, (n, 15)))
    return name, md5


pooch_needed = pytest.mark.skipif(importlib.util.find_spec("pooch") is None,
                                  reason="pooch not installed (optional)")


@pooch_needed
def test_fetch_from_local_server(http_dir, tmp_path, monkeypatch):
    root, url = http_dir
    name, _ = _serve_features(root, monkeypatch)
    dest = tmp_path / "dest"
    path = sd.fetch_lhco(dest, "features", base_url=url, progress=False)
    assert path == dest / name
    assert sd.load_dijets(path).shape == (int((_events(20)["label"] == 0).sum()), 4)
    assert sd.fetch_lhco(dest, "features", base_url=url, progress=False) == path   # cached


@pooch_needed
def test_fetch_checksum_mismatch(http_dir, tmp_path, monkeypatch):
    root, url = http_dir
    name, _ = _serve_features(root, monkeypatch)
    with pytest.raises(ValueError, match="checksum mismatch"):
        sd.fetch_lhco(tmp_path / "d", "features", base_url=url, md5="0" * 32, progress=False)
    assert not (tmp_path / "d" / name).exists()


@pooch_needed
def test_fetch_errors(http_dir, tmp_path, monkeypatch):
    root, url = http_dir
    with pytest.raises(ValueError, match="which must be one of"):
        sd.fetch_lhco(tmp_path, "raw")
    with pytest.raises(OSError, match="could not download"):           # 404
        sd.fetch_lhco(tmp_path / "d", "features", base_url=url, progress=False)
    # a file without a published md5: layout/shape check, then a warning with its md5
    name = sd.LHCO_FILES["qcd"][0]
    cols = {c: v for c, v in _events(8).items() if c != "label"}
    sd.write_lhco_features(root / name, cols)
    monkeypatch.setitem(sd_fetch.LHCO_FILES, "qcd", (name, None, (8, 14)))
    with pytest.warns(UserWarning, match="no published md5"):
        sd.fetch_lhco(tmp_path / "q", "qcd", base_url=url, progress=False)
    monkeypatch.setitem(sd_fetch.LHCO_FILES, "qcd", (name, None, (9, 14)))
    with pytest.raises(ValueError, match="expected 9 × 14"):
        sd.fetch_lhco(tmp_path / "q2", "qcd", base_url=url, progress=False)


def test_fetch_without_pooch(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pooch", None)
    with pytest.raises(ImportError, match=r"symlab\[fetch\]"):
        sd.fetch_lhco(tmp_path)


# ----------------------------------------------------------------------------- bundled sample
def test_bundled_sample():
    x = sd.load_dijets()
    assert x.dtype == np.float32 and x.ndim == 2 and x.shape[1] == 4
    assert len(x) >= 100_000
    s = sd.dijet_summary(x)
    assert 0.03 <= s["imbalance_median"] <= 0.06
    assert abs(s["pt1_median"] / 1340.0 - 1) < 0.10
    assert np.hypot(x[:, 0], x[:, 1]).min() > 1200.0              # the trigger (smeared pT1)
    assert (np.hypot(x[:, 0], x[:, 1]) >= np.hypot(x[:, 2], x[:, 3])).all()


def test_bundled_sample_matches_readme():
    readme = REPO / "data" / "README.md"
    if not readme.exists():
        pytest.skip("no data/README.md (installed package without the repository)")
    m = re.search(r"sha256[^0-9a-f]*([0-9a-f]{64})", readme.read_text())
    assert m, "data/README.md must state the sample's sha256"
    assert hashlib.sha256(sd.sample_path().read_bytes()).hexdigest() == m.group(1)


def test_dijet_summary_known_values():
    x = np.array([[1300.0, 0.0, -1200.0, 0.0], [0.0, 1500.0, 0.0, -1000.0]])
    s = sd.dijet_summary(x)
    assert s["pt1_median"] == 1400.0 and s["pt2_median"] == 1100.0
    assert s["dphi_median"] == pytest.approx(np.pi)
    assert s["frac_pt2_below_1200"] == 0.5
    with pytest.raises(ValueError):
        sd.dijet_summary(np.zeros((3, 3)))


# ----------------------------------------------------------------------------- generator
@pytest.mark.skipif(not HAVE_FASTJET, reason="fastjet not installed (symlab[generate])")
def test_nsubjettiness_two_and_three_prongs():
    from symlab.data.generate import nsubjettiness

    def jet(pts, raps, phis):
        pt, rap, phi = map(np.asarray, (pts, raps, phis))
        e4 = np.stack([pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(rap), pt * np.cosh(rap)], 1)
        return pt, rap, phi, e4

    tau = nsubjettiness(*jet([100.0, 100.0], [0.0, 0.0], [0.0, 0.4]))
    assert tau[0] == pytest.approx(0.2, abs=1e-6) and tau[1] == 0.0 and tau[2] == 0.0
    tau = nsubjettiness(*jet([100.0, 100.0, 100.0], [0.0, 0.0, 0.5], [0.0, 0.4, 0.2]))
    assert tau[0] > tau[1] > 0.0 and tau[2] == 0.0


def test_chunk_seeds_deterministic_and_distinct():
    from symlab.data.generate import _chunk_seeds

    a, ra = _chunk_seeds(2112, 0)
    b, rb = _chunk_seeds(2112, 0)
    c, _ = _chunk_seeds(2112, 1)
    assert a == b and a != c and 1 <= a <= 900_000_000
    assert ra.random() == rb.random()


@pytest.mark.skipif(not HAVE_GENERATOR, reason="pythia8mc/fastjet not installed (symlab[generate])")
def test_generator_smoke(tmp_path):
    from symlab.data.generate import (
        GeneratorConfig,
        _chunk_seeds,
        _Engine,
        _particles,
        cluster_fastjet,
        generate,
    )

    cfg = GeneratorConfig(chunk=10)
    res = generate(20, seed=3, out=tmp_path / "g.h5", config=cfg, workers=1, progress=False)
    assert res["features"].shape == (20, 14)
    got = sd.read_lhco_features(tmp_path / "g.h5")
    assert list(got) == COLUMNS and (got["label"] == 0).all()
    x = sd.load_dijets(tmp_path / "g.h5")
    pt1, pt2 = np.hypot(x[:, 0], x[:, 1]), np.hypot(x[:, 2], x[:, 3])
    assert (pt1 > cfg.trigger_pt).all() and (pt1 >= pt2).all()
    taus = np.stack([got[f"tau{n}j1"] for n in (1, 2, 3)], 1)
    assert np.isfinite(taus).all() and (taus >= 0).all() and (taus <= 1).all()
    assert (got["mj1"] > 0).all()
    # fjcore jets (via Pythia's SlowJet) equal the fastjet package's anti-kT jets
    eng = _Engine(cfg, _chunk_seeds(3, 0)[0])
    while (lead := eng.next_parton_level()) is None or lead < cfg.prefilter_pt:
        pass
    jets, _ = eng.hadronise_and_cluster()
    ev = eng.pythia.event
    visible = [i for i in range(ev.size()) if ev[i].isFinal() and ev[i].isVisible()]
    ref = cluster_fastjet(_particles(ev, visible), cfg.jet_r, cfg.jet_ptmin)
    np.testing.assert_allclose(jets, ref, rtol=1e-9, atol=1e-6)
