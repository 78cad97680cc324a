"""DeepSeek Sparse Attention (DSA, DeepSeek-V3.2) in the step model: the lightning indexer and
MLA over the top-k tokens it selects.

Per layer and query token, DSA (DeepSeek-V3.2 report, 2025-09-29, section 2.1) runs

* a **lightning indexer**: ``H_I`` indexer heads (``index_n_heads``) of dimension ``d_I``
  (``index_head_dim``) score every cached token against one shared indexer key per token (an
  MQA-shaped product, ReLU, a weighted sum over the heads), in FP8; it reads one FP8 key and
  one FP32 scale per token and layer (:data:`.model.kv.INDEX_SCALE_BYTES`) over the *whole*
  context, in decode and in prefill;
* **MLA over** :math:`\\min(\\ell, k_{\\mathrm{top}})` tokens (``index_topk``, 2,048 for
  V3.2): the attention core of :mod:`.operations` with the context it sees capped at the top-k.
  DeepSeek's sparse kernels run MLA in its MQA (absorbed) form in both phases: FlashMLA's sparse
  prefill and decode kernels take the 576-dimensional latent key and the 512-dimensional value
  (FlashMLA README, "Sparse Attention Kernels", released 2025-09-29), so the prefill attention
  FLOP of a DSA model is :data:`.operations.attn_flop_mla`'s over the top-k tokens.  For short
  prompts DeepSeek prefills in a "masked MHA mode to simulate DSA" instead (DeepSeek-V3.2-Exp
  report, section 3, inference costs): the unabsorbed prefill form over the whole context, the
  cheaper when the context is short.  The step model takes the cheaper of the two per step
  (``A_fm``: the dense fallback's FLOP per query and context token; in decode, and for every model
  without sparse attention, ``A_fm = A_f`` and the choice is void).

**Kernel rate of the indexer (the rule).**  No indexer microbenchmark is in the calibration set,
so the indexer runs at the GPU's FP8 tensor-core peak times the achieved fraction of the MLA
attention kernel of the same phase (decode: FlashMLA dense decode, ``mla_flops``; prefill:
``prefill_attn_flops``), and reads its keys at the MLA kernel's achieved bandwidth (``mla_bw``).
The sparse MLA core uses the dense MLA kernel's fractions too.  DeepSeek's own figures put the
sparse kernels below the dense one: FlashMLA reports "up to 640 TFlops during prefilling and 410
TFlops during decoding" for the sparse kernels on H800 (README news of 2025-09-29) against 660
TFLOPS for the dense decode kernel (FlashMLA deep-dive of 2025-04-22); the compute-bound sparse
core is therefore optimistic by up to 660 / 410 - 1 = 61 % here (a stated transfer, not a fit).
Where a serving framework's measured DSA module is read instead (:mod:`.curves_dsa`: aiconfigurator's
tables time the indexer, top-k and sparse MLA together), the indexer is inside the measured time and
``t_index`` is not added (the factor 1 - ``i_mod`` of :data:`.operations.t_attn`, unit value ``i_mod``).
"""
from __future__ import annotations

import sympy as sp

from inference_arithmetic.core.formula import formula
from inference_arithmetic.core.symbols import S, register
from inference_arithmetic.model import kv
from inference_arithmetic.model.params import H_idx, d_idx
from inference_arithmetic.step.sparse_values import NO_TOP_K, sparse_values  # noqa: F401

__all__ = ["H_idx", "d_idx", "A_i", "F_i", "A_fm", "S_idx", "attn_flop_index", "ell_core", "NO_TOP_K", "sparse_values"]

A_i = register("step", "A_i", r"A_I", "FLOP",
               "lightning-indexer FLOP per query token per context token, all layers (0 without sparse attention)")
A_fm = register("step", "A_fm", r"A_{\mathrm{MHA}}", "FLOP",
                "attention FLOP per query token per context token, all layers, of DSA prefill's masked MHA "
                "mode over the whole context (= A without sparse attention, and in decode)")
S_idx = register("step", "S_idx", r"S_{\mathrm{idx}}", "B/token",
                 "indexer-key bytes per token of context, all layers (0 without sparse attention)")
F_i = register("step", "F_i", r"\Phi_{I}", "FLOP/s", "peak FLOP/s at the indexer's dtype (FP8)")

attn_flop_index = formula(
    "attn_flop_index", S.n_layers * H_idx * S.flop_mac * (d_idx + 1), "FLOP",
    "lightning indexer: per indexer head a d_I score product with the shared index key and one "
    "weight product, per query token and context token")


def ell_core(ell):
    """The context the attention core of a layer sees: the whole (or windowed) context ``ell``,
    at most the top-k tokens under sparse attention (sympy expression)."""
    return sp.Min(ell, kv.k_top)

