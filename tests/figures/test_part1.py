"""The Part I figures show what the engine computes.

Every test draws a figure, reads the plotted numbers back from the matplotlib objects
(:mod:`_readback`: line vertices, scatter offsets, arrow vectors, images, contour
vertices, numbers in titles and labels) and compares them with the engine, computed here
on its own: per-example gradients, central differences of the cost, predictions,
gradient shapes and values.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from _readback import all_gid, arrows, colour, contour_vertices, numbers, offsets, one_gid, xy

import mlcore
from mlcore.data import least_squares
from mlcore.figures import part1 as figures
from mlcore.line import line_cost

#: The current point (w, b) of the gradient pictures: not the minimiser, not symmetric.
POINT = np.array([0.3, 0.8])


def line_params(theta):
    """The parameters of the line w x + b at theta = (w, b)."""
    return [{"W": np.array([[theta[0]]]), "b": np.array([theta[1]])}]


def flat_gradient(params, X, y, activations="identity", reduction="mean"):
    return mlcore.flatten_params(mlcore.gradient(params, X, y, activations, reduction=reduction))


# ----------------------------------------------------------------- plot_example_gradients
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_example_gradients_arrows_are_the_gradients_uphill(line_data, reduction):
    """Thin arrows: each example's gradient (uphill, as the book says), thick: their mean/sum."""
    X, y = line_data
    N = len(X)
    params = line_params(POINT)
    G = mlcore.per_example_gradients(params, X, y, activations="identity", flat=True)
    ref = mlcore.flatten_params(
        mlcore.numerical_gradient(params, X, y, "identity", reduction=reduction)
    )
    scale = 0.05
    fig = figures.plot_example_gradients(
        X, y, POINT, G, ref, reduction=reduction, arrow_scale=scale
    )

    tails, vecs = arrows(one_gid(fig, "example-gradients"))
    np.testing.assert_allclose(tails, np.tile(POINT, (N, 1)), rtol=0, atol=0)
    np.testing.assert_allclose(vecs, scale * G, rtol=1e-12, atol=0)
    for n in range(N):  # the arrow is the gradient of E_n alone, by central differences
        g_n = mlcore.numerical_gradient(params, X[n : n + 1], y[n : n + 1], "identity")
        np.testing.assert_allclose(vecs[n] / scale, mlcore.flatten_params(g_n), atol=1e-7)
        up = line_cost(POINT + 1e-3 * vecs[n], X[n : n + 1], y[n : n + 1])
        assert up > line_cost(POINT, X[n : n + 1], y[n : n + 1]), f"arrow {n} points downhill"

    total = one_gid(fig, "total-gradient")
    tail, vec = arrows(total)
    np.testing.assert_allclose(tail, [POINT])
    np.testing.assert_allclose(
        vec[0], scale * flat_gradient(params, X, y, reduction=reduction), rtol=1e-12
    )
    assert reduction in total.get_label()
    # the ring of the independent estimate sits on the tip of the thick arrow
    ring = offsets(one_gid(fig, "reference-gradient"))
    np.testing.assert_allclose(ring, [POINT + scale * ref], rtol=1e-12)
    np.testing.assert_allclose(ring[0], tail[0] + vec[0], atol=1e-8)
    assert numbers(total.axes.get_title()) == [scale]

    # one colour per example: its arrow, its residual and its data point
    arrow_colours = one_gid(fig, "example-gradients").get_facecolor()
    residuals, points = all_gid(fig, "residual"), all_gid(fig, "data")
    assert len(residuals) == len(points) == N
    for n in range(N):
        assert np.allclose(arrow_colours[n, :3], colour(residuals[n]))
        assert np.allclose(arrow_colours[n, :3], colour(points[n]))
    assert len({tuple(c) for c in arrow_colours}) == N, "a colour of its own for each example"


def test_example_gradients_default_window_and_arrow_scale(line_data):
    X, y = line_data
    params = line_params(POINT)
    G = mlcore.per_example_gradients(params, X, y, activations="identity", flat=True)
    best = mlcore.flatten_params(least_squares(X, y))
    fig = figures.plot_example_gradients(X, y, POINT, G, minimum=best)
    ax = one_gid(fig, "example-gradients").axes
    (w_lo, w_hi), (b_lo, b_hi) = ax.get_xlim(), ax.get_ylim()
    span = (w_hi - w_lo) / 2
    assert np.allclose([(w_lo + w_hi) / 2, (b_lo + b_hi) / 2], POINT)  # centred on the point
    assert np.isclose(b_hi - b_lo, w_hi - w_lo)
    assert w_lo < best[0] < w_hi and b_lo < best[1] < b_hi, "the minimum is in the window"
    np.testing.assert_allclose(xy(one_gid(fig, "minimum")), [best])
    np.testing.assert_allclose(xy(one_gid(fig, "current-point")), [POINT])
    _, vecs = arrows(one_gid(fig, "example-gradients"))
    scale = vecs[:, 0] / G[:, 0]
    assert np.allclose(scale, scale[0]) and scale[0] > 0, "one positive scale for every arrow"
    assert np.isclose(np.linalg.norm(vecs, axis=1).max(), 0.8 * span)  # documented default
    assert numbers(ax.get_title()) == [float(f"{scale[0]:.2g}")]


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_example_gradients_contours_are_the_cost(line_data, reduction):
    """Every vertex of a contour line has the cost of its level (up to the grid's interpolation)."""
    X, y = line_data
    params = line_params(POINT)
    G = mlcore.per_example_gradients(params, X, y, activations="identity", flat=True)
    fig = figures.plot_example_gradients(X, y, POINT, G, reduction=reduction, span=1.5)
    ax = one_gid(fig, "example-gradients").axes
    contours = contour_vertices(ax)
    assert len(contours) >= 8
    # linear interpolation of a quadratic along a grid edge of width h errs by <= h^2/8 E''
    h = 2 * 1.5 / 159
    curvature = max(np.mean(X**2), 1.0) * (len(X) if reduction == "sum" else 1.0)
    tol = 1.01 * h**2 / 8 * curvature
    for level, vertices in contours:
        E = line_cost(vertices, X, y, reduction=reduction)
        assert np.abs(E - level).max() <= tol, f"contour {level:.4g} is not a level set of E"


def test_example_gradients_left_panel_is_the_data_and_the_line(line_data):
    X, y = line_data
    params = line_params(POINT)
    best = least_squares(X, y)
    G = mlcore.per_example_gradients(params, X, y, activations="identity", flat=True)
    fig = figures.plot_example_gradients(X, y, POINT, G, minimum=mlcore.flatten_params(best))
    for gid, p in (("current-line", params), ("best-line", best)):
        line = xy(one_gid(fig, gid))
        np.testing.assert_allclose(line[:, 1], mlcore.predict(p, line[:, :1], "identity")[:, 0])
        assert line[:, 0].min() <= X.min() and line[:, 0].max() >= X.max()
    y_hat = mlcore.predict(params, X, "identity")
    data = np.vstack([offsets(c) for c in all_gid(fig, "data")])
    np.testing.assert_allclose(data, np.column_stack([X, y]))
    for n, segment in enumerate(all_gid(fig, "residual")):  # from y_n to the prediction
        np.testing.assert_allclose(xy(segment), [[X[n, 0], y[n, 0]], [X[n, 0], y_hat[n, 0]]])


def test_example_gradients_rejects_a_wrong_shape(line_data):
    X, y = line_data
    G = np.zeros((len(X) - 1, 2))
    with pytest.raises(ValueError, match="per_example"):
        figures.plot_example_gradients(X, y, (0, 0), G)


# -------------------------------------------------------------------------- plot_tangents
def neuron_panels():
    """Slices of one neuron's E_n through its parameters, as the one-neuron chapter draws."""
    rng = np.random.default_rng(3)
    x, target = rng.normal(size=(1, 3)), np.array([[0.7]])
    params = mlcore.init_params((3, 1), rng)
    params[0]["b"][:] = 0.2
    theta0 = mlcore.flatten_params(params)
    t = np.linspace(-4, 4, 201)
    panels, slopes = [], []
    for act, k, name in (("sigmoid", 0, "w_1"), ("sigmoid", 3, "b"), ("identity", 1, "w_2")):
        thetas = theta0 + t[:, None] * np.eye(4)[k]
        E = [mlcore.cost(mlcore.unflatten_params(th, params), x, target, act) for th in thetas]
        slope = flat_gradient(params, x, target, act)[k]
        panels.append(
            dict(
                w=thetas[:, k],
                E=E,
                w0=theta0[k],
                E0=mlcore.cost(params, x, target, act),
                slope=slope,
                title=f"{act}, along ${name}$",
            )
        )
        slopes.append(slope)
    return panels, slopes


def test_tangents_touch_the_cost_with_the_derived_slope():
    panels, slopes = neuron_panels()
    fig = figures.plot_tangents(panels)
    assert len(fig.axes) == len(panels)
    for ax, p, slope in zip(fig.axes, panels, slopes, strict=True):
        curve = xy(one_gid(ax, "cost-slice"))
        np.testing.assert_allclose(curve, np.column_stack([p["w"], p["E"]]))
        point = xy(one_gid(ax, "touching-point"))[0]
        np.testing.assert_allclose(point, [p["w0"], p["E0"]])
        i = int(np.argmin(np.abs(curve[:, 0] - p["w0"])))
        assert np.isclose(curve[i, 1], point[1]), "the point is on the curve"
        (x0, y0), (x1, y1) = xy(one_gid(ax, "tangent"))
        drawn = (y1 - y0) / (x1 - x0)
        assert np.isclose(drawn, slope, rtol=1e-12, atol=0), "the line has the gradient's slope"
        assert np.isclose(y0 + drawn * (point[0] - x0), point[1]), "through the point"
        # it touches: the slope of the drawn curve itself at the point
        central = (curve[i + 1, 1] - curve[i - 1, 1]) / (curve[i + 1, 0] - curve[i - 1, 0])
        assert abs(drawn - central) < 2e-3
        assert numbers(one_gid(ax, "tangent").get_label()) == [round(slope, 3)]
        assert ax.get_title() == p["title"]


def test_tangents_need_a_panel():
    with pytest.raises(ValueError):
        figures.plot_tangents([])


# --------------------------------------------------------------------- plot_backprop_flow
def test_backprop_flow_shapes_and_directions():
    sizes = (3, 5, 4, 2)
    L = len(sizes) - 1
    rng = np.random.default_rng(0)
    params = mlcore.init_params(sizes, rng)
    grads = mlcore.gradient(params, rng.normal(size=(4, 3)), rng.normal(size=(4, 2)))
    fig = figures.plot_backprop_flow(sizes)
    ax = fig.axes[0]
    delta_x = {}  # layer -> x of its delta box
    for t in ax.texts:
        m = re.fullmatch(r"\$\\delta\^\{\((\d+)\)\}\$", t.get_text())
        if m:
            delta_x[int(m.group(1))] = t.get_position()[0]
    assert sorted(delta_x) == list(range(1, L + 1))

    shapes = all_gid(fig, "gradient-shape")
    assert len(shapes) == L
    for t in shapes:  # the shape printed under each layer is the shape of dE/dW^(l)
        layer = int(re.search(r"\\delta\^\{\((\d+)\)\}", t.get_text()).group(1))
        shape = tuple(int(s) for s in re.search(r"\((\d+), (\d+)\)", t.get_text()).groups())
        assert shape == grads[layer - 1]["W"].shape, f"layer {layer}"
        assert t.get_position()[0] == delta_x[layer], "under its own layer"

    forward, backward = all_gid(fig, "forward"), all_gid(fig, "backward")
    assert len(forward) == 2 * L and len(backward) == L
    for a in forward:  # left to right: head (xy) right of the tail (xyann)
        assert a.xy[0] > a.xyann[0] and a.xy[1] == a.xyann[1]
    for a in backward:  # right to left, ending at a delta box
        assert a.xy[0] < a.xyann[0]
    heads = np.sort([a.xy[0] for a in backward]) - [delta_x[l] for l in range(1, L + 1)]  # noqa: E741
    assert np.allclose(heads, heads[0]) and 0 < heads[0] < 0.5, "each at the right of its delta"


def test_backprop_flow_needs_a_layer():
    with pytest.raises(ValueError):
        figures.plot_backprop_flow((3,))


# -------------------------------------------------------------------- plot_gradient_check
@pytest.fixture(scope="module")
def small_net():
    rng = np.random.default_rng(1)
    params = mlcore.init_params((3, 4, 2), rng)
    return params, rng.normal(size=(6, 3)), rng.normal(size=(6, 2))


def entries(grad):
    return np.abs(np.concatenate([np.ravel(grad["W"]), np.ravel(grad["b"])]))


def test_gradient_check_dots_and_bars_are_the_two_gradients(small_net):
    params, X, Y = small_net
    res = mlcore.gradient_check(params, X, Y, activations="tanh")
    analytic = mlcore.gradient(params, X, Y, "tanh")
    numeric = mlcore.numerical_gradient(params, X, Y, "tanh")
    fig = figures.plot_gradient_check(res.analytic, res.numeric, res.errors)
    ax, ax_err = fig.axes
    assert ax.get_xscale() == ax.get_yscale() == ax_err.get_yscale() == "log"
    everything = []
    for l, (ga, gn) in enumerate(zip(analytic, numeric, strict=True), start=1):  # noqa: E741
        dots = offsets(one_gid(fig, f"layer-{l}"))
        a, n = entries(ga), entries(gn)
        keep = (a > 0) & (n > 0)
        np.testing.assert_allclose(dots[:, 0], a[keep], rtol=1e-12)  # x: backpropagation
        np.testing.assert_allclose(dots[:, 1], n[keep], rtol=1e-12)  # y: central differences
        assert np.abs(np.log10(dots[:, 1] / dots[:, 0])).max() < 1e-5, "on the diagonal"
        everything.append(dots)
    dots = np.vstack(everything)
    diagonal = xy(one_gid(fig, "diagonal"))
    np.testing.assert_allclose(diagonal[:, 0], diagonal[:, 1])
    np.testing.assert_allclose(diagonal[:, 0], [dots.min(), dots.max()])

    for key in ("W", "b"):
        bars = all_gid(fig, f"{key}-errors")
        assert len(bars) == len(params)
        for l, bar in enumerate(bars, start=1):  # noqa: E741
            a, n = analytic[l - 1][key], numeric[l - 1][key]
            rel = np.linalg.norm(a - n) / (np.linalg.norm(a) + np.linalg.norm(n))
            assert np.isclose(bar.get_height(), max(rel, 1e-16), rtol=1e-9, atol=0), f"{key}{l}"
            assert round(bar.get_x() + bar.get_width() / 2) == l
    for container in ax_err.containers:  # the legend names the array each bar is for
        key = "W" if "W" in container.get_label() else "b"
        assert {bar.get_gid() for bar in container} == {f"{key}-errors"}
    assert xy(one_gid(fig, "threshold"))[0, 1] == 1e-7


def test_gradient_check_shows_a_wrong_backward_pass_off_the_diagonal(small_net):
    """x is backpropagation, y central differences: a doubled layer lies a factor 2 off."""
    params, X, Y = small_net
    numeric = mlcore.numerical_gradient(params, X, Y, "tanh")
    wrong = mlcore.gradient(params, X, Y, "tanh")
    wrong[0]["W"] = 2 * wrong[0]["W"]
    fig = figures.plot_gradient_check(wrong, numeric)
    assert len(fig.axes) == 1
    dots = offsets(one_gid(fig, "layer-1"))[: wrong[0]["W"].size]
    np.testing.assert_allclose(dots[:, 0] / dots[:, 1], 2.0, rtol=1e-5)
    dots = offsets(one_gid(fig, "layer-2"))
    np.testing.assert_allclose(dots[:, 0] / dots[:, 1], 1.0, rtol=1e-5)
    with pytest.raises(ValueError):
        figures.plot_gradient_check(wrong, numeric[:1])


# -------------------------------------------------------------------- plot_outer_products
def test_outer_products_are_the_per_example_weight_gradients():
    """Panel n is dE_n/dW^(1) = delta_n x_n^T; the last one their sum, the batch gradient."""
    rng = np.random.default_rng(2)
    sizes, B, shown = (4, 3, 2), 6, 4
    params = mlcore.init_params(sizes, rng)
    X, Y = rng.normal(size=(B, sizes[0])), rng.normal(size=(B, sizes[-1]))
    _, cache = mlcore.forward(params, X, "tanh")
    Delta1, X1 = mlcore.deltas(params, cache, Y, "tanh")[0], cache.x[0]
    per_example = mlcore.per_example_gradients(params, X, Y, "tanh")[0]["W"]
    total = mlcore.gradient(params, X[:shown], Y[:shown], "tanh", reduction="sum")[0]["W"]

    fig = figures.plot_outer_products(Delta1, X1, max_examples=shown)
    panels = all_gid(fig, "outer-product")
    assert len(panels) == shown
    for n, im in enumerate(panels):
        assert im.get_array().shape == (sizes[1], sizes[0])  # (n_1, n_0), the shape of W
        np.testing.assert_allclose(im.get_array(), per_example[n], rtol=1e-12)
        assert f"\\delta_{{{n + 1}}}" in im.axes.get_title()
    product = one_gid(fig, "matrix-product")
    np.testing.assert_allclose(product.get_array(), total, rtol=1e-12)
    assert "\\Delta^\\top X" in product.axes.get_title()
    # one colour scale, symmetric about 0, for all panels
    vmax = max(np.abs(per_example[:shown]).max(), np.abs(total).max())
    for im in [*panels, product]:
        assert np.allclose(im.get_clim(), (-vmax, vmax))
    # the panels are in order, left to right, with + between them and = before the product
    lefts = [im.axes.get_position().x0 for im in [*panels, product]]
    assert lefts == sorted(lefts)
    signs = [[t.get_text() for t in im.axes.texts] for im in panels]
    assert signs == [["+"]] * (shown - 1) + [["="]]


def test_outer_products_need_matching_rows():
    with pytest.raises(ValueError):
        figures.plot_outer_products(np.zeros((5, 3)), np.zeros((4, 4)))


# --------------------------------------------------------------------------- plot_timings
def test_timings_draw_milliseconds_on_log_axes():
    B = np.array([16, 64, 256, 1024])
    t_loop, t_matrix = 2e-5 * B, 1e-5 + 1e-7 * B  # seconds
    fig = figures.plot_timings(B, t_loop, t_matrix)
    ax = fig.axes[0]
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert "milliseconds" in ax.get_ylabel()
    loop, matrix = one_gid(fig, "loop-times"), one_gid(fig, "matrix-times")
    np.testing.assert_allclose(xy(loop), np.column_stack([B, 1e3 * t_loop]))
    np.testing.assert_allclose(xy(matrix), np.column_stack([B, 1e3 * t_matrix]))
    assert "loop" in loop.get_label() and "matrix" in matrix.get_label()
    with pytest.raises(ValueError):
        figures.plot_timings([1, 10], [1e-3], [1e-4, 2e-4])
