"""The validation error of a recommendation's class: GPU generation x serving framework x phase.

A planner's answer is a model prediction; what it is worth is how far predictions of the same
kind have been from published measurements.  The *class* of a prediction is the generation of
its GPU (:func:`.hardware.gpus.generation`), the serving framework whose kernels it assumes
(``--framework``) and its phase (decode or prefill).  The validation set is grouped by the
generation of each entry's GPU, the framework the entry was measured with
(:func:`.validation.entry_framework`) and the entry's phase, and :func:`error_stats` is taken per
group.

Predicting the whole validation set takes a second, too long for a command line answer, so the
groups are stored in ``data/validation_classes.yaml`` (written by ``python -m
inference_arithmetic.evidence.error_class --write``, ``make refit``); a test requires the stored
file to equal a fresh computation, so it cannot drift from the model.

Where a class has no entry, the nearest wider class with entries answers, and says so: the same
generation and phase over every framework, then the phase over every GPU.
"""
from __future__ import annotations

import argparse
from functools import lru_cache
from pathlib import Path

import yaml

from inference_arithmetic.core.cited import DATA, read_yaml
from inference_arithmetic.core.rounding import stable
from inference_arithmetic.evidence import validation
from inference_arithmetic.hardware.gpus import generation

__all__ = ["ANY", "class_key", "classes", "error_of", "stored", "render", "main"]

#: the word for "every generation" or "every framework" in a wider class
ANY = "any"
FILE = "validation_classes.yaml"
_HEADER = """\
# The validation error per class (GPU generation | framework | phase) of the validation set: model
# predictions against published measurements, never fitted. mape: mean absolute error, mean_error:
# signed (> 0: the model over-predicts), fractions; n: measurements.
# Written by: python -m inference_arithmetic.evidence.error_class --write   (make refit)
# tests/test_error_class.py recomputes it and requires the same file.
"""


def class_key(gen: str, framework: str, phase: str) -> str:
    """``generation | framework | phase``, the key of a class (``any`` for a wider one)."""
    return f"{gen} | {framework} | {phase}"


def classes(preds=None) -> dict:
    """Every class with at least one scored prediction, and the wider classes (every framework of a
    generation and phase; every GPU of a phase): key -> ``{n, mape, mean_error}`` (fractions)."""
    scored = validation.scored(validation.predict_all() if preds is None else preds)
    groups: dict[str, list[float]] = {}
    for p in scored:
        gen, fw = generation(p.gpu), validation.entry_framework(p.id)
        for key in (class_key(gen, fw, p.phase), class_key(gen, ANY, p.phase), class_key(ANY, ANY, p.phase)):
            groups.setdefault(key, []).append(p.error)
    out = {}
    for key, errors in sorted(groups.items()):
        s = validation.error_stats(errors)
        out[key] = {"n": s["n"], "mape": stable(s["mape"], 3), "mean_error": stable(s["mean_error"], 3)}
    return out


def render(table: dict) -> str:
    """The stored file's text for ``table`` (:func:`classes`)."""
    return _HEADER + yaml.safe_dump(table, sort_keys=True, default_flow_style=False, allow_unicode=True)


@lru_cache(maxsize=None)
def stored() -> dict:
    """The classes as stored in ``data/validation_classes.yaml``."""
    return read_yaml(FILE)


def error_of(gpu_key: str, framework: str, phase: str) -> dict | None:
    """The validation error of the class of a prediction on ``gpu_key`` with ``framework``'s
    kernels in ``phase``: ``{class, n, mape, mean_error, exact}`` where ``class`` names the class
    that answered and ``exact`` says whether it is the prediction's own (``False``: a wider one);
    ``None`` where no entry of the phase has been measured."""
    table, gen = stored(), generation(gpu_key)
    for key, exact in ((class_key(gen, framework, phase), True), (class_key(gen, ANY, phase), False),
                       (class_key(ANY, ANY, phase), False)):
        if key in table:
            return {"class": key, **table[key], "exact": exact}
    return None


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
