"""mlcore: the small numpy gradient engine of the book.

The public API, grouped by what it does (the notation is the book's, see
:mod:`mlcore.mlp`).  Everything here needs numpy only; the figures and
interactive widgets that draw it live in :mod:`mlcore.figures`, which is not
imported by ``import mlcore``.

Network
    :func:`init_params`, :func:`forward`, :func:`deltas`,
    :func:`gradient_from_deltas`, :func:`gradient`, :func:`cost`,
    :func:`predict`, :func:`accuracy`.
Per-example gradients
    :func:`per_example_gradients`, :func:`per_example_gradient_norms`,
    :func:`input_gradient`.
Training
    :func:`train`, :class:`History`, :func:`batch_schedule`; the update rules
    :class:`SGD` (with momentum) and :class:`Adam`; learning-rate schedules in
    :mod:`mlcore.schedules`.
Averaging weights
    :func:`average_params`, :func:`federated_averaging` (separate copies), and
    :class:`IterateAverage` (the iterates of one run).
Checking gradients
    :func:`gradient_check`, :func:`numerical_gradient`.
Parameter vectors
    :func:`flatten_params`, :func:`unflatten_params`, :func:`num_params`,
    :func:`zeros_like_params`.
Data
    :func:`load_digits`, :func:`make_line`, :func:`make_moons`.

Modules loaded with the package and used through their names: :mod:`mlcore.line` (the
two-parameter line of Parts I-II), :mod:`mlcore.noise` (minibatch gradient noise) and
:mod:`mlcore.schedules` (learning-rate schedules). Imported by name when needed:
:mod:`mlcore.accumulation` (gradient accumulation), :mod:`mlcore.sweeps` and
:mod:`mlcore.budgets` (batch-size x learning-rate sweeps), :mod:`mlcore.sampling`
(batches drawn with replacement), :mod:`mlcore.inputs` (gradients of the input:
saliency, the sign attack, optimising an input), :mod:`mlcore.privacy` (DP-SGD:
per-example clipping, noise and the privacy accountant), :mod:`mlcore.critical_batch`
(the gradient noise scale and the critical batch size), :mod:`mlcore.distributed`
(data-parallel and local
SGD on MPI processes, with :mod:`mlcore.mpirun`, :mod:`mlcore.digits_mpi` and the cost
model :mod:`mlcore.comm_model`).
"""

from . import line as line
from . import noise as noise
from . import schedules as schedules
from .averaging import IterateAverage, average_params, federated_averaging
from .data import load_digits, make_line, make_moons
from .gradcheck import gradient_check, numerical_gradient
from .mlp import accuracy, cost, deltas, forward, gradient, gradient_from_deltas, predict
from .optim import SGD, Adam
from .params import flatten_params, init_params, num_params, unflatten_params, zeros_like_params
from .per_example import input_gradient, per_example_gradient_norms, per_example_gradients
from .training import History, batch_schedule, train

__version__ = "0.2.0"

__all__ = [
    "SGD",
    "Adam",
    "History",
    "IterateAverage",
    "accuracy",
    "average_params",
    "batch_schedule",
    "cost",
    "deltas",
    "federated_averaging",
    "flatten_params",
    "forward",
    "gradient",
    "gradient_check",
    "gradient_from_deltas",
    "init_params",
    "input_gradient",
    "load_digits",
    "make_line",
    "make_moons",
    "num_params",
    "numerical_gradient",
    "per_example_gradient_norms",
    "per_example_gradients",
    "predict",
    "train",
    "unflatten_params",
    "zeros_like_params",
]
