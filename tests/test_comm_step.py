"""Communication volume and the step-time model, with their limits (N = 1, k = 1, batch 1)."""
import numpy as np
import pytest

from inference_arithmetic import catalog, comm, decode, params, step

H = 7168
B = dict(h=H, b_disp=comm.FP8_DISPATCH_BYTES, b_comb=comm.BF16_BYTES)
DSV3 = catalog.model("deepseek-v3")


def test_single_gpu_moves_nothing():
    assert comm.ep_destinations(N_ep=1, top_k=8) == 1
    assert comm.ep_bytes_per_token(N_ep=1, top_k=8, **B) == 0
    assert comm.tp_bytes_per_token(N_tp=1, h=H, b_a=2) == 0


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
    tp = comm.tp_bytes_per_token(N_tp=32, h=H, b_a=2)
    assert tp == 2 * 31 * H * 2


def test_tp_per_gpu_is_total_over_n():
    n = np.arange(1, 10)
    assert np.allclose(comm.tp_bytes_per_gpu_per_token(N_tp=n, h=H, b_a=2) * n,
                       comm.tp_bytes_per_token(N_tp=n, h=H, b_a=2))


def test_scaleout_node_limited():
    one_node = comm.ep_scaleout_bytes_per_token(M_nodes=4, N_ep=8, G=8, **B)
    assert one_node == 0
    two_nodes = comm.ep_scaleout_bytes_per_token(M_nodes=4, N_ep=16, G=8, **B)
    assert two_nodes == pytest.approx(2 * 0.5 * H * 3.03125)
    many = comm.ep_scaleout_bytes_per_token(M_nodes=4, N_ep=144, G=8, **B)
    assert many == pytest.approx(4 * 17 / 18 * H * 3.03125)


def test_experts_touched_limits():
    one = step.experts_touched(n_layers=61, n_dense=3, n_experts=256, E_red=0, N_ep=1,
                               batch=1, s_q=1, top_k=1)
    assert one == pytest.approx(58)  # one token, one expert per MoE layer
    full = step.experts_touched(n_layers=61, n_dense=3, n_experts=256, E_red=32, N_ep=144,
                                batch=1000, s_q=1, top_k=8)
    assert full == pytest.approx(58 * 2)


def test_step_model_batch1_single_gpu():
    layout = step.Layout(n_ep=1)
    v = step.step_inputs(DSV3, catalog.gpu("H200"), layout, batch=1.0, ctx=1000.0)
    out = step.breakdown(v)
    assert out["t_comm"] == 0
    assert out["t_step"] == pytest.approx(out["t_attn"] + out["t_moe"])
    assert out["per_gpu"] == pytest.approx(out["per_user"])


def test_overlap_never_slower_and_rates_consistent():
    g = catalog.gpu("H800")
    v = step.step_inputs(DSV3, g, step.Layout(n_ep=144, redundant=32), batch=np.array([1.0, 64.0, 256.0]),
                         ctx=4989.0)
    fast, slow = step.breakdown(v), step.breakdown(v, overlap=False)
    assert np.all(fast["t_step"] <= slow["t_step"])
    assert np.allclose(fast["per_gpu"], np.array([1, 64, 256]) * fast["per_user"])
    assert np.all(np.diff(fast["per_gpu"]) > 0) and np.all(np.diff(fast["per_user"]) < 0)


def test_overhead_adds_directly():
    g = catalog.gpu("H800")
    base = step.breakdown(step.step_inputs(DSV3, g, step.Layout(n_ep=32), batch=16.0, ctx=4000.0))
    slow = step.breakdown(step.step_inputs(DSV3, g, step.Layout(n_ep=32, overhead_s=0.01), batch=16.0, ctx=4000.0))
    assert slow["t_step"] == pytest.approx(base["t_step"] + 0.01)


def test_step_model_refuses_dense_models():
    with pytest.raises(ValueError, match="MLA mixture-of-experts"):
        step.step_inputs(catalog.model("llama-3.1-70b"), catalog.gpu("H100"), step.Layout(n_ep=8), 1.0, 1.0)


def test_capacity():
    W = params.weight_bytes_ep(DSV3, n_ep=8, bytes_per_weight=1, resident=True)
    assert decode.kv_capacity(HBM=80e9, W_res=W, reserve=0) < 0  # V3 does not fit in 8 H800
    b = decode.max_batch(HBM=141e9, W_res=W, reserve=0, ctx=4989, S_kv=70272)
    assert b == np.floor((141e9 - W) / (4989 * 70272))


def test_full_expression_equals_parts():
    g = catalog.gpu("H800")
    v = step.step_inputs(DSV3, g, step.Layout(n_ep=144, redundant=32, overhead_s=0.002),
                         batch=np.array([1.0, 88.0, 300.0]), ctx=4989.0)
    full = step.step_time_overlap(**{s.name: v[s.name] for s in step.step_time_overlap.symbols})
    assert np.allclose(full, step.breakdown(v)["t_step"])
    serial = step.step_time_serial(**{s.name: v[s.name] for s in step.step_time_serial.symbols})
    assert np.allclose(serial, step.breakdown(v, overlap=False)["t_step"])


def test_wide_ep_layout_follows_the_nvlink_domain():
    rack, node = step.wide_ep_layout(catalog.gpu("GB300")), step.wide_ep_layout(catalog.gpu("H800"))
    assert (rack.n_ep, rack.redundant, rack.link_latency_s) == (72, 32, step.LINK_LATENCY_S["nvlink"])
    assert (node.n_ep, node.redundant, node.link_latency_s) == (144, 32, step.LINK_LATENCY_S["scale_out"])
    assert step.wide_ep_layout(catalog.gpu("GB300"), weight_bytes=0.5).weight_bytes == 0.5


def test_users_that_fit_is_the_largest_batch_that_fits():
    ctx = 4989
    for name in ("H800", "H200", "B200"):
        g = catalog.gpu(name)
        lay = step.Layout(n_ep=32)
        W = params.weight_bytes_ep(DSV3, n_ep=32, bytes_per_weight=1, resident=True)
        per_user = ctx * step.step_inputs(DSV3, g, lay, batch=1, ctx=ctx)["S_kv"]
        room = g.hbm_capacity * (1 - step.HBM_RESERVE_SHARE) - W
        b = step.users_that_fit(DSV3, g, lay, ctx)
        assert b * per_user <= room < (b + 1) * per_user
    # EP8 on an H800: the weights alone exceed HBM, so nobody fits and there is no frontier
    h800 = catalog.gpu("H800")
    assert step.users_that_fit(DSV3, h800, step.Layout(n_ep=8), ctx) == 0
    assert step.frontier(DSV3, h800, step.Layout(n_ep=8), ctx) is None
    assert step.best_gpu_rate(DSV3, h800, step.Layout(n_ep=8), ctx, 1) == 0
    with pytest.raises(ValueError, match="MLA mixture-of-experts"):
        step.users_that_fit(catalog.model("llama-3.1-70b"), h800, step.Layout(n_ep=8), ctx)
    with pytest.raises(ValueError, match="reserve share"):
        step.users_that_fit(DSV3, h800, step.Layout(n_ep=32), ctx, reserve_share=1.5)


def test_frontier_trades_interactivity_for_throughput():
    g, lay, ctx = catalog.gpu("H800"), step.Layout(n_ep=144, redundant=32), 4989
    out = step.frontier(DSV3, g, lay, ctx, points=40)
    assert out["batch"][0] == 1 and out["batch"][-1] == step.users_that_fit(DSV3, g, lay, ctx)
    assert np.all(np.diff(out["per_user"]) < 0) and np.all(np.diff(out["per_gpu"]) > 0)
    # the best rate at a per-user floor is the frontier's largest per-GPU rate above it
    floor = float(np.median(out["per_user"]))
    best = step.best_gpu_rate(DSV3, g, lay, ctx, floor)
    full = step.frontier(DSV3, g, lay, ctx)
    assert best == pytest.approx(full["per_gpu"][full["per_user"] >= floor].max())
    assert step.best_gpu_rate(DSV3, g, lay, ctx, 2 * floor) < best
    assert step.best_gpu_rate(DSV3, g, lay, ctx, 1e9) == 0
