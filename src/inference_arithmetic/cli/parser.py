"""The command line's arguments, one function per subcommand: the whole parser (:func:`build_parser`,
for help and for what a subcommand's own parser does not recognise) or one subcommand's parser alone
(:func:`command_parser`, all a plain command line needs)."""
from __future__ import annotations

import argparse
from functools import lru_cache

from inference_arithmetic import step
from inference_arithmetic.model import kv_bytes as kv
from inference_arithmetic.serving import prefill_step as prefill
from inference_arithmetic.cli.args import (MAX_POINTS, SOL_WEIGHT_DTYPES, Parser, acceptance, count, count_small,
                                           fraction, positive_int, probability, rate, rate_big)

__all__ = ["build_parser", "command_parser", "COMMANDS", "PROG"]

PROG = "inference-arithmetic"


def _model(pm):
    pm.add_argument("config", help="path to a Hugging Face config.json, or a shipped model name")


def _sol(ps):
    ps.add_argument("--model", required=True, help="config.json path or shipped model name")
    ps.add_argument("--gpu", required=True, help="GPU name (see 'gpus')")
    cap = f"at most {MAX_POINTS:,} points in all, about a second"
    ps.add_argument("--context", required=True, help=f"tokens of context: N or start:stop[:step] ({cap})")
    ps.add_argument("--kv-dtype", default="bf16", choices=list(kv.CACHE_DTYPES))
    ps.add_argument("--mtp-accept", type=probability, default=0.0,
                    help="acceptance probability of one MTP draft token (0: no MTP; needs a model with an MTP module)")
    ps.add_argument("--ep", type=positive_int, help="GPUs in the expert-parallel group")
    ps.add_argument("--redundant", type=count, default=0, help="redundant routed experts in the group")
    ps.add_argument("--batch", help=f"users per GPU: B or start:stop[:step] (with --context: {cap})")
    ps.add_argument("--weight-dtype", default=None, choices=list(SOL_WEIGHT_DTYPES),
                    help="bytes per weight (default: the config's quantization_config, else fp8)")


def _layout_flags(sp_, phase):
    sp_.add_argument("--model", required=True, help="config.json path or shipped model name")
    sp_.add_argument("--gpu", required=True, help="GPU name (see 'gpus')")
    sp_.add_argument("--ep", type=positive_int, required=True, help="GPUs in the deployment unit (EP group)")
    sp_.add_argument("--redundant", type=count, default=None,
                     help="redundant routed experts (default: the fewest that spread evenly)")
    sp_.add_argument("--attn", choices=["dp", "tp"], default="dp", help="attention data- or tensor-parallel")
    sp_.add_argument("--attn-tp", type=positive_int, default=None, help="GPUs per attention instance (--attn tp)")
    sp_.add_argument("--moe-tp", type=positive_int, default=1, help="GPUs splitting each expert")
    sp_.add_argument("--micro-batches", type=positive_int, choices=[1, 2], default=None,
                     help="2: two-batch overlap (default: when the unit spans NVLink domains)")
    sp_.add_argument("--eplb", action="store_true",
                     help="expert load balancing on (EPLB's imbalance, also without redundant experts; "
                          "default: on exactly when there are redundant experts)")
    sp_.add_argument("--moe-dtype", choices=list(step.MOE_DTYPES), default=None,
                     help="routed-expert dtype (default: the checkpoint's quantization_config, else fp8)")
    sp_.add_argument("--attn-dtype", choices=list(step.ATTN_DTYPES), default="bf16")
    if phase == "decode":
        sp_.add_argument("--kv-dtype", choices=list(step.KV_DTYPES), default="bf16")
        sp_.add_argument("--mtp", type=count_small, default=0,
                         help="MTP draft tokens per step (a model with an MTP module only)")
        sp_.add_argument("--accept", type=acceptance, default=None,
                         help="acceptance of each draft token (default: cited, 0.875)")


def _decode(pd):
    _layout_flags(pd, "decode")
    pd.add_argument("--isl", type=positive_int, required=True, help="input tokens per request")
    pd.add_argument("--osl", type=positive_int, required=True, help="output tokens per request")
    g1 = pd.add_mutually_exclusive_group(required=True)
    g1.add_argument("--batch", type=positive_int, help="concurrent requests per attention instance")
    g1.add_argument("--per-user", type=rate, help="slowest allowed tokens/s per user")
    g1.add_argument("--max-throughput", action="store_true", help="the largest batch that fits")


def _prefill(pp):
    _layout_flags(pp, "prefill")
    pp.add_argument("--isl", type=positive_int, default=4096, help="input tokens per request")
    pp.add_argument("--cached-fraction", type=fraction, default=0.0, help="share of input from the prefix cache")
    pp.add_argument("--chunk", type=positive_int, default=prefill.PREFILL_CHUNK_TOKENS,
                    help="new tokens per GPU per prefill step")


def _serve(pv):
    pv.add_argument("--model", required=True)
    pv.add_argument("--gpu", required=True)
    pv.add_argument("--mode", choices=["agg", "disagg"], required=True)
    pv.add_argument("--isl", type=positive_int, required=True)
    pv.add_argument("--osl", type=positive_int, required=True)
    g2 = pv.add_mutually_exclusive_group(required=True)
    g2.add_argument("--per-user", type=rate, help="slowest allowed tokens/s per user")
    g2.add_argument("--max-throughput", action="store_true", help="the most tokens/s per GPU at any speed")
    g2.add_argument("--batch", type=positive_int, help="requests per attention instance, as a publication states")
    pv.add_argument("--ep", type=positive_int, default=None,
                    help="pin the decode unit's GPUs (EP group; default: searched)")
    pv.add_argument("--attn", choices=["dp", "tp"], default=None, help="pin attention data- or tensor-parallel")
    pv.add_argument("--attn-tp", type=positive_int, default=None, help="GPUs per attention instance (--attn tp; "
                    "default 8, or the unit)")
    pv.add_argument("--moe-tp", type=positive_int, default=None, help="pin the GPUs splitting each expert (default 1)")
    pv.add_argument("--redundant", type=count, default=None,
                    help="pin the decode unit's redundant experts (default: the fewest that spread evenly)")
    pv.add_argument("--micro-batches", type=positive_int, choices=[1, 2], default=None,
                    help="pin two-batch overlap (default: when the unit spans NVLink domains)")
    pv.add_argument("--max-gpus", type=positive_int, default=None,
                    help="deployment units of at most N GPUs (a single-node benchmark: 8)")
    pv.add_argument("--moe-dtype", choices=list(step.MOE_DTYPES), default=None,
                    help="pin the routed-expert dtype (default: searched, as the planner does)")
    pv.add_argument("--attn-dtype", choices=list(step.ATTN_DTYPES), default=None, help="pin (default: bf16)")
    pv.add_argument("--kv-dtype", choices=list(step.KV_DTYPES), default=None, help="pin (default: searched)")
    pv.add_argument("--mtp", type=count_small, default=None, help="pin the MTP draft tokens (default: searched)")
    pv.add_argument("--cached-fraction", type=fraction, default=0.0)
    pv.add_argument("--ttft", type=rate, default=None, help="longest allowed time to first token, s")


def _plan(pl):
    pl.add_argument("--model", required=True)
    g3 = pl.add_mutually_exclusive_group(required=True)
    g3.add_argument("--tokens-per-day", type=rate_big, help="input plus output tokens per day")
    g3.add_argument("--requests-per-s", type=rate_big, help="requests per second, on average")
    pl.add_argument("--isl", type=positive_int, required=True)
    pl.add_argument("--osl", type=positive_int, required=True)
    pl.add_argument("--per-user", type=rate, required=True, help="slowest allowed tokens/s per user")
    pl.add_argument("--ttft", type=rate, default=None, help="longest allowed time to first token, s")
    pl.add_argument("--cache-hit", type=fraction, default=0.0, help="share of input tokens from the prefix cache")
    pl.add_argument("--gpus", default=None, help="GPU types to consider, comma-separated (default: all priced)")
    pl.add_argument("--profile", default="flat", help="flat, cosine:P (peak-to-mean ratio) or an hourly-load CSV")
    pl.add_argument("--prices", default=None,
                    help="price source, SOURCE,SOURCE... or all (every provider list); each pool and tier buys "
                         "from the cheapest (default: the one source pricing every GPU asked for)")
    pl.add_argument("--mixed", action="store_true",
                    help="let a deployment's pools differ in GPU type (prefill on one, decode on another; a "
                         "reserved floor on one, an on-demand burst on another)")
    pl.add_argument("--top", type=positive_int, default=10, help="deployments to list")


def _validate(pval):
    pval.add_argument("--framework", choices=["publication", *step.FRAMEWORKS], default="publication",
                      help="whose routed-expert kernels (default: publication, each entry with its publication's "
                           "framework; deepseek: DeepSeek's kernels by the transfer rule for every entry)")


def _framework(sp_):
    sp_.add_argument("--framework", choices=list(step.FRAMEWORKS), default=step.DEFAULT_FRAMEWORK,
                     help="whose kernels: deepseek (default: DeepSeek's own, measured on the H800, by the "
                          "transfer rule, the same fraction of peak on every GPU, or AMD's published rates where "
                          "they exist), or sglang, trtllm, vllm (the framework's measured tables from "
                          "aiconfigurator-core for every operation class that has one for the GPU, dtype and "
                          "shape: grouped MoE GEMM, MLA decode attention, dense GEMM, all-reduce; the deepseek "
                          "rule for the rest, each named in the output's kernels)")


#: The subcommands in the order ``--help`` lists them: (help, the function adding their own arguments, whether
#: they take ``--framework``).
COMMANDS = {
    "model": ("attention, KV bytes per token, parameters of a config.json or shipped model", _model, False),
    "sol": ("speed of light and step-time breakdown", _sol, False),
    "decode": ("decode throughput and per-user speed from the step model", _decode, True),
    "prefill": ("prefill input throughput and time to first token", _prefill, True),
    "serve": ("the best layout for a GPU type and serving mode", _serve, True),
    "plan": ("the cheapest fleet for a workload and a service level", _plan, True),
    "validate": ("predict every published measurement of the validation set and state the error", _validate, False),
    "figures": ("every figure the book reproduces, checked against its source", None, False),
    "gpus": ("the GPU catalog", None, False),
    "models": ("the shipped model configs", None, False),
}


def _arguments(name: str, p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add subcommand ``name``'s arguments to ``p`` (its own, ``--framework`` where it takes one, ``--json``)."""
    _, add, framework = COMMANDS[name]
    if add is not None:
        add(p)
    if framework:
        _framework(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    return p


@lru_cache(maxsize=1)
def build_parser() -> argparse.ArgumentParser:
    """The command line's parser with every subcommand, built once per process (``main`` is called many times
    in tests and notebooks)."""
    p = Parser(prog=PROG, description="The arithmetic of serving DeepSeek-class LLMs: KV bytes, bounds, catalogs.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    for name, (h, _, _) in COMMANDS.items():
        _arguments(name, sub.add_parser(name, help=h))
    return p


@lru_cache(maxsize=None)
def command_parser(name: str) -> argparse.ArgumentParser:
    """Subcommand ``name``'s parser alone (what :func:`build_parser` holds under ``name``), built once per
    process: a command line names one subcommand, and building the others' parsers cost a whole process
    about 2 ms."""
    return _arguments(name, Parser(prog=f"{PROG} {name}"))
