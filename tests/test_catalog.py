import json
import re

import pytest

from inference_arithmetic.evidence import measurements
from inference_arithmetic.hardware import gpus
from inference_arithmetic.model import config
from inference_arithmetic.serving import prices
from inference_arithmetic.core.errors import CatalogError


def test_gpus_load_and_are_sane():
    table = gpus.gpus()
    assert set(table) >= {"H800", "H100", "H200", "B200", "B300", "GB200", "GB300"}
    for g in table.values():
        assert 40e9 <= g.hbm_capacity <= 300e9
        assert 1e12 <= g.hbm_bandwidth <= 10e12
        assert g.dense_fp8 == pytest.approx(2 * g.dense_bf16, rel=0.01)
        for v in g.values.values():
            assert v.src and v.unit


def test_h800_matches_the_seed():
    h = gpus.gpu("h800")
    assert h.hbm_bandwidth == 3.35e12 and h.hbm_datasheet == 80e9


# nvidia-smi memory.total [MiB] / rocm-smi VRAM total [B] as cited in gpus.yaml (hbm_bytes)
DEVICE = {"H800": 81559 * 2**20, "H100": 81559 * 2**20, "H200": 143771 * 2**20, "H20": 97871 * 2**20,
          "B200": 183359 * 2**20, "B300": 275040 * 2**20, "GB200": 189471 * 2**20, "GB300": 284208 * 2**20,
          "MI300X": 206141652992}


def test_the_memory_model_reads_the_capacity_the_device_exposes():
    """hbm_capacity is the device's MiB (binary) count, hbm_datasheet the datasheet GB (decimal)."""
    for key, exposed in DEVICE.items():
        g = gpus.gpu(key)
        assert g.hbm_capacity == exposed
        assert g.values["hbm_bytes"].unit in ("MiB", "B") and g.values["hbm_capacity"].unit == "GB"
    h100 = gpus.gpu("H100")
    assert h100.hbm_capacity / h100.hbm_datasheet == pytest.approx(81559 * 2**20 / 80e9)   # 1.069
    assert h100.hbm_capacity == pytest.approx(85.52e9, rel=1e-3)          # 79.6 GiB, not 80e9 B
    assert gpus.gpu("B200").hbm_capacity / gpus.gpu("B200").hbm_datasheet == pytest.approx(1.068, abs=1e-3)
    for key in ("MI325X", "MI355X"):    # no device figure cited: the datasheet read as 10**9 B
        g = gpus.gpu(key)
        assert g.hbm_capacity == g.hbm_datasheet and g.values["hbm_bytes"].unit == "GB"


def test_gpu_rows_show_both_capacities():
    row = next(r for r in gpus.gpu_spec_rows() if r["gpu"] == "H200")
    assert row["hbm_GB"] == pytest.approx(141) and row["hbm_device_GiB"] == pytest.approx(143771 / 1024)


def test_every_source_is_in_the_bibliography(root):
    bib = (root / "references.bib").read_text()
    keys = set(re.findall(r"@\w+\{([^,]+),", bib))
    missing = measurements.source_keys() - keys
    assert not missing, missing


def _book_citations(root) -> set[str]:
    """Keys cited in the book: book/*.md, notebook Markdown cells and Markdown outputs."""
    texts = [p.read_text() for p in (root / "book").glob("*.md")]
    for path in (root / "notebooks").glob("*.ipynb"):
        for cell in json.loads(path.read_text())["cells"]:
            texts.append("".join(cell["source"]) if cell["cell_type"] == "markdown" else "")
            for out in cell.get("outputs", []):
                texts.append("".join(out.get("data", {}).get("text/markdown", "")))
    keys = set()
    for t in texts:
        for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", t):
            keys |= {k.strip() for k in group.split(",")}
    return keys


def test_every_reference_is_cited_where_it_is_used(root):
    """The references page lists cited entries only, so an entry nobody cites would vanish:
    every references.bib entry, and every source of the catalogs, is cited in the book."""
    bib = set(re.findall(r"@\w+\{([^,]+),", (root / "references.bib").read_text()))
    cited_keys = _book_citations(root)
    assert "{bibliography}" in (root / "book" / "references.md").read_text()
    assert ":all:" not in (root / "book" / "references.md").read_text()
    assert not cited_keys - bib, f"cited_keys but not in references.bib: {sorted(cited_keys - bib)}"
    assert not bib - cited_keys, f"in references.bib but cited_keys nowhere: {sorted(bib - cited_keys)}"
    assert not measurements.source_keys() - cited_keys, sorted(measurements.source_keys() - cited_keys)


def test_unknown_gpu_suggests():
    with pytest.raises(CatalogError) as e:
        gpus.gpu("H80")
    msg = str(e.value)
    assert "\n" not in msg and "did you mean" in msg and "H800" in msg


def test_unsupported_precision():
    with pytest.raises(CatalogError, match="no fp4"):
        gpus.gpu("H100").flops("fp4")
    with pytest.raises(CatalogError, match="unsupported dtype"):
        gpus.gpu("B200").flops("int2")
    assert gpus.gpu("B200").flops("fp4") == 9e15


def test_measurements_and_prices():
    assert measurements.measurement("deepseek_day6", "average_nodes").value == 226.75
    assert measurements.measurement("deepseek_day6", "input_tokens").si == 608e9
    p = prices.api_price("deepseek-r1")
    assert p["output"].si == pytest.approx(2.19e-6)
    assert prices.gpu_hour_price("H800").si == pytest.approx(2 / 3600)
    with pytest.raises(CatalogError):
        measurements.measurement("deepseek_day6", "nonsense")


def test_model_catalog():
    m = config.model("DeepSeek-V3")
    assert (m.attention, m.n_layers, m.n_dense, m.n_moe) == ("mla", 61, 3, 58)
    assert (m.d_c, m.d_r, m.n_experts, m.top_k, m.n_shared) == (512, 64, 256, 8, 1)
    with pytest.raises(CatalogError, match="unknown model"):
        config.model("gpt-5")


@pytest.mark.parametrize("text,match", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "JSON object"),
    ('{"model_type": "llama", "hidden_size": 4096}', "missing num_hidden_layers, num_attention_heads, vocab_size"),
    ('{"model_type": "deepseek_v3", "hidden_size": 7168, "num_hidden_layers": 61, '
     '"num_attention_heads": 128, "vocab_size": 129280, "kv_lora_rank": 512}', "missing qk_rope_head_dim"),
    ('{"model_type": "llama", "hidden_size": -5, "num_hidden_layers": 2, "num_attention_heads": 2, '
     '"vocab_size": 10, "intermediate_size": 8}', "hidden_size must be an integer in 1\\.\\."),
    ('{"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 6, '
     '"num_key_value_heads": 4, "vocab_size": 10, "intermediate_size": 8}', "not a multiple"),
])
def test_bad_configs(tmp_path, text, match):
    p = tmp_path / "config.json"
    p.write_text(text)
    with pytest.raises(CatalogError, match=match) as e:
        config.read_config(p)
    assert "\n" not in str(e.value)


def test_missing_file(tmp_path):
    with pytest.raises(CatalogError, match="no such file"):
        config.read_config(tmp_path / "absent.json")


def test_config_round_trip(tmp_path):
    cfg = {"model_type": "qwen3_moe", "hidden_size": 2048, "num_hidden_layers": 48,
           "num_attention_heads": 32, "num_key_value_heads": 4, "head_dim": 128,
           "vocab_size": 151936, "num_experts": 128, "num_experts_per_tok": 8,
           "moe_intermediate_size": 768, "intermediate_size": 6144, "tie_word_embeddings": False}
    p = tmp_path / "config.json"
    p.write_text(json.dumps(cfg))
    m = config.read_config(p)
    assert (m.attention, m.d_head, m.n_kv_heads, m.n_experts, m.n_dense) == ("gqa", 128, 4, 128, 0)
