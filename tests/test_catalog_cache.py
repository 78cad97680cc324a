"""The catalogs kept as generated Python (core/catalogs) are current and equal their YAML."""
import hashlib

import yaml

from inference_arithmetic.book import catalog_codegen
from inference_arithmetic.core import cited


def test_the_generated_catalogs_are_current():
    assert catalog_codegen.main(["--check"]) == 0


def test_each_generated_catalog_is_what_parsing_its_yaml_gives():
    for name in cited.CACHED:
        parsed = yaml.load((cited.DATA / name).read_text(encoding="utf-8"), Loader=cited.SAFE_LOADER)
        got = cited.read_yaml(name)
        assert got == parsed, name
        assert got is not cited.read_yaml(name)            # a fresh copy each call, as parsing gives


def test_an_edited_catalog_is_parsed_not_taken_from_the_stale_module(monkeypatch, tmp_path):
    name = "fitted.yaml"
    text = (cited.DATA / name).read_text(encoding="utf-8").replace("value: ", "value: 0.5 #", 1)
    (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.setattr(cited, "DATA", tmp_path)
    assert hashlib.sha256(text.encode()).hexdigest() != __import__(
        "inference_arithmetic.core.catalogs.fitted", fromlist=["SHA256"]).SHA256
    assert cited.read_yaml(name)["kappa"]["value"] == 0.5
