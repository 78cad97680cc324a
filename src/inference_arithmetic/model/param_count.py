"""Parameter counts and weight bytes of a model, from the formulas of :mod:`.params` (their generated
numeric functions, :mod:`inference_arithmetic.core.fast`: no sympy).

Counts are exact: the polynomial formulas are evaluated on Python integers and fractions, as the
symbolic substitution did, and rounded once at the end.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from inference_arithmetic.core import fast
from inference_arithmetic.model.config import Model

__all__ = ["ParamCount", "count_params", "weight_bytes_ep", "weight_bytes_ep_grid", "replicated_param_count",
           "expert_param_count", "weight_bytes_read"]


@dataclass(frozen=True)
class ParamCount:
    """Parameter counts of a model (plain counts)."""

    attention_per_layer: int
    total: int
    active: int
    mtp: int


@lru_cache(maxsize=256)
def _exact_values(model: Model) -> dict:
    """Exact values (integers) of every model symbol, with P_attn from the right attention formula."""
    v = model.symbol_values()
    if model.attention == "mla":
        f = fast.attn_params_mla if model.d_q else fast.attn_params_mla_fullq
    else:
        f = fast.attn_params_gqa
    attn = f(**v)
    if model.index_topk:   # the lightning indexer's weights sit in every attention layer
        attn += fast.attn_params_indexer(**v, H_idx=model.index_heads, d_idx=model.index_dim)
    return {**v, "P_attn": attn, "n_emb": 1 if model.tie_embeddings else 2, "d_s": model.d_shared}


def _float_values(model: Model) -> dict:
    return {k: float(x) for k, x in _exact_values(model).items() if x is not None}


def replicated_param_count(model: Model) -> float:
    """Parameters replicated on every GPU under EP with data-parallel attention (all but routed experts)."""
    return float(fast.replicated_params(**_exact_values(model)))


def weight_bytes_ep(model: Model, n_ep: int, redundant: int = 0, bytes_per_weight: float = 1.0,
                    resident: bool = False) -> float:
    """Weight bytes per GPU under EP-``n_ep`` (read per step, or ``resident``) for ``model``."""
    from fractions import Fraction   # exact, as the symbolic substitution was (``sol`` only)
    f = fast.weights_resident_ep if resident else fast.weights_read_ep
    return float(f(**_exact_values(model), N_ep=Fraction(n_ep), E_red=Fraction(redundant),
                   b_w=Fraction(bytes_per_weight)))


def weight_bytes_ep_grid(model: Model, n_ep, redundant, bytes_per_weight: float = 1.0, resident: bool = True):
    """:func:`weight_bytes_ep` for arrays of EP sizes and redundant experts at once (bytes per GPU;
    the numeric path, for searching a layout that fits)."""
    f = fast.weights_resident_ep if resident else fast.weights_read_ep
    return f(**_float_values(model), N_ep=n_ep, E_red=redundant, b_w=bytes_per_weight)


def weight_bytes_read(model: Model, n_ep: int, redundant: int, bytes_per_weight: float, batch):
    """:data:`.params.weights_read_batch`: weight bytes per GPU a decode step with ``batch`` requests per
    GPU reads (number or array; a dense model reads every weight)."""
    if not model.is_moe:
        return weight_bytes_ep(model, n_ep, redundant, bytes_per_weight) + 0 * np.asarray(batch, dtype=float)
    return fast.weights_read_batch(**_float_values(model), N_ep=float(n_ep), E_red=float(redundant),
                                   b_w=bytes_per_weight, batch=np.asarray(batch, dtype=float))


def expert_param_count(model: Model, include_shared: bool = True) -> float:
    """Parameters in the experts of ``model``'s MoE layers: routed, plus shared unless told not to."""
    v = _exact_values(model)
    n = fast.routed_expert_params(**v)
    if include_shared:
        n += fast.shared_expert_params(**v)
    return float(n)


def count_params(model: Model) -> ParamCount:
    """Total, activated and MTP parameters of ``model`` from the formulas of :mod:`.params`."""
    v = _exact_values(model)
    mtp = int(fast.params_mtp(**v)) if model.n_mtp else 0
    return ParamCount(int(v["P_attn"]), int(fast.params_total(**v)), int(fast.params_active(**v)), mtp)
