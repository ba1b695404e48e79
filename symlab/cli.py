"""``symlab discover FILE --space "SO(4)" --runs 64``: the discovery pipeline from the shell.

Reads ``.npy``, ``.csv`` (numbers only, an optional header line) and HDF5 (``FILE:/dataset``
for a dataset path, or a file in the LHC Olympics features layout, read as the four jet
momenta), prints the report's summary, and writes a JSON report and a figure.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

SPACES = "Affine(n), SO(n), O2, RotationScale2D, Iwasawa2D, SO2xSO2, Slope1D"


def parse_space(text: str):
    """``"SO(4)"``, ``"Affine(2)"``, ``"O2"`` … → a search space."""
    from . import spaces
    m = re.fullmatch(r"\s*([A-Za-z0-9_]+)\s*(?:\(\s*(\d*)\s*\))?\s*", text or "")
    if not m:
        raise ValueError(f"--space {text!r} is not a space; use one of {SPACES}")
    name, arg = m.group(1), m.group(2)
    cls = getattr(spaces, name, None)
    if not (isinstance(cls, type) and issubclass(cls, spaces.SearchSpace)) or name == "SearchSpace":
        raise ValueError(f"--space {text!r}: unknown space {name!r}; use one of {SPACES}")
    return cls(int(arg)) if arg else cls()


def read_points(spec: str) -> np.ndarray:
    """``[N, n]`` points from ``.npy``, ``.csv`` or HDF5 (``FILE`` or ``FILE:/dataset``)."""
    path, _, key = spec.partition(":") if not Path(spec).exists() else (spec, "", "")
    p = Path(path)
    if not p.exists():
        raise OSError(f"{path}: no such file")
    suffix = p.suffix.lower()
    try:
        if suffix == ".npy":
            x = np.load(p, allow_pickle=False)
        elif suffix in (".csv", ".txt"):
            with open(p) as fh:
                first = fh.readline()
            skip = 0 if re.fullmatch(r"[\s0-9eE+\-.,naNinf]*", first) else 1
            x = np.loadtxt(p, delimiter=",", skiprows=skip, ndmin=2)
        elif suffix in (".h5", ".hdf5", ".hdf"):
            import h5py
            with h5py.File(p, "r") as f:
                if key:
                    if key not in f or not isinstance(f[key], h5py.Dataset):
                        raise OSError(f"{path}: no dataset {key!r}")
                    x = np.asarray(f[key])
                else:
                    x = None
            if x is None:
                from .data import load_dijets
                x = np.asarray(load_dijets(p))
        else:
            raise OSError(f"{path}: unknown file type {suffix!r}; use .npy, .csv or .h5")
    except (ValueError, UnicodeDecodeError) as err:
        raise OSError(f"{path}: cannot read it as {suffix or 'data'} ({err})") from err
    return np.asarray(x, dtype=np.float64)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="symlab", description="Symmetry discovery from the shell.")
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("discover", help="find and verify the symmetry group of a data file")
    d.add_argument("file", help="data: .npy, .csv, or HDF5 (FILE:/dataset, or the LHCO layout)")
    d.add_argument("--space", required=True, help=f"search space: {SPACES}")
    d.add_argument("--runs", type=int, default=64)
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--restarts", type=int, default=4)
    d.add_argument("--tries", type=int, default=4,
                   help="fresh starts per stuck run in each restart round")
    d.add_argument("--spares", type=float, default=0.25,
                   help="extra runs in the first fit, as a fraction of --runs")
    d.add_argument("--steps", type=int, default=None, help="training steps (a time budget)")
    d.add_argument("--json", default=None, help="write the report here (default FILE.symlab.json)")
    d.add_argument("--figure", default=None, help="write the figure here (default FILE.symlab.png)")
    d.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    try:
        from .discover import discover
        space = parse_space(args.space)
        x = read_points(args.file)
        if x.ndim != 2 or x.shape[1] != space.dim:
            raise ValueError(f"{args.file}: the data have shape {x.shape} but {args.space} acts "
                             f"on {space.dim} dimensions; pick a matching space")
        budget = {} if args.steps is None else {"steps": args.steps}
        report = discover(x, space, runs=args.runs, seed=args.seed, restarts=args.restarts,
                          tries=args.tries, spares=args.spares,
                          progress=None if not args.no_progress else False, **budget)
    except (ValueError, OSError, TypeError) as err:
        print(f"symlab discover: error: {err}", file=sys.stderr)
        return 2
    print(report.summary())
    stem = args.file.split(":")[0]
    report.to_json(args.json or stem + ".symlab.json")
    try:
        import matplotlib
        matplotlib.use("Agg")
        ax = report.plot()
        ax.figure.savefig(args.figure or stem + ".symlab.png", dpi=120, bbox_inches="tight")
    except Exception as err:  # a figure is a bonus; the JSON report is written
        print(f"symlab discover: no figure ({err})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
