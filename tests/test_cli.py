"""The command line: answers for shipped and public configs, one-line errors, property tests."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inference_arithmetic.core import cited
from inference_arithmetic.evidence import measurements
from inference_arithmetic.hardware import gpus
from inference_arithmetic.model import config
from inference_arithmetic import cli

DATA = Path(str(cited.DATA)) / "models"  # shipped public configs, read by path

# published totals (and activated counts where the publisher excludes nothing we include)
PUBLISHED = {
    "deepseek-v3": (671e9, measurements.measurement("deepseek_v3_report", "active_params").si),
    "llama-3.1-70b": (70.6e9, None),
    "mixtral-8x7b": (46.7e9, None),
    str(DATA / "qwen3-30b-a3b.json"): (30.5e9, None),
    str(DATA / "deepseek-v2-lite.json"): (15.7e9, 2.4e9),
    # model cards: Qwen3 235B / 22B activated; gpt-oss 117B / 5.1B active; Llama 3.1 405B and 8B (8.03B);
    # DeepSeek-V3.2 671B without its MTP module; Llama 4 Maverick 400B total (its 17B active counts
    # differently from ours: 16.2B here)
    "qwen3-235b-a22b": (235e9, 22e9),
    "gpt-oss-120b": (117e9, 5.1e9),
    "llama-3.1-405b": (405e9, None),
    "llama-3.1-8b": (8.03e9, None),
    "deepseek-v3.2": (671e9, None),
    "llama-4-maverick": (400e9, None),
}


def run(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("spec", list(PUBLISHED))
def test_model_params_within_one_percent(spec, capsys):
    code, out, err = run(["model", spec, "--json"], capsys)
    assert code == 0 and not err
    d = json.loads(out)
    total, active = PUBLISHED[spec]
    assert d["params_total"] == pytest.approx(total, rel=0.01)
    if active:
        assert d["params_active"] == pytest.approx(active, rel=0.03)


@pytest.mark.parametrize("spec,bf16", [
    ("deepseek-v3", 61 * (512 + 64) * 2),
    ("llama-3.1-70b", 2 * 80 * 8 * 128 * 2),
    (str(DATA / "qwen3-30b-a3b.json"), 2 * 48 * 4 * 128 * 2),
    (str(DATA / "deepseek-v2-lite.json"), 27 * (512 + 64) * 2),
])
def test_kv_bytes_exact(spec, bf16, capsys):
    code, out, _ = run(["model", spec, "--json"], capsys)
    d = json.loads(out)
    assert d["kv_bytes_per_token"] == {"bf16": bf16, "fp8": bf16 / 2}


def test_sol_matches_the_book(capsys):
    code, out, _ = run(["sol", "--model", "deepseek-v3", "--gpu", "H800", "--context", "4989", "--json"], capsys)
    d = json.loads(out)
    assert d["sol_tokens_per_s"] == pytest.approx(3.35e12 / (4989 * 70272))


def test_sol_ranges_are_vectorised(capsys):
    code, out, _ = run(["sol", "--model", "deepseek-v3", "--gpu", "B200", "--context", "1000:128000:1000",
                        "--ep", "144", "--redundant", "32", "--batch", "1:512:7", "--json"], capsys)
    d = json.loads(out)
    assert code == 0
    n = len(range(1, 513, 7)) * len(range(1000, 128001, 1000))
    assert len(d["bandwidth_bound_tokens_per_s"]) == n == len(d["fits"]) == len(d["kv_bytes_per_user"])


def test_figures_and_catalogs(capsys):
    code, out, _ = run(["figures", "--json"], capsys)
    rows = json.loads(out)
    assert code == 0 and all(r["ok"] for r in rows) and {"daily_cost", "revenue"} <= {r["name"] for r in rows}
    code, out, _ = run(["gpus"], capsys)
    assert code == 0 and "GB300" in out
    code, out, _ = run(["models", "--json"], capsys)
    assert code == 0 and {r["model"] for r in json.loads(out)} >= {"deepseek-v3"}


@pytest.mark.parametrize("argv,needle", [
    (["sol", "--model", "deepseek-v3", "--gpu", "H80", "--context", "5"], "did you mean H800"),
    (["sol", "--model", "deepseek-v3", "--gpu", "H800", "--context", "-5"], "--context"),
    (["sol", "--model", "deepseek-v3", "--gpu", "H800", "--context", "0"], "--context"),
    (["sol", "--model", "deepseek-v3", "--gpu", "H800", "--context", "9:3"], "start <= stop"),
    (["sol", "--model", "deepseek-v3", "--gpu", "H800", "--context", "__import__('os')"], "--context"),
    (["sol", "--model", "deepseek-v3", "--gpu", "H800", "--context", "5", "--kv-dtype", "int4"], "invalid choice"),
    (["sol", "--model", "deepseek-v3", "--gpu", "H800", "--context", "5", "--mtp-accept", "1.5"], "between 0 and 1"),
    (["sol", "--model", "deepseek-v3", "--gpu", "H800", "--context", "5", "--ep", "-8"], "positive integer"),
    (["sol", "--model", "missing.json", "--gpu", "H800", "--context", "5"], "no such file"),
    (["serve", "--model", "deepseek-v3", "--gpu", "H200", "--per-user", "20", "--ttft", "-1"],
     "--ttft: must be a positive number of seconds"),
    (["plan", "--model", "deepseek-v3", "--per-user", "20", "--ttft", "0"], "--ttft: must be a positive number of seconds"),
    (["serve", "--model", "deepseek-v3", "--gpu", "H200", "--per-user", "-3"], "--per-user: must be a positive number of tokens/s"),
    (["model", "gpt-9"], "unknown model"),
    (["model"], "required"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_input_is_one_line_exit_2(argv, needle, capsys):
    code, out, err = run(argv, capsys)
    assert code == 2 and not out
    assert err.count("\n") == 1 and needle in err and "Traceback" not in err


def test_malformed_config_file(tmp_path, capsys):
    p = tmp_path / "config.json"
    p.write_text('{"model_type": "llama", "hidden_size": 4096')
    code, _, err = run(["model", str(p)], capsys)
    assert code == 2 and "not valid JSON" in err
    p.write_text('{"model_type": "qwen3_moe", "hidden_size": 4096, "num_hidden_layers": 4, '
                 '"num_attention_heads": 8, "vocab_size": 100}')
    code, _, err = run(["model", str(p)], capsys)
    assert code == 2 and "missing num_experts, num_experts_per_tok, moe_intermediate_size" in err
    p.write_bytes(b"\xff\xfe\x00")
    code, _, err = run(["model", str(p)], capsys)
    assert code == 2 and "not UTF-8" in err


def test_module_entry_point():
    r = subprocess.run([sys.executable, "-m", "inference_arithmetic", "sol", "--model", "deepseek-v3",
                        "--gpu", "nope", "--context", "5"], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.startswith("inference-arithmetic: error: unknown GPU")


_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(gpu=st.one_of(st.sampled_from(list(gpus.gpus())), _text),
       context=st.one_of(st.integers(-10, 300000).map(str), _text, st.just("1:100:7")),
       batch=st.one_of(st.none(), st.integers(-3, 600).map(str), _text),
       ep=st.one_of(st.none(), st.integers(-2, 300).map(str)),
       dtype=st.sampled_from(["bf16", "fp8", "fp16", "int8", ""]),
       accept=st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(str), st.just("0.85")))
def test_cli_never_crashes(gpu, context, batch, ep, dtype, accept, capsys):
    argv = ["sol", "--model", "deepseek-v3", "--gpu", gpu, "--context", context, "--kv-dtype", dtype,
            "--mtp-accept", accept]
    if batch is not None:
        argv += ["--batch", batch]
    if ep is not None:
        argv += ["--ep", ep]
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert code in (0, 2)
    if code == 2:
        assert err.count("\n") == 1 and "Traceback" not in err
    else:
        assert "nan" not in out.lower().split() and not err


def test_deepseek_v3_shaped_config_from_another_vendor(tmp_path, capsys):
    cfg = json.loads((DATA / "deepseek-v3.json").read_text())
    cfg.update(model_type="kimi_k2", n_routed_experts=384, num_attention_heads=64, first_k_dense_replace=1,
               num_nextn_predict_layers=0)
    p = tmp_path / "config.json"
    p.write_text(json.dumps(cfg))
    code, out, _ = run(["model", str(p), "--json"], capsys)
    d = json.loads(out)
    assert code == 0 and d["attention"] == "mla" and d["experts"] == 384 and d["dense_layers"] == 1
    assert d["kv_bytes_per_token"]["bf16"] == 61 * 576 * 2


def test_validate_command_contract(capsys):
    """``validate --json``: summary, by_publisher, by_framework and rows, the validation chapter's numbers."""
    from inference_arithmetic.evidence import validation
    code, out, err = run(["validate", "--json"], capsys)
    assert code == 0 and not err
    d = json.loads(out)
    s = validation.summary()
    assert d["summary"]["entries"] == len(validation.entries()) == len(d["rows"])
    assert d["summary"]["n"] == s["n"] and d["summary"]["mape"] == pytest.approx(s["mape"], rel=1e-6)
    assert set(d["summary"]) == {"entries", "n", "mape", "median_ape", "mean_error"}
    for key in ("by_publisher", "by_framework", "by_family", "by_vendor", "by_generation"):
        assert sum(v["n"] for v in d[key].values()) == s["n"]
        assert all(set(v) == {"n", "mape", "mean_error"} for v in d[key].values())
    predicted = [r for r in d["rows"] if r["error"] is not None]
    assert len(predicted) == s["n"] and all({"id", "measured", "predicted", "error", "rules"} <= set(r) for r in d["rows"])
    assert all(r["rules"] and r["rules"][0].startswith("not predicted") for r in d["rows"] if r["error"] is None)
    code, out, _ = run(["validate"], capsys)
    assert code == 0 and "mean absolute error" in out.splitlines()[0]


def test_serve_pins_what_a_publication_states(capsys):
    """--ep/--attn/--attn-tp/--moe-tp/--redundant/--micro-batches pin the layout, --batch the requests per
    attention instance, --max-gpus the unit size; the answer is the pinned setup's prediction."""
    base = ["serve", "--model", "deepseek-v3", "--gpu", "H200", "--mode", "agg", "--isl", "2000", "--osl", "500"]
    assert cli.main(base + ["--batch", "64", "--ep", "8", "--attn", "tp", "--attn-tp", "8", "--moe-tp", "8",
                        "--micro-batches", "1", "--mtp", "0", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["batch_per_instance"] == 64
    assert {k: d["layout"][k] for k in ("ep", "attn", "attn_tp", "moe_tp", "micro_batches", "mtp")} == \
        {"ep": 8, "attn": "tp", "attn_tp": 8, "moe_tp": 8, "micro_batches": 1, "mtp": 0}
    assert cli.main(base + ["--per-user", "20", "--max-gpus", "8", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["layout"]["ep"] <= 8 and d["prefill_layout"]["ep"] <= 8
    for bad in (["--batch", "100000"], ["--per-user", "20", "--ep", "16", "--max-gpus", "8"],
                ["--per-user", "20", "--attn-tp", "8"]):
        assert cli.main(base + bad) == 2
        err = capsys.readouterr().err.strip()
        assert err and "\n" not in err and "Traceback" not in err


def test_serve_takes_the_decode_context_of_a_dataset(capsys):
    """--decode-context: the mean context a decode batch holds (default ISL + OSL/2), echoed as
    decode_context_tokens; a longer one reads more KV per step, so the same pinned batch decodes fewer
    tokens/s."""
    base = ["serve", "--model", "deepseek-v3", "--gpu", "H200", "--mode", "agg", "--isl", "2000", "--osl", "500",
            "--batch", "32", "--ep", "8", "--json"]
    assert cli.main(base) == 0
    fixed = json.loads(capsys.readouterr().out)
    assert "decode_context_tokens" not in fixed          # the default: ISL + OSL/2, as before
    assert cli.main(base + ["--decode-context", "6000"]) == 0
    long = json.loads(capsys.readouterr().out)
    assert long["decode_context_tokens"] == 6000 and long["tokens_per_s_per_gpu"] < fixed["tokens_per_s_per_gpu"]
    for bad in ("0", "249"):                              # 249 < OSL/2: no dataset's batch holds less
        assert cli.main(base + ["--decode-context", bad]) == 2
        err = capsys.readouterr().err.strip()
        assert err and "\n" not in err and "Traceback" not in err
    assert "half the mean output length (250)" in err


def test_prefill_states_the_ttft_of_one_request_alone(capsys):
    assert cli.main(["prefill", "--model", "deepseek-v3", "--gpu", "H200", "--ep", "8", "--isl", "2000", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert 0 < d["ttft_alone_s"] < d["ttft_s"]       # no queue, one prompt in the step


def test_the_command_line_given_a_prefill_entrys_setup_returns_its_prediction(capsys):
    """One set of defaults (issue 21): ``prefill`` with the flags of the setup a validation entry resolves to
    gives the validation chapter's prediction of that entry."""
    from inference_arithmetic.evidence import validation
    from inference_arithmetic.serving import prefill_step as prefill, search
    checked = 0
    for key, e in validation.entries().items():
        setup = e.get("model_setup") or {}
        if e.get("phase") != "prefill" or setup.get("balanced") or setup.get("overlap") is not None:
            continue
        p = validation.predict(key)
        if not p.expressible:
            continue
        g, m = gpus.gpu(e["gpu"]), validation._model(e)
        fw = validation.entry_framework(key)
        fw = fw if fw in ("deepseek", "sglang", "trtllm", "vllm") else "deepseek"
        tries = search.Space().attn_tp if validation._attention_unstated(e) else (None,)
        got = []
        for t in tries:
            try:
                L = validation._layout(e, g, [], "prefill", t)
            except Exception:           # an attention layout that does not divide the unit
                continue
            argv = ["prefill", "--model", m.name, "--gpu", g.key, "--ep", str(L.ep), "--isl", str(e["isl"]),
                    "--attn", "tp" if L.attn_tp > 1 else "dp", "--moe-tp", str(L.moe_tp),
                    "--redundant", str(L.redundant), "--micro-batches", str(L.micro_batches),
                    "--moe-dtype", L.precision.moe, "--attn-dtype", L.precision.attn, "--framework", fw, "--json"]
            argv += ["--attn-tp", str(L.attn_tp)] if L.attn_tp > 1 else []
            argv += ["--eplb"] if L.eplb else []
            stated = validation.prefill_chunk(e, prefill.PREFILL_CHUNK_TOKENS)   # the stated budget, else 16K
            argv += ["--chunk", f"{prefill.chunk_that_fits(prefill.prefill_unit(m, g, L), e['isl'], chunk=stated):.0f}"]
            if cli.main(argv) == 0:
                got.append(json.loads(capsys.readouterr().out)["input_tokens_per_s_per_gpu"])
            else:
                capsys.readouterr()
        assert got and max(got) == pytest.approx(p.predicted, rel=1e-6), key
        checked += 1
    assert checked >= 3


def test_a_pinned_unit_that_cannot_be_rented_says_why(capsys):
    assert cli.main(["serve", "--model", "deepseek-v3", "--gpu", "H200", "--mode", "agg", "--isl", "2000", "--osl", "500",
                     "--per-user", "20", "--ep", "7"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "7 GPUs" in err and "NVLink" in err


# ------------------------------------------------------------------ the quick parse: argparse's answer or none

def _argparse(argv):
    """argparse's namespace for ``argv`` (the whole parser), or None where it refuses it."""
    from inference_arithmetic.cli.args import UsageError
    try:
        return cli.build_parser().parse_args(argv)
    except (UsageError, SystemExit):
        return None


def _quick(argv):
    from inference_arithmetic.cli.options import quick_parse, quick_table
    ns = quick_parse(quick_table(argv[0]), argv[1:])
    if ns is not None:
        ns.command = argv[0]
    return ns


PLAIN = [
    "decode --model deepseek-v3 --gpu H800 --ep 144 --isl 4000 --osl 1978 --per-user 21 --json",
    "decode --model deepseek-v3 --gpu H200 --ep 16 --attn tp --attn-tp 8 --isl 2000 --osl 500 --batch 64 --mtp 1",
    "decode --model deepseek-v3 --gpu B200 --ep 8 --isl 2000 --osl 500 --max-throughput --eplb --kv-dtype fp8",
    "prefill --model deepseek-v3 --gpu H800 --ep 32 --redundant 32 --isl 4096 --cached-fraction 0.563 --json",
    "serve --model deepseek-v3 --gpu H200 --mode disagg --isl 2000 --osl 500 --per-user 20 --json",
    "serve --model deepseek-v3 --gpu H200 --mode agg --isl 2000 --osl 500 --batch 64 --ep 8 --micro-batches 1",
    "sol --model deepseek-v3 --gpu H800 --context 1000:5000:1000 --batch 8 --ep 144",
    "plan --model deepseek-v3 --tokens-per-day 1e11 --isl 2000 --osl 500 --per-user 20 --profile cosine:1.3",
    "gpus --json",
]
REFUSED_OR_UNUSUAL = [
    "decode --model deepseek-v3 --gpu H800 --ep 144 --isl 4000 --osl 1978 --per-user 21 --batch 3",   # exclusive
    "decode --model deepseek-v3 --gpu H800 --isl 4000 --osl 1978 --per-user 21",                     # --ep missing
    "decode --model deepseek-v3 --gpu H800 --ep 144 --isl 4000 --osl 1978",                          # group missing
    "decode --model deepseek-v3 --gpu H800 --ep -144 --isl 4000 --osl 1978 --per-user 21",          # negative
    "decode --model deepseek-v3 --gpu H800 --ep 0 --isl 4000 --osl 1978 --per-user 21",             # type
    "decode --model deepseek-v3 --gpu H800 --ep 8 --isl 4000 --osl 1978 --per-user 21 --micro-batches 3",
    "decode --model deepseek-v3 --gpu H800 --ep 8 --isl=4000 --osl 1978 --per-user 21",
    "decode --model deepseek-v3 --model kimi-k2 --gpu H800 --ep 8 --isl 4000 --osl 1978 --per-user 21",
    "decode --model deepseek-v3 --gpu H800 --ep 8 --isl 4000 --osl 1978 --per-user 21 extra",
    "decode --model deepseek-v3 --gpu H800 --ep 8 --isl 4000 --osl 1978 --per-user 21 --json --json",
    "decode --model deepseek-v3 --gpu H800 --ep 8 --isl 4000 --osl 1978 --per-user",
    "decode --model deepseek-v3 --gpu H800 --ep 8 --is 4000 --osl 1978 --per-user 21",
    "serve --model deepseek-v3 --gpu H200 --mode both --isl 2000 --osl 500 --per-user 20",
    "model deepseek-v3 --json",
    "decode -h",
]


def test_a_subcommands_parser_alone_is_the_one_the_whole_parser_holds():
    from inference_arithmetic.cli.parser import COMMANDS, command_parser
    sub = cli.build_parser()._subparsers._group_actions[0].choices
    assert list(sub) == list(COMMANDS)

    def shape(p):
        return [(type(a).__name__, a.option_strings, a.dest, a.default, a.type, a.choices, a.required, a.nargs,
                 a.help) for a in p._actions] + \
            [[a.dest for a in g._group_actions] + [g.required] for g in p._mutually_exclusive_groups] + [p.prog]
    for name in COMMANDS:
        assert shape(command_parser(name)) == shape(sub[name]), name


@pytest.mark.parametrize("line", PLAIN + REFUSED_OR_UNUSUAL)
def test_the_quick_parse_is_argparse_or_declines(line):
    argv = line.split()
    quick = _quick(argv)
    assert quick is None or vars(quick) == vars(_argparse(argv))
    if line in PLAIN:            # the plain lines take the quick path: the test compares something
        assert quick is not None and vars(quick) == vars(_argparse(argv))
    else:
        assert quick is None


_DECODE_TOKENS = ["--model", "deepseek-v3", "--gpu", "H800", "--ep", "8", "144", "-8", "0", "--isl", "4000",
                  "--osl", "--per-user", "21", "--batch", "--max-throughput", "--json", "--attn", "tp", "dp",
                  "--micro-batches", "2", "3", "--eplb", "--kv-dtype", "fp8", "--moe-dtype", "nvfp4", "", "x",
                  "--mtp", "--accept", "0.9", "--framework", "sglang", "--", "-h", "--isl=5"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_DECODE_TOKENS), max_size=18), st.sampled_from(["decode", "prefill", "serve"]))
def test_the_quick_parse_never_differs_from_argparse(tokens, command):
    argv = [command, *tokens]
    quick = _quick(argv)
    assert quick is None or vars(quick) == vars(_argparse(argv))
