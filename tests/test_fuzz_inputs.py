"""Property tests: malformed configs and argument lists never crash, hang, run code or print nonsense.

Hypothesis generates mutated config.json files (every shipped config, with fields
replaced by strings, code, huge or negative numbers, floats, booleans, lists, objects
or deleted) and command lines with bad values for every flag; 1,200 cases per run.
Each is run through the command line in this process, and must

* end with exit status 0 or 2, never with an exception (a traceback);
* on exit 2, print exactly one line on stderr and nothing on stdout;
* never execute a value: a canary file that the injected code would create must not appear;
* on exit 0, print JSON with no NaN, no infinity and no negative number (every output of
  this library is a count, a size, a time or a rate).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inference_arithmetic import cli
from inference_arithmetic.model import config

DATA = Path(__file__).resolve().parents[1] / "src" / "inference_arithmetic" / "data" / "models"
SHIPPED = {p.stem: json.loads(p.read_text()) for p in sorted(DATA.glob("*.json"))}
CONFIG_KEYS = sorted({k for cfg in SHIPPED.values() for k in cfg} | {
    "num_key_value_heads", "head_dim", "n_shared_experts", "shared_expert_intermediate_size",
    "num_local_experts", "num_experts", "first_k_dense_replace", "topk_group", "n_group",
    "q_lora_rank", "num_nextn_predict_layers", "moe_layer_freq", "decoder_sparse_step"})

CANARY = Path(__file__).resolve().parent / "_fuzz_canary"


def _payloads() -> list[str]:
    c = str(CANARY)
    return [f"__import__('pathlib').Path({c!r}).touch() or 64",
            f"__import__('os').system('touch {c}') or 6144",
            f"exec(\"open({c!r}, 'w')\")", "lambda: 1", "6144", "1e3", "-1", "0x10", "true",
            "", " ", "nan", "inf", "Symbol('x')", "x + 1", "\u00e9\u4e2d", "9" * 500]


bad_value = st.one_of(
    st.sampled_from(_payloads()),
    st.integers(min_value=-10**6, max_value=0),
    st.integers(min_value=2**40, max_value=10**400),
    st.integers(min_value=1, max_value=200_000),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300),
    st.booleans(),
    st.none(),
    st.lists(st.integers(-3, 3), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(0, 3), max_size=2),
    st.text(max_size=20),
)

config_case = st.tuples(
    st.sampled_from(sorted(SHIPPED)),
    st.lists(st.tuples(st.sampled_from(CONFIG_KEYS + ["_source", "model_type", "tie_word_embeddings"]),
                       st.one_of(bad_value, st.just("__delete__"))), min_size=1, max_size=4),
)

MIN_GOOD = {"--gpu": "H800", "--context": "4096"}
FLAG_VALUES = {
    "--gpu": st.one_of(st.sampled_from(["H800", "B200", "gb300", "H9000", "", "H800; rm -rf /"]), st.text(max_size=12)),
    "--context": st.one_of(st.sampled_from(["1", "4096", "1000:3000:1000", "0", "-5", "1:0", "5:10:0",
                                            "1:100000000", "1:1000000000000", "1:20000", "1e3", "4k", "1:2:3:4",
                                            "99999999999999999999", ""]), st.text(max_size=10)),
    "--batch": st.one_of(st.sampled_from(["1", "64", "1:2", "1:100000", "0", "-1", "2.5", "1:5000"]),
                         st.text(max_size=8)),
    "--ep": st.one_of(st.sampled_from(["1", "8", "72", "144", "0", "-8", "1e3", "4294967296", "3.5"]),
                      st.text(max_size=6)),
    "--redundant": st.sampled_from(["0", "32", "-1", "x", "1000000", "99999999999"]),
    "--kv-dtype": st.sampled_from(["bf16", "fp8", "int4", "", "BF16"]),
    "--weight-dtype": st.sampled_from(["bf16", "fp8", "fp4", "fp2"]),
    "--mtp-accept": st.sampled_from(["0", "0.8", "1", "1.5", "-0.1", "nan", "inf", "x"]),
}
sol_case = st.tuples(
    st.sampled_from(sorted(SHIPPED) + ["deepseek-v3", "gpt-9", "", "../../etc/passwd", "x" * 300 + ".json"]),
    st.dictionaries(st.sampled_from(sorted(FLAG_VALUES)), st.just(None), max_size=len(FLAG_VALUES)).flatmap(
        lambda d: st.fixed_dictionaries({k: FLAG_VALUES[k] for k in d})),
)


def _check_numbers(x, path="$"):
    """No NaN, infinity or negative number anywhere in parsed JSON output."""
    if isinstance(x, bool) or x is None or isinstance(x, str):
        return
    if isinstance(x, (int, float)):
        assert math.isfinite(x), f"non-finite number at {path}: {x}"
        assert x >= 0, f"negative number at {path}: {x}"
        return
    items = x.items() if isinstance(x, dict) else enumerate(x)
    for k, v in items:
        _check_numbers(v, f"{path}.{k}")


def _run(argv, capsys):
    capsys.readouterr()
    code = cli.main(argv)  # an exception here is a traceback for a user: the test fails
    out, err = capsys.readouterr()
    assert code in (0, 2), (argv, code)
    assert not CANARY.exists(), f"a config value was executed: {argv}"
    if code == 2:
        assert not out and err.count("\n") == 1 and "Traceback" not in err, (argv, err)
    else:
        data = json.loads(out, parse_constant=lambda c: pytest.fail(f"{c} in output of {argv}"))
        _check_numbers(data)
    return code


@pytest.fixture(autouse=True, scope="module")
def _no_canary():
    CANARY.unlink(missing_ok=True)
    yield
    assert not CANARY.exists()


FAST = settings(max_examples=600, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


#: a layout each shipped config can be built in (so that a mutated config is answered, not refused
#: for its layout): DeepSeek's EP144 with 32 redundant experts, one GPU for the dense model, else EP8
SOL_LAYOUT = {"deepseek-v3": ["--gpu", "H800", "--ep", "144", "--redundant", "32"],
              "llama-3.1-70b": ["--gpu", "B200", "--ep", "1"], None: ["--gpu", "B200", "--ep", "8"]}


@FAST
@given(case=config_case)
def test_malformed_configs(case, tmp_path, capsys):
    base, edits = case
    cfg = dict(SHIPPED[base])
    for key, value in edits:
        if value == "__delete__":
            cfg.pop(key, None)
        else:
            cfg[key] = value
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    _run(["model", str(path), "--json"], capsys)
    _run(["sol", "--model", str(path), "--context", "1000:5000:2000", *SOL_LAYOUT.get(base, SOL_LAYOUT[None]),
          "--batch", "1:64:21", "--json"], capsys)


@FAST
@given(case=sol_case)
def test_bad_arguments(case, capsys):
    model, flags = case
    argv = ["sol", "--model", model]
    for flag in ("--gpu", "--context"):
        argv += [flag, flags.pop(flag, MIN_GOOD[flag])]
    for flag, value in flags.items():
        argv += [flag, value]
    _run(argv + ["--json"], capsys)


MODEL_FLAGS = {
    "--gpu": st.sampled_from(["H800", "H200", "B200", "GB200", "H20", "nope", ""]),
    "--ep": st.sampled_from(["8", "16", "32", "72", "144", "0", "-8", "12", "1e3", "99999999999"]),
    "--redundant": st.sampled_from(["0", "32", "-1", "x", "5000"]),
    "--attn": st.sampled_from(["dp", "tp", "xx"]),
    "--attn-tp": st.sampled_from(["1", "8", "3", "0", "x"]),
    "--moe-tp": st.sampled_from(["1", "2", "4", "7", "0"]),
    "--micro-batches": st.sampled_from(["1", "2", "3", "x"]),
    "--moe-dtype": st.sampled_from(["fp8", "bf16", "nvfp4", "int4"]),
    "--attn-dtype": st.sampled_from(["bf16", "fp8", "fp4"]),
    "--isl": st.sampled_from(["1", "2000", "131072", "0", "-5", "1e9", "10000000000000"]),
}
DECODE_ONLY = {
    "--osl": st.sampled_from(["1", "500", "0", "x"]),
    "--kv-dtype": st.sampled_from(["bf16", "fp8", "int8"]),
    "--mtp": st.sampled_from(["0", "1", "3", "9", "-1"]),
    "--accept": st.sampled_from(["0.5", "0.99", "1", "1.5", "nan"]),
    "--batch": st.sampled_from(["1", "64", "4096", "0", "1:4", "99999999"]),
    "--per-user": st.sampled_from(["1", "20", "0", "-3", "1e9", "inf"]),
}
PREFILL_ONLY = {
    "--cached-fraction": st.sampled_from(["0", "0.563", "0.99", "1", "-0.1", "x"]),
    "--chunk": st.sampled_from(["1", "2048", "16384", "0", "100000000"]),
}


def _flags(table):
    return st.dictionaries(st.sampled_from(sorted(table)), st.just(None), max_size=len(table)).flatmap(
        lambda d: st.fixed_dictionaries({k: table[k] for k in d}))


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(command=st.sampled_from(["decode", "prefill"]), common=_flags(MODEL_FLAGS), dec=_flags(DECODE_ONLY),
       pre=_flags(PREFILL_ONLY), model=st.sampled_from(["deepseek-v3", "deepseek-v2-lite", "qwen3-30b-a3b", "x"]))
def test_bad_step_model_arguments(command, common, dec, pre, model, capsys):
    argv = [command, "--model", model]
    for flag, value in {**common, **(dec if command == "decode" else pre)}.items():
        argv += [flag, value]
    _run(argv + ["--json"], capsys)
