"""Validation entries whose publication leaves the layout unstated: predicted by the one search.

The rule (issue 21): the best layout the one search (:func:`.search.best`, the search ``serve``
runs) finds under what the publication states, nothing else:

* the GPU count it states (``gpus_total``): deployment units of at most that many GPUs, as
  ``serve --max-gpus`` (none stated: every unit the search knows);
* its concurrency where it states that and the GPU count: the batch pinned at the stated requests
  per GPU (each of the search's attention layouts tried, as ``serve --attn ... --batch B``); its total
  concurrency without a GPU count: the unit holds that many requests (each of the search's unit sizes
  and attention layouts tried, the requests per attention instance the total over the unit's instances,
  as ``serve --ep N --attn ... --batch B``, and where the point's speed is stated beside it, the units
  that give it: with the stated requests, a unit of one GPU would always be the most tokens/s per GPU);
  otherwise its service level: a limit it states (``service_level``: MLPerf's TTFT and TPOT
  limits), else the per-user rate it states for the point (``tokens_per_s_per_user``, else 1000 /
  its TPOT), else none (the most tokens/s per GPU at any speed);
* its serving mode (agg or disagg; unstated: the faster of the two, by the model);
* its MoE dtype (unstated: the checkpoint's), and the rules of :mod:`.validation` for the rest:
  BF16 attention and KV cache unless stated, MTP as stated (one draft token when it ran without a
  count, none unless stated), the publication's framework's kernels (DeepSeek's by the transfer
  rule where it has none).

Everything else (expert-parallel size, attention data- or tensor-parallel, the batch, the
prefill partner and its chunk) is the search's choice, recorded in the prediction's rules, except a
decode unit the configuration states without the rest (``model_setup.decode_unit``: an MLPerf
submission's engines of N GPUs, attention DP or TP over the engine; as ``serve --ep N --attn dp|tp``),
which the search keeps while it chooses the batch under the stated limits.  The same setup given to
``serve`` (:func:`serve_argv`) returns the same prediction.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from inference_arithmetic import step
from inference_arithmetic.core.errors import InputError
from inference_arithmetic.evidence.validation_setup import (Prediction, Skip, entries, entry_model, kernel_framework,
                                                            batch_limit, decode_context, decode_unit, lengths, metric,
                                                            mtp_drafts, prefill_workers)
from inference_arithmetic.hardware.gpus import gpu
from inference_arithmetic.serving import mixed, mode_rates, prefill_step as prefill, search
from inference_arithmetic.serving.workload import Service

__all__ = ["SearchSetup", "searched", "setup", "predict", "serve_argv"]


@dataclass(frozen=True)
class SearchSetup:
    """What a publication states, as the search's question: ``modes`` to try, the ``service``
    (lengths in tokens, per-user floor tokens/s, TTFT limit s), the ``space`` and ``max_gpus``
    (``None``: no cap), and the notes saying where each came from."""

    model: object
    gpu: object
    modes: tuple
    service: Service
    space: search.Space
    max_gpus: int | None
    notes: tuple
    batch_per_gpu: float | None = None      # the stated concurrency per GPU (None: not pinned)
    batch_total: float | None = None        # the stated concurrency of a unit whose GPU count is unstated
    unit: tuple | None = None               # the stated decode unit (GPUs, attention TP, MoE TP); None: searched

    def spaces(self) -> list:
        """(attention TP, the search space) to ask: one per attention layout of the search when the
        batch is pinned (the requests per attention instance follow from the requests per GPU), and per
        unit size when the unit's total is (the requests per instance: the total over its instances)."""
        if self.batch_total is not None:
            return [(t, replace(self.space, decode_ep=(ep,), attn_tp=(t,), batch=int(round(self.batch_total * t / ep))))
                    for ep, t in search.unit_layouts(self.gpu, self.space.decode_ep, self.space)
                    if t <= ep and round(self.batch_total * t / ep) >= 1]
        if self.batch_per_gpu is None:
            return [(None, self.space)]
        # each (unit, attention TP) the search builds, the degree as built (a TP degree above a sub-node unit's
        # GPUs spans the unit): the requests per instance are the requests per GPU times the GPUs it spans
        return [(t, replace(self.space, decode_ep=(ep,), attn_tp=(t,), batch=int(round(self.batch_per_gpu * t))))
                for ep, t in search.unit_layouts(self.gpu, self.space.decode_ep, self.space) if t <= ep]


def searched(e: dict) -> bool:
    """True for an end-to-end entry whose publication does not state the expert-parallel size."""
    lay = {**(e.get("layout") or {}), **((e.get("model_setup") or {}).get("layout") or {})}
    return (e.get("phase") == "end-to-end" and lay.get("ep") is None
            and (e.get("model_setup") or {}).get("expressible") is not False)


def _service_level(e: dict, notes: list) -> tuple[float | None, float | None]:
    """(per-user floor tokens/s, TTFT limit s) the publication states; see the module's header."""
    level = e.get("service_level") or {}
    measured = e.get("measured") or {}
    if level:
        pu = 1000.0 / float(level["tpot_ms"]) if level.get("tpot_ms") else None
        ttft = float(level["ttft_ms"]) / 1000.0 if level.get("ttft_ms") else None
        notes.append("service level as the benchmark states it (cited with the entry): "
                     + ", ".join(x for x in (f"TTFT <= {ttft:g} s" if ttft else "",
                                             f"{pu:g} tok/s per user (TPOT {level['tpot_ms']:g} ms)" if pu else "") if x)
                     + (f", p{level['percentile']} limits read as means" if level.get("percentile") else ""))
        return pu, ttft
    if "tokens_per_s_per_user" in measured:
        pu = float(measured["tokens_per_s_per_user"]["value"])
        notes.append(f"per-user floor {pu:g} tok/s (the point's stated per-user rate)")
        return pu, None
    if "tpot_ms" in measured:
        pu = 1000.0 / float(measured["tpot_ms"]["value"])
        notes.append(f"per-user floor {pu:.1f} tok/s (1000 / the point's stated TPOT of "
                     f"{measured['tpot_ms']['value']:g} ms)")
        return pu, None
    notes.append("no service level stated: the most tokens/s per GPU at any speed")
    return None, None


def _states_speed(e: dict) -> bool:
    """True where the entry states a service level or the point's per-user speed (rate or TPOT) beside the
    per-GPU rate it is scored on (a speed that is itself the scored metric is predicted, never a floor)."""
    measured = e.get("measured") or {}
    return metric(e)[0] != "tokens_per_s_per_user" and bool(
        e.get("service_level") or "tokens_per_s_per_user" in measured or "tpot_ms" in measured)


def setup(key: str, framework: str | None = None) -> SearchSetup:
    """The search's question for entry ``key`` (``framework``: as in :func:`.validation.predict`);
    :class:`.validation_setup.Skip` with the reason where the entry cannot be asked."""
    e = entries()[key]
    notes: list[str] = []
    m, g = entry_model(e), gpu(e["gpu"])
    if step.unsupported(m):
        raise Skip(step.unsupported(m))
    isl, osl = lengths(e, notes)
    if isl is None or osl is None:
        raise Skip("sequence lengths not stated")
    prec = e.get("precision") or {}
    moe = prec.get("moe") or step.default_moe_dtype(m.weight_dtype)
    attn, kv = prec.get("attn") or "bf16", prec.get("kv") or "bf16"
    if prec.get("kv") is None:
        notes.append("BF16 KV")
    drafts, accept = mtp_drafts(e, notes, "decode")
    if accept is not None:          # the search (and serve) take no acceptance: say so, never drop it silently
        notes.append(f"the stated MTP acceptance {accept:g} is not used: the search takes the book's default")
    n = e.get("gpus_total")
    conc = e.get("concurrency") or {}
    per_gpu = conc.get("per_gpu") or (conc["total"] / n if conc.get("total") and n else None)
    total = conc.get("total") if per_gpu is None and n is None else None
    if per_gpu is not None:
        per_user, ttft = None, None
        notes.append(f"batch pinned at the stated concurrency: {per_gpu:g} requests per GPU")
    elif total:
        notes.append(f"batch pinned at the stated concurrency: {total:g} requests in the unit (GPU count unstated)")
        # the unit size is the search's choice: the point's stated speed (as the unpinned rule reads it) bounds it
        # too, else the smallest unit holding every request at any speed would be taken
        per_user, ttft = _service_level(e, notes) if _states_speed(e) else (None, None)
    else:
        per_user, ttft = _service_level(e, notes)
    sizes = {} if n is None else {"decode_ep": tuple(s for s in search.EP_SIZES if s <= n),
                                  "prefill_ep": tuple(s for s in search.EP_SIZES if s <= n)}
    if n is not None and not sizes["decode_ep"]:
        raise Skip(f"no deployment unit of at most {n} GPUs (the smallest the search builds is {min(search.EP_SIZES)})")
    unit = decode_unit(e)
    if unit is not None:
        ep, t, moe_tp = unit
        sizes.update(decode_ep=(ep,), attn_tp=(t,), moe_tp=(moe_tp,))   # a TP degree spans the unit (and a smaller prefill unit)
        notes.append(f"decode unit as the configuration states it: {ep} GPU{'s' if ep > 1 else ''}, attention "
                     f"{'data-parallel' if t == 1 else f'TP{t}'}{f', MoE TP{moe_tp}' if moe_tp > 1 else ''}; the batch "
                     f"and the prefill partner the search's" + (f" (units of at most {n} GPUs)" if n is not None else ""))
    else:
        notes.append(f"layout unstated: the search's best in units of at most {n} GPUs (the stated GPU count)"
                     if n is not None else "layout and GPU count unstated: the search's best over every unit size")
    modes = (e["mode"],) if e.get("mode") in search.MODES else search.MODES
    workers = prefill_workers(e)
    if workers is not None and "disagg" in modes:
        sizes["prefill_ep"] = workers[:1]
        notes.append(f"prefill workers as stated: EP{workers[0]} (disaggregated)")
    most = batch_limit(e)
    if most is not None:
        notes.append(f"at most {most:,} requests per attention instance (the configuration's batch limit)")
    space = search.Space(moe_dtypes=(moe,), attn_dtypes=(attn,), kv_dtypes=(kv,), mtp=(drafts,),
                         dense_dtype=prec.get("dense"), max_batch=most,
                         framework=kernel_framework(key, framework), **sizes)
    ctx = decode_context(e, isl, osl, notes)
    return SearchSetup(m, g, modes, Service(isl, osl, per_user, ttft, context=ctx), space, n, tuple(notes), per_gpu,
                       total or None, unit)


def _bound(s: SearchSetup, mode: str, best: dict) -> tuple[float, str]:
    """(output tokens/s per GPU at the roofline bounds of the chosen decode layout and batch and of
    its prefill partner, prefill GPUs counted fully busy; the decode unit's kernels)."""
    d, p = best["layout"], best["prefill_layout"]
    L = step.layout_for(s.model, s.gpu, d["ep"], attn_tp=d["attn_tp"], moe_tp=d["moe_tp"], mtp=d["mtp"],
                        redundant=d["redundant"], micro_batches=d["micro_batches"], framework=s.space.framework,
                        precision=step.Precision(moe=d["moe_dtype"], attn=d["attn_dtype"], kv=d["kv_dtype"],
                                                 dense_dtype=d.get("dense_dtype")))
    svc = s.service
    u = step.unit(s.model, s.gpu, L)
    t = step.terms(u, best["batch_per_instance"], svc.decode_context)
    Lp = step.layout_for(s.model, s.gpu, p["ep"], attn_tp=p["attn_tp"], redundant=p["redundant"],
                         precision=step.Precision(moe=p["moe_dtype"], dense_dtype=p.get("dense_dtype")),
                         framework=s.space.framework)
    pre = prefill.prefill(prefill.prefill_unit(s.model, s.gpu, Lp), svc.isl, svc.cache_hit,
                          chunk=p["chunk_tokens_per_gpu"])
    bound_p = float(pre["bound_tokens_per_s_per_gpu"]) * svc.isl / float(pre["new_tokens"])
    if best.get("agg_steps") == "mixed":          # chunk steps among the decode steps: their bound (:mod:`.mixed`)
        return mixed.one(u, best["batch_per_instance"], svc.decode_context, best["mixed_chunk_tokens_per_gpu"] * L.attn_tp,
                         svc.isl, svc.osl, svc.cache_hit)["bound"], u.kernels
    return float(mode_rates.mode_rates(mode, float(t["bound_tokens_per_s_per_gpu"]), bound_p,
                                       float(t["tokens_per_s_per_user"]), svc.isl, svc.osl)[0]), u.kernels


def best(s: SearchSetup) -> tuple[str, dict]:
    """(mode, :func:`.search.best`'s answer) of the fastest mode (and, with a pinned batch,
    attention layout); :class:`Skip` with the search's reason where none meets the stated constraints."""
    found, why = [], []
    for mode in s.modes:
        for _, space in s.spaces():
            try:
                found.append((mode, search.best(s.model, s.gpu, s.service, mode, space)))
            except InputError as err:
                why.append(str(err))
    if not found:
        raise Skip(f"the search finds no layout under the stated constraints: {why[0]}")
    return max(found, key=lambda x: x[1]["tokens_per_s_per_gpu"])


def predict(key: str, base: dict, framework: str | None = None) -> Prediction:
    """The prediction of a :func:`searched` entry (``base``: the :class:`Prediction` fields that
    name the entry and its measurement)."""
    e = entries()[key]
    notes: list[str] = []
    try:
        s = setup(key, framework)
        notes += s.notes
        mode, b = best(s)
    except Skip as why:
        return Prediction(**base, predicted=None, bound=None, expressible=False, reason=str(why),
                          assumptions=tuple(notes))
    if len(s.modes) > 1:
        notes.append(f"mode unstated: {mode} (the faster of agg and disagg)")
    notes.append(f"searched layout: {search.label(b['layout'])}, {b['batch_per_instance']:.0f} requests per "
                 f"attention instance, prefill EP{b['prefill_layout']['ep']} "
                 f"({b['prefill_layout']['chunk_tokens_per_gpu']:,.0f}-token chunks), "
                 f"{b['tokens_per_s_per_user']:.1f} tok/s per user")
    if b.get("agg_steps") == "mixed":
        notes.append("aggregated in mixed steps (the framework's scheduler puts prompt chunks into decode steps): "
                     f"chunks of {b['mixed_chunk_tokens_per_gpu']:,.0f} new tokens per GPU (the search's, at most "
                     "the prefill partner's) beside the decode batch, in the share of steps that keeps pace with the "
                     "prompts")
    bound, kernels = _bound(s, mode, b)
    notes.append(f"kernels: {kernels}")
    isl, osl = s.service.isl, s.service.osl
    name = metric(e)[0]
    scale = {"total_tokens_per_s_per_gpu": (isl + osl) / osl, "input_tokens_per_s_per_gpu": isl / osl}.get(name, 1.0)
    if name == "tokens_per_s_per_user":
        pred, bound = b["tokens_per_s_per_user"], None
    else:
        pred, bound = b["tokens_per_s_per_gpu"] * scale, bound * scale
    return Prediction(**base, predicted=float(pred), bound=bound, expressible=True, assumptions=tuple(notes))


def serve_argv(key: str, framework: str | None = None) -> tuple[list, str]:
    """(the ``serve`` command line asking what the publication of entry ``key`` states, the mode
    the validation chose): the same pins and constraints as :func:`setup`."""
    s = setup(key, framework)
    mode, b = best(s)
    sp, svc = s.space, s.service
    argv = ["serve", "--model", s.model.name, "--gpu", s.gpu.key, "--mode", mode, "--isl", f"{svc.isl:.0f}",
            "--osl", f"{svc.osl:.0f}", "--moe-dtype", sp.moe_dtypes[0], "--attn-dtype", sp.attn_dtypes[0],
            "--kv-dtype", sp.kv_dtypes[0], "--mtp", str(sp.mtp[0]), "--framework", sp.framework, "--json"]
    argv += ["--max-batch", str(sp.max_batch)] if sp.max_batch is not None else []
    argv += ["--dense-dtype", sp.dense_dtype] if sp.dense_dtype is not None else []
    argv += ["--prefill-ep", str(sp.prefill_ep[0])] if mode == "disagg" and len(sp.prefill_ep) == 1 else []
    if s.batch_per_gpu is not None or s.batch_total is not None:
        t = b["layout"]["attn_tp"]
        argv += ["--batch", f"{b['batch_per_instance']:.0f}", "--attn", "tp" if t > 1 else "dp"]
        argv += ["--attn-tp", str(t)] if t > 1 else []
        argv += ["--ep", str(b["layout"]["ep"])] if s.batch_total is not None else []
    else:
        argv += ["--per-user", repr(svc.per_user)] if svc.per_user is not None else ["--max-throughput"]
    argv += ["--ttft", repr(svc.ttft_s)] if svc.ttft_s is not None else []
    if s.unit is not None and s.batch_per_gpu is None and s.batch_total is None:
        ep, t, moe_tp = s.unit
        argv += ["--ep", str(ep), "--attn", "tp" if t > 1 else "dp"]     # tp: over the unit, as decode_unit states
        argv += ["--moe-tp", str(moe_tp)] if moe_tp > 1 else []
    argv += ["--max-gpus", str(s.max_gpus)] if s.max_gpus is not None else []
    argv += ["--decode-context", f"{svc.context:.0f}"] if svc.context is not None else []
    return argv, mode
