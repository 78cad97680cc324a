"""Print the validation entries of one MLPerf Inference round, read from a mirror of its results repository.

    python scripts/mlperf_round_entries.py --round 5.1 > entries.yaml   # mlcommons/inference_results_v5.1 @ 965182b0
    python scripts/mlperf_round_entries.py --round 6.0 > entries.yaml   # mlcommons/inference_results_v6.0 @ 4d3916ac

The rule (issue 21), fixed before any prediction is looked at: every closed-division result of the round's models,
every scenario, status available, run VALID, on a GPU of the book's catalog.  Per result: the summary_results.json
row, ``performance/run_1/mlperf_log_summary.txt`` (Offline 'Tokens per second', Server and Interactive 'Completed
tokens per second', 'Result is', latency limits), ``systems/<system>.json`` (accelerators per node x nodes,
accelerator, framework) and, where the submitter ships NVIDIA's harness configs, ``configs/<system>/<Scenario>/
<model>.py`` (and the Dynamo worker files it names).  Stdout: YAML for the results not yet in the set, in the id and
note style the set has for that round; stderr: what the rule leaves out.  The round's mirror, commit and differences
are data (``ROUNDS``).  v6.0 is read from the mirror gbeezybez/inference_results_v6.0 (mlcommons' published
2026-03-26; its commits after 4d3916ac touch only open/Lattix).  In v5.1 the Llama-3.1-405B entries alias the set's
``&mlperf-l405-lengths`` anchor; where they go before the entry that defines it, the anchor moves by hand.
"""
from __future__ import annotations

import argparse
import json
import math
import re
import subprocess
import sys

SCENARIOS = ("Offline", "Server", "Interactive")
#: results already in the set (hand-written entries): (submitter, system folder, model, scenario) -> id
_NV51 = {"GB300-NVL72_GB300-288GB_aarch64x72_TRT": "gb300-72", "GB200-NVL72_GB200-186GB_aarch64x72_TRT": "gb200-72",
         "B200-SXM-180GBx8_TRT": "b200-8"}
_NV60 = (("GB300-NVL72_GB300-288GB_aarch64x72_TRT", "deepseek-r1", "gb300-72", SCENARIOS),
         ("GB200-NVL72_GB200-186GB_aarch64x72_TRT", "deepseek-r1", "gb200-72", SCENARIOS),
         ("B300-SXM-270GBx8_TRT", "deepseek-r1", "b300-8", SCENARIOS[:2]),
         ("GB300-NVL72_GB300-288GB_aarch64x288_TRT", "deepseek-r1", "gb300-288", SCENARIOS[:2]),
         ("GB300-NVL72_GB300-288GB_aarch64x72_TRT", "gpt-oss-120b", "gb300-72-gptoss", SCENARIOS),
         ("GB300-NVL72_GB300-288GB_aarch64x72_TRT", "llama3.1-405b", "gb300-72-llama405b", ("Offline",)),
         ("B300-SXM-270GBx8_TRT", "llama3.1-405b", "b300-8-llama405b", ("Offline",)))
ROUNDS = {
    "5.1": {"repo": "/work/.mirror/mlcommons+inference_results_v5.1/repo", "commit": "965182b0", "style": "v51",
            "prefix": "mlperf51", "src": "mlperf-inference-v51", "published": "2025-09-09",
            "models": ("deepseek-r1", "llama3.1-405b"),
            "order": lambda r: (r["model"] != "deepseek-r1", r["sub"] != "NVIDIA", r["sub"], r["system"],
                                SCENARIOS.index(r["scen"])), "grouped": True,
            #: ids: mlperf51-[<submitter>-][<system tag>-]<gpu>-<n>[-<model>]-<scenario>
            "who": lambda sub: "" if sub == "NVIDIA" else slug(sub) + "-", "tag": lambda system: system_tag(system),
            "model_ids": {"deepseek-r1": "", "llama3.1-405b": "-llama405b"},
            #: the set's DeepSeek-R1 Server limits (ns), as its mlperf-dsr1-server service level states them; every
            #: entry of one service level must log the same limits
            "limits": {"mlperf-dsr1-server": (2_000_000_000, 80_000_000)}, "level_src": "mlperf-inference-v51",
            "levels": {("deepseek-r1", "Server"): ("mlperf-dsr1-server", None, True),
                       ("llama3.1-405b", "Server"): ("mlperf-l405-server", None, False),
                       ("llama3.1-405b", "Interactive"): ("mlperf-l405-interactive", None, False)},
            "existing": {("NVIDIA", s, "deepseek-r1", sc): f"mlperf51-{g}-{sc.lower()}"
                         for s, g in _NV51.items() for sc in SCENARIOS[:2]}},
    "6.0": {"repo": "/work/.mirror/gbeezybez+inference_results_v6.0/repo", "commit": "4d3916ac", "style": "v60",
            "prefix": "mlperf60", "src": "mlperf-inference-v60", "published": "2026-04-01",
            "models": ("deepseek-r1", "gpt-oss-120b", "llama3.1-405b"),
            "order": lambda r: (r["model"], r["scen"], r["sub"], r["system"]),
            #: ids: mlperf60-<submitter>-[<system name's first word>-]<gpu>-<n>-<model>-<scenario>
            "who": lambda sub: re.sub(r"[^a-z0-9]+", "", sub.lower()) + "-",
            "tag": lambda system: re.split(r"[-_]", system)[0].lower(),
            "model_ids": {"deepseek-r1": "-dsr1", "gpt-oss-120b": "-gptoss", "llama3.1-405b": "-llama405b"},
            #: the set's notes name the script that first printed them (scripts/mlperf60_round_entries.py, now this one)
            "setup_by": "scripts/mlperf60_round_entries.py", "level_src": '"mlperf-v60-rules, mlperf-inference-v60"',
            "existing": {**{("NVIDIA", s, m, sc): f"mlperf60-{g}-{sc.lower()}" for s, m, g, scs in _NV60 for sc in scs},
                         ("Nebius", "GB300-NVL72_GB300-288GB_aarch64x8_TRT", "deepseek-r1", "Server"):
                             "mlperf60-nebius-gb300-8-server",
                         ("CoreWeave", "GB300-NVL72_GB300-288GB_aarch64x8_TRT", "deepseek-r1", "Offline"):
                             "mlperf60-coreweave-gb300-8-offline",
                         ("AMD", "8xMI355X_2xEPYC_9575F", "gpt-oss-120b", "Offline"): "mlperf60-mi355x-8-gptoss-offline",
                         ("AMD", "8xMI355X_2xEPYC_9575F", "gpt-oss-120b", "Server"): "mlperf60-mi355x-8-gptoss-server"},
            #: (model, scenario) -> (service-level anchor, its loadgen/mlperf.conf key, whether the set defines it)
            "levels": {("deepseek-r1", "Server"): ("mlperf-dsr1-server", "deepseek-r1", True),
                       ("deepseek-r1", "Interactive"): ("mlperf-dsr1-interactive", "deepseek-r1-interactive", True),
                       ("gpt-oss-120b", "Server"): ("mlperf-gptoss-server", "gpt-oss-120b", True),
                       ("gpt-oss-120b", "Interactive"): ("mlperf-gptoss-interactive", "gpt-oss-120b-interactive", False),
                       ("llama3.1-405b", "Server"): ("mlperf-l405-server", "llama3_1-405b", True),
                       ("llama3.1-405b", "Interactive"): ("mlperf-l405-interactive", "llama3_1-405b-interactive", True)}},
}
#: summary Model -> (the set's model, the harness config file)
MODELS = {"deepseek-r1": ("deepseek-r1", "deepseek-r1.py"), "gpt-oss-120b": ("gpt-oss-120b", "gpt-oss-120b.py"),
          "llama3.1-405b": ("llama-3.1-405b", "llama3_1-405b.py")}
NO_LAYOUT = "{attn: null, attn_tp: null, ep: null, redundant_experts: null, moe_tp: null}"
#: catalog GPUs, found in a system's accelerator_model_name; names matching none are outside the catalog
GPUS = ("GB300", "GB200", "B300", "B200", "H200", "H100", "MI355X", "MI325X", "MI300X")
LENGTHS = {"deepseek-r1": "*mlperf-dsr1-lengths", "gpt-oss-120b": "*mlperf-gptoss-lengths",
           "llama3.1-405b": "*mlperf-l405-lengths"}
L405_DENSE = ("the submission: precision fp4 (every linear layer NVFP4, as in NVIDIA's Llama-3.1-405B-Instruct-FP4 "
              "checkpoint, whose model card says 'Only the weights and activations of the linear operators within "
              "transformers blocks are quantized')")


# ---------------------------------------------------------------- the readers, one per file kind, for every round
def show(repo: str, commit: str, path: str) -> str | None:
    r = subprocess.run(["git", "--git-dir", repo, "show", f"{commit}:{path}"], capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else None


def first(pattern: str, text: str | None, cast=int):
    m = re.search(pattern, text or "", re.M)
    return cast(m.group(1)) if m else None


def integer(expr: str) -> int:
    """The value of a config's integer expression: a sum of products of integers (``128 * 7``, ``512 + 1024``),
    read as data (never evaluated as code)."""
    return sum(math.prod(int(f) for f in term.split("*")) for term in expr.replace(" ", "").split("+"))


#: an integer expression as a config writes one (digits, spaces, ``+`` and ``*``), for :func:`integer`
INT_EXPR = r"(\d[\d +*]*\d|\d)"


def catalog_gpu(name: str) -> str | None:
    return next((g for g in GPUS if g in name), None)


def read_log(text: str) -> dict:
    """The validity, rate (token/s, as printed and as a float), samples/s and latency limits (ns) of a
    performance run's mlperf_log_summary.txt."""
    m = re.search(r"^Completed tokens per second\s*:\s*([\d.e+]+)", text, re.M) or \
        re.search(r"^Tokens per second\s*:\s*([\d.e+]+)", text, re.M)
    return {"valid": first(r"Result is\s*:\s*(\w+)", text, str), "line": m.group(0).strip(), "rate_text": m.group(1),
            "rate": float(m.group(1)), "samples": first(r"^(?:Completed s|S)amples per second\s*:\s*([\d.e+]+)", text, str),
            "ttft": first(r"ttft_latency \(ns\):\s*(\d+)", text), "tpot": first(r"tpot_latency \(ns\):\s*(\d+)", text)}


def read_system(text: str) -> dict:
    """A system description: GPU count (accelerators_per_node x number_of_nodes, or the '(xN)' of the accelerator
    name where it differs), per node, nodes, the catalog GPU, and the JSON itself."""
    sj = json.loads(text or "{}")
    per_node, nodes = int(sj.get("accelerators_per_node") or 0), int(sj.get("number_of_nodes") or 1)
    named = re.search(r"\(x(\d+)\)", sj.get("accelerator_model_name", ""))
    return {"sj": sj, "n": int(named.group(1)) if named else per_node * nodes, "per_node": per_node, "nodes": nodes,
            "gpu": catalog_gpu(sj.get("accelerator_model_name", ""))}


def read_config(text: str) -> dict:
    """The serving settings of an NVIDIA-harness config (the first value of each field; ``None``: not set)."""
    runtime = (text or "").split("trtllm_runtime_flags", 1)[1] if "trtllm_runtime_flags" in (text or "") else ""
    return {"tp": first(r"llm_fields\.tensor_parallelism:\s*(\d+)", text),
            "pp": first(r"llm_fields\.pipeline_parallelism:\s*(\d+)", text),
            "ep": first(r"llm_fields\.moe_expert_parallelism:\s*(\d+)", text),
            "adp": bool(re.search(r"['\"]enable_attention_dp['\"]:\s*True", text or "")),
            "batch": first(r"gpu_batch_size:\s*\{[^}]*?:\s*" + INT_EXPR, text, integer),
            "tokens": first(r"['\"]max_num_tokens['\"]:\s*" + INT_EXPR, runtime, integer),
            "chunked": first(r"['\"]enable_chunked_context['\"]:\s*(True|False)", text, str),
            "kv": first(r"['\"]kv_cache_dtype['\"]:\s*['\"](\w+)['\"]", text, str),
            "precision": first(r"model_fields\.precision:\s*['\"](\w+)['\"]", text, str),
            "moe_backend": first(r"['\"]moe_backend['\"]:\s*['\"](\w+)['\"]", text, str),
            "concurrency": first(r"['\"]max_concurrency['\"]:\s*" + INT_EXPR, text, integer),
            "drafts": first(r"num_nextn_predict_layers['\"]?:\s*(\d+)", text) or first(r"max_draft_len['\"]?:\s*(\d+)", text),
            "prefill_workers": first(r"['\"]num_prefill_workers['\"]:\s*(\d+)", text),
            "decode_workers": first(r"['\"]num_decode_workers['\"]:\s*(\d+)", text),
            "prefill_yml": first(r"['\"]prefill['\"]:\s*\{[^}]*?trtllm_yml_override['\"]:\s*['\"]/work/([^'\"]+)", text, str),
            "decode_yml": first(r"['\"]decode['\"]:\s*\{[^}]*?trtllm_yml_override['\"]:\s*['\"]/work/([^'\"]+)", text, str)}


def read_worker(text: str) -> dict:
    """A TensorRT-LLM worker file's layout: TP, PP, MoE EP, attention DP, batch, tokens, MTP drafts."""
    return {"tp": first(r"^tensor_parallel_size:\s*(\d+)", text), "pp": first(r"^pipeline_parallel_size:\s*(\d+)", text),
            "ep": first(r"^moe_expert_parallel_size:\s*(\d+)", text),
            "adp": first(r"^enable_attention_dp:\s*(\w+)", text, str) == "true",
            "batch": first(r"^max_batch_size:\s*(\d+)", text), "tokens": first(r"^max_num_tokens:\s*(\d+)", text),
            "drafts": first(r"num_nextn_predict_layers:\s*(\d+)", text) or first(r"max_draft_len:\s*(\d+)", text)}


def config(repo: str, commit: str, r: dict) -> tuple[dict | None, str | None, dict | None]:
    """(settings, the config file's name, the worker files' settings) of the result's NVIDIA-harness config, at
    ``configs/<system>/`` or ``configs/<system without _TRT>/``."""
    fname, sub = MODELS[r["model"]][1], r["sub"]
    for name in dict.fromkeys([r["system"], re.sub(r"_TRT$", "", r["system"])]):
        text = show(repo, commit, f"closed/{sub}/configs/{name}/{r['scen']}/{fname}")
        if text is None:
            continue
        s, workers = read_config(text), None
        if s["prefill_yml"] and s["decode_yml"]:
            workers = {k: read_worker(show(repo, commit, f"closed/{sub}/{s[k + '_yml']}") or "") for k in ("prefill", "decode")}
            workers.update({k[0] + "g": int(re.search(r"x(\d+)/", s[k + "_yml"]).group(1)) for k in workers})
        elif s["tp"] is None:       # a system file naming no parallelism: the harness's worker file of the same system
            base = re.sub(r"x\d+$", "", name)
            for k in (1, 2, 4, 8):
                ws = read_config(show(repo, commit, f"closed/{sub}/configs/{base}x{k}/{r['scen']}/{fname}"))
                if ws["tp"]:
                    s = {**s, **{x: ws[x] for x in ("tp", "pp", "ep", "tokens", "chunked", "batch") if ws[x] is not None},
                         "worker": f"{base}x{k}"}
                    break
        return s, f"{name}, {r['scen']}/{fname}", workers
    return None, None, None


def results(repo: str, commit: str, models: tuple) -> tuple[list[dict], list[str]]:
    """The round's results of ``models`` under the rule (summary row, log, system file read), and those left out."""
    kept, left = [], []
    for row in json.loads(show(repo, commit, "summary_results.json")):
        if row["Model"] not in models:
            continue
        loc = re.sub(r"/performance/run_1$", "", re.sub(r"^\./", "", row["Location"]))
        div, sub, _, system = loc.split("/")[:4]
        r = {"row": row, "loc": loc, "sub": sub, "system": system, "model": row["Model"], "scen": row["Scenario"],
             "key": (sub, system, row["Model"], row["Scenario"])}
        if div != "closed" or row["Category"] != "closed":
            left.append(f"{loc}: open division")
            continue
        r.update(read_system(show(repo, commit, f"closed/{sub}/systems/{system}.json")))
        why = (f"GPU outside the catalog ({r['sj'].get('accelerator_model_name')})" if r["gpu"] is None else
               f"status {row['Availability']}" if row["Availability"] != "available" else None)
        if why is None:
            r.update(read_log(show(repo, commit, f"{loc}/performance/run_1/mlperf_log_summary.txt")))
            why = None if r["valid"] == "VALID" else f"result {r['valid']}"
        if why:
            left.append(f"{loc}: {why}")
            continue
        if abs(r["rate"] - float(row["Performance_Result"])) > 1e-3 * r["rate"]:
            raise SystemExit(f"{loc}: the log's rate differs from the results summary's")
        if r["per_node"] * r["nodes"] != int(row["a#"]) * int(row["Nodes"]):
            raise SystemExit(f"{loc}: the accelerator count differs between the system file and the results summary")
        kept.append(r)
    return kept, left


def q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def level(r: dict, defined: set, limits: dict, rd: dict) -> str | None:
    """The entry's service_level: an alias of the round's anchor, or the anchor itself at its first use (the
    latency limits the logs print); where the round states ``limits``, every entry of an anchor must log the same."""
    if r["scen"] == "Offline":
        return None
    anchor, conf, exists = rd["levels"][(r["model"], r["scen"])]
    if "limits" in rd and limits.setdefault(anchor, (r["ttft"], r["tpot"])) != (r["ttft"], r["tpot"]):
        raise SystemExit(f"{r['loc']}: latency limits differ from the other {r['scen']} entries' ({anchor})")
    if exists or anchor in defined:
        return f"*{anchor}"
    defined.add(anchor)
    ttft, tpot = r["ttft"] / 1e6, r["tpot"] / 1e6
    note = (f"loadgen/mlperf.conf: {conf}.Server.ttft_latency = {ttft:g}, tpot_latency = {tpot:g} (ms, 99th percentile); "
            if conf else "") + f"the submission logs print ttft_latency (ns): {r['ttft']}, tpot_latency (ns): {r['tpot']}"
    return (f"&{anchor} {{ttft_ms: {ttft:g}, tpot_ms: {tpot:g}, percentile: 99, src: {rd['level_src']}, "
            f"note: {q(note)}}}")


# ---------------------------------------------------------------- v5.1: ids and notes as the set's mlperf51-* entries
def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def system_tag(platform: str) -> str:
    """The first token of a system name that holds a digit (XE9680L, 422GA), to tell one submitter's systems apart."""
    toks = [t for t in re.split(r"[_-]", platform) if re.search(r"\d", t)]
    return slug(toks[0] if toks else platform)


def num(x: float) -> str:
    return f"{round(x, 4):.4f}".rstrip("0").rstrip(".")


def describe(s: dict) -> str:
    if not s:
        return ""
    par = f"TP{s.get('tp') or '?'}"
    par += f" PP{s['pp']}" if (s.get("pp") or 1) > 1 else ""
    par += f" EP{s['ep']}" if s.get("ep") else ""
    par += " with attention DP" if s.get("adp") else ""
    bits = [f"engines of {par}", f"precision {s.get('precision')}", f"kv_cache_dtype {s.get('kv')}",
            f"gpu_batch_size {s.get('batch')}", f"runtime max_num_tokens {s.get('tokens')}",
            f"enable_chunked_context {s.get('chunked')}"]
    bits += [f"moe_backend {s['moe_backend']}"] if s.get("moe_backend") else []
    return ", ".join(b for b in bits if not b.endswith("None"))


def fields_v51(r: dict, repo: str, rd: dict) -> dict:
    """The fields of a v5.1 entry: the layout left to the search, the config's settings quoted in the note."""
    row, sc, n, who = r["row"], r["scen"], r["n"], r["sub"].replace("_", " ")
    settings, cfg, _ = config(repo, rd["commit"], r)
    custom = f"closed/{r['sub']}/configs/{MODELS[r['model']][1][:-3]}/{sc}/custom.py"
    if not cfg and show(repo, rd["commit"], custom):   # one file for all of a submitter's systems: its dtypes only
        kvs = set(re.findall(r"'kv_cache_dtype':\s*'(\w+)'", show(repo, rd["commit"], custom)))
        settings = {"kv": kvs.pop(), "custom": True} if len(kvs) == 1 else {}
    settings = settings or {}
    kv = settings.get("kv") or "null"   # unstated: the book's BF16 rule
    if r["model"] == "deepseek-r1":
        also, prec = "[mlperf-dsr1-reference, mlperf-dsr1-dataset-lengths]", "{moe: nvfp4, attn: null, kv: %s}" % kv
    else:
        also = "[mlperf-l405-dataset-lengths, mlperf-v60-rules]"
        prec = ("{moe: nvfp4, attn: null, kv: %s, dense: nvfp4, dense_why: \"the submission: precision fp4 "
                "(weight_data_types fp4): every linear layer NVFP4, as in NVIDIA's Llama-3.1-405B-Instruct-FP4 "
                "checkpoint (model card: 'Only the weights and activations of the linear operators within "
                "transformers blocks are quantized')\"}" % kv) if row["weight_data_types"] == "fp4" else \
            "{moe: fp8, attn: null, kv: %s}" % kv
    layout, setup = stated_pins(r, settings) if cfg else (NO_LAYOUT, None)
    if (settings.get("pp") or 1) > 1 and layout == NO_LAYOUT:
        setup = unsearchable_pipeline(settings["pp"], settings["tp"])
    pinned = ("The stated engines are the layout, with their batch limit and token budget (model_setup)."
              if layout != NO_LAYOUT else "The stated engines are the search's decode unit, the batch the search's "
              "under the stated limit (model_setup)." if setup and "decode_unit" in setup else
              "The layout is left to the search.")
    where = ("The submitter's configs/llama3_1-405b custom.py (one file for all its systems) sets kv_cache_dtype "
             f"{settings['kv']} in every class; the system's own class is not identified. The layout is "
             "left to the search." if settings.get("custom") else
             f"Setup from the submission's config ({r['sub']} configs, {sc}, {MODELS[r['model']][1]}): {describe(settings)}; "
             f"no speculative decoding configured (MTP off); aggregated serving. {pinned}" if cfg else
             "No config file at the submission's standard path (not read). The layout is left to the search.")
    virt = " Virtualized GPUs (VMware), read as H200." if row["Accelerator"].startswith("Virtualized") else ""
    bound = "Offline: no latency bound." if sc == "Offline" else f"{sc}: a LoadGen Server run under the latency limits of service_level."
    note = (f"{who}'s closed-division result, system '{row['System']}' (results folder "
            f"{r['system']}), {n} GPUs, available, result {r['valid']}. {bound}{virt} {where}")
    return {"who": who, "also": also, "precision": prec, "value": num(r["rate"] / n), "note": note,
            "layout": layout, "setup": setup,
            "framework": (r["sj"].get("framework") or "not stated") + " (TensorRT-LLM); as listed in the system description",
            "quote": f"{row['System']} | {row['Model']} | {sc} | {row['Performance_Result']} | Tokens/s; log: {r['line']}"}


# ---------------------------------------------------------------- v6.0: ids and notes as the set's mlperf60-* entries
ALSO60 = {"deepseek-r1": "[mlperf-dsr1-reference, mlperf-dsr1-dataset-lengths{}]",
          "gpt-oss-120b": "[mlperf-v60-rules, mlperf-gptoss-dataset-lengths]",
          "llama3.1-405b": "[mlperf-l405-dataset-lengths, mlperf-v60-rules]"}


def framework(sj: dict) -> str:
    """The system description's framework, then the items of its other_software_stack it does not already name."""
    parts = [x.strip() for x in str(sj.get("framework") or "").split(",") if x.strip() and x.strip() != "N/A"]
    parts += [x.strip() for x in str(sj.get("other_software_stack") or "").split(",")
              if x.strip() and x.strip() != "N/A" and x.strip() not in parts]
    return ", ".join(parts) + "; as listed in the system description" if parts else "not stated"


def decode_unit(tp: int, adp: bool, ep: int | None, model: str) -> str:
    """``model_setup.decode_unit`` of TensorRT-LLM engines of ``tp`` GPUs: attention data-parallel with
    ``enable_attention_dp``, else TP over the engine; a MoE model's experts split ``tp / ep`` ways without it."""
    moe_tp = tp // ep if model != "llama3.1-405b" and not adp and ep else 1
    return f"{{ep: {tp}, attn_tp: {1 if adp else tp}" + (f", moe_tp: {moe_tp}" if moe_tp > 1 else "") + "}"


def unsearchable_pipeline(pp: int, tp: int) -> str:
    """``model_setup`` of a result whose stated engines are a pipeline the layout is not pinned to (the step model
    takes a pinned pipeline; the search, which would be asked for the rest, has none)."""
    why = f"pipeline parallelism {pp} (TP{tp} x PP{pp} engines): the search has no pipeline"
    return f"{{expressible: false, why: {q(why)}}}"


def stated_pins(r: dict, s: dict) -> tuple[str, str | None]:
    """(layout, model_setup) of a result whose NVIDIA-harness config ``s`` states its engines (issue 21: a stated
    layout is pinned, an unstated one is the search's): Offline DeepSeek-R1 DEP instances and Offline Llama TP
    (x PP) engines pinned with their batch limit and token budget; any other stated engine the search's decode unit
    (``decode_unit``) under the batch limit; ``NO_LAYOUT`` and ``None`` where the config states no engine."""
    tp, batch, tokens, pp = s.get("tp"), s.get("batch"), s.get("tokens"), s.get("pp") or 1
    if not tp:
        return NO_LAYOUT, None
    if r["scen"] == "Offline" and r["model"] == "deepseek-r1" and s["adp"] and s.get("ep") == tp:
        why = (f"the submitter's {r['scen']} config: DEP{tp} instances, gpu_batch_size {batch} (per attention-DP rank), "
               f"runtime max_num_tokens {tokens} per step and rank")
        return (f"{{attn: dp, attn_tp: 1, ep: {tp}, redundant_experts: 0, moe_tp: 1}}",
                f"{{max_batch: {batch}, chunk: {tokens}, why: {q(why)}}}")
    if r["scen"] == "Offline" and r["model"] == "llama3.1-405b" and tokens and batch:
        why = f"max_num_tokens {tokens} per TP{tp} engine ({tokens // tp} per GPU and step); gpu_batch_size {batch} per engine"
        why += (f"; pipeline_parallelism {pp}: {pp} stages of TP{tp}, the batch limit read per micro-batch (TensorRT-LLM's "
                f"batch manager keeps pipeline_parallelism x max_batch_size sequences in flight: trtllm-max-num-sequences)"
                if pp > 1 else "")
        return (f"{{attn: tp, attn_tp: {tp}, ep: {tp}, redundant_experts: 0, moe_tp: 1{f', pp: {pp}' if pp > 1 else ''}}}",
                f"{{chunk: {tokens // tp}, max_batch: {batch}, why: {q(why)}}}")
    per = "attention-DP rank" if s["adp"] else "engine"
    why = (f"the submitter's config: tensor_parallelism {tp}" + (" with enable_attention_dp" if s["adp"] else "")
           + (f", moe_expert_parallelism {s['ep']}" if s.get("ep") else "")
           + (f", gpu_batch_size {batch} per {per}" if batch else ""))
    return NO_LAYOUT, (f"{{decode_unit: {decode_unit(tp, s['adp'], s.get('ep'), r['model'])}"
                       + (f", max_batch: {batch}" if batch else "") + f", why: {q(why)}}}")


def fields_v60(r: dict, repo: str, rd: dict) -> dict:
    """The fields of a v6.0 entry: the config's (or Dynamo worker files') layout where the search can express it."""
    s, cfg, workers = config(repo, rd["commit"], r)
    s = s or {}
    prec = s.get("precision")
    kv = "fp8" if s.get("kv") == "fp8" else "null"
    layout = NO_LAYOUT
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
        unit = decode_unit(workers["dg"], dec["adp"], dec["ep"], r["model"])
        setup = f"{{decode_unit: {unit}, prefill: {{ep: {pre_ep}, attn_tp: {attn_tp}}}, max_batch: {dec['batch']}, why: {q(why)}}}"
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
        layout, setup = stated_pins(r, s)
    pps = [x.get("pp") for x in ([s] + ([workers["prefill"], workers["decode"]] if workers else [])) if x.get("pp")]
    if any(pp > 1 for pp in pps):
        bits.append(f"pipeline_parallelism {max(pps)}")
    if any(pp > 1 for pp in pps) and layout == NO_LAYOUT:
        setup = unsearchable_pipeline(max(pps), s.get("tp") or workers["decode"]["tp"])
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
    n = r["n"]
    sysname = r["sj"].get("system_name", r["system"])
    scen_text = {"Offline": "Offline scenario = max throughput, no latency bound",
                 "Server": f"Server scenario: TTFT <= {r['ttft'] / 1e9:g} s and TPOT <= {r['tpot'] / 1e6:g} ms at p99" if r["ttft"] else "",
                 "Interactive": f"Interactive scenario (a LoadGen Server run with interactive limits): TTFT <= "
                                f"{(r['ttft'] or 0) / 1e9:g} s and TPOT <= {(r['tpot'] or 0) / 1e6:g} ms at p99"}[r["scen"]]
    nodes = f"{r['nodes']} nodes x {r['per_node']} GPUs" if r["nodes"] > 1 else f"{n} GPUs"
    if n != r["per_node"] * r["nodes"]:
        nodes = f"{n} GPUs on {r['nodes']} nodes (the system's accelerator name: x{n})"
    setup_text = (f"Setup ({rd['setup_by']}) from the submitter's config {cfg}: " + ", ".join(b for b in bits if b) + "."
                  if cfg else "No NVIDIA-harness config for this system: setup not read (layout, batch and precision "
                  "left to the search and the checkpoint).")
    note = (f"Results: {sysname} ({r['sub']}, system {r['system']}, {nodes}), run_1 log summary; closed division, "
            f"available, result VALID; {scen_text}. {setup_text}")
    bound = "Completed samples per second    " if r["scen"] != "Offline" else "Samples per second"
    quote = (f"{bound}: {r['samples']} | {'Completed t' if r['scen'] != 'Offline' else 'T'}okens per second: "
             f"{r['rate_text']} | Result is : VALID")
    return {"who": r["sub"], "also": ALSO60[r["model"]].format(", mlperf-v60-rules" if r["scen"] == "Interactive" else ""),
            "framework": framework(r["sj"]), "mode": mode, "gp": gp, "gd": gd, "layout": layout,
            "precision": precision, "drafts": mtp_d, "value": round(r["rate"] / n, 4), "quote": quote, "note": note,
            "setup": setup}


# ---------------------------------------------------------------- every round: ids, one entry from its round's fields
def ident(r: dict, rd: dict, tagged: bool) -> str:
    return (f"{rd['prefix']}-{rd['who'](r['sub'])}{rd['tag'](r['system']) + '-' if tagged else ''}"
            f"{r['gpu'].lower()}-{r['n']}{rd['model_ids'][r['model']]}-{r['scen'].lower()}")


def ids(rs: list[dict], rd: dict) -> list[tuple[dict, str]]:
    """Each result and its id: the set's id where it is in the set, else the round's plain id, tagged with the system
    where it is another result's (one submitter, two systems of the same GPU and count) or an entry's of the set."""
    if rd.get("grouped"):   # the results of one plain id together, at the place of its first
        first_at = {}
        rs = sorted(rs, key=lambda r: first_at.setdefault(ident(r, rd, False), len(first_at)))
    plain = [ident(r, rd, False) for r in rs]
    new = [p for r, p in zip(rs, plain) if r["key"] not in rd["existing"]]
    return [(r, rd["existing"].get(r["key"]) or ident(r, rd, new.count(p) > 1 or p in rd["existing"].values()))
            for r, p in zip(rs, plain)]


def entry(r: dict, eid: str, f: dict, level: str | None, rd: dict) -> str:
    n, rate = r["n"], r["rate"]
    # a pipeline's batch limit is one micro-batch's: the source that says so beside the round's
    also = f["also"][:-1] + ", trtllm-max-num-sequences]" if ", pp: " in f.get("layout", NO_LAYOUT) else f["also"]
    lines = [f"{eid}:", f"  publisher: MLCommons MLPerf ({f['who']} submission)",
             f"  src: {rd['src']}", f"  also: {also}", f"  published: {rd['published']}", "  retrieved: 2026-12-01",
             f"  framework: {q(f['framework'])}", f"  model: {MODELS[r['model']][0]}", f"  gpu: {r['gpu']}",
             "  phase: end-to-end", f"  mode: {f.get('mode', 'agg')}", f"  gpus_total: {n}",
             f"  gpus_prefill: {f.get('gp', 'null')}", f"  gpus_decode: {f.get('gd', 'null')}",
             f"  layout: {f.get('layout', NO_LAYOUT)}", f"  precision: {f['precision']}",
             f"  mtp: {{draft_tokens: {f.get('drafts', '0')}, accept_rate: null, accepted_length: null}}",
             "  isl: null", "  osl: null", f"  lengths: {LENGTHS[r['model']]}"]
    lines += [f"  service_level: {level}"] if level else []
    lines += ["  concurrency: {per_gpu: null, total: null}", "  measured:",
              f"    output_tokens_per_s_per_gpu: {{value: {f['value']}, unit: token/s/GPU, note: "
              f"{q(f'{rate:,.2f} tokens/s for the {n}-GPU system / {n}')}}}",
              f"  quote: {q(f['quote'])}", f"  note: {q(f['note'])}"]
    lines += [f"  model_setup: {f['setup']}"] if f.get("setup") else []
    return "\n".join(lines + ["  confidence: medium"])


STYLES = {"v51": fields_v51, "v60": fields_v60}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--round", required=True, choices=sorted(ROUNDS))
    ap.add_argument("--repo", help="the results repository's git directory (default: the round's mirror)")
    a = ap.parse_args(argv)
    rd = ROUNDS[a.round]
    repo = a.repo or rd["repo"]
    if show(repo, rd["commit"], "summary_results.json") is None:
        print(f"error: {repo} holds no summary_results.json at commit {rd['commit']}", file=sys.stderr)
        return 2
    rs, left = results(repo, rd["commit"], rd["models"])
    fields = STYLES[rd["style"]]
    defined, limits, out = set(), dict(rd.get("limits", {})), []
    for r, eid in ids(sorted(rs, key=rd["order"]), rd):
        if r["key"] in rd["existing"]:
            left.append(f"{r['loc']}: already in the set as {eid}")
            continue
        out.append(entry(r, eid, fields(r, repo, rd), level(r, defined, limits, rd), rd))
    print("\n\n".join(out))
    print(f"# {len(out)} entries; left out {len(left)}:", file=sys.stderr)
    for x in left:
        print(f"#   {x}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
