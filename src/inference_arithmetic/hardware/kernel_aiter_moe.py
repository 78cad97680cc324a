"""Measured grouped-MoE times on AMD GPUs from AITER's fused-MoE tuner tables (``data/aiter_moe_kernels.csv.gz``).

AMD's AITER (github.com/ROCm/aiter, MIT licence; extraction and notice: ``scripts/extract_aiter_tables.py``,
``data/aiter_moe_kernels.yaml``) ships the result of its fused-MoE tuner: per (tokens, hidden, expert width,
experts, top-k) the fastest tuned two-stage fused MoE's measured time on one GPU holding those experts
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
  (``a16w4``) where it has not; FP8 experts AITER's FP8 1x128/128x128 block-scale class (``fp8_block``: on gfx942
  e4m3fnuz, the class vLLM's AITER experts run for a block-quantised FP8 checkpoint such as DeepSeek's); BF16
  experts ``bfloat16``.
* shape: the stored shape with the same experts and top-k whose hidden size and expert width are the model's
  rounded up to a multiple of 256 (:data:`PAD`), read as stored at EP 1: vLLM pads gpt-oss's MXFP4 hidden size so
  on ROCm (``vllm/model_executor/layers/fused_moe/layer.py``, ``maybe_roundup_hidden_size``: ``round_up(hidden_size,
  256)``), and AITER tunes gpt-oss-120b's 2880 x 2880 experts at 3072 x 3072 (no row at 2880), so the padded
  kernel's time is the time of the model's experts.  vLLM's MXFP4 method pads the expert width on ROCm only to a
  multiple of 128 (2944): the measured 3072 is up to 4 % more work than that kernel, so the rate leans slow by at
  most that.
* else an expert-parallel GPU's local shape: the stored shape of the same hidden size and expert width holding
  E/EP routed experts plus s = 0 or 1 fused shared experts, each token routed to top-k + s of them (AITER's
  DeepSeek-V3 row: 33 experts, top-9 = EP 8's 32 routed experts and the shared one, fused as SGLang and vLLM on
  ROCm fuse it): read as the EP-size curve at the same tokens per expert (the group's tokens N = T (k + s) E /
  ((E/EP + s) k) for the table's T) and the routed experts' share of the time (E/EP of the E/EP + s equal experts).
* else (MXFP4 experts on a GPU without FP4 tensor cores, gfx942): vLLM's ROCm MXFP4 MoE on gfx942 is
  ``triton_kernels``' ``matmul_ogs`` (W4A16: MXFP4 weights dequantised to BF16 inside the kernel, BF16 matrix
  cores; AITER's MXFP4 experts are gfx950-only: ``rocm_aiter_fused_moe.py``, ``AiterExperts._supports_quant_scheme``
  refuses ``kMxfp4Static`` unless ``on_gfx950()``, and the MXFP4 oracle falls to the Triton backend), which no
  gfx942 table measures.  The closest measured class is AITER's gfx942 BF16 fused MoE (BF16 activations and matrix
  cores): its stored shape with the same number of experts nearest in (log hidden, log expert width), its
  fraction of the roofline (:func:`roofline`) at each measured point carried to the model's padded shape at the
  same tokens per expert, at the W4A16 roofline (MXFP4 weight bytes, the BF16 rate).
* setting: no expert TP (AITER's narrower expert widths are slices whose TP size the table does not name: not
  read), the tokens entering the layer.
* MI325X (gfx942, 304 CUs like the MI300X): the MI300X's curve, each time scaled by the ratio of the two GPUs'
  rooflines at that point (:func:`roofline`; AMD's measured max-achievable GEMM rates, datasheet HBM), as the dense
  GEMMs carry it (:mod:`.kernel_aiter`).

The roofline of a fused-MoE point (:func:`roofline`): the larger of its FLOP (2 x 3 x hidden x width per token-
expert pair) over the class's compute roof (:func:`.kernel_aiter.compute_roof`) and the weights of the experts it
touches, E (1 - (1 - k/E)^T) under the tuner's uniformly random routing, over the datasheet HBM bandwidth.
"""
from __future__ import annotations

import csv
import gzip
import io
import math
from functools import lru_cache

from inference_arithmetic.core.cited import DATA
from inference_arithmetic.hardware.gpus import gpu
from inference_arithmetic.hardware.aiter_gpus import AITER_COMMIT, AITER_GPUS, is_aiter_gpu
from inference_arithmetic.hardware.kernel_aiter import compute_roof
from inference_arithmetic.model.dtypes import BYTES

__all__ = ["PAD", "aiter_moe_class", "aiter_moe_points", "roofline", "label"]

#: the multiple the ROCm MoE kernels pad hidden size and expert width to (the module's header)
PAD = 256
#: a fused-MoE class's weight bytes per parameter and the dense-GEMM class whose compute roof bounds it
_WEIGHT = {"a16w4": (BYTES["mxfp4"], "bfloat16"), "a8w4": (BYTES["mxfp4"], "fp8_block"),
           "fp8_block": (BYTES["fp8"], "fp8_block"), "bfloat16": (BYTES["bf16"], "bfloat16")}
#: the class measured in place of one a GPU does not measure (the module's header: W4A16 on gfx942)
_PROXY = {"a16w4": "bfloat16"}
W4A16 = ("vLLM's ROCm MXFP4 MoE on gfx942 is triton_kernels' matmul_ogs (MXFP4 weights dequantised to BF16 in the "
         "kernel, BF16 matrix cores; AITER's MXFP4 experts are gfx950-only), which no gfx942 table measures")


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
    if dtype == "mxfp4":
        return "a8w4" if gpu(gpu_key).dense_fp4 is not None else "a16w4"
    return {"fp8": "fp8_block", "bf16": "bfloat16"}.get(dtype)


def _padded(shape: tuple) -> tuple:
    """``shape`` (hidden, expert width, experts, top-k) as the ROCm kernels run it (:data:`PAD`)."""
    h, d_e, n_exp, top_k = (int(x) for x in shape)
    return (-(-h // PAD) * PAD, -(-d_e // PAD) * PAD, n_exp, top_k)


def roofline(gpu_key: str, kind: str, shape: tuple, tokens: float) -> float:
    """The roofline time (s) of one fused MoE of class ``kind`` and ``shape`` (hidden, expert width, experts, top-k)
    on ``gpu_key`` with ``tokens`` entering it: the larger of its FLOP over the class's compute roof and the
    touched experts' weights (uniformly random routing) over the datasheet HBM bandwidth."""
    h, d_e, n_exp, top_k = shape
    b_w, roof = _WEIGHT[kind]
    touched = n_exp * (1.0 - (1.0 - top_k / n_exp) ** tokens)
    return max(6.0 * h * d_e * tokens * top_k / compute_roof(gpu_key, roof),
               touched * 3.0 * h * d_e * b_w / gpu(gpu_key).hbm_bandwidth)


def _local(stored: tuple, shape: tuple) -> tuple | None:
    """``(EP, fused shared experts)`` where ``stored`` is one EP GPU's local shape of ``shape`` (same hidden
    size and width, E/EP routed plus 0 or 1 fused shared experts, top-k plus as many), else ``None``."""
    h, d_e, n_exp, top_k = shape
    s = stored[3] - top_k
    local = stored[2] - s
    if stored[:2] != (h, d_e) or s not in (0, 1) or local < 1 or n_exp % local or n_exp // local < 2:
        return None
    return n_exp // local, s


def _reading(gpu_key: str, kind: str, shape: tuple, ep: int) -> tuple | None:
    """``(class read, stored shape, EP, ((tokens, seconds), ...), how)`` of ``shape`` on ``gpu_key``'s own rows
    by the module's rules, or ``None``."""
    gfx, cu, _ = AITER_GPUS[gpu_key]
    padded = _padded(shape)
    own = {st: pts for (g, c, k, st), pts in _rows().items() if (g, c, k) == (gfx, cu, kind)}
    if padded in own:
        return kind, padded, 1, tuple(own[padded]), "as stored"
    local = {st: _local(st, padded) for st in own}
    local = {st: v for st, v in local.items() if v}
    if local:
        st = min(local, key=lambda x: (abs(math.log2(local[x][0]) - math.log2(max(ep, 1))), x))
        n_ep, s = local[st]
        n_loc = st[2] - s
        pts = tuple((t_n * st[3] * padded[2] / (st[2] * padded[3]), sec * n_loc / st[2]) for t_n, sec in own[st])
        return kind, st, n_ep, pts, (f"the stored EP{n_ep} local shape: {st[2]} experts = {n_loc} routed"
                                     f"{f' + {s} fused shared' if s else ''}, top-{st[3]}, read at the same "
                                     f"tokens per expert, the routed experts' share of the time")
    proxy = _PROXY.get(kind)
    near = [st for (g, c, k, st) in _rows() if (g, c, k) == (gfx, cu, proxy) and st[2] == padded[2]]
    if not near:
        return None
    st = min(near, key=lambda x: ((math.log(x[0] / padded[0])) ** 2 + (math.log(x[1] / padded[1])) ** 2, x))
    own_gpu = AITER_GPUS[gpu_key][2]
    pts = []
    for t_n, sec in _rows()[(gfx, cu, proxy, st)]:
        n = t_n * st[3] / padded[3]
        pts.append((n, sec * roofline(own_gpu, kind, padded, n) / roofline(own_gpu, proxy, st, t_n)))
    return proxy, st, 1, tuple(pts), (f"{st[0]}x{st[1]}, {st[2]} experts, top-{st[3]}, in place of W4A16: {W4A16}; "
                                      f"the closest class measured, its fraction of the roofline carried to the "
                                      f"padded {padded[0]}x{padded[1]} experts at the same tokens per expert, at the "
                                      f"W4A16 roofline (MXFP4 weight bytes, the BF16 rate)")


@lru_cache(maxsize=None)
def aiter_moe_points(gpu_key: str, dtype: str, shape: tuple, moe_tp: int = 1, ep: int = 1) -> tuple | None:
    """``(class, stored shape, ((tokens, seconds), ...), EP, words)``: the grouped-MoE time of one layer of
    ``shape`` (hidden, expert width, experts, top-k) at the curve's EP size on ``gpu_key`` (the group's tokens
    entering the layer), by the module's rules (``ep``: the unit's, for the nearest stored EP); ``None`` where the
    table has none (not an AMD GPU, another dtype, a shape not measured, expert TP)."""
    if not is_aiter_gpu(gpu_key) or int(moe_tp) != 1:
        return None
    kind = aiter_moe_class(gpu_key, dtype)
    reads = AITER_GPUS[gpu_key][2]
    got = _reading(reads, kind, tuple(shape), int(ep)) if kind is not None else None
    if got is None:
        return None
    read, stored, n_ep, pts, how = got
    if reads != gpu_key:   # the MI325X: the MI300X's curve, by the ratio of the two GPUs' rooflines
        pts = tuple((n, t * _ratio(gpu_key, reads, kind, _padded(shape), n_ep, n)) for n, t in pts)
        how += (f"; carried from the {reads} by the ratio of the rooflines (AMD's measured max-achievable GEMM "
                f"rates, datasheet HBM)")
    return read, stored, pts, n_ep, how


def _ratio(gpu_key: str, reads: str, kind: str, padded: tuple, n_ep: int, n: float) -> float:
    """The ratio of ``gpu_key``'s roofline to ``reads``' for one EP GPU's share of ``n`` group tokens."""
    h, d_e, n_exp, top_k = padded
    local = (h, d_e, max(n_exp // n_ep, 1), top_k)
    return roofline(gpu_key, kind, local, n / n_ep) / roofline(reads, kind, local, n / n_ep)   # n k / EP pairs


def label(kind: str, stored: tuple, shape: tuple, how: str = "as stored") -> str:
    """The rule in words for a curve of ``shape`` read from the stored shape ``stored`` (``how``: the reading)."""
    pad = "" if tuple(stored) == tuple(shape) or how != "as stored" else \
        f", the padded {stored[0]}x{stored[1]} experts the ROCm kernels run"
    what = "" if how == "as stored" else f", {how}"
    return f"AITER {AITER_COMMIT} fused-MoE table ({kind}{pad}{what}), for any framework on an AMD GPU"
