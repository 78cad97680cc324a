"""Serving modes: disaggregated (separate prefill and decode pools) and aggregated (shared GPUs).

Per-GPU throughput here always counts **every** GPU of the deployment, prefill included.
A workload is a stream of requests of ``isl`` input and ``osl`` output tokens.

* **Disaggregated**: a prefill pool at ``R_p`` input tokens/s per GPU and a decode pool at
  ``R_d`` output tokens/s per GPU.  Balanced pools serve the same requests per second, so
  the prefill:decode GPU ratio is ``(isl / R_p) / (osl / R_d)``.
* **Aggregated**: the same GPUs alternate prefill chunks and decode steps.  Serving one
  request's worth of output (``osl`` tokens) costs ``osl / R_d`` GPU-seconds of decode and
  ``isl / R_p`` of prefill; every decode step waits for the prefill work interleaved with it,
  so each user's speed falls by the decode share of the time.
* **Aggregated, mixed steps** (the schedulers of TensorRT-LLM and vLLM, which put prompt chunks and
  decode tokens in one forward pass; :mod:`.mixed`): each step carries a decode batch of ``b``
  requests, and a share of the steps also a prompt chunk of ``K`` tokens, the share that keeps pace
  with the requests that finish (``b a L_new / (L_out K)``, ``a`` output tokens per request and
  step).  The weights are read once for both: a chunk step is a decode step of all its tokens, with
  the decode batch's own attention, head and drafting and the chunk's prefill attention.  A prompt's
  time to first token is its chunk steps (one, holding several prompts, where it is shorter than a chunk)
  plus the M/D/1 wait of :mod:`.prefill` at the chunk share: chunk steps are the queue's server, busy
  in that share of the steps.
"""
from __future__ import annotations

import sympy as sp

from inference_arithmetic.core.formula import formula
from inference_arithmetic.core.symbols import register
from inference_arithmetic.serving.mode_rates import MODES, mode_rates  # noqa: F401
from inference_arithmetic.core.printing import name as _print_as
from inference_arithmetic.core.symbols import S
from inference_arithmetic.serving.prefill import rho, t_srv, ttft_md1
from inference_arithmetic.step.operations import T_a, kappa

__all__ = ["pd_ratio", "disagg_rate", "agg_rate", "agg_user_rate", "requests_fixed_split", "total_rate_disagg",
           "mixed_prompt_tokens", "chunk_share", "mixed_requests", "chunk_step", "mixed_step", "mixed_rate",
           "mixed_user_rate", "mixed_bound_rate", "mixed_batch_cap", "mixed_prompt_service", "mixed_ttft",
           "MODES", "mode_rates"]

R_p = register("serving", "R_p", r"R_{\mathrm{p}}", "token/s", "prefill input tokens/s per prefill GPU")
R_d = register("serving", "R_d", r"R_{\mathrm{d}}", "token/s", "decode output tokens/s per decode GPU")
r_d = register("serving", "r_d", r"r_{\mathrm{d}}", "token/s", "output tokens/s per user while decoding alone")
L_i = register("serving", "L_i", r"L_{\mathrm{in}}", "token", "input (prompt) tokens per request")
L_o = register("serving", "L_o", r"L_{\mathrm{out}}", "token", "output tokens per request")
N_p = register("serving", "N_p", r"N_{\mathrm{p}}", "GPU", "prefill GPUs")
N_d = register("serving", "N_d", r"N_{\mathrm{d}}", "GPU", "decode GPUs")

pd_ratio = formula("pd_ratio", (L_i / R_p) / (L_o / R_d), "1",
                   "prefill GPUs per decode GPU that balance a workload of L_in / L_out tokens")
disagg_rate = formula("disagg_rate", R_d / (1 + (L_i / R_p) / (L_o / R_d)), "token/s",
                      "disaggregated: output tokens/s per GPU, prefill and decode GPUs counted")
agg_rate = formula("agg_rate", 1 / (1 / R_d + L_i / (L_o * R_p)), "token/s",
                   "aggregated: output tokens/s per GPU when the same GPUs prefill and decode")
agg_user_rate = formula("agg_user_rate", r_d / (1 + (L_i / R_p) / (L_o / R_d)), "token/s",
                        "aggregated: a user's output speed, slowed by the prefill work interleaved with decode")
requests_fixed_split = formula(
    "requests_fixed_split", sp.Min(N_p * R_p / L_i, N_d * R_d / L_o), "1/s",
    "requests/s of a disaggregated deployment with a fixed split: the slower pool sets the pace")
total_rate_disagg = formula(
    "total_rate_disagg", (L_i + L_o) * requests_fixed_split.expr / (N_p + N_d), "token/s",
    "input plus output tokens/s per GPU of a fixed prefill/decode split (InferenceX's metric)")

# ---------------------------------------------------------------- aggregated serving in mixed steps
a_acc = register("serving", "a_acc", r"a_{\mathrm{tok}}", "token/step",
                 "output tokens a request gains per decode step (1, or MTP's accepted length)")
L_n = S.L_new                # prompt tokens computed per request (the rest from the prefix cache)
t_sm = register("serving", "t_sm", r"t_{\mathrm{step}}^{\mathrm{all}}", "s",
                "time of a decode step of every token of a mixed step, the prompt tokens as requests of s_q query tokens")
t_am = register("serving", "t_am", r"t_{\mathrm{attn}}^{\mathrm{all}}", "s", "that step's attention time, before kappa")
t_hm = register("serving", "t_hm", r"t_{\mathrm{head}}^{\mathrm{all}}", "s", "that step's output-head time, before kappa")
t_mm = register("serving", "t_mm", r"t_{\mathrm{MTP}}^{\mathrm{all}}", "s", "that step's MTP drafting time")
t_ad = register("serving", "t_ad", r"t_{\mathrm{attn}}^{\mathrm{d}}", "s",
                "the decode batch's own attention time over its whole context, before kappa")
t_hd = register("serving", "t_hd", r"t_{\mathrm{head}}^{\mathrm{d}}", "s", "the decode batch's output-head time, before kappa")
t_md = register("serving", "t_md", r"t_{\mathrm{MTP}}^{\mathrm{d}}", "s", "the decode batch's MTP drafting time")
t_ap = register("serving", "t_ap", r"t_{\mathrm{attn}}^{\mathrm{p}}", "s",
                "the prompt tokens' attention (prefill phase, over the cached prefix and half the prompt), before kappa")
R_bp = register("serving", "R_bp", r"\hat R_{\mathrm{p}}", "token/s",
                "roofline bound of a prefill-phase step of every token of a mixed step, tokens/s per GPU")
N_tok = register("serving", "N_tok", r"N_{\mathrm{tok}}", "token/step",
                 "a serving configuration's token budget per step and attention instance (max_num_tokens)")

K_ch = register("serving", "K_ch", r"K_{\mathrm{ch}}", "token/step",
                "prompt tokens a chunk step carries per attention instance (the prefill chunk)")
t_dd = register("serving", "t_dd", r"t_{\mathrm{step}}^{\mathrm{d}}", "s", "the decode batch's step alone")
R_bd = register("serving", "R_bd", r"\hat R_{\mathrm{d}}", "token/s",
                "roofline bound of the decode batch's step alone, output tokens/s per GPU (every draft accepted)")

mixed_prompt_tokens = formula(
    "mixed_prompt_tokens", S.batch * a_acc * L_n / L_o, "token/step",
    "prompt tokens per step that keep pace with the requests finishing (a step's finished requests bring theirs)")
chunk_share = formula("chunk_share", mixed_prompt_tokens.expr / K_ch, "1",
                      "share of steps that carry a prompt chunk beside the decode batch (at most 1 to keep pace)")
mixed_requests = formula(
    "mixed_requests", S.batch + K_ch / S.s_q, "user",
    "requests of s_q query tokens that hold every token of a chunk step: the decode batch and the chunk")
chunk_step = formula(
    "chunk_step", t_sm - t_mm + t_md + (t_ap + t_ad + t_hd - t_am - t_hm) / kappa, "s",
    "a chunk step: a decode step of all its tokens (the weights read once, every GEMM, expert and all-to-all at "
    "their sum), its attention, head and drafting the decode batch's, plus the chunk's prefill attention")
_print_as(register("serving", "f_ch", r"f_{\mathrm{ch}}", "1", "share of steps that carry a prompt chunk"),
          chunk_share.expr)
_print_as(register("serving", "t_ch", r"t_{\mathrm{ch}}", "s", "time of a chunk step"), chunk_step.expr)
_print_as(register("serving", "b_all", r"b_{\mathrm{all}}", "user",
                   "requests of s_q query tokens that hold a chunk step's tokens"), mixed_requests.expr)
register("serving", "t_mix", r"\bar t_{\mathrm{step}}", "s", "mean step of aggregated serving in mixed steps")
mixed_step = formula(
    "mixed_step", chunk_share.expr * chunk_step.expr + (1 - chunk_share.expr) * t_dd, "s",
    "mean step of aggregated serving in mixed steps: chunk steps in the share that keeps pace, decode steps otherwise")
mixed_rate = formula("mixed_rate", S.batch * a_acc / (T_a * mixed_step.expr), "token/s",
                     "aggregated in mixed steps: output tokens/s per GPU")
mixed_user_rate = formula("mixed_user_rate", a_acc / mixed_step.expr, "token/s",
                          "aggregated in mixed steps: a user's mean output speed, one step per token")
mixed_bound_rate = formula(
    "mixed_bound_rate",
    S.batch * S.s_q / (T_a * (chunk_share.expr * mixed_requests.expr * S.s_q / (T_a * R_bp)
                              + (1 - chunk_share.expr) * S.batch * S.s_q / (T_a * R_bd))), "token/s",
    "roofline bound of mixed steps, output tokens/s per GPU (every draft accepted): chunk steps at the "
    "prefill-phase bound of all their tokens (weights once, every FLOP at peak, no decode KV reads), decode steps "
    "at theirs; never below the mixed rate")
mixed_batch_cap = formula(
    "mixed_batch_cap", N_tok / (S.s_q + a_acc * L_n / L_o), "user",
    "the largest decode batch whose steps keep pace with its prompts inside a stated token budget per step "
    "(every step a chunk step of the budget)")
mixed_prompt_service = formula(
    "mixed_prompt_service", sp.Max(1, L_n / K_ch) * chunk_step.expr, "s",
    "a prompt's service in mixed steps: its chunk steps, consecutive (one where the prompt is shorter than a "
    "chunk, which then holds several prompts)")
_print_as(register("serving", "t_pm", r"t_{\mathrm{p}}^{\mathrm{mix}}", "s", "a prompt's chunk steps in mixed steps"),
          mixed_prompt_service.expr, where=False)      # printed as its own equation (t_ch by name there)
register("serving", "t_ttft_mix", r"t_{\mathrm{TTFT}}^{\mathrm{mix}}", "s", "time to first token in mixed steps")
mixed_ttft = formula(
    "mixed_ttft", ttft_md1.expr.subs({t_srv: mixed_prompt_service.expr, rho: chunk_share.expr}), "s",
    "time to first token in mixed steps: a prompt's chunk steps plus the M/D/1 mean wait, the chunk steps the "
    "server, busy in the chunk share of the steps")
