"""Measured expert-parallel dispatch and combine latencies per GPU and serving framework.

Read from ``data/aiconfigurator_kernels.csv.gz`` (op ``a2a``: NVIDIA's kernel microbenchmarks in
aiconfigurator-core, Apache-2.0; extraction and notice: ``scripts/extract_kernel_tables.py``) at
DeepSeek-V3's hidden size 7168, top-8 of 256 routed experts (the hidden size every table measures).
Kernel measurements only: a calibration input, never a system-level serving measurement.

Which rows a (GPU, framework, kernel family) reads (:func:`a2a_points`), stated once:

* kernel family: ``ll`` (decode) and ``normal`` (prefill), each framework's kernels for it in order of
  preference (:data:`BACKENDS`): SGLang and vLLM DeepEP low-latency / normal (``deepep_ht``);
  TensorRT-LLM its NVLink all-to-all (NVLinkOneSided, NVLinkTwoSided: measured on GB200 NVL72 at EP
  2-64, read on the other NVLink 5 GPUs by the twin rule below) where measured, else its DeepEP
  low-latency / normal kernels;
* the payload dtype per kernel, phase and MoE dtype as aiconfigurator-core 0.12.0 chooses it
  (``sdk/operations/moe_comm.py``, :func:`_dtype`): SGLang's and vLLM's tables one ``default``;
  TensorRT-LLM's DeepEP normal kernels NVFP4 for NVFP4 experts, else BF16; its DeepEP low-latency
  kernels the experts' dtype (FP8 or BF16; NVFP4 experts: NVFP4 dispatch, FP4 combine); its NVLink
  kernels the experts' dtype (NVFP4 decode combine on NVLinkTwoSided: FP4, the low-precision combine;
  NVLinkOneSided, which TensorRT-LLM tries first, is measured with the experts' dtype only, and
  aiconfigurator reads that kernel for TensorRT-LLM's non-wide-EP MoE backends in both phases);
* normal kernels at :data:`NORMAL_SMS` SMs where the table measures that (DeepEP's default
  ``Buffer.num_sms``; SGLang's table also measures 4 to 24), else as stored;
* one point = prepare (where the kernel has one) + dispatch + combine at the same tokens per GPU
  (``num_tokens`` as stored: per rank); per kernel the framework's newest version that measured the EP
  size, repeats: their median (:func:`.kernel_curves._reduce`); several kernels of one preference group
  (TensorRT-LLM's two NVLink kernels): the faster total at each point;
* a GPU whose table lacks TensorRT-LLM's NVLink kernels reads them from another NVIDIA GPU of the same
  per-GPU NVLink bandwidth, the same NVLink generation switched by NVSwitch (:func:`nvlink_twins`;
  GB300 NVL72 and HGX B200 / B300 from GB200 NVL72, NVLink 5 at 900 GB/s per direction on all four):
  TensorRT-LLM picks NVLinkOneSided, then NVLinkTwoSided, wherever ``MnnvlMemory.supports_mnnvl()``
  holds (every NVLink of the GPU up) and DeepEP only as an opt-in fallback (``TRTLLM_CAN_USE_DEEP_EP=1``)
  (``tensorrt_llm/_torch/modules/fused_moe/communication/communication_factory.py``,
  ``CommunicationFactory.create_strategy``; ``tensorrt_llm/_mnnvl_utils.py``, ``supports_mnnvl``: the
  aarch64-only gate was dropped for HGX B200 by NVIDIA/TensorRT-LLM PR 6645, August 2025, as restated by
  flashinfer-ai/flashinfer PR 1601; read 2026-12-01); the MLPerf v6.0 DeepSeek-R1 submissions set
  ``TRTLLM_MOE_ENABLE_ALLTOALL_WITHOUT_ALLGATHER`` (the NVLink all-to-all's option) and no DeepEP switch, on
  HGX B300 as on the racks.  aiconfigurator's own kernel choice for TensorRT-LLM (``select_alltoall_kernel``
  of its Rust engine) is NVLinkOneSided on any GPU of SM 100 or later ("Python approximates
  supports_mnnvl() as SM >= 100").  NVLink 4 GPUs (H100 / H200 / H20): no NVLink-kernel table is measured
  on any, so they keep their DeepEP tables.  Not modelled: the per-backend selectors of older releases
  (``CutlassFusedMoE`` / ``WideEPMoE.select_alltoall_method_type``, before the configurable MoE became the
  default path) took all-gather / reduce-scatter instead of an all-to-all where ``moe_ep_size <= top_k``
  (DeepSeek's EP8 and below); no NCCL all-gather table is extracted.  The kernels move NVLink bytes at NVLink
  latencies through one switch hop, so the same links give the same rate (carried as a rate by
  :mod:`.step.curves_comm`, the bytes and links the unit's own), at the twin's EP sizes that fit inside
  the GPU's own NVLink domain (an HGX node's 8: beyond it the EP group spans nodes over the network);
* EP size: the tables' ``ep_size``; SGLang's ``node_num`` x the GPUs per node, read from the ``ep_size``
  the other frameworks' single-node tables state for the same GPU (8 on HGX H100 / H200 / B200 / B300,
  4 on GB200 / GB300 trays), 8 where none does.
"""
from __future__ import annotations

from functools import lru_cache

from inference_arithmetic.hardware.gpus import gpu, gpus, vendor
from inference_arithmetic.hardware.kernel_curves import _reduce
from inference_arithmetic.hardware.kernel_table_file import table_rows
from inference_arithmetic.hardware.kernel_tables import FRAMEWORKS

__all__ = ["a2a_points", "a2a_table", "nvlink_twins", "BACKENDS", "NORMAL_SMS", "gpus_per_node"]

_NVLINK = ("NVLinkOneSided", "NVLinkTwoSided")
#: each framework's kernels for the low-latency (decode) and normal (prefill) all-to-all, groups in order
#: of preference (the first group measured on the GPU is read)
BACKENDS = {"sglang": {"ll": (("deepep_ll",),), "normal": (("deepep_normal",),)},
            "trtllm": {"ll": (_NVLINK, ("trtllm_deepep_ll",)), "normal": (_NVLINK, ("trtllm_deepep_ht",))},
            "vllm": {"ll": (("deepep_ll",),), "normal": (("deepep_ht",),)}}
#: SMs of the normal kernels read where a table measures several (DeepEP's default Buffer.num_sms)
NORMAL_SMS = 20
#: the book's MoE dtypes as the all-to-all tables name them
_MOE = {"fp8": "fp8", "bf16": "bfloat16", "nvfp4": "nvfp4"}


def _dtype(backend: str, kind: str, phase: str, moe_dtype: str) -> str | None:
    """The payload dtype aiconfigurator-core 0.12.0 reads for ``backend`` (its serving rule)."""
    q = _MOE.get(moe_dtype)
    if backend in ("deepep_ll", "deepep_normal", "deepep_ht"):
        return "default"
    if backend == "trtllm_deepep_ht":
        return "nvfp4" if q == "nvfp4" else ("bfloat16" if q else None)
    low = backend == "trtllm_deepep_ll" or (kind == "ll" and backend == "NVLinkTwoSided")   # low-precision combine
    if q == "nvfp4" and phase == "combine" and low:
        return "fp4"
    return q


@lru_cache(maxsize=None)
def gpus_per_node(gpu_key: str) -> int:
    """GPUs of one node in the all-to-all tables of ``gpu_key``: the largest single-node ``ep`` any
    framework's table states for it, else 8."""
    eps = [int(r["ep"]) for fw in FRAMEWORKS for r in table_rows("a2a", gpu_key, fw) if r["ep"] and r["nodes"] == "1"]
    return max(eps, default=8)


def _ep(r) -> int:
    return int(r["ep"]) if r["ep"] else int(r["nodes"]) * gpus_per_node(r["gpu"])


@lru_cache(maxsize=256)
def a2a_points(gpu_key: str, framework: str, kind: str, moe_dtype: str) -> dict:
    """``{ep: (version, kernel, source file, ((tokens per GPU, seconds of one MoE layer's all-to-all),
    ...))}`` of ``framework``'s ``kind`` (``ll`` or ``normal``) all-to-all on ``gpu_key`` for the book's
    MoE dtype ``moe_dtype``; empty where there is no table."""
    for group in BACKENDS.get(framework, {}).get(kind, ()):
        out = _group_points(gpu_key, framework, kind, moe_dtype, group)
        if out:
            return out
    return {}


def nvlink_twins(gpu_key: str) -> tuple[str, ...]:
    """The other NVIDIA GPUs of the catalog on the same NVLink fabric generation as ``gpu_key``: the same
    per-GPU NVLink bandwidth (one switch hop between any two GPUs of a domain)."""
    g = gpu(gpu_key)
    if vendor(g.key) != "NVIDIA":
        return ()
    return tuple(sorted(k for k, o in gpus().items() if k != g.key and vendor(k) == "NVIDIA" and o.nvlink == g.nvlink))


@lru_cache(maxsize=256)
def a2a_table(gpu_key: str, framework: str, kind: str, moe_dtype: str) -> tuple[str, dict]:
    """``(GPU whose table is read, points as in a2a_points)``: the first of ``framework``'s kernel groups
    measured on ``gpu_key``, TensorRT-LLM's NVLink kernels read from a :func:`nvlink_twins` GPU where
    ``gpu_key``'s table lacks them (the module's rule)."""
    for group in BACKENDS.get(framework, {}).get(kind, ()):
        out = _group_points(gpu_key, framework, kind, moe_dtype, group)
        if out:
            return gpu_key, out
        domain = gpu(gpu_key).nvlink_domain   # a twin's EP sizes that fit inside this GPU's NVLink domain
        for twin in nvlink_twins(gpu_key) if group == _NVLINK else ():
            out = {e: got for e, got in _group_points(twin, framework, kind, moe_dtype, group).items() if e <= domain}
            if out:
                return twin, out
    return gpu_key, {}


def _group_points(gpu_key: str, framework: str, kind: str, moe_dtype: str, group: tuple) -> dict:
    """One preference group's points on ``gpu_key``: per EP size the faster of its kernels."""
    out: dict = {}
    for backend in group:
        for ep, got in _backend_points(gpu_key, framework, kind, moe_dtype, backend).items():
            out[ep] = got if ep not in out else _faster(out[ep], got)
    return out


def _faster(a, b):
    """The faster of two kernels' curves at each token count either measured."""
    ta, tb = dict(a[3]), dict(b[3])
    pts = tuple((n, min(ta.get(n, float("inf")), tb.get(n, float("inf")))) for n in sorted(set(ta) | set(tb)))
    names = a[1] if a[1] == b[1] else f"{a[1]}/{b[1]}"
    return a[0], names, a[2], pts


def _backend_points(gpu_key, framework, kind, moe_dtype, backend) -> dict:
    rows = [r for r in table_rows("a2a", gpu_key, framework) if r["kernel_source"] == backend]
    if kind == "normal" and any(r["sms"] == str(NORMAL_SMS) for r in rows):
        rows = [r for r in rows if r["sms"] == str(NORMAL_SMS)]
    out = {}
    for ep in sorted({_ep(r) for r in rows}):
        at = [r for r in rows if _ep(r) == ep]
        phases = [p for p in ("prepare", "dispatch", "combine") if any(r["phase"] == p for r in at)]
        curves = [_reduce((r for r in at if r["phase"] == p and r["dtype"] == _dtype(backend, kind, p, moe_dtype)),
                          lambda r: int(r["num_tokens"])) for p in phases]
        if "dispatch" not in phases or "combine" not in phases or any(c is None for c in curves):
            continue
        common = set.intersection(*({n for n, _ in c[2]} for c in curves))
        pts = tuple((n, sum(dict(c[2])[n] for c in curves)) for n in sorted(common))
        if pts:
            out[ep] = (curves[0][0], backend, curves[0][1], pts)
    return out
