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
from inference_arithmetic.evidence.error_class import (ANY, DECODE_PER_GPU_KEY, FILE, HEADLINE_GROUPS, PER_USER_KEY,
                                                       class_key, family_key, headline_key)
from inference_arithmetic.hardware.gpus import generation, vendor

__all__ = ["classes", "headline_groups", "family_groups", "table", "render", "main"]

_HEADER = """\
# The validation error per class (GPU generation | framework | phase) of the validation set, and of the
# groups the book's headlines state ("headline | ...") and the chapters cite ("family | ...", "per-user speed | ..."):
# model predictions against published measurements,
# never fitted. mape: mean absolute error, median_ape: median absolute error, mean_error: signed (> 0: the
# model over-predicts), fractions; n: measurements.
# Written by: python -m inference_arithmetic.evidence.error_table --write   (make refit)
# tests/test_error_class.py recomputes it and requires the same file.
"""


def _stored(stats: dict) -> dict:
    """A group's :func:`.validation.error_stats`, every float rounded by the one rule for stored floats."""
    return {k: (x if k == "n" or x is None else stable(x, 3)) for k, x in stats.items()}


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


def headline_groups(preds=None) -> dict:
    """The errors of :data:`.error_class.HEADLINE_GROUPS`: key (:func:`.error_class.headline_key`) ->
    ``{n, mape, median_ape, mean_error, lowest, highest}`` (fractions, rounded by the one rule for stored floats)."""
    preds = validation.predict_all() if preds is None else preds
    ds = [p for p in preds if validation.family(p) == "deepseek-v3"]
    members = dict(zip(HEADLINE_GROUPS, (
        ds, preds, [p for p in preds if vendor(p.gpu) == "AMD"],
        [p for p in ds if generation(p.gpu) == "Hopper"], [p for p in ds if generation(p.gpu) == "Blackwell"])))
    out = {}
    for group, ps in members.items():
        s = validation.summary(ps)
        out[headline_key(group)] = {"n": s["n"], **_stored({k: s[k] for k in ("mape", "median_ape", "mean_error",
                                                                                 "lowest", "highest")})}
    return out


def family_groups(preds=None) -> dict:
    """Every model family's errors (:func:`.error_class.family_key` -> :func:`.validation.error_stats` with
    ``sources``, the bibliography keys of its entries, and ``publishers``, how many teams published them), the
    DeepSeek-V3/R1 entries measured as a per-user speed (:data:`.error_class.PER_USER_KEY`) and the decode-phase
    entries measured as a throughput per GPU (:data:`.error_class.DECODE_PER_GPU_KEY`): what the chapters on
    parallelism, other models and hardware state."""
    preds = validation.predict_all() if preds is None else preds
    scored = validation.scored(preds)
    out = {}
    for r in validation.errors_by(preds, validation.family):
        name = r.pop("group")
        srcs = sorted({p.src for p in scored if validation.family(p) == name})
        teams = validation.summary([p for p in preds if validation.family(p) == name])["publishers"]
        out[family_key(name)] = {**_stored(r), "sources": srcs, "publishers": teams}
    user = [p.error for p in scored if validation.family(p) == "deepseek-v3" and p.metric == "tokens_per_s_per_user"]
    out[PER_USER_KEY] = _stored(validation.error_stats(user))
    decode = [p.error for p in scored if p.phase == "decode" and p.metric != "tokens_per_s_per_user"]
    out[DECODE_PER_GPU_KEY] = _stored(validation.error_stats(decode))
    return out


def table(preds=None) -> dict:
    """What ``data/validation_classes.yaml`` stores: :func:`classes`, :func:`headline_groups` and
    :func:`family_groups`."""
    preds = validation.predict_all() if preds is None else preds
    return {**classes(preds), **headline_groups(preds), **family_groups(preds)}


def render(table: dict) -> str:
    """The stored file's text for ``table`` (:func:`classes`)."""
    return _HEADER + yaml.safe_dump(table, sort_keys=True, default_flow_style=False, allow_unicode=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Group the validation set's errors by GPU generation, framework "
                                             "and phase.", allow_abbrev=False)
    ap.add_argument("--write", action="store_true", help=f"write the result to data/{FILE}")
    args = ap.parse_args(argv)
    text = render(table())
    if args.write:
        Path(str(DATA / FILE)).write_text(text, encoding="utf-8")
    print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
