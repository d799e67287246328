"""mlcore.accumulation: micro-batches add up to the large batch, when divided right."""

from __future__ import annotations

import numpy as np
import pytest
from _mlcore_helpers import make_case

import mlcore as mc
from mlcore.accumulation import accumulated_gradient


@pytest.mark.parametrize("micro", [1, 3, 4, 10])
def test_dividing_by_examples_equals_the_large_batch_gradient(micro):
    params, X, Y, acts = make_case((4, 6, 3), "tanh", "softmax_cross_entropy", batch=10)
    big = mc.flatten_params(mc.gradient(params, X, Y, acts, "softmax_cross_entropy"))
    acc = accumulated_gradient(params, X, Y, micro, acts, "softmax_cross_entropy")
    np.testing.assert_allclose(mc.flatten_params(acc), big, rtol=1e-12, atol=1e-15)


def test_dividing_by_micro_batches_is_right_only_for_equal_sizes():
    params, X, Y, acts = make_case((4, 6, 3), "tanh", "squared_error", batch=12)
    big = mc.flatten_params(mc.gradient(params, X, Y, acts))
    equal = accumulated_gradient(params, X, Y, 4, acts, divide_by="micro_batches")
    np.testing.assert_allclose(mc.flatten_params(equal), big, rtol=1e-12, atol=1e-15)
    unequal = accumulated_gradient(params, X, Y, 5, acts, divide_by="micro_batches")  # 5, 5, 2
    # the mistake weights the micro-batch means equally: (g1 + g2 + g3) / 3
    means = [mc.flatten_params(mc.gradient(params, X[a:b], Y[a:b], acts))
             for a, b in ((0, 5), (5, 10), (10, 12))]  # fmt: skip
    np.testing.assert_allclose(mc.flatten_params(unequal), np.mean(means, axis=0), rtol=1e-12)
    assert np.abs(mc.flatten_params(unequal) - big).max() > 1e-3
