"""One rounding rule for every float that goes into a stored output.

numpy's SIMD paths (SSE, AVX2, AVX-512) may differ in the last bit of a result,
so a notebook executed on a reader's machine would not reproduce the outputs
committed from ours.  Every float stored in a committed output (chart data, glued
numbers, printed tables) therefore passes through :func:`stable`, which keeps
:data:`SIGNIFICANT_DIGITS` significant digits: far more than any figure needs, and
far fewer than the 15-17 where the platforms disagree.  A test scans every committed
notebook for floats stored with more digits than this rule allows.
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["SIGNIFICANT_DIGITS", "stable", "stable_data", "decimals_apart"]

#: Significant digits kept in every stored float.
SIGNIFICANT_DIGITS = 8


def decimals_apart(a: float, b: float, least: int = 1, most: int = 6) -> int:
    """The fewest decimals, from ``least`` to ``most``, at which ``a`` and ``b`` print differently: a message that
    compares two numbers ("135.682 GB exceed the 135.679 GB", "a TTFT of 0.5004 s over the 0.5 s limit") never
    prints them equal."""
    return next((d for d in range(least, most + 1) if f"{a:.{d}f}" != f"{b:.{d}f}"), most)


def stable(value, digits: int = SIGNIFICANT_DIGITS):
    """``value`` (a number or an array) rounded to ``digits`` significant digits, as float(s)."""
    if isinstance(value, np.ndarray):
        return np.array(_rounded_list(value, digits), dtype=float).reshape(value.shape)
    return float(f"{float(value):.{digits}g}")


def _rounded_list(value: np.ndarray, digits: int) -> list:
    """The elements of ``value`` (flattened), each rounded by :func:`stable`, as Python floats."""
    fmt = f".{digits}g"
    return [float(format(x, fmt)) for x in np.asarray(value, dtype=float).ravel().tolist()]


def stable_data(data: Any, digits: int = SIGNIFICANT_DIGITS) -> Any:
    """``data`` (nested dicts, lists and tuples, as in a chart spec) with every float rounded by
    :func:`stable`; integers, booleans and strings unchanged."""
    if isinstance(data, bool) or data is None or isinstance(data, (str, int)):
        return data
    if isinstance(data, (float, np.floating)):
        return stable(data, digits) if np.isfinite(data) else float(data)
    if isinstance(data, np.integer):
        return int(data)
    if isinstance(data, np.ndarray):
        if data.dtype.kind == "f" and data.ndim:   # one pass over the numbers, not one call per element
            return np.array(_rounded_list(data, digits), dtype=object).reshape(data.shape).tolist() \
                if data.ndim > 1 else _rounded_list(data, digits)
        return stable_data(data.tolist(), digits)
    if isinstance(data, dict):
        return {k: stable_data(v, digits) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [stable_data(v, digits) for v in data]
    return data
