r"""Figures of Part I: from one example's gradient to the training set's.

Every builder takes numbers that the notebook has already computed (and checked),
draws them, and returns the :class:`matplotlib.figure.Figure`; none of them
computes a gradient by itself, so a figure can never disagree with the checks
printed next to it.  Matplotlib is imported inside the functions.

* :func:`plot_example_gradients` - a 2-parameter linear model: the cost
  :math:`E(w, b)` as contours, every example's gradient :math:`\nabla E_n` as an
  arrow at the current point, their mean, and an independent estimate of
  :math:`\nabla E` landing on the mean.
* :func:`plot_tangents` - slices :math:`E_n(w_j)` of one example's cost with the
  tangent whose slope is the derived derivative.
* :func:`plot_backprop_flow` - what the forward pass stores and what the backward
  pass sends back, layer by layer.
* :func:`plot_gradient_check` - backpropagation against central differences,
  entry by entry, for every layer.
* :func:`plot_outer_products` - the per-example outer products
  :math:`\delta_n x_n^\top` summing to the matrix product :math:`\Delta^\top X`.
* :func:`plot_timings` - seconds per gradient for a per-example loop and the
  matrix form, against the batch size.

Artists that show numbers carry a ``gid`` saying what they show (e.g.
``"example-gradients"``, ``"tangent"``), so the tests find them whatever the style.
"""

from __future__ import annotations

import numpy as np

from ..line import line_cost_grid
from .style import BLACK, BLUE, DIVERGING, GREY, ORANGE, SEQUENTIAL, VERMILLION, series

__all__ = [
    "plot_backprop_flow",
    "plot_example_gradients",
    "plot_gradient_check",
    "plot_outer_products",
    "plot_tangents",
    "plot_timings",
]

#: Colour of "the" gradient of the training-set cost in every figure of Part I.
TOTAL_COLOR = VERMILLION


def _as_xy(X, y):
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 1:
        raise ValueError(f"X must have shape (N, 1) (one feature); got {X.shape}")
    y = y.reshape(-1)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have {X.shape[0]} entries (one per row of X); got {y.shape[0]}")
    return X[:, 0], y


def plot_example_gradients(
    X,
    y,
    point,
    per_example,
    reference=None,
    *,
    reduction="mean",
    minimum=None,
    span=None,
    arrow_scale=None,
):
    r"""Contours of :math:`E(w, b)` with every example's gradient drawn at one point.

    Left panel: the data and the current line :math:`\hat y = w x + b`, with each
    example's residual in its own colour.  Right panel: contours of the cost, and at
    the current :math:`(w, b)` one thin arrow per example,
    :math:`\nabla E_n = (\partial E_n/\partial w, \partial E_n/\partial b)`, in the
    same colour; a thick arrow for their mean (or sum); and, if given, a ring at the
    tip of an independently computed :math:`\nabla E`.

    Parameters
    ----------
    X : array_like, shape (N, 1)
        Inputs.
    y : array_like, shape (N, 1) or (N,)
        Targets.
    point : array_like, shape (2,)
        The current :math:`(w, b)`.
    per_example : array_like, shape (N, 2)
        Row ``n`` is :math:`\nabla E_n` at ``point``.
    reference : array_like, shape (2,), optional
        :math:`\nabla E` computed some other way (e.g. finite differences).
    reduction : {"sum", "mean"}, default "mean"
        Whether the thick arrow and the contours are for the sum or the mean.
    minimum : array_like, shape (2,), optional
        Where to mark the minimiser of :math:`E`.
    span : float, optional
        Half-width of the square window centred on ``point`` (default: enough to
        show ``minimum`` too).
    arrow_scale : float, optional
        Every arrow is drawn as ``arrow_scale`` times the gradient (default: the
        longest per-example arrow is 80% of ``span``).  The scale is printed in the
        legend; it is the same for all arrows, so lengths compare.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    x, yv = _as_xy(X, y)
    N = x.shape[0]
    point = np.asarray(point, dtype=np.float64).reshape(2)
    G = np.asarray(per_example, dtype=np.float64)
    if G.shape != (N, 2):
        raise ValueError(f"per_example must have shape ({N}, 2); got {G.shape}")
    total = G.sum(axis=0) if reduction == "sum" else G.mean(axis=0)
    centre = point
    if span is None:
        far = 0.0 if minimum is None else np.abs(point - np.asarray(minimum, float)).max()
        span = max(1.0, far + 0.5)
    if arrow_scale is None:
        arrow_scale = 0.8 * span / max(np.linalg.norm(G, axis=1).max(), 1e-12)

    from matplotlib.colors import ListedColormap

    # by x: dark for the smallest, light for the largest (viridis without its palest yellow)
    cmap = ListedColormap(plt.get_cmap(SEQUENTIAL)(np.linspace(0.0, 0.9, 256)))
    colors = cmap(np.linspace(0.0, 1.0, N))
    order = np.argsort(x)
    rank = np.empty(N, dtype=int)
    rank[order] = np.arange(N)

    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(7.0, 3.9), layout="constrained")

    # data, line, residuals
    xs = np.linspace(x.min() - 0.2, x.max() + 0.2, 2)
    ax0.plot(xs, point[0] * xs + point[1], color="0.2", linestyle="-", lw=2,
             label=r"current line $\hat y = wx + b$", gid="current-line")  # fmt: skip
    if minimum is not None:
        m = np.asarray(minimum, dtype=float)
        ax0.plot(xs, m[0] * xs + m[1], color=GREY, lw=1.5, ls="--", label="best line",
                 gid="best-line")  # fmt: skip
    for n in range(N):
        c = colors[rank[n]]
        ax0.plot([x[n], x[n]], [yv[n], point[0] * x[n] + point[1]], color=c, linestyle="-",
                 lw=1.4, gid="residual")  # fmt: skip
        ax0.scatter(x[n], yv[n], color=c, s=30, zorder=3, edgecolor="k", linewidth=0.5, gid="data")
    ax0.set_xlabel("$x$")
    ax0.set_ylabel("$y$")
    ax0.set_title("Each example sees its own residual")

    # contours and arrows
    w_grid = np.linspace(centre[0] - span, centre[0] + span, 160)
    b_grid = np.linspace(centre[1] - span, centre[1] + span, 160)
    E = line_cost_grid(X, y, w_grid, b_grid, reduction=reduction)
    levels = np.quantile(E, np.linspace(0.0, 0.9, 14) ** 2)
    ax1.contour(w_grid, b_grid, E, levels=np.unique(levels), cmap="Greys", linewidths=0.8,
                linestyles="solid")  # fmt: skip
    ax1.contourf(w_grid, b_grid, E, levels=np.unique(levels), cmap="Greys", alpha=0.15)
    kw = dict(angles="xy", scale_units="xy", scale=1.0)
    ax1.quiver(
        np.full(N, point[0]),
        np.full(N, point[1]),
        arrow_scale * G[:, 0],
        arrow_scale * G[:, 1],
        color=colors[rank],
        width=0.006,
        alpha=0.95,
        gid="example-gradients",
        **kw,
    )
    label = (
        r"mean $\frac{1}{N}\sum_n \nabla E_n$"
        if reduction == "mean"
        else r"sum $\sum_n \nabla E_n$"
    )
    ax1.quiver(
        [point[0]],
        [point[1]],
        [arrow_scale * total[0]],
        [arrow_scale * total[1]],
        color=TOTAL_COLOR,
        width=0.016,
        edgecolor=BLACK,
        linewidth=0.5,
        zorder=4,
        label=label,
        gid="total-gradient",
        **kw,
    )
    if reference is not None:
        ref = point + arrow_scale * np.asarray(reference, dtype=float).reshape(2)
        ax1.scatter(
            *ref,
            s=180,
            facecolor="none",
            edgecolor="k",
            linewidth=1.8,
            zorder=5,
            label=r"$\nabla E$ by finite differences",
            gid="reference-gradient",
        )
    ax1.plot(*point, "o", color="k", ms=5, zorder=6, gid="current-point")
    if minimum is not None:
        ax1.plot(*minimum, marker="*", color=ORANGE, mec="k", ms=14, ls="none", label="minimum",
                 gid="minimum")  # fmt: skip
    ax1.plot([], [], color=colors[N // 2], lw=1.5, linestyle="-",
             label=r"one arrow per example, $\nabla E_n$")  # fmt: skip
    ax1.set_xlim(w_grid[0], w_grid[-1])
    ax1.set_ylim(b_grid[0], b_grid[-1])
    ax1.set_aspect("equal")
    ax1.set_xlabel("slope $w$")
    ax1.set_ylabel("intercept $b$")
    ax1.set_title(f"Cost $E(w, b)$; arrows \u00d7{arrow_scale:.2g}")
    # the key to the colours of the examples
    bar = fig.colorbar(plt.cm.ScalarMappable(plt.Normalize(0.0, 1.0), cmap), ax=ax1,
                       fraction=0.05, pad=0.03, ticks=[0.0, 1.0])  # fmt: skip
    bar.ax.set_yticklabels(["smallest $x_n$", "largest $x_n$"])
    bar.outline.set_linewidth(0.5)
    handles, labels = ax0.get_legend_handles_labels()
    h1, l1 = ax1.get_legend_handles_labels()
    fig.legend(handles + h1, labels + l1, loc="outside lower center", ncols=3)
    return fig


def plot_tangents(panels):
    r"""Slices of one example's cost with the tangent given by a derived derivative.

    Each panel draws a curve :math:`E_n(w_j)` (all other parameters fixed), the point
    :math:`(w_j^0, E_n(w_j^0))` and the line through it with the derived slope
    :math:`\partial E_n / \partial w_j`.  If the derivation is right, the line touches
    the curve.

    Parameters
    ----------
    panels : sequence of dict
        One dict per panel with keys ``"w"`` (grid, shape (G,)), ``"E"`` (cost on the
        grid, shape (G,)), ``"w0"`` (float), ``"E0"`` (float), ``"slope"`` (float),
        ``"title"`` (str) and optionally ``"xlabel"`` (str).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    panels = list(panels)
    if not panels:
        raise ValueError("panels must hold at least one dict")
    fig, axes = plt.subplots(1, len(panels), figsize=(min(7.0, 2.4 * len(panels)), 2.7),
                             squeeze=False, layout="constrained")  # fmt: skip
    for ax, p in zip(axes[0], panels, strict=True):
        w = np.asarray(p["w"], dtype=float)
        E = np.asarray(p["E"], dtype=float)
        w0, E0, s = float(p["w0"]), float(p["E0"]), float(p["slope"])
        ax.plot(w, E, color="0.3", linestyle="-", lw=2, label="$E_n$ along this parameter",
                gid="cost-slice")  # fmt: skip
        half = 0.3 * (w[-1] - w[0])
        t = np.array([w0 - half, w0 + half])
        tangent = ax.plot(t, E0 + s * (t - w0), color=TOTAL_COLOR, linestyle="--", lw=2,
                          label=f"slope {s:.3f} (derived)", gid="tangent")  # fmt: skip
        ax.plot(w0, E0, "o", color=TOTAL_COLOR, mec=BLACK, mew=0.6, ms=6, zorder=3,
                gid="touching-point")  # fmt: skip
        ax.set_title(p["title"])
        ax.set_xlabel(p.get("xlabel", "$w_j$"))
        pad = 0.1 * (E.max() - E.min() + 1e-12)
        ax.set_ylim(E.min() - pad, E.max() + pad + 0.25 * (E.max() - E.min()))  # room: legend
        ax.legend(handles=tangent, loc="upper center", handlelength=1.8)
    axes[0, 0].set_ylabel("$E_n$")
    return fig


def plot_backprop_flow(sizes):
    r"""Diagram of one forward and one backward pass through an :math:`L`-layer net.

    Top row, left to right: what the forward pass computes and keeps (the cache),
    :math:`x^{(1)} \to z^{(1)} \to a^{(1)} = x^{(2)} \to \dots \to \hat y`.
    Bottom row, right to left: the error signals :math:`\delta^{(l)}`, each made
    from the one after it and from :math:`f_l'(z^{(l)})`.  Under each layer, the
    weight gradient :math:`\delta^{(l)} x^{(l)\top}` pairs a backward quantity with a
    stored forward one, with its shape.

    Parameters
    ----------
    sizes : sequence of int
        ``(n_0, n_1, ..., n_L)``, used for the shape labels.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    sizes = [int(s) for s in sizes]
    if len(sizes) < 2:
        raise ValueError(f"sizes must have at least 2 entries (n_0, n_1); got {sizes}")
    L = len(sizes) - 1
    span = 2 * L + 1.9  # x from -1.0 to 2L + 0.9, one unit per box and gap
    fig, ax = plt.subplots(figsize=(min(7.0, 0.72 * span), 3.3), layout="constrained")
    ax.set_xlim(-1.0, 2 * L + 0.9)
    ax.set_ylim(-2.15, 1.8)
    ax.axis("off")
    fwd_color, back_color = "#cce3f0", "#f6d5c0"  # light blue and light vermillion

    half, gap = 0.33, 0.36  # half a box's width; where an arrow starts or ends

    def box(xc, yc, text, color):
        ax.add_patch(
            FancyBboxPatch(
                (xc - half, yc - 0.3),
                2 * half,
                0.6,
                boxstyle="round,pad=0.04",
                facecolor=color,
                edgecolor="k",
                linewidth=1.0,
            )
        )
        ax.text(xc, yc, text, ha="center", va="center", fontsize=9.5)

    arrow = dict(arrowstyle="->", lw=1.3, color="0.3")
    back = dict(arrowstyle="->", lw=1.8, color=TOTAL_COLOR)
    dotted = dict(arrowstyle="->", lw=1.0, color="0.45", ls=":")
    box(0, 1.0, "$x^{(1)}$", fwd_color)
    for l in range(1, L + 1):  # book layer index
        xz, xa = 2 * l - 1, 2 * l
        box(xz, 1.0, f"$z^{{({l})}}$", fwd_color)
        a_text = (
            f"$a^{{({l})}}$\n$=x^{{({l + 1})}}$" if l < L else r"$a^{(L)}$" + "\n" + r"$=\hat y$"
        )
        box(xa, 1.0, a_text, fwd_color)
        ax.annotate("", (xz - gap, 1.0), (xz - 1 + gap, 1.0), arrowprops=arrow, gid="forward")
        ax.annotate("", (xa - gap, 1.0), (xa - 1 + gap, 1.0), arrowprops=arrow, gid="forward")
        ax.text(xz - 0.5, 1.42, f"$W^{{({l})}}\\!, b^{{({l})}}$", ha="center", fontsize=9)
        ax.text(xa - 0.5, 1.42, f"$f_{{{l}}}$", ha="center", fontsize=9)
        box(xz, -0.5, f"$\\delta^{{({l})}}$", back_color)
        ax.annotate("", (xz, -0.18), (xz, 0.68), arrowprops=dotted)
        ax.text(xz + 0.08, 0.25, f"$f_{{{l}}}'$", fontsize=9, color="0.3")
        if l < L:
            ax.annotate("", (xz + gap, -0.5), (xz + 2 - gap, -0.5), arrowprops=back,
                        gid="backward")  # fmt: skip
            ax.text(xz + 1, -0.38, f"$W^{{({l + 1})\\top}}$", ha="center", va="bottom",
                    fontsize=9, color=TOTAL_COLOR)  # fmt: skip
        # the gradient pairs delta^(l) with the stored input x^(l) (one box to the left)
        ax.annotate("", (xz - 0.25, -1.35), (xz - 1, 0.68), arrowprops=dotted)
        ax.annotate("", (xz, -1.35), (xz, -0.82), arrowprops=dotted)
        ax.text(
            xz, -1.75,
            f"$\\delta^{{({l})}} x^{{({l})\\top}}$\n$({sizes[l]}, {sizes[l - 1]})$",
            ha="center", va="center", fontsize=9, gid="gradient-shape",
        )  # fmt: skip
    ax.annotate("", (2 * L - 1 + gap, -0.5), (2 * L, 0.68), arrowprops=back, gid="backward")
    ax.text(2 * L - 0.05, -0.05, r"$\hat y - y$", fontsize=9, color=TOTAL_COLOR, ha="left")
    ax.text(-0.8, 1.0, "forward\n(cached)", rotation=90, va="center", ha="center", fontsize=9)
    ax.text(-0.8, -0.5, "backward", rotation=90, va="center", ha="center", fontsize=9,
            color=TOTAL_COLOR)  # fmt: skip
    ax.text(-0.8, -1.75, r"$\partial E_n/\partial W$", rotation=90, va="center", ha="center",
            fontsize=9)  # fmt: skip
    return fig


def plot_gradient_check(analytic, numeric, errors=None):
    r"""Backpropagation against central differences, one dot per parameter.

    Left: every entry :math:`|\partial E/\partial \theta_k|` from backpropagation
    (horizontal) against the finite-difference estimate (vertical), log-log, one
    colour per layer; a correct backward pass puts every dot on the diagonal.
    Right (if ``errors`` is given): the relative error of each ``W`` and ``b``.

    Parameters
    ----------
    analytic, numeric : list of dict
        Gradients shaped like the parameters (``[{"W": ..., "b": ...}, ...]``).
    errors : list of dict, optional
        ``errors[l-1] = {"W": float, "b": float}`` (e.g. ``GradCheck.errors``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    if len(analytic) != len(numeric):
        raise ValueError(f"numeric must have {len(analytic)} layers; got {len(numeric)}")
    ncols = 1 if errors is None else 2
    fig, axes = plt.subplots(1, ncols, figsize=(3.6 * ncols - 0.2, 3.4), squeeze=False,
                             layout="constrained")  # fmt: skip
    ax = axes[0, 0]
    lo, hi = np.inf, 0.0
    for l, (ga, gn) in enumerate(zip(analytic, numeric, strict=True), start=1):
        a = np.abs(np.concatenate([np.ravel(ga["W"]), np.ravel(ga["b"])]))
        n = np.abs(np.concatenate([np.ravel(gn["W"]), np.ravel(gn["b"])]))
        keep = (a > 0) & (n > 0)
        look = series(l - 1)
        ax.scatter(a[keep], n[keep], s=18, color=look["color"], marker=look["marker"],
                   label=f"layer {l}", alpha=0.8, linewidths=0, gid=f"layer-{l}")  # fmt: skip
        if keep.any():
            lo, hi = min(lo, a[keep].min(), n[keep].min()), max(hi, a[keep].max(), n[keep].max())
    if hi > 0:
        ax.plot([lo, hi], [lo, hi], color="0.4", lw=1, ls="--", zorder=0, label="equal",
                gid="diagonal")  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"backpropagation $|\partial E/\partial\theta_k|$")
    ax.set_ylabel(r"central differences $|\partial E/\partial\theta_k|$")
    ax.set_title("Every parameter, both ways")
    ax.legend(loc="upper left", handletextpad=0.3)
    if errors is not None:
        ax = axes[0, 1]
        L = len(errors)
        idx = np.arange(1, L + 1)
        eW = [max(e["W"], 1e-16) for e in errors]
        eb = [max(e["b"], 1e-16) for e in errors]
        ax.bar(idx - 0.18, eW, width=0.36, color=BLUE, label="$W^{(l)}$", gid="W-errors")
        ax.bar(idx + 0.18, eb, width=0.36, color=ORANGE, hatch="///", edgecolor="white",
               linewidth=0, label="$b^{(l)}$", gid="b-errors")  # fmt: skip
        ax.axhline(1e-7, color="0.3", ls="--", lw=1, label="$10^{-7}$", gid="threshold")
        ax.set_yscale("log")
        ax.set_xticks(idx)
        ax.set_xlabel("layer $l$")
        ax.set_ylabel("relative error")
        ax.set_title("Relative error per array")
        ax.legend(loc="upper left", ncols=3, handlelength=1.6, columnspacing=1.0)
        ax.set_ylim(top=ax.get_ylim()[1] * 1e3)  # room for the legend above the bars
    return fig


def plot_outer_products(Delta, X, *, max_examples=4):
    r"""Per-example outer products :math:`\delta_n x_n^\top` and their sum :math:`\Delta^\top X`.

    One heat map per example (the first ``max_examples`` rows), a plus sign between
    them, and after the equals sign the matrix product computed in one go.  All
    panels share one colour scale per row of panels, so equal colours mean equal
    numbers.

    Parameters
    ----------
    Delta : array_like, shape (B, n_l)
        Error signals, one row per example.
    X : array_like, shape (B, n_{l-1})
        Layer inputs, one row per example.
    max_examples : int, default 4
        How many examples to draw (all of them if ``B`` is smaller); the sum on the
        right is over the drawn examples, so the picture is an exact identity.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    Delta = np.asarray(Delta, dtype=float)
    X = np.asarray(X, dtype=float)
    if Delta.ndim != 2 or X.ndim != 2 or Delta.shape[0] != X.shape[0]:
        raise ValueError(
            f"Delta (B, n_l) and X (B, n_prev) must share B rows; got {Delta.shape}, {X.shape}"
        )
    B = min(int(max_examples), Delta.shape[0])
    Delta, X = Delta[:B], X[:B]
    outers = np.einsum("bi,bj->bij", Delta, X)
    total = Delta.T @ X
    vmax = max(np.abs(outers).max(), np.abs(total).max())
    # A fixed layout in inches: every panel has the aspect of the matrix (square cells), a
    # gap for the sign between panels, the colour bar on the right.
    rows, cols = total.shape
    n, gap, edge, bar_w, bar_room = B + 1, 0.34, 0.08, 0.12, 0.55
    width = 7.0
    pw = (width - 2 * edge - (n - 1) * gap - bar_w - bar_room) / n
    ph = pw * rows / cols
    if ph > 1.5:  # tall matrices: limit the height, narrow the figure
        ph = 1.5
        pw = ph * cols / rows
        width = 2 * edge + n * pw + (n - 1) * gap + bar_w + bar_room
    top, bottom = 0.34, edge
    height = ph + top + bottom
    fig = plt.figure(figsize=(width, height), layout="none")
    axes = [
        fig.add_axes(((edge + k * (pw + gap)) / width, bottom / height, pw / width, ph / height))
        for k in range(n)
    ]
    cax = fig.add_axes(((edge + n * pw + (n - 1) * gap + 0.12) / width, bottom / height,
                        bar_w / width, ph / height))  # fmt: skip
    for k, ax in enumerate(axes):
        M = outers[k] if k < B else total
        im = ax.imshow(M, cmap=DIVERGING, vmin=-vmax, vmax=vmax,
                       gid="outer-product" if k < B else "matrix-product")  # fmt: skip
        ax.set_xticks([])
        ax.set_yticks([])
        if k < B:
            ax.set_title(rf"$\delta_{{{k + 1}}} x_{{{k + 1}}}^\top$", fontsize=11)
        else:
            ax.set_title(r"$\Delta^\top X$", fontsize=11, color=TOTAL_COLOR)
            for spine in ax.spines.values():
                spine.set_edgecolor(TOTAL_COLOR)
                spine.set_linewidth(2)
        if k < B:
            sign = "+" if k < B - 1 else "="
            ax.text(1.0 + 0.5 * gap / pw, 0.5, sign, transform=ax.transAxes, ha="center",
                    va="center", fontsize=16)  # fmt: skip
    fig.colorbar(im, cax=cax)
    return fig


def plot_timings(batch_sizes, loop_seconds, matrix_seconds):
    r"""Seconds per gradient for a per-example loop and for the matrix form.

    Parameters
    ----------
    batch_sizes : array_like, shape (K,)
        Batch sizes :math:`B`.
    loop_seconds, matrix_seconds : array_like, shape (K,)
        Measured time of one gradient with each method.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    B = np.asarray(batch_sizes, dtype=float)
    t_loop = np.asarray(loop_seconds, dtype=float)
    t_mat = np.asarray(matrix_seconds, dtype=float)
    if not (B.shape == t_loop.shape == t_mat.shape):
        raise ValueError(
            f"batch_sizes, loop_seconds, matrix_seconds must have one shape; "
            f"got {B.shape}, {t_loop.shape}, {t_mat.shape}"
        )
    fig, ax = plt.subplots(figsize=(5.0, 3.3), layout="constrained")
    ax.loglog(B, 1e3 * t_loop, "o--", color=GREY, label="loop over examples (Python)",
              gid="loop-times")  # fmt: skip
    ax.loglog(B, 1e3 * t_mat, "s-", color=TOTAL_COLOR, label=r"matrix form $\Delta^\top X$",
              gid="matrix-times")  # fmt: skip
    ax.set_xlabel("batch size $B$")
    ax.set_ylabel("milliseconds per gradient")
    ax.set_title("Same numbers, different cost")
    ax.legend(loc="upper left")
    ax.grid(True, which="both")
    return fig
