"""The library's shape: layers import only downward (module- and function-level imports alike),
no import cycles inside a layer, no module over 400 lines, and a leaf imports no upper layer."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "inference_arithmetic"
PKG = "inference_arithmetic"
#: the layers, lowest first (the README's list)
LAYERS = ("core", "model", "hardware", "step", "serving", "evidence", "book", "cli")


def _name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {_name(p): p for p in SRC.rglob("*.py")}


def _layer(mod: str) -> int:
    parts = mod.split(".")
    if len(parts) == 1:
        return -1                                   # the top package: imports nothing
    head = parts[1]
    if head in ("cli", "__main__"):
        return LAYERS.index("cli")
    return LAYERS.index(head)


def _imports(mod: str) -> set[str]:
    """Every library module ``mod`` imports, anywhere in its body (``from pkg import sub`` counts as
    the submodule when ``sub`` is one, else as the package)."""
    tree = ast.parse(MODULES[mod].read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == PKG}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{mod}: relative import (use absolute imports)"
            if not node.module or node.module.split(".")[0] != PKG:
                continue
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                out.add(sub if sub in MODULES else node.module)
    out.discard(mod)
    return out


GRAPH = {m: _imports(m) for m in MODULES}


@pytest.mark.parametrize("mod", sorted(MODULES))
def test_imports_only_go_down(mod):
    up = [d for d in GRAPH[mod] if _layer(d) > _layer(mod)]
    assert not up, f"{mod} imports a higher layer: {up}"


def test_no_import_cycles():
    state: dict[str, int] = {}

    def visit(m, path):
        state[m] = 1
        for d in GRAPH.get(m, ()):
            if state.get(d) == 1:
                raise AssertionError(" -> ".join(path + [m, d]))
            if d not in state:
                visit(d, path + [m])
        state[m] = 2
    for m in sorted(GRAPH):
        if m not in state:
            visit(m, [])


def test_a_cycle_would_be_caught():
    """The checker itself: a two-module cycle is reported."""
    global GRAPH
    saved = GRAPH
    GRAPH = {"a": {"b"}, "b": {"a"}}
    try:
        with pytest.raises(AssertionError, match="a -> b -> a"):
            test_no_import_cycles()
    finally:
        GRAPH = saved


@pytest.mark.parametrize("mod", sorted(MODULES))
def test_no_module_over_400_lines(mod):
    n = len(MODULES[mod].read_text(encoding="utf-8").splitlines())
    assert n <= 400, f"{mod}: {n} lines"


@pytest.mark.parametrize("leaf, above", [("inference_arithmetic.model.kv", "hardware"),
                                         ("inference_arithmetic.model.params", "hardware"),
                                         ("inference_arithmetic.step.unit", "serving"),
                                         ("inference_arithmetic", "core")])
def test_a_leaf_loads_no_upper_layer(leaf, above):
    code = (f"import sys, {leaf}; bad = [m for m in sys.modules if m.startswith('{PKG}.') and "
            f"m.split('.')[1] in {LAYERS[LAYERS.index(above):]!r}]; print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
