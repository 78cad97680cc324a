"""Reading printed LaTeX: an estimate of its typeset width, and the symbols it names.

:func:`width` decides where :func:`.printing.latex` breaks an equation over lines; the browser check
measures what the reader sees.  :func:`symbol_tokens` splits a formula into the symbols it names, so that
the notebooks can define each symbol of an equation and the tests can require every symbol of every
equation to be in the glossary.
"""
from __future__ import annotations

__all__ = ["width", "symbol_tokens", "normal"]

_ROMAN = {"mathrm", "text", "operatorname"}
_FUNCS = {"max", "min", "cos", "sin", "arccos", "log", "exp", "tan"}
_SPACES = {",": 0.17, ";": 0.28, "quad": 1.0, "qquad": 2.0, "!": -0.17}
_DROP = {"left", "right", "displaystyle", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr",
         "biggl", "biggr", "Biggl", "Biggr", "begin", "end", "mathcal", "bar", "hat", "tilde"}


def width(tex: str) -> float:
    """An estimate of the typeset width of display-style LaTeX ``tex``, in em (italic letter 0.55, capital 0.72,
    digit 0.5, upright text 0.5 a character (capitals 0.72), a binary operator with its spaces 1.2, sub- and superscripts
    at 0.7 of their width, a fraction as wide as the wider of its parts). It decides where an equation
    is broken; the browser check measures what the reader sees."""
    total, _ = _width(tex, 0, 1.0)
    return total


def _group(tex: str, i: int) -> tuple[str, int]:
    """The brace group (or single token) starting at ``tex[i]``; returns its content and the index after it."""
    while i < len(tex) and tex[i] == " ":
        i += 1
    if i >= len(tex):
        return "", i
    if tex[i] == "{":
        depth, j = 0, i
        while j < len(tex):
            depth += {"{": 1, "}": -1}.get(tex[j], 0)
            if depth == 0:
                return tex[i + 1:j], j + 1
            j += 1
        return tex[i + 1:], len(tex)
    if tex[i] == "\\":
        j = i + 1
        while j < len(tex) and tex[j].isalpha():
            j += 1
        return tex[i:max(j, i + 2)], max(j, i + 2)
    return tex[i], i + 1


def _width(tex: str, i: int, scale: float, stop: str = "") -> tuple[float, int]:
    total, last = 0.0, 0.0
    while i < len(tex):
        ch = tex[i]
        if ch in stop:
            break
        if ch == "\\":
            j = i + 1
            while j < len(tex) and tex[j].isalpha():
                j += 1
            cmd = tex[i + 1:j] or tex[i + 1:i + 2]
            i = j if j > i + 1 else i + 2
            if cmd == "frac":
                num, i = _group(tex, i)
                den, i = _group(tex, i)
                w = max(width(num), width(den)) * (1.0 if scale == 1.0 else 0.8) + 0.3
            elif cmd in _ROMAN:
                arg, i = _group(tex, i)
                w = sum(0.72 if c.isupper() else 0.5 for c in arg) if cmd != "text" else 0.45 * len(arg)
            elif cmd in ("begin", "end"):
                _, i = _group(tex, i)
                w = 0.0
            elif cmd == "\\":
                w = 0.0
            elif cmd in _SPACES:
                w = _SPACES[cmd]
            elif cmd in _DROP:
                w = 0.0
            elif cmd in _FUNCS:
                w = 0.5 * len(cmd) + 0.17
            elif cmd in ("cdot", "times", "to", "leq", "geq", "le", "ge"):
                w = 1.2
            elif cmd in ("lfloor", "rfloor", "lceil", "rceil"):
                w = 0.45
            else:                          # a Greek letter or another one-glyph command
                w = 0.6
            total += w * scale
            last = w * scale
        elif ch in "_^":
            arg, i = _group(tex, i + 1)
            w = width(arg) * 0.7 * scale
            # a subscript and a superscript on one base are stacked: count the wider of the two
            if i < len(tex) and tex[i] in "_^" and tex[i] != ch:
                arg2, i = _group(tex, i + 1)
                w = max(w, width(arg2) * 0.7 * scale)
            total += w
        elif ch == "{":
            arg, i = _group(tex, i)
            w = width(arg) * scale
            total += w
        elif ch in "+-=<>":
            total += 1.2 * scale
            i += 1
        elif ch in ",":
            total += 0.45 * scale
            i += 1
        elif ch in "()[]|/":
            total += 0.4 * scale
            i += 1
        elif ch == "&" or ch == " " or ch == "}":
            i += 1
        elif ch.isdigit() or ch == ".":
            total += 0.5 * scale
            i += 1
        else:
            total += (0.72 if ch.isupper() else 0.55) * scale
            i += 1
    return total, i


# ----------------------------------------------------------------------------- symbols in printed LaTeX
_NOT_SYMBOLS = {r"\frac", r"\left", r"\right", r"\max", r"\min", r"\cos", r"\sin", r"\arccos", r"\log", r"\exp",
                r"\lfloor", r"\rfloor", r"\lceil", r"\rceil", r"\cdot", r"\times", r"\to", r"\pi", r"\infty",
                r"\qquad", r"\quad", r"\displaystyle", r"\big", r"\Big", r"\bigg", r"\Bigg", r"\bigl", r"\bigr",
                r"\Bigl", r"\Bigr", r"\biggl", r"\biggr", r"\Biggl", r"\Biggr", r"\leq", r"\geq", r"\le", r"\ge",
                r"\approx", r"\sum", r"\prod", r"\ldots", r"\dots", r"\lbrace", r"\rbrace", r"\mid"}
_ACCENTS = {r"\bar", r"\hat", r"\tilde", r"\mathcal", r"\mathrm", r"\overline", r"\mathbf"}


def normal(tex: str) -> str:
    """A symbol's LaTeX with spaces and braces removed, for comparison (``\\bar n`` = ``\\bar{n}``)."""
    return "".join(ch for ch in tex if ch not in " {}")


def symbol_tokens(tex: str) -> list[tuple[str, str, str]]:
    """The symbols of a LaTeX formula in reading order, as ``(base, subscript, superscript)`` LaTeX strings:
    a letter, Greek letter or ``\\mathrm{...}`` name with its accent, primes and scripts.  Function names,
    operators, numbers and ``\\text{...}`` are not symbols; a superscript or subscript on something that is
    not a symbol (a bracket, a number) is read as a formula of its own."""
    out: list[tuple[str, str, str]] = []
    i, n = 0, len(tex)
    while i < n:
        ch = tex[i]
        if ch == "\\":
            j = i + 1
            while j < n and tex[j].isalpha():
                j += 1
            cmd = tex[i:j] if j > i + 1 else tex[i:i + 2]
            i = j if j > i + 1 else i + 2
            if cmd in (r"\text", r"\operatorname", r"\begin", r"\end"):
                _, i = _group(tex, i)
                continue
            if cmd in _NOT_SYMBOLS or not cmd[1:].isalpha():
                continue
            if cmd in _ACCENTS:
                arg, i = _group(tex, i)
                base = cmd + "{" + arg + "}"
            else:
                base = cmd
        elif ch.isalpha():
            base, i = ch, i + 1
        elif ch in "_^":               # scripts on a bracket or a number: their contents are formulas
            arg, i = _group(tex, i + 1)
            out += symbol_tokens(arg)
            continue
        else:
            i += 1
            continue
        while i < n and tex[i] == "'":
            base, i = base + "'", i + 1
        sub = sup = ""
        for _ in range(2):
            while i < n and tex[i] == " ":
                i += 1
            if i < n and tex[i] in "_^":
                which = tex[i]
                arg, i = _group(tex, i + 1)
                if which == "_":
                    sub = arg
                else:
                    sup = arg
        while i < n and tex[i] == "'":     # a prime after the scripts (d_c') belongs to the symbol
            base, i = base + "'", i + 1
        out.append((normal(base), normal(sub), normal(sup)))
    return out
