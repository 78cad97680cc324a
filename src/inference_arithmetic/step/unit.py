"""A deployment unit's constants: every input of the step formulas that does not depend on batch
or context, in SI, built once per (model, GPU, layout, phase).

Decode and prefill are two uses of one step structure; what differs between them is one row of
:data:`PHASES` (the attention form, whether KV is read, the grouped-GEMM and all-to-all kernels),
not a branch in the evaluation.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from inference_arithmetic.core import fast
from inference_arithmetic.core.cited import read_yaml
from inference_arithmetic.core.errors import InputError
from inference_arithmetic.hardware.efficiency import efficiencies, kernels_label, unbalanced_points
from inference_arithmetic.hardware.gpus import GPU, vendor
from inference_arithmetic.hardware.kernel_tables import DEEPSEEK_KERNELS, carried_label, carried_read, moe_curve
from inference_arithmetic.model import kv_bytes, param_count
from inference_arithmetic.model.config import Model
from inference_arithmetic.model.dtypes import BF16_BYTES, BYTES, FLOP_DTYPE, FLOP_PER_MAC, FP8_DISPATCH_BYTES, moe_flop_dtype
from inference_arithmetic.step import curves, curves_dsa, curves_gqa
from inference_arithmetic.step.curves_comm import a2a_bytes, a2a_curve
from inference_arithmetic.step.curves import CURVE_KEYS, GRID_TOKENS
from inference_arithmetic.step.feasibility import check_layout
from inference_arithmetic.step.layout import LINK_LATENCY_SCALE_OUT_S, Layout, kernels_per_step
from inference_arithmetic.step.memory import max_batch
from inference_arithmetic.step.sparse_values import sparse_values

__all__ = ["Unit", "unit", "PHASES", "Phase", "fitted", "users_that_fit", "unsupported", "GRID_TOKENS",
           "DEEPSEEK_KERNELS"]

#: tokens of the expert-parallel group entering a MoE layer at which a framework's measured
#: grouped-GEMM rate is stored per unit (:data:`.curves.GRID_TOKENS`); the measured points are
#: interpolated log-log onto it, and beyond the measured range the rate at the nearest end is held
_LOG_GRID = np.log(np.array(GRID_TOKENS, dtype=float))


@dataclass(frozen=True)
class Phase:
    """What a phase changes in the step structure: the attention FLOP formula and its kernel
    efficiency, whether the KV cache is read (``kv_read``), the grouped-GEMM kernel, the
    all-to-all kernel family (low-latency or normal), whether that kernel takes SMs while
    overlapped, and whether the output head computes the MTP drafts' positions too
    (``drafts_sampled``: decode verifies each draft, so ``s_smp`` = 1 + drafts; a prefill step
    samples one position per request, ``s_smp`` = 1, :data:`.operations.head_rows`)."""

    attn_flop: object   # the generated function of the attention-FLOP formula (:mod:`.operations`)
    attn_efficiency: str
    kv_read: float
    grouped_efficiency: str
    a2a: str
    a2a_takes_sms: bool
    drafts_sampled: bool


#: The two phases (DeepSeek's kernels: FlashMLA absorbed for decode, unabsorbed MLA for prefill;
#: DeepGEMM masked and contiguous grouped GEMMs; DeepEP low-latency and normal kernels).  The step
#: model's prefill step holds whole prompts (:func:`.serving.prefill_step.prefill`: a prompt longer
#: than the chunk is processed alone), so every request of a prefill step ends its prompt in it and
#: samples one token; a serving engine computes logits at that position only: vLLM
#: (vllm-project/vllm vllm/v1/worker/gpu_model_runner.py, ``_prepare_inputs``: ``logits_indices =
#: query_start_loc[1:] - 1``, one row per request, a mid-prompt chunk's computed and discarded),
#: SGLang (sgl-project/sglang python/sglang/srt/layers/logits_processor.py: in extend mode without
#: ``extend_return_logprob``, ``last_index = cumsum(extend_seq_lens) - 1``), TensorRT-LLM
#: (``gather_context_logits`` / ``return_context_logits`` default False, nvidia.github.io/TensorRT-LLM
#: features/additional-outputs.html); read 2026-12-01.
PHASES = {
    "decode": Phase(fast.attn_flop_mla, "mla_flops", 1.0, "grouped_flops", "ll", False, True),
    "prefill": Phase(fast.attn_flop_mla_prefill, "prefill_attn_flops", 0.0, "contig_flops", "normal", True, False),
}


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
    kernels: str = DEEPSEEK_KERNELS


@lru_cache(maxsize=None)
def fitted(name: str) -> float:
    """A constant fitted on the calibration set, as stored in ``data/fitted.yaml`` (re-fit and
    written by ``python -m inference_arithmetic.evidence.calibration --write``)."""
    return float(read_yaml("fitted.yaml")[name]["value"])


def unsupported(model: Model) -> str | None:
    """Why the step model cannot express ``model`` yet (one line naming what is missing), or ``None``.

    Covered: MLA (dense, or DeepSeek Sparse Attention: :mod:`.sparse`) and MHA/GQA attention (with
    sliding-window layers), dense and mixture-of-experts FFNs.  Under DeepSeek's kernels GQA attention
    is costed with the MLA kernels' achieved rates (the transfer rule of :mod:`.hardware.efficiency`);
    a serving framework's measured GQA decode and prefill attention is read where its table has the heads
    (:mod:`.curves_gqa`)."""
    if model.index_topk and not (model.index_heads and model.index_dim):
        return (f"{model.name}: DeepSeek Sparse Attention needs index_n_heads and index_head_dim "
                f"next to index_topk {model.index_topk}")
    return None


def _kv_bytes(model: Model, dtype: str) -> float:
    why = unsupported(model)
    if why:
        raise InputError(why)
    return float(kv_bytes.kv_bytes_per_token(model, dtype))


@lru_cache(maxsize=256)
def _param_split(model: Model) -> tuple[float, float, float, float]:
    """(attention, dense/shared/router/norm, head, one routed expert) parameters of ``model``."""
    rep = param_count.replicated_param_count(model)
    attn_layer = param_count.count_params(model).attention_per_layer
    p_at = float(attn_layer * model.n_layers)
    p_hd = float(model.vocab * model.h)
    p_e = float(fast.expert_params(h=model.h, d_e=model.d_e))
    return p_at, rep - p_at - p_hd, p_hd, p_e


@lru_cache(maxsize=None)
def _imbalance_exponent() -> float:
    r1, rk, k = unbalanced_points()
    return float(np.log(r1 / rk) / np.log(k))


def _imbalance(model: Model, layout: Layout, eff) -> float:
    if not model.is_moe or layout.moe_ep == 1 or layout.balanced:
        return 1.0
    if layout.redundant if layout.eplb is None else layout.eplb:
        return eff.imbalance_eplb.value
    r1, _, _ = unbalanced_points()
    return float(fast.imbalance_unbalanced(r_slot=r1, p_imb=_imbalance_exponent(), n_experts=model.n_experts,
                                           N_ep=layout.moe_ep))


@lru_cache(maxsize=4096)
def unit(model: Model, gpu: GPU, layout: Layout, phase: str = "decode") -> Unit:
    """The constant inputs of the step formulas for ``model`` on ``gpu`` under ``layout``.

    ``phase`` is ``"decode"`` (absorbed MLA reading the KV cache, masked grouped GEMMs,
    DeepEP low-latency all-to-all, no SMs lost to it) or ``"prefill"`` (MLA in its prefill
    form, contiguous grouped GEMMs, node-deduplicated normal all-to-all that takes SMs):
    :data:`PHASES`.  A layout that cannot be built (:func:`.feasibility.layout_error`) raises
    :class:`InputError`.  Units are cached: the same (model, GPU, layout, phase) is built once.
    """
    if phase not in PHASES:
        raise InputError(f"phase must be decode or prefill, got {str(phase)[:40]!r}")
    ph, p = PHASES[phase], layout.precision
    S_kv = _kv_bytes(model, p.kv)
    check_layout(model, gpu, layout, phase)   # the one place: heads, whole experts, expert slices, MTP
    eff = efficiencies(gpu.key)  # the transfer rule, or rates measured on this GPU where published
    p_at, p_ds, p_hd, p_e = _param_split(model)
    moe_rate = moe_flop_dtype(p.moe, gpu.dense_fp4 is not None)
    if moe_rate is None:
        raise InputError(f"{gpu.key} has no FP4 tensor cores: NVFP4 experts need a Blackwell GPU")
    if p.moe == "nvfp4" and vendor(gpu.key) != "NVIDIA":   # AMD's FP4 tensor cores take the OCP MX formats
        raise InputError(f"{gpu.key}: NVFP4 is NVIDIA's format (an FP8 scale per 16 values); the FP4 tensor cores "
                         f"of {gpu.key} take MXFP4 (--moe-dtype mxfp4)")
    G = min(gpu.nvlink_domain, layout.ep)
    multi = layout.ep > gpu.nvlink_domain
    lat_nv = eff.latency_nvlink_s.value
    # a one-GPU unit holds every expert: no dispatch or combine is sent, so none has a latency
    lat_a2a = 0.0 if layout.ep == 1 else (LINK_LATENCY_SCALE_OUT_S if multi else lat_nv)
    v_so, v_nv = a2a_bytes(model, layout.ep, layout.moe_tp, layout.moe_ep, G, ph.a2a)
    a2a_eff = ("a2a_ll_rdma", "a2a_ll_nvlink") if ph.a2a == "ll" else ("a2a_normal_rdma", "a2a_normal_nvlink")
    # DeepSeek's sparse kernels run MLA absorbed in both phases (:mod:`.sparse`)
    attn_flop = (fast.attn_flop_mla if model.index_topk else ph.attn_flop) if model.attention == "mla" \
        else fast.attn_flop_gqa
    dims = dict(n_layers=model.n_layers, n_heads=model.n_heads, flop_mac=float(FLOP_PER_MAC), d_c=model.d_c,
                d_r=model.d_r, d_nope=model.d_nope, d_v=model.d_v, d_head=model.d_head)
    a_f = float(attn_flop(**dims))
    # GQA under attention TP splits the cache by KV heads; an MLA latent is read whole by every GPU
    t_kv = 1.0 if model.attention == "mla" else float(min(layout.attn_tp, model.n_kv_heads))
    accept = (eff.mtp_accept.value if layout.accept is None else layout.accept) if layout.mtp else 0.0
    values = dict(
        n_layers=float(model.n_layers), n_dense=float(model.n_dense), n_heads=float(model.n_heads),
        # a dense model: no MoE layer (n_moe = 0), one placeholder expert so that no term divides by 0
        n_experts=float(max(model.n_experts, 1)), top_k=float(max(model.top_k, 1)), h=float(model.h),
        E_red=float(layout.redundant), N_ep=float(layout.ep), T_a=float(layout.attn_tp), T_m=float(layout.moe_tp),
        P_pp=float(layout.pp),
        m_mb=float(layout.micro_batches), s_q=float(1 + layout.mtp), s_smp=1.0 + layout.mtp * ph.drafts_sampled,
        S_kv=S_kv, kv_rd=ph.kv_read,
        P_at=p_at, P_ds=p_ds, P_hd=p_hd, P_e=p_e, A_f=a_f, flop_mac=float(FLOP_PER_MAC),
        b_aw=BYTES[p.dense], b_dw=BYTES[p.dense], b_mw=BYTES[p.moe], b_hw=BYTES["bf16"],
        F_a=gpu.flops(p.attn), F_d=gpu.flops(FLOP_DTYPE[p.dense]), F_m=gpu.flops(moe_rate), F_h=gpu.dense_bf16,
        BW=gpu.hbm_bandwidth, BW_nv=gpu.nvlink, BW_so=gpu.scale_out,
        e_mbw=eff.mla_bw.value, e_mfl=getattr(eff, ph.attn_efficiency).value, e_gbw=eff.gemm_bw.value,
        e_gfl=eff.gemm_flops.value, e_xfl=getattr(eff, ph.grouped_efficiency).value,
        e_so=getattr(eff, a2a_eff[0]).value, e_nv=getattr(eff, a2a_eff[1]).value, e_ar=eff.allreduce.value,
        I_ep=_imbalance(model, layout, eff), V_so=v_so, V_nv=v_nv,
        t_lat=lat_a2a, t_ar_lat=lat_nv,
        f_sm=eff.comm_sm_share.value if ph.a2a_takes_sms and layout.overlapped and layout.moe_ep > 1 else 0.0,
        t_0=layout.overhead_s, kappa=fitted("kappa") if layout.kappa is None else layout.kappa,
        n_dr=float(layout.mtp), p_acc=accept, b_comb=BF16_BYTES,
        K_k=float(kernels_per_step(model)), t_k0=eff.kernel_floor_s.value,
        moe_tp_on=float(layout.moe_all_reduce and model.is_moe), overlapped=float(layout.overlapped), decode=float(phase == "decode"),
        n_emb=1.0 if model.tie_embeddings else 2.0, T_kv=t_kv,
        n_win=float(model.n_window), W_win=float(model.window),
        **sparse_values(model, gpu.dense_fp8 or gpu.dense_bf16, a_f, float(ph.attn_flop(**dims))),
    )
    values["accept_tok"] = float(fast.mtp_tokens(p_acc=accept, n_dr=layout.mtp)) if layout.mtp else 1.0
    values["f_st"] = float(fast.stage_share(n_layers=values["n_layers"], P_pp=values["P_pp"]))
    values.update(curves.NO_CURVES, q_x=1.0, q_a=1.0, q_p=1.0, q_d=1.0, q_h=1.0, q_r=1.0, q_R=1.0, q_c=1.0, a_mod=0.0,
                  i_mod=0.0)
    dsa, dsa_drop, dsa_labels = curves_dsa.build(model, gpu, layout, phase, values)   # DeepSeek-V3.2's module
    measured, drop, labels = curves.build(model, gpu, layout, phase, values,   # dense, attention, all-reduce
                                          attention=not dsa)
    gqa, gqa_drop, gqa_labels = curves_gqa.build(model, gpu, layout, phase, values)   # a GQA model's own shapes
    labels = gqa_labels + dsa_labels + labels
    values.update(measured, **gqa, **dsa)
    values["K_k"] -= drop + gqa_drop + dsa_drop
    if layout.framework != "deepseek":   # dispatch and combine (no kernel dropped: curves_comm)
        cq, why = a2a_curve(model, gpu, layout, ph.a2a, values)
        labels += [why] if why else []
        if cq is not None:
            values["cq"] = cq
    kernels = kernels_label(gpu.key, DEEPSEEK_KERNELS)
    if layout.framework != "deepseek" and model.is_moe:
        shape = (model.h, model.d_e, model.n_experts, model.top_k)
        used, curve = carried_read(layout.framework,   # another framework's table on this GPU where it has none
                                   lambda f: moe_curve(gpu.key, f, p.moe, layout.moe_ep, shape, layout.moe_tp))
        tp = f", expert TP{layout.moe_tp}" if layout.moe_tp > 1 else ""
        if curve is None:
            kernels = (f"no {layout.framework} table for {gpu.key}, {p.moe} experts, {model.n_experts} experts of "
                       f"{model.h}x{model.d_e}{tp}: {DEEPSEEK_KERNELS}")
        else:
            values["xq"] = curves.frozen(_measured_rate(values, curve))
            # the measured latency includes the two routed grouped GEMMs' fixed kernel time
            values["K_k"] -= 2.0 * (model.n_layers - model.n_dense)
            kernels = carried_label(layout.framework, used, gpu.key, curve.label, f"{p.moe} experts{tp}") \
                + ep_read(curve, layout.moe_ep)
    values["curved"] = float(any(values[k] is not curves.NO_CURVES[k] for k in CURVE_KEYS))   # 0: DeepSeek's kernels
    w_res = float(fast.weights_resident_of(values))
    return Unit(model, gpu, layout, phase, values, w_res, values["accept_tok"], "; ".join([kernels, *labels]))


def ep_read(curve, moe_ep: int) -> str:
    """What the peak check (:func:`.hardware.kernel_tables.moe_curve`) did to a measured MoE curve, in words (empty
    where it kept every point at the unit's own EP, or for an AMD GPU's AITER table): the points it dropped (they
    imply more HBM bandwidth or FLOP/s than the datasheet, so they are not the balanced workload the model prices;
    the rate is interpolated between the points kept) and, where no curve at the unit's EP keeps two points, the
    nearest measured EP read instead (its efficiency relative to the model at that EP carried, not its time)."""
    if curve.rule:
        return ""
    parts = [f"{curve.dropped} of its measured points imply more HBM bandwidth or FLOP/s than the datasheet and are "
             f"dropped, the rate interpolated between the {len(curve.tokens)} kept"] if curve.dropped else []
    if curve.ep != moe_ep:
        lg = np.log2(max(moe_ep, 1))
        near = [f"EP{e}" for e in curve.failed if abs(np.log2(e) - lg) < abs(np.log2(curve.ep) - lg)]
        why = f" ({', '.join(near)} keep{'s' if len(near) == 1 else ''} fewer than two points)" if near else ""
        parts.append(f"read at EP{curve.ep} for the unit's EP{moe_ep}, the nearest measured EP with a curve{why}, its "
                     f"efficiency relative to the model at EP{curve.ep} carried, not its time")
    return f" [{', and '.join(parts)}]" if parts else ""


def _measured_rate(values: dict, curve) -> tuple:
    """log q_x on :data:`GRID_TOKENS`: the model's time for one MoE layer's grouped GEMMs at DeepSeek's
    kernel rates over the measured time, both at the table's setting (its EP and expert TP: EP x TP GPUs,
    no redundant experts, one micro-batch, balanced routing, the group's tokens entering the layer),
    interpolated log-log onto the grid."""
    n = np.array(curve.tokens, dtype=float)
    gpus = float(curve.ep * curve.moe_tp)
    ref = dict(values, N_ep=gpus, E_red=0.0, T_m=float(curve.moe_tp), m_mb=1.0, I_ep=1.0, T_a=1.0, s_q=1.0, q_x=1.0,
               batch=n / gpus)
    n_moe = values["n_layers"] - values["n_dense"]
    log_q = np.log(np.asarray(fast.t_moe_of(ref), dtype=float) / n_moe / np.array(curve.seconds))
    return tuple(float(x) for x in np.interp(_LOG_GRID, np.log(n), log_q))


def users_that_fit(model: Model, gpu: GPU, layout: Layout, ctx: float) -> int:
    """Requests per attention instance whose ``ctx``-token caches fit next to the weights."""
    return max_batch(unit(model, gpu, layout), ctx)
