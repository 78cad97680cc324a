"""Projections of one deployment for the parallelism and hardware chapters, each labelled as what it is.

* :func:`project`: a deployment's **model prediction** (the step model of :mod:`.step` at its
  most tokens/s per GPU with every user at a stated speed, :func:`.operating.at_per_user`)
  next to the **bound** at the same batch (roofline, no communication, every draft accepted);
  a layout that does not fit, or a speed it cannot reach, gives no rate and says why.
* :func:`fastest_user`: a user's speed with the deployment serving one request per attention
  instance (the interactivity ceiling), predicted and bound.
Units: rates in tokens/s (per GPU or per user), context in tokens, prices in USD per GPU-hour
(``usd_per_hour``) or SI USD per GPU-second (``si``), costs in USD per million tokens.
"""
from __future__ import annotations

from dataclasses import dataclass

from inference_arithmetic.serving import operating
from inference_arithmetic import step
from inference_arithmetic.hardware.gpus import GPU
from inference_arithmetic.model.config import Model
from inference_arithmetic.core.errors import InputError

__all__ = ["Projection", "project", "fastest_user"]


@dataclass(frozen=True)
class Projection:
    """One deployment at a per-user speed floor (tokens/s): the model's prediction and the bound.

    ``predicted``/``bound``: output tokens/s per GPU (``None`` when not reachable); ``per_user``:
    the predicted tokens/s per user at that batch; ``batch``: requests per attention instance;
    ``users_fit``: the most requests per instance that fit at ``ctx`` tokens; ``reason``: why
    there is no rate.
    """

    gpu: str
    layout: step.Layout
    ctx: float
    floor: float
    users_fit: int
    batch: float | None = None
    predicted: float | None = None
    per_user: float | None = None
    bound: float | None = None
    step_s: float | None = None
    reason: str = ""

    @property
    def reachable(self) -> bool:
        return self.predicted is not None


def project(model: Model, gpu: GPU, layout: step.Layout, ctx: float, per_user: float) -> Projection:
    """The most output tokens/s per GPU of ``layout`` with every user at ``per_user`` tokens/s or
    more at ``ctx`` tokens of context (model prediction), and the bound at the same batch."""
    u = step.unit(model, gpu, layout)
    fit = step.max_batch(u, ctx)
    try:
        o = operating.at_per_user(u, ctx, per_user)
    except InputError as e:
        return Projection(gpu.key, layout, float(ctx), float(per_user), fit, reason=str(e))
    return Projection(gpu.key, layout, float(ctx), float(per_user), fit, batch=float(o["batch"]),
                      predicted=float(o["tokens_per_s_per_gpu"]), per_user=float(o["tokens_per_s_per_user"]),
                      bound=float(o["bound_tokens_per_s_per_gpu"]), step_s=float(o["t_step"]))


def fastest_user(model: Model, gpu: GPU, layout: step.Layout, ctx: float) -> dict:
    """A user's output tokens/s with one request per attention instance: ``predicted`` (the step
    model) and ``bound`` (roofline, every draft token accepted), plus the step ``terms`` (s)."""
    u = step.unit(model, gpu, layout)
    t = operating.at_batch(u, ctx, 1.0)
    return {"predicted": float(t["tokens_per_s_per_user"]),
            "bound": float(t["bound_tokens_per_s_per_gpu"]) * layout.attn_tp, "terms": t}
