"""Print view: every captioned chart of the book as a static SVG, on one self-contained page.

The interactive book renders its charts in the browser.  For print, PDF or a reader without
JavaScript, this script takes the vega-lite spec stored in each notebook's glued chart output,
renders it to SVG with vl-convert (no browser, no network), and writes ``OUT/index.html`` with the
figures in table-of-contents order, each with its caption, plus one ``.svg`` file per chart.
Charts with sliders are drawn at their parameters' initial values.  Run by ``make print``.
"""
from __future__ import annotations

import html
import json
import re
import sys
from pathlib import Path

import nbformat
import vl_convert as vlc
import yaml

GLUE_HTML = "application/papermill.record/text/html"
GLUE_TEXT = "application/papermill.record/text/plain"
FIGURE = re.compile(r"```\{glue:figure\}\s+(\S+)\s*\n((?::[^\n]*\n)*)\n?(.*?)```", re.S)
ROLE = re.compile(r"\{(eq|ref|cite|glue:text)\}`([^`]*)`")


def glued(nb, mime: str):
    """(name, data) of every glued output of the notebook with this mime type."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {}).get(mime)
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            if name and data:
                yield name, data


def glued_numbers(nb) -> dict[str, float]:
    """Numbers the notebook glued (name -> value), to fill captions."""
    values = {}
    for name, text in glued(nb, GLUE_TEXT):
        try:
            values[name] = float(text)
        except ValueError:
            pass
    return values


def plain_caption(text: str, numbers: dict[str, float]) -> str:
    """A caption's MyST roles as plain text: glued numbers formatted, equations and citations named."""
    def role(m):
        kind, arg = m.groups()
        if kind == "glue:text":
            name, _, spec = arg.partition(":")
            return format(numbers[name], spec) if name in numbers else name
        return {"eq": f"[{arg}]", "cite": f"[{arg}]"}.get(kind, arg)
    return ROLE.sub(role, text).replace("\\$", "$").strip()


def chart_specs(nb) -> dict[str, dict]:
    """Glued altair charts of a notebook: name -> vega-lite spec."""
    specs = {}
    for name, text in glued(nb, GLUE_HTML):
        if "vega-lite" in text:
            spec, _ = json.JSONDecoder().raw_decode(text[text.index("})(") + 3:])
            specs[name] = spec
    return specs


def captions(nb) -> list[tuple[str, str]]:
    """(glue name, caption text) of every glue:figure directive, in order."""
    numbers = glued_numbers(nb)
    found = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for name, _opts, body in FIGURE.findall(cell.source):
                found.append((name, plain_caption(body, numbers)))
    return found


def main(root: Path, out: Path) -> int:
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [ch["file"] for part in toc.get("parts", []) for ch in part.get("chapters", [])
             if ch["file"].startswith("notebooks/")]
    out.mkdir(parents=True, exist_ok=True)
    body, count = [], 0
    vl_version = None
    for f in files:
        nb = nbformat.read(root / f"{f}.ipynb", as_version=4)
        title = next((line[2:] for c in nb.cells if c.cell_type == "markdown"
                      for line in c.source.splitlines() if line.startswith("# ")), f)
        specs = chart_specs(nb)
        body.append(f"<h2>{html.escape(title)}</h2>")
        for name, caption in captions(nb):
            if name not in specs:
                continue
            spec = specs[name]
            vl_version = vl_version or re.search(r"v(\d+\.\d+)", spec["$schema"]).group(1)
            svg = vlc.vegalite_to_svg(spec, vl_version=vl_version)
            if "<svg" not in svg or "mark-" not in svg:
                print(f"print view: {f}:{name} rendered no marks", file=sys.stderr)
                return 1
            (out / f"{Path(f).name}-{name}.svg").write_text(svg, encoding="utf-8")
            body.append(f"<figure>{svg}<figcaption>{html.escape(caption)}</figcaption></figure>")
            count += 1
    page = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>Inference arithmetic: figures for print"
            "</title><style>body{font-family:sans-serif;max-width:60em;margin:auto}figure{break-inside:avoid;"
            "margin:1.5em 0}figcaption{font-size:.9em;color:#333}</style></head><body>"
            "<h1>Inference arithmetic: all figures (static)</h1>" + "\n".join(body) + "</body></html>")
    (out / "index.html").write_text(page, encoding="utf-8")
    print(f"print view: {count} figures in {out / 'index.html'}")
    return 0 if count else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "."), Path(sys.argv[2] if len(sys.argv) > 2 else "_build/print")))
