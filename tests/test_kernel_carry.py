"""A framework without a measured table reads another framework's table on the same GPU (the stated
order of :data:`.hardware.kernel_tables.CARRY_ORDER`), never another GPU's; DeepSeek-V3.2's sparse
attention reads DeepSeek-V3's MLA tables at the tokens it attends where the GPU has no measured DSA module
table (tests/test_dsa_tables.py: where it has one)."""
import numpy as np
import pytest

from inference_arithmetic import step
from inference_arithmetic.core import fast
from inference_arithmetic.hardware.gpus import gpu
from inference_arithmetic.hardware.kernel_curves import mla_context_points
from inference_arithmetic.hardware.kernel_tables import (CARRY_ORDER, FRAMEWORKS, carried_label, carried_read,
                                                         moe_curve, rule, table_lines)
from inference_arithmetic.model.config import model
from inference_arithmetic.serving.prefill import prefill_unit
from inference_arithmetic.step import curves_dsa
from inference_arithmetic.step.evaluate import rates
from inference_arithmetic.step.curves import GRID_BATCH, GRID_CTX, GRID_NEW

V3, V32 = model("deepseek-v3"), model("deepseek-v3.2")
SHAPE = (V3.h, V3.d_e, V3.n_experts, V3.top_k)
#: the vLLM DeepSeek-V3.2 NVFP4 server on GB300 of the validation set (TP2: expert TP2, no EP)
GB300_TP2 = step.Layout(ep=2, attn_tp=2, moe_tp=2, precision=step.Precision(moe="nvfp4"), framework="vllm")


def test_order_is_every_other_framework_once():
    for fw in FRAMEWORKS:
        if fw == "deepseek":
            assert fw not in CARRY_ORDER
            continue
        assert sorted(CARRY_ORDER[fw]) == sorted(set(FRAMEWORKS) - {fw, "deepseek"})


def test_carried_read_takes_the_first_in_order():
    have = {"trtllm": "t", "sglang": "s"}
    assert carried_read("vllm", have.get) == ("sglang", "s")        # vllm -> sglang -> trtllm
    assert carried_read("trtllm", have.get) == ("trtllm", "t")      # its own first
    assert carried_read("vllm", {}.get) == ("vllm", None)           # none: the requested one, no answer
    assert carried_label("vllm", "vllm", "GB300", "attention: x") == "attention: x"
    assert carried_label("vllm", "trtllm", "GB300", "attention: x", "bf16") == \
        "attention: no vllm table for GB300 (bf16): x, carried across frameworks"


def test_gb300_vllm_v32_names_the_carried_table():
    """vLLM's own GB300 NVFP4 expert-TP2 curve is read (the peak check drops its small-token points, not the
    curve); vLLM has no GB300 dense-GEMM table, so SGLang's is carried and named."""
    g = gpu("GB300")
    c = moe_curve("GB300", "vllm", "nvfp4", 1, SHAPE, 2)
    assert c.framework == "vllm" and c.ep == 1 and c.dropped > 0
    u = step.unit(V32, g, GB300_TP2)
    parts = u.kernels.split("; ")
    assert parts[0].startswith(c.label + " [") and u.layout.framework == "vllm"
    assert any(p.startswith("dense GEMMs: no vllm table for GB300: sglang ") and p.endswith("carried across frameworks")
               for p in parts)
    assert "attention: vllm 0.24.0 GB300 DSA decode module table" in u.kernels   # V3.2 reads vLLM's own GB300 DSA table
    assert "carried across frameworks" not in rule("GB300", "vllm", "nvfp4", SHAPE, 2).split("; ")[0]


def _gpus_with_tables() -> set:
    _, by_op = table_lines()
    return {g for per in by_op.values() for g, _ in per}


@pytest.mark.parametrize("fw", ["sglang", "trtllm", "vllm"])
@pytest.mark.parametrize("g", ["H100", "H200", "B200", "GB300", "H800", "H20"])
def test_carry_never_reads_another_gpu(g, fw):
    for dtype, tp in (("fp8", 1), ("nvfp4", 2), ("bf16", 1)):
        if dtype == "nvfp4" and gpu(g).dense_fp4 is None:
            continue
        used, c = carried_read(fw, lambda f: moe_curve(g, f, dtype, 8, SHAPE, tp))
        assert c is None or (c.gpu == g and c.framework == used)
    u = step.unit(V3, gpu(g), step.Layout(ep=8, framework=fw))
    if g not in _gpus_with_tables():   # no table of any framework on this GPU: the transfer rule everywhere
        assert "carried across frameworks" not in u.kernels and u.values["curved"] == 0.0
    for part in u.kernels.split("; "):
        if "the same NVLink fabric" in part:   # the NVLink twin rule (kernel_comm.a2a_table), not a carry
            continue
        for other in _gpus_with_tables() - {g}:
            assert f" {other} " not in f" {part} ".replace("(", " ").replace(",", " ")


def test_sglang_attention_reads_vllm_mla_on_the_same_gpu():
    u = step.unit(V3, gpu("H200"), step.Layout(ep=8, framework="sglang"))
    assert "attention: no sglang table for H200: vllm 0.24.0 H200 MLA table" in u.kernels
    assert any(u.values["aq"])


@pytest.fixture
def no_dsa_tables(monkeypatch):
    """A GPU without DeepSeek-V3.2's measured DSA module tables (step/curves_dsa.py finds none): the rule
    below, DeepSeek-V3's MLA tables at the tokens V3.2 attends."""
    monkeypatch.setattr(curves_dsa, "dsa_points", lambda *a: None)
    monkeypatch.setattr(curves_dsa, "dsa_context_points", lambda *a: None)
    step.unit.cache_clear()   # units are cached: none built with the tables may answer here, none without after
    yield
    step.unit.cache_clear()


def _v3_and_v32(g, layout, phase):
    make = step.unit if phase == "decode" else prefill_unit
    return make(V3, gpu(g), layout), make(V32, gpu(g), layout)


def _block(u, batch, ctx, s_q=None):
    """The measured attention block the MLA table covers (attention and its projections), without the
    indexer: t_attn - t_index + the projections (t_dense less the FFN's part, which both models share)."""
    t = step.terms(u, batch, ctx, s_q)
    v = dict(u.values, batch=batch, ctx=ctx, **({} if s_q is None else {"s_q": s_q}))
    v.update(rates(v))
    return t["t_attn"] - fast.t_index_of(v) + fast.t_proj_of(v) / v["q_p"]


@pytest.mark.parametrize("g,fw", [("H200", "trtllm"), ("GB300", "vllm")])
def test_v32_decode_attention_equals_v3_up_to_top_k(g, fw, no_dsa_tables):
    u3, u32 = _v3_and_v32(g, step.Layout(ep=8, framework=fw), "decode")
    assert "MLA table" in u32.kernels and "top-2048" in u32.kernels
    for b in GRID_BATCH[2:8]:
        for c in (x for x in GRID_CTX if x <= V32.index_topk):   # the table's points up to the top-k
            assert _block(u32, b, c) == pytest.approx(_block(u3, b, c), rel=1e-9)
        # beyond the top-k the core attends top-k tokens: the block stays at its top-k value
        assert _block(u32, b, 32769.0) == pytest.approx(_block(u32, b, float(V32.index_topk)), rel=1e-9)
        assert _block(u3, b, 32769.0) > 1.1 * _block(u3, b, float(V32.index_topk))   # V3 keeps growing


def test_v32_prefill_attention_equals_v3_up_to_top_k(no_dsa_tables):
    layout = step.Layout(ep=8, framework="trtllm")
    u3, u32 = _v3_and_v32("H200", layout, "prefill")
    assert "MLA prefill table" in u32.kernels and "new tokens per request, top-2048" in u32.kernels
    p = layout.precision
    _, _, pts = mla_context_points("H200", "trtllm", p.attn, p.kv, p.dense, V3.n_heads)
    on_grid = [(b, isl) for (b, isl), _ in pts if b in GRID_BATCH and isl in GRID_NEW and isl <= V32.index_topk]
    assert len(on_grid) > 10
    for b, isl in on_grid:   # the table's points up to the top-k (between them the interpolation of two ratios)
        ctx = float(fast.prefill_context(isl=float(isl), f_hit=0.0))
        assert _block(u32, float(b), ctx, float(isl)) == pytest.approx(_block(u3, float(b), ctx, float(isl)), rel=1e-9)
    # beyond the top-k: the attention per new token stops growing with the chunk (linear in tokens)
    long = [_block(u32, 1.0, float(fast.prefill_context(isl=n, f_hit=0.0)), n) / n for n in (16384.0, 65536.0)]
    dense = [_block(u3, 1.0, float(fast.prefill_context(isl=n, f_hit=0.0)), n) / n for n in (16384.0, 65536.0)]
    assert long[1] == pytest.approx(long[0], rel=0.05) and dense[1] > 2 * dense[0]
    assert np.all(np.isfinite(long))
