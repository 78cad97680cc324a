"""Committed notebook outputs are the same on every CPU: no float stored with more digits than the
library's rounding rule keeps (:data:`inference_arithmetic.rounding.SIGNIFICANT_DIGITS`)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from inference_arithmetic.core.rounding import SIGNIFICANT_DIGITS, stable, stable_data

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
# a decimal float literal (with a point or an exponent), not part of a word, version, hex or arXiv id
FLOAT = re.compile(r"(?<![\w.#-])(?<!arXiv:)-?(\d+\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)(?![\w.])")


def significant_digits(literal: str) -> int:
    mantissa = re.split(r"[eE]", literal)[0].lstrip("-").replace(".", "")
    return len(mantissa.lstrip("0").rstrip("0")) if "." in literal else len(mantissa.lstrip("0"))


def too_long(text: str) -> list[str]:
    return [m.group(0) for m in FLOAT.finditer(text) if significant_digits(m.group(0)) > SIGNIFICANT_DIGITS]


def test_the_scanner_finds_long_floats():
    assert too_long('{"x": 12799.061316459894, "y": 1.5, "v": "5.20.1", "n": 123456789}') == ["12799.061316459894"]
    assert too_long("1.2345678e-05 and 1.23456789e-05") == ["1.23456789e-05"]
    assert too_long("(arXiv:2412.19437)") == []
    assert stable(12799.061316459894) == 12799.061 and stable_data({"a": [0.1 + 0.2]}) == {"a": [0.3]}


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_float_beyond_the_rounding_rule(nb):
    found = []
    for i, cell in enumerate(json.loads(nb.read_text())["cells"]):
        for out in cell.get("outputs", []):
            texts = list(out.get("data", {}).values()) + [out.get("text", "")]
            for t in texts:
                t = "".join(t) if isinstance(t, list) else t if isinstance(t, str) else json.dumps(t)
                found += [f"cell {i}: {x}" for x in too_long(t)]
    assert not found, f"{len(found)} floats with more than {SIGNIFICANT_DIGITS} significant digits: {found[:5]}"
