"""Every symbol of the book, defined once: its sympy symbol, meaning and unit.

The glossary page is generated from :data:`SYMBOLS`; formulas in the other
modules use the sympy symbols exported here (``S.h``, ``S.n_layers`` ...).
"""
from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import sympy as sp

from inference_arithmetic.core.units import dims_of

__all__ = ["Sym", "SYMBOLS", "S", "register", "LATEX_NAMES"]


@dataclass(frozen=True)
class Sym:
    """One symbol: ``key`` (Python name), ``latex``, ``meaning``, ``unit``."""

    key: str
    latex: str
    meaning: str
    unit: str
    group: str

    @property
    def symbol(self) -> sp.Symbol:
        return sp.Symbol(self.key, positive=True)

    @property
    def dims(self) -> tuple:
        return dims_of(self.unit)


_TABLE = [
    # group, key, latex, unit, meaning
    ("model", "h", r"d_{\mathrm{model}}", "1", "hidden size (hidden_size)"),
    ("model", "n_layers", r"n_{\mathrm{layers}}", "layer", "transformer layers (num_hidden_layers)"),
    ("model", "n_dense", r"n_{\mathrm{dense}}", "layer", "leading dense-FFN layers (first_k_dense_replace)"),
    ("model", "n_heads", r"n_h", "1", "attention (query) heads (num_attention_heads)"),
    ("model", "n_kv_heads", r"n_{kv}", "1", "key/value heads for MHA/GQA (num_key_value_heads)"),
    ("model", "d_head", r"d_h", "1", "head dimension for MHA/GQA (head_dim)"),
    ("model", "d_q", r"d_c'", "1", "MLA query low-rank dimension (q_lora_rank)"),
    ("model", "d_c", r"d_c", "1", "MLA compressed KV dimension (kv_lora_rank)"),
    ("model", "d_r", r"d_h^R", "1", "MLA decoupled RoPE key dimension (qk_rope_head_dim)"),
    ("model", "d_nope", r"d_h^{\mathrm{nope}}", "1", "MLA per-head non-RoPE query/key dimension (qk_nope_head_dim)"),
    ("model", "d_v", r"d_h^V", "1", "MLA per-head value dimension (v_head_dim)"),
    ("model", "d_ff", r"d_{\mathrm{ff}}", "1", "dense FFN intermediate size (intermediate_size)"),
    ("model", "d_e", r"d_{\mathrm{e}}", "1", "routed/shared expert intermediate size (moe_intermediate_size)"),
    ("model", "n_experts", r"E", "expert", "routed experts per MoE layer (n_routed_experts)"),
    ("model", "n_shared", r"E_s", "expert", "shared experts per MoE layer (n_shared_experts)"),
    ("model", "top_k", r"k", "expert", "routed experts chosen per token (num_experts_per_tok)"),
    ("model", "d_s", r"d_{\mathrm{s}}", "1", "shared expert intermediate size"),
    ("model", "vocab", r"V", "1", "vocabulary size (vocab_size)"),
    ("model", "n_emb", r"n_{\mathrm{emb}}", "1", "vocabulary matrices stored: 2 untied (embedding + head), 1 tied"),
    ("model", "P_attn", r"P_{\mathrm{attn}}", "param", "attention parameters per layer"),
    ("model", "n_mtp", r"n_{\mathrm{MTP}}", "1", "multi-token-prediction modules (num_nextn_predict_layers)"),
    ("parallel", "N_ep", r"N_{\mathrm{EP}}", "GPU", "GPUs in one expert-parallel group"),
    ("parallel", "E_red", r"E_{\mathrm{red}}", "expert", "redundant (replicated) routed experts per MoE layer"),
    ("bytes", "b_kv", r"b_{kv}", "B", "bytes per cached KV element (2 for BF16, 1 for FP8)"),
    ("bytes", "b_w", r"b_w", "B", "bytes per weight element"),
    ("bytes", "b_a", r"b_a", "B", "bytes per activation element sent over the network"),
    ("decode", "S_kv", r"S_{kv}", "B/token", "KV-cache bytes per token of context (all layers)"),
    ("decode", "ctx", r"\ell", "token", "context length: cached tokens per user"),
    ("decode", "batch", r"b", "user", "concurrent users (sequences) decoded per GPU"),
    ("decode", "W", r"W", "B", "weight bytes each GPU reads per decode step"),
    ("decode", "BW", r"\beta", "B/s", "HBM bandwidth per GPU"),
    ("decode", "F", r"\Phi", "FLOP/s", "dense matrix throughput per GPU"),
    ("decode", "accept", r"\alpha", "token/step", "tokens accepted per decode step (1 without MTP)"),
    ("decode", "s_q", r"s_q", "token/step", "query tokens processed per user per step (1 + MTP drafts)"),
    ("decode", "flop_mac", r"c_{\mathrm{mac}}", "FLOP", "FLOP per multiply-accumulate (2)"),
    ("decode", "R_gpu", r"R_{\mathrm{GPU}}", "token/s", "output tokens per second per GPU"),
    ("decode", "r_user", r"r_u", "token/s", "output rate seen by one user"),
    ("fleet", "N_node", r"N", "node", "serving nodes"),
    ("fleet", "G", r"G", "GPU/node", "GPUs per node"),
    ("fleet", "price", r"p", "USD/GPU/h", "rental price of one GPU-hour"),
    ("fleet", "T", r"T", "s", "accounting period"),
    ("fleet", "tok_hit", r"Q_{\mathrm{hit}}", "token", "input tokens served from the KV disk cache"),
    ("fleet", "tok_miss", r"Q_{\mathrm{miss}}", "token", "input tokens not in the cache"),
    ("fleet", "tok_out", r"Q_{\mathrm{out}}", "token", "output tokens"),
    ("fleet", "tok_in", r"Q_{\mathrm{in}}", "token", "input tokens (hit + miss)"),
    ("fleet", "pi_hit", r"\pi_{\mathrm{hit}}", "USD/token", "price of a cache-hit input token"),
    ("fleet", "pi_miss", r"\pi_{\mathrm{miss}}", "USD/token", "price of a cache-miss input token"),
    ("fleet", "pi_out", r"\pi_{\mathrm{out}}", "USD/token", "price of an output token"),
    ("fleet", "rate_in", r"R_{\mathrm{in}}", "token/s/node", "prefill throughput per node (input tokens)"),
    ("fleet", "rate_out", r"R_{\mathrm{out}}", "token/s/node", "decode throughput per node (output tokens)"),
    ("fleet", "revenue", r"\mathcal{R}", "USD", "revenue over the period"),
    ("fleet", "cost", r"C", "USD", "cost over the period"),
    # quantities the book's equations compute (their left-hand sides), so that every symbol of every
    # equation has one entry in the glossary
    ("model", "P_total", r"P_{\mathrm{total}}", "param", "parameters of the whole model (every expert counted)"),
    ("validation", "rel_err", r"\epsilon", "1", "relative error of a prediction: model / measurement - 1"),
    ("fleet", "margin_cp", r"\mu", "1", "cost-profit margin: profit over cost (5.45 reads as 545 %)"),
    ("fleet", "t_run", r"t_{\mathrm{run}}", "s", "wall-clock time of a run"),
    ("decode", "S_kv_mla", r"S_{kv}^{\mathrm{MLA}}", "B/token", "KV-cache bytes per token under multi-head latent attention"),
    ("decode", "S_kv_gqa", r"S_{kv}^{\mathrm{GQA}}", "B/token", "KV-cache bytes per token under grouped-query attention"),
    ("decode", "R_sol", r"R_{\mathrm{SOL}}", "token/s", "speed of light: tokens/s per GPU if a step only streamed the KV caches"),
    ("decode", "I_mla", r"I_{\mathrm{MLA}}", "FLOP/B", "arithmetic intensity of MLA decode attention: FLOP per byte of KV cache read"),
    ("decode", "I_ridge", r"I^{*}", "FLOP/B", "ridge point: the intensity above which a GPU is compute-bound"),
    ("decode", "R_comp", r"R_{\mathrm{compute}}", "token/s", "compute bound: tokens/s per GPU if attention ran at peak FLOP/s"),
    ("decode", "b_max", r"b_{\max}", "user", "largest batch whose requests (KV caches and buffers) fit in one GPU's HBM"),
    ("decode", "B_dense", r"B_{\mathrm{dense}}", "B", "bytes one generated token reads from a dense MLA cache"),
    ("decode", "B_dsa", r"B_{\mathrm{DSA}}", "B", "bytes one generated token reads under DeepSeek sparse attention"),
    ("parallel", "D_dest", r"D", "GPU", "expected distinct GPUs a token is dispatched to under EP"),
    ("parallel", "V_ep", r"V_{\mathrm{EP}}", "B", "bytes one token puts on the network per MoE layer under EP (dispatch + combine)"),
    ("parallel", "V_tp", r"V_{\mathrm{TP}}", "B", "bytes all GPUs of a TP group send per token and layer (ring all-reduce)"),
    ("parallel", "e_gpu", r"e_{\mathrm{GPU}}", "expert", "routed-expert slots one GPU holds per MoE layer"),
    ("parallel", "t_step", r"t_{\mathrm{step}}", "s", "time of one decode or prefill step; superscript (m = 1) or (m = 2): micro-batches"),
    ("prefill", "L_new", r"L_{\mathrm{new}}", "token", "prompt tokens computed per request (not from the prefix cache)"),
    ("prefill", "ctx_new", r"\bar\ell", "token", "mean context a computed prompt token attends to"),
    ("prefill", "F_prompt", r"F_{\mathrm{attn}}", "FLOP", "attention FLOP of one prompt"),
    ("prefill", "ttft", r"\mathrm{TTFT}", "s", "time to first token: queueing for the prefill pool plus the prefill step"),
    ("serving", "R_disagg", r"R_{\mathrm{disagg}}", "token/s", "output tokens/s per GPU, disaggregated (prefill and decode GPUs counted)"),
    ("serving", "R_agg", r"R_{\mathrm{agg}}", "token/s", "output tokens/s per GPU, aggregated (the same GPUs prefill and decode)"),
    ("serving", "r_agg", r"r_{\mathrm{agg}}", "token/s", "a user's output speed under aggregated serving"),
    ("serving", "c_in", r"c_{\mathrm{in}}", "USD/token", "cost of one input token"),
    ("serving", "c_out", r"c_{\mathrm{out}}", "USD/token", "cost of one output token"),
    ("elastic", "price_ratio", r"\rho", "1", "price ratio p_r / p_o of a reserved to an on-demand GPU-hour"),
    ("elastic", "n_load", r"n", "node", "nodes the load needs at time t"),
    ("elastic", "C_lend", r"C_{\lambda}", "USD", "cost of a reserve r when idle reserved nodes are lent out"),
    ("elastic", "r_opt", r"r^{*}", "node", "cost-minimising reserve"),
    ("elastic", "r_opt_lend", r"r^{*}_{\lambda}", "node", "cost-minimising reserve when idle reserved nodes are lent out"),
]

SYMBOLS: dict[str, Sym] = {}
for _group, _key, _latex, _unit, _meaning in _TABLE:
    if _key in SYMBOLS:
        raise RuntimeError(f"symbol {_key} defined twice")
    SYMBOLS[_key] = Sym(_key, _latex, _meaning, _unit, _group)

#: attribute access to the sympy symbols: ``S.h``, ``S.BW`` ...
S = SimpleNamespace(**{k: v.symbol for k, v in SYMBOLS.items()})

LATEX_NAMES = {v.symbol: v.latex for v in SYMBOLS.values()}


def register(group: str, key: str, latex: str, unit: str, meaning: str) -> sp.Symbol:
    """Add a symbol from another module (communication, elastic fleet); returns the sympy symbol."""
    if key in SYMBOLS:
        raise RuntimeError(f"symbol {key} defined twice")
    s = Sym(key, latex, meaning, unit, group)
    SYMBOLS[key] = s
    setattr(S, key, s.symbol)
    LATEX_NAMES[s.symbol] = latex
    return s.symbol
