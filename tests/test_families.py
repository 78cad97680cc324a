"""Model families read from their config.json as a reader brings them (issue 22, first part):
multimodal wrappers, quantisation, sliding windows, sparse attention, and one line for what the
tool cannot express yet."""
from __future__ import annotations

import json

import pytest

from inference_arithmetic import cli, step
from inference_arithmetic.core.errors import CatalogError
from inference_arithmetic.hardware import gpus
from inference_arithmetic.model import config, kv, params

GPT_OSS = {"model_type": "gpt_oss", "hidden_size": 2880, "num_hidden_layers": 36, "num_attention_heads": 64,
           "num_key_value_heads": 8, "head_dim": 64, "num_local_experts": 128, "num_experts_per_tok": 4,
           "intermediate_size": 2880, "vocab_size": 201088, "sliding_window": 128, "tie_word_embeddings": False,
           "layer_types": ["sliding_attention", "full_attention"] * 18,
           "quantization_config": {"quant_method": "mxfp4"}}
MAVERICK = {"model_type": "llama4", "vision_config": {"hidden_size": 1408},
            "text_config": {"model_type": "llama4_text", "hidden_size": 5120, "num_hidden_layers": 48,
                            "num_attention_heads": 40, "num_key_value_heads": 8, "head_dim": 128,
                            "num_local_experts": 128, "num_experts_per_tok": 1, "intermediate_size": 8192,
                            "intermediate_size_mlp": 16384, "interleave_moe_layer_step": 2, "vocab_size": 202048}}
V32 = {"model_type": "deepseek_v32", "hidden_size": 7168, "num_hidden_layers": 61, "num_attention_heads": 128,
       "kv_lora_rank": 512, "q_lora_rank": 1536, "qk_rope_head_dim": 64, "qk_nope_head_dim": 128, "v_head_dim": 128,
       "intermediate_size": 18432, "moe_intermediate_size": 2048, "n_routed_experts": 256, "n_shared_experts": 1,
       "num_experts_per_tok": 8, "first_k_dense_replace": 3, "vocab_size": 129280, "num_nextn_predict_layers": 1,
       "index_topk": 2048, "index_n_heads": 64, "index_head_dim": 128, "quantization_config": {"quant_method": "fp8"}}


def test_a_multimodal_config_is_read_as_its_language_model():
    m = config.parse_config(MAVERICK, "maverick")
    assert (m.h, m.n_layers, m.n_experts, m.n_moe, m.n_shared) == (5120, 48, 128, 24, 1)
    assert params.count_params(m).total == pytest.approx(400e9, rel=0.01)   # Meta: 400B total parameters


def test_quantisation_is_the_default_weight_format():
    assert config.parse_config(GPT_OSS, "gpt-oss").weight_dtype == "mxfp4"
    assert config.parse_config(V32, "v32").weight_dtype == "fp8"
    assert config.parse_config({**V32, "quantization_config": None}, "v32").weight_dtype == ""
    with pytest.raises(CatalogError, match="quantization_config"):
        config.parse_config({**V32, "quantization_config": "fp8"}, "v32")


def test_sliding_window_layers_hold_and_read_only_their_window():
    m = config.parse_config(GPT_OSS, "gpt-oss")
    assert (m.family, m.window, m.n_window) == ("gqa+window", 128, 18)
    per_layer = kv.kv_bytes_per_token(m, "bf16") / m.n_layers           # 2 x 8 heads x 64 x 2 B
    held = float(kv.effective_context(m, 100_000, read=False)) * kv.kv_bytes_per_token(m, "bf16")
    assert held == pytest.approx(per_layer * (18 * 100_000 + 18 * 128))   # ~3.7 GB, not 7.4 GB
    assert float(kv.effective_context(m, 100, read=False)) == pytest.approx(100)   # inside the window: all of it
    mistral = config.parse_config({"model_type": "mistral", "hidden_size": 4096, "num_hidden_layers": 32,
                                   "num_attention_heads": 32, "num_key_value_heads": 8, "intermediate_size": 14336,
                                   "vocab_size": 32000, "sliding_window": 4096}, "mistral")
    assert (mistral.n_window, mistral.window) == (32, 4096)
    with pytest.raises(CatalogError, match="not supported yet: layer type"):
        config.parse_config({**GPT_OSS, "layer_types": ["chunked_attention"] * 36}, "x")
    with pytest.raises(CatalogError, match="one attention type per layer"):
        config.parse_config({**GPT_OSS, "layer_types": ["full_attention"] * 3}, "x")


def test_sol_for_a_moe_reads_the_experts_a_batch_touches(tmp_path, capsys):
    path = tmp_path / "gpt-oss.json"
    path.write_text(json.dumps(GPT_OSS))
    assert cli.main(["sol", "--model", str(path), "--gpu", "H200", "--context", "100000", "--batch", "1:64:63",
                     "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["weight_dtype"] == "mxfp4" and d["attention_family"] == "gqa+window"
    read = d["weight_bytes_read_per_step"]
    assert read[0] < read[1] < params.weight_bytes_ep(config.parse_config(GPT_OSS, "g"), 1, 0, 0.5 + 1 / 32)
    assert d["bandwidth_bound_tokens_per_s"][0] > 500          # not 41: one request reads 4 of 128 experts


def test_sparse_attention_is_recognised_and_bounded_by_what_it_reads():
    m = config.parse_config(V32, "v32")
    v3 = config.model("deepseek-v3")
    assert m.family == "mla+dsa" and m.index_topk == 2048
    assert kv.kv_bytes_per_token(m, "bf16") == kv.kv_bytes_per_token(v3, "bf16") + 61 * (128 + kv.INDEX_SCALE_BYTES)
    for ctx in (1_000, 10_000, 100_000):
        assert float(kv.effective_context(m, ctx)) < ctx or ctx <= 2048
    # from 10k to 100k tokens a step reads ~4x more, not 10x (the indexer keys grow, the top-k do not)
    growth = float(kv.effective_context(m, 100_000)) / float(kv.effective_context(m, 10_000))
    assert 3 < growth < 6
    u = step.unit(m, gpus.gpu("H800"), step.Layout(ep=144, redundant=32))   # in the step model since issue 22
    assert u.values["k_top"] == 2048 and u.values["S_idx"] == 61 * (128 + kv.INDEX_SCALE_BYTES)


@pytest.mark.parametrize("cfg, what", [({**V32, "compress_ratios": [4, 128]}, "compressed sparse attention"),
                                       ({**V32, "text_config": 3, "hidden_size": None}, "text_config")])
def test_what_cannot_be_expressed_yet_is_named(cfg, what):
    with pytest.raises(CatalogError, match=what):
        config.parse_config(cfg, "x")


def test_quantisation_fields_are_validated_like_every_config_field():
    with pytest.raises(CatalogError, match="quant_method must be a string"):
        config.parse_config({**V32, "quantization_config": {"quant_method": 8}}, "v32")


def test_a_stated_layout_spans_no_more_gpus_than_the_entry_states():
    """ep x moe_tp GPUs per instance (the catalog's convention): an entry that states both cannot exceed
    its own GPU count (a layout read as 64 GPUs for an 8-GPU server was a recording error)."""
    from inference_arithmetic.evidence import validation
    for key, e in validation.entries().items():
        lay = e.get("layout") or {}
        if lay.get("ep") and e.get("gpus_total"):
            assert lay["ep"] * (lay.get("moe_tp") or 1) <= e["gpus_total"], key
