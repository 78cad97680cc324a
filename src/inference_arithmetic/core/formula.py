"""The formula registry: one sympy expression per formula, unit-checked, evaluated by lambdify.

A :class:`Formula` is defined once with :func:`formula`.  At definition its
dimension is computed from the symbols' units and compared with the declared
unit (a mismatch raises :class:`~inference_arithmetic.units.UnitError` at import).
Numeric evaluation uses a cached ``sympy.lambdify`` to numpy, so any argument
may be a numpy array and a whole grid is evaluated in one call.  The answer path (the command
line, the planner, the step model) does not import this module: it calls the same functions
generated once from these expressions into :mod:`inference_arithmetic.core.fast`
(``make generate``; a test checks the file is current and equal to every formula).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from functools import cached_property
from typing import Mapping

import numpy as np
import sympy as sp

from inference_arithmetic.core.printing import latex
from inference_arithmetic.core.symbols import SYMBOLS
from inference_arithmetic.core.units import UnitError, dims_of

__all__ = ["Formula", "formula", "FORMULAS", "GROUPS", "formula_group", "dimension", "InputError", "evaluate_all"]


from inference_arithmetic.core.errors import InputError  # noqa: E402  (re-exported: the library's error type)
from inference_arithmetic.core.inputs import short  # noqa: E402


def _add(a: dict, b: dict, scale: int = 1) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0) + v * scale
    return {k: v for k, v in out.items() if v}


def dimension(expr: sp.Expr) -> tuple:
    """Dimension of ``expr`` from the units of its symbols; raises ``UnitError`` on a mismatch.

    Sums, ``Max`` and ``Min`` need every argument of one dimension; products add
    exponents; integer powers scale them.  Numbers are dimensionless.
    """

    def walk(e) -> dict:
        if isinstance(e, sp.Symbol):
            if e.name not in SYMBOLS:
                raise UnitError(f"symbol {e.name} has no unit: define it in symbols.py")
            return dict(SYMBOLS[e.name].dims)
        if e.is_number:  # numbers and constants such as pi
            return {}
        if isinstance(e, (sp.Add, sp.Max, sp.Min)):
            dims = [walk(a) for a in e.args]
            first = dims[0]
            for d in dims[1:]:
                if d != first:
                    raise UnitError(f"terms of different dimension in {e}: {first} vs {d}")
            return first
        if isinstance(e, sp.Mul):
            out: dict = {}
            for a in e.args:
                out = _add(out, walk(a))
            return out
        if isinstance(e, sp.Pow):
            base, exp = e.args
            if walk(exp):
                raise UnitError(f"exponent with a dimension in {e}")
            bd = walk(base)
            if not bd:
                return {}
            if not exp.is_Integer:
                raise UnitError(f"non-integer power of a dimensioned quantity in {e}")
            return _add({}, bd, int(exp))
        if isinstance(e, (sp.sin, sp.cos, sp.tan, sp.acos, sp.asin, sp.atan, sp.exp, sp.log)):
            if walk(e.args[0]):
                raise UnitError(f"argument of {e.func.__name__} must be dimensionless in {e}")
            return {}
        if isinstance(e, (sp.floor, sp.ceiling, sp.Abs)):
            return walk(e.args[0])
        if isinstance(e, sp.Piecewise):
            dims = [walk(a) for a, _ in e.args]
            if any(d != dims[0] for d in dims):
                raise UnitError(f"branches of different dimension in {e}")
            return dims[0]
        raise UnitError(f"cannot find the dimension of {e!r}")

    return tuple(sorted(walk(sp.sympify(expr)).items()))


@dataclass(frozen=True)
class Formula:
    """A named sympy expression with its unit and a one-line description."""

    name: str
    expr: sp.Expr
    unit: str
    doc: str
    args: tuple = field(default=())
    module: str = field(default="", compare=False)

    @cached_property
    def symbols(self) -> tuple:
        """The free symbols, sorted by name: the order of the numeric function's arguments."""
        return tuple(sorted(self.expr.free_symbols, key=lambda s: s.name))

    @cached_property
    def _fn(self):
        return sp.lambdify(self.symbols, self.expr, modules="numpy", cse=True)

    def fast(self, **values):
        """The numeric function on trusted internal values (validated upstream): no checks, keys
        beyond the formula's symbols ignored.  User data goes through :meth:`__call__`."""
        return self._fn(*[values[s.name] for s in self.symbols])

    def latex(self, lhs: str | None = None) -> str:
        """LaTeX of the expression as a person writes it (:func:`.printing.latex`: the book's symbol
        names, named sub-terms, terms in reading order); ``lhs = rhs`` if ``lhs`` is given."""
        return latex(self.expr, lhs, skip=self.expr)

    def __call__(self, **values):
        """Evaluate with SI numbers (bytes, seconds, FLOP, USD) or numpy arrays.

        Every free symbol must be given, by its key; extra keys are an error, so a
        misspelt input never falls back silently to some default.  Negative or
        non-finite inputs raise :class:`InputError`; zero is allowed (a term that
        vanishes).  A result that is not a finite real number (a division by zero,
        a negative base under a fractional power, an arccos argument above 1)
        raises :class:`InputError` too, so a bad input never becomes a silent
        ``inf``, ``nan`` or complex number.
        """
        names = [s.name for s in self.symbols]
        missing = [n for n in names if n not in values]
        extra = [k for k in values if k not in names]
        if missing or extra:
            raise InputError(
                f"{self.name}: " + "; ".join(
                    p for p in (f"missing {', '.join(missing)}" if missing else "",
                                f"unexpected {', '.join(extra)}" if extra else "") if p))
        args = []
        for n in names:
            v = values[n]
            if isinstance(v, (str, bytes)) or isinstance(v, np.ndarray) and v.dtype.kind not in "biuf":
                raise InputError(f"{self.name}: {n} must be a number, got {short(v)}")
            try:
                arr = np.asarray(v, dtype=float)
            except (TypeError, ValueError, OverflowError):
                raise InputError(f"{self.name}: {n} must be a number, got {short(v)}") from None
            if not np.all(np.isfinite(arr)):
                raise InputError(f"{self.name}: {n} must be a finite number, got {v!r}")
            if np.any(arr < 0):
                raise InputError(f"{self.name}: {n} must not be negative, got {v!r}")
            args.append(v if isinstance(v, np.ndarray) else float(v))
        try:
            with np.errstate(all="ignore"):
                result = self._fn(*args)
            bad = np.iscomplexobj(result) or not np.all(np.isfinite(result))
        except ZeroDivisionError:
            bad = True
        if bad:
            raise InputError(f"{self.name}: inputs outside the formula's domain (a division by zero "
                             f"or a complex or infinite result) at "
                             f"{', '.join(f'{n}={short(values[n], 40)}' for n in names)}")
        return result

    def subs(self, **values) -> sp.Expr:
        """The expression with some symbols replaced by numbers or other expressions."""
        return self.expr.subs({SYMBOLS[k].symbol: v for k, v in values.items()})


FORMULAS: dict[str, Formula] = {}


def formula(name: str, expr: sp.Expr, unit: str, doc: str) -> Formula:
    """Define and register a formula; its dimension must equal ``unit``'s."""
    if name in FORMULAS:
        raise RuntimeError(f"formula {name} defined twice")
    expr = sp.sympify(expr)
    got, want = dimension(expr), dims_of(unit)
    if got != want:
        raise UnitError(f"formula {name}: expression has dimension {got}, declared {unit} {want}")
    f = Formula(name, expr, unit, doc, module=sys._getframe(1).f_globals.get("__name__", ""))
    FORMULAS[name] = f
    return f


#: several formulas evaluated in one generated function (common subexpressions shared):
#: name -> (defining module, the formulas in the order the function returns them)
GROUPS: dict[str, tuple[str, tuple[Formula, ...]]] = {}


def formula_group(name: str, formulas) -> tuple:
    """Register ``formulas`` to be evaluated together by one generated function ``name`` of
    :mod:`inference_arithmetic.core.fast` (a list of their values, in this order)."""
    if name in GROUPS or name in FORMULAS:
        raise RuntimeError(f"formula group {name} defined twice")
    GROUPS[name] = (sys._getframe(1).f_globals.get("__name__", ""), tuple(formulas))
    return GROUPS[name][1]


def evaluate_all(f: Formula, values: Mapping[str, float]):
    """Evaluate ``f`` with the subset of ``values`` it needs (``values`` may hold more keys)."""
    return f(**{s.name: values[s.name] for s in f.symbols})
