"""The book's one equation printer: sympy's LaTeX, written the way a person would write it.

The formulas' mathematics is never changed; only how it is shown:

* **named sub-terms**: a quantity the book defines is printed by its name, not expanded
  (``n_MoE`` for ``n_layers - n_dense``; ``θ`` for the arccos of the cosine load; the parts of the
  decode step time by ``t_attn``, ``t_MoE``, ``t_comm``). A short definition a reader needs is added
  after the equation ("where n_MoE = n_layers − n_dense");
* **term order**: numbers first, then positive terms, negative terms last (``R − C``, not ``−C + R``);
* **multiplication** by juxtaposition with a thin space; ``\\arccos`` rather than ``\\operatorname{acos}``;
* **common factors** of a sum taken out, as a person writes them: ``2 (N - 1)``, not ``2 N - 2``;
* **lines**: an equation wider than the text column is set over aligned lines (a long sum broken
  between its terms, the arguments of a long ``max`` one per line, each "where" definition on a line
  of its own), judged by :func:`width`, an estimate of the typeset width in em.

:func:`latex` is used by :meth:`.formula.Formula.latex`, hence by every glued equation of the book.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy.printing.latex import LatexPrinter

from inference_arithmetic.core.symbols import LATEX_NAMES, SYMBOLS, S, register
from inference_arithmetic.core.tex import width

__all__ = ["latex", "NamedTerm", "named_terms", "name", "width", "LINE_EM"]


@dataclass(frozen=True)
class NamedTerm:
    """A sub-expression printed by its symbol; ``where``: show its definition after the equation."""

    symbol: sp.Symbol
    definition: sp.Expr
    where: bool = True


_EXTRA: list[NamedTerm] = []


def name(symbol: sp.Symbol, definition: sp.Expr, where: bool = True) -> None:
    """Print ``definition`` as ``symbol`` in every equation (register from the module that defines it)."""
    _EXTRA.append(NamedTerm(symbol, sp.sympify(definition), where))


def _symbol(group: str, key: str, latex: str, unit: str, meaning: str) -> sp.Symbol:
    return SYMBOLS[key].symbol if key in SYMBOLS else register(group, key, latex, unit, meaning)


def named_terms() -> list[NamedTerm]:
    """Every named sub-term, built on first use (the symbols live in several modules)."""
    n_moe = _symbol("model", "n_moe", r"n_{\mathrm{MoE}}", "layer", "MoE layers: every layer after the leading dense ones")
    terms = [NamedTerm(n_moe, S.n_layers - S.n_dense)]
    if "D_dest" in SYMBOLS:   # expected EP destinations of a token: printed by its name in the byte counts
        terms.append(NamedTerm(SYMBOLS["D_dest"].symbol, S.N_ep * (1 - (1 - 1 / S.N_ep) ** S.top_k), where=False))
    if hasattr(S, "r_res"):   # the cosine load's half-width above the reserve (fleet)
        theta = _symbol("elastic", "theta", r"\theta", "1",
                        "half-width (radians) of the part of the day the cosine load is above r")
        terms.append(NamedTerm(theta, sp.acos((S.r_res / S.n_bar - 1) / S.amp)))
    return terms + _EXTRA


def _name_terms(expr: sp.Expr, skip: sp.Expr | None = None) -> tuple[sp.Expr, list[NamedTerm]]:
    used = []
    for term in sorted(named_terms(), key=lambda t: -sp.count_ops(t.definition)):
        if skip is not None and _same(term.definition, skip):
            continue
        new = _replace(expr, term)
        if new is not None and new != expr:
            expr = new
            used.append(term)
    return expr, used


def _same(a: sp.Expr, b: sp.Expr) -> bool:
    """Whether ``a`` and ``b`` are one quantity: the same tree, or equal once simplified (tried only when
    both hold the same symbols, so the costly ``simplify`` runs on the few candidates that could match)."""
    return a == b or (a.free_symbols == b.free_symbols and sp.simplify(a - b) == 0)


def _replace(expr: sp.Expr, term: NamedTerm) -> sp.Expr | None:
    d = term.definition
    if isinstance(d, sp.Add) and len(d.args) == 2:
        # a difference such as n_layers - n_dense: substitute n_layers = n_MoE + n_dense, kept only when
        # every n_layers disappears into n_MoE (no "n_MoE + n_dense" sum is left behind)
        pos = [a for a in d.args if not a.could_extract_minus_sign()]
        neg = [-a for a in d.args if a.could_extract_minus_sign()]
        if len(pos) == 1 and len(neg) == 1 and pos[0].is_Symbol and pos[0] in expr.free_symbols:
            cand = expr.subs(pos[0], term.symbol + neg[0])
            bare = lambda t, s: t == s or (t.is_Mul and t.as_coeff_Mul()[1] == s)  # noqa: E731
            for add in cand.atoms(sp.Add):
                if any(bare(a, term.symbol) for a in add.args) and any(bare(a, neg[0]) for a in add.args):
                    return expr.xreplace({d: term.symbol})   # name only the exact differences
            return cand
        return expr.subs(d, term.symbol)
    out = expr.subs(d, term.symbol)
    if out == expr and isinstance(d, sp.Mul):
        out = _replace_in_products(expr, d, term.symbol)
    if isinstance(d, sp.acos):  # sin(arccos x) = sqrt(1 - x^2): print it as sin(theta)
        out = out.subs(sp.sqrt(1 - d.args[0] ** 2), sp.sin(term.symbol))
    return out


def _replace_in_products(expr: sp.Expr, d: sp.Mul, symbol: sp.Symbol) -> sp.Expr:
    """Name a product ``d`` inside products that hold all of its compound factors but not all of its
    plain symbols (a factor cancelled against the rest): ``M = symbol * (M / d)``, kept only when
    ``M / d`` is simpler than ``M`` and no compound factor of ``d`` is left in it."""
    heavy = [f for f in d.args if not (f.is_Symbol or f.is_number or (f.is_Pow and f.base.is_Symbol))]
    if not heavy:
        return expr

    def walk(e):
        if e.is_Atom:
            return e
        e = e.func(*[walk(a) for a in e.args])
        if isinstance(e, sp.Mul) and all(h in e.args for h in heavy):
            q = e / d
            if not any(h in q.atoms(type(h)) for h in heavy) and sp.count_ops(q) < sp.count_ops(e):
                return symbol * q
        return e

    return walk(expr)


def _factor_content(expr: sp.Expr) -> sp.Expr:
    """Take a sum's common integer factor out of it (``2 N - 2`` -> ``2 (N - 1)``, ``2 - 2 u`` ->
    ``2 (1 - u)``); the value is unchanged, only how it is grouped for printing."""
    if expr.is_Atom:
        return expr
    e = expr.func(*[_factor_content(a) for a in expr.args])
    if isinstance(e, sp.Add):
        c, rest = e.primitive()
        if c.is_Integer and c > 1 and isinstance(rest, sp.Add):
            return sp.Mul(c, rest, evaluate=False)
    return e


class _BookPrinter(LatexPrinter):
    """sympy's LaTeX printer with the book's term order."""

    def signed_terms(self, expr) -> list[tuple[str, str]]:
        """The terms of a sum in reading order, each as (sign, LaTeX); the first sign is "" or "-"."""
        terms = list(self._as_ordered_terms(expr, order=None))
        numbers = [t for t in terms if t.is_number]
        rest = [t for t in terms if not t.is_number]
        positive = [t for t in rest if not t.could_extract_minus_sign()]
        negative = [t for t in rest if t.could_extract_minus_sign()]
        ordered = [n for n in numbers if n > 0] + positive + negative + [n for n in numbers if n < 0]
        out = []
        for i, term in enumerate(ordered):
            sign = "+" if i else ""
            if term.could_extract_minus_sign() and i:
                sign, term = "-", -term
            term_tex = self._print(term)
            if self._needs_add_brackets(term):
                term_tex = r"\left(%s\right)" % term_tex
            out.append((sign, term_tex))
        return out

    def _print_Add(self, expr, order=None):
        return "".join((f" {sign} " if sign else "") + tex for sign, tex in self.signed_terms(expr))


_SETTINGS = dict(symbol_names=LATEX_NAMES, mul_symbol=r"\,", inv_trig_style="full")

#: the widest display equation, in em (tex.width), that fits the text column with its number (688 px at 1,280 px)
LINE_EM = 29.0


def latex(expr: sp.Expr, lhs: str | None = None, *, skip: sp.Expr | None = None,
          max_em: float | None = LINE_EM) -> str:
    """LaTeX of ``expr`` (``lhs = rhs`` if ``lhs`` is given) with named sub-terms and the book's term order.

    ``skip``: an expression not to name (the formula's own definition, when printing a named term).
    ``max_em``: an equation estimated wider than this (:func:`width`) is set over aligned lines; ``None``
    keeps one line whatever its width.
    """
    named, used = _name_terms(sp.sympify(expr), skip)
    named = _factor_content(named)
    printer = _BookPrinter({**_SETTINGS, "symbol_names": {**LATEX_NAMES}})
    rhs = printer.doprint(named)
    out = f"{lhs} = {rhs}" if lhs else rhs
    wheres = [(printer.doprint(t.symbol), printer.doprint(_factor_content(t.definition))) for t in used if t.where]
    one_line = out
    if wheres:
        one_line += r", \qquad \text{where } " + ", ".join(f"{a} = {b}" for a, b in wheres)
    if max_em is None or width(one_line) <= max_em:
        return one_line
    lines = _lines(named, printer, lhs, 0.85 * max_em)   # lines packed with a margin: the estimate runs short
    if wheres:
        lines[-1] += ","
        lines += [(r"\text{where } " if i == 0 else "") + f"{a} &= {b}" + ("," if i < len(wheres) - 1 else "")
                  for i, (a, b) in enumerate(wheres)]
    return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"


def _ordered(expr: sp.Add, printer: "_BookPrinter") -> list:
    """The terms of a sum in the printer's reading order (as sympy expressions, signs taken off)."""
    texts = [tex for _, tex in printer.signed_terms(expr)]
    out = []
    for tex in texts:
        for t in expr.args:
            for cand in (t, -t):
                txt = printer.doprint(cand)
                if txt == tex or r"\left(%s\right)" % txt == tex:
                    out.append(cand)
                    break
            else:
                continue
            break
        else:
            out.append(None)
    return out


def _split_product(term, sign: str, printer: "_BookPrinter", room: float) -> list[str]:
    """A product with one sum among its factors, ``c (a + b + ...)``, over lines of at most ``room`` em."""
    adds = [f for f in (term.args if isinstance(term, sp.Mul) else []) if isinstance(f, sp.Add)]
    if term is None or len(adds) != 1:
        return [rf"&\quad {sign} {printer.doprint(term)}"]
    inner = adds[0]
    rest = sp.Mul(*[f for f in term.args if f is not inner])
    parts = printer.signed_terms(inner)
    lines, cur = [], rf"&\quad {sign} " + ("" if rest == 1 else printer.doprint(rest) + r"\,") + r"\left(" + parts[0][1]
    for s_, tex in parts[1:]:
        if width(cur) + width(tex) + 1.2 > room:
            lines.append(cur + r"\right.")
            cur = rf"&\qquad\left. {s_} {tex}"
        else:
            cur += f" {s_} {tex}"
    return lines + [cur + r"\right)"]


def _lines(expr: sp.Expr, printer: "_BookPrinter", lhs: str | None, max_em: float) -> list[str]:
    """``lhs &= ...`` broken into aligned lines no wider than ``max_em`` where the expression allows:
    between the terms of a top-level sum, or one argument per line of a top-level ``max`` (also when it
    is a factor of a product, as in ``n max(a, b)``)."""
    head = f"{lhs} &= " if lhs else "&"
    lead = width(lhs or "") + 1.5
    if isinstance(expr, sp.Add):
        terms = printer.signed_terms(expr)
        lines, cur = [], head + terms[0][1]
        used = lead + width(terms[0][1])
        for (sign, tex), term in zip(terms[1:], _ordered(expr, printer)[1:]):
            w = width(tex) + 1.2
            if used + w > max_em:
                lines.append(cur)
                if lead + 1 + w > max_em:           # one term too wide for a line: break the sum inside it
                    lines += _split_product(term, sign, printer, max_em - lead)
                    cur, used = None, max_em
                    continue
                cur, used = rf"&\quad {sign} {tex}", lead + 1 + w
            elif cur is None:
                cur, used = rf"&\quad {sign} {tex}", lead + 1 + w
            else:
                cur += f" {sign} {tex}"
                used += w
        return lines + ([cur] if cur is not None else [])
    factors = list(expr.args) if isinstance(expr, sp.Mul) else [expr]
    wide = [f for f in factors if isinstance(f, (sp.Max, sp.Min))]
    if len(wide) == 1 and len(wide[0].args) > 1:
        m = wide[0]
        rest = sp.Mul(*[f for f in factors if f is not m])
        prefix = "" if rest == 1 else printer.doprint(rest) + r"\,"
        fn = r"\max" if isinstance(m, sp.Max) else r"\min"
        args = [printer.doprint(a) for a in m.args]
        if any(width(a) + lead + 3 > max_em for a in args) or width(printer.doprint(expr)) + lead > max_em:
            body = [head + prefix + fn + r"\left(" + args[0] + r",\right."]
            body += [r"&\qquad\left." + a + r",\right." for a in args[1:-1]]
            body += [r"&\qquad\left." + args[-1] + r"\right)"]
            return body
    return [head + printer.doprint(expr)]
