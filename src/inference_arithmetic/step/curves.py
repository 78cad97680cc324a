"""A serving framework's measured kernel curves as rates on fixed log grids, built once per unit.

Each curve enters the step formulas as a rate q = (the model's time at DeepSeek's kernel rates) /
(the measured time), at the table's setting, so that the step structure stays one formula and the
framework's kernels scale the terms they measure (:mod:`.operations`: ``q_x`` routed experts,
``q_a`` attention (decode: curve ``aq``, prefill: ``pq``), ``q_p`` attention projections, ``q_d`` dense
GEMMs and head, ``q_r``/``q_R`` all-reduces; ``q_c`` dispatch and combine: :mod:`.curves_comm`).
Rules, the same for every curve:

* the measured points (:mod:`.hardware.kernel_curves`, :mod:`.hardware.kernel_tables`) are turned
  into log q at the measured points and interpolated log-log (piecewise linear in log q against log
  tokens, requests or context) onto the fixed grids below; beyond the measured range the rate at the
  nearest end is held;
* a (GPU, framework, setting) without a table, a model whose shapes the table does not measure
  (the tables hold DeepSeek-V3's): q = 1, DeepSeek's kernels by the transfer rule of
  :mod:`.hardware.efficiency`, named in the unit's ``kernels`` label;
* dense GEMMs (:func:`dense_rate`, the one rule for every model): q_GEMM at m tokens is the summed model
  time of the model's dense GEMM shapes (DeepSeek-V3's projection and shared-expert shapes,
  :data:`GEMM_SHAPES`; a GQA model's own, :mod:`.curves_gqa`) over their summed measured time at the
  same m, each read as stored or bilinear in log n and log k on the table's grid
  (:func:`.hardware.kernel_gqa.gemm_time`; an AMD GPU reads AITER's tuned-GEMM table whatever the framework,
  :mod:`.hardware.kernel_aiter`), the model time of one GEMM the projection formula
  (:data:`.operations.t_proj`) at its n k weights; carried to every dense GEMM (DeepSeek's dense FFN
  layers and the head are not among the shapes; under attention TP its GPUs' slices run at the full
  shape's rate);
* decode attention: the measured MLA block (``mla_generation_module``) per layer at the unit's query
  heads per GPU (16 and 128 measured; between, log-time interpolated in log heads; outside: no table),
  read at b s_q / m requests per micro-batch (each query row as a request) and the context;
  it includes the attention projections, so q_p = q_attn there;
* prefill attention: the measured MLA prefill block (``mla_context_module``, projections included, so
  q_p = q_attn) per layer at exactly the unit's query heads per GPU (128, 64, 32, 16, 8 measured; else no
  table) and attention dtype, stored as ``pq`` on (:data:`GRID_BATCH`, :data:`GRID_NEW`) and read at
  (requests per micro-batch b / m, new tokens per request s_q).  The table measures chunks without a cached prefix (``step`` = 0 in every row): log q is
  computed at each measured (b, isl) against the model's time at context ``prefill_context(isl, 0)``,
  interpolated log-log in isl per measured b, then in b, held at the ends (the largest chunks, b isl >
  131,072, hold the rate of the longest measured isl at their b); a chunk with a cached prefix reads the
  rate at its new tokens, and the model's own context term carries the prefix (a transfer rule: no
  prefix measured);
* all-reduce: the measured BF16 all-reduce at the nearest measured GPU count (log2) and the message
  of the tokens' hidden states;
* DeepSeek Sparse Attention (DeepSeek-V3.2, :mod:`.sparse`): its main attention is DeepSeek-V3's MLA
  block (the same hidden size, heads, latent and rope dimensions) over at most the top-k selected
  tokens, so it reads V3's MLA tables at the tokens it attends: the rate is computed against the
  model's time of the dense block as the table measures it (no top-k cap, no indexer: ``k_top`` = inf,
  the indexer's key bytes and FLOP 0) and read at min(context, top-k) in decode and at min(new tokens
  per request, top-k) in prefill (:func:`.evaluate.rates`).  Prefill beyond the top-k: the table
  measures chunks without a cached prefix, whose attention is causal over the chunk, so its isl axis
  cannot express a token attending top-k of a longer context; the tokens beyond the top-k take the
  rate the block achieves over its first top-k tokens (each of those attends at most top-k tokens
  too), and the model's own core term makes their attention linear in the tokens (top-k per token, or
  masked MHA over the context where cheaper).  The lightning indexer stays the model's own term
  (``t_index``, outside the measured rate), its projections (about 7 % of V3.2's attention weights)
  ride in the block's rate (a transfer: no indexer microbenchmark is in the calibration set);
  Where the GPU has a measured DSA module table (any framework), :mod:`.curves_dsa` reads that instead;
* a (GPU, framework, setting) without a table reads another framework's measured table on the same
  GPU first (:func:`carried`, the order of :data:`.hardware.kernel_tables.CARRY_ORDER`), named
  "carried across frameworks" in the unit's ``kernels`` label; only where none has one q = 1.

A measured time includes its kernel's fixed time: :func:`build` returns how many kernels per step
the unit's fixed-time count ``K_k`` must drop.
"""
from __future__ import annotations

import bisect
import math
from functools import lru_cache

import numpy as np

from inference_arithmetic.core import fast
from inference_arithmetic.hardware.kernel_aiter import is_aiter_gpu, label as aiter_label
from inference_arithmetic.hardware.kernel_curves import (GEMM_DTYPE, MLA_CONTEXT_HEADS, MLA_HEADS, allreduce_points,
                                                        mla_context_points, mla_points)
from inference_arithmetic.hardware.kernel_gqa import gemm_time, log_time_grid
from inference_arithmetic.hardware.kernel_tables import carried_label, carried_read
from inference_arithmetic.model.dtypes import BF16_BYTES
from inference_arithmetic.step.layout import MOE_ALL_REDUCE

__all__ = ["GRID_TOKENS", "GRID_BATCH", "GRID_CTX", "GRID_NEW", "LOG_NEW", "GRID_ELEMENTS", "LOG_ELEMENTS", "CURVE_KEYS", "build", "rate", "rate2", "GEMM_SHAPES", "dense_rate",
           "DEEPSEEK_V3_MLA", "frozen", "NO_CURVES", "carried"]

#: tokens at which a 1-D rate is stored (powers of sqrt 2 from 1 to 2^23)
GRID_TOKENS = tuple(float(2 ** (i / 2)) for i in range(47))
#: requests and context (tokens) at which the decode-attention rate is stored (powers of 2; the
#: context as the table measures it, one prompt token and 2^i decoded)
GRID_BATCH = tuple(float(2 ** i) for i in range(11))
GRID_CTX = tuple(float(1 + 2 ** i) for i in range(1, 18))
#: new tokens per request at which the prefill-attention rate is stored (2^i and 1.5 x 2^i, 1 to 2^17:
#: the prefill table's isl values but 10,240)
GRID_NEW = tuple(sorted({float(2 ** i) for i in range(18)} | {1.5 * 2 ** i for i in range(17)}))
#: message sizes (BF16 elements) at which an all-reduce rate is stored (powers of sqrt 2 from 1 to 2^30)
GRID_ELEMENTS = tuple(float(2 ** (i / 2)) for i in range(61))
_LT, _LB, _LC, _LE, _LN = (np.log(np.array(g)) for g in (GRID_TOKENS, GRID_BATCH, GRID_CTX, GRID_ELEMENTS, GRID_NEW))
LOG_ELEMENTS, LOG_NEW = _LE, _LN
_B2, _C2 = np.exp(_LB)[:, None], np.exp(_LC)[None, :]
_LISTS = {id(g): [float(x) for x in g] for g in (_LT, _LB, _LC, _LE, _LN)}
#: log spacing of the grids evenly spaced in log (tokens, requests, elements), by the id of their lists
_UNIFORM = {id(_LISTS[id(g)]): float(g[1] - g[0]) for g in (_LT, _LB, _LE)}
#: the unit values that hold a stored log-rate curve (all zeros: q = 1)
CURVE_KEYS = {"xq": len(GRID_TOKENS), "aq": len(GRID_BATCH) * len(GRID_CTX), "dq": len(GRID_TOKENS),
              "rq": len(GRID_ELEMENTS), "Rq": len(GRID_ELEMENTS), "cq": len(GRID_TOKENS),
              "pq": len(GRID_BATCH) * len(GRID_NEW)}
#: DeepSeek-V3's stored dense GEMM shapes (n, k): fused q_a/kv_a, q_b, kv_b, o_proj, shared gate_up, down
GEMM_SHAPES = ((2112, 7168), (24576, 1536), (32768, 512), (7168, 16384), (4096, 7168), (7168, 2048))
#: the MLA shape the attention table measures: hidden, heads, latent, rope dims
DEEPSEEK_V3_MLA = (7168, 128, 512, 64)
#: kernels per layer a measured attention block replaces; projection GEMMs per layer a GEMM curve covers
_ATTN_KERNELS, _PROJ_GEMMS = 6, 3


#: what the MLA tables measure, as unit values: the dense block over the whole context, no sparse-attention
#: top-k cap and no indexer (a model without sparse attention has these already)
_DENSE_BLOCK = dict(k_top=math.inf, S_idx=0.0, A_i=0.0)


def _dense_block(v: dict) -> dict:
    """``v`` as the MLA table's dense block: no top-k cap, no indexer, the cache bytes the core reads."""
    return dict(v, S_kv=v["S_kv"] - v["S_idx"], **_DENSE_BLOCK)


def carried(fw: str, gpu_key: str, read) -> tuple:
    """``(curve or None, label)``: ``read(f)`` -> ``(curve or None, label)`` for ``fw``, else for the
    frameworks of :data:`.hardware.kernel_tables.CARRY_ORDER` on the same GPU, the first with a curve
    (:func:`.hardware.kernel_tables.carried_read`), its label naming the carried table."""
    used, (curve, why) = carried_read(fw, read, found=lambda got: got[0] is not None)
    return curve, carried_label(fw, used, gpu_key, why)


def _on_grid(x_meas, log_q, grid_log) -> np.ndarray:
    return np.interp(grid_log, np.log(np.asarray(x_meas, dtype=float)), log_q)


def dense_rate(gpu_key: str, fw: str, dtype: str, shapes: tuple, v: dict):
    """``(log q_GEMM on GRID_TOKENS or None, label)``: the summed model time of ``shapes`` ((count per
    step, n, k), ...) over their summed measured time (:func:`.kernel_gqa.gemm_time`: as stored, or
    bilinear in log n and log k on the table's grid) at the m every measured one shares; the shapes the
    table does not reach are left out and counted in the label."""
    return _dense_rate(gpu_key, fw, dtype, tuple(shapes), v["b_dw"], v["e_gbw"], v["BW"], v["e_gfl"], v["F_d"],
                       v["flop_mac"])


@lru_cache(maxsize=1024)
def _dense_rate(gpu_key, fw, dtype, shapes, b_dw, e_gbw, bw, e_gfl, f_d, flop_mac):
    got = [(s, gemm_time(gpu_key, fw, dtype, s[1], s[2])) for s in shapes]
    got = [(s, g) for s, g in got if g is not None]
    if not got:
        return None, f"dense GEMMs: no {fw} {dtype} table for {gpu_key} at this model's shapes"
    common = sorted(set.intersection(*({m for m, _ in g[1]} for _, g in got)))
    m = np.array(common, dtype=float)
    meas = sum(c * np.array([dict(g[1])[x] for x in common]) for (c, _, _), g in got)
    model = sum(c * np.asarray(fast.t_proj(BW=bw, F_d=f_d, P_at=float(n * k), T_a=1.0, b_aw=b_dw, batch=m, e_gbw=e_gbw,
                                           e_gfl=e_gfl, flop_mac=flop_mac, m_mb=1.0, s_q=1.0), dtype=float)
                for (c, n, k), _ in got)
    table = aiter_label(gpu_key, GEMM_DTYPE[dtype]) if is_aiter_gpu(gpu_key) else f"{fw} {got[0][1][0]} {gpu_key} table"
    return frozen(_on_grid(m, np.log(model / meas), _LT)), \
        f"dense GEMMs: {table} ({dtype}, {len(got)} of the {len(shapes)} shapes)"


@lru_cache(maxsize=256)
def _mla_measured(gpu_key, fw, kv, gemm):
    """(version, {heads: log seconds on (GRID_BATCH x GRID_CTX)}) or ``None``: per measured batch
    interpolated in log context, then per grid context in log batch, held at the ends."""
    tables = {h: mla_points(gpu_key, fw, kv, gemm, h) for h in MLA_HEADS}
    if any(t is None for t in tables.values()):
        return None
    logs = {h: log_time_grid(pts, _LB, _LC) for h, (_, _, pts) in tables.items()}
    return tables[MLA_HEADS[0]][0], logs


def _attention(model, gpu_key, fw, layout, v, phase):
    p = layout.precision
    heads = model.n_heads / layout.attn_tp
    if ((model.h, model.n_heads, model.d_c, model.d_r) != DEEPSEEK_V3_MLA
            or not (heads in MLA_CONTEXT_HEADS if phase == "prefill" else MLA_HEADS[0] <= heads <= MLA_HEADS[1])):
        return None, f"attention: no {phase} table for this shape (MLA of DeepSeek-V3's shape only) or heads per GPU"
    if phase == "prefill":
        return _prefill_attention(model, gpu_key, fw, p, int(heads), v)
    got = _mla_measured(gpu_key, fw, p.kv, p.dense)
    if got is None:
        return None, f"attention: no {fw} MLA table for {gpu_key} ({p.kv} KV, {p.dense} projections)"
    ver, logs = got
    key = (gpu_key, fw, p.kv, p.dense, heads) + tuple(v[k] for k in _attn_inputs())
    if key not in _ATTN_MEMO:   # the same for every EP size of a GPU, precision and attention layout
        w = (math.log(heads) - math.log(MLA_HEADS[0])) / (math.log(MLA_HEADS[1]) - math.log(MLA_HEADS[0]))
        log_meas = (1 - w) * logs[MLA_HEADS[0]] + w * logs[MLA_HEADS[1]]
        ref = dict(_dense_block(v), batch=_B2, ctx=_C2, s_q=1.0, m_mb=1.0, q_a=1.0)
        per_layer = (np.asarray(fast.t_attn_of(ref), dtype=float) + np.asarray(fast.t_proj_of(ref), dtype=float)) \
            / v["n_layers"]
        _ATTN_MEMO[key] = frozen((np.log(per_layer) - log_meas).ravel())
    return _ATTN_MEMO[key], \
        f"attention: {fw} {ver} {gpu_key} MLA table ({p.kv} KV, {p.dense} projections, {heads:g} heads/GPU{_topk(model)})"


def _topk(model, phase: str = "decode") -> str:
    """The label's words for sparse attention read from the dense MLA table."""
    at = "context" if phase == "decode" else "new tokens per request"
    return f", DSA: read at min({at}, top-{model.index_topk})" if model.index_topk else ""


def _prefill_attention(model, gpu_key, fw, p, heads, v):
    got = mla_context_points(gpu_key, fw, p.attn, p.kv, p.dense, heads)
    if got is None:
        return None, f"attention: no {fw} MLA prefill table for {gpu_key} ({p.attn} attention, {p.kv} KV, " \
                     f"{p.dense} projections, {heads} heads/GPU)"
    ver, _, pts = got
    key = ("prefill", gpu_key, fw, p.attn, p.kv, p.dense, heads) + tuple(v[k] for k in _attn_inputs())
    if key not in _ATTN_MEMO:   # the same for every EP size of a GPU, precision and attention layout
        b, isl = (np.array([x[i] for x, _ in pts], dtype=float) for i in (0, 1))
        ref = dict(_dense_block(v), batch=b, s_q=isl, ctx=fast.prefill_context(isl=isl, f_hit=0.0), m_mb=1.0, q_a=1.0)
        per_layer = (np.asarray(fast.t_attn_of(ref), dtype=float) + np.asarray(fast.t_proj_of(ref), dtype=float)) \
            / v["n_layers"]
        q = per_layer / np.array([t for _, t in pts])
        _ATTN_MEMO[key] = frozen(log_time_grid(tuple(zip((x for x, _ in pts), q)), _LB, _LN).ravel())
    return _ATTN_MEMO[key], f"attention: {fw} {ver} {gpu_key} MLA prefill table (" \
                            f"{p.attn} attention, {p.kv} KV, {p.dense} projections, {heads} heads/GPU, no cached prefix" \
                            f"{_topk(model, 'prefill')})"


@lru_cache(maxsize=None)
def _attn_inputs() -> tuple:
    """The unit values the attention block's model time reads (all but batch and context)."""
    return tuple(sorted(set(fast.t_attn.args + fast.t_proj.args) - {"batch", "ctx", "s_q", "m_mb", "q_a"}))


_ATTN_MEMO: dict = {}


@lru_cache(maxsize=256)
def _allreduce_measured(gpu_key, fw, gpus):
    """(version, GPU count measured nearest to ``gpus`` in log2, elements, seconds) or ``None``."""
    got = {g: allreduce_points(gpu_key, fw, g) for g in (2, 4, 8, 16, 32, 64, 72)}
    got = {g: p for g, p in got.items() if p is not None}
    if not got:
        return None
    near = min(got, key=lambda g: (abs(math.log2(g) - math.log2(gpus)), g))
    ver, _, pts = got[near]
    return ver, near, np.array([e for e, _ in pts], dtype=float), np.array([t for _, t in pts])


def _allreduce(gpu_key, fw, gpus, v):
    return _allreduce_rate(gpu_key, fw, gpus, v["e_ar"], v["BW_nv"], v["t_ar_lat"])


@lru_cache(maxsize=1024)
def _allreduce_rate(gpu_key, fw, gpus, e_ar, bw_nv, t_ar_lat):
    got = _allreduce_measured(gpu_key, fw, gpus)
    if got is None:
        return None, f"no {fw} all-reduce table for {gpu_key}"
    ver, near, elems, seconds = got
    model = 2 * (gpus - 1) / gpus * elems * BF16_BYTES / (e_ar * bw_nv) + t_ar_lat
    return frozen(_on_grid(elems, np.log(model / seconds), _LE)), \
        f"{fw} {ver} {gpu_key} all-reduce table ({near} GPUs)"


def build(model, gpu, layout, phase: str, values: dict, attention: bool = True) -> tuple[dict, float, list]:
    """The unit's measured curves for ``layout.framework``: ``(updates to values, kernels per step the
    measured times already include, label parts)``; nothing for the ``deepseek`` framework; no attention
    curve where ``attention`` is false (a DSA module table was read: :mod:`.curves_dsa`)."""
    fw = layout.framework
    upd: dict = {}
    if fw == "deepseek":
        return upd, 0.0, []
    labels, drop = [], 0.0
    if model.attention == "mla":   # a GQA model's dense GEMMs and attention: :mod:`.curves_gqa`
        dq, why = carried(fw, gpu.key, lambda f: dense_rate(gpu.key, f, layout.precision.dense, tuple(
            (1, n, k) for n, k in GEMM_SHAPES), values)) \
            if (model.h, model.n_heads) == DEEPSEEK_V3_MLA[:2] else (None, "dense GEMMs: no table for this model's shapes")
        labels.append(why)
        if dq is not None:
            upd["dq"] = dq
            drop += 2 * model.n_dense + 2 * (model.n_layers - model.n_dense) * bool(model.is_moe) + 1
        if attention:
            aq, why = carried(fw, gpu.key, lambda f: _attention(model, gpu.key, f, layout, values, phase))
            labels.append(why)
            if aq is not None:
                upd["aq" if phase == "decode" else "pq"], upd["a_mod"] = aq, 1.0
            drop += _ATTN_KERNELS * model.n_layers if aq is not None else _PROJ_GEMMS * model.n_layers * (dq is not None)
    if layout.attn_tp > 1:
        rq, why = carried(fw, gpu.key, lambda f: _allreduce(gpu.key, f, layout.attn_tp, values))
        labels.append(f"attention-TP all-reduce: {why}")
        if rq is not None:
            upd["rq"] = rq
    if layout.moe_all_reduce and model.is_moe:
        Rq, why = carried(fw, gpu.key, lambda f: _allreduce(gpu.key, f, layout.ep, values))
        labels.append(f"MoE-TP all-reduce: {why}" if layout.moe_tp > 1 else f"{MOE_ALL_REDUCE}: {why}")
        if Rq is not None:
            upd["Rq"] = Rq
    return upd, drop, labels


def _scalar_position(x: float, log_grid) -> tuple[int, float]:
    """(index, weight) of ``x`` between two points of ``log_grid`` (held at the ends)."""
    lx = math.log(x) if x > 1.0 else 0.0
    step = _UNIFORM.get(id(log_grid))
    if step is not None:   # evenly spaced in log: the position without a search
        pos = (lx - log_grid[0]) / step
        i = min(max(int(pos), 0), len(log_grid) - 2)
        w = pos - i
    else:
        i = min(max(bisect.bisect_right(log_grid, lx) - 1, 0), len(log_grid) - 2)
        w = (lx - log_grid[i]) / (log_grid[i + 1] - log_grid[i])
    return i, (0.0 if w < 0.0 else 1.0 if w > 1.0 else w)


def _positions(x, log_grid):
    pos = np.interp(np.log(np.maximum(np.asarray(x, dtype=float), 1.0)), log_grid, np.arange(len(log_grid), dtype=float))
    i0 = np.clip(np.floor(pos).astype(int), 0, len(log_grid) - 2)
    return i0, pos - i0


def _gather(table, idx):
    if table.ndim == 1:
        return table[idx]
    flat = table.reshape(table.shape[0], -1)
    return flat[np.arange(flat.shape[0]).reshape((-1,) + (1,) * (idx.ndim - 1)), idx]


def rate(curve, tokens, grid=None):
    """exp of the stored log rate ``curve`` on :data:`GRID_TOKENS` (or ``grid``'s logs, e.g. the
    all-reduce's :data:`GRID_ELEMENTS`) at ``tokens`` (held at the ends); 1 where the curve is all
    zeros.  ``curve``: shape (K,) for one unit, (units, 1, 1, K) stacked."""
    lg = _LT if grid is None else grid
    if isinstance(tokens, float) and getattr(curve, "ndim", 0) == 1:   # one configuration: no array machinery
        values, curved = _listed(curve)
        if not curved:
            return 1.0
        i, w = _scalar_position(tokens, _LISTS.get(id(lg)) or [float(x) for x in lg])
        return math.exp(values[i] * (1 - w) + values[i + 1] * w)
    q = np.asarray(curve, dtype=float)
    if not q.any():
        return 1.0
    if q.ndim == 1:
        return np.exp(np.interp(np.log(np.maximum(tokens, 1.0)), lg, q))
    i0, w = _positions(np.broadcast_to(tokens, np.broadcast_shapes(np.shape(tokens), q.shape[:-1])), lg)
    return np.exp(_gather(q, i0) * (1 - w) + _gather(q, i0 + 1) * w)


def rate2(curve, batch, ctx, grid=None):
    """The attention rate: bilinear in (log requests, log context) on (:data:`GRID_BATCH`,
    :data:`GRID_CTX`), or with ``grid`` (:data:`LOG_NEW`) in place of the context's logs (prefill:
    new tokens per request), held at the ends; 1 where the curve is all zeros."""
    lc = _LC if grid is None else grid
    n = len(lc)
    if isinstance(batch, float) and isinstance(ctx, float) and getattr(curve, "ndim", 0) == 1:   # one configuration
        q, curved = _listed(curve)
        if not curved:
            return 1.0
        ib, wb = _scalar_position(batch, _LISTS[id(_LB)])
        ic, wc = _scalar_position(ctx, _LISTS[id(lc)])
        k = ib * n + ic
        lo = q[k] * (1 - wc) + q[k + 1] * wc
        hi = q[k + n] * (1 - wc) + q[k + n + 1] * wc
        return math.exp(lo * (1 - wb) + hi * wb)
    q = np.asarray(curve, dtype=float)
    if not q.any():
        return 1.0
    shape = np.broadcast_shapes(np.shape(batch), np.shape(ctx), q.shape[:-1])
    ib, wb = _positions(np.broadcast_to(batch, shape), _LB)
    ic, wc = _positions(np.broadcast_to(ctx, shape), lc)
    g = (lambda i, j: _gather(q, i * n + j))
    lo = g(ib, ic) * (1 - wc) + g(ib, ic + 1) * wc
    hi = g(ib + 1, ic) * (1 - wc) + g(ib + 1, ic + 1) * wc
    return np.exp(lo * (1 - wb) + hi * wb)


def _listed(curve) -> tuple:
    """(the stored curve as a list of floats, whether it is not all zeros), once per curve: one
    configuration reads it without numpy (the curves are read-only and live in their units)."""
    got = _LISTED.get(id(curve))
    if got is None or got[0] is not curve:
        if len(_LISTED) >= _LISTED_MOST:   # bounded: units built and dropped leave no growing cache
            _LISTED.clear()
        got = _LISTED[id(curve)] = (curve, curve.tolist(), bool(np.any(curve)))
    return got[1], got[2]


_LISTED: dict = {}
_LISTED_MOST = 16384


def frozen(curve) -> np.ndarray:
    """A stored curve as a read-only float array (converted once per unit, not per evaluation)."""
    a = np.array(curve, dtype=float)
    a.setflags(write=False)
    return a


#: every curve of a unit that reads no table: zeros (q = 1), shared by every such unit
NO_CURVES = {k: frozen((0.0,) * n) for k, n in CURVE_KEYS.items()}
