"""upsampling.shapes (pooling and unpooling part): the sizes agree with the operators and with
PyTorch, the allowed range of max_unpool's output_size, and the argument checks."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import upsampling as up
from upsampling import shapes

TORCH_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}


def test_public_names():
    for name in ("pool_output_size", "unpool_output_size", "max_unpool_output_size"):
        assert name in shapes.__all__ and callable(getattr(up.shapes, name))


def test_pool_output_size_agrees_with_torch_and_max_pool():
    rnd = random.Random(1)
    agreed = refused = 0
    for _ in range(400):
        dims = rnd.choice([1, 2, 3])
        size = tuple(rnd.randint(1, 9) for _ in range(dims))
        k = tuple(rnd.randint(1, 4) for _ in range(dims))
        s = rnd.choice([None, tuple(rnd.randint(1, 4) for _ in range(dims))])
        p = tuple(rnd.randint(0, kk // 2) for kk in k)
        d = tuple(rnd.randint(1, 3) for _ in range(dims))
        ceil = rnd.random() < 0.5
        x = torch.zeros((1, 1, *size))
        try:
            ref = TORCH_POOL[dims](x, k, s, p, d, ceil).shape[2:]
        except RuntimeError:
            with pytest.raises(ValueError, match="pool_output_size: an input of spatial size"):
                shapes.pool_output_size(size, k, s, p, d, ceil)
            refused += 1
            continue
        got = shapes.pool_output_size(size, k, s, p, d, ceil)
        assert got == tuple(ref), (size, k, s, p, d, ceil)
        if not torch.isinf(TORCH_POOL[dims](x, k, s, p, d, ceil)).any():  # no empty window
            assert up.max_pool(x.numpy(), k, s, p, d, ceil).shape[2:] == got
        agreed += 1
    assert agreed > 250 and refused > 10


@pytest.mark.parametrize(
    "size,scale", [((5,), 3), ((2, 3), 2), ((2, 3), (1, 4)), ((1, 2, 3), (3, 2, 1))], ids=str
)
def test_unpool_output_size_agrees_with_unpool_and_interpolate(size, scale):
    got = shapes.unpool_output_size(size, scale)
    x = np.zeros((1, 1, *size), dtype=np.float32)
    assert up.unpool(x, scale).shape[2:] == got
    factor = scale if isinstance(scale, int) else tuple(float(s) for s in scale)
    assert tuple(F.interpolate(torch.from_numpy(x), scale_factor=factor).shape[2:]) == got


def test_max_unpool_output_size_agrees_with_torch_over_the_whole_range():
    rnd = random.Random(2)
    accepted = refused = 0
    for _ in range(300):
        dims = rnd.choice([1, 2, 3])
        size = tuple(rnd.randint(1, 5) for _ in range(dims))
        k = tuple(rnd.randint(1, 4) for _ in range(dims))
        s = tuple(rnd.randint(1, 4) for _ in range(dims))
        p = tuple(rnd.randint(0, kk // 2) for kk in k)
        default = [(n - 1) * ss + kk - 2 * pp for n, ss, kk, pp in zip(size, s, k, p, strict=True)]
        want = [dd + rnd.randint(-ss - 1, ss + 1) for dd, ss in zip(default, s, strict=True)]
        if min(default) < 1 or min(want) < 1:
            continue
        x = torch.zeros((1, 1, *size))
        for out in (None, want, [1, 1, *want]):
            try:
                ref = F._unpool_output_size(x, list(k), list(s), list(p), out)
            except ValueError:
                with pytest.raises(ValueError, match=r"is out of range.*each size must lie"):
                    shapes.max_unpool_output_size(size, k, s, p, out)
                refused += 1
                continue
            got = shapes.max_unpool_output_size(size, k, s, p, out)
            assert got == tuple(ref)
            idx = np.zeros((1, 1, *size), dtype=np.int64)
            assert up.max_unpool(x.numpy(), idx, k, s, p, out).shape[2:] == got
            accepted += 1
    assert accepted > 200 and refused > 50


def test_max_unpool_output_size_message_states_the_range():
    with pytest.raises(ValueError) as info:
        shapes.max_unpool_output_size((2, 2), 2, output_size=(7, 4))
    assert str(info.value) == (
        "max_unpool_output_size: output_size (7, 4) is out of range: for an input of spatial "
        "size (2, 2) each size must lie between (3, 3) and (5, 5) (default (4, 4))"
    )
    # the bounds stated are the bounds enforced
    assert shapes.max_unpool_output_size((2, 2), 2, output_size=(3, 5)) == (3, 5)
    with pytest.raises(ValueError):
        shapes.max_unpool_output_size((2, 2), 2, output_size=(2, 4))
    with pytest.raises(ValueError):
        shapes.max_unpool_output_size((2, 2), 2, output_size=(4, 6))


def test_int_input_size_means_one_dimension():
    assert shapes.pool_output_size(9, 3) == (3,)
    assert shapes.unpool_output_size(4, 2) == (8,)
    assert shapes.max_unpool_output_size(3, 2) == (6,)


BAD = [
    (shapes.pool_output_size, ((4, 4), 5), ValueError, "too small"),
    (shapes.pool_output_size, ((4, 4), 2, None, 2), ValueError, "at most half"),
    (shapes.pool_output_size, ((4, 4), (2, 2, 2)), ValueError, "kernel_size (2, 2, 2)"),
    (shapes.pool_output_size, ((4, 4), 0), ValueError, "kernel_size (0, 0) must be positive"),
    (shapes.pool_output_size, ((4, 4), 2.0), TypeError, "kernel_size 2.0"),
    (shapes.pool_output_size, ((4, -1), 2), ValueError, "input_size (4, -1)"),
    (shapes.pool_output_size, ((), 2), ValueError, "at least one spatial dimension"),
    (shapes.pool_output_size, (None, 2), TypeError, "input_size None"),
    (shapes.pool_output_size, ((4.0, 4), 2), TypeError, "input_size"),
    (shapes.unpool_output_size, ((4,), 0), ValueError, "scale_factor (0,) must be positive"),
    (shapes.unpool_output_size, ((4,), 1.5), TypeError, "scale_factor 1.5"),
    (shapes.unpool_output_size, ((4, 4), (2, 2, 2)), ValueError, "scale_factor (2, 2, 2)"),
    (shapes.max_unpool_output_size, ((2,), 2, None, 2), ValueError, "pass output_size"),
    (shapes.max_unpool_output_size, ((2,), 2, -1), ValueError, "stride (-1,)"),
    (shapes.max_unpool_output_size, ((2,), 2, None, 0, (4, 4)), ValueError, "output_size"),
]


@pytest.mark.parametrize(
    "fn,args,exc,words", BAD, ids=[f"{b[0].__name__}-{i}" for i, b in enumerate(BAD)]
)
def test_bad_input(fn, args, exc, words):
    with pytest.raises(exc, match=f"^{fn.__name__}: ") as info:
        fn(*args)
    assert words in str(info.value)


def test_pool_windows_nonempty_equals_looking_at_every_window():
    """The check looks at the left-padding windows only; brute force over every window of
    small 1-D poolings agrees (a dilation can step over a short input from either side)."""
    checked = refused = 0
    for n, k, s, d in itertools.product(range(1, 7), range(1, 5), range(1, 4), range(1, 4)):
        for p, ceil in itertools.product(range(k // 2 + 1), (False, True)):
            try:
                (o_n,) = shapes.pool_sizes((n,), (k,), (s,), (p,), (d,), ceil, "t")
            except ValueError:
                continue
            empty = any(all(not 0 <= o * s - p + j * d < n for j in range(k)) for o in range(o_n))
            checked += 1
            if empty:
                refused += 1
                with pytest.raises(ValueError, match="covers no input element"):
                    shapes.pool_windows_nonempty((n,), (k,), (s,), (p,), (d,), ceil, "t")
            else:
                shapes.pool_windows_nonempty((n,), (k,), (s,), (p,), (d,), ceil, "t")
    assert checked > 500 and refused > 10, (checked, refused)  # both outcomes are exercised
