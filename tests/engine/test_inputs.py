"""Gradients of the input (mlcore.inputs): objectives checked by central differences, the
sign attack against its formula, the flipping epsilon against a scan, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

import mlcore as mc
from mlcore import inputs

SIZES = (16, 7, 6, 5)  # 4 x 4 images, two hidden layers, 5 classes
NET = dict(activations="tanh")


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(0)
    params = mc.init_params(SIZES, rng)
    for p in params:
        p["b"][:] = 0.3 * rng.standard_normal(p["b"].shape)
    X = rng.uniform(-1.0, 1.0, size=(6, SIZES[0]))
    labels = rng.integers(0, SIZES[-1], size=6)
    return params, X, labels


def numerical(f, X, eps=1e-6):
    """Central differences of every row's value with respect to that row's features."""
    G = np.zeros_like(X)
    for j in range(X.shape[1]):
        Xp, Xm = X.copy(), X.copy()
        Xp[:, j] += eps
        Xm[:, j] -= eps
        G[:, j] = (f(Xp)[0] - f(Xm)[0]) / (2 * eps)
    return G


def assert_gradient(f, X, rtol=1e-6):
    value, G = f(X)
    assert value.shape == (X.shape[0],) and G.shape == X.shape
    G_num = numerical(f, X)
    scale = np.abs(G_num).max()
    assert scale > 1e-3, "the check would be vacuous"
    np.testing.assert_allclose(G, G_num, rtol=0, atol=rtol * scale)


@pytest.mark.parametrize("kind", ["score", "log_prob"])
def test_class_score_gradient_matches_central_differences(case, kind):
    params, X, labels = case
    f = lambda A: inputs.class_score_gradient(params, A, labels, kind=kind, **NET)  # noqa: E731
    assert_gradient(f, X)
    Z = mc.predict(params, X, **NET)
    rows = np.arange(len(X))
    expected = Z[rows, labels]
    if kind == "log_prob":
        expected = expected - np.log(np.exp(Z).sum(axis=1))
    np.testing.assert_allclose(f(X)[0], expected, rtol=1e-12)


def test_log_prob_gradient_is_minus_the_loss_gradient(case):
    params, X, labels = case
    _, G = inputs.class_score_gradient(params, X, labels, kind="log_prob", **NET)
    np.testing.assert_allclose(
        G, -mc.input_gradient(params, X, labels, loss="softmax_cross_entropy", **NET)
    )


@pytest.mark.parametrize("kind", ["score", "log_prob"])
def test_class_objective_matches_central_differences(case, kind):
    params, X, labels = case
    f = lambda A: inputs.class_objective(params, A, labels, 0.3, kind=kind, **NET)  # noqa: E731
    assert_gradient(f, X)
    S, _ = inputs.class_score_gradient(params, X, labels, kind=kind, **NET)
    np.testing.assert_allclose(f(X)[0], S - 0.3 * (X**2).sum(axis=1))


def test_patch_gram_against_a_loop():
    rng = np.random.default_rng(1)
    U = rng.uniform(size=(3, 20))  # 4 x 5 images
    G = inputs.patch_gram(U, shape=(4, 5), size=2)
    assert G.shape == (3, 4, 4)
    for n in range(3):
        img = U[n].reshape(4, 5)
        patches = [img[i : i + 2, j : j + 2].ravel() for i in range(3) for j in range(4)]
        expected = sum(np.outer(p, p) for p in patches) / len(patches)
        np.testing.assert_allclose(G[n], expected)
    # the order of the patches does not matter: a flipped image has the same statistics
    # up to the same flip inside each patch
    flipped = U.reshape(3, 4, 5)[:, ::-1, ::-1].reshape(3, 20)
    G_flipped = inputs.patch_gram(flipped, shape=(4, 5), size=2)
    np.testing.assert_allclose(G_flipped, G[:, ::-1, ::-1])


@pytest.mark.parametrize("layer", [1, 2])
def test_feature_matching_objective_matches_central_differences(case, layer):
    params, X, _ = case
    rng = np.random.default_rng(2)
    content = np.tanh(rng.standard_normal((len(X), SIZES[layer])))
    style = inputs.patch_gram(rng.uniform(size=(len(X), 16)), shape=(4, 4), size=2)
    scale, offset = rng.uniform(0.5, 2.0, 16), rng.uniform(-1, 1, 16)

    def f(A):
        return inputs.feature_matching_objective(
            params, A, layer=layer, content=content, style=style, style_weight=2.0,
            to_pixels=(scale, offset), shape=(4, 4), size=2, **NET,
        )  # fmt: skip

    assert_gradient(f, X)
    # the value from its definition
    a = X
    for p in params[:layer]:
        a = np.tanh(a @ p["W"].T + p["b"])
    G = inputs.patch_gram(scale * X + offset, shape=(4, 4), size=2)
    expected = 0.5 * ((a - content) ** 2).sum(axis=1) + 2.0 * ((G - style) ** 2).sum(axis=(1, 2))
    np.testing.assert_allclose(f(X)[0], expected, rtol=1e-12)


def test_fgsm_moves_every_feature_by_eps_along_the_gradient_sign(case):
    params, X, labels = case
    loss = "softmax_cross_entropy"
    G = mc.input_gradient(params, X, labels, loss=loss, **NET)
    Xa = inputs.fgsm(params, X, labels, 0.05, loss=loss, **NET)
    np.testing.assert_allclose(Xa - X, 0.05 * np.sign(G), atol=1e-15)
    # to first order the loss rises by eps * ||grad||_1; the sign step rises it
    E0 = mc.losses.softmax_cross_entropy(mc.predict(params, X, **NET), labels)
    E1 = mc.losses.softmax_cross_entropy(mc.predict(params, Xa, **NET), labels)
    assert (E1 > E0).all()
    np.testing.assert_allclose(E1 - E0, 0.05 * np.abs(G).sum(axis=1), rtol=0.1)
    # bounds clip, eps = 0 changes nothing
    lo, hi = -np.ones(16), np.ones(16)
    Xb = inputs.fgsm(params, X, labels, 0.5, loss=loss, bounds=(lo, hi), **NET)
    assert (Xb >= lo).all() and (Xb <= hi).all()
    np.testing.assert_allclose(Xb, np.clip(X + 0.5 * np.sign(G), lo, hi))
    np.testing.assert_array_equal(inputs.fgsm(params, X, labels, 0.0, loss=loss, **NET), X)


def test_smallest_flipping_eps_agrees_with_a_scan(case):
    params, X, labels = case
    bounds = (-1.0, 1.0)
    eps = inputs.smallest_flipping_eps(params, X, labels, 2.0, bounds=bounds, tol=1e-5, **NET)
    clean = mc.predict(params, X, **NET).argmax(axis=1)
    G = mc.input_gradient(params, X, labels, loss="softmax_cross_entropy", **NET)

    def pred(e):
        return mc.predict(params, np.clip(X + e * np.sign(G), -1, 1), **NET).argmax(axis=1)

    assert np.isfinite(eps).sum() >= 3, "the check would be vacuous"
    scan = np.arange(1, 200_001) * 1e-5  # a finer, independent scan
    first = np.full(len(X), np.inf)
    for e in scan[::10]:  # step 1e-4 first, then refine
        new = np.isinf(first) & (pred(e) != clean)
        first[new] = e
    for n in np.flatnonzero(np.isfinite(eps)):
        assert pred(eps[n])[n] != clean[n]  # flips at the returned eps
        assert pred(eps[n] - 1e-5)[n] == clean[n]  # not just below it
        assert abs(eps[n] - first[n]) < 1e-4 + 1e-5
    # nothing up to eps_max: inf
    tiny = inputs.smallest_flipping_eps(params, X, labels, 1e-9, bounds=bounds, **NET)
    assert np.isinf(tiny).all()


def test_optimise_inputs_on_a_quadratic():
    target = np.array([[1.0, -2.0], [0.5, 3.0]])

    def f(X):  # J = ||x - t||^2 per row
        return ((X - target) ** 2).sum(axis=1), 2 * (X - target)

    X, values = inputs.optimise_inputs(f, np.zeros((2, 2)), lr=0.1, num_steps=30)
    # each step multiplies the distance to t by 1 - 2 lr = 0.8
    np.testing.assert_allclose(X, target * (1 - 0.8**30))
    np.testing.assert_allclose(values[:, 0], 5.0 * 0.64 ** np.arange(31))
    # bounds: the minimum inside the box is the clipped target
    Xb, _ = inputs.optimise_inputs(f, np.zeros((2, 2)), lr=0.1, num_steps=200,
                                   bounds=(-1.0, 1.0))  # fmt: skip
    np.testing.assert_allclose(Xb, np.clip(target, -1, 1), atol=1e-12)
    # maximising -J is minimising J
    Xm, vm = inputs.optimise_inputs(lambda A: tuple(-v for v in f(A)), np.zeros((2, 2)),
                                    lr=0.1, num_steps=30, maximise=True)  # fmt: skip
    np.testing.assert_allclose(Xm, X)
    np.testing.assert_allclose(vm, -values)


def test_class_visualisation_raises_the_class_score(case):
    params, _, _ = case
    classes = np.arange(SIZES[-1])
    X0 = np.zeros((SIZES[-1], SIZES[0]))
    X, values = inputs.optimise_inputs(
        lambda A: inputs.class_objective(params, A, classes, 0.01, kind="log_prob", **NET),
        X0, lr=0.3, num_steps=300, maximise=True, bounds=(-1.0, 1.0),
    )  # fmt: skip
    assert (values[-1] > values[0]).all() and (np.diff(values, axis=0) > -1e-12).all()
    assert (mc.predict(params, X, **NET).argmax(axis=1) == classes).all()


# ------------------------------------------------------------------------- bad input
def _params():
    return mc.init_params(SIZES, np.random.default_rng(0))


P = _params()
X = np.zeros((2, 16))
LAB = np.array([0, 1])
GRAM = np.zeros((2, 4, 4))
CONTENT = np.zeros((2, 7))


def _fm(**kw):
    args = dict(layer=1, content=CONTENT, style=GRAM, style_weight=1.0, shape=(4, 4))
    args.update(kw)
    return inputs.feature_matching_objective(P, X, **args)


BAD = [
    ("kind", lambda: inputs.class_score_gradient(P, X, LAB, kind="logit"), ValueError,
     r"kind must be one of \['log_prob', 'score'\]; got 'logit'"),
    ("classes-range", lambda: inputs.class_score_gradient(P, X, [0, 7]), ValueError,
     r"integer labels in \[0, 5\)"),
    ("tanh-output", lambda: inputs.class_score_gradient(P, X, LAB, activations=("tanh",) * 3),
     ValueError, r"output layer must be 'identity'"),
    ("eps-negative", lambda: inputs.fgsm(P, X, LAB, -0.1), ValueError, r"eps must be >= 0"),
    ("bounds-pair", lambda: inputs.fgsm(P, X, LAB, 0.1, bounds=(0.0,)), TypeError,
     r"bounds must be None or a pair"),
    ("bounds-shape", lambda: inputs.fgsm(P, X, LAB, 0.1, bounds=(np.zeros(3), 1.0)),
     ValueError, r"bounds lo must be a number or of shape \(16,\)"),
    ("bounds-order", lambda: inputs.fgsm(P, X, LAB, 0.1, bounds=(1.0, -1.0)), ValueError,
     r"lo < hi for every feature"),
    ("X-outside", lambda: inputs.fgsm(P, X + 2, LAB, 0.1, bounds=(-1.0, 1.0)), ValueError,
     r"X must lie within bounds; 32 entries"),
    ("eps-max", lambda: inputs.smallest_flipping_eps(P, X, LAB, 0.0), ValueError,
     r"eps_max must be > 0"),
    ("num-grid", lambda: inputs.smallest_flipping_eps(P, X, LAB, 1.0, num_grid=0), ValueError,
     r"num_grid must be >= 1"),
    ("l2", lambda: inputs.class_objective(P, X, LAB, -1.0), ValueError, r"l2 must be >= 0"),
    ("patch-size", lambda: inputs.patch_gram(X, shape=(4, 4), size=5), ValueError,
     r"size must be >= 1 and <= 4"),
    ("image-shape", lambda: inputs.patch_gram(X, shape=(3, 3)), ValueError,
     r"U must have 9 columns"),
    ("shape-type", lambda: inputs.patch_gram(X, shape=16), TypeError, r"shape must be a pair"),
    ("layer-output", lambda: _fm(layer=3), ValueError, r"layer must be >= 1 and <= 2"),
    ("style-shape", lambda: _fm(style=np.zeros((2, 9, 9))), ValueError,
     r"style must have shape \(2, 4, 4\)"),
    ("content-shape", lambda: _fm(content=np.zeros((2, 6))), ValueError,
     r"Y must have shape \(2, 7\)"),
    ("objective", lambda: inputs.optimise_inputs(None, X, lr=0.1, num_steps=1), TypeError,
     r"objective must be callable"),
    ("objective-shapes", lambda: inputs.optimise_inputs(lambda A: (A, A), X, lr=0.1,
                                                         num_steps=1), ValueError,
     r"objective must return values of shape \(2,\)"),
    ("start-outside", lambda: inputs.optimise_inputs(lambda A: (A[:, 0], A), X + 2, lr=0.1,
                                                      num_steps=1, bounds=(-1.0, 1.0)),
     ValueError, r"X0 must lie within bounds"),
    ("lr", lambda: inputs.optimise_inputs(lambda A: (A[:, 0], A), X, lr=0.0, num_steps=1),
     ValueError, r"lr must be > 0"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "call", "exc", "match"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_named(name, call, exc, match):
    with pytest.raises(exc, match=match):
        call()
