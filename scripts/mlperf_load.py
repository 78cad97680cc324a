"""Write the measured load of every MLPerf Server and Interactive entry of the validation set, read from its round's log.

    python scripts/mlperf_load.py > src/inference_arithmetic/data/mlperf_load.yaml

Per result (the rounds, mirrors and commits of ``mlperf_round_entries.ROUNDS``, the same selection rule and ids):
the completed samples per second of ``performance/run_1/mlperf_log_detail.txt`` (six digits) and
``mlperf_log_summary.txt``'s completed tokens per second, the mean latency, the mean
and 99th-percentile time to first token and time per output token, and the target QPS the submitter set, all as
printed (ns in the log, written here in s).  Only results that are entries of the set are written.  These are
system-level measurements: the book uses them for one conditional check (the step model at the measured
concurrency, :mod:`inference_arithmetic.evidence.measured_load`), never as a calibration input.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mlperf_round_entries as rounds  # noqa: E402  (a sibling script, not a package)
from inference_arithmetic.core.rounding import stable  # noqa: E402

#: significant digits kept in the file (a microsecond of a one-second latency: more than any use of it needs)
DIGITS = 6

SET = Path(__file__).resolve().parents[1] / "src/inference_arithmetic/data/validation.yaml"
#: log label -> (key written, scale to SI); v5.1 logs say "Time to Output Token", v6.0 "Time per Output Token"
FIELDS = {r"Completed tokens per second\s*": ("tokens_per_s", 1.0),
          r"Mean latency \(ns\)\s*": ("mean_latency_s", 1e-9),
          r"Mean First Token latency \(ns\)\s*": ("mean_ttft_s", 1e-9),
          r"99\.00 percentile first token latency \(ns\)\s*": ("p99_ttft_s", 1e-9),
          r"Mean Time (?:per|to) Output Token \(ns\)\s*": ("mean_tpot_s", 1e-9),
          r"99\.00 percentile time to output token \(ns\)\s*": ("p99_tpot_s", 1e-9),
          r"target_qps\s*": ("target_qps", 1.0),
          r"ttft_latency \(ns\)": ("ttft_limit_s", 1e-9),
          r"tpot_latency \(ns\)": ("tpot_limit_s", 1e-9)}


def stats(text: str) -> dict:
    """The fields of :data:`FIELDS` from one log summary (the first match of each; every one must be there)."""
    out = {}
    for label, (key, scale) in FIELDS.items():
        m = re.search(r"^" + label + r":\s*([\d.e+]+)", text, re.M)
        if m is None:
            raise SystemExit(f"log summary without '{label}'")
        out[key] = stable(float(m.group(1)) * scale, DIGITS)
    return out


def samples(detail: str) -> float:
    """The completed samples per second of ``mlperf_log_detail.txt`` (six digits; the summary prints two)."""
    m = re.search(r'"key": "result_completed_samples_per_sec", "value": ([\d.e+-]+)', detail)
    if m is None:
        raise SystemExit("log detail without result_completed_samples_per_sec")
    return stable(float(m.group(1)), DIGITS)


def main() -> int:
    known = set(yaml.safe_load(SET.read_text()))
    out = {}
    for name, rd in rounds.ROUNDS.items():
        rs, _ = rounds.results(rd["repo"], rd["commit"], rd["models"])
        for r, eid in rounds.ids(sorted(rs, key=rd["order"]), rd):
            if r["scen"] == "Offline" or eid not in known:
                continue
            path = f"{r['loc']}/performance/run_1/mlperf_log_summary.txt"
            detail = rounds.show(rd["repo"], rd["commit"], path.replace("_summary", "_detail"))
            out[eid] = {"round": name, "commit": rd["commit"], "path": path, "samples_per_s": samples(detail),
                        **stats(rounds.show(rd["repo"], rd["commit"], path))}
    head = ("# The measured load of the validation set's MLPerf Server and Interactive entries, from each result's\n"
            "# performance/run_1/mlperf_log_summary.txt (MLPerf Inference v5.1: mlcommons/inference_results_v5.1 @ "
            "965182b0;\n# v6.0: gbeezybez/inference_results_v6.0 @ 4d3916ac, mlcommons' as published), written by "
            "scripts/mlperf_load.py\n# (retrieved 2026-12-02). Times in s. System-level measurements: never a "
            "calibration input.\n")
    sys.stdout.write(head + yaml.safe_dump(out, sort_keys=True, width=120))
    print(f"# {len(out)} entries", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
