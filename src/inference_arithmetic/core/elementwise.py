"""Elementwise maximum and minimum for the generated functions of :mod:`inference_arithmetic.core.fast`.

``sympy.lambdify`` prints ``Max(a, b)`` as ``reduce(numpy.maximum, [a, b])``: right for arrays, but a
numpy call costs about a microsecond on two plain floats, and the step formulas take many.  These
fold ``numpy.maximum`` / ``numpy.minimum`` over their arguments the same way, comparing two Python
floats directly (the same value; NaN propagates as in numpy).
"""
from __future__ import annotations

from numpy import maximum, minimum

__all__ = ["largest", "smallest"]


def largest(a, b, *more):
    """``reduce(numpy.maximum, [a, b, *more])``; plain floats compared without numpy."""
    if type(a) is float and type(b) is float:
        r = a if a >= b or a != a else b
    else:
        r = maximum(a, b)
    return largest(r, *more) if more else r


def smallest(a, b, *more):
    """``reduce(numpy.minimum, [a, b, *more])``; plain floats compared without numpy."""
    if type(a) is float and type(b) is float:
        r = a if a <= b or a != a else b
    else:
        r = minimum(a, b)
    return smallest(r, *more) if more else r
