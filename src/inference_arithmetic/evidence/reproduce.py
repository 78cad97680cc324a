"""DeepSeek's day 6 derived from its token volumes alone: the step model predicts the per-node
rates, and the rates and volumes give the nodes and the cost.

DeepSeek published one day of V3/R1 serving (``deepseek-day6``): 608 G input tokens (56.3 % cache
hits), 168 G output tokens, 73.7k input and 14.8k output tokens/s per H800 node, 226.75 nodes on
average (278 at the peak), $87,072 a day.  :mod:`.figures` checks that those figures agree with
*each other*.  Here the per-node rates are not read from the note: the step model predicts them
from DeepSeek's published layouts (prefill EP32, decode EP144, 32 redundant experts each, two
micro-batches) and its published workload (cache-hit share, average KV length, 20-22 tok/s per
user), and the nodes and the cost follow.  Every result is a model prediction with its error
against DeepSeek's published figure.

The mean prompt length is not published.  It is derived (:data:`isl_from_day`) from two
published numbers under the assumption that requests are alike: the average KV length a decode
step sees, ``L_in + L_out / 2``, is 4,989 tokens, and ``L_in / L_out`` is the ratio of input to
output tokens of the day.  :func:`isl_sensitivity` shows what another prompt length would give.

DeepSeek's 73.7k and 14.8k are 24-hour averages over the nodes serving each phase, not
saturated rates: a prefill pool must idle part of the time or its queue (and the time to first
token, :data:`.prefill.ttft_md1`) grows without bound.  :data:`implied_utilisation` is the
published rate over the model's saturated rate.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from inference_arithmetic.serving import fleet, operating, plan, prefill
from inference_arithmetic.serving.search import Space
from inference_arithmetic.serving.workload import Profile, Workload
from inference_arithmetic import step
from inference_arithmetic.hardware.gpus import gpu
from inference_arithmetic.evidence import measurements
from inference_arithmetic.evidence.measurements import measurement
from inference_arithmetic.model.config import model
from inference_arithmetic.core.errors import InputError
from inference_arithmetic.evidence.published import day6_inputs
from inference_arithmetic.core.formula import formula
from inference_arithmetic.serving.modes import L_i, L_o
from inference_arithmetic.core.symbols import S, register

__all__ = ["decode_mean_context", "isl_from_day", "osl_from_day", "implied_utilisation", "fleet_output_rate", "fleet_output_per_gpu", "Compared", "Day",
           "deepseek_layouts", "day6", "isl_sensitivity", "deepseek_check"]

R_meas = register("reproduce", "R_meas", r"\bar R", "token/s/node",
                  "published day-average rate per node (input tokens for prefill, output for decode)")
R_sat = register("reproduce", "R_sat", r"R^{*}", "token/s/node",
                 "the model's rate per node with the pool always busy (saturated)")

decode_mean_context = formula(
    "decode_mean_context", L_i + L_o / 2, "token",
    "mean KV length over a request's output tokens: the prompt and, on average, half the output")

# L_in from  mean context = L_in + L_out / 2  and  L_in / L_out = T_in / T_out  (requests alike)
_isl = sp.solve(sp.Eq(decode_mean_context.expr.subs(L_o, L_i * S.tok_out / S.tok_in), S.ctx), L_i)[0]
isl_from_day = formula("isl_from_day", _isl, "token",
                       "mean prompt length of a day whose requests are alike: the mean KV length and the "
                       "input/output token ratio")
osl_from_day = formula("osl_from_day", _isl * S.tok_out / S.tok_in, "token",
                       "mean output length of a day whose requests are alike")
fleet_output_rate = formula("fleet_output_rate", S.tok_out / (S.T * S.N_node * S.G), "token/s/GPU",
                            "output tokens per second per GPU of the whole fleet, prefill GPUs included")
implied_utilisation = formula("implied_utilisation", R_meas / R_sat, "1",
                              "share of the time a pool would be busy if it ran at the model's saturated rate "
                              "and averaged the published rate")


@dataclass(frozen=True)
class Compared:
    """One derived quantity: ``value`` (in ``unit``), what it is (``kind``: "model prediction",
    "bound" or "derived assumption"), and the published figure it is compared with, if any."""

    key: str
    title: str
    value: float
    unit: str
    kind: str
    published: float | None = None

    @property
    def error(self) -> float | None:
        """model / published - 1 (None without a published figure)."""
        return None if self.published is None else self.value / self.published - 1


@dataclass(frozen=True)
class Day:
    """DeepSeek's day derived from its token volumes: every :class:`Compared` by key, plus the
    workload and layouts used."""

    items: dict
    isl: float
    osl: float
    cached: float
    per_user: tuple
    utilisation: float
    prefill_layout: step.Layout
    decode_layout: step.Layout

    def __getitem__(self, key: str) -> Compared:
        return self.items[key]


def deepseek_layouts() -> tuple[step.Layout, step.Layout]:
    """DeepSeek's published prefill (EP32) and decode (EP144) units, 32 redundant experts each, two
    micro-batches (two-batch overlap), no MTP (the note does not say it is used)."""
    pre = step.Layout(ep=int(measurements.day6("prefill_ep")), redundant=int(measurement("deepseek_day6_prefill", "redundant_experts").si), micro_batches=2)
    dec = step.Layout(ep=int(measurements.day6("decode_ep")), redundant=int(measurements.day6("decode_redundant_experts")), micro_batches=2)
    return pre, dec


def _workload() -> tuple[float, float, float]:
    d = day6_inputs()
    ctx = measurements.day6("kv_length")
    isl = float(isl_from_day(ctx=ctx, tok_in=d["tok_in"], tok_out=d["tok_out"]))
    osl = float(osl_from_day(ctx=ctx, tok_in=d["tok_in"], tok_out=d["tok_out"]))
    return isl, osl, d["tok_hit"] / d["tok_in"]


def day_workload() -> tuple[float, float, float]:
    """DeepSeek's mean prompt and output lengths (tokens) derived from its published average KV
    length and token volumes, and its prefix-cache hit share."""
    return _workload()


def _prefill_node_rate(isl, cached: float, utilisation: float, layout: step.Layout | None = None) -> dict:
    pre = layout or deepseek_layouts()[0]
    u = prefill.prefill_unit(model("deepseek-v3"), gpu("H800"), pre)
    return prefill.prefill(u, isl, cached, utilisation=utilisation)


def _decode_node_rate(per_user: float, mtp: int = 0) -> float:
    dec = deepseek_layouts()[1]
    if mtp:
        dec = step.Layout(**{**dec.__dict__, "mtp": mtp})
    u = step.unit(model("deepseek-v3"), gpu("H800"), dec)
    point = operating.at_per_user(u, measurements.day6("kv_length"), per_user)
    return float(point["tokens_per_s_per_gpu"]) * prefill.GPUS_PER_NODE


@lru_cache(maxsize=32)
def day6(isl: float | None = None, utilisation: float = prefill.UTILISATION, mtp: int = 0) -> Day:
    """DeepSeek's day from its token volumes, the step model and DeepSeek's published layouts.

    ``isl``: mean prompt length (``None``: :data:`isl_from_day`); ``utilisation``: the share of
    time the prefill pool is busy in the planned fleet (the book's planning assumption,
    :data:`.prefill.UTILISATION`); ``mtp``: draft tokens in decode (0: none).  Decode runs at
    the published per-user speed (20 to 22 tok/s; the midpoint is the central prediction) and
    DeepSeek's published average KV length.

    Keys: ``isl``, ``osl``, ``prefill_per_node`` (and ``_unbalanced``: experts placed without load
    balancing), ``decode_per_node`` (and ``_fast``/``_slow`` at
    22 and 20 tok/s per user), ``prefill_utilisation``, ``decode_utilisation``,
    ``nodes_prefill``/``nodes_decode``/``nodes`` (planned: prefill at ``utilisation``),
    ``nodes_saturated`` (every node always busy: the fewest nodes at the model's rates),
    ``daily_cost``, ``ttft_s``, ``ttft_published_load_s``.
    """
    d = day6_inputs()
    isl0, osl0, cached = _workload()
    isl_v = isl0 if isl is None else float(isl)
    if not isl_v >= 1:
        raise InputError("the mean prompt length must be at least 1 token")
    osl_v = isl_v * d["tok_out"] / d["tok_in"]
    lo, hi = measurements.day6("output_rate_low"), measurements.day6("output_rate_high")
    mid = (lo + hi) / 2
    pre = _prefill_node_rate(isl_v, cached, utilisation)
    R_p = float(pre["input_tokens_per_s_per_node"])
    # the same unit with its experts placed without load balancing (the cited unbalanced load)
    unbalanced = step.Layout(**{**deepseek_layouts()[0].__dict__, "eplb": False})
    R_p_unb = float(_prefill_node_rate(isl_v, cached, utilisation, unbalanced)["input_tokens_per_s_per_node"])
    R_d = {r: _decode_node_rate(r, mtp) for r in (lo, mid, hi)}
    pub_p, pub_d = measurements.day6("prefill_per_node"), measurements.day6("decode_per_node")
    T = d["T"]
    n_p_sat = float(fleet.nodes_prefill(tok_in=d["tok_in"], T=T, rate_in=R_p))
    n_p = float(fleet.nodes_prefill(tok_in=d["tok_in"], T=T, rate_in=R_p * utilisation))
    n_d = float(fleet.nodes_decode(tok_out=d["tok_out"], T=T, rate_out=R_d[mid]))
    n = float(fleet.nodes_needed(tok_in=d["tok_in"], tok_out=d["tok_out"], T=T, rate_in=R_p * utilisation,
                                 rate_out=R_d[mid]))
    n_sat = float(fleet.nodes_needed(tok_in=d["tok_in"], tok_out=d["tok_out"], T=T, rate_in=R_p, rate_out=R_d[mid]))
    # DeepSeek's own split of its average fleet: its volumes over its published rates
    pub_np = float(fleet.nodes_prefill(tok_in=d["tok_in"], T=T, rate_in=pub_p))
    pub_nd = float(fleet.nodes_decode(tok_out=d["tok_out"], T=T, rate_out=pub_d))
    u_p = float(implied_utilisation(R_meas=pub_p, R_sat=R_p))
    cost = float(fleet.fleet_cost(N_node=n, G=d["G"], price=d["price"], T=T))
    t_step = float(pre["t_step"])
    P, B, A = "model prediction", "bound", "derived assumption"
    items = [
        Compared("isl", "mean prompt length (input tokens per request)", isl_v, "token", A),
        Compared("osl", "mean output length (output tokens per request)", osl_v, "token", A),
        Compared("prefill_per_node", "prefill input tokens/s per node, saturated", R_p, "token/s/node", P, pub_p),
        Compared("prefill_per_node_unbalanced", "prefill input tokens/s per node, saturated, experts not balanced",
                 R_p_unb, "token/s/node", P, pub_p),
        Compared("decode_per_node", "decode output tokens/s per node at the midpoint speed", R_d[mid],
                 "token/s/node", P, pub_d),
        Compared("decode_per_node_fast", "decode output tokens/s per node at the high speed", R_d[hi],
                 "token/s/node", P, pub_d),
        Compared("decode_per_node_slow", "decode output tokens/s per node at the low speed", R_d[lo],
                 "token/s/node", P, pub_d),
        Compared("prefill_utilisation", "prefill utilisation implied by the published day average", u_p, "1", P),
        Compared("decode_utilisation", "decode published rate over the model's rate", float(
            implied_utilisation(R_meas=pub_d, R_sat=R_d[mid])), "1", P),
        Compared("nodes_prefill", "prefill nodes, planned", n_p, "node", P, pub_np),
        Compared("nodes_prefill_saturated", "prefill nodes, always busy", n_p_sat, "node", B, pub_np),
        Compared("nodes_decode", "decode nodes", n_d, "node", P, pub_nd),
        Compared("nodes", "average nodes, planned", n, "node", P, measurements.day6("average_nodes")),
        Compared("nodes_saturated", "average nodes, every node always busy", n_sat, "node", B, measurements.day6("average_nodes")),
        Compared("nodes_vs_peak", "average nodes, planned, against the peak", n, "node", P, measurements.day6("peak_nodes")),
        Compared("daily_cost", "cost per day at DeepSeek's GPU-hour price", cost, "USD", P, measurements.day6("daily_cost")),
        Compared("ttft_s", "time to first token at the planned utilisation", float(pre["ttft_s"]), "s", P),
        Compared("ttft_published_load_s", "time to first token at the implied utilisation",
                 float(prefill.ttft_md1.fast(t_srv=t_step, rho=min(u_p, 0.99))), "s", P),
        Compared("prefill_step_s", "prefill step time", t_step, "s", P),
    ]
    pre_l, dec_l = deepseek_layouts()
    if mtp:
        dec_l = step.Layout(**{**dec_l.__dict__, "mtp": mtp})
    return Day({c.key: c for c in items}, isl_v, osl_v, cached, (lo, mid, hi), utilisation, pre_l, dec_l)


def fleet_output_per_gpu() -> float:
    """DeepSeek's measured day: all output tokens over every GPU-second of the average fleet."""
    d = day6_inputs()
    return float(fleet_output_rate(tok_out=d["tok_out"], T=d["T"], N_node=d["N_node"], G=d["G"]))


def isl_sensitivity(isl_grid, utilisation: float = prefill.UTILISATION) -> list[dict]:
    """For each mean prompt length: the predicted prefill rate per node (saturated), the planned
    prefill nodes and the planned average fleet (records: isl, prefill_per_node, nodes_prefill, nodes)."""
    d = day6_inputs()
    _, _, cached = _workload()
    L = np.asarray(isl_grid, dtype=float)
    R_p = np.asarray(_prefill_node_rate(L, cached, utilisation)["input_tokens_per_s_per_node"], dtype=float)
    R_d = _decode_node_rate((measurements.day6("output_rate_low") + measurements.day6("output_rate_high")) / 2)
    n_p = fleet.nodes_prefill(tok_in=d["tok_in"], T=d["T"], rate_in=R_p * utilisation)
    n_d = float(fleet.nodes_decode(tok_out=d["tok_out"], T=d["T"], rate_out=R_d))
    return [{"isl": float(x), "prefill_per_node": float(r), "nodes_prefill": float(p), "nodes": float(p) + n_d}
            for x, r, p in zip(L, R_p, np.broadcast_to(n_p, L.shape))]


def deepseek_check() -> dict:
    """The planner restricted to H800 and DeepSeek's published layouts, given DeepSeek's day.

    Token volumes (input, cache hits, output), 20-22 tok/s per user (the middle), the average KV
    length, the day's peak-to-average node ratio (a cosine of that ratio) and DeepSeek's $2 per
    H800-hour, all as published; the search may only use decode EP144 with 32 redundant experts,
    prefill EP32 with 32 redundant experts, FP8 experts, BF16 KV, no MTP, data-parallel attention.
    The mean prompt is derived from the published average KV length (:mod:`.reproduce`).
    Returns the planner's average and peak nodes next to the published ones: rented in whole EP144
    and EP32 units (``nodes_avg``, ``nodes_peak``, ``usd_per_day``, ``error_avg``) and, for the
    GPU-hours the model's rates need if every rented GPU were busy, the continuous count
    (``nodes_avg_continuous``, ``usd_per_day_continuous``, ``error_avg_continuous``).
    """
    d6 = measurements.day6
    isl, osl, cached = day_workload()
    pre, dec = deepseek_layouts()
    w = Workload(requests_per_s=d6("output_tokens") / d6("period") / osl, isl=isl, osl=osl,
             per_user=(d6("output_rate_low") + d6("output_rate_high")) / 2, cache_hit=cached,
             profile=Profile.cosine(d6("peak_nodes") / d6("average_nodes")))
    space = Space(decode_ep=(dec.ep,), prefill_ep=(pre.ep,), attn_tp=(1,), moe_dtypes=("fp8",), kv_dtypes=("bf16",),
                  mtp=(0,), redundant=dec.redundant, prefill_redundant=pre.redundant)
    r = plan.search(model("deepseek-v3"), w, ["H800"], "deepseek-day6", top=10**6, space=space)
    d = next(x for x in r["deployments"] if x["mode"] == "disagg")
    G = d6("gpus_per_node")
    nodes_avg = d["gpus_avg"] / G
    busy = float(w.output_per_s / d["tokens_per_s_per_gpu"] / G)  # nodes if every GPU were always busy
    return {"decode_tokens_per_s_per_gpu": d["decode_tokens_per_s_per_gpu"],
            "prefill_tokens_per_s_per_gpu": d["prefill_tokens_per_s_per_gpu"], "isl": isl,
            "nodes_avg": nodes_avg, "nodes_avg_published": d6("average_nodes"),
            "nodes_peak": d["gpus_peak"] / G, "nodes_peak_published": d6("peak_nodes"),
            "error_avg": nodes_avg / d6("average_nodes") - 1, "usd_per_day": d["usd_per_day"],
            "usd_per_day_published": d6("daily_cost"), "nodes_avg_continuous": busy,
            "error_avg_continuous": busy / d6("average_nodes") - 1,
            "usd_per_day_continuous": d["usd_per_day"] * busy / nodes_avg, "deployment": d}
