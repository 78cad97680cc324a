"""inference_arithmetic: the arithmetic of serving DeepSeek-class LLMs.

Every formula is a sympy expression defined once (see :mod:`.formula`), unit-checked
at import, and evaluated numerically through ``lambdify``.
"""
from . import catalog, comm, decode, fleet, kv, params, step, units  # noqa: F401
from . import costs, prefill, prefill_serving, reproduce, serving  # noqa: F401  (register their formulas)
from .catalog import CatalogError, gpu, gpus, measurement, model, models, read_config  # noqa: F401
from .formula import FORMULAS, Formula, InputError  # noqa: F401
from .symbols import SYMBOLS, S  # noqa: F401

__version__ = "0.1.0"
