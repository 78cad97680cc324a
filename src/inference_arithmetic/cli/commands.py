"""The subcommands: each turns parsed arguments into a result (a dict or a list of rows).

A command imports what only it needs inside its function (the planner's market, the published
figures, the validation set, the formulas ``sol`` prints, the workload of ``serve`` and ``plan``):
``decode``, ``prefill`` and ``serve`` load neither sympy nor the catalogs they do not read."""
from __future__ import annotations

import sys

import numpy as np

from inference_arithmetic import step
from inference_arithmetic.core import inputs
from inference_arithmetic.hardware import efficiency, gpus, kernel_tables
from inference_arithmetic.model import config, dtypes, param_count
from inference_arithmetic.serving import operating, prefill_step as prefill, search
from inference_arithmetic.cli.args import UsageError, grid, load_model, parse_range



def cmd_model(args) -> dict:
    from inference_arithmetic.model import kv_bytes as kv
    m = load_model(args.config)
    pc = param_count.count_params(m)
    out = {
        "model": m.name, "attention": m.attention, "layers": m.n_layers,
        "dense_layers": m.n_dense, "moe_layers": m.n_moe if m.is_moe else 0,
        "kv_bytes_per_token": {d: kv.kv_bytes_per_token(m, d) for d in ("bf16", "fp8")},
        "params_total": pc.total, "params_active": pc.active,
        "params_active_note": "per token: output head counts, input embedding (a lookup) does not",
        # max_position_embeddings, the most input + output tokens a request holds (null: not stated, not checked)
        "context_window": m.context_window or None,
    }
    if m.is_moe:
        out.update(experts=m.n_experts, shared_experts=m.n_shared, top_k=m.top_k)
    if pc.mtp:
        out["params_mtp"] = pc.mtp
    return out


def cmd_sol(args) -> dict:
    from inference_arithmetic.core import fast
    from inference_arithmetic.model import kv
    from inference_arithmetic.step import bounds
    params = param_count
    m = load_model(args.model)
    g = gpus.gpu(args.gpu)
    ctx = parse_range(args.context, "--context")
    batch = parse_range(args.batch, "--batch") if args.batch is not None else None
    if batch is not None:
        batch, ctx = grid(batch, ctx)  # every combination, aligned in the table and in --json
    S_kv = kv.kv_bytes_per_token(m, args.kv_dtype)
    n_ep = args.ep or 1
    if n_ep > 1 and not m.is_moe:      # a dense model's GPUs split it by tensor parallelism, which sol's bounds do not
        raise UsageError(f"sol --ep: {m.name} is dense (no routed experts to split over EP {n_ep}); sol bounds the "
                         "users of one GPU without tensor parallelism; nearest valid: --ep 1 (decode, prefill and "
                         "serve split a dense model with --attn tp)")
    # the one check of a layout against its model: whole experts per GPU, MTP only with an MTP module
    step.check_layout(m, g, step.Layout(ep=n_ep, redundant=args.redundant, mtp=1 if args.mtp_accept > 0 else 0))
    _within_window(m, float(ctx.max()), what="context")       # a context the model cannot hold has no bound to state
    accept = 1.0 + args.mtp_accept
    s_q = 2.0 if args.mtp_accept > 0 else 1.0  # one MTP draft adds a query token per step
    # the context a request's cache holds and a step reads, in whole-cache tokens: fewer than ctx with
    # sliding windows (held and read) or sparse attention (read)
    held, read = kv.effective_context(m, ctx, args.kv_dtype, read=False), kv.effective_context(m, ctx, args.kv_dtype)
    out: dict = {"model": m.name, "gpu": g.key, "attention_family": m.family, "kv_dtype": args.kv_dtype,
                 "accepted_per_step": accept, "kv_bytes_per_token": S_kv, "context": ctx,
                 "context_read_per_step": read,
                 "kv_bytes_per_user": kv.kv_per_user(ctx=held, S_kv=S_kv),
                 "sol_tokens_per_s": bounds.sol_rate(accept=accept, BW=g.hbm_bandwidth, ctx=read, S_kv=S_kv)}
    if m.attention == "mla":   # the attention core over the tokens a query attends to (sparse: the top-k)
        attended = np.minimum(ctx, m.index_topk) if m.index_topk else ctx
        out["mla_compute_bound_tokens_per_s"] = bounds.mla_compute_rate(
            accept=accept, F=g.dense_bf16, s_q=s_q, n_layers=m.n_layers, ctx=attended, n_heads=m.n_heads,
            flop_mac=bounds.FLOP_PER_MAC, d_c=m.d_c, d_r=m.d_r)
        out["mla_intensity_flop_per_byte"] = bounds.mla_intensity(
            s_q=s_q, n_heads=m.n_heads, flop_mac=bounds.FLOP_PER_MAC, d_c=m.d_c, d_r=m.d_r,
            b_kv=kv.dtype_bytes(args.kv_dtype))
        out["ridge_flop_per_byte"] = bounds.ridge_point(F=g.dense_bf16, BW=g.hbm_bandwidth)
    if args.ep is not None or args.batch is not None:
        weight_dtype = args.weight_dtype or m.weight_dtype or "fp8"   # the checkpoint's format unless given
        wb = dtypes.bytes_per_value(weight_dtype)
        reserve = step.HBM_RESERVE_SHARE * g.hbm_capacity   # the book's one reserve default
        moe = dtypes.ALIASES.get(weight_dtype, weight_dtype)
        if (step.unsupported(m) is None and moe in step.MOE_DTYPES
                and (moe != "nvfp4" or g.dense_fp4 is not None)):
            # the step model's memory accounting (per-component dtypes, DeepEP buffers): the book's one count;
            # a dense model's weight dtype is its dense layers' (a MoE model's names its routed experts)
            dense = moe if not m.is_moe and moe in step.DENSE_DTYPES else \
                (None if args.weight_dtype else m.dense_weight_dtype or None)
            u = step.unit(m, g, step.layout_for(m, g, n_ep, redundant=args.redundant, mtp=1 if args.mtp_accept else 0,
                                                precision=step.Precision(moe=moe, kv=args.kv_dtype, dense_dtype=dense)))
            W_res, most = u.weights_resident, step.max_batch(u, ctx)
            # the weights a step reads: the experts its tokens choose (expected distinct experts), not all
            W_read = step.weights_read_bytes(u, batch if batch is not None else 1.0)
            weights_at = lambda eps, red: fast.weights_resident_of(dict(u.values, N_ep=eps, E_red=red))  # noqa: E731
        else:
            # the weights a step reads: the expected experts its tokens choose (all of them without a batch)
            W_read = params.weight_bytes_read(m, n_ep, args.redundant, wb, batch) if batch is not None else \
                params.weight_bytes_ep(m, n_ep=n_ep, redundant=args.redundant, bytes_per_weight=wb)
            W_res = params.weight_bytes_ep(m, n_ep=n_ep, redundant=args.redundant, bytes_per_weight=wb, resident=True)
            most = np.maximum(bounds.max_batch(HBM=g.hbm_capacity, W_res=W_res, reserve=reserve, ctx=held, S_kv=S_kv), 0)
            weights_at = lambda eps, red: params.weight_bytes_ep_grid(m, eps, red, wb)  # noqa: E731
        if step.weights_room_error(m.name, g, W_res):   # the weights alone exceed HBM: no answer to give
            if not m.is_moe:
                hint = "sol does not split a dense model; decode, prefill and serve split it with --attn tp"
            elif (ep := step.smallest_ep(m, g, weights_at, least=n_ep)) is None:
                hint = f"no EP up to {step.MAX_EP} holds them"
            else:
                hint = f"the smallest EP whose weights fit: {ep}" + (
                    step.default_redundancy_note(m, ep, 1, args.redundant) if args.redundant is not None else "")
            raise UsageError(step.weights_room_error(m.name, g, W_res, f" EP{n_ep} at {weight_dtype}", hint))
        room = bounds.kv_capacity(HBM=g.hbm_capacity, W_res=W_res, reserve=reserve)
        out.update(ep=n_ep, weight_dtype=weight_dtype, weight_bytes_read_per_step=W_read,
                   weight_bytes_resident=W_res, hbm_reserve_bytes=reserve, weights_fit=bool(room > 0),
                   kv_room_bytes=max(float(room), 0.0), max_batch=most)
        if batch is not None:
            out["batch"] = batch
            out["fits"] = batch <= np.asarray(out["max_batch"])
            out["bandwidth_bound_tokens_per_s"] = bounds.gpu_rate(accept=accept, batch=batch, BW=g.hbm_bandwidth,
                                                                  ctx=read, S_kv=S_kv, W=W_read)
    return out


def _layout_args(args, m, g, ep: int, phase: str):
    """A step Layout from the shared layout flags (the book's defaults for what is not given)."""
    if args.attn == "tp":
        attn_tp = args.attn_tp or ep
    else:
        if args.attn_tp not in (None, 1):
            raise UsageError("--attn-tp needs --attn tp")
        attn_tp = 1
    mtp = getattr(args, "mtp", 0) or 0
    accept = getattr(args, "accept", None)
    if accept is not None and not mtp:
        raise UsageError("--accept needs --mtp N")
    moe = args.moe_dtype or step.default_moe_dtype(m.weight_dtype)   # the checkpoint's format unless given
    return step.layout_for(m, g, ep, attn_tp=attn_tp, moe_tp=args.moe_tp, pp=args.pp, redundant=args.redundant,
                           micro_batches=args.micro_batches, mtp=mtp if phase == "decode" else 0,
                           framework=args.framework, eplb=True if args.eplb else None,
                           accept=accept, precision=step.Precision(moe=moe, attn=args.attn_dtype,
                                                                    kv=getattr(args, "kv_dtype", "bf16"),
                                                                    dense_dtype=args.dense_dtype
                                                                    or m.dense_weight_dtype or None))


_TERMS = ("t_kernels", "t_attn", "t_dense", "t_head", "t_moe", "t_comm", "t_mtp")


def _within_window(m, isl: float, osl: float = 0.0, what: str = "input") -> None:
    """A one-line refusal where a request is longer than the model's context window."""
    why = config.context_error(m, isl, osl, what)
    if why:
        raise UsageError(why)


def cmd_decode(args) -> dict:
    m, g = load_model(args.model), gpus.gpu(args.gpu)
    u = step.unit(m, g, _layout_args(args, m, g, args.ep, "decode"))
    _within_window(m, args.isl, args.osl)
    ctx = args.isl + args.osl / 2
    if args.batch is not None:
        pt = operating.at_batch(u, ctx, args.batch)
    elif args.per_user is not None:
        pt = operating.at_per_user(u, ctx, args.per_user)
    else:
        pt = operating.max_throughput(u, ctx)
    b = float(pt["batch"])
    mem = step.memory(u, b, ctx)
    return {"model": m.name, "gpu": g.key, "layout": search.describe(u.layout), "isl": args.isl, "osl": args.osl,
            "framework": u.layout.framework, "kernels": u.kernels, "context_tokens": ctx, "kind": "model prediction (step model, calibrated on DeepSeek's profiles)",
            "tokens_per_s_per_gpu": pt["tokens_per_s_per_gpu"], "tokens_per_s_per_user": pt["tokens_per_s_per_user"],
            "batch_per_instance": b, "batch_per_gpu": b / u.layout.attn_tp, "step_time_s": pt["t_step"],
            "accepted_tokens_per_step": u.accept_per_step,
            "bound_tokens_per_s_per_gpu": pt["bound_tokens_per_s_per_gpu"],
            "breakdown": {k: float(pt[k]) for k in _TERMS},
            "memory_bytes": {k: float(np.asarray(v)) for k, v in mem.items()}}


def cmd_prefill(args) -> dict:
    m, g = load_model(args.model), gpus.gpu(args.gpu)
    u = prefill.prefill_unit(m, g, _layout_args(args, m, g, args.ep, "prefill"))
    _within_window(m, args.isl)
    out = prefill.prefill(u, args.isl, args.cached_fraction, chunk=args.chunk)
    why = prefill.fit_error(u, out, args.isl)
    if why:
        raise UsageError(why)
    return {"model": m.name, "gpu": g.key, "layout": search.describe(u.layout), "isl": args.isl,
            "framework": u.layout.framework, "kernels": u.kernels, "cached_fraction": args.cached_fraction, "chunk_tokens_per_gpu": args.chunk,
            "kind": "model prediction (step model, calibrated on DeepSeek's profiles)",
            "input_tokens_per_s_per_gpu": out["input_tokens_per_s_per_gpu"],
            "input_tokens_per_s_per_node": out["input_tokens_per_s_per_node"],
            "ttft_s": out["ttft_s"], "ttft_alone_s": prefill.ttft_alone(u, args.isl, args.cached_fraction),
            "utilisation": prefill.UTILISATION, "step_time_s": out["t_step"],
            "bound_input_tokens_per_s_per_gpu": out["bound_tokens_per_s_per_gpu"] * args.isl / out["new_tokens"],
            "breakdown": {k: float(out[k]) for k in _TERMS}}


def cmd_serve(args) -> dict:
    from inference_arithmetic.serving.workload import Service
    m, g = load_model(args.model), gpus.gpu(args.gpu)
    pinned = {k: (v,) for k, v in (("moe_dtypes", args.moe_dtype), ("attn_dtypes", args.attn_dtype),
                                   ("kv_dtypes", args.kv_dtype), ("mtp", args.mtp), ("moe_tp", args.moe_tp))
              if v is not None}
    if args.dense_dtype is not None:
        pinned["dense_dtype"] = args.dense_dtype
    pinned.update(_pinned_layout(args))
    svc = Service(args.isl, args.osl, args.per_user, args.ttft, args.cached_fraction, args.decode_context)
    best = search.best(m, g, svc, args.mode, search.Space(**pinned, framework=args.framework))
    ctx = {} if args.decode_context is None else {"decode_context_tokens": svc.decode_context}
    return {"model": m.name, "gpu": g.key, "mode": args.mode, "isl": args.isl, "osl": args.osl, **ctx,
            "framework": args.framework, "kernels": _kernels(m, g, args.framework, best["layout"]["moe_dtype"]),
            "kind": "model prediction (step model, calibrated on DeepSeek's profiles)", **best}


def _pinned_layout(args) -> dict:
    """The search space restricted to what ``serve``'s layout flags pin (a publication's stated setup)."""
    space = {}
    if args.attn_tp is not None and args.attn != "tp":
        raise UsageError("--attn-tp needs --attn tp")
    sizes = search.EP_SIZES
    if args.ep is not None:
        sizes = (args.ep,)
    if args.max_gpus is not None:
        sizes = tuple(n for n in sizes if n <= args.max_gpus)
        space["prefill_ep"] = tuple(n for n in search.EP_SIZES if n <= args.max_gpus) or sizes
        if not sizes:
            least = min(search.EP_SIZES)
            raise UsageError(f"--ep {args.ep} is more than --max-gpus {args.max_gpus}" if args.ep
                             else f"no deployment unit of at most {args.max_gpus} GPUs (the smallest is {least})")
    if sizes != search.EP_SIZES:
        space["decode_ep"] = sizes
    if args.prefill_ep is not None:
        if args.mode != "disagg":
            raise UsageError("--prefill-ep needs --mode disagg (aggregated serving prefills on the decode unit)")
        space["prefill_ep"] = (args.prefill_ep,)
    if args.attn == "dp":
        space["attn_tp"] = (1,)
    elif args.attn == "tp":
        space["attn_tp"] = (args.attn_tp or min(8, max(sizes)),)
        space["tp_spans_unit"] = args.attn_tp is None       # a pinned degree is that degree on every unit
    for key, value in (("redundant", args.redundant), ("micro_batches", args.micro_batches),
                       ("batch", args.batch), ("max_batch", args.max_batch)):
        if value is not None:
            space[key] = value
    return space


def _kernels(m, g, framework: str, moe_dtype: str) -> str:
    """The routed-expert kernels of ``framework`` on ``g``, in words (:func:`.kernel_tables.rule`)."""
    if not m.is_moe:
        return "no routed experts"
    rule = kernel_tables.rule(g.key, framework, moe_dtype, (m.h, m.d_e, m.n_experts, m.top_k))
    return efficiency.kernels_label(g.key, rule)     # and the rates measured on the GPU itself, where any


def _profile(text: str):
    from inference_arithmetic.serving.workload import Profile
    if text == "flat":
        return Profile.flat()
    if text.startswith("cosine:"):
        return Profile.cosine(inputs.parse_float(text[7:], "--profile cosine peak-to-mean ratio", least=1.0,
                                                      most=2.0))
    if text.endswith(".csv") or text.endswith(".txt") or "/" in text:
        return Profile.hourly(inputs.read_numbers_file(text, "hourly load"))
    raise UsageError(f"--profile must be flat, cosine:P (peak-to-mean ratio, 1 to 2) or a CSV file of hourly load, "
                     f"got {inputs.short(text)}")


def _progress(i: int, n: int, name: str) -> None:
    if sys.stderr.isatty():
        bar = "#" * (20 * i // n)
        print(f"\rsearching {bar:<20s} {i}/{n} GPU types ({name})", end="", file=sys.stderr, flush=True)


def cmd_plan(args) -> dict:
    from inference_arithmetic.evidence import error_class
    from inference_arithmetic.serving import plan
    from inference_arithmetic.serving.workload import Workload
    m = load_model(args.model)
    kw = dict(per_user=args.per_user, ttft_s=args.ttft, cache_hit=args.cache_hit, profile=_profile(args.profile))
    if args.tokens_per_day is not None:
        w = Workload.from_tokens_per_day(args.tokens_per_day, args.isl, args.osl, **kw)
    else:
        w = Workload(requests_per_s=args.requests_per_s, isl=args.isl, osl=args.osl, **kw)
    names = None
    if args.prices is not None and not args.prices.strip():
        raise UsageError("--prices needs a price source name, SOURCE,SOURCE... or all (leave it out for the default)")
    if args.gpus is not None:
        names = [gpus.gpu(x.strip()).key for x in args.gpus.split(",") if x.strip()]
        if not names or len(names) > 32:
            raise UsageError("--gpus needs a comma-separated list of GPU names")
    out = plan.search(m, w, names, args.prices, top=args.top, progress=_progress, mixed=args.mixed,
                      space=search.Space(framework=args.framework))
    for d in out["deployments"]:     # what each answer is worth: the validation error of its class
        d["validation_error"] = error_class.error_of(d["gpu"], args.framework, "end-to-end")
        for pool in d.get("pools", ()):
            pool["validation_error"] = error_class.error_of(pool["gpu"], args.framework,
                                                            error_class.ROLE_PHASE[pool["role"]])
    if sys.stderr.isatty() and out["search_s"] > 1.0:
        print("\r" + " " * 60 + "\r", end="", file=sys.stderr, flush=True)
    return {"model": m.name, "requests_per_s": w.requests_per_s, "isl": w.isl, "osl": w.osl,
            "per_user": w.per_user, "ttft_s_max": w.ttft_s, "cache_hit": w.cache_hit, "profile": w.profile.name,
            "framework": args.framework,
            "kernels": {n: {d: _kernels(m, gpus.gpu(n), args.framework, d) for d in step.MOE_DTYPES}
                        for n in out["gpus"]},
            "kind": "model prediction (step model, calibrated on DeepSeek's profiles) costed at published prices",
            **out}


def cmd_figures(args) -> list:
    from inference_arithmetic.evidence import published
    rows = []
    for key, fig in published.FIGURES.items():
        res = published.check(key)
        rows.append({"name": key, "title": fig.title, "value": res.value, "unit": fig.unit,
                     "published": res.published, "source": fig.source(), "ok": res.ok})
    return rows


def cmd_gpus(args) -> list:
    return gpus.gpu_spec_rows()


def cmd_models(args) -> list:
    return [{"model": name, "attention": m.attention, "layers": m.n_layers, "source": m.source,
             "params_total": param_count.count_params(m).total, "context_window": m.context_window or None}
            for name, m in config.models().items()]


def cmd_validate(args) -> dict:
    from inference_arithmetic.evidence import measured_load, report, validation
    fw = None if args.framework == "publication" else args.framework
    preds = validation.predict_all(framework=fw)
    out = {"kind": "model predictions against published measurements by other teams (the validation set: "
                   "nothing is fitted to it)",
           "framework": args.framework if fw else "publication (each entry with its publication's framework)",
           **report.report(preds)}
    if args.at_load:
        out["at_measured_load"] = measured_load.report(preds, fw)
    return out
