"""Prefill: input tokens per second and time to first token, on the shared step structure.

A prefill step processes ``chunk`` new tokens per attention instance: whole prompts of
``isl`` tokens of which a share ``cached`` is served from the prefix cache (those skip the
computation but still count as input tokens, as in DeepSeek's figures).  Causal attention:
a new token attends to the cached prefix and, on average, half of the new tokens, so the
attention context per query token is ``isl * cached + isl * (1 - cached) / 2``; its FLOP are
MLA's prefill form (:data:`.step.attn_flop_mla_prefill`), quadratic in the prompt.

Time to first token is the prefill step of the request's batch plus queueing: requests
arrive at random and batches are served one step at a time, an M/D/1 queue whose mean wait
is ``rho / (2 (1 - rho))`` service times at utilisation ``rho`` (an assumption of the
planner, :data:`UTILISATION`).

The formulas are here; the numbers (:func:`prefill`, :func:`fit_error`, re-exported) are computed
without sympy in :mod:`.prefill_step`.
"""
from __future__ import annotations

from inference_arithmetic.core.formula import formula
from inference_arithmetic.core.symbols import register
from inference_arithmetic.serving.prefill_step import (GPUS_PER_NODE, PREFILL_CHUNK_TOKENS, UTILISATION,  # noqa: F401
                                                       chunk_that_fits, fit_error, prefill, prefill_unit,
                                                       ttft_alone)

__all__ = ["PREFILL_CHUNK_TOKENS", "GPUS_PER_NODE", "UTILISATION", "prefill_context", "ttft_md1", "prefill_unit", "prefill", "fit_error", "chunk_that_fits", "ttft_alone",
           "prefill_tokens_per_request"]

isl = register("prefill", "isl", r"L_{\mathrm{in}}", "token", "input (prompt) tokens per request")
f_hit = register("prefill", "f_hit", r"h", "1", "share of input tokens served from the prefix cache")
rho = register("prefill", "rho", r"u", "1", "utilisation: share of paid GPU time spent producing tokens")
t_srv = register("prefill", "t_srv", r"t_{\mathrm{p}}", "s", "prefill step time (service time of one batch)")

prefill_context = formula("prefill_context", isl * f_hit + isl * (1 - f_hit) / 2, "token",
                          "mean context a new prompt token attends to: the cached prefix and half the new tokens")
prefill_tokens_per_request = formula("prefill_tokens_per_request", isl * (1 - f_hit), "token",
                                     "prompt tokens computed per request (the rest come from the prefix cache)")
ttft_md1 = formula("ttft_md1", t_srv * (1 + rho / (2 * (1 - rho))), "s",
                   "time to first token: one prefill step plus the M/D/1 mean wait at utilisation rho")
