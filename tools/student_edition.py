"""Build the student edition of the book: the same pages with every exercise solution removed.

Usage (normally through ``make student``)::

    .venv/bin/python -m tools.student_edition [--out _build/student] [--notebooks-only]

The book's sources (``_config.yml``, ``_toc.yml``, ``references.bib``, ``book/``) are copied to
``<out>/src``; in the copy, every sphinx-exercise solution is deleted — a ```{solution} …```
block in a markdown cell or page, and everything between ``{solution-start}`` and
``{solution-end}`` (gated solutions, which may span code cells). The exercises stay. The copy
is then built with ``jupyter-book build`` (warnings are errors) into ``<out>/html``.

The stripped notebooks themselves are written to ``<out>/notebooks/`` (outputs kept), for a
class to work in JupyterLab (``make lab LAB_DIR=_build/student/notebooks``) or Binder without
the answers below the questions; ``--notebooks-only`` writes just those, without the build.

``--list-solutions`` prints the first line of text of every solution in the instructor
edition, one per line; the test suite uses it to check that none of them reaches the
student HTML.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A fenced solution block: ```{solution} label … ``` (3+ backticks or colons, matched length).
SOLUTION_BLOCK = re.compile(r"^(?P<fence>`{3,}|:{3,})\{solution\}.*?^(?P=fence)[ \t]*$\n?",
                            re.MULTILINE | re.DOTALL)
GATED_START = re.compile(r"^(`{3,}|:{3,})\{solution-start\}", re.MULTILINE)
GATED_END = re.compile(r"^(`{3,}|:{3,})\{solution-end\}", re.MULTILINE)


def strip_markdown(text: str) -> str:
    """Remove fenced ``{solution}`` blocks from MyST markdown."""
    return SOLUTION_BLOCK.sub("", text)


def strip_notebook(nb: dict) -> dict:
    """Remove solution blocks from markdown cells and every cell inside a gated solution."""
    cells, inside = [], False
    for cell in nb["cells"]:
        src = "".join(cell.get("source", ""))
        if GATED_START.search(src):
            inside = True
        if inside:
            if GATED_END.search(src):
                inside = False
            continue
        if cell["cell_type"] == "markdown" and "{solution}" in src:
            cell = dict(cell, source=strip_markdown(src))
            if not cell["source"].strip():
                continue
        cells.append(cell)
    return dict(nb, cells=cells)


def _toc_files() -> list[Path]:
    """The book's pages, in the order of ``_toc.yml``."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    names = [toc["root"]] + [entry["file"] for entry in toc.get("chapters", [])]
    files = []
    for name in names:
        for suffix in (".ipynb", ".md"):
            if (ROOT / (name + suffix)).exists():
                files.append(ROOT / (name + suffix))
    return files


def solution_first_lines() -> list[str]:
    """The first non-empty text line (after the directive's options) of every solution on
    the pages of the table of contents."""
    lines = []

    def first_line(block: str) -> str | None:
        body = block.splitlines()[1:-1]
        for ln in body:
            s = ln.strip()
            if s and not s.startswith(":") and not s.startswith("```") and not s.startswith(":::"):
                return s
        return None

    for path in _toc_files():
        if path.suffix == ".ipynb":
            texts = ["".join(c.get("source", "")) for c in json.loads(path.read_text())["cells"]
                     if c["cell_type"] == "markdown"]
        elif path.suffix == ".md":
            texts = [path.read_text()]
        else:
            continue
        for text in texts:
            for m in SOLUTION_BLOCK.finditer(text):
                line = first_line(m.group(0))
                if line:
                    lines.append(line)
    return lines


def strip_sources(src: Path) -> int:
    """Remove the solutions from every notebook and page under ``src`` in place; return in
    how many cells/pages there were some."""
    removed = 0
    for path in sorted(src.rglob("*")):
        if path.suffix == ".ipynb":
            nb = json.loads(path.read_text())
            stripped = strip_notebook(nb)
            removed += sum("{solution" in "".join(c.get("source", "")) for c in nb["cells"])
            path.write_text(json.dumps(stripped, indent=1, ensure_ascii=False) + "\n")
        elif path.suffix == ".md":
            text = path.read_text()
            removed += len(SOLUTION_BLOCK.findall(text))
            path.write_text(strip_markdown(text))
    return removed


def write_notebooks(book: Path, dest: Path) -> list[Path]:
    """The student copies of the notebooks of ``book`` (already stripped), in ``dest``."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    written = []
    for path in sorted(book.glob("*.ipynb")):
        shutil.copy2(path, dest / path.name)
        written.append(dest / path.name)
    return written


def notebooks_only(out: Path) -> list[Path]:
    """Strip a copy of ``book/*.ipynb`` and write it to ``<out>/notebooks``."""
    tmp = out / "src-notebooks"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        shutil.copy2(path, tmp / path.name)
    removed = strip_sources(tmp)
    written = write_notebooks(tmp, out / "notebooks")
    shutil.rmtree(tmp)
    print(f"student notebooks: removed solutions from {removed} cell(s), "
          f"{len(written)} notebook(s) in {out / 'notebooks'}")
    return written


def build(out: Path) -> Path:
    src = out / "src"
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml", "references.bib"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "book", src / "book")
    removed = strip_sources(src / "book")
    print(f"student edition: removed solutions from {removed} cell(s)/page(s)")
    notebooks = write_notebooks(src / "book", out / "notebooks")
    print(f"student notebooks: {len(notebooks)} in {out / 'notebooks'}")
    jb = Path(sys.executable).with_name("jupyter-book")
    subprocess.run([str(jb), "build", str(src), "-W", "-n", "--keep-going",
                    "--path-output", str(out)], check=True)
    html = out / "html"
    if html.exists():
        shutil.rmtree(html)
    shutil.move(str(out / "_build" / "html"), str(html))
    shutil.rmtree(out / "_build", ignore_errors=True)
    return html


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "student")
    parser.add_argument("--list-solutions", action="store_true")
    parser.add_argument("--notebooks-only", action="store_true",
                        help="write only the student notebooks (<out>/notebooks), no HTML")
    args = parser.parse_args()
    if args.list_solutions:
        print("\n".join(solution_first_lines()))
        return
    if args.notebooks_only:
        notebooks_only(args.out.resolve())
        return
    html = build(args.out.resolve())
    print(f"Student edition: {html / 'index.html'}")


if __name__ == "__main__":
    main()
