"""A decode step-time model: attention and MoE each bounded by memory or compute, plus communication.

Per GPU, per decode step, with expert parallelism over ``N_EP`` GPUs and
data-parallel attention (DeepSeek's layout):

* with attention tensor-parallel over ``attn_tp`` GPUs, the replicated weights and their
  FLOP are split ``attn_tp`` ways and ``batch`` users share those GPUs (MLA's latent cache
  is not split by heads, so each GPU still reads every cache of its group);
* attention (and every replicated weight: MLA projections, dense layers, shared
  expert, head) reads ``b * l * S_kv`` KV bytes and ``W_rep`` weight bytes, and
  does ``c_mac * P_rep`` weight FLOP plus ``l * A`` attention FLOP per query token;
* the routed experts read the weights of the local experts that at least one token
  chose (``1 - (1 - 1/E)^(N_EP b s_q k)`` of them), and do ``c_mac * P_e`` FLOP per
  token-expert pair, ``b s_q k`` pairs per GPU and MoE layer on a balanced load;
* dispatch and combine move ``V_tok`` bytes per token and MoE layer over a link of
  ``beta_link`` per GPU; with two micro-batches they hide behind computation.

Step time is ``max(t_attn + t_moe, t_comm) + t_0`` with overlap and the sum without.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from . import comm, params
from .decode import FLOP_PER_MAC
from .catalog import GPU, Model
from .formula import InputError, evaluate_all, formula
from .symbols import S, register

__all__ = ["attn_flop_mla", "attn_flop_gqa", "t_attn", "t_moe", "experts_touched", "step_time_overlap",
           "step_time_serial", "user_rate", "Layout", "step_inputs", "breakdown", "WEIGHT_BYTES",
           "HBM_RESERVE_SHARE", "LINK_LATENCY_S", "wide_ep_layout", "users_that_fit", "frontier", "best_gpu_rate"]

W_rep = register("decode", "W_rep", r"W_{\mathrm{rep}}", "B", "replicated weight bytes read per step")
P_rep = register("decode", "P_rep", r"P_{\mathrm{rep}}", "param", "replicated parameters used per token")
P_exp = register("decode", "P_exp", r"P_e", "param", "parameters of one routed expert")
A_f = register("decode", "A_f", r"A", "FLOP", "attention FLOP per query token per cached token (all layers)")
F_w = register("decode", "F_w", r"\Phi_w", "FLOP/s", "matrix throughput for weight products (FP8 on Hopper)")
t_over = register("decode", "t_over", r"t_0", "s", "fixed overhead per decode step (launches, sync, sampling)")

attn_flop_mla = formula("attn_flop_mla", S.n_layers * S.n_heads * S.flop_mac * (2 * S.d_c + S.d_r), "FLOP",
                        "MLA (absorbed): a (d_c+d_r) score and a d_c value product per head and cached token")
attn_flop_gqa = formula("attn_flop_gqa", S.n_layers * S.n_heads * S.flop_mac * 2 * S.d_head, "FLOP",
                        "MHA/GQA: a d_h score and a d_h value product per head and cached token")

_attn_mem = (S.batch * S.ctx * S.S_kv + W_rep) / S.BW
_attn_comp = S.batch * S.s_q * (S.flop_mac * P_rep / F_w + S.ctx * A_f / S.F)
t_attn = formula("t_attn", sp.Max(_attn_mem, _attn_comp), "s",
                 "attention and replicated layers: memory or compute bound")

experts_touched = formula(
    "experts_touched",
    (S.n_layers - S.n_dense) * (S.n_experts + S.E_red) / S.N_ep
    * (1 - (1 - 1 / S.n_experts) ** (S.N_ep * S.batch * S.s_q * S.top_k)),
    "expert", "local routed experts chosen by at least one token this step, over all MoE layers")

_moe_mem = experts_touched.expr * P_exp * S.b_w / S.BW
_moe_comp = S.batch * S.s_q * S.top_k * (S.n_layers - S.n_dense) * S.flop_mac * P_exp / F_w
t_moe = formula("t_moe", sp.Max(_moe_mem, _moe_comp), "s", "routed experts: memory or compute bound")

t_a = register("decode", "t_a", r"t_{\mathrm{attn}}", "s", "attention and replicated-layer time per step")
t_m = register("decode", "t_m", r"t_{\mathrm{MoE}}", "s", "routed-expert time per step")
t_c = register("decode", "t_c", r"t_{\mathrm{comm}}", "s", "dispatch and combine time per step")

step_from_parts_overlap = formula("step_from_parts_overlap", sp.Max(t_a + t_m, t_c) + t_over, "s",
                                  "two micro-batches: communication hidden behind computation")
step_from_parts_serial = formula("step_from_parts_serial", t_a + t_m + t_c + t_over, "s",
                                 "no overlap: computation and communication in sequence")
_parts = {t_a: t_attn.expr, t_m: t_moe.expr, t_c: comm.comm_time.expr + comm.comm_latency.expr}
step_time_overlap = formula("step_time_overlap", step_from_parts_overlap.expr.xreplace(_parts), "s",
                            "decode step time with overlap, in the model's inputs")
step_time_serial = formula("step_time_serial", step_from_parts_serial.expr.xreplace(_parts), "s",
                           "decode step time without overlap, in the model's inputs")

#: bytes per weight of the supported weight dtypes
WEIGHT_BYTES = {"bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "fp4": 0.5}
_WEIGHT_DTYPE = {b: d for d, b in WEIGHT_BYTES.items() if d != "fp16"}

t_step = register("decode", "t_step", r"t_{\mathrm{step}}", "s", "decode step time")
user_rate = formula("user_rate", S.accept / t_step, "token/s", "tokens per second one user sees")


@dataclass(frozen=True)
class Layout:
    """A decode deployment: EP size, redundant experts, dtypes, MTP, overhead."""

    n_ep: int
    redundant: int = 0
    kv_bytes: float = 2.0          # per element (BF16)
    weight_bytes: float = 1.0      # per weight (FP8)
    accept: float = 1.0            # tokens accepted per step
    s_q: float = 1.0               # query tokens per user per step
    overhead_s: float = 0.0
    attn_tp: int = 1               # GPUs sharing one attention instance (splits replicated weights)
    link_latency_s: float = 0.0    # fixed latency of each dispatch and each combine


def _kv_bytes_per_token(model: Model, layout: Layout) -> float:
    """KV bytes per token of an MLA mixture of experts at the layout's bytes per element."""
    if model.attention != "mla" or not model.is_moe:
        raise InputError("the step-time model covers MLA mixture-of-experts models")
    from .kv import kv_per_token_mla
    v = model.symbol_values()
    return float(kv_per_token_mla(n_layers=v["n_layers"], d_c=v["d_c"], d_r=v["d_r"], b_kv=layout.kv_bytes))


def step_inputs(model: Model, gpu: GPU, layout: Layout, batch, ctx) -> dict:
    """SI values for every symbol of the step-time formulas (``batch`` and ``ctx`` may be arrays)."""
    S_kv = _kv_bytes_per_token(model, layout)
    if layout.n_ep < 1:
        raise InputError("EP size must be at least 1")
    v = {k: float(x) for k, x in model.symbol_values().items()}
    mla = {k: v[k] for k in ("n_layers", "n_heads", "d_c", "d_r")}
    multi_node = layout.n_ep > gpu.nvlink_domain
    m_nodes = model.route_groups or model.top_k
    V = (comm.ep_scaleout_bytes_per_token(M_nodes=m_nodes, N_ep=layout.n_ep, G=gpu.nvlink_domain, h=v["h"],
                                          b_disp=comm.FP8_DISPATCH_BYTES, b_comb=comm.BF16_BYTES)
         if multi_node else
         comm.ep_bytes_per_token(N_ep=layout.n_ep, top_k=v["top_k"], h=v["h"],
                                 b_disp=comm.FP8_DISPATCH_BYTES, b_comb=comm.BF16_BYTES))
    if layout.attn_tp < 1:
        raise InputError("attention TP degree must be at least 1")
    w_dtype = _WEIGHT_DTYPE.get(float(layout.weight_bytes))
    if w_dtype is None:
        raise InputError("weight bytes must be 2 (bf16), 1 (fp8) or 0.5 (fp4)")
    w_flops = gpu.flops(w_dtype)
    return dict(
        batch=batch, ctx=ctx, s_q=layout.s_q, accept=layout.accept,
        S_kv=S_kv,
        W_rep=params.replicated_param_count(model) * layout.weight_bytes / layout.attn_tp,
        P_rep=params.replicated_param_count(model) / layout.attn_tp,
        P_exp=float(params.expert_params(h=v["h"], d_e=v["d_e"])),
        A_f=float(attn_flop_mla(flop_mac=FLOP_PER_MAC, **mla)), flop_mac=float(FLOP_PER_MAC),
        BW=gpu.hbm_bandwidth, F=gpu.dense_bf16, F_w=w_flops, b_w=layout.weight_bytes,
        n_layers=v["n_layers"], n_dense=v["n_dense"], n_experts=v["n_experts"], top_k=v["top_k"],
        E_red=float(layout.redundant), N_ep=float(layout.n_ep),
        V_tok=float(V), BW_link=gpu.scale_out if multi_node else gpu.nvlink,
        t_over=layout.overhead_s, t_lat=layout.link_latency_s, attn_tp=layout.attn_tp,
    )


def breakdown(values: dict, overlap: bool = True) -> dict:
    """Step-time parts (s) and rates (tokens/s per user and per GPU) for ``step_inputs`` values."""
    ta = evaluate_all(t_attn, values)
    tm = evaluate_all(t_moe, values)
    tc = evaluate_all(comm.comm_time, values) + evaluate_all(comm.comm_latency, values)
    parts = step_from_parts_overlap if overlap else step_from_parts_serial
    ts = parts(t_a=ta, t_m=tm, t_c=tc, t_over=values["t_over"])
    per_user = user_rate(accept=values["accept"], t_step=ts)
    # with attention TP, `batch` users share attn_tp GPUs
    return {"t_attn": ta, "t_moe": tm, "t_comm": tc, "t_step": ts, "per_user": per_user,
            "per_gpu": np.asarray(values["batch"]) * per_user / values.get("attn_tp", 1)}


# --------------------------------------------------------------------------- deployments
#: Share of each GPU's HBM kept free for activations and workspace.  An assumption of
#: the book (no source states it), used wherever it asks how many users fit.
HBM_RESERVE_SHARE = 0.1

#: Fixed latency of one dispatch or one combine, s.  Assumptions of the book: within an
#: NVLink domain (``"nvlink"``) and across the scale-out network (``"scale_out"``).
LINK_LATENCY_S = {"nvlink": 10e-6, "scale_out": 25e-6}


def wide_ep_layout(gpu: GPU, **kw) -> Layout:
    """DeepSeek-style wide expert parallelism on ``gpu``, with the assumed link latency.

    EP72 with 32 redundant experts inside a 72-GPU NVLink rack; otherwise EP144 with
    32 redundant experts across 8-GPU nodes (DeepSeek's own decode layout).  Keyword
    arguments set the other :class:`Layout` fields (dtypes, MTP, attention TP).
    """
    n_ep = 72 if gpu.nvlink_domain >= 72 else 144
    latency = LINK_LATENCY_S["nvlink" if n_ep <= gpu.nvlink_domain else "scale_out"]
    return Layout(n_ep=n_ep, redundant=32, link_latency_s=latency, **kw)


def users_that_fit(model: Model, gpu: GPU, layout: Layout, ctx: float,
                   reserve_share: float = HBM_RESERVE_SHARE) -> int:
    """Users per GPU whose ``ctx``-token KV caches fit next to the resident weights (0 if none).

    Weights: ``params.weight_bytes_ep`` at the layout's EP size, redundant experts and
    weight bytes; KV at the layout's bytes per element; ``reserve_share`` of HBM kept free.
    """
    from .decode import max_batch
    if not 0 <= reserve_share < 1:
        raise InputError(f"reserve share must be in [0, 1), got {reserve_share!r}")
    S_kv = _kv_bytes_per_token(model, layout)
    W = params.weight_bytes_ep(model, n_ep=layout.n_ep, redundant=layout.redundant,
                               bytes_per_weight=layout.weight_bytes, resident=True)
    b = float(max_batch(HBM=gpu.hbm_capacity, W_res=W, reserve=reserve_share * gpu.hbm_capacity, ctx=ctx, S_kv=S_kv))
    return max(int(b), 0)


def frontier(model: Model, gpu: GPU, layout: Layout, ctx: float, points: int = 200,
             reserve_share: float = HBM_RESERVE_SHARE) -> dict | None:
    """:func:`breakdown` over batch sizes from 1 to :func:`users_that_fit`, geometrically spaced.

    The throughput-interactivity frontier: ``out["per_user"]`` against ``out["per_gpu"]``,
    with ``out["batch"]`` the batch sizes (whole users, ``points`` at most).  ``None`` if
    not one user fits.
    """
    b_max = users_that_fit(model, gpu, layout, ctx, reserve_share)
    if b_max < 1:
        return None
    batch = np.unique(np.geomspace(1, b_max, points).round())
    out = breakdown(step_inputs(model, gpu, layout, batch=batch, ctx=ctx))
    out["batch"] = batch
    return out


def best_gpu_rate(model: Model, gpu: GPU, layout: Layout, ctx: float, per_user_min: float,
                  reserve_share: float = HBM_RESERVE_SHARE) -> float:
    """Highest tokens/s per GPU on the :func:`frontier` with every user at ``per_user_min`` tokens/s
    or more; 0 if no batch that fits reaches it."""
    out = frontier(model, gpu, layout, ctx, reserve_share=reserve_share)
    if out is None:
        return 0.0
    ok = out["per_user"] >= per_user_min
    return float(out["per_gpu"][ok].max()) if ok.any() else 0.0
