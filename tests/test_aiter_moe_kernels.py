"""AMD's AITER fused-MoE table (data/aiter_moe_kernels.csv.gz, from ROCm/aiter by scripts/extract_aiter_tables.py;
its schema, row count and checksum: test_aiter_kernels.py): read as the grouped-MoE curve of an AMD GPU by
the one MoE-curve rule (hardware.kernel_tables.moe_curve) for any framework; physics: no measured point beats the
GPU's FP8 peak or streams the touched experts' weights faster than its HBM."""
import pytest
import yaml

from inference_arithmetic import step
from inference_arithmetic.core.cited import DATA
from inference_arithmetic.hardware.aiter_gpus import AITER_COMMIT
from inference_arithmetic.hardware.gpus import gpu
from inference_arithmetic.hardware.kernel_aiter_moe import PAD, aiter_moe_class, aiter_moe_points
from inference_arithmetic.hardware.kernel_tables import moe_curve, rule
from inference_arithmetic.model.config import model
from inference_arithmetic.model.dtypes import BYTES
from test_aiter_kernels import _rows   # the tests directory is on sys.path (no package)

META = yaml.safe_load((DATA / "aiter_moe_kernels.yaml").read_text(encoding="utf-8"))
GPTOSS = (2880, 2880, 128, 4)


def test_only_tuned_fused_moe_files_are_read():
    """(Checksum, schema and one row per shape: test_aiter_kernels.py, for both AITER tables.)"""
    assert all(s["path"].endswith("_tuned_fmoe.csv") for s in META["sources"])
    assert {r["source"].rsplit("@", 1)[1] for r in _rows(DATA / "aiter_moe_kernels.csv.gz")} == {AITER_COMMIT}


def test_gptoss_rows_the_mi355x_reads_are_aiters_a8w4_tuned_fmoe_at_the_padded_shape():
    got = aiter_moe_points("MI355X", "mxfp4", GPTOSS)
    assert got[0] == "a8w4" == aiter_moe_class("MI355X", "mxfp4")      # FP4 tensor cores: FP8 activations
    assert got[1] == (3072, 3072, 128, 4) and 2880 % PAD and 3072 % PAD == 0
    tokens = [n for n, _ in got[2]]
    assert tokens == sorted(tokens) and tokens[0] == 1 and tokens[-1] == 32768
    # the row as AITER's file stores it (gptoss_fp8fp4_tuned_fmoe.csv, token 1: 25.4901 us, the fastest kernel)
    assert got[2][0][1] == pytest.approx(25.4901e-6)


def test_no_point_beats_the_fp8_peak_or_streams_the_touched_experts_faster_than_hbm():
    """At the padded shape the kernel runs.  The experts touched: the expected number under uniformly random
    routing, E (1 - (1 - k/E)^n) (the tuner routes random scores); the cruder bound of one expert per pair
    (all 128 at 32 tokens) would imply 8.9 TB/s, above the 8 TB/s HBM: the measurement touched fewer."""
    g = gpu("MI355X")
    _, (h, d_e, n_exp, top_k), pts = aiter_moe_points("MI355X", "mxfp4", GPTOSS)
    for n, t in pts:
        pairs = n * top_k
        touched = n_exp * (1 - (1 - top_k / n_exp) ** n)
        assert 2 * 3 * h * d_e * pairs / t < g.flops("fp8")
        assert touched * 3 * h * d_e * BYTES["mxfp4"] / t < g.hbm_bandwidth


@pytest.mark.parametrize("fw", ["vllm", "sglang", "trtllm"])
def test_an_amd_gpu_reads_aiters_moe_curve_for_any_framework(fw):
    c = moe_curve("MI355X", fw, "mxfp4", 8, GPTOSS)
    assert c is not None and c.ep == 1 and c.moe_tp == 1 and c.framework == fw
    assert c.label.startswith(f"AITER {AITER_COMMIT} fused-MoE table (a8w4") and "(EP1)" in c.label
    assert rule("MI355X", fw, "mxfp4", GPTOSS).startswith(c.label)


@pytest.mark.parametrize("gpu_key, fw, dtype, shape, moe_tp", [
    ("MI355X", "deepseek", "mxfp4", GPTOSS, 1),          # DeepSeek's kernels by the transfer rule
    ("MI300X", "vllm", "mxfp4", GPTOSS, 1),              # no gfx942 MXFP4 fused-MoE rows
    ("MI325X", "vllm", "mxfp4", GPTOSS, 1),
    ("MI355X", "vllm", "mxfp4", (2880, 2880, 32, 4), 1),  # gpt-oss-20b: 32 experts not measured
    ("MI355X", "vllm", "fp8", (7168, 2048, 256, 8), 1),  # not an MXFP4-weight class
    ("MI355X", "vllm", "mxfp4", GPTOSS, 2),              # expert TP: the table's slices name no TP size
])
def test_no_aiter_moe_curve_where_the_table_does_not_measure_the_setting(gpu_key, fw, dtype, shape, moe_tp):
    assert moe_curve(gpu_key, fw, dtype, 1, shape, moe_tp) is None


def test_the_mi355x_gptoss_unit_runs_the_measured_curve_and_names_it():
    m, g = model("gpt-oss-120b"), gpu("MI355X")
    u = step.unit(m, g, step.layout_for(m, g, 1, framework="vllm", precision=step.Precision(moe="mxfp4")))
    assert u.kernels.startswith(f"AITER {AITER_COMMIT} fused-MoE table (a8w4")
    assert u.values["curved"] == 1.0
    ds = step.unit(m, g, step.layout_for(m, g, 1, framework="deepseek", precision=step.Precision(moe="mxfp4")))
    # the measured kernel is slower than DeepSeek's H800 kernels carried at the same fraction of peak
    for b in (1.0, 64.0, 512.0):
        assert float(step.terms(u, b, 5650.0)["tokens_per_s_per_gpu"]) < float(
            step.terms(ds, b, 5650.0)["tokens_per_s_per_gpu"])
