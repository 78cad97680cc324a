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

from . import catalog, decode, figures, kv, params, step
from . import inputs
from .errors import Error
from .rounding import stable_data

__all__ = ["main", "parse_range"]

WEIGHT_BYTES = step.WEIGHT_BYTES
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


def _positive_int(text: str) -> int:
    try:
        return inputs.parse_int(text, "value", least=1)
    except Error as e:
        raise argparse.ArgumentTypeError(f"must be a positive integer up to {inputs.MAX_INT:,}, "
                                         f"got {inputs.short(text)}") from None


def _count(text: str) -> int:
    try:
        return inputs.parse_int(text, "value", least=0)
    except Error:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0 up to {inputs.MAX_INT:,}, "
                                         f"got {inputs.short(text)}") from None


def _probability(text: str) -> float:
    try:
        return inputs.parse_float(text, "value", least=0.0, most=1.0)
    except Error:
        raise argparse.ArgumentTypeError(f"must be a number between 0 and 1, got {inputs.short(text)}") from None


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
        W_res = params.weight_bytes_ep(m, n_ep=n_ep, redundant=args.redundant, bytes_per_weight=wb, resident=True)
        room = decode.kv_capacity(HBM=g.hbm_capacity, W_res=W_res, reserve=0)
        out.update(ep=n_ep, weight_dtype=args.weight_dtype, weight_bytes_read_per_step=W_read,
                   weight_bytes_resident=W_res, weights_fit=bool(room > 0), kv_room_bytes=max(float(room), 0.0),
                   max_batch=np.maximum(decode.max_batch(HBM=g.hbm_capacity, W_res=W_res, reserve=0,
                                                         ctx=ctx, S_kv=S_kv), 0))
        if batch is not None:
            ctx_b = ctx
            out["batch"] = batch
            out["fits"] = decode.kv_footprint(batch=batch, ctx=ctx_b, S_kv=S_kv) + W_res <= g.hbm_capacity
            out["bandwidth_bound_tokens_per_s"] = decode.gpu_rate(accept=accept, batch=batch, BW=g.hbm_bandwidth,
                                                                  ctx=ctx_b, S_kv=S_kv, W=W_read)
            if m.attention == "mla" and m.is_moe:
                layout = step.Layout(n_ep=n_ep, redundant=args.redundant, kv_bytes=kv.dtype_bytes(args.kv_dtype),
                                     weight_bytes=wb, accept=accept, s_q=s_q)
                bd = step.breakdown(step.step_inputs(m, g, layout, batch=batch, ctx=ctx_b))
                out.update({f"step_{k}": v for k, v in bd.items()})
    return out


def _jsonable(x):
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
    for name, h in (("figures", "every figure the book reproduces, checked against its source"),
                    ("gpus", "the GPU catalog"), ("models", "the shipped model configs")):
        sub.add_parser(name, help=h)
    for sp_ in sub.choices.values():
        sp_.add_argument("--json", action="store_true", help="machine-readable output")
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        cmd = {"model": cmd_model, "sol": cmd_sol, "figures": cmd_figures, "gpus": cmd_gpus,
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
