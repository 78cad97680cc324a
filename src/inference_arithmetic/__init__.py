"""inference_arithmetic: the arithmetic of serving DeepSeek-class LLMs (a library and a book).

Subpackages, each importing only those before it: ``core`` (errors, inputs, units, rounding,
symbols, printing, formulas, cited values) -> ``model`` (configs, dtypes, parameters, KV) ->
``hardware`` (GPUs, kernel efficiencies) -> ``step`` (the step model) -> ``serving``
(operating points, prefill, modes, the one search, fleet, planner) -> ``evidence``
(calibration, validation, DeepSeek's day, published figures) -> ``book`` (notebook helpers,
charts) -> ``cli``.  Importing this package loads none of them.
"""
__all__ = ["__version__"]
__version__ = "0.1.0"
