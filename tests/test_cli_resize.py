"""``upsampling resize`` in memory, through typer's runner on small generated files: every
format and bit depth round trip, metadata, refusal to overwrite, resume after a kill, bad files
reported and skipped, ``--json``; and 16-bit colour in ``compare`` (issue 18)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image
from typer.testing import CliRunner

import upsampling as up
from upsampling.cli import _resize_io
from upsampling.cli import resize as cli_resize
from upsampling.cli.app import app

cv2 = pytest.importorskip("cv2")


def invoke(*args):
    return CliRunner().invoke(app, ["resize", *map(str, args)])


def report(result) -> dict:
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


@pytest.fixture
def rng16():
    return np.random.default_rng(15)


def smooth(rng, h, w, c, dtype):
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    planes = [0.5 + 0.4 * np.sin(5 * x + 2 * k) * np.cos(4 * y - k) for k in range(c)]
    img = np.clip(np.stack(planes, -1) + 0.03 * rng.standard_normal((h, w, c)), 0, 1)
    if np.dtype(dtype).kind == "f":
        return img.astype(dtype)
    return np.rint(img * np.iinfo(dtype).max).astype(dtype)


# -------------------------------------------------------------------------------- round trips
LOSSLESS = {
    "png-gray8": ("png", 1, "uint8"),
    "png-gray-alpha8": ("png", 2, "uint8"),
    "png-rgb8": ("png", 3, "uint8"),
    "png-rgba8": ("png", 4, "uint8"),
    "png-gray16": ("png", 1, "uint16"),
    "png-rgb16": ("png", 3, "uint16"),
    "png-rgba16": ("png", 4, "uint16"),
    "tif-rgb8": ("tif", 3, "uint8"),
    "tif-gray16": ("tif", 1, "uint16"),
    "tif-rgb16": ("tif", 3, "uint16"),
    "tif-rgba16": ("tif", 4, "uint16"),
    "tif-float32": ("tif", 3, "float32"),
}


def write_input(path: Path, img: np.ndarray) -> Path:
    img = img[:, :, 0] if img.ndim == 3 and img.shape[2] == 1 else img
    if path.suffix == ".tif":
        tifffile.imwrite(
            path, img, photometric="rgb" if img.ndim == 3 and img.shape[2] >= 3 else "minisblack"
        )
    elif img.dtype == np.uint16 and img.ndim == 3:
        cv2.imwrite(str(path), img[:, :, [2, 1, 0, 3][: img.shape[2]]])
    else:
        Image.fromarray(img).save(path)
    return path


def read_output(path: Path) -> np.ndarray:
    return _resize_io.read_picture(path).pixels


@pytest.mark.parametrize("case", LOSSLESS)
def test_lossless_formats_keep_depth_channels_and_values(tmp_path, rng16, case):
    fmt, c, dtype = LOSSLESS[case]
    img = smooth(rng16, 23, 31, c, dtype)
    src = write_input(tmp_path / f"in.{fmt}", img)
    result = invoke(src, "--scale", 1.5, "--method", "bicubic", "--out", tmp_path / "out", "--json")
    assert result.exit_code == 0, result.output
    got = read_output(tmp_path / "out" / f"in.{fmt}")
    want = up.resize(img[:, :, 0] if c == 1 else img, scale=1.5, method="bicubic")
    assert got.dtype == want.dtype and got.shape == want.shape == (34, 46, *([c] if c > 1 else []))
    np.testing.assert_array_equal(got, want)


def test_multipage_tiff_resizes_every_page(tmp_path, rng16):
    pages = np.stack([smooth(rng16, 12, 16, 1, "uint16")[:, :, 0] for _ in range(3)])
    src = tmp_path / "stack.tif"
    tifffile.imwrite(src, pages, photometric="minisblack")
    assert invoke(src, "--size", "6x8", "--out", tmp_path / "o.tif").exit_code == 0
    got = tifffile.imread(tmp_path / "o.tif")
    assert got.shape == (3, 6, 8)
    for page, out in zip(pages, got, strict=True):
        np.testing.assert_array_equal(out, up.resize(page, (6, 8)))


@pytest.mark.parametrize("fmt", ["jpg", "webp"])
def test_lossy_formats_round_trip_close(tmp_path, rng16, fmt):
    img = smooth(rng16, 40, 48, 3, "uint8")
    src = tmp_path / f"in.{fmt}"
    Image.fromarray(img).save(src, quality=98) if fmt == "jpg" else Image.fromarray(img).save(
        src, lossless=True
    )
    decoded = np.asarray(Image.open(src))
    assert invoke(src, "--width", 24, "--out", tmp_path / f"o.{fmt}").exit_code == 0
    got = np.asarray(Image.open(tmp_path / f"o.{fmt}"))
    want = up.resize(decoded, (20, 24))
    assert got.shape == want.shape
    assert np.abs(got.astype(int) - want).mean() < 6  # re-encoded at quality 95


def test_metadata_dpi_icc_exif_and_orientation(tmp_path, rng16):
    img = smooth(rng16, 20, 30, 3, "uint8")
    exif = Image.Exif()
    exif[0x013B] = "A. Photographer"  # Artist
    exif[0x0112] = 6  # rotated: displayed 20 wide, 30 high
    icc = b"\x00\x00\x01\x00fake-profile" * 4
    src = tmp_path / "photo.jpg"
    Image.fromarray(img).save(src, quality=95, exif=exif, icc_profile=icc, dpi=(150, 150))
    result = invoke(src, "--scale", 2, "--out", tmp_path / "o.jpg")
    assert result.exit_code == 0, result.output
    with Image.open(tmp_path / "o.jpg") as out:
        assert out.size == (40, 60)  # upright (orientation applied), then doubled
        assert out.info["icc_profile"] == icc
        assert out.info["dpi"] == pytest.approx((300, 300), abs=0.01)
        tags = out.getexif()
        assert tags[0x013B] == "A. Photographer" and 0x0112 not in tags
    tif = tmp_path / "scan.tif"
    tifffile.imwrite(tif, img, photometric="rgb", resolution=(200, 200), resolutionunit="INCH")
    assert invoke(tif, "--scale", 0.5, "--out", tmp_path / "o.tif").exit_code == 0
    with tifffile.TiffFile(tmp_path / "o.tif") as t:
        x = t.pages[0].tags["XResolution"].value
        assert x[0] / x[1] == pytest.approx(100)


def test_width_and_height_keep_the_aspect(tmp_path, rng16):
    src = write_input(tmp_path / "a.png", smooth(rng16, 30, 40, 3, "uint8"))
    rows = report(invoke(src, "--height", 15, "--out", tmp_path / "o", "--json"))["files"]
    assert rows[0]["size_out"] == [15, 20]


# ---------------------------------------------------------------------- overwrite and resume
def folder(tmp_path, rng16, n=3) -> Path:
    d = tmp_path / "photos"
    (d / "sub").mkdir(parents=True)
    for i in range(n):
        write_input(d / f"p{i}.png", smooth(rng16, 16 + i, 20, 3, "uint8"))
    write_input(d / "sub" / "deep.png", smooth(rng16, 16, 16, 3, "uint8"))
    return d


def test_never_overwrites_without_force_and_a_rerun_skips(tmp_path, rng16):
    d = folder(tmp_path, rng16)
    out = tmp_path / "out"
    first = report(invoke(d, "--scale", 2, "--out", out, "--json"))
    assert first["written"] == 3 and first["skipped"] == 0  # not recursive: sub/ left alone
    (out / "p0.png").write_bytes(b"mine")
    again = report(invoke(d, "--scale", 2, "--out", out, "--json"))
    assert again["written"] == 0 and again["skipped"] == 3
    assert all("--force" in r["reason"] for r in again["files"])
    assert (out / "p0.png").read_bytes() == b"mine"
    forced = report(invoke(d, "--scale", 2, "--out", out, "--json", "--force"))
    assert forced["written"] == 3 and (out / "p0.png").read_bytes()[:4] == b"\x89PNG"


def test_a_killed_run_leaves_no_partial_file_and_the_rerun_completes(tmp_path, rng16, monkeypatch):
    d = folder(tmp_path, rng16)
    out = tmp_path / "out"
    real = _resize_io.write_atomic
    calls = []

    def killed_while_writing(path, content, *, force):
        calls.append(path)
        if len(calls) == 2:

            def half(f):
                f.write(b"\x89PNG half")
                raise KeyboardInterrupt

            return real(path, half, force=force)
        return real(path, content, force=force)

    monkeypatch.setattr(_resize_io, "write_atomic", killed_while_writing)
    with pytest.raises(KeyboardInterrupt):
        cli_resize.run_resize(
            [d],
            cli_resize.Options(scale=2.0),
            out=out,
            fmt=None,
            recursive=True,
            force=False,
            json=True,
            echo=lambda s: None,
            error=lambda s: None,
        )
    assert sorted(p.name for p in out.iterdir()) == ["p0.png"]  # no temporary, no half file
    monkeypatch.setattr(_resize_io, "write_atomic", real)
    rerun = report(invoke(d, "--scale", 2, "--out", out, "--json", "--recursive"))
    assert (rerun["written"], rerun["skipped"]) == (3, 1)
    assert (out / "sub" / "deep.png").exists()


def test_an_output_folder_inside_the_input_is_not_read_again(tmp_path, rng16):
    d = folder(tmp_path, rng16)
    for _ in range(2):
        rows = report(invoke(d, "--scale", 2, "--out", d / "small", "-r", "--json"))["files"]
        assert sorted(Path(r["input"]).name for r in rows) == [
            "deep.png",
            "p0.png",
            "p1.png",
            "p2.png",
        ]
    result = invoke(d, "--scale", 2, "--out", d)
    assert result.exit_code != 0 and "is the input folder" in result.stderr


# ------------------------------------------------------------------------------ bad input
def test_a_bad_file_is_reported_and_the_others_go_on(tmp_path, rng16):
    d = folder(tmp_path, rng16)
    (d / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (d / "notes.txt").write_text("not an image")  # not an image suffix: not picked up
    result = invoke(d, "--scale", 0.5, "--out", tmp_path / "out", "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert (data["written"], data["failed"]) == (3, 1)
    assert "broken.png: cannot read the image" in result.stderr
    assert "Traceback" not in result.output


def test_a_format_that_cannot_hold_the_image_is_one_line(tmp_path, rng16):
    src = write_input(tmp_path / "deep.tif", smooth(rng16, 10, 10, 3, "uint16"))
    result = invoke(src, "--scale", 2, "--format", "jpg", "--out", tmp_path / "o")
    assert result.exit_code == 1 and "JPEG holds 8-bit" in result.stderr
    assert "use --format tif" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give exactly one of --scale, --size, --width, --height"),
        (("--scale", 2, "--width", 4), "(got --scale, --width)"),
        (("--size", "0x5"), "--size '0x5' must be HEIGHTxWIDTH"),
        (("--scale", -1), "--scale -1.0 must be a positive number"),
        (("--scale", 2, "--method", "sinc"), "method 'sinc' must be one of"),
        (("--scale", 2, "--convention", "matlab"), "convention 'matlab' must be one of"),
        (("--scale", 2, "--method", "nearest", "--antialias"), "antialias True"),
        (("--scale", 2, "--max-memory", "lots"), "--max-memory 'lots' must be"),
        (("--scale", 0.001), "gives an empty image"),
    ],
)
def test_usage_errors_are_one_line(tmp_path, rng16, args, message):
    src = write_input(tmp_path / "a.png", smooth(rng16, 10, 12, 3, "uint8"))
    result = invoke(src, *args, "--out", tmp_path / "o")
    assert result.exit_code != 0
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_a_missing_input_is_reported(tmp_path):
    result = invoke(tmp_path / "nope.png", "--scale", 2, "--out", tmp_path / "o")
    assert result.exit_code == 1 and "nope.png: no such file or folder" in result.stderr


def test_parse_bytes():
    assert cli_resize.parse_bytes("1.5k") == 1500
    assert cli_resize.parse_bytes("1KiB") == 1024
    assert cli_resize.parse_bytes(" 3 gb ") == 3 * 10**9


def test_the_table_names_every_file(tmp_path, rng16):
    d = folder(tmp_path, rng16)
    result = invoke(d, "--scale", 2, "--out", tmp_path / "out")
    assert result.exit_code == 0
    assert result.stdout.startswith("upsampling resize")
    assert "3 written, 0 skipped, 0 failed; 1,020 pixels in, 4,080 out" in result.stdout


# ------------------------------------------------------------------- compare on 16-bit colour
@pytest.mark.parametrize("suffix", ["png", "tif"])
def test_compare_keeps_16_bit_colour(tmp_path, rng16, suffix):
    img = smooth(rng16, 24, 24, 3, "uint16")
    src = write_input(tmp_path / f"deep.{suffix}", img)
    result = CliRunner().invoke(app, ["compare", str(src), "-m", "nearest", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["images"][0]["bits"] == 16 and data["images"][0]["channels"] == 3
    from upsampling.cli.io import encode_png, read_image

    loaded = read_image(src)
    np.testing.assert_array_equal(loaded.pixels[0].transpose(1, 2, 0), img / np.float32(65535))
    png = cv2.imdecode(np.frombuffer(encode_png(loaded.pixels, 16), np.uint8), -1)
    np.testing.assert_array_equal(png[:, :, ::-1], img)
