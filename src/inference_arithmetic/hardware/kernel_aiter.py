"""Measured dense-GEMM times on AMD GPUs from AITER's tuned-GEMM tables (``data/aiter_kernels.csv.gz``).

AMD's AITER (github.com/ROCm/aiter, MIT licence; extraction and notice: ``scripts/extract_aiter_tables.py``,
``data/aiter_kernels.yaml``) ships the result of its GEMM tuner: per GEMM shape (m, n, k) the fastest tuned
kernel's measured time on one GPU, gfx942 with 304 CUs (MI300X, MI325X) and gfx950 with 256 CUs (MI355X).
vLLM and SGLang on ROCm run AITER's kernels, so the table is read for any serving framework on an AMD GPU
(:func:`.kernel_gqa.gemm_time`, the one reader of dense GEMMs).  Kernel measurements only: a calibration
input, never a system-level serving measurement.

Rules (each stated in the ``kernels`` label, :func:`label`):

* kernel class: the book's FP8 dense weights read AITER's FP8 block-scale GEMMs (``a8w8_blockscale``: 1x128
  activation and 128x128 weight scales), the only FP8 class with gfx942/304 rows (its per-token rows are INT8);
  a per-tensor FP8 checkpoint (vLLM's hipBLASLt scaled GEMM) runs a different kernel, so this is the closest
  class measured, not the kernel itself (on the MI355X, where AITER tuned both, the block-scale GEMM takes a
  median 1.26-1.36 x the per-token FP8 GEMM's time at the 311 shapes both measured: FP8 predictions on the
  MI300X lean slow).  BF16 reads AITER's BF16 GEMMs (on gfx942 only gpt-oss-120b's attention shapes, m <= 128).
* each stored shape is read at the powers of two from 1 to 2^17 (:data:`M_READ`; AITER tunes each shape at
  its own list of m): inside its measured m range log time interpolated linearly in log m, outside it the
  measured end's fraction of the roofline held, as the step model holds a measured rate beyond its range.
* AITER tunes the shapes of the models it serves: a set of (n, k), not a grid.  A shape is read as stored,
  else bilinear in (log n, log k) between four stored shapes bracketing it (as every table), else from the
  stored shape nearest in (log n, log k), its measured time at each m scaled by the ratio of the two shapes'
  rooflines (:func:`roofline`): the nearest shape's fraction of the roofline is carried, as the step model
  carries a kernel's efficiency, not its time, where a table does not measure the setting.
* MI325X (gfx942, 304 CUs like the MI300X, higher sustained clock and HBM3E): the MI300X's measured times,
  each scaled by the ratio of the two GPUs' rooflines at that point, the compute roof AMD's measured
  max-achievable GEMM rate of each (``data/kernels.yaml``, amd-maf-blog), the memory roof each datasheet
  HBM bandwidth: the MI300X's fraction of the roofline carried to the MI325X.
"""
from __future__ import annotations

import csv
import gzip
import io
import math
from functools import lru_cache

import numpy as np

from inference_arithmetic.core.cited import DATA
from inference_arithmetic.hardware.aiter_gpus import AITER_COMMIT, AITER_GPUS, is_aiter_gpu
from inference_arithmetic.hardware.efficiency import measured_on
from inference_arithmetic.hardware.gpus import gpu

__all__ = ["AITER_GPUS", "AITER_COMMIT", "M_READ", "is_aiter_gpu", "aiter_grid", "compute_roof", "roofline", "nearest_time",
           "label"]

#: bytes per element of a table's kernel class: weights and activations in, the output (BF16)
_BYTES = {"fp8_block": 1, "fp8_per_token": 1, "bfloat16": 2}
#: the m at which every stored shape is read (powers of two, 1 to 2^17)
M_READ = tuple(2 ** i for i in range(18))
_BOOK_DTYPE = {"fp8_block": "fp8", "fp8_per_token": "fp8", "bfloat16": "bf16"}


@lru_cache(maxsize=None)
def _rows() -> dict:
    """(gfx, cu_num, kernel class) -> {(n, k): {m: seconds}} as measured (the file is read once per process)."""
    out: dict = {}
    with io.TextIOWrapper(gzip.open(DATA / "aiter_kernels.csv.gz"), encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            out.setdefault((r["gfx"], r["cu_num"], r["dtype"]), {}).setdefault((int(r["n"]), int(r["k"])), {})[
                int(r["m"])] = float(r["us"]) * 1e-6
    return out


@lru_cache(maxsize=None)
def compute_roof(gpu_key: str, dtype: str) -> float:
    """The compute roof (FLOP/s) of ``gpu_key`` at a table kernel class: AMD's measured max-achievable GEMM
    rate where ``kernels.yaml`` has one, else the datasheet dense peak."""
    book = _BOOK_DTYPE[dtype]
    maf = [r["tflops"] for r in measured_on(gpu_key) if r["kind"] == "gemm_max_achievable" and r.get("dtype") == book]
    return max(maf) * 1e12 if maf else gpu(gpu_key).flops(book)


def roofline(gpu_key: str, dtype: str, m: int, n: int, k: int) -> float:
    """The roofline time (s) of the GEMM (m x k) @ (k x n) of kernel class ``dtype`` on ``gpu_key``: the larger
    of its FLOP over the compute roof (:func:`compute_roof`) and its bytes (weights, activations, BF16
    output) over the datasheet HBM bandwidth."""
    b = _BYTES[dtype]
    nbytes = n * k * b + m * k * b + 2 * m * n
    return max(2.0 * m * n * k / compute_roof(gpu_key, dtype), nbytes / gpu(gpu_key).hbm_bandwidth)


@lru_cache(maxsize=64)
def aiter_grid(gpu_key: str, dtype: str):
    """(version, source, {(n, k): {m: seconds}}) of the AITER GEMMs of kernel class ``dtype`` as
    ``gpu_key`` runs them (the MI325X: the MI300X's, carried by the roofline ratio), or ``None``."""
    gfx, cu, own = AITER_GPUS[gpu_key]
    grid = _rows().get((gfx, cu, dtype))
    if not grid:
        return None
    grid = {(n, k): _powers_of_two(own, dtype, n, k, pts) for (n, k), pts in grid.items()}
    if own != gpu_key:
        grid = {(n, k): {m: t * roofline(gpu_key, dtype, m, n, k) / roofline(own, dtype, m, n, k)
                         for m, t in pts.items()} for (n, k), pts in grid.items()}
    return f"AITER {AITER_COMMIT}", f"aiter_kernels.csv.gz ({gfx}, {cu} CUs)", grid


def _powers_of_two(gpu_key: str, dtype: str, n: int, k: int, pts: dict) -> dict:
    """{m: seconds} of one stored shape at every m of :data:`M_READ`: inside its measured m range log time
    interpolated linearly in log m, outside it the measured end's fraction of the roofline held (AITER tunes
    each shape at its own list of m: on one m set, shapes can be summed and bracketed)."""
    ms = sorted(pts)
    logs = [math.log(pts[m]) for m in ms]
    out = {}
    for m in M_READ:
        end = min(max(m, ms[0]), ms[-1])
        t = math.exp(float(np.interp(math.log(end), np.log(ms), logs)))
        out[m] = t if end == m else t * roofline(gpu_key, dtype, m, n, k) / roofline(gpu_key, dtype, end, n, k)
    return out


def nearest_time(gpu_key: str, dtype: str, grid: dict, n: int, k: int) -> tuple:
    """((m, seconds), ...) of the GEMM at (n, k) from the stored shape of ``grid`` nearest in (log n, log k),
    each time scaled by the ratio of the two shapes' rooflines at that m."""
    near = min(grid, key=lambda s: ((math.log(s[0] / n)) ** 2 + (math.log(s[1] / k)) ** 2, s))
    a, b = near
    return tuple((m, t * roofline(gpu_key, dtype, m, n, k) / roofline(gpu_key, dtype, m, a, b))
                 for m, t in sorted(grid[near].items()))


def label(gpu_key: str, dtype: str) -> str:
    """The AITER reading of ``gpu_key``'s dense GEMMs at the table's kernel class ``dtype``, in words."""
    what = ("FP8 block-scale GEMMs (a8w8_blockscale, the FP8 class AITER measured on gfx942 and the one a block-scale "
            "checkpoint runs; a per-tensor FP8 checkpoint such as Llama's runs another kernel, vLLM's torch._scaled_mm "
            "on hipBLASLt: the closest class measured)" if dtype == "fp8_block" else f"{dtype} GEMMs")
    gfx, cu, own = AITER_GPUS[gpu_key]
    carried = (" carried from the MI300X by the ratio of the rooflines (AMD's measured max-achievable GEMM rates, "
               "datasheet HBM)" if own != gpu_key else "")
    top = max((max(pts) for pts in _rows().get((gfx, cu, dtype), {}).values()), default=0)
    held = f"; measured at m <= {top} only: larger m hold the rate at the largest" if 0 < top < 1024 else ""
    return (f"AITER {AITER_COMMIT} tuned-GEMM table ({gfx}, {cu} CUs{carried}), "
            f"{what}, for any framework on an AMD GPU; a shape measured as stored, bilinear in log n and log k "
            f"between four stored shapes, else the nearest stored shape's fraction of the roofline{held}")
