"""Catalogs: models (config.json-shaped), GPUs, prices and published measurements.

Every record is a frozen dataclass built from a data file under ``data/`` and
validated on load: each value carries a unit of the right dimension and a source
key (a ``references.bib`` entry).  Amounts are stored in SI base units.
Any problem raises :class:`CatalogError` with a one-line message.
"""
from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import yaml

from .units import UnitError, convert, dims_of, parse_unit

__all__ = [
    "CatalogError", "Value", "GPU", "Model", "gpu", "gpus", "model", "models",
    "read_config", "parse_config", "measurement", "measurements", "api_price",
    "gpu_hour_price", "source_keys", "gpu_spec_rows",
]


class CatalogError(ValueError):
    """A catalog entry or a user-supplied config is missing, malformed or unknown."""


DATA = resources.files(__package__) / "data"


@dataclass(frozen=True)
class Value:
    """A sourced catalog value. ``si`` is in SI base units; ``value`` and ``unit`` as published."""

    value: float
    unit: str
    src: str
    note: str = ""

    @property
    def si(self) -> float:
        return self.value * parse_unit(self.unit)[1]

    def to(self, unit: str) -> float:
        d, f = parse_unit(unit)
        if d != dims_of(self.unit):
            raise UnitError(f"cannot express {self.unit} in {unit}")
        return self.si / f


def _value(raw: Any, where: str, want_unit: str | None = None) -> Value:
    if not isinstance(raw, Mapping):
        raise CatalogError(f"{where}: expected {{value, unit, src}}, got {raw!r}")
    missing = [k for k in ("value", "unit", "src") if k not in raw]
    if missing:
        raise CatalogError(f"{where}: missing {', '.join(missing)}")
    v = raw["value"]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
        raise CatalogError(f"{where}: value must be a non-negative number, got {v!r}")
    try:
        dims = dims_of(str(raw["unit"]))
    except UnitError as e:
        raise CatalogError(f"{where}: {e}") from None
    if want_unit is not None and dims != dims_of(want_unit):
        raise CatalogError(f"{where}: unit {raw['unit']} is not a {want_unit}-like unit")
    if not str(raw["src"]).strip():
        raise CatalogError(f"{where}: empty source")
    return Value(float(v), str(raw["unit"]), str(raw["src"]), str(raw.get("note", "")))


def _yaml(name: str) -> dict:
    return yaml.safe_load((DATA / name).read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- GPUs
@dataclass(frozen=True)
class GPU:
    """One accelerator. Amounts in SI: bytes, bytes/s, FLOP/s (dense). ``None``: unsupported."""

    key: str
    name: str
    hbm_capacity: float
    hbm_bandwidth: float
    dense_bf16: float
    dense_fp8: float
    dense_fp4: float | None
    nvlink: float
    scale_out: float
    nvlink_domain: int
    values: Mapping[str, Value] = field(repr=False, compare=False)

    def flops(self, dtype: str) -> float:
        """Dense matrix FLOP/s for ``dtype`` (bf16, fp8, fp4); raises ``CatalogError`` if unsupported."""
        d = dtype.lower()
        val = {"bf16": self.dense_bf16, "fp16": self.dense_bf16, "fp8": self.dense_fp8,
               "fp4": self.dense_fp4}.get(d, "unknown")
        if val == "unknown":
            raise CatalogError(f"unsupported dtype {dtype!r}: use bf16, fp8 or fp4")
        if val is None:
            raise CatalogError(f"{self.key} has no {d} tensor cores")
        return val


_GPU_UNITS = {"hbm_capacity": "B", "hbm_bandwidth": "B/s", "dense_bf16": "FLOP/s",
              "dense_fp8": "FLOP/s", "dense_fp4": "FLOP/s", "nvlink": "B/s",
              "scale_out": "B/s", "nvlink_domain": "GPU"}


@lru_cache(maxsize=None)
def gpus() -> Mapping[str, GPU]:
    """All GPUs of ``data/gpus.yaml`` by key."""
    out = {}
    for key, raw in _yaml("gpus.yaml").items():
        vals: dict[str, Value] = {}
        kw: dict[str, Any] = {}
        for f, unit in _GPU_UNITS.items():
            if f not in raw:
                raise CatalogError(f"gpus.yaml {key}: missing {f}")
            if raw[f] is None:
                if f != "dense_fp4":
                    raise CatalogError(f"gpus.yaml {key}: {f} may not be null")
                kw[f] = None
                continue
            v = _value(raw[f], f"gpus.yaml {key}.{f}", unit)
            vals[f] = v
            kw[f] = int(v.si) if f == "nvlink_domain" else v.si
        out[key] = GPU(key=key, name=str(raw.get("name", key)), values=vals, **kw)
    return out


def gpu_spec_rows() -> list[dict]:
    """The GPU catalog as rows in datasheet units (GB, TB/s, TFLOP/s, GB/s per direction).

    ``None`` marks an unsupported dtype; ``sources`` lists the references.bib keys
    the row's values come from.  The CLI's ``gpus`` and the book's GPU table use it.
    """
    rows = []
    for g in gpus().values():
        rows.append({"gpu": g.key, "name": g.name, "hbm_GB": convert(g.hbm_capacity, "B", "GB"),
                     "hbm_TB_per_s": convert(g.hbm_bandwidth, "B/s", "TB/s"),
                     "bf16_TFLOP_per_s": convert(g.dense_bf16, "FLOP/s", "TFLOP/s"),
                     "fp8_TFLOP_per_s": convert(g.dense_fp8, "FLOP/s", "TFLOP/s"),
                     "fp4_TFLOP_per_s": None if g.dense_fp4 is None else convert(g.dense_fp4, "FLOP/s", "TFLOP/s"),
                     "nvlink_GB_per_s": convert(g.nvlink, "B/s", "GB/s"),
                     "scale_out_GB_per_s": convert(g.scale_out, "B/s", "GB/s"),
                     "nvlink_domain": g.nvlink_domain,
                     "sources": sorted({v.src for v in g.values.values()})})
    return rows


def _unknown(kind: str, name: str, known) -> CatalogError:
    close = difflib.get_close_matches(str(name), list(known), n=3, cutoff=0.4)
    close += [k for k in known if str(name).lower() == k.lower() and k not in close]
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return CatalogError(f"unknown {kind} {name!r}{hint} (known: {', '.join(known)})")


def gpu(name: str) -> GPU:
    """The GPU called ``name`` (case-insensitive); an unknown name suggests the nearest."""
    table = gpus()
    for k, g in table.items():
        if str(name).strip().lower() == k.lower():
            return g
    raise _unknown("GPU", name, table)


# --------------------------------------------------------------------------- models
@dataclass(frozen=True)
class Model:
    """Architecture read from a Hugging Face config.json.

    ``attention`` is ``"mla"`` (DeepSeek-V2/V3 latent attention) or ``"gqa"`` (MHA is
    GQA with ``n_kv_heads == n_heads``).  MoE fields are zero for a dense model.
    """

    name: str
    attention: str
    h: int
    n_layers: int
    n_dense: int
    n_heads: int
    n_kv_heads: int
    d_head: int
    d_ff: int
    vocab: int
    tie_embeddings: bool
    n_experts: int = 0
    n_shared: int = 0
    top_k: int = 0
    d_e: int = 0
    d_shared: int = 0
    d_q: int = 0          # MLA q_lora_rank; 0 when queries are not low-rank
    d_c: int = 0
    d_r: int = 0
    d_nope: int = 0
    d_v: int = 0
    n_mtp: int = 0
    route_groups: int = 0  # topk_group: most expert groups (nodes, in DeepSeek's training) a token may use
    source: str = ""

    @property
    def n_moe(self) -> int:
        return self.n_layers - self.n_dense

    @property
    def is_moe(self) -> bool:
        return self.n_experts > 0

    def symbol_values(self) -> dict[str, float]:
        """Values for the model symbols of :mod:`inference_arithmetic.symbols`."""
        return {k: getattr(self, k) for k in (
            "h", "n_layers", "n_dense", "n_heads", "n_kv_heads", "d_head", "d_ff",
            "vocab", "n_experts", "n_shared", "top_k", "d_e", "d_q", "d_c", "d_r",
            "d_nope", "d_v", "n_mtp")}


def _int(cfg: Mapping, key: str, where: str, *, minimum: int = 1) -> int:
    v = cfg[key]
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
        raise CatalogError(f"{where}: {key} must be an integer >= {minimum}, got {v!r}")
    return v


def _need(cfg: Mapping, keys, where: str) -> None:
    missing = [k for k in keys if cfg.get(k) is None]
    if missing:
        raise CatalogError(f"{where}: incomplete config, missing {', '.join(missing)}")


_MLA_TYPES = {"deepseek_v2", "deepseek_v3", "deepseek_v32", "kimi_k2"}
_GQA_DENSE = {"llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "phi3", "olmo2"}
_GQA_MOE = {"mixtral", "qwen2_moe", "qwen3_moe"}


def parse_config(cfg: Mapping, name: str = "model") -> Model:
    """A :class:`Model` from a config.json dictionary; one-line ``CatalogError`` on any problem."""
    where = name
    if not isinstance(cfg, Mapping):
        raise CatalogError(f"{where}: a config.json must hold a JSON object")
    mtype = cfg.get("model_type")
    is_mla = mtype in _MLA_TYPES or "kv_lora_rank" in cfg
    _need(cfg, ["hidden_size", "num_hidden_layers", "num_attention_heads", "vocab_size"], where)
    h = _int(cfg, "hidden_size", where)
    n_layers = _int(cfg, "num_hidden_layers", where)
    n_heads = _int(cfg, "num_attention_heads", where)
    vocab = _int(cfg, "vocab_size", where)
    tie = bool(cfg.get("tie_word_embeddings", False))
    common = dict(name=name, h=h, n_layers=n_layers, n_heads=n_heads, vocab=vocab,
                  tie_embeddings=tie, source=str(cfg.get("_source", {}).get("key", "")))
    if is_mla:
        _need(cfg, ["kv_lora_rank", "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim",
                    "intermediate_size"], where)
        moe = cfg.get("n_routed_experts") is not None
        if moe:
            _need(cfg, ["moe_intermediate_size", "num_experts_per_tok"], where)
        q_lora = cfg.get("q_lora_rank")
        n_dense = cfg.get("first_k_dense_replace", 0) if moe else n_layers
        if isinstance(n_dense, bool) or not isinstance(n_dense, int) or not 0 <= n_dense <= n_layers:
            raise CatalogError(f"{where}: first_k_dense_replace must be in 0..{n_layers}")
        if moe and cfg.get("moe_layer_freq", 1) != 1:
            raise CatalogError(f"{where}: moe_layer_freq other than 1 is not supported")
        return Model(
            attention="mla", n_dense=n_dense, n_kv_heads=n_heads, d_head=0,
            d_ff=_int(cfg, "intermediate_size", where),
            n_experts=_int(cfg, "n_routed_experts", where) if moe else 0,
            n_shared=_int(cfg, "n_shared_experts", where, minimum=0) if moe and cfg.get("n_shared_experts") is not None else 0,
            top_k=_int(cfg, "num_experts_per_tok", where) if moe else 0,
            d_e=_int(cfg, "moe_intermediate_size", where) if moe else 0,
            d_shared=_int(cfg, "moe_intermediate_size", where) if moe else 0,
            d_q=0 if q_lora is None else _int(cfg, "q_lora_rank", where),
            d_c=_int(cfg, "kv_lora_rank", where), d_r=_int(cfg, "qk_rope_head_dim", where),
            d_nope=_int(cfg, "qk_nope_head_dim", where), d_v=_int(cfg, "v_head_dim", where),
            n_mtp=_int(cfg, "num_nextn_predict_layers", where, minimum=0) if cfg.get("num_nextn_predict_layers") is not None else 0,
            route_groups=_int(cfg, "topk_group", where) if moe and cfg.get("topk_group") is not None else 0,
            **common)
    if mtype not in _GQA_DENSE | _GQA_MOE and "num_key_value_heads" not in cfg and mtype is None:
        raise CatalogError(f"{where}: no model_type and no num_key_value_heads: not a decoder config this reader knows")
    n_kv = _int(cfg, "num_key_value_heads", where) if cfg.get("num_key_value_heads") is not None else n_heads
    if n_heads % n_kv:
        raise CatalogError(f"{where}: num_attention_heads {n_heads} is not a multiple of num_key_value_heads {n_kv}")
    d_head = _int(cfg, "head_dim", where) if cfg.get("head_dim") is not None else h // n_heads
    if mtype == "mixtral" or cfg.get("num_local_experts") is not None:
        _need(cfg, ["num_local_experts", "num_experts_per_tok", "intermediate_size"], where)
        ff = _int(cfg, "intermediate_size", where)
        return Model(attention="gqa", n_dense=0, n_kv_heads=n_kv, d_head=d_head, d_ff=ff,
                     n_experts=_int(cfg, "num_local_experts", where),
                     top_k=_int(cfg, "num_experts_per_tok", where), d_e=ff, **common)
    if mtype in ("qwen2_moe", "qwen3_moe") or cfg.get("num_experts") is not None:
        _need(cfg, ["num_experts", "num_experts_per_tok", "moe_intermediate_size"], where)
        if cfg.get("decoder_sparse_step", 1) != 1 or cfg.get("mlp_only_layers"):
            raise CatalogError(f"{where}: decoder_sparse_step != 1 or mlp_only_layers is not supported")
        shared = cfg.get("shared_expert_intermediate_size") or 0
        return Model(attention="gqa", n_dense=0, n_kv_heads=n_kv, d_head=d_head,
                     d_ff=cfg.get("intermediate_size") or 0,
                     n_experts=_int(cfg, "num_experts", where),
                     n_shared=1 if shared else 0, d_shared=int(shared),
                     top_k=_int(cfg, "num_experts_per_tok", where),
                     d_e=_int(cfg, "moe_intermediate_size", where), **common)
    _need(cfg, ["intermediate_size"], where)
    return Model(attention="gqa", n_dense=n_layers, n_kv_heads=n_kv, d_head=d_head,
                 d_ff=_int(cfg, "intermediate_size", where), **common)


def read_config(path: str | Path) -> Model:
    """A :class:`Model` from a config.json file on disk."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogError(f"{p}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise CatalogError(f"{p}: cannot read ({e.__class__.__name__})") from None
    try:
        cfg = json.loads(text)
    except json.JSONDecodeError as e:
        raise CatalogError(f"{p}: not valid JSON (line {e.lineno}: {e.msg})") from None
    return parse_config(cfg, p.stem)


@lru_cache(maxsize=None)
def models() -> Mapping[str, Model]:
    """The shipped model configs by name (file stem)."""
    folder = DATA / "models"
    out = {}
    for f in sorted(folder.iterdir(), key=lambda x: x.name):
        if f.name.endswith(".json"):
            stem = f.name[:-5]
            out[stem] = parse_config(json.loads(f.read_text(encoding="utf-8")), stem)
    return out


def model(name: str) -> Model:
    """A shipped model by name (``deepseek-v3``); an unknown name suggests the nearest."""
    table = models()
    key = str(name).strip().lower()
    if key in table:
        return table[key]
    raise _unknown("model", name, table)


# --------------------------------------------------------------------------- prices, measurements
@lru_cache(maxsize=None)
def _prices() -> dict:
    return _yaml("prices.yaml")


def api_price(name: str) -> dict[str, Value]:
    """API prices of ``name`` (``deepseek-r1``): input_cache_hit, input_cache_miss, output."""
    table = _prices()["api"]
    if name not in table:
        raise _unknown("API price list", name, table)
    return {k: _value(v, f"prices.yaml api.{name}.{k}", "USD/token")
            for k, v in table[name].items() if isinstance(v, Mapping)}


def gpu_hour_price(name: str) -> Value:
    """Rental price of one GPU-hour for GPU ``name``."""
    table = _prices()["gpu_hour"]
    if name not in table:
        raise _unknown("GPU-hour price", name, table)
    return _value(table[name], f"prices.yaml gpu_hour.{name}", "USD/GPU/h")


@lru_cache(maxsize=None)
def measurements() -> Mapping[str, Mapping[str, Value]]:
    """Published measurements by group and key."""
    out = {}
    for group, items in _yaml("measurements.yaml").items():
        out[group] = {k: _value(v, f"measurements.yaml {group}.{k}")
                      for k, v in items.items() if isinstance(v, Mapping)}
    return out


def measurement(group: str, key: str) -> Value:
    """One published measurement, e.g. ``measurement("deepseek_day6", "peak_nodes")``."""
    table = measurements()
    if group not in table:
        raise _unknown("measurement group", group, table)
    if key not in table[group]:
        raise _unknown(f"measurement in {group}", key, table[group])
    return table[group][key]


def source_keys() -> set[str]:
    """Every source key the catalogs cite (each must be in references.bib)."""
    keys = {v.src for g in gpus().values() for v in g.values.values()}
    keys |= {v.src for grp in measurements().values() for v in grp.values()}
    for name in _prices()["api"]:
        keys |= {v.src for v in api_price(name).values()}
    keys |= {gpu_hour_price(n).src for n in _prices()["gpu_hour"]}
    keys |= {m.source for m in models().values()}
    return keys
