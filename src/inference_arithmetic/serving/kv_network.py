"""A disaggregated prompt's KV cache on the scale-out network: the one rule for ``serve`` and the planner.

In a disaggregated deployment each prompt's KV cache is written on its prefill GPU and read on its
decode GPU, so it crosses the scale-out network once.  Three consequences, the same wherever the book
serves disaggregated (:func:`.search.best` for ``serve``, :mod:`.market_options` and :mod:`.fleet_rows`
for the planner, each through :mod:`.kv_network_rates`):

- the time to first token grows by the transfer (:data:`kv_transfer_time`, a whole prompt's KV at the
  network's rate: its ``L_kv`` whole-cache tokens, the prompt's length, or less where layers keep a sliding
  window, :func:`.kv_bytes.effective_context`; a GQA cache split over an attention-TP instance would move in
  parts, so this is conservative there);
- a prefill GPU's KV output while busy must fit its network (:data:`kv_output_rate`): a prefill unit
  faster than that is no partner;
- a decode GPU takes in ``L_in / L_out`` tokens of KV per output token (:data:`kv_intake_rate`): a long
  prompt and a short answer can make the network, not the step, set its rate.  Each GPU of an
  attention instance of ``T_a`` GPUs receives the share of a token's KV it holds (``1 / T_kv``: an MLA
  latent whole on every GPU, a GQA cache split by KV heads) of the instance's prompts.

This module holds the formulas; the search and the planner read them without sympy, through
:mod:`.kv_network_rates`.
"""
from __future__ import annotations

from inference_arithmetic.core.formula import formula
from inference_arithmetic.core.symbols import S, register
from inference_arithmetic.serving.modes import L_i, L_o
from inference_arithmetic.step.operations import BW_so, T_a, T_kv

__all__ = ["t_kv", "L_kv", "kv_transfer_time", "kv_output_rate", "kv_intake_rate"]

t_kv = register("serving", "t_kv", r"t_{\mathrm{kv}}", "s",
                "time a prompt's KV cache takes to cross the scale-out network, prefill GPU to decode GPU")
L_kv = register("serving", "L_kv", r"L_{\mathrm{kv}}", "token",
                "whole-cache tokens of KV one prompt's cache holds: L_in, fewer where layers attend to a sliding window")

kv_transfer_time = formula("kv_transfer_time", L_kv * S.S_kv / BW_so, "s",
                           "time to move one prompt's KV cache from its prefill GPU to its decode GPU")
kv_output_rate = formula("kv_output_rate", BW_so * L_i / (L_kv * S.S_kv), "token/s",
                         "input tokens/s per prefill GPU whose KV cache its scale-out network carries out")
kv_intake_rate = formula("kv_intake_rate", L_o * BW_so * T_kv / (L_kv * S.S_kv * T_a), "token/s",
                         "output tokens/s per decode GPU whose prompts' KV cache its scale-out network brings in")
