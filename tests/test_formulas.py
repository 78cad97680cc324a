"""Every formula against hand-worked values, for DeepSeek-V3 (MLA, MoE) and Llama 3.1 70B / Mixtral (GQA)."""
import numpy as np
import pytest
import sympy as sp

from inference_arithmetic.core import errors
from inference_arithmetic.model import config
from inference_arithmetic.step import bounds
from inference_arithmetic.serving import fleet
from inference_arithmetic.model import kv, params
from inference_arithmetic.book.registry import FORMULAS
from inference_arithmetic.core.formula import InputError, dimension, formula
from inference_arithmetic.core.symbols import S, SYMBOLS
from inference_arithmetic.core.units import UnitError, dims_of

DSV3 = config.model("deepseek-v3")
LLAMA = config.model("llama-3.1-70b")
MIXTRAL = config.model("mixtral-8x7b")


def test_every_formula_is_unit_consistent():
    assert len(FORMULAS) >= 15
    for f in FORMULAS.values():
        assert dimension(f.expr) == dims_of(f.unit), f.name
        for s in f.expr.free_symbols:
            assert s.name in SYMBOLS, (f.name, s.name)


def test_a_wrong_formula_is_refused():
    with pytest.raises(UnitError):
        formula("wrong_sum", S.BW + S.S_kv, "B/s", "bandwidth plus bytes")
    with pytest.raises(UnitError):
        formula("wrong_unit", S.BW / (S.ctx * S.S_kv), "B", "a rate declared as bytes")
    assert "wrong_sum" not in FORMULAS


def test_kv_per_token_mla_hand_value():
    # 61 layers x (512 + 64) elements x 2 bytes
    assert kv.kv_bytes_per_token(DSV3, "bf16") == 61 * 576 * 2 == 70272
    assert kv.kv_bytes_per_token(DSV3, "fp8") == 35136


def test_kv_per_token_gqa_hand_values():
    # 2 (K and V) x layers x kv heads x head dim x bytes
    assert kv.kv_bytes_per_token(LLAMA, "bf16") == 2 * 80 * 8 * 128 * 2 == 327680
    assert kv.kv_bytes_per_token(MIXTRAL, "fp8") == 2 * 32 * 8 * 128 * 1


def test_kv_per_user():
    assert kv.kv_per_user(ctx=5000, S_kv=70272) == 351_360_000
    assert kv.kv_per_user(ctx=4989, S_kv=70272) / 2**20 == pytest.approx(334.346, abs=1e-3)


def test_unsupported_dtype():
    with pytest.raises(errors.CatalogError, match="unsupported KV dtype 'int3'"):
        kv.kv_bytes_per_token(DSV3, "int3")


def test_params_deepseek():
    pc = params.count_params(DSV3)
    assert pc.total == pytest.approx(671.0e9, rel=1e-3)
    assert pc.active == pytest.approx(36.6e9, rel=5e-3)  # 37B published, 36.6B incl. head (DeepSeek's README)
    assert pc.mtp == pytest.approx(11.5e9, rel=0.02)
    # MLA attention per layer by hand
    h, q, c, r, n, v, nope = 7168, 1536, 512, 64, 128, 128, 128
    by_hand = h * q + q + q * n * (nope + r) + h * (c + r) + c + c * n * (nope + v) + n * v * h
    assert pc.attention_per_layer == by_hand


def test_params_gqa_models():
    llama = params.count_params(LLAMA)
    assert llama.total == pytest.approx(70.6e9, rel=0.01)
    assert llama.attention_per_layer == 2 * 8192 * 64 * 128 + 2 * 8192 * 8 * 128
    mix = params.count_params(MIXTRAL)
    assert mix.total == pytest.approx(46.7e9, rel=0.01)
    # Mixtral's 12.9B active counts the embedding table; ours does not (a lookup)
    assert mix.active + 32000 * 4096 == pytest.approx(12.9e9, rel=0.01)


def test_weights_per_gpu_ep_limits():
    full = params.weight_bytes_ep(DSV3, n_ep=1, bytes_per_weight=1, resident=True)
    assert full == pytest.approx(params.count_params(DSV3).total, rel=1e-12)
    ep144 = params.weight_bytes_ep(DSV3, n_ep=144, redundant=32, bytes_per_weight=1)
    expert = 3 * 7168 * 2048
    replicated = params.weight_bytes_ep(DSV3, n_ep=10**12, bytes_per_weight=1)
    assert ep144 - replicated == pytest.approx(58 * 2 * expert, rel=1e-9)


def test_sol_rate_hand_value():
    r = bounds.sol_rate(accept=1, BW=3.35e12, ctx=4989, S_kv=70272)
    assert r == pytest.approx(3.35e12 / (4989 * 70272))
    assert r == pytest.approx(9555.4, abs=0.1)
    assert bounds.sol_rate(accept=2, BW=3.35e12, ctx=4989, S_kv=35136) == pytest.approx(4 * r)


def test_gpu_rate_limits():
    kw = dict(accept=1, BW=3.35e12, ctx=4989, S_kv=70272)
    sol = bounds.sol_rate(**kw)
    # no weights: independent of batch; huge batch: tends to the speed of light
    assert bounds.gpu_rate(batch=1, W=0, **kw) == pytest.approx(sol)
    assert bounds.gpu_rate(batch=1e9, W=21e9, **kw) == pytest.approx(sol, rel=1e-3)
    # batch 1: one user's KV plus all weights per token
    assert bounds.gpu_rate(batch=1, W=21e9, **kw) == pytest.approx(3.35e12 / (4989 * 70272 + 21e9))
    grid = bounds.gpu_rate(batch=np.arange(1, 5), W=21e9, **kw)
    assert grid.shape == (4,) and np.all(np.diff(grid) > 0)


def test_mla_roofline_hand_values():
    i = bounds.mla_intensity(s_q=1, n_heads=128, flop_mac=2, d_c=512, d_r=64, b_kv=2)
    assert i == pytest.approx(128 * 2 * (2 * 512 + 64) / (576 * 2))
    assert bounds.ridge_point(F=989e12, BW=3.35e12) == pytest.approx(295.22, abs=0.01)
    rate = bounds.mla_compute_rate(accept=1, F=660e12, s_q=1, n_layers=61, ctx=4989,
                                   n_heads=128, flop_mac=2, d_c=512, d_r=64)
    assert rate == pytest.approx(660e12 / (61 * 4989 * 128 * 2 * 1088))


def test_fleet_hand_values():
    assert fleet.fleet_cost(N_node=226.75, G=8, price=2 / 3600, T=86400) == pytest.approx(87072)
    rev = fleet.revenue(tok_in=608e9, tok_hit=342e9, tok_out=168e9,
                        pi_hit=0.14e-6, pi_miss=0.55e-6, pi_out=2.19e-6)
    assert rev == pytest.approx(342e3 * 0.14 + 266e3 * 0.55 + 168e3 * 2.19)
    assert fleet.margin(revenue=562027, cost=87072) == pytest.approx(5.4548, abs=1e-4)
    n = fleet.nodes_needed(tok_in=608e9, tok_out=168e9, T=86400, rate_in=73.7e3, rate_out=14.8e3)
    assert n == pytest.approx(608e9 / 86400 / 73.7e3 + 168e9 / 86400 / 14.8e3)


def test_littles_law():
    assert bounds.users_in_flight(R_gpu=1850, r_user=21) == pytest.approx(88.095, abs=1e-3)


def test_formula_inputs_are_checked():
    with pytest.raises(InputError, match="missing"):
        bounds.sol_rate(accept=1, BW=1.0, ctx=1.0)
    with pytest.raises(InputError, match="unexpected"):
        bounds.sol_rate(accept=1, BW=1.0, ctx=1.0, S_kv=1.0, bandwidth=2)
    with pytest.raises(InputError, match="negative"):
        bounds.sol_rate(accept=1, BW=-1.0, ctx=1.0, S_kv=1.0)
    with pytest.raises(InputError, match="finite"):
        bounds.sol_rate(accept=1, BW=float("inf"), ctx=1.0, S_kv=1.0)
    # an EP size below 1 raises a negative number to a fractional power: refused, not complex
    with pytest.raises(InputError, match="outside the formula's domain"):
        FORMULAS["ep_destinations"](N_ep=0.5, top_k=2.5)
    # 0/0 is not a number either
    with pytest.raises(InputError, match="outside the formula's domain"):
        bounds.sol_rate(accept=1, BW=0.0, ctx=0.0, S_kv=0.0)


def test_latex_uses_book_names():
    assert r"\beta" in bounds.sol_rate.latex()
    assert bounds.sol_rate.latex("R").startswith("R = ")
    assert isinstance(bounds.sol_rate.expr, sp.Expr)
