"""Measured GQA decode attention and dense GEMMs at any shape, per GPU and serving framework.

Read from ``data/aiconfigurator_kernels.csv.gz`` (NVIDIA's kernel microbenchmarks in aiconfigurator-core,
Apache-2.0; extraction and notice: ``scripts/extract_kernel_tables.py``), like :mod:`.kernel_curves`, by
the same rules (the framework's newest version that measured the setting, the median of repeats, the
fastest kernel source).  Kernel measurements only: a calibration input.

* :func:`gqa_points`: one layer's GQA/MHA decode attention kernel (``generation_attention_perf``, full
  attention) at (query heads, KV heads, head dimension) per GPU and KV dtype, by (requests, context =
  isl + step).  It is the attention kernel alone: the projections are dense GEMMs.
* :func:`gqa_context_points`: one layer's GQA/MHA prefill attention kernel (``context_attention_perf``,
  full attention, BF16 compute, no cached prefix) by (requests, new tokens per request).
* :func:`gemm_time`: a dense GEMM (m x k) @ (k x n) at any (n, k) inside the table's grid (powers of two
  and their neighbours, 32 to 65,536): the measured time at the bracketing grid shapes, interpolated
  bilinearly in (log n, log k) of log time at each measured m: the one reader of dense GEMMs, for
  DeepSeek-V3's shapes and every other model's (:func:`.step.curves.dense_rate`).  The extraction
  keeps the grid shapes around DeepSeek-V3's GEMMs and the shipped GQA models' (Llama 3.1 8B/70B/405B,
  gpt-oss-120b at attention TP 1-8); elsewhere a corner is missing and the answer is ``None``.  An AMD GPU
  reads AITER's tuned-GEMM table (:mod:`.kernel_aiter`) by the same rule, for any framework; its shapes are
  a set tuned per model, not a grid, so where no four stored shapes bracket (n, k) the nearest stored
  shape's fraction of the roofline is carried (:func:`.kernel_aiter.nearest_time`).

Rows not read (:data:`HOST_BOUND`): vLLM's block-FP8 linear rows (kernel sources
``DeepGemmFp8BlockScaledMMKernel`` and, on H100/H200 at m <= 16, ``FlashInferFp8BlockScaledMMKernel``) hold a flat floor of about 0.06-0.09 ms on H100/H200 and 0.2-0.6 ms on
Blackwell from m = 1 up to thousands of tokens, where the same DeepGEMM kernel in SGLang's and
TensorRT-LLM's collectors takes 0.012-0.02 ms at m <= 128 on the same GPU and shape (2.7x to 35x less).  A floor flat in m is the
wrapper's host path timed outside a CUDA graph (a serving engine replays decode in CUDA graphs), not the
kernel: those rows are left out, so a vLLM unit finds no block-FP8 GEMM table and the carry rule
(:func:`.kernel_tables.carried_read`) reads SGLang's rows of the same kernel (tested in
``tests/test_kernel_gqa.py`` on every GPU).
"""
from __future__ import annotations

import bisect
import math
from functools import lru_cache

import numpy as np

from inference_arithmetic.hardware.kernel_aiter import aiter_grid, is_aiter_gpu, nearest_time
from inference_arithmetic.hardware.kernel_curves import GEMM_DTYPE, KV_DTYPE, _reduce
from inference_arithmetic.hardware.kernel_table_file import table_rows

__all__ = ["gqa_points", "gqa_context_points", "gemm_time", "log_time_grid", "HOST_BOUND"]

#: (framework, kernel source) of dense-GEMM rows whose times are host-bound, not kernel times (module docstring)
HOST_BOUND = frozenset({("vllm", "DeepGemmFp8BlockScaledMMKernel"), ("vllm", "FlashInferFp8BlockScaledMMKernel")})


def log_time_grid(pts, log_rows, log_cols) -> np.ndarray:
    """Measured ``(((row, col), seconds), ...)`` (e.g. requests and context) as log seconds on the grid
    ``log_rows`` x ``log_cols`` (logs of the grid values): per measured row interpolated linearly in
    log col, then per grid col in log row; held at the ends."""
    by_row: dict = {}
    for (r, c), t in pts:
        by_row.setdefault(r, []).append((c, math.log(t)))
    rs = sorted(by_row)
    rows = np.array([np.interp(log_cols, np.log([c for c, _ in sorted(by_row[r])]), [y for _, y in sorted(by_row[r])])
                     for r in rs])
    return np.array([np.interp(log_rows, np.log(rs), rows[:, j]) for j in range(len(log_cols))]).T


@lru_cache(maxsize=256)
def gqa_points(gpu_key: str, framework: str, kv: str, heads: int, kv_heads: int, head_dim: int):
    """``(version, source file, (((requests, context), seconds), ...))`` of one layer's GQA decode
    attention with ``heads`` query and ``kv_heads`` KV heads of ``head_dim`` per GPU and KV cache ``kv``
    (book dtype name), or ``None``."""
    return _reduce(_gqa_rows("gqa_generation", gpu_key, framework, kv, heads, kv_heads, head_dim),
                   lambda r: (int(r["batch"]), int(r["isl"]) + int(r["step"])))


@lru_cache(maxsize=256)
def gqa_context_points(gpu_key: str, framework: str, kv: str, heads: int, kv_heads: int, head_dim: int):
    """``(version, source file, (((requests, new tokens per request), seconds), ...))`` of one layer's GQA
    prefill attention (BF16 compute, no cached prefix) with ``heads`` query and ``kv_heads`` KV heads of
    ``head_dim`` per GPU and KV cache ``kv`` (book dtype name), or ``None``."""
    return _reduce(_gqa_rows("gqa_context", gpu_key, framework, kv, heads, kv_heads, head_dim),
                   lambda r: (int(r["batch"]), int(r["isl"])))


def _gqa_rows(op, gpu_key, framework, kv, heads, kv_heads, head_dim):
    kv_t = KV_DTYPE.get(kv)
    return (r for r in table_rows(op, gpu_key, framework)
            if r["kv_dtype"] == kv_t and int(r["num_heads"]) == heads and int(r["kv_heads"]) == kv_heads
            and int(r["head_dim"]) == head_dim)


@lru_cache(maxsize=64)
def _gemm_grid(gpu_key: str, framework: str, dtype: str):
    """(version, source file, {(n, k): {m: seconds}}) of every stored GEMM at the table's dtype ``dtype``
    (an AMD GPU: AITER's, :mod:`.kernel_aiter`, whatever the framework)."""
    if is_aiter_gpu(gpu_key):
        return aiter_grid(gpu_key, dtype) if dtype else None
    got = _reduce((r for r in table_rows("gemm", gpu_key, framework)
                   if r["dtype"] == dtype and (framework, r["kernel_source"]) not in HOST_BOUND),
                  lambda r: (int(r["n"]), int(r["k"]), int(r["m"])))
    if got is None:
        return None
    ver, src, pts = got
    grid: dict = {}
    for (n, k, m), t in pts:
        grid.setdefault((n, k), {})[m] = t
    return ver, src, grid


def _bracket(x: int, values: list) -> tuple[int, int]:
    i = bisect.bisect_left(values, x)
    if i < len(values) and values[i] == x:
        return x, x
    return (values[i - 1], values[i]) if 0 < i < len(values) else (None, None)


@lru_cache(maxsize=1024)
def gemm_time(gpu_key: str, framework: str, dtype: str, n: int, k: int):
    """``(version, ((m, seconds), ...))`` of the dense GEMM (m x k) @ (k x n) at the book's dense dtype
    ``dtype``: measured where (n, k) is stored, else bilinear in (log n, log k) of log time between the
    four bracketing stored shapes at the m they all measured; ``None`` where a corner is missing (an AMD
    GPU's AITER table, a set of model shapes rather than a grid: the nearest stored shape's fraction of
    the roofline, :func:`.kernel_aiter.nearest_time`)."""
    got = _gemm_grid(gpu_key, framework, GEMM_DTYPE.get(dtype))
    if got is None:
        return None
    ver, _, grid = got
    if (n, k) in grid:
        return ver, tuple(sorted(grid[(n, k)].items()))
    (n0, n1), (k0, k1) = _bracket(n, sorted({a for a, _ in grid})), _bracket(k, sorted({b for _, b in grid}))
    corners = [(a, b) for a in {n0, n1} for b in {k0, k1}]
    if None in (n0, k0) or any(c not in grid for c in corners):
        return (ver, nearest_time(gpu_key, GEMM_DTYPE[dtype], grid, n, k)) if is_aiter_gpu(gpu_key) else None
    ms = sorted(set.intersection(*(set(grid[c]) for c in corners)))
    wn = 0.0 if n0 == n1 else (math.log(n) - math.log(n0)) / (math.log(n1) - math.log(n0))
    wk = 0.0 if k0 == k1 else (math.log(k) - math.log(k0)) / (math.log(k1) - math.log(k0))

    def log_t(a, b, m):
        return math.log(grid[(a, b)][m])
    out = tuple((m, math.exp((1 - wn) * ((1 - wk) * log_t(n0, k0, m) + wk * log_t(n0, k1, m))
                             + wn * ((1 - wk) * log_t(n1, k0, m) + wk * log_t(n1, k1, m)))) for m in ms)
    if not out and is_aiter_gpu(gpu_key):   # AITER's shapes tuned at different m: none shared by the corners
        return ver, nearest_time(gpu_key, GEMM_DTYPE[dtype], grid, n, k)
    return (ver, out) if out else None
