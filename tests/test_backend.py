"""upsampling._backend and the package's import rules: torch is never imported by
``import upsampling``, tensors are recognised without it, threads split planes exactly once."""

from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import pytest
import torch

import upsampling as up
from upsampling import _backend


def _run(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_import_does_not_import_torch():
    code = (
        "import sys, numpy as np, upsampling as up\n"
        "x = np.arange(16.0).reshape(1, 1, 4, 4)\n"
        "v, i = up.max_pool(x, 2, return_indices=True)\n"
        "up.max_unpool(v, i, 2); up.unpool(x, 2); up.shapes.pool_output_size((4, 4), 2)\n"
        "assert not up._backend.is_tensor(x)\n"
        "print('torch' in sys.modules, 'upsampling.nn' in sys.modules)"
    )
    assert _run(code) == "False False"


def test_nn_and_data_are_importable_lazily():
    code = (
        "import sys, upsampling as up\n"
        "assert 'upsampling.nn' not in sys.modules\n"
        "print(up.nn.MaxPool.__name__, up.data.sample.__name__, 'torch' in sys.modules)"
    )
    assert _run(code) == "MaxPool sample True"


def test_package_attributes():
    assert {"nn", "data", "unpool", "max_pool", "max_unpool", "shapes"} <= set(dir(up))
    for name in ("unpool", "max_pool", "max_unpool", "shapes", "set_num_threads"):
        assert name in up.__all__
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        up.nonsense  # noqa: B018


def test_tensor_detection_and_dtype_names():
    a, t = np.zeros(2, np.float16), torch.zeros(2, dtype=torch.bfloat16)
    assert not _backend.is_tensor(a) and _backend.is_tensor(t)
    assert _backend.is_array(a) and _backend.is_array(t) and not _backend.is_array([1.0])
    assert _backend.dtype_name(a) == "float16" and _backend.dtype_name(t) == "bfloat16"
    assert _backend.dtype_name(np.zeros(1, ">f4")) == "float32"
    assert _backend.itemsize(a) == 2 and _backend.itemsize(torch.zeros(1, dtype=torch.int64)) == 8


def test_torch_ops_returns_the_family_module():
    from upsampling.nn import _unpool_ops

    assert _backend.torch_ops("unpool") is _unpool_ops
    with pytest.raises(ModuleNotFoundError):
        _backend.torch_ops("no_such_family")


def test_set_num_threads():
    before = up.get_num_threads()
    try:
        up.set_num_threads(3)
        assert up.get_num_threads() == 3
        up.set_num_threads(np.int64(1))
        assert up.get_num_threads() == 1
        for bad, exc in ((0, ValueError), (-2, ValueError), (1.5, TypeError), (True, TypeError)):
            with pytest.raises(exc, match=rf"^set_num_threads: n {bad} must be "):
                up.set_num_threads(bad)
        assert up.get_num_threads() == 1
    finally:
        up.set_num_threads(before)


def test_default_threads_follow_the_cpu_affinity():
    code = "import os, upsampling as up; print(up.get_num_threads(), len(os.sched_getaffinity(0)))"
    ours, cpus = _run(code).split()
    assert ours == cpus


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("planes,work", [(0, 0), (1, 10**7), (7, 10), (7, 10**7), (100, 10**7)])
def test_run_planes_covers_each_plane_once(planes, work, threads):
    seen = np.zeros(planes, dtype=np.int64)
    names = set()
    lock = threading.Lock()

    def kernel(start, stop, out):
        with lock:
            names.add(threading.current_thread().name)
            out[start:stop] += 1

    before = up.get_num_threads()
    try:
        up.set_num_threads(threads)
        _backend.run_planes(kernel, planes, work, seen)
    finally:
        up.set_num_threads(before)
    assert seen.tolist() == [1] * planes
    used = min(threads, planes, max(1, work // _backend._PARALLEL_MIN_WORK))
    assert len(names) <= max(1, used)
    if used > 1:  # big enough: really split over the pool's threads
        # the pool's threads and the calling one (which runs the last share)
        pool = {n for n in names if n.startswith("upsampling")}
        assert pool and names - pool <= {threading.current_thread().name}


def test_serial_runs_kernels_on_the_calling_thread_only():
    """Inside ``serial`` (a Dask task) one thread, on this thread; other threads and the code
    after the block keep the configured count, even when the block raises."""
    before = up.get_num_threads()
    names = set()

    def kernel(start, stop):
        names.add(threading.current_thread().name)

    try:
        up.set_num_threads(2)
        seen_elsewhere = []
        with _backend.serial():
            assert up.get_num_threads() == 1
            _backend.run_planes(kernel, 8, 10**8)
            other = threading.Thread(target=lambda: seen_elsewhere.append(up.get_num_threads()))
            other.start()
            other.join()
            with _backend.serial():
                pass
            assert up.get_num_threads() == 1  # nested blocks restore, not clear
        assert names == {threading.current_thread().name}
        assert seen_elsewhere == [2]
        with pytest.raises(KeyError), _backend.serial():
            raise KeyError
        assert up.get_num_threads() == 2
    finally:
        up.set_num_threads(before)


def test_run_planes_propagates_kernel_errors():
    def kernel(start, stop):
        raise RuntimeError(f"plane {start}")

    before = up.get_num_threads()
    try:
        up.set_num_threads(2)
        with pytest.raises(RuntimeError, match="plane"):
            _backend.run_planes(kernel, 4, 10**7)
    finally:
        up.set_num_threads(before)
