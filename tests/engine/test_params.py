"""mlcore.params: parameter lists."""

from __future__ import annotations

import numpy as np
import pytest

import mlcore
from mlcore.params import permute_hidden


def test_permute_hidden_keeps_the_function():
    rng = np.random.default_rng(1)
    params = mlcore.init_params([3, 5, 2], rng)
    X = rng.standard_normal((7, 3))
    perm = rng.permutation(5)
    q = permute_hidden(params, perm)
    assert np.allclose(mlcore.predict(params, X), mlcore.predict(q, X))
    assert not np.allclose(q[0]["W"], params[0]["W"])
    with pytest.raises(ValueError, match="permutation"):
        permute_hidden(params, [0, 0, 1, 2, 3])
