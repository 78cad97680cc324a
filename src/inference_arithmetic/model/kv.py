"""KV-cache bytes: per token of context for MLA and for MHA/GQA, and per user.

``S_kv`` (bytes per token of context, all layers) is the quantity the decode
bound divides HBM bandwidth by.
"""
from __future__ import annotations

import sympy as sp

from inference_arithmetic.core.errors import CatalogError
from inference_arithmetic.core.inputs import short
from inference_arithmetic.model.dtypes import BYTES
from inference_arithmetic.model.config import Model
from inference_arithmetic.core.formula import formula
from inference_arithmetic.core.symbols import S, register

__all__ = ["kv_per_token_mla", "kv_per_token_gqa", "kv_per_user", "CACHE_DTYPES",
           "dtype_bytes", "kv_bytes_per_token", "dense_bytes_per_step", "sparse_bytes_per_step"]

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


def kv_bytes_per_token(model: Model, dtype: str = "bf16") -> float:
    """KV bytes per token of context (all layers) of ``model`` cached in ``dtype``."""
    b = dtype_bytes(dtype)
    if model.attention == "mla":
        return kv_per_token_mla(n_layers=model.n_layers, d_c=model.d_c, d_r=model.d_r, b_kv=b)
    return kv_per_token_gqa(n_layers=model.n_layers, n_kv_heads=model.n_kv_heads,
                            d_head=model.d_head, b_kv=b)
