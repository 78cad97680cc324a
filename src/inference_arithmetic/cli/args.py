"""Command-line arguments: one-line errors, ranges and grids, typed values, model specs."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from inference_arithmetic.core import inputs
from inference_arithmetic.core.errors import Error
from inference_arithmetic.model import config, dtypes
from inference_arithmetic.step.layout import MAX_PP


SOL_WEIGHT_DTYPES = dtypes.WEIGHT_DTYPES + ("fp4",)
_RANGE = re.compile(r"^\s*([0-9]{1,12})\s*(?::\s*([0-9]{1,12})\s*(?::\s*([0-9]{1,12})\s*)?)?$")
MAX_POINTS = inputs.MAX_GRID_POINTS
#: Largest context, batch or range bound accepted, tokens or users.
MAX_RANGE_VALUE = 10**8


class UsageError(Error):
    """Bad command-line input."""


def parse_range(text: str, what: str) -> np.ndarray:
    """``"4096"`` or ``"1000:128000:1000"`` (inclusive) as a float array of positive integers."""
    m = _RANGE.match(str(text))
    if not m:
        raise UsageError(f"{what} must be a positive integer or a range start:stop[:step], got {inputs.short(text)}")
    start = int(m.group(1))
    stop = int(m.group(2)) if m.group(2) is not None else start
    stp = int(m.group(3)) if m.group(3) is not None else 1
    if start < 1 or stop < start or stp < 1:
        raise UsageError(f"{what}: need 1 <= start <= stop and step >= 1, got {inputs.short(text)}")
    if stop > MAX_RANGE_VALUE:
        raise UsageError(f"{what}: values above {MAX_RANGE_VALUE:,} are refused, got {inputs.short(text)}")
    if (stop - start) // stp + 1 > MAX_POINTS:
        raise UsageError(f"{what}: range has more than {MAX_POINTS:,} points")
    return np.arange(start, stop + 1, stp, dtype=float)


def grid(*axes: np.ndarray) -> list[np.ndarray]:
    """Every combination of the ranges ``axes`` (first axis slowest), flattened and aligned.

    Refuses grids of more than :data:`MAX_POINTS` points with a one-line error.
    """
    n = 1
    for a in axes:
        n *= a.size
    if n > MAX_POINTS:
        sizes = " x ".join(f"{a.size:,}" for a in axes)
        raise UsageError(f"the ranges make {sizes} = {n:,} points; at most {MAX_POINTS:,} are evaluated at once")
    return [g.ravel() for g in np.meshgrid(*axes, indexing="ij")]


def arg_type(parse, what: str, **bounds):
    """An argparse type: ``parse`` (an :mod:`.inputs` parser) within ``bounds``, else one message."""
    def convert(text: str):
        try:
            return parse(text, "value", **bounds)
        except Error:
            import argparse     # argparse only where it reports: a plain command line never loads it
            raise argparse.ArgumentTypeError(f"must be {what}, got {inputs.short(text)}") from None
    return convert


positive_int = arg_type(inputs.parse_int, f"a positive integer up to {inputs.MAX_INT:,}", least=1)
count = arg_type(inputs.parse_int, f"a whole number >= 0 up to {inputs.MAX_INT:,}", least=0)
count_small = arg_type(inputs.parse_int, "a whole number from 0 to 8", least=0, most=8)
acceptance = arg_type(inputs.parse_float, "a number from 0 to 0.999", least=0.0, most=0.999)
fraction = arg_type(inputs.parse_float, "a number from 0 to 0.99", least=0.0, most=0.99)
rate = arg_type(inputs.parse_float, f"a positive number of tokens/s up to {inputs.MAX_PER_USER:g}", least=0.0,
               most=inputs.MAX_PER_USER, open_low=True)
seconds = arg_type(inputs.parse_float, f"a positive number of seconds up to {inputs.MAX_TTFT_S:g}", least=0.0,
                   most=inputs.MAX_TTFT_S, open_low=True)
rate_big = arg_type(inputs.parse_float, "a positive number up to 1e18", least=0.0, most=1e18, open_low=True)
probability = arg_type(inputs.parse_float, "a number between 0 and 1", least=0.0, most=1.0)
stages = arg_type(inputs.parse_int, f"a whole number of pipeline stages from 1 to {MAX_PP}", least=1, most=MAX_PP)


def load_model(spec: str) -> config.Model:
    """A shipped model by name, or a config.json path (a folder means its config.json)."""
    if spec in config.models():
        return config.model(spec)
    p = Path(spec)
    try:
        is_dir = p.is_dir()
        exists = is_dir or p.exists()
    except (OSError, ValueError):  # a name too long for the file system, or with a NUL
        is_dir = exists = False
    if spec.endswith(".json") or exists or "/" in spec:
        return config.read_config(p / "config.json" if is_dir else p)
    return config.model(spec)
