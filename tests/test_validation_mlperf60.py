"""The MLPerf Inference v6.0 entries of the validation set: each cites the results repository and
states its per-GPU division; the DeepSeek-R1 interactive limits and the gpt-oss-120b and Llama 3.1 405B
lengths come from the cited benchmark rules and dataset statistics; the entries are predicted (never
fitted) or say why not."""
from __future__ import annotations

import re

import pytest

from inference_arithmetic.evidence import validation, validation_search

#: the system totals and GPU counts as the result logs print them (closed/*/results/.../mlperf_log_summary.txt)
SYSTEM_TOTALS = {
    "mlperf60-gb300-72-offline": (647076, 72),
    "mlperf60-gb300-72-server": (400436.77, 72),
    "mlperf60-gb300-72-interactive": (250633.67, 72),
    "mlperf60-gb200-72-offline": (486141, 72),
    "mlperf60-gb200-72-server": (336106.48, 72),
    "mlperf60-gb200-72-interactive": (240317.85, 72),
    "mlperf60-b300-8-offline": (70325.7, 8),
    "mlperf60-b300-8-server": (42721.39, 8),
    "mlperf60-gb300-288-offline": (2494310, 288),
    "mlperf60-gb300-288-server": (1555108.58, 288),
    "mlperf60-nebius-gb300-8-server": (64509.99, 8),
    "mlperf60-coreweave-gb300-8-offline": (78564, 8),
    "mlperf60-gb300-72-gptoss-offline": (1042980, 72),
    "mlperf60-mi355x-8-gptoss-offline": (95004, 8),
    "mlperf60-gb300-72-gptoss-server": (1072251.73, 72),
    "mlperf60-gb300-72-gptoss-interactive": (677198.92, 72),
    "mlperf60-mi355x-8-gptoss-server": (82136.08, 8),
    "mlperf60-gb300-72-llama405b-offline": (19511.7, 72),
    "mlperf60-b300-8-llama405b-offline": (1951.6, 8),
}


def _v60() -> dict:
    return {k: e for k, e in validation.entries().items() if k.startswith("mlperf60-")}


def _bib_keys(root) -> set[str]:
    return set(re.findall(r"@\w+\{([^,]+),", (root / "references.bib").read_text()))


def test_the_v60_entries_load_and_cite_their_source(root):
    got, keys = _v60(), _bib_keys(root)
    assert set(got) == set(SYSTEM_TOTALS)
    for key, e in got.items():
        assert e["src"] == "mlperf-inference-v60" and e["src"] in keys, key
        assert set(e.get("also") or ()) <= keys, key
        assert str(e["published"]) == "2026-04-01" and e["retrieved"], key
        assert e["quote"] and "closed division" in e["note"].lower(), key
        assert e["publisher"].startswith("MLCommons MLPerf ("), key


def test_each_per_gpu_figure_is_the_system_total_over_its_gpus():
    for key, e in _v60().items():
        total, n = SYSTEM_TOTALS[key]
        item = e["measured"]["output_tokens_per_s_per_gpu"]
        assert e["gpus_total"] == n, key
        assert item["value"] == pytest.approx(total / n, abs=1e-4), key
        # the note says how: "<total> tokens/s for the <n>-GPU system / <n>"
        stated = re.match(r"([\d,.]+) tokens/s for the (\d+)-GPU system / (\d+)$", item["note"])
        assert stated, key
        assert float(stated.group(1).replace(",", "")) == pytest.approx(total), key
        assert int(stated.group(2)) == int(stated.group(3)) == n, key


def test_the_interactive_limits_and_setup_are_the_benchmarks():
    for key in ("mlperf60-gb300-72-interactive", "mlperf60-gb200-72-interactive"):
        e = validation.entries()[key]
        level = e["service_level"]
        assert (level["ttft_ms"], level["tpot_ms"], level["percentile"]) == (1500, 15, 99)
        assert "mlperf-v60-rules" in level["src"] and "mlperf-v60-rules" in e["also"]
        assert e["mode"] == "disagg" and e["gpus_prefill"] + e["gpus_decode"] == e["gpus_total"] == 72
        assert e["mtp"]["draft_tokens"] == 3      # num_nextn_predict_layers 3 in the worker configs
        s = validation_search.setup(key)
        assert s.service.ttft_s == 1.5 and s.service.per_user == pytest.approx(1000 / 15)
        assert set(s.modes) == {"disagg"} and s.max_gpus == 72
    server = validation.entries()["mlperf60-gb300-72-server"]["service_level"]
    assert (server["ttft_ms"], server["tpot_ms"]) == (2000, 80)


def test_the_llama_lengths_are_the_datasets_means(root):
    """Llama 3.1 405B: the dataset's mean lengths (the checker's 684.68 output tokens) and the 2-GPU
    engines' stated token budget, per GPU, where the offline configuration states them."""
    for key, e in _v60().items():
        if e["model"] != "llama-3.1-405b":
            continue
        assert (e["lengths"]["isl"], e["lengths"]["osl"]) == (9429, 685), key
        assert e["lengths"]["context"] > e["lengths"]["isl"], key      # length-biased, as the DeepSeek-R1 entries
        assert "mlperf-l405-dataset-lengths" in _bib_keys(root) and "mlperf-l405-dataset-lengths" in e["also"], key
        if e["layout"]["attn_tp"]:
            assert e["model_setup"]["chunk"] * e["layout"]["attn_tp"] == 1536, key   # max_num_tokens per engine


def test_the_gptoss_lengths_limits_and_setup_are_the_benchmarks(root):
    """gpt-oss-120b: the performance set's mean input (Red Hat PSAP's per-sample summary of perf_eval_ref.parquet)
    and the reference mean output; the Server and Interactive limits of loadgen/mlperf.conf; the interactive
    split of the submission's Dynamo config (20 one-GPU prefill and 13 four-GPU decode workers)."""
    keys = _bib_keys(root)
    for key, e in _v60().items():
        if e["model"] != "gpt-oss-120b":
            continue
        assert (e["lengths"]["isl"], e["lengths"]["osl"]) == (5011, 1278), key
        assert "mlperf-gptoss-dataset-lengths" in keys and "mlperf-gptoss-dataset-lengths" in e["lengths"]["src"], key
        assert "context" not in e["lengths"], key          # no per-sample output lengths published
        level = e.get("service_level")
        if key.endswith("-offline"):
            assert level is None, key
        elif key.endswith("-interactive"):
            assert (level["ttft_ms"], level["tpot_ms"], level["percentile"]) == (2000, 15, 99), key
            assert e["mode"] == "disagg" and (e["gpus_prefill"], e["gpus_decode"]) == (20, 52), key
        else:
            assert (level["ttft_ms"], level["tpot_ms"], level["percentile"]) == (3000, 80, 99), key
    s = validation_search.setup("mlperf60-gb300-72-gptoss-interactive")
    assert s.service.ttft_s == 2.0 and s.service.per_user == pytest.approx(1000 / 15)
    assert (s.service.isl, s.service.osl) == (5011, 1278)


def test_the_v60_entries_are_predicted_from_cited_lengths():
    preds = {p.id: p for p in validation.predict_all() if p.id.startswith("mlperf60-")}
    assert set(preds) == set(SYSTEM_TOTALS)
    for key, p in preds.items():
        e = validation.entries()[key]
        assert p.measured == e["measured"]["output_tokens_per_s_per_gpu"]["value"], key
        if e["model"] == "deepseek-r1":
            assert p.expressible and p.predicted > 0, key
            searched = any(r.startswith("searched layout:") for r in p.assumptions)
            if (e.get("layout") or {}).get("ep") is None:
                assert searched, key
            else:   # the offline submissions' DEP8 instances and batch limit, read from their configs
                assert not searched and "DEP8" in e["note"] and e["layout"]["ep"] == 8, key
                assert f"gpu_batch_size {e['model_setup']['max_batch']}" in e["note"], key
        elif e["model"] == "llama-3.1-405b":
            # NVFP4 dense weights (the submission's precision fp4): predicted at NVFP4 bytes and the FP4 rate,
            # the measured nvfp4 GEMM table read, and the model's own bound above the measurement
            assert e["precision"]["dense"] == "nvfp4" and "expressible" not in e["model_setup"], key
            assert p.expressible and 0 < p.predicted <= p.bound and p.bound >= p.measured, key
            assert "NVFP4 dense weights: 0.5625 B per weight, GEMMs at the FP4 rate" in p.assumptions, key
            assert any("dense GEMMs: trtllm" in r and "(nvfp4," in r for r in p.assumptions), key
        else:
            # gpt-oss-120b: predicted from the performance set's cited mean lengths by the one search; on the
            # MI355X its MXFP4 experts read AITER's fused-MoE table
            assert e["model"] == "gpt-oss-120b", key
            assert p.expressible and p.predicted > 0, key
            assert any(r.startswith("ISL 5,011 and OSL 1,278 tokens (unstated)") for r in p.assumptions), key
            assert any(r.startswith("searched layout:") for r in p.assumptions), key
            if e["gpu"] == "MI355X":
                assert any(r.startswith("kernels: AITER e4048607a535 fused-MoE table (a8w4") for r in p.assumptions), key
    # a stated layout's largest batch is capped by the configuration's batch limit (GB200: 576 fit, 512 allowed)
    assert any(r.startswith("512 requests per attention instance, the serving configuration's batch limit")
               for r in preds["mlperf60-gb200-72-offline"].assumptions)
