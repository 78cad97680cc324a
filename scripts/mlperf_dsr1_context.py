"""The mean context a decode batch holds on MLPerf's DeepSeek-R1 dataset (``lengths.context`` of the
MLPerf v5.1 DeepSeek-R1 entries in ``data/validation.yaml``).

Input: Red Hat PSAP's per-sample token lengths of MLCommons' ``mlperf_deepseek_r1_dataset_4388_fp8_eval.pkl``
(``mlperf-data/summaries/deepseek-r1.csv`` of openshift-psap/performance-dashboard, commit 7cd1065,
columns ``input_length``, ``output_length``; references.bib ``mlperf-dsr1-dataset-lengths``)::

    git show 7cd1065:mlperf-data/summaries/deepseek-r1.csv > /tmp/deepseek-r1.csv
    PYTHONPATH=src python scripts/mlperf_dsr1_context.py /tmp/deepseek-r1.csv

The dataset's reference outputs (mean 4,043.4 tokens) are scaled to the mean output length the entries
use (3,886.2, the reference implementation's; the same spread), and
:func:`inference_arithmetic.serving.workload.inflight_context` gives the length-biased mean context.
Prints the numbers; writes nothing.
"""
from __future__ import annotations

import csv
import sys

from inference_arithmetic.serving.workload import inflight_context

#: the mean output length the MLPerf entries use (mlperf-dsr1-reference: mean-output-tok-len)
OSL = 3886.2274


def main(path: str) -> None:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    inputs = [float(r["input_length"]) for r in rows]
    outputs = [float(r["output_length"]) for r in rows]
    mean_out = sum(outputs) / len(outputs)
    scaled = [o * OSL / mean_out for o in outputs]
    print(f"samples {len(rows)}, mean input {sum(inputs) / len(inputs):.1f}, mean reference output {mean_out:.1f}")
    print(f"in-flight context, reference outputs: {inflight_context(inputs, outputs):.1f}")
    print(f"in-flight context, outputs scaled to {OSL:.1f}: {inflight_context(inputs, scaled):.1f} "
          f"(fixed lengths: {sum(inputs) / len(inputs) + OSL / 2:.1f})")


if __name__ == "__main__":
    main(sys.argv[1])
