"""The one search over layouts: every candidate deployment of a GPU type evaluated at once.

For a service (request shape, cache hits, per-user floor, TTFT limit) and a GPU type, every
decode layout of the search :class:`Space` (expert-parallel size x attention layout x MoE and KV
precision x MTP draft tokens) is evaluated on the step model at every batch in one vectorised
call, each paired with its prefill partner: disaggregated, the GPU's best prefill unit for the
MoE dtype; aggregated, prefill on the decode layout's own unit size.  Prefill units and chunks
meet the TTFT limit.  The ``serve`` command takes the fastest candidate (:func:`best`, found
at a few batches of each unit by :mod:`.fastest`, the grid's answer); the planner (:mod:`.plan`)
costs every candidate and takes the cheapest.  Both read this one search.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from inference_arithmetic import step
from inference_arithmetic.core.errors import InputError
from inference_arithmetic.core.rounding import decimals_apart
from inference_arithmetic.hardware.gpus import GPU
from inference_arithmetic.model import dtypes
from inference_arithmetic.model.config import Model, context_error
from inference_arithmetic.core import fast
from inference_arithmetic.serving import fastest, kv_network_rates, mixed, mode_rates, prefill_step as prefill
from inference_arithmetic.step import Precision

if TYPE_CHECKING:        # a type only: decode and prefill never load the workload module
    from inference_arithmetic.serving.workload import Service

__all__ = ["Space", "EP_SIZES", "MTP_DRAFTS", "BATCHES", "CHUNKS", "Candidates", "candidates", "best",
           "describe", "label", "MODES", "unit_layouts", "refuse"]

#: Unit sizes (GPUs): part of one 8-GPU node (1, 2, 4: a model that fits is served so, and single GPUs are
#: rented), whole nodes, whole NVLink domains.
EP_SIZES = (1, 2, 4, 8, 16, 32, 36, 48, 64, 72, 128, 144, 256)
MTP_DRAFTS = (0, 1, 2, 3)
#: requests per attention instance: every batch up to 512, then every 32nd up to 2,048 (an attention-DP rank of
#: a Blackwell Ultra rack holds more than 512 requests where HBM allows: MLPerf v6.0's offline runs schedule
#: up to 1,024-1,536 per rank); a batch pinned above 512 is one of those
BATCHES = np.concatenate([np.arange(1, 513), np.arange(544, 2049, 32)]).astype(float)
CHUNKS = mixed.CHUNKS  # prefill tokens per GPU per step
MODES = mode_rates.MODES


@dataclass(frozen=True)
class Space:
    """The layouts the search may choose from (the default: everything; a restriction pins what a
    publication or a user states).  ``redundant``/``prefill_redundant`` ``None``: the book's
    default (:func:`.step.default_redundant`)."""

    decode_ep: tuple = EP_SIZES
    prefill_ep: tuple = EP_SIZES[:10]     # 1 to 72 GPUs
    attn_tp: tuple = (1, 8)
    moe_dtypes: tuple = step.MOE_DTYPES
    kv_dtypes: tuple = step.KV_DTYPES
    attn_dtypes: tuple = ("bf16",)
    mtp: tuple = MTP_DRAFTS
    redundant: int | None = None
    prefill_redundant: int | None = None
    framework: str = step.DEFAULT_FRAMEWORK
    moe_tp: tuple = (1,)
    micro_batches: int | None = None      # None: the book's default (step.default_micro_batches)
    batch: int | None = None              # requests per attention instance, pinned (None: every batch searched)
    max_batch: int | None = None          # at most this many requests per attention instance (a configuration's limit)
    tp_spans_unit: bool = True            # an attention TP degree above a sub-node unit's GPUs spans the unit
    dense_dtype: str | None = None        # the dense weights' dtype, pinned (None: the checkpoint's, else the rule)


def _unit_sizes(g: GPU, sizes) -> list[int]:
    """Unit sizes a GPU type can be built in: a part of one 8-GPU node that divides it (1, 2 or 4 GPUs,
    inside the node's NVLink), whole 8-GPU nodes or whole NVLink domains."""
    node = prefill.GPUS_PER_NODE
    return [ep for ep in sizes if (ep < node and node % ep == 0) or not (ep % node and ep % g.nvlink_domain)]


def unit_layouts(g: GPU, sizes, space: Space) -> list[tuple[int, int]]:
    """(unit size GPUs, attention TP GPUs) pairs the search tries: each size of ``sizes`` that ``g`` can be
    built in (:func:`_unit_sizes`) with each attention TP degree of ``space``; with ``space.tp_spans_unit``
    (unless a TP degree is pinned) a degree above a sub-node unit's GPUs spans the whole unit: the search's
    tensor-parallel attention is over the 8-GPU node, or over the unit where it is smaller (a dense model's
    only layout on 2 or 4 GPUs)."""
    pairs = []
    for ep in _unit_sizes(g, sizes):
        degrees = (min(t, ep) if space.tp_spans_unit and ep < prefill.GPUS_PER_NODE else t for t in space.attn_tp)
        pairs += [(ep, t) for t in dict.fromkeys(degrees)]
    return pairs


def decode_units(m: Model, g: GPU, space: Space, refused: list | None = None) -> list[step.Unit]:
    """Every decode unit of ``space`` that can be built for ``m`` on ``g`` (:func:`.step.unit` applies
    the one feasibility check, :mod:`.step.feasibility`); the reason each other layout is refused is
    appended to ``refused`` when given."""
    units = []
    moes = step.search_moe_dtypes(m.weight_dtype, space.moe_dtypes)   # MXFP4 only for checkpoints shipped in it
    precisions, dead, dense = {}, set(), space.dense_dtype or m.dense_weight_dtype or None
    for (ep, attn_tp), moe_tp, moe, kv, attn, mtp in itertools.product(
            unit_layouts(g, space.decode_ep, space), space.moe_tp, moes, space.kv_dtypes, space.attn_dtypes,
            space.mtp):
        if moe in dead:
            continue
        try:
            p = precisions.get((moe, attn, kv)) or precisions.setdefault((moe, attn, kv), Precision(moe, attn, kv, dense))
            L = step.layout_for(m, g, ep, attn_tp=attn_tp, moe_tp=moe_tp, mtp=mtp, redundant=space.redundant,
                                micro_batches=space.micro_batches, precision=p, framework=space.framework)
            units.append(step.unit(m, g, L))
        except InputError as e:
            if refused is not None:
                refused.append(str(e))
            else:
                dead |= _cannot_run(g, moe)
    if refused is not None:      # after the layouts tried: a size that cannot be rented is the reason only alone
        refused += [f"a unit of {ep} GPUs is neither a part of one 8-GPU node that divides it (1, 2 or 4 GPUs), "
                    f"whole 8-GPU nodes nor whole {g.nvlink_domain}-GPU NVLink domains of {g.key}"
                    for ep in space.decode_ep if ep not in _unit_sizes(g, space.decode_ep)]
    return units


def _cannot_run(g: GPU, moe: str) -> set:
    """``{moe}`` where ``g`` cannot run routed experts stored in ``moe`` in any layout (NVFP4 without FP4 tensor
    cores: the rule by which :func:`.step.unit` refuses them, :func:`.dtypes.moe_flop_dtype`), else none: asked
    after a layout of ``moe`` was refused, so that the search tries no other."""
    return {moe} if dtypes.moe_flop_dtype(moe, g.dense_fp4 is not None) is None else set()


def prefill_table(m: Model, g: GPU, svc: Service, space: Space, sizes=None) -> dict:
    """Best prefill per (unit size, MoE dtype), over the attention layouts of ``space`` (a dense
    model's unit is tensor-parallel): (input tokens/s per GPU, TTFT s, layout, chunk, fastest TTFT
    s); the rate is 0 where no chunk meets the TTFT limit.  The chunk is the chosen step's new tokens per GPU:
    the chunk of :data:`CHUNKS`, or one prompt's share of the instance where the prompt is longer (a prompt
    longer than the chunk is prefilled alone, so every smaller chunk is that same step).  ``sizes``: those unit
    sizes only (default: every size of ``space``, prefill's and decode's)."""
    out, dead, dense = {}, set(), space.dense_dtype or m.dense_weight_dtype or None
    sizes = sorted(set(space.prefill_ep) | set(space.decode_ep) if sizes is None else set(sizes))
    for (ep, attn_tp), moe in itertools.product(unit_layouts(g, sizes, space),
                                                step.search_moe_dtypes(m.weight_dtype, space.moe_dtypes)):
        if moe in dead:
            continue
        try:
            u = prefill.prefill_unit(m, g, step.layout_for(m, g, ep, attn_tp=attn_tp,
                                                           precision=Precision(moe=moe, dense_dtype=dense),
                                                           redundant=space.prefill_redundant,
                                                           framework=space.framework))
        except InputError:
            dead |= _cannot_run(g, moe)
            continue
        if not step.fits(u, 0.0, 0.0):
            continue
        r = prefill.prefill(u, svc.isl, svc.cache_hit, chunk=np.array(CHUNKS))    # every chunk size at once
        rates = np.asarray(r["input_tokens_per_s_per_gpu"], dtype=float)
        ttfts = np.asarray(r["ttft_s"], dtype=float)
        fit = prefill.steps_fit(u, r, svc.isl)
        if not fit.any():
            continue
        ttfts = np.where(fit, ttfts, np.inf)
        ok = fit if svc.ttft_s is None else fit & (ttfts <= svc.ttft_s)
        i = int(np.argmax(np.where(ok, rates, -1.0)))
        # the step's new tokens per GPU: a prompt longer than the chunk is processed alone (:func:`.prefill.prefill`)
        chunk = max(CHUNKS[i], float(np.max(r["new_tokens"])) / u.layout.attn_tp)
        row = (float(rates[i]) if ok[i] else 0.0, float(ttfts[i]), u.layout, chunk, float(ttfts.min()))
        best = out.get((ep, moe))
        if best is None or (row[0], -row[4]) > (best[0], -best[4]):
            out[(ep, moe)] = row
    return out


@dataclass(frozen=True)
class Candidates:
    """One GPU type and serving mode: arrays over (decode layout, batch) of output tokens/s per GPU
    (``rate``, every GPU counted), per user (``user``), the decode rate ``R_d``, the partner's
    prefill rate ``R_p`` (layouts x 1) and ``fit`` (fits in HBM, and a prefill partner exists);
    ``partner`` the prefill (rate, TTFT, layout, chunk, fastest TTFT) of each layout; ``util`` the
    share of time a prefill GPU is busy (disaggregated: the book's one planning rule,
    :data:`.prefill.UTILISATION`, the load at which TTFT is stated; aggregated: 1, prefill and decode
    share the GPUs' time)."""

    gpu: GPU
    mode: str
    units: tuple
    partner: tuple
    rate: np.ndarray
    user: np.ndarray
    R_d: np.ndarray
    R_p: np.ndarray
    fit: np.ndarray
    util: float
    mem_fit: np.ndarray | None = None   # the decode layout fits in HBM at that batch (no prefill condition)
    late: np.ndarray | None = None      # aggregated in mixed steps: where every chunk misses the TTFT limit
    intake: np.ndarray | None = None    # disaggregated: the decode rate whose prompts' KV the network brings in
    #                                     (units x 1, :func:`.kv_network_rates.intake`; ``meets`` applies it)

    def meets(self, per_user: float | None, network: bool = True) -> np.ndarray:
        """Candidates that fit, give every user ``per_user`` tokens/s or more and, disaggregated, decode no
        faster than the network brings their prompts' KV in (``network`` False: that condition left out)."""
        ok = self.fit if per_user is None else self.fit & (self.user >= per_user)
        return ok & (self.R_d <= self.intake) if network and self.intake is not None else ok


def _partners(m: Model, g: GPU, svc: Service, units, pre: dict, space: Space, S_kv=None) -> dict:
    """The prefill partner (rate, TTFT, layout, chunk, fastest TTFT) of each decode unit, by mode:
    disaggregated, the fastest prefill unit of the unit's MoE dtype whose KV output the network carries
    and whose TTFT with the prompt's KV transfer meets the limit (:mod:`.kv_network`; the TTFT here is the
    prefill's, the transfer added where the answer states it); aggregated, the unit's own size."""
    none = (0.0, np.inf, None, 0.0, np.inf)
    pool = {k: x for k, x in pre.items() if k[0] in space.prefill_ep}
    return {"disagg": kv_network_rates.partners(m, g, svc.isl, svc.ttft_s, units, pool, none, S_kv),
            "agg": tuple(pre.get((u.layout.ep, u.layout.precision.moe), none) for u in units)}


def refuse(m: Model, svc: Service) -> None:
    """An InputError, before any search, where the question has no answer whatever the layout: a model
    the step model cannot express yet (what is missing, not that nothing fits), or requests longer than
    the model's context window (:func:`.config.context_error`; a stated mean decode context too)."""
    why = (step.unsupported(m) or context_error(m, svc.isl, svc.osl)
           or (context_error(m, svc.context, what="mean decode-context") if svc.context is not None else None))
    if why:
        raise InputError(why)


def candidates(m: Model, g: GPU, svc: Service, space: Space | None = None, pre: dict | None = None
               ) -> tuple[dict, float]:
    """The candidates of ``g`` by mode (:data:`MODES`) and the fastest prefill TTFT any unit
    reaches (s; ``inf`` when none fits), the same search for ``serve`` and the planner.  ``pre``:
    :func:`prefill_table` of the same question, when the caller has it already."""
    space = space or Space()
    refuse(m, svc)
    units = decode_units(m, g, space)
    pre = prefill_table(m, g, svc, space) if pre is None else pre
    ttft_floor = min((x[4] for k, x in pre.items() if k[0] in space.prefill_ep), default=np.inf)
    if not units or not pre:
        return {}, ttft_floor
    S_kv = kv_network_rates.kv_per_token(m, units)
    out, partners = {}, _partners(m, g, svc, units, pre, space, S_kv)
    intake = kv_network_rates.intake(m, g, svc.isl, svc.osl, units, S_kv)
    v = step.stack(units)
    v.update(mixed.stack(units, partners["agg"]) or {})   # aggregated serving of a framework that mixes
    R_d, r_u, fits, ev = fastest.rates_at(v, BATCHES.reshape(1, -1, 1), svc.decode_context, terms=True)
    if space.max_batch is not None:          # a configuration's batch limit: larger batches are not candidates
        fits = fits & (BATCHES <= space.max_batch).reshape(1, -1)
    for mode in MODES:
        partner = partners[mode]
        R_p = np.array([x[0] for x in partner]).reshape(-1, 1)
        mix = fastest.mixed_point(v, ev, BATCHES.reshape(1, -1, 1), svc) if mode == "agg" else None
        rate, user, util = fastest.mode_point(mode, R_d, r_u, R_p, svc, mix)
        miss = mixed.late(mix)
        # a prefill partner within the limits (its chunk bounds the mixed steps'); mixed steps late at every chunk: none
        fit = fits & (R_p > 0) & ~miss
        out[mode] = Candidates(g, mode, tuple(units), partner, rate, user, R_d, R_p, fit, util, fits,
                               miss if np.any(miss) else None, intake if mode == "disagg" else None)
    return out, ttft_floor


def agg_steps(u: step.Unit, batch: float, chunk: float, ttft: float, svc: Service) -> tuple[str, float, float]:
    """How aggregated serving on decode unit ``u`` at ``batch`` requests per attention instance runs its prompts,
    beside its prefill partner's ``chunk`` (new tokens per GPU) and ``ttft`` (s): ``("mixed", the time to first
    token in mixed steps, their chunk)`` at the search's chunk (:func:`.mixed.pick`: the fastest of
    :data:`CHUNKS` up to the partner's that keeps pace and meets the TTFT limit), else ``("separate", ttft,
    chunk)`` (prompts in steps of their own)."""
    mix = mixed.pick(u, batch, svc.decode_context, chunk, svc.isl, svc.osl, svc.cache_hit, svc.ttft_s)
    return ("separate", ttft, chunk) if mix is None else ("mixed", mix["ttft_s"], mix["chunk_tokens_per_gpu"])


def describe(L: step.Layout) -> dict:
    """A layout as the JSON object every command prints."""
    return {"ep": L.ep, "attn": "tp" if L.attn_tp > 1 else "dp", "attn_tp": L.attn_tp, "moe_tp": L.moe_tp,
            "redundant": L.redundant, "micro_batches": L.micro_batches, "mtp": L.mtp,
            "moe_dtype": L.precision.moe, "attn_dtype": L.precision.attn, "kv_dtype": L.precision.kv,
            # stated only where the dense weights do not follow the MoE dtype's rule (an all-linear NVFP4 checkpoint)
            **({"dense_dtype": L.precision.dense_dtype} if L.precision.dense_dtype else {}),
            **({"pp": L.pp} if L.pp > 1 else {})}        # pipeline stages, stated only where there is a pipeline


def label(layout: dict) -> str:
    """A short label of a described layout: ``EP8 DP · NVFP4 · FP8 KV · MTP 1``."""
    attn = ("DP" if layout["attn"] == "dp" else f"TP{layout['attn_tp']}") + (f" PP{layout['pp']}" if layout.get("pp") else "")
    return (f"EP{layout['ep']} {attn} · {layout['moe_dtype'].upper()} · {layout['kv_dtype'].upper()} KV · "
            f"MTP {layout['mtp']}")


def best(m: Model, g: GPU, svc: Service, mode: str, space: Space | None = None) -> dict:
    """The candidate with the most output tokens/s per GPU (prefill and decode GPUs counted) in
    ``mode`` meeting the service's per-user floor and TTFT limit; an InputError naming the
    closest point when none does.

    The answer of :func:`candidates`' whole grid (the first such candidate in its order), found by
    :func:`.fastest.fastest` at a few batches of each unit where the step model is monotone in the
    batch; the whole grid itself where it is not (a framework's measured kernel tables), and to say
    why there is no answer."""
    if mode not in MODES:
        raise InputError(f"mode must be agg or disagg, got {str(mode)[:40]!r}")
    space = space or Space()
    refuse(m, svc)
    units = decode_units(m, g, space)
    # the partners the mode takes: disaggregated, a prefill unit of space.prefill_ep; aggregated, the decode unit's size
    pre = prefill_table(m, g, svc, space, space.prefill_ep if mode == "disagg" else space.decode_ep)
    if space.batch is not None and space.max_batch is not None and space.batch > space.max_batch:
        raise InputError(f"batch {space.batch} is more than --max-batch {space.max_batch}")
    batches = BATCHES if space.max_batch is None else BATCHES[BATCHES <= space.max_batch]   # a prefix of the grid
    if units and pre and batches.size and (space.batch is None or bool(np.any(batches == space.batch))):
        S_kv = kv_network_rates.kv_per_token(m, units) if mode == "disagg" else None
        partner = _partners(m, g, svc, units, pre, space, S_kv)[mode]
        R_p = np.array([x[0] for x in partner]).reshape(-1, 1)
        cap = kv_network_rates.intake(m, g, svc.isl, svc.osl, units, S_kv) if mode == "disagg" else None
        found = fastest.fastest(units, R_p, mode, svc, batches, space.batch, partner, cap)
        if found is not None:
            i, j, (R_d, rate, user) = found
            return _answer(m, g, units[i], partner[i], mode, R_d, rate, user, j, svc)
    return _best_of_grid(m, g, svc, mode, space)


def _best_of_grid(m: Model, g: GPU, svc: Service, mode: str, space: Space) -> dict:
    """:func:`best` from :func:`candidates`' whole grid, or the InputError that says why none meets the
    service level."""
    found, ttft_floor = candidates(m, g, svc, space)
    if mode not in found:
        refused: list = []
        if not decode_units(m, g, space, refused):
            why = f": {refused[0]}" if refused else ""
            raise InputError(f"no {mode} layout of {m.name} can be built on {g.key}{why}")
        raise InputError(f"no {mode} layout of {m.name} fits on {g.key}")
    c = found[mode]
    col = np.ones((1, BATCHES.size), dtype=bool)         # the batches asked about: every one, or the pinned one
    if space.batch is not None:      # a pinned batch: that column only
        if not np.any(BATCHES == space.batch):
            raise InputError(f"batch must be 1 to 512, or a multiple of 32 up to {BATCHES[-1]:,.0f}, requests per "
                             f"attention instance, got {space.batch}")
        col = (BATCHES == space.batch).reshape(1, -1)
    ok, mem = c.meets(svc.per_user) & col, c.meets(svc.per_user, network=False)   # mem: the network left out
    if space.batch is not None:
        over = np.argwhere(mem & col & (c.R_d > c.intake)) if c.intake is not None else ()
        if not ok.any() and len(over):
            (i, j), = over[:1]
            under = BATCHES[mem[i] & (c.R_d[i] <= c.intake[i, 0])]     # this layout's batches the network carries
            fix = f"pin at most {under.max():,.0f}" if under.size else "leave the batch to the search (network-bound)"
            raise InputError(f"at {space.batch} requests per attention instance a decode GPU decodes {c.R_d[i, j]:,.0f}"
                             f" tok/s, faster than its scale-out network brings in its prompts' KV ({c.intake[i, 0]:,.0f}"
                             f" tok/s at ISL {svc.isl:g} / OSL {svc.osl:g}): {fix}")
        if not np.any(c.mem_fit & col):   # HBM at that batch; else the cause below (TTFT, the partner, the floor)
            raise InputError(f"{space.batch} requests per attention instance do not fit on any {mode} layout of "
                             f"{m.name} on {g.key} that the pins allow")
    bound = None if c.intake is None or space.batch is not None else kv_network_rates.network_bound(
        mem, c.R_d, c.intake, c.R_p, BATCHES, svc.isl, svc.osl, c.util)
    if bound is not None and (not ok.any() or bound[2] > float(np.max(np.where(ok, c.rate, -1.0)))):
        i, j, rate, R_d, b = bound
        return _answer(m, g, c.units[i], c.partner[i], mode, R_d, rate, float(c.user[i, j]), j, svc, b)
    if not ok.any():
        if svc.ttft_s is not None and np.isfinite(ttft_floor) and ttft_floor > svc.ttft_s:   # inf: no prefill unit
            raise InputError(f"no layout on {g.key} meets TTFT {svc.ttft_s:g} s: the fastest prefill TTFT is "
                             f"{ttft_floor:.{decimals_apart(ttft_floor, svc.ttft_s, 2)}f} s")
        late = c.late is not None and bool(np.any(c.late & c.mem_fit))
        if late and not (c.fit & col).any():      # mixed steps late at every chunk wherever the layout fits: say so
            raise InputError(f"no {mode} layout on {g.key} meets TTFT {svc.ttft_s:g} s in mixed steps (the framework "
                             f"puts prompt chunks into decode steps) at any chunk of {CHUNKS[0]:,.0f} to "
                             f"{CHUNKS[-1]:,.0f} tokens per GPU")
        if mode == "disagg" and all(x[2] is None for x in c.partner):     # no prefill partner: say why, not a speed
            sizes = ", ".join(str(n) for n in space.prefill_ep)
            if not np.isfinite(ttft_floor):
                raise InputError(f"no prefill unit of {m.name} on {g.key} with EP {sizes} can be built")
            pre = prefill_table(m, g, svc, space, space.prefill_ep)
            raise InputError(kv_network_rates.no_partner(m, g, svc.isl, svc.ttft_s, c.units, pre))
        if not (c.fit & col).any():          # nothing fits at all: say that, not a speed of 0
            pins = " that the pins allow" if space != Space(framework=space.framework) else ""
            raise InputError(f"no {mode} layout of {m.name} on {g.key}{pins} fits in HBM with a prefill partner "
                             f"at ISL {svc.isl:g} / OSL {svc.osl:g}")
        top = float(np.max(np.where(c.fit & col, c.user, 0.0)))
        among = f" of those that meet TTFT {svc.ttft_s:g} s in mixed steps" if late else ""
        raise InputError(f"no layout on {g.key} reaches {svc.per_user:g} tok/s per user in {mode} mode at ISL "
                         f"{svc.isl:g} / OSL {svc.osl:g}: the fastest{among} is {top:.1f} tok/s")
    i, j = np.unravel_index(int(np.argmax(np.where(ok, c.rate, -1.0))), c.rate.shape)
    return _answer(m, g, c.units[i], c.partner[i], mode, float(c.R_d[i, j]), float(c.rate[i, j]),
                   float(c.user[i, j]), int(j), svc)


def _answer(m: Model, g: GPU, u: step.Unit, partner: tuple, mode: str, R_d: float, rate: float, user: float,
            j: int, svc: Service, mean_batch: float | None = None) -> dict:
    """:func:`best`'s result for decode unit ``u`` at batch ``BATCHES[j]`` with its prefill ``partner``;
    aggregated, ``agg_steps`` says whether its prompts run in mixed steps (:func:`agg_steps`); disaggregated,
    the time to first token includes the prompt's KV transfer (``kv_transfer_s``, :mod:`.kv_network`), and
    ``mean_batch`` (requests per attention instance on average) where the network sets the decode rate."""
    L = u.layout
    R_p, ttft, L_p, chunk, _ = partner
    util = prefill.UTILISATION if mode == "disagg" else 1.0
    ratio = 0.0 if mode == "agg" else float(fast.pd_ratio(R_d=R_d, R_p=R_p * util, L_i=svc.isl, L_o=svc.osl))
    steps = {}
    if mode == "agg":           # mixed steps at the search's chunk: the prompt's chunk steps and their queue
        how, ttft, k = agg_steps(u, float(BATCHES[j]), chunk, ttft, svc)
        steps = {"agg_steps": how, **({"mixed_chunk_tokens_per_gpu": k} if how == "mixed" else {})}
    else:
        xfer = float(kv_network_rates.transfer_s(m, svc.isl, kv_network_rates.kv_per_token(m, (u,))[0, 0],
                                                 g.scale_out))
        ttft += xfer
        steps = {"kv_transfer_s": xfer, "decode_network_bound": mean_batch is not None}
    return {"tokens_per_s_per_gpu": rate, "tokens_per_s_per_user": user, **steps,
            "ttft_s": ttft, "prefill_gpus_per_decode_gpu": ratio,
            "batch_per_instance": float(BATCHES[j]) if mean_batch is None else mean_batch,
            "decode_tokens_per_s_per_gpu": R_d, "prefill_tokens_per_s_per_gpu": R_p, "prefill_utilisation": util,
            "layout": describe(L), "prefill_layout": {**describe(L_p), "chunk_tokens_per_gpu": chunk}}
