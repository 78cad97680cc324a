"""Cost per input token and per output token, phase by phase.

With prefill and decode on separate GPUs, every prefill GPU-second makes input tokens and every
decode GPU-second makes output tokens, so each token class has its own cost: the GPU-hour price
over the tokens one GPU of that phase makes in the hour (:data:`.fleet.token_cost`, with the
prefill rate ``R_p`` for input tokens and the decode rate ``R_d`` for output tokens).

Prices come from one published price list, the planner's default
(:func:`.prices.default_price_source`, on-demand prices); a GPU that list does not price is listed
without a cost.
"""
from __future__ import annotations

from inference_arithmetic.serving import fleet, prices, search
from inference_arithmetic.serving.workload import Service
from inference_arithmetic.hardware.gpus import gpu as _gpu
from inference_arithmetic.hardware.gpus import gpus
from inference_arithmetic.model.config import model
from inference_arithmetic.core.formula import formula
from inference_arithmetic.serving.modes import R_d, R_p
from inference_arithmetic.core.symbols import S
from inference_arithmetic.core.units import convert

__all__ = ["input_token_cost", "output_token_cost", "per_mtok", "phase_costs"]

input_token_cost = formula("input_token_cost", fleet.token_cost.expr.subs(S.R_gpu, R_p), "USD/token",
                           "cost of one input token: the GPU-hour price over the input tokens a prefill GPU "
                           "makes in it, at utilisation u")
output_token_cost = formula("output_token_cost", fleet.token_cost.expr.subs(S.R_gpu, R_d), "USD/token",
                            "cost of one output token: the GPU-hour price over the output tokens a decode GPU "
                            "makes in it, at utilisation u")


def per_mtok(f, **values) -> float:
    """A per-token cost formula evaluated (SI inputs) and read in USD per million tokens."""
    return float(convert(f(**values), "USD/token", "USD/Mtok"))


def phase_costs(isl: float, osl: float, cached: float, per_user: float, util: float = 1.0,
                space: search.Space | None = None, gpu_keys=None) -> list[dict]:
    """USD per million input and per million output tokens on each GPU of the catalog.

    Rates: the best disaggregated deployment of DeepSeek-V3 on each GPU
    (:func:`.search.best`) at ``isl``/``osl`` tokens, ``cached`` prefix-cache share and
    ``per_user`` output tokens/s per user.  Price: the on-demand price of the book's one price list
    for comparisons, :func:`.prices.default_price_source`; a GPU it does not price has no cost
    (``price`` None).  ``util``: share of paid time spent working.
    """
    keys = list(gpu_keys or gpus())
    src = prices.default_price_source()   # the book's one price list for comparisons (the planner's default)
    listed = {q.gpu: q for q in prices.list_quotes() if q.source == src}
    m = model("deepseek-v3")
    rows = []
    for key in keys:
        best = search.best(m, _gpu(key), Service(isl, osl, per_user, cache_hit=cached), "disagg", space)
        quote = listed.get(key)   # a GPU this list does not price is shown without a cost
        row = {"gpu": key, "prefill_tokens_per_s_per_gpu": best["prefill_tokens_per_s_per_gpu"],
               "decode_tokens_per_s_per_gpu": best["decode_tokens_per_s_per_gpu"],
               "price": None if quote is None else quote.usd_per_hour, "source": None if quote is None else quote.src,
               "same_source": quote is not None,
               "vendor_quoted": quote is not None and quote.vendor_quoted,
               "usd_per_mtok_input": None, "usd_per_mtok_output": None, "ranking_source": src}
        if quote is not None:
            row["usd_per_mtok_input"] = per_mtok(input_token_cost, price=quote.si, R_p=row["prefill_tokens_per_s_per_gpu"],
                                                 util=util)
            row["usd_per_mtok_output"] = per_mtok(output_token_cost, price=quote.si,
                                                  R_d=row["decode_tokens_per_s_per_gpu"], util=util)
        rows.append(row)
    return rows
