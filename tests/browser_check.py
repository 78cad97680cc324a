"""Open every page of the built book in headless Chromium with no network, and check what a reader sees.

For each page: every altair chart container holds a rendered ``<svg>``/``<canvas>`` with vega marks,
and every chart parameter bound to a slider or menu has its widget;
every maths element became a MathJax ``mjx-container``; the console shows no script error and no failed
load; no page asks for an external script, stylesheet, image or frame.  Each notebook chapter has a launch
menu whose Binder, Colab and JupyterHub entries open that chapter's notebook in the book's repository
(other pages have none), and on one chapter the JupyterHub entry is clicked, with the reader's answer
to its question stubbed, to see the link it opens.  On every page with sliders or menus, each chart's
widgets are moved and its marks must change.  Over the whole site, each citation's text links to one
bibliography entry only (no "NVIDIA, 2024" naming three datasheets), and with the label that entry carries
on the references page.  In every page's HTML, no MyST was left unrendered (a literal ``{glue:``, ``{cite``,
``{eq}``, an escaped ``\$``, a ``$`` that should have opened maths); at a 400 px window no chart, table
or equation sticks out of the page (each scrolls inside its own box) and no chart text is drawn below 9 px; at
1,280 px no display equation or table is wider than the text column.  Run by ``make browser`` (part of ``make test``)
inside a network namespace where only loopback exists.  Optional: ``--screenshots DIR``.
Prints one line per page and a closing ``N passed, M failed`` line; exits 1 on any failure.
"""
from __future__ import annotations

import argparse
import functools
import html
import http.server
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--enable-logging=stderr", "--v=0", "--virtual-time-budget=20000",
                  "--window-size=1280,2400", "--hide-scrollbars"]
CONSOLE_ERROR = re.compile(r"CONSOLE.*?\"(Uncaught[^\"]*|Failed to load resource[^\"]*|Error loading script[^\"]*"
                           r"|[^\"]*(?:SyntaxError|TypeError|ReferenceError)[^\"]*)\"")
EXTERNAL = re.compile(r"<(?:script|img|iframe)\b[^>]*\bsrc=\"(https?:)?//|<link\b[^>]*\bhref=\"(https?:)?//[^\"]*\"[^>]*"
                      r"rel=\"(?:stylesheet|preload|icon)\"|<link\b[^>]*rel=\"(?:stylesheet|preload)\"[^>]*href=\"(https?:)?//",
                      re.I)


class ChartScan(HTMLParser):
    """Find each altair chart container and whether a vega root with marks was rendered inside it."""

    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, str | None]] = []   # (tag, chart id it opened or None)
        self.charts: dict[str, dict] = {}
        self.mjx = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        opened = None
        if (a.get("id") or "").startswith("altair-viz-"):
            opened = a["id"]
            self.charts[opened] = {"root": False, "marks": 0}
        open_charts = [c for _, c in self.stack if c] + ([opened] if opened else [])
        cls = a.get("class") or ""
        for c in open_charts:
            if tag in ("svg", "canvas") and "marks" in cls.split():
                self.charts[c]["root"] = True
            if "mark-" in cls:
                self.charts[c]["marks"] += 1
        if tag == "mjx-container":
            self.mjx += 1
        if tag not in ("br", "img", "meta", "link", "input", "hr", "path", "rect", "line", "circle", "use"):
            self.stack.append((tag, opened))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break


STUB_HUB = "hub.example.edu/"
# Probes: ``page.html?<probe>`` serves the page with a script at the top of <head> and one before </body>;
# the result lands in an attribute of <body> in the dumped DOM.
PROBES = {
    # the reader's answer to the JupyterHub prompt and window.open stubbed, the JupyterHub entry clicked
    "launch-check": (
        '<script>window.prompt = function () { return "%s"; };'
        'window.open = function (u) { window.iaOpened = u; };</script>' % STUB_HUB,
        '<script>window.addEventListener("load", function () {'
        'var b = document.querySelector(".btn-launch-jupyterhub"); if (b) { b.click(); }'
        'document.body.setAttribute("data-launched", window.iaOpened || "nothing"); });</script>'),
    # every slider of a chart moved to another end, every menu to its next option; did the marks change?
    "drive-check": ("", """<script>window.addEventListener("load", function () { setTimeout(function () {
  var svg = function (c) { var s = c.querySelector("svg.marks"); return s ? s.innerHTML : ""; };
  var charts = Array.prototype.filter.call(document.querySelectorAll('[id^="altair-viz-"]'),
    function (c) { return c.querySelector(".vega-bind input, .vega-bind select"); });
  var before = charts.map(svg);
  charts.forEach(function (c) {
    c.querySelectorAll(".vega-bind input[type=range]").forEach(function (i) {
      i.value = Number(i.value) !== Number(i.max) ? i.max : i.min;
      i.dispatchEvent(new Event("input", {bubbles: true})); i.dispatchEvent(new Event("change", {bubbles: true})); });
    c.querySelectorAll(".vega-bind select").forEach(function (m) {
      m.selectedIndex = (m.selectedIndex + 1) % m.options.length;
      m.dispatchEvent(new Event("change", {bubbles: true})); m.dispatchEvent(new Event("input", {bubbles: true})); });
  });
  setTimeout(function () {
    document.body.setAttribute("data-driven", charts.map(function (c, k) {
      return c.id + "=" + (svg(c) !== before[k] ? "moved" : "still"); }).join(" ") || "none");
  }, 1500); }, 3000); });</script>"""),
    # at a narrow window: does any chart, table or display equation stick out of the page, and is chart text legible?
    "narrow-check": ("", """<script>window.addEventListener("load", function () { setTimeout(function () {
  var width = document.documentElement.clientWidth, bad = [];
  var items = document.querySelectorAll('[id^="altair-viz-"], article table, mjx-container[display="true"]');
  Array.prototype.forEach.call(items, function (e) {
    var r = e.getBoundingClientRect();
    if (r.width > 0 && r.right > width + 1) {
      bad.push((e.id || e.tagName.toLowerCase()).slice(0, 24) + ":" + Math.round(r.right) + ">" + width); }
  });
  document.querySelectorAll('[id^="altair-viz-"] svg.marks').forEach(function (svg) {
    var drawn = svg.viewBox && svg.viewBox.baseVal && svg.viewBox.baseVal.width ? svg.viewBox.baseVal.width
                : svg.width.baseVal.value, scale = svg.getBoundingClientRect().width / drawn, least = 1e9;
    svg.querySelectorAll("text").forEach(function (t) {
      if (t.textContent.trim()) { least = Math.min(least, parseFloat(getComputedStyle(t).fontSize)); } });
    if (least < 1e9 && least * scale < %(legible)s) {
      bad.push("chart-text:" + svg.closest('[id^="altair-viz-"]').id.slice(0, 20) + ":" + (least * scale).toFixed(1) + "px"); }
  });
  if (document.documentElement.scrollWidth > width + 1) { bad.push("page:" + document.documentElement.scrollWidth + ">" + width); }
  document.body.setAttribute("data-narrow", bad.join(" ") || "ok");
}, 3000); });</script>"""),
    # at 1,280 px: does every display equation and table fit the text column (no scrolling inside its box)?
    "wide-check": ("", """<script>window.addEventListener("load", function () { setTimeout(function () {
  var article = document.querySelector("article.bd-article") || document.querySelector("main") || document.body;
  var style = getComputedStyle(article);
  var column = article.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight), bad = [];
  var items = document.querySelectorAll('article table, mjx-container[display="true"]');
  Array.prototype.forEach.call(items, function (e) {
    var inner = e.tagName.toLowerCase() === "table" ? e.scrollWidth
                : (e.querySelector("mjx-math") ? e.querySelector("mjx-math").getBoundingClientRect().width : 0);
    if (inner > column + 1 || e.scrollWidth > e.clientWidth + 1) {
      var what = e.tagName.toLowerCase() === "table" ? "table" : "equation";
      var text = (e.getAttribute("aria-label") || e.textContent || "").replace(/\\s+/g, " ").slice(0, 40);
      bad.push(what + " " + Math.round(Math.max(inner, e.scrollWidth)) + ">" + Math.round(column) + " [" + text + "]"); }
  });
  document.body.setAttribute("data-wide", (bad.join("; ") || "ok") + " | column " + Math.round(column));
}, 3000); });</script>"""),
}


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        path, _, query = self.path.partition("?")
        probes = query.split("&") if query else []
        if not probes or any(p not in PROBES for p in probes):
            return super().do_GET()
        head = "".join(PROBES[p][0] for p in probes)
        tail = "".join(PROBES[p][1] for p in probes)
        page = Path(self.translate_path(path))
        body = page.read_text(encoding="utf-8").replace("<head>", "<head>" + head, 1)
        body = body.replace("</body>", tail + "</body>", 1).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # a browser closing a connection early is not news
        pass


def serve(root: Path):
    handler = functools.partial(_QuietHandler, directory=str(root))
    httpd = _QuietServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def dump_dom(chromium: str, url: str, shot: Path | None = None, width: int | None = None) -> subprocess.CompletedProcess:
    flags = [f"--window-size={width},2400" if width and f.startswith("--window-size") else f for f in CHROMIUM_FLAGS]
    with tempfile.TemporaryDirectory() as profile:
        cmd = [chromium, *flags, f"--user-data-dir={profile}", "--dump-dom", url]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if shot is not None:
            subprocess.run([chromium, *flags, f"--user-data-dir={profile}",
                            f"--screenshot={shot}", url], capture_output=True, timeout=120)
    return r


NARROW = 400   # px: a phone held upright
WIDE = 1280    # px: a laptop screen
LEGIBLE_PX = 9  # the smallest chart text a reader is asked to read, in CSS pixels as rendered
PROBES["narrow-check"] = (PROBES["narrow-check"][0], PROBES["narrow-check"][1] % {"legible": LEGIBLE_PX})


def check_narrow(chromium: str, url: str, shot: Path | None = None) -> list[str]:
    """At a 400 px window every chart, table and display equation fits the page (or scrolls in its own box),
    and no chart's text is drawn smaller than ``LEGIBLE_PX``."""
    r = dump_dom(chromium, f"{url}?narrow-check", shot, width=NARROW)
    m = re.search(r'data-narrow="([^"]*)"', r.stdout)
    if not m:
        return ["narrow window: no result"]
    return [] if m.group(1) == "ok" else [f"at a {NARROW} px window: {html.unescape(m.group(1))[:300]}"]


def check_wide(dom: str) -> list[str]:
    """At 1,280 px no display equation or table is wider than the text column (none scrolls in its own box):
    read from the DOM of a page loaded with the ``wide-check`` probe."""
    m = re.search(r'data-wide="([^"]*)"', dom)
    if not m:
        return ["1,280 px window: no result"]
    found, _, column = html.unescape(m.group(1)).partition(" | ")
    return [] if found == "ok" else [f"wider than the {column.split()[-1]} px text column at {WIDE} px: {found[:600]}"]


_NOT_TEXT = re.compile(r"<(script|style|pre|code)\b.*?</\1>|<(span|div)\b[^>]*class=\"math[^\"]*\"[^>]*>.*?</\2>", re.S)
_MYST_LEFT = re.compile(r"\{(?:glue|cite|eq|ref|numref|doc|math)[:}]|\\\$|:::\{|```\{")
_RAW_DOLLAR = re.compile(r"\$(?=[A-Za-z\\{^_])")


def rendered_text_problems(source: str) -> list[str]:
    """MyST that reached the reader unrendered: a role or directive left as text (also inside maths,
    where a glued value pasted after ``$`` lands), an escaped ``\\$``, or a ``$`` that opened no maths."""
    problems = []
    body = source.split("<body", 1)[-1]
    scripts_out = re.sub(r"<(script|style)\b.*?</\1>", "", body, flags=re.S)
    for m in _MYST_LEFT.finditer(re.sub(r"<(pre|code)\b.*?</\1>", "", scripts_out, flags=re.S)):
        problems.append(f"unrendered MyST: ...{html.unescape(scripts_out[max(0, m.start() - 40):m.end() + 30])!r}")
    text = _NOT_TEXT.sub("", body)
    text = re.sub(r"<[^>]+>", "", text)
    for m in _RAW_DOLLAR.finditer(text):
        problems.append(f"raw $ in the text: ...{html.unescape(text[max(0, m.start() - 40):m.end() + 30])!r}")
    return problems[:5]


def repository_of(source: str) -> str | None:
    m = re.search(r'<a href="([^"]+)"[^>]*btn-source-repository-button', source)
    return m.group(1) if m else None


def hub_link_expected(repo_url: str, notebook: str) -> str:
    """The nbgitpuller path and query a JupyterHub entry must open for ``notebook`` (repo-relative)."""
    repo = repo_url.rstrip("/").rsplit("/", 1)[1]
    return (f"/hub/user-redirect/git-pull?repo={quote(repo_url, safe='/')}"
            f"&urlpath=lab/tree/{repo}/{notebook}&branch=")


def launch_problems(rel: str, source: str) -> list[str]:
    """A notebook chapter's launch menu opens that chapter in the book's repository; no other page has one."""
    menu = re.search(r'<div class="dropdown dropdown-launch-buttons">(.*?)</ul>', source, re.S)
    if not rel.startswith("notebooks/"):
        return ["launch menu on a page that is not a notebook chapter"] if menu else []
    if not menu:
        return ["no launch menu"]
    repo_url = repository_of(source)
    if not repo_url or not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", repo_url):
        return [f"no GitHub repository button (found {repo_url})"]
    org_repo = re.escape(repo_url.split("github.com/", 1)[1])
    notebook = rel[: -len(".html")] + ".ipynb"
    entries = html.unescape(menu.group(1))
    problems = []
    wanted = {"Binder": rf'href="https://[^"]+/v2/gh/{org_repo}/[\w.-]+\?urlpath=lab/tree/{re.escape(notebook)}"',
              "Colab": rf'href="https://colab\.research\.google\.com/github/{org_repo}/blob/[\w.-]+/{re.escape(notebook)}"',
              "JupyterHub": re.escape(hub_link_expected(repo_url, notebook))}
    for name, pattern in wanted.items():
        if not re.search(pattern, entries):
            problems.append(f"launch menu: no {name} entry for {notebook} in {repo_url}")
    return problems


def check_hub_prompt(chromium: str, base: str, rel: str, source: str) -> list[str]:
    """Click the JupyterHub entry of one chapter (the reader answers the prompt with a stub hub)."""
    if "btn-launch-jupyterhub" not in source:
        return []                       # a configured hub: the entry is a plain link, checked above
    r = dump_dom(chromium, f"{base}/{rel}?launch-check")
    m = re.search(r'data-launched="([^"]*)"', r.stdout)
    opened = html.unescape(m.group(1)) if m else "no result"
    want = "https://" + STUB_HUB.rstrip("/") + hub_link_expected(repository_of(source), rel[:-5] + ".ipynb")
    if not opened.startswith(want):
        return [f"JupyterHub entry opened {opened!r}, expected {want}..."]
    return []


def check_driving(dom: str, source: str) -> list[str]:
    """Move the widgets of every chart that has some: its marks must change, with no kernel behind it
    (read from the DOM of a page loaded with the ``drive-check`` probe)."""
    bound = [chunk for chunk in source.split('<div id="altair-viz-')[1:]
             if re.search(r'"input": ?"(?:range|select)"', chunk.split("</script>", 1)[0])]
    if not bound:
        return []
    m = re.search(r'data-driven="([^"]*)"', dom)
    results = dict(item.split("=", 1) for item in m.group(1).split()) if m and m.group(1) != "none" else {}
    problems = []
    if len(results) != len(bound):
        problems.append(f"{len(results)} charts with widgets found in the page, {len(bound)} in the source")
    problems += [f"chart {cid[:20]} did not change when its widgets moved" for cid, v in results.items() if v != "moved"]
    return problems


def check_page(chromium: str, url: str, source: str, shot: Path | None) -> list[str]:
    """One load at 1,280 px: every chart rendered with its widgets, maths typeset, no console error or
    external resource, and (the probes of the same load) the widths of :func:`check_wide` and the widgets of
    :func:`check_driving`."""
    problems = []
    probes = ("wide-check&drive-check" if not re.search(r'http-equiv="refresh"', source, re.I)   # the index
              else "drive-check")                                                             # only redirects
    r = dump_dom(chromium, f"{url}?{probes}", shot, width=WIDE)
    dom = r.stdout
    if r.returncode != 0 or "<body" not in dom:
        return [f"chromium failed (exit {r.returncode})"]
    if "wide-check" in probes:
        problems += check_wide(dom)
    problems += check_driving(dom, source)
    for m in CONSOLE_ERROR.finditer(r.stderr):
        problems.append(f"console: {m.group(1)[:160]}")
    for m in EXTERNAL.finditer(source):
        problems.append(f"external resource requested: {m.group(0)[:120]}")
    expected = len(set(re.findall(r'id="(altair-viz-[0-9a-f]+)"', source)))
    scan = ChartScan()
    scan.feed(dom)
    if len(scan.charts) != expected:
        problems.append(f"{len(scan.charts)} chart containers in the page, {expected} in the source")
    for cid, c in scan.charts.items():
        if not c["root"] or c["marks"] == 0:
            problems.append(f"chart {cid[:20]} not rendered (vega root: {c['root']}, mark groups: {c['marks']})")
    n_bind = len(re.findall(r'"input": ?"(?:range|select)"', source))
    n_widgets = len(re.findall(r'class="vega-bind"', dom))
    if n_widgets < n_bind:
        problems.append(f"{n_widgets} slider/menu widgets rendered for {n_bind} bound chart parameters")
    n_math = len(re.findall(r'class="math notranslate nohighlight"', source))
    if n_math and scan.mjx < n_math:
        problems.append(f"maths not rendered: {scan.mjx} mjx-container for {n_math} math elements")
    return problems


_CITATION = re.compile(r'<a class="reference internal" href="[^"]*references\.html#([^"]+)"[^>]*>(.*?)</a>', re.S)


_LIST_LABEL = re.compile(r'<div class="citation" id="([^"]+)" role="doc-biblioentry">\s*<span class="label">(.*?)</span>\s*</span>',
                         re.S)


def citation_problems(sources: list[str]) -> list[str]:
    """Citations in the text must name their source unambiguously: one text, one bibliography entry.

    (Author-year text alone would print "NVIDIA, 2024" for three different datasheets.)
    """
    targets: dict[str, set[str]] = {}
    for source in sources:
        for anchor, text in _CITATION.findall(source):
            targets.setdefault(re.sub(r"<[^>]+>", "", text).strip(), set()).add(anchor)
    if not targets:
        return ["no citation links found"]
    problems = [f"citation text {text!r} links to {len(t)} different entries"
                for text, t in sorted(targets.items()) if len(t) > 1]
    labels = {}
    for source in sources:
        for anchor, label in _LIST_LABEL.findall(source):
            labels[anchor] = re.sub(r"<[^>]+>", "", html.unescape(label)).strip("[] \n")
    for text, anchors in sorted(targets.items()):
        for anchor in anchors:
            if anchor in labels and html.unescape(text) != labels[anchor]:
                problems.append(f"citation text {html.unescape(text)!r} but the references page labels it "
                                f"{labels[anchor]!r}")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("root", nargs="?", default="_build/html")
    ap.add_argument("--screenshots", type=Path, help="folder for PNG screenshots of a few pages")
    ap.add_argument("--jobs", type=int, default=2, help="browsers at once (default 2)")
    args = ap.parse_args()
    root = Path(args.root)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("browser check: chromium not found (make browser installs it)", file=sys.stderr)
        return 1
    pages = sorted(p for p in root.rglob("*.html")
                   if "_static" not in p.parts and p.name not in ("search.html", "genindex.html"))
    if not pages:
        print(f"browser check: no pages under {root}", file=sys.stderr)
        return 1
    shots = {"book/intro.html", "notebooks/speed_of_light.html", "notebooks/elastic.html"}
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    httpd = serve(root)
    port = httpd.server_address[1]
    rels = [page.relative_to(root).as_posix() for page in pages]
    sources = [page.read_text(encoding="utf-8") for page in pages]
    hub_page = next((rel for rel in rels if rel.startswith("notebooks/")), None)   # the prompt is clicked once

    def problems_of(k: int) -> list[str]:
        rel, source = rels[k], sources[k]
        shot = args.screenshots / (rel.replace("/", "_") + ".png") if args.screenshots and rel in shots else None
        problems = check_page(chromium, f"http://127.0.0.1:{port}/{rel}", source, shot)
        problems += launch_problems(rel, source)
        problems += rendered_text_problems(source)
        narrow_shot = args.screenshots / (rel.replace("/", "_") + f".{NARROW}px.png") if shot else None
        if not re.search(r'http-equiv="refresh"', source, re.I):   # the index only redirects
            problems += check_narrow(chromium, f"http://127.0.0.1:{port}/{rel}", narrow_shot)
        if rel == hub_page:
            problems += check_hub_prompt(chromium, f"http://127.0.0.1:{port}", rel, source)
        return problems

    passed = failed = 0
    # pages are independent: a few browsers at once (each mostly waits on its page's timers), reported in order
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for rel, problems in zip(rels, pool.map(problems_of, range(len(rels)))):
            if problems:
                failed += 1
                print(f"FAIL {rel}: " + "; ".join(problems))
            else:
                passed += 1
                print(f"ok   {rel}")
    httpd.shutdown()
    cites = citation_problems(sources)
    if cites:
        failed += 1
        print("FAIL citations: " + "; ".join(cites))
    else:
        passed += 1
        print("ok   citations: each citation text names one bibliography entry, by the label it has there")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
