"""The calibration set and the one quantity fitted on it.

The book names its calibration set and keeps it apart from validation:

1. **Kernel microbenchmarks** (``data/kernels.yaml``: FlashMLA, DeepGEMM, DeepEP, NCCL tests,
   EPLB and MTP statistics), read as efficiencies by :mod:`.efficiency`; nothing is fitted.
2. **DeepSeek's own figures**: the decode and prefill profiles DeepSeek published
   (``deepseek-ai/profile-data``: EP128 decode at 128 requests per GPU and 4K context; EP32
   prefill at 16K tokens per GPU of 4K prompts; two micro-batches; perfectly balanced routing),
   whose throughputs SGLang read off the traces.  On these two points, and only these, one
   number is fitted: the **pipeline efficiency** ``kappa``, the ratio of the compute time the
   kernel tables predict to the compute time of a real serving step (the kernels no table
   covers: norms, RoPE, activation quantisation, routing, KV writes, launch gaps).

DeepSeek's day-6 production figures (1,850 output tok/s per GPU, 73.7k input tok/s per node)
are *not* fitted: the book predicts them.  No system-level measurement by another team is
used here; those are the validation set (:mod:`.validation`).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

import argparse
from pathlib import Path

from inference_arithmetic import step
from inference_arithmetic.core.cited import DATA
from inference_arithmetic.hardware.efficiency import kernel_rows
from inference_arithmetic.hardware.gpus import gpu
from inference_arithmetic.model.config import model
from inference_arithmetic.serving import prefill

__all__ = ["ProfilePoint", "profile_points", "pipeline_efficiency", "fit_kappa", "refit", "Calibrated", "table_sums",
           "TABLES_OF_H800"]


@dataclass(frozen=True)
class ProfilePoint:
    """One of DeepSeek's published profiles: setup, and the throughput read off its trace."""

    phase: str
    ep: int
    micro_batches: int
    context: float            # prompt length (prefill) or KV length (decode), tokens
    load: float               # tokens per GPU (prefill) or requests per GPU (decode)
    measured_per_gpu: float   # input (prefill) or output (decode) tokens/s per GPU
    src: str


@dataclass(frozen=True)
class Calibrated:
    """The fitted pipeline efficiency, the points it was fitted on and the residual errors."""

    value: float
    points: tuple
    errors: tuple             # model / measured - 1 at the fitted value, per point
    kernel_only_errors: tuple  # the same with kappa = 1 (kernels alone)


@lru_cache(maxsize=None)
def profile_points() -> tuple[ProfilePoint, ...]:
    """DeepSeek's decode and prefill profiles with the per-GPU throughput read off them."""
    setups = {r["phase"]: r for r in kernel_rows("profile_data", lambda r: "src" not in r)}
    reads = {r["phase"]: r for r in kernel_rows("profile_data", lambda r: "tokens_per_s_per_node" in r)}
    pts = []
    for phase in ("decode", "prefill"):
        s, r = setups[phase], reads[phase]
        load = s["batch_per_gpu"] if phase == "decode" else s["tokens_per_gpu"]
        pts.append(ProfilePoint(phase, int(s["ep"]), int(s["micro_batches"]), float(s["prompt_len"]),
                                float(load), r["tokens_per_s_per_node"] / 8, r["src"]))
    return tuple(pts)


#: the GPU whose measured kernel tables stand in for the H800's in :func:`table_sums` (the same die, clocks and
#: HBM; the H800 differs in NVLink only, whose bandwidth stays the H800's)
TABLES_OF_H800 = "H100"


def _predict(p: ProfilePoint, kappa: float, framework: str = "deepseek") -> float:
    """The model's throughput per GPU at profile ``p`` with pipeline efficiency ``kappa`` and ``framework``'s
    kernels (a serving framework's: its measured tables on :data:`TABLES_OF_H800`, on the H800's bandwidths)."""
    layout = step.Layout(ep=p.ep, micro_batches=p.micro_batches, balanced=True, kappa=kappa, framework=framework)
    m, g = model("deepseek-v3"), gpu("H800")
    if framework != "deepseek":
        g = replace(g, key=TABLES_OF_H800)
    if p.phase == "decode":
        return float(step.terms(step.unit(m, g, layout), p.load, p.context)["tokens_per_s_per_gpu"])
    u = prefill.prefill_unit(m, g, layout)
    return float(prefill.prefill(u, p.context, 0.0, chunk=p.load)["input_tokens_per_s_per_gpu"])


def fit_kappa(points, framework: str = "deepseek") -> float:
    """The ``kappa`` (0.300..1.000, step 0.001) minimising the squared log error on ``points``, with
    ``framework``'s kernels (:func:`_predict`; the book's ``kappa`` is DeepSeek's)."""
    grid = np.round(np.arange(0.30, 1.0005, 0.001), 3)
    meas = np.array([p.measured_per_gpu for p in points])

    def loss(k):
        pred = np.array([_predict(p, k, framework) for p in points])
        return float(np.sum(np.log(pred / meas) ** 2))

    coarse = grid[::20]
    k0 = coarse[int(np.argmin([loss(k) for k in coarse]))]
    fine = grid[(grid >= k0 - 0.02) & (grid <= k0 + 0.02)]
    return float(fine[int(np.argmin([loss(k) for k in fine]))])


def table_sums(framework: str) -> tuple[float, ...]:
    """Per profile point (:func:`profile_points`: decode, prefill), the kernels alone (``kappa`` = 1) over
    DeepSeek's measured throughput, with ``framework``'s measured kernel tables (:func:`_predict`): how much
    of a real step a kernel source's tables already cover.  Not a calibration: the profiles are DeepSeek's
    system, so the ratio mixes what the tables leave out with how the framework's kernels differ from
    DeepSeek's; ``kappa`` stays the one fitted on DeepSeek's kernels."""
    return tuple(_predict(p, 1.0, framework) / p.measured_per_gpu for p in profile_points())


def refit() -> float:
    """``kappa`` fitted afresh on DeepSeek's profiles (:func:`fit_kappa`); the stored value in
    ``data/fitted.yaml`` must equal it (a test checks)."""
    return fit_kappa(profile_points())


@lru_cache(maxsize=None)
def pipeline_efficiency() -> Calibrated:
    """The stored ``kappa`` (``data/fitted.yaml``, written by this module's ``--write``), the points it
    was fitted on, the residual error at each point and the kernel-only error (``kappa = 1``)."""
    pts = profile_points()
    best = step.fitted("kappa")
    err = tuple(round(_predict(p, best) / p.measured_per_gpu - 1, 6) for p in pts)
    raw = tuple(round(_predict(p, 1.0) / p.measured_per_gpu - 1, 6) for p in pts)
    return Calibrated(best, pts, err, raw)


FITTED_YAML = """\
# Constants fitted on the calibration set, and only on it (never on a validation entry).
# Written by: python -m inference_arithmetic.evidence.calibration --write   (make refit)
# tests/test_calibration.py re-fits and requires the same values.
kappa:
  value: {kappa}
  unit: "1"
  src: {src}
  fitted_on: DeepSeek's published decode and prefill profiles (H800, EP128 decode, EP32 prefill)
  method: squared log error over kappa in 0.300..1.000, step 0.001 (evidence/calibration.py fit_kappa)
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Re-fit the pipeline efficiency on DeepSeek's profiles.",
                                 allow_abbrev=False)
    ap.add_argument("--write", action="store_true", help="write the result to data/fitted.yaml")
    args = ap.parse_args(argv)
    kappa = refit()
    text = FITTED_YAML.format(kappa=f"{kappa:.3f}", src=profile_points()[0].src)
    if args.write:
        Path(str(DATA / "fitted.yaml")).write_text(text, encoding="utf-8")
    print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
