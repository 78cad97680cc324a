"""Measured grouped-MoE-GEMM latencies per serving framework (``data/aiconfigurator_kernels.csv.gz``).

The table is NVIDIA's kernel microbenchmarks shipped in aiconfigurator-core (Apache-2.0; the
extraction and its notice: ``scripts/extract_kernel_tables.py``, ``data/aiconfigurator_kernels.yaml``),
for TensorRT-LLM, SGLang and vLLM on H100, H200, B200, B300, GB200 and GB300 at DeepSeek-V3's expert
shape (BF16, FP8 block, NVFP4) and at gpt-oss-120b's and gpt-oss-20b's (MXFP4: W4A16 where the GPU has no FP4
tensor cores, W4A8 with MXFP8 activations where it has, every expert-TP size).  They are kernel measurements, a calibration input like DeepSeek's own tables; nothing here is
fitted to a system-level serving measurement.

Rule for which curve a (GPU, framework, dtype, EP) reads (:func:`moe_curve`): the framework's newest
version that measured the dtype on that GPU, balanced routing (the step model adds its own load
imbalance), the points of each measured EP curve that pass a peak check (:func:`_physical`: read with the
framework's token convention, the point implies no more FLOP/s or HBM bandwidth than the datasheet; a point
that fails cannot be the balanced workload the model prices, so it is dropped and the rate interpolated
between the points kept), the measured EP size nearest to the unit's (in log2) among the curves that keep
two points at least; the curve enters the step model as an efficiency relative to the model's own time at
the measured EP, so a nearest EP carries its kernel efficiency, not its time.  Token counts are read as
tokens of the expert-parallel group entering the layer: trtllm's ``num_tokens`` already is (its latency
falls as 1/EP at a fixed count); at expert TP > 1 every framework's is (:func:`per_gpu_tokens`: every GPU
runs all the group's tokens through its expert slices; aiconfigurator-core 0.12.0 reads those rows so);
sglang's and vllm's expert-parallel curves (expert TP 1) are read per GPU where their own data show it (their
time at a fixed count hardly moves with EP: each GPU's experts receive num_tokens x top-k pairs), so
num_tokens is multiplied by the EP size.  Which of their curves do is read from each curve family (GPU,
framework, version, dtype, shape; :func:`ep_slope`): how its time at the largest measured count falls from EP 1
to EP 2, 4 and 8, as a power of EP.  On aiconfigurator-core 0.12.0 the families fall into two clusters:
0.0-0.34 (SGLang 0.5.14's and vLLM 0.24.0's FP8-block and NVFP4 curves, read per GPU) and 0.72-1.14 (their
MXFP4 curves, W4A16 and W4A8, and every TensorRT-LLM curve but the B200's and GB200's NVFP4, read at the group's
tokens); the boundary is :data:`GROUP_SLOPE`, 0.5.  The per-GPU reading is inferred from the data, not
documented by the package, and it is not clean: read so, the sglang and vllm curves at EP <= 16 (and some at
EP >= 128) have small-token points that imply more HBM bandwidth or FLOP/s than the GPU has, and the peak
check drops those points.  aiconfigurator-core
0.12.0 itself reads every sglang and vllm row at the group's tokens (its MoE op at x tokens per attention
rank and d attention-DP ranks returns the row at num_tokens = x d: SGLang 0.5.14 B200 FP8 EP8 at 8 tokens
and DP8 the row at 64, 0.3446 ms; checked 2026-12-01) on the path it prices with them, the all-gather MoE
without a wide-EP communication backend, whose masked kernel sees all the group's tokens; the step model
prices expert-parallel units with DeepEP dispatch (each GPU's kernel receives only its local pairs), which
aiconfigurator prices from separate wide-EP tables this table does not store, so the per-GPU reading stays
where a curve's time does not follow the group's pairs, and predictions with those tables carry that
uncertainty.  TensorRT-LLM's curves are read at the group's tokens, as aiconfigurator reads them, the data
rule not applied to them (:func:`per_gpu_tokens`).
TensorRT-LLM's NVFP4 curves (two kernel sources) fall with EP only up to EP 8.  ``deepseek`` reads no table: DeepSeek's own kernels
(``data/kernels.yaml``) by the transfer rule of :mod:`.efficiency`.

An AMD GPU (:func:`.aiter_gpus.is_aiter_gpu`) has no aiconfigurator rows: its curve, for any framework but
``deepseek``, is AITER's fused-MoE table where it measures the setting (:mod:`.kernel_aiter_moe`: MXFP4 experts at
the padded shape the ROCm kernels run, EP 1, gpt-oss-120b on the MI355X; FP8 block-scale experts at an EP GPU's
local shape, DeepSeek-V3's at EP 8 on gfx942; gpt-oss's MXFP4 experts on gfx942 from the BF16 fused-MoE rows'
fraction of the roofline, vLLM's W4A16 Triton kernel being unmeasured; the MI325X carried from the MI300X by the
ratio of the rooflines; no expert TP), read by the same rule (the same peak check, with the tuner's random routing;
an efficiency relative to the model's time at the curve's EP, carried to the unit's EP), and DeepSeek's kernels by
the transfer rule elsewhere.

Rule for a framework without a table (:func:`carried_read`, the one place every reader of the step model
asks: routed experts, dense GEMMs, MLA and GQA attention, all-reduces, dispatch/combine).  Where the
requested framework has no usable table for the (GPU, op, dtype, shape, TP) -- none stored, or every
stored curve fails the peak check -- the step model reads the measured table of another framework
on the SAME GPU, in the fixed order :data:`CARRY_ORDER`, and only where none of them has one the
transfer rule of :mod:`.efficiency` (DeepSeek's H800 kernels at the same fraction of peak).  A table
of another GPU is never read.  The order follows which kernel library each framework runs, as the
table's ``kernel_source`` column names it (aiconfigurator-core 0.12.0 collectors):

* ``vllm`` -> ``sglang`` -> ``trtllm``, ``sglang`` -> ``vllm`` -> ``trtllm``: vLLM and SGLang run
  the same libraries for most ops: routed experts through FlashInfer's TensorRT-LLM-gen fused MoE on
  Blackwell (``vllm_..._flashinfer_trtllm_...`` and ``sglang_flashinfer_trtllm_moe``, NVFP4 and FP8)
  and Triton fused-MoE kernels on Hopper (``vllm_fused_moe``, ``vllm_fp8moe_triton`` and
  ``sglang_fused_moe_triton``); DeepGEMM FP8 block GEMMs (``DeepGemmFp8BlockScaledMMKernel``,
  ``sglang_deepgemm_gemm_nt_f8f8bf16``); DeepEP's low-latency and normal all-to-all (``deepep_ll``,
  ``deepep_ht``/``deepep_normal``); MLA through FlashMLA / FlashAttention on Hopper and FlashInfer's
  TensorRT-LLM-gen MLA on Blackwell (vLLM's tables: ``FLASHMLA``, ``FLASH_ATTN_MLA``,
  ``FLASHINFER_MLA``; SGLang's MLA backends are the same libraries, and SGLang ships no MLA table);
  TensorRT-LLM's own kernels (CUTLASS MoE, its attention plugin, its DeepEP fork) come last;
* ``trtllm`` -> ``vllm`` -> ``sglang``: the TensorRT-LLM-gen kernels that vLLM and SGLang call through
  FlashInfer are TensorRT-LLM's; vLLM's tables also measure MLA, SGLang's do not.

The order is a kernel fact, not chosen by any validation error; the unit's ``kernels`` label names a
carried table ("no vllm table for GB300 (nvfp4 experts, expert TP2): ... table, carried across
frameworks"), and the framework the unit is asked for stays the requested one.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from inference_arithmetic.core.errors import InputError
from inference_arithmetic.core.stats import median
from inference_arithmetic.hardware.gpus import gpu
from inference_arithmetic.hardware.aiter_gpus import AITER_COMMIT, is_aiter_gpu
from inference_arithmetic.hardware.kernel_aiter_moe import aiter_moe_points, label as aiter_moe_label
from inference_arithmetic.hardware.kernel_convention import SHAPE, per_gpu_tokens
from inference_arithmetic.hardware.kernel_table_file import _moe_rows, _version_key, table_lines, table_rows
from inference_arithmetic.model.dtypes import BYTES, moe_flop_dtype

__all__ = ["FRAMEWORKS", "DEFAULT_FRAMEWORK", "MoECurve", "moe_curve", "framework_name", "TABLE_DTYPE", "rule",
           "DEEPSEEK_KERNELS", "SHAPES", "table_dtype", "table_lines", "table_rows", "OPS", "NOT_MEASURED", "coverage_rows",
           "median", "CARRY_ORDER", "carried_read", "carried_label"]

#: what a unit without a framework table runs its routed experts at (the transfer rule)
DEEPSEEK_KERNELS = "deepseek kernels (DeepGEMM, H800), transfer rule: the same fraction of peak on every GPU"

#: what a non-deepseek framework reads besides its MoE table (per unit: :mod:`.step.curves` names each)
OTHER_TABLES = ("; dense GEMMs, decode and prefill attention, all-reduces and dispatch/combine: its tables where "
                "measured, else another framework's on the same GPU (carried across frameworks), else the transfer "
                "rule")
#: serving frameworks the step model can be asked for; ``deepseek``: DeepSeek's own kernels
FRAMEWORKS = ("deepseek", "sglang", "trtllm", "vllm")
DEFAULT_FRAMEWORK = "deepseek"
#: the book's MoE dtypes as the table names them; MXFP4 by the kernel the GPU runs it with
#: (:func:`.model.dtypes.moe_flop_dtype`): W4A8 with MXFP8 activations where it has FP4 tensor cores,
#: W4A16 where it has not
TABLE_DTYPE = {"fp8": "fp8_block", "nvfp4": "nvfp4", "bf16": "bfloat16", "mxfp4": "w4a16_mxfp4"}
MXFP4_FP4_CORES = "w4a8_mxfp4_mxfp8"
#: the expert shapes the table measures: DeepSeek-V3/R1 (expert TP 1), gpt-oss-120b and gpt-oss-20b (MXFP4,
#: every expert-TP size, balanced routing)
SHAPES = (SHAPE, (2880, 2880, 128, 4), (2880, 2880, 32, 4))


#: where a framework without a table for a (GPU, op, setting) reads one, on the same GPU, in order (the
#: rule and why: the module docstring)
CARRY_ORDER = {"vllm": ("sglang", "trtllm"), "sglang": ("vllm", "trtllm"), "trtllm": ("vllm", "sglang")}
CARRIED = "carried across frameworks"


def carried_read(framework: str, read, found=lambda got: got is not None) -> tuple:
    """``(framework whose table answered, its answer)``: ``read(f)`` (a reader of one GPU's tables) for
    ``framework``, then for the frameworks of :data:`CARRY_ORDER` in order, the first answer that is
    ``found``; where none is, ``(framework, read(framework))``."""
    first = read(framework)
    if found(first):
        return framework, first
    for other in CARRY_ORDER.get(framework, ()):
        got = read(other)
        if found(got):
            return other, got
    return framework, first


def carried_label(requested: str, used: str, gpu_key: str, label: str, setting: str = "") -> str:
    """``label`` (``"what: table ..."``) as is where ``used`` is the ``requested`` framework, else naming
    the carried table: ``"what: no <requested> table for <GPU> (<setting>): table ..., carried across
    frameworks"``."""
    if used == requested:
        return label
    head, sep, rest = label.partition(": ")
    head, rest = (head + sep, rest) if sep else ("", label)
    where = f" ({setting})" if setting else ""
    return f"{head}no {requested} table for {gpu_key}{where}: {rest}, {CARRIED}"


def framework_name(value) -> str:
    """``value`` as one of :data:`FRAMEWORKS` (case-insensitive), else an InputError."""
    v = str(value).lower()
    if v not in FRAMEWORKS:
        raise InputError(f"unknown framework {str(value)[:40]!r}: use {', '.join(FRAMEWORKS)}")
    return v


@dataclass(frozen=True)
class MoECurve:
    """One measured curve: the time of one MoE layer's grouped GEMMs (s) against the tokens of the
    expert-parallel group entering it, at ``ep`` expert-parallel GPUs each holding a 1/``moe_tp`` slice
    of its experts, with where it comes from."""

    gpu: str
    framework: str
    version: str
    dtype: str
    ep: int
    tokens: tuple
    seconds: tuple
    source_file: str
    package_version: str
    moe_tp: int = 1
    rule: str = ""          # the label of a table that is no framework's (AITER's, on an AMD GPU)
    failed: tuple = ()      # measured EP sizes whose curves keep fewer than two points under the peak check
    dropped: int = 0        # measured points of this curve the peak check dropped (:func:`_physical`)

    @property
    def label(self) -> str:
        if self.rule:
            return self.rule
        tp = f", expert TP{self.moe_tp}" if self.moe_tp > 1 else ""
        return f"{self.framework} {self.version} {self.gpu} table (EP{self.ep}{tp}, {self.dtype})"


def _physical(gpu_key: str, framework: str, dtype: str, ep: int, pts, shape: tuple = SHAPE, moe_tp: int = 1,
              per_gpu: bool | None = None) -> bool:
    """Whether a measured curve, read with its token convention (``per_gpu``; ``None``: its framework's,
    :func:`per_gpu_tokens`), stays within the GPU's
    datasheet peaks at every point: the FLOP of the token-expert pairs each GPU receives, and the
    weights of the local experts they can touch (at most one expert per pair; AITER's tuner, ``aiter``, routes
    uniformly random scores: the expected number touched, E/EP (1 - (1 - k/E)^n) of the group's n tokens), each
    GPU holding a 1/``moe_tp`` slice of every expert, over the time."""
    g = gpu(gpu_key)
    h, d_e, n_exp, top_k = shape
    per_gpu = per_gpu_tokens(framework, moe_tp) if per_gpu is None else per_gpu
    for n, t in pts:
        pairs = n * top_k if per_gpu else n * top_k / ep
        flops = 2 * 3 * h * d_e * pairs / moe_tp / t
        touched = n_exp / ep * (1 - (1 - top_k / n_exp) ** n) if framework == "aiter" else min(n_exp / ep, pairs)
        nbytes = touched * 3 * h * d_e / moe_tp * BYTES[dtype] / t
        if flops > g.flops(moe_flop_dtype(dtype, g.dense_fp4 is not None)) or nbytes > g.hbm_bandwidth:
            return False
    return True


def table_dtype(gpu_key: str, dtype: str) -> str | None:
    """The table's name for routed experts stored in the book's ``dtype`` as ``gpu_key`` runs them, or
    ``None`` where the table has no such format."""
    if dtype == "mxfp4" and gpu(gpu_key).dense_fp4 is not None:
        return MXFP4_FP4_CORES
    return TABLE_DTYPE.get(dtype)


@lru_cache(maxsize=512)
def moe_curve(gpu_key: str, framework: str, dtype: str, ep: int, shape: tuple, moe_tp: int = 1) -> MoECurve | None:
    """The measured curve for ``framework`` on ``gpu_key`` at MoE dtype ``dtype`` (the book's name),
    expert TP ``moe_tp`` and the EP size nearest to ``ep``, or ``None`` where there is none (the framework
    ``deepseek``, a GPU, dtype, expert shape or expert-TP size the table does not cover)."""
    shape, name = tuple(shape), table_dtype(gpu_key, dtype)
    if framework != DEFAULT_FRAMEWORK and is_aiter_gpu(gpu_key):
        return _aiter_curve(gpu_key, framework, dtype, shape, int(moe_tp), int(ep))
    if framework == DEFAULT_FRAMEWORK or shape not in SHAPES or name is None:
        return None
    data = _moe_rows(gpu_key, framework)
    vers = data["curves"].get((name, shape, int(moe_tp)))
    if not vers:
        return None
    version = max(vers, key=_version_key)
    per_gpu = per_gpu_tokens(framework, moe_tp, gpu_key, name, shape, version)
    eps = {e: kept for e, pts in vers[version].items()   # the points that pass the peak check, two at least
           if len(kept := [p for p in pts if _physical(gpu_key, framework, dtype, e, [p], shape, moe_tp, per_gpu)]) >= 2}
    if not eps:
        return None
    near = min(eps, key=lambda e: (abs(math.log2(e) - math.log2(max(ep, 1))), e))
    pts = eps[near]
    source, pkg = data["sources"][version]
    scale = near if per_gpu else 1
    return MoECurve(gpu_key, framework, version, name, near, tuple(n * scale for n, _ in pts),
                    tuple(t for _, t in pts), source, pkg, int(moe_tp),
                    failed=tuple(sorted(set(vers[version]) - set(eps))), dropped=len(vers[version][near]) - len(pts))


def _aiter_curve(gpu_key: str, framework: str, dtype: str, shape: tuple, moe_tp: int, ep: int) -> MoECurve | None:
    """An AMD GPU's curve: AITER's fused-MoE table (:mod:`.kernel_aiter_moe`), whatever the framework, at the EP
    size it measures (the stored EP nearest to ``ep``), by the peak check of every table; ``None`` where it has
    none."""
    got = aiter_moe_points(gpu_key, dtype, shape, moe_tp, ep)
    if got is None or not _physical(gpu_key, "aiter", dtype, got[3], got[2], shape, moe_tp):
        return None
    kind, stored, pts, n_ep, how = got
    return MoECurve(gpu_key, framework, AITER_COMMIT, kind, n_ep, tuple(n for n, _ in pts),
                    tuple(t for _, t in pts), "data/aiter_moe_kernels.csv.gz", f"AITER {AITER_COMMIT}", moe_tp,
                    f"{aiter_moe_label(kind, stored, shape, how)} (EP{n_ep})")


def rule(gpu_key: str, framework: str, dtype: str, shape: tuple, moe_tp: int = 1) -> str:
    """The kernels the step model uses for routed experts of ``shape`` (hidden, expert width, experts,
    top-k) at ``dtype`` on ``gpu_key`` under ``framework``, in words (the EP size left out: the
    nearest measured one is used per unit)."""
    if framework == DEFAULT_FRAMEWORK:
        return DEEPSEEK_KERNELS
    used, c = carried_read(framework, lambda f: moe_curve(gpu_key, f, dtype, 8, tuple(shape), moe_tp))
    if c is None:
        return (f"no {framework} table for {gpu_key}, {dtype} experts of shape {tuple(shape)}: {DEEPSEEK_KERNELS}"
                f"{OTHER_TABLES}")
    tp = f", expert TP{moe_tp}" if moe_tp > 1 else ""
    what = c.rule or f"{c.framework} {c.version} {c.gpu} table ({c.dtype}, nearest measured EP)"
    return carried_label(framework, used, gpu_key, what, f"{dtype} experts{tp}") + OTHER_TABLES


#: what each op of the kernel table measures, in words (the step model's operation classes)
OPS = {"moe": "grouped MoE GEMM by tokens, EP and expert TP (DeepSeek-V3: BF16, FP8 block, NVFP4; gpt-oss: MXFP4)",
       "gemm": "dense GEMM by m at any (n, k) on the table's grid (projections, dense FFN, shared experts)",
       "mla_generation": "MLA decode attention block (projections included) by requests and context",
       "mla_context": "MLA prefill attention block (projections included) by requests and new tokens",
       "dsa_generation": "DeepSeek-V3.2 sparse attention decode module (projections, lightning indexer, sparse MLA) "
                         "by requests and context, at heads per GPU",
       "dsa_context": "DeepSeek-V3.2 sparse attention prefill module (projections, lightning indexer, sparse MLA) by "
                      "requests and new tokens, at heads per GPU",
       "gqa_generation": "GQA decode attention kernel by requests and context, at heads per GPU",
       "gqa_context": "GQA prefill attention kernel by requests and new tokens, at heads per GPU (BF16 compute)",
       "allreduce": "all-reduce by message size and GPU count",
       "a2a": "expert dispatch and combine (DeepEP low-latency and normal, NVLink all-to-all) by tokens and EP"}
#: operation classes no table covers: DeepSeek's kernels by the transfer rule
NOT_MEASURED = ("FP8 GQA prefill attention; quantisation, norms, RoPE and routing kernels (the per-kernel floor and "
                "the fitted pipeline efficiency cover them; aiconfigurator-core 0.12.0's quantize tables, an FP8 scale "
                "computed and a matrix scaled as PyTorch operations, kernel source torch_ops, time a per-matrix "
                "scale, not the per-group FP8 and NVFP4 activation quantisation these models' GEMMs run, and are not "
                "read); on AMD GPUs every operation but the dense GEMMs and the MXFP4 and FP8 routed experts (no "
                "aiconfigurator tables; the dense GEMMs read AITER's tuned-GEMM table, hardware/kernel_aiter.py, "
                "gpt-oss-120b's MXFP4 and DeepSeek-V3's FP8 experts AITER's fused-MoE table, hardware/kernel_aiter_moe.py)")


def coverage_rows() -> list[dict]:
    """One row per op of the shipped kernel table: what it measures, the frameworks and GPUs with rows,
    and the row count."""
    _, by_op = table_lines()
    return [{"operation": OPS[op], "table op": op,
             "frameworks": ", ".join(sorted({fw for _, fw in by_op.get(op, {})})),
             "GPUs": ", ".join(sorted({g for g, _ in by_op.get(op, {})})),
             "rows": sum(len(lines) for lines in by_op.get(op, {}).values())} for op in OPS]
