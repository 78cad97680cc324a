"""Generate :mod:`inference_arithmetic.core.fast`: every registered formula as a plain numpy function.

The sympy expressions stay the one source.  This generator lambdifies each formula exactly as
:meth:`.Formula.fast` does (``sympy.lambdify(..., modules="numpy", cse=True)``) and writes the
printed source into one module per defining module, ``core/fast/<layer>_<module>.py``, with
``core/fast/__init__.py`` re-exporting every function.  So the command line, the planner and the
step model compute the same numbers without importing sympy.  Each function takes its formula's
symbols by keyword (other keywords are ignored, as in ``Formula.fast``; ``NAME.args`` names them); a group
(:func:`.formula.formula_group`) evaluates several formulas in one call, sharing their common
subexpressions, and returns their values as a list.

    python -m inference_arithmetic.book.codegen --write    # after adding or changing a formula
    python -m inference_arithmetic.book.codegen --check    # exit 1 if core/fast is not current

``make generate`` runs the first; ``tests/test_fast.py`` checks the files are current and that every
generated function equals its formula at sampled points.
"""
from __future__ import annotations

import ast
import builtins
import importlib
import inspect
import pkgutil
import sys
import types
from pathlib import Path

import numpy as np
import sympy as sp

import inference_arithmetic
from inference_arithmetic.book import generated
from inference_arithmetic.core import elementwise
from inference_arithmetic.core.formula import FORMULAS, GROUPS

__all__ = ["generate", "write", "OUT"]

PKG = "inference_arithmetic"
FAST = PKG + ".core.fast"
#: the generated package
OUT = Path(__file__).resolve().parents[1] / "core" / "fast"
COMMAND = "python -m inference_arithmetic.book.codegen --write"
#: lines a generated file may hold before the next function goes into another (tests/test_layers.py: 400)
_MAX_LINES = 380
_FOLDS = {"largest": elementwise.largest, "smallest": elementwise.smallest}


def _shim() -> None:
    """Stand in for :mod:`inference_arithmetic.core.fast` while generating it: each name is the
    registered formula's ``Formula.fast`` (or a group's list of them), so the generator never runs the
    files it is about to replace, and a new formula needs no hand-written stub."""
    mod = types.ModuleType(FAST)

    def lookup(name: str):
        if name.startswith("__"):
            raise AttributeError(name)

        base = name[:-3] if name.endswith("_of") else name

        def call(*mapping, **values):   # resolved when called: a module may take the name before its formula exists
            values = dict(*mapping, **values)    # name_of(v) or name(**values)
            if base in GROUPS:
                return [f.fast(**values) for f in GROUPS[base][1]]
            return FORMULAS[base].fast(**values)
        return call
    mod.__getattr__ = lookup
    sys.modules[FAST] = mod
    import inference_arithmetic.core as core
    core.fast = mod


def _load_everything() -> None:
    """Import every module of the package, so that every formula is registered."""
    if FAST in sys.modules and not isinstance(sys.modules[FAST].__dict__.get("__getattr__"), types.FunctionType):
        raise RuntimeError("generate in a fresh process (python -m inference_arithmetic.book.codegen)")
    _shim()
    for info in pkgutil.walk_packages(inference_arithmetic.__path__, PKG + "."):
        if not info.name.startswith(f"{PKG}.core.fast") and not info.name.endswith("__main__"):
            importlib.import_module(info.name)


class _Folds(ast.NodeTransformer):
    """``reduce(maximum, [a, b])`` -> ``largest(a, b)`` (and ``minimum`` -> ``smallest``): the same
    fold, without a numpy call on plain floats (:mod:`inference_arithmetic.core.elementwise`)."""

    NAMES = {"maximum": "largest", "minimum": "smallest"}

    def visit_Call(self, node):
        self.generic_visit(node)
        f, args = node.func, node.args
        if (isinstance(f, ast.Name) and f.id == "reduce" and len(args) == 2 and isinstance(args[0], ast.Name)
                and args[0].id in self.NAMES and isinstance(args[1], ast.List) and len(args[1].elts) >= 2):
            return ast.copy_location(ast.Call(ast.Name(self.NAMES[args[0].id], ast.Load()), args[1].elts, []), node)
        return node


def _function(name: str, args: tuple, fn, doc: str) -> tuple[str, set[str]]:
    """The source of one generated function, ``name(**values)``, and of its body ``name_of(v)`` (the
    values read from one mapping: binding some fifty keywords out of a unit's larger dictionary costs
    more than the arithmetic), and the global names they need."""
    tree = ast.parse(inspect.getsource(fn)).body[0]
    names = [s.name for s in args]
    assert [a.arg for a in tree.args.args] == names, (name, names)
    tree = _Folds().visit(tree)
    params = set(names)
    assigned = {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
                for t in node.targets if isinstance(t, ast.Name)}
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    free = used - params - assigned - set(dir(builtins))
    body = ["    " + line for stmt in tree.body for line in ast.unparse(stmt).splitlines()]
    if len(names) == 1:
        body = [f"    {names[0]} = v[{names[0]!r}]", *body]
    elif names:
        body = [f"    {', '.join(names)} = ({', '.join(f'v[{n!r}]' for n in names)})", *body]
    text = doc.replace("\\", "\\\\").replace('"', '\\"')
    needed = {n: (_FOLDS[n] if n in _FOLDS else fn.__globals__[n]) for n in free}
    keywords = f"({', '.join(names)}; other keys ignored)" if names else "(no arguments)"
    return "\n".join([f"def {name}(**values):", f'    """{text} {keywords}"""', f"    return {name}_of(values)",
                      "", "", f"{name}.args = {tuple(names)!r}   # the keywords it reads",
                      "", "", f"def {name}_of(v, /):", f'    """:func:`{name}` of the mapping ``v``."""', *body]), needed


def _import_lines(needed: dict) -> list[str]:
    """Import statements for the names the lambdified code uses (numpy functions, functools.reduce,
    the folds of :mod:`.core.elementwise`)."""
    from_numpy, other = [], []
    folds = sorted(n for n in needed if n in _FOLDS)
    if folds:
        other.append(f"from inference_arithmetic.core.elementwise import {', '.join(folds)}")
    for n, obj in sorted(needed.items()):
        if n in _FOLDS:
            continue
        if getattr(np, n, None) is obj:
            from_numpy.append(n)
        elif n == "reduce":
            other.append("from functools import reduce")
        else:
            raise RuntimeError(f"generated code uses {n} ({obj!r}): teach codegen where it comes from")
    lines = sorted(set(other))
    if from_numpy:
        lines.append(f"from numpy import {', '.join(from_numpy)}  # noqa: F401")
    return lines


def _file_name(module: str) -> str:
    return module.removeprefix(PKG + ".").replace(".", "_")


def generate() -> dict[str, str]:
    """File name -> text of every generated module of :data:`OUT` (``__init__.py`` included)."""
    _load_everything()
    by_module: dict[str, list[tuple[str, tuple, object, str]]] = {}
    for f in FORMULAS.values():
        if f.module.startswith(PKG + "."):
            by_module.setdefault(f.module, []).append((f.name, f.symbols, f._fn, f"{f.doc} [{f.unit}]"))
    for gname, (module, group) in GROUPS.items():
        if module.startswith(PKG + "."):
            args = tuple(sorted({s for f in group for s in f.expr.free_symbols}, key=lambda s: s.name))
            fn = sp.lambdify(args, [f.expr for f in group], modules="numpy", cse=True)
            by_module.setdefault(module, []).append(
                (gname, args, fn, f"[{', '.join(f.name for f in group)}] in one call (shared subexpressions)"))
    files, exports = {}, {}
    for module in sorted(by_module):
        chunks, needed, lines = [[]], {}, 0
        for name, args, fn, doc in sorted(by_module[module], key=lambda r: r[0]):
            text, free = _function(name, args, fn, doc)
            n = text.count("\n") + 3
            if lines + n > _MAX_LINES and chunks[-1]:     # the 400-line rule: continue in another file
                chunks.append([])
                lines = 0
            chunks[-1].append((name, text, free))
            lines += n
        for k, chunk in enumerate(chunks):
            stem = _file_name(module) + (f"_{k + 1}" if k else "")
            names = [x for name, _, _ in chunk for x in (name, f"{name}_of")]
            needed = {n: o for _, _, free in chunk for n, o in free.items()}
            head = [f'"""The formulas of :mod:`{module}` as numpy functions: generated by ``{COMMAND}``',
                    '(``make generate``) from the sympy expressions; do not edit."""',
                    *_import_lines(needed), "", f"__all__ = {names!r}"]
            files[f"{stem}.py"] = "\n".join(head) + "\n\n\n" + "\n\n\n".join(t for _, t, _ in chunk) + "\n"
            exports[stem] = names
    init = ['"""Every registered formula as a plain numpy function (no sympy): generated by',
            f'``{COMMAND}`` (``make generate``); do not edit.',
            "",
            "``fast.NAME(**values)`` returns what ``FORMULAS[NAME].fast(**values)`` returns: keyword arguments",
            'named by the formula\'s symbols, extra keys ignored, numbers or numpy arrays."""']
    for sub in sorted(exports):
        init.append(f"from inference_arithmetic.core.fast.{sub} import *  # noqa: F401,F403")
    files["__init__.py"] = "\n".join(init) + "\n"
    return files


def write(out: Path = OUT) -> list[str]:
    """Write the generated modules; remove stale ones.  Returns the names of files that changed."""
    return generated.write(generate(), out)


def main(argv: list[str]) -> int:
    return generated.main(argv, generate, OUT, "core/fast", COMMAND)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
