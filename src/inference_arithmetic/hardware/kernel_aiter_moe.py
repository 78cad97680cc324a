"""Measured grouped-MoE times on AMD GPUs from AITER's fused-MoE tuner tables (``data/aiter_moe_kernels.csv.gz``).

AMD's AITER (github.com/ROCm/aiter, MIT licence; extraction and notice: ``scripts/extract_aiter_tables.py``,
``data/aiter_moe_kernels.yaml``) ships the result of its fused-MoE tuner: per (tokens, hidden, expert width,
experts, top-k) the fastest tuned two-stage fused MoE's measured time on one GPU holding every expert
(gate-up and down grouped GEMMs with the activation between them).  vLLM and SGLang on ROCm run AITER's fused
MoE, so the table is read for any serving framework on an AMD GPU, as AITER's dense GEMMs are
(:mod:`.kernel_aiter`); it enters the step model through the one MoE-curve rule
(:func:`.kernel_tables.moe_curve`, an efficiency relative to the model's own time at the measured setting).
Kernel measurements only: a calibration input, never a system-level serving measurement.

Rules (each stated in the curve's label, :func:`label`):

* kernel class: the book's MXFP4 experts as the GPU runs them, as for NVIDIA's tables
  (:func:`.model.dtypes.moe_flop_dtype`): FP8 activations (AITER's ``a8w4``) where the GPU has FP4 tensor
  cores (the MI355X; AMD's MLPerf v6.0 gpt-oss-120b submission runs this class: a quark MXFP4-weight,
  FP8-activation checkpoint with AITER's BF16-activation ``a16w4`` MoE switched off), BF16 activations
  (``a16w4``) where it has not.  Other dtypes: no table.
* shape: the stored shape with the same experts and top-k whose hidden size and expert width are the model's
  rounded up to a multiple of 256 (:data:`PAD`), read as stored: vLLM pads gpt-oss's MXFP4 hidden size so on
  ROCm (``vllm/model_executor/layers/fused_moe/layer.py``, ``maybe_roundup_hidden_size``: ``round_up(hidden_size,
  256)``), and AITER tunes gpt-oss-120b's 2880 x 2880 experts at 3072 x 3072 (no row at 2880), so the padded
  kernel's time is the time of the model's experts.  vLLM's MXFP4 method pads the expert width on ROCm only to a
  multiple of 128 (2944): the measured 3072 is up to 4 % more work than that kernel, so the rate leans slow by at
  most that.  No other stored shape is read.
* setting: one GPU holding every expert (EP 1), no expert TP (AITER's narrower expert widths are slices whose
  TP size the table does not name: not read), the tokens entering the layer on that GPU.
"""
from __future__ import annotations

import csv
import gzip
import io
from functools import lru_cache

from inference_arithmetic.core.cited import DATA
from inference_arithmetic.hardware.gpus import gpu
from inference_arithmetic.hardware.aiter_gpus import AITER_COMMIT, AITER_GPUS, is_aiter_gpu

__all__ = ["PAD", "aiter_moe_class", "aiter_moe_points", "label"]

#: the multiple the ROCm MoE kernels pad hidden size and expert width to (the module's header)
PAD = 256


@lru_cache(maxsize=None)
def _rows() -> dict:
    """(gfx, cu_num, class, (hidden, inter, experts, topk)) -> sorted [(tokens, seconds)]."""
    out: dict = {}
    with io.TextIOWrapper(gzip.open(DATA / "aiter_moe_kernels.csv.gz"), encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            shape = (int(r["hidden"]), int(r["inter"]), int(r["experts"]), int(r["topk"]))
            out.setdefault((r["gfx"], r["cu_num"], r["dtype"], shape), []).append((int(r["tokens"]), float(r["us"]) * 1e-6))
    return {k: sorted(v) for k, v in out.items()}


def aiter_moe_class(gpu_key: str, dtype: str) -> str | None:
    """AITER's fused-MoE class for routed experts stored in the book's ``dtype`` on ``gpu_key``, or ``None``."""
    if dtype != "mxfp4":
        return None
    return "a8w4" if gpu(gpu_key).dense_fp4 is not None else "a16w4"


def _padded(shape: tuple) -> tuple:
    """``shape`` (hidden, expert width, experts, top-k) as the ROCm kernels run it (:data:`PAD`)."""
    h, d_e, n_exp, top_k = (int(x) for x in shape)
    return (-(-h // PAD) * PAD, -(-d_e // PAD) * PAD, n_exp, top_k)


@lru_cache(maxsize=None)
def aiter_moe_points(gpu_key: str, dtype: str, shape: tuple, moe_tp: int = 1) -> tuple | None:
    """``(class, stored shape, ((tokens, seconds), ...))``: the grouped-MoE time of one layer of ``shape``
    (hidden, expert width, experts, top-k) at EP 1 on ``gpu_key``, by the module's rules; ``None`` where the
    table has none (not an AMD GPU, another dtype, a shape not measured, expert TP)."""
    if not is_aiter_gpu(gpu_key) or int(moe_tp) != 1:
        return None
    kind = aiter_moe_class(gpu_key, dtype)
    gfx, cu, reads = AITER_GPUS[gpu_key]
    key = (gfx, cu, kind, _padded(shape))
    if kind is None or reads != gpu_key or key not in _rows():   # the MI325X reads the MI300X's rows: not carried
        return None
    return kind, key[3], tuple(_rows()[key])


def label(kind: str, stored: tuple, shape: tuple) -> str:
    """The rule in words for a curve of ``shape`` read from the stored (padded) shape ``stored``."""
    pad = "" if tuple(stored) == tuple(shape) else f", the padded {stored[0]}x{stored[1]} experts the ROCm kernels run"
    return f"AITER {AITER_COMMIT} fused-MoE table ({kind}{pad}), for any framework on an AMD GPU"
