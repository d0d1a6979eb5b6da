"""Lay out the numbers of :mod:`.explain` as figures (no computing here, only drawing).

Matrices are drawn with cells of one size across the panels of a figure (:func:`grid_row`), and
the figure's size follows from the number of cells, so the numbers stay legible for any
``--kernel``, ``--stride`` and ``--padding``.
"""

from __future__ import annotations

import numpy as np

from .figures import ACCENT, CELL, HIGHLIGHT, draw_grid, grid_row, new_figure, show_image

GAP = 0.6  # inches between panels
HEAD = 1.5  # inches for the titles of a row


def _mask(shape, positions) -> np.ndarray:
    m = np.zeros(shape, dtype=bool)
    for r, c in positions:
        if 0 <= r < shape[0] and 0 <= c < shape[1]:
            m[r, c] = True
    return m


def _size(shapes, cell: float = CELL, extra_rows: float = 0.0) -> tuple[float, float]:
    width = sum(c for _, c in shapes) * cell + GAP * len(shapes)
    height = max(r for r, _ in shapes) * cell + HEAD + extra_rows
    return max(width, 6.0), height


def unpooling(d: dict):
    s = d["stride"]
    shapes = [d["input"].shape, d["nearest"].shape, d["bed_of_nails"].shape]
    cell = max(0.35, 0.8 * 2 / s)
    fig = new_figure(*_size(shapes, cell))
    axes = grid_row(fig, shapes)
    fs = 14 if s <= 3 else 9
    draw_grid(axes[0], d["input"], fontsize=fs, title="input")
    draw_grid(
        axes[1],
        d["nearest"],
        block=(s, s),
        fontsize=fs,
        title=f"nearest neighbour x{s}:\nthe value fills its block",
    )
    draw_grid(
        axes[2],
        d["bed_of_nails"],
        block=(s, s),
        fontsize=fs,
        title=f"bed of nails x{s}:\nthe value, then zeros",
    )
    fig.suptitle("Unpooling: where does each value go in its block?", fontsize=14)
    return fig


def max_unpooling(d: dict):
    k, s = d["kernel"], d["stride"]
    big = d.get("unpooled_big")
    shapes = [(4, 4), d["values"].shape, d["indices"].shape, d["unpooled"].shape]
    fig = new_figure(*_size([*shapes, big.shape if big is not None else (0, 0)], 0.72))
    axes = grid_row(fig, [*shapes, big.shape] if big is not None else shapes)
    block = (s, s) if k == s else None
    draw_grid(
        axes[0],
        d["input"],
        block=block,
        highlight=_mask((4, 4), d["argmax_input"]),
        corner_index=True,
        title=f"input, max_pool({k}, stride={s})\nred: maxima, orange: position",
    )
    draw_grid(axes[1], d["values"], title="pooled")
    draw_grid(axes[2], d["indices"], cmap="Oranges", title="indices")
    draw_grid(
        axes[3],
        d["unpooled"],
        block=block,
        corner_index=True,
        highlight=_mask(d["unpooled"].shape, d["argmax_input"]),
        title="max_unpool:\nback where they came from",
    )
    if big is not None:
        draw_grid(
            axes[4],
            big,
            corner_index=True,
            highlight=_mask(big.shape, d["argmax_big"]),
            title=f"output_size={big.shape}: the same\npositions in a wider plane",
        )
    fig.suptitle("Max unpooling: remember where each maximum was", fontsize=14)
    return fig


def bilinear(d: dict):
    fig = new_figure(17, 6.2)
    axes = fig.subplots(1, 3, gridspec_kw={"width_ratios": [5, 4, 4]})
    ax = axes[0]
    x = d["input"]
    sx, sy, p, q, star = d["sx"], d["sy"], d["P"], d["Q"], d["star"]
    for (r, c), v in np.ndenumerate(x):
        ax.plot(c, r, "s", ms=16, color="#9ecae1", zorder=2)
        ax.annotate(
            f"{v:g}", (c, r), xytext=(0, 14), textcoords="offset points", ha="center", fontsize=13
        )
    ax.plot([0, 1], [0, 0], color="#9a9a9a", lw=1)
    ax.plot([0, 1], [1, 1], color="#9a9a9a", lw=1)
    ax.plot([sx, sx], [0, 1], ls="--", color=ACCENT, lw=1.2)
    ax.plot([sx, sx], [0, 1], "o", color=ACCENT, ms=9, zorder=3)
    ax.plot([sx], [sy], "*", color=HIGHLIGHT, ms=22, zorder=3)
    for name, value, y in (("P", p, 0), ("Q", q, 1)):
        ax.annotate(
            f"{name} = {value:.4f}",
            (sx, y),
            xytext=(8, -18),
            textcoords="offset points",
            color=ACCENT,
            fontsize=12,
        )
    ax.annotate(
        f"★ = {star:.4f}",
        (sx, sy),
        xytext=(14, -5),
        textcoords="offset points",
        color=HIGHLIGHT,
        fontsize=13,
    )
    ax.set_xlim(-0.3, 1.5)
    ax.set_ylim(1.3, -0.35)
    ax.set_aspect("equal")
    ax.set_xticks([0, sx, 1], ["0", f"{sx:.4g}", "1"])
    ax.set_yticks([0, sy, 1], ["0", f"{sy:.4g}", "1"])
    (a, b), (c, e) = x
    i, j = d["at"]
    ax.set_xlabel(
        f"P = {a:g} + ({b:g} - {a:g}) x {sx:.4g} = {p:.4f}\n"
        f"Q = {c:g} + ({e:g} - {c:g}) x {sx:.4g} = {q:.4f}\n"
        f"★ = P + (Q - P) x {sy:.4g} = {star:.4f}",
        fontsize=12,
        family="monospace",
        loc="left",
    )
    ax.set_title(f"output ({i}, {j}), align_corners=True:\nx = {sx:.4g}, y = {sy:.4g}", fontsize=12)
    hl = _mask((4, 4), [d["at"]])
    draw_grid(
        axes[1],
        d["align_corners=True"],
        highlight=hl,
        fmt=".4f",
        fontsize=11,
        title="x2, align_corners=True\n(the seed's output)",
    )
    draw_grid(
        axes[2],
        d["align_corners=False"],
        fmt=".4f",
        fontsize=11,
        title="x2, align_corners=False\n(the default: half-pixel centres)",
    )
    fig.suptitle("Bilinear interpolation: linear along x (P, Q), then along y (★)", fontsize=14)
    return fig


def _vector(v, indent: int, per_line: int = 8) -> str:
    """Numbers of ``v`` as a list, integers without decimals, wrapped every ``per_line``."""
    items = [f"{x:g}" if float(x).is_integer() else f"{x:.4g}" for x in np.ravel(v)]
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def conv_matrix(d: dict):
    c = d["C"]
    rows, cols = c.shape
    h, w = d["input_size"]
    k = d["weight"].shape[0]
    cell = 0.5
    left = max(k, w) + 0.5
    fig = new_figure((left + cols + rows) * cell + 3 * GAP, cols * cell + HEAD + 0.6)
    gs = fig.add_gridspec(
        3,
        3,
        width_ratios=[left, cols, rows],
        height_ratios=[max(rows, k) + 1.5, h + 1.5, max(cols - max(rows, k) - h - 3, 3)],
    )
    wl = [[f"w{r}{q}" for q in range(k)] for r in range(k)]
    draw_grid(fig.add_subplot(gs[0, 0]), d["weight"], labels=wl, title=f"kernel {k}x{k}")
    xl = [[f"x{r * w + q}" for q in range(w)] for r in range(h)]
    draw_grid(
        fig.add_subplot(gs[1, 0]),
        np.ones((h, w)),
        labels=xl,
        cmap="Greys",
        vmax=4,
        title=f"input {h}x{w}",
    )
    xs = [f"x{i}" for i in range(cols)]
    ys = [f"y{i}" for i in range(rows)]
    draw_grid(
        fig.add_subplot(gs[0, 1]),
        c,
        labels=d["labels"],
        fontsize=9,
        col_names=xs,
        row_names=ys,
        title=f"C, {rows}x{cols}: conv(x) = C @ x.ravel()",
    )
    ax = fig.add_subplot(gs[1:, 1])
    ax.axis("off")
    flat = d["check_input"].ravel()
    g = d["transpose_input"].ravel()
    pad = 22
    lines = [
        "checked on numbers:",
        f"{'x.ravel()':<{pad}}= {_vector(flat, pad + 1)}",
        f"{'C @ x.ravel()':<{pad}}= {_vector(c @ flat, pad + 1)}",
        f"{'conv(x, w).ravel()':<{pad}}= {_vector(d['check_output'], pad + 1)}",
        "",
        f"{'y':<{pad}}= {_vector(g, pad + 1)}",
        f"{'C^T @ y':<{pad}}= {_vector(c.T @ g, pad + 1)}",
        f"{'conv_transpose(y, w)':<{pad}}= {_vector(d['transpose_output'], pad + 1)}",
        "",
        f"The kernel holds 1..{k * k}, so each entry of C names its tap w_ij.",
    ]
    ax.text(
        0.0,
        1.0,
        "\n".join(lines),
        fontsize=10.5,
        va="top",
        family="monospace",
        transform=ax.transAxes,
    )
    draw_grid(
        fig.add_subplot(gs[:, 2]),
        c.T,
        labels=[list(r) for r in zip(*d["labels"], strict=True)],
        fontsize=9,
        col_names=ys,
        row_names=xs,
        title=f"C^T, {cols}x{rows}",
    )
    fig.suptitle(
        "Convolution as a sparse matrix C; the transposed convolution multiplies by C^T",
        fontsize=14,
    )
    return fig


def transposed_conv(d: dict):
    k, s, p = d["kernel"], d["stride"], d["padding"]
    out = d["output"]
    pad, ins = d["padded"], d["inserted"]
    top_shapes = [(2, 2), (k, k), *[out.shape] * 4]
    bottom_shapes = [ins.shape, pad.shape, (k, k), out.shape]
    total = max(sum(c for _, c in top_shapes), sum(c for _, c in bottom_shapes))
    w1, h1 = _size(top_shapes)
    w2, h2 = _size(bottom_shapes)
    fig = new_figure(max(w1, w2), h1 + h2 + 0.6)
    top, bottom = fig.subfigures(2, 1, height_ratios=[h1, h2])
    axes = grid_row(top, top_shapes, total_cols=total)
    fs = 10 if out.shape[0] <= 7 else 7
    draw_grid(axes[0], d["input"], title="input x")
    draw_grid(axes[1], d["weight"], cmap="Oranges", title="kernel w")
    total_out = np.zeros_like(out)
    for i, (step, (r0, c0)) in enumerate(zip(d["steps"], d["step_origin"], strict=True)):
        total_out = total_out + step
        r, c = divmod(i, 2)
        draw_grid(
            axes[2 + i],
            total_out,
            outline=[(r0, c0, k, k)],
            fontsize=fs,
            outline_colour="#e6550d",
            title=f"step {i + 1}: + x[{r},{c}]·w = {d['input'][r, c]:g}·w",
        )
    top.suptitle(
        f"1) direct: each input value times the kernel, added into the output at stride {s}"
        + (f", then {p} cropped from each edge" if p else "")
        + " (overlaps add up)",
        fontsize=13,
    )
    axes = grid_row(bottom, bottom_shapes, total_cols=total)
    draw_grid(axes[0], ins, title=f"{s - 1} zero(s)\nbetween inputs")
    b = d["border"]
    draw_grid(
        axes[1],
        pad,
        outline=[(b, b, *ins.shape)] if b >= 0 else None,
        fontsize=fs,
        outline_colour="#e6550d",
        title=f"a border of\nk - 1 - p = {b} zeros",
    )
    draw_grid(axes[2], d["flipped"], cmap="Oranges", title="flipped\nkernel")
    draw_grid(
        axes[3], d["zero_insertion"], fontsize=fs, title="stride-1 convolution:\nthe same output"
    )
    bottom.suptitle(
        "2) zero insertion: spread the input with zeros, then an ordinary convolution", fontsize=13
    )
    fig.suptitle(
        f"Transposed convolution: 2x2 input, {k}x{k} kernel, stride {s}, padding {p} "
        f"-> {out.shape[0]}x{out.shape[1]}",
        fontsize=14,
    )
    return fig


def checkerboard(d: dict):
    rows = d["rows"]
    s = d["stride"]
    shapes = [[r["tiled"].shape, r["output"].shape] for r in rows]
    total = max(sum(c for _, c in row) for row in shapes)
    sizes = [_size(row, 0.48) for row in shapes]
    fig = new_figure(max(w for w, _ in sizes), sum(h for _, h in sizes) + 0.6)
    subs = np.atleast_1d(fig.subfigures(len(rows), 1, height_ratios=[h for _, h in sizes]))
    for sub, row, row_shapes in zip(subs, rows, shapes, strict=True):
        k = row["kernel"]
        axes = grid_row(sub, row_shapes, total_cols=total)
        uniform = np.all(row["overlap"] == row["overlap"].flat[0])
        draw_grid(
            axes[0],
            row["tiled"],
            block=(s, s),
            cmap="Purples",
            fontsize=10,
            title=f"taps reaching each output\n(one {s}x{s} period: {row['overlap'].tolist()})",
        )
        n = row["output"].shape[0]
        draw_grid(
            axes[1],
            row["output"],
            fmt=".2f",
            fontsize=7 if n > 10 else 9,
            cmap="Purples",
            title="a constant image through it (constant kernel,\n"
            "scaled so that even overlap gives 1)",
        )
        verdict = "even overlap: no checkerboard" if uniform else "uneven overlap: checkerboard"
        sub.suptitle(f"kernel {k}, stride {s}: {verdict}", fontsize=13)
    fig.suptitle("Checkerboard artifacts of transposed convolutions", fontsize=14)
    return fig


def deconvolution(d: dict):
    fig = new_figure(18, 5.4)
    axes = fig.subplots(1, 5, gridspec_kw={"width_ratios": [3, 4, 4, 4, 4]})
    k, denominator = d["kernel"], d["weight_denominator"]
    draw_grid(
        axes[0],
        d["weight"] * denominator,
        fontsize=10 if k <= 5 else 7,
        cmap="Oranges",
        title=f"kernel f (x 1/{denominator})",
    )
    g, h = d["image"], d["conv"]
    show_image(axes[1], g[None], f"g, the input ({g.shape[0]}x{g.shape[1]})")
    show_image(axes[2], h[None], f"h = conv(g, f)  ({h.shape[0]}x{h.shape[1]})")
    show_image(
        axes[3],
        d["transposed"][None],
        f"conv_transpose(h, f)\n{d['psnr_transposed']:.1f} dB: not an inverse",
    )
    verdict = "the smallest g giving h" if d["underdetermined"] else "g recovered"
    show_image(
        axes[4],
        d["deconvolved"][None],
        f"deconvolve(h, f)\n{d['psnr_deconvolved']:.1f} dB: {verdict}",
    )
    fig.suptitle(
        "Deconvolution finds g from h and f; the transposed convolution only brings back the shape"
        f"\n(kernel {k}, stride {d['stride']}, padding {d['padding']}; dB: PSNR against g"
        + ("; h has fewer values than g, so no inverse exists" if d["underdetermined"] else "")
        + ")",
        fontsize=13,
    )
    return fig


DRAW = {
    "unpooling": unpooling,
    "max-unpooling": max_unpooling,
    "bilinear": bilinear,
    "conv-matrix": conv_matrix,
    "transposed-conv": transposed_conv,
    "checkerboard": checkerboard,
    "deconvolution": deconvolution,
}
