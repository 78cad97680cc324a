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
import sys
import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import yaml

from . import fleet, prefill, serving, step
from .catalog import DATA, GPU, Model, gpu as gpu_by_name, gpus as all_gpus
from .errors import CatalogError, InputError
from .inputs import number
from .step import Precision, _fast

__all__ = ["Workload", "Profile", "price_sources", "default_price_source", "search", "deepseek_check", "cost_frontier",
           "cheapest_by_gpu_and_mode", "layout_label",
           "MTP_DRAFTS", "EP_SIZES", "BATCHES", "CHUNKS"]

EP_SIZES = (8, 16, 32, 36, 48, 64, 72, 128, 144, 256)
MTP_DRAFTS = (0, 1, 2, 3)
BATCHES = np.arange(1, 513, dtype=float)           # requests per attention instance
CHUNKS = (1024.0, 2048.0, 4096.0, 8192.0, 16384.0)  # prefill tokens per GPU per step
GPUS_PER_NODE = prefill.GPUS_PER_NODE
DAY_S = 86400.0


# ----------------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class Profile:
    """The daily load relative to its mean: ``shape`` sampled at equal times (mean 1)."""

    name: str
    shape: tuple

    @property
    def peak_to_mean(self) -> float:
        return float(max(self.shape))

    @staticmethod
    def flat() -> "Profile":
        return Profile("flat", (1.0,))

    @staticmethod
    def cosine(peak_to_mean: float) -> "Profile":
        p = number(peak_to_mean, "peak-to-mean ratio", least=1.0, most=2.0)
        x = np.linspace(0, 2 * np.pi, 288, endpoint=False)
        return Profile(f"cosine:{p:g}", tuple(float(v) for v in 1 + (p - 1) * np.cos(x)))

    @staticmethod
    def hourly(values) -> "Profile":
        v = [number(x, "hourly load", least=0.0, most=1e15) for x in values]
        if not 1 <= len(v) <= 8784 or sum(v) <= 0:
            raise InputError("an hourly load profile needs 1 to 8,784 non-negative values, not all zero")
        mean = sum(v) / len(v)
        return Profile(f"hourly ({len(v)} values)", tuple(x / mean for x in v))


@dataclass(frozen=True)
class Workload:
    """Requests per second on average, ``isl``/``osl`` tokens each, a profile and service levels."""

    requests_per_s: float
    isl: float
    osl: float
    per_user: float
    ttft_s: float | None = None
    cache_hit: float = 0.0
    profile: Profile = Profile.flat()

    def __post_init__(self):
        object.__setattr__(self, "requests_per_s", number(self.requests_per_s, "requests per second",
                                                          least=0, most=1e9, open_low=True))
        object.__setattr__(self, "isl", number(self.isl, "input tokens", least=1, most=10**7))
        object.__setattr__(self, "osl", number(self.osl, "output tokens", least=1, most=10**7))
        object.__setattr__(self, "per_user", number(self.per_user, "tokens/s per user", least=0, most=1e5,
                                                    open_low=True))
        if self.ttft_s is not None:
            object.__setattr__(self, "ttft_s", number(self.ttft_s, "TTFT", least=0, most=3600, open_low=True))
        object.__setattr__(self, "cache_hit", number(self.cache_hit, "cache hit rate", most=0.99))

    @staticmethod
    def from_tokens_per_day(tokens: float, isl: float, osl: float, **kw) -> "Workload":
        tokens = number(tokens, "tokens per day", least=0, most=1e18, open_low=True)
        return Workload(requests_per_s=tokens / DAY_S / (isl + osl), isl=isl, osl=osl, **kw)

    @property
    def input_per_s(self) -> float:
        return self.requests_per_s * self.isl

    @property
    def output_per_s(self) -> float:
        return self.requests_per_s * self.osl


@lru_cache(maxsize=None)
def price_sources() -> dict:
    """Published GPU-hour prices by source: ``{source: {"name", "src", "gpus": {gpu: {on_demand,
    reserved}}}}`` from ``data/price_sources.yaml``."""
    raw = yaml.safe_load((DATA / "price_sources.yaml").read_text(encoding="utf-8"))
    return {k: v for k, v in raw.items() if isinstance(v, dict) and "gpus" in v}


def default_price_source() -> str:
    """The source that prices the most GPUs of the catalog, on demand and reserved."""
    known = set(all_gpus())

    def score(item):
        k, v = item
        g = [x for x, p in v["gpus"].items() if x in known and p.get("on_demand")]
        return (len(g), sum(1 for x in g if v["gpus"][x].get("reserved")), k)
    return max(price_sources().items(), key=score)[0]


def _prices(source: str) -> dict[str, tuple[float, float]]:
    table = price_sources()
    if source not in table:
        raise CatalogError(f"unknown price source {source!r} (known: {', '.join(sorted(table))})")
    out = {}
    for g, p in table[source]["gpus"].items():
        od = p.get("on_demand")
        if od:
            out[g] = (float(od), float(p.get("reserved") or od))
    return out


# ----------------------------------------------------------------------------- search
@dataclass(frozen=True)
class Space:
    """The layouts the search may choose from (the default: everything; a restriction reproduces a
    published deployment, as :func:`deepseek_check` does).  ``redundant``/``prefill_redundant``
    ``None``: the book's default (:func:`.step.default_redundant`)."""

    decode_ep: tuple = EP_SIZES
    prefill_ep: tuple = EP_SIZES[:7]
    attn_tp: tuple = (1, 8)
    moe_dtypes: tuple = step.MOE_DTYPES
    kv_dtypes: tuple = step.KV_DTYPES
    mtp: tuple = MTP_DRAFTS
    redundant: int | None = None
    prefill_redundant: int | None = None


def _decode_units(m: Model, g: GPU, space: "Space"):
    units = []
    for ep in space.decode_ep:
        if ep % 8 and ep % g.nvlink_domain:
            continue
        for attn_tp in space.attn_tp:
            for moe in space.moe_dtypes:
                for kv in space.kv_dtypes:
                    for mtp in space.mtp:
                        try:
                            L = step.layout_for(m, g, ep, attn_tp=attn_tp, mtp=mtp, redundant=space.redundant,
                                                precision=Precision(moe=moe, attn="bf16", kv=kv))
                            units.append(step.unit(m, g, L))
                        except InputError:
                            continue
    return units


def _prefill_table(m: Model, g: GPU, w: Workload, space: "Space"):
    """Best prefill (rate, TTFT, layout, chunk) per (unit size, MoE dtype), TTFT floor met."""
    out = {}
    for ep in sorted(set(space.prefill_ep) | set(space.decode_ep)):
        if ep % 8 and ep % g.nvlink_domain:
            continue
        for moe in space.moe_dtypes:
            try:
                u = prefill.prefill_unit(m, g, step.layout_for(m, g, ep, precision=Precision(moe=moe),
                                                               redundant=space.prefill_redundant))
            except InputError:
                continue
            if not step.fits(u, 0.0, 0.0):
                continue
            rates, ttfts = [], []
            for c in CHUNKS:
                r = prefill.prefill(u, w.isl, w.cache_hit, chunk=c)
                rates.append(float(r["input_tokens_per_s_per_gpu"]))
                ttfts.append(float(r["ttft_s"]))
            rates, ttfts = np.array(rates), np.array(ttfts)
            ok = np.ones_like(rates, bool) if w.ttft_s is None else ttfts <= w.ttft_s
            i = int(np.argmax(np.where(ok, rates, -1.0)))
            out[(ep, moe)] = (rates[i] if ok[i] else 0.0, ttfts[i], u.layout, CHUNKS[i], float(ttfts.min()))
    return out


def search(m: Model, w: Workload, gpu_names=None, source: str | None = None, top: int = 10,
           progress=None, space: Space | None = None) -> dict:
    """The cheapest feasible deployments, ranked, with the search's size and time.

    Raises :class:`InputError` naming the constraint that cannot be met and the closest point.
    """
    t0 = time.perf_counter()
    source = source or default_price_source()
    prices = _prices(source)
    names = list(gpu_names) if gpu_names else [g for g in all_gpus() if g in prices]
    gs = [gpu_by_name(n) for n in names]
    missing = [g.key for g in gs if g.key not in prices]
    if missing:
        raise InputError(f"price source {source!r} has no price for {', '.join(missing)}; choose another "
                         f"--prices or leave those GPUs out")
    shape = np.asarray(w.profile.shape)
    ctx = w.isl + w.osl / 2
    rows, n_candidates = [], 0
    closest = {"per_user": (0.0, ""), "ttft": (math.inf, "")}
    space = space or Space()
    for gi, g in enumerate(gs):
        if progress is not None and time.perf_counter() - t0 > 1.0:
            progress(gi, len(gs), g.key)
        units = _decode_units(m, g, space)
        pre = _prefill_table(m, g, w, space)
        if not units or not pre:
            continue
        v = step.stack(units)
        b = BATCHES.reshape(1, -1, 1)
        v["batch"], v["ctx"] = b, ctx
        ev = step.evaluate(v)
        fitsm = step.free_bytes(v, b, ctx)[..., 0] >= 0
        R_d, r_u = ev["tokens_per_s_per_gpu"][..., 0], ev["tokens_per_s_per_user"][..., 0]
        n_candidates += R_d.size * 2
        p_od, p_res = prices[g.key]
        r_frac, e_frac = _elastic(shape, p_res, p_od)
        best_by_moe = {moe: max((x for k, x in pre.items() if k[1] == moe and k[0] in space.prefill_ep),
                                key=lambda x: x[0], default=None)
                       for moe in step.MOE_DTYPES}
        for x in best_by_moe.values():
            if x is not None:
                closest["ttft"] = min(closest["ttft"], (x[4], g.key))
        # prefill partner of each decode layout: disaggregated, the GPU's best prefill for its MoE
        # dtype; aggregated, prefill on the decode layout's own unit size
        no = (0.0, math.inf, None, 0.0, math.inf)
        dis = [best_by_moe.get(u.layout.precision.moe) or no for u in units]
        agg = [pre.get((u.layout.ep, u.layout.precision.moe), no) for u in units]
        for mode, partner in (("disagg", dis), ("agg", agg)):
            R_p = np.array([x[0] for x in partner]).reshape(-1, 1)
            safe = np.where(R_p > 0, R_p, 1.0)
            if mode == "disagg":
                rate = _fast(serving.disagg_rate, R_d=R_d, R_p=safe, L_i=w.isl, L_o=w.osl)
                user = r_u
            else:
                rate = _fast(serving.agg_rate, R_d=R_d, R_p=safe, L_i=w.isl, L_o=w.osl)
                user = _fast(serving.agg_user_rate, r_d=r_u, R_d=R_d, R_p=safe, L_i=w.isl, L_o=w.osl)
            fitting = fitsm & (R_p > 0)
            if fitting.any():
                k = np.unravel_index(np.argmax(np.where(fitting, user, 0)), user.shape)
                closest["per_user"] = max(closest["per_user"],
                                          (float(user[k]), f"{g.key} {mode} EP{units[k[0]].layout.ep}"))
            ok = fitting & (user >= w.per_user)
            score = np.where(ok, rate, -1.0)
            j = np.argmax(score, axis=1)                       # best batch of each layout
            best = score[np.arange(len(units)), j]
            for i in np.flatnonzero(best > 0):
                L_p, chunk, ttft = partner[i][2], partner[i][3], partner[i][1]
                rows.append(_cost_row(g, mode, units[i].layout, L_p, chunk, float(rate[i, j[i]]), float(R_d[i, j[i]]),
                                      float(R_p[i, 0]), float(user[i, j[i]]), ttft, float(BATCHES[j[i]]), w, p_res,
                                      p_od, r_frac, e_frac, source))
    if not rows:
        if w.ttft_s is not None and closest["ttft"][0] > w.ttft_s:
            raise InputError(f"no deployment meets TTFT {w.ttft_s:g} s: the fastest prefill TTFT is "
                             f"{closest['ttft'][0]:.2f} s ({closest['ttft'][1]})")
        if closest["per_user"][0] < w.per_user:
            raise InputError(f"no deployment reaches {w.per_user:g} tok/s per user: the fastest is "
                             f"{closest['per_user'][0]:.1f} tok/s ({closest['per_user'][1]})")
        raise InputError(f"no deployment meets TTFT {w.ttft_s:g} s: the fastest prefill TTFT is "
                         f"{closest['ttft'][0]:.2f} s ({closest['ttft'][1]})")
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


def _cost_row(g, mode, L, L_p, chunk, rate, R_d, R_p, user, ttft, batch, w, p_res, p_od, r_frac, e_frac, source):
    peak = max(w.profile.shape)
    out_s, in_s = w.output_per_s, w.input_per_s
    if mode == "disagg":
        d_avg, p_avg = out_s / R_d, in_s / R_p
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
            "decode_tokens_per_s_per_gpu": R_d, "prefill_tokens_per_s_per_gpu": R_p,
            "batch_per_instance": batch, "reserved_gpus": g_avg * r_frac, "on_demand_gpus_avg": g_avg * e_frac,
            "price_source": source, "price_on_demand": p_od, "price_reserved": p_res,
            "layout": {"ep": L.ep, "attn": "tp" if L.attn_tp > 1 else "dp", "attn_tp": L.attn_tp,
                       "redundant": L.redundant, "micro_batches": L.micro_batches, "mtp": L.mtp,
                       "moe_dtype": L.precision.moe, "kv_dtype": L.precision.kv},
            "prefill_layout": None if mode == "agg" else {"ep": L_p.ep, "redundant": L_p.redundant,
                                                          "micro_batches": L_p.micro_batches,
                                                          "chunk_tokens_per_gpu": chunk},
            "prefill_gpus_per_decode_gpu": p_avg / d_avg if d_avg else 0.0}


def deepseek_check() -> dict:
    """The planner restricted to H800 and DeepSeek's published layouts, given DeepSeek's day.

    Token volumes (input, cache hits, output), 20-22 tok/s per user (the middle), the average KV
    length, the day's peak-to-average node ratio (a cosine of that ratio) and DeepSeek's $2 per
    H800-hour, all as published; the search may only use decode EP144 with 32 redundant experts,
    prefill EP32 with 32 redundant experts, FP8 experts, BF16 KV, no MTP, data-parallel attention.
    The mean prompt is derived from the published average KV length (:mod:`.reproduce`).
    Returns the planner's average and peak nodes next to the published ones.
    """
    from .catalog import measurement as ms
    from .catalog import model as get_model
    from . import reproduce

    def d6(k):
        return ms("deepseek_day6", k).si
    isl, osl, cached = reproduce.day_workload()
    pre, dec = reproduce.deepseek_layouts()
    w = Workload(requests_per_s=d6("output_tokens") / d6("period") / osl, isl=isl, osl=osl,
                 per_user=(d6("output_rate_low") + d6("output_rate_high")) / 2, cache_hit=cached,
                 profile=Profile.cosine(d6("peak_nodes") / d6("average_nodes")))
    space = Space(decode_ep=(dec.ep,), prefill_ep=(pre.ep,), attn_tp=(1,), moe_dtypes=("fp8",), kv_dtypes=("bf16",),
                  mtp=(0,), redundant=dec.redundant, prefill_redundant=pre.redundant)
    r = search(get_model("deepseek-v3"), w, ["H800"], "deepseek-day6", top=10**6, space=space)
    d = next(x for x in r["deployments"] if x["mode"] == "disagg")
    G = d6("gpus_per_node")
    nodes_avg = d["gpus_avg"] / G
    return {"decode_tokens_per_s_per_gpu": d["decode_tokens_per_s_per_gpu"],
            "prefill_tokens_per_s_per_gpu": d["prefill_tokens_per_s_per_gpu"], "isl": isl,
            "nodes_avg": nodes_avg, "nodes_avg_published": d6("average_nodes"),
            "nodes_peak": d["gpus_peak"] / G, "nodes_peak_published": d6("peak_nodes"),
            "error_avg": nodes_avg / d6("average_nodes") - 1, "usd_per_day": d["usd_per_day"],
            "usd_per_day_published": d6("daily_cost"), "deployment": d}


def cost_frontier(m: Model, w: Workload, floors, gpu_names=None, source: str | None = None) -> list[dict]:
    """The cheapest deployment of each GPU type at each per-user floor in ``floors``: the
    cost-interactivity frontier (rows: gpu, per_user, usd_per_token, usd_per_m_output, mode)."""
    rows = []
    names = list(gpu_names) if gpu_names else [g for g in all_gpus() if g in _prices(source or default_price_source())]
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


def layout_label(r: dict) -> str:
    """A short label of a deployment's decode layout: ``EP8 DP · NVFP4 · FP8 KV · MTP 1``."""
    L = r["layout"]
    attn = "DP" if L["attn"] == "dp" else f"TP{L['attn_tp']}"
    return f"EP{L['ep']} {attn} · {L['moe_dtype'].upper()} · {L['kv_dtype'].upper()} KV · MTP {L['mtp']}"
