"""Pool plans, the numbers of :mod:`.pools` (no sympy): a floor of reserved units and an on-demand
burst per pool, the cost-minimising floor for a load profile."""
from __future__ import annotations

import numpy as np

from inference_arithmetic.core.errors import InputError

__all__ = ["floor_burst", "CHUNK_ELEMENTS"]

#: Largest (rows x reserve candidates x samples) array evaluated at once (memory bound).
CHUNK_ELEMENTS = 4_000_000
_EPS = 1e-9


def floor_burst(demand, shape, cap_f, price_f, cap_b, price_b) -> dict:
    """The cheapest floor of whole units under a burst of whole units, for each row.

    ``demand``: mean tokens/s of each row's pool; ``shape``: the load profile (equal-time samples,
    mean 1); ``cap_f``/``cap_b``: tokens/s of one floor / burst unit; ``price_f``/``price_b``: USD per
    unit-hour (``inf`` price_f: no floor can be bought).  The burst runs
    ``ceil(max(D(t) - r C_f, 0) / C_b)`` units, at least one while the floor is empty.  The reserve
    ``r`` is the cost-minimising whole number: the quantile rule of :data:`.pools.exceed_target_cross` on
    the sampled load, checked against its neighbours, no floor, and a floor for the peak (ties:
    the smaller floor).

    Returns arrays by row: ``reserve`` (units), ``burst_mean`` and ``burst_peak`` (units),
    ``usd_per_h``, ``floor_served`` (mean tokens/s the floor serves).
    """
    D = np.asarray(demand, dtype=float).reshape(-1)
    cf, pf, cb, pb = (np.broadcast_to(np.asarray(x, dtype=float), D.shape) for x in (cap_f, price_f, cap_b, price_b))
    s = np.sort(np.asarray(shape, dtype=float).reshape(-1))
    if s.size == 0 or np.any(s < 0) or np.any(D < 0) or np.any(cf <= 0) or np.any(cb <= 0) or np.any(pb <= 0):
        raise InputError("a pool needs a non-negative demand and profile, positive capacities and prices")
    out = {k: np.zeros(D.shape) for k in ("reserve", "burst_mean", "burst_peak", "usd_per_h", "floor_served")}
    rows = max(1, CHUNK_ELEMENTS // (6 * s.size))
    for a in range(0, D.size, rows):
        sl = slice(a, a + rows)
        for k, v in _floor_burst(D[sl], s, cf[sl], pf[sl], cb[sl], pb[sl]).items():
            out[k][sl] = v
    return out


def _floor_burst(D, s, cf, pf, cb, pb) -> dict:
    L = D[:, None] * s[None, :]                                   # load over the day, sorted by level
    can = np.isfinite(pf)
    pf0 = np.where(can, pf, 0.0)
    ratio = np.where(can, (pf0 / cf) / (pb / cb), np.inf)
    q = np.clip(np.ceil((1 - np.minimum(ratio, 1.0)) * s.size).astype(int) - 1, 0, s.size - 1)
    r_c = L[np.arange(D.size), q] / cf                            # the quantile rule, in floor units
    top = np.ceil(L[:, -1] / cf - _EPS)
    cand = np.stack([np.zeros_like(r_c), np.floor(r_c) - 1, np.floor(r_c), np.ceil(r_c), np.ceil(r_c) + 1, top], axis=1)
    cand = np.where((ratio < 1)[:, None] & can[:, None], np.maximum(cand, 0.0), 0.0)
    cand = np.sort(cand, axis=1)                                  # ascending: ties go to the smaller floor
    k = np.subtract(L[:, None, :], (cand * cf[:, None])[:, :, None])   # the load the floor leaves, then burst
    np.maximum(k, 0.0, out=k)                                           # units (in place: one array, not five)
    k /= cb[:, None, None]
    k -= _EPS
    np.ceil(k, out=k)
    empty = cand == 0                                             # at least one unit runs while the floor is empty
    k[empty] = np.maximum(k[empty], 1.0)
    cost = pf0[:, None] * cand + pb[:, None] * k.mean(axis=2)
    i = np.argmin(cost, axis=1)
    rows = np.arange(D.size)
    r, kb = cand[rows, i], k[rows, i]
    return {"reserve": r, "burst_mean": kb.mean(axis=1), "burst_peak": kb.max(axis=1), "usd_per_h": cost[rows, i],
            "floor_served": np.minimum(L, (r * cf)[:, None]).mean(axis=1)}
