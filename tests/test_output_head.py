"""The output head computes logits only at the sampled positions (:data:`.step.operations.head_rows`):
one per request in a prefill step, the token and its MTP drafts in decode."""
from __future__ import annotations

import math

import pytest

from inference_arithmetic import step
from inference_arithmetic.core import fast
from inference_arithmetic.hardware import gpus
from inference_arithmetic.model import config
from inference_arithmetic.serving import prefill
from inference_arithmetic.step import curves
from inference_arithmetic.step.evaluate import rates
from inference_arithmetic.step.unit import PHASES

M, G = config.model("deepseek-v3"), gpus.gpu("H800")


def _values(u, batch, s_q, **extra):
    return dict(u.values, batch=float(batch), ctx=2048.0, s_q=float(s_q), **extra)


def _head_flop_time(v):
    """The head's compute time by hand: 2 FLOP per weight and computed position, at the achieved rate."""
    return v["flop_mac"] * v["P_hd"] * v["batch"] * min(v["s_q"], v["s_smp"]) / (v["T_a"] * v["e_gfl"] * v["F_h"])


@pytest.fixture(scope="module")
def pre():
    return prefill.prefill_unit(M, G, step.Layout(ep=32, micro_batches=2, balanced=True))


@pytest.fixture(scope="module")
def dec():
    return step.unit(M, G, step.Layout(ep=128, micro_batches=2, balanced=True, mtp=1))


def test_phase_table_says_which_positions_are_sampled(pre, dec):
    assert PHASES["decode"].drafts_sampled and not PHASES["prefill"].drafts_sampled
    assert dec.values["s_smp"] == 2.0 == dec.values["s_q"]        # the token and one draft, both verified
    assert pre.values["s_smp"] == 1.0                              # one first token per prompt
    assert prefill.prefill_unit(M, G, step.Layout(ep=32, mtp=2)).values["s_smp"] == 1.0


def test_prefill_head_rows_are_the_requests_not_the_tokens(pre):
    assert fast.head_rows_of(_values(pre, 8, 4096)) == 8.0
    assert fast.head_rows_of(_values(pre, 8, 0.5)) == 4.0          # never more rows than new tokens


def test_prefill_head_time_scales_with_requests_not_tokens(pre):
    b = 20_000.0   # enough requests that the head is compute-bound (its FLOP over its weight bytes)
    short, long_ = (fast.t_head_of(_values(pre, b, s)) for s in (16.0, 4096.0))
    assert long_ == pytest.approx(short, rel=1e-12)
    twice = fast.t_head_of(_values(pre, 2 * b, 4096.0))
    assert twice == pytest.approx(2 * long_, rel=1e-12)
    assert long_ == pytest.approx(_head_flop_time(_values(pre, b, 4096.0)), rel=1e-12)
    # a few whole prompts: the head streams its weights once per micro-batch, whatever the prompt length
    stream = pre.values["m_mb"] * pre.values["P_hd"] * pre.values["b_hw"] / (pre.values["e_gbw"] * G.hbm_bandwidth)
    assert fast.t_head_of(_values(pre, 4, 4096.0)) == pytest.approx(stream, rel=1e-12)


def test_prefill_bound_drops_exactly_the_unsampled_head_flop(pre):
    b, s_q = 4.0, 4096.0
    v = _values(pre, b, s_q)
    every = dict(v, s_smp=math.inf)            # every new token through the head (the old charge)
    assert fast.bound_time_of(v) < fast.bound_time_of(every)
    # compute-bound at 16K tokens: the difference is the head FLOP of the b (s_q - 1) unsampled positions at peak
    dropped = v["flop_mac"] * v["P_hd"] * b * (s_q - 1) / (v["T_a"] * v["F_h"])
    assert fast.bound_time_of(every) - fast.bound_time_of(v) == pytest.approx(dropped, rel=1e-9)


@pytest.mark.parametrize("batch", [1.0, 64.0, 4096.0])
def test_decode_head_and_bound_charge_every_verified_position(dec, batch):
    v = _values(dec, batch, dec.values["s_q"])
    every = dict(v, s_smp=math.inf)
    assert fast.head_rows_of(v) == batch * 2.0
    assert fast.t_head_of(v) == fast.t_head_of(every)
    assert fast.bound_time_of(v) == fast.bound_time_of(every)


def test_mtp_draft_runs_the_head_once_per_request(dec):
    v = _values(dec, 4096.0, 1.0)              # the draft step of :func:`.step.evaluate.terms`: s_q = 1
    assert fast.head_rows_of(v) == 4096.0
    assert fast.t_head_of(v) == pytest.approx(_head_flop_time(v), rel=1e-12)


def test_prefill_step_is_faster_by_the_head_it_no_longer_computes(pre):
    out = prefill.prefill(pre, 4096.0)
    stream = pre.values["m_mb"] * pre.values["P_hd"] * pre.values["b_hw"] / (pre.values["e_gbw"] * G.hbm_bandwidth)
    assert float(out["t_head"]) == pytest.approx(max(stream, _head_flop_time(_values(pre, out["batch"], 4096.0))))


def test_framework_head_rate_is_read_at_the_head_rows():
    """A framework's measured dense-GEMM rate for the head is read at its rows per micro-batch: in decode
    those are the step's tokens (q_h = q_GEMM), in prefill the requests (the rate at b / m rows)."""
    g = gpus.gpu("H200")
    layout = step.Layout(ep=8, framework="sglang")
    pre_u, dec_u = prefill.prefill_unit(M, g, layout), step.unit(M, g, layout)
    assert any(pre_u.values["dq"])                 # a measured dense-GEMM table is read
    d = rates(dict(dec_u.values, batch=64.0, ctx=2048.0))
    assert d["q_h"] == d["q_d"]
    p = rates(dict(pre_u.values, batch=4.0, ctx=2048.0, s_q=4096.0))
    m = pre_u.values["m_mb"]
    assert p["q_h"] == curves.rate(pre_u.values["dq"], 4.0 / m)
    assert p["q_d"] == curves.rate(pre_u.values["dq"], 4.0 * 4096.0 / m) != p["q_h"]
