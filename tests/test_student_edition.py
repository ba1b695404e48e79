"""The student edition (``make student``) has every exercise and no solution.

The HTML tests need both editions built: ``_build/html`` (``make book``) and
``_build/student/html`` (``make student``); ``make test`` builds them before running this
file; they are skipped otherwise. The student *notebooks* are written here, into a temporary
folder, by ``python -m tools.student_edition --notebooks-only``.
"""

import json
import re
import subprocess
import sys
from html import unescape
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
TEACHER = ROOT / "_build" / "html" / "book"
STUDENT = ROOT / "_build" / "student" / "html" / "book"
CODE = re.compile(r"^\s*(import |from |#|%|>>>|[\w.\[\], ]+\s*(=|\())")
MATH = re.compile(r"\$[^$]*\$|\\\(.*?\\\)|\\\[.*?\\\]", re.DOTALL)

needs_html = pytest.mark.skipif(not (TEACHER.is_dir() and STUDENT.is_dir()),
                                reason="build both editions first (make book student)")


def _words(text: str) -> str:
    text = MATH.sub(" ", text)
    text = text.split("$")[0]  # math left open on a line continues on the next: drop it
    return " ".join(re.findall(r"[A-Za-z]{3,}", text))


def _page_text(path: Path) -> str:
    html = path.read_text()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.DOTALL)
    text = MATH.sub(" ", unescape(re.sub(r"<[^>]+>", " ", html)))
    # A page is not one line: a "$" left unpaired (in a code cell's string, say) must not cut
    # off the rest of the page as _words does for a solution's line.
    return _words(text.replace("$", " "))


def _pages(folder: Path) -> dict:
    return {p.name: p for p in folder.glob("*.html")}


def _fingerprints():
    out = subprocess.run([sys.executable, "-m", "tools.student_edition", "--list-solutions"],
                         capture_output=True, text=True, check=True, cwd=ROOT).stdout.splitlines()
    prints = []
    for line in out:
        if CODE.match(line):  # a code line may also appear in the chapter's own cells
            continue
        words = _words(line).split()
        if len(words) >= 4:
            prints.append(" ".join(words[:6]))
    return prints


@needs_html
def test_no_solution_reaches_the_student_html():
    prints = _fingerprints()
    assert len(prints) >= 8  # prose first lines; code-only ones are covered by the class check
    teacher = " ".join(_page_text(p) for p in _pages(TEACHER).values())
    student = " ".join(_page_text(p) for p in _pages(STUDENT).values())
    for fp in prints:
        assert fp in teacher, f"fingerprint not found in the instructor edition: {fp!r}"
        assert fp not in student, f"solution text in the student edition: {fp!r}"
    for page in _pages(STUDENT).values():
        assert 'class="solution' not in page.read_text(), page.name


@needs_html
def test_every_exercise_is_in_the_student_edition():
    def count(folder):
        return {name: len(re.findall(r'class="[^"]*\bexercise\b', p.read_text()))
                for name, p in _pages(folder).items()}
    teacher, student = count(TEACHER), count(STUDENT)
    assert sum(teacher.values()) >= 10
    assert teacher == student


def _notebook_text(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    return "\n".join("".join(c.get("source", "")) for c in cells)


def test_student_notebooks_hold_no_solution(tmp_path):
    subprocess.run([sys.executable, "-m", "tools.student_edition", "--notebooks-only",
                    "--out", str(tmp_path)], check=True, cwd=ROOT, capture_output=True)
    originals = sorted((ROOT / "book").glob("*.ipynb"))
    students = {p.name: p for p in (tmp_path / "notebooks").glob("*.ipynb")}
    assert sorted(students) == [p.name for p in originals]
    solution_lines = subprocess.run(
        [sys.executable, "-m", "tools.student_edition", "--list-solutions"], cwd=ROOT,
        capture_output=True, text=True, check=True).stdout.splitlines()
    assert len(solution_lines) >= 10
    for original in originals:
        student = _notebook_text(students[original.name])
        teacher = _notebook_text(original)
        nbformat.validate(nbformat.reads(students[original.name].read_text(), as_version=4))
        assert "{solution" not in student, original.name
        assert student.count("{exercise}") == teacher.count("{exercise}"), original.name
        for line in solution_lines:
            if line in teacher and not CODE.match(line) and len(line) > 20:
                assert line not in student, f"{original.name}: solution text {line!r}"
