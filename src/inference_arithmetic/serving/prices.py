"""GPU-hour prices, each with its source: providers' price lists (``data/price_sources.yaml``,
on demand and reserved) and single quotes (``data/prices.yaml``), and API token prices.

The book's **one price list** for comparisons is :func:`default_price_source`, the provider list
that prices the most GPUs of the catalog in both tiers (reserved and on demand: the planner buys a
reserved floor and an on-demand burst), then the most on demand (ties: the first name in
alphabetical order).  The planner buys from a :class:`PriceSet`: one source, several, or every
provider list (``all``), each GPU at its cheapest listed price per tier (:func:`price_set`); with no
``--prices`` it takes the one source that prices every GPU asked for (:func:`default_price_source`
with the GPUs).  A source with ``offer: false`` (DeepSeek's accounting price, a vendor's market
reference) is no provider's offer: ``all`` leaves it out, and the default takes it only where no
provider list prices the GPUs asked for.  Units: ``usd_per_hour`` USD per GPU-hour, ``si`` USD per GPU-second, costs
in USD per million tokens.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
import math
from typing import Mapping

from inference_arithmetic.core.cited import Value, cited_value, read_yaml, unknown
from inference_arithmetic.core.errors import CatalogError, InputError
from inference_arithmetic.core.inputs import short
from inference_arithmetic.core.units import convert
from inference_arithmetic.hardware.gpus import gpus as all_gpus

__all__ = ["price_sources", "default_price_source", "price_table", "is_offer", "offers", "priced_by", "TierPrice",
           "PriceSet", "price_set", "PriceQuote", "price_quotes", "list_quotes",
           "price_band", "quotes_by_source", "cost_per_mtok", "api_price", "gpu_hour_price"]


@lru_cache(maxsize=None)
def price_sources() -> dict:
    """Published GPU-hour prices by source: ``{source: {"name", "src", "gpus": {gpu: {on_demand,
    reserved}}}}`` from ``data/price_sources.yaml``."""
    raw = read_yaml("price_sources.yaml")
    return {k: v for k, v in raw.items() if isinstance(v, dict) and "gpus" in v}


def is_offer(source: str) -> bool:
    """Whether ``source`` is a provider's price list (``offer`` is not false in the file)."""
    return price_sources()[source].get("offer", True) is not False


def offers() -> list[str]:
    """Every provider price list, in the file's order."""
    return [k for k in price_sources() if is_offer(k)]


def _on_demand(source: str) -> set[str]:
    return {g for g, p in price_sources()[source]["gpus"].items() if p.get("on_demand")}


def priced_by(gpu_names=None) -> dict[str, list[str]]:
    """The sources pricing each GPU on demand (``gpu_names``; default: the catalog), offers first."""
    names = list(gpu_names) if gpu_names is not None else list(all_gpus())
    order = offers() + [k for k in price_sources() if not is_offer(k)]
    return {g: [k for k in order if g in _on_demand(k)] for g in names}


def default_price_source(gpu_names=None) -> str:
    """The one source the planner uses without ``--prices``.

    Of the sources pricing every GPU of ``gpu_names`` on demand (default: any source): a provider
    list before a non-offer, then the one pricing the most catalog GPUs in both tiers (a reserved
    and an on-demand price: the elastic planner's floor and burst; a list with no reserved price
    rents the whole fleet on demand), then the most on demand, then the first name in
    alphabetical order.  When no source prices them
    all, an :class:`InputError` says which sources price which GPU.
    """
    known = set(all_gpus())
    want = set(gpu_names or ())

    def score(k):
        g = _on_demand(k) & known
        reserved = sum(1 for x in g if price_sources()[k]["gpus"][x].get("reserved"))
        return (not is_offer(k), -reserved, -len(g), k)
    fit = [k for k in price_sources() if want <= _on_demand(k)]
    if not fit:
        raise InputError(_who_prices(gpu_names, f"no one price source prices all of {', '.join(gpu_names)}"))
    return min(fit, key=score)


def _who_prices(gpu_names, head: str) -> str:
    table = priced_by(gpu_names)
    parts = [f"{g}: {', '.join(v) if v else 'none'}" for g, v in table.items()]
    return (f"{head} (sources per GPU: {'; '.join(parts)}); name the sources with --prices A,B "
            f"('all,B' adds B to every provider list) or leave out a GPU no source prices")


def price_table(source: str) -> dict[str, tuple[float, float]]:
    """``{gpu: (on demand, reserved)}`` USD per GPU-hour of one source; reserved is the on-demand
    price where the source publishes none (the GPU is then rented on demand throughout)."""
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
class TierPrice:
    """The cheapest price of one GPU per tier over a set of sources (USD per GPU-hour) and the
    source of each; ``reserved`` is ``inf`` (``reserved_source`` empty) where none publishes one."""

    gpu: str
    on_demand: float
    on_demand_source: str
    reserved: float = math.inf
    reserved_source: str = ""


@dataclass(frozen=True)
class PriceSet:
    """What the planner buys from: ``label`` as asked (a source, ``a,b``, ``all``), the ``sources``
    it reads and each GPU's :class:`TierPrice` (``gpus``)."""

    label: str
    sources: tuple
    gpus: dict

    def __getitem__(self, gpu_key: str) -> TierPrice:
        return self.gpus[gpu_key]

    def __contains__(self, gpu_key: str) -> bool:
        return gpu_key in self.gpus


def _cheapest(gpu_key: str, sources) -> TierPrice | None:
    od = [(price_table(k)[gpu_key][0], k) for k in sources if gpu_key in price_table(k)]
    if not od:
        return None
    res = [(float(price_sources()[k]["gpus"][gpu_key]["reserved"]), k) for k in sources
           if gpu_key in price_table(k) and price_sources()[k]["gpus"][gpu_key].get("reserved")]
    (p_od, s_od), (p_res, s_res) = min(od), min(res, default=(math.inf, ""))
    return TierPrice(gpu_key, p_od, s_od, p_res, s_res)


def price_set(spec: str | None = None, gpu_names=None) -> PriceSet:
    """The prices the planner buys at.

    ``spec`` ``None``: the one source :func:`default_price_source` picks for ``gpu_names``;
    ``"a,b"``: those sources; ``all`` in the list stands for every provider list (:func:`offers`;
    a non-offer is read only when named: ``all,deepseek-day6``).  Each GPU costs its cheapest on-demand and cheapest reserved price
    over the set.  An unknown source, an empty name, or a GPU of ``gpu_names`` that no source of the
    set prices is a one-line error.
    """
    known = price_sources()
    if spec is None:
        names = (default_price_source(gpu_names),)
        label = names[0]
    else:
        parts = [x.strip() for x in str(spec).split(",")]
        if not parts or any(not x for x in parts) or len(parts) > 64:
            raise InputError("--prices needs a price source name, a comma-separated list of them, or all")
        for x in parts:
            if x != "all" and x not in known:
                raise CatalogError(f"unknown price source {short(x)} (known: all, {', '.join(sorted(known))})")
        names = tuple(dict.fromkeys(y for x in parts for y in (offers() if x == "all" else [x])))
        label = ",".join(dict.fromkeys(parts))
    catalog = set(all_gpus())
    table = {}
    for g in sorted({g for k in names for g in price_table(k)} & catalog, key=list(all_gpus()).index):
        table[g] = _cheapest(g, names)
    missing = [g for g in (gpu_names or ()) if g not in table]
    if missing:
        raise InputError(_who_prices(gpu_names, f"the prices {short(label)} do not price {', '.join(missing)}"))
    return PriceSet(label, names, table)


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
    """Every on-demand price of ``price_sources.yaml`` (one block per price list), with ``source``
    the block's id (``hyperstack-2026-08``) and ``vendor_quoted`` the block's flag."""
    out = []
    for source, block in price_sources().items():
        for g, p in block["gpus"].items():
            if p.get("on_demand"):
                usd = float(p["on_demand"])
                out.append(PriceQuote(g, usd, convert(usd, "USD/GPU/h", "USD/GPU/s"), block["src"],
                                      str(p.get("note", "")), bool(block.get("vendor_quoted", False)), source))
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
    from inference_arithmetic.serving import fleet   # the checked formula (sympy): not on the planner's path
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


