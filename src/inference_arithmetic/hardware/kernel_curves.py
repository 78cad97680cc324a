"""Measured dense-GEMM, MLA-decode and all-reduce latencies per GPU and serving framework.

Read from ``data/aiconfigurator_kernels.csv.gz`` (NVIDIA's kernel microbenchmarks in
aiconfigurator-core, Apache-2.0; extraction and notice: ``scripts/extract_kernel_tables.py``),
like the grouped MoE GEMMs of :mod:`.kernel_tables`.  Kernel measurements only: a calibration
input, never a system-level serving measurement.

Rules, the same for every table (a curve is a sorted tuple of measured points, seconds):

* the framework's newest version that measured the setting on that GPU;
* repeated rows of one kernel source: their median; several kernel sources (e.g. SGLang's and
  vLLM's eager and CUDA-graph all-reduce, TensorRT-LLM's GEMM backends): the fastest at each point
  (a framework runs its faster kernel);
* no row for the (GPU, framework, setting): ``None``, and the caller falls back to DeepSeek's
  kernels by the transfer rule of :mod:`.efficiency` and says so in its ``kernels`` label.

Settings (dense GEMMs: :mod:`.kernel_gqa`, any shape on the table's grid): :func:`mla_points` (KV dtype, projection
GEMM dtype, query heads per GPU) by (requests, context = isl + step) of
``mla_generation_module_perf``, the whole decode attention block (down-projection, q_b, the absorbed
BMMs, the attention kernel, o_proj); :func:`mla_context_points` (the same settings) by (requests, new
tokens per request = isl) of ``mla_context_module_perf``, the whole prefill attention block
(down-projection, q_b, kv_b, the context attention kernel, o_proj), measured without a cached prefix
(``step`` = 0 in every DeepSeek-V3 row); :func:`dsa_points` and :func:`dsa_context_points` (KV dtype, projection
GEMM dtype, query heads per GPU) the same of DeepSeek-V3.2's whole sparse attention module
(``dsa_generation_module_perf`` by (requests, context = isl + step), ``dsa_context_module_perf`` by (requests, new
tokens) at ``step`` 0: the projections, the lightning indexer's projections, logits and top-k, sparse MLA over the
top-k, o_proj; attention compute BF16 in every row); :func:`allreduce_points` (GPU count) by message size in
elements (BF16).
"""
from __future__ import annotations

from functools import lru_cache

from inference_arithmetic.core.stats import median
from inference_arithmetic.hardware.kernel_table_file import _version_key, table_rows

__all__ = ["mla_points", "mla_context_points", "dsa_points", "dsa_context_points", "DSA_HEADS", "allreduce_points", "GEMM_DTYPE", "MLA_HEADS",
           "MLA_CONTEXT_HEADS", "KV_DTYPE"]

#: the book's dense-weight dtypes as the GEMM table names them: FP8 is block-scaled (DeepSeek's 128x128
#: checkpoints); ``fp8_tensor``, FP8 scaled per tensor (a dense GQA model's FP8 checkpoint, :mod:`.step.curves_gqa`)
GEMM_DTYPE = {"fp8": "fp8_block", "fp8_tensor": "fp8", "bf16": "bfloat16", "nvfp4": "nvfp4"}
#: query heads per GPU the MLA table measures (DeepSeek-V3: 128 heads, attention TP 1 and 8)
MLA_HEADS = (16, 128)
#: query heads per GPU the MLA context table is kept at (attention TP 16, 8, 4, 2, 1)
MLA_CONTEXT_HEADS = (8, 16, 32, 64, 128)
#: query heads per GPU the DSA module tables are kept at (DeepSeek-V3.2 at attention TP 1, 2, 4, 8, 16)
DSA_HEADS = (8, 16, 32, 64, 128)
#: the book's KV-cache dtypes as the MLA tables name them
KV_DTYPE = {"bf16": "bfloat16", "fp8": "fp8"}


def _reduce(rows, point) -> tuple:
    """(version, label source, sorted ((point, seconds), ...)) of the newest version among ``rows``:
    the median of repeats per kernel source, the fastest source at each point."""
    rows = list(rows)
    if not rows:
        return None
    version = max({r["version"] for r in rows}, key=_version_key)
    acc: dict = {}
    for r in rows:
        if r["version"] == version:
            acc.setdefault(point(r), {}).setdefault(r["kernel_source"], []).append(float(r["latency_ms"]) * 1e-3)
    pts = tuple(sorted((p, min(median(t) for t in src.values())) for p, src in acc.items()))
    source = next(r["source_file"] for r in rows if r["version"] == version)
    return version, source, pts


@lru_cache(maxsize=1024)
def mla_points(gpu_key: str, framework: str, kv: str, gemm: str, heads: int):
    """``(version, source file, (((requests, context), seconds), ...))`` of one layer's MLA decode
    attention block with ``heads`` query heads per GPU, KV cache ``kv`` and projection GEMMs ``gemm``
    (book dtype names), or ``None``."""
    return _reduce(_mla_rows("mla_generation", gpu_key, framework, kv, gemm, heads),
                   lambda r: (int(r["batch"]), int(r["isl"]) + int(r["step"])))


@lru_cache(maxsize=1024)
def mla_context_points(gpu_key: str, framework: str, attn: str, kv: str, gemm: str, heads: int):
    """``(version, source file, (((requests, new tokens per request), seconds), ...))`` of one layer's MLA
    prefill attention block (no cached prefix) with ``heads`` query heads per GPU, attention compute
    ``attn`` (the table's ``dtype``, mla_dtype), KV cache ``kv`` and projection GEMMs ``gemm`` (book dtype
    names), or ``None``."""
    a = KV_DTYPE.get(attn)
    return _reduce((r for r in _mla_rows("mla_context", gpu_key, framework, kv, gemm, heads)
                    if r["step"] == "0" and r["dtype"] == a), lambda r: (int(r["batch"]), int(r["isl"])))


@lru_cache(maxsize=1024)
def dsa_points(gpu_key: str, framework: str, kv: str, gemm: str, heads: int):
    """``(version, source file, (((requests, context), seconds), ...))`` of one layer's DSA decode attention
    module (indexer included) with ``heads`` query heads per GPU, KV cache ``kv`` and projection GEMMs ``gemm``
    (book dtype names), or ``None``."""
    return _reduce(_mla_rows("dsa_generation", gpu_key, framework, kv, gemm, heads),
                   lambda r: (int(r["batch"]), int(r["isl"]) + int(r["step"])))


@lru_cache(maxsize=1024)
def dsa_context_points(gpu_key: str, framework: str, kv: str, gemm: str, heads: int):
    """``(version, source file, (((requests, new tokens per request), seconds), ...))`` of one layer's DSA
    prefill attention module (indexer included, no cached prefix), as :func:`dsa_points`, or ``None``."""
    return _reduce((r for r in _mla_rows("dsa_context", gpu_key, framework, kv, gemm, heads) if r["step"] == "0"),
                   lambda r: (int(r["batch"]), int(r["isl"])))


def _mla_rows(op, gpu_key, framework, kv, gemm, heads):
    kv_t, g_t = KV_DTYPE.get(kv), GEMM_DTYPE.get(gemm)
    return (r for r in table_rows(op, gpu_key, framework)
            if r["kv_dtype"] == kv_t and r["gemm_type"] == g_t and int(r["num_heads"]) == heads)


@lru_cache(maxsize=256)
def allreduce_points(gpu_key: str, framework: str, gpus: int):
    """``(version, source file, ((elements, seconds), ...))`` of one BF16 all-reduce among ``gpus``
    GPUs, or ``None``."""
    rows = (r for r in table_rows("allreduce", gpu_key, framework)
            if r["dtype"] == "bfloat16" and int(r["num_gpus"]) == gpus)
    return _reduce(rows, lambda r: int(r["message_size"]))
