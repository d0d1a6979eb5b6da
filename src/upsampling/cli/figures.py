"""Drawing with matplotlib (imported here, lazily): number grids, image tiles, saving.

Figures are built on :class:`matplotlib.figure.Figure` directly, without pyplot, so nothing global
(backends, open figures) is touched and the Agg renderer is used for PNG.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from .io import write_atomic

__all__ = [
    "cell_mask",
    "crops_figure",
    "detail_box",
    "draw_grid",
    "figure_format",
    "grid_row",
    "grid_size",
    "mark_points",
    "new_figure",
    "save_figure",
    "show_image",
    "vector_text",
]

FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
HIGHLIGHT = "#d62728"
ACCENT = "#1f77b4"
TITLE = 12  # points, every panel title
CELL = 0.55  # inches per matrix cell
GAP = 0.6  # inches between panels
HEAD = 1.5  # inches for the titles of a row


def new_figure(width: float, height: float):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    fig.get_layout_engine().set(w_pad=0.06, h_pad=0.06, wspace=0.06, hspace=0.06)
    return fig


def figure_format(path: str | os.PathLike) -> str | None:
    return FORMATS.get(os.path.splitext(os.fspath(path))[1].lower())


def save_figure(fig, path: str | os.PathLike, *, force: bool, dpi: int = 110) -> None:
    """Write ``fig`` atomically as PNG, SVG or PDF (chosen by the suffix)."""
    fmt = figure_format(path) or "png"
    meta = {"Software": None} if fmt == "png" else {"Date": None} if fmt == "svg" else None
    write_atomic(path, lambda f: fig.savefig(f, format=fmt, dpi=dpi, metadata=meta), force=force)


def _text(v: float, fmt: str) -> str:
    if fmt == "g":
        return f"{v:.4g}" if v != int(v) else f"{int(v)}"
    return format(v, fmt)


def draw_grid(
    ax,
    values,
    *,
    title: str = "",
    labels: Sequence[Sequence[str]] | None = None,
    highlight=None,
    outline=None,
    block: tuple[int, int] | None = None,
    cmap: str = "Blues",
    vmax: float | None = None,
    fmt: str = "g",
    fontsize: float = 11,
    blank_zeros: bool = False,
    corner_index: bool = False,
    index_fontsize: float | None = None,
    outline_colour: str = HIGHLIGHT,
    row_names: Sequence[str] | None = None,
    col_names: Sequence[str] | None = None,
) -> None:
    """A matrix as a grid of cells with its numbers (or ``labels``) written in them.

    ``highlight``: boolean mask of cells drawn with a red frame; ``outline``: list of
    ``(row, col, height, width)`` rectangles drawn in blue; ``block``: thicker lines every
    ``block`` cells (e.g. the pooling windows); ``corner_index``: each cell's flat (row-major)
    position in small print (``index_fontsize`` points, default 0.6 of ``fontsize``);
    ``row_names`` / ``col_names``: tick labels.
    """
    from matplotlib.patches import Rectangle

    a = np.asarray(values, dtype=np.float64)
    if a.ndim == 1:
        a = a[None]
    rows, cols = a.shape
    top = vmax if vmax is not None else max(float(np.nanmax(np.abs(a))), 1e-12)
    ax.imshow(np.abs(a), cmap=cmap, vmin=0, vmax=top * 1.8, interpolation="nearest")
    for r in range(rows):
        for c in range(cols):
            text = labels[r][c] if labels is not None else _text(a[r, c], fmt)
            if blank_zeros and a[r, c] == 0 and labels is None:
                text = ""
            colour = "#9a9a9a" if a[r, c] == 0 else "black"
            ax.text(c, r, text, ha="center", va="center", fontsize=fontsize, color=colour)
            if corner_index:
                ax.text(
                    c - 0.42,
                    r - 0.42,
                    str(r * cols + c),
                    ha="left",
                    va="top",
                    fontsize=fontsize * 0.6 if index_fontsize is None else index_fontsize,
                    color="#e6550d",
                )
    ax.set_xticks(np.arange(-0.5, cols, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, rows, 1), minor=True)
    ax.grid(which="minor", color="#c8c8c8", linewidth=0.8)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    if col_names is not None:
        ax.set_xticks(range(cols), col_names, fontsize=fontsize * 0.8)
        ax.tick_params(labeltop=True, labelbottom=False)
    if row_names is not None:
        ax.set_yticks(range(rows), row_names, fontsize=fontsize * 0.8)
        ax.tick_params(labelleft=True)
    if block is not None:
        for r in range(0, rows + 1, block[0]):
            ax.axhline(r - 0.5, color="#555555", linewidth=1.8)
        for c in range(0, cols + 1, block[1]):
            ax.axvline(c - 0.5, color="#555555", linewidth=1.8)
    if highlight is not None:
        for r, c in zip(*np.nonzero(np.asarray(highlight)), strict=True):
            ax.add_patch(
                Rectangle((c - 0.45, r - 0.45), 0.9, 0.9, fill=False, lw=2.4, ec=HIGHLIGHT)
            )
    for r, c, h, w in outline or ():
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), w, h, fill=False, lw=2.8, ec=outline_colour))
    ax.set_xlim(-0.5, cols - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)
    if title:
        ax.set_title(title, fontsize=TITLE)


def grid_size(shapes, cell: float = CELL, extra_rows: float = 0.0) -> tuple[float, float]:
    """Width and height (inches) of a row of matrices of ``shapes`` with ``cell``-inch cells."""
    width = sum(c for _, c in shapes) * cell + GAP * len(shapes)
    height = max(r for r, _ in shapes) * cell + HEAD + extra_rows
    return max(width, 6.0), height


def cell_mask(shape, positions) -> np.ndarray:
    """A boolean ``shape`` mask, true at the ``(row, col)`` positions that lie inside it."""
    m = np.zeros(shape, dtype=bool)
    for r, c in positions:
        if 0 <= r < shape[0] and 0 <= c < shape[1]:
            m[r, c] = True
    return m


def vector_text(v, indent: int, per_line: int = 8) -> str:
    """Numbers of ``v`` as a list, integers without decimals, wrapped every ``per_line``."""
    items = [f"{x:g}" if float(x).is_integer() else f"{x:.4g}" for x in np.ravel(v)]
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def mark_points(ax, xs, ys, labels: Sequence[str]) -> None:
    """Orange diamonds at ``(xs, ys)`` (data coordinates), under a grid's numbers, each with
    its label in bold beside it."""
    ax.scatter(xs, ys, s=300, marker="D", color="#fd8d3c", alpha=0.6, zorder=2)
    for x, y, label in zip(xs, ys, labels, strict=True):
        ax.annotate(
            label,
            (x, y),
            xytext=(9, 7),
            textcoords="offset points",
            fontsize=10,
            weight="bold",
            color="#a63603",
            zorder=4,
        )


def grid_row(container, shapes, *, total_cols: int | None = None) -> list:
    """Axes side by side for matrices of ``shapes`` (rows, cols) with cells of one size.

    The width ratios follow the column counts; ``total_cols`` pads the row with empty space
    (split between both ends) so that rows of one figure share the cell size.
    """
    cols = [c for _, c in shapes]
    spare = max(0, (total_cols or 0) - sum(cols))
    ratios = ([spare / 2] if spare else []) + cols + ([spare / 2] if spare else [])
    axes = list(
        container.subplots(1, len(ratios), gridspec_kw={"width_ratios": ratios}, squeeze=False)[0]
    )
    if spare:
        axes[0].axis("off")
        axes[-1].axis("off")
        axes = axes[1:-1]
    return axes


def show_image(
    ax, image: np.ndarray, title: str = "", fontsize: float = 10, *, vmax: float = 1.0
) -> None:
    """``(C, H, W)`` in [0, ``vmax``] (1 or 3 channels) shown pixel for pixel, ``vmax`` white."""
    a = np.clip(np.asarray(image, dtype=np.float32) / np.float32(vmax), 0, 1)
    if a.shape[0] == 1:
        ax.imshow(a[0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    else:
        ax.imshow(a[:3].transpose(1, 2, 0), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=fontsize)


def crops_figure(original, low, results, box: tuple[int, int, int, int], scale: int, title=""):
    """Tiles: the whole image with the crop marked, then the crop of the original, of the
    down-sampled input (enlarged) and of every method's output, with PSNR and SSIM."""
    from matplotlib.patches import Rectangle

    top, left, h, w = box
    tiles = [("original", original[0][:, top : top + h, left : left + w])]
    lt, ll = top // scale, left // scale
    small = low[0][:, lt : lt + h // scale, ll : ll + w // scale]
    tiles.append((f"input, down-sampled x{scale}", small))
    for r in results:
        crop = r.image[0][:, top : top + h, left : left + w]
        tiles.append((f"{r.label}\n{r.psnr:.2f} dB, SSIM {r.ssim:.3f}", crop))
    cols = 4
    n = len(tiles) + 1
    rows = -(-n // cols)
    fig = new_figure(3.2 * cols, 3.45 * rows)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    show_image(axes[0], original[0], "whole image")
    axes[0].add_patch(Rectangle((left - 0.5, top - 0.5), w, h, fill=False, lw=1.5, ec="yellow"))
    for ax, (name, img) in zip(axes[1:], tiles, strict=False):
        show_image(ax, img, name)
    for ax in axes[n:]:
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=12)
    return fig


def detail_box(image: np.ndarray, scale: int) -> tuple[int, int, int, int]:
    """A square crop (a quarter of the shorter side, at least 16 px, a multiple of ``scale``)
    where the image has the most detail (gradient energy), for zoomed comparisons."""
    g = np.asarray(image[0], dtype=np.float64).mean(0)
    hh, ww = g.shape
    size = max(16, min(hh, ww) // 4)
    size = min(size - size % scale, hh - hh % scale, ww - ww % scale)
    energy = np.zeros_like(g)
    energy[:, 1:] += np.abs(np.diff(g, axis=1))
    energy[1:, :] += np.abs(np.diff(g, axis=0))
    integral = np.pad(energy.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    best, where = -1.0, (0, 0)
    step = max(scale, (size // 4) // scale * scale)
    for t in range(0, hh - size + 1, step):
        for left in range(0, ww - size + 1, step):
            s = (
                integral[t + size, left + size]
                - integral[t, left + size]
                - integral[t + size, left]
                + integral[t, left]
            )
            if s > best:
                best, where = s, (t, left)
    return (*where, size, size)
