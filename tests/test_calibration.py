"""Fitted constants are data: the stored value is what the re-fit gives, and the model reads the
stored value (it never runs itself to learn its own constants)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from inference_arithmetic import step
from inference_arithmetic.core.cited import read_yaml
from inference_arithmetic.evidence import calibration


def test_stored_kappa_is_the_refit():
    assert calibration.refit() == pytest.approx(read_yaml("fitted.yaml")["kappa"]["value"], abs=5e-4)


def test_the_step_model_reads_the_stored_value():
    assert step.fitted("kappa") == read_yaml("fitted.yaml")["kappa"]["value"]
    assert calibration.pipeline_efficiency().value == step.fitted("kappa")


def test_the_refit_script_writes_what_it_prints(capsys):
    assert calibration.main([]) == 0
    printed = capsys.readouterr().out
    stored = (Path(str(calibration.DATA)) / "fitted.yaml").read_text(encoding="utf-8")
    assert printed == stored


def test_no_lower_layer_runs_the_calibration():
    src = Path(calibration.__file__).resolve().parents[1]
    for layer in ("core", "model", "hardware", "step", "serving"):
        for f in (src / layer).glob("*.py"):
            names = {n.module for n in ast.walk(ast.parse(f.read_text())) if isinstance(n, ast.ImportFrom)}
            assert not any(m and m.startswith("inference_arithmetic.evidence") for m in names), f


def test_table_sums_read_each_frameworks_own_tables():
    """table_sums: DeepSeek's kernels give the stored kernel-only errors; a serving framework's ratio comes from its
    measured H100 tables (not a silent fall-back to DeepSeek's kernels), on the H800's bandwidths."""
    cal = calibration.pipeline_efficiency()
    assert calibration.table_sums("deepseek") == pytest.approx([1 + e for e in cal.kernel_only_errors], abs=1e-6)
    m, g = calibration.model("deepseek-v3"), calibration.gpu("H800")
    for fw in ("sglang", "trtllm", "vllm"):
        u = step.unit(m, calibration.replace(g, key=calibration.TABLES_OF_H800),
                      step.Layout(ep=128, micro_batches=2, balanced=True, framework=fw))
        assert u.kernels.startswith(f"{fw} ") and "H100 table" in u.kernels, u.kernels
        assert u.gpu.nvlink == g.nvlink and u.gpu.hbm_bandwidth == g.hbm_bandwidth
        ratios = calibration.table_sums(fw)
        assert ratios != calibration.table_sums("deepseek") and all(0.5 < r < 1.5 for r in ratios)
    assert calibration.fit_kappa(cal.points) == cal.value
