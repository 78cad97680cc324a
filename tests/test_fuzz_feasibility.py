"""Property tests: every exit-0 answer is physically possible, every impossible setup is refused.

Hypothesis generates layouts and workloads for ``decode``, ``prefill``, ``sol``, ``serve`` and
``plan`` (valid ones and ones a hardware engineer would call impossible: heads that do not split
over the attention TP degree, fractions of experts per GPU, more GPUs than expert slots, MTP on a
model without an MTP module, weights that do not fit; denormal and zero-like numbers), more than
2,000 cases per run, each through :func:`cli.main` in this process.  The rules are restated here
independently of :mod:`inference_arithmetic.step.feasibility`, and

* a setup that breaks one is refused: exit 2 with one line on stderr;
* an exit-0 answer fits in HBM (weights + KV + buffers + reserve), is built of whole heads and
  whole experts, obeys Little's law (tokens/s per GPU = batch x tokens/s per user / attention TP,
  within the 8-digit rounding of the output), never beats its own bound, meets the asked floor,
  and in a plan has at least as many GPUs at the peak as on average.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inference_arithmetic import cli, step
from inference_arithmetic.hardware import gpus
from inference_arithmetic.model import config
from inference_arithmetic.serving import prefill

DATA = Path(__file__).resolve().parents[1] / "src" / "inference_arithmetic" / "data" / "models"
V3 = json.loads((DATA / "deepseek-v3.json").read_text())
#: DeepSeek-V3-shaped configs of other shapes: 96 heads and 160 experts without MTP; 20 heads, 72 experts
CUSTOM = {"mla96": {**V3, "num_attention_heads": 96, "n_routed_experts": 160, "num_nextn_predict_layers": 0},
          "mla20": {**V3, "num_attention_heads": 20, "n_routed_experts": 72, "moe_intermediate_size": 1536}}
REL = 1e-6   # the output keeps 8 significant digits


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("configs")
    out = {name: (name, config.model(name)) for name in ("deepseek-v3", "deepseek-v2-lite")}
    for name, cfg in CUSTOM.items():
        p = folder / f"{name}.json"
        p.write_text(json.dumps(cfg))
        out[name] = (str(p), config.read_config(p))
    return out


def buildable(m, ep: int, attn_tp: int, moe_tp: int, redundant: int, mtp: int) -> bool:
    """The physical rules, restated: whole heads per attention GPU, whole experts (and whole
    expert slices) per GPU, no more GPUs than expert slots, at most one spare copy of each expert,
    MTP only with an MTP module."""
    moe_ep = ep // moe_tp
    n = m.n_experts
    return (ep % attn_tp == 0 and ep % moe_tp == 0 and m.n_heads % attn_tp == 0
            and (moe_tp == 1 or m.d_e % moe_tp == 0) and (mtp == 0 or m.n_mtp > 0)
            and (n > 0 or ep == 1) and not (redundant and moe_ep == 1) and redundant <= n
            and (n + redundant) % moe_ep == 0)


def _run(argv, capsys):
    capsys.readouterr()
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert code in (0, 2), (argv, code)
    if code == 2:
        assert not out and err.count("\n") == 1 and err.startswith("inference-arithmetic: error: "), (argv, err)
        return code, err
    return code, json.loads(out, parse_constant=lambda c: pytest.fail(f"{c} in output of {argv}"))


def _close(a, b, rel=REL):
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


GPUS = ["H800", "H200", "H100", "H20", "B200", "GB200", "GB300"]
EPS = [1, 2, 7, 8, 12, 13, 16, 32, 36, 64, 72, 128, 144, 256, 288, 320, 512, 4096]
REDUNDANT = [None, 0, 8, 16, 32, 64, 96, 256, 3840]
TINY = ["5e-324", "1e-308", "1e-9", "0.5", "0.875", "0.999"]

ATTN = ["dp", "tp", "tp8", "tp7", "tp16"]
MOE_TP = [1, 1, 1, 2, 7, 8]


def _attn_tp(attn: str, ep: int) -> int:
    return 1 if attn == "dp" else ep if attn == "tp" else int(attn[2:])


def _redundant(m, ep: int, moe_tp: int, redundant):
    """The redundant experts a layout ends with: the given count, or the book's default."""
    moe_ep = max(ep // moe_tp, 1)
    return redundant if redundant is not None else (-m.n_experts) % moe_ep if moe_ep > 1 else 0


MODELS = {**{n: config.model(n) for n in ("deepseek-v3", "deepseek-v2-lite")},
          **{n: config.parse_config(cfg, n) for n, cfg in CUSTOM.items()}}
#: every buildable (model, EP, attention, MoE TP, redundant) of the grid: half the cases are drawn from
#: here, so that most of those answer and their answers are checked
BUILDABLE = [(name, ep, attn, moe_tp, red) for name, m in MODELS.items() for ep in EPS for attn in ATTN
             for moe_tp in sorted(set(MOE_TP)) for red in REDUNDANT
             if buildable(m, ep, _attn_tp(attn, ep), moe_tp, _redundant(m, ep, moe_tp, red), 0)]
_rest = {"gpu": st.sampled_from(GPUS), "moe_dtype": st.sampled_from(["fp8", "fp8", "bf16", "nvfp4"]),
         "kv_dtype": st.sampled_from(["bf16", "fp8"])}
_any = st.fixed_dictionaries({
    "model": st.sampled_from(sorted(MODELS)), "ep": st.sampled_from(EPS), "redundant": st.sampled_from(REDUNDANT),
    "attn": st.sampled_from(ATTN), "moe_tp": st.sampled_from(MOE_TP), **_rest})
_good = st.tuples(st.sampled_from(BUILDABLE), st.fixed_dictionaries(_rest)).map(
    lambda t: {**dict(zip(("model", "ep", "attn", "moe_tp", "redundant"), t[0])), **t[1]})
layout_case = st.one_of(_any, _good)


def _layout_argv(c, models, phase):
    path, m = models[c["model"]]
    argv = [phase, "--model", path, "--gpu", c["gpu"], "--ep", str(c["ep"]), "--moe-tp", str(c["moe_tp"]),
            "--moe-dtype", c["moe_dtype"]]
    if phase == "decode":
        argv += ["--kv-dtype", c["kv_dtype"]]
    attn_tp = _attn_tp(c["attn"], c["ep"])
    if c["attn"] != "dp":
        argv += ["--attn", "tp"] + (["--attn-tp", str(attn_tp)] if c["attn"] != "tp" else [])
    if c["redundant"] is not None:
        argv += ["--redundant", str(c["redundant"])]
    return argv, m, attn_tp, _redundant(m, c["ep"], c["moe_tp"], c["redundant"])


def _check_layout(d, m, attn_tp, red, mtp=0):
    L = d["layout"]
    assert (L["attn_tp"], L["redundant"], L["mtp"]) == (attn_tp, red, mtp), L
    assert buildable(m, L["ep"], L["attn_tp"], L["moe_tp"], L["redundant"], L["mtp"]), L


def fuzz(n: int):
    """``n`` generated cases, the same on every run, no deadline (a cold cache is slower)."""
    return settings(max_examples=n, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@fuzz(800)
@given(c=layout_case, mtp=st.sampled_from([0, 0, 1, 3]), accept=st.sampled_from([None] + TINY),
       isl=st.sampled_from([1, 1000, 4000, 32768, 131072]), osl=st.sampled_from([1, 500, 2000]),
       ask=st.one_of(st.tuples(st.just("--batch"), st.sampled_from(["1", "2", "64", "512", "4096"])),
                     st.tuples(st.just("--per-user"), st.sampled_from(["5e-324", "1e-9", "5", "20", "80", "500"])),
                     st.just(("--max-throughput",))))
def test_decode_answers_are_physically_possible(c, mtp, accept, isl, osl, ask, models, capsys):
    argv, m, attn_tp, red = _layout_argv(c, models, "decode")
    argv += ["--isl", str(isl), "--osl", str(osl), "--mtp", str(mtp), *ask, "--json"]
    if accept is not None and mtp:
        argv += ["--accept", accept]
    code, d = _run(argv, capsys)
    if not buildable(m, c["ep"], attn_tp, c["moe_tp"], red, mtp):
        assert code == 2 and "nearest valid" in d, (argv, d)        # the rule and the nearest valid value
    if code == 2:
        return
    _check_layout(d, m, attn_tp, red, mtp)
    mem, hbm = d["memory_bytes"], gpus.gpu(c["gpu"]).hbm_capacity
    assert mem["free"] >= 0 and mem["weights"] + mem["kv"] + mem["buffers"] + mem["reserve"] <= hbm * (1 + REL)
    b, r_gpu, r_user = d["batch_per_instance"], d["tokens_per_s_per_gpu"], d["tokens_per_s_per_user"]
    assert b >= 1 and _close(r_gpu, b * r_user / attn_tp), (argv, d)            # Little's law
    assert _close(d["batch_per_gpu"], b / attn_tp)
    assert d["bound_tokens_per_s_per_gpu"] >= r_gpu * (1 - REL), argv          # a bound is never beaten
    assert 1 <= d["accepted_tokens_per_step"] <= 1 + mtp
    if ask[0] == "--per-user":
        assert r_user >= float(ask[1]) * (1 - REL)
    elif ask[0] == "--batch":
        assert b == float(ask[1])


@fuzz(500)
@given(c=layout_case, isl=st.sampled_from([1, 512, 4096, 32768, 131072]),
       cached=st.sampled_from(["0", "5e-324", "1e-308", "0.563", "0.99"]),
       chunk=st.sampled_from([None, "1", "1024", "16384", "1000000"]))
def test_prefill_answers_are_physically_possible(c, isl, cached, chunk, models, capsys):
    argv, m, attn_tp, red = _layout_argv(c, models, "prefill")
    argv += ["--isl", str(isl), "--cached-fraction", cached, "--json"] + (["--chunk", chunk] if chunk else [])
    code, d = _run(argv, capsys)
    if not buildable(m, c["ep"], attn_tp, c["moe_tp"], red, 0):
        assert code == 2 and "nearest valid" in d, (argv, d)
    if code == 2:
        return
    _check_layout(d, m, attn_tp, red)
    L, g = d["layout"], gpus.gpu(c["gpu"])
    lay = step.Layout(ep=L["ep"], redundant=L["redundant"], attn_tp=L["attn_tp"], moe_tp=L["moe_tp"],
                      micro_batches=L["micro_batches"], precision=step.Precision(moe=L["moe_dtype"]))
    u = prefill.prefill_unit(m, g, lay)
    out = prefill.prefill(u, isl, float(cached), chunk=d["chunk_tokens_per_gpu"])
    assert step.fits(u, out["batch"], float(isl)), argv                       # the step's prompts fit in HBM
    per_gpu = d["input_tokens_per_s_per_gpu"]
    assert per_gpu > 0 and _close(d["input_tokens_per_s_per_node"], 8 * per_gpu)
    assert d["bound_input_tokens_per_s_per_gpu"] >= per_gpu * (1 - REL)
    assert d["ttft_s"] >= d["step_time_s"] * (1 - REL)


SOL_MODELS = ["deepseek-v3", "deepseek-v2-lite", "qwen3-30b-a3b", "mixtral-8x7b", "llama-3.1-70b"]
SOL_LAYOUTS = [(name, ep, red, acc) for name in SOL_MODELS for ep in [None] + EPS for red in (None, 0, 8, 32, 3840)
               for acc in ("0", "5e-324", "0.8")]
SOL_BUILDABLE = [c for c in SOL_LAYOUTS if buildable(config.model(c[0]), c[1] or 1, 1, 1, c[2] or 0, float(c[3]) > 0)]


@fuzz(600)
@given(case=st.one_of(st.sampled_from(SOL_LAYOUTS), st.sampled_from(SOL_BUILDABLE)),
       gpu=st.sampled_from(GPUS), wdt=st.sampled_from(["fp8", "bf16", "fp4"]),
       ctx=st.sampled_from(["1", "4096", "1000:128000:9000", "131072"]),
       batch=st.sampled_from([None, "1", "1:512:37", "64"]))
def test_sol_answers_are_physically_possible(case, gpu, wdt, ctx, batch, capsys):
    model, ep, redundant, accept = case
    m = config.model(model)
    argv = ["sol", "--model", model, "--gpu", gpu, "--context", ctx, "--mtp-accept", accept, "--weight-dtype", wdt]
    argv += (["--ep", str(ep)] if ep else []) + (["--redundant", str(redundant)] if redundant is not None else [])
    argv += (["--batch", batch] if batch else []) + ["--json"]
    code, d = _run(argv, capsys)
    mtp = 1 if float(accept) > 0 else 0
    if not buildable(m, ep or 1, 1, 1, redundant or 0, mtp):
        assert code == 2 and "nearest valid" in d, (argv, d)
    if code == 2:
        return
    assert mtp == 0 or m.n_mtp > 0
    if "ep" in d:
        assert d["weights_fit"] is True and d["kv_room_bytes"] > 0, argv
        assert d["weight_bytes_resident"] + d["hbm_reserve_bytes"] <= gpus.gpu(gpu).hbm_capacity * (1 + REL)
    if "batch" in d:
        n = len(d["fits"]) if isinstance(d["fits"], list) else 1
        cols = [d[k] if isinstance(d[k], list) else [d[k]] * n
                for k in ("batch", "max_batch", "fits", "bandwidth_bound_tokens_per_s", "sol_tokens_per_s")]
        for b, most, fits, rate, sol in zip(*cols):
            assert fits == (b <= most), argv
            assert rate <= sol * (1 + REL)                                       # weights never help


PLAN_GPUS = ["H200", "B200", "H100", "H800", "GB200"]


@fuzz(100)
@given(model=st.sampled_from(["deepseek-v3", "deepseek-v2-lite"]), gpu=st.sampled_from(PLAN_GPUS),
       per_user=st.sampled_from(["5e-324", "10", "20", "50", "150"]), isl=st.sampled_from(["100", "2000", "32000"]),
       osl=st.sampled_from(["1", "500", "4000"]), ttft=st.sampled_from([None, "1e-308", "2", "10"]),
       hit=st.sampled_from(["0", "0.5", "1e-320"]), profile=st.sampled_from(["flat", "cosine:1.5", "cosine:2"]),
       volume=st.sampled_from([("--requests-per-s", "5"), ("--tokens-per-day", "1e11"), ("--requests-per-s", "1e-4")]))
def test_plan_answers_are_physically_possible(model, gpu, per_user, isl, osl, ttft, hit, profile, volume, capsys):
    m = config.model(model)
    argv = ["plan", "--model", model, "--gpus", gpu, *volume, "--isl", isl, "--osl", osl, "--per-user", per_user,
            "--cache-hit", hit, "--profile", profile, "--top", "5", "--json"] + (["--ttft", ttft] if ttft else [])
    code, d = _run(argv, capsys)
    if code == 2:
        return
    peak = max(1.0, float(profile.split(":")[1]) if ":" in profile else 1.0)
    for r in d["deployments"]:
        L = r["layout"]
        assert buildable(m, L["ep"], L["attn_tp"], L["moe_tp"], L["redundant"], L["mtp"]), L
        # whole units (issue 23): the fleet rented at the peak is at least the average rented, which is at
        # least one running unit per pool, and the peak fleet, every GPU busy, makes the peak's output
        assert r["gpus_peak"] >= r["gpus_avg"] >= min(pool["unit_gpus"] for pool in r["pools"])
        assert all(pool["gpus_peak"] >= pool["unit_gpus"] and pool["gpus_peak"] % pool["unit_gpus"] == 0
                   and pool["gpus_peak"] >= pool["gpus_avg"] for pool in r["pools"])   # whole units per pool
        assert _close(sum(pool["usd_per_day"] for pool in r["pools"]), r["usd_per_day"])
        assert r["gpus_peak"] * r["tokens_per_s_per_gpu"] >= d["requests_per_s"] * float(osl) * peak * (1 - 1e-3)
        assert r["gpus_peak"] % L["ep"] == 0 or r["mode"] == "disagg"
        assert r["nodes_peak"] * 8 >= r["gpus_peak"] and r["usd_per_day"] > 0
        assert r["tokens_per_s_per_user"] >= float(per_user) * (1 - REL)
        if ttft:
            assert r["ttft_s"] <= float(ttft) * (1 + REL)
        if r["mode"] == "disagg":   # the decode pool's own Little's law
            P = r["prefill_layout"]
            assert buildable(m, P["ep"], P["attn_tp"], P["moe_tp"], P["redundant"], P["mtp"]), P
            assert _close(r["decode_tokens_per_s_per_gpu"],
                          r["batch_per_instance"] * r["tokens_per_s_per_user"] / L["attn_tp"])


@fuzz(60)
@given(model=st.sampled_from(["deepseek-v3", "deepseek-v2-lite"]), gpu=st.sampled_from(PLAN_GPUS),
       mode=st.sampled_from(["agg", "disagg"]), mtp=st.sampled_from([None, "0", "1", "3"]),
       per_user=st.sampled_from([None, "5e-324", "20", "60"]), isl=st.sampled_from(["100", "4000"]),
       osl=st.sampled_from(["1", "1000"]), ttft=st.sampled_from([None, "0.5", "5"]))
def test_serve_answers_are_physically_possible(model, gpu, mode, mtp, per_user, isl, osl, ttft, capsys):
    m = config.model(model)
    argv = ["serve", "--model", model, "--gpu", gpu, "--mode", mode, "--isl", isl, "--osl", osl, "--json"]
    argv += (["--per-user", per_user] if per_user else ["--max-throughput"]) + (["--mtp", mtp] if mtp else [])
    argv += ["--ttft", ttft] if ttft else []
    code, d = _run(argv, capsys)
    if mtp not in (None, "0") and not m.n_mtp:
        assert code == 2, argv
    if code == 2:
        return
    L = d["layout"]
    assert buildable(m, L["ep"], L["attn_tp"], L["moe_tp"], L["redundant"], L["mtp"]), L
    assert d["tokens_per_s_per_gpu"] > 0 and (per_user is None or d["tokens_per_s_per_user"] >= float(per_user) * (1 - REL))
    if mode == "disagg":
        assert _close(d["decode_tokens_per_s_per_gpu"], d["batch_per_instance"] * d["tokens_per_s_per_user"] / L["attn_tp"])
