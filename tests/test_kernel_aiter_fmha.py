"""AITER's MI300X attention-forward benchmark as the GQA prefill attention rate on gfx942."""
from __future__ import annotations

import pytest

from inference_arithmetic import step
from inference_arithmetic.core import fast
from inference_arithmetic.hardware.efficiency import kernel_rows
from inference_arithmetic.hardware.gpus import gpu
from inference_arithmetic.hardware.kernel_aiter import compute_roof
from inference_arithmetic.hardware.kernel_aiter_fmha import FAMILY, fmha_context_points
from inference_arithmetic.model.config import model
from inference_arithmetic.step import curves

LLAMA = model("llama-3.1-405b")


def test_the_transcribed_rows_are_the_readmes_causal_mi300x_forward_column():
    rows = kernel_rows(FAMILY)
    assert len(rows) == 47 and all(r["gpu"] == "MI300X" and r["hdim"] == 128 for r in rows)
    first = next(r for r in rows if (r["batch"], r["q_heads"], r["kv_heads"], r["seqlen_q"]) == (1, 32, 8, 1024))
    assert first["tflops"] == 130.62
    # compute-bound: the kernel never exceeds AMD's measured max-achievable BF16 GEMM rate (708 TFLOP/s)
    assert max(r["tflops"] for r in rows) * 1e12 < compute_roof("MI300X", "bfloat16")


def test_a_measured_shape_reads_back_its_rate_at_the_same_request_head_pairs():
    """64 query heads, batch 1, 16,384 tokens: the median of the two KV-head rows (541.55, 544.1 TFLOP/s);
    16 heads per GPU read it at 4 requests (the same 64 request x head pairs)."""
    _, _, pts = fmha_context_points("MI300X", 16, 128)
    t = dict(pts)[(4.0, 16384)]
    assert 2 * 4 * 16 * 16384 ** 2 * 128 / t / 1e12 == pytest.approx((541.55 + 544.1) / 2)


def test_the_mi325x_carries_the_mi300x_rate_by_the_measured_gemm_roofs_and_others_have_none():
    a, b = (dict(fmha_context_points(g, 8, 128)[2]) for g in ("MI300X", "MI325X"))
    assert a.keys() == b.keys()
    ratio = compute_roof("MI325X", "bfloat16") / compute_roof("MI300X", "bfloat16")
    assert all(a[k] / b[k] == pytest.approx(ratio) for k in a) and ratio == pytest.approx(843 / 708)
    assert fmha_context_points("MI355X", 8, 128) is None and fmha_context_points("H200", 8, 128) is None
    assert fmha_context_points("MI300X", 8, 64) is None          # head dimension 128 only


def test_a_vllm_prefill_unit_on_the_mi300x_reads_it_at_the_measured_points():
    u = step.unit(LLAMA, gpu("MI300X"), step.Layout(ep=8, attn_tp=8, framework="vllm"), "prefill")
    assert "attention: AITER" in u.kernels and "16 query heads of 128 per GPU" in u.kernels
    _, _, pts = fmha_context_points("MI300X", 16, 128)
    checked = 0
    for (b, isl), t in pts:
        if float(isl) not in curves.GRID_NEW or float(b) not in curves.GRID_BATCH:
            continue
        ctx = float(fast.prefill_context(isl=float(isl), f_hit=0.0))
        got = float(step.terms(u, float(b), ctx, s_q=float(isl))["t_attn"]) / LLAMA.n_layers
        assert got == pytest.approx(t, rel=1e-9)
        checked += 1
    assert checked >= 10
    fp8 = step.unit(LLAMA, gpu("MI300X"), step.Layout(ep=8, attn_tp=8, framework="vllm",
                                                      precision=step.Precision(attn="fp8")), "prefill")
    assert "no vllm GQA prefill table for MI300X (fp8 attention" in fp8.kernels
