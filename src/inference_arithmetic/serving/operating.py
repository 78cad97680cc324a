"""Operating points of a decode deployment: the throughput-interactivity frontier, the best
point at a per-user speed floor, and the largest batch that fits.

Every function evaluates the step model once over all batch sizes (one vectorised call) and
picks from the result; none loops over batches in Python.
"""
from __future__ import annotations

import numpy as np

from inference_arithmetic import step
from inference_arithmetic.core.errors import InputError
from inference_arithmetic.step import Unit

__all__ = ["frontier", "at_per_user", "at_batch", "max_throughput", "MAX_BATCH"]

#: Largest batch per attention instance the searches consider.
MAX_BATCH = 8192


def frontier(u: Unit, ctx: float) -> dict | None:
    """Step terms for every batch from 1 to the largest that fits at context ``ctx``
    (``out["batch"]``); ``None`` when not one request fits."""
    b_max = min(step.max_batch(u, ctx), MAX_BATCH)
    if b_max < 1:
        return None
    batch = np.arange(1, b_max + 1, dtype=float)
    out = step.terms(u, batch, ctx)
    out["batch"] = batch
    return out


def _pick(out: dict, i: int) -> dict:
    return {k: (np.asarray(v)[i] if np.ndim(v) else v) for k, v in out.items()}


def at_batch(u: Unit, ctx: float, batch: float) -> dict:
    """The operating point at ``batch`` requests per attention instance (must fit)."""
    why = step.hbm_error(u, batch, ctx)
    if why:
        raise InputError(why)
    out = step.terms(u, float(batch), ctx)
    out["batch"] = float(batch)
    return out


def max_throughput(u: Unit, ctx: float) -> dict:
    """The operating point with the most tokens/s per GPU among batches that fit."""
    out = frontier(u, ctx)
    if out is None:
        raise InputError(_no_fit(u, ctx))
    return _pick(out, int(np.argmax(out["tokens_per_s_per_gpu"])))


def at_per_user(u: Unit, ctx: float, per_user: float) -> dict:
    """The most tokens/s per GPU with every user at ``per_user`` tokens/s or more."""
    out = frontier(u, ctx)
    if out is None:
        raise InputError(_no_fit(u, ctx))
    ok = out["tokens_per_s_per_user"] >= per_user
    if not ok.any():
        raise InputError(f"{per_user:g} tok/s per user is out of reach on {u.gpu.key} with this layout: "
                         f"the fastest is {float(out['tokens_per_s_per_user'][0]):.1f} tok/s at one request")
    rate = np.where(ok, out["tokens_per_s_per_gpu"], -1.0)
    return _pick(out, int(np.argmax(rate)))


def _no_fit(u: Unit, ctx: float) -> str:
    return step.hbm_error(u, 1.0, ctx) or f"not one {ctx:g}-token request fits"
