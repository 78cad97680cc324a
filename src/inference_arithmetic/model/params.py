"""Parameter counts from a config: attention per layer, total and activated.

Conventions (stated in the book): norms and the MoE router count; biases are
ignored (Llama, Mixtral and DeepSeek have none in these matrices); *activated*
parameters are those multiplied per token: the output head counts, the input
embedding (a table lookup) does not.  The DeepSeek MTP module is reported apart.

This module holds the formulas; the counts of a model (:func:`count_params` and the rest, re-exported
here) are computed without sympy in :mod:`.param_count` from their generated functions.
"""
from __future__ import annotations

from inference_arithmetic.core.formula import formula
from inference_arithmetic.core.symbols import S, register
from inference_arithmetic.model.param_count import (ParamCount, count_params, expert_param_count,  # noqa: F401
                                                    replicated_param_count, weight_bytes_ep, weight_bytes_ep_grid,
                                                    weight_bytes_read)

__all__ = ["attn_params_mla", "attn_params_indexer", "H_idx", "d_idx", "attn_params_mla_fullq", "attn_params_gqa", "expert_params",
           "params_total", "params_active", "params_mtp", "weights_read_ep", "weights_resident_ep",
           "ParamCount", "count_params", "weight_bytes_ep", "weight_bytes_ep_grid", "replicated_params",
           "replicated_param_count", "routed_expert_params", "shared_expert_params", "expert_param_count",
           "routed_per_gpu", "expert_hit", "weights_read_batch", "weight_bytes_read"]

attn_params_mla = formula(
    "attn_params_mla",
    S.h * S.d_q + S.d_q + S.d_q * S.n_heads * (S.d_nope + S.d_r)
    + S.h * (S.d_c + S.d_r) + S.d_c + S.d_c * S.n_heads * (S.d_nope + S.d_v)
    + S.n_heads * S.d_v * S.h,
    "param", "MLA with low-rank queries: W_DQ, q norm, W_UQ/W_QR, W_DKV+W_KR, kv norm, W_UK/W_UV, W_O")

attn_params_mla_fullq = formula(
    "attn_params_mla_fullq",
    S.h * S.n_heads * (S.d_nope + S.d_r) + S.h * (S.d_c + S.d_r) + S.d_c
    + S.d_c * S.n_heads * (S.d_nope + S.d_v) + S.n_heads * S.d_v * S.h,
    "param", "MLA with full-rank queries (q_lora_rank null, DeepSeek-V2-Lite)")

H_idx = register("model", "H_idx", r"H_I", "1", "lightning-indexer heads (index_n_heads)")
d_idx = register("model", "d_idx", r"d_I", "1", "lightning-indexer head dimension (index_head_dim)")

attn_params_indexer = formula(
    "attn_params_indexer", S.d_q * H_idx * d_idx + S.h * d_idx + S.h * H_idx + 2 * d_idx,
    "param", "DeepSeek Sparse Attention's lightning indexer per layer: its query projection from the query "
             "latent, its key projection, the per-head weights from the hidden state, the key LayerNorm "
             "(DeepSeek-V3.2 inference/model.py, class Indexer); 0 for a model without sparse attention")

attn_params_gqa = formula(
    "attn_params_gqa", 2 * S.h * S.n_heads * S.d_head + 2 * S.h * S.n_kv_heads * S.d_head,
    "param", "GQA: W_Q and W_O of n_h heads, W_K and W_V of n_kv heads")

expert_params = formula("expert_params", 3 * S.h * S.d_e, "param",
                        "one gated (SwiGLU) expert: up, gate and down projections")

routed_expert_params = formula(
    "routed_expert_params", (S.n_layers - S.n_dense) * S.n_experts * expert_params.expr, "param",
    "all routed experts of all MoE layers")
shared_expert_params = formula(
    "shared_expert_params", (S.n_layers - S.n_dense) * S.n_shared * 3 * S.h * S.d_s, "param",
    "all shared experts of all MoE layers")

_dense_layer = S.P_attn + 3 * S.h * S.d_ff + 2 * S.h
_moe_common = S.P_attn + S.n_shared * 3 * S.h * S.d_s + S.n_experts * S.h + 2 * S.h

params_total = formula(
    "params_total",
    S.n_emb * S.vocab * S.h + S.h + S.n_dense * _dense_layer
    + (S.n_layers - S.n_dense) * (_moe_common + S.n_experts * 3 * S.h * S.d_e),
    "param", "embedding and head, final norm, dense layers, MoE layers (all experts)")

params_active = formula(
    "params_active",
    S.vocab * S.h + S.h + S.n_dense * _dense_layer
    + (S.n_layers - S.n_dense) * (_moe_common + S.top_k * 3 * S.h * S.d_e),
    "param", "per token: head, final norm, dense layers, MoE layers with top-k routed experts")

params_mtp = formula(
    "params_mtp",
    S.n_mtp * (_moe_common + S.n_experts * 3 * S.h * S.d_e + 2 * S.h * S.h + 3 * S.h),
    "param", "DeepSeek MTP modules: one MoE layer, the 2h x h projection and three norms each")


_replicated = (S.n_layers * S.P_attn + S.n_dense * 3 * S.h * S.d_ff
               + (S.n_layers - S.n_dense) * (S.n_shared * 3 * S.h * S.d_s + S.n_experts * S.h)
               + 2 * S.h * S.n_layers + S.h)

replicated_params = formula(
    "replicated_params", _replicated + S.vocab * S.h, "param",
    "parameters every data-parallel GPU holds and reads each step: attention, dense FFN, shared "
    "experts, routers, norms and the output head (not the routed experts)")

routed_per_gpu = formula(
    "routed_per_gpu", (S.n_experts + S.E_red) / S.N_ep, "expert",
    "routed-expert slots one GPU holds per MoE layer under EP: the experts and their redundant "
    "copies spread evenly over the group")

weights_read_ep = formula(
    "weights_read_ep",
    S.b_w * (replicated_params.expr
             + (S.n_layers - S.n_dense) * (S.n_experts + S.E_red) / S.N_ep * 3 * S.h * S.d_e),
    "B",
    "weight bytes one GPU reads per decode step under EP with data-parallel attention: "
    "attention, dense FFN, shared experts, router and head replicated; (E + E_red)/N_EP routed "
    "experts per MoE layer; all local experts touched (large batch); the embedding is a lookup")

n_sel = register("model", "n_sel", r"n_{\mathrm{tok}}", "token", "tokens routed in one step through one MoE layer")
expert_hit = formula(
    "expert_hit", 1 - (1 - 1 / S.n_experts) ** (n_sel * S.top_k), "1",
    "chance that a given expert is chosen by at least one of n_tok tokens, each choosing top-k of the "
    "experts uniformly: the expected share of experts a step reads")

weights_read_batch = formula(
    "weights_read_batch",
    S.b_w * (replicated_params.expr
             + (S.n_layers - S.n_dense) * (S.n_experts + S.E_red) / S.N_ep * 3 * S.h * S.d_e
             * expert_hit.expr.subs(n_sel, S.N_ep * S.batch)),
    "B",
    "weight bytes one GPU reads per decode step under EP with data-parallel attention and b requests "
    "per GPU: the replicated weights and the expected local experts the step's tokens chose")

weights_resident_ep = formula(
    "weights_resident_ep",
    weights_read_ep.expr + S.b_w * (S.n_emb - 1) * S.vocab * S.h,
    "B", "weight bytes resident on one GPU under the same layout (adds the embedding table when untied)")
