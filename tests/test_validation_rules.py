"""Issue 21, "every validation entry predicted": the rules for what a publication leaves unstated
(the layout by the one search, lengths from the benchmark's cited statistics, a batch capped at
what fits) and one set of defaults (the command line given a searched entry's setup returns the
validation's prediction)."""
from __future__ import annotations

import dataclasses
import json

import pytest

from inference_arithmetic import cli, step
from inference_arithmetic.evidence import validation, validation_search, validation_setup
from inference_arithmetic.core.errors import InputError
from inference_arithmetic.hardware import gpus
from inference_arithmetic.serving import workload


def _preds():
    return {p.id: p for p in validation.predict_all()}


def test_the_command_line_given_a_searched_entrys_setup_returns_its_prediction(capsys):
    """``serve`` with the pins and constraints the publication states (GPU count as --max-gpus, the
    service level or the batch, mode, dtypes, MTP, framework) gives the validation's prediction."""
    preds, checked = _preds(), 0
    for key, e in validation.entries().items():
        if not validation_search.searched(e) or not preds[key].expressible:
            continue
        p = preds[key]
        argv, mode = validation_search.serve_argv(key)
        # the command line carries what the publication states, not what the search chose
        stated = (e.get("precision") or {}).get("moe") or step.default_moe_dtype(validation._model(e).weight_dtype)
        assert argv[argv.index("--moe-dtype") + 1] == stated, key
        if e.get("gpus_total"):
            assert argv[argv.index("--max-gpus") + 1] == str(e["gpus_total"]), key
        if e.get("mode") in ("agg", "disagg"):
            assert mode == e["mode"], key
        assert cli.main(argv) == 0, key
        d = json.loads(capsys.readouterr().out)
        isl, osl = d["isl"], d["osl"]
        scale = (isl + osl) / osl if p.metric == "total_tokens_per_s_per_gpu" else 1.0
        got = d["tokens_per_s_per_user"] if p.metric == "tokens_per_s_per_user" else d["tokens_per_s_per_gpu"] * scale
        assert got == pytest.approx(p.predicted, rel=1e-6), key   # the CLI prints 8 significant digits
        assert any(r.startswith(f"searched layout: EP{d['layout']['ep']} ") for r in p.assumptions), key
        checked += 1
    assert checked >= 12   # the searched entries (two InferenceX best points now state their recipe)


def test_every_entry_is_predicted_or_says_why_not():
    preds = validation.predict_all()
    s = validation.summary(preds)
    assert s["n"] >= 0.9 * len(preds)
    for p in preds:
        assert p.expressible or p.reason, p.id
        if validation_search.searched(validation.entries()[p.id]) and p.expressible:
            assert any(r.startswith("searched layout:") for r in p.assumptions), p.id
            assert p.bound is None or p.bound >= p.measured, p.id


def test_mlperf_lengths_and_limits_come_from_the_cited_benchmark():
    e = validation.entries()["mlperf51-b200-8-server"]
    assert e["isl"] is None and e["osl"] is None                # the publication states none
    notes: list = []
    assert validation.lengths(e, notes) == (804, 3886) and len(notes) == 1 and "ISL 804 and OSL 3,886" in notes[0]
    s = validation_search.setup("mlperf51-b200-8-server")
    assert s.service.ttft_s == 2.0 and s.service.per_user == pytest.approx(12.5) and s.max_gpus == 8
    assert validation_search.setup("mlperf51-b200-8-offline").service.per_user is None
    assert set(s.modes) == {"agg"}             # the submission's code: one engine serves prefill and decode
    for key in ("mlperf-dsr1-reference", "mlperf-dsr1-dataset-lengths"):
        assert key in e["also"]


def test_a_published_batch_that_does_not_fit_is_capped_at_what_fits():
    key = "gpustack-h100-gptoss120b-tp2-32k100"
    p = _preds()[key]
    assert p.expressible and any(r.startswith("batch capped at") for r in p.assumptions)
    e = validation.entries()[key]
    L = validation._layout(e, gpus.gpu(e["gpu"]), [], "decode", 1)
    L = step.Layout(**{**L.__dict__, "framework": validation.kernel_framework(key)})
    u = step.unit(validation._model(e), gpus.gpu(e["gpu"]), L)
    ctx = e["isl"] + e["osl"] / 2
    most = step.max_batch(u, ctx)
    published = e["concurrency"]["total"] / (e["gpus_decode"] or e["gpus_total"]) * L.attn_tp
    assert 1 <= most < published and step.fits(u, most, ctx)
    assert f"batch capped at {most:g} requests per instance, the most that fit in HBM" in " ".join(p.assumptions)


def test_a_stated_batch_limit_caps_the_decode_batch_and_a_stated_prefill_layout_is_read():
    """The serving recipe's per-instance batch limit (TensorRT-LLM's max_batch_size) caps the published
    concurrency; the recipe's prefill workers (EP, attention, token budget) build the prefill unit."""
    key = "inferencex-b200-fp4-1k1k-conc875"
    e, p = validation.entries()[key], _preds()[key]
    limit = validation_setup.batch_limit(e)
    assert limit == 16 < e["concurrency"]["total"] / e["gpus_decode"]
    assert any(r.startswith(f"batch capped at {limit} requests per attention instance, the serving "
                            f"configuration's batch limit") for r in p.assumptions)
    assert "prefill workers as stated: EP4, attention data-parallel" in p.assumptions
    g = gpus.gpu(e["gpu"])
    decode = validation._layout(e, g, [], "decode")
    assert (decode.ep, decode.attn_tp, decode.mtp, decode.precision.kv) == (8, 1, 3, "fp8")
    pre = validation_setup.prefill_layout(e, g, decode, [])
    assert (pre.ep, pre.attn_tp, pre.mtp, pre.precision.kv) == (4, 1, 0, "fp8")
    assert validation_setup.prefill_chunk(e, 16384) == 8192
    # without the keys: the decode layout without MTP, the default chunk, no limit
    bare = {k: v for k, v in e.items() if k != "model_setup"}
    assert validation_setup.batch_limit(bare) is None and validation_setup.prefill_chunk(bare, 16384) == 16384
    same = validation_setup.prefill_layout(bare, g, decode, [])
    assert (same.ep, same.attn_tp, same.mtp) == (8, 1, 0)


def test_the_inferencex_recipes_set_mtp_and_the_attention_layout():
    """conc4 runs TEP8 decode workers (attention TP8) with three MTP drafts: the recipe's, not the
    search's choice."""
    p = _preds()["inferencex-gb200-fp4-1k1k-conc4"]
    assert not any("unstated" in r for r in p.assumptions)
    e = validation.entries()["inferencex-gb200-fp4-1k1k-conc4"]
    L = validation._layout(e, gpus.gpu("GB200"), [], "decode")
    assert (L.ep, L.attn_tp, L.mtp) == (8, 8, 3)
    for key in ("inferencex-gb300-fp4-8k1k-best", "inferencex-b200-fp4-8k1k-best"):
        assert not validation_search.searched(validation.entries()[key])


def test_mtp_is_on_only_where_the_publication_says_it_ran():
    notes: list = []
    assert validation_setup.mtp_drafts({"note": "GPU split, layout and MTP not in text."}, notes, "decode") == (0, None)
    assert validation_setup.mtp_drafts({"note": "Peak point. MTP on."}, notes, "decode") == (1, None)
    assert validation_setup.mtp_drafts({"note": "MTP enabled (draft count not stated)"}, notes, "prefill") == (0, None)


def test_a_kappa_override_is_not_passed_off_as_a_searched_prediction():
    preds = validation.predict_all(kappa=0.5)
    searched = [p for p in preds if validation_search.searched(validation.entries()[p.id])]
    assert searched and all(not p.expressible and "kappa" in p.reason for p in searched)


def test_the_decode_context_is_length_biased_where_output_lengths_vary():
    """A request decodes in the batch for as many steps as it has output tokens, so the batch's mean
    context is E[I L]/E[L] + E[L^2]/(2 E[L]): ISL + OSL/2 for fixed lengths, more for a spread."""
    assert workload.inflight_context([800] * 3, [4000] * 3) == pytest.approx(800 + 2000)
    # by hand: outputs 1,000 and 3,000 after inputs 500 and 100: (500*1000 + 100*3000)/4000 + (1e6 + 9e6)/8000
    assert workload.inflight_context([500, 100], [1000, 3000]) == pytest.approx(200 + 1250)
    with pytest.raises(InputError):
        workload.inflight_context([1, 2], [3])
    assert workload.Service(800, 4000).decode_context == 2800
    assert workload.Service(800, 4000, context=5624).decode_context == 5624
    # below ISL is possible (a long prompt with a short answer weighs little: 10,000/1 and 10/1,000 hold 520), below
    # OSL/2 is not (E[L^2] >= E[L]^2), whatever the dataset: refused
    assert workload.inflight_context([10_000, 10], [1, 1000]) < 5005 and workload.Service(5005, 500.5, context=520)
    for ins, outs in (([10_000, 10], [1, 1000]), ([0, 0, 0], [1, 7, 300]), ([5] * 4, [4000] * 4)):
        assert workload.inflight_context(ins, outs) >= sum(outs) / len(outs) / 2
    with pytest.raises(InputError, match="below half the mean output length"):
        workload.Service(800, 4000, context=1999)
    assert workload.Service(800, 4000, context=2000).decode_context == 2000
    with pytest.raises(InputError, match=r"250\.0 tokens .* \(250\.5\)"):     # never printed equal to the bound
        workload.Service(800, 501, context=250)
    e = validation.entries()["mlperf51-gb200-72-server"]
    assert e["lengths"]["context"] > e["lengths"]["isl"] + e["lengths"]["osl"] / 2
    p = _preds()["mlperf51-gb200-72-server"]
    assert any(r.startswith("decode context 5,624 tokens per request in flight, not ISL + OSL/2") for r in p.assumptions)
    s = validation_search.setup("mlperf51-gb200-72-server")
    assert s.service.decode_context == 5624
    argv, _ = validation_search.serve_argv("mlperf51-gb200-72-server")
    assert argv[argv.index("--decode-context") + 1] == "5624"
    # a longer context costs time: the same setup at fixed lengths predicts more tokens/s per GPU
    fixed = dataclasses.replace(s, service=dataclasses.replace(s.service, context=None))
    assert validation_search.best(fixed)[1]["tokens_per_s_per_gpu"] > validation_search.best(s)[1]["tokens_per_s_per_gpu"]


def test_a_pinned_total_concurrency_keeps_the_points_stated_speed_as_a_floor():
    """A point that states its concurrency and its per-user speed but no GPU count: the unit size is the
    search's, and the stated speed bounds it (else one GPU holding every request would always win)."""
    from inference_arithmetic.evidence import validation
    p = validation.predict("inferencex-gptoss120b-mi325x-1k1k-72tps")
    assert "per-user floor 72 tok/s (the point's stated per-user rate)" in p.assumptions
    searched = next(a for a in p.assumptions if a.startswith("searched layout"))
    assert float(searched.rsplit(", ", 1)[1].split()[0]) >= 72


def test_a_configurations_batch_limit_caps_the_searched_batch():
    """``model_setup.max_batch`` (e.g. TensorRT-LLM's max_batch_size) is a limit the search keeps, named in the
    rules; ``serve --max-batch`` is the same limit on the command line."""
    from inference_arithmetic.evidence import validation
    p = validation.predict("mlperf60-gb300-72-gptoss-interactive")
    limit = next(a for a in p.assumptions if a.endswith("(the configuration's batch limit)"))
    most = int(limit.split()[2].replace(",", ""))
    searched = next(a for a in p.assumptions if a.startswith("searched layout"))
    assert int(searched.split(", ")[1].split()[0]) <= most


def test_serve_refuses_a_batch_above_its_limit(capsys):
    from inference_arithmetic.cli import main
    rc = main(["serve", "--model", "deepseek-v3", "--gpu", "H200", "--mode", "agg", "--isl", "1000", "--osl", "500",
               "--batch", "64", "--max-batch", "32"])
    assert rc == 2 and "more than --max-batch 32" in capsys.readouterr().err


def test_stated_prefill_workers_pin_the_searched_prefill_unit():
    from inference_arithmetic.evidence import validation_search as vs
    s = vs.setup("mlperf60-gb300-72-interactive")
    assert s.space.prefill_ep == (2,) and "prefill workers as stated: EP2 (disaggregated)" in s.notes


@pytest.mark.parametrize("ep", ["1", "3", "1000"])
def test_serve_says_when_no_prefill_unit_of_the_pinned_size_exists(ep, capsys):
    from inference_arithmetic.cli import main
    rc = main(["serve", "--model", "deepseek-v3", "--gpu", "H200", "--mode", "disagg", "--isl", "2000", "--osl", "500",
               "--per-user", "20", "--prefill-ep", ep])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and f"no prefill unit of deepseek-v3 on H200 with EP {ep} can be built" in err


def test_the_error_shares_add_up_and_say_what_the_set_is_without_each_group():
    preds = validation.predict_all()
    rows = validation.error_shares(preds, validation.run_group)
    scored = validation.scored(preds)
    assert sum(r["n"] for r in rows) == len(scored)
    assert sum(r["share"] for r in rows) == pytest.approx(1.0)
    assert [r["share"] for r in rows] == sorted((r["share"] for r in rows), reverse=True)
    total = sum(abs(p.error) for p in scored)
    for r in rows[:3]:                  # recomputed from the predictions, not from the row's own numbers
        inside = [p for p in scored if validation.run_group(p) == r["group"]]
        rest = [abs(p.error) for p in scored if p not in inside]
        assert r["share"] == pytest.approx(sum(abs(p.error) for p in inside) / total)
        assert r["mape_without"] == pytest.approx(sum(rest) / len(rest))
    g = validation.run_group(next(p for p in scored if p.id == "mlperf51-b200-8-server"))
    assert g == "MLCommons MLPerf v5.1 server: deepseek-v3, Blackwell"
