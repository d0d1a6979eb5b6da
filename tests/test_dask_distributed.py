"""The Dask paths on ``dask.distributed``: a LocalCluster of two worker processes (the tasks and
our operators are pickled, the numba kernels run in the workers) gives the in-memory result, also
when written to Zarr. Starting the cluster takes a few seconds; set
``UPSAMPLING_SKIP_DISTRIBUTED=1`` to skip this file on a slow machine."""

from __future__ import annotations

import os

import numpy as np
import pytest

if os.environ.get("UPSAMPLING_SKIP_DISTRIBUTED"):
    pytest.skip("UPSAMPLING_SKIP_DISTRIBUTED is set", allow_module_level=True)
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

import upsampling as up  # noqa: E402
from conftest import tolerance  # noqa: E402
from upsampling.conv import conv, conv_transpose  # noqa: E402
from upsampling.interpolate import interpolate  # noqa: E402
from upsampling.unpool import unpool  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            memory_limit="1GiB",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


def test_operators_on_two_worker_processes(client, rng):
    x = rng.standard_normal((2, 3, 20, 17)).astype(np.float32)
    d = da.from_array(x, chunks=(1, 3, 6, 5))
    wt = rng.standard_normal((3, 2, 4, 4)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(2).astype(np.float32)
    lazy = {
        "bicubic": interpolate(d, scale_factor=2.5, mode="bicubic", align_corners=True),
        "roi": interpolate(
            d,
            size=(31, 9),
            mode="linear",
            coordinate_transformation_mode="tf_crop_and_resize",
            roi=(0.2, 0.1, 0.9, 0.7),
            extrapolation_value=-1.0,
        ),
        "unpool": unpool(d, 2, "bed_of_nails", offset=1),
        "conv_transpose": conv_transpose(d, wt, b, stride=2, padding=1),
        "conv": conv(d, w, stride=2, padding=1),
    }
    futures = client.compute(list(lazy.values()))
    got = dict(zip(lazy, client.gather(futures), strict=True))
    assert {w["nthreads"] for w in client.scheduler_info()["workers"].values()} == {1}
    np.testing.assert_array_equal(
        got["bicubic"], interpolate(x, scale_factor=2.5, mode="bicubic", align_corners=True)
    )
    np.testing.assert_array_equal(
        got["roi"],
        interpolate(
            x,
            size=(31, 9),
            mode="linear",
            coordinate_transformation_mode="tf_crop_and_resize",
            roi=(0.2, 0.1, 0.9, 0.7),
            extrapolation_value=-1.0,
        ),
    )
    np.testing.assert_array_equal(got["unpool"], unpool(x, 2, "bed_of_nails", offset=1))
    np.testing.assert_allclose(
        got["conv_transpose"],
        conv_transpose(x, wt, b, stride=2, padding=1),
        **tolerance("float32"),
    )
    np.testing.assert_allclose(got["conv"], conv(x, w, stride=2, padding=1), **tolerance("float32"))


def test_to_zarr(client, rng, tmp_path):
    """The example's path: a lazy up-sampling written chunk by chunk to a Zarr store."""
    zarr = pytest.importorskip("zarr")
    x = rng.random((1, 1, 12, 10, 9)).astype(np.float32)
    d = da.from_array(x, chunks=(1, 1, 4, 5, 3))
    y = up.interpolate(d, scale_factor=2, mode="trilinear")
    assert y.chunks[2:] == ((8, 8, 8), (10, 10), (6, 6, 6))  # regular: Zarr takes them as they are
    y.to_zarr(str(tmp_path / "out.zarr"), compute=True)
    stored = zarr.open_array(str(tmp_path / "out.zarr"), mode="r")
    np.testing.assert_array_equal(stored[...], interpolate(x, scale_factor=2, mode="trilinear"))
