"""Pools of whole deployment units over a day: how many run, how many are bought reserved, and the cost.

A **pool** serves one phase of a deployment (prefill, decode, or both on shared GPUs) with whole
**units**: a unit is one copy of a layout, ``U`` GPUs (at least the layout's expert-parallel group,
always whole 8-GPU nodes or a whole NVLink domain), serving ``C`` tokens/s when busy.  Its demand
over the day is ``D(t) = D_bar s(t)`` (tokens/s; ``s`` the load profile, mean 1), so it needs
``ceil(D(t) / C)`` units at time ``t`` and never fewer than one: a pool that exists runs at least
one unit, however small its volume.

The units are bought in two tiers, following the elastic rule of the reserve chapter
(:data:`.fleet.exceed_target`) in whole units: a **floor** of ``r`` units paid around the clock (a
reserved price, or an on-demand price when no reservation is cheaper) and a **burst** rented on
demand when the load exceeds the floor.  The floor and the burst may be different layouts, even
different GPU types (an H200 floor under a B200 burst); then the rule compares prices per token of
capacity, :data:`exceed_target_cross`: reserve up to the load exceeded a fraction
``(p_f / R_f) / (p_b / R_b)`` of the day.  Providers rent whole units here (a unit is a whole number
of the nodes they rent), so the split is in units.  All functions are vectorised over rows (one row
per candidate pool); no Python loop visits a candidate.
"""
from __future__ import annotations

from inference_arithmetic.core.formula import formula
from inference_arithmetic.core.symbols import register
from inference_arithmetic.serving.pool_plans import CHUNK_ELEMENTS, floor_burst  # noqa: F401  (the numbers, no sympy)

__all__ = ["exceed_target_cross", "floor_burst", "CHUNK_ELEMENTS"]

p_f = register("elastic", "p_floor", r"p_{\mathrm{f}}", "USD/GPU/h", "price of a GPU-hour of the floor (reserved) layout")
p_b = register("elastic", "p_burst", r"p_{\mathrm{b}}", "USD/GPU/h", "price of a GPU-hour of the burst (on-demand) layout")
R_f = register("elastic", "R_floor", r"R_{\mathrm{f}}", "token/s", "tokens/s per GPU of the floor layout, busy")
R_b = register("elastic", "R_burst", r"R_{\mathrm{b}}", "token/s", "tokens/s per GPU of the burst layout, busy")
C_f = register("elastic", "cap_floor", r"C_{\mathrm{f}}", "token/s", "tokens/s one floor unit makes, busy")

exceed_target_cross = formula(
    "exceed_target_cross", (p_f / R_f) / (p_b / R_b), "1",
    "a floor of one layout under a burst of another: reserve up to the load exceeded this share of the "
    "time, the floor's price per token of capacity over the burst's")
