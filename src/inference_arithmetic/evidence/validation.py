"""Validation: predict published serving measurements by other teams, without tuning to them.

``data/validation.yaml``: system-level measurements of DeepSeek-V3/R1 (SGLang, TensorRT-LLM, Ant
Group, InferenceX, MLPerf, llm-d) and other shipped models (Llama 3.1 on AMD and NVIDIA GPUs, gpt-oss,
DeepSeek-V3.2), each with its setup as published; ``model`` names the shipped config (``deepseek-r1``
reads ``deepseek-v3``).  :func:`predict` maps a setup to the model's inputs by fixed rules, the same
for every entry, and returns the prediction, the roofline bound and the error.  Nothing feeds back
into the model: the only fitted quantity (:mod:`.calibration`) is fitted on DeepSeek's profiles.

Rules for what a publication leaves unstated (each prediction lists the ones it used):

* the attention layout as stated, else the faster (by the model, at the stated concurrency) of the
  planner's attention layouts (data-parallel or TP8, :class:`.search.Space`); MoE TP 1;
* redundant experts as stated, else none; load-balanced placement (EPLB's cited imbalance) when
  the publication says it balances experts (EPLB), else the cited unbalanced imbalance;
* micro-batches as stated, else the serving framework's own default: one for SGLang, vLLM and
  TensorRT-LLM (two-batch overlap is an opt-in flag in SGLang and vLLM, and TensorRT-LLM has none),
  and DeepSeek's two when the expert-parallel group spans more than one NVLink domain;
* BF16 attention and KV cache unless stated;
* no MTP unless stated; a stated accepted length gives the acceptance; one draft token when
  the publication says MTP ran ("MTP on", "MTP enabled") without a count;
* the routed experts' grouped GEMMs at the publication's framework's measured kernel table where
  one exists for the GPU, else another framework's table on the same GPU in the stated order
  (:func:`.hardware.kernel_tables.carried_read`, named "carried across frameworks"), else DeepSeek's
  kernels by the transfer rule (also for DeepSeek's in-house system, NVIDIA Dynamo with no engine stated, or none stated);
* decode context = ISL + OSL/2 (the mean in flight: the time and, with a paged cache, the memory),
  or the benchmark dataset's length-biased mean where the entry's cited ``lengths`` give one
  (``context``: requests decode in the batch in proportion to their output length,
  :func:`.serving.workload.inflight_context`);
  requests per GPU as published, capped at the serving configuration's per-instance batch limit
  where the publication's configuration states one (``model_setup.max_batch``, e.g. TensorRT-LLM's
  ``max_batch_size``) and at the most that fit in HBM where the published batch does not fit (a
  server queues the rest), else the largest batch that fits; prefill chunks of 16K tokens per GPU
  (DeepSeek's profile) unless the configuration states its token budget or the publication's engine
  runs a default one (``model_setup.chunk`` or ``model_setup.prefill.chunk``: per GPU, named in the rules;
  a prefill-only entry's chunk is that, or the largest that fits in HBM where it does not);
* an end-to-end entry's prefill on the prefill workers' layout where the configuration states it
  (``model_setup.prefill``: EP size and attention TP), else on the decode layout; no MTP in prefill;
* lengths a publication leaves unstated from its benchmark's published dataset statistics (MLPerf
  DeepSeek-R1: 804 in, 3,886 out) or the benchmark's own definitions applied to the published row
  (the entry's cited ``lengths``);
* an end-to-end entry that does not state the expert-parallel size: the best layout the one search
  finds under what it states (GPU count, concurrency or service level, mode, dtype, framework;
  :mod:`.validation_search`), the chosen layout listed in its rules; where its configuration states the
  decode unit (an MLPerf v6.0 submission's engines: GPUs, attention DP or TP, ``model_setup.decode_unit``),
  the search keeps that unit and chooses the batch (at most the stated batch limit) and the rest.

An entry whose setup lacks the GPU split or the sequence lengths, or whose model or setup the step
model cannot express (simulated MTP, weights offloaded to host memory), is listed as not
expressible, with the reason, and is not counted in the error.
"""
from __future__ import annotations

import re
from functools import lru_cache

from inference_arithmetic import step
from inference_arithmetic.core.errors import Error  # noqa: F401  (re-exported)
from inference_arithmetic.evidence import validation_search
from inference_arithmetic.evidence.validation_setup import (  # noqa: F401  (the chapter and tests read them here)
    Prediction, Skip as _Skip, accept_from_length as _accept_from_length, attention_unstated as _attention_unstated,
    batch_limit, decode_context, entries, entry_framework, entry_model as _model, family, kernel_framework, layout as _layout,
    lengths, metric as _metric, prefill_chunk, prefill_layout)
from inference_arithmetic.evidence.validation_stats import (  # noqa: F401  (re-exported: one import for the book)
    _METRIC, error_shares, error_stats, errors_by, excluded_rows, prediction_rows, publisher_group)
from inference_arithmetic.evidence import validation_stats as _stats
from inference_arithmetic.evidence.waterfall import deepseek_waterfall  # noqa: F401  (the chapter reads it here)
from inference_arithmetic.hardware.gpus import generation, gpu
from inference_arithmetic.serving import mixed, modes, prefill as _prefill, search as _search
from inference_arithmetic.step.unit import unsupported

__all__ = ["Prediction", "entry_framework", "entries", "predict", "predict_all", "summary", "error_stats", "scored",
           "errors_by", "error_shares", "family", "run_group", "SCENARIOS"]

#: MLPerf's scenarios, as the entry ids end
SCENARIOS = ("server", "offline", "interactive")


def run_group(p: Prediction) -> str:
    """A prediction's group for :func:`.validation_stats.error_shares`: its publisher (MLPerf with its round and
    scenario), model family and GPU generation, e.g. ``MLCommons MLPerf v5.1 server: deepseek-v3, Blackwell``."""
    rnd = re.match(r"mlperf(\d)(\d)-", p.id)
    scenario = next((x for x in SCENARIOS if p.id.endswith(x)), None) if rnd else None
    head = publisher_group(p) + (f" v{rnd[1]}.{rnd[2]}" if rnd else "") + (f" {scenario}" if scenario else "")
    return f"{head}: {family(p)}, {generation(p.gpu)}"


def _decode_rate(u, e, notes, ctx, ctx_mem):
    """Decode at the published concurrency: ``(terms, requests per instance, busy share)``.

    With fewer requests than attention instances, each busy instance holds one request and
    the rest are idle (``busy`` < 1 scales the pool's throughput)."""
    conc = e.get("concurrency") or {}
    per_gpu = conc.get("per_gpu")
    gpus_d = e.get("gpus_decode") or e.get("gpus_total")
    busy = 1.0
    if per_gpu is None and conc.get("total") and gpus_d:
        per_gpu = conc["total"] / gpus_d
    if per_gpu is None:
        b, most = step.max_batch(u, ctx_mem), batch_limit(e)
        if most and b > most:                  # the scheduler's limit caps what would fit
            notes.append(f"{most} requests per attention instance, the serving configuration's batch limit "
                         f"(the {b:g} that fit exceed it)")
            b = float(most)
        else:
            notes.append("largest batch that fits")
    else:
        b = per_gpu * u.layout.attn_tp
        if b < 1:
            busy, b = b, 1.0
        most = batch_limit(e)
        if most and b > most:                  # the scheduler's limit: the server queues the rest
            notes.append(f"batch capped at {most} requests per attention instance, the serving "
                         f"configuration's batch limit (the published {b:g} exceed it; the server queues the rest)")
            b = float(most)
        if not step.fits(u, b, ctx_mem):       # a server queues what does not fit: the batch it can hold
            most = step.max_batch(u, ctx_mem)
            if most >= 1:
                notes.append(f"batch capped at {most:g} requests per instance, the most that fit in HBM "
                             f"(the published {b:g} do not; the server queues the rest)")
                b = float(most)
    if b < 1 or not step.fits(u, b, ctx_mem):
        raise _Skip(f"the model says {b:g} requests per instance do not fit in HBM")
    return step.terms(u, float(b), ctx), b, busy


def predict(key: str, kappa: float | None = None, framework: str | None = None) -> Prediction:
    """The model's prediction for validation entry ``key`` (``kappa``: override the calibrated
    pipeline efficiency, for sensitivity studies; ``framework``: whose kernels, ``None``: the
    publication's framework by the rule of the module's header).  Where the entry leaves the
    attention layout unstated, each of the planner's attention layouts (:class:`.search.Space`'s
    ``attn_tp`` that divide the unit) is predicted and the fastest kept (the model's own choice,
    never the measurement's).  Where it leaves the expert-parallel size unstated, the one search
    chooses the layout (:mod:`.validation_search`; ``kappa`` is no input of the search, so such an
    entry is not predicted under a ``kappa`` override)."""
    e = entries()[key]
    if validation_search.searched(e):
        if kappa is not None:
            return Prediction(**_base(key), predicted=None, bound=None, expressible=False,
                              reason="layout chosen by the search, which takes no kappa override")
        return validation_search.predict(key, _base(key), framework)
    if not _attention_unstated(e):
        return _predict(key, kappa, framework, None)
    ep = int((entries()[key].get("layout") or {}).get("ep") or 1)
    tries = [_predict(key, kappa, framework, t) for t in _search.Space().attn_tp if t <= ep and ep % t == 0]
    ok = [p for p in tries if p.predicted is not None]
    return max(ok, key=lambda p: p.predicted) if ok else tries[0]


def _base(key: str) -> dict:
    """The :class:`Prediction` fields that name entry ``key`` and its measurement."""
    e = entries()[key]
    metric, measured = _metric(e)
    return dict(id=key, publisher=e.get("publisher", ""), src=e.get("src", ""), also=tuple(e.get("also") or ()),
                gpu=e.get("gpu", ""), model=str(e.get("model") or ""),
                phase=e.get("phase", ""), metric=metric, measured=measured)


def _budget_rule(chunk: float) -> str:
    """The rule a stated (or engine-default) per-step token budget adds to a prediction's rules."""
    return f"prefill chunks of {chunk:,.0f} new tokens per GPU (the serving engine's per-step token budget)"


def _mixed(u, e: dict, b: float, ctx: float, isl: float, osl: float, notes: list) -> dict | None:
    """Aggregated serving of decode unit ``u`` at ``b`` requests per instance in mixed steps (:mod:`.mixed`):
    chunk steps that fill the per-step token budget (the configuration's, else the book's default chunk per GPU)
    beside the decode batch, the batch capped where its steps would not keep pace with its prompts inside the
    budget; ``None`` where the framework keeps separate prefill steps."""
    if not mixed.mixes(u.layout.framework) or mixed.prefill_phase(u) is None:
        return None
    s_q = 1.0 + u.layout.mtp
    budget = float(prefill_chunk(e, _prefill.PREFILL_CHUNK_TOKENS)) * u.layout.attn_tp   # tokens per step and instance
    cap = float(modes.mixed_batch_cap.fast(N_tok=budget, s_q=s_q, a_acc=u.accept_per_step, L_new=isl, L_o=osl))
    if cap < b:
        b = max(1.0, float(int(cap)))
        notes.append(f"decode batch {b:,.0f} requests per instance: the most whose steps keep pace with their "
                     f"prompts inside the budget of {budget:,.0f} tokens per step")
    chunk = max(budget - b * s_q, 1.0)
    out = mixed.one(u, b, ctx, chunk, isl, osl)
    if out["chunk_share"] > 1:
        return None
    notes.append(f"aggregated in mixed steps (the framework's scheduler puts prompt chunks into decode steps): "
                 f"{out['chunk_share']:.0%} of the steps carry a chunk of {chunk:,.0f} prompt tokens beside "
                 f"{b:,.0f} decode requests per instance")
    return out


def _predict(key: str, kappa: float | None, framework: str | None, attn_tp: int | None) -> Prediction:
    e = entries()[key]
    base = _base(key)
    metric = base["metric"]
    notes: list[str] = []
    try:
        g = gpu(e["gpu"])
        m = _model(e)
        if unsupported(m):
            raise _Skip(unsupported(m))
        isl, osl = lengths(e, notes)
        if isl is None:
            raise _Skip("sequence lengths not stated")
        layout = _layout(e, g, notes, "decode" if e["phase"] != "prefill" else "prefill", attn_tp)
        fw = kernel_framework(key, framework)
        layout = step.Layout(**{**layout.__dict__, "framework": fw,
                                **({} if kappa is None else {"kappa": kappa})})
        if e["phase"] == "prefill":
            u = _prefill.prefill_unit(m, g, layout)
            notes.append(f"kernels: {u.kernels}")
            want = prefill_chunk(e, _prefill.PREFILL_CHUNK_TOKENS)
            chunk = _prefill.chunk_that_fits(u, float(isl), chunk=want)
            if chunk is None:
                raise _Skip(f"the model says one {isl}-token prompt does not fit in HBM")
            if chunk < want:
                notes.append(f"prefill chunk {chunk:,.0f} new tokens per GPU (the largest that fits; "
                             f"{want:,.0f} does not)")
            elif prefill_chunk(e, None) is not None:
                notes.append(_budget_rule(chunk))
            out = _prefill.prefill(u, float(isl), chunk=chunk)
            return Prediction(**base, predicted=float(out["input_tokens_per_s_per_gpu"]),
                              bound=float(out["bound_tokens_per_s_per_gpu"] * isl / out["new_tokens"]),
                              expressible=True, assumptions=tuple(notes))
        osl_v = float(osl or 0)
        if osl is None:
            notes.append("OSL not stated: context = ISL")
        # mean context in flight: the time and, with a paged cache, the memory
        ctx = decode_context(e, isl, osl_v, notes) or isl + osl_v / 2
        u = step.unit(m, g, layout)
        notes.append(f"kernels: {u.kernels}")
        if e["phase"] == "decode":
            t, _, busy = _decode_rate(u, e, notes, ctx, ctx)
            key_out = "tokens_per_s_per_user" if metric == "tokens_per_s_per_user" else "tokens_per_s_per_gpu"
            return Prediction(**base, predicted=float(t[key_out]),
                              bound=float(t["bound_tokens_per_s_per_gpu"]) if key_out == "tokens_per_s_per_gpu" else None,
                              expressible=True, assumptions=tuple(notes))
        if osl is None:
            raise _Skip("output length not stated")
        pu = _prefill.prefill_unit(m, g, prefill_layout(e, g, layout, notes))
        notes += [f"prefill {part}" for part in pu.kernels.split("; ") if part.startswith("attention: ")
                  and part not in u.kernels]   # the prefill unit's attention table where it is not decode's
        chunk = prefill_chunk(e, _prefill.PREFILL_CHUNK_TOKENS)
        if prefill_chunk(e, None) is not None:
            notes.append(_budget_rule(chunk))
        pre = _prefill.prefill(pu, float(isl), chunk=chunk)
        t, b, busy = _decode_rate(u, e, notes, ctx, ctx)
        R_p, R_d, r_d = (float(pre["input_tokens_per_s_per_gpu"]), float(t["tokens_per_s_per_gpu"]) * busy,
                         float(t["tokens_per_s_per_user"]))
        bound_d = float(t["bound_tokens_per_s_per_gpu"])
        bound_p = float(pre["bound_tokens_per_s_per_gpu"] * isl / pre["new_tokens"])
        mix = _mixed(u, e, b, ctx, float(isl), osl_v, notes) if e.get("mode") == "agg" else None
        if mix is not None:                 # aggregated, the framework's scheduler mixing prompts into decode steps
            scale = (isl + osl_v) / osl_v if metric == "total_tokens_per_s_per_gpu" else 1.0
            pred, bound = ((mix["user"], None) if metric == "tokens_per_s_per_user" else
                           (mix["rate"] * busy * scale, mix["bound"] * scale))
        elif e.get("mode") == "agg":
            per_gpu, per_user = modes.mode_rates("agg", R_d, R_p, r_d, isl, osl_v)
            # input+output tokens/s (a total throughput) is the output rate times (ISL + OSL) / OSL
            scale = (isl + osl_v) / osl_v if metric == "total_tokens_per_s_per_gpu" else 1.0
            if metric == "tokens_per_s_per_user":
                pred, bound = per_user, None
            else:
                pred, bound = per_gpu * scale, modes.mode_rates("agg", bound_d, bound_p, r_d, isl, osl_v)[0] * scale
        else:
            n_p, n_d = e.get("gpus_prefill"), e.get("gpus_decode")
            if not (n_p and n_d):
                raise _Skip("prefill/decode GPU split not stated")
            if metric == "tokens_per_s_per_user":
                pred, bound = r_d, None
            elif metric == "total_tokens_per_s_per_gpu":
                pred = modes.total_rate_disagg.fast(N_p=n_p, N_d=n_d, R_p=R_p, R_d=R_d, L_i=isl, L_o=osl_v)
                bound = modes.total_rate_disagg.fast(N_p=n_p, N_d=n_d, R_p=bound_p, R_d=bound_d,
                              L_i=isl, L_o=osl_v)
            else:
                pred = modes.requests_fixed_split.fast(N_p=n_p, N_d=n_d, R_p=R_p, R_d=R_d, L_i=isl,
                             L_o=osl_v) * osl_v / (n_p + n_d)
                bound = None
        return Prediction(**base, predicted=float(pred), bound=None if bound is None else float(bound),
                          expressible=True, assumptions=tuple(notes))
    except _Skip as s:
        return Prediction(**base, predicted=None, bound=None, expressible=False, reason=str(s),
                          assumptions=tuple(notes))


@lru_cache(maxsize=None)
def predict_all(kappa: float | None = None, framework: str | None = None) -> tuple[Prediction, ...]:
    """Every validation entry, predicted (``kappa``, ``framework``: as in :func:`predict`)."""
    return tuple(predict(k, kappa, framework) for k in entries())


def scored(preds=None) -> list:
    """The predictions that are expressible and have a measured value to compare with (default:
    :func:`predict_all`)."""
    return _stats.scored(predict_all() if preds is None else preds)


def summary(preds=None) -> dict:
    """:func:`.validation_stats.summary` of ``preds`` (default: :func:`predict_all`)."""
    return _stats.summary(predict_all() if preds is None else preds)
