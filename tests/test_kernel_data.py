"""The shipped measured kernel table (data/aiconfigurator_kernels.csv.gz, from aiconfigurator-core by
scripts/extract_kernel_tables.py): schema, row count and checksum as its metadata file records them."""
import csv
import gzip
import hashlib
import io

import yaml

from inference_arithmetic.core.cited import DATA
from inference_arithmetic.hardware.kernel_tables import OPS, SHAPES, coverage_rows, table_lines, table_rows

CSV = DATA / "aiconfigurator_kernels.csv.gz"
META = yaml.safe_load((DATA / "aiconfigurator_kernels.yaml").read_text(encoding="utf-8"))


def _rows():
    with io.TextIOWrapper(gzip.open(CSV), encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_checksum_and_size_match_the_metadata():
    raw = gzip.decompress(CSV.read_bytes())
    assert hashlib.sha256(raw).hexdigest() == META["sha256"]
    assert len(raw) == META["bytes"]
    assert CSV.stat().st_size == META["gzip_bytes"] < 4e6   # "a few MB at most"


def test_schema_and_row_count():
    rows = _rows()
    assert tuple(rows[0]) == tuple(META["columns"])
    assert len(rows) == META["rows"] == sum(META["rows_by_op"].values())
    assert {r["op"] for r in rows} == set(META["rows_by_op"])
    assert {r["gpu"] for r in rows} == set(META["selection"]["gpus"])
    for r in rows:
        assert r["package_version"] == META["package_version"]
        assert r["source_file"].endswith(".parquet") and r["source_file"].split("/")[2] == r["framework"]
        assert r["source_file"].split("/")[3] == r["version"]
        assert float(r["latency_ms"]) > 0
        if r["op"] == "moe":
            assert int(r["ep"]) >= 1 and int(r["num_tokens"]) >= 1 and r["distribution"]
            shape = (int(r["hidden"]), int(r["inter"]), int(r["experts"]), int(r["topk"]))
            assert shape in SHAPES and int(r["moe_tp"]) >= 1
            assert r["distribution"] == "balanced" or (shape == SHAPES[0] and r["moe_tp"] == "1")
        elif r["op"] == "gemm":
            assert int(r["m"]) >= 1 and int(r["n"]) >= 1 and int(r["k"]) >= 1
        elif r["op"] == "mla_generation":
            assert int(r["num_heads"]) in (128, 16) and int(r["batch"]) >= 1 and r["kv_dtype"]
        elif r["op"] in ("gqa_generation", "gqa_context"):
            assert int(r["num_heads"]) % int(r["kv_heads"]) == 0 and int(r["head_dim"]) in (64, 128)
            assert int(r["batch"]) >= 1 and r["kv_dtype"] in ("bfloat16", "fp8")
        elif r["op"] == "mla_context":
            assert int(r["num_heads"]) in (128, 64, 32, 16, 8) and int(r["batch"]) >= 1 and int(r["isl"]) >= 1
            assert r["step"] == "0" and r["kv_dtype"] and r["gemm_type"] and r["dtype"]
        elif r["op"] in ("dsa_generation", "dsa_context"):
            assert int(r["num_heads"]) in (128, 64, 32, 16, 8) and int(r["batch"]) >= 1 and int(r["isl"]) >= 1
            assert r["dtype"] == "bfloat16" and r["kv_dtype"] in ("bfloat16", "fp8") and r["gemm_type"]
            assert (r["isl"] == "1" and int(r["step"]) >= 1) if r["op"] == "dsa_generation" else r["step"] == "0"
            assert r["source_file"].split("/")[1] == "sparse_attention"
        elif r["op"] == "a2a":
            assert r["phase"] in ("prepare", "dispatch", "combine") and int(r["num_tokens"]) >= 1 and r["kernel_source"]
            assert (r["ep"] or r["nodes"]) and r["dtype"]
        else:
            assert r["op"] == "allreduce" and int(r["num_gpus"]) >= 2 and int(r["message_size"]) >= 1


def test_licence_notice():
    text = (DATA / "aiconfigurator_kernels.yaml").read_text(encoding="utf-8")
    assert META["licence"] == "Apache-2.0" and "Apache License, Version 2.0" in text and "NVIDIA" in text


def test_deepseek_v3_moe_coverage():
    """DeepSeek-V3's grouped MoE GEMM is measured on H200 by all three frameworks, and NVFP4 on B200."""
    keys = {(r["gpu"], r["framework"], r["dtype"]) for r in _rows() if r["op"] == "moe"}
    for fw in ("trtllm", "sglang", "vllm"):
        assert ("H200", fw, "fp8_block") in keys
    assert ("B200", "trtllm", "nvfp4") in keys


def test_mxfp4_and_expert_tp_coverage():
    """gpt-oss-120b's MXFP4 experts are measured in both kernels (W4A16 on Hopper, W4A8 on Blackwell), and
    DeepSeek-V3's experts at expert TP > 1, by all three frameworks."""
    keys = {(r["gpu"], r["framework"], r["dtype"], r["hidden"], r["moe_tp"]) for r in _rows() if r["op"] == "moe"}
    for fw in ("trtllm", "sglang", "vllm"):
        assert ("H100", fw, "w4a16_mxfp4", "2880", "1") in keys
        assert ("H200", fw, "fp8_block", "7168", "2") in keys
    assert ("B200", "trtllm", "w4a8_mxfp4_mxfp8", "2880", "1") in keys
    assert ("H100", "vllm", "w4a16_mxfp4", "2880", "2") in keys


def test_prefill_attention_and_all_to_all_coverage():
    """DeepSeek-V3's MLA prefill module is measured by TensorRT-LLM and vLLM on all six GPUs, and DeepEP
    dispatch/combine (low-latency and normal) by all three frameworks on H200, SGLang's up to 8 nodes."""
    rows = _rows()
    mla = {(r["gpu"], r["framework"]) for r in rows if r["op"] == "mla_context"}
    assert {(g, fw) for g in META["selection"]["gpus"] for fw in ("trtllm", "vllm")} <= mla
    a2a = {(r["gpu"], r["framework"], r["kernel_source"]) for r in rows if r["op"] == "a2a"}
    for fw, kernels in (("sglang", ("deepep_ll", "deepep_normal")), ("trtllm", ("trtllm_deepep_ll", "trtllm_deepep_ht")),
                        ("vllm", ("deepep_ll", "deepep_ht"))):
        assert all(("H200", fw, k) in a2a for k in kernels)
    assert ("GB200", "trtllm", "NVLinkOneSided") in a2a
    assert {r["nodes"] for r in rows if r["op"] == "a2a" and r["gpu"] == "H200" and r["framework"] == "sglang"} \
        == {"1", "2", "4", "8"}


def test_every_op_is_described_for_the_reader():
    """The validation chapter's coverage table (kernel_tables.coverage_rows) names every op the table holds."""

    assert set(OPS) == set(META["rows_by_op"])
    assert {r["table op"]: r["rows"] for r in coverage_rows()} == META["rows_by_op"]


def test_table_rows_are_the_csv_rows():
    """kernel_tables.table_rows (runs of lines, split at commas) gives what csv gives for the same lines, and the
    runs hold every line of the file."""
    with gzip.open(DATA / "aiconfigurator_kernels.csv.gz", "rt", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    head, by_op = table_lines()
    assert sum(len(v) for per in by_op.values() for v in per.values()) == len(rows)
    for op, g, fw in (("moe", "B200", "trtllm"), ("gemm", "H200", "sglang"), ("a2a", "GB200", "trtllm")):
        want = tuple(r for r in rows if (r["op"], r["gpu"], r["framework"]) == (op, g, fw))
        assert want and table_rows(op, g, fw) == want
