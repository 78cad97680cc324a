"""The readings of the gpt-oss-120b validation entries: the serving engine's stated per-step token
budget (vLLM's ``max_num_batched_tokens`` default, one engine shared by its tensor-parallel GPUs) and
InferenceX's mean sequence lengths (its random dataset with range ratio 0.8)."""
from __future__ import annotations

import math

from inference_arithmetic.evidence import validation

#: vLLM's default ``max_num_batched_tokens`` for ``vllm serve`` on a GPU of at least 70 GiB other than
#: A100 (vllm/engine/arg_utils.py): tokens per step of one engine, whatever its tensor-parallel size
VLLM_SERVE_BUDGET = 8192
#: InferenceX's ``--random-range-ratio`` (.github/workflows/benchmark-tmpl.yml)
RANGE_RATIO = 0.8


def _gpustack_gptoss():
    return {k: e for k, e in validation.entries().items()
            if e.get("publisher") == "GPUStack" and e.get("model") == "gpt-oss-120b"}


def test_the_vllm_engines_token_budget_is_shared_by_its_tensor_parallel_gpus():
    got = _gpustack_gptoss()
    assert len(got) == 6
    for key, e in got.items():
        chunk = e["model_setup"]["chunk"]
        assert chunk * e["layout"]["attn_tp"] == VLLM_SERVE_BUDGET, key


def test_a_stated_token_budget_is_used_and_named_in_the_rules(monkeypatch):
    key = "gpustack-h100-gptoss120b-tp2-2k100"
    p = validation.predict(key)
    assert p.expressible
    assert "prefill chunks of 4,096 new tokens per GPU (the serving engine's per-step token budget)" in p.assumptions
    # vLLM mixes prompt chunks into decode steps: the engine's 8,192 tokens per step hold the steps of at most
    # 8192 / (1 + 2000 / 100) = 390 of the 500 requests that keep pace with their prompts
    assert "decode batch 390 requests per instance: the most whose steps keep pace with their prompts inside the " \
           "budget of 8,192 tokens per step" in p.assumptions
    # without the stated budget the default 16K-token chunk per GPU is read: all 500 requests, the prediction moves
    every = dict(validation.entries())
    every[key] = {k: v for k, v in every[key].items() if k != "model_setup"}
    monkeypatch.setattr(validation, "entries", lambda: every)
    q = validation.predict(key)
    assert not any("per-step token budget" in a or "decode batch 390" in a for a in q.assumptions)
    assert any("beside 500 decode requests per instance" in a for a in q.assumptions)
    assert abs(q.predicted / p.predicted - 1) > 1e-4


def test_inferencex_gptoss_lengths_are_the_benchmarks_means():
    mean = (int(RANGE_RATIO * 1024) + 1024) / 2
    got = {k: e for k, e in validation.entries().items() if k.startswith("inferencex-gptoss120b-")}
    assert len(got) == 4
    for key, e in got.items():
        assert e["isl"] == e["osl"] == math.floor(mean + 0.5), key
