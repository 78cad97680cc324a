"""The median of a list of numbers, as :func:`statistics.median` takes it, without loading that module on every
command's path (the kernel-table readers of :mod:`.hardware` take medians of repeated measurements)."""
from __future__ import annotations

__all__ = ["median"]


def median(values) -> float:
    """The median of ``values``: the middle value, or the mean of the two middle values of an even count."""
    v, mid = sorted(values), len(values) // 2
    return float(v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2)
