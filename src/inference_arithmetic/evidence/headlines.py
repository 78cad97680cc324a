"""The book's headline quantities, each computed once here and glued on every page that shows it.

A page never recomputes one of these: it calls :func:`inference_arithmetic.book.nb.glue_headlines`
and writes ``{glue:text}`hl_<key>:,.0f``` next to the label of what the number is (a **bound**, a
**model prediction** with the validation error of its class, or a **measurement**).
``tests/test_headlines.py`` fails when two pages show different values under one of these names,
or when a page shows one of the retired per-page copies.

DeepSeek's H800 decode point is DeepSeek's published production setup: EP144 with 32 redundant
experts and two micro-batches, the published 4,989-token mean KV length, and the users per GPU
Little's law gives from the published 1,850 tok/s per GPU at 21 tok/s per user (the middle of the
published 20-22).  The ``model_*`` errors are over the DeepSeek-V3/R1 validation entries (the
chapters' model is DeepSeek-V3); ``model_*_all`` over every family, ``model_mape_amd`` over the AMD
GPUs' entries, read from the stored validation table (:mod:`.error_table` writes it beside the error classes,
rounded by the one rule for stored floats; a test requires it to equal a fresh prediction of the whole set).
Units: tokens/s per GPU, nodes, USD per day, GB (10^9 bytes), fractions.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from inference_arithmetic import step
from inference_arithmetic.evidence import error_class, reproduce
from inference_arithmetic.evidence.measurements import day6
from inference_arithmetic.hardware.gpus import gpu
from inference_arithmetic.model.config import model
from inference_arithmetic.serving import operating
from inference_arithmetic.step import bounds

__all__ = ["Headline", "headlines", "KINDS"]

KINDS = ("bound", "model prediction", "measurement", "validation error", "layout")


@dataclass(frozen=True)
class Headline:
    """One headline number: ``value`` in ``unit``, what it is (``kind``, one of :data:`KINDS`) and a
    short ``label`` a page can print next to it."""

    key: str
    value: float
    unit: str
    kind: str
    label: str


@lru_cache(maxsize=None)
def headlines() -> dict[str, Headline]:
    """Every headline quantity by key."""
    m, h800 = model("deepseek-v3"), gpu("H800")
    ctx = day6("kv_length")
    measured = day6("decode_per_node") / day6("gpus_per_node")
    per_user = (day6("output_rate_low") + day6("output_rate_high")) / 2
    users = float(bounds.users_in_flight.fast(R_gpu=measured, r_user=per_user))
    u = step.unit(m, h800, reproduce.deepseek_layouts()[1])
    at_batch = step.terms(u, users, ctx)
    at_floor = operating.at_per_user(u, ctx, per_user)
    day = reproduce.day6()
    # the validation errors as error_table stored them (a test requires the stored table to equal a fresh
    # prediction of the whole set), so that a page glues them without predicting the set again
    val, every, amd, hopper, blackwell = (error_class.stored()[error_class.headline_key(g)]
                                          for g in error_class.HEADLINE_GROUPS)
    h200 = gpu("H200")
    ep8 = step.unit(m, h200, step.layout_for(m, h200, 8))
    rows = [
        ("h800_users", users, "user/GPU", "measurement", "DeepSeek's users per H800 (Little's law on its published rates)"),
        ("h800_sol", bounds.sol_rate.fast(accept=1.0, BW=h800.hbm_bandwidth, ctx=ctx, S_kv=u.values["S_kv"]),
         "token/s/GPU", "bound", "speed of light: KV cache only, peak HBM bandwidth"),
        ("h800_bound", at_batch["bound_tokens_per_s_per_gpu"], "token/s/GPU", "bound",
         "roofline at DeepSeek's batch: weights, KV and FLOP at peak rates"),
        ("h800_predicted", at_batch["tokens_per_s_per_gpu"], "token/s/GPU", "model prediction",
         "step model at DeepSeek's batch"),
        ("h800_predicted_at_floor", at_floor["tokens_per_s_per_gpu"], "token/s/GPU", "model prediction",
         "step model: the most tokens/s per GPU with every user at 21 tok/s or more"),
        ("h800_batch_at_floor", at_floor["batch"], "user/GPU", "model prediction",
         "the batch of that operating point"),
        ("h800_measured", measured, "token/s/GPU", "measurement", "DeepSeek's published 24-hour average"),
        ("h800_prefill_predicted", day["prefill_per_node"].value / day6("gpus_per_node"), "token/s/GPU",
         "model prediction", "prefill input tokens/s per H800 while busy, DeepSeek's layout and prompts"),
        ("ds_nodes", day["nodes"].value, "node", "model prediction",
         "DeepSeek's day: average H800 nodes, prefill pool planned at prefill.UTILISATION load"),
        ("ds_nodes_saturated", day["nodes_saturated"].value, "node", "bound",
         "DeepSeek's day: fewest average nodes, every node always busy"),
        ("ds_usd_per_day", day["daily_cost"].value, "USD", "model prediction",
         "DeepSeek's day: GPU rent at DeepSeek's $2 per H800-hour"),
        ("model_mape", val["mape"], "1", "validation error",
         "mean absolute error on the DeepSeek-V3/R1 validation entries"),
        ("model_median_ape", val["median_ape"], "1", "validation error",
         "median absolute error on the DeepSeek-V3/R1 validation entries"),
        ("model_mean_error", val["mean_error"], "1", "validation error",
         "mean signed error (> 0: over-predicts), DeepSeek-V3/R1 entries"),
        ("model_n", val["n"], "1", "validation error", "DeepSeek-V3/R1 validation entries predicted"),
        ("model_mape_all", every["mape"], "1", "validation error", "mean absolute error, every model family"),
        ("model_n_all", every["n"], "1", "validation error", "validation entries predicted, every model family"),
        ("model_mape_amd", amd["mape"], "1", "validation error", "mean absolute error, entries on AMD GPUs"),
        ("model_mape_hopper", hopper["mape"], "1", "validation error",
         "mean absolute error, Hopper (DeepSeek-V3/R1 entries)"),
        ("model_mape_blackwell", blackwell["mape"], "1", "validation error",
         "mean absolute error, Blackwell (DeepSeek-V3/R1 entries)"),
        ("ep8_weights_h200_GB", ep8.weights_resident / 1e9, "GB", "bound",
         "DeepSeek-V3 weights resident per H200 under EP8 (FP8, every resident weight)"),
    ]
    return {k: Headline(k, float(v), unit, kind, label) for k, v, unit, kind, label in rows}
