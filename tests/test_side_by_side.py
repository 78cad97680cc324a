"""The side-by-side with aiconfigurator: the stored file's schema and provenance, its ids against the
validation set, and the summary recomputed from the rows (aiconfigurator itself is not run here)."""
from __future__ import annotations

import numpy as np
import pytest

from inference_arithmetic.core.rounding import stable_data
from inference_arithmetic.evidence import side_by_side as sbs
from inference_arithmetic.evidence import validation

SYSTEMS = {"h100_sxm", "h200_sxm", "b200_sxm", "b300_sxm", "gb200", "gb300"}
METRICS = {"output_tokens_per_s_per_gpu", "input_tokens_per_s_per_gpu", "total_tokens_per_s_per_gpu",
           "tokens_per_s_per_user"}


@pytest.fixture(scope="module")
def rows():
    return sbs.rows()


def test_header_states_version_date_script_licence_and_not_ci():
    head = sbs.stored()["header"]
    assert head["tool"] == "aiconfigurator-core" and head["version"] == "0.12.0"
    assert head["script"] == "benchmarks/aiconfigurator_side_by_side.py"
    script = (sbs.FILE.parents[3] / head["script"]).read_text()
    assert f'DATE = "{head["date"]}"' in script          # the date the script that wrote the file gives its run
    assert len(head["date"]) == 10 and head["date"].startswith("2026-")
    assert "Apache-2.0" in head["licence"] and "not re-run in CI" in head["ci"]


def test_schema_of_each_prediction():
    for p in sbs.stored()["predictions"]:
        assert set(p) == {"id", "metric", "predicted", "system", "backend", "backend_version", "model", "layout",
                          "notes"}, p["id"]
        assert p["system"] in SYSTEMS and p["backend"] in {"trtllm", "sglang", "vllm"}
        assert p["metric"] in METRICS and p["predicted"] > 0
        lay = p["layout"]
        assert lay["tp_size"] * lay["attention_dp_size"] == lay["moe_tp_size"] * lay["moe_ep_size"], p["id"]
        assert isinstance(p["notes"], list)
    for x in sbs.stored()["not_expressible"]:
        assert set(x) == {"id", "reason"} and x["reason"]


def test_every_id_is_a_validation_entry_and_listed_once():
    data = sbs.stored()
    ids = [p["id"] for p in data["predictions"]] + [x["id"] for x in data["not_expressible"]]
    assert len(ids) == len(set(ids))
    assert set(ids) <= set(validation.entries())
    # entries added to the validation set after the stored run are counted, not hidden
    assert sbs.summary()["not_run"] == len(set(validation.entries()) - set(ids))


def test_stored_floats_follow_the_rounding_rule():
    data = sbs.stored()
    assert stable_data(data["predictions"]) == data["predictions"]


def test_metric_and_measured_match_the_validation_entry(rows):
    preds = {p.id: p for p in validation.predict_all()}
    for r in rows:
        p = preds[r["id"]]
        assert r["metric"] == p.metric and r["measured"] == p.measured
        assert r["error_aic"] == pytest.approx(r["aiconfigurator"] / p.measured - 1)
        if r["model"] is not None:
            assert r["model"] == p.predicted and r["error_model"] == pytest.approx(p.error)


def test_closer_is_the_smaller_absolute_error(rows):
    for r in rows:
        if r["error_model"] is None:
            assert r["closer"] == "aiconfigurator"
        elif abs(r["error_model"]) < abs(r["error_aic"]):
            assert r["closer"] == "this model"
        elif abs(r["error_model"]) > abs(r["error_aic"]):
            assert r["closer"] == "aiconfigurator"


@pytest.mark.parametrize("frameworks", [None, {"trtllm"}])
def test_summary_is_computed_from_the_rows(rows, frameworks):
    s = sbs.summary(rows)
    part = s if frameworks is None else s["trtllm"]
    both = [r for r in rows if r["error_model"] is not None and (frameworks is None or r["framework"] in frameworks)]
    assert part["n"] == len(both) > 0
    assert part["mape_model"] == pytest.approx(np.mean([abs(r["error_model"]) for r in both]))
    assert part["mape_aic"] == pytest.approx(np.mean([abs(r["error_aic"]) for r in both]))
    assert part["mean_error_aic"] == pytest.approx(np.mean([r["error_aic"] for r in both]))
    assert part["closer_model"] + part["closer_aic"] + part["ties"] == part["n"]
    assert part["closer_model"] == sum(abs(r["error_model"]) < abs(r["error_aic"]) for r in both)


def test_summary_counts_and_table():
    s = sbs.summary()
    assert s["n"] + s["aic_only"] == len(sbs.stored()["predictions"])
    assert s["not_expressible"] == len(sbs.stored()["not_expressible"])
    table = sbs.table_rows()
    assert len(table) == len(sbs.stored()["predictions"]) and all(t["measured"] for t in table)
