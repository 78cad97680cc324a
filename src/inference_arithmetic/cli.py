"""The command line: ``python -m inference_arithmetic`` or ``inference-arithmetic``.

Subcommands: ``model``, ``sol``, ``figures``, ``gpus``, ``models``.  ``--json`` gives
machine-readable output.  ``--context`` and ``--batch`` take a number or a range
``start:stop[:step]`` (inclusive) evaluated in one vectorised call.  Bad input gives
one line on stderr and exit status 2; nothing typed by the user is evaluated as code.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

from . import catalog, decode, figures, kv, operating, params, plan, prefill, serving_search, step
from . import inputs
from .errors import Error
from .rounding import stable_data

__all__ = ["main", "parse_range"]

#: bytes per weight of the ``sol`` command's --weight-dtype (a bound: one dtype for every weight)
WEIGHT_BYTES = {"bf16": 2.0, "fp8": 1.0, "fp4": 0.5}
_RANGE = re.compile(r"^\s*(\d{1,12})\s*(?::\s*(\d{1,12})\s*(?::\s*(\d{1,12})\s*)?)?$")
MAX_POINTS = inputs.MAX_GRID_POINTS
#: Largest context, batch or range bound accepted, tokens or users.
MAX_RANGE_VALUE = 10**8


class UsageError(Error):
    """Bad command-line input."""


def parse_range(text: str, what: str) -> np.ndarray:
    """``"4096"`` or ``"1000:128000:1000"`` (inclusive) as a float array of positive integers."""
    m = _RANGE.match(str(text))
    if not m:
        raise UsageError(f"{what} must be a positive integer or a range start:stop[:step], got {inputs.short(text)}")
    start = int(m.group(1))
    stop = int(m.group(2)) if m.group(2) is not None else start
    stp = int(m.group(3)) if m.group(3) is not None else 1
    if start < 1 or stop < start or stp < 1:
        raise UsageError(f"{what}: need 1 <= start <= stop and step >= 1, got {inputs.short(text)}")
    if stop > MAX_RANGE_VALUE:
        raise UsageError(f"{what}: values above {MAX_RANGE_VALUE:,} are refused, got {inputs.short(text)}")
    if (stop - start) // stp + 1 > MAX_POINTS:
        raise UsageError(f"{what}: range has more than {MAX_POINTS:,} points")
    return np.arange(start, stop + 1, stp, dtype=float)


def grid(*axes: np.ndarray) -> list[np.ndarray]:
    """Every combination of the ranges ``axes`` (first axis slowest), flattened and aligned.

    Refuses grids of more than :data:`MAX_POINTS` points with a one-line error.
    """
    n = 1
    for a in axes:
        n *= a.size
    if n > MAX_POINTS:
        sizes = " x ".join(f"{a.size:,}" for a in axes)
        raise UsageError(f"the ranges make {sizes} = {n:,} points; at most {MAX_POINTS:,} are evaluated at once")
    return [g.ravel() for g in np.meshgrid(*axes, indexing="ij")]


def _arg_type(parse, what: str, **bounds):
    """An argparse type: ``parse`` (an :mod:`.inputs` parser) within ``bounds``, else one message."""
    def convert(text: str):
        try:
            return parse(text, "value", **bounds)
        except Error:
            raise argparse.ArgumentTypeError(f"must be {what}, got {inputs.short(text)}") from None
    return convert


_positive_int = _arg_type(inputs.parse_int, f"a positive integer up to {inputs.MAX_INT:,}", least=1)
_count = _arg_type(inputs.parse_int, f"a whole number >= 0 up to {inputs.MAX_INT:,}", least=0)
_count_small = _arg_type(inputs.parse_int, "a whole number from 0 to 8", least=0, most=8)
_acceptance = _arg_type(inputs.parse_float, "a number from 0 to 0.999", least=0.0, most=0.999)
_fraction = _arg_type(inputs.parse_float, "a number from 0 to 0.99", least=0.0, most=0.99)
_rate = _arg_type(inputs.parse_float, "a positive number of tokens/s up to 1e6", least=0.0, most=1e6, open_low=True)
_rate_big = _arg_type(inputs.parse_float, "a positive number up to 1e18", least=0.0, most=1e18, open_low=True)
_probability = _arg_type(inputs.parse_float, "a number between 0 and 1", least=0.0, most=1.0)


def load_model(spec: str) -> catalog.Model:
    """A shipped model by name, or a config.json path (a folder means its config.json)."""
    if spec in catalog.models():
        return catalog.model(spec)
    p = Path(spec)
    try:
        is_dir = p.is_dir()
        exists = is_dir or p.exists()
    except (OSError, ValueError):  # a name too long for the file system, or with a NUL
        is_dir = exists = False
    if spec.endswith(".json") or exists or "/" in spec:
        return catalog.read_config(p / "config.json" if is_dir else p)
    return catalog.model(spec)


# ------------------------------------------------------------------ commands
def cmd_model(args) -> dict:
    m = load_model(args.config)
    pc = params.count_params(m)
    out = {
        "model": m.name, "attention": m.attention, "layers": m.n_layers,
        "dense_layers": m.n_dense, "moe_layers": m.n_moe if m.is_moe else 0,
        "kv_bytes_per_token": {d: kv.kv_bytes_per_token(m, d) for d in ("bf16", "fp8")},
        "params_total": pc.total, "params_active": pc.active,
        "params_active_note": "per token: output head counts, input embedding (a lookup) does not",
    }
    if m.is_moe:
        out.update(experts=m.n_experts, shared_experts=m.n_shared, top_k=m.top_k)
    if pc.mtp:
        out["params_mtp"] = pc.mtp
    return out


def _print_model(d: dict) -> None:
    print(f"{d['model']}: {d['attention'].upper()} attention, {d['layers']} layers "
          f"({d['dense_layers']} dense, {d['moe_layers']} MoE)")
    if "experts" in d:
        print(f"  experts: {d['experts']} routed + {d['shared_experts']} shared, top-{d['top_k']}")
    for dt, b in d["kv_bytes_per_token"].items():
        print(f"  KV bytes per token, {dt}: {b:,.0f} B")
    print(f"  parameters: {d['params_total'] / 1e9:,.2f} B total, {d['params_active'] / 1e9:,.2f} B active")
    if "params_mtp" in d:
        print(f"  MTP modules: {d['params_mtp'] / 1e9:,.2f} B (not in the total)")


def cmd_sol(args) -> dict:
    m = load_model(args.model)
    g = catalog.gpu(args.gpu)
    ctx = parse_range(args.context, "--context")
    batch = parse_range(args.batch, "--batch") if args.batch is not None else None
    if batch is not None:
        batch, ctx = grid(batch, ctx)  # every combination, aligned in the table and in --json
    S_kv = kv.kv_bytes_per_token(m, args.kv_dtype)
    accept = 1.0 + args.mtp_accept
    s_q = 2.0 if args.mtp_accept > 0 else 1.0  # one MTP draft adds a query token per step
    out: dict = {"model": m.name, "gpu": g.key, "kv_dtype": args.kv_dtype, "accepted_per_step": accept,
                 "kv_bytes_per_token": S_kv, "context": ctx,
                 "kv_bytes_per_user": kv.kv_per_user(ctx=ctx, S_kv=S_kv),
                 "sol_tokens_per_s": decode.sol_rate(accept=accept, BW=g.hbm_bandwidth, ctx=ctx, S_kv=S_kv)}
    if m.attention == "mla":
        out["mla_compute_bound_tokens_per_s"] = decode.mla_compute_rate(
            accept=accept, F=g.dense_bf16, s_q=s_q, n_layers=m.n_layers, ctx=ctx, n_heads=m.n_heads,
            flop_mac=decode.FLOP_PER_MAC, d_c=m.d_c, d_r=m.d_r)
        out["mla_intensity_flop_per_byte"] = decode.mla_intensity(
            s_q=s_q, n_heads=m.n_heads, flop_mac=decode.FLOP_PER_MAC, d_c=m.d_c, d_r=m.d_r,
            b_kv=kv.dtype_bytes(args.kv_dtype))
        out["ridge_flop_per_byte"] = decode.ridge_point(F=g.dense_bf16, BW=g.hbm_bandwidth)
    if args.ep is not None or args.batch is not None:
        n_ep = args.ep or 1
        wb = WEIGHT_BYTES[args.weight_dtype]
        W_read = params.weight_bytes_ep(m, n_ep=n_ep, redundant=args.redundant, bytes_per_weight=wb)
        reserve = step.HBM_RESERVE_SHARE * g.hbm_capacity   # the book's one reserve default
        moe = {"fp4": "nvfp4"}.get(args.weight_dtype, args.weight_dtype)
        if m.attention == "mla" and m.is_moe and (moe != "nvfp4" or g.dense_fp4 is not None):
            # the step model's memory accounting (per-component dtypes, DeepEP buffers): the book's one count
            u = step.unit(m, g, step.layout_for(m, g, n_ep, redundant=args.redundant, mtp=1 if args.mtp_accept else 0,
                                                precision=step.Precision(moe=moe, kv=args.kv_dtype)))
            W_res, most = u.weights_resident, step.max_batch(u, ctx)
        else:
            W_res = params.weight_bytes_ep(m, n_ep=n_ep, redundant=args.redundant, bytes_per_weight=wb, resident=True)
            most = np.maximum(decode.max_batch(HBM=g.hbm_capacity, W_res=W_res, reserve=reserve, ctx=ctx, S_kv=S_kv), 0)
        room = decode.kv_capacity(HBM=g.hbm_capacity, W_res=W_res, reserve=reserve)
        out.update(ep=n_ep, weight_dtype=args.weight_dtype, weight_bytes_read_per_step=W_read,
                   weight_bytes_resident=W_res, hbm_reserve_bytes=reserve, weights_fit=bool(room > 0),
                   kv_room_bytes=max(float(room), 0.0), max_batch=most)
        if batch is not None:
            out["batch"] = batch
            out["fits"] = batch <= np.asarray(out["max_batch"])
            out["bandwidth_bound_tokens_per_s"] = decode.gpu_rate(accept=accept, batch=batch, BW=g.hbm_bandwidth,
                                                                  ctx=ctx, S_kv=S_kv, W=W_read)
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
    return step.layout_for(m, g, ep, attn_tp=attn_tp, moe_tp=args.moe_tp, redundant=args.redundant,
                           micro_batches=args.micro_batches, mtp=mtp if phase == "decode" else 0,
                           accept=accept, precision=step.Precision(moe=args.moe_dtype, attn=args.attn_dtype,
                                                                    kv=getattr(args, "kv_dtype", "bf16")))


def _layout_json(L: step.Layout) -> dict:
    return {"ep": L.ep, "attn": "tp" if L.attn_tp > 1 else "dp", "attn_tp": L.attn_tp, "moe_tp": L.moe_tp,
            "redundant": L.redundant, "micro_batches": L.micro_batches, "mtp": L.mtp,
            "moe_dtype": L.precision.moe, "attn_dtype": L.precision.attn, "kv_dtype": L.precision.kv}


_TERMS = ("t_kernels", "t_attn", "t_dense", "t_head", "t_moe", "t_comm", "t_mtp")


def cmd_decode(args) -> dict:
    m, g = load_model(args.model), catalog.gpu(args.gpu)
    u = step.unit(m, g, _layout_args(args, m, g, args.ep, "decode"))
    ctx = args.isl + args.osl / 2
    if args.batch is not None:
        pt = operating.at_batch(u, ctx, args.batch)
    elif args.per_user is not None:
        pt = operating.at_per_user(u, ctx, args.per_user)
    else:
        pt = operating.max_throughput(u, ctx)
    b = float(pt["batch"])
    mem = step.memory(u, b, ctx)
    return {"model": m.name, "gpu": g.key, "layout": _layout_json(u.layout), "isl": args.isl, "osl": args.osl,
            "context_tokens": ctx, "kind": "model prediction (step model, calibrated on DeepSeek's profiles)",
            "tokens_per_s_per_gpu": pt["tokens_per_s_per_gpu"], "tokens_per_s_per_user": pt["tokens_per_s_per_user"],
            "batch_per_instance": b, "batch_per_gpu": b / u.layout.attn_tp, "step_time_s": pt["t_step"],
            "accepted_tokens_per_step": u.accept_per_step,
            "bound_tokens_per_s_per_gpu": pt["bound_tokens_per_s_per_gpu"],
            "breakdown": {k: float(pt[k]) for k in _TERMS},
            "memory_bytes": {k: float(np.asarray(v)) for k, v in mem.items()}}


def cmd_prefill(args) -> dict:
    m, g = load_model(args.model), catalog.gpu(args.gpu)
    u = prefill.prefill_unit(m, g, _layout_args(args, m, g, args.ep, "prefill"))
    out = prefill.prefill(u, args.isl, args.cached_fraction, chunk=args.chunk)
    return {"model": m.name, "gpu": g.key, "layout": _layout_json(u.layout), "isl": args.isl,
            "cached_fraction": args.cached_fraction, "chunk_tokens_per_gpu": args.chunk,
            "kind": "model prediction (step model, calibrated on DeepSeek's profiles)",
            "input_tokens_per_s_per_gpu": out["input_tokens_per_s_per_gpu"],
            "input_tokens_per_s_per_node": out["input_tokens_per_s_per_node"],
            "ttft_s": out["ttft_s"], "utilisation": prefill.UTILISATION, "step_time_s": out["t_step"],
            "bound_input_tokens_per_s_per_gpu": out["bound_tokens_per_s_per_gpu"] * args.isl / out["new_tokens"],
            "breakdown": {k: float(out[k]) for k in _TERMS}}


def cmd_serve(args) -> dict:
    m, g = load_model(args.model), catalog.gpu(args.gpu)
    best = serving_search.best(m, g, mode=args.mode, isl=args.isl, osl=args.osl, per_user=args.per_user,
                               precision=step.Precision(moe=args.moe_dtype, attn=args.attn_dtype, kv=args.kv_dtype),
                               mtp=args.mtp, cached=args.cached_fraction)
    return {"model": m.name, "gpu": g.key, "mode": args.mode, "isl": args.isl, "osl": args.osl,
            "kind": "model prediction (step model, calibrated on DeepSeek's profiles)", **best}


def _profile(text: str):
    if text == "flat":
        return plan.Profile.flat()
    if text.startswith("cosine:"):
        return plan.Profile.cosine(inputs.parse_float(text[7:], "--profile cosine peak-to-mean ratio", least=1.0,
                                                      most=2.0))
    if text.endswith(".csv") or text.endswith(".txt") or "/" in text:
        return plan.Profile.hourly(inputs.read_numbers_file(text, "hourly load"))
    raise UsageError(f"--profile must be flat, cosine:P (peak-to-mean ratio, 1 to 2) or a CSV file of hourly load, "
                     f"got {inputs.short(text)}")


def _progress(i: int, n: int, name: str) -> None:
    if sys.stderr.isatty():
        bar = "#" * (20 * i // n)
        print(f"\rsearching {bar:<20s} {i}/{n} GPU types ({name})", end="", file=sys.stderr, flush=True)


def cmd_plan(args) -> dict:
    m = load_model(args.model)
    kw = dict(per_user=args.per_user, ttft_s=args.ttft, cache_hit=args.cache_hit, profile=_profile(args.profile))
    if args.tokens_per_day is not None:
        w = plan.Workload.from_tokens_per_day(args.tokens_per_day, args.isl, args.osl, **kw)
    else:
        w = plan.Workload(requests_per_s=args.requests_per_s, isl=args.isl, osl=args.osl, **kw)
    names = None
    if args.gpus:
        names = [catalog.gpu(x.strip()).key for x in args.gpus.split(",") if x.strip()]
        if not names or len(names) > 32:
            raise UsageError("--gpus needs a comma-separated list of GPU names")
    out = plan.search(m, w, names, args.prices, top=args.top, progress=_progress)
    if sys.stderr.isatty() and out["search_s"] > 1.0:
        print("\r" + " " * 60 + "\r", end="", file=sys.stderr, flush=True)
    return {"model": m.name, "requests_per_s": w.requests_per_s, "isl": w.isl, "osl": w.osl,
            "per_user": w.per_user, "ttft_s_max": w.ttft_s, "cache_hit": w.cache_hit, "profile": w.profile.name,
            "kind": "model prediction (step model, calibrated on DeepSeek's profiles) costed at published prices",
            **out}


def _print_plan(d: dict) -> None:
    print(f"{d['model']}: {d['requests_per_s']:,.2f} requests/s of {d['isl']:,.0f} in / {d['osl']:,.0f} out tokens, "
          f"at least {d['per_user']:g} tok/s per user" + (f", TTFT <= {d['ttft_s_max']:g} s" if d["ttft_s_max"] else "")
          + f"; profile {d['profile']}; prices: {d['source']}")
    print(f"searched {d['candidates']:,} candidate deployments in {d['search_s']:.2f} s "
          f"({d['feasible_layouts']:,} feasible layouts); cheapest first:")
    cols = ("gpu", "mode", "gpus_avg", "gpus_peak", "nodes_peak", "usd_per_day", "usd_per_m_input",
            "usd_per_m_output", "ttft_s", "tokens_per_s_per_user")
    print("\t".join(cols + ("layout",)))
    for r in d["deployments"]:
        L = r["layout"]
        lay = (f"EP{L['ep']} {'TP' + str(L['attn_tp']) if L['attn'] == 'tp' else 'DP'} attn, {L['moe_dtype']} experts, "
               f"{L['kv_dtype']} KV, MTP {L['mtp']}")
        print("\t".join(f"{r[c]:,.3g}" if isinstance(r[c], float) else str(r[c]) for c in cols) + "\t" + lay)


def _jsonable(x):
    if isinstance(x, np.ndarray) and x.ndim == 0:
        return x.item()
    if isinstance(x, np.ndarray):
        x = x.tolist()
        return x[0] if len(x) == 1 else x
    if isinstance(x, (np.floating, np.integer, np.bool_)):
        return x.item()
    return x


def _print_sol(d: dict) -> None:
    cols = [k for k, v in d.items() if isinstance(v, np.ndarray) and v.size > 1]
    scalars = {k: v for k, v in d.items() if k not in cols}
    for k, v in scalars.items():
        v = _jsonable(v)
        print(f"{k:34s} {v:,.6g}" if isinstance(v, (int, float)) and not isinstance(v, bool) else f"{k:34s} {v}")
    if cols:
        print("\t".join(cols))
        n = max(d[c].size for c in cols)
        for i in range(n):
            print("\t".join(f"{float(d[c][i]):.6g}" for c in cols))


def _print_point(d: dict, indent: str = "") -> None:
    for k, v in d.items():
        if isinstance(v, dict):
            print(f"{indent}{k}:")
            _print_point(v, indent + "  ")
        else:
            v = _jsonable(v)
            print(f"{indent}{k:32s} {v:,.6g}" if isinstance(v, float) else f"{indent}{k:32s} {v}")


def cmd_figures(args) -> list:
    rows = []
    for key, fig in figures.FIGURES.items():
        res = figures.check(key)
        rows.append({"name": key, "title": fig.title, "value": res.value, "unit": fig.unit,
                     "published": res.published, "source": fig.source(), "ok": res.ok})
    return rows


def cmd_gpus(args) -> list:
    return catalog.gpu_spec_rows()


def cmd_models(args) -> list:
    return [{"model": name, "attention": m.attention, "layers": m.n_layers, "source": m.source,
             "params_total": params.count_params(m).total} for name, m in catalog.models().items()]


def _print_rows(rows: list) -> None:
    if not rows:
        return
    keys = list(rows[0])
    print("\t".join(keys))
    for r in rows:
        print("\t".join(f"{v:,.6g}" if isinstance(v, float) else
                        (", ".join(v) if isinstance(v, list) else str(v)) for v in r.values()))


# ------------------------------------------------------------------ parser
class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="inference-arithmetic",
                description="The arithmetic of serving DeepSeek-class LLMs: KV bytes, bounds, catalogs.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    pm = sub.add_parser("model", help="attention, KV bytes per token, parameters of a config.json or shipped model")
    pm.add_argument("config", help="path to a Hugging Face config.json, or a shipped model name")
    ps = sub.add_parser("sol", help="speed of light and step-time breakdown")
    ps.add_argument("--model", required=True, help="config.json path or shipped model name")
    ps.add_argument("--gpu", required=True, help="GPU name (see 'gpus')")
    ps.add_argument("--context", required=True, help="tokens of context: N or start:stop[:step]")
    ps.add_argument("--kv-dtype", default="bf16", choices=list(kv.DTYPE_BYTES))
    ps.add_argument("--mtp-accept", type=_probability, default=0.0,
                    help="acceptance probability of one MTP draft token (0: no MTP)")
    ps.add_argument("--ep", type=_positive_int, help="GPUs in the expert-parallel group")
    ps.add_argument("--redundant", type=_count, default=0, help="redundant routed experts in the group")
    ps.add_argument("--batch", help="users per GPU: B or start:stop[:step]")
    ps.add_argument("--weight-dtype", default="fp8", choices=list(WEIGHT_BYTES))
    def layout_flags(sp_, phase):
        sp_.add_argument("--model", required=True, help="config.json path or shipped model name")
        sp_.add_argument("--gpu", required=True, help="GPU name (see 'gpus')")
        sp_.add_argument("--ep", type=_positive_int, required=True, help="GPUs in the deployment unit (EP group)")
        sp_.add_argument("--redundant", type=_count, default=None,
                         help="redundant routed experts (default: the fewest that spread evenly)")
        sp_.add_argument("--attn", choices=["dp", "tp"], default="dp", help="attention data- or tensor-parallel")
        sp_.add_argument("--attn-tp", type=_positive_int, default=None, help="GPUs per attention instance (--attn tp)")
        sp_.add_argument("--moe-tp", type=_positive_int, default=1, help="GPUs splitting each expert")
        sp_.add_argument("--micro-batches", type=_positive_int, choices=[1, 2], default=None,
                         help="2: two-batch overlap (default: when the unit spans NVLink domains)")
        sp_.add_argument("--moe-dtype", choices=list(step.MOE_DTYPES), default="fp8")
        sp_.add_argument("--attn-dtype", choices=list(step.ATTN_DTYPES), default="bf16")
        if phase == "decode":
            sp_.add_argument("--kv-dtype", choices=list(step.KV_DTYPES), default="bf16")
            sp_.add_argument("--mtp", type=_count_small, default=0, help="MTP draft tokens per step")
            sp_.add_argument("--accept", type=_acceptance, default=None,
                             help="acceptance of each draft token (default: cited, 0.875)")

    pd = sub.add_parser("decode", help="decode throughput and per-user speed from the step model")
    layout_flags(pd, "decode")
    pd.add_argument("--isl", type=_positive_int, required=True, help="input tokens per request")
    pd.add_argument("--osl", type=_positive_int, required=True, help="output tokens per request")
    g1 = pd.add_mutually_exclusive_group(required=True)
    g1.add_argument("--batch", type=_positive_int, help="concurrent requests per attention instance")
    g1.add_argument("--per-user", type=_rate, help="slowest allowed tokens/s per user")
    g1.add_argument("--max-throughput", action="store_true", help="the largest batch that fits")
    pp = sub.add_parser("prefill", help="prefill input throughput and time to first token")
    layout_flags(pp, "prefill")
    pp.add_argument("--isl", type=_positive_int, default=4096, help="input tokens per request")
    pp.add_argument("--cached-fraction", type=_fraction, default=0.0, help="share of input from the prefix cache")
    pp.add_argument("--chunk", type=_positive_int, default=prefill.PREFILL_CHUNK_TOKENS,
                    help="new tokens per GPU per prefill step")
    pv = sub.add_parser("serve", help="the best layout for a GPU type and serving mode")
    pv.add_argument("--model", required=True)
    pv.add_argument("--gpu", required=True)
    pv.add_argument("--mode", choices=["agg", "disagg"], required=True)
    pv.add_argument("--isl", type=_positive_int, required=True)
    pv.add_argument("--osl", type=_positive_int, required=True)
    g2 = pv.add_mutually_exclusive_group(required=True)
    g2.add_argument("--per-user", type=_rate)
    g2.add_argument("--max-throughput", action="store_true")
    pv.add_argument("--moe-dtype", choices=list(step.MOE_DTYPES), default="fp8")
    pv.add_argument("--attn-dtype", choices=list(step.ATTN_DTYPES), default="bf16")
    pv.add_argument("--kv-dtype", choices=list(step.KV_DTYPES), default="bf16")
    pv.add_argument("--mtp", type=_count_small, default=0)
    pv.add_argument("--cached-fraction", type=_fraction, default=0.0)
    pl = sub.add_parser("plan", help="the cheapest fleet for a workload and a service level")
    pl.add_argument("--model", required=True)
    g3 = pl.add_mutually_exclusive_group(required=True)
    g3.add_argument("--tokens-per-day", type=_rate_big, help="input plus output tokens per day")
    g3.add_argument("--requests-per-s", type=_rate_big, help="requests per second, on average")
    pl.add_argument("--isl", type=_positive_int, required=True)
    pl.add_argument("--osl", type=_positive_int, required=True)
    pl.add_argument("--per-user", type=_rate, required=True, help="slowest allowed tokens/s per user")
    pl.add_argument("--ttft", type=_rate, default=None, help="longest allowed time to first token, s")
    pl.add_argument("--cache-hit", type=_fraction, default=0.0, help="share of input tokens from the prefix cache")
    pl.add_argument("--gpus", default=None, help="GPU types to consider, comma-separated (default: all priced)")
    pl.add_argument("--profile", default="flat", help="flat, cosine:P (peak-to-mean ratio) or an hourly-load CSV")
    pl.add_argument("--prices", default=None, help="price source (default: the one pricing most GPUs)")
    pl.add_argument("--top", type=_positive_int, default=10, help="deployments to list")
    for name, h in (("figures", "every figure the book reproduces, checked against its source"),
                    ("gpus", "the GPU catalog"), ("models", "the shipped model configs")):
        sub.add_parser(name, help=h)
    for sp_ in sub.choices.values():
        sp_.add_argument("--json", action="store_true", help="machine-readable output")
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        cmd = {"model": cmd_model, "sol": cmd_sol, "decode": cmd_decode, "prefill": cmd_prefill,
               "serve": cmd_serve, "plan": cmd_plan, "figures": cmd_figures, "gpus": cmd_gpus,
               "models": cmd_models}[args.command]
        out = cmd(args)
        if args.json:
            if isinstance(out, dict):
                out = {k: _jsonable(v) for k, v in out.items()}
            print(json.dumps(stable_data(out), indent=2, default=_jsonable))
        elif args.command == "model":
            _print_model(out)
        elif args.command == "sol":
            _print_sol(out)
        elif args.command in ("decode", "prefill", "serve"):
            _print_point(out)
        elif args.command == "plan":
            _print_plan(out)
        else:
            _print_rows(out)
        return 0
    except Error as e:
        msg = " ".join(str(e).split())
        print(f"inference-arithmetic: error: {msg}", file=sys.stderr)
        return 2
    except SystemExit as e:  # --help
        return int(e.code or 0)
    except BrokenPipeError:
        return 0
