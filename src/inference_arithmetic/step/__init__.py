"""The step model: the time of one decode or prefill step of a deployment unit.

Modules, each importing only those before it: :mod:`.comm` (communication volumes),
:mod:`.bounds` (speed-of-light bounds), :mod:`.layout` (layouts, precisions, defaults),
:mod:`.operations` (per-operation times), :mod:`.memory` (HBM), :mod:`.feasibility` (the one check of a
layout against its model and GPU), :mod:`.unit` (a unit's constants,
one table of phase differences), :mod:`.evaluate` (every term at once).  The names below are
the package's public interface.
"""
from inference_arithmetic.model.dtypes import ATTN_DTYPES, KV_DTYPES, MOE_DTYPES, default_moe_dtype, search_moe_dtypes  # noqa: F401,E501
from inference_arithmetic.hardware.kernel_tables import DEFAULT_FRAMEWORK, FRAMEWORKS  # noqa: F401
from inference_arithmetic.step.evaluate import evaluate, expert_rate, stack, terms  # noqa: F401
from inference_arithmetic.step.feasibility import (MAX_EP, attention_heads_error, check_layout, expert_slice_error,  # noqa: F401,E501
                                                   expert_slots_error, hbm_error, layout_error, mtp_error, mx_block_error,
                                                   smallest_ep, weights_room_error)
from inference_arithmetic.step.layout import (HBM_RESERVE_SHARE, LINK_LATENCY_SCALE_OUT_S, Layout,  # noqa: F401
                                              Precision, default_micro_batches, default_redundant, layout_for,
                                              wide_ep_layout)
from inference_arithmetic.step.memory import (batch_fit, fits, free_bytes, hbm_free, ll_buffer_per_token,  # noqa: F401
                                              max_batch, memory, memory_values, weights_read_bytes,
                                              weights_resident)
from inference_arithmetic.step.operations import *  # noqa: F401,F403  (the step formulas and their symbols)
from inference_arithmetic.step.operations import KERNELS, kernels_per_step  # noqa: F401
from inference_arithmetic.step.unit import PHASES, Unit, fitted, unit, unsupported, users_that_fit  # noqa: F401
