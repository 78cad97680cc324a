"""Number formats: bytes per stored value and the tensor-core FLOP rate each computes at.

The one table of dtype sizes for weights and KV caches in the library (the step model, the
speed-of-light bounds, the command line).  Block-scaled 4-bit formats carry their scales:
NVFP4 stores an FP8 (E4M3) scale per 16 values, 0.5 + 1/16 bytes per value; MXFP4 an 8-bit
(E8M0) scale per 32 values, 0.5 + 1/32 bytes per value (OCP Microscaling Formats v1.0).
"""
from __future__ import annotations

from inference_arithmetic.core.errors import InputError

__all__ = ["BYTES", "FLOP_DTYPE", "MOE_DTYPES", "ATTN_DTYPES", "KV_DTYPES", "WEIGHT_DTYPES", "ALIASES",
           "bytes_per_value", "choose", "FP8_DISPATCH_BYTES", "BF16_BYTES", "FLOP_PER_MAC"]

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

MOE_DTYPES = ("bf16", "fp8", "nvfp4")
ATTN_DTYPES = ("bf16", "fp8")
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
