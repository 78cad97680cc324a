"""The planner's market: candidate pools of every GPU type, and the cheapest fleets they form.

:func:`prepare` runs the one layout search (:func:`.search.candidates`) for each GPU type and keeps,
for each layout, its best batch as a candidate **option** of a pool role: ``decode`` and
``prefill`` (the two pools of a disaggregated deployment) and ``both`` (aggregated: prefill and
decode on the same GPUs).  That is the expensive part and depends only on the service, not on the
volume, the load profile or the prices.  :meth:`Prepared.cost` then prices every option for a
workload (:mod:`.pools`: whole units, a floor and a burst, each tier bought from the cheapest
source of a :class:`.prices.PriceSet`) and assembles deployments, vectorised over options.

Without ``mixed`` a deployment is one GPU type.  With ``mixed`` its pools may differ in type
(prefill on one, decode on another) and a pool's floor may be one type and its burst another; the
search keeps, for the floor/burst pairs, the few best options of each GPU type and MoE precision
(:data:`.fleet_rows.CROSS_TOP`).  Every deployment runs one MoE precision (one checkpoint), and in a
disaggregated deployment each prompt's KV cache crosses the scale-out network from its prefill
GPU to its decode GPU (:data:`.kv_network.kv_transfer_time`, added to the time to first token); the
network must carry it: a prefill GPU's KV output while busy within its scale-out bandwidth (else that
prefill option is not offered), and a decode GPU's KV intake: where its decode rate would take in
more KV than its network carries (a long prompt and a short answer), it runs at the rate the
network allows, and the row says so (``decode_network_bound``).  The three rules are
:mod:`.kv_network`'s, which ``serve --mode disagg`` applies too.

The market's options (:func:`prepare`, re-exported) are built without sympy in :mod:`.market_options`.
"""
from __future__ import annotations

from inference_arithmetic.serving.kv_network import kv_transfer_time  # noqa: F401
from inference_arithmetic.serving.market_options import CROSS_TOP, ROLES, Options, Prepared, prepare  # noqa: F401

__all__ = ["kv_transfer_time", "Options", "Prepared", "prepare", "CROSS_TOP", "ROLES"]
