"""A disaggregated prompt's KV on the scale-out network: ``serve --mode disagg`` and the planner apply the
same three rules (:mod:`inference_arithmetic.serving.kv_network`): the transfer in the time to first token,
a prefill GPU's KV output within its network, a decode GPU's KV intake within its network."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from inference_arithmetic.core import fast
from inference_arithmetic.core.errors import InputError
from inference_arithmetic.hardware import gpus
from inference_arithmetic.model import config, kv_bytes
from inference_arithmetic.serving import market_options, search
from inference_arithmetic.serving.workload import Service


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "inference_arithmetic", *args], capture_output=True, text=True)


def _serve(*args):
    r = _cli("serve", "--model", "deepseek-v3", "--gpu", "H200", "--mode", "disagg", "--json", *args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def _S_kv(d):
    return kv_bytes.kv_bytes_per_token(config.model("deepseek-v3"), d["layout"]["kv_dtype"])


def test_serve_adds_the_prompts_kv_transfer_to_ttft():
    d = _serve("--isl", "8000", "--osl", "500", "--per-user", "20")
    want = float(fast.kv_transfer_time(L_kv=8000, S_kv=_S_kv(d), BW_so=gpus.gpu("H200").scale_out))
    assert d["kv_transfer_s"] == pytest.approx(want, rel=1e-6) and want > 0.005
    assert d["ttft_s"] > d["kv_transfer_s"] and d["decode_network_bound"] is False


def test_a_long_prompt_and_a_short_answer_are_network_bound_in_serve_as_in_the_planner():
    """ISL 100,000 / OSL 1: every decode layout, even at one request, decodes faster than its network brings the
    prompts' KV in; serve runs the fastest at the network's rate with fewer requests on average (Little's law),
    the decode rate the planner's option of the same layout has."""
    d = _serve("--isl", "100000", "--osl", "1", "--per-user", "5")
    L = d["layout"]
    g, m = gpus.gpu("H200"), config.model("deepseek-v3")
    assert d["decode_network_bound"] is True and d["batch_per_instance"] < 1
    T_kv = 1.0      # an MLA latent is held whole on every GPU of an attention instance
    want = float(fast.kv_intake_rate(L_kv=100000, L_o=1, BW_so=g.scale_out, S_kv=_S_kv(d), T_a=L["attn_tp"], T_kv=T_kv))
    assert d["decode_tokens_per_s_per_gpu"] == pytest.approx(want, rel=1e-6)
    # Little's law: requests held x each one's speed = the instance's output rate
    assert d["batch_per_instance"] * d["tokens_per_s_per_user"] == pytest.approx(
        d["decode_tokens_per_s_per_gpu"] * L["attn_tp"], rel=1e-6)
    prep = market_options.prepare(m, Service(100000, 1, 5.0), [g])
    o = prep.options["decode"]
    same = [k for k, x in enumerate(o.info) if search.describe(x["layout"]) == L]
    assert same and all(o.info[k]["network_bound"] for k in same)
    assert o.per_gpu[same[0]] == pytest.approx(d["decode_tokens_per_s_per_gpu"], rel=1e-6)   # JSON: 8 digits


def test_a_binding_intake_caps_the_batch_where_smaller_batches_fit_under_it():
    """ISL 30,000 / OSL 10: the network binds above a few requests, so the answer is the largest batch whose
    prompts' KV the network carries, found by the fast search and by the whole grid alike."""
    m, g = config.model("deepseek-v3"), gpus.gpu("H200")
    svc = Service(30000, 10, None)
    fast_answer = search.best(m, g, svc, "disagg")
    grid_answer = search._best_of_grid(m, g, svc, "disagg", search.Space())
    assert fast_answer == grid_answer
    c = search.candidates(m, g, svc)[0]["disagg"]
    assert np.any(c.meets(None, network=False) & ~c.meets(None))         # the network removed candidates
    assert fast_answer["decode_network_bound"] is False


def test_no_unchecked_cast_hides_in_the_candidates_masks():
    m, g = config.model("deepseek-v3"), gpus.gpu("H200")
    for c in search.candidates(m, g, Service(2000, 500, 20.0))[0].values():
        assert c.fit.dtype == bool and c.meets(20.0).dtype == bool


def test_a_ttft_limit_that_only_the_transfer_breaks_is_refused_in_its_words():
    m, g = config.model("deepseek-v3"), gpus.gpu("H200")
    # the fastest prefill TTFT of any unit (under a limit none meets, each unit size keeps its fastest layout)
    floor = search.candidates(m, g, Service(100000, 100, 5.0, ttft_s=1e-3))[1]
    limit = round(floor + 0.01, 3)        # the fastest prefill meets it; the prompt's KV (>= 0.07 s) does not
    with pytest.raises(InputError, match="s more to cross the scale-out network"):
        search.best(m, g, Service(100000, 100, 5.0, ttft_s=limit), "disagg")
    r = _cli("serve", "--model", "deepseek-v3", "--gpu", "H200", "--mode", "disagg", "--isl", "100000", "--osl", "100",
             "--per-user", "5", "--ttft", str(limit))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "scale-out network" in r.stderr


def test_a_pinned_batch_the_network_cannot_feed_is_refused_without_a_suggestion_that_fails():
    r = _cli("serve", "--model", "deepseek-v3", "--gpu", "H200", "--mode", "disagg", "--isl", "100000", "--osl", "1",
             "--batch", "1")
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "network-bound" in r.stderr and "pin at most" not in r.stderr


def test_a_windowed_cache_moves_and_is_taken_in_at_what_it_holds():
    """gpt-oss keeps a 128-token window in half its layers: a 131,000-token prompt leaves about half the KV
    of full attention, which is what crosses the network (was: every layer at the whole prompt)."""
    m, g = config.model("gpt-oss-120b"), gpus.gpu("H200")
    held = float(kv_bytes.effective_context(m, 131000, read=False))
    assert 0.45 < held / 131000 < 0.55
    r = _cli("serve", "--model", "gpt-oss-120b", "--gpu", "H200", "--mode", "disagg", "--isl", "131000", "--osl",
             "10", "--max-throughput", "--json")
    d = json.loads(r.stdout)
    S_kv = kv_bytes.kv_bytes_per_token(m, d["layout"]["kv_dtype"])
    assert d["kv_transfer_s"] == pytest.approx(held * S_kv / g.scale_out, rel=1e-6)
    if d["decode_network_bound"]:
        T_kv = min(d["layout"]["attn_tp"], m.n_kv_heads)   # a GQA cache splits by KV heads
        intake = float(fast.kv_intake_rate(L_kv=held, L_o=10, BW_so=g.scale_out, S_kv=S_kv, T_a=d["layout"]["attn_tp"],
                                           T_kv=T_kv))
        assert d["decode_tokens_per_s_per_gpu"] == pytest.approx(intake, rel=1e-6)


def test_a_pinned_batch_that_fits_is_refused_for_its_real_cause():
    # the request fits at batch 1; the TTFT limit (no prefill meets it) binds: say that, not "do not fit"
    r = _cli("serve", "--model", "qwen3-235b-a22b", "--gpu", "H20", "--mode", "disagg", "--isl", "36864", "--osl", "5",
             "--ttft", "96.9554", "--ep", "8", "--attn", "dp", "--kv-dtype", "fp8", "--batch", "1")
    assert r.returncode == 2 and "TTFT 96.9554 s" in r.stderr and "do not fit" not in r.stderr
    # no prefill unit of one GPU takes attention TP 8: say that
    r = _cli("serve", "--model", "llama-3.1-70b", "--gpu", "H200", "--mode", "disagg", "--isl", "2000", "--osl", "500",
             "--ep", "8", "--prefill-ep", "1", "--attn", "tp", "--attn-tp", "8", "--batch", "32")
    assert r.returncode == 2 and "no prefill unit" in r.stderr and "do not fit" not in r.stderr


def test_a_partner_missed_by_ttft_is_not_blamed_on_the_network():
    # the prefill within the TTFT limit leaves no room for the KV transfer: was "every prefill unit writes KV faster
    # than its network carries ... more than 1,423,042 input tok/s per GPU", a rate no prefill reaches
    r = _cli("serve", "--model", "deepseek-v3", "--gpu", "MI325X", "--mode", "disagg", "--isl", "16000", "--osl", "1",
             "--max-throughput", "--ttft", "5.55247", "--kv-dtype", "fp8", "--ep", "4", "--attn", "dp", "--mtp", "1",
             "--moe-dtype", "fp8")
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "TTFT 5.55247 s with the prompt's KV transfer" in r.stderr and "writes KV faster" not in r.stderr
