"""Aggregated serving in mixed steps: prompt chunks and decode tokens in one forward pass.

TensorRT-LLM's in-flight batching and vLLM's scheduler (chunked prefill, on by default in vLLM's
V1 engine) put the context-phase tokens of new requests and the one token of every decoding request
into the same step, under one per-step token budget (``max_num_tokens``, ``max_num_batched_tokens``);
SGLang keeps prefill and decode batches apart unless ``--enable-mixed-chunk`` is set (its default is
off: ``enable_mixed_chunk: bool = False``, python/sglang/srt/server_args.py), and DeepSeek's own
deployment is disaggregated.  :data:`MIXING` names the frameworks whose default is the mixed step.

The rule (:mod:`.modes`' ``mixed_*`` and ``chunk_*`` formulas): every step carries the decode batch
``b``; a share of the steps also carries a prompt chunk of ``K`` tokens, the share that keeps pace with
the requests that finish, ``b a L_new / (L_out K)`` (``a`` output tokens per request and step; more
than 1: the steps cannot keep pace, and the prompts take steps of their own, as in separate steps).
The weights are read once for the batch and the chunk: a chunk step is a decode step of all its
tokens (the chunk as requests of as many query tokens as a decode request has, so every GEMM, expert
and all-to-all runs at the step's whole token count with the decode kernels), whose attention, output
head and drafting are the decode batch's own, plus the chunk's attention in the prefill phase
(:func:`.step.unit` with ``phase="prefill"``, the decode layout without drafts: a chunk attends, on
average, to the cached prefix and half its prompt).  In the search ``K`` is the chunk of :data:`CHUNKS`,
up to the prefill partner's (a chunk whose prefill step fits and meets the TTFT limit alone), with the most
tokens per GPU whose steps keep pace and meet the TTFT limit (:func:`at`, :func:`pick`); in the validation,
what a stated per-step token budget leaves beside the decode batch.  The roofline bound takes chunk steps at
the prefill-phase bound of all their tokens (weights once, every FLOP at peak, no decode KV reads) and decode
steps at theirs: never below the prediction.

The time to first token (``mixed_ttft``) is a prompt's chunk steps, one after another (one step where the
prompt is shorter than a chunk), plus the M/D/1 mean wait of :mod:`.prefill`, the chunk steps the server,
busy in the chunk share of the steps: it grows without bound as that share nears 1.  A candidate whose
time to first token in mixed steps is above a stated limit is not a candidate (the framework mixes; it does
not fall back to steps of their own).

Memory: the decode batch must fit, as in separate steps.  The chunk's activations sit, like every step's, in the
runtime reserve (:data:`.step.layout.HBM_RESERVE_SHARE`), not checked against it; left out is the KV cache of the
prompts in progress beside the decode batch's (at most the chunk steps' prompt tokens).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from inference_arithmetic import step
from inference_arithmetic.core import fast
from inference_arithmetic.core.errors import InputError

__all__ = ["MIXING", "CHUNKS", "mixes", "prefill_phase", "stack", "at", "late", "pick", "one"]

#: the serving frameworks whose scheduler mixes prompt chunks and decode tokens in one step by default
MIXING = ("trtllm", "vllm")
#: the chunk sizes searched, new prompt tokens per GPU per step (the prefill partner's search and the mixed steps')
CHUNKS = (1024.0, 2048.0, 4096.0, 8192.0, 16384.0)
#: the prefix of the prefill-phase values :func:`stack` adds to a stacked decode dictionary
PREFIX = "p:"


def mixes(framework: str) -> bool:
    """True where ``framework``'s default scheduler runs aggregated serving in mixed steps."""
    return framework in MIXING


def prefill_phase(u: step.Unit) -> step.Unit | None:
    """The prefill-phase unit of decode unit ``u``'s layout (no drafts: a prompt chunk does not draft), or
    ``None`` where that layout cannot run a prefill step (the step model's feasibility check refuses it)."""
    try:
        return step.unit(u.model, u.gpu, replace(u.layout, mtp=0), phase="prefill")
    except InputError:
        return None


def stack(units, partners) -> dict | None:
    """The prefill-phase values of ``units`` (:func:`prefill_phase`), stacked as :func:`.step.stack` stacks
    and keyed with :data:`PREFIX`, with ``p:chunk`` the prompt tokens of a chunk step per attention instance
    (each unit's prefill partner's chunk, new tokens per GPU, over the unit's attention instance) and ``p:ok``
    (units, 1, 1): 1 where the unit mixes; ``None`` where none of them does (another framework, or no
    prefill-phase unit).  A unit without one, or without a partner, keeps separate steps."""
    phases = [prefill_phase(u) if mixes(u.layout.framework) and x[3] > 0 else None for u, x in zip(units, partners)]
    some = next((p for p in phases if p is not None), None)
    if some is None:
        return None
    out = {PREFIX + k: a for k, a in step.stack([p or some for p in phases]).items()}
    out[PREFIX + "ok"] = np.array([p is not None for p in phases], dtype=bool).reshape(-1, 1, 1)
    out[PREFIX + "chunk"] = np.array([max(float(x[3]), 1.0) * u.layout.attn_tp for u, x in zip(units, partners)]
                                     ).reshape(-1, 1, 1)
    return out


def _rates(vd: dict, ev_d: dict, vp: dict, batch, chunk, isl: float, osl: float, cached: float,
           bound: bool = True) -> dict:
    """(output tokens/s per GPU, per user, the roofline bound, the share of chunk steps, mean step time, time to
    first token) of
    mixed steps: decode values ``vd`` and their terms ``ev_d`` at ``batch`` requests per attention instance,
    chunks of ``chunk`` prompt tokens per instance, the same layouts' prefill-phase values ``vp`` (for the
    chunk's attention and, with ``bound``, the roofline bound; without it ``bound`` is absent)."""
    L_n = float(fast.prefill_tokens_per_request(isl=isl, f_hit=cached))
    ctx_p = float(fast.prefill_context(isl=isl, f_hit=cached))
    v = {"batch": batch, "s_q": vd["s_q"], "a_acc": vd["accept_tok"], "L_new": L_n, "L_o": osl, "T_a": vd["T_a"],
         "kappa": vd["kappa"], "K_ch": chunk}
    every = fast.mixed_requests_of(v)
    ev_all = step.evaluate(dict(vd, batch=every))                       # every token as decode-phase requests
    ev_p = step.evaluate(dict(vp, batch=chunk / L_n, ctx=ctx_p, s_q=L_n))                     # the chunk
    v.update(t_sm=ev_all["t_step"], t_am=ev_all["t_attn"], t_hm=ev_all["t_head"], t_mm=ev_all["t_mtp"],
             t_ad=ev_d["t_attn"], t_hd=ev_d["t_head"], t_md=ev_d["t_mtp"], t_ap=ev_p["t_attn"], t_dd=ev_d["t_step"])
    share = fast.chunk_share_of(v)
    with np.errstate(divide="ignore", invalid="ignore"):      # a share of 1 or more: no steady queue
        ttft = np.where(share < 1, fast.mixed_ttft_of(v), np.inf)
    out = {"rate": fast.mixed_rate_of(v), "user": fast.mixed_user_rate_of(v), "chunk_share": share,
           "step_s": fast.mixed_step_of(v), "ttft_s": ttft}
    if bound:
        ev_b = step.evaluate(dict(vp, batch=every * vd["s_q"] / L_n, ctx=ctx_p, s_q=L_n))     # all, for the bound
        out["bound"] = fast.mixed_bound_rate_of(dict(v, R_bp=ev_b["bound_tokens_per_s_per_gpu"],
                                                     R_bd=ev_d["bound_tokens_per_s_per_gpu"]))
    return out


def _chunks(top, attn_tp) -> np.ndarray:
    """The chunks of :data:`CHUNKS` (new tokens per GPU) that some unit's partner allows (``top`` new tokens per
    instance over its ``attn_tp`` GPUs); at least the smallest, so that the chunk axis is never empty (a chunk
    above every partner's is refused by :func:`at` anyway)."""
    per_gpu = np.asarray(top, dtype=float) / np.asarray(attn_tp, dtype=float)
    most = float(np.max(per_gpu)) * (1 + 1e-9) if per_gpu.size else 0.0     # no unit left: the smallest
    return np.asarray([c for c in CHUNKS if c <= most] or CHUNKS[:1])


def at(v: dict, ev_d: dict, batch, ctx: float, isl: float, osl: float, cached: float,
       ttft_s: float | None = None) -> tuple:
    """(rate, user, ok, ttft, chunk, late) over stacked units ``v`` (:func:`.step.stack` with :func:`stack`'s
    keys, the chunk of each unit's prefill partner among them) at ``batch`` (shape (1, B, 1) or (units, k, 1))
    and ``ctx`` tokens of decode context, the decode terms ``ev_d`` there: arrays of shape (units, B) as
    :func:`.fastest.rates_at` gives, at the best chunk of :data:`CHUNKS` up to the partner's (:func:`pick`'s
    rule); ``ok`` where the unit mixes and a chunk keeps pace with its prompts (a chunk share of at most 1) and
    meets ``ttft_s``; ``ttft`` the time to first token there (s); ``chunk`` its new tokens per GPU; ``late``
    where chunks keep pace but every one misses ``ttft_s`` (not a candidate)."""
    vp = {k[len(PREFIX):]: a for k, a in v.items() if k.startswith(PREFIX)}
    ok, top = vp.pop("ok"), vp.pop("chunk")
    ks = _chunks(top, v["T_a"])
    k = ks.reshape(1, 1, -1) * np.asarray(v["T_a"], dtype=float)   # every chunk on the last axis,
    r = _rates(dict(v, ctx=ctx), ev_d, vp, batch, k, isl, osl, cached, bound=False)  # new tokens per instance
    fits_pace = (k <= top * (1 + 1e-9)) & (r["chunk_share"] < 1)     # a share of 1: a queue without end
    valid = fits_pace & (True if ttft_s is None else r["ttft_s"] <= ttft_s)
    score = np.where(valid, r["rate"], -np.inf)
    i = np.argmax(score, axis=-1)[..., None]                       # the first of the fastest, as pick takes it
    rate = np.take_along_axis(score, i, axis=-1)
    found = ok & np.isfinite(rate)
    user, ttft = (np.where(found, np.take_along_axis(np.broadcast_to(r[x], score.shape), i, axis=-1), d)
                  for x, d in (("user", 0.0), ("ttft_s", np.inf)))
    chunk = np.where(found, ks[i], np.nan)
    keeps = np.any(fits_pace, axis=-1, keepdims=True)
    return (rate[..., 0], user[..., 0], found[..., 0], ttft[..., 0], chunk[..., 0], (ok & keeps & ~found)[..., 0])


def late(mix: tuple | None):
    """Where :func:`at`'s candidates ``mix`` would run in mixed steps but miss the time to first token at every
    chunk: those are not candidates (the framework mixes; it does not fall back to steps of their own).
    ``False`` where there is nothing to miss (numpy's, whose ``~`` is ``True``: Python's ``~False`` is -1)."""
    return np.False_ if mix is None else mix[5]


def pick(u: step.Unit, batch: float, ctx: float, top: float, isl: float, osl: float, cached: float = 0.0,
         ttft_s: float | None = None) -> dict | None:
    """:func:`at` for one decode unit ``u`` at ``batch`` requests per attention instance, chunks up to ``top`` new
    tokens per GPU (the prefill partner's): ``rate``, ``user`` (tokens/s), ``ttft_s`` and the chunk,
    ``chunk_tokens_per_gpu``; ``None`` where no chunk keeps pace and meets ``ttft_s`` (or the framework does not
    mix): the prompts then take steps of their own."""
    extra = stack([u], [(0.0, np.inf, None, float(top), np.inf)])
    if extra is None:
        return None
    v, b = {**step.stack([u]), **extra}, np.full((1, 1, 1), float(batch))
    rate, user, ok, ttft, chunk, _ = at(v, step.evaluate(dict(v, batch=b, ctx=ctx)), b, ctx, isl, osl, cached, ttft_s)
    if not ok[0, 0]:
        return None
    return {"rate": float(rate[0, 0]), "user": float(user[0, 0]), "ttft_s": float(ttft[0, 0]),
            "chunk_tokens_per_gpu": float(chunk[0, 0])}


def one(u: step.Unit, batch: float, ctx: float, chunk: float, isl: float, osl: float, cached: float = 0.0) -> dict | None:
    """Mixed steps of one decode unit ``u`` at ``batch`` requests per attention instance, ``ctx`` tokens of
    decode context and chunks of ``chunk`` prompt tokens per instance: ``rate``, ``user``, ``bound``
    (tokens/s), ``chunk_share``, ``step_s`` (the mean step), ``ttft_s`` (time to first token, s; infinite where
    the chunk share is 1 or more); ``None`` where ``u``'s framework does not mix
    or its layout has no prefill-phase unit."""
    p = prefill_phase(u) if mixes(u.layout.framework) else None
    if p is None:
        return None
    vd = dict(u.values, batch=float(batch), ctx=float(ctx))
    out = _rates(vd, step.terms(u, float(batch), float(ctx)), dict(p.values), float(batch), float(chunk), isl, osl, cached)
    return {k: float(x) for k, x in out.items()}
