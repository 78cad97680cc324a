"""Sourced values read from the data files under ``data/``.

Every amount carries a unit of the right dimension and a source key (a ``references.bib``
entry); amounts are stored in SI base units.  Any problem raises :class:`CatalogError` with a
one-line message.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping


from inference_arithmetic.core.errors import CatalogError
from inference_arithmetic.core.inputs import short
from inference_arithmetic.core.units import UnitError, dims_of, parse_unit

try:                          # the built-in SHA-256 (random does the same): hashlib's OpenSSL costs a process 2-6 ms
    from _sha256 import sha256
except ImportError:           # Python 3.12 names it _sha2
    try:
        from _sha2 import sha256
    except ImportError:
        from hashlib import sha256

__all__ = ["DATA", "Value", "cited_value", "read_yaml", "unknown", "CACHED", "SAFE_LOADER"]

#: the package's data folder (a plain path: ``importlib.resources`` costs ~10 ms of imports per process,
#: and the package is always installed as files, ``pip install -e .`` or a wheel)
DATA = Path(__file__).resolve().parents[1] / "data"


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


def cited_value(raw: Any, where: str, want_unit: str | None = None) -> Value:
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



def _safe_loader():
    """libyaml's safe loader where PyYAML was built with it (the same documents, 5-10x faster), else
    PyYAML's.  ``yaml`` is imported here, on first use: an answer whose catalogs are all generated
    (:data:`CACHED`) never pays for it."""
    import yaml
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def __getattr__(name: str):
    if name == "SAFE_LOADER":      # the loader, as a module attribute (imports yaml when first asked for)
        return _safe_loader()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: the catalogs a command-line answer reads, also kept as generated Python (:mod:`.core.catalogs`,
#: ``make generate``): parsing their YAML is a fifth of a ``decode`` process
CACHED = ("fitted.yaml", "gpus.yaml", "kernels.yaml", "measurements.yaml", "price_sources.yaml", "prices.yaml",
          "validation_classes.yaml")


def read_yaml(name: str) -> dict:
    """A catalog of ``data/`` (safe YAML: plain data, never objects).  A catalog of :data:`CACHED`
    comes from its generated module while that module was generated from the file's present text
    (its SHA-256 matches), else it is parsed: an edited catalog is read as edited."""
    text = (DATA / name).read_text(encoding="utf-8")
    if name in CACHED:
        try:
            generated = importlib.import_module(f"inference_arithmetic.core.catalogs.{Path(name).stem}")
        except ImportError:
            generated = None
        if generated is not None and generated.SHA256 == sha256(text.encode("utf-8")).hexdigest():
            return generated.data()
    import yaml
    return yaml.load(text, Loader=_safe_loader())


def unknown(kind: str, name: str, known) -> CatalogError:
    import difflib            # an error message's only: not loaded by a process that answers
    text = str(name)[:200]
    close = difflib.get_close_matches(text, list(known), n=3, cutoff=0.4)
    close += [k for k in known if text.lower() == k.lower() and k not in close]
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return CatalogError(f"unknown {kind} {short(name)}{hint} (known: {', '.join(known)})")
