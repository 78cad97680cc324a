"""Property tests of the library over random inputs."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from inference_arithmetic.step import bounds, comm
from inference_arithmetic.serving import fleet
from inference_arithmetic.core.formula import InputError

pos = st.floats(min_value=1e-3, max_value=1e15, allow_nan=False, allow_infinity=False)


@given(bw=pos, ctx=st.floats(1, 1e6), s=st.floats(1, 1e6), b=st.floats(1, 1e4), w=st.floats(0, 1e12))
def test_weights_never_help(bw, ctx, s, b, w):
    sol = bounds.sol_rate(accept=1, BW=bw, ctx=ctx, S_kv=s)
    with_w = bounds.gpu_rate(accept=1, batch=b, BW=bw, ctx=ctx, S_kv=s, W=w)
    assert with_w <= sol * (1 + 1e-12)


@given(n=st.integers(1, 10_000), k=st.integers(1, 64))
def test_destinations_bounded(n, k):
    d = comm.ep_destinations(N_ep=n, top_k=k)
    assert 1 - 1e-9 <= d <= min(n, k) + 1e-9


@given(x=st.floats(allow_nan=True, allow_infinity=True))
def test_bad_numbers_are_refused(x):
    if np.isfinite(x) and x >= 0:
        assert bounds.ridge_point(F=x, BW=1.0) == x
    else:
        with pytest.raises(InputError):
            bounds.ridge_point(F=x, BW=1.0)


@given(ratio=st.floats(0.01, 0.99), a=st.floats(0.01, 0.99))
def test_optimal_reserve_inside_the_swing(ratio, a):
    r = fleet.optimal_reserve(n_bar=100, amp=a, p_res=ratio, p_od=1)
    assert 100 * (1 - a) - 1e-9 <= r <= 100 * (1 + a) + 1e-9
    assert fleet.exceed_fraction(r_res=r, n_bar=100, amp=a) == pytest.approx(ratio, abs=1e-9)
