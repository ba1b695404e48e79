"""Re-execute the book's notebooks in place, storing outputs and widget state.

Usage (normally through ``make execute`` or ``make execute NB=book/01_x.ipynb``)::

    .venv/bin/python -m tools.execute_notebooks [NOTEBOOK ...]

With no arguments every ``book/*.ipynb`` is executed. Each notebook runs with its own
directory as the working directory (as nbval does), in a ``python3`` kernel started with
this interpreter, so the kernel sees exactly the packages of the environment that runs this
script. Matplotlib uses the inline backend (figures are stored as PNG outputs) even if
``MPLBACKEND`` is set in the calling shell; ``SYMLAB_PROGRESS`` defaults to ``0`` so no
progress bars are stored. The wall time of each notebook is printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _prepare_environment() -> None:
    """Make the kernel inherit a predictable environment (set before it is spawned)."""
    os.environ.setdefault("SYMLAB_PROGRESS", "0")
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    # Find this environment's kernelspec before any user-level "python3" kernelspec.
    # Its argv starts with "python", which jupyter_client replaces by sys.executable.
    share = str(Path(sys.prefix) / "share" / "jupyter")
    paths = [share, *filter(None, os.environ.get("JUPYTER_PATH", "").split(os.pathsep))]
    os.environ["JUPYTER_PATH"] = os.pathsep.join(paths)


def execute(path: Path, timeout: int) -> float:
    """Execute one notebook in place; return the wall time in seconds."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        store_widget_state=True,
        record_timing=False,  # keep per-cell timestamps out of the stored notebook
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    nbformat.write(nb, path)
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: book/*.ipynb")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = parser.parse_args(argv)

    notebooks = args.notebooks or sorted((ROOT / "book").glob("*.ipynb"))
    if not notebooks:
        print("no notebooks to execute")
        return 0
    missing = [str(p) for p in notebooks if not p.is_file()]
    if missing:
        parser.error(f"not found: {', '.join(missing)}")

    _prepare_environment()
    total = 0.0
    for path in notebooks:
        print(f"executing {path} ...", flush=True)
        elapsed = execute(path.resolve(), args.timeout)
        total += elapsed
        print(f"  {path}: {elapsed:.1f} s", flush=True)
    print(f"total: {total:.1f} s for {len(notebooks)} notebook(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
