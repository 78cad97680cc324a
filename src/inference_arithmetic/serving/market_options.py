"""The market's options: every layout of every GPU type and precision that meets the service level,
per role (decode, prefill, both), for the planner to price (:mod:`.market` holds the formula; no
sympy here)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from inference_arithmetic.hardware.gpus import GPU
from inference_arithmetic.model.config import Model
from inference_arithmetic.serving import fleet_rows, kv_network_rates, prefill_step as prefill, search
from inference_arithmetic.serving.fleet_rows import CROSS_TOP
from inference_arithmetic.serving.workload import Service, Workload
from inference_arithmetic.step import MOE_DTYPES

__all__ = ["Options", "Prepared", "prepare", "CROSS_TOP", "ROLES"]

ROLES = ("decode", "prefill", "both")


@dataclass
class Options:
    """Candidate pool options of one role, as arrays (one entry per option): GPU index ``gpu``,
    ``unit`` GPUs, ``cap`` tokens/s per unit busy (output for decode and both, input for prefill),
    ``per_gpu`` tokens/s per GPU busy, ``moe`` (index of :data:`.step.MOE_DTYPES`), ``kv_bytes`` per
    token (decode, both), ``ttft`` s (prefill, both), ``user`` tokens/s per user (decode, both),
    ``mtp``, ``kv_bf16``; ``info``: per option the layout and the numbers a row reports."""

    role: str
    gpu: list = field(default_factory=list)
    unit: list = field(default_factory=list)
    cap: list = field(default_factory=list)
    per_gpu: list = field(default_factory=list)
    moe: list = field(default_factory=list)
    kv_bytes: list = field(default_factory=list)
    ttft: list = field(default_factory=list)
    user: list = field(default_factory=list)
    mtp: list = field(default_factory=list)
    kv_bf16: list = field(default_factory=list)
    info: list = field(default_factory=list)

    def add(self, gpu, L, per_gpu, cap, ttft=0.0, user=np.inf, kv_bytes=0.0, **info):
        for k, v in (("gpu", gpu), ("unit", float(L.ep)), ("cap", cap), ("per_gpu", per_gpu),
                     ("moe", MOE_DTYPES.index(L.precision.moe)), ("kv_bytes", kv_bytes), ("ttft", ttft),
                     ("user", user), ("mtp", L.mtp), ("kv_bf16", L.precision.kv == "bf16")):
            getattr(self, k).append(v)
        self.info.append({"layout": L, **info})

    def freeze(self) -> "Options":
        for k in ("gpu", "unit", "cap", "per_gpu", "moe", "kv_bytes", "ttft", "user", "mtp", "kv_bf16"):
            setattr(self, k, np.asarray(getattr(self, k), dtype=float))
        self.gpu, self.moe = self.gpu.astype(int), self.moe.astype(int)
        return self

    def __len__(self) -> int:
        return len(self.info)


@dataclass
class Prepared:
    """The options of every GPU type for one model and service (:func:`prepare`)."""

    model: Model
    svc: Service
    gpus: list
    options: dict
    candidates: int
    closest: dict

    def cost(self, w: Workload, px, mixed: bool = False, top: int = 10, where=None, pin=None,
             one_precision: bool = True) -> dict:
        """The cheapest deployments of ``w`` at prices ``px`` (a :class:`.prices.PriceSet` pricing
        every GPU of the search), ranked: ``{"feasible", "deployments"}``; ``where``, ``pin`` and
        ``one_precision`` as in :func:`.fleet_rows.assemble`."""
        return fleet_rows.assemble(self, w, px, mixed, top, where, pin, one_precision)


def _searched(m: Model, g: GPU, svc: Service, space: search.Space, reuse: dict | None) -> tuple:
    """(prefill table, candidates by mode, fastest prefill TTFT) of ``g`` (:func:`.search.prefill_table`,
    :func:`.search.candidates`), read from ``reuse`` where an earlier call of the same model, GPU, space and
    service put it: neither depends on the per-user floor, which the options apply afterwards, so the key is
    the service without it.  The arrays are shared, and nothing here or downstream writes to them."""
    key = (m, g, replace(svc, per_user=None), space)
    if reuse is not None and key in reuse:
        return reuse[key]
    pre = search.prefill_table(m, g, svc, space)
    found, ttft_floor = search.candidates(m, g, svc, space, pre=pre)
    if reuse is not None:
        reuse[key] = (pre, found, ttft_floor)
    return pre, found, ttft_floor


def prepare(m: Model, svc: Service, gs: list[GPU], space: search.Space | None = None, progress=None,
            t0: float | None = None, reuse: dict | None = None) -> Prepared:
    """Every candidate pool option of the GPU types ``gs`` for ``svc`` (see the module text).  ``reuse``: a
    mapping the caller keeps across calls that differ only in the per-user floor, the prices or the GPU types
    (a frontier, a loop over price lists), so that each GPU's candidates are searched once (:func:`_searched`)."""
    t0 = time.perf_counter() if t0 is None else t0
    space = space or search.Space()
    opts = {r: Options(r) for r in ROLES}
    closest = {"per_user": (0.0, ""), "ttft": (np.inf, "")}
    n = 0
    for gi, g in enumerate(gs):
        if progress is not None and time.perf_counter() - t0 > 1.0:
            progress(gi, len(gs), g.key)
        pre, found, ttft_floor = _searched(m, g, svc, space, reuse)
        closest["ttft"] = min(closest["ttft"], (ttft_floor, g.key))
        for mode, c in found.items():
            n += c.rate.size
            fit = c.mem_fit if mode == "disagg" else c.fit
            if fit.any():
                k = np.unravel_index(np.argmax(np.where(fit, c.user, 0)), c.user.shape)
                closest["per_user"] = max(closest["per_user"],
                                          (float(c.user[k]), f"{g.key} {mode} EP{c.units[k[0]].layout.ep}"))
        if "disagg" in found:
            c = found["disagg"]
            ok = c.mem_fit & (c.user >= (svc.per_user or 0.0))
            S = kv_network_rates.kv_per_token(m, c.units)
            intake = c.intake      # output tok/s per GPU whose prompts' KV its network brings in (kv_network)
            under = ok & (c.R_d <= intake)
            for i, j in _best(np.where(under, c.R_d, -1.0)):        # the largest batch whose KV the network carries
                L, R_d = c.units[i].layout, float(c.R_d[i, j])
                opts["decode"].add(gi, L, R_d, R_d * L.ep, user=float(c.user[i, j]), kv_bytes=float(S[i, 0]),
                                   batch=float(search.BATCHES[j]), R_d=R_d, network_bound=False)
            for i in np.flatnonzero(ok.any(axis=1) & ~under.any(axis=1)):
                # even its smallest batch decodes faster than the network brings prompts in: the GPU waits for
                # KV, at the network's rate, holding fewer requests on average (Little's law: the rate / speed)
                j = int(np.argmax(ok[i]))
                L, R_d = c.units[i].layout, float(intake[i, 0])
                opts["decode"].add(gi, L, R_d, R_d * L.ep, user=float(c.user[i, j]), kv_bytes=float(S[i, 0]),
                                   batch=float(search.BATCHES[j]) * R_d / float(c.R_d[i, j]), R_d=R_d,
                                   network_bound=True)
        for (ep, _moe), (R_p, ttft, L_p, chunk, _) in pre.items():
            if ep in space.prefill_ep and R_p > 0:
                opts["prefill"].add(gi, L_p, R_p, R_p * prefill.UTILISATION * L_p.ep, ttft=ttft, chunk=chunk,
                                    R_p=R_p)
        if "agg" in found:
            c = found["agg"]
            for i, j in _best(np.where(c.meets(svc.per_user), c.rate, -1.0)):
                L, (R_p, ttft, _L, chunk, _) = c.units[i].layout, c.partner[i]
                rate, b = float(c.rate[i, j]), float(search.BATCHES[j])
                steps, ttft, chunk = search.agg_steps(c.units[i], b, chunk, ttft, svc)   # mixed: their TTFT, chunk
                opts["both"].add(gi, L, rate, rate * L.ep, ttft=ttft, user=float(c.user[i, j]),
                                 batch=b, R_d=float(c.R_d[i, j]), R_p=float(R_p), chunk=chunk, steps=steps)
    return Prepared(m, svc, list(gs), {r: o.freeze() for r, o in opts.items()}, n, closest)


def _best(score: np.ndarray):
    """(layout, batch) of the best batch of each layout whose best score is positive."""
    j = np.argmax(score, axis=1)
    top = score[np.arange(score.shape[0]), j]
    return [(int(i), int(j[i])) for i in np.flatnonzero(top > 0)]
