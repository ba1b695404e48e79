"""tools/notebook_chrome.py (the Colab cell, the run-time line, the figure checks) and
tools/code_budget.py (visible code lines per chapter).

Run from the repository root (``python -m pytest``, as the Makefile does), so ``tools`` imports.
"""

from __future__ import annotations

import base64
import contextlib
import io
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from tools import code_budget
from tools import notebook_chrome as chrome

ROOT = Path(__file__).resolve().parent.parent

URL = chrome.repository_url()
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()   # content does not matter here


def make_notebook(*, alt: str | None = None, caption: bool = True):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# A chapter\n\nIntroduction.")]
    nb.cells.append(nbformat.v4.new_code_cell("import numpy as np"))
    if caption:
        nb.cells.append(nbformat.v4.new_markdown_cell("**Figure 9.1** — a plot."))
    plot = nbformat.v4.new_code_cell("plot()", outputs=[nbformat.v4.new_output(
        "display_data", data={"image/png": PNG, "text/plain": "<Figure>"})])
    if alt:
        plot.metadata["mystnb"] = {"image": {"alt": alt}}
    nb.cells.append(plot)
    return nb


def test_colab_cell_is_added_once_first_among_code_cells_and_hidden():
    nb = make_notebook()
    assert chrome.add_colab_cell(nb, URL)
    assert [c.cell_type for c in nb.cells[:3]] == ["markdown", "code", "code"]
    cell = nb.cells[1]
    assert chrome.is_colab_cell(cell) and "remove-cell" in cell.metadata["tags"]
    assert f"git+{URL}" in cell.source and cell.outputs == []
    assert not chrome.add_colab_cell(nb, URL)            # idempotent
    assert sum(chrome.is_colab_cell(c) for c in nb.cells) == 1
    nbformat.validate(nb)


def test_colab_cell_is_updated_and_moved_ahead_of_other_code():
    nb = make_notebook()
    chrome.add_colab_cell(nb, "https://example.org/old")
    cell = nb.cells.pop(1)
    nb.cells.append(cell)                                 # somebody moved it down
    assert chrome.add_colab_cell(nb, URL)
    assert chrome.is_colab_cell(nb.cells[1]) and URL in nb.cells[1].source


def test_colab_cell_does_nothing_off_colab(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("the Colab cell ran a command outside Colab")

    monkeypatch.setattr(subprocess, "run", forbidden)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        exec(compile(chrome.colab_source(URL), "<colab cell>", "exec"), {})
    assert out.getvalue() == ""


def test_repository_url_comes_from_the_book_config():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert URL == config["repository"]["url"].rstrip("/")


@pytest.mark.parametrize("seconds, text", [(3.2, "5 s"), (41.0, "45 s"), (60.0, "60 s"),
                                           (84.1, "90 s"), (118.0, "120 s")])
def test_runtime_text_rounds_up(seconds, text):
    assert chrome.runtime_text(seconds, 2) == f"*Runs in about {text} on 2 CPU cores.*"


def test_runtime_line_goes_under_the_title_and_is_replaced():
    nb = make_notebook()
    assert not chrome.set_runtime_line(nb)                # nothing measured: nothing written
    nb.metadata["symlab"] = {"run_time_s": 41.0, "run_time_cores": 2}
    assert chrome.set_runtime_line(nb)
    assert nb.cells[0].source == ("# A chapter\n\n*Runs in about 45 s on 2 CPU cores.*\n\n"
                                  "Introduction.")
    assert not chrome.set_runtime_line(nb)
    nb.metadata["symlab"]["run_time_s"] = 84.1
    assert chrome.set_runtime_line(nb)
    assert nb.cells[0].source.count("Runs in about") == 1 and "90 s" in nb.cells[0].source


def test_figures_need_alt_text_and_a_caption():
    assert len(chrome.figure_problems(make_notebook())) == 1                    # no alt
    assert chrome.figure_problems(make_notebook(alt="A line plot.")) == []
    problems = chrome.figure_problems(make_notebook(alt="A line plot.", caption=False))
    assert len(problems) == 1 and "caption" in problems[0]
    nb = make_notebook()
    assert chrome.set_alt(nb, 3, "A line plot.") and not chrome.set_alt(nb, 3, "A line plot.")
    assert chrome.figure_problems(nb) == []
    with pytest.raises(SystemExit):
        chrome.set_alt(nb, 1, "not a figure")


def test_command_line_applies_then_check_passes(tmp_path):
    path = tmp_path / "07_new.ipynb"
    nbformat.write(make_notebook(alt="A line plot."), path)
    assert chrome.main([str(path), "--run-time", "30"]) == 0
    first = path.read_text()
    assert chrome.main(["--check", str(path)]) == 0
    assert chrome.main([str(path)]) == 0 and path.read_text() == first     # idempotent
    nb = nbformat.read(path, as_version=4)
    assert chrome.is_colab_cell(nb.cells[1]) and "*Runs in about 30 s" in nb.cells[0].source


def _toc_notebooks() -> list[Path]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    names = [e["file"] for e in toc.get("chapters", []) if "file" in e]
    return [ROOT / f"{n}.ipynb" for n in names if (ROOT / f"{n}.ipynb").exists()]


@pytest.mark.parametrize("path", _toc_notebooks(), ids=lambda p: p.stem)
def test_book_notebooks_have_their_chrome(path):
    nb = nbformat.read(path, as_version=4)
    if not any(chrome.is_colab_cell(c) for c in nb.cells):
        pytest.skip(f"{path.name}: no Colab cell yet - run python -m tools.notebook_chrome on it")
    problems = chrome.process(path, check=True, do_measure=False, alts={}, url=URL)
    assert problems == []


def test_tagged_multiline_equations_are_noted(capsys):
    source = ("Text.\n\n$$\nM = \\begin{bmatrix} 1 & 0\\\\ 0 & 1\\end{bmatrix}. \\tag{24}\n$$\n\n"
              "$$\na = b. \\tag{25}\n$$\n")          # one line: Sphinx does not wrap it
    nb = make_notebook(alt="A line plot.")
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(source))
    notes = chrome.math_notes(nb)
    assert len(notes) == 1 and "(24)" in notes[0]


def test_code_budget_counts_visible_non_blank_lines(tmp_path, capsys):
    nb = nbformat.v4.new_notebook()
    long = "x = " + "1 + " * 30 + "1"                      # 126 characters
    nb.cells = [nbformat.v4.new_markdown_cell("# Chapter\n\n" + long),
                nbformat.v4.new_code_cell("import numpy as np\n\n\nx = np.ones(3)\n"),
                nbformat.v4.new_code_cell(long + "\n"),
                nbformat.v4.new_code_cell("   \n"),                          # blank: not a cell
                nbformat.v4.new_code_cell("plot()\n" * 50, metadata={"tags": ["hide-input"]})]
    for tag in ("hide-cell", "remove-cell", "remove-input"):
        nb.cells.append(nbformat.v4.new_code_cell(long, metadata={"tags": [tag]}))
    path = tmp_path / "09_new.ipynb"
    nbformat.write(nb, path)
    budget = code_budget.count(path)
    assert (budget.cells, budget.lines, len(budget.long)) == (2, 3, 1)
    assert budget.long[0] == (2, long)
    assert code_budget.main([str(path)]) == 1                         # one long line
    assert code_budget.main([str(path), "--max-width", "200"]) == 0
    assert code_budget.main([str(path), "--max-width", "200", "--max-lines", "2"]) == 1
    out = capsys.readouterr().out
    assert "09_new" in out and "within budget" in out


def test_code_budget_finds_blocks_two_chapters_repeat(tmp_path, capsys):
    shared = "\n".join(f"y{i} = f(y{i - 1})  # step {i}" for i in range(1, 8))
    paths = []
    for k, extra in enumerate(("a = 1", "b = 2", "c = 3")):
        nb = nbformat.v4.new_notebook()
        src = (shared if k < 2 else shared.replace("f(", "g(")) + "\n" + extra
        nb.cells = [nbformat.v4.new_code_cell("import numpy as np\nimport torch\n" * 4),
                    nbformat.v4.new_code_cell(src, metadata={"tags": ["hide-input"]}),
                    nbformat.v4.new_code_cell(shared, metadata={"tags": ["remove-cell"]})]
        paths.append(tmp_path / f"0{k}_chapter.ipynb")
        nbformat.write(nb, paths[-1])
    # chapters 0 and 1 share seven lines of a hidden cell; imports and remove-cell cells and
    # chapter 2 (other names) do not count
    repeats = code_budget.repeated_blocks(paths)
    assert [(a, b) for a, b, _ in repeats] == [("00_chapter", "01_chapter")]
    assert repeats[0][2][0] == "y1 = f(y0)"                     # comments stripped
    assert code_budget.main([str(p) for p in paths]) == 1
    assert code_budget.main([str(p) for p in paths[1:]]) == 0
    assert "share 6 lines" in capsys.readouterr().out
