"""The book's figure style: every figure fits the text column and its text is readable.

Every builder and every frame function is drawn at the size the book shows it (the
builders choose their own size; the frames are drawn at the ``figsize`` the chapters pass,
listed in :data:`BOOK_SIZES` and checked against the notebooks), and
:func:`mlcore.figures.style.problems` must find nothing: at most 7.1 in wide, every text
drawn at 9 pt or more and inside the figure.  The explorables of the book keep their axes
in one place across all their frames.  In a kernel, inline figures are 2x PNGs that carry
their display size.
"""

from __future__ import annotations

import base64
import io
import itertools
import math
import subprocess
import sys
from functools import partial

import matplotlib
import numpy as np
import pytest
from _book import figure_cells
from matplotlib.figure import Figure

import mlcore
from mlcore import comm_model, line, noise
from mlcore.figures import distributed as dfig
from mlcore.figures import input_gradients as igfig
from mlcore.figures import part1, part2, style
from mlcore.figures import per_example as pfig
from mlcore.figures.interactive import (
    draw_frame,
    explorable,
    frame_layout,
    slider,
)

#: The display size the chapters give each frame function (explorable or inline figure).
BOOK_SIZES = {
    "draw_three_answers": (7.0, 3.3),
    "draw_average_weights": (7.0, 3.4),
    "draw_per_example_limits": (7.0, 3.9),
    "draw_weight_interpolation": (7.0, 2.8),
    "draw_batch_sizes": (7.0, 3.3),
    "draw_same_budget": (7.0, 2.9),
    "draw_minibatch_cloud": (6.4, 3.6),
    "draw_noise_vs_batch_size": (5.6, 3.6),
    "draw_effective_lr": (7.0, 3.0),
    "draw_local_sgd": (6.0, 3.4),
    "draw_saliency": (5.6, 3.6),
    "draw_attack_accuracy": (6.0, 3.2),
    "draw_attack": (5.0, 2.4),
    "draw_digits": (6.0, 2.6),
    "draw_style": (3.6, 2.9),
    "draw_mislabel_ranking": (7.0, 3.2),
    "draw_private_run": (7.0, 3.0),
}


# ------------------------------------------------------------------------- the style
def test_importing_the_figures_applies_the_style():
    code = (
        "import matplotlib as m; before = m.rcParams['legend.fontsize']; "
        "import mlcore.figures; r = m.rcParams; "
        "print(before, r['legend.fontsize'], r['xtick.labelsize'], r['figure.dpi'])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    before, legend, ticks, dpi = out.stdout.split()
    assert before == "medium" and float(legend) >= 9 and float(ticks) >= 9
    assert float(dpi) == style.DISPLAY_DPI == 96


def test_the_palette_is_okabe_ito_and_every_series_has_a_line_style_and_a_marker():
    assert style.OKABE_ITO == (
        "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000",
    )  # fmt: skip
    cycle = matplotlib.rcParams["axes.prop_cycle"].by_key()
    assert set(cycle["color"]) <= set(style.OKABE_ITO)
    assert len(set(zip(cycle["color"], map(str, cycle["linestyle"]), strict=True))) == len(
        cycle["color"]
    )
    looks = [style.series(i) for i in range(7)]
    for key in ("color", "linestyle", "marker"):
        assert len({str(look[key]) for look in looks}) == 7, f"seven series, seven {key}s"
    methods = style.METHODS.values()
    for key in ("color", "linestyle", "marker"):
        assert len({str(m[key]) for m in methods}) == len(style.METHODS), key
    assert max(style.RC[k] for k in style.RC if k.endswith("size") and "fig" not in k) >= 9
    assert (
        min(style.RC[k] for k in style.RC if k.endswith(("labelsize", "fontsize", "titlesize")))
        >= style.MIN_FONT
    )


def test_problems_finds_small_text_wide_figures_and_text_outside():
    fig = Figure(figsize=(8.0, 3.0))
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1])
    ax.set_title("small", fontsize=7)
    ax.text(1.5, 0.5, "outside")
    found = style.problems(fig)
    assert any("8 in wide" in p for p in found)
    assert any("'small' is 7 pt" in p for p in found)
    assert any("'outside' reaches outside" in p for p in found)
    fig = Figure(figsize=(4.0, 3.0), layout="constrained")
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], label="a line")
    ax.legend()
    ax.set_xlabel("x")
    assert style.problems(fig) == []


# ------------------------------------------------------------ every figure of the book
def _line_gradients(problem):
    return mlcore.per_example_gradients(problem.params, problem.X, problem.y, "identity",
                                        flat=True)  # fmt: skip


def _local_sgd_runs():
    """Curves shaped like the chapter's (no MPI here: only the drawing is checked)."""
    rng = np.random.default_rng(0)
    runs = {}
    for P, shards, k in itertools.product((1, 2, 4), ("random", "by digit"), (1, 4, 16)):
        r = np.arange(0, 400 // k + 1)
        loss = 2.0 * (1 + r * k / 20.0) ** -0.8 + 0.01 * rng.random(len(r))
        runs[(shards, P, k)] = {"rounds": r, "loss": loss, "distance": 0.0 if P == 1 else 1e-3}
    return runs


def _two_nets():
    rng = np.random.default_rng(5)
    X = np.linspace(-1, 1, 20).reshape(-1, 1)
    net_a = mlcore.init_params([1, 6, 1], rng)
    return net_a, mlcore.params.permute_hidden(net_a, rng.permutation(6)), X, np.sin(2 * X)


@pytest.fixture(scope="module")
def cases(problem):
    """Frame function name to (the function with its data bound, every combination of the
    values the book offers)."""
    G = _line_gradients(problem)
    lo, hi = G.min(axis=0), G.max(axis=0)
    lim = (lo[0] - 1, hi[0] + 1, lo[1] - 1, hi[1] + 1)
    net_a, net_b, X, y = _two_nets()
    Bs = [1, 2, 4, 8]
    sweep = {r: line.batch_size_sweep(problem, Bs, lr=0.5, reduction=r) for r in ("mean", "sum")}
    table = noise.noise_vs_batch_size(G, [1, 2, 4, 8], num_draws=200,
                                      rng=np.random.default_rng(1))  # fmt: skip
    runs = line.same_budget_runs(problem, (8, 3, 1), lr=0.1, num_epochs=3,
                                 rng=np.random.default_rng(0))  # fmt: skip
    E_star = line.line_cost(problem.theta_star, problem.X, problem.y)
    grid = itertools.product
    digits = np.random.default_rng(2).integers(0, 17, size=(10, 64)).astype(float)
    eps_shown = (0.0, 0.1, 0.2, 0.35, 0.5, 1.0)
    attacked = {e: np.clip(digits[:5] + 16 * e, 0, 16) for e in eps_shown}
    seen = {e: np.array([0, 1, 9, 4, 3]) for e in eps_shown}
    flip_rng = np.random.default_rng(2)
    flipped = np.zeros(200, bool)
    flipped[:10] = True
    score = flip_rng.lognormal(size=200) + 5.0 * flipped
    private = {
        (C, s): {"val_accuracy": np.linspace(0.1, 0.9 - 0.1 * s, 31),
                 "norms": flip_rng.lognormal(-2.0, 1.5, size=200)}
        for C, s in grid((0.3, 1.0, 3.0), (0.0, 1.0, 2.0, 4.0))
    }  # fmt: skip
    return {
        "draw_three_answers": (
            partial(part2.draw_three_answers, problem=problem, lr=0.1),
            [{"num_steps": n} for n in (1, 3, 10, 30, 100, 300)],
        ),
        "draw_average_weights": (
            partial(part2.draw_average_weights, problem=problem, budget=60),
            [{"local_steps": k, "lr": lr} for k, lr in grid((1, 2, 5, 15, 60), (0.05, 0.15, 0.3))],
        ),
        "draw_per_example_limits": (partial(part2.draw_per_example_limits, problem=problem), [{}]),
        "draw_weight_interpolation": (
            partial(part2.draw_weight_interpolation, net_a=net_a, net_b=net_b, X=X, y=y),
            [{}],
        ),
        "draw_batch_sizes": (
            partial(part2.draw_batch_sizes, problem=problem, seed=3),
            [
                {"batch_size": B, "lr": lr, "num_epochs": e, "shuffle": s}
                for B, lr, e, s in grid((1, 3, 8), (0.05, 0.3), (3, 12), (False, True))
            ],
        ),
        "draw_same_budget": (partial(part2.draw_same_budget, problem=problem, runs=runs), [{}]),
        "draw_minibatch_cloud": (
            partial(part2.draw_minibatch_cloud, G=G, lim=lim),
            [{"batch_size": B} for B in (1, 2, 5, 8)],
        ),
        "draw_noise_vs_batch_size": (partial(part2.draw_noise_vs_batch_size, noise=table), [{}]),
        "draw_effective_lr": (
            partial(
                part2.draw_effective_lr,
                batch_sizes=Bs,
                lr=0.5,
                final_mean=sweep["mean"],
                final_sum=sweep["sum"],
                E_star=E_star,
                cap=100.0,
            ),  # fmt: skip
            [{}],
        ),
        "draw_saliency": (
            partial(
                igfig.draw_saliency,
                digits=digits[:5],
                maps=[digits[5:], digits[:5]],
                titles=[f"{d}, p = 0.99" for d in range(5)],
                map_labels=["|∂E/∂x|", "|∂S/∂x|"],
            ),
            [{}],
        ),  # fmt: skip
        "draw_attack_accuracy": (
            partial(
                igfig.draw_attack_accuracy,
                eps=np.linspace(0, 2, 41),
                accuracy=np.linspace(1, 0, 41),
                random_accuracy=np.linspace(1, 0.2, 41),
                median_eps=0.345,
                unit="standard deviations of each pixel",
            ),
            [{}],
        ),  # fmt: skip
        "draw_attack": (
            partial(
                igfig.draw_attack,
                digits=digits[:5],
                attacked=attacked,
                predicted=seen,
                labels=np.array([0, 2, 4, 7, 9]),
            ),
            [{"eps": e} for e in eps_shown],
        ),  # fmt: skip
        "draw_digits": (
            partial(
                igfig.draw_digits,
                digits=digits,
                titles=[f"{c}: p = 0.999" for c in range(10)],
                ncols=5,
            ),
            [{}],
        ),  # fmt: skip
        "draw_style": (
            partial(igfig.draw_style, rows=[(digits[0], digits[1], digits[2])] * 2),
            [{}],
        ),
        "draw_mislabel_ranking": (
            partial(
                pfig.draw_mislabel_ranking,
                scores={"gradient norm": score, "loss": score**2},
                flipped=flipped,
                hist_score="gradient norm",
            ),
            [{}],
        ),  # fmt: skip
        "draw_private_run": (
            partial(
                pfig.draw_private_run,
                runs=private,
                reference=np.linspace(0.1, 0.97, 31),
                epsilons={0.0: math.inf, 1.0: 9.72, 2.0: 3.25, 4.0: 1.39},
            ),
            [
                {"clip_norm": C, "noise_multiplier": s}
                for C, s in grid((0.3, 1.0, 3.0), (0.0, 1.0, 2.0, 4.0))
            ],
        ),  # fmt: skip
        "draw_local_sgd": (
            partial(dfig.draw_local_sgd, runs=_local_sgd_runs(), target=0.15),
            [
                {"local_steps": k, "num_procs": P, "shards": s}
                for k, P, s in grid((1, 4, 16), (1, 2, 4), ("random", "by digit"))
            ],
        ),
    }


def test_the_book_draws_every_frame_function_at_the_listed_size():
    """Each notebook passes the size of :data:`BOOK_SIZES` where it draws a frame function."""
    seen = set()
    for nb, sizes, _, names in figure_cells():
        for size in sizes:
            assert size[0] <= style.MAX_WIDTH, f"{nb.name}: figsize {size} is too wide"
        for name in names & set(BOOK_SIZES):
            assert sizes == [BOOK_SIZES[name]], f"{nb.name}: {name} drawn at {sizes}"
            seen.add(name)
    assert seen == set(BOOK_SIZES), f"not drawn by any chapter: {set(BOOK_SIZES) - seen}"


@pytest.mark.parametrize("name", list(BOOK_SIZES))
def test_frames_are_readable_at_their_display_size(cases, name):
    draw, combos = cases[name]
    size = BOOK_SIZES[name]
    positions = frame_layout(draw, _spread(combos), figsize=size) if len(combos) > 1 else None
    for values in (combos[0], combos[-1]) if len(combos) > 1 else combos:
        fig = draw_frame(draw, values, figsize=size, positions=positions)
        assert style.problems(fig) == [], values


@pytest.mark.parametrize(
    "name",
    ["draw_three_answers", "draw_average_weights", "draw_batch_sizes", "draw_minibatch_cloud",
     "draw_local_sgd", "draw_attack", "draw_private_run"],
)  # fmt: skip
def test_the_frames_of_an_explorable_keep_their_axes_in_place(cases, name):
    """Every frame puts every axes, and the legend under them, at the same place."""
    draw, combos = cases[name]
    combos = _spread(combos)
    size = BOOK_SIZES[name]
    positions = frame_layout(draw, combos, figsize=size)
    assert positions is not None
    boxes = {_boxes(draw_frame(draw, values, figsize=size, positions=positions))
             for values in combos}  # fmt: skip
    assert len(boxes) == 1, f"{len(boxes)} different layouts among {len(combos)} frames"


def _spread(combos, most=8):
    """At most ``most`` of the combinations, first and last included (a faster check)."""
    if len(combos) <= most:
        return combos
    return [combos[i] for i in np.unique(np.linspace(0, len(combos) - 1, most).round().astype(int))]


def _boxes(fig):
    """Where the axes are drawn (equal-scale axes shrink to their aspect when drawn), and
    the legends under them."""
    fig.draw_without_rendering()
    axes = [ax.get_position().bounds for ax in fig.axes]
    legends = [leg.get_window_extent().bounds for leg in fig.legends]
    return tuple(np.round(np.ravel(axes + legends), 6))


def test_without_the_shared_layout_frames_would_shift(cases):
    """What the shared layout prevents: each frame laid out alone puts its axes elsewhere."""
    draw, combos = cases["draw_three_answers"]
    boxes = set()
    for values in combos:
        fig = draw_frame(draw, values, figsize=BOOK_SIZES["draw_three_answers"])
        fig.get_layout_engine().execute(fig)
        boxes.add(_boxes(fig))
    assert len(boxes) > 1


def test_every_frame_of_an_explorable_has_one_size(cases):
    draw, _ = cases["draw_three_answers"]
    e = explorable(
        draw, {"num_steps": slider([1, 30, 300])}, figsize=BOOK_SIZES["draw_three_answers"]
    )
    from PIL import Image

    sizes = {Image.open(io.BytesIO(f)).size for f in e.frames}
    assert sizes == {(2 * e.size[0], 2 * e.size[1])}
    assert e.size == (672, 317)  # 7.0 x 3.3 in at 96 CSS px per inch


def _builders(problem, line_data):
    X, y = line_data
    point = np.array([0.3, 0.8])
    params = [{"W": np.array([[point[0]]]), "b": np.array([point[1]])}]
    G = mlcore.per_example_gradients(params, X, y, activations="identity", flat=True)
    best = mlcore.flatten_params(mlcore.data.least_squares(X, y))
    rng = np.random.default_rng(1)
    net = mlcore.init_params((3, 5, 4, 3, 2), rng)
    Xn, Yn = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    check = mlcore.gradient_check(net, Xn, Yn, activations="tanh")
    _, cache = mlcore.forward(net, Xn, "tanh")
    Delta = mlcore.deltas(net, cache, Yn, "tanh")[0]
    t = np.linspace(-4, 4, 101)
    tangent = {"w": t, "E": (t - 1) ** 2, "w0": 0.0, "E0": 1.0, "slope": -2.0,
               "title": "sigmoid neuron, along $w_1$", "xlabel": "$w_1$"}  # fmt: skip
    Bs = np.array([1, 4, 16, 64, 256, 1024])
    runs = _local_sgd_runs()
    P = np.arange(1, 1025)
    curves, stars = {}, {}
    for net_name, M in (("digits 64-64-10", 4810), ("100M parameters", 10**8)):
        for k in (1, 8):
            kw = dict(compute_seconds=256 * M * 6e-10, message_bytes=8 * M, latency=20e-6,
                      bandwidth=1.25e9, local_steps=k)  # fmt: skip
            curves[f"{net_name}, k = {k}"] = comm_model.step_seconds(P, **kw)
            stars[f"{net_name}, k = {k}"] = comm_model.crossover(**kw, max_procs=4096)
    return {
        "plot_example_gradients": lambda: part1.plot_example_gradients(
            X, y, point, G, G.mean(axis=0), minimum=best
        ),
        "plot_tangents": lambda: part1.plot_tangents([tangent] * 3),
        "plot_backprop_flow": lambda: part1.plot_backprop_flow((3, 5, 4, 3, 2)),
        "plot_gradient_check": lambda: part1.plot_gradient_check(
            check.analytic, check.numeric, check.errors
        ),
        "plot_outer_products": lambda: part1.plot_outer_products(Delta, cache.x[0], max_examples=4),
        "plot_timings": lambda: part1.plot_timings(Bs, 2e-5 * Bs, 1e-5 + 1e-7 * Bs),
        "plot_rounds": lambda: dfig.plot_rounds(
            {
                f"P = 4, shards {s}": {
                    k: (runs[(s, 4, k)]["rounds"], runs[(s, 4, k)]["loss"]) for k in (1, 4, 16)
                }
                for s in ("random", "by digit")
            },
            target=0.15,
        ),  # fmt: skip
        "plot_bias": lambda: dfig.plot_bias(
            {
                k: (np.arange(0, 641, 8), 10 * np.exp(-np.arange(0, 641, 8) / 40) + 1e-4 * k)
                for k in (1, 4, 16, 64)
            }
        ),  # fmt: skip
        "plot_step_times": lambda: dfig.plot_step_times(
            [1, 2, 4, 8],
            {
                f"global batch b = {b}": (
                    np.array([0.3, 0.2, 0.15, 0.2]),
                    np.array([0, 0.1, 0.3, 2]),
                )
                for b in (32, 256)
            },
            cores=2,
        ),  # fmt: skip
        "plot_cost_model": lambda: dfig.plot_cost_model(
            P, curves, crossovers=stars, title="CPU cores on 10 GbE, b = 256 (model)"
        ),
    }


BUILDERS = [
    "plot_example_gradients", "plot_tangents", "plot_backprop_flow", "plot_gradient_check",
    "plot_outer_products", "plot_timings", "plot_rounds", "plot_bias", "plot_step_times",
    "plot_cost_model",
]  # fmt: skip


def test_every_builder_is_checked():
    public = {n for n in [*part1.__all__, *dfig.__all__] if n.startswith("plot_")}
    assert public == set(BUILDERS)


@pytest.mark.parametrize("name", BUILDERS)
def test_builders_are_readable_at_their_own_size(problem, line_data, name):
    fig = _builders(problem, line_data)[name]()
    assert style.problems(fig) == []


# ---------------------------------------------------------------- inline figures, 2x
INLINE = """\
{first}
fig, ax = plt.subplots(figsize=(5.0, 2.5))
ax.plot([0, 1], [0, 1])
plt.show()
"""


@pytest.mark.parametrize(
    "first",
    [
        "import matplotlib.pyplot as plt\nimport mlcore.figures",
        "import mlcore.figures\nimport matplotlib.pyplot as plt",
        "%matplotlib inline\nimport mlcore.figures\nimport matplotlib.pyplot as plt",
        "import mlcore.figures\n%matplotlib inline\nimport matplotlib.pyplot as plt",
    ],
    ids=["pyplot-first", "figures-first", "magic-first", "magic-after"],
)
def test_inline_figures_are_2x_pngs_that_carry_their_display_width(first, tmp_path):
    """As the chapters' import cells do: in a kernel, a figure shown inline is stored at
    twice ``figure.dpi`` (96), in a small palette, with its display width in the metadata,
    whether pyplot was imported before the figures or after."""
    import nbformat
    from nbclient import NotebookClient
    from PIL import Image

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(INLINE.format(first=first))]
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()  # fmt: skip
    (out,) = [o for o in nb.cells[0].outputs if "image/png" in o.get("data", {})]
    png = Image.open(io.BytesIO(base64.b64decode(out["data"]["image/png"])))
    shown = out["metadata"]["image/png"]
    # the width only: a narrower page scales the image down and keeps its aspect
    assert set(shown) == {"width"} and shown["width"] == png.size[0] // 2
    # the 5 x 2.5 in figure at 96 CSS pixels per inch, with a margin of 0.03 in (3 px)
    pad = 2 * round(style.INLINE_PAD * 96)
    assert 470 < shown["width"] <= 480 + pad and 470 < png.size[1] <= 2 * (240 + pad)
    assert png.mode == "P" and len(png.getcolors()) <= 64


def test_inline_png_needs_axes():
    assert style.inline_png(Figure()) is None
    fig = Figure(figsize=(2.0, 1.0))
    fig.add_subplot().plot([0, 1])
    data, meta = style.inline_png(fig)
    png = base64.b64decode(data)
    assert png.startswith(b"\x89PNG") and b"Software" not in png
    assert 180 <= meta["width"] <= 2 * 96 + 6
