"""Bounds on what a user may ask for (issue 19): counts of iterations and threads, and one memory
check (half this machine's memory) for every operator's output, its temporaries and the
parameters of the nn modules. Nothing large is allocated: the inputs are broadcast views and the
limit is lowered where a test needs a refusal that fits any machine."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import upsampling as up
from upsampling import _checks
from upsampling.spec import ResizeSpec

# the modules (the package exports functions of the same names)
deblur = importlib.import_module("upsampling.deblur")
interpolate = importlib.import_module("upsampling.interpolate")

MiB = 1 << 20


@pytest.fixture
def limit(monkeypatch):
    """Lower the memory limit (and forget the plans checked under the real one)."""

    def set_limit(nbytes: int) -> None:
        monkeypatch.setattr(_checks, "_RAM_LIMIT", nbytes)
        interpolate._plan_for.cache_clear()
        try:
            from upsampling.nn import _interpolate_ops
        except ImportError:
            return
        _interpolate_ops._plan.cache_clear()

    yield set_limit
    interpolate._plan_for.cache_clear()


# ------------------------------------------------------------------------------- iterations
@pytest.mark.parametrize("method", ["richardson_lucy", "richardson_lucy_tv", "tv"])
def test_deblur_iterations_are_bounded(method):
    image, psf = np.ones((8, 8)), np.ones((3, 3)) / 9
    for bad in (10**18, _checks.MAX_ITERATIONS + 1):
        with pytest.raises(
            ValueError, match=rf"^deblur: iterations {bad} must be between 1 and 100,000 \("
        ):
            up.deblur(image, psf, method=method, iterations=bad)
    plan = deblur.check_arguments(image, psf, method, "reflect", None, 100_000, False)
    assert plan.iterations == _checks.MAX_ITERATIONS == 100_000


def test_deblur_iterations_are_bounded_for_dask():
    da = pytest.importorskip("dask.array")
    image = da.ones((8, 8), chunks=4)
    with pytest.raises(ValueError, match=r"^deblur: iterations 1000000000000000000 must be"):
        up.deblur(image, np.ones((3, 3)) / 9, method="richardson_lucy", iterations=10**18)


@pytest.mark.parametrize("method", ["lsqr", "cg"])
def test_deconvolve_iterations_are_bounded(method):
    y, w = np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3))
    for bad in (10**18, 100_001):
        with pytest.raises(
            ValueError, match=rf"^deconvolve: iterations {bad} must be between 1 and 100,000 \("
        ):
            up.deconvolve(y, w, method=method, iterations=bad)


def test_set_num_threads_is_bounded():
    before = up.get_num_threads()
    try:
        with pytest.raises(ValueError, match=r"^set_num_threads: n 1000000000 must be between 1 "):
            up.set_num_threads(10**9)
        assert up.get_num_threads() == before
        up.set_num_threads(1024)  # the bound itself (the pool starts its threads lazily)
        assert up.get_num_threads() == 1024
    finally:
        up.set_num_threads(before)


# ---------------------------------------------------------------------------- the one check
def test_fits_in_memory_is_the_machine_memory(limit):
    limit(64 * MiB)
    _checks.fits_in_memory((8, MiB), 8, "f")  # 64 MiB: just fits
    with pytest.raises(ValueError, match=r"^f: the output of shape \(8, 1048577\) would take "):
        _checks.fits_in_memory((8, MiB + 1), 8, "f")
    with pytest.raises(ValueError, match=r"with its temporaries would take .* more than half of"):
        _checks.fits_in_memory((8, MiB), 8, "f", temporaries=1)
    # on an accelerator, only the absolute guard
    _checks.fits_in_memory((8, MiB + 1), 8, "f", host=False)
    with pytest.raises(ValueError, match=r"more than the limit of 1024 GiB$"):
        _checks.fits_in_memory((2**40 + 1,), 1, "f", host=False)


def test_refusal_message_of_an_absurd_size_does_not_overflow():
    with pytest.raises(ValueError, match=r"would take about 2\*\*1003 bytes"):
        _checks.fits_in_memory((2**1000,), 8, "f")
    with pytest.raises(ValueError, match=r"would take about 2\*\*"):
        _checks.fits_in_ram(1 << 2000, "f", "the thing", host=False)


def test_interpolate_output_is_held_to_the_machine_memory(limit):
    """The issue's call: a broadcast input whose output is larger than the machine's memory
    (here a limit of 64 MiB; 256 MiB of output) is refused before allocating."""
    limit(64 * MiB)
    x = np.broadcast_to(np.float32(1), (256, 256, 1, 1))
    with pytest.raises(
        ValueError,
        match=r"^interpolate: the output of shape \(256, 256, 32, 32\) .* more than half",
    ):
        up.interpolate(x, size=(32, 32), mode="bilinear")


def test_interpolate_tensor_output_is_held_to_the_machine_memory(limit):
    torch = pytest.importorskip("torch")
    limit(64 * MiB)
    x = torch.ones(1, 1, 1, 1).expand(256, 255, 1, 1)
    for mode in ("bilinear", "bicubic", "nearest"):
        with pytest.raises(ValueError, match=r"^interpolate: the output of shape \(256, 255, "):
            up.interpolate(x, size=(32, 32), mode=mode)


def _plan(shape, size, mode, dtype, *, memory=True):
    spec = ResizeSpec.of("interpolate", size, None, mode)
    dtype = np.dtype(dtype)
    return interpolate.plan_for(spec, shape, dtype.itemsize, dtype == np.float64, memory=memory)


TEMPORARIES = r"\(64, 64, 128, 128\) \(from size \(128, 128\)\) with its temporaries would take"


def test_interpolate_counts_its_temporaries(limit):
    """uint8 input is summed in a float32 copy, pass by pass: 64 MiB of output takes about nine
    times as much while it is computed; float32 input works in place of its scratch planes."""
    limit(384 * MiB)
    shape, size = (64, 64, 1, 1), (128, 128)  # 2**26 outputs
    _plan(shape, size, "bilinear", np.float32)  # 256 MiB and small scratch planes
    _plan(shape, size, "nearest", np.uint8)  # a copy: 64 MiB only
    with pytest.raises(ValueError, match=TEMPORARIES):
        _plan(shape, size, "bilinear", np.uint8)
    with pytest.raises(ValueError, match=TEMPORARIES):
        up.interpolate(np.broadcast_to(np.uint8(1), shape), size=size, mode="bilinear")
    with pytest.raises(ValueError, match="with its temporaries"):
        _plan(shape, size, "bilinear", np.float16)


def test_interpolate_counts_channels_last_scratch(limit):
    """A channels_last volume's D pass holds a whole image, every channel, per thread: C times
    the scratch of an NCHW plane. Under a limit that the NCHW call just fits in, the same call
    on a channels_last array is refused before anything is allocated."""
    before = up.get_num_threads()
    try:
        up.set_num_threads(1)
        shape, c = (1, 32, 8, 8, 8), 32
        spec = ResizeSpec.of("interpolate", None, 2, "trilinear")
        plan = interpolate.plan_for(spec, shape, 4, False, memory=False)
        nchw = interpolate._temporaries(shape, plan, 4, False)
        assert interpolate._temporaries(shape, plan, 4, False, last=True) == c * nchw
        limit(c * 16**3 * 4 + nchw)  # the output and one NCHW plane's two buffers
        x = np.zeros(shape, np.float32)
        up.interpolate(x, scale_factor=2, mode="trilinear")
        x_last = np.moveaxis(np.zeros((1, 8, 8, 8, c), np.float32), -1, 1)
        with pytest.raises(
            ValueError,
            match=r"^interpolate: the output of shape \(1, 32, 16, 16, 16\) \(from "
            r"scale_factor 2\.0\) with its temporaries would take",
        ):
            up.interpolate(x_last, scale_factor=2, mode="trilinear")
    finally:
        up.set_num_threads(before)


def test_dask_skips_the_whole_output_check(limit):
    limit(64 * MiB)
    shape, size = (256, 256, 1, 1), (32, 32)
    assert _plan(shape, size, "bilinear", np.float32, memory=False).out_size == size
    da = pytest.importorskip("dask.array")
    x = da.ones(shape, dtype=np.float32, chunks=(16, 16, 1, 1))
    y = up.interpolate(x, size=size, mode="bilinear")  # lazy: 1 MiB chunks
    assert y.shape == (256, 256, 32, 32)


def test_max_pool_counts_its_indices(limit):
    limit(64 * MiB)
    x = np.broadcast_to(np.uint8(1), (64, 64, 64, 64))  # 16 MiB of values, 128 MiB of indices
    with pytest.raises(ValueError, match=r"^max_pool: the output of shape \(64, 64, 64, 64\) with"):
        up.max_pool(x, 1)


# ------------------------------------------------------------------------------ huge scales
SCALES = [1e300, (1.0, 1e300), 2.0**61, float(np.finfo(np.float64).max)]


@pytest.mark.parametrize("scale", SCALES, ids=["1e300", "tuple", "2**61", "max"])
@pytest.mark.parametrize("onnx", [False, True], ids=["torch", "onnx"])
def test_interpolate_huge_scale_is_refused_cleanly(scale, onnx):
    options = {"coordinate_transformation_mode": "half_pixel"} if onnx else {}
    x = np.ones((1, 1, 4, 4), np.float32)
    with pytest.raises(ValueError, match=r"^interpolate: scale_factor .* 2\*\*62"):
        up.interpolate(x, scale_factor=scale, mode="bilinear", **options)


def test_interpolate_huge_scale_is_refused_for_tensors_and_shapes():
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match=r"^interpolate: scale_factor 1e\+300 must be at most"):
        up.interpolate(torch.ones(1, 1, 4, 4), scale_factor=1e300, mode="bilinear")
    with pytest.raises(ValueError, match=r"^interpolate_output_size: scale_factor 1e\+300"):
        up.shapes.interpolate_output_size((4, 4), scale_factor=1e300)
    with pytest.raises(ValueError, match=r"gives an output size above 2\*\*62"):
        up.shapes.interpolate_output_size((2**40,), scale_factor=2.0**30)
    assert up.shapes.interpolate_output_size((1,), scale_factor=2.0**62) == (2**62,)


# ------------------------------------------------------------------------ module parameters
def _modules():
    nn = pytest.importorskip("upsampling.nn")
    return {
        "ConvTranspose": lambda n: nn.ConvTranspose(n, n, 3),
        "SubPixelConv": lambda n: nn.SubPixelConv(n, n, 2),
        "ResizeConv": lambda n: nn.ResizeConv(n, n, 2),
        "CARAFE": lambda n: nn.CARAFE(n, c_mid=n),
        "DySample": lambda n: nn.DySample(n * n, groups=1),
    }


@pytest.mark.parametrize(
    "name", ["ConvTranspose", "SubPixelConv", "ResizeConv", "CARAFE", "DySample"]
)
def test_module_parameters_are_held_to_the_machine_memory(name, limit):
    make = _modules()[name]
    with pytest.raises(
        ValueError,
        match=rf"^{name}: the parameters \(.*\) would take ([0-9,]+|about 2\*\*\d+) bytes",
    ):
        make(2**40)
    limit(1 * MiB)
    with pytest.raises(ValueError, match=rf"^{name}: the parameters .* more than half of this"):
        make(512)
    make(4)


def test_conv_transpose_of_the_issue_is_refused_on_every_device():
    nn = pytest.importorskip("upsampling.nn")
    with pytest.raises(ValueError, match=r"^ConvTranspose: the parameters \(weight of shape"):
        nn.ConvTranspose(2**40, 2**40, 3)
    with pytest.raises(ValueError, match=r"more than the limit of 1024 GiB$"):
        nn.ConvTranspose(2**40, 2**40, 3, device="meta")
    assert nn.ConvTranspose(2**12, 2**12, 3, device="meta").weight.shape[0] == 2**12
