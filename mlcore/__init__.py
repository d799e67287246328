"""mlcore: the small numpy gradient engine of the book.

The public API in one place; see :mod:`mlcore.mlp` for the notation.
"""

from .activations import ACTIVATIONS
from .data import (
    least_squares,
    load_digits,
    make_line,
    make_linear_regression,
    make_moons,
    make_spirals,
    standardize,
)
from .losses import (
    LOSSES,
    REDUCTIONS,
    log_softmax,
    one_hot,
    reduce,
    softmax,
    softmax_cross_entropy,
    softmax_cross_entropy_grad,
    squared_error,
    squared_error_grad,
)
from .mlp import (
    Cache,
    accuracy,
    backprop,
    backward,
    batch_gradient,
    check_model,
    cost,
    cost_and_gradient,
    forward,
    gradient,
    input_gradient,
    per_example_grad_norms,
    per_example_gradients,
    predict,
    resolve_activations,
)
from .params import (
    copy_params,
    flatten_params,
    init_params,
    num_params,
    unflatten_params,
    zeros_like_params,
)
from .train import Batch, History, batch_schedule, sgd_update, train

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "REDUCTIONS",
    "Batch",
    "Cache",
    "History",
    "accuracy",
    "backprop",
    "backward",
    "batch_gradient",
    "batch_schedule",
    "check_model",
    "copy_params",
    "cost",
    "cost_and_gradient",
    "flatten_params",
    "forward",
    "gradient",
    "init_params",
    "input_gradient",
    "least_squares",
    "load_digits",
    "log_softmax",
    "make_line",
    "make_linear_regression",
    "make_moons",
    "make_spirals",
    "num_params",
    "one_hot",
    "per_example_grad_norms",
    "per_example_gradients",
    "predict",
    "reduce",
    "resolve_activations",
    "sgd_update",
    "softmax",
    "softmax_cross_entropy",
    "softmax_cross_entropy_grad",
    "squared_error",
    "squared_error_grad",
    "standardize",
    "train",
    "unflatten_params",
    "zeros_like_params",
]
