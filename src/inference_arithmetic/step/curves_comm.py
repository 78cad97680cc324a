"""A serving framework's measured expert-parallel dispatch and combine as a rate on a fixed log grid.

The curve enters the step formulas as ``q_c`` (:mod:`.operations`, ``t_a2a``): the model's time of one
MoE layer's dispatch and combine (a latency each, the busiest GPU's bytes over the NIC and NVLink at
DeepSeek's DeepEP rates of :mod:`.hardware.efficiency`) over the framework's measured time
(:mod:`.hardware.kernel_comm`: DeepEP low-latency kernels in decode, normal kernels in prefill), as a
function of the tokens each GPU sends per micro-batch.  Rules:

* log q at each measured token count, the model's time computed at the table's setting (its EP size,
  whole experts, balanced routing, one micro-batch, the NVLink latency inside a node and the scale-out
  latency beyond it), interpolated log-log onto :data:`.curves.GRID_TOKENS`, held at the ends;
* the measured EP size nearest to the unit's (in log2; the smaller on a tie) among those on the same
  side of the NVLink domain: inside one domain the kernels move NVLink bytes at NVLink latencies, beyond it
  scale-out bytes at network latencies, and a rate measured in one regime says nothing of the other.
  Transfer rule where the unit's EP size was not measured (TensorRT-LLM's and vLLM's tables: one node
  only; SGLang's: up to 8 nodes on H100 and H200): the rate at the nearest measured EP size of its regime
  carried to the unit's, whose bytes, links and latencies stay the model's -- named in the unit's
  ``kernels`` label; no measured EP size in its regime: DeepSeek's DeepEP rates, named;
* a GPU without TensorRT-LLM's NVLink kernels measured: a same-fabric GPU's, at the EP sizes inside its
  own NVLink domain (:func:`.hardware.kernel_comm.a2a_table`), named in the label;
* no table for the (GPU, framework) or none in the unit's regime: another framework's table on the same GPU
  (:func:`.curves.carried`: SGLang and vLLM run the same DeepEP kernels), else DeepSeek's DeepEP rates;
* a model other than DeepSeek-V3's hidden size, top-k and experts,
  MoE TP (all-reduces instead) or a unit without expert parallelism: q = 1, DeepSeek's DeepEP rates.

Dispatch and combine are not among the fixed-time kernels ``K_k`` counts (their fixed time is the
latency inside ``t_a2a``, which the measured time replaces), so no kernel is dropped for them.
"""
from __future__ import annotations

import math

import numpy as np

from inference_arithmetic.core import fast
from inference_arithmetic.hardware.kernel_comm import a2a_table
from inference_arithmetic.model.dtypes import BF16_BYTES, FP8_DISPATCH_BYTES
from inference_arithmetic.step.curves import GRID_TOKENS, carried, frozen
from inference_arithmetic.step.layout import LINK_LATENCY_SCALE_OUT_S

__all__ = ["a2a_bytes", "a2a_curve", "A2A_SHAPE"]

#: the shape the all-to-all tables measure: DeepSeek-V3's hidden size, top-k and routed experts
A2A_SHAPE = (7168, 8, 256)
_LT = np.log(np.array(GRID_TOKENS, dtype=float))
_KIND = {"ll": "low-latency", "normal": "normal"}


def a2a_bytes(model, ep: int, moe_tp: int, moe_ep: int, G: int, kind: str) -> tuple[float, float]:
    """All-to-all bytes per token and MoE layer over the scale-out NIC and over NVLink, for ``ep`` GPUs
    (``moe_tp`` splitting each expert, ``moe_ep`` = ep / moe_tp expert groups) with NVLink domains of
    ``G`` GPUs and the ``kind`` of kernels (``ll``: every copy travels; ``normal``: node-deduplicated)."""
    b = dict(h=model.h, b_disp=FP8_DISPATCH_BYTES, b_comb=BF16_BYTES)
    if kind == "ll":   # every copy travels; the share to peers outside the NVLink domain goes over the NIC
        per_tok = float(fast.a2a_bytes_ll(top_k=model.top_k, T_m=moe_tp, N_ep=ep, **b))
        rem = float(fast.remote_share(G=G, N_ep=ep))
        return per_tok * rem, per_tok * (1 - rem)
    v_so = float(fast.ep_scaleout_bytes_per_token(M_nodes=model.route_groups or model.top_k, N_ep=ep,
                                                  G=G, **b)) if ep > G else 0.0
    v_nv = float(fast.a2a_bytes_ll(top_k=model.top_k, T_m=moe_tp, N_ep=ep, **b)) if moe_ep > 1 else 0.0
    return v_so, v_nv


def a2a_curve(model, gpu, layout, kind: str, values: dict):
    """``(log q_c on GRID_TOKENS or None, label)`` for ``layout.framework``'s ``kind`` all-to-all."""
    fw = layout.framework
    if layout.moe_all_reduce or layout.moe_ep == 1 or not model.is_moe:
        return None, None
    if (model.h, model.top_k, model.n_experts) != A2A_SHAPE:
        return None, "dispatch/combine: no table for this model's shape (DeepSeek-V3's hidden 7168, top-8 of 256)"
    return carried(fw, gpu.key, lambda f: _measured(model, gpu, layout, kind, values, f))


def _measured(model, gpu, layout, kind: str, values: dict, fw: str):
    """:func:`a2a_curve` from ``fw``'s table alone."""
    read, pts = a2a_table(gpu.key, fw, kind, layout.precision.moe)
    if not pts:
        return None, (f"dispatch/combine: no {fw} {_KIND[kind]} all-to-all table for {gpu.key} "
                      f"({layout.precision.moe} experts): DeepSeek's DeepEP rates")
    inside = layout.ep <= gpu.nvlink_domain
    same = [e for e in pts if (e <= gpu.nvlink_domain) == inside]   # a rate is carried within one regime only
    if not same:
        return None, (f"dispatch/combine: no {fw} {_KIND[kind]} all-to-all table for {gpu.key} "
                      f"{'inside one NVLink domain' if inside else 'beyond one NVLink domain'} (measured: EP"
                      f"{', EP'.join(str(e) for e in sorted(pts))}): DeepSeek's DeepEP rates")
    near = min(same, key=lambda e: (abs(math.log2(e) - math.log2(layout.ep)), e))
    ver, kernel, _, got = pts[near]
    curve = _rate(model, gpu, near, kind, got, tuple(values[k] for k in _INPUTS), values)
    carried = "" if near == layout.ep else f", carried to EP{layout.ep} as a rate"
    twin = "" if read == gpu.key else (f", carried to {gpu.key} as a rate: the same NVLink fabric "
                                        f"({gpu.nvlink / 1e9:.0f} GB/s per GPU per direction, one switch hop), where TensorRT-LLM runs "
                                        f"its NVLink all-to-all")
    return curve, (f"dispatch/combine: {fw} {ver} {read} {_KIND[kind]} all-to-all table "
                   f"({kernel}, EP{near}{carried}{twin})")


#: the unit values the model's all-to-all time reads besides those set at the table's setting
_INPUTS = ("n_layers", "n_dense", "e_so", "e_nv", "BW_so", "BW_nv", "t_ar_lat")


def _rate(model, gpu, ep, kind, pts, key, values):
    """log q_c on the grid at the measured EP size ``ep`` (memoised on what it reads)."""
    memo = _MEMO.get((model, gpu.key, ep, kind, pts, key))
    if memo is not None:
        return memo
    G = min(gpu.nvlink_domain, ep)
    v_so, v_nv = a2a_bytes(model, ep, 1, ep, G, kind)
    n = np.array([x for x, _ in pts], dtype=float)
    ref = dict(values, N_ep=float(ep), T_m=1.0, I_ep=1.0, V_so=v_so, V_nv=v_nv, batch=n, s_q=1.0, T_a=1.0,
               q_c=1.0, t_lat=LINK_LATENCY_SCALE_OUT_S if ep > gpu.nvlink_domain else values["t_ar_lat"])
    per_layer = np.asarray(fast.t_a2a_of(ref), dtype=float) / (values["n_layers"] - values["n_dense"])
    curve = frozen(np.interp(_LT, np.log(n), np.log(per_layer / np.array([t for _, t in pts]))))
    _MEMO[(model, gpu.key, ep, kind, pts, key)] = curve
    return curve


_MEMO: dict = {}
