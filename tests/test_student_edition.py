"""The student edition (``make student``) has every exercise and no solution.

Needs both editions built: ``_build/html`` (``make book``) and ``_build/student/html``
(``make student``); ``make test`` builds them before running this file. Skipped otherwise.
"""

import re
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEACHER = ROOT / "_build" / "html" / "book"
STUDENT = ROOT / "_build" / "student" / "html" / "book"
CODE = re.compile(r"^\s*(import |from |#|%|>>>|[\w.\[\], ]+\s*(=|\())")
MATH = re.compile(r"\$[^$]*\$|\\\(.*?\\\)|\\\[.*?\\\]", re.DOTALL)

pytestmark = pytest.mark.skipif(not (TEACHER.is_dir() and STUDENT.is_dir()),
                                reason="build both editions first (make book student)")


def _words(text: str) -> str:
    text = MATH.sub(" ", text)
    text = text.split("$")[0]  # math left open on a line continues on the next: drop it
    return " ".join(re.findall(r"[A-Za-z]{3,}", text))


def _page_text(path: Path) -> str:
    html = path.read_text()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.DOTALL)
    return _words(unescape(re.sub(r"<[^>]+>", " ", html)))


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


def test_every_exercise_is_in_the_student_edition():
    def count(folder):
        return {name: len(re.findall(r'class="[^"]*\bexercise\b', p.read_text()))
                for name, p in _pages(folder).items()}
    teacher, student = count(TEACHER), count(STUDENT)
    assert sum(teacher.values()) >= 10
    assert teacher == student
