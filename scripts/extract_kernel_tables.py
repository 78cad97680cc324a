"""Reduce aiconfigurator-core's measured per-kernel tables to the book's compact kernel table.

Run with an interpreter that has ``aiconfigurator-core==0.12.0`` installed (a separate venv: it
pulls pandas, pyarrow and scipy, which the book does not need)::

    /tmp/aic-venv/bin/python scripts/extract_kernel_tables.py

Writes ``src/inference_arithmetic/data/aiconfigurator_kernels.csv.gz`` (a gzip'd CSV, one measured
kernel latency a row, sorted, so the CSV text is identical on every run) and
``src/inference_arithmetic/data/aiconfigurator_kernels.yaml`` (package, version, licence, row
count, sha256, what was kept).  Kept:

* ``moe``: grouped MoE GEMM (``moe/moe_perf.parquet``) at DeepSeek-V3's shape (hidden 7168,
  expert intermediate 2048, 256 experts, top-8), MoE TP 1, every EP size, every ``num_tokens``,
  dtypes fp8_block / nvfp4 / bfloat16, distributions balanced / power_law_1.01 / power_law_1.2; and at
  every MoE TP size > 1, balanced.
  ``num_tokens`` is kept as the package stores it; its meaning differs by framework (read from the
  data: at a fixed num_tokens the trtllm latency falls as 1/EP, the sglang and vllm latency hardly
  moves): trtllm's is the tokens of the whole expert-parallel group (each GPU's experts receive
  num_tokens x topk / EP token-expert pairs), sglang's and vllm's the tokens per GPU (each GPU's
  experts receive num_tokens x topk pairs).  :mod:`inference_arithmetic.hardware.kernel_tables`
  converts both to tokens of the group.  Also gpt-oss-120b's and gpt-oss-20b's expert shapes
  (hidden 2880, intermediate 2880, 128 or 32 experts, top-4) in the MXFP4 formats the frameworks
  run them in (``w4a16_mxfp4``, ``w4a8_mxfp4_mxfp8``), every expert-TP size, balanced routing
  (columns hidden, inter, experts, topk, moe_tp name the shape of every moe row).
* ``gemm``: dense GEMM (``gemm/gemm_perf.parquet``) at the (n, k) of DeepSeek-V3's projections
  (the shapes of DeepGEMM's published table), m a power of two, dtypes fp8_block / fp8 / bfloat16 / nvfp4.

* ``mla_generation``: the MLA decode attention module (``mla/mla_generation_module_perf.parquet``) of
  DeepSeek-V3 at 128 and 16 query heads per GPU, every batch and ``step`` measured (columns as stored; ``gemm_type``: the dtype of the module's projection GEMMs).
* ``mla_context``: the MLA prefill attention module (``mla/mla_context_module_perf.parquet``: down-projection,
  q_b, kv_b, the context attention kernel, o_proj) of DeepSeek-V3 at 128, 64, 32, 16 and 8 query heads per
  GPU, every batch and ``isl`` measured (``step``, the cached prefix, is 0 in every DeepSeek-V3 row).
* ``dsa_generation`` / ``dsa_context``: DeepSeek-V3.2's sparse attention module
  (``sparse_attention/dsa_generation_module_perf.parquet``, ``dsa_context_module_perf.parquet``; aiconfigurator's
  ``GenerationDSAModule`` / ``ContextDSAModule``: kv_a/q_a down-projection (with the indexer's key projection),
  q_b, the lightning indexer (wq_b, weights_proj, FP8 MQA logits, top-k selection), sparse MLA over the top-k,
  the absorbed BMMs, o_proj; one layer) at 128, 64, 32, 16 and 8 query heads per GPU, the full module (not the
  ``_skip_indexer`` rows of GLM-5.2), decode by (batch, ``step`` = context - 1), prefill without a cached prefix
  (``step`` 0) by (batch, ``isl``); per setting the fastest kernel source's median (SGLang's prefill rows name the
  executed kernel: its dense MHA fallback at short prompts, or the sparse kernel).
* ``allreduce``: the frameworks' custom all-reduce kernels (``comm/custom_allreduce_perf.parquet``).
* ``a2a``: expert-parallel dispatch and combine (DeepEP) at DeepSeek-V3's hidden 7168, top-8 of 256 experts (the
  hidden size every table measures), one row per phase (``phase`` dispatch / combine), latency in ms: SGLang's
  ``comm/wideep_deepep_ll_perf.parquet`` (``kernel_source`` deepep_ll: ``*_avg_t_us``) and
  ``comm/wideep_deepep_normal_perf.parquet`` (deepep_normal: ``*_transmit_us + *_notify_us`` at ``sms`` =
  dispatch_sms = combine_sms), by ``nodes`` (node_num); TensorRT-LLM's and vLLM's ``comm/moe_a2a_perf.parquet``
  (``kernel_source`` the comm_backend, ``dtype`` the comm_dtype, ``ep`` the ep_size, ``sms`` as stored;
  latency in us as stored); TensorRT-LLM's NVLink all-to-all ``comm/trtllm_alltoall_perf.parquet`` (GB200:
  ``kernel_source`` NVLinkOneSided / NVLinkTwoSided, ``phase`` prepare / dispatch / combine, its
  ``combine_low_precision`` as combine at dtype fp4 as aiconfigurator's unified moe_a2a schema names it,
  ``dtype`` the moe_dtype, ``ep`` the moe_ep_size, balanced routing; latency in ms as stored).

Measured on the GPUs the step model has a catalog entry for: H100, H200, B200, B300, GB200, GB300.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import sys
from importlib import metadata
from pathlib import Path

import pandas as pd
import aiconfigurator_core

PACKAGE = "aiconfigurator-core"
ROOT = Path(aiconfigurator_core.__file__).parent
DATA_ROOT = ROOT / "systems" / "data"
OUT = Path(__file__).resolve().parents[1] / "src" / "inference_arithmetic" / "data"
GPUS = {"h100_sxm": "H100", "h200_sxm": "H200", "b200_sxm": "B200", "b300_sxm": "B300", "gb200": "GB200",
        "gb300": "GB300"}
MOE_DTYPES = ("fp8_block", "nvfp4", "bfloat16")
#: routed-expert shapes (hidden, expert intermediate, experts, top-k) and dtypes kept at every expert-TP size with
#: balanced routing: DeepSeek-V3's (and at expert TP 1 every routing distribution), gpt-oss-120b's and
#: gpt-oss-20b's in their MXFP4 formats (W4A16 on Hopper, W4A8 with MXFP8 activations on Blackwell)
MOE_SHAPES = {(7168, 2048, 256, 8): MOE_DTYPES, (2880, 2880, 128, 4): ("w4a16_mxfp4", "w4a8_mxfp4_mxfp8"),
              (2880, 2880, 32, 4): ("w4a16_mxfp4", "w4a8_mxfp4_mxfp8")}
GEMM_DTYPES = ("fp8_block", "fp8", "bfloat16", "nvfp4")
#: DeepSeek-V3 projections (n, k): fused q_a/kv_a, q_b, kv_b, o_proj, shared expert gate_up, down
GEMM_NK = {(2112, 7168), (24576, 1536), (32768, 512), (7168, 16384), (4096, 7168), (7168, 2048)}
#: token counts kept for GEMMs (powers of two: the table measures many more)
GEMM_M = [2 ** i for i in range(0, 18)]
#: MLA generation (decode) module rows kept: query heads per GPU under DP attention (128) and TP8 (16)
MLA_HEADS = (128, 16)
#: GQA models (their shipped config.json, ``data/models/``) whose dense GEMM shapes and decode attention are kept,
#: at these attention-TP sizes
GQA_MODELS = ("llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b", "gpt-oss-120b")
GQA_TP = (1, 2, 4, 8)
#: the GEMM table's (n, k) grid points kept: those bracketing every such shape and DeepSeek-V3's (a shape off
#: the grid is read by bilinear interpolation in log n and log k between them)
GEMM_GRID_DTYPES = ("bfloat16", "fp8_block", "fp8", "nvfp4")
#: decode attention (``generation_attention_perf``): requests and decode steps (context - 1) kept, full
#: attention (window 0)
GQA_BATCH = [2 ** i for i in range(0, 10)]
GQA_STEP_MAX = 2 ** 16
COLUMNS = ("op", "gpu", "framework", "version", "kernel_source", "dtype", "ep", "distribution", "m", "n", "k", "num_tokens",
           "kv_dtype", "gemm_type", "num_heads", "batch", "isl", "step", "num_gpus", "message_size", "phase", "nodes",
           "sms", "latency_ms", "source_file", "package_version", "hidden", "inter", "experts", "topk", "moe_tp",
           "kv_heads", "head_dim")
_EMPTY = dict(ep="", distribution="", m="", n="", k="", num_tokens="", kv_dtype="", gemm_type="", num_heads="", batch="", isl="", step="",
              num_gpus="", message_size="", phase="", nodes="", sms="", hidden="", inter="", experts="", topk="",
              moe_tp="", kv_heads="", head_dim="")
#: MLA context (prefill) module rows kept: query heads per GPU at attention TP 1, 2, 4, 8, 16
MLA_CONTEXT_HEADS = (128, 64, 32, 16, 8)
#: DeepSeek Sparse Attention module rows kept: DeepSeek-V3.2 at these query heads per GPU (attention TP 1 to 16)
DSA_MODEL = "deepseek-ai/DeepSeek-V3.2"
DSA_HEADS = (128, 64, 32, 16, 8)
#: the all-to-all shape kept: DeepSeek-V3's hidden size, top-k and routed experts
A2A_SHAPE = (7168, 8, 256)


def _files(op: str, name: str):
    for d, g in sorted(GPUS.items()):
        for f in sorted((ROOT / "systems" / "data" / d / op).glob(f"*/*/{name}")):
            yield g, f


def _rows(op: str, folder: str, name: str, version: str, select, fields) -> list[dict]:
    """Rows of every ``<gpu>/<folder>/<framework>/<version>/<name>`` table: ``select(table)`` keeps the
    wanted rows, ``fields(row)`` gives the op's own columns; the columns every op shares are filled here."""
    rows = []
    for g, f in _files(folder, name):
        t = select(pd.read_parquet(f))
        fw, ver = f.parent.parent.name, f.parent.name
        for r in t.itertuples():
            # an op's own fields may replace the shared ones (the all-to-all's latency and kernel name)
            rows.append(dict(_EMPTY, op=op, gpu=g, framework=fw, version=ver, kernel_source=r.kernel_source,
                             latency_ms=float(getattr(r, "latency", "nan")), source_file=str(f.relative_to(DATA_ROOT)),
                             package_version=version) | fields(r))
    return rows


def _moe(version: str) -> list[dict]:
    def select(t):
        deepseek = (t.hidden_size == 7168) & (t.inter_size == 2048) & (t.num_experts == 256) & (t.topk == 8) \
            & (t.moe_tp_size == 1) & t.moe_dtype.isin(MOE_DTYPES)
        balanced = pd.Series(False, index=t.index)
        for (h, d, e, k), dtypes in MOE_SHAPES.items():
            balanced |= (t.hidden_size == h) & (t.inter_size == d) & (t.num_experts == e) & (t.topk == k) \
                & t.moe_dtype.isin(dtypes) & (t.distribution == "balanced")
        return t[deepseek | balanced]
    return _rows("moe", "moe", "moe_perf.parquet", version, select,
                 lambda r: dict(dtype=r.moe_dtype, ep=int(r.moe_ep_size), distribution=r.distribution,
                                num_tokens=int(r.num_tokens), hidden=int(r.hidden_size), inter=int(r.inter_size),
                                experts=int(r.num_experts), topk=int(r.topk), moe_tp=int(r.moe_tp_size)))


def _gqa_dims(name: str) -> tuple:
    """(hidden, query heads, KV heads, head dim, dense FFN width or 0 for a MoE model) from a shipped config."""
    c = json.loads((OUT / "models" / f"{name}.json").read_text(encoding="utf-8"))
    h, heads, kv = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
    moe = c.get("num_local_experts") or c.get("num_experts") or 0
    return h, heads, kv, c.get("head_dim") or h // heads, 0 if moe else c["intermediate_size"]


def gqa_gemm_shapes() -> set:
    """(n, k) of the GQA models' dense GEMMs per GPU at every attention-TP size: fused QKV, output
    projection, and (dense models) the FFN's fused gate/up and down projections."""
    out = set()
    for name in GQA_MODELS:
        h, heads, kv, d, ff = _gqa_dims(name)
        for t in GQA_TP:
            out |= {((heads // t + 2 * max(1, kv // t)) * d, h), (h, heads // t * d)}
            if ff:
                out |= {(2 * ff // t, h), (h, ff // t)}
    return out


def gqa_attention_heads() -> set:
    """(query heads, KV heads, head dim) per GPU of the GQA models at every attention-TP size."""
    return {(heads // t, max(1, kv // t), d) for h, heads, kv, d, _ in map(_gqa_dims, GQA_MODELS) for t in GQA_TP}


def _corners(x: int, grid) -> set:
    grid = sorted(grid)
    if x in grid:
        return {x}
    lo = max([g for g in grid if g < x], default=grid[0])
    hi = min([g for g in grid if g > x], default=grid[-1])
    return {lo, hi}


def _gemm(version: str) -> list[dict]:
    def select(t):
        keep = pd.Series([(int(n), int(k)) in GEMM_NK for n, k in zip(t.n, t.k)], index=t.index)
        ns, ks = set(int(x) for x in t.n), set(int(x) for x in t.k)
        grid = {(a, b) for n, k in gqa_gemm_shapes() | GEMM_NK for a in _corners(n, ns) for b in _corners(k, ks)}
        on_grid = pd.Series([(int(n), int(k)) in grid for n, k in zip(t.n, t.k)], index=t.index)
        return t[((keep & t.gemm_dtype.isin(GEMM_DTYPES)) | (on_grid & t.gemm_dtype.isin(GEMM_GRID_DTYPES)))
                 & t.m.isin(GEMM_M)]
    return _rows("gemm", "gemm", "gemm_perf.parquet", version, select,
                 lambda r: dict(dtype=r.gemm_dtype, m=int(r.m), n=int(r.n), k=int(r.k)))


def _mla(version: str) -> list[dict]:
    return _rows("mla_generation", "mla", "mla_generation_module_perf.parquet", version,
                 lambda t: t[(t.model == "deepseek-ai/DeepSeek-V3") & t.num_heads.isin(MLA_HEADS) & (t.tp_size == 1)],
                 lambda r: dict(dtype=r.mla_dtype, kv_dtype=r.kv_cache_dtype, gemm_type=r.gemm_type,
                                num_heads=int(r.num_heads), batch=int(r.batch_size), isl=int(r.isl), step=int(r.step)))


def _fastest(t, cols: list):
    """Per setting ``cols``: the median of each kernel source's repeats, then the fastest source's row."""
    med = t.groupby(cols + ["kernel_source"], as_index=False)["latency"].median()
    return med.sort_values(["latency", "kernel_source"]).groupby(cols, as_index=False).first()


def _gqa_heads_mask(t):
    heads = gqa_attention_heads()
    return pd.Series([(int(a), int(b), int(c)) in heads for a, b, c in
                      zip(t.num_heads, t.num_key_value_heads, t.head_dim)], index=t.index)


def _gqa_generation(version: str) -> list[dict]:
    """The GQA decode attention kernel (``generation_attention_perf``) at the GQA models' heads per GPU: per
    (batch, context, KV dtype) the fastest kernel source's median (the reader's own rule, applied here so
    that the table stays small)."""
    def select(t):
        t = t[_gqa_heads_mask(t) & (t.window_size == 0) & t.batch_size.isin(GQA_BATCH) & (t.beam_width == 1)
              & (t.step < GQA_STEP_MAX)]
        return _fastest(t, ["num_heads", "num_key_value_heads", "head_dim", "batch_size", "isl", "step",
                            "kv_cache_dtype"])
    return _rows("gqa_generation", "attention", "generation_attention_perf.parquet", version, select,
                 lambda r: dict(dtype="bfloat16", kv_dtype=r.kv_cache_dtype, num_heads=int(r.num_heads),
                                kv_heads=int(r.num_key_value_heads), head_dim=int(r.head_dim),
                                batch=int(r.batch_size), isl=int(r.isl), step=int(r.step)))


def _gqa_context(version: str) -> list[dict]:
    """The GQA prefill attention kernel (``context_attention_perf``) at the GQA models' heads per GPU, no
    cached prefix (step 0), full attention, BF16 attention compute: per (heads, batch, isl, attention and KV dtype) the fastest
    kernel source's median, as for decode."""
    def select(t):
        t = t[_gqa_heads_mask(t) & (t.window_size == 0) & (t.beam_width == 1) & (t.step == 0) & (t.attn_dtype == "bfloat16")]
        return _fastest(t, ["num_heads", "num_key_value_heads", "head_dim", "batch_size", "isl", "step",
                            "attn_dtype", "kv_cache_dtype"])
    return _rows("gqa_context", "attention", "context_attention_perf.parquet", version, select,
                 lambda r: dict(dtype=r.attn_dtype, kv_dtype=r.kv_cache_dtype, num_heads=int(r.num_heads),
                                kv_heads=int(r.num_key_value_heads), head_dim=int(r.head_dim),
                                batch=int(r.batch_size), isl=int(r.isl), step=int(r.step)))


def _mla_context(version: str) -> list[dict]:
    return _rows("mla_context", "mla", "mla_context_module_perf.parquet", version,
                 lambda t: t[(t.model == "deepseek-ai/DeepSeek-V3") & t.num_heads.isin(MLA_CONTEXT_HEADS)
                             & (t.tp_size == 1)],
                 lambda r: dict(dtype=r.mla_dtype, kv_dtype=r.kv_cache_dtype, gemm_type=r.gemm_type,
                                num_heads=int(r.num_heads), batch=int(r.batch_size), isl=int(r.isl), step=int(r.step)))


def _dsa(version: str, phase: str) -> list[dict]:
    """DeepSeek-V3.2's whole DSA attention module (``sparse_attention/*/*/dsa_<phase>_module_perf``: q/kv
    down-projections, q_b, the lightning indexer's projections, logits and top-k, the sparse MLA kernel,
    the absorbed BMMs, o_proj) at DSA_HEADS query heads per GPU, the full module (op_name without
    ``_skip_indexer``); prefill without a cached prefix (step 0): per (heads, batch, isl, step, dtypes) the
    fastest kernel source's median, as for GQA attention."""
    def select(t):
        t = t[(t.model == DSA_MODEL) & (t.op_name == f"dsa_{phase}_module") & t.num_heads.isin(DSA_HEADS)]
        if phase == "context":
            t = t[t.step == 0]
        return _fastest(t, ["num_heads", "batch_size", "isl", "step", "mla_dtype", "kv_cache_dtype", "gemm_type"])
    return _rows(f"dsa_{phase}", "sparse_attention", f"dsa_{phase}_module_perf.parquet", version, select,
                 lambda r: dict(dtype=r.mla_dtype, kv_dtype=r.kv_cache_dtype, gemm_type=r.gemm_type,
                                num_heads=int(r.num_heads), batch=int(r.batch_size), isl=int(r.isl), step=int(r.step)))


def _a2a(version: str) -> list[dict]:
    """Dispatch and combine, one row per phase: SGLang's DeepEP tables (us, two columns per phase) and
    TensorRT-LLM's and vLLM's moe_a2a tables (us, one row per phase)."""
    h, top_k, n_exp = A2A_SHAPE

    def sglang(t, topk_col):
        return t[(t.hidden_size == h) & (t[topk_col] == top_k) & (t.num_experts == n_exp)]

    def per_phase(name, select, kernel, times, sms):
        out = []
        for phase in ("dispatch", "combine"):
            def fields(r, phase=phase):
                return dict(kernel_source=kernel, phase=phase, dtype="default", nodes=int(r.node_num),
                            num_tokens=int(r.num_token), sms=sms(r, phase), latency_ms=times(r, phase) * 1e-3)
            out += _rows("a2a", "comm", name, version, select, fields)
        return out

    rows = per_phase("wideep_deepep_ll_perf.parquet", lambda t: sglang(t, "num_topk"), "deepep_ll",
                     lambda r, p: getattr(r, f"{p}_avg_t_us"), lambda r, p: "")
    rows += per_phase("wideep_deepep_normal_perf.parquet",
                      lambda t: sglang(t, "num_topk")[lambda d: d.dispatch_sms == d.combine_sms], "deepep_normal",
                      lambda r, p: getattr(r, f"{p}_transmit_us") + getattr(r, f"{p}_notify_us"),
                      lambda r, p: int(getattr(r, f"{p}_sms")))
    rows += _rows("a2a", "comm", "moe_a2a_perf.parquet", version,
                  lambda t: t[(t.hidden_size == h) & (t.topk == top_k) & (t.num_experts == n_exp)],
                  lambda r: dict(kernel_source=r.comm_backend, phase=r.phase, dtype=r.comm_dtype, ep=int(r.ep_size),
                                 nodes=int(r.node_num), num_tokens=int(r.num_tokens), sms=int(r.sms),
                                 latency_ms=float(r.latency) * 1e-3))
    rows += _rows("a2a", "comm", "trtllm_alltoall_perf.parquet", version,
                  lambda t: t[(t.hidden_size == h) & (t.topk == top_k) & (t.num_experts == n_exp)
                              & (t.distribution == "balanced")],
                  lambda r: dict(phase="combine" if r.op_name == "alltoall_combine_low_precision"
                                 else r.op_name.removeprefix("alltoall_"),
                                 dtype="fp4" if r.op_name == "alltoall_combine_low_precision" else r.moe_dtype,
                                 ep=int(r.moe_ep_size), num_tokens=int(r.num_tokens)))
    return rows


def _allreduce(version: str) -> list[dict]:
    return _rows("allreduce", "comm", "custom_allreduce_perf.parquet", version, lambda t: t,
                 lambda r: dict(dtype=r.allreduce_dtype, num_gpus=int(r.num_gpus), message_size=int(r.message_size)))


def _key(r: dict):
    return tuple(r[c] for c in ("op", "gpu", "framework", "version", "kernel_source", "dtype", "distribution")) \
        + (r["kv_dtype"], r["gemm_type"]) + tuple(-1 if r[c] == "" else r[c] for c in (
            "ep", "m", "n", "k", "num_tokens", "num_heads", "batch", "isl", "step", "num_gpus", "message_size")) \
        + (r["phase"],) + tuple(-1 if r[c] == "" else r[c] for c in ("nodes", "sms", "hidden", "inter", "experts", "topk",
                                                                      "moe_tp", "kv_heads", "head_dim")) \
        + (r["latency_ms"],)


def main() -> int:
    version = metadata.version(PACKAGE)
    licence = metadata.metadata(PACKAGE).get("License-Expression") or metadata.metadata(PACKAGE).get("License")
    rows = sorted(_moe(version) + _gemm(version) + _mla(version) + _mla_context(version) + _allreduce(version)
                  + _a2a(version) + _gqa_generation(version) + _gqa_context(version)
                  + _dsa(version, "generation") + _dsa(version, "context"), key=_key)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow(dict(r, latency_ms=f"{r['latency_ms']:.6g}"))
    text = buf.getvalue()
    packed = gzip.compress(text.encode(), compresslevel=9, mtime=0)   # no timestamp: the same bytes every run
    (OUT / "aiconfigurator_kernels.csv.gz").write_bytes(packed)
    sha = hashlib.sha256(text.encode()).hexdigest()
    counts = {}
    for r in rows:
        counts[r["op"]] = counts.get(r["op"], 0) + 1
    meta = f"""# Kernel latencies measured by NVIDIA and shipped in {PACKAGE} {version} (licence {licence}),
# reduced by scripts/extract_kernel_tables.py (make kernel-data) to aiconfigurator_kernels.csv.gz (gzip'd CSV).
#
# NOTICE: the rows of aiconfigurator_kernels.csv.gz are derived from the measured tables in
# {PACKAGE} {version}, Copyright (c) 2025-2026 NVIDIA CORPORATION & AFFILIATES, licensed under the
# Apache License, Version 2.0 (http://www.apache.org/licenses/LICENSE-2.0). Changes: rows selected
# (DeepSeek-V3 shapes; DeepSeek-V3.2's sparse attention module; gpt-oss expert shapes), columns renamed and reduced, latency rounded to 6 significant digits; each
# row names the file it comes from (source_file, relative to source_root in the package) and
# the package version. The data are distributed on an "AS IS" BASIS, WITHOUT WARRANTIES OR
# CONDITIONS OF ANY KIND.
package: {PACKAGE}
package_version: "{version}"
source_root: aiconfigurator_core/systems/data
licence: {licence}
file: aiconfigurator_kernels.csv.gz
rows: {len(rows)}
rows_by_op: {{{', '.join(f'{k}: {v}' for k, v in sorted(counts.items()))}}}
# bytes and sha256 of the uncompressed CSV text (gzip's bytes may differ between zlib versions)
bytes: {len(text.encode())}
sha256: {sha}
gzip_bytes: {len(packed)}
columns: [{', '.join(COLUMNS)}]
latency_unit: ms
selection:
  moe: "moe/*/*/moe_perf.parquet: hidden_size 7168, inter_size 2048, num_experts 256, topk 8, moe_tp_size 1, moe_dtype in {list(MOE_DTYPES)}, every distribution, and every moe_tp_size > 1 balanced; and (hidden_size, inter_size, num_experts, topk) in {[k for k in MOE_SHAPES if k[0] != 7168]} (gpt-oss-120b, gpt-oss-20b), moe_dtype in {list(MOE_SHAPES[(2880, 2880, 128, 4)])}, every moe_tp_size, balanced; num_tokens as stored: trtllm tokens of the whole EP group, sglang and vllm tokens per GPU"
  mla_generation: "mla/*/*/mla_generation_module_perf.parquet: model deepseek-ai/DeepSeek-V3, num_heads in {list(MLA_HEADS)} (query heads per GPU), tp_size 1; batch, isl, step (context isl + step), kv_dtype, gemm_type (the projections' dtype) as measured"
  mla_context: "mla/*/*/mla_context_module_perf.parquet: model deepseek-ai/DeepSeek-V3, num_heads in {list(MLA_CONTEXT_HEADS)} (query heads per GPU), tp_size 1; batch, isl (new tokens per request), step (cached prefix: 0 in every row), kv_dtype, gemm_type as measured"
  dsa_generation: "sparse_attention/*/*/dsa_generation_module_perf.parquet: model {DSA_MODEL}, op_name dsa_generation_module (the whole module, indexer included), num_heads in {list(DSA_HEADS)} (query heads per GPU; SGLang's rows at tp_size = 128 / num_heads); batch, isl (1), step (context isl + step), dtype mla_dtype, kv_dtype, gemm_type as measured; per setting the fastest kernel source's median"
  dsa_context: "sparse_attention/*/*/dsa_context_module_perf.parquet: model {DSA_MODEL}, op_name dsa_context_module (the whole module, indexer included), num_heads in {list(DSA_HEADS)} (query heads per GPU; SGLang's rows at tp_size = 128 / num_heads), step 0 (no cached prefix); batch, isl (new tokens per request), dtypes as measured; per setting the fastest kernel source's median"
  allreduce: "comm/*/*/custom_allreduce_perf.parquet: every row (num_gpus, message_size in elements as stored)"
  gemm: "gemm/*/*/gemm_perf.parquet: (n, k) in {sorted(GEMM_NK)}, gemm_dtype in {list(GEMM_DTYPES)}; and the grid (n, k) bracketing these and the dense GEMMs of {list(GQA_MODELS)} at attention TP {list(GQA_TP)}, gemm_dtype in {list(GEMM_GRID_DTYPES)}; m a power of two"
  gqa_context: "attention/*/*/context_attention_perf.parquet: (num_heads, num_key_value_heads, head_dim) of {list(GQA_MODELS)} per GPU at attention TP {list(GQA_TP)}, window_size 0, beam 1, step 0 (no cached prefix), attn_dtype bfloat16; per (heads, batch, isl, kv dtype) the fastest kernel source's median"
  gqa_generation: "attention/*/*/generation_attention_perf.parquet: (num_heads, num_key_value_heads, head_dim) of {list(GQA_MODELS)} per GPU at attention TP {list(GQA_TP)}, window_size 0, beam 1, batch a power of two to {GQA_BATCH[-1]}, step below {GQA_STEP_MAX}; per (heads, batch, isl, step, kv dtype) the fastest kernel source's median"
  a2a: "comm/sglang/*/wideep_deepep_ll_perf.parquet (kernel_source deepep_ll, *_avg_t_us), comm/sglang/*/wideep_deepep_normal_perf.parquet (deepep_normal, *_transmit_us + *_notify_us, sms = dispatch_sms = combine_sms), comm/*/*/moe_a2a_perf.parquet (kernel_source comm_backend, dtype comm_dtype, ep ep_size, sms, latency in us), comm/trtllm/*/trtllm_alltoall_perf.parquet (kernel_source NVLinkOneSided/NVLinkTwoSided, phase prepare/dispatch/combine, combine_low_precision as combine at dtype fp4, dtype moe_dtype, ep moe_ep_size, balanced, latency in ms): hidden_size, topk, num_experts = {list(A2A_SHAPE)}; one row per phase (dispatch, combine), nodes = node_num, num_tokens per GPU as stored, latency converted to ms"
  gpus: {sorted(GPUS.values())}
"""
    (OUT / "aiconfigurator_kernels.yaml").write_text(meta, encoding="utf-8")
    print(f"{len(rows)} rows ({counts}), {len(text.encode()) / 1e6:.2f} MB as CSV, {len(packed) / 1e6:.2f} MB gzip'd, "
          f"sha256 {sha[:16]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
