"""Sphinx extension: serve vega, vega-lite, vega-embed and MathJax from the book's own static files.

Altair's HTML output loads its libraries from a CDN unless ``window.VEGA_DEBUG`` says
the right versions are already on the page.  This extension adds the vendored UMD
builds to every page's head (before the charts' inline scripts run), writes
``VEGA_DEBUG`` from altair's own version constants (never by hand), points
MathJax at the vendored copy, and fails the build if the vendored versions do not
match what altair expects.
"""
from __future__ import annotations

import json
from pathlib import Path

from sphinx.errors import ExtensionError

VENDOR = Path(__file__).resolve().parent.parent / "_vendor"


def _check_versions() -> dict:
    import altair as alt

    vendored = json.loads((VENDOR / "VERSIONS.json").read_text())
    wanted = {"vega": alt.VEGA_VERSION, "vega-lite": alt.VEGALITE_VERSION, "vega-embed": alt.VEGAEMBED_VERSION}
    for lib, want in wanted.items():
        have = vendored[lib]
        if not (have == want or have.startswith(want + ".")):
            raise ExtensionError(f"vendored {lib} {have} does not match altair's {want}: re-vendor book/_vendor")
    return {"vega_version": alt.VEGA_VERSION, "vegalite_version": alt.VEGALITE_VERSION,
            "vegaembed_version": alt.VEGAEMBED_VERSION}


def _setup_assets(app) -> None:
    debug = _check_versions()
    app.config.html_static_path.append(str(VENDOR))
    app.add_js_file(None, body=f"window.VEGA_DEBUG = {json.dumps(debug)};", priority=100)
    for name in ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js"):
        app.add_js_file(f"js/{name}", priority=101)
    app.add_css_file("css/print.css", media="print")
    app.add_css_file("css/layout.css")   # charts, tables and equations fit the column at any width


def _dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    """Drop repeated script entries: Sphinx 7 lists an inline script added at builder-inited twice
    (sphinx-thebe's too), and a repeated ``const`` declaration is a script error in the browser."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for js in scripts:
        # the same inline script is listed once with filename None and once with ''
        key = (getattr(js, "filename", js) or "", repr(sorted(getattr(js, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    context["script_files"] = unique


def setup(app):
    app.connect("builder-inited", _setup_assets)
    app.connect("html-page-context", _dedupe_scripts)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
