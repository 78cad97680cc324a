"""The hardware chapter: token cost, dense against sparse attention bytes, precisions and attention TP in
the step model, price sources, per-GPU projections and the validation errors by kind."""
import numpy as np
import pytest
import sympy as sp

from inference_arithmetic.core import errors
from inference_arithmetic.hardware import gpus
from inference_arithmetic.model import config
from inference_arithmetic.serving import prices
from inference_arithmetic.step import comm
from inference_arithmetic.serving import fleet
from inference_arithmetic.model import kv
from inference_arithmetic.evidence import projections, validation
from inference_arithmetic import step
from inference_arithmetic.core.errors import InputError
from inference_arithmetic.core.symbols import S

DSV3 = config.model("deepseek-v3")
CTX = 4989.0
FP4 = step.Precision(moe="nvfp4", attn="fp8", kv="fp8")


def test_token_cost_hand_value():
    # $2 per GPU-hour at 1,850 tokens/s and full utilisation
    c = fleet.token_cost(price=2 / 3600, R_gpu=1850, util=1)
    assert c * 1e6 == pytest.approx(2 / 3600 / 1850 * 1e6)
    assert fleet.token_cost(price=2 / 3600, R_gpu=1850, util=0.5) == pytest.approx(2 * c)
    assert prices.cost_per_mtok(2 / 3600, 1850) == pytest.approx(2 / 3600 / 1850 * 1e6)


def test_sparse_below_topk_reads_everything_plus_the_index():
    assert kv.sparse_bytes_per_step(n_layers=61, ctx=1000, S_lat=656, b_idx=132, k_top=2048) == 61 * 1000 * (656 + 132)
    assert kv.dense_bytes_per_step(n_layers=61, ctx=1000, S_lat=656) == 61 * 1000 * 656


def test_sparse_above_topk_and_crossover():
    big = kv.sparse_bytes_per_step(n_layers=61, ctx=131072, S_lat=656, b_idx=132, k_top=2048)
    assert big == 61 * (131072 * 132 + 2048 * 656)
    sparse = kv.sparse_bytes_per_step.expr.subs(sp.Min(S.ctx, S.k_top), S.k_top)
    cross = sp.solve(sp.Eq(kv.dense_bytes_per_step.expr, sparse), S.ctx)[0]
    assert float(cross.subs({S.S_lat: 656, S.b_idx: 132, S.k_top: 2048})) == pytest.approx(2048 * 656 / (656 - 132))


def test_comm_latency_floor():
    assert comm.comm_latency(n_layers=61, n_dense=3, t_lat=10e-6) == pytest.approx(2 * 58 * 10e-6)


# ----------------------------------------------------------------------------- precisions and layouts
def test_nvfp4_needs_blackwell():
    for name in ("H800", "H100", "H200"):
        g = gpus.gpu(name)
        with pytest.raises(InputError, match="FP4"):
            step.unit(DSV3, g, step.wide_ep_layout(g, precision=step.Precision(moe="nvfp4")))
    with pytest.raises(InputError):
        step.Precision(moe="int4")
    with pytest.raises(InputError):
        step.Precision(kv="fp4")


def test_nvfp4_halves_resident_experts_and_speeds_the_batch_one_step():
    g = gpus.gpu("GB300")
    fp8 = step.unit(DSV3, g, step.wide_ep_layout(g))
    fp4 = step.unit(DSV3, g, step.wide_ep_layout(g, precision=step.Precision(moe="nvfp4")))
    assert fp4.weights_resident < fp8.weights_resident
    assert step.max_batch(fp4, CTX) > step.max_batch(fp8, CTX)
    assert step.terms(fp4, 1.0, CTX)["t_moe"] < step.terms(fp8, 1.0, CTX)["t_moe"]


def test_fp8_kv_doubles_the_users_that_fit():
    # in one node (no DeepEP buffers per user) the room after the weights holds twice the FP8 caches
    g = gpus.gpu("B200")
    bf16 = step.unit(DSV3, g, step.layout_for(DSV3, g, 8))
    fp8 = step.unit(DSV3, g, step.layout_for(DSV3, g, 8, precision=step.Precision(kv="fp8")))
    b = step.max_batch(bf16, CTX)
    assert 2 * b <= step.max_batch(fp8, CTX) <= 2 * b + 1
    # across nodes each user also needs DeepEP receive buffers, so FP8 KV gives less than twice
    wide16, wide8 = (step.unit(DSV3, g, step.wide_ep_layout(g, precision=step.Precision(kv=k))) for k in ("bf16", "fp8"))
    assert step.max_batch(wide16, CTX) < step.max_batch(wide8, CTX) < 2 * step.max_batch(wide16, CTX)


def test_attention_tp_and_mtp_raise_the_fastest_user():
    g = gpus.gpu("GB300")
    base = projections.fastest_user(DSV3, g, step.layout_for(DSV3, g, 72, precision=FP4), CTX)
    tp = projections.fastest_user(DSV3, g, step.layout_for(DSV3, g, 72, attn_tp=8, precision=FP4), CTX)
    mtp = projections.fastest_user(DSV3, g, step.layout_for(DSV3, g, 72, attn_tp=8, mtp=3, precision=FP4), CTX)
    assert base["predicted"] < tp["predicted"] < mtp["predicted"]
    for f in (base, tp, mtp):
        assert f["bound"] >= f["predicted"]


def test_projection_per_gpu_and_its_bound():
    for name in ("H800", "H200", "B200", "B300", "GB200", "GB300"):
        g = gpus.gpu(name)
        p = projections.project(DSV3, g, step.wide_ep_layout(g), CTX, 21.0)
        assert p.reachable and p.per_user >= 21.0 and 1 <= p.batch <= p.users_fit
        assert p.bound >= p.predicted > 0
    # a per-user floor above the fastest user gives no rate, with the reason
    h100 = gpus.gpu("H100")
    fastest = projections.fastest_user(DSV3, h100, step.wide_ep_layout(h100), CTX)["predicted"]
    p = projections.project(DSV3, h100, step.wide_ep_layout(h100), CTX, 1.01 * fastest)
    assert not p.reachable and "out of reach" in p.reason


# ----------------------------------------------------------------------------- prices
def test_every_priced_gpu_is_in_the_catalog():
    for name in ("H800", "H100", "H200", "B200", "GB200", "GB300"):
        assert prices.gpu_hour_price(name).si > 0
        gpus.gpu(name)
    with pytest.raises(errors.CatalogError, match="unknown GPU-hour price"):
        prices.gpu_hour_price("B300")
    for q in prices.price_quotes():
        gpus.gpu(q.gpu)
        assert q.si == pytest.approx(q.usd_per_hour / 3600)


def test_the_one_price_list_prices_the_most_gpus_and_no_vendor_price():
    """The book ranks GPUs on one list, the planner's default: the one pricing most catalog GPUs in
    both tiers (reserved and on demand), then the most on demand."""
    src = prices.default_price_source()
    table = prices.price_sources()
    def priced(v):
        both = [g for g, p in v["gpus"].items() if g in gpus.gpus() and p.get("on_demand")]
        return sum(1 for g in both if v["gpus"][g].get("reserved")), len(both)
    assert all(priced(v) <= priced(table[src]) for k, v in table.items() if prices.is_offer(k))
    assert not any(q.vendor_quoted for q in prices.list_quotes() if q.source == src)
    vendor = [q for q in prices.price_quotes() if q.vendor_quoted]
    assert {q.gpu for q in vendor} >= {"GB300"} and all(q.src == "nvidia-cost-per-token-news" for q in vendor)


# ----------------------------------------------------------------------------- validation by kind
def test_validation_groups_partition_the_scored_entries():
    """One summary of errors (validation.error_stats), grouped any way: the groups add up."""
    preds = validation.predict_all()
    n = validation.summary(preds)["n"]
    for key in (lambda p: gpus.generation(p.gpu), lambda p: p.phase, lambda p: p.metric, lambda p: p.publisher):
        groups = validation.errors_by(preds, key)
        assert sum(g["n"] for g in groups) == n
        for g in groups:
            assert g["lowest"] <= g["mean_error"] <= g["highest"] and 0 <= g["median_ape"] and g["mape"] >= 0
    assert {g["group"] for g in validation.errors_by(preds, lambda p: gpus.generation(p.gpu))} <= {"Hopper", "Blackwell", "CDNA3", "CDNA4"}
    assert validation.error_stats([])["n"] == 0 and validation.error_stats([])["mape"] is None
    assert validation.error_stats([0.1, -0.3])["mape"] == pytest.approx(0.2)
