"""DeepSeek Sparse Attention and MXFP4 experts in the step model (issue 22): the formulas against
hand computations, the config fields read, the memory model holding the indexer's cache, the
MXFP4 compute rule per GPU, one line for what cannot be built, and bounds above measurements."""
from __future__ import annotations

import json

import numpy as np
import pytest

from inference_arithmetic import cli, step
from inference_arithmetic.core.errors import InputError
from inference_arithmetic.evidence import validation
from inference_arithmetic.hardware import gpus
from inference_arithmetic.model import config, dtypes, kv
from inference_arithmetic.step import sparse

V32, V3 = config.model("deepseek-v3.2"), config.model("deepseek-v3")
OSS = config.model("gpt-oss-120b")


def test_deepseek_v32_config_fields_are_read():
    m = V32
    assert (m.index_heads, m.index_dim, m.index_topk) == (64, 128, 2048)     # the public config.json
    assert m.family == "mla+dsa" and m.weight_dtype == "fp8" and step.unsupported(m) is None
    assert kv.index_key_bytes(m) == 128 + 4 and kv.index_key_bytes(V3) == 0
    broken = config.parse_config({**json.loads((config.DATA / "models" / "deepseek-v3.2.json").read_text()),
                                  "index_n_heads": 0}, "v32-no-heads")
    assert "index_n_heads" in step.unsupported(broken)


def test_indexer_flop_is_the_hand_count():
    # 61 layers x 64 heads x 2 FLOP x (128 score + 1 weight) MACs per query and context token
    assert sparse.attn_flop_index(n_layers=61, H_idx=64, flop_mac=2, d_idx=128) == 61 * 64 * 2 * 129 == 1_007_232
    u = step.unit(V32, gpus.gpu("H200"), step.layout_for(V32, gpus.gpu("H200"), 8))
    assert u.values["A_i"] == 1_007_232 and u.values["F_i"] == gpus.gpu("H200").dense_fp8


def test_decode_attention_time_is_the_hand_computation():
    g = gpus.gpu("H200")
    u = step.unit(V32, g, step.layout_for(V32, g, 8))
    v = u.values
    b, ctx = 32.0, 100_000.0
    lat = 61 * (512 + 64) * 2                                   # BF16 latents, all layers (B/token)
    idx = 61 * 132                                              # FP8 index keys and FP32 scales (B/token)
    core = max(b * 2048 * lat / (v["e_mbw"] * g.hbm_bandwidth),
               b * 2048 * v["A_f"] / (v["e_mfl"] * g.dense_bf16))
    indexer = max(b * ctx * idx / (v["e_mbw"] * g.hbm_bandwidth),
                  b * ctx * 1_007_232 / (v["e_mfl"] * g.dense_fp8))
    assert float(step.terms(u, b, ctx)["t_attn"]) == pytest.approx(core + indexer, rel=1e-12)
    assert v["S_kv"] == lat + idx


def test_dense_models_keep_their_attention_time():
    g = gpus.gpu("H800")
    u = step.unit(V3, g, step.Layout(ep=144, redundant=32))
    v = u.values
    assert v["k_top"] == np.inf and v["A_i"] == 0 and v["S_idx"] == 0
    b, ctx = 64.0, 5000.0
    want = max(b * ctx * v["S_kv"] / (v["e_mbw"] * g.hbm_bandwidth), b * ctx * v["A_f"] / (v["e_mfl"] * g.dense_bf16))
    assert float(step.terms(u, b, ctx)["t_attn"]) == pytest.approx(want, rel=1e-12)


def test_sparse_decode_attention_grows_far_less_than_dense():
    g = gpus.gpu("H200")
    grow = {}
    for m in (V3, V32):
        u = step.unit(m, g, step.layout_for(m, g, 8))
        t = [float(step.terms(u, 16.0, c)["t_attn"]) for c in (10_000.0, 100_000.0)]
        grow[m.name] = t[1] / t[0]
    assert grow["deepseek-v3"] == pytest.approx(10, rel=1e-9)
    assert grow["deepseek-v3.2"] < 5


def test_prefill_takes_the_cheaper_of_sparse_mla_and_masked_mha():
    g = gpus.gpu("H200")
    u = step.unit(V32, g, step.layout_for(V32, g, 8), "prefill")
    v = u.values
    assert v["A_f"] == 61 * 128 * 2 * (2 * 512 + 64)             # absorbed MLA over the top-k (sparse kernels)
    assert v["A_fm"] == 61 * 128 * 2 * (128 + 64 + 128)          # masked MHA: the unabsorbed prefill form
    for ctx in (1000.0, 100_000.0):
        t = float(step.terms(u, 1.0, ctx, s_q=4096.0)["t_attn"])
        core = 4096 * min(min(ctx, 2048) * v["A_f"], ctx * v["A_fm"]) / (v["e_mfl"] * g.dense_bf16)
        indexer = 4096 * ctx * v["A_i"] / (v["e_mfl"] * g.dense_fp8)
        assert t == pytest.approx(core + indexer, rel=1e-12)


def test_the_memory_model_holds_the_indexer_cache():
    g = gpus.gpu("H200")
    u = step.unit(V32, g, step.layout_for(V32, g, 8))
    assert float(step.memory(u, 1.0, 10_000.0)["kv"]) == pytest.approx(10_000 * 61 * (576 * 2 + 132))


@pytest.mark.parametrize("gpu, rate", [("H200", "bf16"), ("MI300X", "bf16"), ("B200", "fp8"), ("MI355X", "fp8")])
def test_mxfp4_experts_compute_at_the_stated_rate(gpu, rate):
    g = gpus.gpu(gpu)
    u = step.unit(OSS, g, step.layout_for(OSS, g, 1, precision=step.Precision(moe="mxfp4")))
    assert u.values["F_m"] == g.flops(rate) and u.values["b_mw"] == 0.53125


def test_mxfp4_is_the_default_for_gpt_oss_and_searched_only_for_it(capsys):
    assert step.default_moe_dtype(OSS.weight_dtype) == "mxfp4" and step.default_moe_dtype(V3.weight_dtype) == "fp8"
    assert "mxfp4" not in step.search_moe_dtypes(V3.weight_dtype) and step.search_moe_dtypes("mxfp4") == ("mxfp4",)
    assert step.search_moe_dtypes(V3.weight_dtype, ("mxfp4",)) == ("mxfp4",)       # pinned by the user
    assert step.MOE_DTYPES[:3] == ("bf16", "fp8", "nvfp4")                          # stored indices unchanged
    assert cli.main(["decode", "--model", "gpt-oss-120b", "--gpu", "H200", "--ep", "1", "--isl", "1024", "--osl",
                     "1024", "--batch", "8", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["layout"]["moe_dtype"] == "mxfp4"


def test_mxfp4_layouts_that_cannot_be_built_get_one_line(tmp_path, capsys):
    cfg = json.loads((config.DATA / "models" / "gpt-oss-120b.json").read_text())
    path = tmp_path / "odd.json"
    path.write_text(json.dumps({**cfg, "intermediate_size": 2888}))      # not whole 32-value scale blocks
    code = cli.main(["decode", "--model", str(path), "--gpu", "H200", "--ep", "1", "--isl", "1024", "--osl", "1024",
                     "--batch", "8"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "MXFP4 experts" in err and "2888" in err
    with pytest.raises(InputError, match="NVFP4 experts need a Blackwell"):
        step.unit(OSS, gpus.gpu("H200"), step.layout_for(OSS, gpus.gpu("H200"), 1, precision=step.Precision(moe="nvfp4")))


def test_new_families_are_predicted_and_bounded_above_their_measurements():
    preds = [p for p in validation.predict_all() if p.model in ("deepseek-v3.2", "gpt-oss-120b")]
    scored = [p for p in preds if p.expressible]
    assert sum(p.model == "deepseek-v3.2" for p in scored) >= 5 and sum(p.model == "gpt-oss-120b" for p in scored) >= 4
    for p in scored:
        assert p.predicted > 0
        if p.bound is not None:
            assert p.bound >= p.measured, p.id


def test_nvfp4_experts_are_refused_on_amd_and_mxfp4_runs_there(capsys):
    g = gpus.gpu("MI355X")
    assert g.dense_fp4 is not None                          # it has FP4 tensor cores, for the MX formats
    with pytest.raises(InputError, match="NVFP4 is NVIDIA's format"):
        step.unit(V3, g, step.layout_for(V3, g, 8, precision=step.Precision(moe="nvfp4")))
    assert step.unit(V3, g, step.layout_for(V3, g, 8, precision=step.Precision(moe="mxfp4"))).values["F_m"] == g.flops("fp8")
    code = cli.main(["decode", "--model", "deepseek-v3", "--gpu", "MI355X", "--ep", "8", "--isl", "2000", "--osl", "500",
                     "--per-user", "20", "--moe-dtype", "nvfp4"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "MXFP4" in err


def test_the_indexer_weights_are_counted_in_every_attention_layer():
    from inference_arithmetic.model import params
    v32, v3 = config.model("deepseek-v3.2"), config.model("deepseek-v3")
    # by hand (V3.2 inference/model.py, class Indexer): wq_b 1536 x (64 x 128), wk 7168 x 128,
    # weights_proj 7168 x 64, k_norm weight and bias 2 x 128
    per_layer = 1536 * 64 * 128 + 7168 * 128 + 7168 * 64 + 2 * 128
    assert per_layer == 13_959_424
    a, b = params.count_params(v32), params.count_params(v3)
    assert a.attention_per_layer - b.attention_per_layer == per_layer
    assert a.total - b.total == per_layer * v32.n_layers
