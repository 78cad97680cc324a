"""KV-cache bytes: per token of context for MLA and for MHA/GQA, and per user.

``S_kv`` (bytes per token of context, all layers) is the quantity the decode
bound divides HBM bandwidth by.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from inference_arithmetic.core.errors import CatalogError
from inference_arithmetic.core.inputs import short
from inference_arithmetic.model.dtypes import BYTES
from inference_arithmetic.model.config import Model
from inference_arithmetic.core.formula import formula
from inference_arithmetic.core.symbols import S, register

__all__ = ["kv_per_token_mla", "kv_per_token_gqa", "kv_per_user", "CACHE_DTYPES",
           "dtype_bytes", "kv_bytes_per_token", "dense_bytes_per_step", "sparse_bytes_per_step",
           "context_windowed", "context_sparse_read", "effective_context", "INDEX_SCALE_BYTES",
           "index_key_bytes"]

#: the cache dtypes ``sol`` and ``model`` accept (their bytes: :data:`.dtypes.BYTES`)
CACHE_DTYPES = ("bf16", "fp16", "fp8")

kv_per_token_mla = formula(
    "kv_per_token_mla", S.n_layers * (S.d_c + S.d_r) * S.b_kv, "B/token",
    "MLA caches one compressed latent (d_c) and one shared RoPE key (d_r) per layer")

kv_per_token_gqa = formula(
    "kv_per_token_gqa", 2 * S.n_layers * S.n_kv_heads * S.d_head * S.b_kv, "B/token",
    "MHA/GQA caches a key and a value of d_h per KV head per layer")

kv_per_user = formula(
    "kv_per_user", S.ctx * S.S_kv, "B", "KV-cache bytes of one user at context length l")


S_lat = register("decode", "S_lat", r"s_{\mathrm{lat}}", "B/token", "cached bytes per token per layer of one MLA latent")
b_idx = register("decode", "b_idx", r"s_{\mathrm{idx}}", "B/token", "indexer-key bytes per token per layer (sparse attention)")
k_top = register("decode", "k_top", r"k_{\mathrm{top}}", "token", "tokens each query attends to under sparse attention (index_topk)")

dense_bytes_per_step = formula("dense_bytes_per_step", S.n_layers * S.ctx * S_lat, "B",
                               "bytes one generated token reads from a dense MLA cache")
sparse_bytes_per_step = formula(
    "sparse_bytes_per_step", S.n_layers * (S.ctx * b_idx + sp.Min(S.ctx, k_top) * S_lat), "B",
    "DeepSeek sparse attention: the indexer reads every cached index key, the attention only k_top latents")


def dtype_bytes(dtype: str) -> float:
    """Bytes per element of a KV dtype; ``CatalogError`` for an unsupported one."""
    d = str(dtype).lower()
    if d not in CACHE_DTYPES:
        raise CatalogError(f"unsupported KV dtype {short(dtype)}: use {', '.join(CACHE_DTYPES)}")
    return BYTES[d]


#: bytes of one DeepSeek Sparse Attention indexer key beyond its FP8 elements: one FP32 scale
#: (the hardware chapter's convention for DeepSeek-V3.2's indexer cache)
INDEX_SCALE_BYTES = 4

n_win = register("model", "n_win", r"n_{\mathrm{win}}", "layer", "layers with sliding-window attention")
W_win = register("model", "W_win", r"w", "token", "sliding window: the most recent tokens a windowed layer attends to")

context_windowed = formula(
    "context_windowed", ((S.n_layers - n_win) * S.ctx + n_win * sp.Min(S.ctx, W_win)) / S.n_layers, "token",
    "tokens of context a request's KV holds and a decode step reads, averaged over the layers: the windowed "
    "layers keep only the last w tokens")

context_sparse_read = formula(
    "context_sparse_read", S.n_layers * (S.ctx * b_idx + sp.Min(S.ctx, k_top) * S_lat) / S.S_kv, "token",
    "DeepSeek Sparse Attention: the bytes a decode step reads (every index key, the top-k latents) "
    "in tokens of the whole cache")


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
        return (kv_per_token_mla(n_layers=model.n_layers, d_c=model.d_c, d_r=model.d_r, b_kv=b)
                + model.n_layers * index_key_bytes(model))
    return kv_per_token_gqa(n_layers=model.n_layers, n_kv_heads=model.n_kv_heads,
                            d_head=model.d_head, b_kv=b)


def effective_context(model: Model, ctx, dtype: str = "bf16", *, read: bool = True):
    """Tokens of context, in whole-cache tokens of :func:`kv_bytes_per_token`, that one request's KV
    holds (``read=False``) or one decode step reads (``read=True``) at ``ctx`` tokens: ``ctx`` for
    full attention; fewer with sliding windows (:data:`context_windowed`) or, when reading, with
    sparse attention (:data:`context_sparse_read`).  Number or array."""
    ctx = np.asarray(ctx, dtype=float)
    if model.n_window:
        return context_windowed.fast(n_layers=model.n_layers, n_win=model.n_window, W_win=model.window, ctx=ctx)
    if model.index_topk and read:
        b = dtype_bytes(dtype)
        return context_sparse_read.fast(n_layers=model.n_layers, ctx=ctx, b_idx=index_key_bytes(model),
                                        k_top=model.index_topk, S_lat=(model.d_c + model.d_r) * b,
                                        S_kv=kv_bytes_per_token(model, dtype))
    return ctx
