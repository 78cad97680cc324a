"""The capacity planner: from a workload and a service level to the cheapest fleet.

A **workload** is a daily volume of requests of ``isl`` input and ``osl`` output tokens with a
daily load profile (flat, a cosine with a peak-to-mean ratio, or an hourly curve), an optional
prefix-cache hit rate; a **service level** is a per-user speed floor and an optional time to first
token.  The search covers GPU type x serving mode (aggregated, disaggregated) x expert-parallel
size (1, 2 or 4 GPUs of a node, whole nodes, NVLink domains) x attention layout (data-parallel, TP8,
or TP over a smaller unit) x MoE and KV precision x MTP draft tokens x batch,
and for prefill the unit size and chunk, in vectorised evaluations of the step model (no
per-candidate Python loop).

The fleet is costed as it is rented (:mod:`.pools`, :mod:`.fleet_rows`): in **whole deployment
units**, at least one running unit per pool, split into a floor bought around the clock (reserved
where a reservation is cheaper) and a burst rented on demand by the elastic rule of
:mod:`.fleet`; each pool and tier buys from the cheapest source of the price set
(:func:`.prices.price_set`: one source, several, or every provider list).  With ``mixed`` the
pools of a deployment may differ in GPU type, and a pool's floor may be one type and its burst
another (:mod:`.market`).
"""
from __future__ import annotations

import time

from inference_arithmetic.core.errors import InputError
from inference_arithmetic.hardware.gpus import gpu as gpu_by_name, gpus as all_gpus
from inference_arithmetic.model.config import Model
from inference_arithmetic.serving import market_options as market, prefill_step as prefill
from inference_arithmetic.serving.prices import price_set
from inference_arithmetic.serving.search import Space
from inference_arithmetic.serving.workload import DAY_S, Workload

__all__ = ["search", "prepare", "cost_frontier", "cheapest_by_gpu_and_mode", "volume_sweep", "UNIT_CLASSES"]

GPUS_PER_NODE = prefill.GPUS_PER_NODE
#: Decode-unit size classes of the volume chart: one node or less, a few nodes, wide expert parallelism.
UNIT_CLASSES = (("one node or less (EP1-8)", 1, 8), ("2-9 nodes (EP16-72)", 9, 72), ("wide EP (EP128+)", 73, 10**6))


def _names_and_prices(gpu_names, source):
    names = list(dict.fromkeys(gpu_by_name(x).key for x in gpu_names)) if gpu_names else None
    px = price_set(source, names)
    return names or [g for g in all_gpus() if g in px], px


def prepare(m: Model, w: Workload, gpu_names=None, source: str | None = None, space: Space | None = None,
            mixed: bool = False, progress=None, reuse: dict | None = None):
    """The search's expensive part, once: ``(prepared options, price set, GPU names)`` for a model,
    the workload's service and the GPUs (default: every GPU the prices cover); ``reuse`` as in
    :func:`.market_options.prepare`."""
    t0 = time.perf_counter()
    names, px = _names_and_prices(gpu_names, source)
    if mixed and len(names) < 2:
        raise InputError(f"a mixed fleet needs two or more GPU types, got {', '.join(names)}: name them with --gpus A,B")
    prep = market.prepare(m, w.service, [gpu_by_name(n) for n in names], space, progress, t0, reuse)
    return prep, px, names


def search(m: Model, w: Workload, gpu_names=None, source: str | None = None, top: int = 10,
           progress=None, space: Space | None = None, mixed: bool = False, where=None, pin=None,
           one_precision: bool = True, reuse: dict | None = None) -> dict:
    """The cheapest feasible deployments, ranked, with the search's size and time.

    ``source``: a price source, ``"a,b"`` or ``"all"`` (:func:`.prices.price_set`; ``None``: the
    one source pricing every GPU asked for); ``mixed``: pools may differ in GPU type;
    ``where``: keep only deployments for which it is true; ``pin``: GPU types per pool, and
    ``one_precision`` (:func:`.fleet_rows.assemble`); ``reuse``: a mapping kept across searches of the same
    model and service apart from the per-user floor, prices or GPU types (:func:`.market_options.prepare`).
    Raises :class:`InputError` naming the constraint that cannot be met and the closest point.
    """
    t0 = time.perf_counter()
    prep, px, names = prepare(m, w, gpu_names, source, space, mixed, progress, reuse)
    r = prep.cost(w, px, mixed, top, where, pin, one_precision)
    return {"source": px.label, "sources": list(px.sources), "gpus": names, "mixed": mixed,
            "candidates": prep.candidates, "feasible_layouts": r["feasible"], "search_s": time.perf_counter() - t0,
            "deployments": r["deployments"]}


def volume_sweep(m: Model, w: Workload, tokens_per_day, gpu_names=None, source: str | None = None,
                 mixed: bool = False, classes=UNIT_CLASSES) -> list[dict]:
    """The cheapest deployment at each daily volume (input plus output tokens) of ``tokens_per_day``,
    overall and within each decode-unit size class: rows ``tokens_per_day``, ``unit_class``
    (``"cheapest"`` or a class name), ``usd_per_m_tokens``, ``usd_per_day``, ``gpu``, ``mode``,
    ``ep``, ``gpus_avg``, ``layout`` (a label).  One search; only the costing runs per volume."""
    prep, px, _ = prepare(m, w, gpu_names, source, None, mixed)
    rows = []
    for v in tokens_per_day:
        wv = Workload.from_tokens_per_day(float(v), w.isl, w.osl, per_user=w.per_user, ttft_s=w.ttft_s,
                                          cache_hit=w.cache_hit, profile=w.profile)
        sets = [("cheapest", None)] + [(name, (lambda lo, hi: lambda d: lo <= d["layout"]["ep"] <= hi)(lo, hi))
                                       for name, lo, hi in classes]
        for name, where in sets:
            got = prep.cost(wv, px, mixed, 1, where)["deployments"]
            if got:
                d = got[0]
                rows.append({"tokens_per_day": float(v), "unit_class": name, "usd_per_m_tokens": d["usd_per_m_tokens"],
                             "usd_per_day": d["usd_per_day"], "gpu": d["gpu"], "mode": d["mode"],
                             "ep": d["layout"]["ep"], "gpus_avg": d["gpus_avg"],
                             "layout": f"{d['gpu']} {d['mode']} EP{d['layout']['ep']}"})
    return rows


def cost_frontier(m: Model, w: Workload, floors, gpu_names=None, source: str | None = None) -> list[dict]:
    """The cheapest deployment of each GPU type at each per-user floor in ``floors``: the
    cost-interactivity frontier (rows: gpu, per_user, usd_per_token, usd_per_m_output, mode)."""
    rows, reuse = [], {}                     # each GPU's candidates searched once, for every floor
    names, px = _names_and_prices(gpu_names, source)
    for name in names:
        for f in floors:
            try:   # one price set for every GPU: the comparison's
                r = search(m, Workload(**{**w.__dict__, "per_user": float(f)}), [name], px.label, top=1, reuse=reuse)
            except InputError:
                continue
            d = r["deployments"][0]
            tokens_per_s = w.input_per_s + w.output_per_s
            rows.append({"gpu": name, "per_user": float(f), "mode": d["mode"],
                         "usd_per_token": d["usd_per_day"] / (tokens_per_s * DAY_S),
                         "usd_per_m_output": d["usd_per_m_output"], "usd_per_day": d["usd_per_day"]})
    return rows


def cheapest_by_gpu_and_mode(m: Model, w: Workload, gpu_names=None, source: str | None = None,
                             mixed: bool = False) -> list[dict]:
    """The cheapest deployment of each (GPU type or mix, serving mode), cheapest first: the
    comparison a ranked list of near-identical variants of one winner hides."""
    rows = search(m, w, gpu_names, source, top=10**9, mixed=mixed)["deployments"]
    seen, out = set(), []
    for r in rows:
        if (r["gpu"], r["mode"]) not in seen:
            seen.add((r["gpu"], r["mode"]))
            out.append(r)
    return out
