"""The serving engine's per-step token budget of the vLLM validation entries: the value the
publication states (a server flag, a benchmark harness's config), else vLLM's default for the usage
context and device (vllm/engine/arg_utils.py), one engine's budget shared by its tensor-parallel GPUs;
where neither is known the book's default chunk stays."""
from __future__ import annotations

import re
from pathlib import Path

from inference_arithmetic.evidence import validation

#: per-engine budgets (tokens per step) and where they come from
VLLM_SERVE_DEFAULT = 8192        # 'vllm serve' on a GPU of >= 70 GiB other than A100 (arg_utils.py)
MAD_LLAMA_BUDGET = 131072        # ROCm/MAD scripts/vllm/config.csv, Llama 3.1 FP8-KV rows
GB300_BLOG_BUDGET = 20480        # the vLLM GB300 blog's --max-num-batched-tokens
RULE = "(the serving engine's per-step token budget)"

BUDGETS = {**{k: MAD_LLAMA_BUDGET for k in (
    "amd-mi300x-llama31-70b-128-2048", "amd-mi300x-llama31-70b-128-4096", "amd-mi300x-llama31-70b-500-2000",
    "amd-mi300x-llama31-70b-2048-2048", "amd-mi300x-llama31-405b-128-2048", "amd-mi300x-llama31-405b-128-4096",
    "amd-mi300x-llama31-405b-500-2000", "amd-mi300x-llama31-405b-2048-2048")},
    "vultr-mi325x-llama31-405b-2k512-peak": VLLM_SERVE_DEFAULT,
    "vllm-gb300-v32-nvfp4-tp2-prefill-2k": GB300_BLOG_BUDGET,
    "vllm-gb300-v32-nvfp4-tp2-2k1k": GB300_BLOG_BUDGET}


def _without_setup(monkeypatch, key):
    every = dict(validation.entries())
    every[key] = {k: v for k, v in every[key].items() if k != "model_setup"}
    monkeypatch.setattr(validation, "entries", lambda: every)


def _with_and_without(monkeypatch, key, per_gpu: str):
    """The entry's prediction with its stated budget (named in the rules) and without it (not named)."""
    p = validation.predict(key)
    assert p.expressible and f"prefill chunks of {per_gpu} new tokens per GPU {RULE}" in p.assumptions
    _without_setup(monkeypatch, key)
    q = validation.predict(key)
    assert not any("per-step token budget" in a for a in q.assumptions)
    return p, q


def test_each_budget_is_one_engines_shared_by_its_tensor_parallel_gpus_and_cited():
    root = Path(__file__).resolve().parents[1]
    bib = set(re.findall(r"@\w+\{([^,]+),", (root / "references.bib").read_text()))
    every = validation.entries()
    for key, budget in BUDGETS.items():
        e = every[key]
        assert e["model_setup"]["chunk"] * e["layout"]["attn_tp"] == budget, key
        assert f"{budget:,}" in e["model_setup"]["why"], key
        assert "vllm-engine-arg-utils" in e["also"] and set(e["also"]) <= bib, key


def test_a_stated_budget_is_named_in_the_rules_of_an_end_to_end_entry(monkeypatch):
    p, q = _with_and_without(monkeypatch, "vultr-mi325x-llama31-405b-2k512-peak", "1,024")
    assert q.predicted != p.predicted


def test_a_prefill_only_entry_reads_its_stated_budget(monkeypatch):
    p, q = _with_and_without(monkeypatch, "vllm-gb300-v32-nvfp4-tp2-prefill-2k", "10,240")
    # the default 16K-token chunk fills the GEMMs better: a higher prefill rate
    assert q.predicted > p.predicted * 1.01


def test_amds_stated_budget_is_the_default_chunk_per_gpu(monkeypatch):
    """131,072 tokens over TP 8 is the book's 16K default: named in the rules, the number unchanged."""
    p, q = _with_and_without(monkeypatch, "amd-mi300x-llama31-405b-2048-2048", "16,384")
    assert q.predicted == p.predicted


def test_where_the_engine_run_is_not_known_the_default_stays():
    """OCI's blog does not state the vLLM version (V0-era offline scripts, where ROCm runs whole
    prompts); InferenceX's MI325X gpt-oss rows leave the tensor-parallel size, and so the per-GPU share,
    to the search; Vultr's DeepSeek row states no layout."""
    every = validation.entries()
    for key in ("oci-mi300x-llama31-405b-throughput-128-2048", "inferencex-gptoss120b-mi325x-1k1k-72tps",
                "vultr-mi325x-deepseek-v32-2k512-peak"):
        assert "chunk" not in (every[key].get("model_setup") or {}), key
    p = validation.predict("oci-mi300x-llama31-405b-throughput-128-2048")
    assert not any("per-step token budget" in a for a in p.assumptions)


def test_trtllm_perf_entries_keep_the_books_reserve_and_cite_why():
    """trtllm-bench's KV room is a fraction of what a start-up profiling run leaves (measured, not
    published) and the page states no per-row fraction: no per-entry memory reading, the reasons cited."""
    root = Path(__file__).resolve().parents[1]
    bib = set(re.findall(r"@\w+\{([^,]+),", (root / "references.bib").read_text()))
    got = {k: e for k, e in validation.entries().items() if k.startswith("trtllm-perf-")}
    assert len(got) == 10
    for key, e in got.items():
        assert not (e.get("model_setup") or {}), key
        assert {"trtllm-kv-cache-creator", "nvidia-llama31-405b-fp8-card"} <= set(e["also"]) <= bib, key
        assert "10 % HBM reserve" in e["note"], key
