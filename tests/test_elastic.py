"""The elastic-fleet formulas: the closed-form optimum, its limits, and the general quantile rule."""
import numpy as np
import pytest
import sympy as sp

from inference_arithmetic.serving import fleet
from inference_arithmetic.core.symbols import S

N, A = 226.86, 0.226


def test_sympy_derives_the_closed_form():
    cost = fleet.mix_cost.expr.subs(S.X_over, fleet.excess_nodes.expr)
    sol = sp.solve(sp.Eq(sp.simplify(sp.diff(cost, S.r_res)), 0), S.r_res)
    assert len(sol) == 1 and sp.simplify(sol[0] - fleet.optimal_reserve.expr) == 0


def test_lending_optimum_is_derived_too():
    cost = fleet.mix_cost_lending.expr.subs(S.X_over, fleet.excess_nodes.expr)
    sol = sp.solve(sp.Eq(sp.simplify(sp.diff(cost, S.r_res)), 0), S.r_res)
    assert any(sp.simplify(s - fleet.optimal_reserve_lending.expr) == 0 for s in sol)


@pytest.mark.parametrize("ratio", [0.1, 0.3, 0.5, 0.8])
def test_closed_form_matches_the_sampled_quantile(ratio):
    t = np.linspace(0, 86400, 200_001)[:-1]
    load = fleet.load_diurnal(n_bar=N, amp=A, t=t, t_peak=3600, period=86400)
    closed = fleet.optimal_reserve(n_bar=N, amp=A, p_res=ratio, p_od=1)
    assert fleet.optimal_reserve_quantile(load, ratio) == pytest.approx(closed, rel=1e-3)
    assert fleet.exceed_fraction(r_res=closed, n_bar=N, amp=A) == pytest.approx(ratio)
    assert float(fleet.excess_of(load, closed)[0]) == pytest.approx(
        fleet.excess_nodes(n_bar=N, amp=A, r_res=closed), rel=1e-3)


@pytest.mark.parametrize("reserve", [0.0, 0.5 * N, N * (1 - A), N, N * (1 + A) - 1, N * (1 + A), 2 * N])
def test_excess_at_any_reserve_matches_the_sampled_load(reserve):
    t = np.linspace(0, 86400, 200_001)[:-1]
    load = fleet.load_diurnal(n_bar=N, amp=A, t=t, t_peak=3600, period=86400)
    assert fleet.excess_cosine(N, A, reserve) == pytest.approx(float(fleet.excess_of(load, reserve)[0]),
                                                               rel=1e-4, abs=1e-6)


def test_excess_outside_the_swing_needs_the_piecewise_function():
    # the closed form holds inside the swing only; outside it is refused, not extrapolated
    from inference_arithmetic.core.formula import InputError
    with pytest.raises(InputError, match="domain"):
        fleet.excess_nodes(n_bar=N, amp=A, r_res=0.5 * N)
    with pytest.raises(ValueError, match="negative"):
        fleet.excess_cosine(N, A, -1)


def test_excess_at_the_ends_of_the_swing():
    assert fleet.excess_nodes(n_bar=N, amp=A, r_res=N * (1 + A)) == pytest.approx(0, abs=1e-9)
    # at the trough the whole load above it is rented: mean minus trough
    assert fleet.excess_nodes(n_bar=N, amp=A, r_res=N * (1 - A)) == pytest.approx(N * A)


def test_half_price_reserves_the_mean():
    assert fleet.optimal_reserve(n_bar=N, amp=A, p_res=1, p_od=2) == pytest.approx(N)


def test_limits_flat_load_and_price_ratio():
    assert fleet.best_reserve(N, 0.0, 1, 2) == N              # flat load: reserve it all
    assert fleet.best_reserve(N, A, 2, 2) == 0.0              # equal prices: renting is no dearer
    assert fleet.best_reserve(N, A, 3, 2) == 0.0              # on demand cheaper: reserve nothing
    assert fleet.optimal_reserve_quantile([1, 2, 3], 1.5) == 0.0
    with pytest.raises(ValueError):
        fleet.best_reserve(-1, A, 1, 2)
    with pytest.raises(ValueError):
        fleet.optimal_reserve_quantile([1, 2], 0)


def test_full_lending_reserves_the_peak_and_zero_lending_changes_nothing():
    assert fleet.optimal_reserve_lending(n_bar=N, amp=A, p_res=1, p_od=2, lend=1) == pytest.approx(N * (1 + A))
    assert fleet.optimal_reserve_lending(n_bar=N, amp=A, p_res=1, p_od=2, lend=0) == pytest.approx(
        fleet.optimal_reserve(n_bar=N, amp=A, p_res=1, p_od=2))


def test_mix_cost_hand_value_and_optimum_is_cheapest():
    assert fleet.mix_cost(G=8, T=86400, p_res=2 / 3600, p_od=4 / 3600, r_res=200, X_over=30) == pytest.approx(
        8 * 24 * (2 * 200 + 4 * 30))
    def day(r):
        X = fleet.excess_nodes(n_bar=N, amp=A, r_res=r)
        return fleet.mix_cost(G=8, T=86400, p_res=1, p_od=2, r_res=r, X_over=X)
    best = fleet.optimal_reserve(n_bar=N, amp=A, p_res=1, p_od=2)
    for r in np.linspace(N * (1 - A) + 1, N * (1 + A) - 1, 25):
        assert day(best) <= day(r) + 1e-6
