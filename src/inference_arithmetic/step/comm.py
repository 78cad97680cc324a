"""Communication volume of an MoE layer: expert-parallel dispatch/combine against tensor-parallel all-reduce.

Per token and per MoE layer.  EP (DeepEP-style): the token's hidden state goes,
in FP8 with per-128-element scales, to each GPU that holds one of its top-k experts
(not to its own GPU), and the expert outputs come back in BF16.  With DeepSeek's
node-limited routing a token reaches at most ``M`` nodes, so at most ``M`` copies
cross the scale-out network.  TP: a ring all-reduce of the layer output among the
``N_tp`` GPUs, each of which sends ``2 (N_tp - 1) / N_tp`` of the hidden vector.
Experts are assumed uniformly placed and uniformly chosen (a balanced load).
"""
from __future__ import annotations

import sympy as sp

from inference_arithmetic.core.formula import formula
from inference_arithmetic.core.symbols import S, register
from inference_arithmetic.model.dtypes import BF16_BYTES, FP8_DISPATCH_BYTES  # noqa: F401  (FP8 value + per-128 scale)

__all__ = ["ep_destinations", "ep_remote_gpus", "ep_bytes_per_token", "ep_scaleout_bytes_per_token",
           "tp_bytes_per_token", "tp_bytes_per_gpu_per_token", "ep_participants", "comm_time",
           "FP8_DISPATCH_BYTES", "BF16_BYTES", "comm_latency"]

N_tp = register("parallel", "N_tp", r"N_{\mathrm{TP}}", "GPU", "GPUs in one tensor-parallel group")
M_nodes = register("parallel", "M_nodes", r"M", "node",
                   "most nodes one token's experts may span (node-limited routing)")
b_disp = register("bytes", "b_disp", r"b_{\mathrm{disp}}", "B",
                  "bytes per hidden element in dispatch (FP8 value plus its share of a per-128 FP32 scale)")
b_comb = register("bytes", "b_comb", r"b_{\mathrm{comb}}", "B", "bytes per hidden element in combine (BF16)")
BW_link = register("parallel", "BW_link", r"\beta_{\mathrm{link}}", "B/s",
                   "link bandwidth per GPU and direction (NVLink or scale-out NIC)")
V_tok = register("parallel", "V_tok", r"V_{\mathrm{tok}}", "B",
                 "bytes one token sends per MoE layer over the link in question")


ep_destinations = formula(
    "ep_destinations", S.N_ep * (1 - (1 - 1 / S.N_ep) ** S.top_k), "GPU",
    "expected distinct GPUs holding a token's k experts when experts are spread evenly over N_EP GPUs")

ep_remote_gpus = formula(
    "ep_remote_gpus", ep_destinations.expr * (S.N_ep - 1) / S.N_ep, "GPU",
    "expected destinations other than the token's own GPU")

ep_participants = formula(
    "ep_participants", sp.Min(S.top_k, S.N_ep), "GPU",
    "most GPUs whose experts one token can use: the source's 'at most 8'")

ep_bytes_per_token = formula(
    "ep_bytes_per_token", ep_remote_gpus.expr * S.h * (b_disp + b_comb), "B",
    "EP dispatch plus combine bytes one token puts on the network per MoE layer")

ep_scaleout_bytes_per_token = formula(
    "ep_scaleout_bytes_per_token",
    sp.Min(M_nodes, S.N_ep / S.G) * (S.N_ep / S.G - 1) / (S.N_ep / S.G) * S.h * (b_disp + b_comb), "B",
    "EP bytes per token and MoE layer crossing the scale-out network: one copy per remote node, "
    "at most M nodes (node-limited routing); forwarding to the GPUs inside a node uses NVLink")

tp_bytes_per_gpu_per_token = formula(
    "tp_bytes_per_gpu_per_token", 2 * (N_tp - 1) / N_tp * S.h * S.b_a, "B",
    "ring all-reduce: bytes each of the N_TP GPUs sends per token and layer")

tp_bytes_per_token = formula(
    "tp_bytes_per_token", 2 * (N_tp - 1) * S.h * S.b_a, "B",
    "ring all-reduce: bytes all N_TP GPUs together send per token and layer")

t_lat = register("parallel", "t_lat", r"t_{\mathrm{lat}}", "s", "fixed latency of one dispatch or combine")

comm_latency = formula("comm_latency", 2 * (S.n_layers - S.n_dense) * t_lat, "s",
                       "latency floor per step: one dispatch and one combine per MoE layer")

comm_time = formula("comm_time", S.batch * S.s_q * (S.n_layers - S.n_dense) * V_tok / BW_link, "s",
                    "time to move the batch's tokens through every MoE layer's link traffic, per step")
