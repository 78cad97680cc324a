"""Validation errors summarised: the book's one summary of relative errors, its groupings and the
chapter's table rows (the predictions themselves: :mod:`.validation`)."""
from __future__ import annotations

import numpy as np

__all__ = ["error_stats", "scored", "summary", "publisher_group", "errors_by", "error_shares", "prediction_rows",
           "excluded_rows"]


def error_stats(errors) -> dict:
    """The book's one summary of relative errors (model / measured - 1, fractions): ``n``, ``mape``
    (mean absolute), ``median_ape`` (median absolute), ``mean_error`` (signed: > 0 over-predicts),
    ``lowest``, ``highest``; ``None`` for each statistic when there are none."""
    e = np.asarray(list(errors), dtype=float)
    if e.size == 0:
        return {"n": 0, "mape": None, "median_ape": None, "mean_error": None, "lowest": None, "highest": None}
    return {"n": int(e.size), "mape": float(np.mean(np.abs(e))), "median_ape": float(np.median(np.abs(e))),
            "mean_error": float(np.mean(e)), "lowest": float(e.min()), "highest": float(e.max())}


def scored(preds) -> list:
    """The predictions that are expressible and have a measured value to compare with."""
    return [p for p in preds if p.expressible and p.error is not None]


def summary(preds) -> dict:
    """:func:`error_stats` over the expressible predictions, with ``publishers`` (how many teams),
    ``not_expressible`` and ``infeasible`` (setups that ran but that the model says do not fit in
    memory: a model failure)."""
    pubs = {p.publisher.split("(")[0].strip() for p in preds if p.expressible}
    return {**error_stats(p.error for p in scored(preds)), "publishers": len(pubs),
            "not_expressible": sum(not p.expressible for p in preds),
            "infeasible": sum(not p.expressible and "do not fit" in p.reason for p in preds)}


_METRIC = {"output_tokens_per_s_per_gpu": "output tok/s per GPU", "input_tokens_per_s_per_gpu": "input tok/s per GPU",
           "total_tokens_per_s_per_gpu": "input+output tok/s per GPU", "tokens_per_s_per_user": "tok/s per user"}


def publisher_group(p) -> str:
    """The publisher, shortened for legends (``LMSYS/SGLang`` -> ``SGLang``)."""
    name = p.publisher.split("(")[0].strip()
    return {"LMSYS/SGLang": "SGLang", "NVIDIA/TensorRT-LLM": "TensorRT-LLM"}.get(name, name)


def errors_by(preds, key) -> list[dict]:
    """:func:`error_stats` of the expressible predictions grouped by ``key(p)``, with ``group``."""
    groups: dict[str, list[float]] = {}
    for p in scored(preds):
        groups.setdefault(key(p), []).append(p.error)
    return [{"group": g, **error_stats(e)} for g, e in sorted(groups.items())]


def error_shares(preds, key) -> list[dict]:
    """Where the error sits: the expressible predictions grouped by ``key(p)``, each group's share of the
    sum of absolute errors over all of them (``share``, a fraction; the groups' shares add to 1) beside its
    :func:`error_stats`, largest share first (ties by name); and per row ``mape_without``, the mean absolute
    error of every other prediction (what the set would show without that group)."""
    ps = scored(preds)
    total = float(np.sum(np.abs([p.error for p in ps])))
    rows = errors_by(ps, key)
    for r in rows:
        inside = r["mape"] * r["n"]                # the group's sum of absolute errors
        r["share"] = inside / total
        r["mape_without"] = (total - inside) / (len(ps) - r["n"]) if len(ps) > r["n"] else None
    return sorted(rows, key=lambda r: (-r["share"], r["group"]))


def prediction_rows(preds, cite) -> list[dict]:
    """Table rows (formatted strings) of the expressible predictions; ``cite`` formats a bib key."""
    rows = []
    for p in preds:
        if not p.expressible:
            continue
        rows.append({"setup": p.id, "source": cite([p.src, *p.also]), "GPU": p.gpu, "quantity": _METRIC[p.metric],
                     "measured": f"{p.measured:,.0f}", "model": f"{p.predicted:,.0f}",
                     "bound": "" if p.bound is None else f"{p.bound:,.0f}", "error": f"{p.error:+.0%}",
                     "rules used": "; ".join(p.assumptions)})
    return rows


def excluded_rows(preds, cite) -> list[dict]:
    """Table rows of the entries the model cannot express, or says do not fit, with the reason."""
    return [{"setup": p.id, "source": cite([p.src, *p.also]), "GPU": p.gpu, "measured": f"{p.measured:,.0f}",
             "quantity": _METRIC[p.metric], "why not predicted": p.reason} for p in preds if not p.expressible]
