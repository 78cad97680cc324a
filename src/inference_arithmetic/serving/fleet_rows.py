"""Deployments from candidate pool options: the cost of every pool plan, the pairing of a
disaggregated deployment's pools, and the ranked rows the planner reports.

A **pool plan** is one option (a single GPU type and layout) or, in a mixed search, a floor of one
option under a burst of another GPU type's (:mod:`.pools`).  An aggregated deployment is one plan
of the ``both`` role; a disaggregated one a ``decode`` plan with the cheapest ``prefill`` plan it
can pair with: the same MoE precision, the prompt's KV cache carried by both GPUs' scale-out
network (:data:`.market.kv_transfer_time` added to the prefill TTFT, within the limit), and,
without ``mixed``, the same GPU type.  Costs are per day: each pool's floor and burst at the price
of its tier, from the cheapest source of the price set.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from inference_arithmetic.core.errors import InputError
from inference_arithmetic.core.rounding import decimals_apart
from inference_arithmetic.core import fast
from inference_arithmetic.serving import kv_network_rates, pool_plans as pools, prefill_step as prefill, search
from inference_arithmetic.serving.workload import DAY_S

__all__ = ["assemble", "Plans", "CROSS_TOP"]

GPUS_PER_NODE = prefill.GPUS_PER_NODE
#: Options of each GPU type and MoE precision kept as floors and as bursts of mixed pools.
CROSS_TOP = 3


@dataclass
class Plans:
    """Pool plans of one role: floor option ``f``, burst option ``b`` and :func:`.pools.floor_burst`'s
    arrays (``reserve``, ``burst_mean``, ``burst_peak``, ``usd_per_h``, ``floor_served``)."""

    f: np.ndarray
    b: np.ndarray
    r: dict

    def __len__(self) -> int:
        return self.f.size


def _plans(o, demand: float, shape, od, fpx, mixed: bool, one_precision: bool) -> Plans:
    n = len(o)
    if not n:
        return Plans(np.zeros(0, int), np.zeros(0, int), {})
    idx = np.arange(n)
    single = pools.floor_burst(np.full(n, demand), shape, o.cap, o.unit * fpx[o.gpu], o.cap, o.unit * od[o.gpu])
    if not mixed:
        return Plans(idx, idx, single)
    F, B = _cross_pairs(o, single["usd_per_h"], od, fpx, one_precision)
    cross = pools.floor_burst(np.full(F.size, demand), shape, o.cap[F], o.unit[F] * fpx[o.gpu[F]], o.cap[B],
                              o.unit[B] * od[o.gpu[B]])
    return Plans(np.concatenate([idx, F]), np.concatenate([idx, B]),
                 {k: np.concatenate([single[k], cross[k]]) for k in single})


def _cross_pairs(o, cost, od, fpx, one_precision: bool):
    """Floor/burst option pairs of different GPU types (and one MoE precision, with
    ``one_precision``): of each (GPU type, MoE), the :data:`CROSS_TOP` options cheapest alone and
    cheapest per token of capacity."""
    per_f, per_b = fpx[o.gpu] * o.unit / o.cap, od[o.gpu] * o.unit / o.cap
    floors, bursts = [], []
    for key in np.unique(o.gpu * 10 + o.moe):
        grp = np.flatnonzero(o.gpu * 10 + o.moe == key)
        alone = grp[np.argsort(cost[grp], kind="stable")[:CROSS_TOP]]
        floors.append(np.union1d(alone, grp[np.argsort(per_f[grp], kind="stable")[:CROSS_TOP]]))
        bursts.append(np.union1d(alone, grp[np.argsort(per_b[grp], kind="stable")[:CROSS_TOP]]))
    F, B = np.meshgrid(np.concatenate(floors), np.concatenate(bursts), indexing="ij")
    F, B = F.ravel(), B.ravel()
    keep = (o.gpu[F] != o.gpu[B]) & ((o.moe[F] == o.moe[B]) | (not one_precision)) & np.isfinite(fpx[o.gpu[F]])
    return F[keep], B[keep]


def assemble(prep, w, px, mixed: bool, top: int, where=None, pin=None, one_precision: bool = True) -> dict:
    """Every deployment of ``prep``'s options for workload ``w`` at prices ``px``, cheapest first
    (the first ``top`` distinct ones; ``where``: only rows for which it is true).

    ``pin``: GPU types allowed per pool, ``{"decode": ["B200"], "prefill": ["H200"]}``; a key
    ``"<role>_floor"`` or ``"<role>_burst"`` asks for a floor (a burst) of those types in that role;
    pinning a role keeps only the mode that has it.
    ``one_precision``: every pool and tier of a deployment runs one MoE precision (the book's rule;
    ``False`` lets each pool and tier run its own checkpoint).
    """
    names = [g.key for g in prep.gpus]
    od = np.array([px[n].on_demand for n in names])
    fpx = np.minimum(od, np.array([px[n].reserved for n in names]))
    bw = np.array([g.scale_out for g in prep.gpus])
    shape = np.asarray(w.profile.shape, dtype=float)
    O = prep.options
    demand = {"decode": w.output_per_s, "prefill": w.input_per_s, "both": w.output_per_s}
    pinned = {k.partition("_")[0] for k in (pin or {})}
    other = {"both"} if pinned & {"decode", "prefill"} else {"decode", "prefill"} if "both" in pinned else set()
    P = {r: _pinned(_plans(O[r], demand[r], shape, od, fpx, mixed, one_precision), O[r], names, pin or {}, r)
         if r not in other else Plans(np.zeros(0, int), np.zeros(0, int), {}) for r in O}
    rows = []                                   # (usd/day, mode, main plan, prefill plan, transfer s, tie-break)
    Pb, ob = P["both"], O["both"]
    if len(Pb):
        rows.append((24 * Pb.r["usd_per_h"], np.ones(len(Pb), int), np.arange(len(Pb)), np.full(len(Pb), -1),
                     np.zeros(len(Pb)), _simpler(ob, Pb.f)))
    rows += _disagg(prep.model, O, P, bw, w, mixed, one_precision)
    if not rows or not sum(r[0].size for r in rows):
        if pin:
            return {"feasible": 0, "deployments": []}
        _fail(prep, w)
    cost, mode, main, pre, xfer, tie = (np.concatenate(x) for x in zip(*rows))
    order = np.lexsort((tie, np.round(cost, 6)))   # equal costs: the simplest layout first (fewer drafts, BF16 KV)
    out, seen = [], set()
    for k in order:
        d = _row(prep, w, px, O, P, int(mode[k]), int(main[k]), int(pre[k]), float(xfer[k]))
        if where is not None and not where(d):
            continue
        key = (d["gpu"], d["mode"], round(d["usd_per_day"]), d["layout"]["ep"], d["layout"]["attn"])
        if key not in seen:
            seen.add(key)
            out.append(d)
            if len(out) >= top:
                break
    return {"feasible": int(cost.size), "deployments": out}


def _pinned(Pl: Plans, o, names, pin: dict, role: str) -> Plans:
    keep = np.ones(len(Pl), bool)
    for key, allowed in pin.items():
        head, _, part = key.partition("_")
        if head != role or not len(Pl):
            continue
        ids = [names.index(g) for g in allowed if g in names]
        in_f, in_b = np.isin(o.gpu[Pl.f], ids), np.isin(o.gpu[Pl.b], ids)
        keep &= (in_f & (Pl.r["reserve"] > 0) if part == "floor" else
                 in_b & (Pl.r["burst_mean"] > 0) if part == "burst" else in_f & in_b)
    return Plans(Pl.f[keep], Pl.b[keep], {k: v[keep] for k, v in Pl.r.items()}) if not keep.all() else Pl


def _disagg(m, O, P, bw, w, mixed, one_precision):
    od_, op = O["decode"], O["prefill"]
    Pd, Pp = P["decode"], P["prefill"]
    if not len(Pd) or not len(Pp):
        return []
    kvb = np.maximum(od_.kv_bytes[Pd.f], od_.kv_bytes[Pd.b])
    bw_d = np.minimum(bw[od_.gpu[Pd.f]], bw[od_.gpu[Pd.b]])
    g_d = np.where(od_.gpu[Pd.f] == od_.gpu[Pd.b], od_.gpu[Pd.f], -1)
    moe_p, g_p = op.moe[Pp.f], np.where(op.gpu[Pp.f] == op.gpu[Pp.b], op.gpu[Pp.f], -2)
    bw_p = np.minimum(bw[op.gpu[Pp.f]], bw[op.gpu[Pp.b]])
    rates = ((op.per_gpu[Pp.f], bw[op.gpu[Pp.f]]), (op.per_gpu[Pp.b], bw[op.gpu[Pp.b]]))   # floor, burst
    ttft_p = np.maximum(op.ttft[Pp.f], op.ttft[Pp.b])
    cost_p = 24 * Pp.r["usd_per_h"]
    keys = np.stack([od_.moe[Pd.f], kvb, bw_d, g_d if not mixed else np.zeros_like(g_d)], axis=1)
    uniq, inv = np.unique(keys, axis=0, return_inverse=True)
    best = np.full(len(uniq), -1)
    x_best = np.zeros(len(uniq))
    for u, (moe, S_kv, b_d, g) in enumerate(uniq):
        x = kv_network_rates.transfer_s(m, w.isl, S_kv, np.minimum(b_d, bw_p))     # per prefill plan
        carried = np.logical_and.reduce([kv_network_rates.carried(m, w.isl, R, S_kv, b) for R, b in rates])
        ok = ((moe_p == moe) | (not one_precision)) & carried
        if not mixed:
            ok &= g_p == int(g)
        if w.ttft_s is not None:
            ok &= ttft_p + x <= w.ttft_s
        if ok.any():
            best[u] = int(np.argmin(np.where(ok, cost_p, np.inf)))
            x_best[u] = x[best[u]]
    sel = best[inv.reshape(-1)]
    keep = (sel >= 0) & ((g_d >= 0) if not mixed else True)
    i = np.flatnonzero(keep)
    return [(24 * Pd.r["usd_per_h"][i] + cost_p[sel[i]], np.zeros(i.size, int), i, sel[i], x_best[inv.reshape(-1)][i],
             _simpler(od_, Pd.f[i]))]


def _simpler(o, f):
    return 2 * o.mtp[f] + (1 - o.kv_bf16[f])


def _fail(prep, w):
    c = prep.closest
    finite = math.isfinite(c["ttft"][0])          # inf: no prefill unit anywhere, not a TTFT to compare
    if w.ttft_s is not None and finite and c["ttft"][0] > w.ttft_s:
        raise InputError(f"no deployment meets TTFT {w.ttft_s:g} s: the fastest prefill TTFT is "
                         f"{c['ttft'][0]:.{decimals_apart(c['ttft'][0], w.ttft_s, 2)}f} s ({c['ttft'][1]})")
    if w.ttft_s is not None and finite and c["per_user"][0] >= w.per_user:
        # each limit is met by some layout, none meets both (a disaggregated prompt's KV also crosses the network)
        raise InputError(f"no deployment meets TTFT {w.ttft_s:g} s and {w.per_user:g} tok/s per user together: the "
                         f"fastest per user is {c['per_user'][0]:.1f} tok/s ({c['per_user'][1]}), the fastest prefill "
                         f"TTFT {c['ttft'][0]:.2f} s ({c['ttft'][1]}), before a disaggregated deployment adds the "
                         f"prompt's KV transfer to its decode GPU over the scale-out network")
    raise InputError(f"no deployment reaches {w.per_user:g} tok/s per user: the fastest is "
                     f"{c['per_user'][0]:.1f} tok/s ({c['per_user'][1]})")


def _pool_entries(prep, px, role: str, o, P: Plans, k: int, demand: float):
    """The pool objects of plan ``k`` (floor and burst, each with its tier and source), its GPUs
    if every GPU ran busy (the fleet's GPU count at the layouts' full-load rates), its lead option
    (the one that runs more of the pool's GPUs on average: the row's layout, batch and rates are that
    option's, so that they describe one layout the row buys)."""
    f, b = int(P.f[k]), int(P.b[k])
    r, bm, bp = (float(P.r[x][k]) for x in ("reserve", "burst_mean", "burst_peak"))
    out = []
    if r > 0:
        t = px[prep.gpus[o.gpu[f]].key]
        reserved = t.reserved < t.on_demand
        price = t.reserved if reserved else t.on_demand
        g = r * o.unit[f]
        out.append(_pool(role, t.gpu, "reserved" if reserved else "on-demand",
                         t.reserved_source if reserved else t.on_demand_source, g, g, 24 * g * price, o, f))
    if bm > 0:
        t = px[prep.gpus[o.gpu[b]].key]
        out.append(_pool(role, t.gpu, "on-demand", t.on_demand_source, bm * o.unit[b], bp * o.unit[b],
                         24 * bm * o.unit[b] * t.on_demand, o, b))
    served = float(P.r["floor_served"][k])
    busy = served / (o.cap[f] / o.unit[f]) + (demand - served) / (o.cap[b] / o.unit[b])
    # the option that runs more of the pool's GPUs on average (the floor's, or the burst's where it has more)
    lead = f if r * o.unit[f] >= bm * o.unit[b] else b
    return out, busy, lead


def _pool(role, gpu, tier, source, avg, peak, usd, o, i) -> dict:
    info, L = o.info[i], o.info[i]["layout"]
    lay = (search.label(search.describe(L)) if role != "prefill" else
           f"EP{L.ep} · {L.precision.moe.upper()} · chunk {info['chunk']:,.0f}")
    return {"role": role, "gpu": gpu, "tier": tier, "source": source, "gpus_avg": float(avg),
            "gpus_peak": float(peak), "usd_per_day": float(usd), "unit_gpus": int(o.unit[i]), "layout": lay}


def _row(prep, w, px, O, P, mode: int, k: int, kp: int, xfer: float) -> dict:
    role = "both" if mode == 1 else "decode"
    o = O[role]
    pools_, busy, f = _pool_entries(prep, px, role, o, P[role], k, w.output_per_s)
    ttft = float(max(o.ttft[P[role].f[k]], o.ttft[P[role].b[k]]))   # the deployment's: its slower option's
    user = float(o.user[f])                           # the lead option's (each option meets the floor)
    info = o.info[f]
    R_d = float(info["R_d"])
    if mode == 0:
        pp, busy_p, fp = _pool_entries(prep, px, "prefill", O["prefill"], P["prefill"], kp, w.input_per_s)
        pools_ += pp
        busy += busy_p
        pinfo = O["prefill"].info[fp]
        R_p = float(pinfo["R_p"])
        ttft = float(max(O["prefill"].ttft[P["prefill"].f[kp]], O["prefill"].ttft[P["prefill"].b[kp]])) + xfer
        usd_in = sum(x["usd_per_day"] for x in pp)
        L_p = {**search.describe(pinfo["layout"]), "chunk_tokens_per_gpu": pinfo["chunk"]}
        util = prefill.UTILISATION
        ratio = float(fast.pd_ratio(R_d=R_d, R_p=R_p * util, L_i=w.isl, L_o=w.osl))
    else:
        R_p, L_p, util, ratio = float(info["R_p"]), None, 1.0, 0.0
        share_in = (w.isl / R_p) / (w.osl / R_d + w.isl / R_p)
        usd_in = sum(x["usd_per_day"] for x in pools_) * share_in
    usd = sum(x["usd_per_day"] for x in pools_)
    g_avg, g_peak = sum(x["gpus_avg"] for x in pools_), sum(x["gpus_peak"] for x in pools_)
    types = list(dict.fromkeys(x["gpu"] for x in pools_))
    lead = px[prep.gpus[o.gpu[f]].key]
    tok_in, tok_out = w.input_per_s * DAY_S, w.output_per_s * DAY_S
    steps = {"agg_steps": info["steps"]} if mode == 1 else {}       # mixed or separate steps (serving/mixed.py)
    return {"gpu": "+".join(types), "mode": "agg" if mode == 1 else "disagg", **steps, "gpus_avg": g_avg, "gpus_peak": g_peak,
            "nodes_avg": math.ceil(g_avg / GPUS_PER_NODE - 1e-9), "nodes_peak": math.ceil(g_peak / GPUS_PER_NODE - 1e-9),
            "usd_per_day": usd, "usd_per_m_input": usd_in / tok_in * 1e6, "usd_per_m_output": (usd - usd_in) / tok_out * 1e6,
            "usd_per_m_tokens": usd / (tok_in + tok_out) * 1e6,
            "ttft_s": ttft, "tokens_per_s_per_user": user, "tokens_per_s_per_gpu": w.output_per_s / busy,
            "fleet_tokens_per_s_per_gpu": w.output_per_s / g_avg,
            "decode_tokens_per_s_per_gpu": R_d, "prefill_tokens_per_s_per_gpu": R_p, "prefill_utilisation": util,
            "batch_per_instance": float(info["batch"]),
            "reserved_gpus": sum(x["gpus_avg"] for x in pools_ if x["tier"] == "reserved"),
            "on_demand_gpus_avg": sum(x["gpus_avg"] for x in pools_ if x["tier"] == "on-demand"),
            "price_source": ",".join(dict.fromkeys(x["source"] for x in pools_)),
            "price_on_demand": lead.on_demand,
            "price_reserved": lead.reserved if math.isfinite(lead.reserved) else lead.on_demand,
            "layout": search.describe(info["layout"]), "prefill_layout": L_p, "prefill_gpus_per_decode_gpu": ratio,
            "kv_transfer_s": xfer, "decode_network_bound": bool(info.get("network_bound", False)),
            "mixed": len(types) > 1, "pools": pools_}
