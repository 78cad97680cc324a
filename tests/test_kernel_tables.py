"""Framework kernel tables in the step model: the measured grouped-MoE-GEMM curve is what a unit at the
table's own setting predicts, DeepSeek's kernels are unchanged, the fallback is named, and stacked
evaluation agrees with one unit at a time."""
import json

import numpy as np
import pytest

from inference_arithmetic import step
from inference_arithmetic.cli import main
from inference_arithmetic.hardware.gpus import gpu
from inference_arithmetic.hardware.kernel_tables import DEEPSEEK_KERNELS, _physical, moe_curve, per_gpu_tokens, rule
from inference_arithmetic.model.config import model

M = model("deepseek-v3")
SHAPE = (M.h, M.d_e, M.n_experts, M.top_k)


def _unit(g, fw, ep=8, **kw):
    G = gpu(g)
    return step.unit(M, G, step.Layout(ep=ep, framework=fw, balanced=True, **kw))


def test_deepseek_framework_is_unchanged():
    u = _unit("H200", "deepseek")
    assert u.kernels == DEEPSEEK_KERNELS and not any(u.values["xq"])
    assert step.expert_rate(dict(u.values, batch=np.arange(1.0, 100.0))) == 1.0


@pytest.mark.parametrize("g,fw,dtype", [("H200", "trtllm", "fp8"), ("B200", "trtllm", "nvfp4"),
                                         ("GB200", "sglang", "fp8")])
def test_table_setting_reproduces_the_measured_curve(g, fw, dtype):
    c = moe_curve(g, fw, dtype, 32, SHAPE)
    u = _unit(g, fw, ep=c.ep, precision=step.Precision(moe=dtype))
    assert u.kernels.split("; ")[0] == c.label   # then the dense, attention and all-reduce tables (curves.py)
    n = np.array(c.tokens, dtype=float)
    on_grid = np.isclose(np.log2(n) * 2, np.round(np.log2(n) * 2))
    t = step.terms(u, n / c.ep, 1000.0)["t_moe"] / (M.n_layers - M.n_dense)
    assert np.allclose(t[on_grid], np.array(c.seconds)[on_grid], rtol=1e-6)


def test_no_table_falls_back_with_the_rule_named():
    u = _unit("H800", "trtllm")
    assert "no trtllm table for H800" in u.kernels and DEEPSEEK_KERNELS in u.kernels
    assert not any(u.values["xq"])
    assert rule("H20", "sglang", "fp8", SHAPE).startswith("no sglang table for H20")


def test_stacked_evaluation_matches_single_units():
    units = [_unit("H200", "deepseek"), _unit("H200", "trtllm"), _unit("B200", "vllm", ep=32),
             _unit("H800", "sglang")]
    batch = np.array([1.0, 7.0, 64.0, 300.0])
    v = step.stack(units)
    got = step.evaluate(dict(v, batch=batch.reshape(1, -1, 1), ctx=np.array([[[2000.0]]])))["t_step"]
    for i, u in enumerate(units):
        one = step.terms(u, batch, 2000.0)["t_step"]
        assert np.allclose(got[i, :, 0], one, rtol=1e-9)


def test_framework_is_echoed_in_json(capsys):
    for argv in (["decode", "--model", "deepseek-v3", "--gpu", "H200", "--ep", "8", "--isl", "1000", "--osl", "500",
                  "--batch", "32", "--framework", "trtllm"],
                 ["prefill", "--model", "deepseek-v3", "--gpu", "H800", "--ep", "32", "--framework", "vllm"],
                 ["decode", "--model", "deepseek-v3", "--gpu", "H200", "--ep", "8", "--isl", "1000", "--osl", "500",
                  "--batch", "32"]):
        assert main(argv + ["--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        fw = argv[argv.index("--framework") + 1] if "--framework" in argv else "deepseek"
        assert out["framework"] == fw and out["kernels"]
    assert main(["validate", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["framework"].startswith("publication")
    assert all(any(r.startswith("kernels: ") for r in row["rules"]) for row in out["rows"] if row["error"] is not None)


def test_unknown_framework_is_refused():
    with pytest.raises(Exception):
        step.Layout(ep=8, framework="tgi")
    assert main(["decode", "--model", "deepseek-v3", "--gpu", "H200", "--ep", "8", "--isl", "10", "--osl", "10",
                 "--batch", "1", "--framework", "tgi"]) == 2


def test_serve_and_plan_echo_the_framework(capsys):
    assert main(["serve", "--model", "deepseek-v3", "--gpu", "B200", "--mode", "disagg", "--isl", "2000", "--osl", "500",
                 "--per-user", "20", "--framework", "trtllm", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["framework"] == "trtllm" and out["kernels"].startswith("trtllm ")
    assert main(["plan", "--model", "deepseek-v3", "--tokens-per-day", "1e10", "--isl", "2000", "--osl", "500",
                 "--per-user", "20", "--gpus", "H200", "--framework", "vllm", "--top", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["framework"] == "vllm" and out["kernels"]["H200"]["fp8"].startswith("vllm ")
    assert out["kernels"]["H200"]["nvfp4"].startswith("no vllm table for H200")


GPT_OSS = model("gpt-oss-120b")


@pytest.mark.parametrize("g,fw,tp,kernel", [("H100", "vllm", 1, "w4a16_mxfp4"), ("H100", "vllm", 2, "w4a16_mxfp4"),
                                            ("B200", "trtllm", 1, "w4a8_mxfp4_mxfp8"),
                                            ("H200", "sglang", 4, "w4a16_mxfp4")])
def test_mxfp4_and_expert_tp_curves_reproduce_the_table(g, fw, tp, kernel):
    """gpt-oss-120b's MXFP4 experts read the kernel the GPU runs them with (W4A16 without FP4 tensor cores,
    W4A8 with), at the unit's expert-TP size; at the table's setting the unit predicts the measured time."""
    shape = (GPT_OSS.h, GPT_OSS.d_e, GPT_OSS.n_experts, GPT_OSS.top_k)
    c = moe_curve(g, fw, "mxfp4", 1, shape, tp)
    assert c.dtype == kernel and c.moe_tp == tp and (f"expert TP{tp}" in c.label) == (tp > 1)
    u = step.unit(GPT_OSS, gpu(g), step.Layout(ep=c.ep * tp, moe_tp=tp, attn_tp=tp, framework=fw, balanced=True,
                                               precision=step.Precision(moe="mxfp4")))
    assert u.kernels.split("; ")[0] == c.label
    n = np.array(c.tokens, dtype=float)
    on_grid = np.isclose(np.log2(n) * 2, np.round(np.log2(n) * 2))
    t = step.terms(u, n / c.ep, 1000.0)["t_moe"] / GPT_OSS.n_layers
    assert np.allclose(t[on_grid], np.array(c.seconds)[on_grid], rtol=1e-6)


def test_expert_tp_reads_its_own_table():
    """DeepSeek-V3 at expert TP 2 reads the curve measured at expert TP 2, not the expert-parallel one, and a
    size the table does not measure falls back with the rule named."""
    c1, c2 = moe_curve("H200", "trtllm", "fp8", 4, SHAPE), moe_curve("H200", "trtllm", "fp8", 4, SHAPE, 2)
    assert c1.moe_tp == 1 and c2.moe_tp == 2 and c1.seconds != c2.seconds
    assert moe_curve("H200", "trtllm", "fp8", 4, SHAPE, 3) is None
    u = _unit("H800", "trtllm", ep=8, moe_tp=2)
    assert "no trtllm table for H800" in u.kernels and "expert TP2" in u.kernels and not any(u.values["xq"])


def test_peak_check_drops_points_not_curves():
    """SGLang's B200 FP8 EP8 curve, read per GPU, has small-token points that imply more HBM bandwidth than the
    B200 has: those points are dropped and the rest of the curve is read at the unit's own EP (not a farther EP's
    efficiency), and a DeepSeek-V3.2 EP8 unit's label says how many were dropped."""
    c = moe_curve("B200", "sglang", "fp8", 8, SHAPE)
    assert c.ep == 8 and c.dropped == 4 and not c.failed
    per_gpu = [(n // 8, t) for n, t in zip(c.tokens, c.seconds)]   # the table's own num_tokens
    assert all(_physical("B200", "sglang", "fp8", 8, [p]) for p in per_gpu)
    u = step.unit(model("deepseek-v3.2"), gpu("B200"), step.Layout(ep=8, framework="sglang"))
    assert "table (EP8, fp8_block) [4 of its measured points imply more HBM bandwidth" in u.kernels
    assert "[" not in _unit("H200", "trtllm", ep=8).kernels.split("; ")[0]


def test_expert_tp_curves_count_the_groups_tokens():
    """At expert TP > 1 a curve's num_tokens is the group's tokens for every framework, as aiconfigurator reads
    them (SGLang's H200 FP8 expert-TP8 row at 96 tokens is its MoE op at 12 tokens on each of 8 DP ranks; that
    point is among those the peak check drops)."""
    assert per_gpu_tokens("sglang") and per_gpu_tokens("vllm", 1) and not per_gpu_tokens("trtllm")
    assert not per_gpu_tokens("sglang", 8) and not per_gpu_tokens("vllm", 2)
    c = moe_curve("H200", "sglang", "fp8", 2, SHAPE, 8)
    assert c.ep == 2 and c.moe_tp == 8 and c.tokens[-1] == 16384   # the table's largest num_tokens, not x EP
    v = moe_curve("GB300", "vllm", "nvfp4", 1, SHAPE, 2)   # vLLM's own expert-TP2 table, no longer carried
    assert v.framework == "vllm" and dict(zip(v.tokens, v.seconds))[2048] == pytest.approx(0.5284e-3, rel=1e-3)


def test_the_token_convention_is_read_from_each_curve_familys_data():
    """How a family's compute-bound time falls with EP (ep_slope) splits aiconfigurator-core 0.12.0's tables into
    two clear clusters: about 0 (a GPU's experts get num_tokens x top-k pairs at every EP: per GPU) and about 1
    (its share of them falls as 1/EP: the group's tokens); SGLang's and vLLM's FP8-block and NVFP4 curves are the
    first, their MXFP4 curves the second, and TensorRT-LLM's are read at the group's tokens whatever their slope."""
    from inference_arithmetic.hardware import kernel_convention as kt, kernel_table_file
    head, by_op = kernel_table_file.table_lines()
    slopes = {}
    for g, fw in by_op["moe"]:
        for (name, shape, moe_tp), vers in kernel_table_file._moe_rows(g, fw)["curves"].items():
            for ver in vers:
                s = kt.ep_slope(g, fw, name, shape, ver) if moe_tp == 1 else None
                if s is not None:
                    slopes[(g, fw, name, shape, ver)] = s
    assert len(slopes) > 80
    flat = [k for k, s in slopes.items() if s < 0.4]
    steep = [k for k, s in slopes.items() if s > 0.7]
    assert len(flat) + len(steep) == len(slopes)           # nothing between the clusters
    assert all(kt.GROUP_SLOPE > slopes[k] for k in flat) and all(kt.GROUP_SLOPE < slopes[k] for k in steep)
    new = {k: s for k, s in slopes.items() if k[1] in ("sglang", "vllm") and k[4] in ("0.5.14", "0.24.0")}
    assert all(s < 0.4 for k, s in new.items() if k[2] in ("fp8_block", "nvfp4"))
    assert all(s > 0.7 for k, s in new.items() if "mxfp4" in k[2])
    assert per_gpu_tokens("vllm", 1, "H200", "fp8_block", SHAPE, "0.24.0")
    oss = (2880, 2880, 128, 4)
    assert not per_gpu_tokens("vllm", 1, "H200", "w4a16_mxfp4", oss, "0.24.0")
    assert not per_gpu_tokens("sglang", 1, "B200", "w4a8_mxfp4_mxfp8", oss, "0.5.14")
    assert slopes[("B200", "trtllm", "nvfp4", SHAPE, "1.3.0rc20")] < 0.4       # flat, and still the group's tokens
    assert not per_gpu_tokens("trtllm", 1, "B200", "nvfp4", SHAPE, "1.3.0rc20")
    c = moe_curve("H200", "vllm", "mxfp4", 4, oss)       # read at the group's tokens: the table's own counts
    assert c.ep == 4 and c.tokens[-1] == 16384 and c.dropped == 0
    assert moe_curve("H200", "sglang", "fp8", 8, SHAPE).tokens[-1] == 16384 * 8   # per GPU: x EP


def test_the_convention_table_names_every_newest_family_once():
    from inference_arithmetic.hardware.kernel_convention import convention_rows
    rows = convention_rows()
    keys = [(r["framework"], r["dtype"], r["experts"]) for r in rows]
    assert len(keys) == len(set(keys)) and {r["framework"] for r in rows} == {"sglang", "trtllm", "vllm"}
    by = {(r["framework"], r["dtype"], r["experts"]): r for r in rows}
    assert by[("vllm", "fp8_block", "256 x 7168x2048, top-8")]["reading"] == "per GPU"
    assert by[("vllm", "w4a16_mxfp4", "128 x 2880x2880, top-4")]["reading"] == "the group's"
    assert all(r["reading"] == "the group's" for r in rows if r["framework"] == "trtllm")
    assert all(-0.5 < r["slope_min"] <= r["slope_max"] < 1.5 for r in rows)
