"""Sphinx extension: a launch menu (Binder, Colab, JupyterHub) that works for this book.

sphinx-book-theme builds the Binder, Colab and JupyterHub links from ``repository`` and
``launch_buttons`` in ``_config.yml``.  Two things are added here:

* **JupyterHub without a fixed hub.**  A course that serves the book sets
  ``launch_buttons.jupyterhub_url`` and gets the theme's link unchanged.  While it is empty, the
  theme is given a placeholder host so that it still builds its nbgitpuller link, and that entry is
  turned into a button which asks the reader for the address of their own hub (remembered in the
  browser) and opens the same link there.  The link's path and query are the theme's; only the host
  is the reader's.
* **Text notebooks get no launch menu.**  The reference pages written as MyST text notebooks
  (errata, glossary) are ``.md`` files, which Colab and a plain Jupyter cannot open as notebooks.
  Their executed ``.ipynb`` stays downloadable.
"""
from __future__ import annotations

import html
import json

PLACEHOLDER_HUB = "https://jupyterhub.invalid"
LAUNCH_SCRIPT = """
function iaLaunchJupyterHub(pathAndQuery) {
  var key = "inference-arithmetic.jupyterhub", hub = "";
  try { hub = window.localStorage.getItem(key) || ""; } catch (e) {}
  hub = window.prompt("Address of your JupyterHub (it needs nbgitpuller), e.g. https://hub.example.edu", hub);
  if (!hub) { return null; }
  hub = hub.trim().replace(/\\/+$/, "");
  if (!/^https?:\\/\\//i.test(hub)) { hub = "https://" + hub; }
  try { window.localStorage.setItem(key, hub); } catch (e) {}
  var url = hub + pathAndQuery;
  window.open(url, "_blank", "noopener");
  return url;
}
"""


def _use_placeholder_hub(app, config) -> None:
    launch = config.html_theme_options.get("launch_buttons") or {}
    if launch and not (launch.get("jupyterhub_url") or "").strip():
        launch["jupyterhub_url"] = PLACEHOLDER_HUB
        app.add_js_file(None, body=LAUNCH_SCRIPT, priority=500)


def _adjust_launch_menu(app, pagename, templatename, context, doctree) -> None:
    buttons = context.get("header_buttons")
    if not buttons:
        return
    menu = next((b for b in buttons if b.get("label") == "launch-buttons"), None)
    if menu is None:
        return
    if str(app.env.doc2path(pagename)).endswith(".md"):
        buttons.remove(menu)
        return
    for i, b in enumerate(menu["buttons"]):
        url = b.get("url", "")
        if b.get("type") == "link" and url.startswith(PLACEHOLDER_HUB + "/"):
            call = f"iaLaunchJupyterHub({json.dumps(url[len(PLACEHOLDER_HUB):])})"
            menu["buttons"][i] = {"type": "javascript", "javascript": html.escape(call),
                                  "text": b["text"], "icon": b["icon"], "label": "launch-jupyterhub",
                                  "tooltip": "Launch on your JupyterHub (asks for its address)"}


def setup(app):
    app.connect("config-inited", _use_placeholder_hub)
    app.connect("html-page-context", _adjust_launch_menu, priority=502)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
