"""The GPU catalog (``data/gpus.yaml``): one frozen record per accelerator, every value cited."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Mapping

from inference_arithmetic.core.cited import Value, cited_value, read_yaml, unknown
from inference_arithmetic.core.errors import CatalogError
from inference_arithmetic.core.units import convert

__all__ = ["GPU", "gpus", "gpu", "gpu_spec_rows", "GENERATION", "generation", "VENDOR", "vendor"]


@dataclass(frozen=True)
class GPU:
    """One accelerator. Amounts in SI: bytes, bytes/s, FLOP/s (dense). ``None``: unsupported.

    ``hbm_capacity`` [B] is the HBM the device exposes (``hbm_bytes`` of gpus.yaml: nvidia-smi
    memory.total or rocm-smi VRAM total, read in MiB or B through :func:`.core.units.convert`): the one
    capacity the memory model reads.  ``hbm_datasheet`` [B] is the datasheet "GB" figure read as
    10**9 B (``hbm_capacity`` of gpus.yaml), kept for what the datasheet says."""

    key: str
    name: str
    hbm_capacity: float
    hbm_datasheet: float
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


#: gpus.yaml key -> (GPU field, SI unit); ``hbm_bytes`` (device) fills ``hbm_capacity``, the datasheet
#: ``hbm_capacity`` fills ``hbm_datasheet``.
_GPU_FIELDS = {"hbm_capacity": "hbm_datasheet", "hbm_bytes": "hbm_capacity"}
_GPU_UNITS = {"hbm_capacity": "B", "hbm_bytes": "B", "hbm_bandwidth": "B/s", "dense_bf16": "FLOP/s",
              "dense_fp8": "FLOP/s", "dense_fp4": "FLOP/s", "nvlink": "B/s",
              "scale_out": "B/s", "nvlink_domain": "GPU"}


@lru_cache(maxsize=None)
def gpus() -> Mapping[str, GPU]:
    """All GPUs of ``data/gpus.yaml`` by key."""
    out = {}
    for key, raw in read_yaml("gpus.yaml").items():
        vals: dict[str, Value] = {}
        kw: dict[str, Any] = {}
        for f, unit in _GPU_UNITS.items():
            if f not in raw:
                raise CatalogError(f"gpus.yaml {key}: missing {f}")
            if raw[f] is None:
                if f != "dense_fp4":
                    raise CatalogError(f"gpus.yaml {key}: {f} may not be null")
                kw[_GPU_FIELDS.get(f, f)] = None
                continue
            v = cited_value(raw[f], f"gpus.yaml {key}.{f}", unit)
            vals[f] = v
            kw[_GPU_FIELDS.get(f, f)] = int(v.si) if f == "nvlink_domain" else v.si
        out[key] = GPU(key=key, name=str(raw.get("name", key)), values=vals, **kw)
    return out


def gpu_spec_rows() -> list[dict]:
    """The GPU catalog as rows in datasheet units (GB, TB/s, TFLOP/s, GB/s per direction).

    ``hbm_GB`` is the datasheet capacity; ``hbm_device_GiB`` the capacity the device exposes
    (what the memory model reads), in GiB as nvidia-smi/rocm-smi count.

    ``None`` marks an unsupported dtype; ``sources`` lists the references.bib keys
    the row's datasheet values come from, ``hbm_device_src`` the device capacity's.  The CLI's ``gpus`` and the book's GPU table use it.
    """
    rows = []
    for g in gpus().values():
        rows.append({"gpu": g.key, "name": g.name, "hbm_GB": convert(g.hbm_datasheet, "B", "GB"),
                     "hbm_device_GiB": convert(g.hbm_capacity, "B", "GiB"),
                     "hbm_TB_per_s": convert(g.hbm_bandwidth, "B/s", "TB/s"),
                     "bf16_TFLOP_per_s": convert(g.dense_bf16, "FLOP/s", "TFLOP/s"),
                     "fp8_TFLOP_per_s": convert(g.dense_fp8, "FLOP/s", "TFLOP/s"),
                     "fp4_TFLOP_per_s": None if g.dense_fp4 is None else convert(g.dense_fp4, "FLOP/s", "TFLOP/s"),
                     "nvlink_GB_per_s": convert(g.nvlink, "B/s", "GB/s"),
                     "scale_out_GB_per_s": convert(g.scale_out, "B/s", "GB/s"),
                     "nvlink_domain": g.nvlink_domain,
                     "hbm_device_src": g.values["hbm_bytes"].src if "hbm_bytes" in g.values else None,
                     "sources": sorted({v.src for k, v in g.values.items() if k != "hbm_bytes"})})
    return rows


def gpu(name: str) -> GPU:
    """The GPU called ``name`` (case-insensitive); an unknown name suggests the nearest."""
    table = gpus()
    for k, g in table.items():
        if str(name).strip().lower() == k.lower():
            return g
    raise unknown("GPU", name, table)


#: The GPU architecture generation of each catalog GPU (the validation error is stated per generation).
GENERATION = {"H800": "Hopper", "H100": "Hopper", "H200": "Hopper", "H20": "Hopper",
              "B200": "Blackwell", "B300": "Blackwell", "GB200": "Blackwell", "GB300": "Blackwell",
              "MI300X": "CDNA3", "MI325X": "CDNA3", "MI355X": "CDNA4"}

#: The vendor of each architecture generation (the validation error is also stated per vendor).
VENDOR = {"Hopper": "NVIDIA", "Blackwell": "NVIDIA", "CDNA3": "AMD", "CDNA4": "AMD"}


def generation(gpu_key: str) -> str:
    """``Hopper``, ``Blackwell``, ``CDNA3`` or ``CDNA4`` (``other`` for a GPU outside :data:`GENERATION`)."""
    return GENERATION.get(gpu_key, "other")


def vendor(gpu_key: str) -> str:
    """``NVIDIA`` or ``AMD`` (``other`` for a GPU outside :data:`GENERATION`)."""
    return VENDOR.get(generation(gpu_key), "other")
