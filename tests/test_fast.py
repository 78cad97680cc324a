"""The generated numeric functions (:mod:`inference_arithmetic.core.fast`): current, equal to their
formulas, and the answer path free of sympy."""
from __future__ import annotations

import json
import subprocess
import sys
import zlib

import numpy as np
import pytest

from inference_arithmetic.book import codegen
from inference_arithmetic.book.registry import FORMULAS
from inference_arithmetic.core import fast
from inference_arithmetic.core.formula import GROUPS

GENERATED = sorted(n for n, f in FORMULAS.items() if f.module.startswith("inference_arithmetic."))


def test_regenerating_gives_the_committed_files():
    r = subprocess.run([sys.executable, "-m", "inference_arithmetic.book.codegen", "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_every_library_formula_is_generated():
    assert GENERATED and all(callable(getattr(fast, n, None)) for n in GENERATED)
    assert "step_terms" in GROUPS and callable(fast.step_terms)


def _points(f, rng, shape=()):
    """Positive random values of every symbol of ``f`` (exponents and shares kept small, so that
    powers and arccos stay in range), with an extra key the function must ignore."""
    v = {}
    for s in f.symbols:
        x = rng.uniform(0.05, 0.95, shape) if s.name in ("amp", "lend", "util", "p_acc", "rho", "f_hit", "f_sm") \
            else rng.uniform(0.5, 4.0, shape)
        v[s.name] = x if shape else float(x)
    v["not_a_symbol"] = 7.0
    return v


def _close(a, b):
    a, b = np.asarray(a, dtype=complex), np.asarray(b, dtype=complex)   # a power of a negative base: complex
    both_nan = np.isnan(a) & np.isnan(b)
    assert np.all(both_nan | np.isclose(a, b, rtol=1e-12, atol=0.0)), (a, b)


@pytest.mark.parametrize("name", GENERATED)
def test_generated_function_equals_its_formula(name):
    f, g = FORMULAS[name], getattr(fast, name)
    rng = np.random.default_rng(zlib.crc32(name.encode()))     # the same points in every process
    with np.errstate(all="ignore"):
        for _ in range(5):
            v = _points(f, rng)
            _close(g(**v), f.fast(**v))
        v = _points(f, rng, (3, 4))          # arrays broadcast as in Formula.fast
        _close(np.broadcast_to(g(**v), (3, 4)), np.broadcast_to(f.fast(**v), (3, 4)))
        if not f.symbols:
            return
        try:
            exact = complex(f.expr.subs({s: v[s.name][0, 0] for s in f.symbols}).evalf())
        except (TypeError, ValueError):      # Max of a complex power (a negative base): not comparable
            return
        if exact.imag == 0 and np.isfinite(exact.real):   # and both equal the expression evaluated by sympy
            assert np.isclose(np.broadcast_to(g(**v), (3, 4))[0, 0], exact.real, rtol=1e-9)


def test_the_group_equals_its_formulas():
    _, group = GROUPS["step_terms"]
    rng = np.random.default_rng(1)
    names = sorted({s.name for f in group for s in f.symbols})
    v = {n: rng.uniform(0.5, 4.0, (2, 3)) for n in names}
    with np.errstate(all="ignore"):
        for got, f in zip(fast.step_terms_of(dict(v, extra=1.0)), group):
            _close(got, f.fast(**v))


COMMANDS = {
    "decode": "decode --model deepseek-v3 --gpu H800 --ep 144 --isl 4000 --osl 1978 --per-user 21 --json",
    "prefill": "prefill --model deepseek-v3 --gpu H800 --ep 32 --isl 4096 --json",
    "serve": "serve --model deepseek-v3 --gpu H200 --mode disagg --isl 2000 --osl 500 --per-user 20 --json",
    "plan": "plan --model deepseek-v3 --tokens-per-day 1e10 --isl 2000 --osl 500 --per-user 20 --gpus H200 --json",
}
_PROBE = ("import json, sys\nfrom inference_arithmetic.cli import main\nimport contextlib, io\n"
          "with contextlib.redirect_stdout(io.StringIO()):\n    code = main(sys.argv[1:])\n"
          "print(json.dumps({'code': code, 'sympy': 'sympy' in sys.modules, "
          "'formula': 'inference_arithmetic.core.formula' in sys.modules, "
          "'argparse': 'argparse' in sys.modules, 'hashlib': 'hashlib' in sys.modules, "
          "'evidence': sorted(m for m in sys.modules if m.startswith('inference_arithmetic.evidence'))}))")


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_answer_loads_no_sympy(command):
    r = subprocess.run([sys.executable, "-c", _PROBE, *COMMANDS[command].split()], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    # the planner quotes the stored validation error of each answer's class: a file read, no prediction
    evidence = ["inference_arithmetic.evidence", "inference_arithmetic.evidence.error_class"] if command == "plan" else []
    # and a plain command line is parsed without argparse, the catalogs checked without hashlib's OpenSSL
    assert got == {"code": 0, "sympy": False, "formula": False, "argparse": False, "hashlib": False,
                   "evidence": evidence}, got


def test_the_probe_would_see_sympy():
    """The check itself: a command that prints equations' numbers through the formulas loads sympy."""
    r = subprocess.run([sys.executable, "-c", _PROBE, "sol", "--model", "deepseek-v3", "--gpu", "H800",
                        "--context", "4000", "--json"], capture_output=True, text=True)
    assert json.loads(r.stdout)["sympy"] is True


def test_the_fast_yaml_loader_reads_every_catalog_as_pyyaml_does():
    import yaml

    from inference_arithmetic.core.cited import DATA, SAFE_LOADER, read_yaml
    names = sorted(p.name for p in DATA.iterdir() if p.name.endswith(".yaml"))
    assert names and SAFE_LOADER is getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for name in names:
        assert read_yaml(name) == yaml.safe_load((DATA / name).read_text(encoding="utf-8")), name


def test_the_json_writer_writes_what_the_json_module_writes():
    """cli.output.dumps (one pass) against its json-module fallback on results of every shape."""
    from inference_arithmetic.cli.output import _dumps_json, dumps
    rng = np.random.default_rng(3)
    cases = [
        {}, [], {"a": 1}, {"x": np.array([1.5])}, {"x": np.array([])}, {"x": np.arange(4)},
        {"x": np.array([True, False])}, {"s": "caf\u00e9 \"q\" \\ \n\t\x01", "n": None, "b": True, "i": -3},
        {"f": [1.0, float("nan"), float("inf"), -float("inf"), -0.0, 1e-300, 123456789.123]},
        {"grid": rng.uniform(0, 1e9, 7), "nested": {"a": [1, {"b": np.float64(2.25), "c": ()}], "d": {}},
         "tuple": (1, 2.5, "x"), "np": np.int64(7)},
        [{"row": i, "v": float(x)} for i, x in enumerate(rng.uniform(-5, 5, 5))],
        {"deep": [[[]], [[1.0]]], "arr2d": np.ones((2, 2)), "zero_d": {"z": np.array(3.5)}},
        {"edges": [1e8, 99999999.5, 12345678.0, 123456789.0, 1e16, 1e-4, 9.99999995e-5, 1e-5, 0.0, -0.0, 5e-324,
                   1.7976931348623157e308, 0.1 + 0.2, -2.5, 3.0],
         "np": [np.float64(x) for x in (1e8, 1e-5, -0.0, 0.1 + 0.2, float("nan"), float("inf"), 2.0**60)],
         "random": [float(x) for x in rng.uniform(-1, 1, 200) * 10.0 ** rng.integers(-12, 20, 200)]},
    ]
    for c in cases:
        assert dumps(c) == _dumps_json(c if not isinstance(c, dict) else
                                       {k: v.reshape(-1)[0].item() if isinstance(v, np.ndarray) and v.size == 1
                                        else v for k, v in c.items()}), c
