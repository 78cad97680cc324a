"""The step model at an MLPerf run's measured load (evidence.measured_load): the log data file agrees with the
validation set it was read beside, Little's law is the registered formula, the batch is pinned as the CLI would pin
it, and the check stays out of the validation's summary."""
from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest

from inference_arithmetic import cli
from inference_arithmetic.evidence import measured_load, validation, validation_search
from inference_arithmetic.evidence.validation_setup import Skip, entries
from inference_arithmetic.serving import search

KEYS = {"round", "commit", "path", "samples_per_s", "tokens_per_s", "mean_latency_s", "mean_ttft_s", "p99_ttft_s",
        "mean_tpot_s", "p99_tpot_s", "target_qps", "ttft_limit_s", "tpot_limit_s"}


def test_the_log_file_names_validation_entries_and_matches_their_measurements():
    runs, es = measured_load.runs(), entries()
    assert len(runs) >= 90
    for key, r in runs.items():
        e = es[key]                                   # every id is an entry of the set
        assert set(r) == KEYS, key
        assert r["commit"] == {"5.1": "965182b0", "6.0": "4d3916ac"}[str(r["round"])]
        assert r["path"].endswith("/performance/run_1/mlperf_log_summary.txt") and key.split("-")[-1] in r["path"].lower()
        # two readings of one log agree: the set's per-GPU rate and the file's system rate over the GPUs
        assert r["tokens_per_s"] / e["gpus_total"] == pytest.approx(e["measured"]["output_tokens_per_s_per_gpu"]["value"],
                                                                    rel=1e-4), key
        assert 0 < r["mean_ttft_s"] < r["mean_latency_s"] and 0 < r["mean_tpot_s"] < r["mean_latency_s"]
        assert r["p99_tpot_s"] <= r["tpot_limit_s"] * 1.001 and r["p99_ttft_s"] <= r["ttft_limit_s"] * 1.001, key
        # the run completed about what it was sent (0.81 to 1.01 of the target in these logs)
        assert 0.8 * r["target_qps"] <= r["samples_per_s"] <= 1.02 * r["target_qps"], key


def test_littles_law_is_the_registered_formula():
    f = measured_load.decode_concurrency
    assert float(f.fast(lam_run=2.0, W_run=10.0, T1_run=1.5)) == pytest.approx(17.0)
    assert str(f.expr) == "lam_run*(-T1_run + W_run)"


@pytest.mark.parametrize("x, want", [(0.2, 1.0), (6.8, 7.0), (512.4, 512.0), (520.0, 512.0), (530.0, 544.0),
                                     (5000.0, 2048.0)])
def test_on_grid_is_the_nearest_batch_the_search_builds(x, want):
    assert measured_load.on_grid(x) == want and want in search.BATCHES


def test_worked_example_at_load_is_what_serve_answers_at_that_batch(capsys):
    key = "mlperf60-gigacomputing-b300-8-dsr1-interactive"
    a = measured_load.at_load(key)
    r = measured_load.runs()[key]
    assert a.concurrency_per_gpu == pytest.approx(r["samples_per_s"] * (r["mean_latency_s"] - r["mean_ttft_s"]) / 8)
    assert a.batch == 7 and a.measured == pytest.approx(616.83, rel=1e-4)
    code = cli.main(["serve", "--model", "deepseek-v3", "--gpu", "B300", "--mode", "agg", "--framework", "trtllm",
                     "--ep", "8", "--attn", "dp", "--batch", "7", "--mtp", "3", "--moe-dtype", "nvfp4", "--kv-dtype",
                     "fp8", "--attn-dtype", "bf16", "--isl", "804", "--osl", "3886", "--decode-context", "5624",
                     "--max-batch", "128", "--max-gpus", "8", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["tokens_per_s_per_gpu"] == pytest.approx(a.predicted, rel=1e-6)
    assert a.tpot_predicted == pytest.approx(1 / out["tokens_per_s_per_user"], rel=1e-6)
    # the same run at the limits: the batch the validation's search takes is far larger
    _, lim = validation_search.best(validation_search.setup(key))
    assert lim["batch_per_instance"] > 5 * a.batch and lim["tokens_per_s_per_gpu"] > 3 * a.predicted


def test_every_run_is_asked_aggregated_per_gpu_and_disaggregated_per_decode_gpu():
    done, left = measured_load.all_at_load()
    assert len(done) == len(measured_load.runs()) and not left
    es, runs = entries(), measured_load.runs()
    assert {a.per for a in done} == {"GPU", "decode GPU"}
    for a in done:
        e, r = es[a.id], runs[a.id]
        assert a.measured > 0 and a.predicted > 0 and math.isfinite(a.error)
        assert a.batch in search.BATCHES and "Little's law" in " ".join(a.notes)
        gpus = e["gpus_total"] if e["mode"] == "agg" else e["gpus_decode"]     # the GPUs holding the concurrency
        assert a.per == ("GPU" if e["mode"] == "agg" else "decode GPU")
        assert a.measured == pytest.approx(r["tokens_per_s"] / gpus, rel=1e-9)
        assert a.concurrency_per_gpu == pytest.approx(
            r["samples_per_s"] * (r["mean_latency_s"] - r["mean_ttft_s"]) / gpus, rel=1e-9)


def test_a_disaggregated_run_at_load_is_serves_decode_rate_at_that_batch(capsys):
    key = "mlperf60-gb300-72-interactive"
    a = measured_load.at_load(key)
    e = entries()[key]
    assert a.per == "decode GPU" and e["gpus_decode"] == 64 and "compared per decode GPU" in " ".join(a.notes)
    code = cli.main(["serve", "--model", "deepseek-v3", "--gpu", "GB300", "--mode", "disagg", "--framework", "trtllm",
                     "--ep", "16", "--attn", "dp", "--batch", f"{a.batch:.0f}", "--mtp", "3", "--moe-dtype", "nvfp4",
                     "--kv-dtype", "fp8", "--attn-dtype", "bf16", "--isl", "804", "--osl", "3886", "--decode-context",
                     "5624", "--max-batch", "64", "--prefill-ep", "4", "--max-gpus", "72", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["decode_tokens_per_s_per_gpu"] == pytest.approx(a.predicted, rel=1e-6)
    assert a.tpot_predicted == pytest.approx(1 / out["tokens_per_s_per_user"], rel=1e-6)


def test_a_disaggregated_entry_without_its_decode_gpus_and_an_entry_without_a_log_are_skipped(monkeypatch):
    key = "mlperf60-gb300-72-interactive"
    es = dict(entries())
    es[key] = {**es[key], "gpus_decode": None}
    monkeypatch.setattr(measured_load, "entries", lambda: es)
    with pytest.raises(Skip, match="does not state how many decode GPUs"):
        measured_load.at_load(key)
    with pytest.raises(Skip, match="no MLPerf Server or Interactive log"):
        measured_load.at_load("mlperf60-b300-8-offline")


def test_the_check_never_enters_the_validation_summary():
    preds = validation.predict_all()
    rows = measured_load.compared(preds)
    by_id = {p.id: p for p in preds}
    assert all(r["error_limits"] == by_id[r["id"]].error for r in rows)
    before = validation.summary(preds)
    measured_load.all_at_load()                                # asking every run at its load changes no prediction
    assert validation.summary(validation.predict_all()) == before
    assert all(r["group"] == f"MLPerf {r['round']} {r['family']}" for r in rows)
    groups = measured_load.group_rows(rows)
    assert groups[-1]["group"] == "all" and groups[-1]["n"] == len(rows) == sum(g["n"] for g in groups[:-1])


def test_a_pinned_per_gpu_concurrency_counts_the_gpus_an_instance_spans():
    """A TP degree above a sub-node unit's GPUs spans the unit: the requests per instance are the requests per GPU
    times the GPUs it spans, not times the degree asked for (a unit of 4 GPUs at TP 'all' holds 4 x per GPU)."""
    s = replace(validation_search.setup("mlperf60-redhat-h200-8-gptoss-server"), batch_per_gpu=100.0)
    spaces = s.spaces()
    assert spaces and any(sp.decode_ep[0] < 8 and sp.attn_tp[0] > 1 for _, sp in spaces)
    for t, sp in spaces:
        (ep,), (tp,) = sp.decode_ep, sp.attn_tp
        assert t == tp <= ep and sp.batch == round(100.0 * tp)


def test_validate_at_load_adds_its_object_and_leaves_the_summary_alone(capsys):
    assert cli.main(["validate", "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert cli.main(["validate", "--at-load", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert "at_measured_load" not in plain and {k: d[k] for k in plain} == plain      # nothing else changes
    a = d["at_measured_load"]
    assert a["summary"]["n"] == len(a["rows"]) == len(measured_load.runs()) - len(a["left_out"])
    assert a["at_the_limits"]["n"] == a["summary"]["n"] and "conditional" in a["kind"]
    row = next(r for r in a["rows"] if r["id"] == "mlperf60-gigacomputing-b300-8-dsr1-interactive")
    assert row["batch"] == 7 and row["error"] == pytest.approx(row["predicted"] / row["measured"] - 1, abs=1e-6)
    by_id = {r["id"]: r for r in d["rows"]}
    assert row["error_at_the_limits"] == pytest.approx(by_id[row["id"]]["error"], abs=1e-6)


def test_validate_at_load_under_another_framework_asks_its_kernels():
    ours = {a.id: a.predicted for a in measured_load.all_at_load("deepseek")[0]}
    pub = {a.id: a.predicted for a in measured_load.all_at_load()[0]}
    assert set(ours) == set(pub) and sum(ours[k] != pub[k] for k in ours) > len(ours) / 2
