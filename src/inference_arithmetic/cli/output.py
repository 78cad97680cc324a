"""Printing results as text (tables and lines) and as JSON, and writing them safely to a stream."""
from __future__ import annotations

import json
import math
from json.encoder import encode_basestring_ascii as _encode_str

import numpy as np

from inference_arithmetic.serving import search

from inference_arithmetic.core.inputs import printable
from inference_arithmetic.core.rounding import SIGNIFICANT_DIGITS, stable, stable_data


def print_model(d: dict) -> None:
    print(f"{d['model']}: {d['attention'].upper()} attention, {d['layers']} layers "
          f"({d['dense_layers']} dense, {d['moe_layers']} MoE)")
    if "experts" in d:
        print(f"  experts: {d['experts']} routed + {d['shared_experts']} shared, top-{d['top_k']}")
    for dt, b in d["kv_bytes_per_token"].items():
        print(f"  KV bytes per token, {dt}: {b:,.0f} B")
    print(f"  parameters: {d['params_total'] / 1e9:,.2f} B total, {d['params_active'] / 1e9:,.2f} B active")
    if "params_mtp" in d:
        print(f"  MTP modules: {d['params_mtp'] / 1e9:,.2f} B (not in the total)")
    w = d["context_window"]
    print(f"  context window: {w:,} tokens per request, input + output" if w else
          "  context window: not stated (no max_position_embeddings), so request lengths are not checked")


def print_plan(d: dict) -> None:
    print(f"{d['model']}: {d['requests_per_s']:,.2f} requests/s of {d['isl']:,.0f} in / {d['osl']:,.0f} out tokens, "
          f"at least {d['per_user']:g} tok/s per user" + (f", TTFT <= {d['ttft_s_max']:g} s" if d["ttft_s_max"] else "")
          + f"; profile {d['profile']}; prices: {d['source']}" + ("; mixed GPU types" if d.get("mixed") else ""))
    print(f"searched {d['candidates']:,} candidate deployments in {d['search_s']:.2f} s "
          f"({d['feasible_layouts']:,} feasible deployments); cheapest first, whole units rented, each pool below "
          f"its deployment:")
    cols = ("gpu", "mode", "gpus_avg", "gpus_peak", "nodes_peak", "usd_per_day", "usd_per_m_input",
            "usd_per_m_output", "ttft_s", "tokens_per_s_per_user")
    print("\t".join(cols + ("layout",)))
    for r in d["deployments"]:
        L = r["layout"]
        lay = search.label(L)     # the one label of a layout
        print("\t".join(f"{r[c]:,.3g}" if isinstance(r[c], float) else str(r[c]) for c in cols) + "\t" + lay)
        for p in r.get("pools", ()):
            print(f"  {p['role']:7s} {p['gpu']:6s} {p['tier']:9s} {p['gpus_avg']:8,.1f} avg {p['gpus_peak']:6,.0f} peak GPUs "
                  f"(units of {p['unit_gpus']})  USD {p['usd_per_day']:10,.0f}/day  {p['source']}  {p['layout']}")
        if r.get("decode_network_bound"):
            print(f"  decode network-bound: {r['decode_tokens_per_s_per_gpu']:,.3g} output tok/s per GPU, the most whose "
                  "prompts' KV cache its scale-out network brings in (each output token brings ISL/OSL tokens of KV); "
                  f"{r['batch_per_instance']:,.3g} requests per attention instance on average")
        e = r.get("validation_error")
        print("  model error of its class: " + ("no published measurement of this phase" if e is None else
              f"{e['mape']:.0%} mean absolute, {e['mean_error']:+.0%} signed, over {e['n']} measurements "
              f"({e['class']}{'' if e['exact'] else ': the nearest class with measurements'})"))


def jsonable(x):
    if isinstance(x, np.ndarray) and x.ndim == 0:
        return x.item()
    if isinstance(x, np.ndarray):
        x = x.tolist()
        return x[0] if len(x) == 1 else x
    if isinstance(x, (np.floating, np.integer, np.bool_)):
        return x.item()
    return x


def dumps(out) -> str:
    """A command's result as JSON text (``indent=2``): every float rounded by
    :func:`.rounding.stable`, a one-element array as its number, ASCII only (``ensure_ascii``).
    Written by :func:`_emit` in one pass (the text ``json.dumps(..., indent=2)`` gives, a flat numeric
    array one element a line), falling back to :func:`_dumps_json` for anything it does not know."""
    if isinstance(out, dict):
        out = {k: v.reshape(-1)[0].item() if isinstance(v, np.ndarray) and v.size == 1 else v for k, v in out.items()}
    parts: list[str] = []
    try:
        _emit(out, "\n", parts)
    except _Unknown:
        return _dumps_json(out)
    return "".join(parts)


class _Unknown(Exception):
    """A value :func:`_emit` leaves to the json module."""


def _number(x: float) -> str:
    """A float as ``json`` writes it (``float.__repr__``, ``NaN``, ``Infinity``)."""
    if x != x:
        return "NaN"
    if x in (_INF, -_INF):
        return "Infinity" if x > 0 else "-Infinity"
    return float.__repr__(x)


_INF = float("inf")
_DIGITS = f".{SIGNIFICANT_DIGITS}g"


def _rounded(x: float) -> str:
    """``_number(stable(x))`` for a Python float, in a third of its time: the text of ``x`` rounded to
    :data:`.rounding.SIGNIFICANT_DIGITS` digits is already ``repr`` of the rounded float where it is
    written without an exponent (``repr`` adds ``.0`` to a whole number); otherwise (an exponent,
    ``inf``, ``nan``) through ``stable`` and ``repr``."""
    text = format(x, _DIGITS)
    if "e" in text or "n" in text:
        return _number(stable(x) if math.isfinite(x) else x)
    return text if "." in text else text + ".0"


def _scalar(x) -> str | None:
    """The JSON of a plain scalar (str, bool, None, int, float: rounded by :func:`.rounding.stable`), or
    ``None`` for anything else."""
    t = type(x)
    if t is float or t is np.float64:
        return _rounded(x)
    if t is str:
        return _encode_str(x)
    if t is bool:
        return "true" if x else "false"
    if x is None:
        return "null"
    if t is int:
        return int.__repr__(x)
    return None


def _emit(x, nl: str, parts: list) -> None:
    """Append the ``indent=2`` JSON of ``stable_data(x)`` to ``parts``; ``nl``: a newline and the
    current indentation.  The scalars of a container are written in its loop (most of a result)."""
    text = _scalar(x)
    if text is not None:
        parts.append(text)
        return
    t = type(x)
    if isinstance(x, np.floating):
        parts.append(_number(stable(x) if np.isfinite(x) else float(x)))
    elif t is dict:
        if not x:
            parts.append("{}")
            return
        inner = nl + "  "
        sep = "{" + inner
        for k, v in x.items():
            if type(k) is not str:
                raise _Unknown
            text = _scalar(v)
            if text is None:
                parts.append(sep + _encode_str(k) + ": ")
                _emit(v, inner, parts)
            else:
                parts.append(sep + _encode_str(k) + ": " + text)
            sep = "," + inner
        parts.append(nl + "}")
    elif t is np.ndarray and x.ndim == 1 and x.dtype.kind in "fbiu":
        if not x.size:
            parts.append("[]")
            return
        inner = nl + "  "     # rounded in one pass, encoded by the C encoder: ", " never occurs inside a number
        parts.append("[" + inner + json.dumps(stable_data(x))[1:-1].replace(", ", "," + inner) + nl + "]")
    elif t is list or t is tuple:
        if not x:
            parts.append("[]")
            return
        inner = nl + "  "
        sep = "[" + inner
        for v in x:
            text = _scalar(v)
            if text is None:
                parts.append(sep)
                _emit(v, inner, parts)
            else:
                parts.append(sep + text)
            sep = "," + inner
        parts.append(nl + "]")
    elif isinstance(x, np.integer):
        parts.append(int.__repr__(int(x)))
    else:
        raise _Unknown


def _dumps_json(out) -> str:
    """:func:`dumps` through the json module (any value it can encode)."""
    if not isinstance(out, dict):
        return json.dumps(stable_data(out), indent=2, default=jsonable)
    items = []
    for k, v in out.items():
        if isinstance(v, np.ndarray) and v.ndim == 1 and v.dtype.kind in "fbiu":
            text = json.dumps(stable_data(v))       # flat numbers: ", " never occurs inside one
            text = "[\n    " + text[1:-1].replace(", ", ",\n    ") + "\n  ]" if v.size else "[]"
        else:
            text = json.dumps(stable_data(v), indent=2, default=jsonable).replace("\n", "\n  ")
        items.append(f"  {json.dumps(k)}: {text}")
    return "{\n" + ",\n".join(items) + "\n}" if items else "{}"


def write_safely(stream, text: str) -> None:
    """Write ``text`` to ``stream`` whatever its encoding: non-printable characters escaped
    (:func:`.inputs.printable`), characters the stream cannot encode written as backslash escapes
    (a strict ASCII stdout, a name with an undecodable byte under a UTF-8 locale); ``OSError`` where there is
    no stream (a closed descriptor)."""
    if stream is None:
        raise OSError("the stream is closed")
    text = printable(text)
    enc = getattr(stream, "encoding", None) or "utf-8"
    if not text.isascii():
        try:
            text = text.encode(enc, "backslashreplace").decode(enc, "replace")
        except LookupError:
            text = text.encode("ascii", "backslashreplace").decode("ascii")
    stream.write(text)
    stream.flush()


def print_sol(d: dict) -> None:
    cols = [k for k, v in d.items() if isinstance(v, np.ndarray) and v.size > 1]
    scalars = {k: v for k, v in d.items() if k not in cols}
    for k, v in scalars.items():
        v = jsonable(v)
        print(f"{k:34s} {v:,.6g}" if isinstance(v, (int, float)) and not isinstance(v, bool) else f"{k:34s} {v}")
    if cols:
        n = max(d[c].size for c in cols)
        table = [np.broadcast_to(np.asarray(d[c], dtype=float).ravel(), (n,)).tolist() for c in cols]
        row = "\t".join(["%.6g"] * len(cols))
        print("\t".join(cols))
        print("\n".join(row % r for r in zip(*table)))


def print_point(d: dict, indent: str = "") -> None:
    for k, v in d.items():
        if isinstance(v, dict):
            print(f"{indent}{k}:")
            print_point(v, indent + "  ")
        else:
            v = jsonable(v)
            print(f"{indent}{k:32s} {v:,.6g}" if isinstance(v, float) else f"{indent}{k:32s} {v}")


def print_rows(rows: list) -> None:
    if not rows:
        return
    keys = list(rows[0])
    print("\t".join(keys))
    for r in rows:
        print("\t".join(f"{v:,.6g}" if isinstance(v, float) else
                        (", ".join(v) if isinstance(v, list) else str(v)) for v in r.values()))


def print_validate(d: dict) -> None:
    s = d["summary"]
    print(f"{s['n']} of {s['entries']} published measurements predicted: mean absolute error {100 * s['mape']:.0f} %, "
          f"median {100 * s['median_ape']:.0f} %, mean signed error {100 * s['mean_error']:+.0f} %")
    print(f"routed-expert kernels: {d.get('framework', 'publication')}")
    for title, key in (("by publisher", "by_publisher"), ("by framework", "by_framework"), ("by model", "by_family"),
                       ("by vendor", "by_vendor"), ("by generation", "by_generation")):
        print(f"{title}: " + "; ".join(f"{k} {100 * v['mape']:.0f} % (n={v['n']}, bias {100 * v['mean_error']:+.0f} %)"
                                       for k, v in d.get(key, {}).items()))
    if "at_measured_load" in d:
        a, lim = d["at_measured_load"]["summary"], d["at_measured_load"]["at_the_limits"]
        dis = sum(r["per"] == "decode GPU" for r in d["at_measured_load"]["rows"])
        print(f"at the measured load ({a['n']} MLPerf Server and Interactive runs, {dis} of them disaggregated and "
              f"compared per decode GPU; conditional predictions): mean absolute error {100 * a['mape']:.0f} %, "
              f"mean signed error {100 * a['mean_error']:+.0f} % (the same runs at the limits: {100 * lim['mape']:.0f} %, "
              f"{100 * lim['mean_error']:+.0f} %)")
    print("\t".join(("id", "framework", "gpu", "phase", "measured", "predicted", "error")))
    for r in d["rows"]:
        cells = [r["id"], r["framework"], r["gpu"], r["phase"]]
        cells += ["–" if r[k] is None else f"{r[k]:,.0f}" for k in ("measured", "predicted")]
        cells.append("–" if r["error"] is None else f"{100 * r['error']:+.0f} %")
        print("\t".join(cells))
