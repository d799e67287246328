"""The type aliases of the engine's signatures, in one place.

Arrays are :data:`numpy.typing.NDArray`; a network's parameters (and its
gradients) are a list with one dict per layer, ``{"W": (n_l, n_{l-1}), "b": (n_l,)}``.
The string options are :data:`typing.Literal` types for type checkers; at run time
the functions still validate every value and name the accepted ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, TypeAlias

import numpy as np
from numpy.typing import NDArray

#: A floating-point array (float64, or float32 parameters and their results).
FloatArray: TypeAlias = NDArray[np.floating]
#: An array of indices or integer labels.
IntArray: TypeAlias = NDArray[np.intp]
#: One layer's parameters (or gradients): ``{"W": (n_l, n_{l-1}), "b": (n_l,)}``.
Layer: TypeAlias = dict[str, FloatArray]
#: The parameters (or gradients) of a network, ``params[l - 1]`` for layer ``l``.
Params: TypeAlias = list[Layer]

#: Names of :data:`mlcore.activations.ACTIVATIONS`.
ActivationName: TypeAlias = Literal["identity", "sigmoid", "tanh", "relu"]
#: One name for every hidden layer (identity output), or one name per layer.
Activations: TypeAlias = ActivationName | Sequence[ActivationName]
#: Names of :data:`mlcore.losses.LOSSES`.
LossName: TypeAlias = Literal["squared_error", "softmax_cross_entropy"]
#: :data:`mlcore.losses.REDUCTIONS`: the cost is the sum or the mean of the per-example losses.
Reduction: TypeAlias = Literal["sum", "mean"]

#: :data:`mlcore.params.INITS`.
Init: TypeAlias = Literal["xavier", "he", "normal", "zeros"]
#: :data:`mlcore.training.SHUFFLES`.
Shuffle: TypeAlias = Literal["every_epoch", "once", "never"]
#: :data:`mlcore.training.LAST_BATCH`.
LastBatch: TypeAlias = Literal["keep", "weighted", "drop"]
#: :data:`mlcore.training.RECORDS`.
Record: TypeAlias = Literal["epoch", "step"]
#: What :func:`mlcore.training.train` does when the cost becomes NaN or infinite.
OnDivergence: TypeAlias = Literal["raise", "stop"]
#: :data:`mlcore.averaging.WEIGHTINGS`.
Weighting: TypeAlias = Literal["size", "uniform"]
