"""The published book's settings agree with each other.

``repository`` in ``_config.yml`` is the one place that says where the sources live; the launch links
(built by sphinx-book-theme and ``book/_ext/launch_menu.py``), the install cell of every notebook, the
package URLs and the Binder set-up must follow it.  The rendered launch menu itself is checked in the
built pages by ``tests/browser_check.py``.
"""
from __future__ import annotations

import importlib.util
import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
REPO = CONFIG["repository"]["url"]
BRANCH = CONFIG["repository"]["branch"]


def _ext_module(name):
    """A local Sphinx extension of book/_ext, imported by path."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "book" / "_ext" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_config_has_no_template_leftovers():
    assert CONFIG["title"] and "sample" not in CONFIG["title"].lower()
    assert CONFIG["author"] and "jupyter book community" not in CONFIG["author"].lower()
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", REPO), REPO
    assert "executablebooks" not in REPO
    assert BRANCH == "main"
    assert CONFIG["execute"]["allow_errors"] is False
    assert CONFIG["execute"]["execute_notebooks"] == "cache" and CONFIG["execute"]["timeout"] > 0


def test_launch_buttons_for_binder_colab_and_jupyterhub():
    launch = CONFIG["launch_buttons"]
    assert launch["binderhub_url"] == "https://mybinder.org"
    assert launch["colab_url"] == "https://colab.research.google.com"
    # empty: each reader is asked for their own hub; a course may set its hub here instead
    assert launch["jupyterhub_url"] == "" or launch["jupyterhub_url"].startswith("https://")
    assert "launch_menu" in CONFIG["sphinx"]["local_extensions"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_installs_the_library_from_the_configured_repository(path):
    nb = json.loads(path.read_text())
    first = next(c for c in nb["cells"] if c["cell_type"] == "code")
    source = "".join(first["source"])
    assert "remove-cell" in first["metadata"].get("tags", [])
    assert f'"inference-arithmetic[notebooks] @ git+{REPO}@{BRANCH}"' in source
    assert 'find_spec("inference_arithmetic") is None' in source   # a no-op where the library is installed
    assert not first.get("outputs")


def test_package_metadata_points_to_the_repository():
    urls = PYPROJECT["project"]["urls"]
    assert urls["Repository"] == REPO
    assert urls["Issues"] == f"{REPO}/issues"
    assert "notebooks" in PYPROJECT["project"]["optional-dependencies"]


def test_binder_uses_the_pinned_requirements_and_installs_the_library():
    binder = ROOT / ".binder"
    assert (binder / "requirements.txt").read_text().split("\n").count("-r ../requirements.txt") == 1
    python = (binder / "runtime.txt").read_text().strip()
    assert re.fullmatch(r"python-3\.\d+", python)
    minimum = re.search(r">=\s*3\.(\d+)", PYPROJECT["project"]["requires-python"]).group(1)
    assert int(python.split(".")[1]) >= int(minimum)
    post = binder / "postBuild"
    assert post.stat().st_mode & 0o111, "postBuild must be executable"
    assert "pip install" in post.read_text() and " ." in post.read_text()


def _theme_menu(hub: str, page: str) -> list[dict]:
    query = f"repo=https%3A//github.com/o/r&urlpath=lab/tree/r/{page}&branch=main"
    return [{"type": "group", "label": "launch-buttons", "buttons": [
        {"type": "link", "text": "Binder", "icon": "b.svg", "url": "https://mybinder.org/v2/gh/o/r/main"},
        {"type": "link", "text": "JupyterHub", "icon": "j.svg", "url": f"{hub}/hub/user-redirect/git-pull?{query}"},
    ]}]


class _App:
    def __init__(self, source: str):
        self.env = type("Env", (), {"doc2path": staticmethod(lambda name: Path(source))})()


def test_launch_menu_asks_for_the_hub_and_keeps_the_theme_link():
    lm = _ext_module("launch_menu")
    context = {"header_buttons": _theme_menu(lm.PLACEHOLDER_HUB, "notebooks/fleet.ipynb")}
    lm._adjust_launch_menu(_App("notebooks/fleet.ipynb"), "notebooks/fleet", "page.html", context, None)
    binder, hub = context["header_buttons"][0]["buttons"]
    assert binder["type"] == "link"
    assert hub["type"] == "javascript" and hub["text"] == "JupyterHub"
    # the call is HTML-escaped for the onclick attribute and carries the theme's path and query
    assert hub["javascript"] == ("iaLaunchJupyterHub(&quot;/hub/user-redirect/git-pull?repo=https%3A//github.com/o/r"
                                 "&amp;urlpath=lab/tree/r/notebooks/fleet.ipynb&amp;branch=main&quot;)")


def test_launch_menu_keeps_a_configured_hub_and_drops_text_notebooks():
    lm = _ext_module("launch_menu")
    context = {"header_buttons": _theme_menu("https://hub.example.edu", "notebooks/fleet.ipynb")}
    lm._adjust_launch_menu(_App("notebooks/fleet.ipynb"), "notebooks/fleet", "page.html", context, None)
    assert [b["type"] for b in context["header_buttons"][0]["buttons"]] == ["link", "link"]
    context = {"header_buttons": _theme_menu(lm.PLACEHOLDER_HUB, "book/errata.md")}
    lm._adjust_launch_menu(_App("book/errata.md"), "book/errata", "page.html", context, None)
    assert context["header_buttons"] == []


def test_markdown_table_and_citations():
    from inference_arithmetic.book import nb
    table = nb.markdown_table([{"GPU": "H800", "source": nb.cite("deepseek-day6")},
                               {"GPU": "B200", "source": nb.cite(["nvidia-dgx-b200", "nvidia-hgx"])}])
    assert table.data.splitlines() == ["| GPU | source |", "|---|---|",
                                       "| H800 | {cite:p}`deepseek-day6` |",
                                       "| B200 | {cite:p}`nvidia-dgx-b200,nvidia-hgx` |"]
    with pytest.raises(ValueError, match="at least one row"):
        nb.markdown_table([])


def test_citations_tell_one_authors_sources_of_one_year_apart():
    style = _ext_module("citation_style")
    assert CONFIG["sphinx"]["config"]["bibtex_reference_style"] == style.NAME
    assert "citation_style" in CONFIG["sphinx"]["local_extensions"]
    assert style.year_suffix("NVIDIA24c", True) == "c"      # "NVIDIA, 2024c", as on the references page
    assert style.year_suffix("NVIDIA23", True) == ""        # the only NVIDIA source of 2023
    assert style.year_suffix("see25b", False) == ""         # no author: cited by its (unique) title
