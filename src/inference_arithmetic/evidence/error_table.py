"""The validation set's errors grouped by class (GPU generation x framework x phase), computed
and written to ``data/validation_classes.yaml`` for :mod:`.error_class` to read.

The validation set is grouped by the generation of each entry's GPU, the framework the entry was
measured with (:func:`.validation.entry_framework`) and the entry's phase, and
:func:`.validation.error_stats` is taken per group, with the wider classes (every framework of a
generation and phase; every GPU of a phase).  ``python -m inference_arithmetic.evidence.error_table
--write`` (``make refit``) stores it; tests/test_error_class.py requires the stored file to equal
:func:`render` of :func:`classes`.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from inference_arithmetic.core.cited import DATA
from inference_arithmetic.core.rounding import stable
from inference_arithmetic.evidence import validation
from inference_arithmetic.evidence.error_class import ANY, FILE, class_key
from inference_arithmetic.hardware.gpus import generation

__all__ = ["classes", "render", "main"]

_HEADER = """\
# The validation error per class (GPU generation | framework | phase) of the validation set: model
# predictions against published measurements, never fitted. mape: mean absolute error, mean_error:
# signed (> 0: the model over-predicts), fractions; n: measurements.
# Written by: python -m inference_arithmetic.evidence.error_table --write   (make refit)
# tests/test_error_class.py recomputes it and requires the same file.
"""


def classes(preds=None) -> dict:
    """Every class with at least one scored prediction, and the wider classes: key ->
    ``{n, mape, mean_error}`` (fractions, rounded by the one rule for stored floats), each level
    grouped by :func:`.validation.errors_by`."""
    preds = validation.predict_all() if preds is None else preds
    levels = (lambda p: class_key(generation(p.gpu), validation.entry_framework(p.id), p.phase),
              lambda p: class_key(generation(p.gpu), ANY, p.phase),
              lambda p: class_key(ANY, ANY, p.phase))
    rows = sorted((r for level in levels for r in validation.errors_by(preds, level)), key=lambda r: r["group"])
    return {r["group"]: {"n": r["n"], "mape": stable(r["mape"], 3), "mean_error": stable(r["mean_error"], 3)}
            for r in rows}


def render(table: dict) -> str:
    """The stored file's text for ``table`` (:func:`classes`)."""
    return _HEADER + yaml.safe_dump(table, sort_keys=True, default_flow_style=False, allow_unicode=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Group the validation set's errors by GPU generation, framework "
                                             "and phase.", allow_abbrev=False)
    ap.add_argument("--write", action="store_true", help=f"write the result to data/{FILE}")
    args = ap.parse_args(argv)
    text = render(classes())
    if args.write:
        Path(str(DATA / FILE)).write_text(text, encoding="utf-8")
    print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
