"""This model, NVIDIA's aiconfigurator and the measurement, side by side on the validation entries.

``data/aiconfigurator_predictions.yaml`` holds aiconfigurator-core's predictions (Apache-2.0) of every
validation entry it can express, on the setup the validation rules resolve (same GPUs, layout,
requests per instance, lengths, precisions), with the version and date it was run; it is made by
``benchmarks/aiconfigurator_side_by_side.py`` outside CI (aiconfigurator is not a requirement) and only
read here.  Both are model predictions; the measurement is the publication's.  Nothing here feeds back
into this model.
"""
from __future__ import annotations

from functools import lru_cache

import yaml

from inference_arithmetic.core.cited import DATA
from inference_arithmetic.evidence import validation

__all__ = ["FILE", "stored", "rows", "summary", "table_rows", "TRTLLM"]

FILE = DATA / "aiconfigurator_predictions.yaml"
#: the framework name of TensorRT-LLM entries (:func:`validation.entry_framework`)
TRTLLM = "trtllm"


@lru_cache(maxsize=None)
def stored() -> dict:
    """The stored file: ``header`` (tool, version, date, script, licence, ci), ``predictions``
    (id, metric, predicted, system, backend, backend_version, model, layout, notes) and
    ``not_expressible`` (id, reason)."""
    return yaml.safe_load(FILE.read_text(encoding="utf-8"))


def _closer(err_model: float | None, err_aic: float) -> str:
    if err_model is None:
        return "aiconfigurator"
    if abs(abs(err_model) - abs(err_aic)) < 1e-12:
        return "tie"
    return "this model" if abs(err_model) < abs(err_aic) else "aiconfigurator"


def rows(preds=None) -> list[dict]:
    """One row per entry aiconfigurator expresses: ``id``, ``publisher``, ``gpu``, ``framework``,
    ``metric``, ``measured``, ``model`` (this model's prediction, ``None`` where it cannot express the
    entry), ``aiconfigurator``, ``error_model``, ``error_aic`` (prediction / measured - 1, fractions)
    and ``closer`` (``this model``, ``aiconfigurator`` or ``tie``); rates in the entry's metric."""
    preds = validation.predict_all() if preds is None else preds
    ours = {p.id: p for p in preds}
    out = []
    for a in sorted(stored()["predictions"], key=lambda r: r["id"]):
        p = ours[a["id"]]
        if a["metric"] != p.metric:
            raise ValueError(f"{a['id']}: stored metric {a['metric']} is not the entry's {p.metric}")
        err_aic = a["predicted"] / p.measured - 1
        err_model = p.error if p.expressible else None
        out.append({"id": p.id, "publisher": validation.publisher_group(p), "gpu": p.gpu,
                    "framework": validation.entry_framework(p.id), "metric": p.metric, "measured": p.measured,
                    "model": p.predicted if p.expressible else None, "aiconfigurator": a["predicted"],
                    "error_model": err_model, "error_aic": err_aic, "closer": _closer(err_model, err_aic),
                    "aic_backend": a["backend"], "aic_notes": tuple(a.get("notes") or ())})
    return out


def _group(rs: list[dict]) -> dict:
    both = [r for r in rs if r["error_model"] is not None]
    model = validation.error_stats(r["error_model"] for r in both)
    aic = validation.error_stats(r["error_aic"] for r in both)
    return {"n": len(both), "mape_model": model["mape"], "mape_aic": aic["mape"],
            "mean_error_model": model["mean_error"], "mean_error_aic": aic["mean_error"],
            "closer_model": sum(r["closer"] == "this model" for r in both),
            "closer_aic": sum(r["closer"] == "aiconfigurator" for r in both),
            "ties": sum(r["closer"] == "tie" for r in both)}


def summary(rs: list[dict] | None = None) -> dict:
    """On the entries both express: ``n``, ``mape_model``, ``mape_aic``, ``mean_error_model``,
    ``mean_error_aic`` (fractions), ``closer_model``, ``closer_aic``, ``ties`` (counts); the same for
    the TensorRT-LLM entries under ``trtllm``; ``aic_only`` (entries only aiconfigurator expresses),
    ``not_expressible`` (entries aiconfigurator cannot), ``not_run`` (validation entries added since the
    stored run: regenerate the file), ``version`` and ``date`` of the stored run."""
    rs = rows() if rs is None else rs
    head = stored()["header"]
    seen = {p["id"] for p in stored()["predictions"]} | {x["id"] for x in stored()["not_expressible"]}
    return {**_group(rs), "trtllm": _group([r for r in rs if r["framework"] == TRTLLM]),
            "aic_only": sum(r["error_model"] is None for r in rs),
            "not_expressible": len(stored()["not_expressible"]),
            "not_run": len(set(validation.entries()) - seen), "version": head["version"], "date": head["date"]}


def table_rows(rs: list[dict] | None = None) -> list[dict]:
    """The side-by-side as formatted strings for a Markdown table narrow enough for the text column:
    the entry (its id names the GPU, framework and setup), the measurement with its quantity, each
    model's prediction with its relative error, and which is closer."""
    rs = rows() if rs is None else rs

    def pred(x, err):
        return "–" if x is None else f"{x:,.0f} ({err:+.0%})".replace("-", "−")
    return [{"entry": r["id"],   # the quantity may wrap at its spaces (a narrow column)
             "measured": f"{r['measured']:,.0f} {validation._METRIC[r['metric']]}".replace("input+output", "input + output"),
             "this model": pred(r["model"], r["error_model"]), "aiconfigurator": pred(r["aiconfigurator"], r["error_aic"]),
             "closer": r["closer"]} for r in rs]
