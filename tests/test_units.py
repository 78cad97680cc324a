import numpy as np
import pytest

from inference_arithmetic.core.units import UnitError, convert, dims_of, fmt, parse_unit, q


def test_decimal_and_binary_prefixes_differ():
    assert convert(1, "MB", "B") == 1e6
    assert convert(1, "MiB", "B") == 2**20
    assert convert(334, "MiB", "MB") == pytest.approx(350.224384)


def test_bandwidth_and_flops():
    assert convert(3.35, "TB/s", "B/s") == pytest.approx(3.35e12)
    assert convert(400, "Gb/s", "GB/s") == pytest.approx(50)
    assert convert(989, "TFLOP/s", "FLOP/s") == pytest.approx(9.89e14)


def test_prices_and_time():
    assert convert(2, "USD/GPU/h", "USD/s") == pytest.approx(2 / 3600)
    assert convert(2.19, "USD/Mtok", "USD/token") == pytest.approx(2.19e-6)
    assert convert(1, "day", "h") == 24


def test_counts_are_dimensionless():
    assert dims_of("token/s/GPU") == dims_of("1/s")
    assert dims_of("B/token") == dims_of("B")


def test_cross_dimension_refused():
    with pytest.raises(UnitError):
        convert(1, "GB", "GB/s")
    with pytest.raises(UnitError):
        convert(1, "FLOP/s", "B/s")


@pytest.mark.parametrize("bad", ["", "furlongs", "GB//s", "GB s", "3GB"])
def test_bad_units(bad):
    with pytest.raises(UnitError):
        parse_unit(bad)


def test_quantity():
    x = q(334, "MiB")
    assert x.si == 334 * 2**20
    assert x.to("MB") == pytest.approx(350.224384)
    with pytest.raises(UnitError):
        q(float("nan"), "B")
    with pytest.raises(UnitError):
        x.to("s")


def test_fmt():
    assert fmt(9555.31, "token/s") == "9,555 token/s"
    assert fmt(0.0123) == "0.0123"
    assert np.isclose(convert(np.array([1.0, 2.0]), "GB", "B"), [1e9, 2e9]).all()
