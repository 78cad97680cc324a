"""Published measurements (``data/measurements.yaml``) and API prices (``data/prices.yaml``), cited."""
from __future__ import annotations

from functools import lru_cache
from typing import Mapping

from inference_arithmetic.core.cited import Value, cited_value, read_yaml, unknown
from inference_arithmetic.hardware import gpus
from inference_arithmetic.model import config
from inference_arithmetic.serving import prices

__all__ = ["measurement", "measurements", "day6", "source_keys"]


@lru_cache(maxsize=None)
def measurements() -> Mapping[str, Mapping[str, Value]]:
    """Published measurements by group and key."""
    out = {}
    for group, items in read_yaml("measurements.yaml").items():
        out[group] = {k: cited_value(v, f"measurements.yaml {group}.{k}")
                      for k, v in items.items() if isinstance(v, Mapping)}
    return out


def measurement(group: str, key: str) -> Value:
    """One published measurement, e.g. ``measurement("deepseek_day6", "peak_nodes")``."""
    table = measurements()
    if group not in table:
        raise unknown("measurement group", group, table)
    if key not in table[group]:
        raise unknown(f"measurement in {group}", key, table[group])
    return table[group][key]


def day6(key: str) -> float:
    """One figure of DeepSeek's day-6 note (``measurements.yaml`` group ``deepseek_day6``) in SI units:
    the one accessor every module uses for DeepSeek's published day."""
    return measurement("deepseek_day6", key).si


def source_keys() -> set[str]:
    """Every source key the catalogs cite (each must be in references.bib)."""
    keys = {v.src for g in gpus.gpus().values() for v in g.values.values()}
    keys |= {v.src for grp in measurements().values() for v in grp.values()}
    for name in prices._prices()["api"]:
        keys |= {v.src for v in prices.api_price(name).values()}
    keys |= {prices.gpu_hour_price(n).src for n in prices._prices()["gpu_hour"]}
    keys |= {m.source for m in config.models().values()}
    for fam in read_yaml("kernels.yaml").values():        # the calibration set
        keys.add(fam["src"])
        keys |= {r["src"] for r in fam["rows"] if "src" in r}
    keys |= {e["src"] for e in read_yaml("validation.yaml").values()}  # the validation set
    keys |= {v["src"] for v in read_yaml("fitted.yaml").values()}  # fitted constants
    keys |= {v["src"] for v in read_yaml("price_sources.yaml").values() if isinstance(v, dict) and "src" in v}
    return keys
