"""One step-time structure for decode and prefill, built from per-operation efficiencies.

Per GPU and per step of a deployment unit of ``N_EP`` GPUs (one expert-parallel group),
with attention instances of ``T_a`` GPUs (1: data-parallel attention, DeepSeek's layout;
more: tensor-parallel attention) each serving ``b`` requests of ``s_q`` query tokens:

* **attention** reads the requests' KV caches and does its FLOP
  (:math:`t_{\\mathrm{attn}}`), each against an achieved rate = efficiency x peak;
* **dense GEMMs** (attention projections, dense FFN layers, shared experts, router) and the
  **output head** stream their weights once per micro-batch and do their FLOP;
* **routed experts** stream the weights of the local experts that at least one token chose,
  once per micro-batch, and do the FLOP of the most loaded GPU (load imbalance ``I``);
* **communication**: dispatch/combine (EP) split between the scale-out NIC and NVLink, with a
  latency per call, or all-reduces (TP), each at its kernel's achieved bandwidth;
* **overlap**: with two micro-batches communication hides behind computation, which loses the
  SMs the communication kernels take; with one, the parts add up.

Each operation's time is the larger of its memory time and its compute time at the achieved
rates of :mod:`.efficiency` (a roofline per operation, not one factor on the whole step).
Decode and prefill are two uses of this structure; they differ in the attention form, the
context the attention sees, the grouped-GEMM kernel and the all-to-all kernels.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import sympy as sp

from . import comm, params
from .catalog import GPU, Model
from . import decode
from .decode import FLOP_PER_MAC
from .efficiency import efficiencies, unbalanced_points
from .errors import InputError
from .formula import formula
from .inputs import number
from .symbols import S, register

__all__ = ["Precision", "Layout", "layout_for", "default_redundant", "default_micro_batches", "KERNELS",
           "kernels_per_step", "WEIGHT_BYTES", "MOE_DTYPES", "ATTN_DTYPES", "KV_DTYPES",
           "HBM_RESERVE_SHARE", "LINK_LATENCY_S", "Unit", "unit", "terms", "memory", "fits", "max_batch",
           "attn_flop_mla", "attn_flop_mla_prefill", "mtp_tokens", "imbalance_unbalanced",
           "t_attn", "t_dense", "t_head", "t_moe", "t_a2a", "t_allreduce", "step_serial", "step_overlap",
           "experts_touched", "bound_time", "wide_ep_layout", "users_that_fit", "evaluate", "stack", "free_bytes",
           "weights_resident", "ll_buffer_per_token", "hbm_free", "batch_fit"]

# ----------------------------------------------------------------------------- symbols
T_a = register("step", "T_a", r"T_a", "GPU", "GPUs sharing one attention instance (attention TP degree)")
T_m = register("step", "T_m", r"T_m", "GPU", "GPUs splitting each expert (MoE TP degree)")
m_mb = register("step", "m_mb", r"m", "1", "micro-batches per step (2: two-batch overlap)")
n_dr = register("step", "n_dr", r"n_{\mathrm{draft}}", "token/step", "MTP draft tokens per request and step")
p_acc = register("step", "p_acc", r"p", "1", "acceptance of each MTP draft token (given the earlier ones)")
P_at = register("step", "P_at", r"P_{\mathrm{attn}}^{\mathrm{all}}", "param", "attention parameters, all layers")
P_ds = register("step", "P_ds", r"P_{\mathrm{dense}}", "param",
                "dense FFN, shared-expert, router and norm parameters, all layers")
P_hd = register("step", "P_hd", r"P_{\mathrm{head}}", "param", "output head parameters (vocabulary x hidden)")
P_e = register("step", "P_e", r"P_e", "param", "parameters of one routed expert")
A_f = register("step", "A_f", r"A", "FLOP", "attention FLOP per query token per context token, all layers")
b_aw = register("step", "b_aw", r"b_{\mathrm{attn}}", "B", "bytes per attention weight")
b_dw = register("step", "b_dw", r"b_{\mathrm{dense}}", "B", "bytes per dense / shared-expert weight")
b_mw = register("step", "b_mw", r"b_{\mathrm{MoE}}", "B", "bytes per routed-expert weight")
b_hw = register("step", "b_hw", r"b_{\mathrm{head}}", "B", "bytes per output-head weight")
F_a = register("step", "F_a", r"\Phi_{\mathrm{attn}}", "FLOP/s", "peak FLOP/s at the attention compute dtype")
F_d = register("step", "F_d", r"\Phi_{\mathrm{dense}}", "FLOP/s", "peak FLOP/s at the dense-weight dtype")
F_m = register("step", "F_m", r"\Phi_{\mathrm{MoE}}", "FLOP/s", "peak FLOP/s at the routed-expert dtype")
F_h = register("step", "F_h", r"\Phi_{\mathrm{head}}", "FLOP/s", "peak FLOP/s at the head dtype")
e_mbw = register("step", "e_mbw", r"\eta^{\mathrm{attn}}_{\beta}", "1", "attention kernel: achieved / peak HBM bandwidth")
e_mfl = register("step", "e_mfl", r"\eta^{\mathrm{attn}}_{\Phi}", "1", "attention kernel: achieved / peak FLOP/s")
e_gbw = register("step", "e_gbw", r"\eta^{\mathrm{GEMM}}_{\beta}", "1", "weight streaming in GEMMs: achieved / peak bandwidth")
e_gfl = register("step", "e_gfl", r"\eta^{\mathrm{GEMM}}_{\Phi}", "1", "dense GEMMs: achieved / peak FLOP/s")
e_xfl = register("step", "e_xfl", r"\eta^{\mathrm{exp}}_{\Phi}", "1", "grouped expert GEMMs: achieved / peak FLOP/s")
e_so = register("step", "e_so", r"\eta_{\mathrm{so}}", "1", "all-to-all over the scale-out NIC: achieved / line rate")
e_nv = register("step", "e_nv", r"\eta_{\mathrm{nv}}", "1", "all-to-all over NVLink: achieved / link bandwidth")
e_ar = register("step", "e_ar", r"\eta_{\mathrm{AR}}", "1", "all-reduce bus bandwidth / NVLink bandwidth")
I_ep = register("step", "I_ep", r"I", "1", "max/mean routed tokens per GPU (expert load imbalance)")
BW_nv = register("step", "BW_nv", r"\beta_{\mathrm{nv}}", "B/s", "NVLink bandwidth per GPU and direction")
BW_so = register("step", "BW_so", r"\beta_{\mathrm{so}}", "B/s", "scale-out NIC bandwidth per GPU and direction")
V_so = register("step", "V_so", r"V_{\mathrm{so}}", "B", "all-to-all bytes per token and MoE layer over the NIC")
V_nv = register("step", "V_nv", r"V_{\mathrm{nv}}", "B", "all-to-all bytes per token and MoE layer over NVLink")
t_ar_lat = register("step", "t_ar_lat", r"t_{\mathrm{AR}}", "s", "latency of one all-reduce")
f_sm = register("step", "f_sm", r"f_{\mathrm{SM}}", "1", "share of SMs communication kernels take while overlapped")
kv_rd = register("step", "kv_rd", r"\rho_{kv}", "1", "KV bytes read per context token (1 decode, 0 prefill)")
t_0 = register("step", "t_0", r"t_0", "s", "fixed time per step (launches, synchronisation, sampling)")
t_k0 = register("step", "t_k0", r"t_{k}", "s", "fixed time of one kernel beyond its bytes and FLOP")
K_k = register("step", "K_k", r"K", "1", "kernels per step and micro-batch (GEMMs, attention, small kernels)")
kappa = register("step", "kappa", r"\kappa", "1",
                 "pipeline efficiency: kernel-benchmark compute time / compute time in a serving step "
                 "(the work no kernel table covers: norms, RoPE, quantisation, routing, launches); "
                 "calibrated on DeepSeek's published profiles")

n_moe = S.n_layers - S.n_dense
n_tok = S.batch * S.s_q                   # query tokens of one attention instance per step
n_g = n_tok / T_a                         # tokens each GPU sends into the MoE
U_tok = S.N_ep * n_g                      # tokens of the whole unit per step
c = S.flop_mac

attn_flop_mla = formula("attn_flop_mla", S.n_layers * S.n_heads * c * (2 * S.d_c + S.d_r), "FLOP",
                        "MLA decode (absorbed): a (d_c+d_r) score and a d_c value product per head and context token")
attn_flop_mla_prefill = formula(
    "attn_flop_mla_prefill", S.n_layers * S.n_heads * c * (S.d_nope + S.d_r + S.d_v), "FLOP",
    "MLA prefill (not absorbed): a (d_nope+d_r) score and a d_v value product per head and context token")

mtp_tokens = formula("mtp_tokens", (1 - p_acc ** (n_dr + 1)) / (1 - p_acc), "token/step",
                     "tokens accepted per step with n draft tokens, each kept with probability p "
                     "if every earlier one was: 1 + p + ... + p^n")

imbalance_unbalanced = formula(
    "imbalance_unbalanced",
    1 + register("step", "r_slot", r"r_1", "1", "published (max-mean)/mean load of single expert slots")
    * (S.n_experts / S.N_ep) ** -register("step", "p_imb", r"q", "1",
                                         "exponent of the imbalance power law through the two published points"),
    "1", "max/mean routed tokens per GPU without redundant experts: a power law in the experts per GPU")

experts_touched = formula(
    "experts_touched",
    (S.n_experts + S.E_red) / (S.N_ep / T_m) * (1 - (1 - 1 / S.n_experts) ** (U_tok * S.top_k / m_mb)),
    "expert", "local expert slots that at least one of a micro-batch's tokens chose, per MoE layer")

t_attn = formula(
    "t_attn",
    sp.Max(kv_rd * S.batch * S.ctx * S.S_kv / (e_mbw * S.BW), n_tok * S.ctx * A_f / (T_a * e_mfl * F_a)),
    "s", "attention: read the instance's KV caches, or do the attention FLOP split over T_a GPUs")

t_dense = formula(
    "t_dense",
    sp.Max(m_mb * (P_at * b_aw + P_ds * b_dw) / (T_a * e_gbw * S.BW),
           c * n_tok * (P_at + P_ds) / (T_a * e_gfl * F_d)),
    "s", "attention projections, dense FFN, shared experts: stream the weights per micro-batch, or do the FLOP")

t_head = formula(
    "t_head",
    sp.Max(m_mb * P_hd * b_hw / (T_a * e_gbw * S.BW), c * n_tok * P_hd / (T_a * e_gfl * F_h)),
    "s", "output head (vocabulary-parallel under attention TP)")

t_moe = formula(
    "t_moe",
    n_moe * sp.Max(m_mb * experts_touched.expr * P_e * b_mw / (T_m * e_gbw * S.BW),
                   c * P_e * U_tok * S.top_k * I_ep / (S.N_ep * e_xfl * F_m)),
    "s", "routed experts: stream the chosen local experts per micro-batch, or do the most loaded GPU's FLOP")

t_a2a = formula(
    "t_a2a",
    n_moe * (2 * comm.t_lat + n_g * I_ep * sp.Max(V_so / (e_so * BW_so), V_nv / (e_nv * BW_nv))),
    "s", "dispatch and combine per MoE layer: a latency each, and the busiest GPU's bytes over NIC and NVLink")

t_allreduce = formula(
    "t_allreduce",
    S.n_layers * (2 * (T_a - 1) / T_a * n_tok * S.h * comm.b_comb / (e_ar * BW_nv) + t_ar_lat * sp.Min(1, T_a - 1)),
    "s", "attention TP: an all-reduce of each layer's output among the T_a GPUs (none when T_a = 1)")

t_moe_allreduce = formula(
    "t_moe_allreduce",
    n_moe * (2 * (S.N_ep - 1) / S.N_ep * n_tok * S.h * comm.b_comb / (e_ar * BW_nv) + t_ar_lat),
    "s", "MoE TP: every GPU computes slices of its experts for all tokens, then an all-reduce of the output")

a2a_bytes_ll = formula(
    "a2a_bytes_ll", S.top_k * (1 - T_m / S.N_ep) * S.h * (comm.b_disp + comm.b_comb), "B",
    "low-latency (decode) all-to-all: one copy per chosen expert on another GPU, dispatch and combine")

t_kernels = formula("t_kernels", m_mb * K_k * t_k0, "s",
                    "every kernel of a micro-batch costs a fixed time on top of its bytes and FLOP")

remote_share = formula("remote_share", sp.Max(0, 1 - S.G / S.N_ep), "1",
                       "share of a GPU's peers outside its NVLink domain")

tk = register("step", "tk", r"t_{\mathrm{kern}}", "s", "fixed kernel time per step")
ta, td, th, tm, tc = (register("step", k, lx, "s", m) for k, lx, m in (
    ("ta", r"t_{\mathrm{attn}}", "attention time per step"), ("td", r"t_{\mathrm{dense}}", "dense-GEMM time per step"),
    ("th", r"t_{\mathrm{head}}", "output-head time per step"), ("tm", r"t_{\mathrm{MoE}}", "routed-expert time per step"),
    ("tc", r"t_{\mathrm{comm}}", "communication time per step")))

step_serial = formula("step_serial", (ta + td + th + tm + tk) / kappa + tc + t_0, "s",
                      "one micro-batch: computation and communication in sequence")
_A = (ta + td + th + tk) / (2 * kappa * (1 - f_sm))      # one micro-batch's attention-side computation
_M = tm / (2 * kappa * (1 - f_sm))                        # one micro-batch's expert computation
_Cd = tc * comm.b_disp / (2 * (comm.b_disp + comm.b_comb))  # one micro-batch's dispatch
_Cc = tc * comm.b_comb / (2 * (comm.b_disp + comm.b_comb))  # one micro-batch's combine
from .printing import name as _print_as  # noqa: E402  (how the book prints the pipeline's stages)

for _key, _lx, _m, _expr in (
        ("cA", r"\tau_{\mathrm{A}}", "one micro-batch's attention-side computation per step", _A),
        ("cM", r"\tau_{\mathrm{M}}", "one micro-batch's expert computation per step", _M),
        ("cD", r"\tau_{\mathrm{D}}", "one micro-batch's dispatch per step", _Cd),
        ("cC", r"\tau_{\mathrm{C}}", "one micro-batch's combine per step", _Cc)):
    _print_as(register("step", _key, _lx, "s", _m), _expr)
_print_as(register("step", "X_t", r"X", "expert", "local expert slots chosen by a micro-batch, per MoE layer"),
          experts_touched.expr)

step_overlap = formula(
    "step_overlap", sp.Max(_A, _Cc) + sp.Max(_A, _Cd) + sp.Max(_M, _Cd) + sp.Max(_M, _Cc) + t_0, "s",
    "two micro-batches in a four-stage pipeline per layer: each stage overlaps one micro-batch's "
    "computation (attention side, or experts) with the other's dispatch or combine, and lasts as long "
    "as the slower of the two; computation runs on the SMs communication leaves free")

tl = register("step", "tl", r"t_{\mathrm{layers}}", "s", "time of every layer (attention, dense, experts, communication)")
mtp_time = formula("mtp_time", n_dr * (tl / S.n_layers + th) / kappa, "s",
                   "MTP drafting: each draft token runs one more layer (an average layer) and the head")

bound_time = formula(
    "bound_time",
    sp.Max((kv_rd * S.batch * S.ctx * S.S_kv + (P_at * b_aw + P_ds * b_dw + P_hd * b_hw) / T_a
            + n_moe * experts_touched.expr.subs(m_mb, 1) * P_e * b_mw / T_m) / S.BW,
           n_tok * S.ctx * A_f / (T_a * F_a) + c * n_tok * ((P_at + P_ds) / F_d + P_hd / F_h) / T_a
           + n_moe * c * P_e * U_tok * S.top_k / (S.N_ep * F_m)),
    "s", "roofline bound on the step: every byte read once at peak bandwidth, or every FLOP at peak, "
         "no communication, perfect balance")

# ----------------------------------------------------------------------------- memory
buf_tok = register("step", "buf_tok", r"B_{\mathrm{buf}}", "B",
                   "low-latency all-to-all buffer bytes per token a GPU sends (0 without those buffers)")
rho_res = register("step", "rho_res", r"\rho_{\mathrm{res}}", "1", "share of HBM kept for activations and workspace")
_local_slots = (S.n_experts + S.E_red) / (S.N_ep / T_m)

weights_resident = formula(
    "weights_resident",
    (P_at * b_aw + P_ds * b_dw + S.n_emb * P_hd * b_hw) / T_a + n_moe * _local_slots * P_e * b_mw / T_m
    + sp.Min(1, n_dr) * ((P_at * b_aw + P_ds * b_dw) / (S.n_layers * T_a) + 2 * S.h ** 2 * b_dw / T_a
                         + _local_slots * P_e * b_mw / T_m),
    "B", "weights resident on one GPU: replicated parts split by attention TP, the local expert slices, and "
         "with MTP one more layer (its replicated weights, the 2h x h projection and its experts)")

ll_buffer_per_token = formula(
    "ll_buffer_per_token", 2 * (comm.b_disp + comm.b_comb) * (S.n_experts + S.E_red) * S.h, "B",
    "DeepEP low-latency receive buffers per token a GPU sends: every expert slot of the unit may receive it, "
    "dispatch plus combine, double-buffered")

_per_request = S.ctx * S.S_kv + S.s_q * buf_tok / T_a
_room = decode.HBM * (1 - rho_res) - decode.W_res
hbm_free = formula("hbm_free", _room - S.batch * _per_request, "B",
                   "HBM left per GPU after the reserve, the weights, b requests' KV caches and their buffers")
batch_fit = formula("batch_fit", sp.Max(0, sp.floor(_room / _per_request)), "user",
                    "most requests per attention instance that fit: the room left over the bytes each needs")


# ----------------------------------------------------------------------------- layouts
#: bytes per weight of the supported weight dtypes (NVFP4: 4-bit values plus an FP8 scale per 16)
WEIGHT_BYTES = {"bf16": 2.0, "fp8": 1.0, "nvfp4": 0.5 + 1 / 16}
MOE_DTYPES = ("bf16", "fp8", "nvfp4")
ATTN_DTYPES = ("bf16", "fp8")
KV_DTYPES = ("bf16", "fp8")
_FLOP_DTYPE = {"bf16": "bf16", "fp8": "fp8", "nvfp4": "fp4"}

#: Share of each GPU's HBM kept for activations, CUDA graphs, workspace and fragmentation:
#: vLLM's default gpu_memory_utilization of 0.9 (one default for the whole book and the CLI).
HBM_RESERVE_SHARE = 0.1

#: Fixed latency of one dispatch or combine call, s: over NVLink the NCCL small-message
#: latency (kernels.yaml); across the scale-out network an assumption of the book.
LINK_LATENCY_S = {"nvlink": None, "scale_out": 25e-6}


def _choice(value: str, allowed, what: str) -> str:
    v = str(value).lower()
    if v not in allowed:
        raise InputError(f"unsupported {what} {value!r}: use {', '.join(allowed)}")
    return v


@dataclass(frozen=True)
class Precision:
    """Dtypes per component: routed experts (``moe``), attention compute (``attn``: the MLA core,
    scores and values), KV cache (``kv``).  Attention projections, dense FFN and shared experts
    follow the MoE dtype but never go below FP8 (DeepSeek's checkpoints are FP8 block-quantised;
    NVFP4 checkpoints quantise the routed experts only); the output head stays BF16."""

    moe: str = "fp8"
    attn: str = "bf16"
    kv: str = "bf16"

    def __post_init__(self):
        object.__setattr__(self, "moe", _choice(self.moe, MOE_DTYPES, "MoE dtype"))
        object.__setattr__(self, "attn", _choice(self.attn, ATTN_DTYPES, "attention dtype"))
        object.__setattr__(self, "kv", _choice(self.kv, KV_DTYPES, "KV dtype"))

    @property
    def dense(self) -> str:
        return "bf16" if self.moe == "bf16" else "fp8"


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
    ``True`` with one micro-batch is single-batch overlap)."""

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

    def __post_init__(self):
        for name, most in (("ep", 4096), ("redundant", 4096), ("attn_tp", 4096), ("moe_tp", 4096),
                           ("micro_batches", 2), ("mtp", 8)):
            least = 0 if name in ("redundant", "mtp") else 1
            x = getattr(self, name)
            if not (type(x) is int and least <= x <= most):  # the common case needs no conversion
                object.__setattr__(self, name, number(x, name, least=least, most=most, integer=True))
        if self.accept is not None:
            object.__setattr__(self, "accept", number(self.accept, "accept", least=0.0, most=0.999))
        object.__setattr__(self, "overhead_s", number(self.overhead_s, "overhead_s", most=10.0))
        if self.kappa is not None:
            object.__setattr__(self, "kappa", number(self.kappa, "kappa", least=0.01, most=1.0))
        if self.ep % self.attn_tp:
            raise InputError(f"attention TP {self.attn_tp} must divide the unit's {self.ep} GPUs")
        if self.ep % self.moe_tp:
            raise InputError(f"MoE TP {self.moe_tp} must divide the unit's {self.ep} GPUs")
        if not isinstance(self.precision, Precision):
            raise InputError("precision must be a Precision")

    @property
    def moe_ep(self) -> int:
        return self.ep // self.moe_tp


def default_redundant(model: Model, moe_ep: int) -> int:
    """The book's default redundant experts: the fewest extra slots that spread the experts
    evenly over ``moe_ep`` GPUs (0 when they divide; 32 for 256 experts over 48, 72 or 144)."""
    return (-model.n_experts) % moe_ep if moe_ep > 1 else 0


def default_micro_batches(gpu: GPU, unit_gpus: int) -> int:
    """The book's default: two micro-batches (two-batch overlap) when the unit spans more than
    one NVLink domain (DeepSeek's and SGLang's multi-node layouts), else one."""
    return 2 if unit_gpus > gpu.nvlink_domain else 1


def layout_for(model: Model, gpu: GPU, ep: int, *, attn_tp: int = 1, moe_tp: int = 1,
               redundant: int | None = None, micro_batches: int | None = None, **kw) -> Layout:
    """A :class:`Layout` with the book's defaults for what is not given (one set of defaults for
    the book, the command line, the validation and the planner): redundant experts by
    :func:`default_redundant`, micro-batches by :func:`default_micro_batches`."""
    moe_ep = max(1, ep // max(moe_tp, 1))
    return Layout(ep=ep, attn_tp=attn_tp, moe_tp=moe_tp,
                  redundant=default_redundant(model, moe_ep) if redundant is None else redundant,
                  micro_batches=default_micro_batches(gpu, ep) if micro_batches is None else micro_batches, **kw)


def wide_ep_layout(gpu: GPU, **kw) -> Layout:
    """DeepSeek-style wide expert parallelism: EP72 with 32 redundant experts inside a 72-GPU
    NVLink rack, otherwise EP144 with 32 redundant experts over 8-GPU nodes (DeepSeek's decode
    unit) and two-batch overlap; keyword arguments set the other fields."""
    if gpu.nvlink_domain >= 72:
        return Layout(ep=72, redundant=32, **kw)
    kw.setdefault("micro_batches", 2)
    return Layout(ep=144, redundant=32, **kw)


# ----------------------------------------------------------------------------- evaluation
_PARTS = {"t_kernels": t_kernels, "t_attn": t_attn, "t_dense": t_dense, "t_head": t_head, "t_moe": t_moe, "t_a2a": t_a2a,
          "t_allreduce": t_allreduce, "t_moe_allreduce": t_moe_allreduce, "bound": bound_time}
_ARGS = sorted({s for f in _PARTS.values() for s in f.expr.free_symbols}, key=lambda s: s.name)


@lru_cache(maxsize=None)
def _compiled():
    """One numpy function for every term (sympy's common-subexpression elimination across them)."""
    return sp.lambdify(_ARGS, [f.expr for f in _PARTS.values()], modules="numpy", cse=True)


@dataclass(frozen=True)
class Unit:
    """Everything about a (model, GPU, layout, phase) that does not depend on batch or context:
    the SI values of the step formulas' symbols, built once (no sympy at evaluation time)."""

    model: Model
    gpu: GPU
    layout: Layout
    phase: str
    values: dict
    weights_resident: float
    accept_per_step: float

    def terms(self, batch, ctx, s_q=None) -> dict:
        return terms(self, batch, ctx, s_q)


def _kv_bytes(model: Model, dtype: str) -> float:
    if model.attention != "mla" or not model.is_moe:
        raise InputError(f"{model.name}: the step model covers MLA mixture-of-experts models (DeepSeek-V2/V3 "
                         f"shape); use 'sol' and 'model' for other models")
    from .kv import kv_per_token_mla
    return float(_fast(kv_per_token_mla, n_layers=model.n_layers, d_c=model.d_c, d_r=model.d_r,
                                  b_kv=1 if dtype == "fp8" else 2))


@lru_cache(maxsize=256)
def _param_split(model: Model) -> tuple[float, float, float, float]:
    """(attention, dense/shared/router/norm, head, one routed expert) parameters of ``model``."""
    rep = params.replicated_param_count(model)
    attn_layer = params.count_params(model).attention_per_layer
    p_at = float(attn_layer * model.n_layers)
    p_hd = float(model.vocab * model.h)
    p_e = float(params.expert_params(h=model.h, d_e=model.d_e))
    return p_at, rep - p_at - p_hd, p_hd, p_e


@lru_cache(maxsize=4096)
def unit(model: Model, gpu: GPU, layout: Layout, phase: str = "decode") -> Unit:
    """The constant inputs of the step formulas for ``model`` on ``gpu`` under ``layout``.

    ``phase`` is ``"decode"`` (absorbed MLA reading the KV cache, masked grouped GEMMs,
    DeepEP low-latency all-to-all, no SMs lost to it) or ``"prefill"`` (MLA in its prefill
    form, contiguous grouped GEMMs, node-deduplicated normal all-to-all that takes SMs).
    Units are cached: the same (model, GPU, layout, phase) is built once.
    """
    if phase not in ("decode", "prefill"):
        raise InputError(f"phase must be decode or prefill, got {phase!r}")
    p = layout.precision
    S_kv = _kv_bytes(model, p.kv)
    if layout.redundant and layout.moe_ep == 1:
        raise InputError("redundant experts need more than one expert-parallel rank")
    eff = efficiencies()  # the transfer rule: the same fractions of peak on every GPU
    p_at, p_ds, p_hd, p_e = _param_split(model)
    fl = {d: gpu.flops(_FLOP_DTYPE[d]) if d != "nvfp4" or gpu.dense_fp4 is not None else None for d in MOE_DTYPES}
    if fl[p.moe] is None:
        raise InputError(f"{gpu.key} has no FP4 tensor cores: NVFP4 experts need a Blackwell GPU")
    moe_ep = layout.moe_ep
    G = min(gpu.nvlink_domain, layout.ep)
    multi = layout.ep > gpu.nvlink_domain
    lat_nv = eff.latency_nvlink_s.value
    b_d, b_c = comm.FP8_DISPATCH_BYTES, comm.BF16_BYTES
    decode = phase == "decode"
    if decode:
        per_tok = float(_fast(a2a_bytes_ll, top_k=model.top_k, T_m=layout.moe_tp, N_ep=layout.ep, h=model.h,
                                     b_disp=b_d, b_comb=b_c))
        rem = float(_fast(remote_share, G=G, N_ep=layout.ep))
        v_so, v_nv = per_tok * rem, per_tok * (1 - rem)
        e_so_v, e_nv_v, sm = eff.a2a_ll_rdma.value, eff.a2a_ll_nvlink.value, 0.0
        a_f = float(_fast(attn_flop_mla, n_layers=model.n_layers, n_heads=model.n_heads, flop_mac=FLOP_PER_MAC,
                                  d_c=model.d_c, d_r=model.d_r))
        e_x, e_att_fl = eff.grouped_flops.value, eff.mla_flops.value
    else:
        nodes = layout.ep / G
        v_so = float(_fast(comm.ep_scaleout_bytes_per_token, 
            M_nodes=model.route_groups or model.top_k, N_ep=layout.ep, G=G, h=model.h,
            b_disp=b_d, b_comb=b_c)) if multi else 0.0
        v_nv = float(_fast(a2a_bytes_ll, top_k=model.top_k, T_m=layout.moe_tp, N_ep=layout.ep, h=model.h,
                                  b_disp=b_d, b_comb=b_c)) if moe_ep > 1 else 0.0
        del nodes
        e_so_v, e_nv_v = eff.a2a_normal_rdma.value, eff.a2a_normal_nvlink.value
        sm = eff.comm_sm_share.value if layout.overlapped and moe_ep > 1 else 0.0
        a_f = float(_fast(attn_flop_mla_prefill, n_layers=model.n_layers, n_heads=model.n_heads, flop_mac=FLOP_PER_MAC,
                                          d_nope=model.d_nope, d_r=model.d_r, d_v=model.d_v))
        e_x, e_att_fl = eff.contig_flops.value, eff.prefill_attn_flops.value
    if moe_ep == 1 or layout.balanced:
        imb = 1.0
    elif layout.redundant if layout.eplb is None else layout.eplb:
        imb = eff.imbalance_eplb.value
    else:
        r1, _, _ = unbalanced_points()
        imb = float(_fast(imbalance_unbalanced, r_slot=r1, p_imb=_imbalance_exponent(), n_experts=model.n_experts,
                                         N_ep=moe_ep))
    accept = (eff.mtp_accept.value if layout.accept is None else layout.accept) if layout.mtp else 0.0
    wb = WEIGHT_BYTES
    values = dict(
        n_layers=float(model.n_layers), n_dense=float(model.n_dense), n_heads=float(model.n_heads),
        n_experts=float(model.n_experts), top_k=float(model.top_k), h=float(model.h),
        E_red=float(layout.redundant), N_ep=float(layout.ep), T_a=float(layout.attn_tp), T_m=float(layout.moe_tp),
        m_mb=float(layout.micro_batches), s_q=float(1 + layout.mtp), S_kv=S_kv, kv_rd=1.0 if decode else 0.0,
        P_at=p_at, P_ds=p_ds, P_hd=p_hd, P_e=p_e, A_f=a_f, flop_mac=float(FLOP_PER_MAC),
        b_aw=wb[p.dense], b_dw=wb[p.dense], b_mw=wb[p.moe], b_hw=wb["bf16"],
        F_a=gpu.flops(p.attn), F_d=gpu.flops(p.dense), F_m=fl[p.moe], F_h=gpu.dense_bf16,
        BW=gpu.hbm_bandwidth, BW_nv=gpu.nvlink, BW_so=gpu.scale_out,
        e_mbw=eff.mla_bw.value, e_mfl=e_att_fl, e_gbw=eff.gemm_bw.value, e_gfl=eff.gemm_flops.value,
        e_xfl=e_x, e_so=e_so_v, e_nv=e_nv_v, e_ar=eff.allreduce.value, I_ep=imb,
        V_so=v_so, V_nv=v_nv, t_lat=LINK_LATENCY_S["scale_out"] if multi else lat_nv, t_ar_lat=lat_nv,
        f_sm=sm, t_0=layout.overhead_s, kappa=_default_kappa() if layout.kappa is None else layout.kappa, n_dr=float(layout.mtp), p_acc=accept, b_comb=b_c,
    )
    values["K_k"] = float(kernels_per_step(model))
    values.update(moe_tp_on=float(layout.moe_tp > 1), overlapped=float(layout.overlapped),
                  decode=float(decode))
    values["t_k0"] = eff.kernel_floor_s.value
    a = float(_fast(mtp_tokens, p_acc=accept, n_dr=layout.mtp)) if layout.mtp else 1.0
    values["accept_tok"] = a
    values["n_emb"] = 1.0 if model.tie_embeddings else 2.0
    w_res = float(_fast(weights_resident, **values))
    return Unit(model, gpu, layout, phase, values, w_res, a)


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


def _default_kappa() -> float:
    from .calibration import pipeline_efficiency
    return pipeline_efficiency().value


@lru_cache(maxsize=None)
def _imbalance_exponent() -> float:
    r1, rk, k = unbalanced_points()
    return float(np.log(r1 / rk) / np.log(k))


def _fast(f, **kw):
    """A formula's lambdified function on trusted internal values (inputs validated upstream)."""
    return f._fn(*[kw[s.name] for s in f.symbols])


def terms(u: Unit, batch, ctx, s_q=None) -> dict:
    """Step-time terms (s), step time, rates and the roofline bound for ``batch`` requests per
    attention instance at ``ctx`` tokens of context (numbers or arrays of one shape).

    Keys: ``t_kernels``, ``t_attn``, ``t_dense``, ``t_head``, ``t_moe``, ``t_comm``, ``t_mtp``,
    ``t_step``; ``tokens_per_s_per_user``, ``tokens_per_s_per_gpu`` (output tokens for decode,
    input tokens for prefill), ``bound_tokens_per_s_per_gpu`` (the roofline bound at the same
    configuration, with every draft token accepted).
    """
    v = dict(u.values)
    v["batch"], v["ctx"] = batch, ctx
    if s_q is not None:
        v["s_q"] = s_q
    return evaluate(v)


def evaluate(v: dict) -> dict:
    """:func:`terms` on a dictionary of symbol values, any of which may be arrays that broadcast
    (one unit's values with arrays of batch and context, or :func:`stack`-ed units): one
    lambdified call for every term, no Python loop over configurations."""
    args = [v[s.name] for s in _ARGS]
    tk_, ta_, td_, th_, tm_, ta2a, tar, tmar, bound = _compiled()(*args)
    scalar = isinstance(v["overlapped"], float)   # one unit: choose the branch instead of computing both
    if scalar:
        tc_ = (tmar if v["moe_tp_on"] else ta2a) + tar
    else:
        tc_ = np.where(v["moe_tp_on"], tmar, ta2a) + tar
    common = dict(ta=ta_, td=td_, th=th_, tm=tm_, tk=tk_, tc=tc_, t_0=v["t_0"], f_sm=v["f_sm"], kappa=v["kappa"])
    overlap = dict(b_disp=comm.FP8_DISPATCH_BYTES, b_comb=comm.BF16_BYTES)
    if scalar:
        t = _fast(step_overlap, **common, **overlap) if v["overlapped"] else _fast(step_serial, **common)
    else:
        t = np.where(v["overlapped"], _fast(step_overlap, **common, **overlap), _fast(step_serial, **common))
    t_mtp = 0.0 * t
    if (v["n_dr"] > 0) if scalar else np.any(np.asarray(v["n_dr"]) > 0):  # the MTP module: drafts, each one more layer and the head
        v1 = dict(v, s_q=1.0)
        k1, a1, d1, h1, m1, x1, r1, y1, _ = _compiled()(*[v1[s.name] for s in _ARGS])
        t_mtp = _fast(mtp_time, n_dr=v["n_dr"], n_layers=v["n_layers"], th=h1, kappa=v["kappa"],
                      tl=a1 + d1 + m1 + k1 + np.where(v["moe_tp_on"], y1, x1) + r1)
        t = t + t_mtp
    if scalar:  # prefill: new tokens per request
        tokens, ideal = (v["accept_tok"], 1 + v["n_dr"]) if v["decode"] else (v["s_q"], v["s_q"])
    else:
        tokens = np.where(v["decode"], v["accept_tok"], v["s_q"])
        ideal = np.where(v["decode"], 1 + v["n_dr"], v["s_q"])
    per_user = tokens / t
    per_gpu = v["batch"] * per_user / v["T_a"]
    return {"t_kernels": tk_, "t_attn": ta_, "t_dense": td_, "t_head": th_, "t_moe": tm_, "t_comm": tc_,
            "t_mtp": t_mtp, "t_step": t, "tokens_per_s_per_user": per_user, "tokens_per_s_per_gpu": per_gpu,
            "bound_tokens_per_s_per_gpu": v["batch"] * ideal / v["T_a"] / bound}


def stack(units) -> dict:
    """The symbol values of several units as arrays of shape (units, 1, 1), with their memory
    constants, ready for :func:`evaluate` with batch (1, B, 1) and context (1, 1, C)."""
    rows = [_memory_values(u) for u in units]
    return {k: np.array([r[k] for r in rows], dtype=float).reshape(-1, 1, 1) for k in rows[0]}


def free_bytes(v: dict, batch, ctx):
    """HBM left per GPU (bytes; negative: does not fit) for stacked units at ``batch``, ``ctx``
    (:data:`hbm_free`)."""
    return _fast(hbm_free, **dict(v, batch=batch, ctx=ctx))


def _buffer_bytes_per_token(u: Unit) -> float:
    """DeepEP low-latency buffer bytes per token a GPU sends (0 without those buffers)."""
    if not _ll_buffers(u):
        return 0.0
    return float(_fast(ll_buffer_per_token, b_disp=comm.FP8_DISPATCH_BYTES, b_comb=comm.BF16_BYTES,
                       n_experts=u.values["n_experts"], E_red=u.values["E_red"], h=u.values["h"]))


def _memory_values(u: Unit) -> dict:
    return dict(u.values, HBM=u.gpu.hbm_capacity, W_res=u.weights_resident, rho_res=HBM_RESERVE_SHARE,
                buf_tok=_buffer_bytes_per_token(u))


def memory(u: Unit, batch, ctx_max) -> dict:
    """HBM per GPU (bytes): resident weights, KV caches of ``ctx_max`` tokens per request (with a
    paged cache and requests at every stage, the mean context ISL + OSL/2 is the steady state), DeepEP
    low-latency buffers, the runtime reserve, and what is free (negative: does not fit).

    The KV cache of an attention instance is held whole on each of its ``attn_tp`` GPUs (MLA's
    latent cache is not split by heads).  DeepEP's low-latency receive buffers are sized for
    the worst case (:data:`ll_buffer_per_token`)."""
    v = _memory_values(u)
    b = np.asarray(batch, dtype=float)
    return {"weights": u.weights_resident, "kv": b * ctx_max * v["S_kv"],
            "buffers": b * v["s_q"] / u.layout.attn_tp * v["buf_tok"], "reserve": HBM_RESERVE_SHARE * v["HBM"],
            "free": _fast(hbm_free, **v, batch=b, ctx=ctx_max)}


def _ll_buffers(u: Unit) -> bool:
    """DeepEP's low-latency RDMA buffers: decode with expert parallelism across NVLink domains."""
    return u.phase == "decode" and u.layout.moe_ep > 1 and u.layout.moe_tp == 1 and u.layout.ep > u.gpu.nvlink_domain


def fits(u: Unit, batch, ctx_max):
    """True where ``batch`` requests of ``ctx_max`` tokens fit in HBM under the unit's layout."""
    return memory(u, batch, ctx_max)["free"] >= 0


def max_batch(u: Unit, ctx_max):
    """The most requests per attention instance that fit at ``ctx_max`` tokens (0: none); an
    array of contexts gives an array of counts (:data:`batch_fit`)."""
    out = np.asarray(_fast(batch_fit, **_memory_values(u), ctx=np.asarray(ctx_max, dtype=float)), dtype=float)
    return int(out) if out.ndim == 0 else out


def users_that_fit(model: Model, gpu: GPU, layout: Layout, ctx: float) -> int:
    """Requests per attention instance whose ``ctx``-token caches fit next to the weights."""
    return max_batch(unit(model, gpu, layout), ctx)


LINK_LATENCY_S["nvlink"] = efficiencies().latency_nvlink_s.value
