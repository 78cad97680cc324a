"""Deployment units smaller than one 8-GPU node in the one layout search: 1, 2 or 4 GPUs of a node
where the model fits and the layout divides (the feasibility check decides), for serve, the planner
and the validation alike; sizes that are neither part of a node that divides it nor whole nodes or
NVLink domains stay refused."""
from __future__ import annotations

import json

import numpy as np

from inference_arithmetic import cli, step
from inference_arithmetic.hardware import gpus
from inference_arithmetic.model import config
from inference_arithmetic.serving import fastest, search
from inference_arithmetic.serving.workload import Service

GPTOSS, V3 = config.model("gpt-oss-120b"), config.model("deepseek-v3")
B200, H100 = gpus.gpu("B200"), gpus.gpu("H100")


def test_gpt_oss_on_one_b200_is_a_candidate():
    units = search.decode_units(GPTOSS, B200, search.Space(decode_ep=(1,)))
    assert units and {u.layout.ep for u in units} == {1}
    found, _ = search.candidates(GPTOSS, B200, Service(1024, 1024, None, None),
                                 search.Space(decode_ep=(1,), prefill_ep=(1,)))
    assert found and all(c.fit.any() for c in found.values())      # it fits at some batch, with a prefill partner


def test_serve_returns_a_one_gpu_unit(capsys):
    code = cli.main(["serve", "--model", "gpt-oss-120b", "--gpu", "B200", "--mode", "agg", "--isl", "1024",
                     "--osl", "1024", "--per-user", "50", "--max-gpus", "1", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["layout"]["ep"] == 1 and out["prefill_layout"]["ep"] == 1
    assert out["tokens_per_s_per_gpu"] > 0


def test_the_default_search_builds_sub_node_units():
    sizes = {u.layout.ep for u in search.decode_units(GPTOSS, B200, search.Space())}
    assert {1, 2, 4, 8} <= sizes


def test_units_that_do_not_fit_are_refused():
    # DeepSeek-V3's 671 B FP8 weights do not fit in one, two or four 80 GB H100s: no such unit fits at any batch
    units = search.decode_units(V3, H100, search.Space(decode_ep=(1, 2, 4), moe_dtypes=("fp8",)))
    assert units                                  # built (the expert rules hold), but no batch fits in HBM
    assert not step_rates(units)[2].any()
    found, _ = search.candidates(V3, H100, Service(1024, 1024, None, None),
                                 search.Space(decode_ep=(1, 2, 4), prefill_ep=(1, 2, 4), moe_dtypes=("fp8",)))
    assert all(not c.fit.any() for c in found.values())


def test_sizes_that_are_no_part_of_a_node_are_refused():
    refused: list = []
    assert not search.decode_units(GPTOSS, B200, search.Space(decode_ep=(3, 6)), refused)
    assert any("a unit of 3 GPUs is neither a part of one 8-GPU node" in r for r in refused)


def step_rates(units):
    """(decode rate, per-user rate, fits) of ``units`` at every batch of the search, 2,048-token context."""
    return fastest.rates_at(step.stack(units), search.BATCHES.reshape(1, -1, 1), 2048.0)


def test_the_rates_are_numbers():
    units = search.decode_units(GPTOSS, B200, search.Space(decode_ep=(1,)))
    R_d, _, fits = step_rates(units)
    assert np.isfinite(np.asarray(R_d)[fits]).all()


def test_a_dense_model_is_tensor_parallel_over_a_sub_node_unit(capsys):
    # Llama-3.1-70B does not fit one 80 GB H100 in BF16: on at most 4 GPUs the search's TP attention spans the unit
    code = cli.main(["serve", "--model", "llama-3.1-70b", "--gpu", "H100", "--mode", "agg", "--isl", "1000",
                     "--osl", "1000", "--per-user", "20", "--max-gpus", "4", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["layout"]["ep"] in (2, 4) and out["layout"]["attn_tp"] == out["layout"]["ep"]
    assert search.unit_layouts(H100, (1, 2, 4, 8), search.Space()) == [(1, 1), (2, 1), (2, 2), (4, 1), (4, 4),
                                                                         (8, 1), (8, 8)]


def test_a_pinned_attention_tp_stays_pinned(capsys):
    code = cli.main(["serve", "--model", "gpt-oss-120b", "--gpu", "B200", "--mode", "agg", "--isl", "1000",
                     "--osl", "1000", "--per-user", "20", "--ep", "2", "--attn", "tp", "--attn-tp", "8", "--json"])
    out, err = capsys.readouterr()
    assert code == 2 and not out and "attention TP 8 must divide the unit's 2 GPUs" in err
