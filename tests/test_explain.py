"""``upsampling explain``: the numbers behind every figure come from the operators and agree with
the worked examples; the figures show what they claim (read back from the matplotlib Figure);
every topic writes a valid PNG and SVG; bad options get one clear line."""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from upsampling.cli.app import app
from upsampling.cli.explain import TOPICS, topic_data
from upsampling.cli.io import CliError


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def needs(topic: str) -> None:
    missing = TOPICS[topic].missing()
    if missing:
        pytest.skip(f"{', '.join(missing)} not there yet")


# ------------------------------------------------------------------------ numbers per topic
@pytest.mark.parametrize("stride", [2, 3])
def test_unpooling_numbers(stride):
    d = topic_data("unpooling", stride=stride)
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(d["nearest"], np.kron(x, np.ones((stride, stride))))
    nails = np.zeros((2 * stride, 2 * stride))
    nails[::stride, ::stride] = x
    np.testing.assert_array_equal(d["bed_of_nails"], nails)


def test_max_unpooling_numbers_of_the_worked_example():
    d = topic_data("max-unpooling")
    np.testing.assert_array_equal(d["values"], [[6, 8], [14, 16]])
    np.testing.assert_array_equal(d["indices"], [[5, 7], [13, 15]])
    expected_4x4 = [[0, 0, 0, 0], [0, 6, 0, 8], [0, 0, 0, 0], [0, 14, 0, 16]]
    expected_5x5 = [
        [0, 0, 0, 0, 0],
        [6, 0, 8, 0, 0],
        [0, 0, 0, 14, 0],
        [16, 0, 0, 0, 0],
        [0, 0, 0, 0, 0],
    ]
    np.testing.assert_array_equal(d["unpooled"], expected_4x4)
    np.testing.assert_array_equal(d["unpooled_big"], expected_5x5)
    # the highlighted cells are exactly where the values landed
    for positions, grid in (
        (d["argmax_input"], d["unpooled"]),
        (d["argmax_big"], d["unpooled_big"]),
    ):
        assert sorted(grid[r, c] for r, c in positions) == [6, 8, 14, 16]


def test_max_unpooling_with_overlapping_windows():
    d = topic_data("max-unpooling", kernel=3, stride=1)
    assert d["values"].shape == (2, 2)
    np.testing.assert_array_equal(d["values"], [[11, 12], [15, 16]])
    assert "unpooled_big" not in d  # stride 1: output_size can only be the default


def test_bilinear_numbers_of_the_worked_example():
    needs("bilinear")
    d = topic_data("bilinear")
    expected = [
        [6.0000, 7.3333, 8.6667, 10.0000],
        [7.0000, 8.2222, 9.4444, 10.6667],
        [8.0000, 9.1111, 10.2222, 11.3333],
        [9.0000, 10.0000, 11.0000, 12.0000],
    ]
    np.testing.assert_allclose(d["align_corners=True"], expected, atol=5e-5)
    np.testing.assert_allclose(d["coords"], [0, 1 / 3, 2 / 3, 1], atol=1e-12)
    assert d["P"] == pytest.approx(6 + 4 / 3) and d["Q"] == pytest.approx(10.0)
    assert d["star"] == pytest.approx(d["align_corners=True"][d["at"]])
    np.testing.assert_allclose(
        d["align_corners=False"][0],
        [6.0, 7.0, 9.0, 10.0],  # half-pixel centres, clamped edges
    )


@pytest.mark.parametrize(
    ("kernel", "stride", "padding"), [(3, 1, 0), (2, 2, 0), (3, 2, 1)], ids=str
)
def test_conv_matrix_numbers(kernel, stride, padding):
    needs("conv-matrix")
    d = topic_data("conv-matrix", kernel=kernel, stride=stride, padding=padding)
    c = d["C"]
    assert c.shape == (int(np.prod(d["output_size"])), 16)
    np.testing.assert_allclose(c @ d["check_input"].ravel(), d["check_output"].ravel())
    np.testing.assert_allclose(c.T @ d["transpose_input"].ravel(), d["transpose_output"].ravel())
    np.testing.assert_array_equal(d["CT"], c.T)
    # every non-zero entry is labelled with the kernel tap holding that value
    for (r, col), v in np.ndenumerate(c):
        label = d["labels"][r][col]
        assert (label == "") == (v == 0)
        if v:
            i, j = int(label[1]), int(label[2])
            assert d["weight"][i, j] == v


def test_conv_matrix_default_is_4x16():
    needs("conv-matrix")
    d = topic_data("conv-matrix")
    assert d["C"].shape == (4, 16)
    assert d["labels"][0][:11] == [
        "w00",
        "w01",
        "w02",
        "",
        "w10",
        "w11",
        "w12",
        "",
        "w20",
        "w21",
        "w22",
    ]
    assert d["labels"][3][-1] == "w22"


@pytest.mark.parametrize(
    ("kernel", "stride", "padding"), [(3, 2, 0), (4, 2, 1), (3, 3, 0), (5, 2, 2)], ids=str
)
def test_transposed_conv_methods_agree(kernel, stride, padding):
    needs("transposed-conv")
    d = topic_data("transposed-conv", kernel=kernel, stride=stride, padding=padding)
    size = stride - 2 * padding + kernel
    assert d["output"].shape == (size, size)
    np.testing.assert_allclose(sum(d["steps"]), d["output"])
    np.testing.assert_allclose(d["zero_insertion"], d["output"])
    np.testing.assert_allclose(d["zero_insertion_method"], d["output"])
    np.testing.assert_array_equal(d["flipped"], d["weight"][::-1, ::-1])
    inserted = np.zeros((stride + 1, stride + 1))
    inserted[::stride, ::stride] = d["input"]
    np.testing.assert_array_equal(d["inserted"], inserted)
    assert d["padded"].shape == (stride + 1 + 2 * (kernel - 1 - padding),) * 2


def test_transposed_conv_default_is_5x5():
    needs("transposed-conv")
    d = topic_data("transposed-conv")
    assert d["output"].shape == (5, 5)
    # step 1 is x[0, 0] times the kernel in the top-left corner
    np.testing.assert_array_equal(d["steps"][0][:3, :3], d["weight"])
    with pytest.raises(CliError, match="--padding 3 must be at most --kernel minus 1"):
        topic_data("transposed-conv", kernel=3, padding=3)


def test_checkerboard_numbers():
    needs("checkerboard")
    from upsampling.conv import conv_transpose

    d = topic_data("checkerboard")
    k3, k4 = d["rows"]
    np.testing.assert_array_equal(k3["overlap"], [[4, 2], [2, 1]])
    np.testing.assert_array_equal(k4["overlap"], [[4, 4], [4, 4]])
    for row in (k3, k4):
        k, p, n = row["kernel"], row["padding"], row["size"]
        assert p == k - 2
        # padding k - s crops exactly the edge outputs that fewer inputs reach: what is left is
        # the overlap pattern (from phase p) and nothing else
        full = conv_transpose(np.ones((1, 1, n, n)), np.full((1, 1, k, k), 4 / k**2), stride=2)
        np.testing.assert_allclose(
            row["output"], full[0, 0, p : full.shape[2] - p, p : full.shape[3] - p]
        )
        pattern = np.roll(row["overlap"], -p, (0, 1)) * 4 / k**2
        m = row["output"].shape[0]
        np.testing.assert_allclose(row["output"], np.tile(pattern, (m, m))[:m, :m])
    np.testing.assert_allclose(k4["output"], 1.0)  # even overlap: no border artefact left


def test_checkerboard_photo_shows_the_pattern_only_for_uneven_overlap():
    """The photograph through each kernel: the four 2x2 phases have equal brightness for kernel
    4 (even overlap) and differ by the overlap ratio for kernel 3."""
    needs("checkerboard")
    d = topic_data("checkerboard")
    assert d["photo_input"].shape == (48, 48) and d["photo_input"].std() > 0.05

    def phase_ratio(img):
        means = [
            img[i : img.shape[0] - 1 : 2, j : img.shape[1] - 1 : 2].mean()
            for i in (0, 1)
            for j in (0, 1)
        ]
        return max(means) / min(means)

    k3, k4 = d["rows"]
    assert phase_ratio(k4["photo"]) < 1.05
    assert phase_ratio(k3["photo"]) > 2.5  # 4 : 2 : 2 : 1 overlaps
    assert k3["photo"].shape == (95, 95) and k4["photo"].shape == (94, 94)


def test_deconvolution_recovers_what_the_transposed_conv_does_not():
    needs("deconvolution")
    d = data("deconvolution")
    assert (d["stride"], d["padding"]) == (1, d["kernel"] - 1)  # a full convolution: injective
    assert d["psnr_deconvolved"] > 35 > 30 > d["psnr_transposed"]
    assert d["transposed"].shape == d["deconvolved"].shape == d["image"].shape


def test_deconvolution_of_a_noisy_h_is_only_approximate():
    """The noisy row: h plus noise of the stated size; undamped, the inverse amplifies it (far
    below the noise-free result and below h + n itself); damping brings most of it back."""
    needs("deconvolution")
    from upsampling.cli.metrics import psnr

    d = data("deconvolution")
    noise = d["noisy"] - d["conv"]
    assert noise.std() == pytest.approx(d["noise"], rel=0.1) and abs(noise.mean()) < 1e-3
    assert d["psnr_amplified"] < d["psnr_deconvolved"] - 20
    inner = d["noisy"][2:-2, 2:-2][None, None]  # h + n on g's pixels: the blur alone
    assert d["psnr_amplified"] < psnr(d["image"][None, None], inner)
    assert d["psnr_damped"] > d["psnr_amplified"] + 15
    assert d["damped"].shape == d["amplified"].shape == d["image"].shape


def test_deconvolution_with_stride_is_consistent_with_the_data():
    needs("deconvolution")
    from upsampling.conv import conv

    d = topic_data("deconvolution", kernel=4, stride=2, padding=1)
    again = conv(d["deconvolved"][None, None], d["weight"][None, None], stride=2, padding=1)
    np.testing.assert_allclose(again[0, 0], d["conv"], atol=1e-4)


# ------------------------------------------------------------------------------------ files
@pytest.mark.parametrize("topic", list(TOPICS))
def test_every_topic_writes_png_and_svg(tmp_path, topic):
    needs(topic)
    png, svg = tmp_path / f"{topic}.png", tmp_path / f"{topic}.svg"
    for path in (png, svg):
        result = invoke("explain", topic, "--out", path)
        assert result.exit_code == 0, result.output
        assert result.stdout.strip() == f"wrote {path}"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(png) as img:
        assert 500 <= img.size[0] <= 3000 and 350 <= img.size[1] <= 3000
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg") and svg.stat().st_size > 10_000


def test_explain_default_name_and_no_overwrite(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert invoke("explain", "unpooling").exit_code == 0
    before = (tmp_path / "unpooling.png").read_bytes()
    again = invoke("explain", "unpooling", "--stride", "3")
    assert again.exit_code == 1
    assert again.stderr.strip() == (
        "upsampling explain: unpooling.png: already exists (use --force to overwrite it)"
    )
    assert (tmp_path / "unpooling.png").read_bytes() == before
    assert invoke("explain", "unpooling", "--stride", "3", "--force").exit_code == 0
    assert (tmp_path / "unpooling.png").read_bytes() != before


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["bilinear", "--kernel", "3"], 1, "topic 'bilinear' takes no options, not --kernel"),
        (["unpooling", "--padding", "1"], 1, "topic 'unpooling' takes --stride, not --padding"),
        (["unpooling", "--out", "x.jpg"], 1, "x.jpg: the file name must end in .png, .svg or .pdf"),
        (["unpooling", "--stride", "0"], 2, "Invalid value for '--stride'"),
        (["wormholes"], 2, "'wormholes' is not one of"),
    ],
    ids=["no-options", "wrong-option", "extension", "stride-0", "unknown-topic"],
)
def test_explain_refuses(tmp_path, monkeypatch, args, code, message):
    monkeypatch.chdir(tmp_path)
    result = invoke("explain", *args)
    assert result.exit_code == code
    assert message in result.output
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(("kernel", "stride"), [(3, 2), (3, 3), (2, 1), (3, 1)])
def test_max_unpooling_windows_that_do_not_tile_the_input(tmp_path, kernel, stride):
    """A kernel of 3 with stride 2 or 3 names positions past the default output size: the
    figure unpools into the size the pooling came from (it exited 2 with an index error)."""
    out = tmp_path / "mu.png"
    args = ["explain", "max-unpooling", "--kernel", str(kernel), "--stride", str(stride)]
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    d = topic_data("max-unpooling", kernel=kernel, stride=stride)
    assert d["unpooled"].shape == (4, 4)
    np.testing.assert_array_equal(d["unpooled"].ravel()[d["indices"].ravel()], d["values"].ravel())


def test_max_unpool_index_error_suggests_output_size():
    import upsampling as up

    x = np.arange(1.0, 17).reshape(1, 1, 4, 4)
    values, indices = up.max_pool(x, 3, 2, return_indices=True)
    with pytest.raises(ValueError, match="pass that input's spatial size as output_size"):
        up.max_unpool(values, indices, 3, 2)
    assert up.max_unpool(values, indices, 3, 2, output_size=(4, 4)).shape == (1, 1, 4, 4)


# ---------------------------------------------------------------------------- the figures
@functools.cache
def data(topic: str, **options) -> dict:
    """``topic_data``, computed once per test session (the figures only read it)."""
    return topic_data(topic, **options)


def figure(topic: str, **options):
    from upsampling.cli.explain_draw import DRAW

    needs(topic)
    return DRAW[topic](data(topic, **options))


def texts(fig) -> list[str]:
    from matplotlib.text import Text

    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def titled(fig, start: str):
    found = [ax for ax in fig.axes if ax.get_title().startswith(start)]
    assert len(found) == 1, [ax.get_title() for ax in fig.axes]
    return found[0]


def test_max_unpooling_figure_says_the_values_move():
    """The wider plane gets the same flat indices, so the values land in other cells; the
    flat positions are printed large enough to read projected."""
    fig = figure("max-unpooling")
    wide = titled(fig, "output_size=(5, 5)")
    assert "the same flat indices" in wide.get_title()
    assert "(5, 7, 13, 15)" in wide.get_title() and "values move" in wide.get_title()
    assert not any("same\npositions" in t or "same positions" in t for t in texts(fig))
    index_labels = [t for t in wide.texts if t.get_color() == "#e6550d"]
    assert [t.get_text() for t in index_labels] == [str(i) for i in range(25)]
    assert min(t.get_fontsize() for t in index_labels) >= 10


def test_checkerboard_figure_shows_the_interior_and_a_photo():
    fig = figure("checkerboard")
    d = data("checkerboard")
    even = [ax for ax in fig.axes if ax.get_title().startswith("a constant image")][1]
    shown = {t.get_text() for t in even.texts}
    assert shown == {"1.00"}  # no 0.25 / 0.50 border left to read as artefacts
    photos = [ax for ax in fig.axes if "crop of the sample photo" in ax.get_title()]
    assert len(photos) == 2
    for ax, row in zip(photos, d["rows"], strict=True):
        (image,) = ax.images
        top = row["photo"].max()
        assert f"{top:.2f}" in ax.get_title()
        np.testing.assert_allclose(image.get_array() * top, row["photo"], rtol=1e-6, atol=1e-7)


def test_deconvolution_figure_normalises_the_transposed_panel():
    """With stride 2 the transposed convolution is about 4 times too dark: the panel shows it
    from 0 to its own maximum, says so, and still holds the operator's numbers."""
    fig = figure("deconvolution", kernel=4, stride=2, padding=1)
    d = data("deconvolution", kernel=4, stride=2, padding=1)
    ax = titled(fig, "conv_transpose(h, f)")
    (image,) = ax.images
    top = d["transposed"].max()
    assert top < 0.5  # what made the panel nearly black
    assert float(image.get_array().max()) == pytest.approx(1.0)
    assert f"its max ({top:.2f})" in ax.get_title()
    np.testing.assert_allclose(image.get_array() * top, d["transposed"], rtol=1e-6, atol=1e-7)


def test_deconvolution_figure_has_the_noisy_row():
    fig = figure("deconvolution")
    d = data("deconvolution")
    noisy = titled(fig, "h + n")
    np.testing.assert_allclose(noisy.images[0].get_array(), np.clip(d["noisy"], 0, 1), atol=1e-7)
    amplified = titled(fig, "deconvolve(h + n, f)\n")
    assert f"{d['psnr_amplified']:.1f} dB: the noise is amplified" in amplified.get_title()
    damped = titled(fig, f"deconvolve(h + n, f, damp={d['damp']:g})")
    assert f"{d['psnr_damped']:.1f} dB" in damped.get_title()


def test_conv_matrix_figure_shows_y_and_the_shapes():
    fig = figure("conv-matrix")
    assert any("C (4x16) · x (16x1) = y (4x1)" in t for t in texts(fig))
    assert any("C^T (16x4) · g (4x1) = conv_transpose(g, w) (16x1)" in t for t in texts(fig))
    out = titled(fig, "output y = conv(x, w), 2x2")
    assert sorted(t.get_text() for t in out.texts) == ["y0", "y1", "y2", "y3"]
    assert out.get_position().y0 < 1 / 3  # the bottom third is no longer empty


def test_bilinear_figure_marks_the_input_samples_on_both_grids():
    """align_corners=True puts the 4 input pixels on the corner outputs, False half-way between
    outputs (half-pixel centres: pixel j at output 2 j + 0.5)."""
    fig = figure("bilinear")
    d = data("bilinear")
    expected = {True: [0.0, 3.0], False: [0.5, 2.5]}
    for ac, at in expected.items():
        ax = titled(fig, f"x2, align_corners={ac}")
        (points,) = ax.collections
        got = sorted(map(tuple, np.asarray(points.get_offsets()).tolist()))
        assert got == sorted((c, r) for r in at for c in at)
        labels = sorted(t.get_text() for t in ax.texts if t.get_fontweight() == "bold")
        assert labels == ["10", "12", "6", "9"]
    # on the grid of align_corners=True the corner outputs are the inputs themselves
    corners = d["align_corners=True"][np.ix_([0, 3], [0, 3])]
    np.testing.assert_allclose(corners, d["input"], atol=1e-6)


@pytest.mark.parametrize("topic", list(TOPICS))
def test_figures_name_methods_not_the_seed_or_the_note(topic):
    import re

    words = re.compile(r"\b(seed|note)\b", re.IGNORECASE)
    fig = figure(topic)
    assert not [t for t in texts(fig) if words.search(t)]
    assert not words.search(TOPICS[topic].summary)
    assert not words.search(TOPICS[topic].data.__doc__ or "")
