"""The NumPy workers' caches of prepared calls (issue 12, per-call cost): what a call derives
from its tables, shape, dtype and layout alone is kept, so a repeated call only looks it up.
The cached path must give the same bits as a call that prepares everything afresh, never a
result prepared for another dtype or layout, and the caches stay bounded."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import upsampling as up
from upsampling.filters import table

interpolate = importlib.import_module("upsampling.interpolate")
unpool = importlib.import_module("upsampling.unpool")

RNG = np.random.default_rng(12)

# (shape, mode, scale): 1-D, 2-D, 3-D; up and down; gathers and sums
CASES = [
    ((2, 3, 9), "linear", 2),
    ((1, 4, 8, 8), "bilinear", 2),
    ((1, 4, 8, 8), "bilinear", 0.75),
    ((2, 3, 7, 11), "bicubic", 1.5),
    ((1, 3, 6, 5), "area", 0.5),
    ((1, 5, 8, 8), "nearest", 2),
    ((1, 3, 5, 7), "nearest-exact", 1.7),
    ((1, 3, 4, 5, 6), "trilinear", 2),
    ((1, 2, 3, 4, 5), "nearest", 2),
]


def _layout(x: np.ndarray, last: bool) -> np.ndarray:
    """``x`` as it is, or as the channels_last array of the same values."""
    if not last:
        return x
    return np.moveaxis(np.ascontiguousarray(np.moveaxis(x, 1, -1)), -1, 1)


def _uncached(monkeypatch, fn, *args, **kwargs):
    """``fn(*args)`` with the workers' caches off: everything prepared afresh."""
    with monkeypatch.context() as m:
        m.setattr(interpolate, "_CACHE_SIZE", 0)
        m.setattr(unpool, "_CACHE_SIZE", 0)
        return fn(*args, **kwargs)


def _same_bits(a: np.ndarray, b: np.ndarray) -> None:
    assert a.dtype == b.dtype and a.shape == b.shape and a.strides == b.strides
    assert a.tobytes() == b.tobytes()


@pytest.fixture(autouse=True)
def _fresh():
    interpolate.clear_cache()
    unpool.clear_cache()
    yield
    interpolate.clear_cache()
    unpool.clear_cache()


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("last", [False, True])
@pytest.mark.parametrize(("shape", "mode", "scale"), CASES)
def test_cached_forward_and_backward_are_the_same_bits(
    monkeypatch, shape, mode, scale, last, dtype
):
    x = _layout(RNG.standard_normal(shape).astype(dtype), last and len(shape) > 3)
    fresh = _uncached(monkeypatch, up.interpolate, x, scale_factor=scale, mode=mode)
    first = up.interpolate(x, scale_factor=scale, mode=mode)  # prepares and caches
    again = up.interpolate(x, scale_factor=scale, mode=mode)  # from the cache
    _same_bits(first, fresh)
    _same_bits(again, fresh)
    assert len(interpolate._PREPARED) > 0
    if dtype == np.float16:
        return
    spec = up.spec.ResizeSpec.of("interpolate", None, scale, mode)
    plan = interpolate.plan_for(spec, shape, x.itemsize, dtype == np.float64)
    g = _layout(RNG.standard_normal(first.shape).astype(dtype), last and len(shape) > 3)
    fresh = _uncached(monkeypatch, interpolate.interpolate_backward_array, g, plan)
    _same_bits(interpolate.interpolate_backward_array(g, plan), fresh)
    _same_bits(interpolate.interpolate_backward_array(g, plan), fresh)


def test_no_stale_result_when_only_dtype_or_layout_changes(monkeypatch):
    """One shape and plan, four calls: each dtype and layout gets its own prepared call (the
    float64 weights are not those rounded to float32, the channels_last kernel arguments are
    not the NCHW ones)."""
    base = RNG.standard_normal((1, 3, 7, 9))
    results = {}
    for dtype in (np.float32, np.float64):
        for last in (False, True):
            x = _layout(base.astype(dtype), last)
            got = up.interpolate(x, scale_factor=1.5, mode="bicubic")
            fresh = _uncached(monkeypatch, up.interpolate, x, scale_factor=1.5, mode="bicubic")
            _same_bits(got, fresh)
            assert got.dtype == dtype
            assert interpolate._backend.channels_last(got) == last
            results[dtype, last] = got
    for dtype in (np.float32, np.float64):  # a layout changes no value
        np.testing.assert_array_equal(results[dtype, False], results[dtype, True])
    assert not np.array_equal(results[np.float32, False], results[np.float64, False])


def test_prepared_call_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(interpolate, "_CACHE_SIZE", 3)
    for n in range(2, 10):
        x = RNG.standard_normal((1, 2, n, n + 1)).astype(np.float32)
        got = up.interpolate(x, scale_factor=2, mode="bilinear")
        fresh = _uncached(monkeypatch, up.interpolate, x, scale_factor=2, mode="bilinear")
        _same_bits(got, fresh)
        assert len(interpolate._PREPARED) <= 3
    # an entry evicted and prepared again gives the same bits
    x = RNG.standard_normal((1, 2, 2, 3)).astype(np.float32)
    _same_bits(
        up.interpolate(x, scale_factor=2, mode="bilinear"),
        _uncached(monkeypatch, up.interpolate, x, scale_factor=2, mode="bilinear"),
    )


@pytest.mark.parametrize("last", [False, True])
@pytest.mark.parametrize(
    ("shape", "args"),
    [
        ((1, 3, 8, 8), dict(kernel_size=2)),
        ((2, 2, 9, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
        ((1, 2, 11), dict(kernel_size=3, stride=2, dilation=2)),
        ((1, 2, 5, 6, 7), dict(kernel_size=(2, 3, 2), stride=1, padding=(1, 1, 0))),
    ],
)
def test_cached_max_pool_and_unpool_are_the_same_bits(monkeypatch, shape, args, last):
    x = _layout(RNG.standard_normal(shape).astype(np.float32), last and len(shape) > 3)
    fresh = _uncached(monkeypatch, up.max_pool, x, return_indices=True, **args)
    for _ in range(2):  # prepares, then reads the cache
        got = up.max_pool(x, return_indices=True, **args)
        _same_bits(got[0], fresh[0])
        _same_bits(got[1], fresh[1])
    assert unpool._TAPS and unpool._CHECKED
    if "dilation" in args:  # (indices beyond max_unpool's default output size)
        return
    np.testing.assert_array_equal(
        up.max_unpool(*got, args["kernel_size"], args.get("stride"), args.get("padding", 0)),
        _uncached(
            monkeypatch,
            up.max_unpool,
            *fresh,
            args["kernel_size"],
            args.get("stride"),
            args.get("padding", 0),
        ),
    )


def test_max_pool_caches_are_bounded_and_keep_refusing(monkeypatch):
    monkeypatch.setattr(unpool, "_CACHE_SIZE", 2)
    for n in range(4, 10):
        x = RNG.standard_normal((1, 1, n, n)).astype(np.float64)
        got = up.max_pool(x, 3, 2, 1, return_indices=True)
        fresh = _uncached(monkeypatch, up.max_pool, x, 3, 2, 1, return_indices=True)
        _same_bits(got[0], fresh[0])
        _same_bits(got[1], fresh[1])
        assert len(unpool._TAPS) <= 2 and len(unpool._CHECKED) <= 2
    x = np.ones((1, 1, 4, 4))
    for _ in range(2):  # a refusal is not cached as a pass
        with pytest.raises(ValueError, match=r"^max_pool: "):
            up.max_pool(x, 3, padding=2)


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize(
    ("shape", "mode"),
    [((1, 16, 6, 7, 8), "trilinear"), ((3, 8, 6, 7, 5), "trilinear"), ((1, 16, 9, 10), "bicubic")],
)
@pytest.mark.parametrize("last", [False, True])
def test_memory_bound_covers_the_kernel_scratch(shape, mode, last, threads):
    """``_temporaries`` bounds what the kernel allocates: two buffers of the prepared scratch
    per thread, a thread per kernel plane at most (a channels_last image holds every channel,
    so its buffers are C times an NCHW plane's)."""
    before = up.get_num_threads()
    try:
        up.set_num_threads(threads)
        spec = up.spec.ResizeSpec.of("interpolate", None, 2, mode)
        plan = interpolate.plan_for(spec, shape, 4, False, last=last)
        tables = [table(a) for a in plan.axes]
        prep = interpolate._prepare_resample(shape, np.dtype(np.float32), last, tables, None)
        kernel_planes = shape[0] if last else shape[0] * shape[1]
        used = 2 * min(threads, kernel_planes) * prep.whole[-3] * 4
        assert used <= interpolate._temporaries(shape, plan, 4, False, last)
    finally:
        up.set_num_threads(before)


def test_cached_pool_arguments_tell_types_apart():
    """Remembered arguments are told apart by type: a float or a bool where an int was
    accepted is still refused (as PyTorch refuses them), in a tuple too."""
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    expected = up.max_pool(x, 2)
    np.testing.assert_array_equal(up.max_pool(x, (2, 2)), expected)
    assert unpool._ARGUMENTS
    for bad in (2.0, (2, 2.0)):
        for _ in range(2):
            with pytest.raises(TypeError, match=r"^max_pool: kernel_size"):
                up.max_pool(x, bad)
    with pytest.raises(TypeError, match=r"^max_pool: ceil_mode"):
        up.max_pool(x, 2, ceil_mode=1)
    np.testing.assert_array_equal(up.max_pool(x, 2), expected)


def test_cached_unpool_arguments_tell_types_apart():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    values, indices = up.max_pool(x, 2, return_indices=True)
    for _ in range(2):  # the second call reads what the first remembered
        np.testing.assert_array_equal(up.unpool(x, 2), np.kron(x, np.ones((2, 2))))
        assert up.max_unpool(values, indices, 2).sum() == values.sum()
        with pytest.raises(TypeError, match=r"^unpool: scale_factor"):
            up.unpool(x, 2.0)
        with pytest.raises(TypeError, match=r"^max_unpool: kernel_size"):
            up.max_unpool(values, indices, (2, 2.0))
        with pytest.raises(ValueError, match=r"^max_unpool: "):
            up.max_unpool(values, indices, 2, output_size=(9, 9))
        np.testing.assert_array_equal(
            up.max_unpool(values, indices, 2, output_size=(5, 5)),
            _reference_unpool(values, indices, (5, 5)),
        )
    assert unpool._ARGUMENTS and unpool._CHECKED


def _reference_unpool(values: np.ndarray, indices: np.ndarray, size) -> np.ndarray:
    out = np.zeros((*values.shape[:2], int(np.prod(size))))
    for p in np.ndindex(*values.shape[:2]):
        out[p][indices[p].ravel()] = values[p].ravel()
    return out.reshape(*values.shape[:2], *size)
