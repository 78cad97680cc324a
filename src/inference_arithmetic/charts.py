"""The book's altair theme and chart builders.

Builders take tidy data computed by the library's formulas; they never compute a model quantity.
"""
from __future__ import annotations

import altair as alt
import sympy as sp
from sympy.printing.jscode import JavascriptCodePrinter

from .rounding import SIGNIFICANT_DIGITS, stable, stable_data
from altair.vegalite.v6.display import html_renderer as _html_renderer

__all__ = ["enable_theme", "lines_with_points", "bars", "vega_expression", "stable_records", "slider",
           "dropdown"]

WIDTH, HEIGHT = 560, 320
PALETTE = ["#1f5f8b", "#d1495b", "#edae49", "#00798c", "#66a182", "#8d6a9f", "#30343f"]


@alt.theme.register("inference_arithmetic", enable=False)
def _theme() -> alt.theme.ThemeConfig:
    return {
        "config": {
            "view": {"continuousWidth": WIDTH, "continuousHeight": HEIGHT, "stroke": None},
            "range": {"category": PALETTE},
            "axis": {"labelFontSize": 12, "titleFontSize": 13, "grid": True, "gridOpacity": 0.4,
                     "labelLimit": 320},
            "legend": {"labelFontSize": 12, "titleFontSize": 12, "orient": "bottom"},
            "title": {"fontSize": 15, "anchor": "start"},
        }
    }


def enable_theme() -> None:
    """Use the book's theme for every chart made afterwards, rendered as SVG (inspectable marks,
    crisp in print)."""
    alt.theme.enable("inference_arithmetic")
    alt.renderers.enable("inference_arithmetic")
    alt.renderers.set_embed_options(renderer="svg", actions={"export": True, "source": False,
                                                             "compiled": False, "editor": False})


def stable_records(rows: list[dict] | None) -> list[dict] | None:
    """Records with every float rounded by the library's one rule (:func:`.rounding.stable`)."""
    return None if rows is None else stable_data(rows)


def _stable_renderer(spec: dict, **metadata) -> dict:
    """altair's HTML renderer, after every float of the chart spec (inline data, scales, parameter
    values) went through :func:`.rounding.stable_data`: a chart stored in a notebook is then the
    same on every CPU, whatever chart-building code made it."""
    return _html_renderer(stable_data(spec), **metadata)


alt.renderers.register("inference_arithmetic", _stable_renderer)


def lines_with_points(lines: list[dict], points: list[dict] | None = None, *, x: str, y: str,
                      color: str, title: str, x_title: str, y_title: str,
                      log_x: bool = False, log_y: bool = False) -> alt.LayerChart:
    """Lines of ``y`` against ``x`` by ``color``, plus labelled points (keys x, y, label).

    Data are lists of records (dicts), embedded in the chart spec.
    """
    lines, points = stable_records(lines), stable_records(points)
    xs = alt.Scale(type="log") if log_x else alt.Scale()
    ys = alt.Scale(type="log") if log_y else alt.Scale()
    base = alt.Chart(alt.Data(values=lines)).mark_line(strokeWidth=2.5).encode(
        x=alt.X(f"{x}:Q", title=x_title, scale=xs),
        y=alt.Y(f"{y}:Q", title=y_title, scale=ys),
        color=alt.Color(f"{color}:N", title=None),
        tooltip=[alt.Tooltip(f"{color}:N"), alt.Tooltip(f"{x}:Q", format=",.0f"),
                 alt.Tooltip(f"{y}:Q", format=",.0f")],
    )
    layers = [base]
    if points:
        pts = alt.Chart(alt.Data(values=points)).mark_point(size=90, filled=True, color="black").encode(
            x=f"{x}:Q", y=f"{y}:Q", tooltip=["label:N", alt.Tooltip(f"{y}:Q", format=",.0f")])
        labels = pts.mark_text(align="left", dx=8, dy=-8, fontSize=12).encode(text="label:N")
        layers += [pts, labels]
    return alt.layer(*layers).properties(title=title, width=WIDTH, height=HEIGHT)


def bars(rows: list[dict], *, x: str, y: str, color: str | None = None, title: str,
         x_title: str, y_title: str, fmt: str = ",.0f") -> alt.LayerChart:
    """Horizontal bars of ``x`` by category ``y`` (list of records), with value labels."""
    rows = stable_records(rows)
    enc = dict(x=alt.X(f"{x}:Q", title=x_title), y=alt.Y(f"{y}:N", title=y_title, sort=None))
    if color:
        enc["color"] = alt.Color(f"{color}:N", title=None)
    b = alt.Chart(alt.Data(values=rows)).mark_bar().encode(**enc, tooltip=[f"{y}:N", alt.Tooltip(f"{x}:Q", format=fmt)])
    t = alt.Chart(alt.Data(values=rows)).mark_text(align="left", dx=4).encode(
        x=f"{x}:Q", y=alt.Y(f"{y}:N", sort=None), text=alt.Text(f"{x}:Q", format=fmt))
    return alt.layer(b, t).properties(title=title, width=WIDTH, height=max(60, 36 * len(rows)))


class _VegaPrinter(JavascriptCodePrinter):
    """sympy's JavaScript printer, speaking the Vega expression language (no ``Math.`` prefix)."""

    def _print(self, expr, **kwargs):
        return super()._print(expr, **kwargs).replace("Math.", "")


def vega_expression(expr: sp.Expr, names: dict) -> str:
    """A Vega expression string for ``expr``, generated from the sympy formula (never retyped).

    ``names`` maps each remaining free symbol to its name in the chart, such as
    ``"datum.r"`` for a data field or a parameter name bound to a slider; every other
    symbol must already be substituted by a number.
    """
    missing = expr.free_symbols - set(names)
    if missing:
        raise ValueError(f"substitute or name these symbols: {sorted(s.name for s in missing)}")
    renamed = expr.xreplace({s: sp.Symbol(n) for s, n in names.items()})
    # numbers in the expression follow the library's rounding rule (stored charts are CPU-independent)
    renamed = renamed.xreplace({f: sp.Float(stable(float(f)), SIGNIFICANT_DIGITS) for f in renamed.atoms(sp.Float)})
    return _VegaPrinter({"precision": SIGNIFICANT_DIGITS}).doprint(renamed)


def slider(name: str, value: float, lo: float, hi: float, step: float, label: str) -> alt.Parameter:
    """A named chart parameter bound to a range slider."""
    return alt.param(name=name, value=value, bind=alt.binding_range(min=lo, max=hi, step=step, name=label + " "))


def dropdown(name: str, value, options: list, labels: list[str], label: str) -> alt.Parameter:
    """A named chart parameter bound to a drop-down menu."""
    return alt.param(name=name, value=value,
                     bind=alt.binding_select(options=options, labels=labels, name=label + " "))
