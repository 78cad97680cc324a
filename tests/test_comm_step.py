"""Communication volume and the decode step model: limits, invariances and the properties the
parallelism chapter relies on (bound above prediction, capacity, micro-batches, attention TP)."""
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from inference_arithmetic.core import cited, fast
from inference_arithmetic.hardware import gpus
from inference_arithmetic.model import config
from inference_arithmetic.step import comm
from inference_arithmetic.serving import operating
from inference_arithmetic.evidence import projections
from inference_arithmetic import step
from inference_arithmetic.core.errors import InputError
from inference_arithmetic.step.evaluate import rates
from inference_arithmetic.step.layout import MOE_ALL_REDUCE

H = 7168
B = dict(h=H, b_disp=comm.FP8_DISPATCH_BYTES, b_comb=comm.BF16_BYTES)
DSV3 = config.model("deepseek-v3")
CTX = 4989.0


def _unit(gpu="H800", ep=144, **kw):
    g = gpus.gpu(gpu)
    return step.unit(DSV3, g, step.layout_for(DSV3, g, ep, **kw))


# ----------------------------------------------------------------------------- communication volume
def test_single_gpu_moves_nothing():
    assert comm.ep_destinations(N_ep=1, top_k=8) == 1
    assert comm.ep_bytes_per_token(N_ep=1, top_k=8, **B) == 0
    assert comm.tp_bytes_per_token(N_tp=1, h=H, b_a=2) == 0


def test_a_one_gpu_unit_spends_no_time_communicating():
    """Every expert on the one GPU: no dispatch or combine is sent, so the step has no communication
    time (not even a latency per MoE layer); a two-GPU expert-parallel unit has."""
    oss, g = config.model("gpt-oss-120b"), gpus.gpu("H100")
    one = step.unit(oss, g, step.layout_for(oss, g, 1, precision=step.Precision(moe="mxfp4")))
    assert float(step.terms(one, 4.0, 337.0)["t_comm"]) == 0.0
    two = step.unit(oss, g, step.layout_for(oss, g, 2, precision=step.Precision(moe="mxfp4")))
    assert float(step.terms(two, 4.0, 337.0)["t_comm"]) > 0.0


def test_top1_reaches_one_gpu():
    for n in (2, 8, 144):
        assert comm.ep_destinations(N_ep=n, top_k=1) == pytest.approx(1)
        assert comm.ep_bytes_per_token(N_ep=n, top_k=1, **B) == pytest.approx((n - 1) / n * H * 3.03125)


def test_many_gpus_approach_k():
    assert comm.ep_destinations(N_ep=1e6, top_k=8) == pytest.approx(8, rel=1e-4)
    assert comm.ep_destinations(N_ep=32, top_k=8) == pytest.approx(32 * (1 - (31 / 32) ** 8))


def test_participants_and_the_4x():
    assert comm.ep_participants(top_k=8, N_ep=32) == 8
    assert comm.ep_participants(top_k=8, N_ep=4) == 4
    assert comm.tp_bytes_per_token(N_tp=32, h=H, b_a=2) == 2 * 31 * H * 2


def test_tp_per_gpu_is_total_over_n():
    n = np.arange(1, 10)
    assert np.allclose(comm.tp_bytes_per_gpu_per_token(N_tp=n, h=H, b_a=2) * n,
                       comm.tp_bytes_per_token(N_tp=n, h=H, b_a=2))


def test_scaleout_node_limited():
    assert comm.ep_scaleout_bytes_per_token(M_nodes=4, N_ep=8, G=8, **B) == 0
    assert comm.ep_scaleout_bytes_per_token(M_nodes=4, N_ep=16, G=8, **B) == pytest.approx(2 * 0.5 * H * 3.03125)
    assert comm.ep_scaleout_bytes_per_token(M_nodes=4, N_ep=144, G=8, **B) == pytest.approx(4 * 17 / 18 * H * 3.03125)


# ----------------------------------------------------------------------------- experts touched
def _touched(**kw):
    base = dict(n_experts=256, E_red=0, N_ep=1, T_a=1, T_m=1, batch=1, m_mb=1, s_q=1, top_k=8)
    return float(step.experts_touched(**{**base, **kw}))


def test_experts_touched_limits():
    # one token choosing one expert on a single GPU touches (almost exactly) one expert
    assert _touched(top_k=1) == pytest.approx(1.0)
    # a large batch touches every local slot: (256 + 32) / 144 = 2 per GPU
    assert _touched(E_red=32, N_ep=144, batch=1000) == pytest.approx(2.0)
    # more tokens never touch fewer experts
    b = np.array([1, 4, 16, 64, 256], dtype=float)
    assert np.all(np.diff([_touched(N_ep=8, batch=x) for x in b]) > 0)


def test_attention_tp_does_not_over_count_routed_tokens():
    # an attention TP group of 8 GPUs with 8 requests routes 8 tokens, as 8 DP ranks with 1 each
    # would route 8 * 1: experts touched depend on the unit's distinct tokens only
    for n_ep in (8, 72, 144):
        tp = _touched(N_ep=n_ep, T_a=8, batch=8)
        dp = _touched(N_ep=n_ep, T_a=1, batch=1)
        assert tp == pytest.approx(dp)


def test_two_micro_batches_touch_fewer_experts_each():
    one, two = _touched(N_ep=8, batch=2), _touched(N_ep=8, batch=2, m_mb=2)
    assert two < one < 2 * two


# ----------------------------------------------------------------------------- the step model
def test_bound_never_below_prediction():
    b = np.arange(1.0, 129.0)
    for gpu, ep, kw in (("H800", 144, {}), ("H800", 32, {}), ("H200", 8, {"attn_tp": 8}), ("GB300", 72, {}),
                        ("B200", 144, {"mtp": 2}),
                        ("GB200", 72, {"precision": step.Precision(moe="nvfp4", attn="fp8", kv="fp8")})):
        t = step.terms(_unit(gpu, ep, **kw), b, CTX)
        assert np.all(t["bound_tokens_per_s_per_gpu"] >= t["tokens_per_s_per_gpu"]), (gpu, ep, kw)


def test_per_user_speed_falls_as_batch_grows():
    t = step.terms(_unit(), np.arange(1.0, 132.0), CTX)
    assert np.all(np.diff(t["tokens_per_s_per_user"]) < 0)
    assert np.allclose(t["tokens_per_s_per_gpu"], np.arange(1.0, 132.0) * t["tokens_per_s_per_user"])


def test_two_micro_batches_reread_the_weights():
    # at a small batch the dense GEMMs are memory-bound: a second micro-batch streams them again
    one = step.terms(_unit(micro_batches=1), 4.0, CTX)
    two = step.terms(_unit(micro_batches=2), 4.0, CTX)
    assert two["t_dense"] == pytest.approx(2 * one["t_dense"])
    assert two["t_head"] == pytest.approx(2 * one["t_head"])
    assert two["t_kernels"] == pytest.approx(2 * one["t_kernels"])


def test_attention_tp_splits_the_dense_weights():
    dp = step.terms(_unit("H200", 8), 1.0, CTX)
    tp = step.terms(_unit("H200", 8, attn_tp=8), 1.0, CTX)
    assert tp["t_dense"] == pytest.approx(dp["t_dense"] / 8)
    # ... and the per-GPU rate counts each request once over the instance's GPUs
    assert tp["tokens_per_s_per_gpu"] == pytest.approx(tp["tokens_per_s_per_user"] / 8)


def test_serial_step_is_the_sum_of_its_parts():
    u = _unit(micro_batches=1)
    t = step.terms(u, np.array([1.0, 88.0, 130.0]), CTX)
    parts = (t["t_attn"] + t["t_dense"] + t["t_head"] + t["t_moe"] + t["t_kernels"]) / u.values["kappa"] + t["t_comm"]
    assert np.allclose(t["t_step"], parts)


def test_overhead_adds_directly():
    g = gpus.gpu("H800")
    for mb in (1, 2):
        base = step.terms(step.unit(DSV3, g, step.layout_for(DSV3, g, 144, micro_batches=mb)), 16.0, CTX)
        slow = step.terms(step.unit(DSV3, g, step.layout_for(DSV3, g, 144, micro_batches=mb, overhead_s=0.01)), 16.0, CTX)
        assert slow["t_step"] == pytest.approx(base["t_step"] + 0.01)


def test_step_model_names_what_it_cannot_express():
    g = gpus.gpu("H100")
    # sparse attention without the indexer's shape cannot be costed (with it, it is in the step model)
    v32 = dataclasses.replace(config.model("deepseek-v3"), name="v32", index_topk=2048)
    with pytest.raises(InputError, match="DeepSeek Sparse Attention needs index_n_heads"):
        step.unit(v32, g, step.Layout(ep=8))
    assert step.unsupported(config.model("deepseek-v3.2")) is None
    assert step.unsupported(config.model("deepseek-v3")) is None
    assert step.unsupported(config.model("llama-3.1-70b")) is None      # GQA and dense: covered


def test_serve_and_plan_say_what_is_missing_not_that_nothing_fits(capsys, tmp_path):
    """Issue 22: `serve` on a model the step model cannot express named a prefill layout that does not
    fit; it names the missing feature."""
    from inference_arithmetic import cli
    cfg = json.loads((Path(str(cited.DATA)) / "models" / "deepseek-v3.json").read_text())
    cfg.update(model_type="deepseek_v32", index_topk=2048)          # no index_n_heads / index_head_dim
    cfg.pop("_source", None)
    path = tmp_path / "v32.json"
    path.write_text(json.dumps(cfg))
    for argv in (["serve", "--model", str(path), "--gpu", "H200", "--mode", "disagg", "--isl", "2000",
                  "--osl", "500", "--per-user", "20"],
                 ["plan", "--model", str(path), "--tokens-per-day", "1e9", "--isl", "2000", "--osl", "500",
                  "--per-user", "20"]):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert "needs index_n_heads and index_head_dim" in err and "fit" not in err


def test_gqa_and_dense_models_run_on_the_step_model():
    """Issue 22: a dense GQA model (tensor-parallel unit) and a GQA mixture of experts are predicted,
    with Little's law and the bound holding; a dense model's unit must be tensor-parallel."""
    h200 = gpus.gpu("H200")
    llama, qwen = config.model("llama-3.1-70b"), config.model("qwen3-30b-a3b")
    u = step.unit(llama, h200, step.Layout(ep=8, attn_tp=8))
    t = step.terms(u, 64.0, 2000.0)
    assert t["t_moe"] == 0 and t["t_comm"] > 0          # no experts; TP all-reduces
    assert t["tokens_per_s_per_gpu"] == pytest.approx(64 * t["tokens_per_s_per_user"] / 8)
    assert t["bound_tokens_per_s_per_gpu"] >= t["tokens_per_s_per_gpu"]
    assert u.values["T_kv"] == 8                          # 8 KV heads split over TP8
    with pytest.raises(InputError, match="tensor parallelism"):
        step.unit(llama, h200, step.Layout(ep=8))
    q = step.terms(step.unit(qwen, h200, step.layout_for(qwen, h200, 8)), 32.0, 2000.0)
    assert 0 < q["tokens_per_s_per_gpu"] <= q["bound_tokens_per_s_per_gpu"] and q["t_moe"] > 0
# ----------------------------------------------------------------------------- capacity
def test_max_batch_is_the_largest_batch_that_fits():
    for gpu, ep in (("H800", 144), ("H800", 32), ("H200", 8), ("B200", 144), ("GB300", 72)):
        u = _unit(gpu, ep)
        b = step.max_batch(u, CTX)
        assert b >= 1 and step.fits(u, b, CTX) and not step.fits(u, b + 1, CTX)
        assert step.users_that_fit(DSV3, gpus.gpu(gpu), u.layout, CTX) == b


def test_capacity_counts_the_one_reserve():
    u = _unit("H200", 8)
    mem = step.memory(u, 0.0, CTX)
    assert mem["reserve"] == pytest.approx(step.HBM_RESERVE_SHARE * gpus.gpu("H200").hbm_capacity)
    # every resident weight: more than the routed and shared experts alone (the seed's 76.5 GiB)
    assert u.weights_resident > 76.5 * 2**30


def test_a_layout_that_does_not_fit_reports_no_throughput():
    u = _unit("H800", 8)                       # DeepSeek-V3 in eight H800s: the weights alone exceed HBM
    assert step.max_batch(u, CTX) == 0 and operating.frontier(u, CTX) is None
    for f in (lambda: operating.max_throughput(u, CTX), lambda: operating.at_per_user(u, CTX, 1.0),
              lambda: operating.at_batch(u, CTX, 1.0)):
        with pytest.raises(InputError):
            f()
    p = projections.project(DSV3, gpus.gpu("H800"), u.layout, CTX, 1.0)
    assert not p.reachable and p.predicted is None and "does not fit" in p.reason


def test_at_per_user_is_the_best_point_above_the_floor():
    u = _unit()
    out = operating.frontier(u, CTX)
    floor = float(np.median(out["tokens_per_s_per_user"]))
    best = operating.at_per_user(u, CTX, floor)
    assert best["tokens_per_s_per_user"] >= floor
    assert best["tokens_per_s_per_gpu"] == pytest.approx(out["tokens_per_s_per_gpu"][out["tokens_per_s_per_user"] >= floor].max())
    assert operating.at_per_user(u, CTX, 1.5 * floor)["tokens_per_s_per_gpu"] < best["tokens_per_s_per_gpu"]
    with pytest.raises(InputError, match="out of reach"):
        operating.at_per_user(u, CTX, 1e6)


# ----------------------------------------------------------------------------- layouts
def test_default_layouts():
    h800, gb300 = gpus.gpu("H800"), gpus.gpu("GB300")
    assert step.layout_for(DSV3, h800, 144).redundant == 32 and step.layout_for(DSV3, h800, 8).redundant == 0
    assert step.layout_for(DSV3, h800, 144).micro_batches == 2 and step.layout_for(DSV3, h800, 8).micro_batches == 1
    rack, node = step.wide_ep_layout(gb300), step.wide_ep_layout(h800)
    assert (rack.ep, rack.redundant, rack.micro_batches) == (72, 32, 1)
    assert (node.ep, node.redundant, node.micro_batches) == (144, 32, 2)
    with pytest.raises(InputError):
        step.Layout(ep=144, attn_tp=7)


def test_an_attention_instance_spanning_the_unit_combines_its_experts_by_an_all_reduce():
    """Attention TP = EP (no attention DP): after the attention all-reduce every GPU holds every token, so
    no token is dispatched; the experts' partial outputs are summed by one all-reduce among the unit's GPUs
    (TensorRT-LLM selects no all-to-all without attention DP).  With attention DP inside the unit the
    dispatch and combine stay; at the same tokens the all-reduce replaces them exactly."""
    oss, g = config.model("gpt-oss-120b"), gpus.gpu("B200")
    prec = step.Precision(moe="mxfp4")
    spans = step.unit(oss, g, step.layout_for(oss, g, 2, attn_tp=2, precision=prec, framework="trtllm"))
    dp = step.unit(oss, g, step.layout_for(oss, g, 2, precision=prec, framework="trtllm"))
    assert step.Layout(ep=2, attn_tp=2).moe_all_reduce and not step.Layout(ep=2).moe_all_reduce
    assert not step.Layout(ep=4, attn_tp=2).moe_all_reduce and step.Layout(ep=4, moe_tp=2).moe_all_reduce
    assert MOE_ALL_REDUCE in spans.kernels and MOE_ALL_REDUCE not in dp.kernels
    assert spans.values["moe_tp_on"] == 1.0 and dp.values["moe_tp_on"] == 0.0
    v = dict(spans.values, batch=250.0, ctx=1383.0)
    v.update(rates(v))
    _, _, _, _, _, t_a2a, t_ar, t_moe_ar, _ = fast.step_terms_of(v)
    assert float(step.terms(spans, 250.0, 1383.0)["t_comm"]) == pytest.approx(float(t_ar + t_moe_ar), rel=1e-12)
    assert t_moe_ar < t_a2a          # two NVLink latencies and the dispatch's bytes per layer no longer paid
