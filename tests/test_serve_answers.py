"""``serve`` prints, byte for byte, the answers recorded before its search was made cheaper (issue 25):
every mode, GPUs of each vendor, dense and MoE models, frameworks with measured tables, the pins
(``--ep``, ``--batch``, ``--max-gpus``, ``--attn``, ``--mtp``, dtypes, ``--ttft``, ``--max-throughput``)
and the setups with no answer (exit 2, one line on stderr).  Recorded by ``tests/serve_answers.py``."""
from __future__ import annotations

import json
import math

import pytest

from serve_answers import SETUPS, STORED, answer

RECORDED = json.loads(STORED.read_text())


def test_every_setup_is_recorded():
    assert list(RECORDED) == SETUPS
    assert sum(r["code"] == 0 for r in RECORDED.values()) >= 30 and sum(r["code"] == 2 for r in RECORDED.values()) >= 5


@pytest.mark.parametrize("line", SETUPS, ids=lambda s: s[6:].replace(" --", " ").replace(" ", "_")[:90])
def test_serve_answers_as_recorded(line):
    assert answer(line) == RECORDED[line]


# ------------------------------------------------------------------ the search at a few batches: the grid's answer

def _grid_case(model, gpu, mode, per_user, framework="deepseek", **pins):
    from inference_arithmetic.core.errors import InputError
    from inference_arithmetic.hardware import gpus
    from inference_arithmetic.model import config
    from inference_arithmetic.serving import search
    from inference_arithmetic.serving.workload import Service
    m, g = config.model(model), gpus.gpu(gpu)
    svc, space = Service(2000, 500, per_user), search.Space(framework=framework, **pins)

    def answer(f):
        try:
            return f(m, g, svc, mode, space)
        except InputError as e:
            return str(e)
    return answer(search.best), answer(search._best_of_grid)


GRID_CASES = [
    *((g, mode, per_user) for g in ("H800", "H100", "H200", "H20", "B200", "B300", "GB200", "GB300", "MI300X",
                                    "MI325X", "MI355X") for mode in ("disagg", "agg") for per_user in (20.0, None)),
    *(("H200", mode, per_user) for mode in ("disagg", "agg") for per_user in (5.0, 60.0, 150.0, 400.0)),
]


@pytest.mark.parametrize("gpu,mode,per_user", GRID_CASES)
def test_the_fast_search_gives_the_whole_grids_answer(gpu, mode, per_user):
    """:func:`.search.best` (a few batches of each unit, :mod:`.serving.fastest`) answers what the argmax over
    :func:`.search.candidates`' whole grid answers, to the last bit, or refuses with the same words."""
    fast, grid = _grid_case("deepseek-v3", gpu, mode, per_user)
    assert fast == grid


@pytest.mark.parametrize("model,gpu,mode,framework,pins", [
    ("qwen3-235b-a22b", "H200", "disagg", "deepseek", {}),
    ("qwen3-235b-a22b", "B200", "agg", "vllm", {}),
    ("gpt-oss-120b", "B200", "disagg", "deepseek", {}),
    ("gpt-oss-120b", "H100", "agg", "sglang", {}),
    ("llama-3.1-70b", "H100", "agg", "deepseek", {}),
    ("llama-3.1-8b", "MI300X", "disagg", "deepseek", {}),
    ("kimi-k2", "GB200", "disagg", "deepseek", {}),
    ("deepseek-v3.2", "H200", "agg", "deepseek", {}),
    ("mixtral-8x7b", "H800", "disagg", "trtllm", {}),
    ("deepseek-v3", "H200", "agg", "deepseek", {"batch": 64}),
    ("deepseek-v3", "H200", "disagg", "deepseek", {"batch": 300}),
    ("deepseek-v3", "H800", "disagg", "deepseek", {"decode_ep": (8,), "prefill_ep": (8,)}),
    ("deepseek-v3", "B200", "agg", "deepseek", {"mtp": (2,), "kv_dtypes": ("fp8",)}),
    *(("deepseek-v3", "H200", "disagg", "deepseek", {"max_batch": n}) for n in (1, 2, 7, 64, 65, 600)),
])
def test_the_fast_search_gives_the_grids_answer_for_other_models_frameworks_and_pins(model, gpu, mode, framework,
                                                                                     pins):
    fast, grid = _grid_case(model, gpu, mode, 20.0, framework, **pins)
    assert fast == grid


@pytest.mark.parametrize("argv", [
    "--model deepseek-v3.2 --gpu H200 --mode disagg --isl 32000 --osl 1000 --per-user 20",
    "--model llama-3.1-405b --gpu GB200 --mode disagg --isl 9429 --osl 685 --per-user 5.7 --ttft 6 --framework trtllm",
])
def test_the_reported_prefill_chunk_is_the_step_the_model_costs(argv):
    """A prompt longer than a chunk is prefilled alone (``prefill.prefill``), so the partner's reported
    ``chunk_tokens_per_gpu`` is at least one prompt per GPU of its instance, and ``prefill`` at that chunk
    (its whole tokens: the command takes whole chunks) gives the rate ``serve`` reports."""
    out = json.loads(answer("serve " + argv)["out"])
    p, isl = out["prefill_layout"], out["isl"]
    assert p["chunk_tokens_per_gpu"] >= isl / p["attn_tp"] - 1e-6
    pre = ["prefill", "--model", out["model"], "--gpu", out["gpu"], "--ep", str(p["ep"]), "--attn", p["attn"],
           "--isl", str(isl), "--chunk", str(math.ceil(p["chunk_tokens_per_gpu"])), "--moe-dtype", p["moe_dtype"],
           "--attn-dtype", p["attn_dtype"], "--framework", out["framework"],
           "--redundant", str(p["redundant"]), "--micro-batches", str(p["micro_batches"])]
    pre += ["--attn-tp", str(p["attn_tp"])] if p["attn"] == "tp" else []
    pre += ["--dense-dtype", p["dense_dtype"]] if p.get("dense_dtype") else []
    got = json.loads(answer(" ".join(pre))["out"])
    assert got["input_tokens_per_s_per_gpu"] == pytest.approx(out["prefill_tokens_per_s_per_gpu"], rel=1e-3)
