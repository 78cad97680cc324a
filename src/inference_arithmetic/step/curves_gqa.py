"""A GQA/MHA model's measured kernel curves: dense GEMMs at its own shapes and its decode attention.

The rules of :mod:`.curves` (a rate q = the model's time at DeepSeek's kernel rates over the measured
time, at the table's setting, interpolated log-log on the fixed grids, held beyond the measured range),
applied to the tables :mod:`.hardware.kernel_gqa` reads:

* dense GEMMs: q_GEMM at m tokens is the summed model time of the model's dense GEMMs per GPU under its
  attention TP (fused QKV and output projection in every layer; the FFN's fused gate/up and down in every
  dense layer) over their summed measured time at the same m (each read at its own (n, k), bilinear in
  log n and log k on the table's grid), carried to the head (not a stored shape), as DeepSeek-V3's
  stored shapes are (:mod:`.curves`); the model time of one GEMM is the projection formula
  (:data:`.operations.t_proj`) at its n k weights;
* decode attention: the measured GQA attention kernel per layer at the unit's (query heads, KV heads,
  head dimension) per GPU and KV dtype, read at b s_q / m requests and the context, against the model's
  attention time per layer with every layer full (the table measures full attention: a sliding-window
  layer takes the full-attention rate at its own, shorter, context); the kernel alone, so the
  projections keep q_GEMM (``a_mod`` = 0);
* prefill attention: no GQA context table is read (q = 1, named).

A (GPU, framework, shape) without every table point: q = 1 by the transfer rule, named in the label.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from inference_arithmetic.core import fast
from inference_arithmetic.hardware.kernel_gqa import gemm_time, gqa_points, log_time_grid
from inference_arithmetic.step.curves import GRID_BATCH, GRID_CTX, GRID_TOKENS, frozen

__all__ = ["gemm_shapes", "build"]

_LT, _LB, _LC = (np.log(np.array(g)) for g in (GRID_TOKENS, GRID_BATCH, GRID_CTX))
_B2, _C2 = np.array(GRID_BATCH)[:, None], np.array(GRID_CTX)[None, :]


def gemm_shapes(model, attn_tp: int) -> tuple:
    """((count per step, n, k), ...) of ``model``'s dense GEMMs per GPU under attention TP ``attn_tp``."""
    t, d = attn_tp, model.d_head
    kv = max(1, model.n_kv_heads // t)
    out = [(model.n_layers, (model.n_heads // t + 2 * kv) * d, model.h), (model.n_layers, model.h, model.n_heads // t * d)]
    if model.n_dense and model.d_ff:
        out += [(model.n_dense, 2 * model.d_ff // t, model.h), (model.n_dense, model.h, model.d_ff // t)]
    return tuple(out)


def _dense(model, gpu_key, fw, layout, v):
    shapes = gemm_shapes(model, layout.attn_tp)
    return _dense_rate(gpu_key, fw, layout.precision.dense, shapes, v["b_dw"], v["e_gbw"], v["BW"], v["e_gfl"],
                       v["F_d"], v["flop_mac"])


@lru_cache(maxsize=1024)
def _dense_rate(gpu_key, fw, dtype, shapes, b_dw, e_gbw, bw, e_gfl, f_d, flop_mac):
    got = [gemm_time(gpu_key, fw, dtype, n, k) for _, n, k in shapes]
    if any(g is None for g in got):
        return None, f"dense GEMMs: no {fw} {dtype} table around this model's shapes on {gpu_key}"
    common = sorted(set.intersection(*({m for m, _ in g[1]} for g in got)))
    m = np.array(common, dtype=float)
    meas = sum(c * np.array([dict(g[1])[x] for x in common]) for (c, _, _), g in zip(shapes, got))
    model_t = sum(c * np.asarray(fast.t_proj(BW=bw, F_d=f_d, P_at=float(n * k), T_a=1.0, b_aw=b_dw, batch=m,
                                             e_gbw=e_gbw, e_gfl=e_gfl, flop_mac=flop_mac, m_mb=1.0, s_q=1.0), dtype=float)
                  for c, n, k in shapes)
    q = np.interp(_LT, np.log(m), np.log(model_t / meas))
    return frozen(q), f"dense GEMMs: {fw} {got[0][0]} {gpu_key} table ({dtype}, {len(shapes)} shapes of this model)"


def _attention(model, gpu_key, fw, layout, v):
    heads, kv = model.n_heads // layout.attn_tp, max(1, model.n_kv_heads // layout.attn_tp)
    got = gqa_points(gpu_key, fw, layout.precision.kv, heads, kv, model.d_head)
    if got is None:
        return None, (f"attention: no {fw} GQA table for {gpu_key} ({layout.precision.kv} KV, {heads} query / {kv} KV "
                      f"heads of {model.d_head} per GPU)")
    ver, _, pts = got
    ref = dict(v, batch=_B2, ctx=_C2, s_q=1.0, m_mb=1.0, q_a=1.0, n_win=0.0)
    per_layer = np.asarray(fast.t_attn_of(ref), dtype=float) / v["n_layers"]
    q = (np.log(per_layer) - log_time_grid(pts, _LB, _LC)).ravel()
    return frozen(q), (f"attention: {fw} {ver} {gpu_key} GQA table ({layout.precision.kv} KV, {heads} query / {kv} KV "
                       f"heads of {model.d_head} per GPU)")


def build(model, gpu, layout, phase: str, values: dict) -> tuple[dict, float, list]:
    """The GQA model's dense-GEMM and decode-attention curves for ``layout.framework``: ``(updates to
    values, kernels per step the measured times already include, label parts)``; nothing for an MLA
    model or the ``deepseek`` framework."""
    if model.attention == "mla" or layout.framework == "deepseek":
        return {}, 0.0, []
    upd, drop, labels = {}, 0.0, []
    dq, why = _dense(model, gpu.key, layout.framework, layout, values)
    labels.append(why)
    if dq is not None:
        upd["dq"] = dq
        drop += 2 * model.n_layers + 2 * model.n_dense + 1      # QKV, output, the dense FFN's two, the head
    aq, why = _attention(model, gpu.key, layout.framework, layout, values) if phase == "decode" else \
        (None, "attention: prefill, no GQA context table read")
    labels.append(why)
    if aq is not None:
        upd["aq"], upd["a_mod"] = aq, 0.0
        drop += model.n_layers                                   # one attention kernel per layer
    return upd, drop, labels
