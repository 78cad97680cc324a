"""The MLPerf Inference v6.0 entries of the validation set: each cites the results repository and
states its per-GPU division; the DeepSeek-R1 interactive limits and the gpt-oss-120b and Llama 3.1 405B
lengths come from the cited benchmark rules and dataset statistics; the entries are predicted (never
fitted) or say why not."""
from __future__ import annotations

import importlib.util
import re

import pytest

from inference_arithmetic.core.errors import Error
from inference_arithmetic.evidence import validation, validation_search, validation_setup

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
    # the rest of the round by one rule (scripts/mlperf_round_entries.py --round 6.0), the totals as the logs print them
    "mlperf60-gigacomputing-b300-8-dsr1-interactive": (4934.65, 8),
    "mlperf60-cisco-b300-8-dsr1-offline": (69251.4, 8),
    "mlperf60-coreweave-gb200-64-dsr1-offline": (468665, 64),
    "mlperf60-dell-xe9780l-b300-8-dsr1-offline": (66287.9, 8),
    "mlperf60-dell-b200-8-dsr1-offline": (58235.4, 8),
    "mlperf60-dell-xe9780-b300-8-dsr1-offline": (69021.2, 8),
    "mlperf60-gigacomputing-b300-8-dsr1-offline": (69617.4, 8),
    "mlperf60-google-b200-8-dsr1-offline": (57116.9, 8),
    "mlperf60-google-gb200-72-dsr1-offline": (307874, 72),
    "mlperf60-nebius-gb300-72-dsr1-offline": (673936, 72),
    "mlperf60-nebius-gb300-8-dsr1-offline": (76346.6, 8),
    "mlperf60-nebius-b200-8-dsr1-offline": (58581.6, 8),
    "mlperf60-nebius-b300-8-dsr1-offline": (69318.9, 8),
    "mlperf60-quantacloudtechnology-b300-8-dsr1-offline": (69263.2, 8),
    "mlperf60-cisco-b300-8-dsr1-server": (58553.28, 8),
    "mlperf60-coreweave-gb200-64-dsr1-server": (311531.04, 64),
    "mlperf60-coreweave-gb300-8-dsr1-server": (44589.69, 8),
    "mlperf60-dell-xe9780l-b300-8-dsr1-server": (46510.56, 8),
    "mlperf60-dell-b200-8-dsr1-server": (40949.45, 8),
    "mlperf60-dell-xe9780-b300-8-dsr1-server": (46513.06, 8),
    "mlperf60-gigacomputing-b300-8-dsr1-server": (35552.55, 8),
    "mlperf60-google-b200-8-dsr1-server": (41027.93, 8),
    "mlperf60-google-gb200-72-dsr1-server": (156781.10, 72),
    "mlperf60-nebius-gb300-72-dsr1-server": (575579.74, 72),
    "mlperf60-nebius-b200-8-dsr1-server": (51692.89, 8),
    "mlperf60-nebius-b300-8-dsr1-server": (60413.44, 8),
    "mlperf60-quantacloudtechnology-b300-8-dsr1-server": (35435.70, 8),
    "mlperf60-asustek-b300-8-gptoss-interactive": (26005.77, 8),
    "mlperf60-nvidia-gb200-72-gptoss-interactive": (624929.29, 72),
    "mlperf60-nebius-b200-8-gptoss-interactive": (13155.34, 8),
    "mlperf60-amd-mi355x-94-gptoss-offline": (1.03107e+06, 94),
    "mlperf60-asustek-b300-8-gptoss-offline": (110077, 8),
    "mlperf60-cisco-b300-8-gptoss-offline": (111496, 8),
    "mlperf60-coreweave-gb200-64-gptoss-offline": (774539, 64),
    "mlperf60-coreweave-gb300-64-gptoss-offline": (910468, 64),
    "mlperf60-dell-mi355x-8-gptoss-offline": (91395.5, 8),
    "mlperf60-gigacomputing-mi355x-8-gptoss-offline": (92332.2, 8),
    "mlperf60-gigacomputing-b300-8-gptoss-offline": (107696, 8),
    "mlperf60-hpe-mi355x-8-gptoss-offline": (91846.6, 8),
    "mlperf60-lambdasit-gb300-4-gptoss-offline": (60220.4, 4),
    "mlperf60-lenovo-b300-8-gptoss-offline": (109141, 8),
    "mlperf60-nvidia-b300-8-gptoss-offline": (103961, 8),
    "mlperf60-nvidia-gb200-72-gptoss-offline": (879542, 72),
    "mlperf60-nebius-gb300-1-gptoss-offline": (15371.7, 1),
    "mlperf60-nebius-gb300-72-gptoss-offline": (1.04615e+06, 72),
    "mlperf60-nebius-b200-8-gptoss-offline": (85921.2, 8),
    "mlperf60-nebius-b300-8-gptoss-offline": (106885, 8),
    "mlperf60-oracle-mi355x-8-gptoss-offline": (91706.3, 8),
    "mlperf60-redhat-b200-8-gptoss-offline": (93070.7, 8),
    "mlperf60-redhat-h200-8-gptoss-offline": (28680, 8),
    "mlperf60-amd-mi355x-94-gptoss-server": (900054.32, 94),
    "mlperf60-asustek-b300-8-gptoss-server": (100656.05, 8),
    "mlperf60-cisco-b300-8-gptoss-server": (110655.40, 8),
    "mlperf60-coreweave-gb200-64-gptoss-server": (743549.68, 64),
    "mlperf60-coreweave-gb300-64-gptoss-server": (956522.81, 64),
    "mlperf60-dell-mi355x-8-gptoss-server": (78603.48, 8),
    "mlperf60-gigacomputing-mi355x-8-gptoss-server": (80089.62, 8),
    "mlperf60-gigacomputing-b300-8-gptoss-server": (106396.72, 8),
    "mlperf60-hpe-mi355x-8-gptoss-server": (75354.94, 8),
    "mlperf60-lambdasit-gb300-4-gptoss-server": (53462.73, 4),
    "mlperf60-lenovo-b300-8-gptoss-server": (100687.25, 8),
    "mlperf60-nvidia-b300-8-gptoss-server": (100327.65, 8),
    "mlperf60-nvidia-gb200-72-gptoss-server": (899217.66, 72),
    "mlperf60-nebius-gb300-1-gptoss-server": (14973.14, 1),
    "mlperf60-nebius-gb300-72-gptoss-server": (1096765.78, 72),
    "mlperf60-nebius-b200-8-gptoss-server": (87444.22, 8),
    "mlperf60-nebius-b300-8-gptoss-server": (100436.86, 8),
    "mlperf60-oracle-mi355x-8-gptoss-server": (78186.31, 8),
    "mlperf60-redhat-b200-8-gptoss-server": (71588.13, 8),
    "mlperf60-redhat-h200-8-gptoss-server": (24103.19, 8),
    "mlperf60-gigacomputing-b300-8-llama405b-interactive": (764.66, 8),
    "mlperf60-nvidia-gb200-72-llama405b-interactive": (14010.11, 72),
    "mlperf60-nvidia-gb300-72-llama405b-interactive": (18365.45, 72),
    "mlperf60-cisco-b300-8-llama405b-offline": (1971.11, 8),
    "mlperf60-gigacomputing-b300-8-llama405b-offline": (1947.91, 8),
    "mlperf60-google-b200-8-llama405b-offline": (1350.24, 8),
    "mlperf60-nvidia-gb200-72-llama405b-offline": (15461.5, 72),
    "mlperf60-quantacloudtechnology-b300-8-llama405b-offline": (1953.77, 8),
    "mlperf60-cisco-b300-8-llama405b-server": (1445.70, 8),
    "mlperf60-gigacomputing-b300-8-llama405b-server": (1340.51, 8),
    "mlperf60-google-b200-8-llama405b-server": (983.63, 8),
    "mlperf60-nvidia-b300-8-llama405b-server": (1460.25, 8),
    "mlperf60-nvidia-gb200-72-llama405b-server": (14133.93, 72),
    "mlperf60-nvidia-gb300-72-llama405b-server": (18627.63, 72),
    "mlperf60-quantacloudtechnology-b300-8-llama405b-server": (1484.40, 8),
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
        if e["layout"]["attn_tp"] and "chunk" in (e.get("model_setup") or {}):
            stated = int(re.search(r"max_num_tokens[ =:]*(\d+)", e["note"])[1])      # per engine (1,536 or 512)
            assert e["model_setup"]["chunk"] * e["layout"]["attn_tp"] == stated, key


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
            if key == "mlperf60-gb300-72-gptoss-interactive":
                assert e["mode"] == "disagg" and (e["gpus_prefill"], e["gpus_decode"]) == (20, 52), key
            elif e["mode"] == "disagg":      # the Dynamo config's workers fill the system
                assert e["gpus_prefill"] + e["gpus_decode"] == e["gpus_total"], key
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
            assert e["precision"]["dense"] == "nvfp4", key
            if (e.get("model_setup") or {}).get("expressible") is False:     # pipeline-parallel engines
                assert not p.expressible and "pipeline parallelism" in p.reason, key
                continue
            if not p.expressible:      # a latency-bound scenario the search finds no layout for: it says why
                assert key.endswith(("-server", "-interactive")) and "no layout" in p.reason, key
                continue
            if validation_search.searched(e):      # latency-bound: the search, the dense dtype pinned as stated
                assert p.expressible and 0 < p.predicted <= p.bound, key
                assert validation_search.setup(key).space.dense_dtype == "nvfp4", key
                assert any(r.startswith("searched layout:") for r in p.assumptions), key
                continue
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
            if e["gpu"] == "MI355X" and "vllm" in e["framework"].lower():   # else the transfer rule
                assert any(r.startswith("kernels: AITER e4048607a535 fused-MoE table (a8w4") for r in p.assumptions), key
    # a stated layout's largest batch is capped by the configuration's batch limit (GB200: 576 fit, 512 allowed)
    assert any(r.startswith("512 requests per attention instance, the serving configuration's batch limit")
               for r in preds["mlperf60-gb200-72-offline"].assumptions)


#: a TensorRT-LLM config's engine as the round script quotes it in a note: GPUs, attention DP, MoE EP
_ENGINE = re.compile(r"\(tensor_parallelism (\d+)((?: with|,) enable_attention_dp)?(?:, moe_expert_parallelism (\d+))?")


def test_a_stated_decode_unit_is_the_searchs_unit_and_the_batch_stays_the_searchs():
    """Where a v6.0 configuration states its engines and the layout is otherwise left to the search (Server,
    Interactive, gpt-oss Offline), the search runs that unit: the engine's GPUs, attention DP or TP over the unit,
    and MoE TP = TP / EP without attention DP; the batch is the search's, at most the stated gpu_batch_size."""
    preds = {p.id: p for p in validation.predict_all() if p.id.startswith("mlperf60-")}
    checked = 0
    for key, e in _v60().items():
        m = _ENGINE.search(e["note"])
        if not validation_search.searched(e) or not m or "Dynamo" in e["note"]:
            continue
        tp, adp = int(m[1]), bool(m[2])
        unit = e["model_setup"]["decode_unit"]
        assert (unit["ep"], unit["attn_tp"]) == (tp, 1 if adp else tp), key
        batch = re.search(r"gpu_batch_size (\d+)", e["note"])
        assert e["model_setup"].get("max_batch") == (int(batch[1]) if batch else None), key
        p = preds[key]
        if not p.expressible:
            continue
        chosen = next(r for r in p.assumptions if r.startswith("searched layout:"))
        assert chosen.startswith(f"searched layout: EP{tp} {'DP' if adp or tp == 1 else f'TP{tp}'} "), (key, chosen)
        got = float(re.search(r", (\d+) requests per attention instance", chosen)[1])
        assert got <= e["model_setup"].get("max_batch", got), key
        checked += 1
    assert checked >= 40


def test_a_decode_unit_that_cannot_exist_is_refused():
    for bad in ({"ep": 8, "attn_tp": 4}, {"ep": 16, "attn_tp": 16}, {"ep": 8, "attn_tp": 1, "moe_tp": 3}, {"ep": 0}):
        with pytest.raises(Error):
            validation_setup.decode_unit({"src": "x", "model_setup": {"decode_unit": bad}})
    assert validation_setup.decode_unit({"model_setup": {"decode_unit": {"ep": 4, "attn_tp": 4}}}) == (4, 4, 1)
    assert validation_setup.decode_unit({"model_setup": {}}) is None


def test_the_round_script_reads_a_configs_integer_expressions_as_values(root):
    """``gpu_batch_size: {'gpt-oss-120b': 128 * 7}`` is 896 requests, ``'max_num_tokens': 4638 * 3`` 13,914 tokens
    (the round script once read 128 and 4638), summed and multiplied as data, never evaluated as code."""
    spec = importlib.util.spec_from_file_location("mlperf_round_entries", root / "scripts" / "mlperf_round_entries.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert [script.integer(x) for x in ("128 * 7", "4638 * 3", "512 + 1024", "640", "2 * 3 + 4")] == [896, 13914, 1536, 640, 10]
    text = "model_fields.gpu_batch_size: {\n    'gpt-oss-120b': 128 * 7,\n},\nllm_fields.trtllm_runtime_flags: {\n" \
           "    'max_num_tokens': 4638 * 3,\n    'max_concurrency': 512 + 1024,\n}"
    s = script.read_config(text)
    assert (s["batch"], s["tokens"], s["concurrency"]) == (896, 13914, 1536)
    assert script.read_config("'max_concurrency': __import__('os')")["concurrency"] is None
