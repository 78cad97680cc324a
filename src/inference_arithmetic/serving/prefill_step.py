"""Prefill numbers: input tokens per second and time to first token of a unit, from the formulas of
:mod:`.prefill` (their generated functions, :mod:`inference_arithmetic.core.fast`: no sympy)."""
from __future__ import annotations

import numpy as np

from inference_arithmetic.core import fast
from inference_arithmetic.core.errors import InputError
from inference_arithmetic.core.inputs import number
from inference_arithmetic.hardware.gpus import GPU
from inference_arithmetic.model.config import Model
from inference_arithmetic.step import Layout, Unit, hbm_error, max_batch, memory, terms, unit

__all__ = ["PREFILL_CHUNK_TOKENS", "GPUS_PER_NODE", "UTILISATION", "prefill_unit", "prefill", "ttft_alone",
           "chunk_that_fits", "steps_fit", "fit_error"]

#: New tokens per GPU in one prefill step: DeepSeek's prefill profile (16K tokens per GPU, EP32).
PREFILL_CHUNK_TOKENS = 16384
#: GPUs in a "node" when rates are quoted per node (DeepSeek's 8-GPU H800 servers).
GPUS_PER_NODE = 8
#: Utilisation the planner runs a pool at (M/D/1 queueing for TTFT; an assumption of the book).
UTILISATION = 0.7


def prefill_unit(model: Model, gpu: GPU, layout: Layout) -> Unit:
    """The step formulas' constants for prefill of ``model`` on ``gpu`` under ``layout``."""
    return unit(model, gpu, layout, phase="prefill")


def prefill(u: Unit, isl_tokens, cached: float = 0.0, chunk: float = PREFILL_CHUNK_TOKENS,
            utilisation: float = UTILISATION) -> dict:
    """Input tokens/s per GPU and per node and TTFT for prompts of ``isl_tokens`` (array ok).

    ``chunk``: new tokens per GPU per step (whole prompts; a prompt longer than the chunk is
    processed alone), or a 1-d array of chunk sizes for one prompt length (every result then an
    array over them).  Returns the step terms too (``t_step``: the service time).
    """
    if u.phase != "prefill":
        raise InputError("prefill needs a unit built with phase='prefill'")
    cached = number(cached, "cached fraction", most=0.99)
    if np.ndim(chunk):           # several chunk sizes at once (the layout search's): each checked
        chunk = np.asarray([number(c, "chunk", least=1, most=10**7) for c in np.asarray(chunk).ravel()], dtype=float)
    else:
        chunk = number(chunk, "chunk", least=1, most=10**7)
    utilisation = number(utilisation, "utilisation", most=0.99)
    L = np.asarray(isl_tokens, dtype=float)
    if np.any(L < 1):
        raise InputError("input length must be at least 1 token")
    new = fast.prefill_tokens_per_request(isl=L, f_hit=cached)
    ctx = fast.prefill_context(isl=L, f_hit=cached)
    per_instance = chunk * u.layout.attn_tp
    batch = np.maximum(per_instance / new, 1.0)           # whole prompts per step
    out = terms(u, batch, ctx, s_q=new)
    t = out["t_step"]
    per_gpu = batch * L / u.layout.attn_tp / t
    out.update(input_tokens_per_s_per_gpu=per_gpu,
               input_tokens_per_s_per_node=per_gpu * GPUS_PER_NODE,
               ttft_s=fast.ttft_md1(t_srv=t, rho=utilisation), batch=batch, new_tokens=new)
    return out


def ttft_alone(u: Unit, isl_tokens, cached: float = 0.0):
    """Time to first token of one request on an idle instance (s): one prefill step holding only its
    prompt, no queue (the M/D/1 wait of :func:`prefill` at utilisation 0, for a batch of one)."""
    if u.phase != "prefill":
        raise InputError("prefill needs a unit built with phase='prefill'")
    cached = number(cached, "cached fraction", most=0.99)
    L = np.asarray(isl_tokens, dtype=float)
    new = fast.prefill_tokens_per_request(isl=L, f_hit=cached)
    return terms(u, 1.0, fast.prefill_context(isl=L, f_hit=cached), s_q=new)["t_step"]


def chunk_that_fits(u: Unit, isl_tokens: float, cached: float = 0.0, chunk: float = PREFILL_CHUNK_TOKENS) -> float | None:
    """``chunk`` (new tokens per GPU per step) if one prefill step of it fits in HBM, else the largest that
    does (whole prompts, as :func:`fit_error` states it); ``None`` if not even one prompt fits."""
    out = prefill(u, isl_tokens, cached, chunk=chunk)
    return float(chunk) if steps_fit(u, out, isl_tokens).all() else _largest_chunk(u, out, isl_tokens)


def _largest_chunk(u: Unit, out: dict, isl_tokens) -> float | None:
    """The largest chunk (new tokens per GPU) whose step of whole prompts fits next to the weights, for the
    prompts of :func:`prefill`'s result ``out``; ``None`` if not one prompt fits."""
    most = int(np.min(max_batch(u, float(np.max(np.asarray(isl_tokens, dtype=float))))))
    return most * float(np.min(out["new_tokens"])) / u.layout.attn_tp if most >= 1 else None


def steps_fit(u: Unit, out: dict, isl_tokens) -> np.ndarray:
    """Whether each prefill step of :func:`prefill`'s result ``out`` fits in HBM (element by element:
    the memory rule of :func:`fit_error`, which asks it of all of them at once)."""
    return np.asarray(memory(u, out["batch"], np.asarray(isl_tokens, dtype=float))["free"]) >= 0


def fit_error(u: Unit, out: dict, isl_tokens) -> str | None:
    """Why one prefill step of :func:`prefill`'s result ``out`` does not fit in HBM (the weights and
    the KV caches of the step's whole prompts next to the runtime reserve: the one memory rule,
    :func:`.step.hbm_error`), with the largest chunk that fits, or ``None`` if it fits."""
    L = np.asarray(isl_tokens, dtype=float)
    why = hbm_error(u, out["batch"], L, what="prompts")
    if why is None:
        return None
    chunk = _largest_chunk(u, out, L)
    if chunk is not None:
        why += f" per prefill step: a chunk of at most {chunk:,.0f} new tokens per GPU fits"
    return f"prefill: {why}"
