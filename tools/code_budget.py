"""Count the code a reader sees in each chapter: the budget of DESIGN §3 and issue 12.

Usage (normally through ``make code-budget``)::

    .venv/bin/python -m tools.code_budget [NOTEBOOK ...] [--max-lines 80] [--max-width 88]
                                         [--show-long]

With no arguments every chapter notebook ``book/NN_*.ipynb`` is counted. A code cell is
*visible* unless it carries one of the tags ``hide-input``, ``hide-cell``, ``remove-cell`` or
``remove-input`` (the book folds or drops those). For each chapter the table gives the visible
code cells, their non-blank lines, and how many of those lines are longer than the page width.

It also looks for code that two chapters repeat: any run of ``--repeat`` (default 6)
consecutive non-blank lines that stands, after stripping indentation and comments, in the code
cells of two chapters. Import statements are left out (every chapter imports the same few
modules), and so are cells tagged ``remove-cell`` (such as the Colab install cell, which is not
part of the page). A repeated block belongs in ``symlab``.

Exit status 1 when a chapter has more visible lines than ``--max-lines``, any visible line
longer than ``--max-width`` characters, or a block repeats across chapters; 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HIDDEN_TAGS = frozenset({"hide-input", "hide-cell", "remove-cell", "remove-input"})
MAX_LINES = 80
MAX_WIDTH = 88
REPEAT = 6


@dataclass
class Budget:
    name: str
    cells: int = 0
    lines: int = 0
    long: list = field(default_factory=list)   # (cell index, line) of each line over the width

    def ok(self, max_lines: int) -> bool:
        return self.lines <= max_lines and not self.long


def count(path: Path, max_width: int = MAX_WIDTH) -> Budget:
    """The visible code of one notebook."""
    nb = json.loads(path.read_text())
    budget = Budget(path.stem)
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        if HIDDEN_TAGS & set(cell.get("metadata", {}).get("tags", [])):
            continue
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        lines = [ln for ln in source.splitlines() if ln.strip()]
        if not lines:
            continue
        budget.cells += 1
        budget.lines += len(lines)
        budget.long += [(index, ln) for ln in lines if len(ln) > max_width]
    return budget


def _normalised_code(path: Path) -> list[str]:
    """The chapter's code lines outside ``remove-cell`` cells: stripped, comments dropped."""
    lines = []
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] != "code" or "remove-cell" in cell.get("metadata", {}).get("tags", []):
            continue
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        for ln in source.splitlines():
            ln = ln.split("  #")[0].strip() if not ln.strip().startswith("#") else ""
            if ln and not ln.startswith(("import ", "from ")):
                lines.append(ln)
        lines.append("\0")   # a run never spans two cells
    return lines


def repeated_blocks(paths: list[Path], run: int = REPEAT) -> list[tuple[str, str, list[str]]]:
    """Runs of ``run`` normalised lines that two chapters share: ``(chapter, chapter, lines)``."""
    seen: dict[tuple[str, ...], str] = {}
    found, reported = [], set()
    for path in paths:
        lines = _normalised_code(path)
        own = set()
        for i in range(len(lines) - run + 1):
            block = tuple(lines[i:i + run])
            if "\0" in block or block in own:
                continue
            own.add(block)
            first = seen.setdefault(block, path.stem)
            pair = (first, path.stem)
            if first != path.stem and pair not in reported:
                reported.add(pair)
                found.append((first, path.stem, list(block)))
    return found


def chapters() -> list[Path]:
    return sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))


def table(budgets: list[Budget], max_lines: int, max_width: int) -> str:
    width = max([len(b.name) for b in budgets] + [7])
    rows = [f"{'chapter':<{width}}  cells  lines  >{max_width} chars  within budget",
            f"{'-' * width}  -----  -----  {'-' * (len(str(max_width)) + 7)}  -------------"]
    for b in budgets:
        rows.append(f"{b.name:<{width}}  {b.cells:5d}  {b.lines:5d}  "
                    f"{len(b.long):{len(str(max_width)) + 7}d}  "
                    f"{'yes' if b.ok(max_lines) else 'no'}")
    total_lines = sum(b.lines for b in budgets)
    total_long = sum(len(b.long) for b in budgets)
    rows.append(f"{'total':<{width}}  {sum(b.cells for b in budgets):5d}  {total_lines:5d}  "
                f"{total_long:{len(str(max_width)) + 7}d}")
    rows.append(f"budget: at most {max_lines} visible non-blank code lines a chapter, "
                f"none over {max_width} characters")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: book/NN_*.ipynb")
    parser.add_argument("--max-lines", type=int, default=MAX_LINES)
    parser.add_argument("--max-width", type=int, default=MAX_WIDTH)
    parser.add_argument("--repeat", type=int, default=REPEAT,
                        help="lines in a row that two chapters may not share")
    parser.add_argument("--show-long", action="store_true",
                        help="print every visible line over the width")
    args = parser.parse_args(argv)
    paths = args.notebooks or chapters()
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        parser.error(f"not found: {', '.join(missing)}")
    budgets = [count(p, args.max_width) for p in paths]
    print(table(budgets, args.max_lines, args.max_width))
    if args.show_long:
        for b in budgets:
            for index, line in b.long:
                print(f"{b.name} cell {index} ({len(line)} chars): {line}")
    repeats = repeated_blocks(paths, args.repeat) if len(paths) > 1 else []
    for first, second, block in repeats:
        print(f"{first} and {second} share {args.repeat} lines (move them into symlab):")
        print("    " + "\n    ".join(block))
    ok = all(b.ok(args.max_lines) for b in budgets) and not repeats
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
