"""Bad input: every case raises the right exception with a message naming the argument."""

from __future__ import annotations

import numpy as np
import pytest

import mlcore as mc

RNG = np.random.default_rng(0)
P = mc.init_params([3, 4, 2], np.random.default_rng(0))  # 3 features, 2 outputs
X = np.random.default_rng(1).standard_normal((5, 3))
Y = np.random.default_rng(2).standard_normal((5, 2))
LABELS = np.array([0, 1, 1, 0, 1])


def bad_params_shape():
    p = mc.params.copy_params(P)
    p[1]["W"] = np.zeros((2, 5))
    return p


def bad_bias_shape():
    p = mc.params.copy_params(P)
    p[0]["b"] = np.zeros((4, 1))
    return p


def nan_params():
    p = mc.params.copy_params(P)
    p[1]["b"][0] = np.nan
    return p


def mixed_dtype_params():
    p = mc.params.copy_params(P)
    p[0]["b"] = p[0]["b"].astype(np.float32)
    return p


def nan_X():
    Xn = X.copy()
    Xn[2, 1] = np.inf
    return Xn


def train(**kw):
    args = dict(activations="tanh", lr=0.1, num_epochs=1, batch_size=2, rng=RNG)
    args.update(kw)
    Xa, Ya = args.pop("X", X), args.pop("Y", Y)
    return mc.train(args.pop("params", P), Xa, Ya, **args)


CE = "softmax_cross_entropy"

# (id, callable, exception type, regex that the message must match)
CASES = [
    ("Y-length", lambda: mc.gradient(P, X, Y[:4]), ValueError, r"Y must have shape \(5, 2\)"),
    ("X-features", lambda: mc.gradient(P, X[:, :2], Y), ValueError, r"X must have 3 features"),
    ("X-1d", lambda: mc.forward(P, X[0]), ValueError, r"X must be 2-D .*got shape \(3,\)"),
    ("X-empty", lambda: mc.forward(P, X[:0]), ValueError, r"X must contain at least one"),
    ("X-strings", lambda: mc.forward(P, [["a", "b", "c"]]), TypeError, r"X must be a real"),
    ("X-nonfinite", lambda: mc.gradient(P, nan_X(), Y), ValueError, r"X must be finite"),
    ("Y-nonfinite", lambda: mc.cost(P, X, Y * np.nan), ValueError, r"Y must be finite"),
    ("W-shape", lambda: mc.forward(bad_params_shape(), X), ValueError,
     r"params\[1\]\['W'\] must have shape \(2, 4\).*got shape \(2, 5\)"),
    ("b-shape", lambda: mc.forward(bad_bias_shape(), X), ValueError,
     r"params\[0\]\['b'\] must have shape \(4,\); got shape \(4, 1\)"),
    ("params-dict", lambda: mc.forward(P[0], X), TypeError, r"params must be a list"),
    ("params-empty", lambda: mc.forward([], X), ValueError, r"params must have at least one"),
    ("params-missing-b", lambda: mc.forward([{"W": P[0]["W"]}], X), TypeError,
     r"params\[0\] must be a dict with keys 'W' and 'b'"),
    ("params-int", lambda: mc.forward([{"W": np.ones((2, 3), int), "b": np.zeros(2)}], X),
     TypeError, r"params\[0\]\['W'\] must be a float numpy array"),
    ("params-nan", lambda: mc.forward(nan_params(), X), ValueError,
     r"params\[1\]\['b'\] must be finite"),
    ("params-dtype", lambda: mc.forward(mixed_dtype_params(), X), TypeError,
     r"params\[0\] must have dtype float64"),
    ("labels-high", lambda: mc.gradient(P, X, np.array([0, 1, 2, 0, 1]), "tanh", CE),
     ValueError, r"Y must be integer labels in \[0, 2\); got values in \[0, 2\]"),
    ("labels-negative", lambda: mc.cost(P, X, np.array([0, -1, 1, 0, 1]), "tanh", CE),
     ValueError, r"Y must be integer labels in \[0, 2\)"),
    ("labels-float", lambda: mc.cost(P, X, LABELS.astype(float), "tanh", CE), TypeError,
     r"Y as class labels must have an integer dtype"),
    ("labels-length", lambda: mc.cost(P, X, LABELS[:3], "tanh", CE), ValueError,
     r"Y must have 5 labels"),
    ("onehot-rows", lambda: mc.cost(P, X, np.ones((5, 2)), "tanh", CE), ValueError,
     r"Y as one-hot/probability rows must .* sum to 1"),
    ("CE-output-activation", lambda: mc.cost(P, X, LABELS, ("tanh", "sigmoid"), CE),
     ValueError, r"activations: the output layer must be 'identity'"),
    ("activation-unknown", lambda: mc.forward(P, X, "swish"), ValueError,
     r"activations must be one of .*got 'swish'"),
    ("activation-count", lambda: mc.forward(P, X, ["tanh"]), ValueError,
     r"activations must name one activation per layer \(2\); got 1"),
    ("activation-type", lambda: mc.forward(P, X, 3), TypeError, r"activations must be a str"),
    ("activation-list-type", lambda: mc.forward(P, X, [["tanh"], "identity"]), TypeError,
     r"activations must be a str or a list of str"),
    ("loss-unknown", lambda: mc.cost(P, X, Y, "tanh", "hinge"), ValueError,
     r"loss must be one of .*got 'hinge'"),
    ("reduction-unknown", lambda: mc.cost(P, X, Y, "tanh", "squared_error", "avg"), ValueError,
     r"reduction must be one of \['mean', 'sum'\]; got 'avg'"),
    ("batch-size-0", lambda: train(batch_size=0), ValueError, r"batch_size must be >= 1; got 0"),
    ("batch-size-gt-N", lambda: train(batch_size=6), ValueError,
     r"batch_size must be <= N = 5 .*got 6"),
    ("batch-size-float", lambda: train(batch_size=2.0), TypeError, r"batch_size must be an int"),
    ("lr-zero", lambda: train(lr=0.0), ValueError, r"lr must be > 0; got 0.0"),
    ("lr-negative", lambda: train(lr=-1), ValueError, r"lr must be > 0; got -1.0"),
    ("lr-nan", lambda: train(lr=float("nan")), ValueError, r"lr must be finite"),
    ("lr-str", lambda: train(lr="0.1"), TypeError, r"lr must be a real number"),
    ("num-epochs-0", lambda: train(num_epochs=0), ValueError, r"num_epochs must be >= 1"),
    ("shuffle-unknown", lambda: train(shuffle="always"), ValueError,
     r"shuffle must be one of .*got 'always'"),
    ("last-batch-unknown", lambda: train(last_batch="pad"), ValueError,
     r"last_batch must be one of .*got 'pad'"),
    ("rng-legacy", lambda: train(rng=np.random.RandomState(0)), TypeError,
     r"rng must be a numpy.random.Generator"),
    ("momentum-1", lambda: mc.optim.SGD(momentum=1.0), ValueError, r"momentum must be < 1.0"),
    ("optimizer-type", lambda: train(optimizer="adam"), TypeError,
     r"optimizer must be an update rule"),
    ("adam-beta", lambda: mc.optim.Adam(beta2=1.0), ValueError, r"beta2 must be < 1.0"),
    ("patience-no-validation", lambda: train(patience=3), ValueError,
     r"patience needs validation"),
    ("validation-shape", lambda: train(validation=(X[:, :2], Y)), ValueError, r"X must have"),
    ("average-type", lambda: train(average="ema"), TypeError, r"average must be an IterateAverage"),
    ("average-kind", lambda: mc.averaging.IterateAverage("mean"), ValueError,
     r"kind must be one of"),
    ("schedule-factor", lambda: mc.schedules.step_decay(0.1, 5, factor=2.0), ValueError,
     r"factor must be <= 1"),
    ("record-unknown", lambda: train(record="batch"), ValueError, r"record must be one of"),
    ("divergence-mode", lambda: train(on_divergence="warn"), ValueError,
     r"on_divergence must be one of"),
    ("theta-length", lambda: mc.unflatten_params(np.zeros(5), P), ValueError,
     r"theta must have shape \(26,\) to match like; got shape \(5,\)"),
    ("sizes-short", lambda: mc.init_params([3], RNG), ValueError, r"sizes must have at least 2"),
    ("sizes-zero", lambda: mc.init_params([3, 0], RNG), ValueError, r"sizes\[1\] must be >= 1"),
    ("init-unknown", lambda: mc.init_params([3, 2], RNG, init="glorot"), ValueError,
     r"init must be one of"),
    ("init-rng", lambda: mc.init_params([3, 2], 0), TypeError, r"rng must be a numpy.random"),
    ("one-hot-range", lambda: mc.losses.one_hot([0, 3], 3), ValueError,
     r"labels must be integer labels in \[0, 3\)"),
    ("cache-type", lambda: mc.deltas(P, (X,), Y), TypeError, r"cache must be the Cache"),
    ("draws", lambda: mc.noise.minibatch_means(np.ones((5, 2)), 2, 0, RNG), ValueError,
     r"num_draws must be >= 1"),
    ("draws-batch", lambda: mc.noise.minibatch_means(np.ones((5, 2)), 9, 3, RNG), ValueError,
     r"batch_size must be >= 1 and <= 5; got 9"),
    ("avg-subset-index", lambda: mc.federated_averaging(P, X, Y, lr=0.1, subsets=[[0, 7]]),
     ValueError, r"subsets\[0\] must index rows in \[0, 5\)"),
    ("avg-num-subsets", lambda: mc.federated_averaging(P, X, Y, lr=0.1, num_subsets=6), ValueError,
     r"num_subsets must be >= 1 and <= 5; got 6"),
    ("avg-weighting", lambda: mc.federated_averaging(P, X, Y, lr=0.1, weighting="equal"),
     ValueError, r"weighting must be one of"),
    ("avg-weights-shape", lambda: mc.average_params([P, P], weights=[1.0]), ValueError,
     r"weights must have shape \(2,\)"),
    ("data-num-examples", lambda: mc.make_line(0, RNG), ValueError,
     r"num_examples must be >= 1; got 0"),
    ("data-noise", lambda: mc.make_moons(10, RNG, noise=-1), ValueError, r"noise must be >= 0"),
    ("digits-test-size", lambda: mc.load_digits(RNG, test_size=1.5), ValueError,
     r"test_size must be < 1.0"),
    ("predicted-trace-B", lambda: mc.noise.predicted_minibatch_trace(1.0, 10, 11), ValueError,
     r"batch_size must be in \[1, 10\]"),
    ("per-example-out", lambda: mc.per_example_gradients(P, X, Y, out=[{"W": np.zeros((4, 4, 3)),
                                                                    "b": np.zeros((4, 4))}] * 2),
     ValueError, r"out\[0\]\['W'\] must be an array of shape \(5, 4, 3\)"),
    ("sgd-step-velocity", lambda: mc.optim.sgd_step(mc.params.copy_params(P), P, 0.1, momentum=0.5),
     ValueError, r"velocity must be given"),
    ("sgd-step-shapes", lambda: mc.optim.sgd_step(mc.params.copy_params(P), P[:1], 0.1), ValueError,
     r"grads must have the layer shapes"),
]  # fmt: skip


@pytest.mark.parametrize("fn,exc,pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_clear_error(fn, exc, pattern):
    with pytest.raises(exc, match=pattern):
        fn()


def test_enough_cases():
    assert len(CASES) >= 20


def test_divergence_is_never_silent():
    rng = np.random.default_rng(0)
    Xl, yl, _ = mc.make_line(50, rng)
    p = mc.init_params([1, 1], rng)
    with pytest.raises(FloatingPointError, match=r"lr=10.0 is probably too large"):
        mc.train(p, Xl, yl, activations="identity", lr=10.0, num_epochs=300, shuffle="never")
    _, hist = mc.train(p, Xl, yl, activations="identity", lr=10.0, num_epochs=300,
                       shuffle="never", on_divergence="stop")  # fmt: skip
    assert hist.diverged and not np.isfinite(hist.epoch_loss[-1])
    assert np.isfinite(hist.epoch_loss[:-1]).all() and len(hist.epoch_loss) < 301


def test_check_false_skips_validation_but_valid_input_gives_same_result():
    Xc, Yc = mc.mlp.check_model(P, X, Y)
    np.testing.assert_array_equal(mc.cost(P, Xc, Yc, check=False), mc.cost(P, X, Y))
