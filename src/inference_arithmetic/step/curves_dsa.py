"""DeepSeek Sparse Attention (DeepSeek-V3.2) read from a serving framework's measured DSA module tables.

aiconfigurator-core 0.12.0 measures DeepSeek-V3.2's whole attention module per layer
(``sparse_attention/<framework>/<version>/dsa_generation_module_perf`` and ``dsa_context_module_perf``;
its ``GenerationDSAModule`` / ``ContextDSAModule``: the q/kv down-projections with the indexer's key
projection, q_b, the lightning indexer (wq_b, weights_proj, FP8 MQA logits, top-k selection), sparse MLA
over the top-k, the absorbed BMMs and o_proj) on H100, H200, B200, B300, GB200 and GB300 under TensorRT-LLM,
SGLang and vLLM (:mod:`.hardware.kernel_curves`: :func:`~.hardware.kernel_curves.dsa_points`,
:func:`~.hardware.kernel_curves.dsa_context_points`).  Rule (one for both phases):

* the module is read at exactly the unit's query heads per GPU (128, 64, 32, 16, 8 measured), KV dtype and
  projection dtype; decode by (requests b s_q / m, the whole context), prefill by (requests b / m, new
  tokens per request), no top-k cap on the axis: the module's own indexer and top-k make its time a
  function of the whole context;
* the rate q_attn is the model's time of the attention core at DeepSeek's kernel rates (MLA over
  min(context, top-k), :mod:`.sparse`) plus the projections, over the measured module time, at each
  measured point, interpolated log-log onto the grids of :mod:`.curves`: per measured context (decode) or
  new tokens (prefill) in log batch, then in log context or new tokens, the rate held at the ends.  The
  order makes a setting beyond the measured batches take the rate of the largest measured batch at the
  same context, not that of a shorter context: the module changes regime along the context axis (MLA over
  the whole context up to the top-k, then over the top-k with an indexer over the whole context; SGLang
  prefills short prompts in a dense MHA kernel, its rows name it), not along the batch axis; SGLang's rows
  stop at fewer contexts for larger batches (batch x tokens up to about 2^18 in decode, 2^13 in prefill); the measured time includes the
  lightning indexer, so the model's own indexer term (``t_index``) is not added where the module is read
  (unit value ``i_mod`` = 1: the factor 1 - i_mod of :data:`.operations.t_attn`); the roofline bound keeps it;
* checked against aiconfigurator-core 0.12.0's own reading of the same tables (``EngineHandle.decode_step_per_op``,
  its ``generation_attention`` op, 2026-12-01): the module time this rule gives (``t_attn`` plus the projections at
  the module's rate) is 8.63 ms per step against its 8.63 ms (SGLang 0.5.14, B200, 128 heads/GPU, 8 requests at
  4,352 tokens), 9.67 against 9.66 and 12.50 against 12.49 (SGLang, H200, 12.5 and 62.5 requests at 2,000 and
  2,050) and 32.5 against 30.4 (vLLM 0.24.0, GB300, 64 heads/GPU, 371 requests at 2,560: its row pick differs
  between the 256 and 512 batches), so the context axis and the top-k are read as aiconfigurator reads them;
  where a V3.2 prediction is off, the module is not the term that differs (at those four points the other
  terms are the routed experts, their communication and the pipeline efficiency kappa the step model divides
  the summed terms by);
* prefill chunks with a cached prefix read the rate at their new tokens (the table measures ``step`` = 0),
  the model's own context term carries the prefix, as for MLA;
* a framework without a table for the GPU reads another framework's on the same GPU
  (:func:`.curves.carried`); a GPU without any DSA table keeps the rule of :mod:`.curves` (DeepSeek-V3's
  dense MLA tables at min(context, top-k) plus the model's indexer).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from inference_arithmetic.core import fast
from inference_arithmetic.hardware.kernel_curves import DSA_HEADS, dsa_context_points, dsa_points
from inference_arithmetic.hardware.kernel_gqa import log_time_grid
from inference_arithmetic.step.curves import DEEPSEEK_V3_MLA, GRID_BATCH, GRID_CTX, LOG_NEW, carried, frozen

__all__ = ["build", "ATTN_KERNELS"]

_LB, _LC = (np.log(np.array(g)) for g in (GRID_BATCH, GRID_CTX))
#: kernels per layer the measured module replaces (as for the MLA block of :mod:`.curves`)
ATTN_KERNELS = 6
#: the indexer the tables measure (DeepSeek-V3.2: index heads, index head dim, top-k; aiconfigurator's
#: DSA_MODEL_DIMS["DeepseekV32ForCausalLM"])
DSA_INDEXER = (64, 128, 2048)


def _block_time(ref: dict) -> np.ndarray:
    """The model's attention core plus projections of one layer at DeepSeek's kernel rates, without the
    indexer (s)."""
    core = np.asarray(fast.t_attn_of(dict(ref, i_mod=1.0)), dtype=float)
    return (core + np.asarray(fast.t_proj_of(ref), dtype=float)) / ref["n_layers"]


def _words(fw, ver, gpu_key, p, heads, phase) -> str:
    what = "DSA decode module table" if phase == "decode" else "DSA prefill module table"
    at = ("the whole context: a row's context is the cached KV length and its time includes the module's own top-k "
          "2048 selection, as aiconfigurator reads its DSA tables" if phase == "decode"
          else "the new tokens per request, no cached prefix")
    return (f"attention: {fw} {ver} {gpu_key} {what} (DeepSeek-V3.2, lightning indexer included, so the model's indexer "
            f"term is not added, {p.kv} KV, {p.dense} projections, {heads} heads/GPU, read at {at}, no top-k cap)")


def _module(gpu_key, fw, layout, v, heads, phase):
    p = layout.precision
    got = (dsa_points if phase == "decode" else dsa_context_points)(gpu_key, fw, p.kv, p.dense, heads)
    if got is None:
        return None, f"attention: no {fw} DSA module table for {gpu_key} ({p.kv} KV, {p.dense} projections, " \
                     f"{heads} heads/GPU)"
    ver, _, pts = got
    key = (gpu_key, fw, p.kv, p.dense, heads, phase) + tuple(v[k] for k in _inputs())
    if key not in _MEMO:   # the same for every EP size of a GPU, precision and attention layout
        _MEMO[key] = _curve(v, pts, phase)
    return _MEMO[key], _words(fw, ver, gpu_key, p, heads, phase)


def _curve(v, pts, phase):
    """log q_attn on (GRID_BATCH x GRID_CTX) in decode, (GRID_BATCH x GRID_NEW) in prefill."""
    b, x = (np.array([k[i] for k, _ in pts], dtype=float) for i in (0, 1))
    if phase == "decode":   # x: the context
        ref = dict(v, batch=b, ctx=x, s_q=1.0, m_mb=1.0, q_a=1.0)
    else:                   # x: new tokens per request, no cached prefix
        ref = dict(v, batch=b, s_q=x, ctx=fast.prefill_context(isl=x, f_hit=0.0), m_mb=1.0, q_a=1.0)
    q = _block_time(ref) / np.array([t for _, t in pts])   # the rate at each measured point
    # per measured context (or new tokens) in log batch, then per grid batch in log context; held at the ends
    by_x = tuple(((xi, bi), qi) for bi, xi, qi in zip(b, x, q))
    return frozen(log_time_grid(by_x, _LC if phase == "decode" else LOG_NEW, _LB).T.ravel())


@lru_cache(maxsize=None)
def _inputs() -> tuple:
    """The unit values the module's model time reads (all but batch and context)."""
    args = set(fast.t_attn.args + fast.t_proj.args + fast.t_index.args)
    return tuple(sorted(args - {"batch", "ctx", "s_q", "m_mb", "q_a"}))


_MEMO: dict = {}


def build(model, gpu, layout, phase: str, values: dict) -> tuple[dict, float, list]:
    """A DSA model's measured attention module for ``layout.framework`` (carried across frameworks on the
    same GPU): ``(updates to values, kernels per step the measured times include, label parts)``; nothing
    for a model without sparse attention, another shape, heads per GPU no table measures, the ``deepseek``
    framework, or a GPU without a DSA table (then :mod:`.curves` reads the dense MLA table)."""
    heads = model.n_heads / layout.attn_tp
    if (layout.framework == "deepseek" or model.attention != "mla" or not model.index_topk
            or (model.h, model.n_heads, model.d_c, model.d_r) != DEEPSEEK_V3_MLA or heads not in DSA_HEADS
            or (model.index_heads, model.index_dim, model.index_topk) != DSA_INDEXER):
        return {}, 0.0, []
    curve, why = carried(layout.framework, gpu.key,
                         lambda f: _module(gpu.key, f, layout, values, int(heads), phase))
    if curve is None:
        return {}, 0.0, [f"{why}: the dense MLA rule instead (DeepSeek-V3's MLA table at min(context, top-k))"]
    return {"aq" if phase == "decode" else "pq": curve, "a_mod": 1.0, "i_mod": 1.0}, \
        float(ATTN_KERNELS * model.n_layers), [why]
