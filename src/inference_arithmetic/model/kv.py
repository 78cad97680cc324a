"""KV-cache bytes: per token of context for MLA and for MHA/GQA, and per user.

``S_kv`` (bytes per token of context, all layers) is the quantity the decode
bound divides HBM bandwidth by.  The formulas are here; a model's bytes (:func:`kv_bytes_per_token`
and the rest, re-exported) are computed without sympy in :mod:`.kv_bytes`.
"""
from __future__ import annotations

import sympy as sp

from inference_arithmetic.core.formula import formula
from inference_arithmetic.core.symbols import S, register
from inference_arithmetic.model.kv_bytes import (CACHE_DTYPES, INDEX_SCALE_BYTES, dtype_bytes,  # noqa: F401
                                                 effective_context, index_key_bytes, kv_bytes_per_token)

__all__ = ["kv_per_token_mla", "kv_per_token_gqa", "kv_per_user", "CACHE_DTYPES",
           "dtype_bytes", "kv_bytes_per_token", "dense_bytes_per_step", "sparse_bytes_per_step",
           "context_windowed", "context_sparse_read", "effective_context", "INDEX_SCALE_BYTES",
           "index_key_bytes"]

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
