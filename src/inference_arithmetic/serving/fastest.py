"""The fastest candidate of the layout search without evaluating its whole grid.

:func:`.search.candidates` evaluates every decode unit at every batch of :data:`.search.BATCHES`
(the planner needs them all); ``serve`` asks for one point: the unit and batch with the most output
tokens/s per GPU among those that fit in HBM, have a prefill partner and meet the per-user floor.
With the step model's own formulas (DeepSeek's kernels, no measured table: a unit's ``curved`` is
0) a step takes longer with every request added and less per request, so along the batches of one
unit the points that meet the service level are the first ones (the HBM fit and the per-user
speed fall with the batch) and the rate grows with the batch: a unit's best point is its last
feasible batch.  :func:`fastest` finds it by a search in rounds (:data:`STRIDES`: every 64th
batch, then every 8th above the last feasible probe, then each batch above that), checks at the probed
batches that the unit behaves so (a prefix of feasible batches, rates rising), drops a unit whose
rate at its first infeasible probe (more than its feasible batches reach) is below the best rate
found, and evaluates the whole grid of every unit that does not behave so (a framework's measured
kernel rates can bend the step time) and the whole rows of the few units within rounding of the
best, so that its answer is the first best point of the grid in :func:`.search.candidates`' order,
as ``numpy.argmax`` takes it (``tests/test_serve_answers.py`` compares the two).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from inference_arithmetic import step
from inference_arithmetic.serving import mixed, mode_rates, prefill_step as prefill

if TYPE_CHECKING:        # a type only: decode and prefill never load the workload module
    from inference_arithmetic.serving.workload import Service

__all__ = ["rates_at", "mode_point", "fastest", "STRIDES"]

#: batches between the probes of each round of the search: every 64th batch, then every 8th of the bracket
#: above the last feasible probe, then each of the 7 above the last feasible one (22 of 512 batches)
STRIDES = (64, 8, 1)
#: units whose best rate is within this share of the best one are compared on their whole rows
#: (rounding: the same numbers computed in arrays of another shape)
CLOSE = 1e-9


def rates_at(v: dict, b, ctx: float, terms: bool = False):
    """(decode tokens/s per GPU, tokens/s per user, fits in HBM) of :func:`.step.stack`-ed units ``v``
    at batches ``b`` (an array of shape (1, B, 1), or (units, k, 1): k batches of each unit); with
    ``terms``, the step's terms (:func:`.step.evaluate`) as a fourth item."""
    w = dict(v, batch=b, ctx=ctx)
    ev = step.evaluate(w)
    fits = step.free_bytes(w, b, ctx)[..., 0] >= 0
    out = ev["tokens_per_s_per_gpu"][..., 0], ev["tokens_per_s_per_user"][..., 0], fits
    return (*out, ev) if terms else out


def mode_point(mode: str, R_d, r_u, R_p: np.ndarray, svc: Service, mix: tuple | None = None):
    """(rate, user, utilisation) of ``mode`` for decode rates ``R_d`` and per-user speeds ``r_u`` with
    the partners' prefill rates ``R_p`` (units x 1); the utilisation of a prefill GPU: disaggregated,
    the pool planned at :data:`.prefill.UTILISATION`, aggregated 1.  ``mix``: aggregated serving's
    (rate, user, ok, ...) in mixed steps (:func:`.mixed.at`), taken where ``ok`` (the unit's framework mixes and
    a chunk keeps pace and meets the TTFT limit)."""
    util = prefill.UTILISATION if mode == "disagg" else 1.0
    safe = np.where(R_p > 0, R_p, 1.0)
    rate, user = mode_rates.mode_rates(mode, R_d, safe, r_u, svc.isl, svc.osl, util)
    if mix is not None and mode == "agg":
        rate, user = np.where(mix[2], mix[0], rate), np.where(mix[2], mix[1], user)
    return rate, user, util


def mixed_point(v: dict, ev: dict, b, svc: Service) -> tuple | None:
    """:func:`.mixed.at` for stacked units ``v`` carrying :func:`.mixed.stack`'s keys, else ``None``."""
    if mixed.PREFIX + "ok" not in v:
        return None
    return mixed.at(v, ev, b, svc.decode_context, svc.isl, svc.osl, svc.cache_hit, svc.ttft_s)


def _rows(v: dict, rows) -> dict:
    """The stacked values of some units (``rows``: indices or a mask)."""
    return {k: a[rows] for k, a in v.items()}


def fastest(units, R_p: np.ndarray, mode: str, svc: Service, batches: np.ndarray, batch: int | None = None,
            partners: tuple | None = None, intake: np.ndarray | None = None):
    """``(unit index, batch index, (R_d, rate, user))`` of the first candidate with the most tokens/s per GPU
    of ``mode`` over ``units`` x ``batches`` (their prefill partners' rates ``R_p``, units x 1) that fits
    in HBM, has a partner and gives every user ``svc.per_user`` tokens/s; ``batch``: that batch only
    (one of ``batches``); ``partners``: the prefill partners (their chunks: aggregated serving in mixed steps,
    :mod:`.mixed`); ``intake``: disaggregated, the decode rate whose prompts' KV the network brings in
    (units x 1, :func:`.kv_network_rates.intake`), which a candidate may not exceed.  ``None`` when no
    candidate does (:func:`.search.best` then says why), and where a unit decodes faster than its ``intake``
    already at one request: the whole grid's network-bound answer (:func:`.kv_network_rates.network_bound`,
    as the planner offers it) is :func:`.search.best`'s then."""
    ctx = svc.decode_context
    cap = np.full_like(R_p, np.inf) if intake is None else intake
    rp_cap = np.concatenate([R_p, cap], axis=1)     # each unit's partner rate and cap, indexed together

    def point(v, b, pc):
        rp, cap = pc[:, :1], pc[:, 1:]
        R_d, r_u, fits, ev = rates_at(v, b, ctx, terms=True)
        mix = mixed_point(v, ev, b, svc) if mode == "agg" else None
        rate, user, _ = mode_point(mode, R_d, r_u, rp, svc, mix)
        # a prefill partner within the limits; mixed steps not late; prompts' KV the network brings in
        ok = fits & (rp > 0) & ~mixed.late(mix) & (R_d <= cap)
        return (ok if svc.per_user is None else ok & (user >= svc.per_user)), rate, R_d, user

    v = step.stack(units)
    if intake is not None and np.any(rates_at(v, np.ones((1, 1, 1)), ctx)[0] > intake):
        return None
    if mode == "agg" and partners is not None:   # a framework that mixes prompt chunks into decode steps
        v.update(mixed.stack(units, partners) or {})
    if batch is not None:                              # one batch: one point per unit
        ok, rate, _, _ = point(v, np.full((1, 1, 1), float(batch)), rp_cap)
        top = np.where(ok[:, 0], rate[:, 0], -1.0)
    else:
        top = np.full(len(units), -1.0)
        whole = np.array([u.values["curved"] for u in units]) > 0   # measured kernel rates: the whole grid
        if not whole.all():
            rows = np.flatnonzero(~whole)
            top[rows], bent = _search(point, _rows(v, rows), rp_cap[rows], batches)
            whole[rows[bent]] = True
        if whole.any():
            ok, rate, _, _ = point(_rows(v, whole), batches.reshape(1, -1, 1), rp_cap[whole])
            top[whole] = np.max(np.where(ok, rate, -1.0), axis=1)
    best = float(np.max(top))
    if not 0 <= best < np.inf:          # none feasible (or a rate that is not a number: the grid decides)
        return None
    close = np.flatnonzero(top >= best * (1 - CLOSE))     # their whole rows, compared as the grid compares them
    ok, rate, R_d, user = point(_rows(v, close), batches.reshape(1, -1, 1), rp_cap[close])
    if batch is not None:
        ok = ok & (batches == batch).reshape(1, -1)
    i, j = np.unravel_index(int(np.argmax(np.where(ok, rate, -1.0))), rate.shape)
    return int(close[i]), int(j), (float(R_d[i, j]), float(rate[i, j]), float(user[i, j]))


def _search(point, v: dict, R_p: np.ndarray, batches: np.ndarray):
    """Each unit's rate at its last feasible batch (-1: none; a lower bound for a unit the search drops),
    and whether the probed batches show it not monotone (a feasible batch after an infeasible one, or a
    rate that does not rise): those units are left to the whole grid.  Round by round (:data:`STRIDES`)
    the probes split the bracket above the last feasible batch found so far; a unit whose rate at the
    first infeasible probe above it (more than any feasible batch of the bracket reaches) is below the
    best rate found is dropped."""
    n, size = R_p.shape[0], batches.size
    last = np.full(n, -1)                      # index of the last batch known to be feasible (-1: none yet)
    top = np.full(n, -1.0)                     # the rate there
    cap = np.full(n, np.inf)                   # the rate at the first batch known infeasible above it
    bent = np.zeros(n, dtype=bool)
    act = np.arange(n)                         # the units still searched
    span = size + 1                            # the bracket (last, last + span) holds the last feasible batch
    for stride in STRIDES:
        steps = np.arange(1, -(-span // stride)) * stride     # offsets of the probes inside the bracket
        if not steps.size:             # a bracket narrower than this round's stride (a short grid): the next round
            continue
        idx = last[act, None] + steps
        inside = idx < size
        ok, rate, _, _ = point(v if act.size == n else _rows(v, act), batches[np.minimum(idx, size - 1)][..., None],
                               R_p[act])
        ok &= inside
        k = ok.sum(axis=1)
        rows, j = np.arange(act.size), np.maximum(k - 1, 0)
        b = ~(ok == (np.arange(steps.size) < k[:, None])).all(axis=1)              # feasible: a prefix
        b |= np.any(ok[:, 1:] & (np.diff(rate, axis=1) <= 0), axis=1)              # rising along it
        b |= (k > 0) & (last[act] >= 0) & (rate[:, 0] <= top[act])                 # and from the bracket's start
        found = k > 0
        top[act] = np.where(found, rate[rows, j], top[act])
        last[act] = np.where(found, idx[rows, j], last[act])
        first_out = np.minimum(k, steps.size - 1)                                  # the first infeasible probe
        over = (k < steps.size) & inside[rows, first_out]
        cap[act] = np.where(over, rate[rows, first_out], cap[act])
        bent[act] = b
        act = act[~b & (cap[act] >= top.max())]
        span = stride
    return top, bent
