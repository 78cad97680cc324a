"""Measured grouped-MoE-GEMM latencies per serving framework (``data/aiconfigurator_kernels.csv.gz``).

The table is NVIDIA's kernel microbenchmarks shipped in aiconfigurator-core (Apache-2.0; the
extraction and its notice: ``scripts/extract_kernel_tables.py``, ``data/aiconfigurator_kernels.yaml``),
for TensorRT-LLM, SGLang and vLLM on H100, H200, B200, B300, GB200 and GB300 at DeepSeek-V3's expert
shape.  They are kernel measurements, a calibration input like DeepSeek's own tables; nothing here is
fitted to a system-level serving measurement.

Rule for which curve a (GPU, framework, dtype, EP) reads (:func:`moe_curve`): the framework's newest
version that measured the dtype on that GPU, balanced routing (the step model adds its own load
imbalance), the measured EP size nearest to the unit's (in log2) among those that pass a peak check (:func:`_physical`: read with the framework's token
convention, no point implies more FLOP/s or HBM bandwidth than the datasheet; a curve that fails is
not used; the curve enters the step model as
an efficiency relative to the model's own time at the measured EP, so the nearest EP carries its
kernel efficiency, not its time).  Token counts are read as tokens of the expert-parallel group
entering the layer: trtllm's ``num_tokens`` already is (its latency falls as 1/EP at a fixed count),
sglang's and vllm's is per GPU (their latency hardly moves with EP at a fixed count: each GPU's
experts receive num_tokens x top-k pairs), so it is multiplied by the EP size.  That reading is
inferred from the data, not documented by the package, and it is not clean: read so, the sglang and
vllm curves at EP <= 16 (and some at EP >= 128) imply more HBM bandwidth or FLOP/s than the GPU has,
and the peak check drops them; aiconfigurator's current collector code builds a rank-local workload
from global tokens with remote selections masked, which would make their weak EP dependence a
masked-work cost of the single-GPU benchmark instead.  TensorRT-LLM's NVFP4 curves (two kernel
sources) fall with EP only up to EP 8.  Until the collectors' convention is pinned down per version,
predictions with ``sglang``/``vllm`` tables carry that uncertainty.  ``deepseek`` reads no table: DeepSeek's own kernels
(``data/kernels.yaml``) by the transfer rule of :mod:`.efficiency`.
"""
from __future__ import annotations

import csv
import gzip
import io
import math
import re
from dataclasses import dataclass
from functools import lru_cache


from inference_arithmetic.core.cited import DATA
from inference_arithmetic.core.errors import InputError
from inference_arithmetic.hardware.gpus import gpu
from inference_arithmetic.model.dtypes import BYTES, FLOP_DTYPE

__all__ = ["FRAMEWORKS", "DEFAULT_FRAMEWORK", "MoECurve", "moe_curve", "framework_name", "TABLE_DTYPE", "rule",
           "DEEPSEEK_KERNELS"]

#: what a unit without a framework table runs its routed experts at (the transfer rule)
DEEPSEEK_KERNELS = "deepseek kernels (DeepGEMM, H800), transfer rule: the same fraction of peak on every GPU"

#: what a non-deepseek framework reads besides its MoE table (per unit: :mod:`.step.curves` names each)
OTHER_TABLES = ("; dense GEMMs, decode and prefill attention, all-reduces and dispatch/combine: its tables where "
                "measured, else the transfer rule")
#: serving frameworks the step model can be asked for; ``deepseek``: DeepSeek's own kernels
FRAMEWORKS = ("deepseek", "sglang", "trtllm", "vllm")
DEFAULT_FRAMEWORK = "deepseek"
#: the book's MoE dtypes as the table names them
TABLE_DTYPE = {"fp8": "fp8_block", "nvfp4": "nvfp4", "bf16": "bfloat16"}
#: frameworks whose tables count tokens per GPU (the group's tokens = num_tokens x EP)
PER_GPU_TOKENS = ("sglang", "vllm")
#: the expert shape the table measures (DeepSeek-V3/R1): hidden, expert width, experts, top-k
SHAPE = (7168, 2048, 256, 8)


def framework_name(value) -> str:
    """``value`` as one of :data:`FRAMEWORKS` (case-insensitive), else an InputError."""
    v = str(value).lower()
    if v not in FRAMEWORKS:
        raise InputError(f"unknown framework {str(value)[:40]!r}: use {', '.join(FRAMEWORKS)}")
    return v


@dataclass(frozen=True)
class MoECurve:
    """One measured curve: the time of one MoE layer's grouped GEMMs (s) against the tokens of the
    expert-parallel group entering it, at ``ep`` GPUs, with where it comes from."""

    gpu: str
    framework: str
    version: str
    dtype: str
    ep: int
    tokens: tuple
    seconds: tuple
    source_file: str
    package_version: str

    @property
    def label(self) -> str:
        return f"{self.framework} {self.version} {self.gpu} table (EP{self.ep}, {self.dtype})"


def _version_key(v: str) -> tuple:
    return tuple(int(x) for x in re.findall(r"\d+", v))


@lru_cache(maxsize=None)
def _moe_rows() -> dict:
    """(gpu, framework, dtype) -> version -> ep -> sorted [(tokens, seconds)], balanced routing only:
    per kernel source the median of repeated rows, then the fastest kernel source at each token count
    (a framework with several MoE backends, e.g. TensorRT-LLM's CUTLASS and min-latency NVFP4
    kernels, runs the faster); and the source file and package version of each (gpu, framework, version)."""
    import statistics   # only when a framework's table is read: not on the path of DeepSeek's kernels
    acc: dict = {}
    src: dict = {}
    with io.TextIOWrapper(gzip.open(DATA / "aiconfigurator_kernels.csv.gz"), encoding="utf-8", newline="") as f:
        head = next(csv.reader([f.readline()]))
        lines = [line for line in f if line.startswith("moe,") and ",balanced," in line]
    for r in csv.DictReader(lines, fieldnames=head):
        if r["op"] != "moe" or r["distribution"] != "balanced":
            continue
        key = (r["gpu"], r["framework"], r["dtype"])
        acc.setdefault(key, {}).setdefault(r["version"], {}).setdefault(int(r["ep"]), {}) \
            .setdefault(int(r["num_tokens"]), {}).setdefault(r["kernel_source"], []) \
            .append(float(r["latency_ms"]) * 1e-3)
        src[(r["gpu"], r["framework"], r["version"])] = (r["source_file"], r["package_version"])
    out = {k: {ver: {ep: sorted((n, min(statistics.median(t) for t in by_src.values())) for n, by_src in pts.items())
                     for ep, pts in eps.items()}
               for ver, eps in vers.items()} for k, vers in acc.items()}
    return {"curves": out, "sources": src}


def _physical(gpu_key: str, framework: str, dtype: str, ep: int, pts) -> bool:
    """Whether a measured curve, read with its framework's token convention, stays within the GPU's
    datasheet peaks at every point: the FLOP of the token-expert pairs each GPU receives, and the
    weights of the local experts they can touch (at most one expert per pair), over the time."""
    g = gpu(gpu_key)
    h, d_e, n_exp, top_k = SHAPE
    per_gpu = framework in PER_GPU_TOKENS
    for n, t in pts:
        pairs = n * top_k if per_gpu else n * top_k / ep
        flops = 2 * 3 * h * d_e * pairs / t
        nbytes = min(n_exp / ep, pairs) * 3 * h * d_e * BYTES[dtype] / t
        if flops > g.flops(FLOP_DTYPE[dtype]) or nbytes > g.hbm_bandwidth:
            return False
    return True


@lru_cache(maxsize=512)
def moe_curve(gpu_key: str, framework: str, dtype: str, ep: int, shape: tuple) -> MoECurve | None:
    """The measured curve for ``framework`` on ``gpu_key`` at MoE dtype ``dtype`` (the book's name)
    and the EP size nearest to ``ep``, or ``None`` where there is none (the framework ``deepseek``,
    a GPU or dtype the table does not cover, an expert shape other than DeepSeek-V3's)."""
    if framework == DEFAULT_FRAMEWORK or tuple(shape) != SHAPE or dtype not in TABLE_DTYPE:
        return None
    data = _moe_rows()
    vers = data["curves"].get((gpu_key, framework, TABLE_DTYPE[dtype]))
    if not vers:
        return None
    version = max(vers, key=_version_key)
    eps = {e: pts for e, pts in vers[version].items() if _physical(gpu_key, framework, dtype, e, pts)}
    if not eps:
        return None
    near = min(eps, key=lambda e: (abs(math.log2(e) - math.log2(max(ep, 1))), e))
    pts = eps[near]
    source, pkg = data["sources"][(gpu_key, framework, version)]
    scale = near if framework in PER_GPU_TOKENS else 1
    return MoECurve(gpu_key, framework, version, TABLE_DTYPE[dtype], near, tuple(n * scale for n, _ in pts),
                    tuple(t for _, t in pts), source, pkg)


def rule(gpu_key: str, framework: str, dtype: str, shape: tuple) -> str:
    """The kernels the step model uses for routed experts of ``shape`` (hidden, expert width, experts,
    top-k) at ``dtype`` on ``gpu_key`` under ``framework``, in words (the EP size left out: the
    nearest measured one is used per unit)."""
    if framework == DEFAULT_FRAMEWORK:
        return DEEPSEEK_KERNELS
    c = moe_curve(gpu_key, framework, dtype, 8, tuple(shape))
    if c is None:
        return (f"no {framework} table for {gpu_key}, {dtype} experts of shape {tuple(shape)}: {DEEPSEEK_KERNELS}"
                f"{OTHER_TABLES}")
    return f"{c.framework} {c.version} {c.gpu} table ({c.dtype}, nearest measured EP){OTHER_TABLES}"
