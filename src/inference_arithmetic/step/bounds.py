"""Decode-rate bounds: bandwidth ("speed of light"), compute, and Little's law.

All rates are output tokens per second.  A decode step reads, per GPU, the KV
cache of its ``b`` users (``b * l * S_kv`` bytes) and ``W`` bytes of weights,
and produces ``alpha`` accepted tokens per user.
"""
from __future__ import annotations

import sympy as sp

from inference_arithmetic.core.formula import formula
from inference_arithmetic.core.symbols import S, register
from inference_arithmetic.model.dtypes import FLOP_PER_MAC  # noqa: F401

__all__ = ["sol_rate", "gpu_rate", "mla_intensity", "ridge_point", "mla_compute_rate",
           "users_in_flight", "kv_footprint", "kv_capacity", "max_batch"]

sol_rate = formula(
    "sol_rate", S.accept * S.BW / (S.ctx * S.S_kv), "token/s",
    "bandwidth-bound tokens/s per GPU when only the KV cache is read (weights ignored)")

gpu_rate = formula(
    "gpu_rate", S.accept * S.batch * S.BW / (S.batch * S.ctx * S.S_kv + S.W), "token/s",
    "bandwidth-bound tokens/s per GPU: b users' KV plus the weights, shared by the batch")

mla_intensity = formula(
    "mla_intensity",
    S.s_q * S.n_heads * S.flop_mac * (2 * S.d_c + S.d_r) / ((S.d_c + S.d_r) * S.b_kv),
    "FLOP/B",
    "MLA decode attention (absorbed): per cached latent, n_h heads do a (d_c+d_r) score and a d_c value product per query token")

ridge_point = formula("ridge_point", S.F / S.BW, "FLOP/B",
                      "arithmetic intensity above which a kernel is compute-bound")

mla_compute_rate = formula(
    "mla_compute_rate",
    S.accept * S.F / (S.s_q * S.n_layers * S.ctx * S.n_heads * S.flop_mac * (2 * S.d_c + S.d_r)),
    "token/s", "compute-bound tokens/s per GPU of MLA decode attention alone")

users_in_flight = formula("users_in_flight", S.R_gpu / S.r_user, "user",
                          "Little's law: concurrent users = throughput / per-user rate")

kv_footprint = formula("kv_footprint", S.batch * S.ctx * S.S_kv, "B",
                       "KV bytes held by b users at context l")

HBM = register("decode", "HBM", r"H", "B", "HBM capacity per GPU")
W_res = register("decode", "W_res", r"W_{\mathrm{res}}", "B", "weight bytes resident on one GPU")
reserve = register("decode", "reserve", r"r_{\mathrm{act}}", "B",
                   "HBM kept for activations, workspace and fragmentation")

kv_capacity = formula("kv_capacity", HBM - W_res - reserve, "B",
                      "HBM left for KV caches after weights and the reserve")

max_batch = formula("max_batch", sp.floor((HBM - W_res - reserve) / (S.ctx * S.S_kv)), "user",
                    "most users whose KV caches fit at context l")
