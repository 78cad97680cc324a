"""Per-operation efficiencies, read from published kernel microbenchmarks (the calibration set).

Each efficiency is a fraction of a datasheet peak, read from ``data/kernels.yaml``
(FlashMLA, DeepGEMM, DeepEP, NCCL tests, EPLB and MTP statistics) by a rule stated
here next to it: which rows, which statistic (the median), which peak.  The
published kernels were measured on the H800 (``CALIBRATION_GPU``); the **transfer
rule** carries each fraction of peak unchanged to every other GPU ("the same fraction
of peak as the nearest generation measured").  The validation chapter shows what the
rule costs by comparing errors on Hopper and Blackwell measurements.

**Kernel rates measured on AMD GPUs** (``kernels.yaml`` family ``amd_instinct``, published by AMD
and Oracle: max-achievable GEMM, HBM stream, RCCL all-reduce, xGMI all-to-all, each on one GPU) are used on that GPU
(:func:`efficiencies` with its name): a max-achievable or stream rate is a ceiling, so it caps the
transferred fraction (``min``); the RCCL all-reduce bus bandwidth and small-message latency are the
statistic the H800 rule reads from NCCL, so they replace it.  Every rate with no AMD row keeps the
transfer rule, and :func:`kernels_label` says which is which.

Nothing here is fitted to a system-level serving measurement.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np

from inference_arithmetic.core.cited import read_yaml
from inference_arithmetic.core.stats import median
from inference_arithmetic.hardware.gpus import gpu
from inference_arithmetic.core.errors import CatalogError

__all__ = ["Efficiency", "Efficiencies", "CALIBRATION_GPU", "efficiencies", "kernel_rows",
           "unbalanced_points", "source_rows", "measured_on", "kernels_label", "AMD_FAMILY"]

#: The GPU the published kernel tables were measured on.
CALIBRATION_GPU = "H800"
#: the kernels.yaml family of kernel microbenchmarks measured on AMD GPUs (by AMD and Oracle)
AMD_FAMILY = "amd_instinct"


@dataclass(frozen=True)
class Efficiency:
    """A fraction of a datasheet peak with its provenance: source key, rule and the rows used."""

    value: float
    src: str
    rule: str
    samples: tuple = ()

    def __float__(self) -> float:
        return self.value


@dataclass(frozen=True)
class Efficiencies:
    """Every per-operation efficiency of the step model (fractions of the GPU's peaks).

    ``mla_bw``/``mla_flops``: decode attention (FlashMLA) against HBM bandwidth and BF16 peak;
    ``gemm_bw``: weight streaming of small-M GEMMs (DeepGEMM, M <= 128) against HBM bandwidth, and
    ``kernel_floor_s``: the fixed time of one kernel (s), both from a line through those rows;
    ``gemm_flops``: large-M dense GEMMs (M = 4096) against the FP8 peak;
    ``grouped_flops``: masked grouped GEMMs of decode experts; ``contig_flops``: contiguous
    grouped GEMMs of prefill experts; ``a2a_ll_*``: DeepEP low-latency dispatch/combine (decode)
    over the scale-out NIC and over NVLink; ``a2a_normal_*``: DeepEP normal kernels (prefill);
    ``allreduce``: NCCL all-reduce bus bandwidth against NVLink; ``latency_nvlink_s``: small
    collective latency; ``prefill_attn_flops``: prefill attention against the BF16 peak;
    ``imbalance_eplb``: max/mean expert load per GPU with redundant experts (EPLB);
    ``mtp_accept``: acceptance of the first draft token; ``comm_sm_share``: SMs a normal-mode
    communication kernel takes from computation while overlapped.
    """

    mla_bw: Efficiency
    mla_flops: Efficiency
    gemm_bw: Efficiency
    kernel_floor_s: Efficiency
    gemm_flops: Efficiency
    grouped_flops: Efficiency
    contig_flops: Efficiency
    prefill_attn_flops: Efficiency
    a2a_ll_rdma: Efficiency
    a2a_ll_nvlink: Efficiency
    a2a_normal_rdma: Efficiency
    a2a_normal_nvlink: Efficiency
    allreduce: Efficiency
    latency_nvlink_s: Efficiency
    imbalance_eplb: Efficiency
    mtp_accept: Efficiency
    comm_sm_share: Efficiency

    def as_dict(self) -> dict[str, Efficiency]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@lru_cache(maxsize=None)
def _kernels() -> dict:
    return read_yaml("kernels.yaml")


def kernel_rows(family: str, keep: Callable[[dict], bool] = lambda r: True) -> list[dict]:
    """Rows of a kernel family of ``data/kernels.yaml`` that pass ``keep``."""
    table = _kernels()
    if family not in table:
        raise CatalogError(f"kernels.yaml has no family {family!r}")
    return [r for r in table[family]["rows"] if keep(r)]


def _src(family: str) -> str:
    return _kernels()[family]["src"]


def _median(values: list[float], what: str) -> float:
    if not values:
        raise CatalogError(f"kernels.yaml: no rows for {what}")
    return median(values)


@lru_cache(maxsize=None)
def _calibration() -> Efficiencies:
    g = gpu(CALIBRATION_GPU)
    bw, bf16, fp8 = g.hbm_bandwidth / 1e9, g.dense_bf16 / 1e12, g.dense_fp8 / 1e12
    nvl, nic = g.nvlink / 1e9, g.scale_out / 1e9
    readme = lambda r: "src" not in r and "kind" not in r  # noqa: E731  (the README table itself)

    def eff(value, family, rule, samples=()):
        return Efficiency(float(f"{float(value):.6g}"), _src(family), rule, tuple(samples))

    mla = kernel_rows("flashmla", lambda r: r.get("kernel") == "dense_decode" and "src" not in r)
    mla_bw = max(r["gb_per_s"] for r in mla if "gb_per_s" in r)
    mla_fl = max(r["tflops"] for r in mla if "tflops" in r)
    small = kernel_rows("deepgemm_dense", lambda r: readme(r) and r["m"] <= 128)
    # a weight GEMM at small M streams its bytes: time = floor + bytes / (eta * peak); a least-squares
    # line through the published rows gives the floor (intercept) and the achieved bandwidth (slope)
    nbytes = np.array([r["n"] * r["k"] + r["m"] * r["k"] + 2 * r["m"] * r["n"] for r in small], dtype=float)
    secs = nbytes / (np.array([r["gb_per_s"] for r in small], dtype=float) * 1e9)
    (floor_s, inv_bw), *_ = np.linalg.lstsq(np.vstack([np.ones_like(nbytes), nbytes]).T, secs, rcond=None)
    dense_small = [r["gb_per_s"] for r in small]
    dense_large = [r["tflops"] for r in kernel_rows("deepgemm_dense", lambda r: readme(r) and r["m"] >= 4096)]
    masked = [r["tflops"] for r in kernel_rows("deepgemm_grouped_masked", readme)]
    contig = [r["tflops"] for r in kernel_rows("deepgemm_grouped_contiguous", readme)]
    prefill_attn = [r["tflops"] for r in kernel_rows(
        "flashmla", lambda r: r.get("kernel") == "sparse_prefill" and "gpu" not in r)]
    ll = kernel_rows("deepep_low_latency", lambda r: str(r.get("version")) == "2025-06-05")
    ll_rdma = [r[k] for r in ll if r["ep"] >= 64 for k in ("dispatch_gb_per_s", "combine_gb_per_s")]
    ll_nvl = [r[k] for r in ll if r["ep"] == 8 for k in ("dispatch_gb_per_s", "combine_gb_per_s")]
    normal = kernel_rows("deepep_normal", lambda r: r.get("type") in ("intranode", "internode")
                         and "superseded" not in str(r.get("note", "")))
    n_rdma = [r[k] for r in normal if r["type"] == "internode" for k in ("dispatch_gb_per_s", "combine_gb_per_s")]
    n_nvl = [r[k] for r in normal if r["type"] == "intranode" for k in ("dispatch_gb_per_s", "combine_gb_per_s")]
    ring = [r["busbw_gb_per_s"] for r in kernel_rows("nccl", lambda r: r.get("collective") == "ring_or_non_allreduce")]
    line = [r["gb_per_s"] for r in kernel_rows("nccl", lambda r: r.get("collective") == "nvlink_line_rate")]
    lat = [r["latency_us"] for r in kernel_rows("nccl", lambda r: "latency_us" in r)]
    eplb = [r["imbalance_ratio"] for r in kernel_rows(
        "eplb_imbalance", lambda r: r.get("config") == "offline_eplb" and r.get("by") == "rank")]
    mtp = kernel_rows("mtp_acceptance", lambda r: "acceptance_low" in r)[0]
    sms = kernel_rows("comm_sms")[0]
    return Efficiencies(
        mla_bw=eff(mla_bw / bw, "flashmla", f"FlashMLA dense decode, best published {mla_bw:g} GB/s / {bw:g} GB/s"),
        mla_flops=eff(mla_fl / bf16, "flashmla", f"FlashMLA dense decode, best published {mla_fl:g} TFLOP/s / "
                                                 f"{bf16:g} BF16 peak"),
        gemm_bw=eff(1 / inv_bw / 1e9 / bw, "deepgemm_dense",
                    f"DeepGEMM dense FP8, the {len(small)} rows with M <= 128: time = floor + bytes / bandwidth, "
                    f"least squares; achieved {1 / inv_bw / 1e9:,.0f} GB/s / {bw:g}", dense_small),
        kernel_floor_s=eff(floor_s, "deepgemm_dense",
                           f"DeepGEMM dense FP8, same fit: the time a kernel takes beyond its bytes "
                           f"({floor_s * 1e6:.2f} us; launch, ramp-up and tail)", dense_small),
        gemm_flops=eff(_median(dense_large, "gemm_flops") / fp8, "deepgemm_dense",
                       f"DeepGEMM dense FP8, median TFLOP/s of the {len(dense_large)} rows with M = 4096 / {fp8:g}",
                       dense_large),
        grouped_flops=eff(_median(masked, "grouped") / fp8, "deepgemm_grouped_masked",
                          f"DeepGEMM masked grouped FP8 (decode experts), median of {len(masked)} rows / {fp8:g}",
                          masked),
        contig_flops=eff(_median(contig, "contig") / fp8, "deepgemm_grouped_contiguous",
                         f"DeepGEMM contiguous grouped FP8 (prefill experts), median of {len(contig)} rows / {fp8:g}",
                         contig),
        prefill_attn_flops=eff(_median(prefill_attn, "prefill attention") / bf16, "flashmla",
                               f"FlashMLA prefill attention kernel (H800), {prefill_attn[0]:g} TFLOP/s / {bf16:g}",
                               prefill_attn),
        a2a_ll_rdma=eff(_median(ll_rdma, "ll rdma") / nic, "deepep_low_latency",
                        f"DeepEP low-latency dispatch and combine at EP >= 64 (RDMA), median GB/s / {nic:g} GB/s NIC",
                        ll_rdma),
        a2a_ll_nvlink=eff(_median(ll_nvl, "ll nvlink") / nvl, "deepep_low_latency",
                          f"DeepEP low-latency dispatch and combine at EP8 (NVLink), median GB/s / {nvl:g} GB/s",
                          ll_nvl),
        a2a_normal_rdma=eff(min(1.0, _median(n_rdma, "normal rdma") / nic), "deepep_normal",
                            f"DeepEP normal internode kernels (latest rows), median GB/s / {nic:g} GB/s NIC, "
                            f"capped at the line rate (DeepEP's accounting reports slightly above it)", n_rdma),
        a2a_normal_nvlink=eff(_median(n_nvl, "normal nvlink") / nvl, "deepep_normal",
                              f"DeepEP normal intranode kernels, median GB/s / {nvl:g} GB/s", n_nvl),
        allreduce=eff(_median(ring, "ring") / _median(line, "line rate"), "nccl",
                      "NCCL ring all-reduce effective bus bandwidth / NVLink line rate (8x H100)", ring),
        latency_nvlink_s=eff(_median(lat, "latency") * 1e-6, "nccl",
                             "NCCL small-message all-reduce latency over NVLink (s)", lat),
        imbalance_eplb=eff(1 + _median(eplb, "eplb"), "eplb_imbalance",
                           "max/mean routed tokens per GPU with redundant experts (EPLB), 1 + median "
                           "(max-mean)/mean of the published EP32/EP36 rows", eplb),
        mtp_accept=eff((mtp["acceptance_low"] + mtp["acceptance_high"]) / 2, "mtp_acceptance",
                       "acceptance of the first MTP draft token, middle of the published 85-90 % range"),
        comm_sm_share=eff(sms["sms"] / sms["sms_total"], "comm_sms",
                          f"{sms['sms']} of the H800's {sms['sms_total']} SMs run the all-to-all kernels while "
                          f"they overlap computation"),
    )


def efficiencies(gpu_name: str | None = None) -> Efficiencies:
    """Efficiencies for ``gpu_name``: the calibration GPU's fractions of peak (the transfer rule),
    with the rates measured on ``gpu_name`` itself where ``kernels.yaml`` has them (AMD GPUs, see
    the module docstring); ``None``: the transfer rule alone."""
    if gpu_name is None:
        return _calibration()
    return _on_gpu(gpu(gpu_name).key)  # unknown GPUs raise CatalogError


#: (kernels.yaml kind, dtype) -> the efficiencies a measured ceiling of that kind caps
_CAPS = {("gemm_max_achievable", "fp8"): ("gemm_flops", "grouped_flops", "contig_flops"),
         ("gemm_max_achievable", "bf16"): ("mla_flops", "prefill_attn_flops"),
         ("hbm_stream", None): ("mla_bw", "gemm_bw"),
         ("xgmi_all_to_all", None): ("a2a_ll_nvlink", "a2a_normal_nvlink")}


@lru_cache(maxsize=None)
def measured_on(gpu_key: str) -> tuple:
    """The rows of the AMD kernel family measured on ``gpu_key`` (empty for every other GPU)."""
    return tuple(kernel_rows(AMD_FAMILY, lambda r: r.get("gpu") == gpu_key))


@lru_cache(maxsize=None)
def _on_gpu(gpu_key: str) -> Efficiencies:
    base = _calibration()
    rows = measured_on(gpu_key)
    if not rows:
        return base
    g = gpu(gpu_key)
    peak = {"fp8": g.dense_fp8, "bf16": g.dense_bf16}
    out = base.as_dict()

    for (kind, dtype), names in _CAPS.items():
        # rows of this kind and dtype; a partitioned-mode measurement (CPX) is not how a GPU serves
        sel = [r for r in rows if r["kind"] == kind and r.get("dtype") == dtype
               and "CPX" not in str(r.get("mode", ""))]
        if not sel:
            continue
        if kind == "gemm_max_achievable":
            top = max(sel, key=lambda r: r["tflops"])
            frac, what = top["tflops"] * 1e12 / peak[dtype], f"{top['tflops']:g} TFLOP/s {dtype.upper()} max-achievable GEMM"
            denom = f"{peak[dtype] / 1e12:g} TFLOP/s dense peak"
        else:
            col = [r["gb_per_s"] for r in sel]
            v = _median(col, f"{kind} on {gpu_key}")
            ref = g.hbm_bandwidth if kind == "hbm_stream" else g.nvlink
            frac, top = v * 1e9 / ref, sel[0]
            what = f"median {v:g} GB/s {'HBM stream copy' if kind == 'hbm_stream' else 'xGMI all-to-all'}"
            denom = f"{ref / 1e9:g} GB/s"
        for n in names:
            e = out[n]
            if frac < e.value:
                out[n] = Efficiency(float(f"{frac:.6g}"), top["src"],
                                    f"{gpu_key}: {what} / {denom} caps the transfer rule's {e.value:.3g} ({e.src})",
                                    e.samples)
    ar = [r["busbw_gb_per_s"] for r in rows if r["kind"] == "allreduce_busbw"]
    if ar:
        top = max(ar)
        src = next(r["src"] for r in rows if r["kind"] == "allreduce_busbw")
        out["allreduce"] = Efficiency(float(f"{top * 1e9 / g.nvlink:.6g}"), src,
                                      f"{gpu_key}: RCCL all-reduce bus bandwidth at the largest size, {top:g} GB/s / "
                                      f"{g.nvlink / 1e9:g} GB/s xGMI line rate", tuple(ar))
    lat = [r["latency_us"] for r in rows if r["kind"] == "allreduce_latency"]
    if lat:
        src = next(r["src"] for r in rows if r["kind"] == "allreduce_latency")
        out["latency_nvlink_s"] = Efficiency(float(f"{_median(lat, 'latency') * 1e-6:.6g}"), src,
                                             f"{gpu_key}: RCCL small-message all-reduce latency with HIP graphs, "
                                             f"median of {len(lat)} sizes (s)", tuple(lat))
    return Efficiencies(**out)


#: what each efficiency a rate measured on the GPU can set is, in the kernels label
_WHAT = {"gemm_flops": "GEMM", "grouped_flops": "GEMM", "contig_flops": "GEMM", "mla_flops": "attention",
         "prefill_attn_flops": "attention", "mla_bw": "HBM", "gemm_bw": "HBM", "a2a_ll_nvlink": "xGMI all-to-all",
         "a2a_normal_nvlink": "xGMI all-to-all", "allreduce": "all-reduce", "latency_nvlink_s": "all-reduce"}


@lru_cache(maxsize=4096)
def kernels_label(gpu_key: str, base: str) -> str:
    """``base`` (the kernels a unit runs, in words), with the rates measured on ``gpu_key`` itself
    named where there are any: what they set and their sources; the rest keeps the transfer rule."""
    if not measured_on(gpu_key):
        return base
    mine, theirs = _on_gpu(gpu_key).as_dict(), _calibration().as_dict()
    changed = [k for k in mine if mine[k] != theirs[k]]
    if not changed:
        return f"{base}; {gpu_key}: the rates measured on it lower no transferred one"
    what = ", ".join(dict.fromkeys(_WHAT[k] for k in changed))
    srcs = ", ".join(sorted({mine[k].src for k in changed}))
    return f"{base}; {gpu_key}: measured {what} rates ({srcs}), the rest transferred"


@lru_cache(maxsize=None)
def unbalanced_points() -> tuple[float, float, float]:
    """The two published load-imbalance points without redundant experts:
    ``(ratio at one expert per slot, ratio per GPU, experts per GPU)`` ((max-mean)/mean)."""
    rows = kernel_rows("eplb_imbalance", lambda r: r.get("config") == "no_eplb" and "layer" not in r)
    slot = next(r for r in rows if r["by"] == "expert_slot")
    rank = next(r for r in rows if r["by"] == "rank")
    return float(slot["imbalance_ratio"]), float(rank["imbalance_ratio"]), float(rank["slots_per_rank"])


def source_rows(cite) -> list[dict]:
    """One row per kernel family of the calibration set: what it measures and every source it
    cites (``cite`` formats a list of references.bib keys)."""
    rows = []
    for family, t in _kernels().items():
        keys = [t["src"]] + sorted({r["src"] for r in t["rows"] if "src" in r} - {t["src"]})
        rows.append({"family": family.replace("_", " "), "GPU": str(t.get("gpu", "")), "published": str(t.get("published", "")),
                     "rows": len(t["rows"]), "sources": cite(keys)})
    return rows
