"""The sources' claim, tested: is the cheapest fleet a market mix of last-generation H200s and
current B-series GPUs (a reserved floor, an on-demand burst, several providers)?

For a workload, :func:`compare` runs the planner once (:func:`.plan.prepare`) on H200, B200 and B300
with every provider's price list (``--prices all``) and costs:

* the cheapest fleet of one GPU type;
* an H200 floor under a B-series burst (the decode pool's, or the shared pool's when aggregated);
* H200 prefill with B200 decode;
* the cheapest fleet the mixed search finds, and the cheapest of those with two GPU types or more.

Each with the model's **error band**: a pool's cost is its price over its throughput, so each pool's
cost is divided by ``1 + e`` and ``1 - e``, ``e`` the mean absolute error of the validation set's
DeepSeek-V3/R1 entries on the pool's GPU generation (:func:`generation_errors`, the book's one statistic), and a cost corrected for each
generation's mean error (the model over-predicts Blackwell more than Hopper).  :func:`price_to_flip`
finds the price cut at which a GPU type enters the cheapest fleet.
"""
from __future__ import annotations

import dataclasses
from functools import lru_cache

import numpy as np

from inference_arithmetic.evidence import error_class, measurements, reproduce
from inference_arithmetic.hardware.gpus import generation
from inference_arithmetic.model.config import model
from inference_arithmetic.serving import plan
from inference_arithmetic.serving.workload import Profile, Workload

__all__ = ["GPUS", "workloads", "generation_errors", "band", "compare", "price_to_flip"]

GPUS = ("H200", "B200", "B300")
B_SERIES = ("B200", "B300")


def workloads() -> dict[str, Workload]:
    """DeepSeek's day (its volumes, prompt and output lengths, cache hits, 21 tok/s per user and its
    peak-to-average swing) and an interactive service (10 G tokens a day of 2,000-token prompts and
    500-token answers at 60 tok/s per user, a first token within 2 s, a peak 1.5 times the mean)."""
    isl, osl, cached = reproduce.day_workload()
    d6 = measurements.day6
    day = Workload(requests_per_s=d6("output_tokens") / d6("period") / osl, isl=isl, osl=osl,
                   per_user=(d6("output_rate_low") + d6("output_rate_high")) / 2, cache_hit=cached,
                   profile=Profile.cosine(d6("peak_nodes") / d6("average_nodes")))
    chat = Workload.from_tokens_per_day(10e9, 2000, 500, per_user=60, ttft_s=2, profile=Profile.cosine(1.5))
    return {"DeepSeek's day": day, "interactive": chat}


def generation_errors() -> dict:
    """The validation set's errors on DeepSeek-V3/R1 (the model these fleets serve) by GPU generation:
    ``n``, ``mape``, ``median_ape`` and ``mean_error`` (fractions) for Hopper and Blackwell, as
    ``data/validation_classes.yaml`` stores them (its headline groups "deepseek-v3 on Hopper" and "on
    Blackwell", which tests/test_error_class.py recomputes from the predictions): the one statistic the
    validation chapter states, read, not predicted afresh."""
    table = error_class.stored()
    return {gen: dict(table[error_class.headline_key(f"deepseek-v3 on {gen}")]) for gen in ("Hopper", "Blackwell")}


def band(d: dict) -> tuple[float, float, float]:
    """(low, high, corrected) USD a day of deployment ``d``: within the model's typical throughput
    error pool by pool on its GPU generation, and corrected for the generation's mean error (the
    model's throughput over the measured, so a pool's true cost is its cost times 1 + mean)."""
    err = generation_errors()
    low = high = corrected = 0.0
    for p in d["pools"]:
        g = err.get(generation(p["gpu"]), {"mape": 0.0, "mean_error": 0.0})
        c, e = p["usd_per_day"], g["mape"]
        low, high, corrected = low + c / (1 + e), high + c / (1 - e), corrected + c * (1 + g["mean_error"])
    return low, high, corrected


def _floor_burst_pins():
    return [{f"{role}_floor": ["H200"], f"{role}_burst": list(B_SERIES)} for role in ("decode", "both")]


@lru_cache(maxsize=8)
def _prepared(w: Workload, gpus: tuple, source: str) -> tuple:
    """(the planner's prepared options, the price set) of DeepSeek-V3 for ``w`` on ``gpus`` at ``source``, mixed
    fleets allowed: searched once for :func:`compare` (either precision rule) and :func:`price_to_flip`, which only
    cost them (the options are read, never written)."""
    prep, px, _ = plan.prepare(model("deepseek-v3"), w, list(gpus), source, mixed=True)
    return prep, px


def compare(w: Workload, gpus=GPUS, source: str = "all", one_precision: bool = True) -> list[dict]:
    """The fleets of the module text for ``w``: rows ``fleet`` (a name), ``deployment`` (the
    planner's row, ``None`` when no such fleet exists), ``usd_per_day``, ``low``, ``high``,
    ``corrected`` (:func:`band`), ``vs_single`` (cost over the cheapest single-type fleet, - 1)."""
    prep, px = _prepared(w, tuple(gpus), source)

    def best(mixed=True, where=None, pins=(None,)):
        got = [prep.cost(w, px, mixed, 1, where, pin, one_precision)["deployments"] for pin in pins]
        got = [g[0] for g in got if g]
        return min(got, key=lambda d: d["usd_per_day"], default=None)
    fleets = [("one GPU type", best(mixed=False)),
              ("H200 floor, B-series burst", best(pins=_floor_burst_pins())),
              ("H200 prefill, B200 decode", best(pins=({"prefill": ["H200"], "decode": ["B200"]},))),
              ("the mixed search's cheapest", best()),
              ("the cheapest with two types or more", best(where=lambda d: d["mixed"]))]
    single = fleets[0][1]["usd_per_day"]
    rows = []
    for name, d in fleets:
        lo, hi, cor = band(d) if d else (np.nan, np.nan, np.nan)
        rows.append({"fleet": name, "deployment": d, "usd_per_day": d["usd_per_day"] if d else np.nan,
                     "low": lo, "high": hi, "corrected": cor,
                     "vs_single": d["usd_per_day"] / single - 1 if d else np.nan})
    return rows


def price_to_flip(w: Workload, gpu: str = "H200", gpus=GPUS, source: str = "all",
                  factors=np.round(np.arange(1.0, 0.195, -0.01), 2), enters: bool = True) -> dict:
    """The first factor of ``factors`` on every price of ``gpu`` (both tiers) at which the cheapest
    fleet of the mixed search uses ``gpu`` (``enters``; ``False``: stops using it):
    ``{"factor", "deployment", "baseline"}`` (``factor`` ``None`` if none does)."""
    prep, px = _prepared(w, tuple(gpus), source)
    base = prep.cost(w, px, True, 1)["deployments"][0]
    for f in factors:
        t = px[gpu]
        cut = dataclasses.replace(t, on_demand=t.on_demand * f, reserved=t.reserved * f)
        d = prep.cost(w, dataclasses.replace(px, gpus={**px.gpus, gpu: cut}), True, 1)["deployments"][0]
        if any(p["gpu"] == gpu for p in d["pools"]) == enters:
            return {"factor": float(f), "deployment": d, "baseline": base}
    return {"factor": None, "deployment": None, "baseline": base}
