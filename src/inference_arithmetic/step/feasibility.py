"""Can this layout be built?  The one place that checks a layout against its model and GPU.

Every command, the planner's search and :func:`.step.unit` read these rules; each is a plain
function returning ``None`` when the rule holds, else one line naming the rule and the nearest
valid value.  :func:`layout_error` applies the structural rules in order and :func:`check_layout`
raises the first as an :class:`~inference_arithmetic.core.errors.InputError`; :func:`hbm_error`
is the memory rule (weights, KV caches, all-to-all buffers and the runtime reserve within HBM),
evaluated at a batch and a context because it depends on them.

Where a rule needs a divisor, "nearest" is the closest valid value, the smaller one on a tie.
"""
from __future__ import annotations

import numpy as np

from inference_arithmetic.core.errors import InputError
from inference_arithmetic.core.rounding import decimals_apart
from inference_arithmetic.hardware.gpus import GPU, vendor
from inference_arithmetic.model.config import Model
from inference_arithmetic.model.dtypes import MX_BLOCK, dense_flop_dtype
from inference_arithmetic.step.layout import (HBM_RESERVE_SHARE, Layout, default_redundant, dense_slice_error,
                                              divisors, nearest, redundant_experts)
from inference_arithmetic.core import fast
from inference_arithmetic.step.memory import max_batch, memory, memory_values

__all__ = ["attention_heads_error", "expert_slots_error", "expert_slice_error", "overlap_error", "mtp_error",
           "pipeline_error", "layout_error",
           "check_layout", "hbm_error", "mx_block_error", "dense_dtype_error", "weights_room_error", "smallest_ep",
           "default_redundancy_note", "nearest", "MAX_EP"]

#: Largest deployment unit (GPUs) a layout may name (:class:`.layout.Layout`'s own limit).
MAX_EP = 4096


def attention_heads_error(model: Model, attn_tp: int, ep: int | None = None) -> str | None:
    """Attention heads split whole over the attention TP degree: ``n_heads`` (heads) divisible by
    ``attn_tp`` (GPUs per attention instance).  The nearest valid TP divides the heads (and, when
    ``ep`` GPUs are given and one exists near it, the unit as well)."""
    if attn_tp <= 1 or model.n_heads % attn_tp == 0:
        return None
    heads = divisors(model.n_heads)
    best = nearest(heads, attn_tp)
    note = "" if ep is None or ep % best == 0 else f" (with EP a multiple of {best})"
    return (f"attention heads: {model.name}'s {model.n_heads} attention heads do not split over attention TP "
            f"{attn_tp}; nearest valid attention TP: {best}{note}")


def expert_slots_error(model: Model, ep: int, redundant: int, moe_tp: int = 1, attn_tp: int | None = None) -> str | None:
    """Whole experts on every GPU: the ``n_experts + redundant`` expert slots (experts) fill the
    ``ep / moe_tp`` expert-parallel GPUs evenly, none left empty; redundant copies need expert
    parallelism and are at most the routed experts (one spare copy of each, on average: more is
    several units, not one); a dense model has no experts to split: a unit of several GPUs is
    tensor-parallel (attention TP over the whole unit, ``attn_tp == ep``)."""
    moe_ep = max(ep // max(moe_tp, 1), 1)
    n = model.n_experts
    if n == 0:
        if redundant and ep == 1:
            return (f"redundant experts: {model.name} is dense, with no routed experts to copy; "
                    f"nearest valid: 0 redundant experts")
        if redundant or (ep > 1 and attn_tp != ep):
            # tensor parallelism over the unit needs the heads to split over its GPUs (else the nearest unit they do)
            tp = ep if model.n_heads % ep == 0 else nearest(divisors(model.n_heads), ep)
            over = (f"attention TP {ep} over the unit" if tp == ep else
                    f"a unit of {tp} GPUs with attention TP {tp} over it ({model.n_heads} heads)")
            return (f"expert parallelism: {model.name} has no routed experts to split over EP {ep} "
                    f"or to copy; nearest valid: EP 1, or tensor parallelism, {over}, 0 redundant experts")
        return None
    if redundant and moe_ep == 1:
        return ("redundant experts need more than one expert-parallel GPU; nearest valid: 0 redundant experts"
                + (f" at EP {ep}" if ep > 1 else ""))
    if redundant > n:
        top = min(2 * n * moe_tp, MAX_EP)
        # n copies is a fix only where their slots fill this unit's expert-parallel GPUs evenly
        alt = f"{redundant_experts(n)}, or " if expert_slots_error(model, ep, n, moe_tp, attn_tp) is None else ""
        return (f"redundant experts: {redundant} redundant copies exceed {model.name}'s {n} routed experts "
                f"(at most one spare copy of each); nearest valid: {alt}EP {min(ep, top)} "
                f"or fewer with the default redundancy")
    slots = n + redundant
    if slots < moe_ep:
        up = moe_ep - n
        alt = f"{redundant_experts(up)}, or " if up <= n else ""
        return (f"expert slots: {slots} expert slots ({n} routed + {redundant} redundant) cannot fill "
                f"{moe_ep} expert-parallel GPUs (a GPU would hold no expert); nearest valid: {alt}EP "
                f"{slots * moe_tp}")
    if slots % moe_ep:
        options = [r for r in (redundant - slots % moe_ep, redundant + (-slots) % moe_ep) if 0 <= r <= n]
        eps = [d * moe_tp for d in divisors(slots) if d * moe_tp <= MAX_EP]
        fit = [e for e in eps if not attn_tp or e % attn_tp == 0]     # units the attention TP also divides
        red = redundant_experts(nearest(options, redundant)) if options else ""
        unit = f"EP {nearest(fit or eps, ep)}" if fit or not red else ""
        return (f"whole experts per GPU: {slots} expert slots ({n} routed + {redundant} redundant) do not split "
                f"evenly over {moe_ep} expert-parallel GPUs; nearest valid: "
                + ", or ".join(x for x in (red, unit) if x))
    return None


def expert_slice_error(model: Model, moe_tp: int, ep: int | None = None) -> str | None:
    """Each routed expert split whole over MoE TP: ``moe_intermediate_size`` (columns of the
    expert's FFN) divisible by ``moe_tp`` (GPUs per expert); the nearest valid degree also divides the
    unit's ``ep`` GPUs where they are given."""
    if moe_tp > 1 and not model.is_moe:
        return dense_slice_error(model, moe_tp)
    if moe_tp <= 1 or model.d_e % moe_tp == 0:
        return None
    best = nearest([d for d in divisors(model.d_e) if ep is None or ep % d == 0], moe_tp)
    return (f"expert slices: {model.name}'s expert width {model.d_e} (moe_intermediate_size) does not split "
            f"over MoE TP {moe_tp}; nearest valid MoE TP: {best}")


def mtp_error(model: Model, mtp: int) -> str | None:
    """MTP draft tokens (tokens per step) only with the model's own MTP module(s):
    ``num_nextn_predict_layers`` > 0 (``Model.n_mtp``); the step model has no external draft model."""
    if mtp <= 0 or model.n_mtp > 0:
        return None
    return (f"MTP: {model.name} has no MTP module (num_nextn_predict_layers 0) to draft {mtp} token(s) per step; "
            f"nearest valid: MTP 0")


def mx_block_error(model: Model, moe_dtype: str) -> str | None:
    """MXFP4 experts in whole scale blocks: both reduction dimensions of an expert's GEMMs (the
    hidden size for gate/up, the expert width for down) multiples of :data:`.dtypes.MX_BLOCK` (32
    values share one E8M0 scale, OCP MX v1.0); a checkpoint that breaks it cannot be stored in
    MXFP4.  Slices under MoE TP that cut a block (gpt-oss's 2,880 columns over 8 GPUs: 360) are
    padded to whole blocks by the serving frameworks (a cost the step model does not count), so
    every MoE TP degree is allowed."""
    if moe_dtype != "mxfp4" or not model.is_moe:
        return None
    for what, n in (("hidden size", model.h), ("expert width (moe_intermediate_size)", model.d_e)):
        if n % MX_BLOCK:
            return (f"MXFP4 experts: {model.name}'s {what} {n} is not a multiple of the {MX_BLOCK}-value MXFP4 "
                    f"scale block; nearest valid: --moe-dtype fp8")
    return None


def dense_dtype_error(gpu: GPU, dense: str) -> str | None:
    """NVFP4 dense weights need FP4 tensor cores taking NVIDIA's format (an FP8 scale per 16 values):
    a Blackwell GPU; on Hopper (no FP4 tensor cores) and AMD (whose FP4 takes the OCP MX formats) the
    step model has no NVFP4 dense kernel."""
    if dense != "nvfp4":
        return None
    if dense_flop_dtype(dense, gpu.dense_fp4 is not None) is None:
        return (f"{gpu.key} has no FP4 tensor cores: NVFP4 dense weights need a Blackwell GPU; "
                f"nearest valid: --dense-dtype fp8")
    if vendor(gpu.key) != "NVIDIA":
        return f"{gpu.key}: NVFP4 is NVIDIA's format (an FP8 scale per 16 values); nearest valid: --dense-dtype fp8"
    return None


def pipeline_error(model: Model, pp: int) -> str | None:
    """A pipeline of ``pp`` stages needs a layer for every stage."""
    if pp <= model.n_layers:
        return None
    return (f"{model.name}: {pp} pipeline stages need at least {pp} layers, it has {model.n_layers}; "
            f"nearest valid: --pp {model.n_layers}")


def overlap_error(model: Model, layout: Layout) -> str | None:
    """Two micro-batches (``micro_batches`` 2) on a unit of one GPU, where there is no communication for one
    micro-batch's compute to hide, or expert load balancing (``eplb``) where no expert is placed: a dense model,
    or one GPU holding every expert."""
    if layout.micro_batches == 2 and layout.ep == 1 and layout.pp == 1:
        return ("micro-batches: two micro-batches overlap one's compute with the other's communication, and a unit "
                "of one GPU has none; nearest valid: --micro-batches 1")
    if layout.eplb and (not model.is_moe or layout.ep == 1):
        what = f"{model.name} is dense" if not model.is_moe else "one GPU holds every expert"
        return f"expert load balancing: {what}, so there are no experts to place; leave --eplb out"
    return None


def layout_error(model: Model, gpu: GPU, layout: Layout, phase: str = "decode") -> str | None:
    """The first structural rule ``layout`` breaks for ``model`` on ``gpu`` (attention heads,
    expert slots, expert slices, MTP, MXFP4 scale blocks, NVFP4 dense weights on the GPU), or ``None`` when it
    can be built.  ``phase`` is part of the signature so that every caller asks the same question."""
    del phase   # the structural rules are the same in both phases
    return (attention_heads_error(model, layout.attn_tp, layout.ep)
            or expert_slots_error(model, layout.ep, layout.redundant, layout.moe_tp, layout.attn_tp)
            or expert_slice_error(model, layout.moe_tp, layout.ep)
            or mtp_error(model, layout.mtp)
            or pipeline_error(model, layout.pp)
            or mx_block_error(model, layout.precision.moe)
            or dense_dtype_error(gpu, layout.precision.dense)
            or overlap_error(model, layout))         # last: a pinned overlap is the cause only where the rest holds


def check_layout(model: Model, gpu: GPU, layout: Layout, phase: str = "decode") -> None:
    """Raise :class:`InputError` with :func:`layout_error`'s line when ``layout`` cannot be built."""
    why = layout_error(model, gpu, layout, phase)
    if why:
        raise InputError(why)


def weights_room_error(name: str, gpu: GPU, weights: float, where: str = "", hint: str = "") -> str | None:
    """Resident weights (bytes per GPU) within the HBM left after the runtime reserve
    (:data:`.layout.HBM_RESERVE_SHARE` of the GPU's HBM), else one line with ``hint`` (the nearest
    valid value) appended."""
    reserve = HBM_RESERVE_SHARE * gpu.hbm_capacity
    room = gpu.hbm_capacity - reserve
    if weights <= room:
        return None
    d = decimals_apart(weights / 1e9, room / 1e9)      # 135.71 GB over 135.70 GB, not 135.7 over 135.7
    return (f"{name} on {gpu.key}{where} does not fit (HBM): {weights / 1e9:,.{d}f} GB of weights per GPU exceed the "
            f"{room / 1e9:,.{d}f} GB left after the {reserve / 1e9:,.1f} GB runtime reserve" + (f"; {hint}" if hint else ""))


def smallest_ep(model: Model, gpu: GPU, weights_at, per_request: float = 0.0, least: int = 1, multiple: int = 1,
                moe_tp: int = 1) -> int | None:
    """The smallest unit (GPUs) of at least ``least``, a multiple of ``multiple``, that passes the
    expert rules with the default redundancy and holds its weights (``weights_at(eps, redundant)``:
    bytes per GPU for arrays of unit sizes and redundant experts) and ``per_request`` bytes of one
    request next to the runtime reserve; ``None`` when no unit up to :data:`MAX_EP` does."""
    n = model.n_experts
    eps = np.arange(max(least, multiple), MAX_EP + 1, multiple) if n else np.array([max(least, 1)])
    moe_ep = eps // moe_tp
    red = np.where(moe_ep > 1, (-n) % moe_ep, 0) if n else np.zeros_like(eps)
    ok = (red <= n) & (n + red >= moe_ep) if n else np.ones(eps.shape, bool)
    free = gpu.hbm_capacity * (1 - HBM_RESERVE_SHARE) - np.asarray(weights_at(eps.astype(float), red.astype(float)))
    good = eps[ok & (free - per_request >= 0)]
    return int(good[0]) if good.size else None


def default_redundancy_note(model: Model, ep: int, moe_tp: int, redundant: int) -> str:
    """What :func:`smallest_ep`'s answer assumes where a pinned redundant-expert count differs from it: ``" with
    the default N redundant experts"`` (its units take the default redundancy), else nothing."""
    default = default_redundant(model, max(ep // max(moe_tp, 1), 1)) if model.n_experts else 0
    return "" if redundant == default else f" with the default {redundant_experts(default)}"


def _smallest_ep_that_fits(u, ctx: float) -> int | None:
    """:func:`smallest_ep` for a unit's model, GPU and TP degrees, with one ``ctx``-token request."""
    L = u.layout
    return smallest_ep(u.model, u.gpu, lambda eps, red: fast.weights_resident_of(dict(u.values, N_ep=eps, E_red=red)),
                       per_request=ctx * u.values["S_kv"], least=L.ep, multiple=int(np.lcm(L.attn_tp, L.moe_tp)),
                       moe_tp=L.moe_tp)


def hbm_error(u, batch, ctx, what: str = "requests") -> str | None:
    """Weights + KV caches + all-to-all buffers + runtime reserve within HBM (bytes per GPU) for
    ``batch`` ``what`` per attention instance of ``ctx`` tokens each (numbers or arrays: every
    element must fit), the rule of every phase; else one line naming the bytes and the nearest
    valid value (the most that fit, or the smallest EP whose weights and one request fit)."""
    mem = memory(u, batch, ctx)
    if not np.any(np.asarray(mem["free"]) < 0):
        return None
    ctx_hi = float(np.max(ctx))
    most = int(np.min(max_batch(u, ctx_hi)))
    if most < 1:
        ep = _smallest_ep_that_fits(u, ctx_hi)
        hint = (f"the smallest EP that holds the weights and one {ctx_hi:,.0f}-token request: {ep}"
                f"{default_redundancy_note(u.model, ep, u.layout.moe_tp, u.layout.redundant)}" if ep else
                f"no EP up to {MAX_EP} holds the weights and one {ctx_hi:,.0f}-token request")
        room = weights_room_error(u.model.name, u.gpu, u.weights_resident, f" EP{u.layout.ep}", hint)
        if room:
            return room
        v = memory_values(u)
        return (f"{u.model.name} on {u.gpu.key} EP{u.layout.ep} does not fit (HBM): one {ctx_hi:,.0f}-token "
                f"request's {ctx_hi * v['S_kv'] / 1e9:,.1f} GB of KV does not fit next to "
                f"{u.weights_resident / 1e9:,.1f} GB of weights and the {HBM_RESERVE_SHARE * v['HBM'] / 1e9:,.1f} "
                f"GB reserve in {v['HBM'] / 1e9:,.0f} GB; {hint}")
    b = float(np.max(batch))
    kv = float(np.max(np.asarray(mem["kv"], dtype=float)))
    buf = float(np.max(np.asarray(mem["buffers"], dtype=float)))
    return (f"{b:g} {what} of {ctx_hi:g} tokens do not fit (HBM): {mem['weights'] / 1e9:.1f} GB weights + "
            f"{kv / 1e9:.1f} GB KV + {buf / 1e9:.1f} GB buffers + {mem['reserve'] / 1e9:.1f} GB reserve > "
            f"{u.gpu.hbm_capacity / 1e9:.0f} GB HBM per GPU; at most {most} fit")
