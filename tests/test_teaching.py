"""Chapters to teach from: objectives and prerequisites, worked derivations, marked exercises with their answers inside
the fold, and no bookkeeping or code-printed data in front of the reader.

These tests read the notebooks' stored cells (their Markdown and their outputs), as a reader of the built page meets them.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("*.ipynb"))
_HIDDEN = {"remove-cell", "remove-input", "hide-input", "hide-cell"}


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _markdown(path: Path) -> str:
    return "\n".join("".join(c["source"]) for c in _cells(path) if c["cell_type"] == "markdown")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_objectives_and_prerequisites(path):
    """The chapter opens with 3 to 5 numbered learning objectives and its prerequisites."""
    first = "".join(_cells(path)[0]["source"])
    block = re.search(r":::\{admonition\} Learning objectives and prerequisites\n(.*?)\n:::", first, re.S)
    assert block, f"{path.stem}: no objectives admonition in the first cell"
    objectives = re.findall(r"^\d+\. ", block.group(1), re.M)
    assert 3 <= len(objectives) <= 5, f"{path.stem}: {len(objectives)} objectives"
    assert "**Prerequisites.**" in block.group(1), f"{path.stem}: no prerequisites"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_worked_derivations(path):
    """At least two derivations worked by hand, in words and then in numbered steps."""
    md = _markdown(path)
    blocks = re.findall(r":::\{admonition\} Worked derivation \d+:.*?\n(.*?)\n:::", md, re.S)
    assert len(blocks) >= 2, f"{path.stem}: {len(blocks)} worked derivations"
    for b in blocks:
        assert "*In words.*" in b and re.search(r"^\d+\. \*\*", b, re.M), f"{path.stem}: a derivation without steps"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_exercises_marked_and_answers_folded(path):
    """Every exercise has a title with its difficulty, a folded solution, and no answer text after the fold closes."""
    md = _markdown(path)
    exercises = re.findall(r":::\{exercise\}(.*)\n:label: (\S+)", md)
    assert len(exercises) >= 3, f"{path.stem}: {len(exercises)} exercises"
    for title, label in exercises:
        assert re.search(r"\(★{1,3} (basic|intermediate|advanced)\)", title), f"{path.stem}: {label} has no difficulty"
        assert re.search(rf":::\{{solution-start\}} {re.escape(label)}\n:class: dropdown\n:::", md), \
            f"{path.stem}: {label} has no folded solution"
    assert md.count(":::{solution-start}") == md.count(":::{solution-end}"), f"{path.stem}: unbalanced solutions"
    # what follows a closed fold is the next exercise, a heading or nothing: never the answer
    for cell in (c for c in _cells(path) if c["cell_type"] == "markdown"):
        text = "".join(cell["source"])
        for tail in re.split(r":::\{solution-end\}\n:::\n", text)[1:]:
            tail = tail.strip()
            assert not tail or tail.startswith((":::{exercise}", "#")), \
                f"{path.stem}: text after a closed solution is visible: {tail[:60]!r}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_no_code_printed_data(path):
    """Printed outputs carry sentences and numbers, not a Python dict or LaTeX source."""
    for cell in _cells(path):
        for out in cell.get("outputs", []):
            text = "".join(out.get("text", []))
            assert not re.search(r"\{'\w+': ", text), f"{path.stem}: a Python dict printed: {text[:80]!r}"
            assert not re.search(r"\\frac|\\left|\\mathrm", text), f"{path.stem}: LaTeX printed as text: {text[:80]!r}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_fences_close_on_their_own_line(path):
    """A closing ``:::`` followed by text does not close the block (MyST): the rest of the page would be swallowed."""
    md = _markdown(path)
    bad = re.findall(r"^:::[ \t]+[^\s{].*$", md, re.M)
    assert not bad, f"{path.stem}: {bad}"
