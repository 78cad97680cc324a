"""aiconfigurator's predictions of the validation entries it can express, stored for the side-by-side.

Optional and never run in CI: it needs NVIDIA's ``aiconfigurator-core`` (PyPI, Apache-2.0), which is not
in ``requirements.txt``.  Run it from a separate venv that holds aiconfigurator-core and this library's
own requirements (numpy, sympy, PyYAML at the pinned versions)::

    python3 -m venv /tmp/aic-venv
    /tmp/aic-venv/bin/pip install aiconfigurator-core==0.12.0 numpy==2.4.6 sympy==1.14.0 PyYAML==6.0.3
    PYTHONPATH=src /tmp/aic-venv/bin/python benchmarks/aiconfigurator_side_by_side.py

It writes ``src/inference_arithmetic/data/aiconfigurator_predictions.yaml`` (read by
:mod:`inference_arithmetic.evidence.side_by_side`).

Each entry's setup is the one the validation rules resolve (:mod:`inference_arithmetic.evidence.validation`):
the same GPU count and layout (attention TP -> ``tp_size``, attention instances -> ``attention_dp_size``,
MoE TP and EP), the same requests per attention instance, the same lengths (stated, else the entry's cited
``lengths``; the decode step at the cited length-biased decode context where one is given) and precisions
(an unstated MoE dtype: the checkpoint's).  Where the publication leaves the layout unstated, the setup is
the one the model's search chose (:mod:`inference_arithmetic.evidence.validation_search`: its best
candidate's mode, layout, batch per attention instance, precisions and prefill partner), passed as is and
composed with the same serving formulas (disaggregated: pools in balance at the planning utilisation).
Llama 3.1 405B NVFP4 runs on aiconfigurator's Meta-Llama-3.1-405B config with ``gemm_quant_mode=nvfp4``
(it ships no NVFP4 config of that model), as the FP8 entries take ``gemm_quant_mode=fp8``; gpt-oss's MXFP4
experts run with MXFP8 activations on Blackwell under TensorRT-LLM (``moe_quant_mode=w4a8_mxfp4_mxfp8``,
TensorRT-LLM's examples/models/core/gpt_oss README; aiconfigurator's default is W4A16).  aiconfigurator
estimates the step times from its measured kernel tables (``EngineHandle.predict_decode_latency``: the
decode steps from ISL to ISL + OSL; ``predict_prefill_latency``: a prefill batch); the step times become
rates the way the validation composes this model's (``serving.modes``), so the two differ only in the step
model.  MTP: aiconfigurator prices the draft tokens' compute; the accepted tokens per step come from the
entry's stated acceptance (the validation rule), as aiconfigurator leaves acceptance to its caller.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import logging
import re
import sys
import warnings
from pathlib import Path

import yaml

from inference_arithmetic import step
from inference_arithmetic.core.cited import DATA
from inference_arithmetic.core.rounding import stable_data
from inference_arithmetic.evidence import validation as v, validation_search as vs
from inference_arithmetic.hardware.efficiency import efficiencies
from inference_arithmetic.hardware.gpus import gpu
from inference_arithmetic.serving import modes, prefill as _prefill, search

try:                       # optional: the script needs aiconfigurator-core, which is no requirement of the library
    from aiconfigurator_core.sdk.engine import EngineHandle
    from aiconfigurator_core.sdk.errors import PerfDataNotAvailableError
    from aiconfigurator_core.sdk.perf_database import get_version_slots
except ImportError:        # pragma: no cover (outside the aiconfigurator venv)
    EngineHandle = PerfDataNotAvailableError = get_version_slots = None

OUT = DATA / "aiconfigurator_predictions.yaml"
DATE = "2026-12-02"

#: our GPU names -> aiconfigurator's systems
SYSTEMS = {"H100": "h100_sxm", "H200": "h200_sxm", "B200": "b200_sxm", "B300": "b300_sxm", "GB200": "gb200",
           "GB300": "gb300"}
#: (our model name, MoE precision) -> the Hugging Face config aiconfigurator ships (its quantisation read from it;
#: Llama's GEMM precision is passed, :func:`_quant_of`: aiconfigurator ships its BF16 config only)
MODELS = {("deepseek-v3", "fp8"): "deepseek-ai/DeepSeek-V3", ("deepseek-r1", "fp8"): "deepseek-ai/DeepSeek-R1",
          ("deepseek-v3", "nvfp4"): "nvidia/DeepSeek-V3.1-NVFP4",
          ("deepseek-r1", "nvfp4"): "nvidia/DeepSeek-V3.1-NVFP4",
          ("deepseek-v3.2", "fp8"): "deepseek-ai/DeepSeek-V3.2",
          ("deepseek-v3.2", "nvfp4"): "nvidia/DeepSeek-V3.2-NVFP4",
          ("llama-3.1-405b", "fp8"): "meta-llama/Meta-Llama-3.1-405B",
          ("llama-3.1-405b", "nvfp4"): "meta-llama/Meta-Llama-3.1-405B",
          ("gpt-oss-120b", "mxfp4"): "openai/gpt-oss-120b"}
BACKENDS = ("trtllm", "sglang", "vllm")
_DTYPE = {"bf16": "bfloat16", "fp8": "fp8"}


class NotExpressible(Exception):
    pass


#: GPUs whose TensorRT-LLM runs gpt-oss's MXFP4 experts with MXFP8 activations (TensorRT-LLM's
#: examples/models/core/gpt_oss README: Blackwell; Hopper runs them with BF16 activations, W4A16)
BLACKWELL = ("B200", "B300", "GB200", "GB300")


def _layout_of(d: dict) -> dict:
    """A layout as :func:`.search.describe` writes it, in aiconfigurator's terms."""
    return {"tp_size": d["attn_tp"], "attention_dp_size": d["ep"] // d["attn_tp"], "moe_tp_size": d["moe_tp"],
            "moe_ep_size": d["ep"] // d["moe_tp"], "nextn": d["mtp"]}


def _quant_of(e: dict, name: str, d: dict, backend: str, notes: list) -> dict:
    """aiconfigurator's quantisation modes of a described layout ``d`` (its dtypes)."""
    quant = {"kvcache_quant_mode": _DTYPE.get(d["kv_dtype"], d["kv_dtype"]),
             "fmha_quant_mode": _DTYPE.get(d["attn_dtype"], d["attn_dtype"])}
    if name == "llama-3.1-405b":
        dense = d.get("dense_dtype") or d["moe_dtype"]
        quant["gemm_quant_mode"] = dense
        if dense == "nvfp4" and "NVFP4 GEMMs" not in " ".join(notes):
            notes.append("aiconfigurator ships no NVFP4 Llama-3.1-405B config: its Meta-Llama-3.1-405B config with "
                         "gemm_quant_mode=nvfp4 (as the FP8 entries take gemm_quant_mode=fp8), NVFP4 GEMMs")
    if d["moe_dtype"] == "mxfp4" and backend == "trtllm" and e["gpu"] in BLACKWELL:
        quant["moe_quant_mode"] = "w4a8_mxfp4_mxfp8"
        if "MXFP8 activations" not in " ".join(notes):
            notes.append("MXFP4 experts with MXFP8 activations (moe_quant_mode=w4a8_mxfp4_mxfp8: TensorRT-LLM on "
                         "Blackwell, examples/models/core/gpt_oss README)")
    elif d["moe_dtype"] == "mxfp4" and "BF16 activations" not in " ".join(notes):
        notes.append("MXFP4 experts with BF16 activations (aiconfigurator's default, w4a16_mxfp4)")
    return quant


def _attn(d: dict) -> str:
    return "DP" if d["attn_tp"] == 1 else f"TP{d['attn_tp']}"


def aic_setup(key: str) -> dict:
    """The entry's setup as the validation rules resolve it, in aiconfigurator's terms: a stated layout by
    :mod:`.validation`'s rules, a layout the publication leaves unstated as the one search chose it
    (:mod:`.validation_search`: its best candidate's layout, batch, precision and prefill partner)."""
    e = v.entries()[key]
    if e.get("gpu") not in SYSTEMS:
        raise NotExpressible(f"GPU {e.get('gpu')} is not an aiconfigurator system")
    name = str(e.get("model") or "deepseek-v3").lower()
    notes: list[str] = []
    fw = v.entry_framework(key)
    if fw not in BACKENDS:
        notes.append(f"framework {fw}: TensorRT-LLM tables used")
        fw = "trtllm"
    if vs.searched(e):
        try:
            s = vs.setup(key)
            mode, b = vs.best(s)
        except v._Skip as sk:
            raise NotExpressible(f"layout not resolved by the validation rules: {sk}") from None
        notes += s.notes
        d, pre = b["layout"], b["prefill_layout"]
        notes.append(f"layout the model's search chose (mode {mode}): {search.label(d)}, "
                     f"{b['batch_per_instance']:.0f} requests per attention instance, prefill partner "
                     f"EP{pre['ep']} {_attn(pre)}, passed as is")
        svc = s.service
        isl, osl, ctx, batch = svc.isl, svc.osl, svc.context, b["batch_per_instance"]
        chunk, lay = pre["chunk_tokens_per_gpu"], None
        accept = None          # the search takes the book's default acceptance
    else:
        isl, osl = v.lengths(e, notes)
        if isl is None:
            raise NotExpressible("sequence lengths not stated (the validation rules do not resolve them)")
        if e["phase"] == "end-to-end" and osl is None:
            raise NotExpressible("output length not stated (the validation rules do not resolve it)")
        phase = "decode" if e["phase"] != "prefill" else "prefill"
        try:
            lay = v._layout(e, gpu(e["gpu"]), [], phase)
        except v._Skip as s:
            raise NotExpressible(f"layout not resolved by the validation rules: {s}") from None
        if lay.pp > 1:     # the per-GPU equivalence this model uses (step.layout.Layout's pp)
            notes.append(f"pipeline parallelism ({lay.pp} stages of TP{lay.attn_tp}) given as the TP{lay.attn_tp} engine "
                         "at one micro-batch (per GPU the same step; the batch the pipeline's, each GPU holding its stage's "
                         "share of the weights)")
        ctx = v.decode_context(e, isl, float(osl or 0), notes) if e["phase"] != "prefill" else None
        # the prefill workers' layout as the validation resolves it (stated, else the decode layout; no MTP)
        pre = search.describe(v.prefill_layout(e, gpu(e["gpu"]), lay, notes) if phase == "decode" else lay)
        d, mode, batch, accept = search.describe(lay), e.get("mode"), None, lay.accept
        chunk = v.prefill_chunk(e, _prefill.PREFILL_CHUNK_TOKENS)
        width = lay.ep   # GPUs in one deployment unit
        stated = e.get("gpus_prefill" if phase == "prefill" else "gpus_decode") or e.get("gpus_total")
        if stated and width > stated:
            notes.append(f"the validation rules' unit spans {width} GPUs; the entry states {stated}")
    hf = MODELS.get((name, d["moe_dtype"]))
    if hf is None:
        raise NotExpressible(f"model {name} with {d['moe_dtype']} experts has no aiconfigurator config here")
    if d["redundant"]:
        notes.append(f"{d['redundant']} redundant experts not passed (aiconfigurator's static path has none)")
    if d["micro_batches"] > 1:
        notes.append("two micro-batches not passed")
    return {"entry": e, "layout_obj": lay, "hf": hf, "system": SYSTEMS[e["gpu"]], "backend": fw,
            "layout": _layout_of(d), "quant": _quant_of(e, name, d, fw, notes),
            "prefill_layout": {**_layout_of(pre), "nextn": 0}, "prefill_quant": _quant_of(e, name, pre, fw, notes),
            "mode": mode, "isl": int(round(isl)), "osl": None if osl is None else int(round(osl)),
            "context": ctx, "batch": batch, "chunk": chunk, "mtp": d["mtp"], "accept": accept,
            "searched": lay is None, "notes": notes}


def _decode_batch(s: dict) -> tuple[float, float]:
    """Requests per attention instance and busy share: the search's choice, or the validation's rule (the
    same function, at the same decode context)."""
    if s["searched"]:
        return s["batch"], 1.0
    e, lay = s["entry"], s["layout_obj"]
    u = step.unit(v._model(e), gpu(e["gpu"]), step.Layout(**{**lay.__dict__, "framework": s["backend"]}))
    ctx = s["context"] or s["isl"] + float(s["osl"] or 0) / 2
    try:
        _, b, busy = v._decode_rate(u, e, [], ctx, ctx)
    except v._Skip as sk:
        raise NotExpressible(f"batch not resolved by the validation rules: {sk}") from None
    return b, busy


def _has_fp8_context(h, isl: int) -> bool:
    try:
        h.predict_prefill_latency(1, isl)
    except PerfDataNotAvailableError as x:
        return "context MLA data missing" not in str(x)
    return True


def _handle(handles: dict, s: dict, layout: dict, quant: dict):
    key = (s["hf"], s["system"], s["backend"], tuple(sorted(layout.items())), tuple(sorted(quant.items())))
    if key not in handles:
        handles[key] = EngineHandle.compile(s["hf"], s["system"], s["backend"], **layout, **quant)
    return handles[key]


def _prefill_handle(handles: dict, s: dict):
    """The prefill partner's engine; BF16 context attention where aiconfigurator has no FP8 table (noted)."""
    h = _handle(handles, s, s["prefill_layout"], s["prefill_quant"])
    if s["prefill_quant"]["fmha_quant_mode"] == "fp8" and not _has_fp8_context(h, s["isl"]):
        s["notes"].append("FP8 context attention has no aiconfigurator table here: BF16 context attention")
        s["prefill_quant"] = {**s["prefill_quant"], "fmha_quant_mode": "bfloat16"}
        h = _handle(handles, s, s["prefill_layout"], s["prefill_quant"])
    return h


def predict(key: str, handles: dict) -> dict:
    """aiconfigurator's prediction of entry ``key`` in the entry's metric, with what was passed."""
    s = aic_setup(key)
    e, notes = s["entry"], s["notes"]
    metric, _ = v._metric(e)
    isl, osl = s["isl"], s["osl"]
    tp_p = s["prefill_layout"]["tp_size"]
    # the chunk is new tokens per GPU: an attention instance of tp GPUs takes tp chunks a step
    # (serving.prefill_step.prefill), whole prompts
    prefill_bs = max(1, int(s["chunk"] * tp_p // isl))

    def prefill_rate() -> float:
        ms = _prefill_handle(handles, s).predict_prefill_latency(prefill_bs, isl)
        return prefill_bs * isl / (ms / 1e3) / tp_p

    passed = {"isl": isl}
    if e["phase"] == "prefill":
        notes.append(f"prefill batch {prefill_bs} per attention instance ({s['chunk']:g} tokens per GPU a step, "
                     "the validation rule)")
        value, passed["batch_size"] = prefill_rate(), prefill_bs
        return _row(key, metric, value, s, passed)
    h = _handle(handles, s, s["layout"], s["quant"])
    b, busy = _decode_batch(s)
    bi = max(1, int(round(b)))
    if abs(bi - b) > 1e-9:
        notes.append(f"{b:g} requests per instance rounded to {bi}")
    if s["context"] is not None:     # one decode step at the entry's mean context in flight
        ctx = int(round(s["context"]))
        step_s = h.predict_decode_latency(bi, ctx, 2) / 1e3
        passed.update(decode_context=ctx, decode_osl=2)
    else:
        osl_a = int(osl) if osl and int(osl) > 1 else 2
        step_s = h.predict_decode_latency(bi, isl, osl_a) / (osl_a - 1) / 1e3
        passed["osl"] = osl_a
    passed["batch_size"] = bi
    accept = efficiencies(gpu(e["gpu"]).key).mtp_accept.value if s["accept"] is None else s["accept"]
    tokens = float(step.mtp_tokens.fast(p_acc=accept, n_dr=s["mtp"])) if s["mtp"] else 1.0
    if s["mtp"]:
        notes.append(f"{tokens:.3g} tokens per MTP step ({'the entry' if s['accept'] else 'the default'}"
                     f" acceptance, as this model's)")
    r_d = tokens / step_s
    R_d = bi * r_d / s["layout"]["tp_size"] * busy
    if e["phase"] == "decode":
        return _row(key, metric, r_d if metric == "tokens_per_s_per_user" else R_d, s, passed)
    R_p, L_o = prefill_rate(), float(osl)
    passed["prefill_batch_size"] = prefill_bs
    scale = {"total_tokens_per_s_per_gpu": (isl + L_o) / L_o, "input_tokens_per_s_per_gpu": isl / L_o}.get(metric, 1.0)
    if s["mode"] == "agg" or (s["searched"] and s["mode"] == "disagg"):
        # the search's pools: aggregated, or disaggregated in balance at the planning utilisation
        util = _prefill.UTILISATION if s["mode"] == "disagg" else 1.0
        per_gpu, per_user = modes.mode_rates(s["mode"], R_d, R_p, r_d, isl, L_o, util)
        value = per_user if metric == "tokens_per_s_per_user" else per_gpu * scale
    else:
        n_p, n_d = e["gpus_prefill"], e["gpus_decode"]
        if metric == "tokens_per_s_per_user":
            value = r_d
        elif metric == "total_tokens_per_s_per_gpu":
            value = modes.total_rate_disagg.fast(N_p=n_p, N_d=n_d, R_p=R_p, R_d=R_d, L_i=isl, L_o=L_o)
        else:
            value = modes.requests_fixed_split.fast(N_p=n_p, N_d=n_d, R_p=R_p, R_d=R_d, L_i=isl,
                                                   L_o=L_o) * L_o / (n_p + n_d)
    return _row(key, metric, value, s, passed)


def _row(key: str, metric: str, value: float, s: dict, passed: dict) -> dict:
    pre = {f"prefill_{k}": x for k, x in {**s["prefill_layout"], **s["prefill_quant"]}.items()
           if x != {**s["layout"], **s["quant"]}.get(k)}
    return {"id": key, "metric": metric, "predicted": float(value), "system": s["system"], "backend": s["backend"],
            "model": s["hf"], "backend_version": _version(s["system"], s["backend"]),
            "layout": {**s["layout"], **s["quant"], **passed, **pre}, "notes": s["notes"]}


def _version(system: str, backend: str) -> str:
    slots = get_version_slots(system, backend) or {}
    return str(slots.get("current", "current"))


def run() -> dict:
    handles: dict = {}
    predicted, not_expressible = [], []
    for key in sorted(v.entries()):
        try:
            predicted.append(predict(key, handles))
        except NotExpressible as x:
            not_expressible.append({"id": key, "reason": str(x)})
        except Exception as x:   # aiconfigurator refuses the setup (missing tables, unsupported op)
            text = re.sub(r" at /\S+", "", str(x).splitlines()[0])[:200]
            not_expressible.append({"id": key, "reason": f"aiconfigurator: {type(x).__name__}: {text}"})
    return {"header": {"tool": "aiconfigurator-core", "version": importlib.metadata.version("aiconfigurator-core"),
                       "date": DATE, "script": "benchmarks/aiconfigurator_side_by_side.py",
                       "licence": "aiconfigurator-core is Apache-2.0 (NVIDIA); these are its outputs on our setups",
                       "ci": "not re-run in CI: needs aiconfigurator-core, which is not a requirement",
                       "what": "aiconfigurator's predicted value of each validation entry, in the entry's metric "
                               "(a model prediction, not a measurement)"},
            "predictions": predicted, "not_expressible": not_expressible}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    data = stable_data(run())
    args.out.write_text(yaml.safe_dump(data, sort_keys=True, width=120), encoding="utf-8")
    print(f"{len(data['predictions'])} predicted, {len(data['not_expressible'])} not expressible -> {args.out}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
