"""The best deployment of one GPU type in one serving mode: a search over layouts.

For a workload of ``isl`` input and ``osl`` output tokens per request and a per-user speed
floor (or none: the most throughput), every candidate layout is evaluated on the step
model, over all batch sizes at once; the best is the one with the most output tokens per
second per GPU, every GPU (prefill and decode) counted.

Candidates: expert-parallel units from one GPU's NVLink domain up to 288 GPUs, attention
data-parallel or tensor-parallel over a node's 8 GPUs, the book's defaults for redundant
experts and micro-batches.  Prefill runs on the smallest multi-node unit or the NVLink
domain, whichever is faster.
"""
from __future__ import annotations

import numpy as np

from . import operating, prefill, serving, step
from .catalog import GPU, Model
from .errors import InputError
from .step import Precision, _fast

__all__ = ["decode_layouts", "prefill_layouts", "best"]

_EP_SIZES = (8, 16, 32, 36, 48, 64, 72, 128, 144, 256, 288)


def decode_layouts(m: Model, g: GPU, precision: Precision, mtp: int = 0) -> list[step.Layout]:
    """Candidate decode layouts for ``g``: EP units of at least one node, attention DP or TP8."""
    out = []
    for ep in _EP_SIZES:
        if ep < min(8, g.nvlink_domain) or (ep % 8 and ep % g.nvlink_domain):
            continue
        for attn_tp in (1, 8):
            try:
                out.append(step.layout_for(m, g, ep, attn_tp=attn_tp, mtp=mtp, precision=precision))
            except InputError:
                continue
    return out


def prefill_layouts(m: Model, g: GPU, precision: Precision) -> list[step.Layout]:
    """Candidate prefill layouts: EP8 to EP64 with data-parallel attention."""
    pre = Precision(moe=precision.moe, attn=precision.attn, kv=precision.kv)
    return [step.layout_for(m, g, ep, precision=pre) for ep in (8, 16, 32, 64, 72) if ep % 8 == 0 or ep == g.nvlink_domain]


def _best_prefill(m, g, precision, isl, cached):
    best = None
    for L in prefill_layouts(m, g, precision):
        try:
            u = prefill.prefill_unit(m, g, L)
            out = prefill.prefill(u, isl, cached)
        except InputError:
            continue
        if not step.fits(u, 0.0, 0.0):
            continue
        rate = float(out["input_tokens_per_s_per_gpu"])
        if best is None or rate > best[0]:
            best = (rate, L, float(out["ttft_s"]))
    if best is None:
        raise InputError(f"no prefill layout fits the model's weights on {g.key}")
    return best


def best(m: Model, g: GPU, *, mode: str, isl: float, osl: float, per_user: float | None,
         precision: Precision, mtp: int = 0, cached: float = 0.0) -> dict:
    """The highest output tokens/s per GPU (all GPUs counted) meeting ``per_user`` (None: any).

    Returns the rates, TTFT, the prefill:decode GPU ratio (0 for aggregated) and both layouts.
    """
    if mode not in ("agg", "disagg"):
        raise InputError(f"mode must be agg or disagg, got {mode!r}")
    R_p, L_p, ttft = _best_prefill(m, g, precision, isl, cached)
    ctx = isl + osl / 2
    winner = None
    for L in decode_layouts(m, g, precision, mtp):
        try:
            u = step.unit(m, g, L)
        except InputError:
            continue
        fr = operating.frontier(u, ctx)
        if fr is None:
            continue
        R_d, r_u = fr["tokens_per_s_per_gpu"], fr["tokens_per_s_per_user"]
        if mode == "disagg":
            rate = _fast(serving.disagg_rate, R_d=R_d, R_p=R_p, L_i=isl, L_o=osl)
            user = r_u
        else:
            pu = prefill.prefill_unit(m, g, step.Layout(**{**L.__dict__, "mtp": 0}))
            R_pa = float(prefill.prefill(pu, isl, cached)["input_tokens_per_s_per_gpu"])
            rate = _fast(serving.agg_rate, R_d=R_d, R_p=R_pa, L_i=isl, L_o=osl)
            user = _fast(serving.agg_user_rate, r_d=r_u, R_d=R_d, R_p=R_pa, L_i=isl, L_o=osl)
        ok = np.ones_like(rate, dtype=bool) if per_user is None else user >= per_user
        if not ok.any():
            continue
        i = int(np.argmax(np.where(ok, rate, -1.0)))
        cand = float(rate[i])
        if winner is None or cand > winner["tokens_per_s_per_gpu"]:
            ratio = 0.0 if mode == "agg" else float(_fast(serving.pd_ratio, R_d=R_d[i], R_p=R_p, L_i=isl, L_o=osl))
            winner = {"tokens_per_s_per_gpu": cand, "tokens_per_s_per_user": float(user[i]),
                      "ttft_s": ttft, "prefill_gpus_per_decode_gpu": ratio,
                      "batch_per_instance": float(fr["batch"][i]),
                      "decode_tokens_per_s_per_gpu": float(R_d[i]), "prefill_tokens_per_s_per_gpu": R_p,
                      "layout": _describe(L), "prefill_layout": _describe(L_p)}
    if winner is None:
        raise InputError(f"no layout on {g.key} reaches {per_user:g} tok/s per user in {mode} mode "
                         f"at ISL {isl:g} / OSL {osl:g}")
    return winner


def _describe(L: step.Layout) -> dict:
    return {"ep": L.ep, "attn": "tp" if L.attn_tp > 1 else "dp", "attn_tp": L.attn_tp, "moe_tp": L.moe_tp,
            "redundant": L.redundant, "micro_batches": L.micro_batches, "mtp": L.mtp,
            "moe_dtype": L.precision.moe, "attn_dtype": L.precision.attn, "kv_dtype": L.precision.kv}
