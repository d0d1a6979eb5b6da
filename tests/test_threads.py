"""Thread-count invariance with row splitting: the same bits for 1, 2 and 5 threads, also when
a single plane is cut into blocks of rows (issue 12)."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

import upsampling as up
from upsampling import _backend
from upsampling.interpolate import interpolate_array, interpolate_backward_array, plan_for
from upsampling.spec import ResizeSpec

_unpool = sys.modules["upsampling.unpool"]
THREADS = (1, 2, 5)


@pytest.fixture
def threads():
    before = up.get_num_threads()
    yield
    up.set_num_threads(before)


def _each_thread_count(fn):
    """``fn()`` under each thread count; the results."""
    out = []
    for n in THREADS:
        up.set_num_threads(n)
        out.append(fn())
    return out


def _assert_identical(results):
    first = results[0]
    for r in results[1:]:
        assert r.dtype == first.dtype and r.shape == first.shape
        assert r.strides == first.strides
        bits = f"u{r.itemsize}"  # bit for bit
        assert np.array_equal(r.view(bits), first.view(bits))


def _channels_last(a):
    return np.moveaxis(np.ascontiguousarray(np.moveaxis(a, 1, -1)), -1, 1)


CASES = [
    ((1, 1, 300, 290), {"scale_factor": 2, "mode": "bilinear"}, False),
    ((1, 1, 300, 290), {"scale_factor": 1.5, "mode": "bilinear", "align_corners": True}, False),
    ((1, 1, 211, 197), {"size": (420, 401), "mode": "bicubic"}, False),
    ((1, 1, 300, 290), {"scale_factor": 2, "mode": "nearest"}, False),
    ((1, 1, 400, 300), {"size": (170, 150), "mode": "area"}, False),
    ((3, 1, 150, 160), {"scale_factor": 1.75, "mode": "bilinear"}, False),  # 3 planes, 5 threads
    ((1, 1, 20, 60, 50), {"scale_factor": 2, "mode": "trilinear"}, False),
    ((1, 8, 100, 90), {"scale_factor": 2, "mode": "bilinear"}, True),
    ((1, 8, 100, 90), {"scale_factor": 1.3, "mode": "bicubic"}, True),
    ((1, 8, 100, 90), {"scale_factor": 2, "mode": "nearest"}, True),
]


@pytest.mark.parametrize(
    "shape,kw,last", CASES, ids=[f"{s}-{kw['mode']}-{'cl' if c else 'nchw'}" for s, kw, c in CASES]
)
def test_interpolate_same_bits_for_every_thread_count(shape, kw, last, threads, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    if last:
        x = _channels_last(x)
    plan = plan_for(ResizeSpec.of("interpolate", **kw), shape, 4, False)
    _assert_identical(_each_thread_count(lambda: interpolate_array(x, plan)))
    g = rng.standard_normal((*shape[:2], *plan.out_size)).astype(np.float32)
    if last:
        g = _channels_last(g)
    _assert_identical(_each_thread_count(lambda: interpolate_backward_array(g, plan)))


@pytest.mark.parametrize("last", [False, True], ids=["nchw", "cl"])
def test_unpool_same_bits_for_every_thread_count(last, threads, rng):
    x = rng.standard_normal((1, 4 if last else 1, 150, 170)).astype(np.float32)
    if last:
        x = _channels_last(x)
    _assert_identical(_each_thread_count(lambda: _unpool.unpool_array(x, (2, 3), (0, 0), False)))
    _assert_identical(_each_thread_count(lambda: _unpool.unpool_array(x, (2, 3), (1, 2), True)))
    g = _unpool.unpool_array(x, (2, 3), (0, 0), False) * 0.5 + 1
    _assert_identical(_each_thread_count(lambda: _unpool.unpool_nearest_backward_array(g, (2, 3))))


@pytest.mark.parametrize("threads_", [1, 2, 3, 16])
@pytest.mark.parametrize(
    "planes,rows,work,block_rows",
    [
        (0, 5, 10**7, 0),
        (1, 1, 10**7, 0),
        (1, 100, 10**7, 0),
        (3, 100, 10**7, 0),
        (7, 9, 10, 0),
        (40, 10, 10**7, 0),
        (2, 100, 10, 7),
        (5, 3, 10**7, 2),
    ],
)
def test_run_blocks_covers_each_row_once(planes, rows, work, block_rows, threads_, threads):
    seen = np.zeros((planes, rows), np.int64)
    names, calls = set(), []
    lock = threading.Lock()

    def call(p0, p1, r0, r1):
        with lock:
            names.add(threading.current_thread().name)
            calls.append((p0, p1, r0, r1))
            seen[p0:p1, r0:r1] += 1

    up.set_num_threads(threads_)
    _backend.run_blocks(call, planes, rows, work, block_rows)
    assert (seen == 1).all()
    used = _backend.threads_for(work, planes * rows)
    if used > 1 and planes * rows:  # big enough: split over the pool, rows too for few planes
        # the pool's threads and the calling one (which runs the last share)
        pool = {n for n in names if n.startswith("upsampling")}
        assert pool and names - pool <= {threading.current_thread().name}
        assert len(calls) >= min(used, planes * rows)
        if planes < used:
            assert any(r1 - r0 < rows for _, _, r0, r1 in calls)
    else:
        assert names <= {threading.current_thread().name}
    if block_rows:
        assert all(r1 - r0 <= block_rows for _, _, r0, r1 in calls)


def test_small_work_stays_on_the_calling_thread(threads):
    up.set_num_threads(4)
    assert _backend.threads_for(_backend._PARALLEL_MIN_WORK - 1, 100) == 1
    assert _backend.threads_for(10 * _backend._PARALLEL_MIN_WORK, 100) == 4
    assert _backend.threads_for(10 * _backend._PARALLEL_MIN_WORK, 3) == 3
    names = []
    _backend.run_blocks(lambda *a: names.append(threading.current_thread().name), 1, 50, 1000)
    assert names == [threading.current_thread().name]


@pytest.mark.parametrize("last", [False, True], ids=["nchw", "cl"])
def test_any_split_gives_the_same_sums(last, threads, monkeypatch):
    """Row blocks of every size (up to one row per block) give the same bits as the whole
    volume at once, with and without the row-by-row streaming of large slices."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 3 if last else 1, 64, 40)).astype(np.float32)
    if last:
        x = _channels_last(x)
    plan = plan_for(ResizeSpec.of("interpolate", size=(97, 61), mode="bicubic"), x.shape, 4, False)
    mod = sys.modules["upsampling.interpolate"]
    up.set_num_threads(1)
    whole = interpolate_array(x, plan)
    monkeypatch.setattr(_backend, "_PARALLEL_MIN_WORK", 1)  # split even this small call
    for stream in (1 << 40, 0):
        monkeypatch.setattr(mod, "_STREAM", stream)
        for n in (2, 3, 7, 97):
            up.set_num_threads(n)
            assert np.array_equal(interpolate_array(x, plan).view(np.uint32), whole.view(np.uint32))
