"""Print the validation entries of one MLPerf Inference round, read from a mirror of its results repository.

The rule (issue 21), fixed before any prediction is looked at: every closed-division result of the round
for DeepSeek-R1 and Llama-3.1-405B, in every scenario, status available, on a GPU of the book's catalog.
The script reads, per result, the round's summary_results.json row (submitter, system, scenario, status,
accelerator), the performance run's mlperf_log_summary.txt (Offline 'Tokens per second', Server and
Interactive 'Completed tokens per second', the 'Result is' line and the latency limits), the system
description (accelerators per node x nodes, accelerator, framework) and, where present at the standard
path, the submission's config file (the serving settings, quoted in the note).  It prints the entries as
YAML, and on stderr what the rule leaves out and why.

The Llama-3.1-405B entries alias the set's ``&mlperf-l405-lengths`` anchor; where they go before the entry that
defines it, the anchor moves to the first of them (by hand, like the section's header comment).

Usage (v5.1, mlcommons/inference_results_v5.1 at commit 965182b0):
    python scripts/mlperf_round_entries.py /work/.mirror/mlcommons+inference_results_v5.1/repo 965182b0 \
        --skip mlperf51-gb300-72-offline ... > entries.yaml
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys

MODELS = {"deepseek-r1": ("deepseek-r1", "deepseek-r1.py"), "llama3.1-405b": ("llama-3.1-405b", "llama3_1-405b.py")}
#: the catalog GPU a submission's accelerator name is (None: outside the catalog)
GPUS = (("GB300", "GB300"), ("GB200", "GB200"), ("B300", "B300"), ("B200", "B200"), ("H200", "H200"),
        ("H100", "H100"), ("MI355X", "MI355X"), ("MI325X", "MI325X"), ("MI300X", "MI300X"))
#: the round's DeepSeek-R1 Server limits (ns), as the set's mlperf-dsr1-server service level states them
DSR1_SERVER = (2_000_000_000, 80_000_000)
SETTINGS = ("tensor_parallelism", "pipeline_parallelism", "moe_expert_parallelism")


def show(repo: str, commit: str, path: str) -> str | None:
    r = subprocess.run(["git", "--git-dir", repo, "show", f"{commit}:{path}"], capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else None


def catalog_gpu(accelerator: str) -> str | None:
    return next((key for name, key in GPUS if name in accelerator), None)


def log_values(text: str) -> dict:
    """The rate, validity and latency limits a performance run's mlperf_log_summary.txt prints."""
    out = {"valid": re.search(r"Result is : (\w+)", text).group(1)}
    m = re.search(r"^Completed tokens per second\s*:\s*([\d.]+)", text, re.M) or \
        re.search(r"^Tokens per second\s*:\s*([\d.]+)", text, re.M)
    out["line"] = m.group(0).strip()
    out["rate"] = float(m.group(1))
    for key in ("ttft_latency", "tpot_latency"):
        lim = re.search(rf"{key} \(ns\): (\d+)", text)
        out[key] = int(lim.group(1)) if lim else None
    return out


def config_path(repo: str, commit: str, sub: str, system: str, scenario: str, fname: str) -> str | None:
    for name in (system, re.sub(r"_TRT$", "", system)):
        path = f"closed/{sub}/configs/{name}/{scenario}/{fname}"
        if show(repo, commit, path) is not None:
            return path
    return None


def config_settings(text: str) -> dict:
    """The serving settings of an NVIDIA-harness config file (the last value where a key repeats:
    the runtime flags follow the build flags)."""
    s = {}
    for key in SETTINGS:
        m = re.search(rf"{key}:\s*(\d+)", text)
        if m:
            s[key] = int(m.group(1))
    pats = {"gpu_batch_size": r"gpu_batch_size:\s*\{\s*'[^']+':\s*(\d+)", "precision": r"precision:\s*'(\w+)'",
            "kv_cache_dtype": r"'kv_cache_dtype':\s*'(\w+)'", "max_num_tokens": r"'max_num_tokens':\s*(\d+)",
            "enable_chunked_context": r"'enable_chunked_context':\s*(\w+)",
            "enable_attention_dp": r"'enable_attention_dp':\s*(\w+)", "moe_backend": r"'moe_backend':\s*'(\w+)'"}
    for key, pat in pats.items():
        found = re.findall(pat, text)
        if found:
            s[key] = found[-1]
    return s


def describe(s: dict) -> str:
    if not s:
        return ""
    par = f"TP{s.get('tensor_parallelism', '?')}"
    par += f" PP{s['pipeline_parallelism']}" if s.get("pipeline_parallelism", 1) > 1 else ""
    par += f" EP{s['moe_expert_parallelism']}" if s.get("moe_expert_parallelism") else ""
    par += " with attention DP" if s.get("enable_attention_dp") == "True" else ""
    bits = [f"engines of {par}", f"precision {s.get('precision')}", f"kv_cache_dtype {s.get('kv_cache_dtype')}",
            f"gpu_batch_size {s.get('gpu_batch_size')}", f"runtime max_num_tokens {s.get('max_num_tokens')}",
            f"enable_chunked_context {s.get('enable_chunked_context')}"]
    bits += [f"moe_backend {s['moe_backend']}"] if s.get("moe_backend") else []
    return ", ".join(b for b in bits if not b.endswith("None"))


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def system_tag(platform: str) -> str:
    """The first token of a system name that holds a digit (XE9680L, 422GA), to tell one submitter's systems apart."""
    toks = [t for t in re.split(r"[_-]", platform) if re.search(r"\d", t)]
    return slug(toks[0] if toks else platform)


def q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def num(x: float) -> str:
    return f"{round(x, 4):.4f}".rstrip("0").rstrip(".")


def entry(r: dict, log: dict, sysj: dict, n: int, gpu: str, cfg: str | None, settings: dict, key: str,
          anchors: dict, round_: dict) -> str:
    model, _ = MODELS[r["Model"]]
    sc = r["Scenario"]
    fp4 = r["weight_data_types"] == "fp4"
    kv = settings.get("kv_cache_dtype") or "null"   # unstated: the book's BF16 rule
    if model == "deepseek-r1":
        also, prec = "[mlperf-dsr1-reference, mlperf-dsr1-dataset-lengths]", "{moe: nvfp4, attn: null, kv: %s}" % kv
        lengths = "*mlperf-dsr1-lengths"
    else:
        also, lengths = "[mlperf-l405-dataset-lengths, mlperf-v60-rules]", "*mlperf-l405-lengths"
        prec = ("{moe: nvfp4, attn: null, kv: %s, dense: nvfp4, dense_why: \"the submission: precision fp4 "
                "(weight_data_types fp4): every linear layer NVFP4, as in NVIDIA's Llama-3.1-405B-Instruct-FP4 "
                "checkpoint (model card: 'Only the weights and activations of the linear operators within "
                "transformers blocks are quantized')\"}" % kv) if fp4 else "{moe: fp8, attn: null, kv: %s}" % kv
    level = ""
    if sc != "Offline":
        name = ("mlperf-dsr1-server" if model == "deepseek-r1" else f"mlperf-l405-{sc.lower()}")
        if name in anchors:
            level = f"  service_level: {anchors.pop(name)}\n"
        else:
            level = f"  service_level: *{name}\n"
    who = r["Submitter"].replace("_", " ")
    total = log["rate"]
    fw = sysj.get("framework") or "not stated"
    setup = describe(settings)
    where = ("The submitter's configs/llama3_1-405b custom.py (one file for all its systems) sets kv_cache_dtype "
             f"{settings['kv_cache_dtype']} in every class; the system's own class is not identified. The layout is "
             "left to the search." if settings.get("custom") else
             f"Setup from the submission's config ({r['Submitter']} configs, {sc}, {MODELS[r['Model']][1]}): {setup}; "
             "no speculative decoding configured (MTP off); aggregated serving. The layout is left to the search, "
             "as in the round's NVIDIA entries." if cfg else
             "No config file at the submission's standard path (not read). The layout is left to the search.")
    virt = " Virtualized GPUs (VMware), read as H200." if r["Accelerator"].startswith("Virtualized") else ""
    quote = f"{r['System']} | {r['Model']} | {sc} | {r['Performance_Result']} | Tokens/s; log: {log['line']}"
    system_dir = r["Location"].split("/")[3]
    note = (f"{who}'s closed-division result, system '{r['System']}' (results folder {system_dir}), {n} GPUs, "
            f"available, result {log['valid']}. "
            f"{'Offline: no latency bound.' if sc == 'Offline' else sc + ': a LoadGen Server run under the latency limits of service_level.'}"
            f"{virt} {where}")
    return (f"{key}:\n"
            f"  publisher: MLCommons MLPerf ({who} submission)\n"
            f"  src: {round_['src']}\n"
            f"  also: {also}\n"
            f"  published: {round_['published']}\n"
            f"  retrieved: 2026-12-01\n"
            f"  framework: {q(fw + ' (TensorRT-LLM); as listed in the system description')}\n"
            f"  model: {model}\n  gpu: {gpu}\n  phase: end-to-end\n  mode: agg\n"
            f"  gpus_total: {n}\n  gpus_prefill: null\n  gpus_decode: null\n"
            f"  layout: {{attn: null, attn_tp: null, ep: null, redundant_experts: null, moe_tp: null}}\n"
            f"  precision: {prec}\n"
            f"  mtp: {{draft_tokens: 0, accept_rate: null, accepted_length: null}}\n"
            f"  isl: null\n  osl: null\n  lengths: {lengths}\n{level}"
            f"  concurrency: {{per_gpu: null, total: null}}\n"
            f"  measured:\n    output_tokens_per_s_per_gpu: {{value: {num(total / n)}, unit: token/s/GPU, "
            f"note: {q(f'{total:,.2f} tokens/s for the {n}-GPU system / {n}')}}}\n"
            f"  quote: {q(quote)}\n"
            f"  note: {q(note)}\n"
            f"  confidence: medium\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("repo", help="the results repository's git directory")
    ap.add_argument("commit")
    ap.add_argument("--prefix", default="mlperf51")
    ap.add_argument("--src", default="mlperf-inference-v51")
    ap.add_argument("--published", default="2025-09-09")
    ap.add_argument("--skip", nargs="*", default=[], help="ids already in the set (printed as left out)")
    a = ap.parse_args(argv)
    round_ = {"src": a.src, "published": a.published}
    rows = json.loads(show(a.repo, a.commit, "summary_results.json"))
    rows = [r for r in rows if r["Model"] in MODELS]
    order = {"deepseek-r1": 0, "llama3.1-405b": 1}
    rows.sort(key=lambda r: (order[r["Model"]], r["Submitter"] != "NVIDIA", r["Submitter"], r["Platform"],
                             ("Offline", "Server", "Interactive").index(r["Scenario"])))
    left, keys, out = [], {}, []
    for r in rows:
        gpu = catalog_gpu(r["Accelerator"])
        why = ("open division" if r["Category"] != "closed" else f"status {r['Availability']}"
               if r["Availability"] != "available" else None if gpu else f"GPU outside the catalog ({r['Accelerator']})")
        base = f"{r['Location']}/performance/run_1/mlperf_log_summary.txt"
        if why is None:
            log = log_values(show(a.repo, a.commit, base))
            why = None if log["valid"] == "VALID" else f"result {log['valid']}"
        if why:
            left.append(f"{r['Location']}: {why}")
            continue
        sub, system = r["Submitter"], r["Platform"]
        if abs(log["rate"] - float(r["Performance_Result"])) > 1e-3 * log["rate"]:
            raise SystemExit(f"{r['Location']}: the log's rate differs from the results summary's")
        sysj = json.loads(show(a.repo, a.commit, f"closed/{sub}/systems/{system}.json"))
        n = int(sysj["accelerators_per_node"]) * int(sysj["number_of_nodes"])
        if n != int(r["a#"]) * int(r["Nodes"]):
            raise SystemExit(f"{r['Location']}: accelerator count differs between the system file and the summary")
        cfg = config_path(a.repo, a.commit, sub, system, r["Scenario"], MODELS[r["Model"]][1])
        settings = config_settings(show(a.repo, a.commit, cfg)) if cfg else {}
        custom = f"closed/{sub}/configs/{MODELS[r['Model']][1][:-3]}/{r['Scenario']}/custom.py"
        if not cfg and show(a.repo, a.commit, custom):   # one file for all of a submitter's systems: its dtypes only
            kvs = set(re.findall(r"'kv_cache_dtype':\s*'(\w+)'", show(a.repo, a.commit, custom)))
            settings = {"kv_cache_dtype": kvs.pop(), "custom": True} if len(kvs) == 1 else {}
        mshort = "" if r["Model"] == "deepseek-r1" else "-llama405b"
        who = "" if sub == "NVIDIA" else f"{slug(sub)}-"
        keys.setdefault((who, gpu, n, mshort, r["Scenario"]), []).append((r, log, sysj, n, gpu, cfg, settings))
    anchors, limits = {}, {"mlperf-dsr1-server": DSR1_SERVER}
    for (who, gpu, n, mshort, sc), items in keys.items():
        for r, log, sysj, n, gpu, cfg, settings in items:
            tag = f"{system_tag(r['Platform'])}-" if len(items) > 1 else ""
            key = f"{a.prefix}-{who}{tag}{gpu.lower()}-{n}{mshort}-{sc.lower()}"
            if key in a.skip:
                left.append(f"{r['Location']}: already in the set as {key}")
                continue
            name = f"mlperf-{'dsr1' if r['Model'] == 'deepseek-r1' else 'l405'}-{sc.lower()}"
            if sc != "Offline" and limits.setdefault(name, (log["ttft_latency"], log["tpot_latency"])) != \
                    (log["ttft_latency"], log["tpot_latency"]):
                raise SystemExit(f"{r['Location']}: latency limits differ from the other {sc} entries' ({name})")
            if r["Model"] == "llama3.1-405b" and sc != "Offline" and name not in anchors and name not in "".join(out):
                ns = f"ttft_latency (ns): {log['ttft_latency']}, tpot_latency (ns): {log['tpot_latency']}"
                anchors[name] = (f"&{name} {{ttft_ms: {log['ttft_latency'] / 1e6:g}, tpot_ms: {log['tpot_latency'] / 1e6:g}, "
                                 f"percentile: 99, src: {a.src}, note: {q(f'the submission logs print {ns}')}}}")
            out.append(entry(r, log, sysj, n, gpu, cfg, settings, key, anchors, round_))
    print("\n".join(out), end="")
    print(f"# {len(out)} entries; left out {len(left)}:", file=sys.stderr)
    for x in left:
        print(f"#   {x}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
