"""Lay out the numbers of :mod:`.explain` as figures (no computing here, only drawing).

Matrices are drawn with cells of one size across the panels of a figure (:func:`grid_row`), and
the figure's size follows from the number of cells, so the numbers stay legible for any
``--kernel``, ``--stride`` and ``--padding``.
"""

from __future__ import annotations

import numpy as np

from .figures import (
    ACCENT,
    GAP,
    HEAD,
    HIGHLIGHT,
    TITLE,
    cell_mask,
    draw_grid,
    grid_row,
    grid_size,
    mark_points,
    new_figure,
    show_image,
    vector_text,
)


def unpooling(d: dict):
    s = d["stride"]
    shapes = [d["input"].shape, d["nearest"].shape, d["bed_of_nails"].shape]
    cell = max(0.35, 0.8 * 2 / s)
    fig = new_figure(*grid_size(shapes, cell))
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


INDEX_POINTS = 11  # the flat position printed in each cell of max-unpooling: legible projected


def max_unpooling(d: dict):
    k, s = d["kernel"], d["stride"]
    big = d.get("unpooled_big")
    shapes = [(4, 4), d["values"].shape, d["indices"].shape, d["unpooled"].shape]
    fig = new_figure(*grid_size([*shapes, big.shape if big is not None else (0, 0)], 0.95))
    axes = grid_row(fig, [*shapes, big.shape] if big is not None else shapes)
    block = (s, s) if k == s else None
    cells = {"fontsize": 15, "index_fontsize": INDEX_POINTS}
    draw_grid(
        axes[0],
        d["input"],
        block=block,
        highlight=cell_mask((4, 4), d["argmax_input"]),
        corner_index=True,
        title=f"input, max_pool({k}, stride={s})\nred: maxima, orange: flat position",
        **cells,
    )
    draw_grid(axes[1], d["values"], title="pooled", fontsize=15)
    draw_grid(axes[2], d["indices"], cmap="Oranges", title="indices\n(flat positions)", fontsize=15)
    draw_grid(
        axes[3],
        d["unpooled"],
        block=block,
        corner_index=True,
        highlight=cell_mask(d["unpooled"].shape, d["argmax_input"]),
        title="max_unpool:\nback where they came from",
        **cells,
    )
    if big is not None:
        flat = ", ".join(str(int(i)) for i in d["indices"].ravel())
        draw_grid(
            axes[4],
            big,
            corner_index=True,
            highlight=cell_mask(big.shape, d["argmax_big"]),
            title=f"output_size={big.shape}: the same flat indices\n"
            f"({flat}) in rows of {big.shape[1]}: the values move",
            **cells,
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
    hl = cell_mask((4, 4), [d["at"]])
    where = {True: "on the corner outputs", False: "half-way between outputs"}
    for ax, ac in ((axes[1], True), (axes[2], False)):
        draw_grid(
            ax,
            d[f"align_corners={ac}"],
            highlight=hl if ac else None,
            fmt=".4f",
            fontsize=11,
            title=f"x2, align_corners={ac}{'' if ac else ' (default)'}:\n◆ inputs {where[ac]}",
        )
        cols, rows = np.meshgrid(d["inputs_at"][ac], d["inputs_at"][ac])
        mark_points(ax, cols.ravel(), rows.ravel(), [f"{v:g}" for v in x.ravel()])
    fig.suptitle("Bilinear interpolation: linear along x (P, Q), then along y (★)", fontsize=14)
    return fig


def conv_matrix(d: dict):
    c = d["C"]
    rows, cols = c.shape
    h, w = d["input_size"]
    oh, ow = d["output_size"]
    k = d["weight"].shape[0]
    shapes = (
        f"C ({rows}x{cols}) · x ({cols}x1) = y ({rows}x1)\n"
        f"C^T ({cols}x{rows}) · g ({rows}x1) = conv_transpose(g, w) ({cols}x1)"
    )
    lines = _conv_matrix_check(d)
    cell = 0.5
    text_cells = (2 * 14 + len(lines) * 11) * 1.25 / (72 * cell) + 1  # points to cells
    heights = [max(rows, k) + 1.5, h + 1.5, max(oh + 1.5, text_cells - h - 1.5)]
    heights[2] += max(0.0, cols + 1.5 - sum(heights))  # C^T spans all three rows
    left = max(k, w, ow) + 0.5
    fig = new_figure((left + cols + rows) * cell + 3 * GAP, sum(heights) * cell + HEAD)
    gs = fig.add_gridspec(3, 3, width_ratios=[left, cols, rows], height_ratios=heights)
    wl = [[f"w{r}{q}" for q in range(k)] for r in range(k)]
    draw_grid(fig.add_subplot(gs[0, 0]), d["weight"], labels=wl, title=f"kernel {k}x{k}")
    for where, (n, m), name, title in (
        (gs[1, 0], (h, w), "x", f"input x, {h}x{w}"),
        (gs[2, 0], (oh, ow), "y", f"output y = conv(x, w), {oh}x{ow}"),
    ):
        spare = (left - m) / 2  # cells of one size: pad the narrower grid on both sides
        sub = where.subgridspec(1, 3, width_ratios=[spare, m, spare], wspace=0)
        draw_grid(
            fig.add_subplot(sub[0, 1]),
            np.ones((n, m)),
            labels=[[f"{name}{r * m + q}" for q in range(m)] for r in range(n)],
            cmap="Greys",
            vmax=4,
            title=title,
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
        title=f"C, {rows}x{cols}: y.ravel() = C @ x.ravel()",
    )
    ax = fig.add_subplot(gs[1:, 1])
    ax.axis("off")
    ax.text(0.0, 1.0, shapes, fontsize=14, va="top", family="monospace", transform=ax.transAxes)
    ax.annotate(
        "\n".join(lines),
        (0.0, 1.0),
        xycoords="axes fraction",
        xytext=(0, -2 * 14 * 1.25 - 12),
        textcoords="offset points",
        fontsize=11,
        va="top",
        family="monospace",
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


def _conv_matrix_check(d: dict) -> list[str]:
    """The lines that check C and C^T against conv and conv_transpose on numbers."""
    c, k = d["C"], d["weight"].shape[0]
    flat = d["check_input"].ravel()
    g = d["transpose_input"].ravel()
    pad = 23
    text = "\n".join(
        [
            "checked on numbers:",
            f"{'x.ravel()':<{pad}}= {vector_text(flat, pad + 1)}",
            f"{'C @ x.ravel()':<{pad}}= {vector_text(c @ flat, pad + 1)}",
            f"{'y = conv(x, w).ravel()':<{pad}}= {vector_text(d['check_output'], pad + 1)}",
            "",
            f"{'g':<{pad}}= {vector_text(g, pad + 1)}",
            f"{'C^T @ g':<{pad}}= {vector_text(c.T @ g, pad + 1)}",
            f"{'conv_transpose(g, w)':<{pad}}= {vector_text(d['transpose_output'], pad + 1)}",
            "",
            f"The kernel holds 1..{k * k}, so each entry of C names its tap w_ij;",
            f"row i of C is output y_i, column j is input x_j (stride {d['stride']},",
            f"padding {d['padding']}).",
        ]
    )
    return text.split("\n")


def transposed_conv(d: dict):
    k, s, p = d["kernel"], d["stride"], d["padding"]
    out = d["output"]
    pad, ins = d["padded"], d["inserted"]
    top_shapes = [(2, 2), (k, k), *[out.shape] * 4]
    bottom_shapes = [ins.shape, pad.shape, (k, k), out.shape]
    total = max(sum(c for _, c in top_shapes), sum(c for _, c in bottom_shapes))
    w1, h1 = grid_size(top_shapes)
    w2, h2 = grid_size(bottom_shapes)
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
    photo = d["photo_input"].shape
    shapes = [[r["tiled"].shape, r["output"].shape, (9, 9)] for r in rows]  # 9 cells: the photo
    total = max(sum(c for _, c in row) for row in shapes)
    sizes = [grid_size(row, 0.48) for row in shapes]
    fig = new_figure(max(w for w, _ in sizes), sum(h for _, h in sizes) + 0.6)
    subs = np.atleast_1d(fig.subfigures(len(rows), 1, height_ratios=[h for _, h in sizes]))
    for sub, row, row_shapes in zip(subs, rows, shapes, strict=True):
        k, p = row["kernel"], row["padding"]
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
            title="a constant image through it\n(constant kernel: even overlap gives 1)",
        )
        top = float(row["photo"].max())
        show_image(
            axes[2],
            row["photo"][None],
            f"a {photo[0]}x{photo[1]} crop of the sample photo\nthrough it "
            f"(shown 0 to its max, {top:.2f})",
            fontsize=TITLE,
            vmax=top,
        )
        verdict = "even overlap: no checkerboard" if uniform else "uneven overlap: checkerboard"
        crop = f", padding {p} (crops the edge outputs that fewer inputs reach)" if p else ""
        sub.suptitle(f"kernel {k}, stride {s}{crop}: {verdict}", fontsize=13)
    fig.suptitle("Checkerboard artifacts of transposed convolutions", fontsize=14)
    return fig


def deconvolution(d: dict):
    fig = new_figure(18, 9.8)
    gs = fig.add_gridspec(2, 5, width_ratios=[3, 4, 4, 4, 4])
    axes = [fig.add_subplot(gs[0, i]) for i in range(5)]
    k, denominator = d["kernel"], d["weight_denominator"]
    draw_grid(
        axes[0],
        d["weight"] * denominator,
        fontsize=10 if k <= 5 else 7,
        cmap="Oranges",
        title=f"kernel f (x 1/{denominator})",
    )
    g, h, t = d["image"], d["conv"], d["transposed"]
    show_image(axes[1], g[None], f"g, the input ({g.shape[0]}x{g.shape[1]})")
    show_image(axes[2], h[None], f"h = conv(g, f)  ({h.shape[0]}x{h.shape[1]})")
    top = max(float(t.max()), 1e-12)  # stride s spreads each value over s^2 times fewer taps
    show_image(
        axes[3],
        t[None],
        f"conv_transpose(h, f), shown 0 to its max ({top:.2f})\n"
        f"{d['psnr_transposed']:.1f} dB: not an inverse",
        vmax=top,
    )
    verdict = "the smallest g giving h" if d["underdetermined"] else "g recovered"
    show_image(
        axes[4],
        d["deconvolved"][None],
        f"deconvolve(h, f)\n{d['psnr_deconvolved']:.1f} dB: {verdict}",
    )
    _noisy_row(fig, gs, d)
    fig.suptitle(
        "Deconvolution finds g from h and f; the transposed convolution only brings back the shape"
        f"\n(kernel {k}, stride {d['stride']}, padding {d['padding']}; dB: PSNR against g"
        + ("; h has fewer values than g, so no inverse exists" if d["underdetermined"] else "")
        + ")",
        fontsize=13,
    )
    return fig


def _noisy_row(fig, gs, d: dict) -> None:
    """The second row: h with a little noise, deconvolved undamped and damped."""
    sigma, damp = d["noise"], d["damp"]
    amplified = d["psnr_amplified"] < d["psnr_deconvolved"] - 6
    text = fig.add_subplot(gs[1, :2])
    text.axis("off")
    lines = [
        "With noise the inverse is only approximate.",
        "",
        f"h + n: Gaussian noise of σ = {sigma:g}",
        f"({sigma * 255:.1f} of 255 levels), as a camera adds.",
        "",
        *(
            [
                "Undamped, deconvolve divides by the small",
                "singular values of conv, and n grows with",
                f"them (LSQR stopped at tol={d['noisy_tol']:g}; it grows",
                "further as it converges).",
            ]
            if amplified
            else [
                "Undamped, deconvolve divides by the",
                "singular values of conv: none is small",
                "here, so n passes through, no larger.",
            ]
        ),
        "",
        f"damp={damp:g} (Tikhonov) keeps the solution",
        "small: stable, at the cost of detail.",
    ]
    text.text(0.02, 0.95, "\n".join(lines), fontsize=12, va="top", transform=text.transAxes)
    noisy = d["noisy"]
    show_image(fig.add_subplot(gs[1, 2]), noisy[None], f"h + n  (σ = {sigma:g})")
    show_image(
        fig.add_subplot(gs[1, 3]),
        d["amplified"][None],
        f"deconvolve(h + n, f)\n{d['psnr_amplified']:.1f} dB: "
        + ("the noise is amplified" if amplified else "the noise passes through"),
    )
    show_image(
        fig.add_subplot(gs[1, 4]),
        d["damped"][None],
        f"deconvolve(h + n, f, damp={damp:g})\n{d['psnr_damped']:.1f} dB: approximate",
    )


DRAW = {
    "unpooling": unpooling,
    "max-unpooling": max_unpooling,
    "bilinear": bilinear,
    "conv-matrix": conv_matrix,
    "transposed-conv": transposed_conv,
    "checkerboard": checkerboard,
    "deconvolution": deconvolution,
}
