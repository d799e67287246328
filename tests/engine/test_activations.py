"""mlcore.activations: values and derivatives, exact in the tails."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from mlcore.activations import ACTIVATIONS, sigmoid, sigmoid_prime

TINY = np.finfo(np.float64).tiny  # smallest normal float64


def test_sigmoid_is_exact_to_rounding_from_minus_745_to_709():
    z = np.concatenate([np.linspace(-745.0, 709.0, 400_001), [-745.0, -30.0, 0.0, 30.0, 709.0]])
    a, ref = sigmoid(z), expit(z)
    normal = ref >= TINY
    rel = np.abs(a - ref)[normal] / ref[normal]
    assert rel.max() <= 1e-14
    # below z = -708.4 the value is subnormal: sigma(z) = e^z / (1 + e^z) rounds to exp(z),
    # which numpy computes correctly rounded (scipy's expit flushes it to 0 below -709.78)
    np.testing.assert_array_equal(a[~normal], np.exp(z[~normal]))
    assert (a > 0).all() and (a <= 1).all()


def test_sigmoid_derivative_is_exact_in_both_tails():
    z = np.linspace(-745.0, 709.0, 400_001)
    d = sigmoid_prime(z, sigmoid(z))
    ref = expit(z) * expit(-z)  # sigma'(z) = sigma(z) sigma(-z), no cancellation
    normal = ref >= TINY
    assert (np.abs(d - ref)[normal] / ref[normal]).max() <= 1e-14
    np.testing.assert_array_equal(d[z < -709], np.exp(z[z < -709]))  # subnormal: e^z (1 + e^z)^-2
    # the old formula a (1 - a) loses all precision for large z; this one does not
    z30 = np.array([30.0, 36.0, 40.0])
    assert np.allclose(sigmoid_prime(z30, sigmoid(z30)), np.exp(-z30), rtol=1e-12)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_derivative_matches_central_differences(name):
    act = ACTIVATIONS[name]
    z = np.linspace(-4, 4, 81) + 0.013  # avoid relu's kink at 0
    h = 1e-6
    numeric = (act.f(z + h) - act.f(z - h)) / (2 * h)
    np.testing.assert_allclose(act.df(z, act.f(z)) * np.ones_like(z), numeric, rtol=1e-7, atol=1e-9)


def test_sigmoid_keeps_float32():
    z = np.array([-50.0, 0.0, 50.0], dtype=np.float32)
    assert sigmoid(z).dtype == np.float32 and sigmoid_prime(z, sigmoid(z)).dtype == np.float32
