"""One number per quantity: every page shows the library's one value of each headline quantity,
a glue name means one value on every page, and the retired per-page copies are gone."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from inference_arithmetic.core.rounding import stable
from inference_arithmetic.evidence.headlines import KINDS, headlines

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

#: per-page names that once held a headline quantity under another value or label (issue 20)
RETIRED = ("prod_model_gpu", "prod_best_gpu", "prod_bound_gpu", "pred_H800_FP8", "R_d_gpu", "R_p_gpu", "wf_model",
           "wf_roofline", "wf_sol", "wf_measured", "r_at_users", "val_median_pct", "val_blackwell_pct",
           "val_hopper_pct", "gen_blackwell_mape", "gen_hopper_mape", "h200_ep8_W_GB", "sol_4989", "val_mape_pct",
           "mape_pct", "median_ape_pct", "mean_err_pct", "ds_decode_tokens_per_s_per_gpu",
           "ds_prefill_tokens_per_s_per_gpu", "ds_nodes_avg_continuous", "ds_usd_per_day_continuous")


def _glued(path: Path) -> dict[str, str]:
    out = {}
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        for o in cell.get("outputs", []):
            name = o.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                data = o.get("data", {})
                out[name] = data.get("application/papermill.record/text/plain", repr(sorted(data)))
    return out


def _markdown(path: Path) -> str:
    if path.suffix == ".md":
        return path.read_text(encoding="utf-8")
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


PAGES = NOTEBOOKS + sorted((ROOT / "book").glob("*.md"))
GLUED = {p.name: _glued(p) for p in NOTEBOOKS}


def test_every_headline_says_what_it_is():
    for h in headlines().values():
        assert h.kind in KINDS and h.label and h.unit, h


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_pages_show_the_librarys_headline_values(nb):
    values = {f"hl_{h.key}": h.value for h in headlines().values()}
    values |= {f"hl_{h.key}_pct": 100 * h.value for h in headlines().values() if h.kind == "validation error"}
    for name, text in GLUED[nb.name].items():
        if name.startswith("hl_"):
            assert name in values, f"{nb.name}: {name} is not a headline"
            assert float(text) == stable(values[name]), f"{nb.name}: {name} = {text}, the library says {values[name]}"


def test_a_glue_name_has_one_value_on_every_page():
    seen: dict[str, tuple[str, str]] = {}
    for page, glued in GLUED.items():
        for name, text in glued.items():
            if name in seen:
                assert seen[name][1] == text, f"{name}: {seen[name][1]} on {seen[name][0]}, {text} on {page}"
            else:
                seen[name] = (page, text)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_no_page_shows_a_retired_copy_of_a_headline(page):
    used = set(re.findall(r"\{glue:text\}`([A-Za-z0-9_]+)", _markdown(page)))
    assert not used & set(RETIRED), f"{page.name}: {sorted(used & set(RETIRED))}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_headline_on_a_page_is_glued_there(page):
    used = set(re.findall(r"\{glue:text\}`(hl_[A-Za-z0-9_]+)", _markdown(page)))
    if used and page.suffix == ".ipynb":
        assert used <= set(GLUED[page.name]), f"{page.name}: {sorted(used - set(GLUED[page.name]))} not glued"
