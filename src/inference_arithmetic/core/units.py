"""Units: parse unit strings, convert to SI base amounts, and format for prose.

Only three physical dimensions are tracked: bytes (``B``), seconds (``s``),
floating-point operations (``FLOP``) and money (``USD``).  Counts such as tokens,
GPUs, nodes, users, layers and parameters are dimensionless labels: ``B/token``
has the dimension of ``B``.

Decimal and binary prefixes are distinct units: ``MB`` is 10**6 B and ``MiB`` is
2**20 B.  A value is only ever converted through :func:`convert`, which refuses to
cross dimensions, so the two are never mixed silently.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

__all__ = [
    "UnitError", "Quantity", "parse_unit", "dims_of", "convert", "q", "fmt",
]


from inference_arithmetic.core.errors import UnitError  # noqa: E402  (re-exported: the library's error type)


# name -> (dimension exponents, factor to SI base)
_BASE = {
    "B": ({"B": 1}, 1.0),
    "s": ({"s": 1}, 1.0),
    "FLOP": ({"FLOP": 1}, 1.0),
    "USD": ({"USD": 1}, 1.0),
    "min": ({"s": 1}, 60.0),
    "h": ({"s": 1}, 3600.0),
    "day": ({"s": 1}, 86400.0),
    "bit": ({"B": 1}, 1 / 8),
}
_DECIMAL = {"k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
# dimensionless counting labels
_COUNTS = {"1", "token", "tok", "GPU", "node", "user", "layer", "param", "element",
           "step", "expert", "request", "rack"}
_UNITS: dict[str, tuple[dict, float]] = {}
for _name, (_dims, _f) in _BASE.items():
    _UNITS[_name] = (_dims, _f)
for _p, _f in _DECIMAL.items():
    _UNITS[_p + "B"] = ({"B": 1}, _f)
    _UNITS[_p + "FLOP"] = ({"FLOP": 1}, _f)
    _UNITS[_p + "bit"] = ({"B": 1}, _f / 8)
for _p, _f in _BINARY.items():
    _UNITS[_p + "B"] = ({"B": 1}, float(_f))
_UNITS["Gb"] = ({"B": 1}, 1e9 / 8)   # gigabit, as in "400 Gb/s"
_UNITS["Tb"] = ({"B": 1}, 1e12 / 8)
for _p, _f in _DECIMAL.items():       # prefixed counts: "USD/Mtok", "Gtoken", "Gparam"
    for _c in ("token", "tok", "param"):
        _UNITS[_p + _c] = ({}, _f)


def _canon(dims: dict) -> tuple:
    return tuple(sorted((k, v) for k, v in dims.items() if v))


_TOKEN = re.compile(r"\s*([*/·])?\s*([A-Za-z0-9]+)(\^-?\d+)?")


def parse_unit(unit: str) -> tuple[tuple, float]:
    """Return ``(dimension, factor)`` for a unit string such as ``"TB/s"``.

    ``factor`` converts an amount in ``unit`` to SI base units (B, s, FLOP, USD).
    Grammar: names joined by ``*``, ``·`` or ``/``; each ``/`` divides by the next
    name only (``USD/GPU/h`` is dollars per GPU per hour); ``^n`` raises a name.
    """
    if not isinstance(unit, str) or not unit.strip():
        raise UnitError(f"empty or non-text unit: {unit!r}")
    dims: dict[str, int] = {}
    factor = 1.0
    pos = 0
    text = unit.strip()
    first = True
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise UnitError(f"cannot parse unit {unit!r} at {text[pos:]!r}")
        op, name, power = m.group(1), m.group(2), m.group(3)
        if not first and op is None:
            raise UnitError(f"cannot parse unit {unit!r}: missing '*' or '/' before {name!r}")
        exp = int(power[1:]) if power else 1
        if op == "/":
            exp = -exp
        if name in _COUNTS:
            d, f = {}, 1.0
        elif name in _UNITS:
            d, f = _UNITS[name]
        else:
            raise UnitError(f"unknown unit {name!r} in {unit!r}")
        for k, v in d.items():
            dims[k] = dims.get(k, 0) + v * exp
        factor *= f ** exp
        pos = m.end()
        first = False
    return _canon(dims), factor


def dims_of(unit: str) -> tuple:
    """The dimension of a unit string, e.g. ``dims_of("GB/s") == (("B", 1), ("s", -1))``."""
    return parse_unit(unit)[0]


def convert(value, from_unit: str, to_unit: str):
    """Convert ``value`` (number or numpy array) from one unit to another of the same dimension."""
    d1, f1 = parse_unit(from_unit)
    d2, f2 = parse_unit(to_unit)
    if d1 != d2:
        raise UnitError(f"cannot convert {from_unit} to {to_unit}: dimensions differ")
    return value * (f1 / f2)


@dataclass(frozen=True)
class Quantity:
    """An amount with a unit; ``si`` is the amount in SI base units."""

    si: float
    unit: str  # the unit it was given in, kept for display

    @property
    def dims(self) -> tuple:
        return dims_of(self.unit)

    def to(self, unit: str) -> float:
        """The amount in ``unit``; raises :class:`UnitError` across dimensions."""
        d, f = parse_unit(unit)
        if d != self.dims:
            raise UnitError(f"cannot express {self.unit} in {unit}: dimensions differ")
        return self.si / f

    def __str__(self) -> str:
        return fmt(self.to(self.unit), self.unit)


def q(value: float, unit: str) -> Quantity:
    """A :class:`Quantity` from an amount in ``unit``: ``q(3.35, "TB/s")``."""
    _, f = parse_unit(unit)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise UnitError(f"not a finite number: {value!r}")
    return Quantity(float(value) * f, unit)


def fmt(value: float, unit: str = "", digits: int = 3) -> str:
    """Format ``value`` with ``digits`` significant figures and thousands separators."""
    if value == 0 or not math.isfinite(value):
        s = f"{value:g}"
    else:
        mag = math.floor(math.log10(abs(value)))
        decimals = max(digits - 1 - mag, 0)
        s = f"{value:,.{decimals}f}"
    return f"{s} {unit}".strip()

