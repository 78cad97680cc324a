"""The unit values of DeepSeek Sparse Attention's symbols (:mod:`.sparse`, the formulas and the
kernel-rate rule) for a model, computed through the generated functions of
:mod:`inference_arithmetic.core.fast`: no sympy."""
from __future__ import annotations

import math

from inference_arithmetic.core import fast
from inference_arithmetic.model.config import Model
from inference_arithmetic.model.dtypes import FLOP_PER_MAC
from inference_arithmetic.model.kv_bytes import index_key_bytes

__all__ = ["NO_TOP_K", "sparse_values"]

#: ``k_top`` of a model without sparse attention: no cap on the context the attention core sees
NO_TOP_K = math.inf


def sparse_values(model: Model, fp8_flops: float, a_f: float, a_fm: float) -> dict:
    """The unit values of the DSA symbols for ``model``: ``k_top`` (inf without sparse attention),
    ``S_idx`` (indexer-key bytes per token, all layers), ``A_i`` (indexer FLOP per query and context
    token, all layers), ``F_i`` (the FP8 peak, FLOP/s, of the GPU) and ``A_fm`` (``a_fm``, the
    phase's dense MLA FLOP per query and context token, with sparse attention in prefill; else
    ``a_f``, the attention core's)."""
    if not model.index_topk:
        return dict(k_top=NO_TOP_K, S_idx=0.0, A_i=0.0, F_i=float(fp8_flops), A_fm=float(a_f))
    a_i = float(fast.attn_flop_index(n_layers=model.n_layers, H_idx=model.index_heads, flop_mac=float(FLOP_PER_MAC),
                                     d_idx=model.index_dim))
    return dict(k_top=float(model.index_topk), S_idx=model.n_layers * index_key_bytes(model), A_i=a_i,
                F_i=float(fp8_flops),
                A_fm=float(a_fm))
