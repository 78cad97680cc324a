"""The capacity planner: search, costs, constraints and the command line contract."""
from __future__ import annotations

import json

import numpy as np
import pytest

from inference_arithmetic.evidence import reproduce
from inference_arithmetic.model import config
from inference_arithmetic.serving import workload
from inference_arithmetic import cli
from inference_arithmetic.serving import plan
from inference_arithmetic.core.errors import InputError

V3 = config.model("deepseek-v3")


def run(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def result():
    w = workload.Workload.from_tokens_per_day(50e9, 2000, 500, per_user=20, ttft_s=5,
                                          profile=workload.Profile.cosine(1.5))
    return w, plan.search(V3, w, ["H100", "H200", "B200"])


def test_search_is_large_and_ranked(result):
    w, r = result
    assert r["candidates"] >= 10**6
    costs = [d["usd_per_day"] for d in r["deployments"]]
    assert costs == sorted(costs) and len(costs) == 10
    for d in r["deployments"]:
        assert d["tokens_per_s_per_user"] >= w.per_user and d["ttft_s"] <= w.ttft_s
        assert d["gpus_peak"] >= d["gpus_avg"] >= d["layout"]["ep"]      # whole units, at least one running
        assert d["nodes_peak"] * 8 >= d["gpus_peak"]


def test_costs_add_up(result):
    w, r = result
    for d in r["deployments"]:
        in_day, out_day = w.input_per_s * 86400, w.output_per_s * 86400
        assert d["usd_per_m_input"] * in_day / 1e6 + d["usd_per_m_output"] * out_day / 1e6 == pytest.approx(
            d["usd_per_day"])
        assert sum(p["usd_per_day"] for p in d["pools"]) == pytest.approx(d["usd_per_day"], rel=1e-12)
        assert sum(p["gpus_avg"] for p in d["pools"]) == pytest.approx(d["gpus_avg"], rel=1e-12)
        od, res = d["price_on_demand"], d["price_reserved"]
        assert res * 24 * d["gpus_avg"] <= d["usd_per_day"] * 1.0000001 <= od * 24 * d["gpus_avg"] * 1.0000001
        assert d["reserved_gpus"] + d["on_demand_gpus_avg"] == pytest.approx(d["gpus_avg"])


def test_infeasible_requirements_name_the_constraint():
    w = workload.Workload(requests_per_s=10, isl=2000, osl=500, per_user=5000)
    with pytest.raises(InputError, match="no deployment reaches 5000 tok/s per user: the fastest is"):
        plan.search(V3, w, ["H200"])
    w = workload.Workload(requests_per_s=10, isl=2000, osl=500, per_user=10, ttft_s=0.001)
    with pytest.raises(InputError, match="no deployment meets TTFT"):
        plan.search(V3, w, ["H200"])


def test_deepseek_check_is_within_the_stated_error():
    """DeepSeek's day through the planner: rented in whole EP144 and EP32 units the average fleet is
    above the GPU-hours the rates need (each pool rounds up to its next unit), both near the
    published average, and the peak is whole units of 18 and 4 nodes."""
    c = reproduce.deepseek_check()
    assert abs(c["error_avg"]) < 0.10 and abs(c["error_avg_continuous"]) < 0.10
    assert c["nodes_avg"] > c["nodes_avg_continuous"]
    assert c["nodes_peak"] > c["nodes_avg"]
    pools = {p["role"]: p for p in c["deployment"]["pools"]}
    assert pools["decode"]["gpus_peak"] % 144 == 0 and pools["prefill"]["gpus_peak"] % 32 == 0
    assert all(p["tier"] == "on-demand" and p["source"] == "deepseek-day6" for p in pools.values())
    assert c["usd_per_day"] == pytest.approx(24 * 2.0 * c["nodes_avg"] * 8)


def test_plan_command_contract(capsys, tmp_path):
    code, out, err = run(["plan", "--model", "deepseek-v3", "--tokens-per-day", "2e10", "--isl", "2000", "--osl",
                          "500", "--per-user", "20", "--ttft", "5", "--gpus", "H200,B200", "--profile", "cosine:1.3",
                          "--json"], capsys)
    assert code == 0, err
    d = json.loads(out)
    keys = {"gpu", "mode", "gpus_avg", "gpus_peak", "nodes_avg", "nodes_peak", "usd_per_day", "usd_per_m_input",
            "usd_per_m_output", "ttft_s", "tokens_per_s_per_user", "layout"}
    assert d["deployments"] and all(keys <= set(x) for x in d["deployments"])
    csv = tmp_path / "load.csv"
    csv.write_text("hour,load\n" + "\n".join(f"{h},{1 + (h > 8) * 0.5}" for h in range(24)))
    code, out, _ = run(["plan", "--model", "deepseek-v3", "--requests-per-s", "5", "--isl", "1000", "--osl", "1000",
                        "--per-user", "30", "--gpus", "H200", "--profile", str(csv), "--json"], capsys)
    assert code == 0 and json.loads(out)["profile"].startswith("hourly")


@pytest.mark.parametrize("argv,needle", [
    (["--tokens-per-day", "1e9", "--isl", "100", "--osl", "100", "--per-user", "20", "--profile", "sine"], "--profile"),
    (["--tokens-per-day", "1e9", "--isl", "100", "--osl", "100", "--per-user", "20", "--profile", "cosine:9"],
     "peak-to-mean"),
    (["--tokens-per-day", "-5", "--isl", "100", "--osl", "100", "--per-user", "20"], "positive number"),
    (["--tokens-per-day", "1e9", "--isl", "100", "--osl", "100", "--per-user", "20", "--gpus", "H900"], "unknown GPU"),
    (["--tokens-per-day", "1e9", "--isl", "100", "--osl", "100", "--per-user", "20", "--prices", "ebay"],
     "unknown price source"),
    (["--tokens-per-day", "1e9", "--requests-per-s", "3", "--isl", "100", "--osl", "100", "--per-user", "20"],
     "not allowed"),
    (["--tokens-per-day", "1e9", "--isl", "100", "--osl", "100", "--per-user", "20", "--profile", "/dev/zero.csv"],
     "no such file"),
])
def test_plan_bad_input(argv, needle, capsys):
    code, out, err = run(["plan", "--model", "deepseek-v3", *argv], capsys)
    assert code == 2 and not out and err.count("\n") == 1 and needle in err, err


@pytest.mark.parametrize("text, why", [("0,1\n1,3\n", "columns"), ("hour,load\n0\n", "columns"),
                                       ("hour,demand\n0,1\n", "name the column"), ("1;2;3\n", "no numbers")])
def test_a_load_profile_is_one_column_or_a_named_column(tmp_path, capsys, text, why):
    """Issue 26: a two-column file is never read as twice the hours; anything ambiguous is refused."""
    csv = tmp_path / "load.csv"
    csv.write_text(text)
    code, _, err = run(["plan", "--model", "deepseek-v3", "--requests-per-s", "5", "--isl", "1000", "--osl", "1000",
                        "--per-user", "30", "--gpus", "H200", "--profile", str(csv)], capsys)
    assert code == 2 and why in err and len(err.strip().splitlines()) == 1


def test_a_named_load_column_is_read_by_name(tmp_path):
    from inference_arithmetic.core.inputs import read_numbers_file
    csv = tmp_path / "load.csv"
    csv.write_text("hour,load\n0,2\n1,6\n")
    assert read_numbers_file(csv, "load") == [2.0, 6.0]


@pytest.mark.parametrize("extra", [["--requests-per-s", "5e-324"], ["--requests-per-s", "5", "--prices", ""],
                                   ["--requests-per-s", "5", "--gpus", ""], ["--requests-per-s", "5", "--isl", "١٢٣"]])
def test_vanishing_volumes_empty_values_and_non_ascii_digits_are_refused(capsys, extra):
    """Issue 26: one line and exit 2, never a traceback or a silent default."""
    args = ["plan", "--model", "deepseek-v3", "--isl", "1000", "--osl", "1000", "--per-user", "30"]
    code, out, err = run(args + extra, capsys)
    assert code == 2 and not out and len(err.strip().splitlines()) == 1


def test_a_subnormal_load_next_to_a_zero_is_a_profile(tmp_path):
    csv = tmp_path / "load.csv"
    csv.write_text("0\n5e-324\n")
    from inference_arithmetic.core.inputs import read_numbers_file
    p = workload.Profile.hourly(read_numbers_file(csv, "load"))
    assert p.shape == (0.0, 2.0)


def test_reused_candidates_give_the_same_answers():
    """plan.search's ``reuse``: searches that differ only in the per-user floor, the prices or the GPU types
    answer as if each searched afresh; a different service (here the TTFT limit) is searched, not reused."""
    m = config.model("deepseek-v3")
    w = workload.Workload.from_tokens_per_day(1e10, 2000, 500, per_user=20, ttft_s=5)
    reuse: dict = {}

    def costs(r):
        return [(d["gpu"], d["mode"], d["usd_per_day"]) for d in r["deployments"]]
    for work, gpus, source in ((w, ["H200", "B200"], None), (workload.Workload(**{**w.__dict__, "per_user": 40}),
                               ["H200"], None), (w, None, "all"),
                               (workload.Workload(**{**w.__dict__, "ttft_s": 1.0}), ["H200"], None)):
        fresh = plan.search(m, work, gpus, source, top=5)
        assert costs(plan.search(m, work, gpus, source, top=5, reuse=reuse)) == costs(fresh)
    services = {key[2] for key in reuse}
    assert len(services) == 2 and all(s.per_user is None for s in services)
