"""A GQA/MHA model's measured kernel curves: dense GEMMs at its own shapes, its decode and prefill attention.

The rules of :mod:`.curves` (a rate q = the model's time at DeepSeek's kernel rates over the measured
time, at the table's setting, interpolated log-log on the fixed grids, held beyond the measured range),
applied to the tables :mod:`.hardware.kernel_gqa` reads:

* dense GEMMs: the one rule of :func:`.curves.dense_rate` at the model's dense GEMMs per GPU under its
  attention TP (:func:`gemm_shapes`: fused QKV and output projection in every layer, the FFN's fused
  gate/up and down in every dense layer, each counted as often as it runs), carried to the head; a dense
  model's FP8 GEMMs at the table's per-tensor FP8 GEMMs (``fp8``, not DeepSeek's block-scaled ``fp8_block``:
  no Llama-3.1 FP8 checkpoint scales in 128x128 blocks; at prefill's m TensorRT-LLM's per-tensor GEMMs
  on the H100 run 10-25 % faster than its block-scaled ones at Llama-405B's shapes) where measured, else
  the block-scaled table (AITER measures no per-tensor FP8 class on gfx942: the closest class);
* decode attention: the measured GQA attention kernel per layer at the unit's (query heads, KV heads,
  head dimension) per GPU and KV dtype, read at b s_q / m requests and the context, against the model's
  attention time per layer with every layer full; with sliding-window layers, the model's attention time
  of every layer against the sum of the measured kernels, each layer's at its own context (the table
  measures full attention: a windowed layer is read at min(context, window), where its kernel's fixed
  cost stays); the kernel alone, so the projections keep q_GEMM (``a_mod`` = 0).  The rate, not the time,
  is interpolated and held (:func:`_held_rate`): the tables measure a staircase of requests x context (up
  to about 2^18-2^19 cached tokens per kernel), and a time held beyond it would read a batch of 1,888
  requests at 5,650 tokens as fast as 256 at 512 (a rate ~10x the bandwidth); beyond the staircase the
  larger of the rate held along either axis;
* prefill attention: the measured GQA prefill attention kernel per layer (no cached prefix, BF16 compute)
  at the unit's heads per GPU and KV dtype, stored as ``pq`` on (:data:`.curves.GRID_BATCH`,
  :data:`.curves.GRID_NEW`) and read at (requests per micro-batch, new tokens per request) as MLA's is
  (:mod:`.curves`): log q at each measured point against the model's attention time at context
  ``prefill_context(isl, 0)`` with every layer full, interpolated in log isl per measured batch, then in
  log batch; a chunk with a cached prefix reads the rate at its new tokens (a transfer rule); FP8
  attention compute: no table (q = 1, named).  An AMD gfx942 GPU (no aiconfigurator table) reads AITER's
  causal BF16 attention-forward benchmark instead, for any framework (:mod:`.hardware.kernel_aiter_fmha`:
  the measured rate at the same request x query-head pairs and new tokens, head dimension 128 only), by the
  same interpolation.

A (GPU, framework, shape) without every table point: another framework's table on the same GPU
(:func:`.curves.carried`), else q = 1 by the transfer rule, named in the label.
"""
from __future__ import annotations

import numpy as np

from inference_arithmetic.core import fast
from inference_arithmetic.hardware.kernel_aiter_fmha import fmha_context_points, label as fmha_label
from inference_arithmetic.hardware.kernel_gqa import gqa_context_points, gqa_points, log_time_grid
from inference_arithmetic.step.curves import GRID_BATCH, GRID_CTX, LOG_NEW, carried, dense_rate, frozen

__all__ = ["gemm_shapes", "build", "HELD"]

_LB, _LC = (np.log(np.array(g)) for g in (GRID_BATCH, GRID_CTX))
_B2, _C2 = np.array(GRID_BATCH)[:, None], np.array(GRID_CTX)[None, :]


def gemm_shapes(model, attn_tp: int) -> tuple:
    """((count per step, n, k), ...) of ``model``'s dense GEMMs per GPU under attention TP ``attn_tp``."""
    t, d = attn_tp, model.d_head
    kv = max(1, model.n_kv_heads // t)
    out = [(model.n_layers, (model.n_heads // t + 2 * kv) * d, model.h), (model.n_layers, model.h, model.n_heads // t * d)]
    if model.n_dense and model.d_ff:
        out += [(model.n_dense, 2 * model.d_ff // t, model.h), (model.n_dense, model.h, model.d_ff // t)]
    return tuple(out)


def _heads(model, layout) -> tuple[int, int, str]:
    """(query heads, KV heads per GPU under attention TP, their words for a label)."""
    heads, kv = model.n_heads // layout.attn_tp, max(1, model.n_kv_heads // layout.attn_tp)
    return heads, kv, f"{heads} query / {kv} KV heads of {model.d_head} per GPU"


#: why a dense GQA model's FP8 GEMMs read the per-tensor FP8 table, in the unit's kernels label
PER_TENSOR = ("FP8 per tensor: a dense GQA model's FP8 checkpoints (NVIDIA ModelOpt's Llama-3.1 FP8, Meta's "
              "row-wise 405B FP8) do not scale in DeepSeek's 128x128 blocks")


def _dense(model, gpu_key, fw, layout, v):
    """The dense-GEMM curve at the model's shapes: a dense model's FP8 GEMMs at the table's per-tensor FP8
    GEMMs where it measures them (:data:`PER_TENSOR`), else (and every other dtype) at the book's dtype's."""
    shapes = gemm_shapes(model, layout.attn_tp)
    if layout.precision.dense == "fp8" and not model.is_moe:
        curve, why = dense_rate(gpu_key, fw, "fp8_tensor", shapes, v)
        if curve is not None:
            return curve, f"{why}; {PER_TENSOR}"
    return dense_rate(gpu_key, fw, layout.precision.dense, shapes, v)


#: the decode-attention rule beyond the measured requests x context, in the unit's kernels label
HELD = "; beyond the measured requests x context the rate held, the larger along either axis"


def _held_rate(rate_pts, log_ctx) -> np.ndarray:
    """log q on (:data:`.curves.GRID_BATCH` x ``log_ctx``) from the measured ``(((requests, context), q), ...)``:
    interpolated log-log between measured points; beyond them the larger of the rate held along the context
    (the request count's longest measured context) and along the requests (the context's largest measured
    request count).  The tables measure a staircase (request count x context up to about 2^18-2^19 tokens),
    and a decode kernel's rate rises with both (more thread blocks, its fixed cost spread over more KV bytes:
    in the stored tables 99 % of rows and columns never fall below 85 % of their running maximum, tested),
    so either held value is a lower bound on the rate there; inside the staircase the two orders of
    interpolation agree (the same four measured corners)."""
    by_ctx = log_time_grid(tuple(((c, b), q) for (b, c), q in rate_pts), log_ctx, _LB).T
    return np.maximum(log_time_grid(rate_pts, _LB, log_ctx), by_ctx)


def _attention(model, gpu_key, fw, layout, v):
    heads, kv, words = _heads(model, layout)
    got = gqa_points(gpu_key, fw, layout.precision.kv, heads, kv, model.d_head)
    if got is None:
        return None, f"attention: no {fw} GQA table for {gpu_key} ({layout.precision.kv} KV, {words})"
    ver, _, pts = got
    full = dict(v, s_q=1.0, m_mb=1.0, q_a=1.0, n_win=0.0)   # one layer of full attention, per layer
    b, c = (np.array([x[i] for x, _ in pts], dtype=float) for i in (0, 1))
    at_points = np.asarray(fast.t_attn_of(dict(full, batch=b, ctx=c)), dtype=float) / v["n_layers"]
    # the rate (not the time) at the measured points, interpolated and held beyond them (:mod:`.curves`)
    rate_pts = tuple(zip((x for x, _ in pts), at_points / np.array([t for _, t in pts])))
    log_q_full = _held_rate(rate_pts, _LC)
    if not model.n_window:
        return frozen(log_q_full.ravel()), f"attention: {fw} {ver} {gpu_key} GQA table ({layout.precision.kv} KV, {words}{HELD})"
    # the unit's attention time over the kernels' sum: full layers at the context, windowed at the window,
    # each kernel's time the model's full-attention time there over the rate read there
    n_win = float(model.n_window)
    at_window = np.minimum(np.array(GRID_CTX), float(model.window))[None, :]
    per_layer = (lambda ctx: np.asarray(fast.t_attn_of(dict(full, batch=_B2, ctx=ctx)), dtype=float) / v["n_layers"])
    measured = ((v["n_layers"] - n_win) * per_layer(_C2) / np.exp(log_q_full)
                + n_win * per_layer(at_window) / np.exp(_held_rate(rate_pts, np.log(at_window[0]))))
    model_time = np.asarray(fast.t_attn_of(dict(full, batch=_B2, ctx=_C2, n_win=n_win)), dtype=float)
    q = (np.log(model_time) - np.log(measured)).ravel()
    return frozen(q), f"attention: {fw} {ver} {gpu_key} GQA table ({layout.precision.kv} KV, {words}{HELD}; " \
                      f"windowed layers read at min(context, {model.window}))"


def _prefill_attention(model, gpu_key, fw, layout, v):
    p = layout.precision
    heads, kv, words = _heads(model, layout)
    got = gqa_context_points(gpu_key, fw, p.kv, heads, kv, model.d_head) if p.attn == "bf16" else None
    amd = got is None and p.attn == "bf16" and fmha_context_points(gpu_key, heads, model.d_head)
    if amd:   # an AMD gfx942 GPU: AITER's attention-forward benchmark, for any framework
        got = amd
    if got is None:
        return None, f"attention: no {fw} GQA prefill table for {gpu_key} ({p.attn} attention, {p.kv} KV, {words})"
    ver, _, pts = got
    b, isl = (np.array([x[i] for x, _ in pts], dtype=float) for i in (0, 1))
    ref = dict(v, batch=b, s_q=isl, ctx=fast.prefill_context(isl=isl, f_hit=0.0), m_mb=1.0, q_a=1.0, n_win=0.0)
    q = np.asarray(fast.t_attn_of(ref), dtype=float) / v["n_layers"] / np.array([t for _, t in pts])
    curve = log_time_grid(tuple(zip((x for x, _ in pts), q)), _LB, LOG_NEW).ravel()
    if amd:
        return frozen(curve), fmha_label(gpu_key, heads, model.d_head)
    return frozen(curve), f"attention: {fw} {ver} {gpu_key} GQA prefill table ({p.kv} KV, {words}, no cached prefix)"


def build(model, gpu, layout, phase: str, values: dict) -> tuple[dict, float, list]:
    """The GQA model's dense-GEMM and attention curves for ``layout.framework``: ``(updates to
    values, kernels per step the measured times already include, label parts)``; nothing for an MLA
    model or the ``deepseek`` framework."""
    if model.attention == "mla" or layout.framework == "deepseek":
        return {}, 0.0, []
    upd, drop, labels = {}, 0.0, []
    fw = layout.framework
    dq, why = carried(fw, gpu.key, lambda f: _dense(model, gpu.key, f, layout, values))
    labels.append(why)
    if dq is not None:
        upd["dq"] = dq
        drop += 2 * model.n_layers + 2 * model.n_dense + 1      # QKV, output, the dense FFN's two, the head
    reader = _attention if phase == "decode" else _prefill_attention
    aq, why = carried(fw, gpu.key, lambda f: reader(model, gpu.key, f, layout, values))
    labels.append(why)
    if aq is not None:
        upd["aq" if phase == "decode" else "pq"], upd["a_mod"] = aq, 0.0
        drop += model.n_layers                                   # one attention kernel per layer
    return upd, drop, labels
