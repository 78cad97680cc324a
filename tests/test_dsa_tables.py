"""DeepSeek-V3.2's sparse attention read from the measured DSA module tables (step/curves_dsa.py,
hardware/kernel_curves.py dsa_points / dsa_context_points, ops dsa_generation / dsa_context of the shipped
kernel table): the rule is named, the module's measured time is reproduced at its points with the model's
indexer term not added a second time, the step time grows with context, another framework's table on
the same GPU is carried, and a GPU without a DSA table keeps the dense-MLA rule."""
import numpy as np
import pytest

from inference_arithmetic import step
from inference_arithmetic.core import fast
from inference_arithmetic.hardware.gpus import gpu
from inference_arithmetic.hardware.kernel_curves import DSA_HEADS, dsa_context_points, dsa_points
from inference_arithmetic.hardware.kernel_tables import coverage_rows, table_rows
from inference_arithmetic.model import config
from inference_arithmetic.serving import prefill
from inference_arithmetic.step.curves import GRID_CTX, GRID_NEW
from inference_arithmetic.step.evaluate import rates

V32 = config.model("deepseek-v3.2")
GPUS = ("H100", "H200", "B200", "B300", "GB200", "GB300")


def _unit(g="H200", fw="trtllm", phase="decode", **lay):
    layout = step.Layout(**{"ep": 8, "framework": fw, **lay})
    return prefill.prefill_unit(V32, gpu(g), layout) if phase == "prefill" else step.unit(V32, gpu(g), layout)


def _module_time(u, b, ctx, s_q=1.0):
    """One layer's attention module in the unit's step: attention (without the indexer where the module is
    read) plus the projections, at the unit's measured rates (s)."""
    v = dict(u.values, batch=float(b), ctx=float(ctx), s_q=float(s_q))
    v.update(rates(v))
    t = step.terms(u, float(b), float(ctx), float(s_q))
    return (float(t["t_attn"]) + float(fast.t_proj_of(v)) / v["q_p"]) / v["n_layers"]


def test_extraction_schema_and_coverage():
    """Every GPU has both DSA ops under all three frameworks, at DeepSeek-V3.2's heads per GPU; decode rows
    one new token, prefill rows no cached prefix; the coverage table lists both ops."""
    for op in ("dsa_generation", "dsa_context"):
        for g in GPUS:
            for fw in ("trtllm", "sglang", "vllm"):
                rows = table_rows(op, g, fw)
                assert rows, (op, g, fw)
                for r in rows[:200]:
                    assert int(r["num_heads"]) in DSA_HEADS and int(r["batch"]) >= 1 and float(r["latency_ms"]) > 0
                    assert r["dtype"] == "bfloat16" and r["kv_dtype"] in ("bfloat16", "fp8") and r["gemm_type"]
                    assert "sparse_attention" in r["source_file"] and r["source_file"].endswith(f"dsa_{op[4:]}_module_perf.parquet")
                    assert (r["isl"] == "1" and int(r["step"]) >= 1) if op == "dsa_generation" else r["step"] == "0"
    ops = {r["table op"]: r for r in coverage_rows()}
    assert ops["dsa_generation"]["GPUs"] == ops["dsa_context"]["GPUs"] == ", ".join(sorted(GPUS))


def test_h200_trtllm_decode_names_the_dsa_table():
    u = _unit()
    assert "attention: trtllm 1.3.0rc23 H200 DSA decode module table (DeepSeek-V3.2, lightning indexer included" \
        in u.kernels
    assert "MLA table" not in u.kernels and u.values["i_mod"] == 1.0


@pytest.mark.parametrize("g,fw,attn_tp", [("H200", "trtllm", 1), ("H200", "vllm", 1), ("GB300", "vllm", 2),
                                          ("B200", "sglang", 1)])
def test_module_reproduced_without_the_indexer_counted_twice(g, fw, attn_tp):
    """At every measured point the unit's attention (indexer term not added) plus projections is the
    measured module time; the model's own indexer term is positive there, so adding it would differ."""
    heads = 128 // attn_tp
    u, pu = _unit(g, fw, attn_tp=attn_tp), _unit(g, fw, "prefill", attn_tp=attn_tp)
    _, _, pts = dsa_points(g, fw, "bf16", "fp8", heads)
    for (b, ctx), t in [p for p in pts if float(p[0][1]) in GRID_CTX][::7]:   # SGLang's 1,537, 10,001 ...: off it
        assert _module_time(u, b, ctx) == pytest.approx(t, rel=1e-9)
    v = dict(u.values, batch=64.0, ctx=32769.0, s_q=1.0)
    assert float(fast.t_index_of(v)) > 0.0
    _, _, pts = dsa_context_points(g, fw, "bf16", "fp8", heads)
    for (b, isl), t in [p for p in pts if float(p[0][1]) in GRID_NEW][::5]:   # 10,240 new tokens: off the grid
        ctx = float(fast.prefill_context(isl=float(isl), f_hit=0.0))
        assert _module_time(pu, b, ctx, isl) == pytest.approx(t, rel=1e-9)


@pytest.mark.parametrize("fw,batches", [("vllm", (1.0, 8.0, 64.0, 256.0)), ("sglang", (1.0, 8.0, 64.0, 256.0)),
                                        ("trtllm", (1.0, 2.0, 4.0))])
def test_decode_step_grows_with_context(fw, batches):
    """With the DSA table the V3.2 decode step time rises with context at every batch: never falls by more
    than the table's repeat noise (the measured module time dips by up to 1 % between neighbouring
    contexts, e.g. vLLM's H200 rows at one request: 0.213 ms at 16,385, 0.211 ms at 32,769), and grows from
    1,025 to 131,073 tokens (the indexer scores every cached token).  TensorRT-LLM's H200 table is not
    monotone at 8 requests and more: a measured spike at 2,049 tokens (0.502 ms at 64 requests against
    0.377 ms at 4,097), which the model reproduces (a measurement, not smoothed); its monotone batches are
    checked."""
    u = _unit(fw=fw)
    ctxs = np.array([600.0, 1025.0, 3000.0, 4097.0, 10000.0, 16385.0, 40000.0, 65537.0, 131073.0])
    for b in batches:
        t = np.array([float(step.terms(u, b, c)["t_step"]) for c in ctxs])
        assert np.all(t[1:] >= np.maximum.accumulate(t)[:-1] * (1 - 0.01)), (b, t)
        assert t[-1] > t[1] * 1.01


def test_carried_and_fallback():
    """SGLang's table measures FP8 KV on H200, TensorRT-LLM's does not: the trtllm unit carries vLLM's
    (the carry order) and says so; an AMD GPU (no DSA table) and the deepseek framework keep the rule of
    DeepSeek-V3's MLA table plus the model's indexer."""
    p = step.Precision(kv="fp8")
    u = _unit(precision=p)
    assert "no trtllm table for H200" in u.kernels and "vllm 0.24.0 H200 DSA decode module table" in u.kernels
    assert "carried across frameworks" in u.kernels
    amd = step.unit(V32, gpu("MI325X"), step.Layout(ep=8, attn_tp=8, framework="vllm"))
    assert "no vllm DSA module table for MI325X" in amd.kernels and "the dense MLA rule instead" in amd.kernels and amd.values["i_mod"] == 0.0
    ds = step.unit(V32, gpu("H200"), step.Layout(ep=8))
    assert ds.values["i_mod"] == 0.0
    v = dict(ds.values, batch=16.0, ctx=32769.0, s_q=1.0)
    t = step.terms(ds, 16.0, 32769.0)
    assert float(t["t_attn"]) == pytest.approx(float(fast.t_attn_of(v)), rel=1e-12)   # indexer still counted
