"""AMD's AITER tuned-GEMM table (data/aiter_kernels.csv.gz, from ROCm/aiter by scripts/extract_aiter_tables.py):
schema, row count and checksum as its metadata file records them; an AMD GPU's dense GEMMs read from it by the
one GEMM reader (hardware.kernel_gqa.gemm_time); physics: no measured GEMM beats weight streaming at the
measured HBM rate."""
import csv
import gzip
import hashlib
import io
import math

import pytest
import yaml

from inference_arithmetic import step
from inference_arithmetic.core import fast
from inference_arithmetic.core.cited import DATA
from inference_arithmetic.hardware import efficiency
from inference_arithmetic.hardware.gpus import gpu
from inference_arithmetic.hardware.kernel_aiter import AITER_COMMIT, AITER_GPUS, M_READ, aiter_grid, roofline
from inference_arithmetic.hardware.kernel_gqa import gemm_time
from inference_arithmetic.model.config import model
from inference_arithmetic.step import curves, curves_gqa

CSV = DATA / "aiter_kernels.csv.gz"
META = yaml.safe_load((DATA / "aiter_kernels.yaml").read_text(encoding="utf-8"))


def _rows(path=CSV):
    with io.TextIOWrapper(gzip.open(path), encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("name", ["aiter_kernels", "aiter_moe_kernels"])   # dense GEMMs; fused MoE
def test_checksum_and_size_match_the_metadata(name):
    path, meta = DATA / f"{name}.csv.gz", yaml.safe_load((DATA / f"{name}.yaml").read_text(encoding="utf-8"))
    raw = gzip.decompress(path.read_bytes())
    assert hashlib.sha256(raw).hexdigest() == meta["sha256"]
    assert len(raw) == meta["bytes"] and meta["file"] == path.name
    assert path.stat().st_size == meta["gzip_bytes"] < 1e6
    assert meta["commit"].startswith(AITER_COMMIT) and meta["licence"] == "MIT"
    assert "Advanced Micro Devices" in meta["copyright"]


@pytest.mark.parametrize("name, classes, dims", [
    ("aiter_kernels", ("fp8_block", "fp8_per_token", "bfloat16"), ("m", "n", "k")),
    ("aiter_moe_kernels", ("a16w4", "a8w4", "fp8_block", "bfloat16"), ("tokens", "hidden", "inter", "experts", "topk")),
])
def test_schema_rows_and_sources(name, classes, dims):
    meta = yaml.safe_load((DATA / f"{name}.yaml").read_text(encoding="utf-8"))
    rows = _rows(DATA / f"{name}.csv.gz")
    assert tuple(rows[0]) == tuple(meta["columns"])
    assert len(rows) == meta["rows"] == sum(meta["rows_by_gpu_dtype"].values())
    sources = {f"{s['path']}@{s['commit'][:12]}" for s in meta["sources"]}
    seen, counts = set(), {}
    for r in rows:
        assert (r["gfx"], r["cu_num"]) in {("gfx942", "304"), ("gfx950", "256")}
        assert r["dtype"] in classes
        assert min(int(r[d]) for d in dims) >= 1 and float(r["us"]) > 0
        assert r["source"] in sources and r["source"].startswith("aiter/configs/")
        key = (r["gfx"], r["cu_num"], r["dtype"], *(r[d] for d in dims))
        assert key not in seen                                   # one row per shape
        seen.add(key)
        counts[f"{r['gfx']}/{r['cu_num']}/{r['dtype']}"] = counts.get(f"{r['gfx']}/{r['cu_num']}/{r['dtype']}", 0) + 1
    assert counts == meta["rows_by_gpu_dtype"]


def test_no_mi300x_gemm_beats_weight_streaming_at_the_measured_hbm_rate():
    stream = max(r["gb_per_s"] for r in efficiency.measured_on("MI300X")
                 if r["kind"] == "hbm_stream" and "CPX" not in r.get("mode", "")) * 1e9
    rows = [r for r in _rows() if (r["gfx"], r["cu_num"], r["dtype"]) == ("gfx942", "304", "fp8_block")]
    assert len(rows) > 20000
    for r in rows:                                               # as measured; FP8 weights, one byte each
        assert float(r["us"]) * 1e-6 >= int(r["n"]) * int(r["k"]) / stream
    for n, k in [(1280, 8192), (8192, 1024), (7168, 8192), (8192, 3584), (2304, 16384), (13312, 16384)]:
        for m, t in gemm_time("MI300X", "vllm", "fp8", n, k)[1]:   # read at Llama's shapes, off the tuned set too
            assert t >= n * k / stream and t >= 2 * m * n * k / gpu("MI300X").dense_fp8


def test_an_amd_gpu_reads_aiter_for_any_framework_and_the_mi325x_carries_the_mi300x():
    n, k = 5120, 5120                                             # stored (Qwen3-VL-32B's)
    _, _, grid = aiter_grid("MI300X", "fp8_block")
    assert dict(gemm_time("MI300X", "vllm", "fp8", n, k)[1]) == grid[(n, k)]
    assert gemm_time("MI300X", "sglang", "fp8", n, k) == gemm_time("MI300X", "vllm", "fp8", n, k)
    got = dict(gemm_time("MI325X", "vllm", "fp8", n, k)[1])
    for m in (16, 1024, 16384):
        ratio = roofline("MI325X", "fp8_block", m, n, k) / roofline("MI300X", "fp8_block", m, n, k)
        assert got[m] == pytest.approx(grid[(n, k)][m] * ratio, rel=1e-12)
        assert ratio == pytest.approx(1273 / 1519 if m >= 1024 else 5.3 / 6.0, rel=1e-3)   # MAF, HBM ratios
    assert set(AITER_GPUS) == {"MI300X", "MI325X", "MI355X"}


def test_each_shape_is_read_at_powers_of_two_holding_its_roofline_fraction_beyond_its_range():
    raw: dict = {}
    for r in _rows():
        if (r["gfx"], r["cu_num"], r["dtype"]) == ("gfx942", "304", "fp8_block"):
            raw.setdefault((int(r["n"]), int(r["k"])), {})[int(r["m"])] = float(r["us"]) * 1e-6
    _, _, grid = aiter_grid("MI300X", "fp8_block")
    assert set(grid) == set(raw)
    for (n, k), pts in grid.items():
        assert tuple(pts) == M_READ
        lo, hi = min(raw[(n, k)]), max(raw[(n, k)])
        for m in set(pts) & set(raw[(n, k)]):
            assert pts[m] == pytest.approx(raw[(n, k)][m], rel=1e-12)   # a measured m is read as measured
        for m in pts:
            end = min(max(m, lo), hi)
            if end != m and end in raw[(n, k)]:                           # beyond the range: the end's fraction
                frac = roofline("MI300X", "fp8_block", end, n, k) / raw[(n, k)][end]
                assert roofline("MI300X", "fp8_block", m, n, k) / pts[m] == pytest.approx(frac, rel=1e-12)


def test_a_shape_off_the_tuned_set_carries_the_nearest_shapes_roofline_fraction():
    _, _, grid = aiter_grid("MI300X", "fp8_block")
    n, k = 13312, 16384                                           # Llama 3.1 405B's gate/up at TP 8: not bracketed
    near = min(grid, key=lambda s: (math.log(s[0] / n) ** 2 + math.log(s[1] / k) ** 2, s))
    for m, t in gemm_time("MI300X", "vllm", "fp8", n, k)[1]:
        frac = roofline("MI300X", "fp8_block", m, *near) / grid[near][m]
        assert roofline("MI300X", "fp8_block", m, n, k) / t == pytest.approx(frac, rel=1e-12)


def test_an_mi300x_decode_reads_the_aiter_table_and_names_it():
    llama = model("llama-3.1-405b")
    u = step.unit(llama, gpu("MI300X"), step.Layout(ep=8, attn_tp=8, framework="vllm"), "decode")
    assert f"dense GEMMs: AITER {AITER_COMMIT} tuned-GEMM table (gfx942, 304 CUs)" in u.kernels
    assert "FP8 block-scale" in u.kernels and "(fp8, 4 of the 4 shapes)" in u.kernels
    shapes = curves_gqa.gemm_shapes(llama, 8)
    assert curves.rate(u.values["dq"], 64.0) < 1.0                 # slower than the MAF-capped transfer rule
    # the dense-GEMM time the step uses at small m (the model's time over the rate) is not below streaming the
    # weights at the measured HBM rate
    v, stream = u.values, 4017e9
    for m in (1.0, 8.0, 64.0):
        model_t = sum(c * fast.t_proj(BW=v["BW"], F_d=v["F_d"], P_at=float(n * k), T_a=1.0, b_aw=v["b_dw"], batch=m,
                                      e_gbw=v["e_gbw"], e_gfl=v["e_gfl"], flop_mac=v["flop_mac"], m_mb=1.0, s_q=1.0)
                      for c, n, k in shapes)
        assert model_t / curves.rate(v["dq"], m) >= sum(c * n * k for c, n, k in shapes) / stream
    deepseek = step.unit(llama, gpu("MI300X"), step.Layout(ep=8, attn_tp=8), "decode")
    assert "AITER" not in deepseek.kernels                        # DeepSeek's kernels read no table
    assert "AITER" not in step.unit(llama, gpu("H200"), step.Layout(ep=8, attn_tp=8, framework="vllm")).kernels
