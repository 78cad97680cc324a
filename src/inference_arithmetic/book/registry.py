"""The complete registries: every module that defines formulas or symbols, imported.

Each module registers its formulas and symbols when it is imported, and a command imports only
what it needs; the glossary, the equation checks and the chart-expression tests want them all,
so they read :data:`FORMULAS` and :data:`SYMBOLS` from here.
"""
from inference_arithmetic.core.formula import FORMULAS, Formula  # noqa: F401
from inference_arithmetic.core.symbols import SYMBOLS, S  # noqa: F401
from inference_arithmetic.evidence import measured_load, prefill_serving, reproduce  # noqa: F401
from inference_arithmetic.model import kv, params  # noqa: F401
from inference_arithmetic.serving import costs, fleet, kv_network, market, modes, plan, pools, prefill  # noqa: F401
from inference_arithmetic.step import bounds, comm, evaluate, operations  # noqa: F401
from inference_arithmetic.core import printing

printing.named_terms()   # the named sub-terms' symbols (n_MoE, theta) register on first use: register them now

__all__ = ["FORMULAS", "SYMBOLS", "S", "Formula"]
