import dataclasses

import pytest

from inference_arithmetic.evidence import published


@pytest.mark.parametrize("key", list(published.FIGURES))
def test_every_figure_reproduces(key):
    assert published.check(key).ok


def test_rounding_halfwidth():
    assert published.rounding_halfwidth(608) == 0.5
    assert published.rounding_halfwidth(73700) == 50
    assert published.rounding_halfwidth(226.75) == 0.005


def test_corners_range():
    lo, hi = published.corners_range(lambda a, b: a - b, {"a": 10, "b": 3}, {"a": 1, "b": 1})
    assert (lo, hi) == (5, 9)


def test_a_drift_is_caught(monkeypatch):
    fig = published.FIGURES["daily_cost"]
    monkeypatch.setitem(published.FIGURES, "daily_cost",
                        dataclasses.replace(fig, compute=lambda: fig.compute() * 1.01))
    with pytest.raises(AssertionError, match="DRIFT"):
        published.check("daily_cost")


def test_residuals_are_rounding():
    # the recomputed revenue differs from DeepSeek's, but by less than the rounding allows
    res = published.check("revenue")
    assert res.value != res.published and res.low <= res.published <= res.high
