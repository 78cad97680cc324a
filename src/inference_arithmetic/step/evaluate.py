"""Evaluating the step: every term of :mod:`.operations` for a unit at given batches and contexts.

One generated numpy function (:data:`.operations.step_terms` in :mod:`inference_arithmetic.core.fast`,
sympy's common-subexpression elimination across the terms) computes every term, for one unit or for
:func:`stack`-ed units that broadcast against arrays of batch and context: no Python loop over
configurations, no sympy.
"""
from __future__ import annotations

import math

import numpy as np

from inference_arithmetic.core import fast
from inference_arithmetic.model.dtypes import BF16_BYTES, FP8_DISPATCH_BYTES
from inference_arithmetic.step import curves
from inference_arithmetic.step.curves import CURVE_KEYS
from inference_arithmetic.step.memory import memory_values
from inference_arithmetic.step.unit import Unit

__all__ = ["terms", "evaluate", "stack", "expert_rate", "rates"]


def terms(u: Unit, batch, ctx, s_q=None) -> dict:
    """Step-time terms (s), step time, rates and the roofline bound for ``batch`` requests per
    attention instance at ``ctx`` tokens of context (numbers or arrays of one shape).

    Keys: ``t_kernels``, ``t_attn``, ``t_dense``, ``t_head``, ``t_moe``, ``t_comm``, ``t_mtp``,
    ``t_step``; ``tokens_per_s_per_user``, ``tokens_per_s_per_gpu`` (output tokens for decode,
    input tokens for prefill), ``bound_tokens_per_s_per_gpu`` (the roofline bound at the same
    configuration, with every draft token accepted).
    """
    v = dict(u.values)
    v["batch"], v["ctx"] = batch, ctx
    if s_q is not None:
        v["s_q"] = s_q
    return _evaluate(v)


def evaluate(v: dict) -> dict:
    """:func:`terms` on a dictionary of symbol values, any of which may be arrays that broadcast
    (one unit's values with arrays of batch and context, or :func:`stack`-ed units): one
    generated call for every term, no Python loop over configurations."""
    return _evaluate(dict(v))


def _evaluate(v: dict) -> dict:
    """:func:`evaluate` on a dictionary of its own (the measured rates are written into it)."""
    v.update(rates(v))
    tk_, ta_, td_, th_, tm_, ta2a, tar, tmar, bound = fast.step_terms_of(v)
    scalar = isinstance(v["overlapped"], float)   # one unit: choose the branch instead of computing both
    if scalar:
        tc_ = (tmar if v["moe_tp_on"] else ta2a) + tar
    else:
        tc_ = np.where(v["moe_tp_on"], tmar, ta2a) + tar
    common = {"ta": ta_, "td": td_, "th": th_, "tm": tm_, "tk": tk_, "tc": tc_, "t_0": v["t_0"], "f_sm": v["f_sm"],
              "kappa": v["kappa"], "b_disp": FP8_DISPATCH_BYTES, "b_comb": BF16_BYTES}
    if scalar:
        t = fast.step_overlap_of(common) if v["overlapped"] else fast.step_serial_of(common)
    else:
        t = np.where(v["overlapped"], fast.step_overlap_of(common), fast.step_serial_of(common))
    t_mtp = 0.0 * t
    if scalar:
        if v["n_dr"] > 0:
            t_mtp = _mtp_time(v)
            t = t + t_mtp
    else:
        drafts = np.asarray(v["n_dr"]).reshape(-1) > 0      # one flag per stacked unit
        if drafts.all() or (drafts.any() and np.shape(t)[:1] != drafts.shape):
            t_mtp = _mtp_time(v)
            t = t + t_mtp
        elif drafts.any():                                   # only the units that draft pay the MTP pass
            t_mtp = np.zeros(np.shape(t))
            t_mtp[drafts] = np.broadcast_to(_mtp_time(_units_where(v, drafts)), t_mtp[drafts].shape)
            t = t + t_mtp
    if scalar:  # prefill: new tokens per request
        tokens, ideal = (v["accept_tok"], 1 + v["n_dr"]) if v["decode"] else (v["s_q"], v["s_q"])
    else:
        tokens = np.where(v["decode"], v["accept_tok"], v["s_q"])
        ideal = np.where(v["decode"], 1 + v["n_dr"], v["s_q"])
    per_user = tokens / t
    per_gpu = v["batch"] * per_user / v["T_a"]
    return {"t_kernels": tk_, "t_attn": ta_, "t_dense": td_, "t_head": th_, "t_moe": tm_, "t_comm": tc_,
            "t_mtp": t_mtp, "t_step": t, "tokens_per_s_per_user": per_user, "tokens_per_s_per_gpu": per_gpu,
            "bound_tokens_per_s_per_gpu": v["batch"] * ideal / v["T_a"] / bound}


def _mtp_time(v: dict):
    """The MTP module's time per step [s]: each draft token one more (average) layer and the head, the
    terms at one query row per request (``s_q`` = 1)."""
    v1 = dict(v, s_q=1.0)
    v1.update(rates(v1))
    k1, a1, d1, h1, m1, x1, r1, y1, _ = fast.step_terms_of(v1)
    return fast.mtp_time(n_dr=v["n_dr"], n_layers=v["n_layers"], th=h1, kappa=v["kappa"],
                         tl=a1 + d1 + m1 + k1 + np.where(v["moe_tp_on"], y1, x1) + r1)


def _units_where(v: dict, keep) -> dict:
    """The stacked values (:func:`stack`) of the units where ``keep`` (one flag per unit, more than one
    unit) holds: every array whose first axis is the units' (batch and context too where they are given
    per unit); the others broadcast over the units and stay whole."""
    n = keep.shape[0]
    return {k: a[keep] if isinstance(a, np.ndarray) and a.ndim and a.shape[0] == n else a for k, a in v.items()}


def expert_rate(v: dict):
    """q_x, a framework's measured grouped-GEMM rate relative to DeepSeek's kernels, at the tokens each
    micro-batch sends into a MoE layer (N_ep b s_q / (T_a m)): log-log interpolation in the unit's
    curve ``xq`` (log q_x on :data:`.unit.GRID_TOKENS`), held at the ends; 1 where ``xq`` is all zeros
    (DeepSeek's kernels).  Broadcasts: ``xq`` of shape (K,) for one unit, (units, 1, 1, K) stacked."""
    return curves.rate(v["xq"], v["N_ep"] * np.asarray(v["batch"], dtype=float) * v["s_q"] / (v["T_a"] * v["m_mb"]))


_NO_RATES = dict(q_x=1.0, q_a=1.0, q_d=1.0, q_h=1.0, q_p=1.0, q_r=1.0, q_R=1.0, q_c=1.0)


def rates(v: dict) -> dict:
    """Every measured rate of :mod:`.curves` at the batch and context of ``v``: q_x (routed experts),
    q_a (attention: decode's curve ``aq`` at b s_q / m requests and the context times prefill's ``pq`` at
    b / m requests of s_q new tokens, one of them all zeros; under sparse attention at most the top-k
    ``k_top`` as context and as new tokens: the tokens attended, :mod:`.curves`; a DSA module table, ``i_mod`` = 1,
    at the whole context and new tokens: :mod:`.curves_dsa`), q_d (dense GEMMs, at b s_q / m tokens), q_h (the
    output head: the dense-GEMM curve at its rows per micro-batch, :data:`.operations.head_rows` / m), q_p (projections: q_a where the attention table
    includes them, else q_d), q_r and q_R (all-reduces of the b s_q tokens' hidden states, b s_q h
    elements), q_c (dispatch and combine, at the b s_q / (T_a m) tokens each GPU sends); 1 for a curve
    of zeros."""
    curved, batch = v["curved"], v["batch"]
    if not (curved if isinstance(curved, float) else np.any(curved)):
        return _NO_RATES
    if isinstance(curved, float) and np.ndim(batch) == 0 and np.ndim(v["ctx"]) == 0:   # one configuration
        s_q, m = float(v["s_q"]), v["m_mb"]
        n_tok = float(batch) * s_q
        k_top = math.inf if v.get("i_mod") else v["k_top"]   # a DSA module table: read at the whole context
        q_a = curves.rate2(v["aq"], n_tok / m, min(float(v["ctx"]), k_top)) * \
            curves.rate2(v["pq"], float(batch) / m, min(s_q, k_top), curves.LOG_NEW)   # decode's or prefill's (the other: 1)
        q_d = curves.rate(v["dq"], n_tok / m)
        per_gpu = n_tok / (v["T_a"] * m)
        q_h = curves.rate(v["dq"], float(fast.head_rows(batch=float(batch), s_q=s_q, s_smp=v["s_smp"])) / m)
        return dict(q_x=curves.rate(v["xq"], v["N_ep"] * per_gpu), q_a=q_a, q_d=q_d, q_h=q_h,
                    q_p=q_a if v["a_mod"] else q_d, q_r=curves.rate(v["rq"], n_tok * v["h"], curves.LOG_ELEMENTS),
                    q_R=curves.rate(v["Rq"], n_tok * v["h"], curves.LOG_ELEMENTS), q_c=curves.rate(v["cq"], per_gpu))
    b = np.asarray(batch, dtype=float)
    n_tok = b * v["s_q"]
    k_top = np.where(np.asarray(v.get("i_mod", 0.0)) > 0, math.inf, v["k_top"])
    q_a = curves.rate2(v["aq"], n_tok / v["m_mb"], np.minimum(v["ctx"], k_top)) * \
        curves.rate2(v["pq"], b / v["m_mb"], np.minimum(v["s_q"], k_top), curves.LOG_NEW)
    q_d = curves.rate(v["dq"], n_tok / v["m_mb"])
    a_mod = v["a_mod"]
    q_p = (q_a if a_mod else q_d) if isinstance(a_mod, float) else np.where(a_mod > 0, q_a, q_d)
    elems = n_tok * v["h"]
    q_h = curves.rate(v["dq"], fast.head_rows(batch=b, s_q=v["s_q"], s_smp=v["s_smp"]) / v["m_mb"])
    return dict(q_x=expert_rate(v), q_a=q_a, q_d=q_d, q_h=q_h, q_p=q_p, q_r=curves.rate(v["rq"], elems, curves.LOG_ELEMENTS),
                q_R=curves.rate(v["Rq"], elems, curves.LOG_ELEMENTS),
                q_c=curves.rate(v["cq"], n_tok / (v["T_a"] * v["m_mb"])))


def stack(units) -> dict:
    """The symbol values of several units as arrays of shape (units, 1, 1), with their memory
    constants, ready for :func:`evaluate` with batch (1, B, 1) and context (1, 1, C); a unit's
    measured expert-rate curve ``xq`` as (units, 1, 1, K)."""
    rows = [memory_values(u) for u in units]
    out = {k: np.array([r[k] for r in rows], dtype=float).reshape(-1, 1, 1) for k in rows[0] if k not in CURVE_KEYS}
    for k in CURVE_KEYS:
        out[k] = np.array([r[k] for r in rows], dtype=float).reshape(len(rows), 1, 1, -1)
    return out


