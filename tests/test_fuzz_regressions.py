"""Defects a fuzz run of the command line found (2026-12-02), each kept as a case: no traceback, no infinite or
impossible answer, one line and exit 2 for a setup that cannot exist."""
from __future__ import annotations

import json
import math

import pytest

from inference_arithmetic import cli
from inference_arithmetic.hardware import gpus
from inference_arithmetic.model import config, kv_bytes


def run(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _finite(x) -> bool:
    if isinstance(x, float):
        return math.isfinite(x)
    if isinstance(x, dict):
        return all(_finite(v) for v in x.values())
    if isinstance(x, list):
        return all(_finite(v) for v in x)
    return True


@pytest.mark.parametrize("argv, needle", [
    # --max-throughput where nothing fits: the reason, not a format error on a missing per-user floor
    (["serve", "--model", "deepseek-v3", "--gpu", "H200", "--mode", "disagg", "--ep", "1", "--isl", "1024",
      "--osl", "64", "--max-throughput"], "fits in HBM"),
    (["serve", "--model", "qwen3-235b-a22b", "--gpu", "H100", "--mode", "agg", "--ep", "2", "--isl", "1024",
      "--osl", "64", "--per-user", "20"], "fits in HBM"),          # not "the fastest is 0.0 tok/s"
    (["decode", "--model", "llama-3.1-405b", "--gpu", "H200", "--isl", "4096", "--osl", "1024", "--batch", "4",
      "--ep", "8", "--attn", "tp", "--attn-tp", "8", "--moe-tp", "8"], "no routed experts to split"),
    (["decode", "--model", "llama-3.1-405b", "--gpu", "H200", "--isl", "4096", "--osl", "1024", "--batch", "4",
      "--ep", "8", "--attn", "tp", "--attn-tp", "8", "--eplb"], "is dense"),
    (["decode", "--model", "qwen3-30b-a3b", "--gpu", "H200", "--ep", "1", "--eplb", "--isl", "4096", "--osl",
      "1024", "--batch", "4"], "one GPU holds every expert"),
    (["decode", "--model", "llama-3.1-8b", "--gpu", "H200", "--ep", "1", "--micro-batches", "2", "--isl", "4096",
      "--osl", "1024", "--batch", "4"], "nearest valid: --micro-batches 1"),
    (["serve", "--model", "deepseek-v3", "--gpu", "H200", "--mode", "agg", "--prefill-ep", "16", "--isl", "1000",
      "--osl", "100", "--per-user", "20"], "--prefill-ep needs --mode disagg"),
    (["serve", "--model", "deepseek-v3", "--gpu", "H200", "--mode", "agg", "--isl", "1000", "--osl", "100",
      "--per-user", "1000000"], "tokens/s up to 100000"),           # the argument's bound is the library's
    (["serve", "--model", "deepseek-v3", "--gpu", "H200", "--mode", "agg", "--isl", "1000", "--osl", "100",
      "--per-user", "20", "--ttft", "5000"], "seconds up to 3600"),
    (["sol", "--model", "deepseek-v3", "--gpu", "H800", "--context", "\uff11:\uff12"], "positive integer or a range"),
    # the cause that binds: MoE TP on a dense model, not "EP 2" (the unit's divisibility came first)
    (["decode", "--model", "llama-3.1-8b", "--gpu", "H100", "--ep", "1", "--moe-tp", "2", "--isl", "1000", "--osl",
      "100", "--batch", "4"], "is dense, with no routed experts to split over MoE TP 2"),
    # third fuzz round: a suggested fix is itself valid (following it is not refused again)
    (["prefill", "--model", "deepseek-v2-lite", "--gpu", "B300", "--ep", "1000", "--moe-tp", "128", "--isl", "1000"],
     "or MoE TP 8"),                   # divides the unit and the expert width 1408 (was MoE TP 125)
    (["prefill", "--model", "deepseek-v2-lite", "--gpu", "B300", "--ep", "1000", "--moe-tp", "125", "--isl", "1000"],
     "nearest valid MoE TP: 8"),       # was 128, which does not divide the 1000 GPUs
    (["decode", "--model", "llama-3.1-405b", "--gpu", "H200", "--ep", "1000", "--isl", "100", "--osl", "10", "--batch",
      "1"], "a unit of 128 GPUs with attention TP 128 over it"),     # not attention TP 1000 over 128 heads
    (["prefill", "--model", "mixtral-8x7b", "--gpu", "H200", "--ep", "1000", "--attn", "tp", "--attn-tp", "2", "--isl",
      "1000"], "nearest valid: EP 16 or fewer"),                     # not "8 redundant experts", 16 slots for 1000
    (["sol", "--model", "llama-3.1-405b", "--gpu", "MI325X", "--context", "1000", "--ep", "8"],
     "nearest valid: --ep 1"),         # sol has no --attn: it used to suggest one
    (["plan", "--model", "llama-3.1-70b", "--isl", "4096", "--osl", "1", "--per-user", "20", "--tokens-per-day", "1",
      "--gpus", "H100"], "tokens per day (one request a day at least) must be >= 4097"),   # not "requests per second"
    (["plan", "--model", "llama-3.1-70b", "--gpus", "B200", "--isl", "100000", "--osl", "1000", "--per-user", "120",
      "--tokens-per-day", "1e10", "--ttft", "6.65"], "no deployment meets TTFT 6.65 s and 120 tok/s per user together"),
    # fourth fuzz round: the binding cause, and suggestions that do not loop
    (["serve", "--model", "llama-3.1-8b", "--gpu", "GB200", "--mode", "disagg", "--isl", "1000", "--osl", "100",
      "--per-user", "10", "--prefill-ep", "32", "--ttft", "10"], "no prefill unit of llama-3.1-8b"),   # not "inf s"
    (["serve", "--model", "gpt-oss-120b", "--gpu", "H100", "--mode", "agg", "--micro-batches", "2", "--isl", "1000",
      "--osl", "1000", "--mtp", "2", "--batch", "8"], "has no MTP module"),       # not the micro-batches
    (["decode", "--model", "deepseek-v3", "--gpu", "H200", "--ep", "6", "--redundant", "32", "--isl", "1000", "--osl",
      "100", "--batch", "1"], "request: 6 with the default 2 redundant experts"),  # EP 6 fits at its default only
    (["sol", "--model", "llama-3.1-8b", "--gpu", "H200", "--redundant", "8", "--context", "1000"],
     "no routed experts to copy; nearest valid: 0 redundant experts"),           # not "EP 1 ... attention TP 1"
    (["decode", "--model", "gpt-oss-120b", "--gpu", "H200", "--ep", "3", "--attn", "tp", "--attn-tp", "2", "--moe-tp",
      "3", "--isl", "1000", "--osl", "100", "--batch", "8"], "nearest valid: EP 6 (multiples of 6)"),  # both degrees
    (["decode", "--model", "deepseek-v2-lite", "--gpu", "MI325X", "--ep", "16", "--attn", "tp", "--attn-tp", "16",
      "--redundant", "1", "--isl", "100", "--osl", "10", "--batch", "1"], "nearest valid: 0 redundant experts\n"),
    # (not "or EP 13", which attention TP 16 does not divide)
    # layouts within the TTFT limit exist but are too slow per user: the per-user floor binds, not the TTFT limit
    (["serve", "--mode", "agg", "--framework", "trtllm", "--model", "deepseek-v3", "--gpu", "H200", "--isl", "8000",
      "--osl", "500", "--per-user", "250", "--ttft", "1"], "reaches 250 tok/s per user"),
])
def test_refused_in_one_line(argv, needle, capsys):
    code, out, err = run(argv, capsys)
    assert code == 2 and not out and err.count("\n") == 1 and needle in err, err


@pytest.mark.parametrize("argv", [
    ["serve", "--model", "deepseek-v2-lite", "--gpu", "H200", "--mode", "agg", "--isl", "128", "--osl", "1",
     "--per-user", "50", "--framework", "trtllm"],                  # an empty chunk axis once crashed
    ["serve", "--model", "deepseek-v2-lite", "--gpu", "H200", "--mode", "agg", "--isl", "131072", "--osl", "64",
     "--per-user", "0.01", "--ttft", "60", "--framework", "trtllm"],
    ["serve", "--model", "mixtral-8x7b", "--gpu", "H200", "--mode", "agg", "--isl", "1024", "--osl", "1",
     "--per-user", "5", "--framework", "vllm"],                     # a chunk share of exactly 1: TTFT was inf
    ["serve", "--model", "llama-3.1-70b", "--gpu", "H800", "--mode", "agg", "--isl", "32768", "--osl", "1",
     "--max-throughput", "--framework", "trtllm"],
])
def test_mixed_steps_answer_with_a_finite_ttft(argv, capsys):
    code, out, err = run(argv + ["--json"], capsys)
    assert code in (0, 2) and "Traceback" not in err and err.count("\n") <= 1
    if code == 0:
        d = json.loads(out)
        assert _finite(d) and 0 < d["ttft_s"] < math.inf


def test_a_plan_lists_no_deployment_with_an_infinite_ttft(capsys):
    code, out, err = run(["plan", "--model", "gpt-oss-120b", "--tokens-per-day", "1e11", "--isl", "1024", "--osl",
                          "1024", "--per-user", "5", "--cache-hit", "0.5", "--framework", "vllm", "--top", "3",
                          "--json"], capsys)
    assert code == 0, err
    assert all(math.isfinite(d["ttft_s"]) for d in json.loads(out)["deployments"])


@pytest.mark.parametrize("name, drop, needle", [
    ("deepseek-v3", ("n_routed_experts",), "missing n_routed_experts"),
    ("gpt-oss-120b", ("num_local_experts",), "missing num_local_experts"),
    ("llama-4-maverick", ("text_config", "num_local_experts"), "missing num_local_experts"),
])
def test_a_moe_config_without_its_expert_count_is_refused(tmp_path, capsys, name, drop, needle):
    cfg = json.loads((config.DATA / "models" / f"{name}.json").read_text())
    inner = cfg
    for key in drop[:-1]:
        inner = inner[key]
    del inner[drop[-1]]
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    code, out, err = run(["model", str(tmp_path)], capsys)
    assert code == 2 and needle in err and err.count("\n") == 1, err


def test_a_moe_config_whose_every_layer_is_dense_is_refused(tmp_path, capsys):
    cfg = json.loads((config.DATA / "models" / "deepseek-v3.json").read_text())
    cfg["num_hidden_layers"] = 3                 # first_k_dense_replace 3: no MoE layer left
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    code, out, err = run(["model", str(tmp_path)], capsys)
    assert code == 2 and "no MoE layer" in err


@pytest.mark.skipif(not __import__("os").path.exists("/dev/full"), reason="no /dev/full on this system")
def test_an_unwritable_stdout_is_one_line(tmp_path):
    import subprocess
    import sys
    with open("/dev/full", "w") as full:
        r = subprocess.run([sys.executable, "-m", "inference_arithmetic", "gpus"], stdout=full,
                           stderr=subprocess.PIPE, text=True, timeout=60)
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "cannot write the output" in r.stderr, r.stderr


def test_a_closed_stdout_is_one_line():
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-c", "import os, sys; os.close(1); sys.stdout = None; "
                        "from inference_arithmetic import cli; sys.exit(cli.main(['models']))"],
                       stderr=subprocess.PIPE, text=True, timeout=60)
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "cannot write the output" in r.stderr, r.stderr


def test_a_decode_context_beyond_the_window_is_refused(capsys):
    code, out, err = run(["serve", "--model", "mixtral-8x7b", "--gpu", "H200", "--mode", "disagg", "--isl", "1000",
                          "--osl", "1000", "--max-throughput", "--decode-context", "33768"], capsys)
    assert code == 2 and "32,768 tokens per request" in err and err.count("\n") == 1


def test_a_long_prompt_with_a_short_answer_is_planned_network_bound(capsys):
    # ISL 100,000 / OSL 1: each output token brings 100,000 tokens of KV to the decode GPU. The planner used to
    # drop every such decode layout and refuse with a per-user speed above the floor it asked for
    code, out, err = run(["plan", "--model", "llama-3.1-8b", "--tokens-per-day", "1e9", "--isl", "100000", "--osl", "1",
                          "--per-user", "5", "--gpus", "H100", "--top", "1", "--json"], capsys)
    assert code == 0, err
    d = json.loads(out)["deployments"][0]
    assert d["mode"] == "disagg" and d["decode_network_bound"]
    S_kv = kv_bytes.kv_bytes_per_token(config.model("llama-3.1-8b"), d["layout"]["kv_dtype"])
    intake = d["decode_tokens_per_s_per_gpu"] * 100000 / 1 * S_kv          # bytes/s of KV into a decode GPU
    assert intake == pytest.approx(gpus.gpu("H100").scale_out, rel=1e-6)
    # and a workload the network does not bind is not flagged
    code, out, _ = run(["plan", "--model", "llama-3.1-8b", "--tokens-per-day", "1e9", "--isl", "2000", "--osl", "500",
                        "--per-user", "20", "--gpus", "H100", "--top", "3", "--json"], capsys)
    assert code == 0 and not any(r["decode_network_bound"] for r in json.loads(out)["deployments"])


def test_a_mixed_plans_row_describes_a_layout_it_buys(capsys):
    # the row's layout, batch and rates were the floor option's even where the row bought no floor, or a
    # burst of another option: its layout matched none of its pools, and Little's law failed
    from inference_arithmetic.serving import search
    code, out, err = run(["plan", "--model", "qwen3-235b-a22b", "--isl", "1", "--osl", "2000", "--per-user", "10",
                          "--requests-per-s", "0.01", "--gpus", "H200,MI300X", "--mixed", "--top", "30", "--json"], capsys)
    assert code == 0, err
    rows = json.loads(out)["deployments"]
    assert len(rows) == 30 and any(r["mixed"] for r in rows)
    for r in rows:
        L = r["layout"]
        assert search.label(L) in [p["layout"] for p in r["pools"] if p["role"] != "prefill"], r["pools"]
        if r["mode"] == "disagg":
            assert r["decode_tokens_per_s_per_gpu"] == pytest.approx(
                r["batch_per_instance"] * r["tokens_per_s_per_user"] / L["attn_tp"], rel=1e-6)   # JSON rounds
        assert r["tokens_per_s_per_user"] >= 10


def test_an_mla_cache_under_attention_tp_is_received_by_every_gpu_of_the_instance(capsys):
    # each of an attention-TP instance's GPUs holds the whole MLA latent, so each takes in the instance's prompts' KV:
    # the network-bound rate per GPU is the data-parallel one over the TP degree (was: the same, TP ignored)
    code, out, err = run(["plan", "--model", "deepseek-v3", "--tokens-per-day", "1e10", "--isl", "30000", "--osl", "2",
                          "--per-user", "5", "--gpus", "H200", "--top", "10", "--json"], capsys)
    assert code == 0, err
    rows = [r for r in json.loads(out)["deployments"] if r["decode_network_bound"]]
    S_kv = {k: kv_bytes.kv_bytes_per_token(config.model("deepseek-v3"), k) for k in ("bf16", "fp8")}
    tps = set()
    for r in rows:
        L = r["layout"]
        intake = r["decode_tokens_per_s_per_gpu"] * L["attn_tp"] * 30000 / 2 * S_kv[L["kv_dtype"]]
        assert intake == pytest.approx(gpus.gpu("H200").scale_out, rel=1e-6)
        tps.add(L["attn_tp"])
    assert {1, 8} <= tps


def test_one_redundant_expert_is_singular():
    from inference_arithmetic.step.feasibility import default_redundancy_note
    from inference_arithmetic.step.layout import default_redundant, redundant_experts
    assert redundant_experts(1) == "1 redundant expert" and redundant_experts(0) == "0 redundant experts"
    m = config.model("mixtral-8x7b")
    # a unit whose default redundancy is one copy says so in the singular (was "1 redundant experts"): Mixtral's
    # 8 experts and 1 copy fill 3 or 9 expert-parallel GPUs
    eps = [ep for ep in (3, 5, 6, 7, 9) if default_redundant(m, ep) == 1]
    assert eps == [3, 9]
    for ep in eps:
        assert default_redundancy_note(m, ep, 1, 0) == " with the default 1 redundant expert"


def test_weights_over_the_room_print_the_digits_that_tell_them_apart():
    from inference_arithmetic.step.feasibility import weights_room_error
    from inference_arithmetic.step.layout import HBM_RESERVE_SHARE
    g = gpus.gpu("H200")
    room = g.hbm_capacity * (1 - HBM_RESERVE_SHARE)
    why = weights_room_error("x", g, room + 3e6)          # 3 MB over: was "135.7 GB ... exceed the 135.7 GB"
    a, b = why.split(" GB of weights per GPU exceed the ")
    assert float(a.rsplit(" ", 1)[1]) > float(b.split(" GB")[0])


def test_a_ttft_floor_just_over_the_limit_is_not_printed_equal_to_it(capsys):
    # the fastest prefill TTFT is 0.502 s: was printed "0.50 s" against a 0.5 s limit
    code, out, err = run(["serve", "--model", "mixtral-8x7b", "--gpu", "H200", "--mode", "disagg", "--isl", "32000",
                          "--osl", "10", "--per-user", "80", "--ttft", "0.5"], capsys)
    assert code == 2 and "the fastest prefill TTFT is 0.50 s" not in err
    floor = float(err.split("the fastest prefill TTFT is ")[1].split(" s")[0])
    assert floor > 0.5
