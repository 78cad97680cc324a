"""Where DeepSeek's H800 decode gap goes, loss by loss (the validation chapter's waterfall)."""
from __future__ import annotations

from inference_arithmetic import step
from inference_arithmetic.evidence.measurements import day6
from inference_arithmetic.hardware.gpus import gpu
from inference_arithmetic.model.config import model
from inference_arithmetic.step import bounds

__all__ = ["deepseek_waterfall"]


def deepseek_waterfall() -> list[dict]:
    """Where DeepSeek's H800 decode gap goes: tokens/s per GPU from the KV-only speed of light,
    through each modelled loss, to the model's prediction and DeepSeek's measured 1,850.

    At DeepSeek's production point: H800, EP144 with 32 redundant experts, two micro-batches,
    the published 4,989-token average KV length, and the users per GPU that Little's law gives
    from the published 1,850 tok/s per GPU at 20-22 tok/s per user.  Each row adds one loss to
    the row above (kind: ``bound``, ``model`` or ``measurement``).
    """

    m, g = model("deepseek-v3"), gpu("H800")
    ctx = day6("kv_length")
    per_gpu = day6("decode_per_node") / day6("gpus_per_node")
    r_user = (day6("output_rate_low") + day6("output_rate_high")) / 2
    users = float(bounds.users_in_flight.fast(R_gpu=per_gpu, r_user=r_user))
    u = step.unit(m, g, step.layout_for(m, g, int(day6("decode_ep")),
                                        redundant=int(day6("decode_redundant_experts"))))
    base = dict(u.values, batch=users, ctx=ctx)
    ideal = dict(base, kappa=1.0, I_ep=1.0, K_k=0.0, V_so=0.0, V_nv=0.0, t_lat=0.0, m_mb=1.0, overlapped=0.0)
    rows = [("speed of light: KV cache only, peak bandwidth", float(bounds.sol_rate.fast(accept=1.0, BW=g.hbm_bandwidth,
                                                                            ctx=ctx, S_kv=u.values["S_kv"])), "bound"),
            ("+ weights and FLOP at peak rates (roofline)", float(step.evaluate(base)["bound_tokens_per_s_per_gpu"]),
             "bound")]
    stages = [("+ achieved kernel rates (FlashMLA, DeepGEMM)", {}),
              ("+ a fixed time per kernel", {"K_k": base["K_k"]}),
              ("+ dispatch and combine (DeepEP), not overlapped", {"V_so": base["V_so"], "V_nv": base["V_nv"],
                                                                    "t_lat": base["t_lat"]}),
              ("+ two micro-batches: overlap, weights read twice", {"m_mb": base["m_mb"], "overlapped": base["overlapped"]}),
              ("+ expert load imbalance after EPLB", {"I_ep": base["I_ep"]}),
              ("+ pipeline efficiency (calibrated on DeepSeek's profiles)", {"kappa": base["kappa"]})]
    v = dict(ideal)
    for label, change in stages:
        v.update(change)
        rows.append((label, float(step.evaluate(v)["tokens_per_s_per_gpu"]), "model"))
    rows.append(("DeepSeek's published average (24 h)", per_gpu, "measurement"))
    return [{"step": label, "tokens_per_s_per_gpu": rate, "kind": kind, "users_per_gpu": users} for label, rate, kind in rows]
