"""Number formats: bytes per stored value and the tensor-core FLOP rate each computes at.

The one table of dtype sizes for weights and KV caches in the library (the step model, the
speed-of-light bounds, the command line).  Block-scaled 4-bit formats carry their scales:
NVFP4 stores an FP8 (E4M3) scale per 16 values, 0.5 + 1/16 bytes per value; MXFP4 an 8-bit
(E8M0) scale per 32 values, 0.5 + 1/32 bytes per value (OCP Microscaling Formats v1.0).

**MXFP4 experts** (gpt-oss ships its routed experts in MXFP4, attention in BF16) are read at
0.53125 B per value on every GPU; the rate their products run at is the activations' dtype's, as
the serving frameworks' default kernels pair them:

* GPUs with FP4 tensor cores (Blackwell; MI355X): MXFP4 weights x MXFP8 activations (W4A8), at
  the **FP8** rate.  TensorRT-LLM: "For MXFP4 checkpoints, default quantization is
  ``W4A8_MXFP4_MXFP8`` for CUTLASS and TRTLLM backend ... on Blackwell" (tech blog 9, "Running a
  High Performance GPT-OSS-120B Inference Server with TensorRT-LLM", 2025-08); vLLM's Blackwell
  recipe enables ``VLLM_USE_FLASHINFER_MOE_MXFP4_MXFP8`` (vLLM blog, 2026-02-01).  A mixed
  FP4 x FP8 product runs at the FP8 rate, not the FP4 one; MI355X is taken by the same rule (a
  transfer: no AMD kernel statement was found).
* GPUs without (Hopper, H20, MI300X, MI325X): the weights are dequantised in registers and
  multiplied with BF16 activations (W4A16), at the **BF16** rate: "Default quantization for MXFP4
  checkpoints on Hopper is ``W4A16_MXFP4``" (the same TensorRT-LLM blog); vLLM runs gpt-oss on
  Hopper with the Triton ``matmul_ogs`` kernel (vLLM blog, 2025-08-05); AITER's ``a16w4`` MoE
  kernels (BF16 activations x MXFP4 weights) on AMD.

NVFP4 has no such path in the step model: it needs FP4 tensor cores (:func:`moe_flop_dtype`).

**Dense NVFP4** (:data:`DENSE_DTYPES`): a checkpoint whose every linear layer in the transformer
blocks is NVFP4 (NVIDIA's Llama-3.1 FP4 checkpoints: "Only the weights and activations of the linear
operators within transformers blocks are quantized", model card of nvidia/Llama-3.1-405B-Instruct-FP4,
retrieved 2026-12-01: weights and activations, so W4A4) stores its attention projections and FFN at
NVFP4's 0.5625 B per value and multiplies them at the FP4 rate; like NVFP4 experts it needs FP4
tensor cores (:func:`dense_flop_dtype`).  A config.json selects it when its quantization_config says
NVFP4 and excludes no linear layer of the blocks (:func:`.config.parse_config`; the checkpoint's
own config file was not read for this rule: it reads the format ModelOpt exports, ``quant_algo`` and
``exclude_modules``).
"""
from __future__ import annotations

from inference_arithmetic.core.errors import InputError

__all__ = ["BYTES", "FLOP_DTYPE", "MOE_DTYPES", "ATTN_DTYPES", "KV_DTYPES", "WEIGHT_DTYPES", "ALIASES",
           "DENSE_DTYPES", "bytes_per_value", "choose", "moe_flop_dtype", "dense_flop_dtype", "search_moe_dtypes", "default_moe_dtype",
           "MX_BLOCK", "FP8_DISPATCH_BYTES", "BF16_BYTES", "FLOP_PER_MAC"]

#: bytes per stored value
BYTES = {"bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "nvfp4": 0.5 + 1 / 16, "mxfp4": 0.5 + 1 / 32}
#: bytes per hidden element an expert-parallel dispatch sends: an FP8 value plus a 4-byte scale per
#: 128 elements (DeepEP); and a combine, in BF16 (:mod:`.step.comm`)
FP8_DISPATCH_BYTES = 1 + 4 / 128
BF16_BYTES = 2
#: FLOP per multiply-accumulate
FLOP_PER_MAC = 2
#: the GPU FLOP rate (a key of :meth:`.hardware.gpus.GPU.flops`) a dtype's matrix products run at
FLOP_DTYPE = {"bf16": "bf16", "fp16": "bf16", "fp8": "fp8", "nvfp4": "fp4", "mxfp4": "fp4"}
#: other spellings accepted on input (the command line's older ``fp4`` is NVFP4)
ALIASES = {"fp4": "nvfp4"}

#: the routed-expert dtypes of the step model (append only: the planner stores indices into it)
MOE_DTYPES = ("bf16", "fp8", "nvfp4", "mxfp4")
#: values sharing one MXFP4 (E8M0) scale, along a matrix's reduction dimension
MX_BLOCK = 32
ATTN_DTYPES = ("bf16", "fp8")
#: the dtypes dense weights (attention projections, dense FFN, shared experts) can be stated in
DENSE_DTYPES = ("bf16", "fp8", "nvfp4")
KV_DTYPES = ("bf16", "fp8")
WEIGHT_DTYPES = ("bf16", "fp8", "nvfp4", "mxfp4")


def choose(value: str, allowed, what: str) -> str:
    """``value`` (case-insensitive, aliases resolved) if it is one of ``allowed``; else an InputError."""
    v = str(value).lower()
    v = ALIASES.get(v, v)
    if v not in allowed:
        raise InputError(f"unsupported {what} {str(value)[:40]!r}: use {', '.join(allowed)}")
    return v


def bytes_per_value(dtype: str) -> float:
    """Bytes per stored value of ``dtype`` (:data:`BYTES`)."""
    return BYTES[choose(dtype, tuple(BYTES), "dtype")]


def moe_flop_dtype(dtype: str, has_fp4: bool) -> str | None:
    """The FLOP rate (a key of :meth:`.hardware.gpus.GPU.flops`) routed experts stored in ``dtype``
    compute at: their own (:data:`FLOP_DTYPE`) where the GPU has it; MXFP4 with FP8 activations
    where the GPU has FP4 tensor cores (``"fp8"``, W4A8) and dequantised to BF16 where it has not
    (``"bf16"``, W4A16): the kernels of the module's header; ``None`` where the dtype cannot run
    (NVFP4 without FP4 tensor cores)."""
    if dtype == "mxfp4":
        return "fp8" if has_fp4 else "bf16"
    return dense_flop_dtype(dtype, has_fp4)


def dense_flop_dtype(dtype: str, has_fp4: bool) -> str | None:
    """The FLOP rate dense weights stored in ``dtype`` compute at (:data:`FLOP_DTYPE`), ``None``
    for NVFP4 on a GPU without FP4 tensor cores (no W4A16 NVFP4 path is modelled)."""
    f = FLOP_DTYPE[dtype]
    return f if f != "fp4" or has_fp4 else None


def search_moe_dtypes(weight_dtype: str, allowed: tuple = MOE_DTYPES) -> tuple:
    """The routed-expert dtypes a layout search tries for a checkpoint shipped in ``weight_dtype``,
    out of ``allowed`` (what the user pinned, or all of :data:`MOE_DTYPES`): a checkpoint shipped
    in MXFP4 (gpt-oss) is served in MXFP4, as every publication of it is; the others try BF16, FP8
    and NVFP4 (published re-quantisations of DeepSeek exist), not MXFP4.  A pinned dtype is kept."""
    allowed = tuple(allowed)
    if len(allowed) == 1:
        return allowed
    if weight_dtype == "mxfp4":
        return tuple(d for d in allowed if d == "mxfp4") or allowed
    return tuple(d for d in allowed if d != "mxfp4")


def default_moe_dtype(weight_dtype: str) -> str:
    """The routed-expert dtype of a checkpoint shipped in ``weight_dtype`` (its quantization_config:
    FP8 block, MXFP4, NVFP4), FP8 where the config states none of :data:`MOE_DTYPES`."""
    return weight_dtype if weight_dtype in MOE_DTYPES else "fp8"
