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
"""
from __future__ import annotations

import numpy as np

from inference_arithmetic.hardware.gpus import GPU
from inference_arithmetic.model.config import Model
from inference_arithmetic.core.errors import InputError
from inference_arithmetic.core.formula import formula
from inference_arithmetic.core.inputs import number
from inference_arithmetic.step import Layout, Unit, hbm_error, max_batch, terms, unit
from inference_arithmetic.core.symbols import register

__all__ = ["PREFILL_CHUNK_TOKENS", "GPUS_PER_NODE", "UTILISATION", "prefill_context", "ttft_md1", "prefill_unit", "prefill", "fit_error",
           "prefill_tokens_per_request"]

#: New tokens per GPU in one prefill step: DeepSeek's prefill profile (16K tokens per GPU, EP32).
PREFILL_CHUNK_TOKENS = 16384
#: GPUs in a "node" when rates are quoted per node (DeepSeek's 8-GPU H800 servers).
GPUS_PER_NODE = 8
#: Utilisation the planner runs a pool at (M/D/1 queueing for TTFT; an assumption of the book).
UTILISATION = 0.7

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


def prefill_unit(model: Model, gpu: GPU, layout: Layout) -> Unit:
    """The step formulas' constants for prefill of ``model`` on ``gpu`` under ``layout``."""
    return unit(model, gpu, layout, phase="prefill")


def prefill(u: Unit, isl_tokens, cached: float = 0.0, chunk: float = PREFILL_CHUNK_TOKENS,
            utilisation: float = UTILISATION) -> dict:
    """Input tokens/s per GPU and per node and TTFT for prompts of ``isl_tokens`` (array ok).

    ``chunk``: new tokens per GPU per step (whole prompts; a prompt longer than the chunk is
    processed alone).  Returns the step terms too (``t_step``: the service time).
    """
    if u.phase != "prefill":
        raise InputError("prefill needs a unit built with phase='prefill'")
    cached = number(cached, "cached fraction", most=0.99)
    chunk = number(chunk, "chunk", least=1, most=10**7)
    utilisation = number(utilisation, "utilisation", most=0.99)
    L = np.asarray(isl_tokens, dtype=float)
    if np.any(L < 1):
        raise InputError("input length must be at least 1 token")
    new = prefill_tokens_per_request.fast(isl=L, f_hit=cached)
    ctx = prefill_context.fast(isl=L, f_hit=cached)
    per_instance = chunk * u.layout.attn_tp
    batch = np.maximum(per_instance / new, 1.0)           # whole prompts per step
    out = terms(u, batch, ctx, s_q=new)
    t = out["t_step"]
    per_gpu = batch * L / u.layout.attn_tp / t
    out.update(input_tokens_per_s_per_gpu=per_gpu,
               input_tokens_per_s_per_node=per_gpu * GPUS_PER_NODE,
               ttft_s=ttft_md1.fast(t_srv=t, rho=utilisation), batch=batch, new_tokens=new)
    return out


def fit_error(u: Unit, out: dict, isl_tokens) -> str | None:
    """Why one prefill step of :func:`prefill`'s result ``out`` does not fit in HBM (the weights and
    the KV caches of the step's whole prompts next to the runtime reserve: the one memory rule,
    :func:`.step.hbm_error`), with the largest chunk that fits, or ``None`` if it fits."""
    L = np.asarray(isl_tokens, dtype=float)
    why = hbm_error(u, out["batch"], L, what="prompts")
    if why is None:
        return None
    most = int(np.min(max_batch(u, float(np.max(L)))))
    if most >= 1:
        chunk = most * float(np.min(out["new_tokens"])) / u.layout.attn_tp
        why += f" per prefill step: a chunk of at most {chunk:,.0f} new tokens per GPU fits"
    return f"prefill: {why}"
