"""The one feasibility check (issue 26): layouts that cannot be built are refused in one line naming
the rule and the nearest valid value, by every command and the planner's search; DeepSeek's own
layouts keep working; names are printed safely whatever the locale; grids are capped by time."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from inference_arithmetic import cli, step
from inference_arithmetic.core.errors import InputError
from inference_arithmetic.core.inputs import MAX_GRID_POINTS, printable, safe_name
from inference_arithmetic.hardware import gpus
from inference_arithmetic.model import config
from inference_arithmetic.serving import search

V3_JSON = Path(str(config.DATA)) / "models" / "deepseek-v3.json"
V3, LITE = config.model("deepseek-v3"), config.model("deepseek-v2-lite")
H800, H200, B200 = gpus.gpu("H800"), gpus.gpu("H200"), gpus.gpu("B200")


def run(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("gpu, layout", [
    (H800, step.Layout(ep=144, redundant=32, micro_batches=2)),   # DeepSeek's decode unit
    (H800, step.Layout(ep=32, redundant=32, micro_batches=2)),    # DeepSeek's prefill unit
    (H800, step.Layout(ep=320, redundant=64, micro_batches=2)),   # the V3 report's decode deployment
    (H200, step.Layout(ep=8)),                                    # one node
    (H200, step.Layout(ep=8, attn_tp=8)),                         # TP8 attention on 128 heads
    (gpus.gpu("GB300"), step.wide_ep_layout(gpus.gpu("GB300"))),  # EP72 in one rack
])
def test_deepseek_layouts_can_be_built(gpu, layout):
    assert step.layout_error(V3, gpu, layout) is None
    assert step.unit(V3, gpu, layout).layout == layout


@pytest.mark.parametrize("layout, model, needle", [
    (step.Layout(ep=7, attn_tp=7), V3, "nearest valid attention TP: 8"),
    (step.Layout(ep=288, redundant=8), V3, "nearest valid: 32 redundant experts, or EP 264"),
    (step.Layout(ep=4096, redundant=3840), V3, "at most one spare copy"),
    (step.Layout(ep=4096, redundant=32), V3, "a GPU would hold no expert); nearest valid: EP 288"),
    (step.Layout(ep=48, redundant=8), V3, "nearest valid: 32 redundant experts"),
    (step.Layout(ep=7, moe_tp=7), V3, "nearest valid MoE TP: 1"),   # 8 splits the width, not the 7 GPUs
    (step.Layout(ep=8, mtp=1), LITE, "no MTP module"),
    (step.Layout(ep=1, redundant=8), V3, "need more than one expert-parallel GPU"),
])
def test_impossible_layouts_name_the_rule_and_the_nearest_value(layout, model, needle):
    why = step.layout_error(model, H200, layout)
    assert why and needle in why and "\n" not in why, why
    with pytest.raises(InputError, match="nearest valid"):
        step.unit(model, H200, layout)                 # step.unit refuses what cannot be built


def test_every_rule_is_a_plain_function_with_units_in_its_docstring():
    for rule in (step.attention_heads_error, step.expert_slots_error, step.expert_slice_error, step.mtp_error,
                 step.hbm_error, step.weights_room_error):
        assert rule.__doc__ and "(" in rule.__doc__
    assert step.attention_heads_error(V3, 8) is None and step.expert_slots_error(V3, 144, 32) is None
    assert "EP 1" in step.expert_slots_error(config.model("llama-3.1-70b"), 8, 0)


@pytest.mark.parametrize("argv, needle", [
    (["decode", "--attn", "tp", "--ep", "7"], "attention TP: 8"),
    (["decode", "--ep", "4096"], "redundant experts"),
    (["decode", "--ep", "288", "--redundant", "8"], "32 redundant experts"),
    (["decode", "--ep", "8", "--model", "deepseek-v2-lite", "--mtp", "1"], "no MTP module"),
    (["prefill", "--ep", "288", "--redundant", "8"], "32 redundant experts"),
    (["prefill", "--ep", "1"], "the smallest EP that holds the weights"),
    (["sol", "--ep", "288", "--redundant", "8"], "32 redundant experts"),
    (["sol", "--ep", "4096"], "nearest valid: EP 256"),
    (["sol", "--model", "deepseek-v2-lite", "--mtp-accept", "0.8"], "no MTP module"),
    (["sol", "--ep", "8"], "smallest EP whose weights fit"),
    (["serve", "--model", "deepseek-v2-lite", "--mode", "agg", "--mtp", "1"], "no MTP module"),
])
def test_every_command_refuses_in_one_line(argv, needle, capsys):
    cmd, rest = argv[0], argv[1:]
    common = {"decode": ["--gpu", "H200", "--isl", "1000", "--osl", "100", "--batch", "1"], "prefill": ["--gpu", "H200"],
              "sol": ["--gpu", "H800", "--context", "4096"],
              "serve": ["--gpu", "H200", "--isl", "1000", "--osl", "100", "--per-user", "20"]}[cmd]
    common += [] if "--model" in rest else ["--model", "deepseek-v3"]
    code, out, err = run([cmd, *common, *rest], capsys)
    assert code == 2 and not out and err.count("\n") == 1 and needle in err, err


def test_the_planners_search_reads_the_same_check():
    refused: list = []
    units = search.decode_units(LITE, H200, search.Space(), refused)
    assert units and all(u.layout.mtp == 0 for u in units)           # no MTP module, no draft tokens
    assert any("no MTP module" in r for r in refused)
    assert all(step.layout_error(LITE, H200, u.layout) is None for u in units)


# ------------------------------------------------------------------ names, locales, streams
def test_names_are_escaped_and_cut():
    assert printable("a\x1b[31mb\udcff\n") == "a\\x1b[31mb\\udcff\n"
    assert safe_name("x" * 100) == "x" * 77 + "..." and safe_name("a\nb") == "a b"


def test_a_file_name_with_an_undecodable_byte_is_printed(tmp_path, capsys):
    """Issue 26: a config named with a non-UTF-8 byte (a lone surrogate in Python) under a UTF-8
    locale printed a traceback (UnicodeEncodeError); it is printed escaped."""
    path = tmp_path / os.fsdecode(b"my\xff\x1b[31mmodel.json")
    path.write_bytes(V3_JSON.read_bytes())
    for argv in (["model", str(path)], ["sol", "--model", str(path), "--gpu", "H800", "--context", "4096"]):
        code, out, err = run(argv, capsys)
        assert code == 0 and not err and "my\\udcff\\x1b[31mmodel" in out, out
    code, out, _ = run(["model", str(path), "--json"], capsys)
    assert code == 0 and json.loads(out)["model"] == "my\\udcff\\x1b[31mmodel" and out.isascii()


def test_text_output_survives_a_strict_ascii_stream(tmp_path):
    path = tmp_path / "mødel中.json"
    path.write_bytes(V3_JSON.read_bytes())
    env = dict(os.environ, PYTHONIOENCODING="ascii:strict")
    r = subprocess.run([sys.executable, "-m", "inference_arithmetic", "sol", "--model", str(path), "--gpu", "H800",
                        "--context", "4096"], capture_output=True, env=env)
    assert r.returncode == 0 and b"m\\xf8del\\u4e2d" in r.stdout and not r.stderr, r.stderr


# ------------------------------------------------------------------ grids capped by time
def test_the_largest_grid_answers_in_about_a_second(capsys):
    argv = ["sol", "--model", "deepseek-v3", "--gpu", "H800", "--ep", "144", "--redundant", "32",
            "--context", "100:100000:100", "--batch", f"1:{MAX_GRID_POINTS // 1000}", "--json"]
    t0 = time.perf_counter()
    code, out, _ = run(argv, capsys)
    took = time.perf_counter() - t0
    assert code == 0 and len(json.loads(out)["fits"]) == MAX_GRID_POINTS
    assert took < 5.0, took          # about half a second on one core; a loose bound for a shared CI machine
    code, _, err = run(argv[:-5] + ["--context", "1:1000", "--batch", "1:1000"], capsys)
    assert code == 2 and f"at most {MAX_GRID_POINTS:,}" in err
