"""The step model: the time of one decode or prefill step of a deployment unit.

Modules, each importing only those before it: :mod:`.comm` (communication volumes),
:mod:`.bounds` (speed-of-light bounds), :mod:`.layout` (layouts, precisions, defaults),
:mod:`.operations` (per-operation times), :mod:`.memory` (HBM), :mod:`.feasibility` (the one check of a
layout against its model and GPU), :mod:`.unit` (a unit's constants,
one table of phase differences), :mod:`.evaluate` (every term at once).  The names below are
the package's public interface; the formulas of :mod:`.operations` are too, loaded (with sympy) on
first use: the numeric modules call their generated functions (:mod:`inference_arithmetic.core.fast`).
"""
from pathlib import Path

from inference_arithmetic.model.dtypes import ATTN_DTYPES, DENSE_DTYPES, KV_DTYPES, MOE_DTYPES, default_moe_dtype, search_moe_dtypes  # noqa: F401,E501
from inference_arithmetic.hardware.kernel_tables import DEFAULT_FRAMEWORK, FRAMEWORKS  # noqa: F401
from inference_arithmetic.step.evaluate import evaluate, expert_rate, stack, terms  # noqa: F401
from inference_arithmetic.step.feasibility import (MAX_EP, attention_heads_error, check_layout, dense_dtype_error,  # noqa: F401,E501
                                                   expert_slice_error,
                                                   expert_slots_error, hbm_error, layout_error, mtp_error, mx_block_error,
                                                   smallest_ep, weights_room_error, default_redundancy_note)
from inference_arithmetic.step.layout import (HBM_RESERVE_SHARE, LINK_LATENCY_SCALE_OUT_S, MAX_PP, Layout,  # noqa: F401
                                              Precision, default_micro_batches, default_redundant, layout_for,
                                              wide_ep_layout)
from inference_arithmetic.step.layout import KERNELS, kernels_per_step  # noqa: F401
from inference_arithmetic.step.memory import fits, free_bytes, max_batch, memory, memory_values, weights_read_bytes  # noqa: F401,E501
from inference_arithmetic.step.unit import PHASES, Unit, fitted, unit, unsupported, users_that_fit  # noqa: F401

_HERE = Path(__file__).parent


def __getattr__(name: str):
    """The step formulas and their symbols (``step.t_attn``, ``step.weights_resident`` ...): read from
    :mod:`.operations` when first asked for, so that the numeric path never imports sympy."""
    if name.startswith("__") or (_HERE / f"{name}.py").exists():   # a submodule: the import system's to load
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from inference_arithmetic.step import operations
    if name in operations.__all__:
        return getattr(operations, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
