"""The KV network rules of :mod:`.kv_network` as numbers, from their generated functions
(:mod:`inference_arithmetic.core.fast`: no sympy): the one use of them for ``serve`` and the planner."""
from __future__ import annotations

import numpy as np

from inference_arithmetic.core import fast
from inference_arithmetic.model import kv_bytes as kv
from inference_arithmetic.serving import mode_rates

__all__ = ["kv_per_token", "cached_tokens", "intake", "transfer_s", "output_cap", "carried", "partners",
           "no_partner", "network_bound"]


def kv_per_token(m, units) -> np.ndarray:
    """KV-cache bytes per token of each decode unit's KV dtype (B/token), units x 1."""
    per = {d: kv.kv_bytes_per_token(m, d) for d in {u.layout.precision.kv for u in units}}
    return np.array([per[u.layout.precision.kv] for u in units], dtype=float).reshape(-1, 1)


def cached_tokens(m, isl: float) -> float:
    """``L_kv``: the whole-cache tokens of KV a prompt of ``isl`` tokens leaves (``isl``, fewer with sliding
    windows: a windowed layer keeps the last window's tokens), :func:`.kv_bytes.effective_context`."""
    return float(kv.effective_context(m, isl, read=False))


def intake(m, g, isl: float, osl: float, units, S_kv: np.ndarray | None = None) -> np.ndarray:
    """:data:`.kv_network.kv_intake_rate` of each decode unit on GPU ``g`` (output tokens/s per GPU),
    units x 1: each GPU of an attention instance takes in the share of a token's KV it holds.  ``S_kv``:
    :func:`kv_per_token` of the units, where the caller has it."""
    T = np.array([[u.layout.attn_tp, u.values["T_kv"]] for u in units], dtype=float).reshape(-1, 2)
    S_kv = kv_per_token(m, units) if S_kv is None else S_kv
    return fast.kv_intake_rate(L_kv=cached_tokens(m, isl), L_o=osl, BW_so=g.scale_out, S_kv=S_kv, T_a=T[:, :1],
                               T_kv=T[:, 1:])


def transfer_s(m, isl: float, S_kv, bw):
    """:data:`.kv_network.kv_transfer_time` (s) of a prompt of ``isl`` tokens of model ``m`` at ``S_kv``
    B/token over ``bw`` B/s."""
    return fast.kv_transfer_time(L_kv=cached_tokens(m, isl), S_kv=S_kv, BW_so=bw)


def output_cap(m, isl: float, S_kv, bw):
    """:data:`.kv_network.kv_output_rate`: the input tokens/s of prompts of ``isl`` tokens whose KV at ``S_kv``
    B/token a prefill GPU's network of ``bw`` B/s carries out."""
    return fast.kv_output_rate(L_i=isl, L_kv=cached_tokens(m, isl), BW_so=bw, S_kv=S_kv)


def carried(m, isl: float, R_p, S_kv, bw):
    """Whether a prefill GPU's KV output at ``R_p`` input tokens/s fits its network (:func:`output_cap`)."""
    return R_p <= output_cap(m, isl, S_kv, bw)


def partners(m, g, isl: float, ttft_s: float | None, units, pool: dict, none: tuple,
             S_kv: np.ndarray | None = None) -> tuple:
    """Each decode unit's disaggregated prefill partner on GPU ``g``: of the prefill units ``pool``
    (``{(unit size, MoE dtype): (input tokens/s per GPU, TTFT s, layout, chunk, fastest TTFT s)}``, in the
    search's order) the fastest of the decode unit's MoE dtype whose KV output the network carries
    (:func:`carried`) and whose TTFT with the prompt's KV transfer (:func:`transfer_s`, at the decode
    unit's KV dtype) meets ``ttft_s``; ``none`` where no unit is so.  ``S_kv``: :func:`kv_per_token`."""
    S_kv = (kv_per_token(m, units) if S_kv is None else S_kv)[:, 0]
    best: dict = {}
    for moe, s in zip((u.layout.precision.moe for u in units), S_kv):
        if (moe, s) not in best:
            x = transfer_s(m, isl, s, g.scale_out)
            ok = (p for k, p in pool.items() if k[1] == moe and carried(m, isl, p[0], s, g.scale_out)
                  and (ttft_s is None or p[1] + x <= ttft_s))
            best[moe, s] = max(ok, key=lambda p: p[0], default=None) or none
    return tuple(best[u.layout.precision.moe, s] for u, s in zip(units, S_kv))


def no_partner(m, g, isl: float, ttft_s: float | None, units, pool: dict) -> str:
    """The one-line refusal where prefill units exist (``pool`` as in :func:`partners`) but no decode unit
    has a disaggregated partner: the prompt's KV transfer passes the TTFT limit, or every prefill unit writes
    KV faster than its network carries out."""
    S_kv = float(np.min(kv_per_token(m, units)))
    x, bw = float(transfer_s(m, isl, S_kv, g.scale_out)), f"{g.scale_out / 1e9:,.0f} GB/s per GPU"
    live = [p for p in pool.values() if p[0] > 0]
    kept = [p for p in live if carried(m, isl, p[0], S_kv, g.scale_out)]
    if ttft_s is not None and kept:
        # the prefill's chunk is its fastest within the limit alone (the planner's prefill options are the same)
        return (f"no disaggregated prefill on {g.key} meets TTFT {ttft_s:g} s with the prompt's KV transfer: the "
                f"prefill units within the limit take {min(p[1] for p in kept):.2f} s or more at the chunk of their "
                f"best rate, and the KV {x:.2f} s more to cross the scale-out network ({bw})")
    top = max((p[0] for p in live), default=0.0)
    return (f"every prefill unit of {m.name} on {g.key} writes KV faster than its scale-out network ({bw}) "
            f"carries it to a decode GPU: {top:,.0f} input tok/s per GPU, the network carries "
            f"{float(output_cap(m, isl, S_kv, g.scale_out)):,.0f}")


def network_bound(ok: np.ndarray, R_d: np.ndarray, cap: np.ndarray, R_p: np.ndarray, batches: np.ndarray,
                  isl: float, osl: float, util: float):
    """The fastest network-bound point of a disaggregated grid (layouts x batches): ``ok`` where a point fits,
    has a prefill partner and meets the per-user floor, ``R_d`` its decode rate, ``cap`` each layout's
    :func:`intake` (layouts x 1), ``R_p`` its partner's prefill rate (layouts x 1).  A layout whose every
    ``ok`` batch decodes faster than its network brings prompts' KV in runs at the network's rate, at its
    first such batch, holding fewer requests on average (Little's law: that batch times the network's rate
    over the batch's decode rate).  ``(layout, batch index, output tokens/s per GPU, decode rate, mean
    batch)``, or ``None`` where no layout is so."""
    bound = np.flatnonzero(ok.any(axis=1) & ~(ok & (R_d <= cap)).any(axis=1))
    if not bound.size:
        return None
    j = np.argmax(ok[bound], axis=1)
    rate = mode_rates.mode_rates("disagg", cap[bound, 0], R_p[bound, 0], 0.0, isl, osl, util)[0]
    k = int(np.argmax(rate))
    i, jk = int(bound[k]), int(j[k])
    return i, jk, float(rate[k]), float(cap[i, 0]), float(batches[jk] * cap[i, 0] / R_d[i, jk])
