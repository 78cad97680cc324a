"""The book's altair theme and chart builders.

Builders take tidy data computed by the library's formulas; they never compute a model quantity.
"""
from __future__ import annotations

import altair as alt
import sympy as sp
from sympy.printing.jscode import JavascriptCodePrinter

from inference_arithmetic.core.rounding import SIGNIFICANT_DIGITS, stable, stable_data
from altair.vegalite.v6.display import html_renderer as _html_renderer

__all__ = ["enable_theme", "lines_with_points", "bars", "vega_expression", "stable_records", "slider",
           "dropdown", "predicted_vs_measured", "error_bars", "waterfall"]

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
            # below the plot, one entry a line, never truncated: every line is named in full
            "legend": {"labelFontSize": 12, "titleFontSize": 12, "orient": "bottom", "direction": "vertical",
                       "labelLimit": 0, "symbolStrokeWidth": 3},
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
                      log_x: bool = False, log_y: bool = False, x_domain: list | None = None) -> alt.LayerChart:
    """Lines of ``y`` against ``x`` by ``color``, plus labelled points (keys x, y, label).

    Data are lists of records (dicts), embedded in the chart spec.  ``x_domain``: the x axis spans exactly
    this range (the data's, not a rounder one beyond it).
    """
    lines, points = stable_records(lines), stable_records(points)
    xs = alt.Scale(type="log") if log_x else alt.Scale()
    if x_domain is not None:
        xs = alt.Scale(type="log" if log_x else "linear", domain=list(x_domain), nice=False)
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


def predicted_vs_measured(points: list[dict], *, title: str, unit: str) -> alt.LayerChart:
    """Log-log scatter of model predictions against measurements (keys ``measured``,
    ``predicted``, ``group``, ``label``), with the y = x line and the ±25 % band around it;
    axis ranges from the data."""
    points = stable_records(points)
    vals = [p[k] for p in points for k in ("measured", "predicted")]
    lo, hi = min(vals) / 1.5, max(vals) * 1.5
    dom = alt.Scale(type="log", domain=[lo, hi])
    diag = [{"x": lo, "y": lo, "line": "prediction = measurement"}, {"x": hi, "y": hi, "line": "prediction = measurement"},
            {"x": lo, "y": lo * 1.25, "line": "25 % above"}, {"x": hi, "y": hi * 1.25, "line": "25 % above"},
            {"x": lo, "y": lo * 0.75, "line": "25 % below"}, {"x": hi, "y": hi * 0.75, "line": "25 % below"}]
    ref = alt.Chart(alt.Data(values=stable_records(diag))).mark_line(color="#888", strokeDash=[4, 3]).encode(
        x=alt.X("x:Q", scale=dom), y=alt.Y("y:Q", scale=dom), detail="line:N")
    pts = alt.Chart(alt.Data(values=points)).mark_point(size=90, filled=True).encode(
        x=alt.X("measured:Q", scale=dom, title=f"measured ({unit})"),
        y=alt.Y("predicted:Q", scale=dom, title=f"model prediction ({unit})"),
        color=alt.Color("group:N", title=None), shape=alt.Shape("group:N", title=None),
        tooltip=["label:N", alt.Tooltip("measured:Q", format=",.0f"), alt.Tooltip("predicted:Q", format=",.0f"),
                 alt.Tooltip("error:Q", format="+.0%")])
    return alt.layer(ref, pts).properties(title=title, width=WIDTH, height=HEIGHT)


def error_strip(points: list[dict], *, title: str) -> alt.LayerChart:
    """One mark per prediction's relative error (keys ``label``, ``error``, ``row``, ``group``): a row per
    ``row`` (a publisher, a benchmark round), coloured by ``group`` (a model family), the run named on hover;
    the figure's height grows with its rows, not with its predictions."""
    points = stable_records(points)
    rows = list(dict.fromkeys(p["row"] for p in points))        # in the order given
    m = alt.Chart(alt.Data(values=points)).mark_tick(thickness=2, size=16).encode(
        y=alt.Y("row:N", sort=rows, title=None, axis=alt.Axis(labelLimit=260)),
        x=alt.X("error:Q", axis=alt.Axis(format="+.0%"), title="model / measurement − 1"),
        color=alt.Color("group:N", title=None), tooltip=["label:N", alt.Tooltip("error:Q", format="+.1%")])
    zero = alt.Chart(alt.Data(values=[{"z": 0}])).mark_rule(color="black").encode(x="z:Q")
    return alt.layer(m, zero).properties(title=title, width=WIDTH, height=max(120, 24 * len(rows)))


def waterfall(rows: list[dict], *, title: str, x_title: str) -> alt.LayerChart:
    """Horizontal bars, one per step of a gap decomposition (keys ``step``, ``value``, ``kind``),
    in the given order, labelled with their values."""
    rows = stable_records(rows)
    enc = dict(y=alt.Y("step:N", sort=None, title=None, axis=alt.Axis(labelLimit=400)),
               x=alt.X("value:Q", title=x_title))
    b = alt.Chart(alt.Data(values=rows)).mark_bar().encode(**enc, color=alt.Color("kind:N", title=None),
                                                           tooltip=["step:N", alt.Tooltip("value:Q", format=",.0f")])
    t = alt.Chart(alt.Data(values=rows)).mark_text(align="left", dx=4).encode(**enc, text=alt.Text("value:Q", format=",.0f"))
    return alt.layer(b, t).properties(title=title, width=WIDTH, height=max(120, 30 * len(rows)))
