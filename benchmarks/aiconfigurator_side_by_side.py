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
MoE TP and EP), the same requests per attention instance, the same lengths and precisions.  aiconfigurator
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
from inference_arithmetic.evidence import validation as v
from inference_arithmetic.hardware.efficiency import efficiencies
from inference_arithmetic.hardware.gpus import gpu
from inference_arithmetic.serving import modes, prefill as _prefill

OUT = DATA / "aiconfigurator_predictions.yaml"
DATE = "2026-12-01"

#: our GPU names -> aiconfigurator's systems
SYSTEMS = {"H100": "h100_sxm", "H200": "h200_sxm", "B200": "b200_sxm", "B300": "b300_sxm", "GB200": "gb200",
           "GB300": "gb300"}
#: (our model name, MoE precision) -> the Hugging Face config aiconfigurator ships (its quantisation read from it)
MODELS = {("deepseek-v3", "fp8"): "deepseek-ai/DeepSeek-V3", ("deepseek-r1", "fp8"): "deepseek-ai/DeepSeek-R1",
          ("deepseek-v3", "nvfp4"): "nvidia/DeepSeek-V3.1-NVFP4", ("deepseek-r1", "nvfp4"): "nvidia/DeepSeek-V3.1-NVFP4",
          ("deepseek-v3.2", "fp8"): "deepseek-ai/DeepSeek-V3.2", ("deepseek-v3.2", "nvfp4"): "nvidia/DeepSeek-V3.2-NVFP4",
          ("llama-3.1-405b", "fp8"): "meta-llama/Meta-Llama-3.1-405B", ("gpt-oss-120b", "mxfp4"): "openai/gpt-oss-120b"}
BACKENDS = ("trtllm", "sglang", "vllm")
_DTYPE = {"bf16": "bfloat16", "fp8": "fp8"}


class NotExpressible(Exception):
    pass


def aic_setup(key: str) -> dict:
    """The entry's setup as the validation rules resolve it, in aiconfigurator's terms."""
    e = v.entries()[key]
    if e.get("gpu") not in SYSTEMS:
        raise NotExpressible(f"GPU {e.get('gpu')} is not an aiconfigurator system")
    prec = e.get("precision") or {}
    name = str(e.get("model") or "deepseek-v3").lower()
    hf = MODELS.get((name, prec.get("moe") or "fp8"))
    if hf is None:
        raise NotExpressible(f"model {name} with {prec.get('moe')} experts has no aiconfigurator config here")
    if e.get("isl") is None:
        raise NotExpressible("sequence lengths not stated (the validation rules do not resolve them)")
    if e["phase"] == "end-to-end" and e.get("osl") is None:
        raise NotExpressible("output length not stated (the validation rules do not resolve it)")
    notes: list[str] = []
    phase = "decode" if e["phase"] != "prefill" else "prefill"
    try:
        lay = v._layout(e, gpu(e["gpu"]), [], phase)
    except v._Skip as s:
        raise NotExpressible(f"layout not resolved by the validation rules: {s}") from None
    fw = v.entry_framework(key)
    if fw not in BACKENDS:
        notes.append(f"framework {fw}: TensorRT-LLM tables used")
        fw = "trtllm"
    width = lay.ep   # GPUs in one deployment unit
    stated = e.get("gpus_prefill" if phase == "prefill" else "gpus_decode") or e.get("gpus_total")
    if stated and width > stated:
        notes.append(f"the validation rules' unit spans {width} GPUs; the entry states {stated}")
    layout = {"tp_size": lay.attn_tp, "attention_dp_size": width // lay.attn_tp, "moe_tp_size": lay.moe_tp,
              "moe_ep_size": width // lay.moe_tp, "nextn": lay.mtp}
    quant = {"kvcache_quant_mode": _DTYPE.get(lay.precision.kv, lay.precision.kv),
             "fmha_quant_mode": _DTYPE.get(lay.precision.attn, lay.precision.attn)}
    if name == "llama-3.1-405b":
        quant["gemm_quant_mode"] = "fp8"
    if lay.redundant:
        notes.append(f"{lay.redundant} redundant experts not passed (aiconfigurator's static path has none)")
    if lay.micro_batches > 1:
        notes.append("two micro-batches not passed")
    return {"entry": e, "layout_obj": lay, "hf": hf, "system": SYSTEMS[e["gpu"]], "backend": fw,
            "layout": layout, "quant": quant, "notes": notes}


def _decode_batch(s: dict) -> tuple[float, float]:
    """Requests per attention instance and busy share, by the validation's rule (the same function)."""
    e, lay = s["entry"], s["layout_obj"]
    u = step.unit(v._model(e), gpu(e["gpu"]), step.Layout(**{**lay.__dict__, "framework": s["backend"]}))
    ctx = e["isl"] + float(e.get("osl") or 0) / 2
    try:
        _, b, busy = v._decode_rate(u, e, [], ctx, ctx)
    except v._Skip as sk:
        raise NotExpressible(f"batch not resolved by the validation rules: {sk}") from None
    return b, busy


def _has_fp8_context(h, isl: int) -> bool:
    from aiconfigurator_core.sdk.errors import PerfDataNotAvailableError
    try:
        h.predict_prefill_latency(1, isl)
    except PerfDataNotAvailableError as x:
        return "context MLA data missing" not in str(x)
    return True


def predict(key: str, handles: dict, s: dict | None = None) -> dict:
    """aiconfigurator's prediction of entry ``key`` in the entry's metric, with what was passed."""
    s = aic_setup(key) if s is None else s
    e, lay, notes = s["entry"], s["layout_obj"], s["notes"]
    metric, _ = v._metric(e)
    hkey = (s["hf"], s["system"], s["backend"], tuple(sorted(s["layout"].items())), tuple(sorted(s["quant"].items())))
    if hkey not in handles:
        from aiconfigurator_core.sdk.engine import EngineHandle
        handles[hkey] = EngineHandle.compile(s["hf"], s["system"], s["backend"], **s["layout"], **s["quant"])
    h = handles[hkey]
    if s["quant"]["fmha_quant_mode"] == "fp8" and not _has_fp8_context(h, int(e["isl"])):
        notes.append("FP8 context attention has no aiconfigurator table here: BF16 context attention")
        s["quant"]["fmha_quant_mode"] = "bfloat16"
        return predict(key, handles, s)
    isl, osl = int(e["isl"]), e.get("osl")
    tp = lay.attn_tp
    chunk = (e.get("model_setup") or {}).get("chunk", _prefill.PREFILL_CHUNK_TOKENS)
    # the validation's chunk is new tokens per GPU: an attention instance of tp GPUs takes tp chunks a step
    # (serving.prefill_step.prefill), whole prompts
    prefill_bs = max(1, int(chunk * tp // isl))

    def prefill_rate() -> float:
        ms = h.predict_prefill_latency(prefill_bs, isl)
        return prefill_bs * isl / (ms / 1e3) / tp

    if e["phase"] == "prefill":
        notes.append(f"prefill batch {prefill_bs} per attention instance ({chunk} tokens per GPU a step, the validation rule)")
        value = prefill_rate()
        passed = {"batch_size": prefill_bs, "isl": isl}
    else:
        b, busy = _decode_batch(s)
        bi = max(1, int(round(b)))
        if abs(bi - b) > 1e-9:
            notes.append(f"{b:g} requests per instance rounded to {bi}")
        osl_a = int(osl) if osl and int(osl) > 1 else 2
        step_s = h.predict_decode_latency(bi, isl, osl_a) / (osl_a - 1) / 1e3
        accept = efficiencies(gpu(e["gpu"]).key).mtp_accept.value if lay.accept is None else lay.accept
        tokens = float(step.mtp_tokens.fast(p_acc=accept, n_dr=lay.mtp)) if lay.mtp else 1.0
        if lay.mtp:
            notes.append(f"{tokens:.3g} tokens per MTP step ({'the entry' if lay.accept else 'the default'}"
                         f" acceptance, as this model's)")
        r_d = tokens / step_s
        R_d = bi * r_d / tp
        passed = {"batch_size": bi, "isl": isl, "osl": osl_a}
        if e["phase"] == "decode":
            value = r_d if metric == "tokens_per_s_per_user" else R_d * busy
        else:
            R_p, L_o = prefill_rate(), float(osl)
            passed["prefill_batch_size"] = prefill_bs
            if e.get("mode") == "agg":
                per_gpu, per_user = modes.mode_rates("agg", R_d * busy, R_p, r_d, isl, L_o)
                scale = (isl + L_o) / L_o if metric == "total_tokens_per_s_per_gpu" else 1.0
                value = per_user if metric == "tokens_per_s_per_user" else per_gpu * scale
            else:
                n_p, n_d = e["gpus_prefill"], e["gpus_decode"]
                if metric == "tokens_per_s_per_user":
                    value = r_d
                elif metric == "total_tokens_per_s_per_gpu":
                    value = modes.total_rate_disagg.fast(N_p=n_p, N_d=n_d, R_p=R_p, R_d=R_d * busy, L_i=isl, L_o=L_o)
                else:
                    value = modes.requests_fixed_split.fast(N_p=n_p, N_d=n_d, R_p=R_p, R_d=R_d * busy, L_i=isl,
                                                           L_o=L_o) * L_o / (n_p + n_d)
    return {"id": key, "metric": metric, "predicted": float(value), "system": s["system"], "backend": s["backend"],
            "model": s["hf"], "backend_version": _version(s["system"], s["backend"]),
            "layout": {**s["layout"], **s["quant"], **passed}, "notes": notes}


def _version(system: str, backend: str) -> str:
    from aiconfigurator_core.sdk.perf_database import get_version_slots
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
