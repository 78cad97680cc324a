"""HBM per GPU: resident weights, KV caches, all-to-all buffers, the runtime reserve, what is left.

The book's one memory model: the command line's ``sol``, the step model, the planner's search
and every chapter read the weights a GPU holds, the room left and the batch that fits from the
formulas of :mod:`.operations` (``weights_resident``, ``ll_buffer_per_token``, ``hbm_free``,
``batch_fit``), through their generated numeric functions (:mod:`inference_arithmetic.core.fast`).
"""
from __future__ import annotations

import numpy as np

from inference_arithmetic.core import fast
from inference_arithmetic.model.dtypes import BF16_BYTES, FP8_DISPATCH_BYTES
from inference_arithmetic.step.layout import HBM_RESERVE_SHARE

__all__ = ["memory_values", "memory", "fits", "max_batch", "free_bytes", "uses_ll_buffers", "weights_read_bytes"]

def uses_ll_buffers(phase: str, moe_ep: int, moe_tp: int, ep: int, nvlink_domain: int, moe: bool = True) -> bool:
    """DeepEP's low-latency RDMA buffers: decode of a MoE model with expert parallelism across NVLink domains."""
    return moe and phase == "decode" and moe_ep > 1 and moe_tp == 1 and ep > nvlink_domain


def _buffer_bytes_per_token(u) -> float:
    """DeepEP low-latency buffer bytes per token a GPU sends (0 without those buffers, and where the experts
    combine by an all-reduce, which dispatches nothing: :attr:`.layout.Layout.moe_all_reduce`)."""
    L = u.layout
    if L.moe_all_reduce or not uses_ll_buffers(u.phase, L.moe_ep, L.moe_tp, L.ep, u.gpu.nvlink_domain, u.model.is_moe):
        return 0.0
    return float(fast.ll_buffer_per_token(b_disp=FP8_DISPATCH_BYTES, b_comb=BF16_BYTES,
                                            n_experts=u.values["n_experts"], E_red=u.values["E_red"], h=u.values["h"]))


def memory_values(u) -> dict:
    """A unit's symbol values with its memory constants (HBM, resident weights, reserve, buffers)."""
    return dict(u.values, HBM=u.gpu.hbm_capacity, W_res=u.weights_resident, rho_res=HBM_RESERVE_SHARE,
                buf_tok=_buffer_bytes_per_token(u))


def free_bytes(v: dict, batch, ctx):
    """HBM left per GPU (bytes; negative: does not fit) for stacked units at ``batch``, ``ctx``
    (:data:`.operations.hbm_free`)."""
    return fast.hbm_free_of(dict(v, batch=batch, ctx=ctx))


def memory(u, batch, ctx_max) -> dict:
    """HBM per GPU (bytes): resident weights, KV caches of ``ctx_max`` tokens per request (with a
    paged cache and requests at every stage, the mean context ISL + OSL/2 is the steady state), DeepEP
    low-latency buffers, the runtime reserve, and what is free (negative: does not fit).

    The KV cache of an attention instance is held whole on each of its ``attn_tp`` GPUs (MLA's
    latent cache is not split by heads).  DeepEP's low-latency receive buffers are sized for
    the worst case (:data:`.operations.ll_buffer_per_token`)."""
    v = memory_values(u)
    b = np.asarray(batch, dtype=float)
    held = fast.context_windowed_of(dict(v, ctx=np.asarray(ctx_max, dtype=float)))
    return {"weights": u.weights_resident, "kv": b * held * v["S_kv"] / v["T_kv"],
            "buffers": b * v["s_q"] / u.layout.attn_tp * v["buf_tok"], "reserve": HBM_RESERVE_SHARE * v["HBM"],
            "free": fast.hbm_free_of(dict(v, batch=b, ctx=ctx_max))}


def fits(u, batch, ctx_max):
    """True where ``batch`` requests of ``ctx_max`` tokens fit in HBM under the unit's layout."""
    return memory(u, batch, ctx_max)["free"] >= 0


def max_batch(u, ctx_max):
    """The most requests per attention instance that fit at ``ctx_max`` tokens (0: none); an
    array of contexts gives an array of counts (:data:`.operations.batch_fit`)."""
    out = np.asarray(fast.batch_fit_of(dict(memory_values(u), ctx=np.asarray(ctx_max, dtype=float))), dtype=float)
    return int(out) if out.ndim == 0 else out


def weights_read_bytes(u, batch):
    """Weight bytes one GPU reads per step with ``batch`` requests per attention instance
    (:data:`.operations.weights_read`: the experts the step's tokens chose; number or array)."""
    return fast.weights_read_of(dict(u.values, batch=np.asarray(batch, dtype=float), m_mb=1.0))
