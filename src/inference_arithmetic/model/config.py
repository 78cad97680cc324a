"""Model architectures read from Hugging Face config.json files (``data/models/`` and the user's own).

Every field is validated by :mod:`inference_arithmetic.core.inputs` before use.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Mapping

from inference_arithmetic.core.cited import DATA, unknown
from inference_arithmetic.core.errors import CatalogError
from inference_arithmetic.core.inputs import (config_bool, config_int, config_object, config_source, config_str,
                                             read_json_file, safe_name, short)

__all__ = ["Model", "parse_config", "read_config", "models", "model", "context_error"]


@dataclass(frozen=True)
class Model:
    """Architecture read from a Hugging Face config.json.

    ``attention`` is ``"mla"`` (DeepSeek-V2/V3 latent attention) or ``"gqa"`` (MHA is
    GQA with ``n_kv_heads == n_heads``).  MoE fields are zero for a dense model.
    """

    name: str
    attention: str
    h: int
    n_layers: int
    n_dense: int
    n_heads: int
    n_kv_heads: int
    d_head: int
    d_ff: int
    vocab: int
    tie_embeddings: bool
    n_experts: int = 0
    n_shared: int = 0
    top_k: int = 0
    d_e: int = 0
    d_shared: int = 0
    d_q: int = 0          # MLA q_lora_rank; 0 when queries are not low-rank
    d_c: int = 0
    d_r: int = 0
    d_nope: int = 0
    d_v: int = 0
    n_mtp: int = 0
    route_groups: int = 0  # topk_group: most expert groups (nodes, in DeepSeek's training) a token may use
    window: int = 0        # sliding-window tokens of the windowed layers (0: every layer sees the whole context)
    n_window: int = 0      # layers with sliding-window attention (the rest attend to the whole context)
    index_topk: int = 0    # DeepSeek Sparse Attention: tokens each query attends to (0: dense attention)
    index_heads: int = 0   # lightning-indexer heads
    index_dim: int = 0     # lightning-indexer key dimension
    weight_dtype: str = ""  # the checkpoint's weight format from quantization_config ("": not stated)
    dense_weight_dtype: str = ""  # "nvfp4": quantization_config quantises every linear layer of the blocks
    context_window: int = 0  # max_position_embeddings: most tokens (input + output) a request holds (0: not stated)
    source: str = ""

    def __post_init__(self):
        """Validate a Model built by hand as a config is validated: fields are Python ints within
        the sanity limits of :mod:`.inputs`, never strings or floats (no user value reaches sympy
        as anything else)."""
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name in ("name", "attention", "source", "weight_dtype", "dense_weight_dtype"):
                if not isinstance(v, str):
                    raise CatalogError(f"Model.{f.name} must be a string, got {short(v)}")
            elif f.name == "tie_embeddings":
                if not isinstance(v, bool):
                    raise CatalogError(f"Model.tie_embeddings must be a boolean, got {short(v)}")
            elif isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 2**24:
                raise CatalogError(f"Model.{f.name} must be an integer in 0..{2**24:,}, got {short(v)}")
        if self.attention not in ("mla", "gqa"):
            raise CatalogError(f"Model.attention must be 'mla' or 'gqa', got {short(self.attention)}")
        if min(self.h, self.n_layers, self.n_heads, self.vocab) < 1 or self.n_dense > self.n_layers:
            raise CatalogError(f"{self.name}: hidden size, layers, heads and vocabulary must be >= 1 "
                               f"and dense layers at most the layers")
        if self.attention == "gqa" and (self.d_head < 1 or self.n_kv_heads < 1):
            raise CatalogError(f"{self.name}: a GQA model needs a head dimension and KV heads >= 1")
        if self.attention == "mla" and min(self.d_c, self.d_r, self.d_v) < 1:
            raise CatalogError(f"{self.name}: an MLA model needs kv_lora_rank, qk_rope_head_dim, v_head_dim >= 1")
        if self.is_moe and not 1 <= self.top_k <= self.n_experts:
            raise CatalogError(f"{self.name}: top-k must be between 1 and the number of experts")
        if self.is_moe and self.n_moe < 1:
            raise CatalogError(f"{self.name}: routed experts but no MoE layer (every layer dense): drop the expert "
                               f"fields for a dense model")
        if self.n_window > self.n_layers or (self.n_window > 0) != (self.window > 0):
            raise CatalogError(f"{self.name}: windowed layers need a window and at most the layers")

    @property
    def family(self) -> str:
        """The attention family: ``mla``, ``mla+dsa`` (DeepSeek Sparse Attention), ``gqa`` or
        ``gqa+window`` (some layers with a sliding window)."""
        if self.attention == "mla":
            return "mla+dsa" if self.index_topk else "mla"
        return "gqa+window" if self.n_window else "gqa"

    @property
    def n_moe(self) -> int:
        return self.n_layers - self.n_dense

    @property
    def is_moe(self) -> bool:
        return self.n_experts > 0

    def symbol_values(self) -> dict[str, float]:
        """Values for the model symbols of :mod:`inference_arithmetic.symbols`."""
        return {k: getattr(self, k) for k in (
            "h", "n_layers", "n_dense", "n_heads", "n_kv_heads", "d_head", "d_ff",
            "vocab", "n_experts", "n_shared", "top_k", "d_e", "d_q", "d_c", "d_r",
            "d_nope", "d_v", "n_mtp")}


_MLA_TYPES = {"deepseek_v2", "deepseek_v3", "deepseek_v32", "kimi_k2"}
_GQA_DENSE = {"llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "phi3", "olmo2"}
_GQA_MOE = {"mixtral", "qwen2_moe", "qwen3_moe", "gpt_oss", "llama4_text"}


#: keys under which multimodal repositories keep their language model's config
_WRAPPERS = ("text_config", "llm_config", "language_config")
#: features a config can declare that the tool cannot express yet, with what to say
_NOT_YET = {"compress_ratios": "DeepSeek-V4's compressed sparse attention (compress_ratios)",
            "linear_attn_config": "linear attention layers (linear_attn_config)"}


def _unwrap(cfg: Mapping, where: str) -> Mapping:
    """The language model's fields: a multimodal config's ``text_config`` (or ``llm_config``,
    ``language_config``) read as the model, keeping the outer ``_source``."""
    if cfg.get("hidden_size") is not None:
        return cfg
    for key in _WRAPPERS:
        inner = config_object(cfg, key, where)
        if inner is None:
            continue
        out = dict(inner)
        for k in ("_source", "tie_word_embeddings", "quantization_config"):
            if k in cfg and k not in out:
                out[k] = cfg[k]
        return out
    return cfg


def _weight_dtype(cfg: Mapping, where: str) -> str:
    """The checkpoint's weight format from ``quantization_config`` (FP8 block, MXFP4, NVFP4), or ""."""
    q = config_object(cfg, "quantization_config", where)
    if q is None:
        return ""
    method = (config_str(q, "quant_method", f"{where} quantization_config") or "").lower()
    algo = (config_str(q, "quant_algo", f"{where} quantization_config")
            or config_str(q, "quant_type", f"{where} quantization_config") or "").lower()
    if method == "mxfp4" or "mxfp4" in algo:
        return "mxfp4"
    if "nvfp4" in algo or method == "nvfp4":
        return "nvfp4"
    if method == "fp8" or algo == "fp8":
        return "fp8"
    return ""


#: modules an NVFP4 checkpoint may leave unquantised and still count as quantising every linear layer of
#: its transformer blocks: the output head, the embeddings and an MoE model's routers (``mlp.gate``)
_OUTSIDE_BLOCKS = ("lm_head", "embed_tokens")


def _dense_weight_dtype(cfg: Mapping, weight_dtype: str, where: str) -> str:
    """``"nvfp4"`` when the checkpoint's quantization_config is NVFP4 and leaves no linear layer of
    the transformer blocks out (``exclude_modules``, ``ignore`` or ``modules_to_not_convert`` names
    at most the head, the embeddings and routers; NVIDIA's Llama-3.1 FP4 model cards: "Only the weights
    and activations of the linear operators within transformers blocks are quantized"), else "" (the
    dense layers follow the routed experts' rule, :class:`.step.Precision`)."""
    if weight_dtype != "nvfp4":
        return ""
    q = config_object(cfg, "quantization_config", where)
    left = [q.get(k) for k in ("exclude_modules", "ignore", "modules_to_not_convert") if q.get(k) is not None]
    names = [x for lst in left for x in (lst if isinstance(lst, list) else [lst])]
    if not all(isinstance(x, str) for x in names):
        raise CatalogError(f"{where}: quantization_config module exclusions must be lists of names")
    inside = [x for x in names if not (any(t in x for t in _OUTSIDE_BLOCKS) or x.endswith("mlp.gate"))]
    return "" if inside else "nvfp4"


def _windows(cfg: Mapping, mtype: str | None, n_layers: int, where: str) -> tuple[int, int]:
    """(window tokens, windowed layers) from ``layer_types`` (``sliding_attention`` /
    ``full_attention`` per layer), or ``sliding_window`` with Gemma's ``sliding_window_pattern``
    (every P-th layer full) or Mistral's all-layer window."""
    I = lambda key, **kw: config_int(cfg, key, where, **kw)  # noqa: E731
    types = cfg.get("layer_types")
    if types is not None:
        if not isinstance(types, list) or len(types) != n_layers or not all(isinstance(t, str) for t in types):
            raise CatalogError(f"{where}: layer_types must list one attention type per layer ({n_layers})")
        unknown = sorted(set(types) - {"sliding_attention", "full_attention"})
        if unknown:
            raise CatalogError(f"{where}: not supported yet: layer type {short(unknown[0])}")
        n_win = sum(t == "sliding_attention" for t in types)
        return (I("sliding_window"), n_win) if n_win else (0, 0)
    if cfg.get("sliding_window") is None or not config_bool(cfg, "use_sliding_window", where, True):
        return 0, 0
    if cfg.get("sliding_window_pattern") is not None:
        p = I("sliding_window_pattern")
        return I("sliding_window"), n_layers - n_layers // p
    if mtype in ("mistral", "mixtral"):
        return I("sliding_window"), n_layers
    return 0, 0


def parse_config(cfg: Mapping, name: str = "model") -> Model:
    """A :class:`Model` from a config.json dictionary; one-line ``CatalogError`` on any problem.

    Every field is validated by :mod:`.inputs` (JSON integers within sanity limits, JSON
    booleans, strings) before use, and the fields are checked against each other (top-k
    within the experts, KV heads dividing the heads, a head dimension of at least 1).
    """
    where = safe_name(name)          # escaped and cut: a file's name is shown, never interpreted
    if not isinstance(cfg, Mapping):
        raise CatalogError(f"{where}: a config.json must hold a JSON object")
    cfg = _unwrap(cfg, where)
    for key, what in _NOT_YET.items():
        if key in cfg:
            raise CatalogError(f"{where}: not supported yet: {what}")
    I = lambda key, **kw: config_int(cfg, key, where, **kw)  # noqa: E731
    mtype = config_str(cfg, "model_type", where)
    source = config_source(cfg, where)
    tie = config_bool(cfg, "tie_word_embeddings", where, False)
    is_mla = mtype in _MLA_TYPES or "kv_lora_rank" in cfg
    missing = [k for k in ("hidden_size", "num_hidden_layers", "num_attention_heads", "vocab_size")
               if cfg.get(k) is None]
    if missing:
        raise CatalogError(f"{where}: incomplete config, missing {', '.join(missing)}")
    h, n_layers, n_heads, vocab = (I("hidden_size"), I("num_hidden_layers"),
                                   I("num_attention_heads"), I("vocab_size"))
    common = dict(name=where, h=h, n_layers=n_layers, n_heads=n_heads, vocab=vocab, tie_embeddings=tie,
                  source=source, weight_dtype=_weight_dtype(cfg, where),
                  context_window=I("max_position_embeddings", default=0))
    common["dense_weight_dtype"] = _dense_weight_dtype(cfg, common["weight_dtype"], where)
    if is_mla:
        missing = [k for k in ("kv_lora_rank", "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim",
                               "intermediate_size") if cfg.get(k) is None]
        moe = cfg.get("n_routed_experts") is not None
        if not moe and cfg.get("num_experts_per_tok") is not None:   # routed experts named, not counted
            missing.append("n_routed_experts")
        if moe:
            missing += [k for k in ("moe_intermediate_size", "num_experts_per_tok") if cfg.get(k) is None]
        if missing:
            raise CatalogError(f"{where}: incomplete config, missing {', '.join(missing)}")
        n_experts = I("n_routed_experts") if moe else 0
        top_k = I("num_experts_per_tok", most=n_experts) if moe else 0
        n_dense = I("first_k_dense_replace", default=0, most=n_layers) if moe else n_layers
        if moe and I("moe_layer_freq", default=1) != 1:
            raise CatalogError(f"{where}: moe_layer_freq other than 1 is not supported")
        route_groups = 0
        if moe and cfg.get("topk_group") is not None:
            n_group = I("n_group", default=n_experts, most=n_experts)
            route_groups = I("topk_group", most=n_group)
        d_e = I("moe_intermediate_size") if moe else 0
        return Model(
            attention="mla", n_dense=n_dense, n_kv_heads=n_heads, d_head=0,
            d_ff=I("intermediate_size"), n_experts=n_experts,
            n_shared=I("n_shared_experts", default=0) if moe else 0, top_k=top_k,
            d_e=d_e, d_shared=d_e, d_q=I("q_lora_rank", default=0),
            d_c=I("kv_lora_rank"), d_r=I("qk_rope_head_dim"), d_nope=I("qk_nope_head_dim"),
            d_v=I("v_head_dim"), n_mtp=I("num_nextn_predict_layers", default=0),
            route_groups=route_groups, index_topk=I("index_topk", default=0, least=0),
            index_heads=I("index_n_heads", default=0, least=0), index_dim=I("index_head_dim", default=0, least=0),
            **common)
    if mtype not in _GQA_DENSE | _GQA_MOE and cfg.get("num_key_value_heads") is None:
        what = "no model_type" if mtype is None else f"model_type {short(mtype)}"
        raise CatalogError(f"{where}: {what} and no num_key_value_heads: not a decoder config this reader knows")
    n_kv = I("num_key_value_heads", default=n_heads, most=n_heads)
    if n_heads % n_kv:
        raise CatalogError(f"{where}: num_attention_heads {n_heads} is not a multiple of num_key_value_heads {n_kv}")
    if cfg.get("head_dim") is not None:
        d_head = I("head_dim")
    elif h % n_heads:
        raise CatalogError(f"{where}: hidden_size {h} is not a multiple of num_attention_heads {n_heads}; "
                           f"give head_dim")
    else:
        d_head = h // n_heads
    window, n_window = _windows(cfg, mtype, n_layers, where)
    common.update(window=window, n_window=n_window)
    if mtype == "mixtral" or cfg.get("num_local_experts") is not None:
        missing = [k for k in ("num_local_experts", "num_experts_per_tok", "intermediate_size") if cfg.get(k) is None]
        if missing:
            raise CatalogError(f"{where}: incomplete config, missing {', '.join(missing)}")
        ff = I("intermediate_size")
        n_experts = I("num_local_experts")
        # Llama 4: MoE every k-th layer (the others dense, intermediate_size_mlp wide), one shared expert
        step_k = I("interleave_moe_layer_step", default=1, most=n_layers)
        n_dense = n_layers - n_layers // step_k
        shared = 1 if mtype == "llama4_text" else 0
        return Model(attention="gqa", n_dense=n_dense, n_kv_heads=n_kv, d_head=d_head,
                     d_ff=I("intermediate_size_mlp", default=ff) if n_dense else ff,
                     n_experts=n_experts, top_k=I("num_experts_per_tok", most=n_experts), d_e=ff,
                     n_shared=shared, d_shared=ff if shared else 0, **common)
    if mtype in ("qwen2_moe", "qwen3_moe") or cfg.get("num_experts") is not None:
        missing = [k for k in ("num_experts", "num_experts_per_tok", "moe_intermediate_size") if cfg.get(k) is None]
        if missing:
            raise CatalogError(f"{where}: incomplete config, missing {', '.join(missing)}")
        mlp_only = cfg.get("mlp_only_layers")
        if mlp_only is not None and not isinstance(mlp_only, list):
            raise CatalogError(f"{where}: mlp_only_layers must be a JSON list, got {short(mlp_only)}")
        if I("decoder_sparse_step", default=1) != 1 or mlp_only:
            raise CatalogError(f"{where}: decoder_sparse_step != 1 or mlp_only_layers is not supported")
        shared = I("shared_expert_intermediate_size", default=0)
        n_experts = I("num_experts")
        return Model(attention="gqa", n_dense=0, n_kv_heads=n_kv, d_head=d_head,
                     d_ff=I("intermediate_size", default=0, least=0),
                     n_experts=n_experts, n_shared=1 if shared else 0, d_shared=shared,
                     top_k=I("num_experts_per_tok", most=n_experts),
                     d_e=I("moe_intermediate_size"), **common)
    if mtype in _GQA_MOE or cfg.get("num_experts_per_tok") is not None:   # a MoE config no branch above took
        raise CatalogError(f"{where}: incomplete config, missing num_local_experts (a mixture-of-experts config "
                           f"without its expert count)")
    if cfg.get("intermediate_size") is None:
        raise CatalogError(f"{where}: incomplete config, missing intermediate_size")
    return Model(attention="gqa", n_dense=n_layers, n_kv_heads=n_kv, d_head=d_head,
                 d_ff=I("intermediate_size"), **common)


def context_error(model: Model, isl: float, osl: float = 0.0, what: str = "input") -> str | None:
    """Why a request of ``isl`` input (or ``what`` context) and ``osl`` output tokens cannot run on
    ``model`` (one line), or ``None``: its positions, input plus output, exceed the config's
    ``max_position_embeddings``, the context the model was built for (a deployment that stretches it,
    e.g. by YaRN rope scaling, states so in its own config.json).  A config that states no window is
    not checked."""
    n = model.context_window
    if not n or isl + osl <= n:
        return None
    asked = f"{isl:,.0f} {what} + {osl:,.0f} output tokens" if osl else f"{isl:,.0f} {what} tokens"
    return (f"{model.name} holds at most {n:,} tokens per request (max_position_embeddings of its config.json), "
            f"got {asked}")


def read_config(path: str | Path) -> Model:
    """A :class:`Model` from a config.json file on disk (a regular file of at most 1 MB)."""
    data, stem = read_json_file(path)
    return parse_config(data, stem)


@lru_cache(maxsize=None)
def models() -> Mapping[str, Model]:
    """The shipped model configs by name (file stem)."""
    folder = DATA / "models"
    out = {}
    for f in sorted(folder.iterdir(), key=lambda x: x.name):
        if f.name.endswith(".json"):
            stem = f.name[:-5]
            out[stem] = parse_config(json.loads(f.read_text(encoding="utf-8")), stem)
    return out


def model(name: str) -> Model:
    """A shipped model by name (``deepseek-v3``); an unknown name suggests the nearest."""
    table = models()
    key = str(name).strip().lower()
    if key in table:
        return table[key]
    raise unknown("model", name, table)

