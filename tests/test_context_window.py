"""A request longer than the model's context window has no answer: the config's
max_position_embeddings is read, every command and the library's search refuse in one line, a config
that states no window is not checked, and the window's edge itself is answered."""
from __future__ import annotations

import json

import pytest

from inference_arithmetic import cli
from inference_arithmetic.core.errors import CatalogError, InputError
from inference_arithmetic.hardware import gpus
from inference_arithmetic.model import config
from inference_arithmetic.serving import plan, search
from inference_arithmetic.serving.workload import Service, Workload

L405 = config.model("llama-3.1-405b")


def run(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name, window", [
    ("llama-3.1-405b", 131_072), ("deepseek-v3", 163_840), ("qwen3-235b-a22b", 40_960),
    ("mixtral-8x7b", 32_768), ("qwen3-30b-a3b", 40_960), ("deepseek-v2-lite", 163_840),
    ("llama-4-maverick", 1_048_576),          # read from the multimodal config's text_config
])
def test_every_shipped_config_states_its_window(name, window):
    assert config.model(name).context_window == window


def test_the_window_is_the_sum_of_input_and_output():
    assert config.context_error(L405, 131_000, 72) is None            # at the edge: answered
    why = config.context_error(L405, 131_000, 73)
    assert why and "131,072" in why and "131,000 input + 73 output" in why and "\n" not in why
    assert config.context_error(L405, 200_000) and "200,000 input tokens" in config.context_error(L405, 200_000)


def test_a_config_without_a_window_is_not_checked():
    cfg = json.loads((config.DATA / "models" / "llama-3.1-8b.json").read_text())
    del cfg["max_position_embeddings"]
    m = config.parse_config(cfg, "no-window")
    assert m.context_window == 0 and config.context_error(m, 10**7, 10**7) is None


@pytest.mark.parametrize("value", ["131072", 1.5, True, 0, -1, 2**25])
def test_a_bad_window_is_refused_in_one_line(value):
    cfg = json.loads((config.DATA / "models" / "llama-3.1-8b.json").read_text())
    cfg["max_position_embeddings"] = value
    with pytest.raises(CatalogError, match="max_position_embeddings") as e:
        config.parse_config(cfg, "bad-window")
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("argv", [
    ["decode", "--gpu", "H100", "--ep", "8", "--attn", "tp", "--isl", "200000", "--osl", "100", "--batch", "1"],
    ["prefill", "--gpu", "H100", "--ep", "8", "--attn", "tp", "--isl", "200000"],
    ["serve", "--gpu", "H100", "--mode", "disagg", "--isl", "131000", "--osl", "100", "--per-user", "10"],
    ["plan", "--isl", "131000", "--osl", "100", "--per-user", "10", "--tokens-per-day", "1e9"],
    ["sol", "--gpu", "H100", "--context", "1000:140000:1000"],
])
def test_every_command_refuses_a_request_longer_than_the_window(argv, capsys):
    code, out, err = run([argv[0], "--model", "llama-3.1-405b", *argv[1:]], capsys)
    assert code == 2 and not out and err.count("\n") == 1 and "131,072 tokens per request" in err, err


def test_the_edge_of_the_window_is_answered(capsys):
    code, out, err = run(["decode", "--model", "llama-3.1-405b", "--gpu", "H200", "--ep", "8", "--attn", "tp",
                          "--isl", "130000", "--osl", "1072", "--batch", "1", "--json"], capsys)
    assert code == 0 and json.loads(out)["tokens_per_s_per_gpu"] > 0, err


def test_the_library_search_refuses_before_searching():
    svc = Service(isl=131_000, osl=100, per_user=10)
    with pytest.raises(InputError, match="131,072 tokens per request"):
        search.best(L405, gpus.gpu("H100"), svc, "disagg")
    with pytest.raises(InputError, match="131,072 tokens per request"):
        search.candidates(L405, gpus.gpu("H100"), svc)
    with pytest.raises(InputError, match="131,072 tokens per request"):
        plan.search(L405, Workload(requests_per_s=1, isl=131_000, osl=100, per_user=10), ["H100"])


def test_model_states_the_window_or_its_absence(tmp_path, capsys):
    code, out, _ = run(["model", "llama-3.1-405b", "--json"], capsys)
    assert code == 0 and json.loads(out)["context_window"] == 131_072
    cfg = json.loads((config.DATA / "models" / "llama-3.1-8b.json").read_text())
    del cfg["max_position_embeddings"]
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    code, out, _ = run(["model", str(tmp_path)], capsys)
    assert code == 0 and "context window: not stated" in out
