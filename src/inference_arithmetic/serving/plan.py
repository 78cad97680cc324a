"""The capacity planner: from a workload and a service level to the cheapest fleet.

A **workload** is a daily volume of requests of ``isl`` input and ``osl`` output tokens with a
daily load profile (flat, a cosine with a peak-to-mean ratio, or an hourly curve), an optional
prefix-cache hit rate; a **service level** is a per-user speed floor and an optional time to first
token.  The search covers GPU type x serving mode (aggregated, disaggregated) x expert-parallel
size x attention layout (data-parallel, TP8) x MoE and KV precision x MTP draft tokens x batch,
and for prefill the unit size and chunk, in vectorised evaluations of the step model (no
per-candidate Python loop).  Each feasible deployment is costed with one named price source (on
demand and reserved prices per GPU-hour) and the elastic rule of :mod:`.fleet`: reserve the floor
the price ratio justifies, rent the burst.

GPU counts are continuous in the cost (GPU-hours) and rounded up to whole deployment units and
8-GPU nodes in the reported fleet.
"""
from __future__ import annotations

import math
import time

import numpy as np

from inference_arithmetic.core.errors import InputError
from inference_arithmetic.hardware.gpus import gpu as gpu_by_name, gpus as all_gpus
from inference_arithmetic.model.config import Model
from inference_arithmetic.serving import fleet, prefill
from inference_arithmetic.serving.prices import default_price_source, price_table
from inference_arithmetic.serving.search import BATCHES, Space, candidates, describe
from inference_arithmetic.serving.workload import DAY_S, Workload

__all__ = ["search", "cost_frontier", "cheapest_by_gpu_and_mode"]

GPUS_PER_NODE = prefill.GPUS_PER_NODE


def search(m: Model, w: Workload, gpu_names=None, source: str | None = None, top: int = 10,
           progress=None, space: Space | None = None) -> dict:
    """The cheapest feasible deployments, ranked, with the search's size and time: every
    candidate of :func:`.search.candidates` costed at ``source``'s prices.

    Raises :class:`InputError` naming the constraint that cannot be met and the closest point.
    """
    t0 = time.perf_counter()
    source = source or default_price_source()
    prices = price_table(source)
    names = list(gpu_names) if gpu_names else [g for g in all_gpus() if g in prices]
    gs = [gpu_by_name(n) for n in names]
    missing = [g.key for g in gs if g.key not in prices]
    if missing:
        raise InputError(f"price source {source!r} has no price for {', '.join(missing)}; choose another "
                         f"--prices or leave those GPUs out")
    shape = np.asarray(w.profile.shape)
    svc = w.service
    rows, n_candidates = [], 0
    closest = {"per_user": (0.0, ""), "ttft": (math.inf, "")}
    for gi, g in enumerate(gs):
        if progress is not None and time.perf_counter() - t0 > 1.0:
            progress(gi, len(gs), g.key)
        found, ttft_floor = candidates(m, g, svc, space)
        closest["ttft"] = min(closest["ttft"], (ttft_floor, g.key))
        p_od, p_res = prices[g.key]
        r_frac, e_frac = _elastic(shape, p_res, p_od)
        for mode, c in found.items():
            n_candidates += c.rate.size
            if c.fit.any():
                k = np.unravel_index(np.argmax(np.where(c.fit, c.user, 0)), c.user.shape)
                closest["per_user"] = max(closest["per_user"],
                                          (float(c.user[k]), f"{g.key} {mode} EP{c.units[k[0]].layout.ep}"))
            score = np.where(c.meets(w.per_user), c.rate, -1.0)
            j = np.argmax(score, axis=1)                       # best batch of each layout
            top_rate = score[np.arange(len(c.units)), j]
            for i in np.flatnonzero(top_rate > 0):
                R_p, ttft, L_p, chunk, _ = c.partner[i]
                rows.append(_cost_row(g, mode, c.units[i].layout, L_p, chunk, float(c.rate[i, j[i]]),
                                      float(c.R_d[i, j[i]]), float(R_p), float(c.user[i, j[i]]), ttft,
                                      float(BATCHES[j[i]]), w, p_res, p_od, r_frac, e_frac, source, c.util))
    if not rows:
        if w.ttft_s is not None and closest["ttft"][0] > w.ttft_s:
            raise InputError(f"no deployment meets TTFT {w.ttft_s:g} s: the fastest prefill TTFT is "
                             f"{closest['ttft'][0]:.2f} s ({closest['ttft'][1]})")
        raise InputError(f"no deployment reaches {w.per_user:g} tok/s per user: the fastest is "
                         f"{closest['per_user'][0]:.1f} tok/s ({closest['per_user'][1]})")
    rows.sort(key=lambda r: (r["usd_per_day"], r["layout"]["mtp"], r["layout"]["kv_dtype"] != "bf16"))
    seen, unique = set(), []
    for r in rows:  # layouts that cost the same to the dollar: keep the simplest (listed first)
        key = (r["gpu"], r["mode"], round(r["usd_per_day"], 2), r["layout"]["ep"], r["layout"]["attn"])
        if key not in seen:
            seen.add(key)
            unique.append(r)
    rows = unique
    return {"source": source, "candidates": n_candidates, "feasible_layouts": len(rows),
            "search_s": time.perf_counter() - t0, "deployments": rows[:top]}


def _elastic(shape: np.ndarray, p_res: float, p_od: float) -> tuple[float, float]:
    """Reserved floor and mean on-demand excess as fractions of the mean load (the cost-minimising
    reserve of :func:`.fleet.optimal_reserve_quantile` on the sampled profile)."""
    if p_res >= p_od:
        return 0.0, 1.0
    r = fleet.optimal_reserve_quantile(shape, p_res / p_od)
    return float(r), float(fleet.excess_of(shape, r)[0])


def _units_up(gpus: float, unit: int) -> int:
    return int(math.ceil(gpus / unit - 1e-9)) * unit if gpus > 0 else 0


def _cost_row(g, mode, L, L_p, chunk, rate, R_d, R_p, user, ttft, batch, w, p_res, p_od, r_frac, e_frac, source,
              util):
    peak = max(w.profile.shape)
    out_s, in_s = w.output_per_s, w.input_per_s
    if mode == "disagg":
        d_avg, p_avg = out_s / R_d, in_s / (R_p * util)   # the prefill pool planned at ``util`` load
    else:
        d_avg, p_avg = out_s / rate, 0.0
    g_avg = d_avg + p_avg
    usd_day = 24 * g_avg * (p_res * r_frac + p_od * e_frac)
    d_peak = _units_up(d_avg * peak, L.ep)
    p_peak = _units_up(p_avg * peak, L_p.ep) if p_avg else 0
    if mode == "disagg":
        share_in = p_avg / g_avg
    else:  # time share of prefill on shared GPUs
        share_in = (w.isl / R_p) / (w.osl / R_d + w.isl / R_p)
    tok_in_day, tok_out_day = in_s * DAY_S, out_s * DAY_S
    return {"gpu": g.key, "mode": mode, "gpus_avg": g_avg, "gpus_peak": d_peak + p_peak,
            "nodes_avg": math.ceil(g_avg / GPUS_PER_NODE - 1e-9), "nodes_peak": math.ceil((d_peak + p_peak) / GPUS_PER_NODE),
            "usd_per_day": usd_day, "usd_per_m_input": usd_day * share_in / tok_in_day * 1e6,
            "usd_per_m_output": usd_day * (1 - share_in) / tok_out_day * 1e6,
            "ttft_s": ttft, "tokens_per_s_per_user": user, "tokens_per_s_per_gpu": rate,
            "decode_tokens_per_s_per_gpu": R_d, "prefill_tokens_per_s_per_gpu": R_p, "prefill_utilisation": util,
            "batch_per_instance": batch, "reserved_gpus": g_avg * r_frac, "on_demand_gpus_avg": g_avg * e_frac,
            "price_source": source, "price_on_demand": p_od, "price_reserved": p_res,
            "layout": describe(L),
            "prefill_layout": None if mode == "agg" else {**describe(L_p), "chunk_tokens_per_gpu": chunk},
            "prefill_gpus_per_decode_gpu": p_avg / d_avg if d_avg else 0.0}


def cost_frontier(m: Model, w: Workload, floors, gpu_names=None, source: str | None = None) -> list[dict]:
    """The cheapest deployment of each GPU type at each per-user floor in ``floors``: the
    cost-interactivity frontier (rows: gpu, per_user, usd_per_token, usd_per_m_output, mode)."""
    rows = []
    names = list(gpu_names) if gpu_names else [g for g in all_gpus() if g in price_table(source or default_price_source())]
    for name in names:
        for f in floors:
            try:
                r = search(m, Workload(**{**w.__dict__, "per_user": float(f)}), [name], source, top=1)
            except InputError:
                continue
            d = r["deployments"][0]
            tokens_per_s = w.input_per_s + w.output_per_s
            rows.append({"gpu": name, "per_user": float(f), "mode": d["mode"],
                         "usd_per_token": d["usd_per_day"] / (tokens_per_s * DAY_S),
                         "usd_per_m_output": d["usd_per_m_output"], "usd_per_day": d["usd_per_day"]})
    return rows


def cheapest_by_gpu_and_mode(m: Model, w: Workload, gpu_names=None, source: str | None = None) -> list[dict]:
    """The cheapest deployment of each (GPU type, serving mode), cheapest first: the comparison a
    ranked list of near-identical variants of one winner hides."""
    rows = search(m, w, gpu_names, source, top=10**9)["deployments"]
    seen, out = set(), []
    for r in rows:
        if (r["gpu"], r["mode"]) not in seen:
            seen.add((r["gpu"], r["mode"]))
            out.append(r)
    return out
