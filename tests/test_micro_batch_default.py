"""Two-batch overlap is a framework's setting, not the book's: with DeepSeek's kernels a unit that
spans NVLink domains runs two micro-batches (DeepSeek's multi-node layouts); with a serving
framework's kernels it runs the framework's own default, one (SGLang's --enable-two-batch-overlap
and vLLM's --enable-dbo are off unless set, TensorRT-LLM has none), so a publication that turns it
on states it (``model_setup.micro_batches``)."""
from __future__ import annotations

import pytest

from inference_arithmetic import step
from inference_arithmetic.evidence import validation
from inference_arithmetic.hardware.gpus import gpu
from inference_arithmetic.model.config import model


@pytest.mark.parametrize("fw, gpus, want", [
    ("deepseek", 8, 1), ("deepseek", 16, 2), ("deepseek", 144, 2),
    ("sglang", 16, 1), ("trtllm", 16, 1), ("vllm", 144, 1), ("trtllm", 8, 1)])
def test_the_default_follows_the_framework(fw, gpus, want):
    h100 = gpu("H100")
    assert step.default_micro_batches(h100, gpus, fw) == want
    assert step.layout_for(model("deepseek-v3"), h100, gpus, framework=fw).micro_batches == want


def test_a_rack_never_splits_its_batch_by_default():
    assert step.default_micro_batches(gpu("GB200"), 72, "deepseek") == 1


def test_a_stated_two_batch_overlap_is_kept_and_named():
    p = validation.predict("sglang-h100-96-decode-2k")
    assert p.expressible and "two micro-batches (two-batch overlap, as stated)" in p.assumptions


def test_without_the_statement_an_sglang_run_takes_one_micro_batch(monkeypatch):
    key = "sglang-h100-96-decode-2k"
    every = dict(validation.entries())
    setup = {k: v for k, v in every[key]["model_setup"].items() if k != "micro_batches"}
    every[key] = dict(every[key], model_setup=setup)
    monkeypatch.setattr(validation, "entries", lambda: every)
    p = validation.predict(key)
    assert p.expressible and not any("micro-batches" in a for a in p.assumptions)
