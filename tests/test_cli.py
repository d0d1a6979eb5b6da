"""The command line: demo, compare and bench through typer's runner, plus metrics, image I/O and
atomic writes (explain has its own file, test_explain.py)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from upsampling.cli import methods
from upsampling.cli.app import app
from upsampling.cli.io import CliError, check_writable, read_image, write_atomic
from upsampling.cli.methods import METHODS, degrade, resolve_methods, tent_taps
from upsampling.cli.metrics import psnr, ssim

FAST = "nearest,bed-of-nails,max-unpool"


def invoke(*args: str, **env: str):
    return CliRunner().invoke(app, [str(a) for a in args], env=env or None)


def photo(rng, h: int, w: int, channels: int = 3) -> np.ndarray:
    """A smooth random image with some edges, ``(H, W, C)`` in [0, 1]."""
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    base = [np.sin(7 * x + 3 * c) * np.cos(5 * y - c) for c in range(channels)]
    img = 0.5 + 0.35 * np.stack(base, -1) + 0.05 * rng.standard_normal((h, w, channels))
    return np.clip(img, 0, 1)


def save(path: Path, img: np.ndarray, mode: str = "RGB") -> Path:
    if mode == "I;16":
        Image.fromarray(np.rint(img[..., 0] * 65535).astype(np.uint16)).save(path)
    elif mode == "L":
        Image.fromarray(np.rint(img[..., 0] * 255).astype(np.uint8)).save(path)
    else:
        Image.fromarray(np.rint(img * 255).astype(np.uint8)).convert(mode).save(path)
    return path


# ------------------------------------------------------------------------------- metrics
@pytest.mark.parametrize("shape", [(1, 24, 24), (3, 40, 33), (2, 3, 16, 50)], ids=str)
def test_ssim_and_psnr_match_scikit_image(rng, shape):
    metrics = pytest.importorskip("skimage.metrics")
    a = rng.random(shape)
    b = np.clip(a + 0.1 * rng.standard_normal(shape), 0, 1)
    planes_a, planes_b = a.reshape(-1, *shape[-2:]), b.reshape(-1, *shape[-2:])
    expected = metrics.structural_similarity(
        planes_a,
        planes_b,
        channel_axis=0,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        data_range=1.0,
    )
    assert ssim(a, b) == pytest.approx(expected, rel=1e-10)
    assert psnr(a, b) == pytest.approx(metrics.peak_signal_noise_ratio(a, b, data_range=1.0))


def test_metrics_laws(rng):
    a = rng.random((3, 20, 20))
    assert ssim(a, a) == pytest.approx(1.0)
    assert psnr(a, a) == float("inf")
    assert psnr(a, a + 0.01) == pytest.approx(40.0)
    with pytest.raises(ValueError, match="ssim: images of spatial size"):
        ssim(a[:, :8, :8], a[:, :8, :8])
    with pytest.raises(ValueError, match="must match"):
        psnr(a, a[:2])


# ---------------------------------------------------------------------------------- images
@pytest.mark.parametrize(
    ("name", "mode", "channels", "bits"),
    [
        ("rgb.png", "RGB", 3, 8),
        ("gray.png", "L", 1, 8),
        ("gray16.png", "I;16", 1, 16),
        ("gray16.tif", "I;16", 1, 16),
        ("rgba.png", "RGBA", 3, 8),
        ("palette.png", "P", 3, 8),
        ("photo.jpg", "RGB", 3, 8),
        ("photo.tiff", "RGB", 3, 8),
    ],
)
def test_read_image(tmp_path, rng, name, mode, channels, bits):
    img = photo(rng, 20, 30, 1 if mode in ("L", "I;16") else 3)
    path = save(tmp_path / name, img, mode)
    loaded = read_image(path)
    assert loaded.pixels.shape == (1, channels, 20, 30)
    assert loaded.pixels.dtype == np.float32 and loaded.bits == bits
    assert 0 <= loaded.pixels.min() and loaded.pixels.max() <= 1
    if mode in ("RGB", "L", "I;16", "RGBA") and not name.endswith(".jpg"):
        step = 1 / 65535 if bits == 16 else 1 / 255
        np.testing.assert_allclose(loaded.pixels[0], img.transpose(2, 0, 1), atol=step)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_text("not an image"), "cannot read the image"),
        (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40), "cannot read the image"),
        (lambda p: None, "no such file"),
        (lambda p: p.mkdir(), "is a directory"),
    ],
    ids=["text", "truncated-png", "missing", "directory"],
)
def test_read_image_refuses(tmp_path, make, message):
    path = tmp_path / "bad.png"
    make(path)
    with pytest.raises(CliError, match=message):
        read_image(path)


# ---------------------------------------------------------------------------- atomic writes
def test_write_atomic_refuses_to_overwrite_without_force(tmp_path):
    path = tmp_path / "out.txt"
    write_atomic(path, b"first", force=False)
    with pytest.raises(CliError, match="already exists"):
        write_atomic(path, b"second", force=False)
    assert path.read_bytes() == b"first"
    assert check_writable([path, tmp_path / "new"], force=False) == [
        f"{path}: already exists (use --force to overwrite it)"
    ]
    assert check_writable([path], force=True) == []
    write_atomic(path, b"second", force=True)
    assert path.read_bytes() == b"second"


def test_write_atomic_leaves_the_old_file_when_interrupted(tmp_path):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old contents")

    def writer(f):
        f.write(b"half of the new")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, writer, force=True)
    assert path.read_bytes() == b"old contents"
    assert sorted(os.listdir(tmp_path)) == ["out.bin"]  # no temporary file left behind


def test_write_atomic_replaces_through_a_temporary_file(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append((Path(src).parent, Path(src).name, Path(dst).read_bytes()))
        real_replace(src, dst)

    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    monkeypatch.setattr(os, "replace", spy)
    write_atomic(path, b"new", force=True)
    ((parent, name, before),) = seen
    assert parent == tmp_path and name.startswith(".out.bin.") and before == b"old"
    assert path.read_bytes() == b"new"


# --------------------------------------------------------------------------------- methods
def test_tent_taps_sum_to_one_and_are_symmetric():
    for scale in range(2, 9):
        taps, pad = tent_taps(scale)
        assert taps.sum() == pytest.approx(1.0)
        np.testing.assert_allclose(taps, taps[::-1])
        assert len(taps) == 2 * scale - scale % 2
        assert pad == (len(taps) - scale) // 2  # centred: the output keeps the size / scale


def test_degrade_matches_torch_antialiased_bilinear_away_from_the_edges(rng):
    torch = pytest.importorskip("torch")
    x = rng.random((1, 2, 30, 36), dtype=np.float32)
    for scale in (2, 3, 4):
        p = degrade(x, scale)
        ref = torch.nn.functional.interpolate(
            torch.from_numpy(p.original), scale_factor=1 / scale, mode="bilinear", antialias=True
        ).numpy()
        np.testing.assert_allclose(p.low[..., 2:-2, 2:-2], ref[..., 2:-2, 2:-2], atol=1e-6)


def test_degrade_is_the_convolution_it_declares(rng):
    conv = pytest.importorskip("upsampling.conv").conv
    x = rng.random((1, 3, 26, 20), dtype=np.float32)
    for scale in (2, 3):
        p = degrade(x, scale)
        padded = np.pad(p.original, ((0, 0), (0, 0), (p.pad,) * 2, (p.pad,) * 2), mode="edge")
        np.testing.assert_allclose(p.low, conv(padded, p.weight, stride=scale, groups=3), atol=1e-6)


def test_resolve_methods():
    chosen, errors = resolve_methods(None, 2)
    assert [m.name for m in chosen] == list(METHODS)
    chosen, errors = resolve_methods(["nearest,bicubic", "nearest", "nope"], 3)
    assert [m.name for m in chosen] == ["nearest", "bicubic"]
    assert errors == [f"unknown method 'nope'; known methods: {', '.join(METHODS)}"]
    _, errors = resolve_methods(["subpixel-trained"], 3)
    assert errors == ["method 'subpixel-trained' works at scale 2 only, not 3"]


@pytest.mark.parametrize("name", list(METHODS))
def test_every_method_restores_the_shape_and_beats_a_floor(rng, name):
    method = METHODS[name]
    if method.missing():
        pytest.skip(f"{', '.join(method.missing())} not there yet")
    p = degrade(photo(rng, 48, 40).transpose(2, 0, 1)[None].astype(np.float32), 2)
    out = method.run(p)
    assert out.shape == p.original.shape
    floor = 5.0 if name in ("bed-of-nails", "max-unpool") else 20.0
    assert psnr(p.original, np.clip(out, 0, 1)) > floor
    assert method.params(2) >= 0


def test_trained_weights_are_tiny_and_counted():
    from upsampling.cli.methods import trained_weights

    path = Path(methods.__file__).parent / "weights" / "demo_x2.npz"
    assert path.stat().st_size < 4096
    w = trained_weights()
    assert w["transposed.weight"].shape == (4, 4) and w["subpixel.weight"].shape == (4, 1, 5, 5)
    assert METHODS["transposed-conv-trained"].params(2) == 17
    assert METHODS["subpixel-trained"].params(2) == 104


# --------------------------------------------------------------------------------- compare
@pytest.fixture
def images(tmp_path, rng):
    return [
        save(tmp_path / "colour.png", photo(rng, 40, 36)),
        save(tmp_path / "deep.tif", photo(rng, 34, 30, 1), "I;16"),
    ]


def test_compare_json_per_image_and_mean(images):
    result = invoke("compare", *images, "--methods", FAST, "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [i["image"] for i in report["images"]] == [str(p) for p in images]
    assert report["images"][1]["size"] == [34, 30] and report["images"][1]["bits"] == 16
    for entry in [*report["images"], {"results": report["mean"]}]:
        assert [r["method"] for r in entry["results"]] == FAST.split(",")
        for r in entry["results"]:
            assert r["psnr_db"] > 5 and 0 < r["ssim"] <= 1 and r["learnable_params"] == 0
    mean = report["mean"][0]["psnr_db"]
    per = [i["results"][0]["psnr_db"] for i in report["images"]]
    assert mean == pytest.approx(np.mean(per))


def test_compare_csv_and_table(images):
    result = invoke("compare", *images, "-m", "nearest", "-m", "bed-of-nails", "-f", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(Path(r["image"]).name, r["method"]) for r in rows] == [
        ("colour.png", "nearest"),
        ("colour.png", "bed-of-nails"),
        ("deep.tif", "nearest"),
        ("deep.tif", "bed-of-nails"),
        ("mean", "nearest"),
        ("mean", "bed-of-nails"),
    ]
    assert all(float(r["psnr_db"]) > 5 for r in rows)
    table = invoke("compare", images[0], "-m", FAST, "--scale", "4")
    assert table.exit_code == 0, table.output
    for label in ("nearest unpooling", "bed of nails", "max unpooling", "PSNR dB", "(x4)"):
        assert label in table.stdout


def test_compare_writes_files_and_refuses_to_overwrite(images, tmp_path):
    out = tmp_path / "out"
    args = ["compare", *images, "-m", FAST, "--out", out, "--save-images", "-f", "json"]
    first = invoke(*args)
    assert first.exit_code == 0, first.output
    names = sorted(os.listdir(out))
    assert names == sorted(
        ["results.json", "results.csv", "colour-compare.png", "deep-compare.png"]
        + [f"{s}.{m}.png" for s in ("colour", "deep") for m in FAST.split(",")]
    )
    assert json.loads((out / "results.json").read_text()) == json.loads(first.stdout)
    assert len(list(csv.DictReader((out / "results.csv").open()))) == 9
    assert Image.open(out / "deep.nearest.png").mode in ("I;16", "I")  # 16 bits kept
    assert Image.open(out / "colour-compare.png").size[0] > 400
    stamp = {n: (out / n).stat().st_mtime_ns for n in names}

    again = invoke(*args)
    assert again.exit_code == 1
    assert f"upsampling compare: {out / 'results.json'}: already exists" in again.stderr
    assert {n: (out / n).stat().st_mtime_ns for n in names} == stamp

    forced = invoke(*args, "--force")
    assert forced.exit_code == 0, forced.output
    assert sorted(os.listdir(out)) == names  # no temporary files left


def test_compare_reports_each_bad_input_and_runs_the_rest(images, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_text("this is text")
    tiny = save(tmp_path / "tiny.png", np.zeros((6, 9, 3)))
    result = invoke(
        "compare",
        images[0],
        broken,
        tmp_path / "missing.jpg",
        tiny,
        "-m",
        "nearest,warp-drive",
        "-f",
        "json",
    )
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    pillow_reason = lines[1].split("cannot read the image (")[-1][:-1]
    assert pillow_reason  # whatever Pillow says, in one line
    assert lines == [
        f"upsampling compare: unknown method 'warp-drive'; known methods: {', '.join(METHODS)}",
        f"upsampling compare: {broken}: cannot read the image ({pillow_reason})",
        f"upsampling compare: {tmp_path / 'missing.jpg'}: no such file",
        f"upsampling compare: {tiny}: 9x6 pixels is too small for --scale 2; each side needs "
        "at least 11 pixels",
    ]
    report = json.loads(result.stdout)
    assert [i["image"] for i in report["images"]] == [str(images[0])]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scale", "1"], "--scale 1 is not supported; use an integer from 2 to 8"),
        (["--scale", "9"], "--scale 9 is not supported"),
        (["--scale", "3", "-m", "subpixel-trained"], "works at scale 2 only, not 3"),
        (["-m", "nope"], "unknown method 'nope'"),
    ],
    ids=["scale-1", "scale-9", "trained-at-3", "unknown-only"],
)
def test_compare_refuses_scales_and_methods(images, args, message):
    result = invoke("compare", images[0], *args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert result.stdout == ""


def test_compare_usage_errors_exit_2(images):
    assert invoke("compare").exit_code == 2
    assert invoke("compare", images[0], "--scale", "two").exit_code == 2
    assert invoke("compare", images[0], "--format", "xml").exit_code == 2


# ------------------------------------------------------------------------------------ demo
def test_demo_writes_its_files(tmp_path):
    from upsampling.cli.explain import TOPICS

    out = tmp_path / "demo"
    result = invoke("demo", "--out", out, UPSAMPLING_DEMO_SIZE="48")
    assert result.exit_code == 0, result.output
    report = json.loads((out / "results.json").read_text())
    (image,) = report["images"]
    assert image["size"] == [48, 48]
    ran = [r["method"] for r in image["results"]]
    assert ran == [m.name for m in METHODS.values() if m.supports(2) and not m.missing()]
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert [r["method"] for r in rows] == ran
    assert Image.open(out / "methods.png").size[0] > 600
    figures = {f"explain-{t}.png" for t, topic in TOPICS.items() if not topic.missing()}
    assert figures <= set(os.listdir(out)) and "explain-unpooling.png" in figures
    for label in ("nearest unpooling", "learnable params", "wrote"):
        assert label in result.stdout
    # a second run replaces its files with --force (without, it is refused: test_cli_demo_force)
    assert invoke("demo", "--out", out, "--size", "32", "--no-explain", "--force").exit_code == 0
    assert json.loads((out / "results.json").read_text())["images"][0]["size"] == [32, 32]


# ----------------------------------------------------------------------------------- bench
def test_bench_json_quick():
    pytest.importorskip("torch")
    result = invoke("bench", "--quick", "--json", "--threads", "1")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    names = [r["operator"] for r in report["results"]]
    assert names[:3] == ["unpool nearest x2", "max_pool 2, indices", "max_unpool 2"]
    for r in report["results"]:
        assert r["ours_ms"] > 0 and r["speedup"]["torch"] > 0


# ------------------------------------------------------------------------ the entry points
def test_python_dash_m_and_a_light_import(images):
    code = (
        "import sys, upsampling, upsampling.cli;"
        "print(sorted(m for m in ('torch', 'typer', 'rich', 'matplotlib') if m in sys.modules))"
    )
    light = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert light.stdout.strip() == "[]", light.stderr
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "upsampling",
            "compare",
            str(images[0]),
            "-m",
            "nearest",
            "-f",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["mean"][0]["method"] == "nearest"
    help_ = subprocess.run([sys.executable, "-m", "upsampling"], capture_output=True, text=True)
    assert "compare" in help_.stdout + help_.stderr
