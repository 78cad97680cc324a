"""The prefill chapter's quantities: attention work of a prompt, the prefill:decode GPU ratio
against the input/output ratio, time to first token against load, aggregated against
disaggregated serving at equal per-user speed, and the prefill validation.

Each function evaluates the library's formulas and step model and returns tidy records (lists
of dicts) for :mod:`.charts` and tables; nothing here is fitted.
"""
from __future__ import annotations

import numpy as np

from inference_arithmetic.serving import modes, operating, prefill
from inference_arithmetic import step
from inference_arithmetic.evidence import validation
from inference_arithmetic.hardware.gpus import GPU, gpu
from inference_arithmetic.model.config import Model, model
from inference_arithmetic.core.formula import formula
from inference_arithmetic.serving.prefill import f_hit, isl
from inference_arithmetic.step import A_f

__all__ = ["prefill_attn_flop", "attention_share", "at_speed", "pd_ratio_curve", "ttft_curve", "modes_frontier", "prefill_validation"]

#: the product of the three (A per query and context token, the tokens computed, their mean context),
#: A L_in (1 - h) (h L_in + L_in (1 - h) / 2), written as it collapses: quadratic in the prompt, and a
#: prefix hit h saves the share h^2 of the work (a test checks the two forms are one)
prefill_attn_flop = formula(
    "prefill_attn_flop", A_f * isl ** 2 * (1 - f_hit ** 2) / 2, "FLOP",
    "attention FLOP of one prompt: each computed token against its mean context (quadratic in the prompt)")


def _dsv3_h800() -> tuple[Model, GPU]:
    return model("deepseek-v3"), gpu("H800")


def attention_share(u: step.Unit, isl: float, cached: float) -> float:
    """Share of a prefill step's computation time (attention, dense GEMMs, head, experts, kernel
    floors) that attention takes, for prompts of ``isl`` tokens on prefill unit ``u``."""
    t = prefill.prefill(u, isl, cached)
    work = float(t["t_attn"] + t["t_dense"] + t["t_head"] + t["t_moe"] + t["t_kernels"])
    return float(t["t_attn"]) / work


def pd_ratio_curve(ratios, osl: float, per_user: float, cached: float, prefill_layout: step.Layout,
                   decode_layout: step.Layout, m: Model | None = None, g: GPU | None = None) -> list[dict]:
    """Prefill GPUs per decode GPU (:data:`.serving.pd_ratio`) for prompts of ``ratio x osl`` tokens.

    The prefill rate comes from :func:`.prefill.prefill` at each prompt length (``cached`` share
    from the prefix cache), the decode rate from the best batch at ``per_user`` tok/s and the mean
    context ``isl + osl / 2``.  Records: ``ratio``, ``isl``, ``R_p``, ``R_d``, ``pd_ratio``,
    ``disagg_rate`` (output tok/s per GPU, all GPUs counted).
    """
    m, g = (m, g) if m is not None else _dsv3_h800()
    r = np.asarray(ratios, dtype=float)
    isl = r * osl
    R_p = np.asarray(prefill.prefill(prefill.prefill_unit(m, g, prefill_layout), isl, cached)
                     ["input_tokens_per_s_per_gpu"], dtype=float)
    ud = step.unit(m, g, decode_layout)
    R_d = np.array([float(operating.at_per_user(ud, float(x) + osl / 2, per_user)["tokens_per_s_per_gpu"])
                    for x in isl])
    ratio = modes.pd_ratio.fast(L_i=isl, L_o=osl, R_p=R_p, R_d=R_d)
    rate, _ = modes.mode_rates("disagg", R_d, R_p, R_d, isl, osl)
    return [{"ratio": float(a), "isl": float(b), "R_p": float(c), "R_d": float(d), "pd_ratio": float(e),
             "disagg_rate": float(f)} for a, b, c, d, e, f in zip(r, isl, R_p, R_d, ratio, rate)]


def ttft_curve(isls, rhos, cached: float, layout: step.Layout, m: Model | None = None,
               g: GPU | None = None) -> list[dict]:
    """Time to first token (:data:`.prefill.ttft_md1`) against the prefill pool's utilisation, for
    each prompt length.  Records: ``isl``, ``rho``, ``ttft_s``, ``t_step``."""
    m, g = (m, g) if m is not None else _dsv3_h800()
    u = prefill.prefill_unit(m, g, layout)
    out = []
    for L in isls:
        t = float(prefill.prefill(u, float(L), cached)["t_step"])
        rho = np.asarray(rhos, dtype=float)
        tt = prefill.ttft_md1.fast(t_srv=t, rho=rho)
        out += [{"isl": float(L), "rho": float(a), "ttft_s": float(b), "t_step": t} for a, b in zip(rho, tt)]
    return out


def modes_frontier(isl: float, osl: float, cached: float, prefill_layout: step.Layout,
                   decode_layout: step.Layout, m: Model | None = None, g: GPU | None = None) -> list[dict]:
    """Output tok/s per GPU (every GPU counted) against each user's output speed, over every batch
    that fits, in the two modes.

    *Disaggregated*: prefill on ``prefill_layout``, decode on ``decode_layout``
    (:data:`.modes.disagg_rate`; a user decodes at the decode pool's speed).  *Aggregated*: the
    decode layout's GPUs also prefill (their own prefill rate, without MTP), and each user is
    slowed by the prefill work interleaved with decode (:data:`.modes.agg_rate`,
    :data:`.modes.agg_user_rate`).  Records: ``mode``, ``batch``, ``per_user``, ``per_gpu``.
    """
    m, g = (m, g) if m is not None else _dsv3_h800()
    ctx = isl + osl / 2
    fr = operating.frontier(step.unit(m, g, decode_layout), ctx)
    R_d, r_u = fr["tokens_per_s_per_gpu"], fr["tokens_per_s_per_user"]
    R_p = float(prefill.prefill(prefill.prefill_unit(m, g, prefill_layout), isl, cached)["input_tokens_per_s_per_gpu"])
    agg_layout = step.Layout(**{**decode_layout.__dict__, "mtp": 0})
    R_pa = float(prefill.prefill(prefill.prefill_unit(m, g, agg_layout), isl, cached)["input_tokens_per_s_per_gpu"])
    dis, _ = modes.mode_rates("disagg", R_d, R_p, r_u, isl, osl)     # both pools always busy: the saturated curve
    agg, agg_u = modes.mode_rates("agg", R_d, R_pa, r_u, isl, osl)
    out = []
    for name, users, rates in (("disaggregated", r_u, dis), ("aggregated", agg_u, agg)):
        out += [{"mode": name, "batch": float(b), "per_user": float(u), "per_gpu": float(r)}
                for b, u, r in zip(fr["batch"], users, rates)]
    return out


def at_speed(frontier: list[dict], mode: str, per_user: float) -> dict | None:
    """The record of ``frontier`` (from :func:`modes_frontier`) with the most output tok/s per GPU
    among those of ``mode`` whose users get at least ``per_user`` tok/s (None: out of reach)."""
    ok = [r for r in frontier if r["mode"] == mode and r["per_user"] >= per_user]
    return max(ok, key=lambda r: r["per_gpu"]) if ok else None


def prefill_validation() -> list[validation.Prediction]:
    """The validation set's prefill entries (other teams' published measurements), predicted (those alone, as
    :func:`.validation.predict_all` predicts each)."""
    return [validation.predict(k) for k, e in validation.entries().items() if e.get("phase") == "prefill"]
