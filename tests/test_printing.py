"""The book's equation printer: reading order and named sub-terms, the mathematics unchanged."""
import sympy as sp

from inference_arithmetic.book.registry import FORMULAS
from inference_arithmetic.serving import fleet
from inference_arithmetic.model import params
from inference_arithmetic.core import printing


def test_terms_read_left_to_right():
    assert fleet.margin.latex(r"\mu") == r"\mu = \frac{\mathcal{R} - C}{C}"
    assert r"Q_{\mathrm{in}} - Q_{\mathrm{hit}}" in fleet.revenue.latex()


def test_defined_quantities_are_named_not_expanded():
    tex = params.routed_expert_params.latex()
    assert r"n_{\mathrm{MoE}}" in tex and r"\text{where } n_{\mathrm{MoE}} = n_{\mathrm{layers}} - n_{\mathrm{dense}}" in tex
    assert r"\theta" in fleet.excess_nodes.latex() and r"\sin" in fleet.excess_nodes.latex()


def test_naming_never_changes_the_maths():
    for f in FORMULAS.values():
        named, used = printing._name_terms(f.expr, f.expr)
        back = named.subs({t.symbol: t.definition for t in used})
        back = back.subs({sp.sin(t.symbol): sp.sin(t.definition) for t in used})
        # the same tree back (every formula but a few), else equal once expanded, else simplify decides
        assert back == f.expr or sp.expand(back - f.expr) == 0 or sp.simplify(back - f.expr) == 0, f.name
