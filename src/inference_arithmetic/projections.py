"""Projections for the parallelism and hardware chapters, each labelled as what it is.

* :func:`project`: a deployment's **model prediction** (the step model of :mod:`.step` at its
  most tokens/s per GPU with every user at a stated speed, :func:`.operating.at_per_user`)
  next to the **bound** at the same batch (roofline, no communication, every draft accepted);
  a layout that does not fit, or a speed it cannot reach, gives no rate and says why.
* :func:`fastest_user`: a user's speed with the deployment serving one request per attention
  instance (the interactivity ceiling), predicted and bound.
* :func:`price_quotes`, :func:`ranking_source`, :func:`cost_per_mtok`: GPU-hour prices with
  their source, ranked on one source at a time, vendor-chosen prices flagged;
  :func:`list_quotes`, :func:`price_band`: the providers' price lists (``price_sources.yaml``)
  and the spread of every published price of a GPU (the sensitivity band).
* :func:`validation_errors`, :func:`validation_groups`: how far the model is from published
  **measurements** by other teams, by kind of measurement (from :mod:`.validation`).

Units: rates in tokens/s (per GPU or per user), context in tokens, prices in USD per GPU-hour
(``usd_per_hour``) or SI USD per GPU-second (``si``), costs in USD per million tokens.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np

from . import catalog, fleet, operating, step, validation
from .catalog import GPU, Model
from .errors import InputError
from .units import convert

__all__ = ["GENERATION", "Projection", "project", "fastest_user", "PriceQuote", "price_quotes", "list_quotes", "price_band",
           "quotes_by_source", "ranking_source", "cost_per_mtok", "validation_errors", "validation_groups"]

#: GPU generation of each catalog GPU (for grouping validation errors).
GENERATION = {"H800": "Hopper", "H100": "Hopper", "H200": "Hopper", "H20": "Hopper",
              "B200": "Blackwell", "B300": "Blackwell", "GB200": "Blackwell", "GB300": "Blackwell"}


@dataclass(frozen=True)
class Projection:
    """One deployment at a per-user speed floor (tokens/s): the model's prediction and the bound.

    ``predicted``/``bound``: output tokens/s per GPU (``None`` when not reachable); ``per_user``:
    the predicted tokens/s per user at that batch; ``batch``: requests per attention instance;
    ``users_fit``: the most requests per instance that fit at ``ctx`` tokens; ``reason``: why
    there is no rate.
    """

    gpu: str
    layout: step.Layout
    ctx: float
    floor: float
    users_fit: int
    batch: float | None = None
    predicted: float | None = None
    per_user: float | None = None
    bound: float | None = None
    step_s: float | None = None
    reason: str = ""

    @property
    def reachable(self) -> bool:
        return self.predicted is not None


def project(model: Model, gpu: GPU, layout: step.Layout, ctx: float, per_user: float) -> Projection:
    """The most output tokens/s per GPU of ``layout`` with every user at ``per_user`` tokens/s or
    more at ``ctx`` tokens of context (model prediction), and the bound at the same batch."""
    u = step.unit(model, gpu, layout)
    fit = step.max_batch(u, ctx)
    try:
        o = operating.at_per_user(u, ctx, per_user)
    except InputError as e:
        return Projection(gpu.key, layout, float(ctx), float(per_user), fit, reason=str(e))
    return Projection(gpu.key, layout, float(ctx), float(per_user), fit, batch=float(o["batch"]),
                      predicted=float(o["tokens_per_s_per_gpu"]), per_user=float(o["tokens_per_s_per_user"]),
                      bound=float(o["bound_tokens_per_s_per_gpu"]), step_s=float(o["t_step"]))


def fastest_user(model: Model, gpu: GPU, layout: step.Layout, ctx: float) -> dict:
    """A user's output tokens/s with one request per attention instance: ``predicted`` (the step
    model) and ``bound`` (roofline, every draft token accepted), plus the step ``terms`` (s)."""
    u = step.unit(model, gpu, layout)
    t = operating.at_batch(u, ctx, 1.0)
    return {"predicted": float(t["tokens_per_s_per_user"]),
            "bound": float(t["bound_tokens_per_s_per_gpu"]) * layout.attn_tp, "terms": t}


# ----------------------------------------------------------------------------- prices
@dataclass(frozen=True)
class PriceQuote:
    """One published GPU-hour price: ``usd_per_hour`` (USD per GPU-hour), ``si`` (USD per GPU-second),
    its ``src`` (a references.bib key), and whether the GPU's vendor chose it (``vendor_quoted``)."""

    gpu: str
    usd_per_hour: float
    si: float
    src: str
    note: str
    vendor_quoted: bool
    source: str = ""          # the price list: a block of price_sources.yaml, or the src key for prices.yaml


@lru_cache(maxsize=None)
def price_quotes() -> tuple[PriceQuote, ...]:
    """Every GPU-hour price of ``prices.yaml``: the main table, then the other sources."""
    raw = catalog._prices()
    rows = [dict(r, gpu=g) for g, r in raw["gpu_hour"].items()] + list(raw.get("gpu_hour_other") or [])
    out = []
    for r in rows:
        v = catalog._value(r, f"prices.yaml {r['gpu']}", "USD/GPU/h")
        out.append(PriceQuote(r["gpu"], convert(v.value, v.unit, "USD/GPU/h"), v.si, v.src, v.note,
                              bool(r.get("vendor_quoted", False)), v.src))
    return tuple(out)


@lru_cache(maxsize=None)
def list_quotes() -> tuple[PriceQuote, ...]:
    """Every on-demand price of ``price_sources.yaml`` (one block per provider's price list),
    with ``source`` the block's id (``hyperstack-2026-08``); none of them is vendor-quoted."""
    from .plan import price_sources
    out = []
    for source, block in price_sources().items():
        for g, p in block["gpus"].items():
            if p.get("on_demand"):
                usd = float(p["on_demand"])
                out.append(PriceQuote(g, usd, convert(usd, "USD/GPU/h", "USD/GPU/s"), block["src"],
                                      str(p.get("note", "")), False, source))
    return tuple(out)


def price_band(gpu_key: str) -> tuple[float, float, int] | None:
    """(cheapest, dearest, count) of the published on-demand prices for ``gpu_key`` (USD per
    GPU-hour) over every price list and quote, vendor-quoted prices left out; ``None`` if none."""
    v = [q.usd_per_hour for q in price_quotes() + list_quotes() if q.gpu == gpu_key and not q.vendor_quoted]
    return (min(v), max(v), len(v)) if v else None


def quotes_by_source() -> dict[str, dict[str, PriceQuote]]:
    """Prices grouped by source: ``{src: {gpu: quote}}``, in the file's order."""
    out: dict[str, dict[str, PriceQuote]] = {}
    for q in price_quotes():
        out.setdefault(q.src, {})[q.gpu] = q
    return out


def ranking_source(gpus) -> str:
    """The one source to rank ``gpus`` on: of the sources not chosen by a vendor, the one that
    prices the most of them (the first in the file on a tie)."""
    best, n = None, 0
    for src, quotes in quotes_by_source().items():
        if any(q.vendor_quoted for q in quotes.values()):
            continue
        k = sum(g in quotes for g in gpus)
        if k > n:
            best, n = src, k
    if best is None:
        raise InputError("no price source covers these GPUs")
    return best


def cost_per_mtok(price_si, rate, util=1.0):
    """USD per million output tokens of a GPU at ``price_si`` USD per GPU-second making ``rate``
    tokens/s at utilisation ``util`` (:data:`.fleet.token_cost`)."""
    return convert(fleet.token_cost(price=price_si, R_gpu=rate, util=util), "USD/token", "USD/Mtok")


# ----------------------------------------------------------------------------- validation
def _stats(preds) -> dict:
    e = np.array([p.error for p in preds])
    if e.size == 0:
        return {"n": 0, "median_abs": None, "mean": None, "lowest": None, "highest": None}
    return {"n": int(e.size), "median_abs": float(np.median(np.abs(e))), "mean": float(np.mean(e)),
            "lowest": float(e.min()), "highest": float(e.max())}


def _scored():
    return [p for p in validation.predict_all() if p.expressible and p.error is not None]


def _kind(p, by: str) -> str:
    if by == "generation":
        return GENERATION.get(p.gpu, p.gpu)
    if by == "phase":
        return p.phase
    if by == "metric":
        return "per user" if p.metric == "tokens_per_s_per_user" else "per GPU"
    raise InputError(f"group validation errors by generation, phase or metric, not {by!r}")


def validation_errors(select: Callable[[validation.Prediction], bool] = lambda p: True) -> dict:
    """Relative errors (model / measured - 1) of the scored validation entries ``select`` keeps:
    ``n``, ``median_abs``, ``mean``, ``lowest``, ``highest`` (fractions)."""
    return _stats([p for p in _scored() if select(p)])


def validation_groups(by: str) -> dict[str, dict]:
    """:func:`validation_errors` for each group: ``by`` is ``"generation"`` (Hopper, Blackwell),
    ``"phase"`` (decode, prefill, end-to-end) or ``"metric"`` (per GPU, per user)."""
    groups: dict[str, list] = {}
    for p in _scored():
        groups.setdefault(_kind(p, by), []).append(p)
    return {k: _stats(v) for k, v in sorted(groups.items())}
