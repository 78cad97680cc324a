"""Kernel rates measured on AMD GPUs (kernels.yaml family amd_instinct) on the GPU they were measured on, the
transfer rule everywhere else, and the output's `kernels` label saying which."""
import pytest

from inference_arithmetic.hardware import efficiency, gpus
from inference_arithmetic.hardware.kernel_tables import DEEPSEEK_KERNELS
from inference_arithmetic.model import config
from inference_arithmetic.step import Layout, unit

BASE = efficiency.efficiencies()


def _rows(gpu_key, kind, dtype=None):
    return [r for r in efficiency.measured_on(gpu_key) if r["kind"] == kind and r.get("dtype") == dtype]


def test_every_amd_row_names_a_catalog_amd_gpu_and_a_source():
    rows = efficiency.kernel_rows(efficiency.AMD_FAMILY)
    assert rows
    for r in rows:
        assert gpus.vendor(r["gpu"]) == "AMD" and r["src"] and r["published"]


def test_a_gpu_without_rows_keeps_the_transfer_rule():
    for g in gpus.gpus():
        if not efficiency.measured_on(g):
            assert efficiency.efficiencies(g) == BASE
            assert efficiency.kernels_label(g, DEEPSEEK_KERNELS) == DEEPSEEK_KERNELS


def test_mi300x_gemm_rates_are_capped_by_amds_max_achievable_gemm():
    g = gpus.gpu("MI300X")
    e = efficiency.efficiencies("MI300X")
    fp8 = max(r["tflops"] for r in _rows("MI300X", "gemm_max_achievable", "fp8")) * 1e12 / g.dense_fp8
    bf16 = max(r["tflops"] for r in _rows("MI300X", "gemm_max_achievable", "bf16")) * 1e12 / g.dense_bf16
    assert fp8 == pytest.approx(1273 / 2614.9, rel=1e-4)
    for k in ("gemm_flops", "grouped_flops", "contig_flops"):
        assert getattr(e, k).value == pytest.approx(min(getattr(BASE, k).value, fp8), rel=1e-5)
    for k in ("mla_flops", "prefill_attn_flops"):
        assert getattr(e, k).value == pytest.approx(min(getattr(BASE, k).value, bf16), rel=1e-5)
    assert e.gemm_flops.src == "amd-maf-blog" and e.grouped_flops == BASE.grouped_flops   # 0.469 < 0.487


def test_mi300x_memory_and_collectives_come_from_amds_measurements():
    g = gpus.gpu("MI300X")
    e = efficiency.efficiencies("MI300X")
    assert e.mla_bw.value == pytest.approx(4017e9 / g.hbm_bandwidth, rel=1e-5)   # SPX/NPS1, not CPX/NPS4
    assert e.allreduce.value == pytest.approx(318.98e9 / g.nvlink, rel=1e-5)
    assert e.allreduce.value < BASE.allreduce.value
    assert e.allreduce.src == "amd-rccl-xgmi-blog"
    assert 6e-6 <= e.latency_nvlink_s.value <= 7.7e-6
    assert e.a2a_normal_nvlink.value < BASE.a2a_normal_nvlink.value
    for k in ("a2a_ll_rdma", "a2a_normal_rdma", "imbalance_eplb", "mtp_accept", "kernel_floor_s"):
        assert getattr(e, k) == getattr(BASE, k)                                 # nothing measured: transferred


def test_a_ceiling_never_raises_a_transferred_rate():
    for g in gpus.gpus():
        mine, theirs = efficiency.efficiencies(g).as_dict(), BASE.as_dict()
        for k in ("gemm_flops", "grouped_flops", "contig_flops", "mla_flops", "prefill_attn_flops",
                  "mla_bw", "gemm_bw", "a2a_ll_nvlink", "a2a_normal_nvlink"):
            assert mine[k].value <= theirs[k].value


def test_the_kernels_label_of_a_unit_names_the_amd_source():
    m = config.model("llama-3.1-70b")
    lay = Layout(ep=8, attn_tp=8)
    u = unit(m, gpus.gpu("MI300X"), lay)
    assert u.kernels.startswith(DEEPSEEK_KERNELS) and "amd-maf-blog" in u.kernels and "the rest transferred" in u.kernels
    assert unit(m, gpus.gpu("H200"), lay).kernels == DEEPSEEK_KERNELS
    # MI355X: the best published FP8 GEMM (62.6 % of peak) is above the H800's 52.6 %, so GEMM stays transferred;
    # Oracle's rccl-tests set its all-reduce and all-to-all
    label = efficiency.kernels_label("MI355X", DEEPSEEK_KERNELS)
    assert "oci-mi355x-quickstart" in label and " GEMM" not in label.split("MI355X:")[1]
    e = efficiency.efficiencies("MI355X")
    assert e.gemm_flops == BASE.gemm_flops and e.allreduce.value == pytest.approx(408.80e9 / gpus.gpu("MI355X").nvlink)


def test_amd_rates_slow_an_mi300x_step():
    m = config.model("llama-3.1-70b")
    lay = Layout(ep=8, attn_tp=8)
    u = unit(m, gpus.gpu("MI300X"), lay)
    assert u.values["e_ar"] < BASE.allreduce.value and u.values["e_gfl"] < BASE.gemm_flops.value
