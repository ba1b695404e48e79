"""Give a chapter notebook the book's standard "chrome": Colab cell, run-time line, alt text.

Usage::

    .venv/bin/python -m tools.notebook_chrome book/07_dijets.ipynb            # apply + report
    .venv/bin/python -m tools.notebook_chrome --measure book/07_dijets.ipynb  # time it first
    .venv/bin/python -m tools.notebook_chrome --alt 12="Heat map of …" book/07_dijets.ipynb
    .venv/bin/python -m tools.notebook_chrome --check book/0*.ipynb book/quickstart.ipynb

Everything is idempotent, touches only the notebook's metadata, markdown and its Colab cell,
and never re-executes the stored outputs (nbval keeps passing):

1. **Colab cell.** The first code cell installs ``symlab`` from the repository in
   ``_config.yml`` (``repository.url``) when ``google.colab`` is loaded, and does nothing
   anywhere else (no output: nbval passes without re-executing). It is tagged ``remove-cell``,
   so the book does not show it. An existing Colab cell is brought up to date.
2. **Run time.** ``--measure`` runs a copy of the notebook (``book/`` as working directory,
   like nbval and ``make execute``; the notebook file is not rewritten with new outputs) and
   stores its run time in the notebook metadata (``symlab.run_time_s`` and
   ``symlab.run_time_cores``): the wall time, or the kernel's CPU time where that is shorter
   (on a machine shared with other work the wall time is inflated by the load). From it, a line under the title of the first markdown cell
   says, e.g., ``*Runs in about 45 s on 2 CPU cores.*``. ``--run-time SECONDS`` records a
   time measured elsewhere instead (e.g. the one ``make execute`` prints).
3. **Figures.** Every code cell with an image output needs alt text in its metadata,
   ``{"mystnb": {"image": {"alt": "…"}}}`` (myst-nb writes it into the ``<img>`` tag; without
   it the alt text is the image's file name), and a caption: a paragraph starting with
   ``**Figure`` that ends the markdown cell right before it or starts the one right after it,
   or ``mystnb.figure.caption``. ``--alt CELL=TEXT``
   sets the alt text of code cell number CELL (0-based index among *all* cells, counted with
   the Colab cell in place, as the report prints it).

4. **Tagged equations.** Sphinx wraps a multi-line ``$$ … $$`` block (one with ``\\\\``,
   e.g. inside a matrix) in a ``split`` environment, where MathJax refuses ``\\tag{N}``
   ("\\tag not allowed in split environment"). The tool notes such blocks; write them as
   ``\\begin{equation} … \\end{equation}`` (myst's amsmath extension renders that as it is).
   Notes do not change the exit status.

Exit status: 0 when every notebook is complete; 1 when something is missing (alt text,
caption, run time) or, with ``--check``, when a notebook would change.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLAB_MARKER = "# Colab only: install symlab"
RUNTIME_LINE = re.compile(r"^\*Runs in about .* CPU cores?\.\*$", re.MULTILINE)
CAPTION = re.compile(r"^\s*\*\*Figure\b")


def repository_url() -> str:
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    return config["repository"]["url"].rstrip("/")


def colab_source(url: str) -> str:
    return (
        f"{COLAB_MARKER} from the book's repository; does nothing anywhere else.\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        "    import subprocess\n"
        "\n"
        '    subprocess.run([sys.executable, "-m", "pip", "install", "-q",\n'
        f'                    "git+{url}"], check=True)\n'
        "    from google.colab import output\n"
        "\n"
        "    output.enable_custom_widget_manager()  # interactive controls in Colab\n"
    )


def is_colab_cell(cell) -> bool:
    return cell.cell_type == "code" and cell.source.startswith(COLAB_MARKER)


def add_colab_cell(nb, url: str) -> bool:
    """Make the first code cell the Colab cell; return True if the notebook changed."""
    import nbformat

    source = colab_source(url)
    existing = [i for i, c in enumerate(nb.cells) if is_colab_cell(c)]
    first_code = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), None)
    if existing:
        cell = nb.cells[existing[0]]
        changed = False
        if cell.source != source:
            cell.source, changed = source, True
        tags = cell.metadata.setdefault("tags", [])
        if "remove-cell" not in tags:
            tags.append("remove-cell")
            changed = True
        if existing[0] != first_code:   # keep it ahead of every other code cell
            nb.cells.insert(first_code, nb.cells.pop(existing[0]))
            changed = True
        return changed
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["remove-cell"]})
    if nb.nbformat_minor >= 5:
        cell["id"] = "colab-install"      # deterministic, so reruns change nothing
    else:
        cell.pop("id", None)              # nbformat < 4.5 has no cell ids
    # after the leading markdown (title, objectives), before the first code cell
    nb.cells.insert(first_code if first_code is not None else len(nb.cells), cell)
    return True


def runtime_text(seconds: float, cores: int) -> str:
    # round up: to 5 s below a minute, to 10 s above
    step = 5 if seconds < 60 else 10
    value = max(step, int(math.ceil(seconds / step) * step))
    return f"*Runs in about {value} s on {cores} CPU core{'s' if cores != 1 else ''}.*"


def set_runtime_line(nb) -> bool:
    """Write the run-time line under the title from ``metadata.symlab``; True if changed."""
    info = nb.metadata.get("symlab", {})
    if "run_time_s" not in info:
        return False
    line = runtime_text(float(info["run_time_s"]), int(info.get("run_time_cores", 2)))
    cell = next((c for c in nb.cells if c.cell_type == "markdown"), None)
    if cell is None:
        return False
    src = cell.source
    if RUNTIME_LINE.search(src):
        new = RUNTIME_LINE.sub(line, src, count=1)
    else:
        lines = src.split("\n")
        title = next((i for i, ln in enumerate(lines) if ln.startswith("# ")), -1)
        lines[title + 1:title + 1] = ["", line] if title >= 0 else [line, ""]
        new = "\n".join(lines)
        new = re.sub(r"\n{3,}", "\n\n", new)
    if new != src:
        cell.source = new
        return True
    return False


def measure(path: Path, timeout: int = 600) -> tuple[float, float]:
    """Execute a copy of the notebook (outputs discarded): (wall time, kernel CPU time) in s."""
    import resource

    import nbformat
    from nbclient import NotebookClient

    from .execute_notebooks import _prepare_environment

    _prepare_environment()
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    client.execute()          # starts the kernel, runs every cell, shuts the kernel down
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def run_time_estimate(wall: float, cpu: float) -> float:
    """The time to state: the wall time, or the kernel's CPU time if that is shorter.

    On two idle cores a notebook takes at most about its CPU time (less where torch uses both
    cores). On a busy machine the wall time grows with the load while the CPU time barely
    changes, so the smaller of the two is the better estimate.
    """
    return min(wall, cpu) if cpu > 0 else wall


TAGGED_SPLIT = re.compile(r"^\$\$\n(?P<body>(?:(?!^\$\$).)*?\\tag\{[^}]*\}(?:(?!^\$\$).)*?)\n\$\$$",
                          re.MULTILINE | re.DOTALL)


def tagged_split_blocks(source: str) -> list[re.Match]:
    """``$$ … $$`` blocks with a ``\\tag`` and a line break ``\\\\``: TeX errors in the book."""
    return [m for m in TAGGED_SPLIT.finditer(source) if "\\\\" in m.group("body")]


def math_notes(nb) -> list[str]:
    notes = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            for m in tagged_split_blocks(cell.source):
                tag = re.search(r"\\tag\{([^}]*)\}", m.group("body")).group(1)
                notes.append(f"note: cell {i}: equation ({tag}) has \\tag and a line break "
                             "inside $$ - a TeX error in the book (write it as an "
                             "equation environment)")
    return notes


def image_cells(nb) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
            and any(k.startswith("image/") for o in c.get("outputs", [])
                    for k in o.get("data", {}))]


def figure_problems(nb) -> list[str]:
    """Image cells without alt text or caption, as report lines."""
    problems = []
    for i in image_cells(nb):
        cell = nb.cells[i]
        meta = cell.metadata.get("mystnb", {})
        tags = cell.metadata.get("tags", [])
        if "remove-output" in tags or "remove-cell" in tags:
            continue
        if not str(meta.get("image", {}).get("alt", "")).strip():
            problems.append(f"cell {i}: figure without alt text (--alt {i}=\"…\")")
        # the last paragraph of the markdown cell before, or the first one of the cell after
        paragraphs = []
        if i > 0 and nb.cells[i - 1].cell_type == "markdown":
            paragraphs.append(nb.cells[i - 1].source.strip().split("\n\n")[-1])
        if i + 1 < len(nb.cells) and nb.cells[i + 1].cell_type == "markdown":
            paragraphs.append(nb.cells[i + 1].source.strip().split("\n\n")[0])
        captioned = meta.get("figure", {}).get("caption") or any(
            CAPTION.match(p) for p in paragraphs)
        if not captioned:
            problems.append(f"cell {i}: figure without a caption (a '**Figure …' paragraph "
                            "right before or after it)")
    return problems


def set_alt(nb, index: int, text: str) -> bool:
    if index not in image_cells(nb):
        raise SystemExit(f"cell {index} has no image output (image cells: {image_cells(nb)})")
    image = nb.cells[index].metadata.setdefault("mystnb", {}).setdefault("image", {})
    if image.get("alt") == text:
        return False
    image["alt"] = text
    return True


def process(path: Path, *, check: bool, do_measure: bool, alts: dict[int, str],
            url: str, run_time: float | None = None) -> list[str]:
    """Apply (or, with check, verify) the chrome of one notebook; return its problems."""
    import nbformat

    text = path.read_text()
    nb = nbformat.reads(text, as_version=4)
    if do_measure:
        wall, cpu = measure(path)
        run_time = run_time_estimate(wall, cpu)
        print(f"{path}: {wall:.1f} s wall, {cpu:.1f} s kernel CPU on {os.cpu_count()} core(s) "
              f"(load {os.getloadavg()[0]:.1f}) -> {run_time:.1f} s", flush=True)
    if run_time is not None:
        nb.metadata.setdefault("symlab", {}).update(
            run_time_s=round(run_time, 1), run_time_cores=os.cpu_count() or 1)
    add_colab_cell(nb, url)     # first, so cell numbers are those the report prints
    for index, alt in alts.items():
        set_alt(nb, index, alt)
    set_runtime_line(nb)
    for note in math_notes(nb):
        print(f"{path}: {note}")
    problems = figure_problems(nb)
    if "run_time_s" not in nb.metadata.get("symlab", {}):
        problems.append("no measured run time (run with --measure)")
    new = nbformat.writes(nb) + "\n"
    if new != text:
        if check:
            problems.append("not up to date (run python -m tools.notebook_chrome on it)")
        else:
            path.write_text(new)
            print(f"{path}: updated")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="change nothing; report")
    parser.add_argument("--measure", action="store_true",
                        help="execute a copy and store the run time first")
    parser.add_argument("--run-time", type=float, metavar="SECONDS",
                        help="record a run time measured elsewhere (one notebook)")
    parser.add_argument("--alt", action="append", default=[], metavar="CELL=TEXT",
                        help="set the alt text of the figure in cell CELL (one notebook)")
    args = parser.parse_args(argv)
    if (args.alt or args.run_time is not None) and len(args.notebooks) != 1:
        parser.error("--alt and --run-time need exactly one notebook")
    alts = {}
    for item in args.alt:
        index, _, text = item.partition("=")
        if not index.strip().isdigit() or not text.strip():
            parser.error(f"--alt expects CELL=TEXT, got {item!r}")
        alts[int(index)] = text.strip()
    url = repository_url()
    failed = False
    for path in args.notebooks:
        problems = process(path, check=args.check, do_measure=args.measure, alts=alts, url=url,
                           run_time=args.run_time)
        for problem in problems:
            print(f"{path}: {problem}")
        failed |= bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
