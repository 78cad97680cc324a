"""Pipeline parallelism (a stated TP x PP engine, as MLPerf's Llama-3.1-405B Offline submissions run): each GPU
holds its stage's layers and the fullest stage the embedding or the head, and per GPU a stage runs as the whole
model at one micro-batch, so the step time and the rate at a given batch are the TP engine's and only the room
left for KV caches (and so the batch that fits) changes."""
from __future__ import annotations

import json
import math

import pytest

from inference_arithmetic import cli, step
from inference_arithmetic.core.errors import InputError
from inference_arithmetic.hardware.gpus import gpu
from inference_arithmetic.model.config import model


def _units(pp: int):
    m, g = model("llama-3.1-405b"), gpu("B300")
    base = step.unit(m, g, step.layout_for(m, g, 2, attn_tp=2, framework="trtllm"))
    piped = step.unit(m, g, step.layout_for(m, g, 2, attn_tp=2, pp=pp, framework="trtllm"))
    return m, base, piped


@pytest.mark.parametrize("pp", [2, 4])
def test_a_stage_holds_its_layers_and_one_end_of_the_model(pp):
    m, base, piped = _units(pp)
    v = base.values
    head = v["P_hd"] * v["b_hw"] / v["T_a"]                     # one vocabulary x hidden matrix per GPU
    layers = base.weights_resident - v["n_emb"] * head          # every layer's weights per GPU, no MTP module here
    assert v["n_emb"] == 2 and not m.tie_embeddings             # the embedding on the first stage, the head on the last
    fullest = math.ceil(m.n_layers / pp) / m.n_layers          # 126 layers: 63 per stage of two, 32 on the fullest of four
    assert piped.weights_resident == pytest.approx(layers * fullest + head, rel=1e-12)


def test_the_step_at_a_batch_is_the_tp_engines_and_more_requests_fit():
    _, base, piped = _units(2)
    a, b = step.terms(base, 64.0, 9585.0), step.terms(piped, 64.0, 9585.0)
    for key in ("t_step", "tokens_per_s_per_gpu", "tokens_per_s_per_user"):
        assert float(b[key]) == float(a[key]), key
    assert step.max_batch(piped, 9585.0) > step.max_batch(base, 9585.0)
    _, base1, one = _units(1)
    assert one.weights_resident == base1.weights_resident and one.layout.pp == 1 and base1.layout.pp == 1


def test_the_command_line_states_the_pipeline_and_refuses_a_stage_count_that_cannot_be(capsys):
    argv = ["decode", "--model", "llama-3.1-405b", "--gpu", "B300", "--ep", "2", "--attn", "tp", "--isl", "9429",
            "--osl", "685", "--max-throughput", "--framework", "trtllm", "--json"]
    assert cli.main(argv + ["--pp", "2"]) == 0
    piped = json.loads(capsys.readouterr().out)
    assert cli.main(argv) == 0
    flat = json.loads(capsys.readouterr().out)
    assert piped["layout"]["pp"] == 2 and "pp" not in flat["layout"]
    assert piped["batch_per_instance"] > flat["batch_per_instance"]
    assert piped["memory_bytes"]["weights"] < flat["memory_bytes"]["weights"]
    assert cli.main(argv[:-1] + ["--pp", "0"]) == 2
    assert "--pp" in capsys.readouterr().err
    assert cli.main(argv[:-1] + ["--pp", str(step.MAX_PP + 1)]) == 2     # the flag's own bound, Layout's, in its words
    err = capsys.readouterr().err
    assert f"argument --pp: must be a whole number of pipeline stages from 1 to {step.MAX_PP}" in err
    assert err.count("\n") == 1
    with pytest.raises(InputError):
        step.Layout(ep=2, attn_tp=2, pp=0)


def test_a_pipeline_needs_a_layer_per_stage(capsys):
    argv = ["decode", "--model", "llama-3.1-8b", "--gpu", "H100", "--ep", "1", "--isl", "1000", "--osl", "100",
            "--batch", "8", "--pp"]
    assert cli.main(argv + ["32"]) == 0
    capsys.readouterr()
    assert cli.main(argv + ["33"]) == 2
    err = capsys.readouterr().err
    assert "33 pipeline stages need at least 33 layers" in err and "--pp 32" in err and err.count("\n") == 1
