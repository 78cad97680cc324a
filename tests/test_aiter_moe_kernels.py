"""AMD's AITER fused-MoE table (data/aiter_moe_kernels.csv.gz, from ROCm/aiter by scripts/extract_aiter_tables.py;
its schema, row count and checksum: test_aiter_kernels.py): read as the grouped-MoE curve of an AMD GPU by
the one MoE-curve rule (hardware.kernel_tables.moe_curve) for any framework; physics: no measured point beats the
GPU's FP8 peak or streams the touched experts' weights faster than its HBM."""
import re

import pytest
import yaml

from inference_arithmetic import step
from inference_arithmetic.core.cited import DATA
from inference_arithmetic.hardware.aiter_gpus import AITER_COMMIT
from inference_arithmetic.hardware.gpus import gpu
from inference_arithmetic.hardware.kernel_aiter_moe import PAD, aiter_moe_class, aiter_moe_points, roofline
from inference_arithmetic.hardware.kernel_tables import moe_curve, rule
from inference_arithmetic.model.config import model
from inference_arithmetic.model.dtypes import BYTES
from test_aiter_kernels import _rows   # the tests directory is on sys.path (no package)

META = yaml.safe_load((DATA / "aiter_moe_kernels.yaml").read_text(encoding="utf-8"))
GPTOSS = (2880, 2880, 128, 4)


def test_only_tuned_fused_moe_files_are_read():
    """(Checksum, schema and one row per shape: test_aiter_kernels.py, for both AITER tables.)"""
    names = [s["path"].rsplit("/", 1)[-1] for s in META["sources"]]
    assert all(re.fullmatch(r"(.+_)?tuned_fmoe(_.+)?\.csv", n) and "untuned" not in n and "grouped" not in n
               for n in names)
    assert "a8w8_blockscale_tuned_fmoe_ds_v3.csv" in names   # the block-scale files name the model last
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
    _, (h, d_e, n_exp, top_k), pts = aiter_moe_points("MI355X", "mxfp4", GPTOSS)[:3]
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
    ("MI300X", "vllm", "mxfp4", GPTOSS, 2),              # expert TP on gfx942 too
    ("MI300X", "vllm", "fp8", (7168, 2048, 160, 6), 1),  # an FP8 shape no gfx942 row holds, whole or EP-local
    ("MI300X", "vllm", "nvfp4", GPTOSS, 1),              # no AITER class
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


DSV3 = (7168, 2048, 256, 8)


def test_deepseek_fp8_experts_on_gfx942_read_aiters_ep8_local_rows_at_the_same_tokens_per_expert():
    """AITER's a8w8_blockscale_tuned_fmoe_ds_v3.csv, cu_num 304: 33 experts (EP 8's 32 routed + the fused shared
    one), top-9; token 1 takes 99.21 us.  Read as the EP-8 curve: the group's tokens at the same tokens per expert
    (9 x 256 / (33 x 8) per table token), the 32 routed experts' share of the time."""
    read, stored, pts, ep, how = aiter_moe_points("MI300X", "fp8", DSV3, 1, 8)
    assert (read, stored, ep) == ("fp8_block", (7168, 2048, 33, 9), 8) and "32 routed + 1 fused shared" in how
    assert pts[0][0] == pytest.approx(9 * 256 / (33 * 8)) and pts[0][1] == pytest.approx(99.21e-6 * 32 / 33)
    assert len(pts) == 15 and [n for n, _ in pts] == sorted(n for n, _ in pts)
    c = moe_curve("MI300X", "sglang", "fp8", 16, DSV3)   # any framework; the one stored EP, the nearest
    assert c.ep == 8 and c.dtype == "fp8_block" and c.label.endswith("(EP8)")
    assert moe_curve("MI355X", "vllm", "fp8", 8, DSV3) is None   # gfx950's FP8 is e4m3fn: no such rows kept


@pytest.mark.parametrize("dtype, shape", [("fp8", DSV3), ("mxfp4", GPTOSS)])
def test_the_mi325x_carries_the_mi300x_curve_by_the_ratio_of_the_rooflines(dtype, shape):
    a, b = aiter_moe_points("MI300X", dtype, shape, 1, 8), aiter_moe_points("MI325X", dtype, shape, 1, 8)
    assert a[:2] == b[:2] and a[3] == b[3] and "carried from the MI300X" in b[4]
    hbm = gpu("MI300X").hbm_bandwidth / gpu("MI325X").hbm_bandwidth
    for (n, t_a), (m, t_b) in zip(a[2], b[2]):
        assert n == m and 0.75 < t_b / t_a <= 1.0 and (t_b / t_a == pytest.approx(hbm) or n > 64)


def test_gptoss_on_gfx942_carries_the_bf16_rows_fraction_of_the_roofline_to_the_w4a16_roofline():
    """vLLM runs gpt-oss's MXFP4 experts on gfx942 with triton_kernels' W4A16 matmul_ogs, which no table measures:
    the gfx942 BF16 fused-MoE rows with the same 128 experts nearest in shape (Qwen3-235B's 4096 x 384 slice), at
    the same tokens per expert (top-8 against top-4: twice the tokens), at the same fraction of the roofline."""
    read, stored, pts, ep, how = aiter_moe_points("MI300X", "mxfp4", GPTOSS)
    assert (read, stored, ep) == ("bfloat16", (4096, 384, 128, 8), 1)
    assert "matmul_ogs" in how and "gfx950-only" in how and "W4A16" in how
    padded = (3072, 3072, 128, 4)
    table = dict(_points("gfx942", "bfloat16", stored))
    for n, t in pts:
        t_n = n * 4 / 8
        assert t_n in table
        assert t / roofline("MI300X", "a16w4", padded, n) == pytest.approx(
            table[t_n] / roofline("MI300X", "bfloat16", stored, t_n))
        assert t >= roofline("MI300X", "a16w4", padded, n)          # never faster than its own roofline
    u = moe_curve("MI325X", "vllm", "mxfp4", 2, GPTOSS)
    assert u is not None and u.label.startswith(f"AITER {AITER_COMMIT} fused-MoE table (bfloat16, 4096x384")


def test_no_gfx942_point_beats_the_peaks_with_the_tuners_random_routing():
    g = gpu("MI300X")
    for r in _rows(DATA / "aiter_moe_kernels.csv.gz"):
        if r["gfx"] != "gfx942":
            continue
        h, d_e, n_exp, top_k, n = (int(r[c]) for c in ("hidden", "inter", "experts", "topk", "tokens"))
        t, b = float(r["us"]) * 1e-6, {"fp8_block": 1, "bfloat16": 2}[r["dtype"]]
        touched = n_exp * (1 - (1 - top_k / n_exp) ** n)
        assert 6 * h * d_e * n * top_k / t < g.flops("fp8" if b == 1 else "bf16")
        assert touched * 3 * h * d_e * b / t < g.hbm_bandwidth


def _points(gfx, kind, shape):
    return [(int(r["tokens"]), float(r["us"]) * 1e-6) for r in _rows(DATA / "aiter_moe_kernels.csv.gz")
            if (r["gfx"], r["dtype"]) == (gfx, kind)
            and tuple(int(r[c]) for c in ("hidden", "inter", "experts", "topk")) == shape]
