"""Formulas of the hardware chapter: token cost, dense against sparse attention bytes, FP4 and attention TP."""
import numpy as np
import pytest
import sympy as sp

from inference_arithmetic import catalog, comm, fleet, kv, step
from inference_arithmetic.symbols import S

DSV3 = catalog.model("deepseek-v3")


def test_token_cost_hand_value():
    # $2 per GPU-hour at 1,850 tokens/s and full utilisation
    c = fleet.token_cost(price=2 / 3600, R_gpu=1850, util=1)
    assert c * 1e6 == pytest.approx(2 / 3600 / 1850 * 1e6)
    assert fleet.token_cost(price=2 / 3600, R_gpu=1850, util=0.5) == pytest.approx(2 * c)


def test_sparse_below_topk_reads_everything_plus_the_index():
    b = kv.sparse_bytes_per_step(n_layers=61, ctx=1000, S_lat=656, b_idx=132, k_top=2048)
    assert b == 61 * 1000 * (656 + 132)
    assert kv.dense_bytes_per_step(n_layers=61, ctx=1000, S_lat=656) == 61 * 1000 * 656


def test_sparse_above_topk_and_crossover():
    big = kv.sparse_bytes_per_step(n_layers=61, ctx=131072, S_lat=656, b_idx=132, k_top=2048)
    assert big == 61 * (131072 * 132 + 2048 * 656)
    dense = kv.dense_bytes_per_step.expr
    sparse = kv.sparse_bytes_per_step.expr.subs(sp.Min(S.ctx, S.k_top), S.k_top)
    cross = sp.solve(sp.Eq(dense, sparse), S.ctx)[0]
    assert float(cross.subs({S.S_lat: 656, S.b_idx: 132, S.k_top: 2048})) == pytest.approx(2048 * 656 / (656 - 132))


def test_comm_latency_floor():
    assert comm.comm_latency(n_layers=61, n_dense=3, t_lat=10e-6) == pytest.approx(2 * 58 * 10e-6)


def test_fp4_and_attention_tp_shrink_the_step():
    g = catalog.gpu("GB300")
    base = step.breakdown(step.step_inputs(DSV3, g, step.Layout(n_ep=72, redundant=32), batch=1.0, ctx=4989.0))
    fp4 = step.breakdown(step.step_inputs(DSV3, g, step.Layout(n_ep=72, redundant=32, weight_bytes=0.5),
                                          batch=1.0, ctx=4989.0))
    tp = step.breakdown(step.step_inputs(DSV3, g, step.Layout(n_ep=72, redundant=32, weight_bytes=0.5, attn_tp=8),
                                         batch=1.0, ctx=4989.0))
    assert fp4["t_step"] < base["t_step"] and tp["t_step"] < fp4["t_step"]
    assert tp["per_gpu"] == pytest.approx(tp["per_user"] / 8)


def test_fp4_refused_where_absent():
    with pytest.raises(catalog.CatalogError, match="no fp4"):
        step.step_inputs(DSV3, catalog.gpu("H200"), step.Layout(n_ep=8, weight_bytes=0.5), 1.0, 1.0)
    with pytest.raises(ValueError, match="weight bytes"):
        step.step_inputs(DSV3, catalog.gpu("H200"), step.Layout(n_ep=8, weight_bytes=3), 1.0, 1.0)


def test_every_priced_gpu_is_in_the_catalog():
    for name in ("H800", "H100", "H200", "B200", "GB200", "GB300"):
        assert catalog.gpu_hour_price(name).si > 0
        catalog.gpu(name)
    with pytest.raises(catalog.CatalogError, match="unknown GPU-hour price"):
        catalog.gpu_hour_price("B300")
