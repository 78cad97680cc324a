"""GPU-hour prices, each with its source: providers' price lists (``data/price_sources.yaml``,
on demand and reserved) and single quotes (``data/prices.yaml``), and API token prices.

The book's **one price list** for comparisons is :func:`default_price_source`, the list that
prices the most GPUs of the catalog (on demand, then reserved; ties by name); the planner uses
it when no ``--prices`` is given.  Units: ``usd_per_hour`` USD per GPU-hour, ``si`` USD per
GPU-second, costs in USD per million tokens.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping

from inference_arithmetic.core.cited import Value, cited_value, read_yaml, unknown
from inference_arithmetic.core.errors import CatalogError
from inference_arithmetic.core.inputs import short
from inference_arithmetic.core.units import convert
from inference_arithmetic.hardware.gpus import gpus as all_gpus
from inference_arithmetic.serving import fleet

__all__ = ["price_sources", "default_price_source", "price_table", "PriceQuote", "price_quotes", "list_quotes",
           "price_band", "quotes_by_source", "cost_per_mtok", "api_price", "gpu_hour_price"]


@lru_cache(maxsize=None)
def price_sources() -> dict:
    """Published GPU-hour prices by source: ``{source: {"name", "src", "gpus": {gpu: {on_demand,
    reserved}}}}`` from ``data/price_sources.yaml``."""
    raw = read_yaml("price_sources.yaml")
    return {k: v for k, v in raw.items() if isinstance(v, dict) and "gpus" in v}


def default_price_source() -> str:
    """The source that prices the most GPUs of the catalog, on demand and reserved."""
    known = set(all_gpus())

    def score(item):
        k, v = item
        g = [x for x, p in v["gpus"].items() if x in known and p.get("on_demand")]
        return (len(g), sum(1 for x in g if v["gpus"][x].get("reserved")), k)
    return max(price_sources().items(), key=score)[0]


def price_table(source: str) -> dict[str, tuple[float, float]]:
    table = price_sources()
    if source not in table:
        raise CatalogError(f"unknown price source {short(source)} (known: {', '.join(sorted(table))})")
    out = {}
    for g, p in table[source]["gpus"].items():
        od = p.get("on_demand")
        if od:
            out[g] = (float(od), float(p.get("reserved") or od))
    return out


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
    raw = _prices()
    rows = [dict(r, gpu=g) for g, r in raw["gpu_hour"].items()] + list(raw.get("gpu_hour_other") or [])
    out = []
    for r in rows:
        v = cited_value(r, f"prices.yaml {r['gpu']}", "USD/GPU/h")
        out.append(PriceQuote(r["gpu"], convert(v.value, v.unit, "USD/GPU/h"), v.si, v.src, v.note,
                              bool(r.get("vendor_quoted", False)), v.src))
    return tuple(out)


@lru_cache(maxsize=None)
def list_quotes() -> tuple[PriceQuote, ...]:
    """Every on-demand price of ``price_sources.yaml`` (one block per provider's price list),
    with ``source`` the block's id (``hyperstack-2026-08``); none of them is vendor-quoted."""
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


def cost_per_mtok(price_si, rate, util=1.0):
    """USD per million output tokens of a GPU at ``price_si`` USD per GPU-second making ``rate``
    tokens/s at utilisation ``util`` (:data:`.fleet.token_cost`)."""
    return convert(fleet.token_cost(price=price_si, R_gpu=rate, util=util), "USD/token", "USD/Mtok")


@lru_cache(maxsize=None)
def _prices() -> dict:
    return read_yaml("prices.yaml")


def api_price(name: str) -> dict[str, Value]:
    """API prices of ``name`` (``deepseek-r1``): input_cache_hit, input_cache_miss, output."""
    table = _prices()["api"]
    if name not in table:
        raise unknown("API price list", name, table)
    return {k: cited_value(v, f"prices.yaml api.{name}.{k}", "USD/token")
            for k, v in table[name].items() if isinstance(v, Mapping)}


def gpu_hour_price(name: str) -> Value:
    """Rental price of one GPU-hour for GPU ``name``."""
    table = _prices()["gpu_hour"]
    if name not in table:
        raise unknown("GPU-hour price", name, table)
    return cited_value(table[name], f"prices.yaml gpu_hour.{name}", "USD/GPU/h")


