"""User data, validated in one place: config.json fields, files, and numbers from arguments.

Nothing read from a file or typed by a user is ever evaluated as code: values are
checked here by type, sign and a stated sanity limit, and leave this module only as
Python ``int``, ``float``, ``bool`` or ``str``.  sympy never sees user text (the
formulas substitute these validated numbers only).  Every problem raises the
library's own error (:class:`~.errors.CatalogError` for a config,
:class:`~.errors.InputError` for a number) with a one-line message naming the field.

The limits are sanity limits, far above any real model or deployment, so that a typo
(an extra six zeros) or a hostile file is refused instead of producing a silent
nonsense number or exhausting memory.
"""
from __future__ import annotations

import json
import math
import numbers
import os
import re
import stat
from pathlib import Path
from typing import Any, Mapping

from inference_arithmetic.core.errors import CatalogError, InputError

__all__ = ["CONFIG_LIMITS", "MAX_CONFIG_BYTES", "MAX_JSON_DEPTH", "MAX_GRID_POINTS", "MAX_INT",
           "config_int", "config_bool", "config_str", "config_object", "config_source", "read_json_file",
           "number", "parse_int", "parse_float", "short", "read_numbers_file", "printable", "safe_name",
           "MAX_NAME_CHARS", "MAX_PER_USER", "MAX_TTFT_S"]

#: Largest config.json read, bytes (real ones are a few kB).
MAX_CONFIG_BYTES = 1_000_000
#: Deepest nesting of JSON objects and lists accepted in a config.
MAX_JSON_DEPTH = 32
#: Most points one command-line grid may evaluate (all ranges multiplied): a cap on time and
#: memory as well as on points, the largest grid (``sol --json``, every column) answering in about
#: a second and under 200 MB (about 5 microseconds and 1 kB a point past the start-up).
MAX_GRID_POINTS = 100_000
#: Largest integer accepted from an argument where no tighter limit applies.
MAX_INT = 10**9
#: Fastest per-user speed a service level may ask for, tokens/s (far above any decode).
MAX_PER_USER = 1e5
#: Longest time to first token a service level may allow, s (an hour).
MAX_TTFT_S = 3600.0

#: Sanity limits of config.json integer fields: (least, most).
CONFIG_LIMITS: dict[str, tuple[int, int]] = {
    "hidden_size": (1, 2**20),
    "num_hidden_layers": (1, 10_000),
    "num_attention_heads": (1, 2**16),
    "num_key_value_heads": (1, 2**16),
    "head_dim": (1, 2**16),
    "vocab_size": (1, 2**24),
    "intermediate_size": (1, 2**22),
    "moe_intermediate_size": (1, 2**22),
    "shared_expert_intermediate_size": (0, 2**22),
    "n_routed_experts": (1, 2**16),
    "num_experts": (1, 2**16),
    "num_local_experts": (1, 2**16),
    "n_shared_experts": (0, 2**10),
    "num_experts_per_tok": (1, 2**10),
    "first_k_dense_replace": (0, 10_000),
    "moe_layer_freq": (1, 10_000),
    "decoder_sparse_step": (1, 10_000),
    "q_lora_rank": (1, 2**16),
    "kv_lora_rank": (1, 2**16),
    "qk_rope_head_dim": (1, 2**16),
    "qk_nope_head_dim": (0, 2**16),
    "v_head_dim": (1, 2**16),
    "num_nextn_predict_layers": (0, 64),
    "n_group": (1, 2**16),
    "topk_group": (1, 2**16),
    "sliding_window": (1, 2**24),
    "interleave_moe_layer_step": (1, 10_000),
    "intermediate_size_mlp": (1, 2**22),
    "sliding_window_pattern": (1, 10_000),
    "index_topk": (1, 2**24),
    "index_n_heads": (1, 2**16),
    "index_head_dim": (1, 2**16),
    "max_position_embeddings": (1, 2**24),
}

_MISSING = object()


def short(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, for one-line messages."""
    try:
        text = repr(value)
    except Exception:  # a repr that fails is reported by type only
        text = f"<{type(value).__name__}>"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


#: Longest user-given name (a config file's stem) kept in messages and outputs, characters.
MAX_NAME_CHARS = 80


def printable(text: str) -> str:
    """``text`` with every character that is not printable (controls, lone surrogates from
    undecodable file-name bytes, format characters) written as its Python escape (``\\x1b``,
    ``\\udcff``); newlines and tabs kept.  Fast for text that needs no escape."""
    if text.replace("\n", "").replace("\t", "").isprintable():
        return text
    return "".join(c if c.isprintable() or c in "\n\t" else repr(c)[1:-1] for c in text)


def safe_name(value: Any, limit: int = MAX_NAME_CHARS) -> str:
    """A user-given name as shown in messages and outputs: non-printable characters escaped
    (:func:`printable`, whitespace runs as one space) and cut to ``limit`` characters."""
    text = " ".join(printable(value if isinstance(value, str) else str(value)).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def config_int(cfg: Mapping, key: str, where: str, default: Any = _MISSING,
               least: int | None = None, most: int | None = None) -> int:
    """Field ``key`` of a config as a Python int within :data:`CONFIG_LIMITS` (or the given bounds).

    Only a JSON integer is accepted: a string (``"6144"``), a float, a boolean or a list is
    refused.  ``default`` is returned when the field is absent or null.
    """
    v = cfg.get(key)
    if v is None:
        if default is _MISSING:
            raise CatalogError(f"{where}: incomplete config, missing {key}")
        return default
    lo, hi = CONFIG_LIMITS.get(key, (1, MAX_INT))
    lo = lo if least is None else least
    hi = hi if most is None else most
    if isinstance(v, bool) or not isinstance(v, int):
        raise CatalogError(f"{where}: {key} must be a JSON integer, got {short(v)}")
    if not lo <= v <= hi:
        raise CatalogError(f"{where}: {key} must be an integer in {lo}..{hi:,}, got {short(v)}")
    return int(v)


def config_bool(cfg: Mapping, key: str, where: str, default: bool) -> bool:
    """Field ``key`` as a JSON boolean (``true``/``false``, not the string ``"false"``)."""
    v = cfg.get(key)
    if v is None:
        return default
    if not isinstance(v, bool):
        raise CatalogError(f"{where}: {key} must be a JSON boolean (true or false), got {short(v)}")
    return v


def config_str(cfg: Mapping, key: str, where: str, default: str | None = None) -> str | None:
    """Field ``key`` as a short string (at most 200 characters)."""
    v = cfg.get(key)
    if v is None:
        return default
    if not isinstance(v, str) or len(v) > 200:
        raise CatalogError(f"{where}: {key} must be a string of at most 200 characters, got {short(v)}")
    return v


def config_object(cfg: Mapping, key: str, where: str) -> Mapping | None:
    """Field ``key`` as a JSON object (``None`` when absent)."""
    v = cfg.get(key)
    if v is not None and not isinstance(v, Mapping):
        raise CatalogError(f"{where}: {key} must be a JSON object, got {short(v)}")
    return v


def config_source(cfg: Mapping, where: str) -> str:
    """The ``_source.key`` of a shipped config (a references.bib key), or ``""``."""
    src = config_object(cfg, "_source", where)
    if src is None:
        return ""
    return config_str(src, "key", f"{where} _source", "") or ""


def _depth(x: Any, limit: int) -> int:
    """Nesting depth of JSON data, iteratively (stops counting past ``limit``)."""
    stack = [(x, 1)]
    deepest = 0
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        if deepest > limit:
            return deepest
        if isinstance(node, dict):
            stack.extend((v, d + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, d + 1) for v in node)
    return deepest


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def read_json_file(path: str | Path) -> tuple[Any, str]:
    """The JSON data of a regular file of at most :data:`MAX_CONFIG_BYTES`, and the file's stem.

    Refuses directories, devices, pipes and sockets (a read that could hang or never end),
    larger files, text that is not UTF-8, ``NaN``/``Infinity``, integers too long to
    convert, and nesting deeper than :data:`MAX_JSON_DEPTH`.
    """
    p = Path(path)
    label = short(str(p), 80)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise CatalogError(f"{label}: no such file") from None
    except (OSError, ValueError) as e:  # name too long, embedded NUL, permission
        raise CatalogError(f"{label}: cannot read ({e.__class__.__name__})") from None
    if not stat.S_ISREG(st.st_mode):
        raise CatalogError(f"{label}: not a regular file")
    if st.st_size > MAX_CONFIG_BYTES:
        raise CatalogError(f"{label}: larger than {MAX_CONFIG_BYTES:,} bytes; not a config.json")
    try:
        # O_NONBLOCK: if the file was swapped for a pipe after the check, the read returns at once
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError as e:
        raise CatalogError(f"{label}: cannot read ({e.__class__.__name__})") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise CatalogError(f"{label}: larger than {MAX_CONFIG_BYTES:,} bytes; not a config.json")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CatalogError(f"{label}: not UTF-8 text") from None
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as e:
        raise CatalogError(f"{label}: not valid JSON (line {e.lineno}: {e.msg})") from None
    except RecursionError:
        raise CatalogError(f"{label}: JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as e:  # NaN/Infinity, or an integer with too many digits
        raise CatalogError(f"{label}: not valid JSON ({short(str(e), 80)})") from None
    if _depth(data, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise CatalogError(f"{label}: JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return data, p.stem


def number(value: Any, name: str, *, least: float = 0.0, most: float = 1e30, integer: bool = False,
           open_low: bool = False) -> int | float:
    """``value`` as a Python int or float, checked: a real number (not a bool or a string),
    finite, ``least <= value <= most`` (``least < value`` when ``open_low``), whole if ``integer``.

    Raises :class:`InputError` naming ``name``.
    """
    if isinstance(value, bool) or type(value).__name__ == "bool_" or not isinstance(value, numbers.Real):
        raise InputError(f"{name} must be a number, got {short(value)}")
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{name} must be a number, got {short(value)}") from None
    if not math.isfinite(x):
        raise InputError(f"{name} must be a finite number, got {short(value)}")
    low_ok = x > least if open_low else x >= least
    if not low_ok or x > most:
        rel = ">" if open_low else ">="
        raise InputError(f"{name} must be {rel} {least:g} and <= {most:g}, got {short(value)}")
    if integer:
        if x != int(x):
            raise InputError(f"{name} must be a whole number, got {short(value)}")
        return int(x)
    return x


_INT = re.compile(r"^\s*\d{1,12}\s*$", re.ASCII)   # ASCII digits only: not "١٢٣" or "５００"
_FLOAT = re.compile(r"^\s*(\d{1,15}(\.\d{0,15})?|\.\d{1,15})([eE][+-]?\d{1,3})?\s*$", re.ASCII)


def parse_int(text: str, name: str, *, least: int = 1, most: int = MAX_INT) -> int:
    """A whole number typed by a user (digits only; no sign, no expression) within bounds."""
    if not isinstance(text, str) or not _INT.match(text):
        raise InputError(f"{name} must be a whole number, got {short(text)}")
    return number(int(text), name, least=least, most=most, integer=True)


def parse_float(text: str, name: str, *, least: float = 0.0, most: float = 1e30,
                open_low: bool = False) -> float:
    """A non-negative decimal number typed by a user (``12``, ``0.5``, ``2e3``) within bounds."""
    if not isinstance(text, str) or not _FLOAT.match(text):
        raise InputError(f"{name} must be a number, got {short(text)}")
    return number(float(text), name, least=least, most=most, open_low=open_low)


def read_numbers_file(path: str | Path, what: str, most: int = 8784, column: str = "load") -> list[float]:
    """One column of non-negative numbers from a small text or CSV file: either one number per
    line, or comma-separated columns under a header that names the ``column`` to read
    (``hour,load``).  Anything else (several unnamed columns, other separators, a ragged line) is
    refused with its line number.

    The same limits as a config file: a regular file of at most :data:`MAX_CONFIG_BYTES`, UTF-8;
    every value must parse as a plain decimal number (no expressions); at most ``most`` values.
    """
    p = Path(path)
    label = short(str(p), 80)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise InputError(f"{label}: no such file") from None
    except (OSError, ValueError) as e:
        raise InputError(f"{label}: cannot read ({e.__class__.__name__})") from None
    if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_CONFIG_BYTES:
        raise InputError(f"{label}: not a regular file of at most {MAX_CONFIG_BYTES:,} bytes")
    try:
        text = p.read_bytes()[: MAX_CONFIG_BYTES + 1].decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{label}: cannot read ({e.__class__.__name__})") from None
    values: list[float] = []
    rows = [(i + 1, line.strip()) for i, line in enumerate(text.splitlines()) if line.strip()]
    if not rows:
        raise InputError(f"{label}: no numbers found ({what})")
    first = [c.strip() for c in rows[0][1].split(",")]
    col, width = 0, len(first)
    if not all(_FLOAT.match(c) for c in first):     # a header
        names = [c.lower() for c in first]
        if width > 1 and column not in names:
            raise InputError(f"{label}: line 1: name the column to read {column!r} in the header "
                             f"(got {short(rows[0][1], 60)})")
        col = names.index(column) if width > 1 else 0
        rows = rows[1:]
    elif width > 1:
        raise InputError(f"{label}: line 1: {width} columns; give one column of numbers, or a header "
                         f"naming the {column!r} column ({what})")
    for n, line in rows:
        cells = [c.strip() for c in line.split(",")]
        if len(cells) != width:
            raise InputError(f"{label}: line {n}: {len(cells)} columns where the file has {width} ({what})")
        c = cells[col]
        if not _FLOAT.match(c):
            raise InputError(f"{label}: line {n}: {short(c)} is not a non-negative number ({what})")
        values.append(number(float(c), what, most=1e15))
        if len(values) > most:
            raise InputError(f"{label}: more than {most:,} values ({what})")
    if not values:
        raise InputError(f"{label}: no numbers found ({what})")
    return values
