"""KV-cache bytes of a model: per token of context, and the context a step reads (the formulas of
:mod:`.kv` through their generated numeric functions, :mod:`inference_arithmetic.core.fast`: no sympy)."""
from __future__ import annotations

import numpy as np

from inference_arithmetic.core import fast
from inference_arithmetic.core.errors import CatalogError
from inference_arithmetic.core.inputs import short
from inference_arithmetic.model.config import Model
from inference_arithmetic.model.dtypes import BYTES

__all__ = ["CACHE_DTYPES", "dtype_bytes", "INDEX_SCALE_BYTES", "index_key_bytes", "kv_bytes_per_token", "effective_context"]

#: the cache dtypes ``sol`` and ``model`` accept (their bytes: :data:`.dtypes.BYTES`)
CACHE_DTYPES = ("bf16", "fp16", "fp8")


def dtype_bytes(dtype: str) -> float:
    """Bytes per element of a KV dtype; ``CatalogError`` for an unsupported one."""
    d = str(dtype).lower()
    if d not in CACHE_DTYPES:
        raise CatalogError(f"unsupported KV dtype {short(dtype)}: use {', '.join(CACHE_DTYPES)}")
    return BYTES[d]


#: bytes of one DeepSeek Sparse Attention indexer key beyond its FP8 elements: one FP32 scale
#: (the hardware chapter's convention for DeepSeek-V3.2's indexer cache)
INDEX_SCALE_BYTES = 4


def index_key_bytes(model: Model) -> float:
    """Indexer-key bytes per token per layer (B): ``index_head_dim`` FP8 elements and one FP32 scale
    (0 without sparse attention).  They are part of :func:`kv_bytes_per_token`, so the memory model
    holds the indexer's own cache next to the MLA latents."""
    return float(model.index_dim + INDEX_SCALE_BYTES) if model.index_topk else 0.0


def kv_bytes_per_token(model: Model, dtype: str = "bf16") -> float:
    """KV bytes per token of context (all layers) of ``model`` cached in ``dtype`` (with sparse
    attention, the indexer's FP8 keys too)."""
    b = dtype_bytes(dtype)
    if model.attention == "mla":
        return (fast.kv_per_token_mla(n_layers=float(model.n_layers), d_c=float(model.d_c), d_r=float(model.d_r),
                                      b_kv=float(b))
                + model.n_layers * index_key_bytes(model))
    return fast.kv_per_token_gqa(n_layers=float(model.n_layers), n_kv_heads=float(model.n_kv_heads),
                                 d_head=float(model.d_head), b_kv=float(b))


def effective_context(model: Model, ctx, dtype: str = "bf16", *, read: bool = True):
    """Tokens of context, in whole-cache tokens of :func:`kv_bytes_per_token`, that one request's KV
    holds (``read=False``) or one decode step reads (``read=True``) at ``ctx`` tokens: ``ctx`` for
    full attention; fewer with sliding windows (:data:`.kv.context_windowed`) or, when reading, with
    sparse attention (:data:`.kv.context_sparse_read`).  Number or array."""
    ctx = np.asarray(ctx, dtype=float)
    if model.n_window:
        return fast.context_windowed(n_layers=model.n_layers, n_win=model.n_window, W_win=model.window, ctx=ctx)
    if model.index_topk and read:
        b = dtype_bytes(dtype)
        return fast.context_sparse_read(n_layers=model.n_layers, ctx=ctx, b_idx=index_key_bytes(model),
                                        k_top=model.index_topk, S_lat=(model.d_c + model.d_r) * b,
                                        S_kv=kv_bytes_per_token(model, dtype))
    return ctx
