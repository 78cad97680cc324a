"""Measured GQA prefill attention on AMD gfx942 from AITER's attention-forward benchmark (``data/kernels.yaml``).

AITER's ``op_tests/cpp/mha/README.md`` (family ``aiter_fmha_fwd``, transcribed by
``scripts/extract_aiter_fmha.py``) gives the TFLOP/s of its assembly attention-forward kernel (fmha_v3,
BF16, causal) on the MI300X at GQA shapes (32 or 64 query heads, 8 or 4 KV heads, head dimension 128,
batch 1-8, equal query and key lengths 1,024-16,384), FLOP counted over the unmasked area
(4 b h s^2 d / 2).  vLLM's ROCm AITER attention backend and SGLang on ROCm call this family for prefill.
Kernel measurements only: a calibration input.

Rules (each stated in the unit's label, :func:`label`):

* shape: the kernel's grid is one tile row per (request, query head, block of new tokens), so the unit's
  (requests b, query heads h per GPU, new tokens s) reads the rate measured at the same b h and s: the
  measured rows are placed at b h / h requests of the unit's heads (duplicates at one (b h, s), different KV
  heads or splits of b h, take the median: compute-bound, they differ by a few per cent in the table);
  between them the caller interpolates log-log, beyond them the rate at the nearest measured end is held.
* KV heads and KV dtype: the table measures GQA ratios 4, 8 and 16 at one rate within a few per cent; a
  prefill chunk without a cached prefix attends to its own freshly projected BF16 keys and values, so the
  KV cache's dtype does not enter (BF16 attention compute only; head dimension 128 only, else no table).
* MI325X (gfx942, 304 CUs like the MI300X): the MI300X's rate times the ratio of the two GPUs' compute roofs
  (:func:`.kernel_aiter.compute_roof`, AMD's measured max-achievable BF16 GEMM rates), the carry the dense
  GEMM tables use; other GPUs: no rows, no table.
"""
from __future__ import annotations

from functools import lru_cache

from inference_arithmetic.core.stats import median
from inference_arithmetic.hardware.aiter_gpus import AITER_COMMIT, AITER_GPUS
from inference_arithmetic.hardware.efficiency import kernel_rows
from inference_arithmetic.hardware.kernel_aiter import compute_roof

__all__ = ["FAMILY", "fmha_context_points", "label"]

#: the kernels.yaml family of AITER's attention-forward benchmark rows
FAMILY = "aiter_fmha_fwd"


@lru_cache(maxsize=None)
def _rates(gpu_key: str, head_dim: int) -> dict:
    """{(request-head pairs b h, new tokens s): TFLOP/s} of the causal rows measured on ``gpu_key``."""
    got: dict = {}
    for r in kernel_rows(FAMILY, lambda r: r["gpu"] == gpu_key and r["hdim"] == head_dim
                         and r["seqlen_q"] == r["seqlen_kv"]):
        got.setdefault((r["batch"] * r["q_heads"], r["seqlen_q"]), []).append(float(r["tflops"]))
    return {k: median(v) for k, v in sorted(got.items())}


@lru_cache(maxsize=256)
def fmha_context_points(gpu_key: str, heads: int, head_dim: int):
    """``(version, source, (((requests, new tokens per request), seconds), ...))`` of one layer's causal BF16
    GQA prefill attention with ``heads`` query heads of ``head_dim`` per GPU on ``gpu_key`` (no cached
    prefix), from AITER's measured rates (module docstring), or ``None`` where nothing is measured."""
    if gpu_key not in AITER_GPUS or heads < 1:
        return None
    own = AITER_GPUS[gpu_key][2]
    rates = _rates(own, head_dim)
    if not rates:
        return None
    scale = compute_roof(gpu_key, "bfloat16") / compute_roof(own, "bfloat16")
    pts = []
    for (bh, s), tflops in rates.items():
        b = bh / heads
        flop = 2.0 * b * heads * s * s * head_dim          # 4 b h s^2 d over the causal half
        pts.append(((b, s), flop / (tflops * scale * 1e12)))
    return AITER_COMMIT, "op_tests/cpp/mha/README.md", tuple(pts)


def label(gpu_key: str, heads: int, head_dim: int) -> str:
    """The rule the unit's prefill attention reads AITER's benchmark by, in words."""
    rates = _rates(AITER_GPUS[gpu_key][2], head_dim)
    lo, hi = min(s for _, s in rates), max(s for _, s in rates)
    carry = "" if AITER_GPUS[gpu_key][2] == gpu_key else \
        f", the MI300X's rate carried by the ratio of measured BF16 GEMM roofs ({gpu_key} / MI300X)"
    return (f"attention: AITER {AITER_COMMIT} fmha_v3 causal BF16 attention-forward benchmark (MI300X, "
            f"{len(rates)} shapes, aiter-mha-readme){carry}: {heads} query heads of "
            f"{head_dim} per GPU read at the same request x query-head pairs and new tokens, log-log interpolated, "
            f"held beyond the measured {lo:,}-{hi:,} tokens, KV dtype not entering (fresh BF16 keys), no cached prefix")
