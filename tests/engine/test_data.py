"""Data sets (seeded, shapes, known answers) and plot helpers (they draw what they say)."""

from __future__ import annotations

import numpy as np
import pytest

import mlcore as mc


def test_make_line_known_answer_and_reproducible():
    X, y, true = mc.make_line(500, np.random.default_rng(0), w=2.0, b=-1.0, noise=0.1)
    X2, y2, _ = mc.make_line(500, np.random.default_rng(0), w=2.0, b=-1.0, noise=0.1)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert X.shape == (500, 1) and y.shape == (500, 1)
    ls = mc.data.least_squares(X, y)
    assert ls[0]["W"][0, 0] == pytest.approx(2.0, abs=0.05)
    assert ls[0]["b"][0] == pytest.approx(-1.0, abs=0.05)
    assert true[0]["W"].shape == (1, 1) and true[0]["b"].shape == (1,)


def test_least_squares_is_the_minimum_of_the_cost():
    X, y, _ = mc.data.make_linear_regression(
        50, np.random.default_rng(1), num_features=2, noise=0.5
    )
    ls = mc.data.least_squares(X, y)
    g = mc.gradient(ls, X, y, "identity")
    assert np.abs(mc.flatten_params(g)).max() < 1e-10  # gradient vanishes at the minimum


def test_linear_regression_given_weights():
    X, y, true = mc.data.make_linear_regression(20, np.random.default_rng(2), num_features=3,
                                           noise=0.0, W=[1.0, -2.0, 0.5], b=3.0)  # fmt: skip
    np.testing.assert_allclose(y, X @ np.array([[1.0, -2.0, 0.5]]).T + 3.0)
    np.testing.assert_allclose(mc.predict(true, X, "identity"), y)


@pytest.mark.parametrize("maker", [mc.make_moons, mc.data.make_spirals])
def test_classification_sets(maker):
    X, y = maker(101, np.random.default_rng(3))
    assert X.shape == (101, 2) and y.shape == (101,) and y.dtype.kind == "i"
    assert set(np.unique(y)) == {0, 1}
    X2, y2 = maker(101, np.random.default_rng(3))
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)


def test_digits_split_and_standardisation():
    Xtr, Xte, ytr, yte = mc.load_digits(np.random.default_rng(0))
    assert Xtr.shape == (1438, 64) and Xte.shape == (359, 64)
    assert ytr.shape == (1438,) and set(np.unique(ytr)) == set(range(10))
    np.testing.assert_allclose(Xtr.mean(axis=0), 0.0, atol=1e-12)
    std = Xtr.std(axis=0)
    assert np.all((np.abs(std - 1) < 1e-12) | (std == 0))
    a = mc.load_digits(np.random.default_rng(0), scale="unit", dtype=np.float32)
    assert a[0].dtype == np.float32 and a[0].min() >= 0 and a[0].max() <= 1
    b = mc.load_digits(np.random.default_rng(1))
    assert not np.array_equal(b[2], ytr)  # another seed, another split
