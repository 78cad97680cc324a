"""Measured dense-GEMM, MLA-decode and all-reduce curves (step/curves.py, hardware/kernel_curves.py):
each reproduces its table's rows at the measured points, interpolates monotonically between
monotone points, and a setting without a table falls back to DeepSeek's kernels, named."""
import numpy as np
import pytest

from inference_arithmetic import step
from inference_arithmetic.hardware.gpus import gpu
from inference_arithmetic.hardware.kernel_curves import allreduce_points, gemm_points, mla_points
from inference_arithmetic.model import config
from inference_arithmetic.step import curves
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
    u = _unit()
    v = u.values
    rows = {nk: dict(gemm_points("H200", "trtllm", "fp8", *nk)[2]) for nk in curves.GEMM_SHAPES
            if gemm_points("H200", "trtllm", "fp8", *nk) is not None}
    assert len(rows) >= 3
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
    sg = _unit(fw="sglang")
    assert "attention: no sglang MLA table for H200" in sg.kernels
    assert not np.any(sg.values["aq"]) and np.any(sg.values["dq"])
    pre = step.unit(V3, gpu("H200"), step.Layout(ep=8, framework="trtllm"), "prefill")
    assert "attention: prefill, no table read" in pre.kernels
    h20 = step.unit(V3, gpu("H20"), step.Layout(ep=16, framework="trtllm"))
    assert "no trtllm" in h20.kernels and not any(np.any(h20.values[k]) for k in ("aq", "dq"))


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
