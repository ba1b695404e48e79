"""Chapter 2: the code in the exercise solutions runs and gives what the solutions say.

The solutions live in markdown (inside ``{solution}`` dropdowns), so nbval never runs them.
This test runs the chapter's helper cells (setup, the Hénon map, the mesh and shoelace
helpers) and then each solution's ```` ```python ```` block in the same namespace.
"""

import json
import re
import textwrap
from pathlib import Path

import pytest
import torch

NOTEBOOK = Path(__file__).resolve().parent.parent / "book" / "02_inertial_restrictions.ipynb"
HELPER_CELLS = ("6c2fe2f2", "508a32a8", "b9a07201")   # setup, Hénon map, mesh_cells/shoelace
CODE_BLOCK = re.compile(r"```python\n(.*?)```", re.S)
CELLS = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]


def _blocks() -> dict[str, str]:
    blocks = {}
    for cell in CELLS:
        text = "".join(cell["source"])
        if cell["cell_type"] != "markdown":
            continue
        fence = r"(`{3,})\{solution\}\s+(\S+)(.*?)\n\1\n"
        for head in re.finditer(fence, text + "\n", re.S):
            for i, code in enumerate(CODE_BLOCK.findall(head.group(3))):
                blocks[f"{head.group(2)}[{i}]"] = textwrap.dedent(code)
    return blocks


BLOCKS = _blocks()


@pytest.fixture(scope="module")
def chapter():
    import matplotlib

    matplotlib.use("Agg")
    ns = {"__name__": "__chapter__"}
    by_id = {c.get("id"): "".join(c["source"]) for c in CELLS}
    for cid in HELPER_CELLS:
        exec(compile(by_id[cid], cid, "exec"), ns)
    return ns


def test_solution_blocks_exist():
    assert {"ch02-ex-shear[0]", "ch02-ex-henon[0]"} <= set(BLOCKS)


def test_shear_solution(chapter, capsys):
    ns = dict(chapter)
    exec(compile(BLOCKS["ch02-ex-shear[0]"], "ch02-ex-shear", "exec"), ns)
    capsys.readouterr()
    det = torch.linalg.det(ns["iw"].matrix(ns["p"]))
    loss = ns["sl"].landscape.loss(ns["sl"].paper.n11(), ns["iw"], ns["p"])
    # what the comments of the solution say: det 1, 1, -1; loss about 1.329, 1.386, 1.386
    torch.testing.assert_close(det, torch.tensor([1.0, 1.0, -1.0], dtype=det.dtype))
    assert round(float(loss[0]), 3) == 1.329
    assert abs(loss[1:] - ns["sl"].landscape.MAX_LOSS).max() < 1e-9
    assert round(ns["sl"].landscape.MAX_LOSS, 3) == 1.386


def test_henon_solution(chapter, capsys):
    ns = dict(chapter)
    exec(compile(BLOCKS["ch02-ex-henon[0]"], "ch02-ex-henon", "exec"), ns)
    printed = [float(v) for v in re.findall(r"tensor\(([-\d.e]+)", capsys.readouterr().out)]
    # the comments say: Jacobian determinant and area ratios are 1 to rounding, below 1e-12
    assert len(printed) == 2 and max(printed) < 1e-12
