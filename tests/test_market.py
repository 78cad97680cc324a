"""Issue 23: the fleet as a market: whole units, default prices for any GPU, several price
sources at once, mixed GPU types and tiers, pools that add up, and one-line errors."""
from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from inference_arithmetic import cli
from inference_arithmetic.core.errors import CatalogError, Error, InputError
from inference_arithmetic.hardware import gpus
from inference_arithmetic.model import config, kv
from inference_arithmetic.serving import fleet, market, plan, pools, prices, workload

V3 = config.model("deepseek-v3")
#: Catalog GPUs no published price was found for (the README and the planner chapter say so).
UNPRICED = {"H20"}    # no published GPU-hour price found in the stored copies (price_sources.yaml says so)


def run(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _w(tokens=100e9, **kw):
    kw = {"per_user": 20, "ttft_s": 5, "cache_hit": 0.5, "profile": workload.Profile.cosine(1.3), **kw}
    return workload.Workload.from_tokens_per_day(tokens, 2000, 500, **kw)


# ----------------------------------------------------------------------------- whole units
def test_the_floor_follows_the_reserve_rule_in_whole_units():
    """One layout: the reserve is the whole number of units the load exceeds at most a share
    p_r/p_o of the time, and exceeds at least that share at one unit less."""
    shape = np.asarray(workload.Profile.cosine(1.4).shape)
    r = pools.floor_burst([1000.0], shape, [100.0], [2.0], [100.0], [4.0])
    k = np.ceil(1000.0 * shape / 100.0 - 1e-9)
    res = r["reserve"][0]
    assert np.mean(k > res) <= 0.5 + 1e-9 <= np.mean(k >= res) + 1e-9
    assert r["usd_per_h"][0] == pytest.approx(2.0 * res + 4.0 * np.maximum(k - res, 0).mean())
    assert r["burst_peak"][0] == k.max() - res
    flat = pools.floor_burst([1000.0], [1.0], [100.0], [2.0], [100.0], [4.0])
    assert flat["reserve"][0] == 10 and flat["burst_mean"][0] == 0          # flat: reserve it all
    dear = pools.floor_burst([1000.0], shape, [100.0], [4.0], [100.0], [4.0])
    assert dear["reserve"][0] == 0                                           # no discount: rent it all
    tiny = pools.floor_burst([1e-6], shape, [100.0], [np.inf], [100.0], [4.0])
    assert tiny["burst_mean"][0] == tiny["burst_peak"][0] == 1               # one unit runs, always


def test_a_cross_type_floor_compares_prices_per_token():
    """A floor of one layout under a burst of another: the rule reads prices per token of capacity."""
    assert float(pools.exceed_target_cross(p_floor=2.0, R_floor=100.0, p_burst=6.0, R_burst=200.0)) == \
        pytest.approx((2.0 / 100.0) / (6.0 / 200.0))
    shape = np.asarray(workload.Profile.cosine(1.5).shape)
    r = pools.floor_burst([5000.0], shape, [800.0], [16.0], [1600.0], [48.0])
    cost = lambda x: 16.0 * x + 48.0 * np.maximum(np.ceil(np.maximum(5000 * shape - x * 800, 0) / 1600 - 1e-9),  # noqa
                                                  np.where(x == 0, 1, 0)).mean()
    assert r["usd_per_h"][0] == pytest.approx(min(cost(x) for x in range(0, 12)))


def test_small_volumes_rent_one_whole_unit():
    """The issue's example: 1e9 tokens a day is at least one running unit, not 0.7 GPUs."""
    r = plan.search(V3, workload.Workload.from_tokens_per_day(1e9, 2000, 500, per_user=20), top=5)
    for d in r["deployments"]:
        assert d["gpus_peak"] >= d["gpus_avg"] >= d["layout"]["ep"] >= 1
        for p in d["pools"]:
            assert p["gpus_peak"] >= p["unit_gpus"] and p["gpus_peak"] % p["unit_gpus"] == 0
    best = r["deployments"][0]
    # one whole unit (NVFP4 DeepSeek-V3 fits 2 to 4 GPUs of a Blackwell node), a day of it
    assert best["layout"]["ep"] in (2, 4, 8) and best["gpus_avg"] == best["layout"]["ep"]
    assert best["usd_per_day"] >= best["layout"]["ep"] * 24 * 2.0
    least = plan.search(V3, workload.Workload(requests_per_s=1 / 86400, isl=2000, osl=500, per_user=20), ["H200"])
    assert least["deployments"][0]["gpus_peak"] >= 8 and least["deployments"][0]["gpus_avg"] >= 8


def test_disaggregated_pools_are_each_at_least_one_unit():
    r = plan.search(V3, _w(5e9), ["H200"], where=lambda d: d["mode"] == "disagg", top=3)
    for d in r["deployments"]:
        roles = {p["role"] for p in d["pools"]}
        assert roles == {"decode", "prefill"}
        for role in roles:
            assert sum(p["gpus_avg"] for p in d["pools"] if p["role"] == role) >= min(
                p["unit_gpus"] for p in d["pools"] if p["role"] == role)


def test_volume_sweep_costs_one_search_at_each_volume():
    vols = [1e8, 1e10, 1e12]
    rows = plan.volume_sweep(V3, _w(), vols, ["H200", "B200"])
    best = {r["tokens_per_day"]: r for r in rows if r["unit_class"] == "cheapest"}
    assert set(best) == set(vols)
    costs = [best[v]["usd_per_m_tokens"] for v in vols]
    assert costs == sorted(costs, reverse=True)               # bigger fleets round less
    for v in vols:
        d = plan.search(V3, _w(v), ["H200", "B200"], top=1)["deployments"][0]
        assert d["usd_per_day"] == pytest.approx(best[v]["usd_per_day"])


# ----------------------------------------------------------------------------- defaults
def test_every_catalog_gpu_but_the_unpriced_has_a_shipped_cited_price():
    table = prices.priced_by()
    assert {g for g, v in table.items() if not v} == UNPRICED
    for v in prices.price_sources().values():
        assert v["src"]


@pytest.mark.parametrize("names, want", [(["H800"], "deepseek-day6"), (["H200", "B200"], "hyperstack-2026-08"),
                                         (None, "hyperstack-2026-08")])
def test_the_default_source_prices_every_gpu_asked_for(names, want):
    src = prices.default_price_source(names)
    assert src == want
    assert set(names or ()) <= set(prices.price_table(src))


def _tiers(k):
    """(GPUs of the catalog a source prices in both tiers, GPUs it prices on demand)."""
    table = {g: p for g, p in prices.price_sources()[k]["gpus"].items() if g in gpus.gpus() and p.get("on_demand")}
    return sum(1 for p in table.values() if p.get("reserved")), len(table)


def test_the_default_prefers_an_offer_and_the_most_gpus():
    for g in ("H100", "H200", "B200", "B300", "GB200", "GB300", "MI300X", "MI325X", "MI355X"):
        src = prices.default_price_source([g])
        assert prices.is_offer(src)                           # never NVIDIA's reference where an offer exists
        rivals = [k for k in prices.offers() if g in prices.price_table(k)]
        assert _tiers(src) == max(_tiers(k) for k in rivals)
    assert prices.default_price_source(["GB300"]) != "nvidia-reference-2026"   # a provider's price exists now
    assert "nvidia-reference-2026" in prices.priced_by(["GB300"])["GB300"]     # still read when named


def test_every_catalog_gpu_alone_plans_or_says_who_prices_it():
    for g in gpus.gpus():
        if g in UNPRICED:
            with pytest.raises(InputError, match=f"{g}: none"):
                prices.price_set(None, [g])
        else:
            assert g in prices.price_set(None, [g])


def test_no_one_source_names_who_prices_what():
    with pytest.raises(InputError, match="H800: deepseek-day6; B200: hyperstack"):
        prices.default_price_source(["H800", "B200"])


# ----------------------------------------------------------------------------- several sources
def test_all_buys_each_tier_from_the_cheapest_provider():
    px = prices.price_set("all")
    assert set(px.sources) == set(prices.offers())
    for g, t in px.gpus.items():
        od = [prices.price_table(k)[g][0] for k in prices.offers() if g in prices.price_table(k)]
        assert t.on_demand == min(od) and prices.price_table(t.on_demand_source)[g][0] == t.on_demand
        res = [prices.price_sources()[k]["gpus"][g].get("reserved") for k in prices.offers()
               if g in prices.price_table(k)]
        res = [x for x in res if x]
        assert t.reserved == (min(res) if res else math.inf)
    assert "nvidia-reference-2026" not in px.sources and "deepseek-day6" not in px.sources
    assert prices.price_set("all,deepseek-day6", ["H800"])["H800"].on_demand == 2.0


def test_several_sources_cost_no_more_than_any_one_and_name_each_pool():
    w = _w(50e9)
    many = plan.search(V3, w, ["H200", "B200"], "all", top=1)["deployments"][0]
    for k in prices.offers():
        if {"H200", "B200"} <= set(prices.price_table(k)):
            one = plan.search(V3, w, ["H200", "B200"], k, top=1)["deployments"][0]
            assert many["usd_per_day"] <= one["usd_per_day"] * (1 + 1e-9)
    px = prices.price_set("all")
    for p in many["pools"]:
        t = px[p["gpu"]]
        assert p["source"] == (t.reserved_source if p["tier"] == "reserved" else t.on_demand_source)
    assert set(many["price_source"].split(",")) == {p["source"] for p in many["pools"]}


# ----------------------------------------------------------------------------- mixed
def test_a_mixed_search_is_never_dearer_and_fast():
    w = _w(100e9)
    single = plan.search(V3, w, ["H200", "B200"], "all", top=1)
    mixed = plan.search(V3, w, ["H200", "B200"], "all", top=1, mixed=True)
    assert mixed["deployments"][0]["usd_per_day"] <= single["deployments"][0]["usd_per_day"] * (1 + 1e-9)
    assert mixed["search_s"] < 5


def test_a_mixed_disaggregated_fleet_carries_its_kv_over_the_network():
    w = _w(20e9, ttft_s=3)
    r = plan.search(V3, w, ["H200", "B200"], "all", top=1, mixed=True,
                    pin={"prefill": ["H200"], "decode": ["B200"]})
    d = r["deployments"][0]
    assert {p["gpu"] for p in d["pools"] if p["role"] == "prefill"} == {"H200"}
    assert {p["gpu"] for p in d["pools"] if p["role"] == "decode"} == {"B200"}
    assert d["mixed"] and d["gpu"] == "B200+H200"
    S_kv = kv.kv_bytes_per_token(V3, d["layout"]["kv_dtype"])
    bw = min(gpus.gpu("H200").scale_out, gpus.gpu("B200").scale_out)
    # full attention: the prompt's cached tokens L_kv are its 2,000
    assert d["kv_transfer_s"] == pytest.approx(float(market.kv_transfer_time(L_kv=2000, S_kv=S_kv, BW_so=bw)))
    assert d["ttft_s"] <= 3 and d["ttft_s"] >= d["kv_transfer_s"]
    assert d["prefill_tokens_per_s_per_gpu"] * S_kv <= gpus.gpu("H200").scale_out


def test_a_floor_of_one_type_under_a_burst_of_another():
    w = _w(100e9, profile=workload.Profile.cosine(1.8))
    r = plan.search(V3, w, ["H200", "B200"], "hyperstack-2026-08", top=1, mixed=True,
                    pin={"both_floor": ["H200"], "both_burst": ["B200"]})
    d = r["deployments"][0]
    floor = [p for p in d["pools"] if p["tier"] == "reserved"]
    burst = [p for p in d["pools"] if p["tier"] == "on-demand"]
    assert {p["gpu"] for p in floor} == {"H200"} and {p["gpu"] for p in burst} == {"B200"}
    assert all(p["gpus_avg"] == p["gpus_peak"] for p in floor)             # reserved: around the clock
    assert all(p["gpus_avg"] < p["gpus_peak"] for p in burst)              # rented: follows the load
    assert len({p["layout"].split(" · ")[1] for p in d["pools"]}) == 1      # one MoE precision


def test_the_pools_add_up_on_every_deployment(capsys):
    code, out, err = run(["plan", "--model", "deepseek-v3", "--tokens-per-day", "3e10", "--isl", "2000", "--osl", "500",
                          "--per-user", "20", "--gpus", "H200,B200", "--prices", "all", "--mixed", "--top", "5",
                          "--profile", "cosine:1.5", "--json"], capsys)
    assert code == 0, err
    d = json.loads(out)
    assert d["mixed"] and d["source"] == "all"
    for x in d["deployments"]:
        assert {"pools", "tokens_per_s_per_gpu", "gpu", "mode", "gpus_avg", "gpus_peak", "nodes_avg", "nodes_peak",
                "usd_per_day", "usd_per_m_input", "usd_per_m_output", "ttft_s", "tokens_per_s_per_user",
                "decode_tokens_per_s_per_gpu", "prefill_tokens_per_s_per_gpu", "batch_per_instance", "reserved_gpus",
                "on_demand_gpus_avg", "price_source", "price_on_demand", "price_reserved", "layout", "prefill_layout",
                "prefill_gpus_per_decode_gpu", "prefill_utilisation"} <= set(x)
        assert sum(p["usd_per_day"] for p in x["pools"]) == pytest.approx(x["usd_per_day"], rel=1e-6)
        for p in x["pools"]:
            assert {"role", "gpu", "tier", "source", "gpus_avg", "gpus_peak", "usd_per_day"} <= set(p)
            assert p["role"] in ("prefill", "decode", "both") and p["tier"] in ("reserved", "on-demand")
            assert p["gpus_peak"] >= p["gpus_avg"] > 0
    code, out, _ = run(["plan", "--model", "deepseek-v3", "--tokens-per-day", "3e10", "--isl", "2000", "--osl", "500",
                        "--per-user", "20", "--gpus", "H200,B200", "--prices", "all", "--mixed", "--top", "2"], capsys)
    lines = out.splitlines()
    first = next(i for i, s in enumerate(lines) if s.startswith("gpu\t")) + 1
    assert lines[first + 1].startswith("  both ") or lines[first + 1].startswith("  decode ")


def test_a_price_cut_flips_the_answer():
    """Where the cheapest fleet has no H200, a low enough H200 price brings it in: the cost per
    token of the H200 options falls below the winner's."""
    w = _w(20e9)
    prep, px, _ = plan.prepare(V3, w, ["H200", "B200"], "hyperstack-2026-08")
    base = prep.cost(w, px, top=1)["deployments"][0]
    assert base["gpu"] == "B200"
    t = px["H200"]
    cut = dataclasses.replace(px, gpus={**px.gpus, "H200": dataclasses.replace(t, on_demand=t.on_demand * 0.3,
                                                                               reserved=t.reserved * 0.3)})
    assert prep.cost(w, cut, top=1)["deployments"][0]["gpu"] == "H200"


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("extra, needle", [
    (["--prices", "ebay"], "unknown price source"),
    (["--prices", "all,ebay"], "unknown price source"),
    (["--prices", "hyperstack-2026-08,"], "--prices needs"),
    (["--gpus", "H20"], "H20: none"),
    (["--gpus", "H800", "--prices", "all"], "H800: deepseek-day6"),
    (["--gpus", "H800,B200"], "no one price source prices all of H800, B200"),
    (["--gpus", "B300", "--prices", "coreweave-2026-09"], "do not price B300"),
    (["--gpus", "H200", "--mixed"], "two or more GPU types"),
    (["--gpus", "H200,H200", "--mixed"], "two or more GPU types"),
])
def test_bad_market_input_is_one_line(extra, needle, capsys):
    code, out, err = run(["plan", "--model", "deepseek-v3", "--tokens-per-day", "1e9", "--isl", "2000", "--osl", "500",
                          "--per-user", "20", *extra], capsys)
    assert code == 2 and not out and len(err.strip().splitlines()) == 1 and needle in err, err


def test_library_errors_are_library_errors():
    for call in (lambda: prices.price_set("nope"), lambda: prices.price_set("", None),
                 lambda: pools.floor_burst([-1.0], [1.0], [1.0], [1.0], [1.0], [1.0])):
        with pytest.raises(Error):
            call()
    with pytest.raises(CatalogError):
        prices.price_set("nope")
    assert fleet.exceed_target(p_res=1.0, p_od=2.0) == 0.5
