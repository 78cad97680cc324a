"""Reduce AMD AITER's tuned dense-GEMM tables to the book's compact AMD kernel table.

AITER (github.com/ROCm/aiter, MIT licence, Copyright Advanced Micro Devices, Inc.) ships the result of its
GEMM tuner: CSVs under ``aiter/configs/`` and ``aiter/configs/model_configs/``, one row per GEMM shape
(``gfx, cu_num, M, N, K, ..., us, kernelName, ...``): the fastest tuned kernel's measured time in
microseconds for the (m x k) @ (k x n) GEMM on one GPU.  Run against a git mirror of the repository
(nothing is imported from AITER; every file is read with ``git show <commit>:<path>``)::

    python scripts/extract_aiter_tables.py /work/.mirror/ROCm+aiter/repo e4048607a535ace3a2b51ded31b1c8c2d45c0879

(``make aiter-data``).  Writes ``src/inference_arithmetic/data/aiter_kernels.csv.gz`` (gzip'd CSV, sorted,
the same text on every run) and ``src/inference_arithmetic/data/aiter_kernels.yaml`` (repository, commit,
licence notice, sources, row counts, sha256).  Kept:

* GPUs: ``gfx942`` with ``cu_num`` 304 (MI300X and MI325X: one die, 304 CUs; MI308X is cu_num 80) and
  ``gfx950`` with ``cu_num`` 256 (MI355X); every other row is dropped.
* kernel classes (``dtype`` column, the names the book's GEMM reader uses): ``fp8_block`` every
  ``a8w8_blockscale*_tuned_gemm*`` file (FP8 activations with 1x128 and weights with 128x128 scales, CK/CK-tile/asm
  kernels, with or without pre-shuffled weights); ``fp8_per_token`` the ``a8w8_tuned_gemm`` and
  ``a8w8_bpreshuffle*_tuned_gemm*`` files where the weight dtype is FP8 (INT8 rows dropped); ``bfloat16``
  every ``*bf16*_tuned_gemm*`` file with BF16 inputs and output, no scaling (``scaleAB`` False), bias or not.
  Batched GEMMs, FP4 GEMMs and fused-MoE tables are not kept.
* the files at the pinned commit, plus the older versions listed in :data:`HISTORY` (they hold gfx942/304
  rows the pinned commit dropped).
* one row per (gfx, cu_num, dtype, m, n, k): the rows of the newest source commit holding it, the fastest
  (several files can tune one shape; a framework runs the faster kernel); ``us`` rounded to 6 significant digits.

The same run reduces AITER's fused-MoE tuner tables (``*_tuned_fmoe.csv`` and ``*_tuned_fmoe_<model>.csv``:
``gfx, cu_num, token, model_dim, inter_dim, expert, topk, ..., q_dtype_a, q_dtype_w, q_type, ..., us``; ``us`` the
tuned two-stage fused MoE's time on one GPU holding ``expert`` experts, ``token`` tokens entering it, each routed to
``topk`` of them) to ``data/aiter_moe_kernels.csv.gz`` and ``data/aiter_moe_kernels.yaml``.  Kept: the GPUs above
(the ``gfx`` column, or ``cu_num`` 304 without one); the MXFP4-weight classes (``q_dtype_w`` float4_e2m1fn_x2 with
``q_type`` per_1x32): ``a16w4`` (BF16 activations) and ``a8w4`` (FP8 e4m3 activations); ``fp8_block`` (FP8
e4m3fnuz activations and weights, gfx942's FP8, ``q_type`` per_1x128: 1x128 activation and 128x128 weight block
scales) and ``bfloat16`` (BF16 activations and weights, unquantised); one row per (gfx, cu_num, class, token,
model_dim, inter_dim, expert, topk): the fastest (the files tune several kernel families per shape; the framework
runs the tuned one).  Untuned, fused-shared-expert (``fhmoe``) and grouped files are not read.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import math
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "src" / "inference_arithmetic" / "data"
CONFIGS = "aiter/configs/"
#: (gfx, cu_num) kept
KEEP = {("gfx942", "304"), ("gfx950", "256")}
#: older file versions read besides the pinned commit: (path, commit) holding gfx942/304 rows it dropped
HISTORY = (("aiter/configs/a8w8_blockscale_tuned_gemm.csv", "1c06f87f87dd22173c1f77d4f36924b2d84f62c5"),
           ("aiter/configs/model_configs/gptoss_bf16_tuned_gemm.csv", "e010caf524550eb04e68145df19653927ef00bd5"),
           ("aiter/configs/model_configs/a8w8_blockscale_tuned_gemm_qwen3_vl_235b.csv",
            "d6486abc8db990cdde509d4405c62eacced95063"))
COLUMNS = ("gfx", "cu_num", "dtype", "m", "n", "k", "us", "source")
MOE_COLUMNS = ("gfx", "cu_num", "dtype", "tokens", "hidden", "inter", "experts", "topk", "us", "source")
#: fused-MoE kernel classes kept: (q_dtype_a, q_dtype_w, q_type) -> the table's name
MOE_CLASSES = {("torch.bfloat16", "torch.float4_e2m1fn_x2", "QuantType.per_1x32"): "a16w4",
               ("torch.float8_e4m3fn", "torch.float4_e2m1fn_x2", "QuantType.per_1x32"): "a8w4",
               ("torch.float8_e4m3fnuz", "torch.float8_e4m3fnuz", "QuantType.per_1x128"): "fp8_block",
               ("torch.bfloat16", "torch.bfloat16", "QuantType.No"): "bfloat16"}


def git(repo: str, *args: str) -> str:
    return subprocess.run(["git", "-C", repo, *args], check=True, capture_output=True, text=True).stdout


def kernel_class(path: str) -> str | None:
    """The kept kernel class of a tuned-GEMM file, from its name, or ``None``."""
    name = path.rsplit("/", 1)[-1]
    if "untuned" in name or "tuned" not in name or "gemm" not in name or "batched" in name:
        return None
    if "a8w8_blockscale" in name:
        return "fp8_block"
    if "a8w8_tuned_gemm" in name or "a8w8_bpreshuffle" in name:
        return "fp8_per_token"
    if "bf16" in name:
        return "bfloat16"
    return None


def rows_of(text: str, kind: str):
    """(gfx, cu_num, m, n, k, us) of the kept rows of one file's text."""
    for raw in csv.DictReader(io.StringIO(text)):
        r = {str(k).strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        cu = r.get("cu_num", "")
        gfx = r.get("gfx") or {"304": "gfx942"}.get(cu, "")
        if (gfx, cu) not in KEEP:
            continue
        if kind == "fp8_per_token" and "float8" not in r.get("q_dtype_w", ""):
            continue
        if kind == "bfloat16" and (r.get("dtype") != "torch.bfloat16" or r.get("outdtype") != "torch.bfloat16"
                                   or r.get("scaleAB", "False") != "False"):
            continue
        try:
            us = float(r["us"])
            m, n, k = int(r["M"]), int(r["N"]), int(r["K"])
        except (KeyError, ValueError):
            continue
        if math.isfinite(us) and us > 0 and min(m, n, k) >= 1:
            yield gfx, cu, m, n, k, us


def moe_file(path: str) -> bool:
    """Whether ``path`` is a tuned fused-MoE table read: ``tuned_fmoe.csv``, ``*_tuned_fmoe.csv`` or
    ``*_tuned_fmoe_<model>.csv`` (AITER's block-scale files name the model last); no untuned or grouped file."""
    name = path.rsplit("/", 1)[-1]
    return (name.endswith(".csv") and (name == "tuned_fmoe.csv" or "_tuned_fmoe" in name)
            and "untuned" not in name and "grouped" not in name)


def moe_rows_of(text: str):
    """(gfx, cu_num, class, tokens, hidden, inter, experts, topk, us) of the kept rows of one fused-MoE file."""
    for raw in csv.DictReader(io.StringIO(text)):
        r = {str(k).strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        cu = r.get("cu_num", "")
        gfx = r.get("gfx") or {"304": "gfx942"}.get(cu, "")
        kind = MOE_CLASSES.get((r.get("q_dtype_a", ""), r.get("q_dtype_w", ""), r.get("q_type", "")))
        if (gfx, cu) not in KEEP or kind is None:
            continue
        try:
            us = float(r["us"])
            dims = tuple(int(r[c]) for c in ("token", "model_dim", "inter_dim", "expert", "topk"))
        except (KeyError, ValueError):
            continue
        if math.isfinite(us) and us > 0 and min(dims) >= 1:
            yield (gfx, cu, kind, *dims, us)


def moe_main(repo: str, commit: str) -> None:
    """Write ``aiter_moe_kernels.csv.gz`` and its yaml from the fused-MoE files at ``commit`` (a full hash)."""
    paths = [p for p in git(repo, "ls-tree", "-r", "--name-only", commit, CONFIGS).split() if moe_file(p)]
    best: dict = {}
    sources = []
    date = git(repo, "log", "-1", "--format=%cI", commit).strip()
    for path in sorted(paths):
        counts: dict = {}
        for *key, us in moe_rows_of(git(repo, "show", f"{commit}:{path}")):
            key = tuple(key)
            if key not in best or us < best[key][0]:
                best[key] = (us, f"{path}@{commit[:12]}")
            counts[f"{key[0]}/{key[1]}/{key[2]}"] = counts.get(f"{key[0]}/{key[1]}/{key[2]}", 0) + 1
        if counts:
            sources.append({"path": path, "commit": commit, "date": date, "dtype": "moe", "rows": counts})
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(MOE_COLUMNS)
    by: dict = {}
    for key in sorted(best):
        us, src = best[key]
        w.writerow((*key, f"{us:.6g}", src))
        by[f"{key[0]}/{key[1]}/{key[2]}"] = by.get(f"{key[0]}/{key[1]}/{key[2]}", 0) + 1
    text = out.getvalue().encode("utf-8")
    gz = gzip.compress(text, compresslevel=9, mtime=0)
    (DATA / "aiter_moe_kernels.csv.gz").write_bytes(gz)
    head = ["# Fused-MoE times measured by AMD's AITER fused-MoE tuner (github.com/ROCm/aiter), reduced by",
            "# scripts/extract_aiter_tables.py (make aiter-data) to aiter_moe_kernels.csv.gz (gzip'd CSV).",
            "#",
            "# NOTICE: the rows of aiter_moe_kernels.csv.gz are derived from the tuned fused-MoE CSVs of AITER,",
            "# Copyright (c) Advanced Micro Devices, Inc. All rights reserved. Licensed under the MIT License",
            "# (the repository's LICENSE file). Changes: rows selected (gfx942 with 304 CUs, gfx950 with 256 CUs;",
            "# MXFP4 weights with BF16 (a16w4) or FP8 (a8w4) activations, FP8 e4m3fnuz 1x128 block-scaled (fp8_block),",
            "# BF16 unquantised (bfloat16)), columns reduced (gfx, cu_num, kernel class,",
            "# tokens, model_dim, inter_dim, experts, top-k, time), the time rounded to 6 significant digits, one row",
            "# per shape (the fastest); each row names its file and commit (source: path@commit). THE SOFTWARE IS",
            "# PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND."]
    meta = _yaml(commit, date, len(best), by, text, gz, sources, head, "aiter_moe_kernels.csv.gz", MOE_COLUMNS)
    (DATA / "aiter_moe_kernels.yaml").write_text(meta, encoding="utf-8")
    print(f"MoE: {len(best)} rows, {len(gz)} gzip bytes: {by}")


def main(repo: str, commit: str) -> None:
    commit = git(repo, "rev-parse", commit).strip()
    paths = [p for p in git(repo, "ls-tree", "-r", "--name-only", commit, CONFIGS).split() if kernel_class(p)]
    sources = [(p, commit) for p in paths] + list(HISTORY)
    best: dict = {}
    meta_sources = []
    for path, rev in sorted(set(sources)):
        date, stamp = git(repo, "log", "-1", "--format=%cI %ct", rev).split()
        kind = kernel_class(path)
        got = list(rows_of(git(repo, "show", f"{rev}:{path}"), kind))
        if not got:
            continue
        counts: dict = {}
        for gfx, cu, m, n, k, us in got:
            key = (gfx, cu, kind, m, n, k)
            cand = (int(stamp), -us, f"{path}@{rev[:12]}")
            if key not in best or cand[:2] > best[key][:2]:
                best[key] = cand
            counts[f"{gfx}/{cu}"] = counts.get(f"{gfx}/{cu}", 0) + 1
        meta_sources.append({"path": path, "commit": rev, "date": date, "dtype": kind, "rows": counts})
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(COLUMNS)
    by: dict = {}
    for key in sorted(best):
        gfx, cu, kind, m, n, k = key
        _, neg_us, src = best[key]
        w.writerow((gfx, cu, kind, m, n, k, f"{-neg_us:.6g}", src))
        by[f"{gfx}/{cu}/{kind}"] = by.get(f"{gfx}/{cu}/{kind}", 0) + 1
    text = out.getvalue().encode("utf-8")
    gz = gzip.compress(text, compresslevel=9, mtime=0)
    (DATA / "aiter_kernels.csv.gz").write_bytes(gz)
    head_date = git(repo, "log", "-1", "--format=%cI", commit).strip()
    meta = _yaml(commit, head_date, len(best), by, text, gz, meta_sources)
    (DATA / "aiter_kernels.yaml").write_text(meta, encoding="utf-8")
    print(f"{len(best)} rows, {len(gz)} gzip bytes: {by}")
    moe_main(repo, commit)


def _yaml(commit, date, n, by, text, gz, sources, head=None, file="aiter_kernels.csv.gz", columns=COLUMNS) -> str:
    lines = (head or [
        "# Dense-GEMM times measured by AMD's AITER GEMM tuner (github.com/ROCm/aiter), reduced by",
        "# scripts/extract_aiter_tables.py (make aiter-data) to aiter_kernels.csv.gz (gzip'd CSV).",
        "#",
        "# NOTICE: the rows of aiter_kernels.csv.gz are derived from the tuned-GEMM CSVs of AITER,",
        "# Copyright (c) Advanced Micro Devices, Inc. All rights reserved. Licensed under the MIT License",
        "# (the repository's LICENSE file). Changes: rows selected (gfx942 with 304 CUs, gfx950 with 256 CUs; FP8",
        "# block-scale, FP8 per-token and BF16 dense GEMMs), columns reduced (gfx, cu_num, kernel class, M, N, K,",
        "# time), the time rounded to 6 significant digits, one row per shape (the newest source commit's fastest);",
        "# each row names its file and commit (source: path@commit). THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT",
        "# WARRANTY OF ANY KIND."]) + [
        "repository: github.com/ROCm/aiter",
        f"commit: {commit}",
        f"commit_date: \"{date}\"",
        "licence: MIT",
        "copyright: Advanced Micro Devices, Inc.",
        "retrieved: 2026-12-01",
        f"file: {file}",
        f"rows: {n}",
        "rows_by_gpu_dtype: {" + ", ".join(f"{k}: {v}" for k, v in sorted(by.items())) + "}",
        "# bytes and sha256 of the uncompressed CSV text (gzip's bytes may differ between zlib versions)",
        f"bytes: {len(text)}",
        f"sha256: {hashlib.sha256(text).hexdigest()}",
        f"gzip_bytes: {len(gz)}",
        "columns: [" + ", ".join(columns) + "]",
        "time_unit: us",
        "gpus: {gfx942/304: [MI300X, MI325X], gfx950/256: [MI355X]}",
        "sources:",
    ]
    for s in sources:
        rows = "{" + ", ".join(f"{k}: {v}" for k, v in sorted(s["rows"].items())) + "}"
        lines.append(f"  - {{path: {s['path']}, commit: {s['commit']}, date: \"{s['date']}\", dtype: {s['dtype']}, "
                     f"rows: {rows}}}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: extract_aiter_tables.py MIRROR_GIT_DIR COMMIT")
    main(sys.argv[1], sys.argv[2])
