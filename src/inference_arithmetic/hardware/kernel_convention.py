"""How a measured MoE curve counts its tokens (:mod:`.kernel_tables` says why it matters): the table's
``num_tokens`` is the expert-parallel group's tokens, or each GPU's (the group's = num_tokens x EP), read from
each curve family's own data where the framework's convention was inferred rather than documented."""
from __future__ import annotations

import math
from functools import lru_cache

from inference_arithmetic.hardware.kernel_table_file import _moe_rows, _version_key, table_lines

__all__ = ["PER_GPU_TOKENS", "GROUP_SLOPE", "SLOPE_EPS", "SHAPE", "ep_slope", "per_gpu_tokens", "convention_rows"]

#: the expert shape the table measures at every dtype and routing (DeepSeek-V3/R1): hidden, expert width,
#: experts, top-k
SHAPE = (7168, 2048, 256, 8)
#: frameworks whose tables count tokens per GPU (the group's tokens = num_tokens x EP) at expert TP 1
#: (:func:`per_gpu_tokens`)
PER_GPU_TOKENS = ("sglang", "vllm")
#: a curve family whose compute-bound time falls with EP at this slope or more counts the group's tokens
#: (:func:`ep_slope`: 1 where each GPU's share of the pairs falls as 1/EP, 0 where it does not move)
GROUP_SLOPE = 0.5
#: the EP sizes, against EP 1, whose scaling reads a family's token convention (within one node)
SLOPE_EPS = (2, 4, 8)


@lru_cache(maxsize=None)
def ep_slope(gpu_key: str, framework: str, name: str, shape: tuple, version: str) -> float | None:
    """How a measured curve family's time falls with EP at a fixed ``num_tokens``: the mean over k of
    :data:`SLOPE_EPS` of log(t_EP1 / t_EPk) / log k at the largest token count both curves measure (the
    compute-bound end, where the time follows the pairs a GPU multiplies), expert TP 1; ``None`` where the
    family has no EP 1 curve or none of those EP sizes.  Near 1: the curve counts the group's tokens (a GPU's
    share of num_tokens x top-k pairs falls as 1/k); near 0: it counts each GPU's (every GPU's experts receive
    num_tokens x top-k pairs at every k).  On aiconfigurator-core 0.12.0's tables the families fall into two
    clusters, 0.0-0.34 and 0.72-1.14 (``tests/test_kernel_tables.py``)."""
    eps = _moe_rows(gpu_key, framework)["curves"].get((name, tuple(shape), 1), {}).get(version, {})
    if 1 not in eps:
        return None
    base, slopes = dict(eps[1]), []
    for k in SLOPE_EPS:
        pts = dict(eps.get(k, ()))
        common = sorted(set(base) & set(pts))
        if common:
            slopes.append(math.log(base[common[-1]] / pts[common[-1]]) / math.log(k))
    return sum(slopes) / len(slopes) if slopes else None


def per_gpu_tokens(framework: str, moe_tp: int = 1, gpu_key: str | None = None, name: str | None = None,
                   shape: tuple = SHAPE, version: str | None = None) -> bool:
    """Whether a curve's ``num_tokens`` is read per GPU (the group's tokens = num_tokens x EP).

    At expert TP > 1 never: every framework's curve counts the group's tokens (every GPU of the group runs all
    the group's tokens through its expert slices, so no count is per GPU; aiconfigurator-core 0.12.0 reads
    these rows so: its MoE op at x tokens per attention rank and d attention-DP ranks returns the row at
    num_tokens = x d, e.g. SGLang 0.5.14 H200 FP8 expert TP8 at 12 tokens and DP8 the row at 96, 0.2572 ms,
    vLLM 0.24.0 GB300 NVFP4 expert TP2 at 384 tokens the row at 384, 0.4002 ms; checked 2026-12-01).  At
    expert TP 1, for the frameworks of :data:`PER_GPU_TOKENS`, as the family's own data say where they can
    (the table's name ``name`` of the dtype, the shape and the version given: :func:`ep_slope` below
    :data:`GROUP_SLOPE`; e.g. their FP8-block and NVFP4 curves per GPU, their MXFP4 ones the group's), else
    SGLang's and vLLM's per GPU and TensorRT-LLM's the group's."""
    if moe_tp != 1:
        return False
    if gpu_key is not None and name is not None and version is not None and framework in PER_GPU_TOKENS:
        slope = ep_slope(gpu_key, framework, name, tuple(shape), version)
        if slope is not None:
            return slope < GROUP_SLOPE
    return framework in PER_GPU_TOKENS


def convention_rows() -> list[dict]:
    """Each framework's newest MoE curve families at expert TP 1 (dtype as the table names it, expert shape),
    with :func:`ep_slope` over the GPUs that measure them (``slope_min``, ``slope_max``), the GPUs, and the
    reading the step model takes (``"per GPU"`` or ``"the group's"``), in a fixed order."""
    head, by_op = table_lines()
    acc: dict = {}
    for g, fw in sorted(by_op.get("moe", {})):
        for (name, shape, moe_tp), vers in _moe_rows(g, fw)["curves"].items():
            if moe_tp != 1:
                continue
            version = max(vers, key=_version_key)
            slope = ep_slope(g, fw, name, shape, version)
            if slope is not None:
                acc.setdefault((fw, version, name, shape), []).append((g, slope, per_gpu_tokens(fw, 1, g, name,
                                                                                                 shape, version)))
    rows = []
    for (fw, version, name, shape), got in sorted(acc.items()):
        reads = {r for _, _, r in got}
        rows.append({"framework": fw, "version": version, "dtype": name,
                     "experts": f"{shape[2]} x {shape[0]}x{shape[1]}, top-{shape[3]}",
                     "gpus": ", ".join(g for g, _, _ in got),
                     "slope_min": round(min(s for _, s, _ in got), 2), "slope_max": round(max(s for _, s, _ in got), 2),
                     "reading": " / ".join(sorted("per GPU" if r else "the group's" for r in reads))})
    return rows
