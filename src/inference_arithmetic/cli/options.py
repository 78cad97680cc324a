"""The command line's options, as data: one list per subcommand (:func:`options`), from which come the
argparse parsers of :mod:`.parser` (help, errors) and the table with which :func:`quick_parse` reads a
plain command line without argparse (whose import and first parser cost a process about 3 ms)."""
from __future__ import annotations

from functools import lru_cache
from types import SimpleNamespace

from inference_arithmetic import step
from inference_arithmetic.model import kv_bytes as kv
from inference_arithmetic.serving import prefill_step as prefill
from inference_arithmetic.cli.args import (MAX_POINTS, SOL_WEIGHT_DTYPES, acceptance, count, count_small, fraction,
                                           positive_int, probability, rate, rate_big, seconds, stages)

__all__ = ["Opt", "Exclusive", "options", "options_table", "quick_parse", "quick_table", "COMMANDS"]


class Opt:
    """One option (or positional) of a subcommand: ``argparse``'s ``add_argument(*flags, **kw)``, as data."""

    __slots__ = ("flags", "kw")

    def __init__(self, *flags: str, **kw):
        self.flags, self.kw = flags, kw


class Exclusive:
    """A mutually exclusive group of options (``required``: one of them must be given)."""

    __slots__ = ("required", "opts")

    def __init__(self, required: bool, opts: tuple):
        self.required, self.opts = required, opts


def _dest(o: Opt) -> str:
    """argparse's attribute name of an option: its first long option string, without the dashes, ``-`` as ``_``."""
    if "dest" in o.kw:
        return o.kw["dest"]
    long = [f for f in o.flags if f.startswith("--")]
    return (long or list(o.flags))[0].lstrip("-").replace("-", "_")


def options_table(specs):
    """The :class:`Opt` ``specs`` as :func:`quick_parse` reads them: ``(by option string: (dest, is a flag,
    type, choices), defaults by dest, required dests, exclusive groups (required, dests))``; ``None`` when an
    option is one it does not parse (a positional, ``nargs``, an action other than ``store_true``, a string
    default with a type, which argparse would convert)."""
    by_flag, defaults, required, groups = {}, {}, [], []
    for s in specs:
        opts = s.opts if isinstance(s, Exclusive) else (s,)
        if isinstance(s, Exclusive):
            groups.append((s.required, tuple(_dest(o) for o in opts)))
        for o in opts:
            kw = o.kw
            action = kw.get("action")
            if not all(f.startswith("-") for f in o.flags) or "nargs" in kw or action not in (None, "store_true") \
                    or (isinstance(kw.get("default"), str) and kw.get("type") is not None):
                return None
            dest, flag = _dest(o), action == "store_true"
            for f in o.flags:
                by_flag[f] = (dest, flag, kw.get("type"), kw.get("choices"))
            defaults[dest] = kw.get("default", False if flag else None)
            if kw.get("required"):
                required.append(dest)
    return by_flag, defaults, tuple(required), tuple(groups)


def quick_parse(table, argv: list[str]) -> SimpleNamespace | None:
    """argparse's namespace for ``argv`` (a subcommand's arguments; a ``SimpleNamespace`` of the same
    attributes) without argparse, for the plain command lines argparse would accept: every token an option
    of ``table`` (:func:`options_table`) given once, as ``--name value`` (a value not starting with ``-``)
    or a flag, every value of its type and among its choices, the required options and groups given and
    no two of a mutually exclusive group.  ``None`` for anything else (an unknown or repeated option,
    ``--name=value``, a positional, help, a value argparse would refuse): the caller then parses with
    argparse, which answers or reports as it always did."""
    if table is None:
        return None
    by_flag, defaults, required, groups = table
    given: dict = {}
    i, n = 0, len(argv)
    while i < n:
        o = by_flag.get(argv[i])
        if o is None or o[0] in given:
            return None
        dest, flag, kind, choices = o
        if flag:
            given[dest] = True
            i += 1
            continue
        if i + 1 >= n or argv[i + 1][:1] in ("-", ""):
            return None
        value = argv[i + 1]
        if kind is not None:
            try:
                value = kind(value)
            except Exception:          # argparse reports it (ArgumentTypeError, TypeError, ValueError)
                return None
        if choices is not None and value not in choices:
            return None
        given[dest] = value
        i += 2
    if any(d not in given for d in required):
        return None
    for must, dests in groups:
        k = sum(d in given for d in dests)
        if k > 1 or (must and not k):
            return None
    return SimpleNamespace(**{**defaults, **given})


def _model():
    return [Opt("config", help="path to a Hugging Face config.json, or a shipped model name")]


def _sol():
    cap = f"at most {MAX_POINTS:,} points in all, about a second"
    return [
        Opt("--model", required=True, help="config.json path or shipped model name"),
        Opt("--gpu", required=True, help="GPU name (see 'gpus')"),
        Opt("--context", required=True, help=f"tokens of context: N or start:stop[:step] ({cap})"),
        Opt("--kv-dtype", default="bf16", choices=list(kv.CACHE_DTYPES)),
        Opt("--mtp-accept", type=probability, default=0.0,
            help="acceptance probability of one MTP draft token (0: no MTP; needs a model with an MTP module)"),
        Opt("--ep", type=positive_int,
            help="GPUs in the expert-parallel group (a MoE model; a dense model: 1, sol does not bound tensor "
                 "parallelism)"),
        Opt("--redundant", type=count, default=0, help="redundant routed experts in the group"),
        Opt("--batch", help=f"users per GPU: B or start:stop[:step] (with --context: {cap})"),
        Opt("--weight-dtype", default=None, choices=list(SOL_WEIGHT_DTYPES),
            help="bytes per weight (default: the config's quantization_config, else fp8)"),
    ]


def _layout_flags(phase):
    out = [
        Opt("--model", required=True, help="config.json path or shipped model name"),
        Opt("--gpu", required=True, help="GPU name (see 'gpus')"),
        Opt("--ep", type=positive_int, required=True, help="GPUs in the deployment unit (EP group)"),
        Opt("--redundant", type=count, default=None, help="redundant routed experts (default: the fewest that spread evenly)"),
        Opt("--attn", choices=["dp", "tp"], default="dp", help="attention data- or tensor-parallel"),
        Opt("--attn-tp", type=positive_int, default=None, help="GPUs per attention instance (--attn tp)"),
        Opt("--moe-tp", type=positive_int, default=1, help="GPUs splitting each expert"),
        Opt("--pp", type=stages, default=1,
            help="pipeline stages of --ep GPUs each (default 1: none); --batch is then one micro-batch's requests"),
        Opt("--micro-batches", type=positive_int, choices=[1, 2], default=None,
            help="2: two-batch overlap (default: with --framework deepseek, when the unit spans NVLink domains; with a serving framework, its own default, one)"),
        Opt("--eplb", action="store_true", help="expert load balancing on (EPLB's imbalance, also without redundant "
                                                "experts; default: on exactly when there are redundant experts)"),
        Opt("--moe-dtype", choices=list(step.MOE_DTYPES), default=None,
            help="routed-expert dtype (default: the checkpoint's quantization_config, else fp8)"),
        Opt("--attn-dtype", choices=list(step.ATTN_DTYPES), default="bf16"),
        Opt("--dense-dtype", choices=list(step.DENSE_DTYPES), default=None,
            help="dense weights' dtype: attention projections, dense FFN, shared experts (default: nvfp4 where the "
                 "checkpoint's quantization_config quantises every linear layer to NVFP4, else the MoE dtype's rule)"),
    ]
    if phase == "decode":
        out += [
            Opt("--kv-dtype", choices=list(step.KV_DTYPES), default="bf16"),
            Opt("--mtp", type=count_small, default=0, help="MTP draft tokens per step (a model with an MTP module only)"),
            Opt("--accept", type=acceptance, default=None, help="acceptance of each draft token (default: cited, 0.875)"),
        ]
    return out


def _decode():
    return [
        *_layout_flags("decode"),
        Opt("--isl", type=positive_int, required=True, help="input tokens per request"),
        Opt("--osl", type=positive_int, required=True, help="output tokens per request"),
        Exclusive(True, (Opt("--batch", type=positive_int, help="concurrent requests per attention instance"),
                         Opt("--per-user", type=rate, help="slowest allowed tokens/s per user"),
                         Opt("--max-throughput", action="store_true", help="the largest batch that fits"))),
    ]


def _prefill():
    return [
        *_layout_flags("prefill"),
        Opt("--isl", type=positive_int, default=4096, help="input tokens per request"),
        Opt("--cached-fraction", type=fraction, default=0.0, help="share of input from the prefix cache"),
        Opt("--chunk", type=positive_int, default=prefill.PREFILL_CHUNK_TOKENS, help="new tokens per GPU per prefill step"),
    ]


def _serve():
    return [
        Opt("--model", required=True),
        Opt("--gpu", required=True),
        Opt("--mode", choices=["agg", "disagg"], required=True,
            help="agg: the same GPUs prefill and decode (in mixed steps, prompt chunks inside the decode steps, "
                 "under --framework trtllm or vllm; in steps of their own otherwise: the JSON's agg_steps); "
                 "disagg: separate prefill and decode pools"),
        Opt("--isl", type=positive_int, required=True),
        Opt("--osl", type=positive_int, required=True),
        Exclusive(True, (
            Opt("--per-user", type=rate, help="slowest allowed tokens/s per user"),
            Opt("--max-throughput", action="store_true", help="the most tokens/s per GPU at any speed"),
            Opt("--batch", type=positive_int, help="requests per attention instance, as a publication states"))),
        Opt("--ep", type=positive_int, default=None, help="pin the decode unit's GPUs (EP group; default: searched)"),
        Opt("--attn", choices=["dp", "tp"], default=None, help="pin attention data- or tensor-parallel"),
        Opt("--attn-tp", type=positive_int, default=None, help="GPUs per attention instance (--attn tp; "
            "default 8, or the unit)"),
        Opt("--moe-tp", type=positive_int, default=None, help="pin the GPUs splitting each expert (default 1)"),
        Opt("--redundant", type=count, default=None,
            help="pin the decode unit's redundant experts (default: the fewest that spread evenly)"),
        Opt("--micro-batches", type=positive_int, choices=[1, 2], default=None,
            help="pin two-batch overlap (default: with --framework deepseek, when the unit spans NVLink domains; with a serving framework, its own default, one)"),
        Opt("--max-gpus", type=positive_int, default=None,
            help="deployment units of at most N GPUs (a single-node benchmark: 8)"),
        Opt("--prefill-ep", type=positive_int, default=None,
            help="pin the prefill unit's GPUs (disaggregated: the prefill workers' EP group; default: searched)"),
        Opt("--max-batch", type=positive_int, default=None,
            help="at most N requests per attention instance (a configuration's batch limit, e.g. max_batch_size)"),
        Opt("--moe-dtype", choices=list(step.MOE_DTYPES), default=None,
            help="pin the routed-expert dtype (default: searched, as the planner does)"),
        Opt("--attn-dtype", choices=list(step.ATTN_DTYPES), default=None, help="pin (default: bf16)"),
        Opt("--kv-dtype", choices=list(step.KV_DTYPES), default=None, help="pin (default: searched)"),
        Opt("--dense-dtype", choices=list(step.DENSE_DTYPES), default=None,
            help="pin the dense weights' dtype (default: the checkpoint's, else the MoE dtype's rule)"),
        Opt("--mtp", type=count_small, default=None, help="pin the MTP draft tokens (default: searched)"),
        Opt("--cached-fraction", type=fraction, default=0.0),
        Opt("--ttft", type=seconds, default=None, help="longest allowed time to first token, s"),
        Opt("--decode-context", type=positive_int, default=None,
            help="mean context a decode batch holds, tokens per request (default: isl + osl/2, fixed lengths; "
                 "larger for a dataset whose output lengths vary)"),
    ]


def _plan():
    return [
        Opt("--model", required=True),
        Exclusive(True, (Opt("--tokens-per-day", type=rate_big, help="input plus output tokens per day"),
                         Opt("--requests-per-s", type=rate_big, help="requests per second, on average"))),
        Opt("--isl", type=positive_int, required=True),
        Opt("--osl", type=positive_int, required=True),
        Opt("--per-user", type=rate, required=True, help="slowest allowed tokens/s per user"),
        Opt("--ttft", type=seconds, default=None, help="longest allowed time to first token, s"),
        Opt("--cache-hit", type=fraction, default=0.0, help="share of input tokens from the prefix cache"),
        Opt("--gpus", default=None, help="GPU types to consider, comma-separated (default: all priced)"),
        Opt("--profile", default="flat", help="flat, cosine:P (peak-to-mean ratio) or an hourly-load CSV"),
        Opt("--prices", default=None,
            help="price source, SOURCE,SOURCE... or all (every provider list); each pool and tier buys "
                 "from the cheapest (default: the one source pricing every GPU asked for)"),
        Opt("--mixed", action="store_true",
            help="let a deployment's pools differ in GPU type (prefill on one, decode on another; a "
                 "reserved floor on one, an on-demand burst on another)"),
        Opt("--top", type=positive_int, default=10, help="deployments to list"),
    ]


def _validate():
    return [Opt("--framework", choices=["publication", *step.FRAMEWORKS], default="publication",
                help="whose routed-expert kernels (default: publication, each entry with its publication's "
                     "framework; deepseek: DeepSeek's kernels by the transfer rule for every entry)"),
            Opt("--at-load", action="store_true",
                help="also predict each MLPerf Server and Interactive run at the decode concurrency its log "
                     "measured (Little's law; a disaggregated run per decode GPU), apart from the summary: the "
                     "JSON's at_measured_load")]


_FRAMEWORK = Opt("--framework", choices=list(step.FRAMEWORKS), default=step.DEFAULT_FRAMEWORK,
                 help="whose kernels: deepseek (default: DeepSeek's own, measured on the H800, by the "
                      "transfer rule, the same fraction of peak on every GPU, or AMD's published rates where "
                      "they exist), or sglang, trtllm, vllm (the framework's measured tables from "
                      "aiconfigurator-core for every operation class that has one for the GPU, dtype and "
                      "shape: grouped MoE GEMM, MLA decode attention, dense GEMM, all-reduce; the deepseek "
                      "rule for the rest, each named in the output's kernels)")
_JSON = Opt("--json", action="store_true", help="machine-readable output")

#: The subcommands in the order ``--help`` lists them: (help, the function listing their own options,
#: whether they take ``--framework``).
COMMANDS = {
    "model": ("attention, KV bytes per token, parameters of a config.json or shipped model", _model, False),
    "sol": ("speed of light and step-time breakdown", _sol, False),
    "decode": ("decode throughput and per-user speed from the step model", _decode, True),
    "prefill": ("prefill input throughput and time to first token", _prefill, True),
    "serve": ("the best layout for a GPU type and serving mode", _serve, True),
    "plan": ("the cheapest fleet for a workload and a service level", _plan, True),
    "validate": ("predict every published measurement of the validation set and state the error", _validate, False),
    "figures": ("every figure the book reproduces, checked against its source", list, False),
    "gpus": ("the GPU catalog", list, False),
    "models": ("the shipped model configs", list, False),
}


@lru_cache(maxsize=None)
def options(name: str) -> tuple:
    """Subcommand ``name``'s options in order: its own, ``--framework`` where it takes one, ``--json``."""
    _, own, framework = COMMANDS[name]
    return (*own(), *((_FRAMEWORK,) if framework else ()), _JSON)


@lru_cache(maxsize=None)
def quick_table(name: str):
    """Subcommand ``name``'s options as :func:`quick_parse` reads them (``None``: it takes a positional)."""
    return options_table(options(name))
