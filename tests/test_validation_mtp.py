"""MTP acceptance where a TensorRT-LLM entry states the drafts but not the acceptance: the entry's cited
``mtp_acceptance`` (TensorRT-LLM's own measured strict accepted length for the same model, draft count
and workload) replaces the default, named in the rules; only the tokens per step change."""
from __future__ import annotations

import re

import pytest

from inference_arithmetic import step
from inference_arithmetic.core.errors import Error
from inference_arithmetic.evidence import validation, validation_setup
from inference_arithmetic.hardware.gpus import gpu

DOC = ("trtllm-b200-8-min-latency-doc", "trtllm-h200-8-min-latency-doc")


def test_the_doc_entries_take_tensorrt_llms_measured_strict_acceptance(root):
    bib = set(re.findall(r"@\w+\{([^,]+),", (root / "references.bib").read_text()))
    for key in DOC:
        e = validation.entries()[key]
        assert not (e["mtp"].get("accepted_length") or e["mtp"].get("accept_rate")), key   # the doc states none
        cited = e["mtp_acceptance"]
        assert cited["src"] in bib and cited["draft_tokens"] == e["mtp"]["draft_tokens"] == 3
        notes: list = []
        drafts, accept = validation_setup.mtp_drafts(e, notes, "decode")
        assert drafts == 3 and float(step.mtp_tokens.fast(p_acc=accept, n_dr=3)) == pytest.approx(2.82, abs=1e-4)
        assert len(notes) == 1 and "2.82 tokens per step of 3 drafts" in notes[0] and cited["src"] in notes[0]
        p = validation.predict(key)
        assert any(r.startswith("MTP acceptance unstated: 2.82") for r in p.assumptions), key


def test_a_stated_acceptance_wins_and_prefill_has_no_drafts():
    e = validation.entries()[DOC[0]]
    stated = {**e, "mtp": {**e["mtp"], "accepted_length": 3.10}}
    notes: list = []
    _, accept = validation_setup.mtp_drafts(stated, notes, "decode")
    assert accept == validation_setup.accept_from_length(3.10, 3) and not notes
    assert validation_setup.mtp_drafts(e, [], "prefill") == (0, None)


def test_a_cited_acceptance_for_another_draft_count_is_refused():
    e = validation.entries()[DOC[0]]
    wrong = {**e, "mtp_acceptance": {**e["mtp_acceptance"], "draft_tokens": 1}}
    with pytest.raises(Error, match="cited MTP acceptance is for 1 drafts"):
        validation_setup.mtp_drafts(wrong, [], "decode")


def test_only_the_tokens_per_step_change():
    """The cited acceptance prices the same step: per-user tokens/s scale by accepted tokens per step
    (2.82 against the default acceptance's), the step time is the default's."""
    key = DOC[0]
    e = validation.entries()[key]
    g = gpu(e["gpu"])
    cited = validation._layout(e, g, [], "decode")
    default = validation._layout({k: v for k, v in e.items() if k != "mtp_acceptance"}, g, [], "decode")
    assert default.accept is None and cited.accept is not None
    m = validation._model(e)
    u_c = step.unit(m, g, step.Layout(**{**cited.__dict__, "framework": "trtllm"}))
    u_d = step.unit(m, g, step.Layout(**{**default.__dict__, "framework": "trtllm"}))
    t_c, t_d = step.terms(u_c, 1.0, 2048.0), step.terms(u_d, 1.0, 2048.0)
    assert float(t_c["t_step"]) == pytest.approx(float(t_d["t_step"]), rel=1e-12)
    ratio = float(t_c["tokens_per_s_per_user"]) / float(t_d["tokens_per_s_per_user"])
    assert ratio == pytest.approx(2.82 / u_d.values["accept_tok"], rel=1e-4) and ratio < 1
