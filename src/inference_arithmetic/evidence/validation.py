"""Validation: predict published serving measurements by other teams, without tuning to them.

``data/validation.yaml``: system-level measurements of DeepSeek-V3/R1 (SGLang, TensorRT-LLM, Ant
Group, InferenceX, MLPerf, llm-d) and other shipped models (Llama 3.1 on AMD and NVIDIA GPUs, gpt-oss,
DeepSeek-V3.2), each with its setup as published; ``model`` names the shipped config (``deepseek-r1``
reads ``deepseek-v3``).  :func:`predict` maps a setup to the model's inputs by fixed rules, the same
for every entry, and returns the prediction, the roofline bound and the error.  Nothing feeds back
into the model: the only fitted quantity (:mod:`.calibration`) is fitted on DeepSeek's profiles.

Rules for what a publication leaves unstated (each prediction lists the ones it used):

* the attention layout as stated, else the faster (by the model, at the stated concurrency) of the
  planner's attention layouts (data-parallel or TP8, :class:`.search.Space`); MoE TP 1;
* redundant experts as stated, else none; load-balanced placement (EPLB's cited imbalance) when
  the publication says it balances experts (EPLB), else the cited unbalanced imbalance;
* two micro-batches when the expert-parallel group spans more than one NVLink domain;
* BF16 attention and KV cache unless stated;
* no MTP unless stated; a stated accepted length gives the acceptance; one draft token when
  MTP is "on" without a count;
* the routed experts' grouped GEMMs at the publication's framework's measured kernel table where
  one exists for the GPU (:mod:`.hardware.kernel_tables`), else DeepSeek's kernels by the transfer
  rule (also for DeepSeek's in-house system, NVIDIA Dynamo with no engine stated, or none stated);
* decode context = ISL + OSL/2 for time, ISL + OSL for memory; requests per GPU as published,
  else the largest batch that fits; prefill chunks of 16K tokens per GPU (DeepSeek's profile).

An entry whose setup lacks the GPU split, the expert-parallel size or the sequence lengths, or
whose model the step model cannot express (DeepSeek Sparse Attention), is listed as not
expressible, with the reason, and is not counted in the error.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from inference_arithmetic.serving import modes, prefill as _prefill, search as _search
from inference_arithmetic import step
from inference_arithmetic.core.cited import read_yaml
from inference_arithmetic.hardware.gpus import gpu
from inference_arithmetic.model.config import model
from inference_arithmetic.core.errors import Error
from inference_arithmetic.step.unit import unsupported
from inference_arithmetic.evidence.waterfall import deepseek_waterfall  # noqa: F401  (the chapter reads it here)

__all__ = ["Prediction", "entry_framework", "entries", "predict", "predict_all", "summary", "error_stats", "scored",
           "errors_by", "family"]

#: Entry ``model`` names that read another shipped config (same architecture).
_MODEL_ALIAS = {"deepseek-r1": "deepseek-v3"}


@lru_cache(maxsize=None)
def entries() -> dict:
    """The validation catalog: id -> entry as published (see the file's header)."""
    return read_yaml("validation.yaml")


#: how the publications name their serving framework, read into one short name each
_FRAMEWORK_WORDS = (("dynamo-trt", "trtllm"), ("tensorrt", "trtllm"), ("sglang", "sglang"), ("vllm", "vllm"),
                    ("internal", "deepseek"))


def entry_framework(entry_id: str) -> str:
    """The serving framework a validation entry was measured with: ``sglang``, ``trtllm``, ``vllm``,
    ``deepseek`` (DeepSeek's in-house system), ``dynamo`` (NVIDIA Dynamo, engine not stated) or
    ``not stated``."""
    text = str(entries()[entry_id].get("framework") or "").lower()
    for word, name in _FRAMEWORK_WORDS:
        if word in text:
            return name
    return "dynamo" if "dynamo" in text else "not stated"


@dataclass(frozen=True)
class Prediction:
    """Model against measurement for one validation entry."""

    id: str
    publisher: str
    src: str
    gpu: str
    phase: str
    metric: str
    measured: float | None
    predicted: float | None
    bound: float | None
    expressible: bool
    reason: str = ""
    assumptions: tuple = field(default=())
    also: tuple = ()
    model: str = ""

    @property
    def error(self) -> float | None:
        """Relative error of the prediction (model / measured - 1)."""
        if self.predicted is None or not self.measured:
            return None
        return self.predicted / self.measured - 1


def _metric(e: dict) -> tuple[str, float]:
    m = e.get("measured") or {}
    for key in ("output_tokens_per_s_per_gpu", "input_tokens_per_s_per_gpu", "total_tokens_per_s_per_gpu",
                "tokens_per_s_per_user"):
        if key in m and isinstance(m[key], dict):
            if key == "output_tokens_per_s_per_gpu" and "tokens_per_s_per_user" in m and \
                    (e.get("concurrency") or {}).get("total") == 1:
                return "tokens_per_s_per_user", float(m["tokens_per_s_per_user"]["value"])
            return key, float(m[key]["value"])
    raise Error(f"validation entry has no measured rate: {sorted(m)}")


def _model(e: dict):
    """The shipped config an entry's ``model`` names (``deepseek-r1`` reads ``deepseek-v3``)."""
    name = str(e.get("model") or "deepseek-v3").lower()
    return model(_MODEL_ALIAS.get(name, name))


def family(p: "Prediction") -> str:
    """The model family of a prediction, for grouping errors (DeepSeek-V3 and R1 are one)."""
    return _MODEL_ALIAS.get(p.model, p.model)


def _attention_unstated(e: dict) -> bool:
    setup = e.get("model_setup") or {}
    lay = {**(e.get("layout") or {}), **(setup.get("layout") or {})}
    return lay.get("attn") is None and not lay.get("attn_tp") and "attn_tp" not in (setup.get("layout") or {})


def _layout(e: dict, g, notes: list, phase: str, attn_tp: int | None = None) -> step.Layout:
    """The entry's layout; ``attn_tp``: the attention layout to try where the entry leaves it unstated."""
    setup = e.get("model_setup") or {}
    if setup.get("expressible") is False:
        raise _Skip(setup.get("why", "setup outside the model"))
    lay = {**(e.get("layout") or {}), **(setup.get("layout") or {})}
    prec = e.get("precision") or {}
    mtp = e.get("mtp") or {}
    ep = lay.get("ep")
    if ep is None:
        raise _Skip("expert-parallel size not stated")
    if _attention_unstated(e):
        attn_tp = attn_tp or 1
        notes.append(f"attention {'data-parallel' if attn_tp == 1 else f'TP{attn_tp}'} "
                     f"(unstated: the faster of the search's attention layouts)")
    else:
        attn_tp = lay.get("attn_tp") or (ep if lay.get("attn") == "tp" else 1)
    moe_tp = lay.get("moe_tp") or 1
    unit_gpus = max(ep * moe_tp, attn_tp)
    moe_ep = unit_gpus // moe_tp
    redundant = lay.get("redundant_experts")
    m = _model(e)
    if redundant is None:
        redundant = step.default_redundant(m, moe_ep)   # the fewest slots that spread evenly
        if redundant:
            notes.append(f"{redundant} redundant experts ({m.n_experts} do not divide over {moe_ep} GPUs)")
    eplb = bool(setup.get("eplb", False))
    if moe_ep > 1 and m.n_experts:
        notes.append("EPLB imbalance" if eplb or redundant else "unbalanced experts")
    micro = setup.get("micro_batches") or step.default_micro_batches(g, unit_gpus)
    if "micro_batches" not in setup and micro == 2:
        notes.append("two micro-batches (EP spans NVLink domains)")
    attn = prec.get("attn") or "bf16"
    kv = prec.get("kv") or "bf16"
    if prec.get("kv") is None:
        notes.append("BF16 KV")
    drafts = mtp.get("draft_tokens")
    accept = None
    if drafts is None and (mtp.get("accept_rate") or mtp.get("accepted_length") or "MTP" in str(e.get("note", ""))):
        drafts = 1
        notes.append("one MTP draft token")
    drafts = int(drafts or 0) if phase == "decode" else 0
    if drafts and mtp.get("accepted_length"):
        accept = _accept_from_length(float(mtp["accepted_length"]), drafts)
    elif drafts and mtp.get("accept_rate"):
        accept = float(mtp["accept_rate"])
    return step.Layout(ep=unit_gpus, redundant=redundant, attn_tp=attn_tp, moe_tp=moe_tp, micro_batches=micro,
                       mtp=drafts, accept=accept, eplb=eplb or None, overlap=setup.get("overlap"),
                       balanced=bool(setup.get("balanced", False)),
                       precision=step.Precision(moe=prec.get("moe") or "fp8", attn=attn, kv=kv))


def _accept_from_length(length: float, drafts: int) -> float:
    """The per-draft acceptance whose expected accepted length (1 + p + ... + p^n) is ``length``."""
    lo, hi = 0.0, 0.999
    for _ in range(60):
        mid = (lo + hi) / 2
        if float(step.mtp_tokens.fast(p_acc=mid, n_dr=drafts)) < length:
            lo = mid
        else:
            hi = mid
    return round((lo + hi) / 2, 6)


class _Skip(Exception):
    pass


def _decode_rate(u, e, notes, ctx, ctx_mem):
    """Decode at the published concurrency: ``(terms, requests per instance, busy share)``.

    With fewer requests than attention instances, each busy instance holds one request and
    the rest are idle (``busy`` < 1 scales the pool's throughput)."""
    conc = e.get("concurrency") or {}
    per_gpu = conc.get("per_gpu")
    gpus_d = e.get("gpus_decode") or e.get("gpus_total")
    busy = 1.0
    if per_gpu is None and conc.get("total") and gpus_d:
        per_gpu = conc["total"] / gpus_d
    if per_gpu is None:
        b = step.max_batch(u, ctx_mem)
        notes.append("largest batch that fits")
    else:
        b = per_gpu * u.layout.attn_tp
        if b < 1:
            busy, b = b, 1.0
    if b < 1 or not step.fits(u, b, ctx_mem):
        raise _Skip(f"the model says {b:g} requests per instance do not fit in HBM")
    return step.terms(u, float(b), ctx), b, busy


def predict(key: str, kappa: float | None = None, framework: str | None = None) -> Prediction:
    """The model's prediction for validation entry ``key`` (``kappa``: override the calibrated
    pipeline efficiency, for sensitivity studies; ``framework``: whose kernels, ``None``: the
    publication's framework by the rule of the module's header).  Where the entry leaves the
    attention layout unstated, each of the planner's attention layouts (:class:`.search.Space`'s
    ``attn_tp`` that divide the unit) is predicted and the fastest kept (the model's own choice,
    never the measurement's)."""
    if not _attention_unstated(entries()[key]):
        return _predict(key, kappa, framework, None)
    ep = int((entries()[key].get("layout") or {}).get("ep") or 1)
    tries = [_predict(key, kappa, framework, t) for t in _search.Space().attn_tp if t <= ep and ep % t == 0]
    ok = [p for p in tries if p.predicted is not None]
    return max(ok, key=lambda p: p.predicted) if ok else tries[0]


def _predict(key: str, kappa: float | None, framework: str | None, attn_tp: int | None) -> Prediction:
    e = entries()[key]
    metric, measured = _metric(e)
    base = dict(id=key, publisher=e.get("publisher", ""), src=e.get("src", ""), also=tuple(e.get("also") or ()),
                gpu=e.get("gpu", ""), model=str(e.get("model") or ""),
                phase=e.get("phase", ""), metric=metric, measured=measured)
    notes: list[str] = []
    try:
        g = gpu(e["gpu"])
        m = _model(e)
        if unsupported(m):
            raise _Skip(unsupported(m))
        isl, osl = e.get("isl"), e.get("osl")
        if isl is None:
            raise _Skip("sequence lengths not stated")
        layout = _layout(e, g, notes, "decode" if e["phase"] != "prefill" else "prefill", attn_tp)
        fw = entry_framework(key) if framework is None else framework
        fw = fw if fw in step.FRAMEWORKS else "deepseek"
        layout = step.Layout(**{**layout.__dict__, "framework": fw,
                                **({} if kappa is None else {"kappa": kappa})})
        if e["phase"] == "prefill":
            u = _prefill.prefill_unit(m, g, layout)
            notes.append(f"kernels: {u.kernels}")
            chunk = _prefill.chunk_that_fits(u, float(isl))
            if chunk is None:
                raise _Skip(f"the model says one {isl}-token prompt does not fit in HBM")
            if chunk < _prefill.PREFILL_CHUNK_TOKENS:
                notes.append(f"prefill chunk {chunk:,.0f} new tokens per GPU (the largest that fits; "
                             f"{_prefill.PREFILL_CHUNK_TOKENS:,} does not)")
            out = _prefill.prefill(u, float(isl), chunk=chunk)
            return Prediction(**base, predicted=float(out["input_tokens_per_s_per_gpu"]),
                              bound=float(out["bound_tokens_per_s_per_gpu"] * isl / out["new_tokens"]),
                              expressible=True, assumptions=tuple(notes))
        osl_v = float(osl or 0)
        if osl is None:
            notes.append("OSL not stated: context = ISL")
        ctx = isl + osl_v / 2   # mean context in flight: the time and, with a paged cache, the memory
        u = step.unit(m, g, layout)
        notes.append(f"kernels: {u.kernels}")
        if e["phase"] == "decode":
            t, _, busy = _decode_rate(u, e, notes, ctx, ctx)
            key_out = "tokens_per_s_per_user" if metric == "tokens_per_s_per_user" else "tokens_per_s_per_gpu"
            return Prediction(**base, predicted=float(t[key_out]),
                              bound=float(t["bound_tokens_per_s_per_gpu"]) if key_out == "tokens_per_s_per_gpu" else None,
                              expressible=True, assumptions=tuple(notes))
        if osl is None:
            raise _Skip("output length not stated")
        pu = _prefill.prefill_unit(m, g, step.Layout(**{**layout.__dict__, "mtp": 0}))
        chunk = (e.get("model_setup") or {}).get("chunk", _prefill.PREFILL_CHUNK_TOKENS)
        pre = _prefill.prefill(pu, float(isl), chunk=chunk)
        t, _, busy = _decode_rate(u, e, notes, ctx, ctx)
        R_p, R_d, r_d = (float(pre["input_tokens_per_s_per_gpu"]), float(t["tokens_per_s_per_gpu"]) * busy,
                         float(t["tokens_per_s_per_user"]))
        bound_d = float(t["bound_tokens_per_s_per_gpu"])
        bound_p = float(pre["bound_tokens_per_s_per_gpu"] * isl / pre["new_tokens"])
        if e.get("mode") == "agg":
            per_gpu, per_user = modes.mode_rates("agg", R_d, R_p, r_d, isl, osl_v)
            # input+output tokens/s (a total throughput) is the output rate times (ISL + OSL) / OSL
            scale = (isl + osl_v) / osl_v if metric == "total_tokens_per_s_per_gpu" else 1.0
            if metric == "tokens_per_s_per_user":
                pred, bound = per_user, None
            else:
                pred, bound = per_gpu * scale, modes.mode_rates("agg", bound_d, bound_p, r_d, isl, osl_v)[0] * scale
        else:
            n_p, n_d = e.get("gpus_prefill"), e.get("gpus_decode")
            if not (n_p and n_d):
                raise _Skip("prefill/decode GPU split not stated")
            if metric == "tokens_per_s_per_user":
                pred, bound = r_d, None
            elif metric == "total_tokens_per_s_per_gpu":
                pred = modes.total_rate_disagg.fast(N_p=n_p, N_d=n_d, R_p=R_p, R_d=R_d, L_i=isl, L_o=osl_v)
                bound = modes.total_rate_disagg.fast(N_p=n_p, N_d=n_d, R_p=bound_p, R_d=bound_d,
                              L_i=isl, L_o=osl_v)
            else:
                pred = modes.requests_fixed_split.fast(N_p=n_p, N_d=n_d, R_p=R_p, R_d=R_d, L_i=isl,
                             L_o=osl_v) * osl_v / (n_p + n_d)
                bound = None
        return Prediction(**base, predicted=float(pred), bound=None if bound is None else float(bound),
                          expressible=True, assumptions=tuple(notes))
    except _Skip as s:
        return Prediction(**base, predicted=None, bound=None, expressible=False, reason=str(s),
                          assumptions=tuple(notes))


@lru_cache(maxsize=None)
def predict_all(kappa: float | None = None, framework: str | None = None) -> tuple[Prediction, ...]:
    """Every validation entry, predicted (``kappa``, ``framework``: as in :func:`predict`)."""
    return tuple(predict(k, kappa, framework) for k in entries())


def error_stats(errors) -> dict:
    """The book's one summary of relative errors (model / measured - 1, fractions): ``n``, ``mape``
    (mean absolute), ``median_ape`` (median absolute), ``mean_error`` (signed: > 0 over-predicts),
    ``lowest``, ``highest``; ``None`` for each statistic when there are none."""
    e = np.asarray(list(errors), dtype=float)
    if e.size == 0:
        return {"n": 0, "mape": None, "median_ape": None, "mean_error": None, "lowest": None, "highest": None}
    return {"n": int(e.size), "mape": float(np.mean(np.abs(e))), "median_ape": float(np.median(np.abs(e))),
            "mean_error": float(np.mean(e)), "lowest": float(e.min()), "highest": float(e.max())}


def scored(preds=None) -> list:
    """The predictions that are expressible and have a measured value to compare with."""
    preds = predict_all() if preds is None else preds
    return [p for p in preds if p.expressible and p.error is not None]


def summary(preds=None) -> dict:
    """:func:`error_stats` over the expressible predictions, with ``publishers`` (how many teams),
    ``not_expressible`` and ``infeasible`` (setups that ran but that the model says do not fit in
    memory: a model failure)."""
    preds = predict_all() if preds is None else preds
    pubs = {p.publisher.split("(")[0].strip() for p in preds if p.expressible}
    return {**error_stats(p.error for p in scored(preds)), "publishers": len(pubs),
            "not_expressible": sum(not p.expressible for p in preds),
            "infeasible": sum(not p.expressible and "do not fit" in p.reason for p in preds)}


_METRIC = {"output_tokens_per_s_per_gpu": "output tok/s per GPU", "input_tokens_per_s_per_gpu": "input tok/s per GPU",
           "total_tokens_per_s_per_gpu": "input+output tok/s per GPU", "tokens_per_s_per_user": "tok/s per user"}


def publisher_group(p: Prediction) -> str:
    """The publisher, shortened for legends (``LMSYS/SGLang`` -> ``SGLang``)."""
    name = p.publisher.split("(")[0].strip()
    return {"LMSYS/SGLang": "SGLang", "NVIDIA/TensorRT-LLM": "TensorRT-LLM"}.get(name, name)


def errors_by(preds, key) -> list[dict]:
    """:func:`error_stats` of the expressible predictions grouped by ``key(p)``, with ``group``."""
    groups: dict[str, list[float]] = {}
    for p in scored(preds):
        groups.setdefault(key(p), []).append(p.error)
    return [{"group": g, **error_stats(e)} for g, e in sorted(groups.items())]


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
