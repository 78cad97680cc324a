"""The shipped kernel table (``data/aiconfigurator_kernels.csv.gz``, made by
``scripts/extract_kernel_tables.py`` from aiconfigurator-core's measured tables; :mod:`.kernel_tables` says
what it holds and how the step model reads it): its lines read once per process, indexed by operation, GPU
and framework, and split into rows only where a query asks for them."""
from __future__ import annotations

import csv
import gzip
import re
from functools import lru_cache

from inference_arithmetic.core.cited import DATA
from inference_arithmetic.core.stats import median

__all__ = ["table_lines", "table_rows"]


def _version_key(v: str) -> tuple:
    return tuple(int(x) for x in re.findall(r"\d+", v))


class _Lines:
    """The CSV lines of one (op, GPU, framework): runs of the table's lines, by index."""

    def __init__(self, lines: list):
        self.lines, self.runs, self.rows = lines, [], 0

    def add(self, a: int, b: int) -> None:
        self.runs.append((a, b))
        self.rows += b - a

    def __len__(self) -> int:
        return self.rows

    def __iter__(self):
        for a, b in self.runs:
            yield from self.lines[a:b]


@lru_cache(maxsize=None)
def table_lines() -> tuple[list, dict]:
    """The kernel table's header and its CSV lines by op, then by (GPU, framework), as runs of consecutive
    lines (the file is read once per process; a line is split only when a query asks for its GPU and
    framework)."""
    with gzip.open(DATA / "aiconfigurator_kernels.csv.gz") as f:
        lines = f.read().decode("utf-8").splitlines()
    head, by_op, key, start = next(csv.reader(lines[:1])), {}, None, 1
    for i in range(1, len(lines) + 1):
        if i < len(lines) and key is not None and lines[i].startswith(key):
            continue                                  # the run of one (op, GPU, framework) goes on
        if key is not None:
            op, g, fw = key[:-1].split(",")
            by_op.setdefault(op, {}).setdefault((g, fw), _Lines(lines)).add(start, i)
        if i < len(lines):
            key, start = ",".join(lines[i].split(",", 3)[:3]) + ",", i
    return head, by_op


@lru_cache(maxsize=None)
def table_rows(op: str, gpu_key: str, framework: str) -> tuple:
    """Every row of ``op`` measured on ``gpu_key`` under ``framework``, as a dict (column -> text): split at
    the commas where no field is quoted and every line has the header's fields, else read as CSV."""
    head, by_op = table_lines()
    lines = list(by_op.get(op, {}).get((gpu_key, framework), ()))
    split = [line.split(",") for line in lines]
    if any('"' in line for line in lines) or any(len(f) != len(head) for f in split):
        return tuple(csv.DictReader(lines, fieldnames=head))
    return tuple(dict(zip(head, f)) for f in split)


@lru_cache(maxsize=None)
def _moe_rows(gpu_key: str, framework: str) -> dict:
    """(dtype, shape, expert TP) -> version -> ep -> sorted [(tokens, seconds)] on ``gpu_key`` under
    ``framework``, balanced routing only (shape: hidden, expert width, experts, top-k): per kernel
    source the median of repeated rows, then the fastest kernel source at each token count (a framework
    with several MoE backends, e.g. TensorRT-LLM's CUTLASS and min-latency NVFP4 kernels, runs the
    faster); and the source file and package version of each version."""
    acc: dict = {}
    src: dict = {}
    for r in table_rows("moe", gpu_key, framework):
        if r["distribution"] != "balanced":
            continue
        key = (r["dtype"], (int(r["hidden"]), int(r["inter"]), int(r["experts"]), int(r["topk"])), int(r["moe_tp"]))
        acc.setdefault(key, {}).setdefault(r["version"], {}).setdefault(int(r["ep"]), {}) \
            .setdefault(int(r["num_tokens"]), {}).setdefault(r["kernel_source"], []) \
            .append(float(r["latency_ms"]) * 1e-3)
        src[r["version"]] = (r["source_file"], r["package_version"])
    out = {k: {ver: {ep: sorted((n, min(median(t) for t in by_src.values())) for n, by_src in pts.items())
                     for ep, pts in eps.items()}
               for ver, eps in vers.items()} for k, vers in acc.items()}
    return {"curves": out, "sources": src}
