"""The Vega expressions that interactive charts evaluate in the browser agree with the library.

Every registered formula is turned into a Vega expression by
``charts.vega_expression`` (the same call the interactive charts make), evaluated
by Vega itself (vl-convert's embedded Vega, no browser needed) at a random point,
and compared with the lambdified numpy value at that point.  A printer that drops a
bracket, misnames a function or rounds a constant fails here.
"""
from __future__ import annotations

import numpy as np
import pytest
import vl_convert as vlc

import inference_arithmetic  # noqa: F401  (imports every module, registering every formula)
from inference_arithmetic.book import charts
from inference_arithmetic.book.registry import FORMULAS
from inference_arithmetic.core.errors import InputError

RTOL = 1e-9


def _point(f, rng):
    """A random point inside the formula's domain (inputs between 1 and 4).

    Counts such as an EP size or an expert count are at least 1; a point still
    outside the domain (an arccos argument above 1) is refused by the library
    with ``InputError`` and redrawn.
    """
    for _ in range(50):
        vals = {s: float(rng.uniform(1.0, 4.0)) for s in f.symbols}
        try:
            value = float(f(**{s.name: x for s, x in vals.items()}))
        except InputError:
            continue
        if np.isfinite(value):
            return vals, value
    raise AssertionError(f"{f.name}: no finite value at 50 random points")


def _texts(node, out):
    if isinstance(node, dict):
        if isinstance(node.get("text"), str):
            out.append(node["text"])
        for v in node.values():
            _texts(v, out)
    elif isinstance(node, list):
        for v in node:
            _texts(v, out)
    return out


def _evaluate_in_vega(expressions: dict[str, str], row: dict[str, float]) -> dict[str, float]:
    """Evaluate named Vega expressions over one data row; returns name -> value."""
    spec = {
        "data": {"values": [row]},
        "transform": [{"calculate": e, "as": k} for k, e in expressions.items()]
        + [{"fold": list(expressions)},
           {"calculate": "datum.key + ' ' + format(datum.value, '.17e')", "as": "out"}],
        "mark": "text",
        "encoding": {"text": {"field": "out"}, "y": {"field": "key"}},
    }
    got = {}
    for t in _texts(vlc.vegalite_to_scenegraph(spec), []):
        key, _, value = t.partition(" ")
        if key in expressions and value:
            got[key] = float(value.replace("\u2212", "-"))  # d3-format writes a Unicode minus
    return got


@pytest.fixture(scope="module")
def vega_and_numpy():
    rng = np.random.default_rng(20261124)
    row, expressions, expected = {}, {}, {}
    for k, (name, f) in enumerate(sorted(FORMULAS.items())):
        vals, value = _point(f, rng)
        fields = {}
        for j, (s, x) in enumerate(vals.items()):
            fields[s] = f"datum.a{k}_{j}"
            row[f"a{k}_{j}"] = x
        expressions[f"f{k}"] = charts.vega_expression(f.expr, fields)
        expected[f"f{k}"] = (name, value)
    return expected, _evaluate_in_vega(expressions, row)


def test_every_formula_is_checked(vega_and_numpy):
    expected, got = vega_and_numpy
    assert len(expected) == len(FORMULAS) > 40
    assert set(got) == set(expected), f"Vega returned no value for {sorted(set(expected) - set(got))}"


def test_vega_evaluates_every_formula_like_numpy(vega_and_numpy):
    expected, got = vega_and_numpy
    wrong = [f"{name}: numpy {value!r}, Vega {got.get(key)!r}"
             for key, (name, value) in expected.items()
             if key in got and not np.isclose(got[key], value, rtol=RTOL, atol=0)]
    assert not wrong, "\n".join(wrong)


def test_the_comparison_can_fail():
    """A deliberately wrong expression is caught by the same evaluation path."""
    got = _evaluate_in_vega({"right": "pow(datum.x, 2)", "wrong": "datum.x * 2"}, {"x": 3.0})
    assert np.isclose(got["right"], 9.0, rtol=RTOL)
    assert not np.isclose(got["wrong"], 9.0, rtol=RTOL)
