"""The book's one equation printer: sympy's LaTeX, written the way a person would write it.

The formulas' mathematics is never changed; only how it is shown:

* **named sub-terms**: a quantity the book defines is printed by its name, not expanded
  (``n_MoE`` for ``n_layers - n_dense``; ``θ`` for the arccos of the cosine load; the parts of the
  decode step time by ``t_attn``, ``t_MoE``, ``t_comm``). A short definition a reader needs is added
  after the equation ("where n_MoE = n_layers − n_dense");
* **term order**: numbers first, then positive terms, negative terms last (``R − C``, not ``−C + R``);
* **multiplication** by juxtaposition with a thin space; ``\\arccos`` rather than ``\\operatorname{acos}``.

:func:`latex` is used by :meth:`.formula.Formula.latex`, hence by every glued equation of the book.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy.printing.latex import LatexPrinter

from inference_arithmetic.core.symbols import LATEX_NAMES, SYMBOLS, S, register

__all__ = ["latex", "NamedTerm", "named_terms", "name"]


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
    n_moe = _symbol("model", "n_moe", r"n_{\mathrm{MoE}}", "layer", "MoE layers: n_layers - n_dense")
    terms = [NamedTerm(n_moe, S.n_layers - S.n_dense)]
    if hasattr(S, "r_res"):   # the cosine load's half-width above the reserve (fleet)
        theta = _symbol("elastic", "theta", r"\theta", "1",
                        "half-width (radians) of the part of the day the cosine load is above r")
        terms.append(NamedTerm(theta, sp.acos((S.r_res / S.n_bar - 1) / S.amp)))
    return terms + _EXTRA


def _name_terms(expr: sp.Expr, skip: sp.Expr | None = None) -> tuple[sp.Expr, list[NamedTerm]]:
    used = []
    for term in sorted(named_terms(), key=lambda t: -sp.count_ops(t.definition)):
        if skip is not None and sp.simplify(term.definition - skip) == 0:
            continue
        new = _replace(expr, term)
        if new is not None and new != expr:
            expr = new
            used.append(term)
    return expr, used


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
    if isinstance(d, sp.acos):  # sin(arccos x) = sqrt(1 - x^2): print it as sin(theta)
        out = out.subs(sp.sqrt(1 - d.args[0] ** 2), sp.sin(term.symbol))
    return out


class _BookPrinter(LatexPrinter):
    """sympy's LaTeX printer with the book's term order."""

    def _print_Add(self, expr, order=None):
        terms = list(self._as_ordered_terms(expr, order=None))
        numbers = [t for t in terms if t.is_number]
        rest = [t for t in terms if not t.is_number]
        positive = [t for t in rest if not t.could_extract_minus_sign()]
        negative = [t for t in rest if t.could_extract_minus_sign()]
        ordered = [n for n in numbers if n > 0] + positive + negative + [n for n in numbers if n < 0]
        tex = ""
        for i, term in enumerate(ordered):
            if i == 0:
                pass
            elif term.could_extract_minus_sign():
                tex += " - "
                term = -term
            else:
                tex += " + "
            term_tex = self._print(term)
            if self._needs_add_brackets(term):
                term_tex = r"\left(%s\right)" % term_tex
            tex += term_tex
        return tex


_SETTINGS = dict(symbol_names=LATEX_NAMES, mul_symbol=r"\,", inv_trig_style="full")


def latex(expr: sp.Expr, lhs: str | None = None, *, skip: sp.Expr | None = None) -> str:
    """LaTeX of ``expr`` (``lhs = rhs`` if ``lhs`` is given) with named sub-terms and the book's term order.

    ``skip``: an expression not to name (the formula's own definition, when printing a named term).
    """
    named, used = _name_terms(sp.sympify(expr), skip)
    printer = _BookPrinter({**_SETTINGS, "symbol_names": {**LATEX_NAMES}})
    rhs = printer.doprint(named)
    out = f"{lhs} = {rhs}" if lhs else rhs
    wheres = [t for t in used if t.where]
    if wheres:
        defs = ", ".join(f"{printer.doprint(t.symbol)} = {printer.doprint(t.definition)}" for t in wheres)
        out += r", \qquad \text{where } " + defs
    return out
