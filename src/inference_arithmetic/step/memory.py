"""HBM per GPU: resident weights, KV caches, all-to-all buffers, the runtime reserve, what is left.

The book's one memory model: the command line's ``sol``, the step model, the planner's search
and every chapter read the weights a GPU holds, the room left and the batch that fits from the
formulas here.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from inference_arithmetic.core.formula import formula
from inference_arithmetic.model.kv import context_windowed as kv_context
from inference_arithmetic.core.symbols import S, register
from inference_arithmetic.step import bounds, comm
from inference_arithmetic.step.layout import HBM_RESERVE_SHARE
from inference_arithmetic.step.operations import (P_at, P_ds, P_e, P_hd, T_a, T_kv, T_m, b_aw, b_dw, b_hw, b_mw, ctx_eff, n_dr,
                                                  n_moe,
                                                  weights_read)

__all__ = ["weights_resident", "ll_buffer_per_token", "hbm_free", "batch_fit", "memory_values", "memory",
           "fits", "max_batch", "free_bytes", "uses_ll_buffers", "weights_read_bytes"]

buf_tok = register("step", "buf_tok", r"B_{\mathrm{buf}}", "B",
                   "low-latency all-to-all buffer bytes per token a GPU sends (0 without those buffers)")
rho_res = register("step", "rho_res", r"f_{\mathrm{res}}", "1", "share of HBM kept for activations and workspace")
_local_slots = (S.n_experts + S.E_red) / (S.N_ep / T_m)

weights_resident = formula(
    "weights_resident",
    (P_at * b_aw + P_ds * b_dw + S.n_emb * P_hd * b_hw) / T_a + n_moe * _local_slots * P_e * b_mw / T_m
    + sp.Min(1, n_dr) * ((P_at * b_aw + P_ds * b_dw) / (S.n_layers * T_a) + 2 * S.h ** 2 * b_dw / T_a
                         + _local_slots * P_e * b_mw / T_m),
    "B", "weights resident on one GPU: replicated parts split by attention TP, the local expert slices, and "
         "with MTP one more layer (its replicated weights, the 2h x h projection and its experts)")

ll_buffer_per_token = formula(
    "ll_buffer_per_token", 2 * (comm.b_disp + comm.b_comb) * (S.n_experts + S.E_red) * S.h, "B",
    "DeepEP low-latency receive buffers per token a GPU sends: every expert slot of the unit may receive it, "
    "dispatch plus combine, double-buffered")

_per_request = ctx_eff * S.S_kv / T_kv + S.s_q * buf_tok / T_a
_room = bounds.HBM * (1 - rho_res) - bounds.W_res
hbm_free = formula("hbm_free", _room - S.batch * _per_request, "B",
                   "HBM left per GPU after the reserve, the weights, b requests' KV caches and their buffers")
batch_fit = formula("batch_fit", sp.Max(0, sp.floor(_room / _per_request)), "user",
                    "most requests per attention instance that fit: the room left over the bytes each needs")



def uses_ll_buffers(phase: str, moe_ep: int, moe_tp: int, ep: int, nvlink_domain: int, moe: bool = True) -> bool:
    """DeepEP's low-latency RDMA buffers: decode of a MoE model with expert parallelism across NVLink domains."""
    return moe and phase == "decode" and moe_ep > 1 and moe_tp == 1 and ep > nvlink_domain


def _buffer_bytes_per_token(u) -> float:
    """DeepEP low-latency buffer bytes per token a GPU sends (0 without those buffers)."""
    L = u.layout
    if not uses_ll_buffers(u.phase, L.moe_ep, L.moe_tp, L.ep, u.gpu.nvlink_domain, u.model.is_moe):
        return 0.0
    return float(ll_buffer_per_token.fast(b_disp=comm.FP8_DISPATCH_BYTES, b_comb=comm.BF16_BYTES,
                                          n_experts=u.values["n_experts"], E_red=u.values["E_red"], h=u.values["h"]))


def memory_values(u) -> dict:
    """A unit's symbol values with its memory constants (HBM, resident weights, reserve, buffers)."""
    return dict(u.values, HBM=u.gpu.hbm_capacity, W_res=u.weights_resident, rho_res=HBM_RESERVE_SHARE,
                buf_tok=_buffer_bytes_per_token(u))


def free_bytes(v: dict, batch, ctx):
    """HBM left per GPU (bytes; negative: does not fit) for stacked units at ``batch``, ``ctx``
    (:data:`hbm_free`)."""
    return hbm_free.fast(**dict(v, batch=batch, ctx=ctx))


def memory(u, batch, ctx_max) -> dict:
    """HBM per GPU (bytes): resident weights, KV caches of ``ctx_max`` tokens per request (with a
    paged cache and requests at every stage, the mean context ISL + OSL/2 is the steady state), DeepEP
    low-latency buffers, the runtime reserve, and what is free (negative: does not fit).

    The KV cache of an attention instance is held whole on each of its ``attn_tp`` GPUs (MLA's
    latent cache is not split by heads).  DeepEP's low-latency receive buffers are sized for
    the worst case (:data:`ll_buffer_per_token`)."""
    v = memory_values(u)
    b = np.asarray(batch, dtype=float)
    held = kv_context.fast(**dict(v, ctx=np.asarray(ctx_max, dtype=float)))
    return {"weights": u.weights_resident, "kv": b * held * v["S_kv"] / v["T_kv"],
            "buffers": b * v["s_q"] / u.layout.attn_tp * v["buf_tok"], "reserve": HBM_RESERVE_SHARE * v["HBM"],
            "free": hbm_free.fast(**v, batch=b, ctx=ctx_max)}


def fits(u, batch, ctx_max):
    """True where ``batch`` requests of ``ctx_max`` tokens fit in HBM under the unit's layout."""
    return memory(u, batch, ctx_max)["free"] >= 0


def max_batch(u, ctx_max):
    """The most requests per attention instance that fit at ``ctx_max`` tokens (0: none); an
    array of contexts gives an array of counts (:data:`batch_fit`)."""
    out = np.asarray(batch_fit.fast(**memory_values(u), ctx=np.asarray(ctx_max, dtype=float)), dtype=float)
    return int(out) if out.ndim == 0 else out


def weights_read_bytes(u, batch):
    """Weight bytes one GPU reads per step with ``batch`` requests per attention instance
    (:data:`.operations.weights_read`: the experts the step's tokens chose; number or array)."""
    return weights_read.fast(**dict(u.values, batch=np.asarray(batch, dtype=float), m_mb=1.0))
