"""upsampling.shapes (its cores): the ``*_sizes`` functions that the operators call give what the
public ``*_output_size`` functions give and what the operators return, on grids of arguments;
``size_range`` states exactly the sizes a convolution merges; the old private names still
point at the cores."""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import upsampling as up
from upsampling import shapes
from upsampling.conv import METHODS

# (input size, kernel, stride, padding, dilation) along one axis, every small combination
AXES = list(itertools.product(range(1, 7), range(1, 4), range(1, 4), range(3), range(1, 3)))


def _refused(call) -> bool:
    try:
        call()
    except ValueError:
        return True
    return False


def test_cores_are_public_and_documented():
    for name in (
        "spatial_size",
        "pool_sizes",
        "unpool_sizes",
        "max_unpool_sizes",
        "conv_sizes",
        "conv_transpose_sizes",
        "size_range",
        "interpolate_sizes",
        "plane_shape",
    ):
        core = getattr(shapes, name)
        assert callable(core) and core.__doc__, name
        assert name not in shapes.__all__  # the public contract stays the six *_output_size
    assert len(shapes.__all__) == 6


def test_no_module_reaches_into_shapes_private_names():
    """Every formula other modules use is public: no ``shapes._name`` outside shapes.py."""
    import pathlib
    import re

    root = pathlib.Path(up.__file__).parent
    users = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if p.name != "shapes.py" and re.search(r"\bshapes\._[a-z]", p.read_text())
    ]
    assert users == []


@pytest.mark.parametrize("n,k,s,p,d", AXES, ids=lambda v: str(v))
def test_conv_sizes_equal_conv_output_size_and_conv(n, k, s, p, d):
    pads = ((p, p),)
    if _refused(lambda: shapes.conv_output_size((n,), k, s, p, d)):
        with pytest.raises(ValueError, match="too small"):
            shapes.conv_sizes((n,), (k,), (s,), pads, (d,), "t")
        with pytest.raises(ValueError, match="too small"):
            up.conv(np.zeros((1, 1, n)), np.ones((1, 1, k)), stride=s, padding=p, dilation=d)
        return
    got = shapes.conv_sizes((n,), (k,), (s,), pads, (d,), "t")
    assert got == shapes.conv_output_size((n,), k, s, p, d)
    y = up.conv(np.zeros((1, 1, n)), np.ones((1, 1, k)), stride=s, padding=p, dilation=d)
    assert y.shape[2:] == got


@pytest.mark.parametrize("n,k,s,p,d", AXES, ids=lambda v: str(v))
def test_conv_transpose_sizes_equal_torch_and_every_method(n, k, s, p, d):
    low = shapes.conv_transpose_sizes((n,), (k,), (s,), ((p, p),), (d,))
    x, w = torch.ones(1, 1, n, dtype=torch.float64), torch.ones(1, 1, k, dtype=torch.float64)
    if low[0] < 1:
        with pytest.raises(ValueError, match="empty"):
            shapes.conv_transpose_output_size((n,), k, s, p, dilation=d)
        return
    assert low == shapes.conv_transpose_output_size((n,), k, s, p, dilation=d)
    assert tuple(F.conv_transpose1d(x, w, stride=s, padding=p, dilation=d).shape[2:]) == low
    for method in METHODS:
        y = up.conv_transpose(x.numpy(), w.numpy(), stride=s, padding=p, dilation=d, method=method)
        assert y.shape[2:] == low, method


def test_full_size_is_conv_transpose_sizes_without_padding():
    for n, k, s, _, d in AXES:
        full = shapes.conv_transpose_sizes((n,), (k,), (s,), ((0, 0),), (d,))
        assert full == ((n - 1) * s + d * (k - 1) + 1,)


@pytest.mark.parametrize(
    "k,s,b,a,d", list(itertools.product((1, 2, 3), (1, 2, 3), (0, 1), (0, 2), (1, 2))), ids=str
)
def test_size_range_holds_exactly_the_sizes_a_convolution_merges(k, s, b, a, d):
    """Every input size in the range gives the output size, and no other size does."""
    for o in range(1, 6):
        first, last = shapes.size_range(
            shapes.conv_transpose_sizes((o,), (k,), (s,), ((b, a),), (d,)), (s,)
        )
        merged = []
        for n in range(1, 30):
            try:
                out = shapes.conv_sizes((n,), (k,), (s,), ((b, a),), (d,), "t")
            except ValueError:
                continue
            if out == (o,):
                merged.append(n)
        assert merged == list(range(first[0], last[0] + 1)), (o, merged, first, last)


def test_conv_transpose_output_size_range_is_size_range():
    """The output sizes conv_transpose accepts are size_range of the default size."""
    for n, k, s, p, d in AXES:
        low = shapes.conv_transpose_sizes((n,), (k,), (s,), ((p, p),), (d,))
        if low[0] < 1:
            continue
        first, last = shapes.size_range(low, (s,))
        for want in range(1, last[0] + 3):
            args = ((n,), k, s, p)
            call = functools.partial(
                shapes.conv_transpose_output_size, *args, dilation=d, output_size=(want,)
            )
            assert _refused(call) == (not first[0] <= want <= last[0]), (n, k, s, p, d, want)


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_pool_and_unpool_cores_equal_the_operators(dims, rng):
    size, kernel, stride = (5, 6, 7)[:dims], (2, 3, 2)[:dims], (2, 1, 3)[:dims]
    padding, dilation = (1, 0, 1)[:dims], (1, 2, 1)[:dims]
    x = rng.standard_normal((1, 2, *size))
    out = shapes.pool_sizes(size, kernel, stride, padding, dilation, True, "t")
    assert out == shapes.pool_output_size(size, kernel, stride, padding, dilation, True)
    values, indices = up.max_pool(x, kernel, stride, padding, dilation, True, return_indices=True)
    assert values.shape[2:] == out
    zeros = np.zeros_like(indices)  # positions inside every output plane: only sizes matter
    for want in (None, size, tuple(o + 1 for o in size)):
        call = functools.partial(up.max_unpool, values, zeros, kernel, stride, padding, want)
        if _refused(lambda w=want: shapes.max_unpool_sizes(out, kernel, stride, padding, w, "t")):
            assert _refused(call)
            continue
        got = shapes.max_unpool_sizes(out, kernel, stride, padding, want, "t")
        assert got == shapes.max_unpool_output_size(out, kernel, stride, padding, want)
        assert call().shape[2:] == got
    scale = (3, 1, 2)[:dims]
    assert shapes.unpool_sizes(size, scale) == up.unpool(x, scale).shape[2:]


@pytest.mark.parametrize(
    "in_size,size,scale",
    [((5,), None, 2.5), ((4, 7), (3, 9), None), ((4, 7), None, (0.5, 1.7)), ((3, 4, 5), 6, None)],
    ids=str,
)
def test_interpolate_sizes_equal_interpolate(in_size, size, scale):
    got = shapes.interpolate_sizes(in_size, size, scale, "t")
    assert got == shapes.interpolate_output_size(in_size, size, scale)
    x = np.zeros((1, 1, *in_size), np.float32)
    assert up.interpolate(x, size=size, scale_factor=scale).shape[2:] == got


def test_spatial_size():
    assert shapes.spatial_size(4, "t") == (4,)
    assert shapes.spatial_size([3, 0], "t") == (3, 0)
    with pytest.raises(TypeError, match=r"^t: input_size None must be a tuple of ints$"):
        shapes.spatial_size(None, "t")
    with pytest.raises(ValueError, match=r"^t: input_size \(\) must name at least one"):
        shapes.spatial_size((), "t")
    with pytest.raises(ValueError, match=r"^t: input_size \(2, -1\) must be non-negative$"):
        shapes.spatial_size((2, -1), "t")


@pytest.mark.parametrize("shape", [(2, 3, 5), (2, 3, 4, 5), (2, 3, 4, 5, 6), (0, 3, 4, 5)], ids=str)
def test_plane_shape_is_the_kernels_view(shape):
    planes = shapes.plane_shape(shape)
    assert len(planes) == 4 and planes[0] == shape[0] * shape[1]
    assert planes[1:][-(len(shape) - 2) :] == shape[2:]
    assert np.zeros(shape).reshape(planes).size == np.prod(shape)
