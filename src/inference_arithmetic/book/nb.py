"""Helpers for the notebooks: glue checked figures, numbers and equations for the prose.

Notebooks import and narrate; these helpers only move library results into
myst-nb's glue store, so prose never carries a hand-typed number.
"""
from __future__ import annotations

from inference_arithmetic.evidence.published import check
from inference_arithmetic.core.formula import Formula
from inference_arithmetic.core.rounding import stable
from inference_arithmetic.evidence.measurements import measurement, measurements
from inference_arithmetic.evidence.headlines import headlines
from inference_arithmetic.evidence.published import FIGURES

__all__ = ["glue_figure", "glue_number", "glue_text", "glue_equation", "glue_measurements", "glue_chart",
           "markdown_table", "cite", "reproduced_figures_table"]


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


def glue_equation(name: str, f: Formula, lhs: str) -> None:
    """Glue the LaTeX of formula ``f`` as ``lhs = ...`` for a ``{glue:math}`` directive."""
    from IPython.display import Math
    _glue(name, Math(f.latex(lhs)))


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


def _with_unit(value: float, unit: str) -> str:
    text = f"{value:,.6g}"
    return text if unit == "1" else f"{text} {unit}"


def reproduced_figures_table(keys):
    """A chapter's "reproduced figures" table: each figure checked again (``AssertionError`` on drift).

    Columns: the figure, the source's value (cited), the value computed here, the tolerance and the
    status. Derived figures, with no published value, read "derived" in the source column.
    """
    rows = []
    for key in keys:
        fig, result = FIGURES[key], check(key)
        if result.published is None:
            source, tol = "derived: no published value", "–"
        else:
            m = measurement(*fig.published)
            source = f"{m.value:,.6g} {fig.published_unit or m.unit} {cite(m.src)}".replace(" 1 ", " ")
            if fig.rounded:
                tol = (f"source inside {result.low:,.6g} to {_with_unit(result.high, fig.unit)}, "
                       "from the rounding of its inputs")
            else:
                tol = "exact (relative 1e-9)" if fig.rtol <= 1e-9 else f"within {100 * fig.rtol:.2g} %"
        rows.append({"figure": fig.title, "source": source, "computed": _with_unit(result.value, fig.unit),
                     "tolerance": tol, "status": "agrees" if result.ok else "DRIFT"})
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
                     "unit": v.unit, "source": cite(v.src)})
    return markdown_table(rows)
