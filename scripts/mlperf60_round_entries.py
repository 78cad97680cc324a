"""MLPerf Inference v6.0 closed-division results as validation entries (``mlperf60-*`` in ``data/validation.yaml``).

The rule, fixed before any prediction was looked at (issue 21): every closed-division result of the round
for DeepSeek-R1, Llama-3.1-405B and gpt-oss-120b, in every scenario (Offline, Server, Interactive), whose
system is ``status: available``, whose run is VALID, on a GPU of the book's catalog.  Input: the results
repository mlcommons/inference_results_v6.0 (published 2026-03-26), read at commit 4d3916ac of the mirror
gbeezybez/inference_results_v6.0 (its later commits touch only open/Lattix)::

    PYTHONPATH=src python scripts/mlperf60_round_entries.py /path/to/inference_results_v6.0.git > /tmp/new.yaml

Per result it reads ``performance/run_1/mlperf_log_summary.txt`` (Offline: 'Tokens per second'; Server and
Interactive: 'Completed tokens per second'; 'Result is'), ``systems/<system>.json`` (accelerator count =
accelerators_per_node x number_of_nodes, the model name, framework, status) and, where the submitter ships
NVIDIA's harness configs, ``configs/<system>/<Scenario>/<model>.py`` (and the Dynamo worker files it names) for
the serving settings.  It prints YAML for the results not yet in the set (the ids of ``EXISTING``) on stdout
and the results the rule leaves out on stderr.  Writes nothing.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys

COMMIT = "4d3916ac"
MODELS = {"deepseek-r1": ("deepseek-r1", "dsr1", "deepseek-r1.py"),
          "gpt-oss-120b": ("gpt-oss-120b", "gptoss", "gpt-oss-120b.py"),
          "llama3.1-405b": ("llama-3.1-405b", "llama405b", "llama3_1-405b.py")}
#: accelerator_model_name (system JSON) -> catalog GPU; names matching none are outside the catalog
GPUS = (("GB300", "GB300"), ("GB200", "GB200"), ("B300", "B300"), ("B200", "B200"), ("H200", "H200"),
        ("H100", "H100"), ("MI355X", "MI355X"), ("MI325X", "MI325X"), ("MI300X", "MI300X"))
#: results already in the set: (submitter, system, model, scenario) -> id
EXISTING = {
    ("NVIDIA", "GB300-NVL72_GB300-288GB_aarch64x72_TRT", "deepseek-r1", "Offline"): "mlperf60-gb300-72-offline",
    ("NVIDIA", "GB300-NVL72_GB300-288GB_aarch64x72_TRT", "deepseek-r1", "Server"): "mlperf60-gb300-72-server",
    ("NVIDIA", "GB300-NVL72_GB300-288GB_aarch64x72_TRT", "deepseek-r1", "Interactive"): "mlperf60-gb300-72-interactive",
    ("NVIDIA", "GB200-NVL72_GB200-186GB_aarch64x72_TRT", "deepseek-r1", "Offline"): "mlperf60-gb200-72-offline",
    ("NVIDIA", "GB200-NVL72_GB200-186GB_aarch64x72_TRT", "deepseek-r1", "Server"): "mlperf60-gb200-72-server",
    ("NVIDIA", "GB200-NVL72_GB200-186GB_aarch64x72_TRT", "deepseek-r1", "Interactive"): "mlperf60-gb200-72-interactive",
    ("NVIDIA", "B300-SXM-270GBx8_TRT", "deepseek-r1", "Offline"): "mlperf60-b300-8-offline",
    ("NVIDIA", "B300-SXM-270GBx8_TRT", "deepseek-r1", "Server"): "mlperf60-b300-8-server",
    ("NVIDIA", "GB300-NVL72_GB300-288GB_aarch64x288_TRT", "deepseek-r1", "Offline"): "mlperf60-gb300-288-offline",
    ("NVIDIA", "GB300-NVL72_GB300-288GB_aarch64x288_TRT", "deepseek-r1", "Server"): "mlperf60-gb300-288-server",
    ("Nebius", "GB300-NVL72_GB300-288GB_aarch64x8_TRT", "deepseek-r1", "Server"): "mlperf60-nebius-gb300-8-server",
    ("CoreWeave", "GB300-NVL72_GB300-288GB_aarch64x8_TRT", "deepseek-r1", "Offline"): "mlperf60-coreweave-gb300-8-offline",
    ("NVIDIA", "GB300-NVL72_GB300-288GB_aarch64x72_TRT", "gpt-oss-120b", "Offline"): "mlperf60-gb300-72-gptoss-offline",
    ("NVIDIA", "GB300-NVL72_GB300-288GB_aarch64x72_TRT", "gpt-oss-120b", "Server"): "mlperf60-gb300-72-gptoss-server",
    ("NVIDIA", "GB300-NVL72_GB300-288GB_aarch64x72_TRT", "gpt-oss-120b", "Interactive"):
        "mlperf60-gb300-72-gptoss-interactive",
    ("AMD", "8xMI355X_2xEPYC_9575F", "gpt-oss-120b", "Offline"): "mlperf60-mi355x-8-gptoss-offline",
    ("AMD", "8xMI355X_2xEPYC_9575F", "gpt-oss-120b", "Server"): "mlperf60-mi355x-8-gptoss-server",
    ("NVIDIA", "GB300-NVL72_GB300-288GB_aarch64x72_TRT", "llama3.1-405b", "Offline"): "mlperf60-gb300-72-llama405b-offline",
    ("NVIDIA", "B300-SXM-270GBx8_TRT", "llama3.1-405b", "Offline"): "mlperf60-b300-8-llama405b-offline",
}
#: YAML anchors of the set, defined by earlier entries (None: this script defines it at its first use)
LENGTHS = {"deepseek-r1": "*mlperf-dsr1-lengths", "gpt-oss-120b": "*mlperf-gptoss-lengths",
           "llama3.1-405b": "*mlperf-l405-lengths"}
ALSO = {"deepseek-r1": "[mlperf-dsr1-reference, mlperf-dsr1-dataset-lengths{}]",
        "gpt-oss-120b": "[mlperf-v60-rules, mlperf-gptoss-dataset-lengths]",
        "llama3.1-405b": "[mlperf-l405-dataset-lengths, mlperf-v60-rules]"}
LEVEL_KEY = {("deepseek-r1", "Server"): ("mlperf-dsr1-server", "deepseek-r1", True),
             ("deepseek-r1", "Interactive"): ("mlperf-dsr1-interactive", "deepseek-r1-interactive", True),
             ("gpt-oss-120b", "Server"): ("mlperf-gptoss-server", "gpt-oss-120b", True),
             ("gpt-oss-120b", "Interactive"): ("mlperf-gptoss-interactive", "gpt-oss-120b-interactive", False),
             ("llama3.1-405b", "Server"): ("mlperf-l405-server", "llama3_1-405b", True),
             ("llama3.1-405b", "Interactive"): ("mlperf-l405-interactive", "llama3_1-405b-interactive", True)}
L405_DENSE = ("the submission: precision fp4 (every linear layer NVFP4, as in NVIDIA's Llama-3.1-405B-Instruct-FP4 "
              "checkpoint, whose model card says 'Only the weights and activations of the linear operators within "
              "transformers blocks are quantized')")


def git(repo: str, *args: str) -> str:
    return subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True).stdout


def show(repo: str, path: str) -> str | None:
    r = subprocess.run(["git", "-C", repo, "show", f"{COMMIT}:{path}"], capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else None


def num(pattern: str, text: str, cast=int):
    m = re.search(pattern, text or "", re.M)
    return cast(m.group(1)) if m else None


def read_py(text: str) -> dict:
    """The serving settings of an NVIDIA-harness config (the first value of each field; ``None``: not set)."""
    runtime = (text or "").split("trtllm_runtime_flags", 1)[1] if "trtllm_runtime_flags" in (text or "") else ""
    return {"tp": num(r"llm_fields\.tensor_parallelism:\s*(\d+)", text),
            "pp": num(r"llm_fields\.pipeline_parallelism:\s*(\d+)", text),
            "ep": num(r"llm_fields\.moe_expert_parallelism:\s*(\d+)", text),
            "adp": bool(re.search(r"['\"]enable_attention_dp['\"]:\s*True", text or "")),
            "batch": num(r"gpu_batch_size:\s*\{[^}]*?:\s*(\d+)", text),
            "tokens": num(r"['\"]max_num_tokens['\"]:\s*(\d+)", runtime),
            "chunked": num(r"['\"]enable_chunked_context['\"]:\s*(True|False)", text, str),
            "kv": num(r"['\"]kv_cache_dtype['\"]:\s*['\"](\w+)['\"]", text, str),
            "precision": num(r"model_fields\.precision:\s*['\"](\w+)['\"]", text, str),
            "moe_backend": num(r"['\"]moe_backend['\"]:\s*['\"](\w+)['\"]", text, str),
            "concurrency": num(r"['\"]max_concurrency['\"]:\s*([\d +*]+)", text, lambda s: int(eval(s))),
            "drafts": num(r"num_nextn_predict_layers['\"]?:\s*(\d+)", text) or num(r"max_draft_len['\"]?:\s*(\d+)", text),
            "prefill_workers": num(r"['\"]num_prefill_workers['\"]:\s*(\d+)", text),
            "decode_workers": num(r"['\"]num_decode_workers['\"]:\s*(\d+)", text),
            "prefill_yml": num(r"['\"]prefill['\"]:\s*\{[^}]*?trtllm_yml_override['\"]:\s*['\"]/work/([^'\"]+)", text, str),
            "decode_yml": num(r"['\"]decode['\"]:\s*\{[^}]*?trtllm_yml_override['\"]:\s*['\"]/work/([^'\"]+)", text, str)}


def read_yml(text: str) -> dict:
    """A TensorRT-LLM worker file's layout: TP, MoE EP, attention DP, batch, tokens, MTP drafts."""
    return {"tp": num(r"^tensor_parallel_size:\s*(\d+)", text), "pp": num(r"^pipeline_parallel_size:\s*(\d+)", text), "ep": num(r"^moe_expert_parallel_size:\s*(\d+)", text),
            "adp": num(r"^enable_attention_dp:\s*(\w+)", text, str) == "true",
            "batch": num(r"^max_batch_size:\s*(\d+)", text), "tokens": num(r"^max_num_tokens:\s*(\d+)", text),
            "drafts": num(r"num_nextn_predict_layers:\s*(\d+)", text) or num(r"max_draft_len:\s*(\d+)", text)}


def worker_gpus(path: str) -> int:
    return int(re.search(r"x(\d+)/", path).group(1))


def catalog_gpu(name: str) -> str | None:
    for key, g in GPUS:
        if key in name:
            return g
    return None


def results(repo: str) -> list[dict]:
    files = git(repo, "ls-tree", "-r", "--name-only", COMMIT, "closed/").split()
    out = []
    for f in files:
        m = re.match(r"closed/([^/]+)/results/([^/]+)/([^/]+)/([^/]+)/performance/run_1/mlperf_log_summary.txt$", f)
        if not m or m.group(3) not in MODELS:
            continue
        sub, system, model, scen = m.groups()
        log = show(repo, f)
        sj = json.loads(show(repo, f"closed/{sub}/systems/{system}.json") or "{}")
        per_node, nodes = int(sj.get("accelerators_per_node") or 0), int(sj.get("number_of_nodes") or 1)
        named = re.search(r"\(x(\d+)\)", sj.get("accelerator_model_name", ""))
        offline = scen.lower() == "offline"
        rate = num(r"^Tokens per second\s*:\s*([\d.e+]+)" if offline else r"^Completed tokens per second\s*:\s*([\d.]+)",
                   log, str)
        out.append({"sub": sub, "system": system, "model": model, "scen": scen.capitalize(), "log": log, "sj": sj,
                    "n": int(named.group(1)) if named else per_node * nodes, "per_node": per_node, "nodes": nodes,
                    "valid": num(r"Result is\s*:\s*(\w+)", log, str), "rate": rate,
                    "samples": num(r"^(?:Completed s|S)amples per second\s*:\s*([\d.e+]+)", log, str),
                    "ttft": num(r"ttft_latency \(ns\):\s*(\d+)", log), "tpot": num(r"tpot_latency \(ns\):\s*(\d+)", log),
                    "gpu": catalog_gpu(sj.get("accelerator_model_name", ""))})
    return out


def excluded(r: dict) -> str | None:
    if r["gpu"] is None:
        return f"GPU outside the catalog ({r['sj'].get('accelerator_model_name')})"
    if r["sj"].get("status") != "available":
        return f"status {r['sj'].get('status')}"
    if r["valid"] != "VALID":
        return f"result {r['valid']}"
    return None


def config(repo: str, r: dict) -> tuple[dict | None, str | None, dict | None]:
    """(settings, the config file's name, the worker files' settings) of the result's NVIDIA-harness config."""
    fname = MODELS[r["model"]][2]
    for name in dict.fromkeys([r["system"], re.sub(r"_TRT$", "", r["system"])]):
        path = f"closed/{r['sub']}/configs/{name}/{r['scen']}/{fname}"
        text = show(repo, path)
        if text is None:
            continue
        s = read_py(text)
        workers = None
        if s["prefill_yml"] and s["decode_yml"]:
            pre = read_yml(show(repo, f"closed/{r['sub']}/{s['prefill_yml']}") or "")
            dec = read_yml(show(repo, f"closed/{r['sub']}/{s['decode_yml']}") or "")
            workers = {"prefill": pre, "decode": dec, "pg": worker_gpus(s["prefill_yml"]), "dg": worker_gpus(s["decode_yml"])}
        elif s["tp"] is None:       # a system file naming no parallelism: the harness's worker file of the same system
            base = re.sub(r"x\d+$", "", name)
            for k in (1, 2, 4, 8):
                w = show(repo, f"closed/{r['sub']}/configs/{base}x{k}/{r['scen']}/{fname}")
                if w and read_py(w)["tp"]:
                    ws = read_py(w)
                    s = {**s, **{x: ws[x] for x in ("tp", "pp", "ep", "tokens", "chunked", "batch") if ws[x] is not None},
                         "worker": f"{base}x{k}"}
                    break
        return s, f"{name}, {r['scen']}/{fname}", workers
    return None, None, None


def ident(r: dict, tagged: bool) -> str:
    """``mlperf60-<submitter>-[<system tag>-]<gpu>-<n>-<model>-<scenario>``; the tag (the system name's first word)
    where one submitter has two systems of the same GPU count and GPU."""
    sub = re.sub(r"[^a-z0-9]+", "", r["sub"].lower())
    tag = re.split(r"[-_]", r["system"])[0].lower() + "-" if tagged else ""
    return f"mlperf60-{sub}-{tag}{r['gpu'].lower()}-{r['n']}-{MODELS[r['model']][1]}-{r['scen'].lower()}"


def q(s: str) -> str:
    return '"' + s.replace('\\', '\\\\').replace('"', "'") + '"'


def level(r: dict, defined: set) -> str | None:
    if r["scen"] == "Offline":
        return None
    anchor, conf, exists = LEVEL_KEY[(r["model"], r["scen"])]
    if exists or anchor in defined:
        return f"*{anchor}"
    defined.add(anchor)
    ttft, tpot = r["ttft"] / 1e6, r["tpot"] / 1e6
    note = (f"loadgen/mlperf.conf: {conf}.Server.ttft_latency = {ttft:g}, tpot_latency = {tpot:g} (ms, 99th percentile); "
            f"the submission logs print ttft_latency (ns): {r['ttft']}, tpot_latency (ns): {r['tpot']}")
    return (f"&{anchor} {{ttft_ms: {ttft:g}, tpot_ms: {tpot:g}, percentile: 99, "
            f"src: \"mlperf-v60-rules, mlperf-inference-v60\", note: {q(note)}}}")


def framework(sj: dict) -> str:
    """The system description's framework, then the items of its other_software_stack it does not already name."""
    parts = [x.strip() for x in str(sj.get("framework") or "").split(",") if x.strip() and x.strip() != "N/A"]
    parts += [x.strip() for x in str(sj.get("other_software_stack") or "").split(",")
              if x.strip() and x.strip() != "N/A" and x.strip() not in parts]
    return ", ".join(parts) + "; as listed in the system description" if parts else "not stated"


def entry(r: dict, repo: str, eid: str, defined: set) -> str:
    s, cfg, workers = config(repo, r)
    model, short, _ = MODELS[r["model"]]
    s = s or {}
    prec = s.get("precision")
    kv = "fp8" if s.get("kv") == "fp8" else "null"
    layout = "{attn: null, attn_tp: null, ep: null, redundant_experts: null, moe_tp: null}"
    setup, mode, gp, gd, bits = None, "agg", "null", "null", []
    if cfg:
        bits.append(f"precision {prec}" if prec else "")
        bits.append(f"kv_cache_dtype {s['kv']}" if s.get("kv") else "no kv_cache_dtype")
    if workers:
        pre, dec, npw, ndw = workers["prefill"], workers["decode"], s["prefill_workers"], s["decode_workers"]
        mode, gp, gd = "disagg", str(npw * workers["pg"]), str(ndw * workers["dg"])
        bits.append(f"disaggregated under NVIDIA Dynamo: {npw} prefill workers of {workers['pg']} GPUs (TP{pre['tp']}"
                    f"{', attention DP' if pre['adp'] else ''}, MoE EP{pre['ep'] or 1}), {ndw} decode workers of "
                    f"{workers['dg']} GPUs (TP{dec['tp']}{', attention DP' if dec['adp'] else ''}, MoE EP{dec['ep'] or 1}, "
                    f"max_batch_size {dec['batch']})")
        attn_tp = 1 if pre["adp"] else (pre["tp"] or 1)
        pre_ep = (pre["tp"] or 1) if r["model"] == "llama3.1-405b" else (pre["ep"] or 1)   # a dense model: the TP group
        why = f"the submission's Dynamo worker files: prefill and decode layouts as in the note, decode max_batch_size {dec['batch']}"
        setup = f"{{prefill: {{ep: {pre_ep}, attn_tp: {attn_tp}}}, max_batch: {dec['batch']}, why: {q(why)}}}"
        s = {**s, "drafts": dec["drafts"] or pre["drafts"] or s.get("drafts")}
    elif cfg:
        if s.get("tp"):
            bits.append((f"DEP{s['tp']} (" if s["adp"] and s.get("ep") == s["tp"] else "(")
                        + f"tensor_parallelism {s['tp']}" + (" with enable_attention_dp" if s["adp"] else "")
                        + (f", moe_expert_parallelism {s['ep']}" if s.get("ep") else "")
                        + (f", from the worker file of {s['worker']}" if s.get("worker") else "") + ")")
        for k, label in (("batch", "gpu_batch_size"), ("tokens", "runtime max_num_tokens"), ("chunked", "enable_chunked_context"),
                         ("moe_backend", "moe_backend"), ("concurrency", "max_concurrency")):
            if s.get(k) is not None:
                bits.append(f"{label} {s[k]}")
        tp, batch, tokens = s.get("tp"), s.get("batch"), s.get("tokens")
        if r["scen"] == "Offline" and r["model"] == "deepseek-r1" and tp and s["adp"] and s.get("ep") == tp:
            layout = f"{{attn: dp, attn_tp: 1, ep: {tp}, redundant_experts: 0, moe_tp: 1}}"
            why = (f"the submitter's {r['scen']} config: DEP{tp} instances, gpu_batch_size {batch} (per attention-DP rank), "
                   f"runtime max_num_tokens {tokens} per step and rank")
            setup = f"{{max_batch: {batch}, chunk: {tokens}, why: {q(why)}}}"
        if r["scen"] == "Offline" and r["model"] == "llama3.1-405b" and tp and tokens and batch:
            layout = f"{{attn: tp, attn_tp: {tp}, ep: {tp}, redundant_experts: 0, moe_tp: 1}}"
            why = f"max_num_tokens {tokens} per TP{tp} engine ({tokens // tp} per GPU and step); gpu_batch_size {batch} per engine"
            setup = f"{{chunk: {tokens // tp}, max_batch: {batch}, why: {q(why)}}}"
    pps = [x.get("pp") for x in ([s] + ([workers["prefill"], workers["decode"]] if workers else [])) if x.get("pp")]
    if any(pp > 1 for pp in pps):
        bits.append(f"pipeline_parallelism {max(pps)}")
        why = f"pipeline parallelism {max(pps)} (TP{s.get('tp') or workers['decode']['tp']} x PP{max(pps)} engines), not modelled"
        setup = f"{{expressible: false, why: {q(why)}}}"
    drafts = s.get("drafts")
    bits.append(f"MTP {drafts} draft tokens" if drafts else ("no speculative decoding configured" if cfg else ""))
    mtp_d = str(drafts) if drafts else ("0" if cfg or r["scen"] != "Offline" else "null")
    if r["model"] == "deepseek-r1":
        moe = {"fp4": "nvfp4", "fp8": "fp8"}.get(prec, "nvfp4" if not cfg else "null")
        precision = f"{{moe: {moe}, attn: null, kv: {kv}}}"
    elif r["model"] == "llama3.1-405b":
        dense = {"fp4": "nvfp4", "fp8": "fp8"}.get(prec)
        precision = (f"{{moe: {dense}, attn: null, kv: {kv}, dense: {dense}, dense_why: {q(L405_DENSE if dense == 'nvfp4' else 'the submission: precision fp8')}}}"
                     if dense else f"{{moe: null, attn: null, kv: {kv}}}")
    else:
        precision = f"{{moe: null, attn: null, kv: {kv}}}"
    rate, n = float(r["rate"]), r["n"]
    per_gpu = round(rate / r["n"], 4)
    sysname = r["sj"].get("system_name", r["system"])
    scen_text = {"Offline": "Offline scenario = max throughput, no latency bound",
                 "Server": f"Server scenario: TTFT <= {r['ttft'] / 1e9:g} s and TPOT <= {r['tpot'] / 1e6:g} ms at p99" if r["ttft"] else "",
                 "Interactive": f"Interactive scenario (a LoadGen Server run with interactive limits): TTFT <= "
                                f"{(r['ttft'] or 0) / 1e9:g} s and TPOT <= {(r['tpot'] or 0) / 1e6:g} ms at p99"}[r["scen"]]
    nodes = f"{r['nodes']} nodes x {r['per_node']} GPUs" if r["nodes"] > 1 else f"{r['n']} GPUs"
    if r["n"] != r["per_node"] * r["nodes"]:
        nodes = f"{r['n']} GPUs on {r['nodes']} nodes (the system's accelerator name: x{r['n']})"
    setup_text = (f"Setup (scripts/mlperf60_round_entries.py) from the submitter's config {cfg}: "
                  + ", ".join(b for b in bits if b) + "." if cfg else
                  "No NVIDIA-harness config for this system: setup not read (layout, batch and precision left to the "
                  "search and the checkpoint).")
    note = (f"Results: {sysname} ({r['sub']}, system {r['system']}, {nodes}), run_1 log summary; closed division, "
            f"available, result VALID; {scen_text}. {setup_text}")
    if r["scen"] == "Offline":
        quote = f"Samples per second: {r['samples']} | Tokens per second: {r['rate']} | Result is : VALID"
    else:
        quote = f"Completed samples per second    : {r['samples']} | Completed tokens per second: {r['rate']} | Result is : VALID"
    also = ALSO[r["model"]].format(", mlperf-v60-rules" if r["scen"] == "Interactive" else "")
    lines = [f"{eid}:", f"  publisher: MLCommons MLPerf ({r['sub']} submission)", "  src: mlperf-inference-v60",
             f"  also: {also}", "  published: 2026-04-01", "  retrieved: 2026-12-01",
             f"  framework: {q(framework(r['sj']))}",
             f"  model: {model}", f"  gpu: {r['gpu']}", "  phase: end-to-end", f"  mode: {mode}",
             f"  gpus_total: {r['n']}", f"  gpus_prefill: {gp}", f"  gpus_decode: {gd}", f"  layout: {layout}",
             f"  precision: {precision}", f"  mtp: {{draft_tokens: {mtp_d}, accept_rate: null, accepted_length: null}}",
             "  isl: null", "  osl: null", f"  lengths: {LENGTHS[r['model']]}"]
    sl = level(r, defined)
    if sl:
        lines.append(f"  service_level: {sl}")
    lines += ["  concurrency: {per_gpu: null, total: null}", "  measured:",
              f"    output_tokens_per_s_per_gpu: {{value: {per_gpu}, unit: token/s/GPU, note: "
              f"{q(f'{rate:,.2f} tokens/s for the {n}-GPU system / {n}')}}}",
              f"  quote: {q(quote)}", f"  note: {q(note)}"]
    if setup:
        lines.append(f"  model_setup: {setup}")
    lines.append("  confidence: medium")
    return "\n".join(lines)


def main(repo: str) -> None:
    rs = results(repo)
    defined, kept, left, todo = set(), [], [], []
    for r in sorted(rs, key=lambda r: (r["model"], r["scen"], r["sub"], r["system"])):
        why = excluded(r)
        if why:
            left.append(f"{r['sub']} {r['system']} {r['model']} {r['scen']}: {why}")
        elif (r["sub"], r["system"], r["model"], r["scen"]) not in EXISTING:
            todo.append(r)
    plain = [ident(r, False) for r in todo]
    for r, eid in zip(todo, plain):
        tagged = plain.count(eid) > 1 or eid in EXISTING.values()
        kept.append(entry(r, repo, ident(r, tagged), defined))
    print("\n\n".join(kept))
    print(f"# {len(rs)} results, {len(rs) - len(left)} under the rule, {len(EXISTING)} already in the set, "
          f"{len(kept)} new; left out {len(left)}:", file=sys.stderr)
    for x in left:
        print("#   " + x, file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/work/.mirror/gbeezybez+inference_results_v6.0/repo")
