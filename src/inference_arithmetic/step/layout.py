"""A deployment unit's layout and precision, with the book's one set of defaults.

A **layout** says how one deployment unit of ``ep`` GPUs is cut: attention instances of
``attn_tp`` GPUs, experts split ``moe_tp`` ways, redundant expert copies, micro-batches (2:
two-batch overlap), MTP draft tokens.  A **precision** says the dtype of each component.  The
defaults (:func:`layout_for`) are shared by the book, the command line, the validation and the
planner.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from inference_arithmetic.core.errors import InputError
from inference_arithmetic.core.inputs import number
from inference_arithmetic.hardware.gpus import GPU
from inference_arithmetic.hardware.kernel_tables import DEFAULT_FRAMEWORK, framework_name
from inference_arithmetic.model.config import Model
from inference_arithmetic.model.dtypes import ATTN_DTYPES, DENSE_DTYPES, KV_DTYPES, MOE_DTYPES, choose

__all__ = ["Precision", "Layout", "layout_for", "dense_slice_error", "divide_error", "default_redundant",
           "redundant_experts", "default_micro_batches", "wide_ep_layout",
           "HBM_RESERVE_SHARE", "LINK_LATENCY_SCALE_OUT_S", "MOE_ALL_REDUCE", "divisors", "nearest", "KERNELS", "kernels_per_step"]

#: Share of each GPU's HBM kept for activations, CUDA graphs, workspace and fragmentation:
#: vLLM's default gpu_memory_utilization of 0.9 (one default for the whole book and the CLI).
HBM_RESERVE_SHARE = 0.1

#: Fixed latency of one dispatch or combine call across the scale-out network, s (an assumption
#: of the book; over NVLink the NCCL small-message latency of the kernel tables is used).
LINK_LATENCY_SCALE_OUT_S = 25e-6

#: why an attention instance spanning the unit combines its experts by an all-reduce (:attr:`Layout.moe_all_reduce`),
#: in the unit's kernels label.  TensorRT-LLM selects no all-to-all without attention DP
#: (NVIDIA/TensorRT-LLM tensorrt_llm/_torch/modules/fused_moe/fused_moe_wide_ep.py, select_alltoall_method_type:
#: ``if not mapping.enable_attention_dp: return AlltoallMethodType.NotEnabled``, commit 01303b38, read 2026-12-01),
#: and its TRTLLM MoE backend (Blackwell's latency backend for gpt-oss) has no all-to-all at all
#: (examples/models/core/gpt_oss/README.md, MoE support matrix, read 2026-12-01)
MOE_ALL_REDUCE = ("MoE combine: an all-reduce among the unit's GPUs (one attention instance spans the unit: every GPU "
                  "holds every token, none is dispatched)")


@dataclass(frozen=True)
class Precision:
    """Dtypes per component: routed experts (``moe``), attention compute (``attn``: the MLA core,
    scores and values), KV cache (``kv``).  Attention projections, dense FFN and shared experts
    follow the MoE dtype but never go below FP8 (DeepSeek's checkpoints are FP8 block-quantised;
    DeepSeek's NVFP4 checkpoints quantise the routed experts only), except beside MXFP4 experts, where they stay
    BF16 (gpt-oss's checkpoints quantise only the experts: ``quantization_config.modules_to_not_convert``
    lists the attention, the router, the embeddings and the head); the output head stays BF16.
    ``dense_dtype`` states the dense weights' dtype instead (:data:`.dtypes.DENSE_DTYPES`; NVFP4:
    a checkpoint quantising every linear layer, :func:`.model.config.Model` ``dense_weight_dtype``)."""

    moe: str = "fp8"
    attn: str = "bf16"
    kv: str = "bf16"
    dense_dtype: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "moe", choose(self.moe, MOE_DTYPES, "MoE dtype"))
        object.__setattr__(self, "attn", choose(self.attn, ATTN_DTYPES, "attention dtype"))
        object.__setattr__(self, "kv", choose(self.kv, KV_DTYPES, "KV dtype"))
        if self.dense_dtype is not None:
            object.__setattr__(self, "dense_dtype", choose(self.dense_dtype, DENSE_DTYPES, "dense dtype"))

    @property
    def dense(self) -> str:
        """The dense weights' dtype: ``dense_dtype`` where stated, else the routed experts' rule."""
        if self.dense_dtype is not None:
            return self.dense_dtype
        return "bf16" if self.moe in ("bf16", "mxfp4") else "fp8"


#: the most pipeline stages a layout may have (``Layout.pp``; the command line's ``--pp`` says the same bound)
MAX_PP = 64


@dataclass(frozen=True)
class Layout:
    """A deployment unit: ``ep`` GPUs holding every expert once (plus ``redundant`` copies),
    attention instances of ``attn_tp`` GPUs, experts split ``moe_tp`` ways, ``micro_batches``
    (2: two-batch overlap), ``mtp`` draft tokens accepted with probability ``accept`` each
    (``None``: the cited default); ``balanced``: perfectly balanced routing (a simulation
    setting, as in DeepSeek's published profiles), otherwise the cited imbalance; ``kappa``: the
    pipeline efficiency (``None``: the value calibrated on DeepSeek's profiles, 1: kernels only);
    ``eplb``: experts placed by load (EPLB); ``None``: when there are redundant experts;
    ``overlap``: communication overlapped with computation (``None``: with two micro-batches;
    ``True`` with one micro-batch is single-batch overlap); ``framework``: whose grouped-MoE-GEMM
    kernels (``deepseek``: DeepSeek's own, by the transfer rule; ``sglang``, ``trtllm``, ``vllm``: the
    framework's measured table where one exists for the GPU, else another framework's on the same GPU,
    :func:`.hardware.kernel_tables.carried_read`); ``pp``: pipeline stages, each of ``ep`` GPUs holding
    its share of the layers (1: none). A pipeline of ``pp`` stages with as many micro-batches in flight runs,
    per GPU, as one stage of all the layers at the micro-batch: each token passes every stage, each stage's
    GPUs read only its layers' weights and hold its layers' KV of every micro-batch; so ``batch`` is the
    requests of one micro-batch, and only the weights a GPU holds change (the pipeline's bubbles and the
    activations sent between stages are not modelled)."""

    @property
    def overlapped(self) -> bool:
        return self.micro_batches == 2 if self.overlap is None else bool(self.overlap)

    ep: int
    redundant: int = 0
    attn_tp: int = 1
    moe_tp: int = 1
    micro_batches: int = 1
    mtp: int = 0
    accept: float | None = None
    precision: Precision = field(default_factory=Precision)
    overhead_s: float = 0.0
    balanced: bool = False
    kappa: float | None = None
    eplb: bool | None = None
    overlap: bool | None = None
    framework: str = DEFAULT_FRAMEWORK
    pp: int = 1

    def __post_init__(self):
        if self.framework != DEFAULT_FRAMEWORK:
            object.__setattr__(self, "framework", framework_name(self.framework))
        for name, most in (("ep", 4096), ("redundant", 4096), ("attn_tp", 4096), ("moe_tp", 4096),
                           ("micro_batches", 2), ("mtp", 8), ("pp", MAX_PP)):
            least = 0 if name in ("redundant", "mtp") else 1
            x = getattr(self, name)
            if not (type(x) is int and least <= x <= most):  # the common case needs no conversion
                object.__setattr__(self, name, number(x, name, least=least, most=most, integer=True))
        if self.accept is not None:
            object.__setattr__(self, "accept", number(self.accept, "accept", least=0.0, most=0.999))
        object.__setattr__(self, "overhead_s", number(self.overhead_s, "overhead_s", most=10.0))
        if self.kappa is not None:
            object.__setattr__(self, "kappa", number(self.kappa, "kappa", least=0.01, most=1.0))
        for what, tp in (("attention TP", self.attn_tp), ("MoE TP", self.moe_tp)):
            if self.ep % tp:    # the EP suggested is a multiple of both degrees
                raise InputError(divide_error(what, tp, self.ep, divisors(self.ep),
                                              math.lcm(self.attn_tp, self.moe_tp)))
        if not isinstance(self.precision, Precision):
            raise InputError("precision must be a Precision")

    @property
    def moe_ep(self) -> int:
        return self.ep // self.moe_tp

    @property
    def moe_all_reduce(self) -> bool:
        """Whether the routed experts' outputs are summed by one all-reduce among the unit's GPUs instead of
        a dispatch and combine: experts split over GPUs (MoE TP), or one attention instance spanning the whole
        unit (attention TP = EP): after the attention all-reduce every GPU holds every token, so none is
        dispatched; each GPU runs its local experts on the tokens routed to them and the partial outputs are
        summed (:data:`MOE_ALL_REDUCE`)."""
        return self.moe_tp > 1 or self.attn_tp == self.ep > 1


def divisors(n: int) -> list[int]:
    """The divisors of ``n`` >= 1, ascending."""
    small = [d for d in range(1, int(n ** 0.5) + 1) if n % d == 0]
    return sorted(set(small + [n // d for d in small]))


def nearest(valid, x: int) -> int:
    """The value of ``valid`` (non-empty integers) closest to ``x``; the smaller one on a tie."""
    return min(valid, key=lambda v: (abs(v - x), v))


def redundant_experts(n: int) -> str:
    """``n`` redundant experts in words: "1 redundant expert", "2 redundant experts"."""
    return f"{n} redundant expert" + ("" if n == 1 else "s")


def default_redundant(model: Model, moe_ep: int) -> int:
    """The book's default redundant experts: the fewest extra slots that spread the experts
    evenly over ``moe_ep`` GPUs (0 when they divide; 32 for 256 experts over 48, 72 or 144)."""
    return (-model.n_experts) % moe_ep if moe_ep > 1 else 0


def default_micro_batches(gpu: GPU, unit_gpus: int, framework: str = DEFAULT_FRAMEWORK) -> int:
    """The book's default: with DeepSeek's kernels, two micro-batches (two-batch overlap) when the
    unit spans more than one NVLink domain (DeepSeek's multi-node layouts), else one; with a serving
    framework's, what the framework does unless told: one (SGLang's ``--enable-two-batch-overlap`` and
    vLLM's ``--enable-dbo`` are off by default; TensorRT-LLM has no two-batch overlap), so a
    publication that turns it on states it."""
    return 2 if framework == DEFAULT_FRAMEWORK and unit_gpus > gpu.nvlink_domain else 1


def divide_error(what: str, tp: int, ep: int, valid, multiple: int | None = None) -> str:
    """The line refusing a TP degree ``tp`` (GPUs) that does not divide the unit's ``ep`` GPUs: the nearest
    multiples of ``multiple`` (default ``tp``; every pinned degree's least common multiple, so that the unit
    suggested takes them all), or the nearest degree of ``valid`` (those that divide the unit and what the
    degree splits)."""
    k = multiple or tp
    near = " or ".join(str(x) for x in (ep // k * k, -(-ep // k) * k) if x)
    return (f"{what} {tp} must divide the unit's {ep} GPUs; nearest valid: EP {near} (multiples of {k}), "
            f"or {what} {nearest(valid, tp)}")


def dense_slice_error(model: Model, moe_tp) -> str:
    """The line refusing MoE TP ``moe_tp`` on a dense model (no routed experts to split)."""
    return (f"expert slices: {model.name} is dense, with no routed experts to split over MoE TP {moe_tp}; "
            f"nearest valid MoE TP: 1")


def layout_for(model: Model, gpu: GPU, ep: int, *, attn_tp: int = 1, moe_tp: int = 1,
               redundant: int | None = None, micro_batches: int | None = None, **kw) -> Layout:
    """A :class:`Layout` with the book's defaults for what is not given (one set of defaults for
    the book, the command line, the validation and the planner): redundant experts by
    :func:`default_redundant`, micro-batches by :func:`default_micro_batches`."""
    why = dense_slice_error(model, moe_tp) if type(moe_tp) is int and moe_tp > 1 and not model.is_moe else None
    if why:                     # before the unit's divisibility: a dense model has no MoE TP to fix by another EP
        raise InputError(why)
    # the unit's divisibility, offering only degrees that also split the heads (attention) or the expert width (MoE)
    for what, tp, width in (("attention TP", attn_tp, model.n_heads), ("MoE TP", moe_tp, model.d_e or 1)):
        if type(tp) is int and type(ep) is int and tp > 1 and ep >= 1 and ep % tp:
            fit = [d for d in divisors(ep) if width % d == 0]
            both = (math.lcm(attn_tp, moe_tp) if type(attn_tp) is int and type(moe_tp) is int
                    and attn_tp >= 1 and moe_tp >= 1 else None)
            raise InputError(divide_error(what, tp, ep, fit, both))
    moe_ep = max(1, ep // max(moe_tp, 1))
    return Layout(ep=ep, attn_tp=attn_tp, moe_tp=moe_tp,
                  redundant=default_redundant(model, moe_ep) if redundant is None else redundant,
                  micro_batches=default_micro_batches(gpu, ep, kw.get("framework", DEFAULT_FRAMEWORK))
                  if micro_batches is None else micro_batches, **kw)


def wide_ep_layout(gpu: GPU, **kw) -> Layout:
    """DeepSeek-style wide expert parallelism: EP72 with 32 redundant experts inside a 72-GPU
    NVLink rack, otherwise EP144 with 32 redundant experts over 8-GPU nodes (DeepSeek's decode
    unit) and two-batch overlap; keyword arguments set the other fields."""
    if gpu.nvlink_domain >= 72:
        return Layout(ep=72, redundant=32, **kw)
    kw.setdefault("micro_batches", 2)
    return Layout(ep=144, redundant=32, **kw)


#: Kernels per layer of an MLA mixture-of-experts model in decode, counted from its structure:
#: attention: fused q_a/kv_a projection, q_b, absorbed W_UK, the attention kernel, absorbed
#: W_UV, o_proj; a dense FFN: gate_up, down; an MoE layer: router, shared gate_up and down,
#: routed grouped gate_up and down; and per layer the small kernels (two fused norm+residual,
#: RoPE with the KV-cache write, SwiGLU, top-k routing, activation quantisation); one head.
KERNELS = {"attention": 6, "dense": 2, "moe": 5, "small": 6, "head": 1}


def kernels_per_step(model: Model) -> int:
    """Kernels one micro-batch launches per step (the count each pays :data:`KERNELS` floors on)."""
    k = KERNELS
    return (model.n_layers * (k["attention"] + k["small"]) + model.n_dense * k["dense"]
            + model.n_moe * k["moe"] + k["head"])

