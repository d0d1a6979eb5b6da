"""``upsampling explain``: the numbers behind every figure come from the operators and agree with
the seed note; every topic writes a valid PNG and SVG; bad options get one clear line."""

from __future__ import annotations

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


def test_max_unpooling_numbers_are_the_seeds():
    d = topic_data("max-unpooling")
    np.testing.assert_array_equal(d["values"], [[6, 8], [14, 16]])
    np.testing.assert_array_equal(d["indices"], [[5, 7], [13, 15]])
    seed_4x4 = [[0, 0, 0, 0], [0, 6, 0, 8], [0, 0, 0, 0], [0, 14, 0, 16]]
    seed_5x5 = [
        [0, 0, 0, 0, 0],
        [6, 0, 8, 0, 0],
        [0, 0, 0, 14, 0],
        [16, 0, 0, 0, 0],
        [0, 0, 0, 0, 0],
    ]
    np.testing.assert_array_equal(d["unpooled"], seed_4x4)
    np.testing.assert_array_equal(d["unpooled_big"], seed_5x5)
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


def test_bilinear_numbers_are_the_seeds():
    needs("bilinear")
    d = topic_data("bilinear")
    seed = [
        [6.0000, 7.3333, 8.6667, 10.0000],
        [7.0000, 8.2222, 9.4444, 10.6667],
        [8.0000, 9.1111, 10.2222, 11.3333],
        [9.0000, 10.0000, 11.0000, 12.0000],
    ]
    np.testing.assert_allclose(d["align_corners=True"], seed, atol=5e-5)
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


def test_conv_matrix_is_the_seeds_4x16():
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


def test_transposed_conv_default_is_the_seeds_5x5():
    needs("transposed-conv")
    d = topic_data("transposed-conv")
    assert d["output"].shape == (5, 5)
    # step 1 is x[0, 0] times the kernel in the top-left corner
    np.testing.assert_array_equal(d["steps"][0][:3, :3], d["weight"])
    with pytest.raises(CliError, match="--padding 3 must be at most --kernel minus 1"):
        topic_data("transposed-conv", kernel=3, padding=3)


def test_checkerboard_numbers():
    needs("checkerboard")
    d = topic_data("checkerboard")
    k3, k4 = d["rows"]
    np.testing.assert_array_equal(k3["overlap"], [[4, 2], [2, 1]])
    np.testing.assert_array_equal(k4["overlap"], [[4, 4], [4, 4]])
    for row in (k3, k4):
        k = row["kernel"]
        # away from the border the constant image shows exactly the overlap pattern
        inner = row["output"][k - 1 : -(k - 1), k - 1 : -(k - 1)]
        tiled = np.tile(row["overlap"], (8, 8))[: inner.shape[0], : inner.shape[1]]
        np.testing.assert_allclose(inner, tiled * 4 / k**2)


def test_deconvolution_recovers_what_the_transposed_conv_does_not():
    needs("deconvolution")
    d = topic_data("deconvolution")
    assert (d["stride"], d["padding"]) == (1, d["kernel"] - 1)  # a full convolution: injective
    assert d["psnr_deconvolved"] > 35 > 30 > d["psnr_transposed"]
    assert d["transposed"].shape == d["deconvolved"].shape == d["image"].shape


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
