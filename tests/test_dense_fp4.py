"""Dense NVFP4 weights (a checkpoint quantising every linear layer: NVIDIA's Llama-3.1 FP4): NVFP4's bytes
per weight (block scales included) and the FP4 peak in the step model's inputs, the measured nvfp4 GEMM
table read, the checkpoint rule, one line and exit 2 on a GPU without FP4 tensor cores, and the two MLPerf
v6.0 Llama 3.1 405B entries predicted under their bounds."""
from __future__ import annotations

import json

import pytest

from inference_arithmetic import cli, step
from inference_arithmetic.core import fast
from inference_arithmetic.core.errors import InputError
from inference_arithmetic.evidence import validation
from inference_arithmetic.hardware import gpus
from inference_arithmetic.model import config, dtypes
from inference_arithmetic.serving import search

L405, L70, V3 = config.model("llama-3.1-405b"), config.model("llama-3.1-70b"), config.model("deepseek-v3")


def _unit(model, gpu, dense, tp=2, framework="trtllm"):
    L = step.Layout(ep=tp, attn_tp=tp, precision=step.Precision(moe="fp8", kv="fp8", dense_dtype=dense),
                    framework=framework)
    return step.unit(model, gpus.gpu(gpu), L)


def test_nvfp4_dense_weights_are_0_5625_bytes_against_fp8s_1_at_the_same_shapes():
    fp8, nv = _unit(L405, "GB300", "fp8"), _unit(L405, "GB300", "nvfp4")
    assert nv.values["b_dw"] == nv.values["b_aw"] == dtypes.BYTES["nvfp4"] == 0.5 + 1 / 16
    assert fp8.values["b_dw"] == fp8.values["b_aw"] == dtypes.BYTES["fp8"] == 1.0
    # the same shapes: every parameter count equal; without the BF16 head the resident weights scale by 0.5625
    assert all(nv.values[k] == fp8.values[k] for k in ("P_at", "P_ds", "P_hd", "h", "n_layers"))
    w = lambda u: float(fast.weights_resident_of(dict(u.values, P_hd=0.0)))  # noqa: E731
    assert w(nv) == pytest.approx(0.5625 * w(fp8), rel=1e-12)
    assert 0.5625 * fp8.weights_resident < nv.weights_resident < 0.6 * fp8.weights_resident   # head stays BF16


def test_nvfp4_dense_gemms_run_at_the_fp4_peak_and_read_the_measured_nvfp4_table():
    g = gpus.gpu("GB300")
    nv, fp8 = _unit(L405, "GB300", "nvfp4"), _unit(L405, "GB300", "fp8")
    assert nv.values["F_d"] == g.dense_fp4 and fp8.values["F_d"] == g.dense_fp8
    assert "dense GEMMs: trtllm" in nv.kernels and "(nvfp4," in nv.kernels
    assert "(fp8_tensor," in fp8.kernels
    # at the same batch the dense weights' term is shorter at NVFP4 than at FP8
    t_nv, t_fp8 = step.terms(nv, 64.0, 2000.0), step.terms(fp8, 64.0, 2000.0)
    assert float(t_nv["t_dense"]) < float(t_fp8["t_dense"])


def test_the_default_rule_is_unchanged_where_no_dense_dtype_is_stated():
    for moe, dense in (("fp8", "fp8"), ("nvfp4", "fp8"), ("bf16", "bf16"), ("mxfp4", "bf16")):
        assert step.Precision(moe=moe).dense == dense
    assert step.Precision(moe="nvfp4", dense_dtype="NVFP4").dense == "nvfp4"
    with pytest.raises(InputError, match="dense dtype"):
        step.Precision(dense_dtype="int4")


@pytest.mark.parametrize("gpu", ["H100", "H200", "MI300X", "MI355X"])
def test_nvfp4_dense_is_refused_where_the_gpu_has_no_nvfp4_tensor_cores(gpu):
    g = gpus.gpu(gpu)
    L = step.Layout(ep=8, attn_tp=8, precision=step.Precision(dense_dtype="nvfp4"))
    why = step.layout_error(L70, g, L)
    assert why and "NVFP4" in why and "--dense-dtype fp8" in why
    with pytest.raises(InputError):
        step.unit(L70, g, L)
    assert step.dense_dtype_error(gpus.gpu("B200"), "nvfp4") is None
    assert step.dense_dtype_error(g, "fp8") is None


@pytest.mark.parametrize("argv", [
    ["decode", "--isl", "1000", "--osl", "100", "--batch", "8"],
    ["prefill"],
    ["serve", "--mode", "agg", "--isl", "1000", "--osl", "100", "--max-throughput"],
])
def test_every_command_refuses_nvfp4_dense_on_h100_in_one_line(argv, capsys):
    layout = [] if argv[0] == "serve" else ["--ep", "8", "--attn", "tp", "--attn-tp", "8"]
    code = cli.main([*argv, "--model", "llama-3.1-70b", "--gpu", "H100", *layout, "--dense-dtype", "nvfp4"])
    out, err = capsys.readouterr()
    assert code == 2 and not out and err.count("\n") == 1 and "no FP4 tensor cores" in err, err


def test_the_dense_dtype_flag_reaches_the_unit(capsys):
    base = ["decode", "--model", "llama-3.1-405b", "--gpu", "B300", "--ep", "2", "--attn", "tp", "--attn-tp", "2",
            "--isl", "1000", "--osl", "1000", "--batch", "32", "--kv-dtype", "fp8", "--json"]
    got = {}
    for d in ("fp8", "nvfp4"):
        assert cli.main([*base, "--dense-dtype", d]) == 0
        got[d] = json.loads(capsys.readouterr().out)
        assert got[d]["layout"]["dense_dtype"] == d
    assert got["nvfp4"]["memory_bytes"]["weights"] < 0.6 * got["fp8"]["memory_bytes"]["weights"]
    assert got["nvfp4"]["tokens_per_s_per_gpu"] > got["fp8"]["tokens_per_s_per_gpu"]


def test_a_dense_model_read_at_nvfp4_by_sol_holds_nvfp4_bytes(capsys):
    base = ["sol", "--model", "llama-3.1-70b", "--gpu", "B200", "--ep", "1", "--context", "2000", "--json"]
    w = {}
    for d in ("fp8", "nvfp4"):
        assert cli.main([*base, "--weight-dtype", d]) == 0
        w[d] = json.loads(capsys.readouterr().out)["weight_bytes_resident"]
    assert 0.5625 * w["fp8"] < w["nvfp4"] < 0.6 * w["fp8"]


def _cfg(quant: dict | None, base: str = "llama-3.1-70b") -> config.Model:
    c = json.loads((config.DATA / "models" / f"{base}.json").read_text())
    if quant is not None:
        c["quantization_config"] = quant
    return config.parse_config(c, f"{base}-q")


def test_a_checkpoint_quantising_every_linear_layer_to_nvfp4_selects_dense_nvfp4():
    # NVIDIA ModelOpt's Llama-3.1 FP4 checkpoints: quant_algo NVFP4, only lm_head excluded
    m = _cfg({"quant_method": "modelopt", "quant_algo": "NVFP4", "exclude_modules": ["lm_head"]})
    assert (m.weight_dtype, m.dense_weight_dtype) == ("nvfp4", "nvfp4")
    # attention left out (DeepSeek-R1-FP4: only the routed experts NVFP4): the dense layers follow the rule
    part = _cfg({"quant_method": "modelopt", "quant_algo": "NVFP4",
                 "exclude_modules": ["lm_head", "model.layers.*.self_attn*"]})
    assert (part.weight_dtype, part.dense_weight_dtype) == ("nvfp4", "")
    assert _cfg({"quant_method": "fp8"}).dense_weight_dtype == "" and L405.dense_weight_dtype == ""
    # the checkpoint's rule reaches the search: every unit it builds holds NVFP4 dense weights
    units = search.decode_units(m, gpus.gpu("B200"), search.Space(moe_dtypes=("fp8",), kv_dtypes=("fp8",), mtp=(0,),
                                                                 decode_ep=(8,)))
    assert units and all(u.layout.precision.dense == "nvfp4" for u in units)
    assert not search.decode_units(m, gpus.gpu("H100"), search.Space(moe_dtypes=("fp8",), decode_ep=(8,)))


def test_the_llama_405b_mlperf_v60_offline_entries_are_predicted_under_their_bounds():
    for key in ("mlperf60-gb300-72-llama405b-offline", "mlperf60-b300-8-llama405b-offline"):
        p = validation.predict(key)
        assert p.expressible and p.predicted > 0, key
        assert p.bound >= p.measured, (key, p.bound, p.measured)   # the model's own bound above the measurement
        assert any("NVFP4 dense weights" in r for r in p.assumptions), key
