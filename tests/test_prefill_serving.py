"""Prefill, time to first token and serving modes: properties of the formulas, the step model,
DeepSeek's day derived from its token volumes, the phase costs and the command line."""
from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp

from inference_arithmetic.evidence import measurements, reproduce, validation
from inference_arithmetic.hardware import gpus
from inference_arithmetic.model import config
from inference_arithmetic.serving import modes, prices, search
from inference_arithmetic import cli, step
from inference_arithmetic.serving import costs, fleet, plan, prefill
from inference_arithmetic.serving.workload import Service, Workload
from inference_arithmetic.evidence import reproduce
from inference_arithmetic.evidence import prefill_serving as ps
from inference_arithmetic.core.errors import InputError
from inference_arithmetic.evidence.published import day6_inputs
from inference_arithmetic.core.symbols import S
from inference_arithmetic.core.units import convert

M = config.model("deepseek-v3")
H800 = gpus.gpu("H800")
RNG = np.random.default_rng(15)


@pytest.fixture(scope="module")
def pre_unit():
    """DeepSeek's prefill unit: EP32 H800s, 32 redundant experts, two micro-batches."""
    return prefill.prefill_unit(M, H800, reproduce.deepseek_layouts()[0])


def _rates(n=200):
    """Random prefill and decode rates and request shapes (tokens/s per GPU, tokens)."""
    return dict(R_p=RNG.uniform(5e2, 5e4, n), R_d=RNG.uniform(50, 8e3, n), L_i=RNG.uniform(10, 1.3e5, n),
                L_o=RNG.uniform(1, 3e4, n))


# ----------------------------------------------------------------------------- prefill
def test_prompt_attention_flop_is_quadratic_in_the_prompt():
    assert sp.degree(sp.expand(ps.prefill_attn_flop.expr), prefill.isl) == 2
    L = np.array([100.0, 1_000.0, 4_383.0, 16_384.0, 128_000.0])
    for h in (0.0, 0.3, 0.563, 0.9):
        f1 = ps.prefill_attn_flop(A_f=1.0, isl=L, f_hit=h)
        f2 = ps.prefill_attn_flop(A_f=1.0, isl=2 * L, f_hit=h)
        np.testing.assert_allclose(f2 / f1, 4.0, rtol=1e-12)


def test_step_model_attention_time_per_prompt_is_quadratic(pre_unit):
    """In the step model, prefill attention reads no KV cache: its time per prompt is FLOP, 4x for 2x."""
    L = np.array([1_000.0, 4_000.0, 20_000.0, 64_000.0])
    for h in (0.0, 0.563):
        a, b = prefill.prefill(pre_unit, L, h), prefill.prefill(pre_unit, 2 * L, h)
        np.testing.assert_allclose((b["t_attn"] / b["batch"]) / (a["t_attn"] / a["batch"]), 4.0, rtol=1e-9)


def test_input_rate_falls_with_the_prompt_and_attention_share_grows(pre_unit):
    L = np.geomspace(256, 128_000, 30)
    rate = prefill.prefill(pre_unit, L, 0.0)["input_tokens_per_s_per_gpu"]
    assert np.all(np.diff(rate) < 0)
    shares = [ps.attention_share(pre_unit, x, 0.0) for x in L]
    assert np.all(np.diff(shares) > 0) and 0 < shares[0] < shares[-1] < 1


def test_cached_tokens_raise_input_tokens_per_second(pre_unit):
    for L in (1_000.0, 4_383.0, 32_000.0):
        r = [float(prefill.prefill(pre_unit, L, h)["input_tokens_per_s_per_gpu"]) for h in (0, 0.2, 0.5, 0.8, 0.95)]
        assert all(b > a for a, b in zip(r, r[1:])), r


def test_per_node_rate_is_eight_gpus(pre_unit):
    out = prefill.prefill(pre_unit, 4_000.0, 0.5)
    assert float(out["input_tokens_per_s_per_node"]) == pytest.approx(8 * float(out["input_tokens_per_s_per_gpu"]))


def test_ttft_grows_with_utilisation_and_diverges_at_one(pre_unit):
    rho = np.linspace(0.0, 0.999, 300)
    t = prefill.ttft_md1(t_srv=1.0, rho=rho)
    assert t[0] == pytest.approx(1.0) and np.all(np.diff(t) > 0)
    assert float(prefill.ttft_md1(t_srv=1.0, rho=1 - 1e-9)) > 1e8
    with pytest.raises(InputError):
        prefill.ttft_md1(t_srv=1.0, rho=1.0)
    # the step model: TTFT is one step when idle, more under load; a saturated pool is refused
    ttft = [float(prefill.prefill(pre_unit, 4_000.0, 0.5, utilisation=u)["ttft_s"]) for u in (0.0, 0.5, 0.9, 0.99)]
    step_s = float(prefill.prefill(pre_unit, 4_000.0, 0.5)["t_step"])
    assert ttft[0] == pytest.approx(step_s) and all(b > a for a, b in zip(ttft, ttft[1:]))
    with pytest.raises(InputError):
        prefill.prefill(pre_unit, 4_000.0, 0.5, utilisation=1.0)


def test_ttft_curve_follows_the_formula(pre_unit):
    rows = ps.ttft_curve([2_000, 8_000], [0.0, 0.5, 0.9], 0.3, reproduce.deepseek_layouts()[0])
    for r in rows:
        assert r["ttft_s"] == pytest.approx(r["t_step"] * (1 + r["rho"] / (2 * (1 - r["rho"]))))


# ----------------------------------------------------------------------------- serving modes
def test_pd_ratio_balances_request_rates():
    v = _rates()
    ratio = modes.pd_ratio(**v)
    N_d = 100.0
    N_p = ratio * N_d
    np.testing.assert_allclose(N_p * v["R_p"] / v["L_i"], N_d * v["R_d"] / v["L_o"], rtol=1e-12)
    req = modes.requests_fixed_split(N_p=N_p, N_d=np.full_like(N_p, N_d), **v)
    np.testing.assert_allclose(req, N_d * v["R_d"] / v["L_o"], rtol=1e-12)
    # the disaggregated rate is the balanced deployment's output over all its GPUs
    np.testing.assert_allclose(modes.disagg_rate(**v), req * v["L_o"] / (N_p + N_d), rtol=1e-12)


def test_aggregated_rate_never_beats_either_phase_alone():
    v = _rates()
    agg = modes.agg_rate(**v)
    assert np.all(agg <= v["R_d"] * (1 + 1e-12))                       # decode alone
    assert np.all(agg <= v["R_p"] * v["L_o"] / v["L_i"] * (1 + 1e-12))  # prefill alone, in output tokens
    r_d = RNG.uniform(1, 200, agg.size)
    user = modes.agg_user_rate(r_d=r_d, **v)
    assert np.all(user <= r_d) and np.all(user > 0)
    # with equal rates the two modes are one expression: the difference is the users' speed
    assert sp.simplify(modes.agg_rate.expr - modes.disagg_rate.expr) == 0


def test_disaggregated_wins_at_equal_per_user_speed_on_deepseeks_day():
    day = reproduce.day6()
    front = ps.modes_frontier(day.isl, day.osl, day.cached, day.prefill_layout, day.decode_layout)
    for speed in (15, 20, 25, 30):
        dis, agg = ps.at_speed(front, "disaggregated", speed), ps.at_speed(front, "aggregated", speed)
        assert dis["per_user"] >= speed and agg["per_user"] >= speed
        assert dis["per_gpu"] > agg["per_gpu"]
    assert ps.at_speed(front, "aggregated", 10_000) is None


def test_pd_ratio_curve_is_the_formula_on_the_step_model():
    day = reproduce.day6()
    rows = ps.pd_ratio_curve([1.0, day.isl / day.osl, 8.0], day.osl, 21.0, day.cached, day.prefill_layout,
                             day.decode_layout)
    for r in rows:
        assert r["pd_ratio"] == pytest.approx(r["isl"] * r["R_d"] / (day.osl * r["R_p"]))
        assert r["disagg_rate"] == pytest.approx(r["R_d"] / (1 + r["pd_ratio"]))
    assert all(b["pd_ratio"] > a["pd_ratio"] for a, b in zip(rows, rows[1:]))


def test_serve_search_rate_is_the_disaggregated_formula():
    b = search.best(M, H800, Service(4_000, 1_000, 20), "disagg", search.Space(moe_dtypes=("fp8",), kv_dtypes=("bf16",),
                                                                                mtp=(0,)))
    # the prefill pool is planned at the book's one prefill load (prefill.UTILISATION)
    assert b["prefill_utilisation"] == prefill.UTILISATION
    shape = dict(R_d=b["decode_tokens_per_s_per_gpu"], R_p=b["prefill_tokens_per_s_per_gpu"] * prefill.UTILISATION,
                 L_i=4_000, L_o=1_000)
    assert b["tokens_per_s_per_gpu"] == pytest.approx(float(modes.disagg_rate(**shape)), rel=1e-9)
    assert b["prefill_gpus_per_decode_gpu"] == pytest.approx(float(modes.pd_ratio(**shape)), rel=1e-9)
    assert b["tokens_per_s_per_user"] >= 20


@pytest.mark.parametrize("mode", ["disagg", "agg"])
def test_serve_and_plan_give_one_answer(mode):
    """One search: ``serve``'s fastest layout is one of ``plan --gpus G``'s candidates with the same
    throughput, and the plan's cheapest costs no more.  The plan rents whole units, so at a small
    volume a smaller unit can be cheaper than the fastest one; at a large volume the rounding is
    small and both name the same layout."""
    g = gpus.gpu("H200")
    w = Workload(requests_per_s=50.0, isl=2_000, osl=500, per_user=20)
    s = search.best(M, g, w.service, mode)
    same = plan.search(M, w, ["H200"], top=1, where=lambda d: d["mode"] == mode and d["layout"] == s["layout"])
    d = same["deployments"][0]
    key = "decode_tokens_per_s_per_gpu" if mode == "disagg" else "tokens_per_s_per_gpu"
    assert d[key] == pytest.approx(s[key], rel=1e-12)
    cheapest = plan.search(M, w, ["H200"], top=1, where=lambda x: x["mode"] == mode)["deployments"][0]
    assert cheapest["usd_per_day"] <= d["usd_per_day"]
    big = Workload(requests_per_s=50_000.0, isl=2_000, osl=500, per_user=20)   # large enough that no two layouts tie on whole units
    top = plan.search(M, big, ["H200"], top=1, where=lambda x: x["mode"] == mode)["deployments"][0]
    assert top["layout"]["ep"] == s["layout"]["ep"]
    assert top[key] == pytest.approx(s[key], rel=0.01)


# ----------------------------------------------------------------------------- DeepSeek's day
def test_derived_prompt_length_meets_both_published_conditions():
    d = day6_inputs()
    ctx = measurements.measurement("deepseek_day6", "kv_length").si
    isl = float(reproduce.isl_from_day(ctx=ctx, tok_in=d["tok_in"], tok_out=d["tok_out"]))
    osl = float(reproduce.osl_from_day(ctx=ctx, tok_in=d["tok_in"], tok_out=d["tok_out"]))
    assert float(reproduce.decode_mean_context(L_i=isl, L_o=osl)) == pytest.approx(ctx, rel=1e-12)
    assert isl / osl == pytest.approx(d["tok_in"] / d["tok_out"], rel=1e-12)


def test_day_is_the_fleet_formulas_at_the_predicted_rates():
    day = reproduce.day6()
    d = day6_inputs()
    R_p, R_d = day["prefill_per_node"].value, day["decode_per_node"].value
    n = fleet.nodes_needed(tok_in=d["tok_in"], tok_out=d["tok_out"], T=d["T"], rate_in=R_p * day.utilisation,
                           rate_out=R_d)
    assert day["nodes"].value == pytest.approx(float(n))
    assert day["nodes"].value == pytest.approx(day["nodes_prefill"].value + day["nodes_decode"].value)
    assert day["nodes_saturated"].value < day["nodes"].value            # idle prefill time costs nodes
    assert day["daily_cost"].value == pytest.approx(
        float(fleet.fleet_cost(N_node=day["nodes"].value, G=d["G"], price=d["price"], T=d["T"])))
    assert day["prefill_utilisation"].value == pytest.approx(d["rate_in"] / R_p)
    for c in day.items.values():
        if c.published is not None:
            assert c.error == pytest.approx(c.value / c.published - 1)
    # decode: the faster the users, the fewer tokens per node
    assert day["decode_per_node_slow"].value > R_d > day["decode_per_node_fast"].value
    # the layouts are the published ones
    assert (day.prefill_layout.ep, day.prefill_layout.redundant, day.decode_layout.ep, day.decode_layout.redundant) == (
        32, 32, 144, 32)


def test_isl_sensitivity_is_monotone_and_matches_the_day():
    day = reproduce.day6()
    rows = reproduce.isl_sensitivity([1_000, 2_000, day.isl, 8_000, 16_000])
    assert all(b["prefill_per_node"] < a["prefill_per_node"] for a, b in zip(rows, rows[1:]))
    assert all(b["nodes"] > a["nodes"] for a, b in zip(rows, rows[1:]))
    assert rows[2]["nodes"] == pytest.approx(day["nodes"].value)
    with pytest.raises(InputError):
        reproduce.day6(isl=0.5)


def test_fleet_output_per_gpu_is_the_published_day():
    d = day6_inputs()
    assert reproduce.fleet_output_per_gpu() == pytest.approx(d["tok_out"] / (d["T"] * d["N_node"] * d["G"]))


# ----------------------------------------------------------------------------- costs
def test_phase_costs_are_the_token_cost_formula():
    assert costs.input_token_cost.expr == fleet.token_cost.expr.subs(S.R_gpu, modes.R_p)
    assert costs.output_token_cost.expr == fleet.token_cost.expr.subs(S.R_gpu, modes.R_d)
    price = prices.gpu_hour_price("H800").si
    usd_per_mtok = costs.per_mtok(costs.input_token_cost, price=price, R_p=10_000.0, util=1.0)
    assert usd_per_mtok == pytest.approx(2.0 / (3600 * 10_000.0) * 1e6)
    assert costs.per_mtok(costs.output_token_cost, price=price, R_d=1_000.0, util=0.5) == pytest.approx(
        convert(price / 500.0, "USD/token", "USD/Mtok"))


def test_phase_costs_use_one_price_source():
    rows = costs.phase_costs(4_383.0, 1_211.0, 0.563, 20.0)
    assert {r["gpu"] for r in rows} == set(gpus.gpus())
    src = rows[0]["ranking_source"]
    assert src == prices.default_price_source()
    assert len({r["source"] for r in rows if r["price"] is not None}) == 1     # one price list for the comparison
    for r in rows:
        assert r["same_source"] == (r["price"] is not None)
        if r["price"] is None:
            assert r["usd_per_mtok_input"] is None and r["usd_per_mtok_output"] is None
        else:  # decode reads the caches and weights for one token per user and step: dearer than prefill
            assert r["usd_per_mtok_output"] > r["usd_per_mtok_input"] > 0
    assert sum(r["same_source"] for r in rows) >= 2


# ----------------------------------------------------------------------------- validation
def test_prefill_is_validated_against_two_other_teams():
    teams = validation.errors_by(ps.prefill_validation(), lambda p: p.publisher)
    assert len(teams) >= 2
    assert all(t["n"] >= 1 and np.isfinite(t["mean_error"]) for t in teams)
    assert all(p.phase == "prefill" for p in ps.prefill_validation())


# ----------------------------------------------------------------------------- command line
def _run(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_prefill_json(capsys):
    code, out, err = _run(["prefill", "--model", "deepseek-v3", "--gpu", "H800", "--ep", "32", "--isl", "4383",
                           "--cached-fraction", "0.563", "--json"], capsys)
    assert code == 0, err
    d = json.loads(out)
    for key in ("input_tokens_per_s_per_gpu", "input_tokens_per_s_per_node", "ttft_s"):
        assert isinstance(d[key], float) and d[key] > 0
    assert d["input_tokens_per_s_per_node"] == pytest.approx(8 * d["input_tokens_per_s_per_gpu"], rel=1e-6)


@pytest.mark.parametrize("mode", ["agg", "disagg"])
def test_cli_serve_json(mode, capsys):
    code, out, err = _run(["serve", "--model", "deepseek-v3", "--gpu", "H800", "--mode", mode, "--isl", "4000",
                           "--osl", "1000", "--per-user", "20", "--json"], capsys)
    assert code == 0, err
    d = json.loads(out)
    for key in ("tokens_per_s_per_gpu", "tokens_per_s_per_user", "ttft_s", "prefill_gpus_per_decode_gpu", "layout"):
        assert key in d
    assert d["tokens_per_s_per_user"] >= 20 and d["tokens_per_s_per_gpu"] > 0 and d["ttft_s"] > 0
    assert isinstance(d["layout"], dict) and d["layout"]["ep"] >= 1
    if mode == "agg":
        assert d["prefill_gpus_per_decode_gpu"] == 0
    else:
        assert d["prefill_gpus_per_decode_gpu"] > 0


@pytest.mark.parametrize("argv", [
    ["prefill", "--model", "deepseek-v3", "--gpu", "XX", "--ep", "32", "--isl", "4000"],
    ["prefill", "--model", "deepseek-v3", "--gpu", "H800", "--ep", "32", "--isl", "4000", "--cached-fraction", "1.5"],
    ["prefill", "--model", "deepseek-v3", "--gpu", "H800", "--ep", "32", "--isl", "-5"],
    ["serve", "--model", "deepseek-v3", "--gpu", "H800", "--mode", "both", "--isl", "4000", "--osl", "1000",
     "--per-user", "20"],
    ["serve", "--model", "deepseek-v3", "--gpu", "H800", "--mode", "agg", "--isl", "4000", "--osl", "1000",
     "--per-user", "100000"],
])
def test_cli_bad_input_is_one_line_and_exit_2(argv, capsys):
    code, out, err = _run(argv, capsys)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("inference-arithmetic: error:")


def test_printed_forms_are_the_derived_products():
    """eq-pf-prompt is printed as it collapses and eq-pf-agg-user in the shape of eq-pf-disagg: the same
    quantities as the products the chapter derives them from."""
    product = step.A_f * prefill.prefill_tokens_per_request.expr * prefill.prefill_context.expr
    assert sp.simplify(ps.prefill_attn_flop.expr - product) == 0
    derived = modes.r_d * (1 / modes.R_d) / (1 / modes.R_d + modes.L_i / (modes.L_o * modes.R_p))
    assert sp.simplify(modes.agg_user_rate.expr - derived) == 0
    assert sp.simplify(modes.agg_user_rate.expr / modes.r_d - modes.disagg_rate.expr / modes.R_d) == 0
