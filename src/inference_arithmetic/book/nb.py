"""Helpers for the notebooks: glue checked figures, numbers and equations for the prose.

Notebooks import and narrate; these helpers only move library results into
myst-nb's glue store, so prose never carries a hand-typed number.
"""
from __future__ import annotations

from inference_arithmetic.evidence.published import check
from inference_arithmetic.core.formula import Formula
from inference_arithmetic.core.tex import symbol_tokens
from inference_arithmetic.core.rounding import stable
from inference_arithmetic.evidence.measurements import measurement, measurements
from inference_arithmetic.evidence.headlines import headlines
from inference_arithmetic.evidence.published import FIGURES

__all__ = ["glue_figure", "glue_number", "glue_text", "glue_md", "glue_equation", "glue_where", "symbols_of",
           "glue_measurements", "glue_chart", "markdown_table", "cite", "reproduced_figures_table"]

#: symbol keys already defined on this page (one notebook runs in one kernel: one chapter)
_DEFINED: set[str] = set()


def _glue(name, value, display=False):
    from myst_nb import glue  # imported here: the library itself does not need myst-nb
    glue(name, value, display=display)


def glue_figure(key: str) -> str:
    """Check figure ``key`` against its source (AssertionError on drift), glue it, return the verdict
    (a log line for the command line: a chapter shows :func:`reproduced_figures_table` instead).

    Glued names: ``key`` (the computed value) and, where published, ``key_published``.
    """
    result = check(key)
    _glue(key, stable(result.value))
    if result.published is not None:
        _glue(f"{key}_published", stable(result.published))
    return str(result)


def glue_number(name: str, value) -> None:
    """Glue a computed number (prose formats it with ``{glue:text}`name:,.0f```)."""
    _glue(name, stable(value))


def glue_headlines() -> None:
    """Glue every headline quantity of :mod:`.evidence.headlines` as ``hl_<key>`` (fractions as
    percentages under ``hl_<key>_pct``): the one value every page shows for it."""
    for h in headlines().values():
        _glue(f"hl_{h.key}", stable(h.value))
        if h.unit == "1" and h.kind == "validation error" and h.key != "model_n":
            _glue(f"hl_{h.key}_pct", stable(100 * h.value))


def glue_text(name: str, text: str) -> None:
    """Glue a short computed string (a GPU name, a layout) for ``{glue:text}`name```."""
    _glue(name, str(text))


def glue_md(name: str, text: str) -> None:
    """Glue a short computed Markdown string (a citation, a list of names) for ``{glue:md}`name:myst```."""
    from IPython.display import Markdown
    _glue(name, Markdown(str(text)))


def glue_measurements(group: str, prefix: str = "") -> None:
    """Glue every published value of a measurements.yaml group, in its published unit.

    Names are ``prefix + key``; e.g. ``glue_measurements("deepseek_day6", "d6_")`` glues
    ``d6_average_nodes`` = 226.75.
    """
    for key, v in measurements()[group].items():
        _glue(prefix + key, v.value)


def glue_chart(name: str, chart) -> None:
    """Glue an altair chart for a captioned ``{glue:figure}`` directive."""
    _glue(name, chart)


def glue_equation(name: str, f: Formula, lhs: str, *, where: bool = False) -> None:
    """Glue the LaTeX of formula ``f`` as ``lhs = ...`` for a ``{glue:math}`` directive (set over aligned
    lines when it is wider than the text column, :func:`.printing.latex`).

    ``where``: also glue ``<name>_where``, the definitions of the equation's symbols not yet defined on this
    page (from the symbol registry), for a ``{glue:md}`<name>_where:myst``` line after the equation.
    """
    from IPython.display import Math
    tex = f.latex(lhs)
    _glue(name, Math(tex))
    if where:
        glue_where(f"{name}_where", tex)


def _symbol_index() -> dict:
    from inference_arithmetic.book.registry import SYMBOLS   # every module imported: the complete table
    index = {}
    for s in SYMBOLS.values():
        tokens = symbol_tokens(s.latex)
        if len(tokens) == 1:
            index.setdefault(tokens[0], s)
    return index


def symbols_of(tex: str) -> tuple[list, list]:
    """The registered symbols of a LaTeX formula in reading order (each once) and the tokens that are
    no registered symbol.  A superscript that is not part of a registered name (a power, ``(m=2)``) is
    read as a formula of its own."""
    index, found, unknown = _symbol_index(), [], []

    def visit(text):
        for base, sub, sup in symbol_tokens(text):
            if (base, sub, sup) in index:
                s = index[(base, sub, sup)]
            elif (base, sub, "") in index:
                s = index[(base, sub, "")]
                visit(sup)
            else:
                unknown.append(base + (f"_{{{sub}}}" if sub else "") + (f"^{{{sup}}}" if sup else ""))
                continue
            if s not in found:
                found.append(s)

    visit(tex)
    return found, unknown


def _unit(u: str) -> str:
    return "" if u == "1" else f" [{u}]"


def glue_where(name: str, tex: str) -> None:
    """Glue "where ..." defining each symbol of ``tex`` that this page has not defined yet."""
    from IPython.display import Markdown
    new = [s for s in symbols_of(tex)[0] if s.key not in _DEFINED]
    _DEFINED.update(s.key for s in new)
    text = "" if not new else "where " + "; ".join(f"${s.latex}$: {s.meaning}{_unit(s.unit)}" for s in new) + "."
    _glue(name, Markdown(text))


def markdown_table(rows: list[dict]):
    """A Markdown table of ``rows`` (dicts with the same keys, values already formatted) for display.

    Cells may hold MyST roles such as :func:`cite`; the book renders Markdown outputs as MyST.
    """
    from IPython.display import Markdown
    if not rows:
        raise ValueError("markdown_table needs at least one row")
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(r[h]) for h in head) + " |" for r in rows]
    return Markdown("\n".join(lines))


def cite(keys) -> str:
    """A parenthetical MyST citation of one references.bib key or several."""
    keys = [keys] if isinstance(keys, str) else list(keys)
    return "{cite:p}`" + ",".join(keys) + "`"


#: units as a reader writes them after a number ("1" is a pure number)
_UNIT_TEXT = {"1": "", "1/s": "per second"}


def _with_unit(value: float, unit: str) -> str:
    text, unit = f"{value:,.6g}", _UNIT_TEXT.get(unit, unit)
    return f"{text} {unit}" if unit else text


def reproduced_figures_table(keys):
    """A chapter's "reproduced figures" table: each figure checked again (``AssertionError`` on drift).

    Columns: the figure, the source's value (cited), the value computed here, the tolerance and the
    status. Derived figures, with no published value, read "derived" in the source column.
    """
    rows = []
    for key in keys:
        fig, result = FIGURES[key], check(key)
        if result.published is None:
            source, tol, status = "derived here: no published value", "–", "not compared"
        else:
            m = measurement(*fig.published)
            # the source's figure as it printed it; where the book reads it in another unit, say so
            source = _with_unit(m.value, m.unit) + (f", read as {fig.published_unit}"
                                                   if fig.published_unit and fig.published_unit != m.unit else "")
            source += f" {cite(m.src)}"
            if fig.rounded:
                tol = (f"source inside {result.low:,.6g} to {_with_unit(result.high, fig.unit)}, "
                       "from the rounding of its inputs")
            else:
                tol = "exact" if fig.rtol <= 1e-9 else f"within {100 * fig.rtol:.2g} %"
            status = "agrees" if result.ok else "DRIFT"
        rows.append({"figure": fig.title, "source": source, "computed": _with_unit(result.value, fig.unit),
                     "tolerance": tol, "status": status})
    return markdown_table(rows)


def inputs_table(group: str, keys=None, labels: dict | None = None):
    """The published inputs a chapter starts from: quantity, value as published, unit, source (cited).

    ``keys``: which values of the ``measurements.yaml`` group (all by default); ``labels``: the
    quantity's name for a key (the key with spaces otherwise). The source's own note, when it has
    one, follows the name.
    """
    values = measurements()[group]
    labels = labels or {}
    rows = []
    for key in keys or list(values):
        v = values[key]
        name = labels.get(key, key.replace("_", " "))
        rows.append({"quantity": name + (f" ({v.note})" if v.note else ""), "value": f"{v.value:,.6g}",
                     "unit": _UNIT_TEXT.get(v.unit, v.unit) or "–", "source": cite(v.src)})
    return markdown_table(rows)
