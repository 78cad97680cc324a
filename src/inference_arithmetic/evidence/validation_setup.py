"""Validation entries read into model inputs: the catalog, the measured quantity, the shipped model,
the framework, the sequence lengths and the layout, by the fixed rules of :mod:`.validation`'s header.

Everything here reads ``data/validation.yaml`` only (never a measured value into an input): the
predictions themselves are :mod:`.validation` (a stated layout) and :mod:`.validation_search` (a
layout the one search chooses).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from inference_arithmetic import step
from inference_arithmetic.core.cited import read_yaml
from inference_arithmetic.core.errors import Error
from inference_arithmetic.model.config import model

__all__ = ["Prediction", "Skip", "entries", "entry_framework", "family", "metric", "entry_model",
           "attention_unstated", "layout", "lengths", "mtp_drafts", "accept_from_length", "prefill_layout",
           "prefill_chunk", "prefill_workers", "batch_limit", "decode_context", "decode_unit"]

#: Entry ``model`` names that read another shipped config (same architecture).
MODEL_ALIAS = {"deepseek-r1": "deepseek-v3"}


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
    return framework_of(entries()[entry_id])


def framework_of(e: dict) -> str:
    """:func:`entry_framework` of the entry ``e`` itself."""
    text = str(e.get("framework") or "").lower()
    for word, name in _FRAMEWORK_WORDS:
        if word in text:
            return name
    return "dynamo" if "dynamo" in text else "not stated"


def kernel_framework(entry_id: str, framework: str | None = None) -> str:
    """Whose kernel tables predict the entry: ``framework`` when given, else the publication's, and
    DeepSeek's kernels (the transfer rule) where the publication's is none of :data:`.step.FRAMEWORKS`."""
    fw = entry_framework(entry_id) if framework is None else framework
    return fw if fw in step.FRAMEWORKS else "deepseek"


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


class Skip(Exception):
    """An entry the model cannot predict, with the reason."""


def metric(e: dict) -> tuple[str, float]:
    """The measured quantity an entry is scored on and its value."""
    m = e.get("measured") or {}
    for key in ("output_tokens_per_s_per_gpu", "input_tokens_per_s_per_gpu", "total_tokens_per_s_per_gpu",
                "tokens_per_s_per_user"):
        if key in m and isinstance(m[key], dict):
            if key == "output_tokens_per_s_per_gpu" and "tokens_per_s_per_user" in m and \
                    (e.get("concurrency") or {}).get("total") == 1:
                return "tokens_per_s_per_user", float(m["tokens_per_s_per_user"]["value"])
            return key, float(m[key]["value"])
    raise Error(f"validation entry has no measured rate: {sorted(m)}")


def entry_model(e: dict):
    """The shipped config an entry's ``model`` names (``deepseek-r1`` reads ``deepseek-v3``)."""
    name = str(e.get("model") or "deepseek-v3").lower()
    return model(MODEL_ALIAS.get(name, name))


def family(p: Prediction) -> str:
    """The model family of a prediction, for grouping errors (DeepSeek-V3 and R1 are one)."""
    return MODEL_ALIAS.get(p.model, p.model)


def lengths(e: dict, notes: list) -> tuple[float | None, float | None]:
    """(ISL, OSL) in tokens: as the publication states them, else from the entry's cited ``lengths``
    (the benchmark's published dataset statistics, or the benchmark's own definitions applied to the
    published row); ``None`` where neither gives one.  Each length taken from ``lengths`` is noted."""
    extra = e.get("lengths") or {}
    out, taken = [], []
    for key, name in (("isl", "ISL"), ("osl", "OSL")):
        v = e.get(key)
        if v is None and extra.get(key) is not None:
            v = extra[key]
            taken.append(f"{name} {v:,}")
        out.append(v)
    if taken:
        notes.append(f"{' and '.join(taken)} tokens (unstated): {extra.get('how', 'cited')} (cited with the entry)")
    return out[0], out[1]


def decode_context(e: dict, isl: float, osl: float, notes: list) -> float | None:
    """The mean context a decode batch holds (tokens) where the entry's cited ``lengths`` give one
    (``context``: the benchmark dataset's length-biased mean, :func:`.serving.workload.inflight_context`),
    noted; else ``None`` (``isl + osl / 2``, fixed lengths)."""
    extra = e.get("lengths") or {}
    if extra.get("context") is None:
        return None
    notes.append(f"decode context {extra['context']:,} tokens per request in flight, not ISL + OSL/2: "
                 f"{extra.get('context_how', 'cited')} (cited with the entry)")
    return float(extra["context"])


def attention_unstated(e: dict) -> bool:
    setup = e.get("model_setup") or {}
    lay = {**(e.get("layout") or {}), **(setup.get("layout") or {})}
    return lay.get("attn") is None and not lay.get("attn_tp") and "attn_tp" not in (setup.get("layout") or {})


#: a note that says MTP ran ("MTP on", "MTP enabled"), not one that only names it ("MTP setting not stated")
_MTP_ON = re.compile(r"\bMTP (?:on|enabled)\b")


def mtp_drafts(e: dict, notes: list, phase: str) -> tuple[int, float | None]:
    """(MTP draft tokens, per-draft acceptance or ``None``) of a decode step: as stated; one draft
    token when the publication says MTP ran without a count; none unless stated; none in prefill.
    Acceptance: as stated, else the entry's cited ``mtp_acceptance`` (the same engine's measured
    accepted length for the same model, draft count, acceptance rule and workload, with its source;
    noted), else ``None`` (the default, :mod:`.hardware.efficiency`)."""
    mtp = e.get("mtp") or {}
    drafts = mtp.get("draft_tokens")
    if drafts is None and (mtp.get("accept_rate") or mtp.get("accepted_length") or _MTP_ON.search(str(e.get("note", "")))):
        drafts = 1
        notes.append("one MTP draft token")
    drafts = int(drafts or 0) if phase == "decode" else 0
    accept = None
    cited = e.get("mtp_acceptance") or {}
    if drafts and mtp.get("accepted_length"):
        accept = accept_from_length(float(mtp["accepted_length"]), drafts)
    elif drafts and mtp.get("accept_rate"):
        accept = float(mtp["accept_rate"])
    elif drafts and cited.get("accepted_length"):
        if int(cited["draft_tokens"]) != drafts:
            raise Error(f"{e.get('src')}: cited MTP acceptance is for {cited['draft_tokens']} drafts, the entry runs {drafts}")
        accept = accept_from_length(float(cited["accepted_length"]), drafts)
        notes.append(f"MTP acceptance unstated: {float(cited['accepted_length']):g} tokens per step of {drafts} drafts "
                     f"({cited['src']}: {cited.get('how', 'cited')}) (cited with the entry)")
    return drafts, accept


def layout(e: dict, g, notes: list, phase: str, attn_tp: int | None = None) -> step.Layout:
    """The entry's layout; ``attn_tp``: the attention layout to try where the entry leaves it unstated."""
    setup = e.get("model_setup") or {}
    if setup.get("expressible") is False:
        raise Skip(setup.get("why", "setup outside the model"))
    lay = {**(e.get("layout") or {}), **(setup.get("layout") or {})}
    prec = e.get("precision") or {}
    ep = lay.get("ep")
    if ep is None:
        raise Skip("expert-parallel size not stated")
    if attention_unstated(e):
        attn_tp = attn_tp or 1
        notes.append(f"attention {'data-parallel' if attn_tp == 1 else f'TP{attn_tp}'} "
                     f"(unstated: the faster of the search's attention layouts)")
    else:
        attn_tp = lay.get("attn_tp") or (ep if lay.get("attn") == "tp" else 1)
    moe_tp = lay.get("moe_tp") or 1
    unit_gpus = max(ep * moe_tp, attn_tp)
    moe_ep = unit_gpus // moe_tp
    redundant = lay.get("redundant_experts")
    m = entry_model(e)
    if redundant is None:
        redundant = step.default_redundant(m, moe_ep)   # the fewest slots that spread evenly
        if redundant:
            notes.append(f"{redundant} redundant experts ({m.n_experts} do not divide over {moe_ep} GPUs)")
    eplb = bool(setup.get("eplb", False))
    if moe_ep > 1 and m.n_experts:
        notes.append("EPLB imbalance" if eplb or redundant else "unbalanced experts")
    micro = setup.get("micro_batches") or run_micro_batches(e, g, unit_gpus)
    if micro == 2:
        notes.append("two micro-batches (two-batch overlap, as stated)" if "micro_batches" in setup
                     else "two micro-batches (EP spans NVLink domains)")
    attn = prec.get("attn") or "bf16"
    kv = prec.get("kv") or "bf16"
    if prec.get("kv") is None:
        notes.append("BF16 KV")
    drafts, accept = mtp_drafts(e, notes, phase)
    dense = prec.get("dense") or m.dense_weight_dtype or None   # stated, else the checkpoint's, else the rule
    if dense == "nvfp4":
        notes.append("NVFP4 dense weights: 0.5625 B per weight, GEMMs at the FP4 rate")
    pp = int(lay.get("pp") or 1)
    if pp > 1:
        notes.append(f"pipeline parallelism as stated: {pp} stages of {unit_gpus} GPUs; per GPU a stage runs as the "
                     f"whole model at one micro-batch (the batch per instance), each GPU holding its stage's share of the "
                     "layers' weights (the fullest stage's; the pipeline's bubbles and stage-to-stage transfers not modelled); "
                     "a stated batch limit is one micro-batch's (TensorRT-LLM keeps pp x max_batch_size sequences in flight: "
                     "trtllm-max-num-sequences)")
    return step.Layout(ep=unit_gpus, pp=pp, redundant=redundant, attn_tp=attn_tp, moe_tp=moe_tp, micro_batches=micro,
                       mtp=drafts, accept=accept, eplb=eplb or None, overlap=setup.get("overlap"),
                       balanced=bool(setup.get("balanced", False)),
                       precision=step.Precision(moe=prec.get("moe") or "fp8", attn=attn, kv=kv, dense_dtype=dense))


def run_micro_batches(e: dict, g, unit_gpus: int) -> int:
    """Micro-batches of a unit of ``unit_gpus`` the publication's run used where it does not say
    (``model_setup.micro_batches`` says): its serving framework's default
    (:func:`.step.default_micro_batches`; DeepSeek's rule for a framework the book has no name for)."""
    fw = framework_of(e)
    return step.default_micro_batches(g, unit_gpus, fw if fw in step.FRAMEWORKS else step.DEFAULT_FRAMEWORK)


def prefill_workers(e: dict) -> tuple[int, int] | None:
    """(EP size, attention TP) of the prefill workers the publication's configuration states
    (``model_setup.prefill``: attention data-parallel unless stated), or ``None``."""
    pre = (e.get("model_setup") or {}).get("prefill") or {}
    return (int(pre["ep"]), int(pre.get("attn_tp") or 1)) if pre.get("ep") else None


def prefill_layout(e: dict, g, decode: step.Layout, notes: list) -> step.Layout:
    """The prefill workers' layout of an end-to-end entry: ``model_setup.prefill`` where the
    publication states one (its ``ep`` and ``attn_tp``, attention data-parallel unless stated; the
    rest as the decode layout), else the decode layout; no MTP either way (a prefill step
    drafts nothing)."""
    workers = prefill_workers(e)
    if workers is None:
        return step.Layout(**{**decode.__dict__, "mtp": 0})
    m = entry_model(e)
    ep, attn_tp = workers
    redundant = step.default_redundant(m, ep)
    notes.append(f"prefill workers as stated: EP{ep}, attention "
                 f"{'data-parallel' if attn_tp == 1 else f'TP{attn_tp}'}")
    return step.Layout(**{**decode.__dict__, "ep": ep, "attn_tp": attn_tp, "moe_tp": 1, "redundant": redundant,
                          "micro_batches": run_micro_batches(e, g, ep), "mtp": 0, "accept": None,
                          "eplb": None, "balanced": False})


def prefill_chunk(e: dict, default: float) -> float:
    """New tokens per GPU per prefill step: ``model_setup.prefill.chunk`` or ``model_setup.chunk``
    where stated (a server's token budget per step), else ``default``."""
    setup = e.get("model_setup") or {}
    return (setup.get("prefill") or {}).get("chunk") or setup.get("chunk") or default


def decode_unit(e: dict) -> tuple[int, int, int] | None:
    """(GPUs, attention TP, MoE TP) of the decode unit a searched entry's configuration states
    (``model_setup.decode_unit``: ``ep``, the unit's GPUs; ``attn_tp``, 1 for attention data-parallel, else
    the unit's GPUs, at most an 8-GPU node: tensor-parallel attention over the unit; ``moe_tp``, 1 unless stated),
    or ``None``: the search keeps the stated unit and chooses the rest."""
    unit = (e.get("model_setup") or {}).get("decode_unit")
    if not unit:
        return None
    ep, t, moe_tp = int(unit["ep"]), int(unit.get("attn_tp", 1)), int(unit.get("moe_tp", 1))
    if ep < 1 or moe_tp < 1 or ep % moe_tp or t not in (1, ep) or t > 8:
        raise Error(f"{e.get('src')}: decode_unit {unit}: attention TP is 1 or the unit (at most 8 GPUs), "
                    "and MoE TP divides the unit")
    return ep, t, moe_tp


def batch_limit(e: dict) -> int | None:
    """The most requests a decode attention instance schedules (``model_setup.max_batch``: the
    serving configuration's per-instance batch limit, e.g. TensorRT-LLM's ``max_batch_size``), or
    ``None`` where not stated."""
    v = (e.get("model_setup") or {}).get("max_batch")
    return int(v) if v else None


def accept_from_length(length: float, drafts: int) -> float:
    """The per-draft acceptance whose expected accepted length (1 + p + ... + p^n) is ``length``."""
    lo, hi = 0.0, 0.999
    for _ in range(60):
        mid = (lo + hi) / 2
        if float(step.mtp_tokens.fast(p_acc=mid, n_dr=drafts)) < length:
            lo = mid
        else:
            hi = mid
    return round((lo + hi) / 2, 6)
