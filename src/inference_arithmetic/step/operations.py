"""One step-time structure for decode and prefill, built from per-operation efficiencies.

Per GPU and per step of a deployment unit of ``N_EP`` GPUs (one expert-parallel group),
with attention instances of ``T_a`` GPUs (1: data-parallel attention, DeepSeek's layout;
more: tensor-parallel attention) each serving ``b`` requests of ``s_q`` query tokens:

* **attention** reads the requests' KV caches and does its FLOP
  (:math:`t_{\\mathrm{attn}}`), each against an achieved rate = efficiency x peak;
* **dense GEMMs** (attention projections, dense FFN layers, shared experts, router) and the
  **output head** stream their weights once per micro-batch and do their FLOP (the head only at the
  positions a step samples, :data:`head_rows`: one per request in prefill, the token and its drafts in decode);
* **routed experts** stream the weights of the local experts that at least one token chose,
  once per micro-batch, and do the FLOP of the most loaded GPU (load imbalance ``I``);
* **communication**: dispatch/combine (EP) split between the scale-out NIC and NVLink, with a
  latency per call, or all-reduces (TP), each at its kernel's achieved bandwidth;
* **overlap**: with two micro-batches communication hides behind computation, which loses the
  SMs the communication kernels take; with one, the parts add up.

Each operation's time is the larger of its memory time and its compute time at the achieved
rates of :mod:`.efficiency` (a roofline per operation, not one factor on the whole step).
Decode and prefill are two uses of this structure; they differ in the attention form, the
context the attention sees, the grouped-GEMM kernel and the all-to-all kernels.
"""
from __future__ import annotations

import sympy as sp

from inference_arithmetic.core.formula import formula, formula_group
from inference_arithmetic.core.printing import name as _print_as
from inference_arithmetic.core.symbols import S, register
from inference_arithmetic.model import kv, params
from inference_arithmetic.step import bounds, comm
from inference_arithmetic.step.layout import KERNELS, kernels_per_step  # noqa: F401
from inference_arithmetic.step.sparse import A_fm, A_i, F_i, S_idx, ell_core

__all__ = ["T_a", "T_m", "P_pp", "m_mb", "n_dr", "p_acc", "P_at", "P_ds", "P_hd", "P_e", "A_f", "b_aw", "b_dw", "b_mw",
           "b_hw", "F_a", "F_d", "F_m", "F_h", "e_mbw", "e_mfl", "e_gbw", "e_gfl", "e_xfl", "q_x", "q_a", "i_mod", "q_p", "q_d", "q_h", "q_r", "q_R", "q_c", "e_so", "e_nv", "e_ar",
           "I_ep", "BW_nv", "BW_so", "V_so", "V_nv", "t_ar_lat", "f_sm", "kv_rd", "t_0", "t_k0", "K_k", "kappa",
           "s_smp", "head_rows", "attn_flop_mla", "attn_flop_gqa", "t_index", "ctx_core", "attn_flop_mla_prefill", "T_kv", "ell", "mtp_tokens", "imbalance_unbalanced", "experts_touched",
           "t_attn", "t_proj", "t_ffn", "t_dense", "t_head", "t_moe", "t_a2a", "t_allreduce", "t_moe_allreduce", "a2a_bytes_ll",
           "t_kernels", "remote_share", "tk", "step_serial", "step_overlap", "tl", "mtp_time", "bound_time", "weights_read", "ta",
           "td", "th", "tm", "tc", "n_moe", "n_tok", "n_g", "U_tok", "KERNELS", "kernels_per_step",
           "weights_resident", "f_st", "stage_share", "ll_buffer_per_token", "hbm_free", "batch_fit", "buf_tok", "rho_res", "step_terms"]

# ----------------------------------------------------------------------------- symbols
T_a = register("step", "T_a", r"N_{\mathrm{TP}}^{\mathrm{attn}}", "GPU",
               "GPUs sharing one attention instance (attention tensor-parallel degree; 1: data-parallel attention)")
T_m = register("step", "T_m", r"N_{\mathrm{TP}}^{\mathrm{MoE}}", "GPU",
               "GPUs splitting each routed expert (expert tensor-parallel degree; 1: whole experts)")
P_pp = register("step", "P_pp", r"N_{\mathrm{PP}}", "1",
                "pipeline stages (pipeline-parallel degree; 1: none): each stage's GPUs hold its share of the layers")
m_mb = register("step", "m_mb", r"m", "1", "micro-batches per step (2: two-batch overlap)")
n_dr = register("step", "n_dr", r"n_{\mathrm{draft}}", "token/step", "MTP draft tokens per request and step")
p_acc = register("step", "p_acc", r"\gamma", "1", "acceptance of each MTP draft token (given the earlier ones)")
P_at = register("step", "P_at", r"P_{\mathrm{attn}}^{\mathrm{all}}", "param", "attention parameters, all layers")
P_ds = register("step", "P_ds", r"P_{\mathrm{dense}}", "param",
                "dense FFN, shared-expert, router and norm parameters, all layers")
P_hd = register("step", "P_hd", r"P_{\mathrm{head}}", "param", "output head parameters (vocabulary x hidden)")
P_e = register("step", "P_e", r"P_e", "param", "parameters of one routed expert")
A_f = register("step", "A_f", r"A", "FLOP", "attention FLOP per query token per context token, all layers")
b_aw = register("step", "b_aw", r"b_{\mathrm{attn}}", "B", "bytes per attention weight")
b_dw = register("step", "b_dw", r"b_{\mathrm{dense}}", "B", "bytes per dense / shared-expert weight")
b_mw = register("step", "b_mw", r"b_{\mathrm{MoE}}", "B", "bytes per routed-expert weight")
b_hw = register("step", "b_hw", r"b_{\mathrm{head}}", "B", "bytes per output-head weight")
F_a = register("step", "F_a", r"\Phi_{\mathrm{attn}}", "FLOP/s", "peak FLOP/s at the attention compute dtype")
F_d = register("step", "F_d", r"\Phi_{\mathrm{dense}}", "FLOP/s", "peak FLOP/s at the dense-weight dtype")
F_m = register("step", "F_m", r"\Phi_{\mathrm{MoE}}", "FLOP/s", "peak FLOP/s at the routed-expert dtype")
F_h = register("step", "F_h", r"\Phi_{\mathrm{head}}", "FLOP/s", "peak FLOP/s at the head dtype")
e_mbw = register("step", "e_mbw", r"\eta^{\mathrm{attn}}_{\beta}", "1", "attention kernel: achieved / peak HBM bandwidth")
e_mfl = register("step", "e_mfl", r"\eta^{\mathrm{attn}}_{\Phi}", "1", "attention kernel: achieved / peak FLOP/s")
e_gbw = register("step", "e_gbw", r"\eta^{\mathrm{GEMM}}_{\beta}", "1", "weight streaming in GEMMs: achieved / peak bandwidth")
e_gfl = register("step", "e_gfl", r"\eta^{\mathrm{GEMM}}_{\Phi}", "1", "dense GEMMs: achieved / peak FLOP/s")
e_xfl = register("step", "e_xfl", r"\eta^{\mathrm{exp}}_{\Phi}", "1", "grouped expert GEMMs: achieved / peak FLOP/s")
q_x = register("step", "q_x", r"q_{\mathrm{exp}}", "1",
               "grouped expert GEMMs of a serving framework: the model's time at DeepSeek's kernel rates / the "
               "framework's measured time (1 for DeepSeek's own kernels); a function of the tokens a MoE layer "
               "receives, interpolated log-log in a measured kernel table")
q_a = register("step", "q_a", r"q_{\mathrm{attn}}", "1",
               "attention of a serving framework: the model's time at DeepSeek's kernel rates / the measured "
               "time of the framework's attention block (1 for DeepSeek's kernels); a function of requests and "
               "context (decode) or of requests and new tokens per request (prefill), interpolated log-log in a "
               "measured kernel table")
i_mod = register("step", "i_mod", r"i_{\mathrm{mod}}", "1",
                 "1 where the framework's measured attention module includes the lightning indexer (a DSA module "
                 "table), so the model's indexer term is not added; else 0")
q_p = register("step", "q_p", r"q_{\mathrm{proj}}", "1",
               "attention projections: q_attn where the measured attention block includes them, else q_GEMM")
q_d = register("step", "q_d", r"q_{\mathrm{GEMM}}", "1",
               "dense GEMMs of a serving framework: the model's time / the measured time of the stored projection "
               "and shared-expert shapes at the same tokens (1 for DeepSeek's kernels)")
q_h = register("step", "q_h", r"q_{\mathrm{head}}", "1",
               "output head of a serving framework: q_GEMM read at the head's rows (the sampled positions), "
               "not at the new tokens (1 for DeepSeek's kernels)")
q_r = register("step", "q_r", r"q_{\mathrm{AR}}", "1",
               "attention-TP all-reduce of a serving framework: the model's time / the measured time at the same "
               "message size and GPU count (1 for DeepSeek's kernels)")
q_R = register("step", "q_R", r"q_{\mathrm{AR}}^{\mathrm{MoE}}", "1",
               "MoE-TP all-reduce among the unit's GPUs: as q_AR at that GPU count")
q_c = register("step", "q_c", r"q_{\mathrm{A2A}}", "1",
               "dispatch and combine of a serving framework: the model's time at DeepSeek's DeepEP rates / the "
               "framework's measured DeepEP time (low-latency kernels in decode, normal in prefill) at the same "
               "tokens per GPU (1 for DeepSeek's kernels); interpolated log-log in a measured kernel table")
e_so = register("step", "e_so", r"\eta_{\mathrm{so}}", "1", "all-to-all over the scale-out NIC: achieved / line rate")
e_nv = register("step", "e_nv", r"\eta_{\mathrm{nv}}", "1", "all-to-all over NVLink: achieved / link bandwidth")
e_ar = register("step", "e_ar", r"\eta_{\mathrm{AR}}", "1", "all-reduce bus bandwidth / NVLink bandwidth")
I_ep = register("step", "I_ep", r"\omega", "1", "expert load imbalance: routed tokens of the busiest GPU over the mean")
BW_nv = register("step", "BW_nv", r"\beta_{\mathrm{nv}}", "B/s", "NVLink bandwidth per GPU and direction")
BW_so = register("step", "BW_so", r"\beta_{\mathrm{so}}", "B/s", "scale-out NIC bandwidth per GPU and direction")
V_so = register("step", "V_so", r"V_{\mathrm{so}}", "B", "all-to-all bytes per token and MoE layer over the NIC")
V_nv = register("step", "V_nv", r"V_{\mathrm{nv}}", "B", "all-to-all bytes per token and MoE layer over NVLink")
t_ar_lat = register("step", "t_ar_lat", r"t_{\mathrm{AR}}", "s", "latency of one all-reduce")
f_sm = register("step", "f_sm", r"f_{\mathrm{SM}}", "1", "share of SMs communication kernels take while overlapped")
kv_rd = register("step", "kv_rd", r"\delta_{kv}", "1",
                "1 when a step reads the KV cache of its context (decode), 0 when it computes it (prefill)")
t_0 = register("step", "t_0", r"t_0", "s", "fixed time per step (launches, synchronisation, sampling)")
t_k0 = register("step", "t_k0", r"t_{k}", "s", "fixed time of one kernel beyond its bytes and FLOP")
K_k = register("step", "K_k", r"K", "1", "kernels per step and micro-batch (GEMMs, attention, small kernels)")
T_kv = register("step", "T_kv", r"N_{kv}", "GPU",
                "GPUs one request's KV cache is split over: under attention TP a GQA cache splits by KV heads, "
                "min(attention TP degree, KV heads); an MLA latent is shared by every head (1)")
kappa = register("step", "kappa", r"\kappa", "1",
                 "pipeline efficiency: kernel-benchmark compute time / compute time in a serving step "
                 "(the work no kernel table covers: norms, RoPE, quantisation, routing, launches); "
                 "calibrated on DeepSeek's published profiles")

s_smp = register("step", "s_smp", r"s_{\mathrm{smp}}", "token/step",
                 "positions per request whose logits a step computes: decode 1 + MTP drafts (the token and each "
                 "draft are verified); prefill 1 (the sampled first token of a prompt that ends in the step; "
                 "vLLM also computes, and discards, the last position of a chunk in the middle of a prompt)")

n_moe = S.n_layers - S.n_dense
ell = register("step", "ell_eff", r"\ell_{\mathrm{eff}}", "token",
               "context a step attends to and caches, averaged over the layers (the whole context, "
               "or the last w tokens in sliding-window layers)")
_print_as(ell, kv.context_windowed.expr)
ctx_eff = kv.context_windowed.expr          # = the context ell when no layer has a window
n_tok = S.batch * S.s_q                   # query tokens of one attention instance per step
n_g = n_tok / T_a                         # tokens each GPU sends into the MoE
U_tok = S.N_ep * n_g                      # tokens of the whole unit per step
head_rows = formula(
    "head_rows", S.batch * sp.Min(S.s_q, s_smp), "token/step",
    "positions of one attention instance whose logits the output head computes per step: the sampled ones "
    "(vLLM's logits_indices, SGLang's last index per sequence, TensorRT-LLM without gather_context_logits), "
    "at most the new tokens")
c = S.flop_mac

attn_flop_mla = formula("attn_flop_mla", S.n_layers * S.n_heads * c * (2 * S.d_c + S.d_r), "FLOP",
                        "MLA decode (absorbed): a (d_c+d_r) score and a d_c value product per head and context token")
attn_flop_gqa = formula("attn_flop_gqa", S.n_layers * S.n_heads * c * 2 * S.d_head, "FLOP",
                        "MHA/GQA: a d_h score and a d_h value product per query head and context token")
attn_flop_mla_prefill = formula(
    "attn_flop_mla_prefill", S.n_layers * S.n_heads * c * (S.d_nope + S.d_r + S.d_v), "FLOP",
    "MLA prefill (not absorbed): a (d_nope+d_r) score and a d_v value product per head and context token")

mtp_tokens = formula("mtp_tokens", (1 - p_acc ** (n_dr + 1)) / (1 - p_acc), "token/step",
                     "tokens accepted per step with n draft tokens, each kept with probability p "
                     "if every earlier one was: 1 + p + ... + p^n")

imbalance_unbalanced = formula(
    "imbalance_unbalanced",
    1 + register("step", "r_slot", r"r_1", "1", "published (max-mean)/mean load of single expert slots")
    * (S.n_experts / S.N_ep) ** -register("step", "p_imb", r"q", "1",
                                         "exponent of the imbalance power law through the two published points"),
    "1", "max/mean routed tokens per GPU without redundant experts: a power law in the experts per GPU")

experts_touched = formula(
    "experts_touched",
    (S.n_experts + S.E_red) / (S.N_ep / T_m) * params.expert_hit.expr.subs(params.n_sel, U_tok / m_mb),
    "expert", "local expert slots that at least one of a micro-batch's tokens chose, per MoE layer")

ctx_core = ell_core(ctx_eff)               # = ctx_eff without sparse attention (k_top infinite)
_print_as(register("step", "ell_core", r"\ell_{\mathrm{core}}", "token",
                   "context the attention core sees: the context, at most the top-k tokens under sparse attention"),
          ctx_core)
t_index = formula(
    "t_index",
    sp.Max(kv_rd * S.batch * ctx_eff * S_idx / (T_kv * e_mbw * S.BW), n_tok * ctx_eff * A_i / (T_a * e_mfl * F_i)),
    "s", "DeepSeek Sparse Attention's lightning indexer: read every cached index key, or score every context "
         "token at the FP8 rate (0 without sparse attention)")

t_attn = formula(
    "t_attn",
    sp.Max(kv_rd * S.batch * ctx_core * (S.S_kv - S_idx) / (T_kv * e_mbw * S.BW),
           n_tok * sp.Min(ctx_core * A_f, ctx_eff * A_fm) / (T_a * e_mfl * F_a)) / q_a + (1 - i_mod) * t_index.expr,
    "s", "attention: read the instance's KV caches (split over N_kv GPUs), or do the attention FLOP split "
         "over the instance's GPUs, over the context the core sees (sparse attention: the top-k tokens), "
         "scaled by a framework's measured attention rate, plus the indexer unless the measured module includes "
         "it (DSA prefill: the cheaper of MLA over the top-k and masked MHA over the context)")

t_proj = formula(
    "t_proj", sp.Max(m_mb * P_at * b_aw / (T_a * e_gbw * S.BW), c * n_tok * P_at / (T_a * e_gfl * F_d)), "s",
    "attention projections at DeepSeek's kernel rates: stream the weights per micro-batch, or do the FLOP")

t_ffn = formula(
    "t_ffn", sp.Max(m_mb * P_ds * b_dw / (T_a * e_gbw * S.BW), c * n_tok * P_ds / (T_a * e_gfl * F_d)), "s",
    "dense FFN, shared experts, router at DeepSeek's kernel rates: stream the weights per micro-batch, or do the FLOP")

t_dense = formula(
    "t_dense",
    t_proj.expr / q_p + t_ffn.expr / q_d,
    "s", "attention projections, dense FFN, shared experts: stream the weights per micro-batch, or do the FLOP, "
         "each scaled by a framework's measured rate")

t_head = formula(
    "t_head",
    sp.Max(m_mb * P_hd * b_hw / (T_a * e_gbw * S.BW), c * head_rows.expr * P_hd / (T_a * e_gfl * F_h)) / q_h,
    "s", "output head (vocabulary-parallel under attention TP): stream its weights per micro-batch, or do the "
         "FLOP of the sampled positions only, at a framework's measured GEMM rate at those rows")

t_moe = formula(
    "t_moe",
    n_moe * sp.Max(m_mb * experts_touched.expr * P_e * b_mw / (T_m * e_gbw * S.BW),
                   c * P_e * U_tok * S.top_k * I_ep / (S.N_ep * e_xfl * F_m)) / q_x,
    "s", "routed experts: stream the chosen local experts per micro-batch, or do the most loaded GPU's FLOP, "
         "at DeepSeek's kernel rates scaled by a framework's measured grouped-GEMM rate")

t_a2a = formula(
    "t_a2a",
    n_moe * (2 * comm.t_lat + n_g * I_ep * sp.Max(V_so / (e_so * BW_so), V_nv / (e_nv * BW_nv))) / q_c,
    "s", "dispatch and combine per MoE layer: a latency each, and the busiest GPU's bytes over NIC and NVLink, "
         "scaled by a framework's measured DeepEP rate")

t_allreduce = formula(
    "t_allreduce",
    (S.n_layers + S.n_dense) * (2 * (T_a - 1) / T_a * n_tok * S.h * comm.b_comb / (e_ar * BW_nv)
                                + t_ar_lat * sp.Min(1, T_a - 1)) / q_r,
    "s", "attention TP: an all-reduce of each layer's attention output, and of each dense layer's FFN output "
         "(split the same way), among the instance's GPUs (none without TP)")

t_moe_allreduce = formula(
    "t_moe_allreduce",
    n_moe * (2 * (S.N_ep - 1) / S.N_ep * n_tok * S.h * comm.b_comb / (e_ar * BW_nv) + t_ar_lat) / q_R,
    "s", "MoE TP: every GPU computes slices of its experts for all tokens, then an all-reduce of the output")

a2a_bytes_ll = formula(
    "a2a_bytes_ll", S.top_k * (1 - T_m / S.N_ep) * S.h * (comm.b_disp + comm.b_comb), "B",
    "low-latency (decode) all-to-all: one copy per chosen expert on another GPU, dispatch and combine")

t_kernels = formula("t_kernels", m_mb * K_k * t_k0, "s",
                    "every kernel of a micro-batch costs a fixed time on top of its bytes and FLOP")

remote_share = formula("remote_share", sp.Max(0, 1 - S.G / S.N_ep), "1",
                       "share of a GPU's peers outside its NVLink domain")

tk = register("step", "tk", r"t_{\mathrm{kern}}", "s", "fixed kernel time per step")
ta, td, th, tm, tc = (register("step", k, lx, "s", m) for k, lx, m in (
    ("ta", r"t_{\mathrm{attn}}", "attention time per step"), ("td", r"t_{\mathrm{dense}}", "dense-GEMM time per step"),
    ("th", r"t_{\mathrm{head}}", "output-head time per step"), ("tm", r"t_{\mathrm{MoE}}", "routed-expert time per step"),
    ("tc", r"t_{\mathrm{comm}}", "communication time per step")))

step_serial = formula("step_serial", (ta + td + th + tm + tk) / kappa + tc + t_0, "s",
                      "one micro-batch: computation and communication in sequence")
_A = (ta + td + th + tk) / (2 * kappa * (1 - f_sm))      # one micro-batch's attention-side computation
_M = tm / (2 * kappa * (1 - f_sm))                        # one micro-batch's expert computation
_Cd = tc * comm.b_disp / (2 * (comm.b_disp + comm.b_comb))  # one micro-batch's dispatch
_Cc = tc * comm.b_comb / (2 * (comm.b_disp + comm.b_comb))  # one micro-batch's combine

for _key, _lx, _m, _expr in (
        ("cA", r"\tau_{\mathrm{A}}", "one micro-batch's attention-side computation per step", _A),
        ("cM", r"\tau_{\mathrm{M}}", "one micro-batch's expert computation per step", _M),
        ("cD", r"\tau_{\mathrm{D}}", "one micro-batch's dispatch per step", _Cd),
        ("cC", r"\tau_{\mathrm{C}}", "one micro-batch's combine per step", _Cc)):
    _print_as(register("step", _key, _lx, "s", _m), _expr)
_print_as(register("step", "X_t", r"e_{\mathrm{used}}", "expert",
                   "local expert slots that a micro-batch's tokens chose, per GPU and MoE layer"),
          experts_touched.expr, where=False)

step_overlap = formula(
    "step_overlap", sp.Max(_A, _Cc) + sp.Max(_A, _Cd) + sp.Max(_M, _Cd) + sp.Max(_M, _Cc) + t_0, "s",
    "two micro-batches in a four-stage pipeline per layer: each stage overlaps one micro-batch's "
    "computation (attention side, or experts) with the other's dispatch or combine, and lasts as long "
    "as the slower of the two; computation runs on the SMs communication leaves free")

tl = register("step", "tl", r"t_{\mathrm{layers}}", "s", "time of every layer (attention, dense, experts, communication)")
mtp_time = formula("mtp_time", n_dr * (tl / S.n_layers + th) / kappa, "s",
                   "MTP drafting: each draft token runs one more layer (an average layer) and the head")

weights_read = formula(
    "weights_read",
    (P_at * b_aw + P_ds * b_dw + P_hd * b_hw) / T_a + n_moe * experts_touched.expr.subs(m_mb, 1) * P_e * b_mw / T_m,
    "B", "weight bytes one GPU reads per step: its share of the replicated weights and the local experts "
         "that at least one of the step's tokens chose (the speed-of-light bounds read the same bytes)")

bound_time = formula(
    "bound_time",
    sp.Max((kv_rd * S.batch * (ctx_core * (S.S_kv - S_idx) + ctx_eff * S_idx) / T_kv + weights_read.expr) / S.BW,
           n_tok * (sp.Min(ctx_core * A_f, ctx_eff * A_fm) / F_a + ctx_eff * A_i / F_i) / T_a
           + c * (n_tok * (P_at + P_ds) / F_d + head_rows.expr * P_hd / F_h) / T_a
           + n_moe * c * P_e * U_tok * S.top_k / (S.N_ep * F_m)),
    "s", "roofline bound on the step: every byte read once at peak bandwidth, or every FLOP at peak, "
         "no communication, perfect balance")


# ----------------------------------------------------------------------------- HBM (the numbers: :mod:`.memory`)
buf_tok = register("step", "buf_tok", r"B_{\mathrm{buf}}", "B",
                   "low-latency all-to-all buffer bytes per token a GPU sends (0 without those buffers)")
rho_res = register("step", "rho_res", r"f_{\mathrm{res}}", "1", "share of HBM kept for activations and workspace")
_local_slots = (S.n_experts + S.E_red) / (S.N_ep / T_m)

f_st = register("step", "f_st", r"f_{\mathrm{stage}}", "1",
                "the fullest pipeline stage's share of the layers (1 without a pipeline)")
stage_share = formula("stage_share", sp.ceiling(S.n_layers / P_pp) / S.n_layers, "1",
                      "the fullest pipeline stage's share of the layers: the layers over the stages, rounded up")

weights_resident = formula(
    "weights_resident",
    ((P_at * b_aw + P_ds * b_dw) * f_st + S.n_emb * P_hd * b_hw / sp.Min(S.n_emb, P_pp)) / T_a
    + n_moe * _local_slots * P_e * b_mw * f_st / T_m
    + sp.Min(1, n_dr) * ((P_at * b_aw + P_ds * b_dw) / (S.n_layers * T_a) + 2 * S.h ** 2 * b_dw / T_a
                         + _local_slots * P_e * b_mw / T_m),
    "B", "weights resident on one GPU: replicated parts split by attention TP, the local expert slices, and "
         "with MTP one more layer (its replicated weights, the 2h x h projection and its experts); in a pipeline "
         "of stages each GPU holds its stage's layers (the fullest stage's share) and the embedding or the head")

ll_buffer_per_token = formula(
    "ll_buffer_per_token", 2 * (comm.b_disp + comm.b_comb) * (S.n_experts + S.E_red) * S.h, "B",
    "DeepEP low-latency receive buffers per token a GPU sends: every expert slot of the unit may receive it, "
    "dispatch plus combine, double-buffered")

_per_request = ctx_eff * S.S_kv / T_kv + S.s_q * buf_tok / T_a
_room = bounds.HBM * (1 - rho_res) - bounds.W_res
hbm_free = formula("hbm_free", _room - S.batch * _per_request, "B",
                   "HBM left per GPU after the reserve, the weights, b requests' KV caches and their buffers")
batch_fit = formula("batch_fit", sp.Max(0, sp.floor(_room / _per_request)), "user",
                    "most requests per attention instance that fit: the room left over the bytes each needs")

# ----------------------------------------------------------------------------- evaluated together
#: every step-time term and the roofline bound in one generated function (:func:`.evaluate.evaluate`)
step_terms = formula_group("step_terms", (t_kernels, t_attn, t_dense, t_head, t_moe, t_a2a, t_allreduce,
                                          t_moe_allreduce, bound_time))
