"""The serving modes' rates, from the formulas of :mod:`.modes` (their generated functions,
:mod:`inference_arithmetic.core.fast`: no sympy)."""
from __future__ import annotations

from inference_arithmetic.core import fast
from inference_arithmetic.core.errors import InputError

__all__ = ["MODES", "mode_rates"]

#: the serving modes, in the order the book compares them
MODES = ("disagg", "agg")


def mode_rates(mode: str, R_d, R_p, r_d, isl, osl, util: float = 1.0):
    """(output tokens/s per GPU with every GPU counted, output tokens/s per user) of ``mode``: the one
    use of the mode formulas for the search, the planner, the chapters and the validation.

    ``R_d``/``R_p``: decode and prefill tokens/s per GPU while busy; ``r_d``: a user's speed while
    decoding alone; ``util``: the share of time a disaggregated prefill pool is busy (aggregated
    GPUs share their time, so it does not apply).  Numbers or arrays that broadcast."""
    if mode == "disagg":
        return fast.disagg_rate(R_d=R_d, R_p=R_p * util, L_i=isl, L_o=osl), r_d
    if mode == "agg":
        return (fast.agg_rate(R_d=R_d, R_p=R_p, L_i=isl, L_o=osl),
                fast.agg_user_rate(r_d=r_d, R_d=R_d, R_p=R_p, L_i=isl, L_o=osl))
    raise InputError(f"mode must be agg or disagg, got {str(mode)[:40]!r}")
