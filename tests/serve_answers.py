"""The answers of ``serve`` for a set of setups (the modes, GPUs of every vendor, dense and MoE models,
frameworks with measured tables, and the pins ``--ep``/``--batch``/``--max-gpus``/``--attn``/``--mtp``/
dtypes/``--ttft``/``--max-throughput``), as recorded before the search was made cheaper (issue 25):
``tests/test_serve_answers.py`` checks that the command still prints them byte for byte.

Re-record (only when the model itself changes, never to make the search pass):
``PYTHONPATH=src python tests/serve_answers.py --write``.
"""
from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path

STORED = Path(__file__).with_name("serve_answers.json")

_BASE = "serve --model {model} --gpu {gpu} --mode {mode} --isl {isl} --osl {osl}"

SETUPS = [
    # the defaults: every mode, GPUs of each vendor and generation, service levels
    *(_BASE.format(model="deepseek-v3", gpu=g, mode=mode, isl=2000, osl=500) + " --per-user 20"
      for g in ("H200", "H800", "B200", "GB200", "MI300X", "H20") for mode in ("disagg", "agg")),
    _BASE.format(model="deepseek-v3", gpu="H200", mode="disagg", isl=4000, osl=1000) + " --per-user 50",
    _BASE.format(model="deepseek-v3", gpu="GB300", mode="agg", isl=8000, osl=300) + " --per-user 10 --ttft 2",
    _BASE.format(model="deepseek-v3", gpu="H800", mode="disagg", isl=2000, osl=500) + " --max-throughput",
    _BASE.format(model="deepseek-v3", gpu="B200", mode="agg", isl=1000, osl=1000) + " --max-throughput",
    _BASE.format(model="deepseek-v3", gpu="H200", mode="disagg", isl=2000, osl=500)
    + " --per-user 20 --cached-fraction 0.5",
    _BASE.format(model="deepseek-v3.2", gpu="H200", mode="disagg", isl=32000, osl=1000) + " --per-user 20",
    _BASE.format(model="kimi-k2", gpu="GB200", mode="disagg", isl=2000, osl=500) + " --per-user 30",
    _BASE.format(model="qwen3-235b-a22b", gpu="H100", mode="agg", isl=2000, osl=500) + " --per-user 20",
    _BASE.format(model="gpt-oss-120b", gpu="B200", mode="disagg", isl=1000, osl=1000) + " --per-user 100",
    _BASE.format(model="llama-3.1-70b", gpu="H100", mode="agg", isl=2000, osl=200) + " --per-user 20",
    _BASE.format(model="mixtral-8x7b", gpu="MI325X", mode="disagg", isl=1000, osl=500) + " --per-user 40",
    # the pins
    _BASE.format(model="deepseek-v3", gpu="H200", mode="agg", isl=2000, osl=500)
    + " --batch 64 --ep 8 --attn tp --attn-tp 8 --moe-tp 8 --micro-batches 1 --mtp 0",
    _BASE.format(model="deepseek-v3", gpu="H200", mode="disagg", isl=2000, osl=500) + " --batch 32",
    _BASE.format(model="deepseek-v3", gpu="H800", mode="disagg", isl=4000, osl=1978) + " --batch 128 --ep 144",
    _BASE.format(model="deepseek-v3", gpu="H200", mode="agg", isl=2000, osl=500) + " --per-user 20 --max-gpus 8",
    _BASE.format(model="deepseek-v3", gpu="H200", mode="disagg", isl=2000, osl=500) + " --per-user 20 --max-gpus 16",
    _BASE.format(model="deepseek-v3", gpu="H800", mode="disagg", isl=2000, osl=500) + " --per-user 20 --ep 72",
    _BASE.format(model="deepseek-v3", gpu="GB200", mode="disagg", isl=2000, osl=500) + " --per-user 20 --ep 72",
    _BASE.format(model="deepseek-v3", gpu="H200", mode="disagg", isl=2000, osl=500)
    + " --per-user 20 --attn dp --mtp 2 --kv-dtype fp8 --moe-dtype fp8",
    _BASE.format(model="deepseek-v3", gpu="B200", mode="agg", isl=2000, osl=500)
    + " --per-user 30 --moe-dtype nvfp4 --redundant 0",
    _BASE.format(model="deepseek-v3", gpu="H200", mode="agg", isl=2000, osl=500) + " --per-user 20 --attn tp",
    _BASE.format(model="deepseek-v3", gpu="H800", mode="disagg", isl=2000, osl=500)
    + " --per-user 20 --ep 32 --micro-batches 2",
    # frameworks with measured kernel tables
    *(_BASE.format(model="deepseek-v3", gpu="H200", mode=mode, isl=2000, osl=500) + f" --per-user 20 --framework {fw}"
      for fw in ("sglang", "trtllm", "vllm") for mode in ("disagg", "agg")),
    _BASE.format(model="qwen3-235b-a22b", gpu="B200", mode="disagg", isl=2000, osl=500) + " --per-user 20 --framework vllm",
    # no answer: one line on stderr, exit 2
    _BASE.format(model="deepseek-v3", gpu="H200", mode="agg", isl=2000, osl=500) + " --batch 100000",
    _BASE.format(model="deepseek-v3", gpu="H200", mode="agg", isl=2000, osl=500) + " --per-user 20 --ep 16 --max-gpus 8",
    _BASE.format(model="deepseek-v3", gpu="H200", mode="agg", isl=2000, osl=500) + " --per-user 20 --ep 7",
    _BASE.format(model="deepseek-v3", gpu="H200", mode="disagg", isl=2000, osl=500) + " --per-user 5000",
    _BASE.format(model="deepseek-v3", gpu="H200", mode="disagg", isl=2000, osl=500) + " --per-user 20 --ttft 0.01",
    _BASE.format(model="deepseek-v3", gpu="H20", mode="agg", isl=2000, osl=500) + " --batch 512 --ep 8",
    _BASE.format(model="deepseek-v3", gpu="H200", mode="agg", isl=2000, osl=500) + " --per-user 20 --moe-dtype nvfp4",
]


def answer(line: str) -> dict:
    """Exit status, stdout and stderr of ``serve`` for one command line (``--json`` added)."""
    from inference_arithmetic import cli
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(line.split() + ["--json"])
    return {"code": code, "out": out.getvalue(), "err": err.getvalue()}


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: PYTHONPATH=src python tests/serve_answers.py --write")
    STORED.write_text(json.dumps({line: answer(line) for line in SETUPS}, indent=1) + "\n")
    print(f"wrote {len(SETUPS)} answers to {STORED}")
