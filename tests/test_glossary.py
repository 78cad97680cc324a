"""One meaning per symbol, every symbol in the glossary, and each defined where a chapter first uses it.

The glossary page is generated from the library's symbol registry (``inference_arithmetic.book.registry``).
These tests read what the book prints: the equations glued in the notebooks' stored outputs, the maths written
in the prose of every page, and the "where ..." lines that follow each equation.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from inference_arithmetic.book import nb
from inference_arithmetic.book.registry import SYMBOLS
from inference_arithmetic.core.tex import symbol_tokens

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PAGES = sorted((ROOT / "book").glob("*.md"))
#: chapters whose every display equation is followed by the definitions of the symbols it introduces
DEFINING = ("fleet", "speed_of_light", "parallelism", "prefill", "hardware", "validation", "own_model", "elastic")
_DIRECTIVE = re.compile(r"```\{glue:math\} (\w+)|\{glue:md\}`(\w+)_where:myst`")
_INLINE = re.compile(r"(?<!\\)\$([^$\n]+?)(?<!\\)\$")


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _glued(path: Path) -> dict[str, str]:
    """Glue name -> stored value (LaTeX for equations, Markdown for the where lines)."""
    out = {}
    for cell in _cells(path):
        for o in cell.get("outputs", []):
            name = o.get("metadata", {}).get("scrapbook", {}).get("name")
            data = o.get("data", {})
            for mime in ("application/papermill.record/text/latex", "application/papermill.record/text/markdown"):
                if name and mime in data:
                    out[name] = data[mime]
    return out


def _markdown(path: Path) -> str:
    if path.suffix == ".md":     # a MyST page: its prose, without code cells
        return re.sub(r"```\{code-cell\}.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    return "\n".join("".join(c["source"]) for c in _cells(path) if c["cell_type"] == "markdown")


def _inline_maths(text: str) -> list[str]:
    text = re.sub(r"\{glue:\w+\}`[^`]*`", "", text.replace(r"\$", ""))
    text = re.sub(r"`[^`]*`", "", text)
    return _INLINE.findall(text)


def _equations(path: Path) -> dict[str, str]:
    return {k: v for k, v in _glued(path).items() if v.startswith("$\\displaystyle") or "\\begin{aligned}" in v}


def test_one_meaning_per_symbol():
    """Two library names may print the same symbol only when they mean the same thing, in the same unit."""
    seen: dict[str, object] = {}
    for s in SYMBOLS.values():
        other = seen.setdefault(s.latex, s)
        assert (other.meaning, other.unit) == (s.meaning, s.unit), (
            f"${s.latex}$ means {other.meaning!r} ({other.key}) and {s.meaning!r} ({s.key})")


@pytest.mark.parametrize("page", NOTEBOOKS + PAGES, ids=lambda p: p.name)
def test_every_symbol_printed_is_in_the_glossary(page):
    """Every symbol of every glued equation and of the prose's maths is a registered symbol."""
    texts = list(_equations(page).values()) if page.suffix == ".ipynb" else []
    texts += _inline_maths(_markdown(page))
    missing = sorted({u for t in texts for u in nb.symbols_of(t)[1]})
    assert not missing, f"{page.name}: symbols not in the registry (the glossary): {missing}"


def test_the_glossary_is_the_registry():
    text = (ROOT / "book" / "glossary.md").read_text(encoding="utf-8")
    assert "from inference_arithmetic.book.registry import SYMBOLS" in text
    for term in ("EPLB", "NVFP4", "SM", "two-batch overlap", "MLA", "MTP", "TTFT", "KV cache"):
        assert re.search(rf"^{re.escape(term)}$", text, re.M), f"glossary: no term {term!r}"


@pytest.mark.parametrize("name", DEFINING)
def test_each_symbol_is_defined_where_the_chapter_first_uses_it(name):
    """Walking the chapter in reading order, every symbol of a display equation is defined by the "where" line
    right after it or by one before it; every equation of the chapter has such a line."""
    path = ROOT / "notebooks" / f"{name}.ipynb"
    glued = _glued(path)
    index = {(b, s, p): sym for sym in SYMBOLS.values() for (b, s, p) in symbol_tokens(sym.latex)[:1]}
    defined: set[str] = set()
    pending: list[tuple[str, list]] = []
    order = [(m.group(1) or m.group(2), "math" if m.group(1) else "where") for m in _DIRECTIVE.finditer(_markdown(path))]
    assert order, f"{name}: no equations found"
    for key, kind in order:
        if kind == "math":
            assert key in glued, f"{name}: equation {key} is not glued"
            symbols = [s.key for s in nb.symbols_of(glued[key])[0]]
            pending.append((key, symbols))
            continue
        assert f"{key}_where" in glued, f"{name}: no where line glued for {key}"
        for sym in nb.symbols_of(" ".join(_inline_maths(glued[f"{key}_where"])))[0]:
            defined.add(sym.key)
        for eq, symbols in pending:
            undefined = [s for s in symbols if s not in defined]
            assert not undefined, f"{name}: {eq} uses {undefined} before the chapter defines them"
        pending = []
    assert not pending, f"{name}: equations {[e for e, _ in pending]} have no where line after them"
    assert index  # the registry is not empty
