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
"""
from __future__ import annotations

import sympy as sp

from inference_arithmetic.core.formula import formula
from inference_arithmetic.core.symbols import register
from inference_arithmetic.serving.mode_rates import MODES, mode_rates  # noqa: F401

__all__ = ["pd_ratio", "disagg_rate", "agg_rate", "agg_user_rate", "requests_fixed_split", "total_rate_disagg",
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
