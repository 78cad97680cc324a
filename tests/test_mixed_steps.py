"""Aggregated serving in mixed steps (serving/mixed.py): TensorRT-LLM's and vLLM's schedulers put prompt chunks
into decode steps, so a chunk step reads the weights once for the decode batch and the chunk; SGLang's default
and DeepSeek's kernels keep prefill steps apart."""
from __future__ import annotations

import json

import pytest

from inference_arithmetic import cli, step
from inference_arithmetic.evidence import validation
from inference_arithmetic.hardware.gpus import gpu
from inference_arithmetic.model.config import model
from inference_arithmetic.serving import mixed, prefill_step as prefill
from inference_arithmetic.core import fast


def _unit(framework: str, name: str = "llama-3.1-405b", g: str = "B200", ep: int = 8, attn_tp: int = 8):
    m, G = model(name), gpu(g)
    return step.unit(m, G, step.layout_for(m, G, ep, attn_tp=attn_tp, framework=framework,
                                           precision=step.Precision(moe="fp8", kv="fp8")))


def test_only_the_frameworks_that_mix_get_mixed_steps():
    assert mixed.MIXING == ("trtllm", "vllm")
    assert mixed.one(_unit("sglang"), 64, 9585, 8192, 9429, 685) is None
    assert mixed.one(_unit("deepseek"), 64, 9585, 8192, 9429, 685) is None
    r = mixed.one(_unit("trtllm"), 64, 9585, 8192, 9429, 685)
    assert r is not None and 0 < r["chunk_share"] <= 1 and r["bound"] >= r["rate"] > 0


@pytest.mark.parametrize("name, ep, attn_tp", [("llama-3.1-405b", 8, 8), ("gpt-oss-120b", 1, 1), ("deepseek-v3", 8, 1)])
def test_a_chunk_step_shares_the_weights_and_no_step_keeps_pace_for_free(name, ep, attn_tp):
    """A chunk step costs no more than the decode step and a prefill step of the chunk apart (the weights read
    once), and more than the decode step alone; the mean step lies between them by the chunk share."""
    u = _unit("trtllm", name, ep=ep, attn_tp=attn_tp)
    isl, osl, b, chunk = 4000.0, 1000.0, 32.0, 8192.0 * attn_tp
    ctx = isl + osl / 2
    r = mixed.one(u, b, ctx, chunk, isl, osl)
    dec = float(step.terms(u, b, ctx)["t_step"])
    pre = prefill.prefill(mixed.prefill_phase(u), isl, chunk=chunk / attn_tp)
    alone = float(pre["t_step"]) * chunk / (float(pre["batch"]) * isl)   # a prefill step per chunk of prompt tokens
    f = r["chunk_share"]
    assert f == pytest.approx(float(fast.chunk_share(batch=b, a_acc=1.0, L_new=isl, L_o=osl, K_ch=chunk)), rel=1e-12)
    chunk_step = (r["step_s"] - (1 - f) * dec) / f
    assert dec < chunk_step <= dec + alone * 1.001
    assert r["rate"] == pytest.approx(b / (attn_tp * r["step_s"]), rel=1e-9)


def test_a_short_prompt_leaves_the_decode_rate():
    u = _unit("trtllm")
    r = mixed.one(u, 64.0, 1500.0, 8192.0 * 8, 1.0, 1000.0)
    t = step.terms(u, 64.0, 1500.0)
    assert r["chunk_share"] < 1e-3
    assert r["rate"] == pytest.approx(float(t["tokens_per_s_per_gpu"]), rel=2e-3)


def test_serve_says_how_aggregated_serving_steps(capsys):
    argv = ["serve", "--model", "llama-3.1-405b", "--gpu", "B200", "--isl", "9429", "--osl", "685",
            "--per-user", "5", "--json", "--framework"]
    seen = {}
    for fw in ("trtllm", "sglang"):
        assert cli.main(argv + [fw, "--mode", "agg"]) == 0
        seen[fw] = json.loads(capsys.readouterr().out)
    assert seen["trtllm"]["agg_steps"] == "mixed" and seen["sglang"]["agg_steps"] == "separate"
    assert cli.main(argv + ["trtllm", "--mode", "disagg"]) == 0
    assert "agg_steps" not in json.loads(capsys.readouterr().out)


def test_a_stated_token_budget_caps_the_batch_whose_steps_keep_pace():
    p = validation.predict("mlperf60-b300-8-llama405b-offline")
    rules = " ".join(p.assumptions)
    assert "aggregated in mixed steps" in rules and "inside the budget of 1,536 tokens per step" in rules
    assert p.bound >= p.measured and p.bound >= p.predicted


def test_plan_says_how_an_aggregated_pool_steps(capsys):
    argv = ["plan", "--model", "llama-3.1-405b", "--isl", "2000", "--osl", "500", "--per-user", "20",
            "--tokens-per-day", "1e9", "--gpus", "B200", "--json", "--framework"]
    for fw, want in (("trtllm", "mixed"), ("sglang", "separate")):
        assert cli.main(argv + [fw]) == 0
        plans = json.loads(capsys.readouterr().out)["deployments"]
        agg = [p for p in plans if p["mode"] == "agg"]
        assert agg and all(p["agg_steps"] == want for p in agg), fw
        assert all("agg_steps" not in p for p in plans if p["mode"] == "disagg")


def test_time_to_first_token_in_mixed_steps_is_the_chunk_steps_and_their_queue():
    """A prompt waits for the chunk steps (the queue's server, busy in the chunk share of the steps) and then
    takes its own: max(1, L/K) chunk steps, each recovered from the mean step, plus the M/D/1 mean wait."""
    u = _unit("trtllm", "gpt-oss-120b", ep=1, attn_tp=1)
    ctx = 4000.0 + 500.0
    dec = float(step.terms(u, 32.0, ctx)["t_step"])
    for isl, chunk in ((4000.0, 8192.0), (4000.0, 1024.0)):
        r = mixed.one(u, 32.0, ctx, chunk, isl, 1000.0)
        f = r["chunk_share"]
        t_ch = (r["step_s"] - (1 - f) * dec) / f
        want = max(1.0, isl / chunk) * t_ch * (1 + f / (2 * (1 - f)))
        assert r["ttft_s"] == pytest.approx(want, rel=1e-9)
        assert r["ttft_s"] >= t_ch > dec
    busy = mixed.one(u, 2048.0, ctx, 1024.0, 4000.0, 50.0)      # prompts outrun the chunk steps: no steady queue
    assert busy["chunk_share"] > 1 and busy["ttft_s"] == float("inf")


def test_a_ttft_limit_holds_for_mixed_steps_or_says_why(capsys):
    """serve reports the mixed steps' chunk (the search's, at most the prefill partner's) and TTFT for an answer in
    mixed steps, never an answer above the limit, and never more tokens/s under a tighter limit."""
    argv = ["serve", "--model", "gpt-oss-120b", "--gpu", "B200", "--framework", "trtllm", "--mode", "agg",
            "--isl", "4000", "--osl", "1000", "--max-throughput", "--json"]
    assert cli.main(argv) == 0
    free = json.loads(capsys.readouterr().out)
    assert free["agg_steps"] == "mixed"
    L = free["layout"]
    u = step.unit(model("gpt-oss-120b"), gpu("B200"),
                  step.layout_for(model("gpt-oss-120b"), gpu("B200"), L["ep"], attn_tp=L["attn_tp"], framework="trtllm",
                                  precision=step.Precision(moe=L["moe_dtype"], kv=L["kv_dtype"])))
    chunk = free["mixed_chunk_tokens_per_gpu"]
    assert chunk in mixed.CHUNKS and chunk <= free["prefill_layout"]["chunk_tokens_per_gpu"]
    r = mixed.one(u, free["batch_per_instance"], 4000 + 1000 / 2, chunk * L["attn_tp"], 4000, 1000)
    assert free["ttft_s"] == pytest.approx(r["ttft_s"], rel=1e-6)
    assert free["tokens_per_s_per_gpu"] == pytest.approx(r["rate"], rel=1e-6)
    last = free["tokens_per_s_per_gpu"]
    for limit in (free["ttft_s"] * 0.9, free["ttft_s"] * 0.5, free["ttft_s"] * 0.1, 0.001):
        code = cli.main(argv + ["--ttft", f"{limit:.6g}"])
        out, err = capsys.readouterr()
        if code == 0:
            got = json.loads(out)
            assert got["ttft_s"] <= limit * (1 + 1e-6)
            assert got["tokens_per_s_per_gpu"] <= last * (1 + 1e-9)      # a tighter limit never serves more
            last = got["tokens_per_s_per_gpu"]
        else:
            assert code == 2 and len(err.strip().splitlines()) == 1 and "TTFT" in err, err
            last = 0.0


def test_plan_under_a_ttft_limit_answers_or_says_why(capsys):
    """A mixing framework's plan under TTFT limits: an answer within the limit, or one line and exit 2."""
    argv = ["plan", "--model", "llama-3.1-405b", "--isl", "2000", "--osl", "500", "--per-user", "20",
            "--tokens-per-day", "1e9", "--gpus", "B200", "--framework", "trtllm", "--json", "--ttft"]
    for limit in ("3", "1.3", "1", "0.2"):
        code = cli.main(argv + [limit])
        out, err = capsys.readouterr()
        if code == 0:
            plans = json.loads(out)["deployments"]
            assert plans and all(p["ttft_s"] <= float(limit) for p in plans)
        else:
            assert code == 2 and len(err.strip().splitlines()) == 1 and "TTFT" in err, err
