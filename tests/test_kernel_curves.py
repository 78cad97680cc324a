"""Measured dense-GEMM, MLA-decode, MLA-prefill, all-reduce and dispatch/combine curves (step/curves.py,
step/curves_comm.py, hardware/kernel_curves.py, hardware/kernel_comm.py): each reproduces its table's
rows at the measured points, interpolates monotonically between monotone points, holds its ends, and a
setting without a table falls back to DeepSeek's kernels, named."""
import numpy as np
import pytest

from inference_arithmetic import step
from inference_arithmetic.hardware.gpus import gpu
from inference_arithmetic.core import fast
from inference_arithmetic.hardware.kernel_comm import _backend_points, a2a_points, a2a_table, nvlink_twins
from inference_arithmetic.hardware.kernel_curves import allreduce_points, mla_context_points, mla_points
from inference_arithmetic.hardware.kernel_gqa import _gemm_grid, gemm_time
from inference_arithmetic.model import config
from inference_arithmetic.step import curves
from inference_arithmetic.step.evaluate import rates
from inference_arithmetic.step.operations import t_attn, t_proj
from inference_arithmetic.step.unit import DEEPSEEK_KERNELS

V3 = config.model("deepseek-v3")


def _unit(g="H200", fw="trtllm", **lay):
    return step.unit(V3, gpu(g), step.Layout(**{"ep": 8, "framework": fw, **lay}))


def _times(u, b, ctx):
    """One layer's attention block at the unit's rates (the model's time over the measured rate)."""
    v = dict(u.values, batch=float(b), ctx=float(ctx), s_q=1.0, m_mb=1.0, q_a=1.0)
    model = (float(t_attn.fast(**v)) + float(t_proj.fast(**v))) / v["n_layers"]
    return model / float(curves.rate2(np.asarray(u.values["aq"]), float(b), float(ctx)))


@pytest.mark.parametrize("heads,attn_tp", [(128, 1), (16, 8)])
def test_mla_curve_reproduces_the_table(heads, attn_tp):
    u = _unit(attn_tp=attn_tp)
    _, _, pts = mla_points("H200", "trtllm", "bf16", "fp8", heads)
    assert len(pts) > 100
    for (b, ctx), t in pts:
        assert _times(u, b, ctx) == pytest.approx(t, rel=1e-9)
    assert "MLA table" in u.kernels and f"{heads:g} heads/GPU" in u.kernels


def test_mla_curve_is_monotone_between_monotone_points():
    u = _unit()
    pts = dict(mla_points("H200", "trtllm", "bf16", "fp8", 128)[2])
    for b in (1, 16, 256):
        for lo, hi in ((1025, 2049), (8193, 16385)):
            t0, t1 = pts[(b, lo)], pts[(b, hi)]
            mid = [_times(u, b, c) for c in np.geomspace(lo, hi, 7)]
            assert all(min(t0, t1) * (1 - 1e-9) <= m <= max(t0, t1) * (1 + 1e-9) for m in mid)
            if t1 >= t0:
                assert all(x <= y * (1 + 1e-12) for x, y in zip(mid, mid[1:]))


def test_dense_curve_reproduces_the_summed_table():
    """All six of DeepSeek-V3's shapes are read (three on the table's grid, three between grid shapes)."""
    u = _unit()
    v = u.values
    rows = {nk: dict(gemm_time("H200", "trtllm", "fp8", *nk)[1]) for nk in curves.GEMM_SHAPES}
    assert sum(nk in _gemm_grid("H200", "trtllm", "fp8_block")[2] for nk in rows) == 3
    assert "(fp8, 6 of the 6 shapes)" in u.kernels
    for m in (1, 8, 64, 512, 4096):
        model = sum(max(n * k * v["b_dw"] / (v["e_gbw"] * v["BW"]), 2 * m * n * k / (v["e_gfl"] * v["F_d"]))
                    for n, k in rows)
        meas = sum(r[m] for r in rows.values())
        assert model / float(curves.rate(np.asarray(v["dq"]), float(m))) == pytest.approx(meas, rel=1e-9)


def test_allreduce_curve_reproduces_the_table():
    u = _unit(attn_tp=8)
    v = u.values
    _, _, pts = allreduce_points("H200", "trtllm", 8)
    for e, t in pts:
        model = 2 * 7 / 8 * e * 2 / (v["e_ar"] * v["BW_nv"]) + v["t_ar_lat"]
        q = float(curves.rate(np.asarray(v["rq"]), float(e), curves.LOG_ELEMENTS))
        assert model / q == pytest.approx(t, rel=1e-9)
    assert "all-reduce table (8 GPUs)" in u.kernels


def test_fallbacks_are_named_and_deepseek_is_unchanged():
    ds = _unit(fw="deepseek")
    assert ds.kernels == DEEPSEEK_KERNELS
    assert not any(np.any(ds.values[k]) for k in curves.CURVE_KEYS)
    sg = _unit(fw="sglang")   # SGLang ships no MLA table: vLLM's on the same GPU, carried across frameworks
    assert "attention: no sglang table for H200: vllm 0.24.0 H200 MLA table" in sg.kernels
    assert np.any(sg.values["aq"]) and np.any(sg.values["dq"])
    assert np.array_equal(sg.values["aq"], _unit(fw="vllm").values["aq"])
    pre = _prefill(fw="sglang")
    assert "attention: no sglang table for H200: vllm 0.24.0 H200 MLA prefill table" in pre.kernels
    assert np.any(pre.values["pq"])
    h20 = step.unit(V3, gpu("H20"), step.Layout(ep=16, framework="trtllm"))
    assert "no trtllm" in h20.kernels and not any(np.any(h20.values[k]) for k in ("aq", "dq", "cq"))
    assert "dispatch/combine: no trtllm low-latency all-to-all table for H20" in h20.kernels


def test_stacked_evaluation_matches_one_unit_at_a_time():
    units = [_unit(), _unit(g="B200", precision=step.Precision(moe="nvfp4")), _unit(fw="deepseek"),
             _unit(attn_tp=8, moe_tp=2)]
    b = np.array([1.0, 16.0, 200.0]).reshape(1, -1, 1)
    ctx = np.array([100.0, 3000.0, 50000.0]).reshape(1, 1, -1)
    got = step.evaluate(dict(step.stack(units), batch=b, ctx=ctx))["t_step"]
    for i, u in enumerate(units):
        for j, bb in enumerate(b.ravel()):
            for k, cc in enumerate(ctx.ravel()):
                one = float(step.terms(u, float(bb), float(cc))["t_step"])
                assert got[i, j, k] == pytest.approx(one, rel=1e-9)


def _prefill(g="H200", fw="trtllm", **lay):
    return step.unit(V3, gpu(g), step.Layout(**{"ep": 8, "framework": fw, **lay}), "prefill")


def _prefill_time(u, b, isl):
    """One layer's prefill attention block (no cached prefix) at the unit's rates."""
    v = dict(u.values, batch=float(b), s_q=float(isl), ctx=float(fast.prefill_context(isl=float(isl), f_hit=0.0)),
             m_mb=1.0, q_a=1.0)
    model = (float(t_attn.fast(**v)) + float(t_proj.fast(**v))) / v["n_layers"]
    return model / float(curves.rate2(u.values["pq"], float(b), float(isl), curves.LOG_NEW))


@pytest.mark.parametrize("heads,attn_tp", [(128, 1), (16, 8)])
def test_prefill_attention_curve_reproduces_the_table(heads, attn_tp):
    u = _prefill(attn_tp=attn_tp)
    _, source, pts = mla_context_points("H200", "trtllm", "bf16", "bf16", "fp8", heads)
    assert len(pts) > 100 and source.endswith("mla_context_module_perf.parquet")
    on_grid = [(b, isl, t) for (b, isl), t in pts if float(isl) in curves.GRID_NEW]
    assert len(on_grid) >= len(pts) - 10            # every isl but 10,240 is a grid point
    for b, isl, t in on_grid:
        assert _prefill_time(u, b, isl) == pytest.approx(t, rel=1e-9)
    assert "MLA prefill table (" in u.kernels and f"{heads} heads/GPU" in u.kernels
    assert not np.any(u.values["aq"]) and u.values["a_mod"] == 1.0


def test_prefill_attention_rate_by_hand():
    """H200, TensorRT-LLM, 128 heads per GPU, one prompt of 4,096 tokens: 2.9573 ms per layer measured.
    The model at DeepSeek's rates: the attention FLOP (4,096 query tokens x 2,048 context tokens on
    average x 128 heads x 2 x (128 + 64 + 128)) at e_mfl x the BF16 peak, plus the projections (2 FLOP
    per parameter per token) at e_gfl x the FP8 peak: 1.07 + 1.47 ms, q = 2.55 / 2.96 = 0.861."""
    v = _prefill().values
    meas = dict(mla_context_points("H200", "trtllm", "bf16", "bf16", "fp8", 128)[2])[(1, 4096)]
    assert meas == pytest.approx(2.9573e-3, rel=1e-6)
    attn = 4096 * 2048 * 128 * 2 * (128 + 64 + 128) / (v["e_mfl"] * v["F_a"])
    proj = 2 * 4096 * v["P_at"] / v["n_layers"] / (v["e_gfl"] * v["F_d"])
    q = (attn + proj) / meas
    assert curves.rate2(v["pq"], 1.0, 4096.0, curves.LOG_NEW) == pytest.approx(q, rel=1e-9)
    assert q == pytest.approx(0.861, abs=0.002)


def test_prefill_attention_holds_its_ends_and_reads_new_tokens():
    u = _prefill()
    pq, m = u.values["pq"], u.values["m_mb"]

    def r(b, s):
        return curves.rate2(pq, float(b), float(s), curves.LOG_NEW)
    assert r(1, 131072) == pytest.approx(r(1, 32768)) and r(1, 65536) == pytest.approx(r(1, 32768))
    assert r(1024, 512) == pytest.approx(r(256, 512)) and r(0.5, 512) == pytest.approx(r(1, 512))
    assert r(1, 32768) != pytest.approx(r(1, 16384), rel=1e-3)       # the measured range is not flat
    v = dict(u.values, batch=4.0, s_q=1000.0)   # a cached prefix: the rate at the chunk's new tokens
    assert rates(dict(v, ctx=500.0))["q_a"] == rates(dict(v, ctx=20000.0))["q_a"] == pytest.approx(r(4 / m, 1000))


def test_all_to_all_curve_reproduces_the_table():
    """SGLang's DeepEP low-latency dispatch + combine on H200 at EP8 (one node, NVLink), by hand: a
    latency each and the tokens' copies (top-8, 7 of 8 remote, FP8 out, BF16 back) at e_nv x NVLink."""
    u = _unit(fw="sglang")
    v = u.values
    ver, kernel, source, pts = a2a_points("H200", "sglang", "ll", "fp8")[8]
    assert kernel == "deepep_ll" and source.endswith("wideep_deepep_ll_perf.parquet") and len(pts) >= 10
    for n, t in pts:
        if float(n) in curves.GRID_TOKENS:
            model = 2 * v["t_lat"] + n * v["V_nv"] / (v["e_nv"] * v["BW_nv"])
            assert model / curves.rate(v["cq"], float(n)) == pytest.approx(t, rel=1e-9)
    assert v["V_so"] == 0 and v["V_nv"] == pytest.approx(8 * 7 / 8 * 7168 * (2 + 1 + 4 / 128))
    assert f"dispatch/combine: sglang {ver} H200 low-latency all-to-all table (deepep_ll, EP8)" in u.kernels
    assert curves.rate(v["cq"], 1e6) == pytest.approx(curves.rate(v["cq"], float(pts[-1][0])))
    assert curves.rate(v["cq"], 1.0) < curves.rate(v["cq"], 256.0)   # the fixed cost weighs at few tokens


def test_all_to_all_kernels_by_phase_ep_and_framework():
    pre = _prefill()
    assert "normal all-to-all table (trtllm_deepep_ht, EP8)" in pre.kernels
    assert np.any(pre.values["cq"]) and not np.array_equal(pre.values["cq"], _unit().values["cq"])
    wide = _unit(fw="trtllm", ep=16)   # TensorRT-LLM's and vLLM's DeepEP tables: one node only; SGLang's: 8 nodes
    assert "no trtllm table for H200: sglang 0.5.6.post2 H200 low-latency all-to-all table (deepep_ll, EP16), " \
           "carried across frameworks" in wide.kernels
    assert np.any(wide.values["cq"])
    sg = _unit(fw="sglang", ep=32)        # SGLang's DeepEP tables: up to 8 nodes on H200
    assert "EP32)" in sg.kernels and "carried" not in sg.kernels.split("dispatch/combine")[1]
    sg128 = _unit(fw="sglang", ep=128)    # carried within the scale-out regime: EP64 is the widest measured
    assert "EP64, carried to EP128 as a rate" in sg128.kernels and np.any(sg128.values["cq"])
    gb = step.unit(V3, gpu("GB200"), step.Layout(ep=32, framework="trtllm", precision=step.Precision(moe="nvfp4")))
    assert "NVLinkTwoSided, EP32)" in gb.kernels     # TensorRT-LLM's NVLink all-to-all inside the rack
    assert not np.any(_unit(attn_tp=8, moe_tp=2).values["cq"])   # MoE TP: all-reduces, no all-to-all
    assert not np.any(_unit(fw="deepseek").values["cq"])


def test_stacked_prefill_matches_one_unit_at_a_time():
    units = [_prefill(), _prefill(fw="sglang"), _prefill(g="B200", fw="vllm"), _unit()]
    b = np.array([1.0, 4.0, 64.0]).reshape(1, -1, 1)
    ctx = np.array([100.0, 1500.0, 9000.0]).reshape(1, 1, -1)
    got = step.evaluate(dict(step.stack(units), batch=b, ctx=ctx, s_q=2 * ctx))["t_step"]
    for i, u in enumerate(units):
        for j, bb in enumerate(b.ravel()):
            for k, cc in enumerate(ctx.ravel()):
                one = float(step.terms(u, float(bb), float(cc), s_q=2 * float(cc))["t_step"])
                assert got[i, j, k] == pytest.approx(one, rel=1e-9)


def test_a_gpu_without_trtllm_nvlink_kernels_reads_its_nvlink_twins():
    """GB300's, B200's and B300's TensorRT-LLM tables measure only DeepEP; TensorRT-LLM runs its NVLink
    all-to-all wherever every NVLink is up (an NVL72 rack or an HGX node), so they read GB200's (the same
    NVLink 5, 900 GB/s per GPU) as a rate, at the EP sizes inside their own NVLink domain; NVLink 4 GPUs
    have no twin with NVLink kernels measured and keep DeepEP."""
    assert nvlink_twins("GB300") == ("B200", "B300", "GB200") and "GB300" in nvlink_twins("B300")
    assert nvlink_twins("H200") == ("H100", "H20") and nvlink_twins("MI355X") == ()
    read, pts = a2a_table("GB300", "trtllm", "ll", "nvfp4")
    assert read == "GB200" and pts == a2a_points("GB200", "trtllm", "ll", "nvfp4") and 8 in pts
    assert pts[8][1] == "NVLinkOneSided/NVLinkTwoSided"   # decode: OneSided (TensorRT-LLM's first choice) counts
    one = dict(_backend_points("GB200", "trtllm", "ll", "nvfp4", "NVLinkOneSided")[8][3])
    assert dict(pts[8][3])[1024] == pytest.approx(one[1024])   # at 1,024 tokens per GPU the faster of the two
    read, pts = a2a_table("B300", "trtllm", "ll", "nvfp4")   # an HGX node: GB200's EP sizes up to 8 only
    assert read == "GB200" and sorted(pts) == [2, 4, 8] and pts[8] == a2a_points("GB200", "trtllm", "ll", "nvfp4")[8]
    assert a2a_table("H200", "trtllm", "ll", "fp8") == ("H200", a2a_points("H200", "trtllm", "ll", "fp8"))
    assert "deepep" in a2a_table("H200", "trtllm", "ll", "fp8")[1][8][1]       # no NVLink 4 table: DeepEP
    assert a2a_table("GB200", "trtllm", "ll", "nvfp4")[0] == "GB200"        # its own table first
    assert a2a_table("GB300", "sglang", "ll", "nvfp4")[0] == "GB300"        # SGLang: DeepEP, measured on GB300
    u = step.unit(V3, gpu("GB300"), step.Layout(ep=8, framework="trtllm", precision=step.Precision(moe="nvfp4")))
    assert "dispatch/combine: trtllm" in u.kernels and " GB200 low-latency all-to-all table" in u.kernels
    assert "carried to GB300 as a rate: the same NVLink fabric (900 GB/s per GPU" in u.kernels
    # the same links: GB300's and B300's units at GB200's measured kernel have GB200's all-to-all time
    g2 = step.unit(V3, gpu("GB200"), step.Layout(ep=8, framework="trtllm", precision=step.Precision(moe="nvfp4")))
    b3 = step.unit(V3, gpu("B300"), step.Layout(ep=8, framework="trtllm", precision=step.Precision(moe="nvfp4")))
    t2 = step.terms(g2, 64.0, 2048.0)["t_comm"]
    for other in (u, b3):
        assert float(step.terms(other, 64.0, 2048.0)["t_comm"]) == pytest.approx(float(t2), rel=1e-9)
    # beyond an HGX node's NVLink domain no NVLink rate is carried: the EP group spans nodes
    b16 = step.unit(V3, gpu("B300"), step.Layout(ep=16, framework="trtllm", precision=step.Precision(moe="nvfp4")))
    assert "NVLinkTwoSided" not in b16.kernels and "beyond one NVLink domain" in b16.kernels
