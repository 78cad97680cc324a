"""The MLPerf Inference v5.1 entries of the validation set: the whole round by one rule fixed before any
prediction was seen (every closed-division DeepSeek-R1 and Llama-3.1-405B result, every scenario, status
available, result VALID, on a catalog GPU; scripts/mlperf_round_entries.py); each cites the results
repository, states its per-GPU division and the scenario's latency limits, and is predicted (never fitted)."""
from __future__ import annotations

from collections import Counter

import pytest

from inference_arithmetic.evidence import validation

#: the system totals (tokens/s) and GPU counts as the result logs print them
#: (mlcommons/inference_results_v5.1 at 965182b0, closed/*/results/.../performance/run_1/mlperf_log_summary.txt)
SYSTEM_TOTALS = {
    "mlperf51-gb300-72-offline": (420659, 72),
    "mlperf51-gb300-72-server": (209327.68, 72),
    "mlperf51-gb200-72-offline": (289712, 72),
    "mlperf51-gb200-72-server": (167578.06, 72),
    "mlperf51-b200-8-offline": (33379, 8),
    "mlperf51-b200-8-server": (18592.24, 8),
    "mlperf51-dell-xe9680l-b200-8-offline": (30493.3, 8),
    "mlperf51-dell-xe9685l-b200-8-offline": (30766.5, 8),
    "mlperf51-dell-xe9680l-b200-8-server": (13913.33, 8),
    "mlperf51-dell-xe9685l-b200-8-server": (13963.01, 8),
    "mlperf51-gigacomputing-b200-8-offline": (30873.9, 8),
    "mlperf51-gigacomputing-b200-8-server": (15977.87, 8),
    "mlperf51-google-b200-8-offline": (31920.3, 8),
    "mlperf51-google-b200-8-server": (14630.74, 8),
    "mlperf51-b200-8-llama405b-offline": (1624.11, 8),
    "mlperf51-b200-8-llama405b-server": (1240.42, 8),
    "mlperf51-b200-8-llama405b-interactive": (751.37, 8),
    "mlperf51-gb200-72-llama405b-offline": (14774.3, 72),
    "mlperf51-gb200-72-llama405b-server": (11614.28, 72),
    "mlperf51-gb200-72-llama405b-interactive": (9921.02, 72),
    "mlperf51-gb300-72-llama405b-offline": (16104.1, 72),
    "mlperf51-gb300-72-llama405b-server": (12248.42, 72),
    "mlperf51-azure-gb200-4-llama405b-offline": (847.233, 4),
    "mlperf51-azure-gb200-4-llama405b-server": (584.01, 4),
    "mlperf51-broadcom-supermicro-b200-8-llama405b-offline": (1650.43, 8),
    "mlperf51-broadcom-supermicro-b200-8-llama405b-server": (1243.86, 8),
    "mlperf51-cisco-h200-16-llama405b-offline": (1086.01, 16),
    "mlperf51-cisco-h200-16-llama405b-server": (584.29, 16),
    "mlperf51-cisco-h100-16-llama405b-offline": (783.131, 16),
    "mlperf51-cisco-h100-16-llama405b-server": (563.36, 16),
    "mlperf51-cisco-h100-32-llama405b-offline": (1561.57, 32),
    "mlperf51-cisco-h100-32-llama405b-server": (1126.94, 32),
    "mlperf51-dell-xe9680l-b200-8-llama405b-offline": (1648.03, 8),
    "mlperf51-dell-xe9685l-b200-8-llama405b-offline": (1660.71, 8),
    "mlperf51-dell-xe9680l-b200-8-llama405b-server": (1243.17, 8),
    "mlperf51-dell-xe9685l-b200-8-llama405b-server": (1246.56, 8),
    "mlperf51-dell-xe9680l-b200-8-llama405b-interactive": (751.37, 8),
    "mlperf51-dell-xe9685l-b200-8-llama405b-interactive": (751.59, 8),
    "mlperf51-dell-broadcom-h200-8-llama405b-offline": (547.261, 8),
    "mlperf51-dell-broadcom-h200-8-llama405b-server": (277.33, 8),
    "mlperf51-gigacomputing-b200-8-llama405b-offline": (1625.66, 8),
    "mlperf51-gigacomputing-b200-8-llama405b-server": (1244.97, 8),
    "mlperf51-gigacomputing-b200-8-llama405b-interactive": (719.41, 8),
    "mlperf51-google-b200-8-llama405b-offline": (1655.36, 8),
    "mlperf51-google-b200-8-llama405b-server": (1246.79, 8),
    "mlperf51-google-b200-8-llama405b-interactive": (750.45, 8),
    "mlperf51-lambda-b200-8-llama405b-offline": (1648.6, 8),
    "mlperf51-lambda-b200-8-llama405b-server": (1246.79, 8),
    "mlperf51-lenovo-b200-8-llama405b-offline": (1637.11, 8),
    "mlperf51-lenovo-b200-8-llama405b-server": (1249.04, 8),
    "mlperf51-lenovo-b200-8-llama405b-interactive": (752.62, 8),
    "mlperf51-nebius-b200-8-llama405b-offline": (1659.5, 8),
    "mlperf51-nebius-b200-8-llama405b-server": (1279.53, 8),
    "mlperf51-nebius-b200-8-llama405b-interactive": (770.67, 8),
    "mlperf51-nebius-gb200-4-llama405b-offline": (855.82, 4),
    "mlperf51-nebius-gb200-4-llama405b-server": (596.11, 4),
    "mlperf51-nebius-h200-8-llama405b-offline": (552.749, 8),
    "mlperf51-nebius-h200-8-llama405b-server": (295.36, 8),
    "mlperf51-nebius-h200-8-llama405b-interactive": (202.78, 8),
    "mlperf51-oracle-b200-8-llama405b-offline": (1615.85, 8),
    "mlperf51-oracle-b200-8-llama405b-server": (1243.67, 8),
    "mlperf51-quanta-cloud-technology-h200-8-llama405b-offline": (550.106, 8),
    "mlperf51-quanta-cloud-technology-h200-8-llama405b-server": (295.52, 8),
    "mlperf51-supermicro-422ga-b200-8-llama405b-offline": (1641.34, 8),
    "mlperf51-supermicro-422gs-b200-8-llama405b-offline": (1650.51, 8),
    "mlperf51-supermicro-a21ge-b200-8-llama405b-offline": (1621.72, 8),
    "mlperf51-supermicro-422ga-b200-8-llama405b-server": (1240.44, 8),
    "mlperf51-supermicro-422gs-b200-8-llama405b-server": (1244.69, 8),
    "mlperf51-supermicro-a21ge-b200-8-llama405b-server": (1242.84, 8),
    "mlperf51-supermicro-422ga-b200-8-llama405b-interactive": (751.38, 8),
    "mlperf51-supermicro-422gs-b200-8-llama405b-interactive": (750.94, 8),
    "mlperf51-supermicro-a21ge-b200-8-llama405b-interactive": (750.41, 8),
}

#: the rule's results per (model, scenario): 74 closed results of the two models, less CoreWeave's two previews
ROUND = {("deepseek-r1", "offline"): 7, ("deepseek-r1", "server"): 7, ("llama-3.1-405b", "offline"): 23,
         ("llama-3.1-405b", "server"): 23, ("llama-3.1-405b", "interactive"): 12}

#: (TTFT ms, TPOT ms) at the 99th percentile, as the logs' test parameters print them
LIMITS = {("deepseek-r1", "server"): (2000, 80), ("llama-3.1-405b", "server"): (6000, 175),
          ("llama-3.1-405b", "interactive"): (4500, 80)}


def _v51() -> dict:
    return {k: e for k, e in validation.entries().items() if k.startswith("mlperf51-")}


def _scenario(key: str) -> str:
    return key.rsplit("-", 1)[1]


def test_the_round_enters_whole():
    got = _v51()
    assert set(got) == set(SYSTEM_TOTALS)
    assert Counter((e["model"], _scenario(k)) for k, e in got.items()) == ROUND
    for key, e in got.items():
        assert e["src"] == "mlperf-inference-v51" and str(e["published"]) == "2025-09-09", key
        assert e["publisher"].startswith("MLCommons MLPerf ("), key
        assert e["mtp"]["draft_tokens"] == 0 and e["mode"] == "agg", key


def test_each_per_gpu_figure_is_the_system_total_over_its_gpus():
    for key, e in _v51().items():
        total, n = SYSTEM_TOTALS[key]
        assert e["gpus_total"] == n, key
        assert e["measured"]["output_tokens_per_s_per_gpu"]["value"] == pytest.approx(total / n, rel=1e-5), key


def test_latency_bound_scenarios_carry_the_logged_limits():
    for key, e in _v51().items():
        limits = LIMITS.get((e["model"], _scenario(key)))
        level = e.get("service_level")
        assert (level is None) == (limits is None), key
        if limits:
            assert (level["ttft_ms"], level["tpot_ms"], level["percentile"]) == (*limits, 99), key


def test_every_entry_of_the_round_is_predicted():
    rows = {p.id: p for p in validation.predict_all() if p.id.startswith("mlperf51-")}
    assert set(rows) == set(SYSTEM_TOTALS)
    assert all(p.expressible and p.predicted > 0 for p in rows.values())
