"""``upsampling resize`` beyond memory: forced with a tiny ``--max-memory`` (or a Zarr input),
the Dask path writes Zarr chunk by chunk with the in-memory result bit for bit; a rerun after a
kill computes only the missing chunks; with a two-worker ``LocalCluster``, killing a worker mid
run still gives the complete exact output; the bar over chunks counts each chunk once. Set
``UPSAMPLING_SKIP_DISTRIBUTED=1`` to skip the cluster test on a slow machine."""

from __future__ import annotations

import io
import json
import os
import signal
import threading
import time

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
zarr = pytest.importorskip("zarr")
tifffile = pytest.importorskip("tifffile")

from PIL import Image  # noqa: E402
from rich.console import Console  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

import upsampling as up  # noqa: E402
from upsampling.cli import _resize_dask  # noqa: E402
from upsampling.cli import resize as cli_resize  # noqa: E402
from upsampling.cli.app import app  # noqa: E402


def invoke(*args):
    return CliRunner().invoke(app, ["resize", *map(str, args)])


def terminal() -> Console:
    """A console that rich takes for a terminal: the bars are drawn into its text."""
    return Console(file=io.StringIO(), force_terminal=True, width=160)


def photo(rng, h, w, c, dtype="uint8"):
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    img = np.stack([0.5 + 0.4 * np.sin(6 * x + k) * np.cos(5 * y) for k in range(c)], -1)
    img = np.clip(img + 0.05 * rng.standard_normal(img.shape), 0, 1)
    return np.rint(img * np.iinfo(dtype).max).astype(dtype)


CASES = {
    "tif16-bicubic-x2": ("tif", "uint16", ["--scale", 2, "--method", "bicubic"]),
    "png8-pillow-shrink": ("png", "uint8", ["--scale", 0.4, "--convention", "pillow"]),
    "tif8-area-size": ("tif", "uint8", ["--size", "29x41", "--method", "area"]),
    "png8-opencv-x1.7": ("png", "uint8", ["--scale", 1.7, "--convention", "opencv"]),
}


@pytest.mark.parametrize("case", CASES)
def test_the_dask_path_equals_the_in_memory_result(tmp_path, rng, case):
    fmt, dtype, args = CASES[case]
    img = photo(rng, 70, 90, 3, dtype)
    src = tmp_path / f"in.{fmt}"
    tifffile.imwrite(src, img, photometric="rgb") if fmt == "tif" else Image.fromarray(img).save(
        src
    )
    memory = tmp_path / "memory"
    assert invoke(src, *args, "--out", memory, "--format", "tif").exit_code == 0
    result = invoke(
        src,
        *args,
        "--out",
        tmp_path / "big",
        "--format",
        "zarr",
        "--max-memory",
        "1k",
        "--chunks",
        16,
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["files"][0]["path"] == "dask"
    z = zarr.open_array(str(tmp_path / "big" / "in.zarr"), mode="r")
    want = tifffile.imread(memory / "in.tif")
    assert z.chunks[:2] == (16, 16) and z.dtype == want.dtype
    np.testing.assert_array_equal(z[:], want)
    assert not list((tmp_path / "big").glob(".*"))  # no temporary store left


@pytest.mark.parametrize(
    ("tile", "memory"),
    [(32, "1k"), (16, "60000")],  # one tile at a time; 7 a batch (of 63000 bytes out in all)
    ids=["one-by-one", "in-batches"],
)
def test_a_big_tiff_output_is_written_tile_by_tile(tmp_path, rng, tile, memory):
    img = photo(rng, 50, 70, 4, "uint16")
    src = tmp_path / "in.tif"
    tifffile.imwrite(src, img, photometric="rgb", extrasamples=("unassalpha",))
    args = ["--scale", 1.5, "--method", "bicubic", "--format", "tif", "--json"]
    assert invoke(src, *args, "--out", tmp_path / "memory").exit_code == 0
    result = invoke(src, *args, "--out", tmp_path / "big", "--max-memory", memory, "--chunks", tile)
    assert json.loads(result.stdout)["files"][0]["path"] == "dask"
    with tifffile.TiffFile(tmp_path / "big" / "in.tif") as tif:
        assert tif.is_bigtiff and tif.pages[0].is_tiled and tif.pages[0].tilelength == tile
        got = tif.asarray()
    np.testing.assert_array_equal(got, tifffile.imread(tmp_path / "memory" / "in.tif"))


def test_a_zarr_input_and_ome_zarr_group(tmp_path, rng):
    img = photo(rng, 40, 50, 3)
    plain = zarr.create_array(
        str(tmp_path / "plain.zarr"), shape=img.shape, chunks=(16, 16, 3), dtype=img.dtype
    )
    plain[:] = img
    group = zarr.open_group(str(tmp_path / "ome.zarr"), mode="w")
    level = group.create_array("0", shape=(3, 40, 50), chunks=(3, 16, 16), dtype=img.dtype)
    level[:] = img.transpose(2, 0, 1)
    group.attrs["multiscales"] = [{"axes": [{"name": "c"}, {"name": "y"}, {"name": "x"}]}]
    out = tmp_path / "out"
    result = invoke(
        tmp_path / "plain.zarr",
        tmp_path / "ome.zarr",
        "--scale",
        1.5,
        "--out",
        out,
        "--chunks",
        32,
        "--json",
    )
    assert result.exit_code == 0, result.output
    want = up.resize(img, scale=1.5)
    for name in ("plain.zarr", "ome.zarr"):
        np.testing.assert_array_equal(zarr.open_array(str(out / name), mode="r")[:], want)


def test_a_rerun_after_a_kill_writes_only_the_missing_chunks(tmp_path, rng, monkeypatch):
    img = photo(rng, 64, 64, 3)
    src = tmp_path / "in.png"
    Image.fromarray(img).save(src)
    options = cli_resize.Options(scale=2.0, chunks=32, max_memory=1, scheduler="synchronous")
    kwargs = dict(
        out=tmp_path / "o",
        fmt="zarr",
        recursive=False,
        force=False,
        json=True,
        echo=lambda s: None,
        error=lambda s: None,
    )
    real, calls = _resize_dask._write_block, []

    def dies_after_five(block, path, block_info=None):
        calls.append(1)
        if len(calls) > 5:
            raise RuntimeError("killed")
        return real(block, path, block_info)

    monkeypatch.setattr(_resize_dask, "_write_block", dies_after_five)
    with pytest.raises(RuntimeError, match="killed"):
        cli_resize.run_resize([src], options, **kwargs)
    part = tmp_path / "o" / ".in.zarr.part"
    assert not (tmp_path / "o" / "in.zarr").exists() and part.is_dir()
    done = len(list((part / _resize_dask.DONE).iterdir()))
    assert done == 5
    counted = []

    def counts(block, path, block_info=None):
        counted.append(1)
        return real(block, path, block_info)

    monkeypatch.setattr(_resize_dask, "_write_block", counts)
    console = terminal()
    assert cli_resize.run_resize([src], options, console=console, **kwargs) == 0
    assert len(counted) == 16 - 5  # (128 / 32) ** 2 chunks in all
    assert "16/16" in console.file.getvalue()  # the bar started at the 5 done before
    z = zarr.open_array(str(tmp_path / "o" / "in.zarr"), mode="r")
    np.testing.assert_array_equal(z[:], up.resize(img, scale=2))
    assert "job" in z.attrs and not part.exists()


@pytest.mark.parametrize("fmt", ["zarr", "tif", "png"])
def test_the_bar_over_chunks_advances_once_per_chunk_and_json_stays_clean(tmp_path, rng, fmt):
    img = photo(rng, 64, 64, 3)
    if fmt == "png":  # a Zarr input goes through Dask; the small output is assembled in memory
        src = tmp_path / "in.zarr"
        zarr.create_array(str(src), shape=img.shape, chunks=(16, 16, 3), dtype=img.dtype)[:] = img
    else:  # --max-memory: through Dask, written chunk by chunk
        src = tmp_path / "in.png"
        Image.fromarray(img).save(src)
    options = cli_resize.Options(scale=2.0, chunks=32, max_memory=1 if fmt != "png" else 10**6)
    printed, console = [], terminal()
    status = cli_resize.run_resize(
        [src],
        options,
        out=tmp_path / "o",
        fmt=fmt,
        recursive=False,
        force=False,
        json=True,
        echo=printed.append,
        error=printed.append,
        console=console,
    )
    assert status == 0
    assert len(printed) == 1 and json.loads(printed[0])["files"][0]["path"] == "dask"
    drawn = console.file.getvalue()
    # (128 / 32) ** 2 chunks or tiles, counted one by one (a final jump to the total is not)
    assert f"{src.name}: chunks" in drawn and "16/16" in drawn and "17/16" not in drawn


def test_no_bar_when_stderr_is_not_a_terminal(tmp_path, rng):
    src = tmp_path / "in.png"
    Image.fromarray(photo(rng, 64, 64, 3)).save(src)
    console = Console(file=io.StringIO(), width=160)  # a file, as under a pipe
    options = cli_resize.Options(scale=2.0, chunks=32, max_memory=1)
    kwargs = dict(fmt="zarr", recursive=False, force=False, json=True, error=print)
    printed = []
    status = cli_resize.run_resize(
        [src], options, out=tmp_path / "o", echo=printed.append, console=console, **kwargs
    )
    assert status == 0 and console.file.getvalue() == "" and json.loads(printed[0])["written"]


def test_a_big_output_in_a_flat_format_is_refused(tmp_path, rng):
    src = tmp_path / "in.png"
    Image.fromarray(photo(rng, 30, 30, 3)).save(src)
    result = invoke(src, "--scale", 2, "--max-memory", "100", "--out", tmp_path / "o")
    assert result.exit_code == 1 and "use" not in result.stdout[:0]
    assert "exceeds --max-memory; write it with --format zarr" in result.stderr


@pytest.mark.skipif(bool(os.environ.get("UPSAMPLING_SKIP_DISTRIBUTED")), reason="skipped")
def test_killing_a_worker_mid_run_still_gives_the_exact_output(tmp_path, rng, monkeypatch):
    distributed = pytest.importorskip("distributed")
    img = photo(rng, 96, 96, 3, "uint16")
    src = tmp_path / "in.tif"
    tifffile.imwrite(src, img, photometric="rgb")
    real = _resize_dask._write_block

    def slow(block, path, block_info=None):  # slow enough that the kill comes mid-run
        time.sleep(0.05)
        return real(block, path, block_info)

    # a local function: pickled by value into the graph, so it runs on the workers as it is
    monkeypatch.setattr(_resize_dask, "_write_block", slow)
    console = terminal()
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        memory_limit="1GiB",
    ) as cluster:
        options = cli_resize.Options(
            scale=1.5,
            method="bicubic",
            chunks=32,
            max_memory=1,
            scheduler=cluster.scheduler_address,
        )
        status, errors = [], []
        run = threading.Thread(
            target=lambda: status.append(
                cli_resize.run_resize(
                    [src],
                    options,
                    out=tmp_path / "o",
                    fmt="zarr",
                    recursive=False,
                    force=False,
                    json=True,
                    echo=lambda s: None,
                    error=errors.append,
                    console=console,
                )
            )
        )
        run.start()
        marks = tmp_path / "o" / ".in.zarr.part" / _resize_dask.DONE
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
            marks.is_dir() and len(list(marks.iterdir())) >= 3
        ):
            time.sleep(0.02)
        done_at_kill = len(list(marks.iterdir()))
        victim = next(iter(cluster.workers.values()))
        os.kill(victim.process.process.pid, signal.SIGKILL)
        run.join(120)
    assert status == [0], errors
    assert done_at_kill < 25  # (144 / 32 rounded up) ** 2 chunks: the kill came mid-run
    assert "25/25" in console.file.getvalue()
    z = zarr.open_array(str(tmp_path / "o" / "in.zarr"), mode="r")
    np.testing.assert_array_equal(z[:], up.resize(img, scale=1.5, method="bicubic"))
