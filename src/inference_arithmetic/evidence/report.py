"""The validation report behind ``inference-arithmetic validate``: every entry of the validation set
predicted with the stated rules, its error, and the errors summarised by publisher and framework.

The numbers are the validation chapter's (one function, :func:`.validation.predict_all`); the
summary statistics are :func:`.validation.error_stats` (fractions: ``mape`` mean absolute,
``median_ape`` median absolute, ``mean_error`` signed, > 0 over-predicts).
"""
from __future__ import annotations

from inference_arithmetic.evidence import validation
from inference_arithmetic.hardware.gpus import generation, vendor

__all__ = ["framework", "report"]

def framework(entry_id: str) -> str:
    """The serving framework a validation entry was measured with (:func:`.validation.entry_framework`)."""
    return validation.entry_framework(entry_id)


def _groups(preds, key) -> dict:
    return {g["group"]: {"n": g["n"], "mape": g["mape"], "mean_error": g["mean_error"]}
            for g in validation.errors_by(preds, key)}


def report(preds=None) -> dict:
    """``summary`` (``entries``, ``n`` predicted, ``mape``, ``median_ape``, ``mean_error``),
    ``by_publisher``, ``by_framework``, ``by_family`` (the model: DeepSeek-V3/R1 as ``deepseek-v3``),
    ``by_vendor`` (NVIDIA, AMD) and ``by_generation`` (name -> ``n``, ``mape``, ``mean_error``) and ``rows``
    (one per entry: ``id``, ``publisher``, ``framework``, ``model``, ``gpu``, ``phase``, ``metric``, ``measured``,
    ``predicted``, ``bound``, ``error``, ``rules``: the assumptions used, or why it is not predicted)."""
    preds = validation.predict_all() if preds is None else preds
    s = validation.summary(preds)
    rows = [{"id": p.id, "publisher": validation.publisher_group(p), "framework": framework(p.id), "model": p.model,
             "gpu": p.gpu,
             "phase": p.phase, "metric": p.metric, "measured": p.measured,
             "predicted": p.predicted if p.expressible else None, "bound": p.bound,
             "error": p.error if p.expressible else None,
             "rules": list(p.assumptions) if p.expressible else [f"not predicted: {p.reason}"]} for p in preds]
    return {"summary": {"entries": len(preds), "n": s["n"], "mape": s["mape"], "median_ape": s["median_ape"],
                        "mean_error": s["mean_error"]},
            "by_publisher": _groups(preds, validation.publisher_group),
            "by_framework": _groups(preds, lambda p: framework(p.id)),
            "by_family": _groups(preds, validation.family),
            "by_vendor": _groups(preds, lambda p: vendor(p.gpu)),
            "by_generation": _groups(preds, lambda p: generation(p.gpu)),
            "rows": rows}
