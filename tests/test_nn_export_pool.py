"""upsampling.nn.Unpool / MaxPool / MaxUnpool leave PyTorch: ONNX export (TorchScript exporter,
opset 17) run in onnxruntime equals the eager module exactly, values and indices, in 1-3 spatial
dims; and the plain-op graphs the export traces equal the custom ops on a wider grid, in eager
mode (no export, so it is cheap)."""

from __future__ import annotations

import io
import itertools

import numpy as np
import pytest
import torch

import upsampling as up
from upsampling import shapes
from upsampling.nn import _export_ops as export_ops
from upsampling.nn import _unpool_ops as unpool_ops
from upsampling.nn.modules import MaxPool, MaxUnpool, Unpool

ort = pytest.importorskip("onnxruntime")
pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning", "ignore::UserWarning", "ignore::torch.jit.TracerWarning"
)

NAN, INF = float("nan"), float("inf")


def _exported(module, *args, opset=17):
    """Export ``module`` for ``args`` and return a function running the model in onnxruntime."""
    names = [f"in{i}" for i in range(len(args))]
    buffer = io.BytesIO()
    torch.onnx.export(module, args, buffer, dynamo=False, opset_version=opset, input_names=names)
    session = ort.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])
    return lambda *a: session.run(None, {n: t.numpy() for n, t in zip(names, a, strict=True)})


def _same(got, expected):
    """Exactly equal, dtype and NaN positions included."""
    expected = expected.detach().numpy()
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


def _pooled_input(shape, dtype=torch.float32, seed=0):
    """Small integers (many ties) as floats, or the integers themselves."""
    g = torch.Generator().manual_seed(seed)
    return torch.randint(-4, 5, shape, generator=g).to(dtype)


# ------------------------------------------------------------------------------------- Unpool
UNPOOL = {
    "1d-nearest-3": (Unpool(3), (2, 3, 4), torch.float32),
    "2d-nearest-2x3": (Unpool((2, 3)), (1, 2, 3, 4), torch.float32),
    "3d-nearest-2": (Unpool(2), (1, 2, 2, 3, 2), torch.float64),
    "1d-nails-2@1": (Unpool(2, "bed_of_nails", offset=1), (2, 3, 4), torch.float32),
    "2d-nails-2x3@1,2": (
        Unpool((2, 3), "bed_of_nails", offset=(1, 2)),
        (1, 2, 3, 4),
        torch.float32,
    ),
    "3d-nails-2@0,1,1": (
        Unpool(2, "bed_of_nails", offset=(0, 1, 1)),
        (1, 2, 2, 3, 2),
        torch.float32,
    ),
    "2d-nails-uint8": (Unpool(2, "bed_of_nails"), (1, 2, 3, 4), torch.uint8),
}


@pytest.mark.parametrize("name", list(UNPOOL))
def test_unpool_exports(name):
    module, shape, dtype = UNPOOL[name]
    x = (torch.randn(shape) * 50).to(dtype)
    (got,) = _exported(module, x)(x)
    _same(got, module(x))


@pytest.mark.parametrize("mode", ["nearest", "bed_of_nails"])
def test_unpool_export_with_dynamic_axes(mode):
    """The Unpool graph keeps the sizes symbolic: one export serves other batch and image sizes."""
    module = Unpool((2, 3), mode, offset=(1, 1) if mode == "bed_of_nails" else 0)
    buffer = io.BytesIO()
    dynamic = {"x": {0: "n", 2: "h", 3: "w"}}
    x = torch.randn(1, 2, 3, 4)
    torch.onnx.export(
        module,
        (x,),
        buffer,
        dynamo=False,
        opset_version=17,
        input_names=["x"],
        dynamic_axes=dynamic,
    )
    session = ort.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])
    other = torch.randn(3, 2, 5, 2)
    (got,) = session.run(None, {"x": other.numpy()})
    _same(got, module(other))


# ------------------------------------------------------------------------------------ MaxPool
MAX_POOL = {
    "1d-k3s2p1d2-ceil": (MaxPool(3, 2, 1, 2, True), (2, 3, 11)),
    "1d-k2-ceil": (MaxPool(2, ceil_mode=True), (1, 2, 9)),
    "2d-k3s2p1d2-ceil": (MaxPool(3, 2, 1, 2, True), (2, 3, 9, 8)),
    "2d-k2x3-s1x2-p1": (MaxPool((2, 3), (1, 2), (1, 1)), (1, 2, 6, 7)),
    "3d-k2x3x2-s1x2x3-p1x1x0": (MaxPool((2, 3, 2), (1, 2, 3), (1, 1, 0)), (1, 2, 5, 6, 7)),
    "3d-k3-s2-p1-d1x2x1-ceil": (MaxPool(3, 2, 1, (1, 2, 1), True), (1, 1, 5, 7, 6)),
}


@pytest.mark.parametrize("name", list(MAX_POOL))
def test_max_pool_exports_values_and_plane_indices(name):
    module, shape = MAX_POOL[name]
    x = _pooled_input(shape)
    run = _exported(module, x)
    for probe in (x, _pooled_input(shape, seed=1)):  # the graph is not the traced numbers
        values, indices = run(probe)
        expected_values, expected_indices = module(probe)
        _same(values, expected_values)
        _same(indices, expected_indices)


def test_max_pool_export_keeps_nan_and_infinity_rules():
    """NaN wins (the last in the window), ties go to the first maximum, a window of -inf
    (padding aside) gives the index of its first real element: ONNX MaxPool differs here."""
    module = MaxPool(3, 2, 1, 2, True)
    x = torch.full((1, 2, 7, 8), -INF)
    x[0, 1, ::3, 1::2] = NAN
    x[0, 1, 1::4, ::3] = 1.0
    run = _exported(module, x)
    values, indices = run(x)
    expected_values, expected_indices = module(x)
    assert np.isnan(values).any() and np.isneginf(values).any()
    _same(values, expected_values)
    _same(indices, expected_indices)
    line = torch.tensor([[[1.0, NAN, 3.0, 2.0, -INF, -INF, 5.0, 5.0, NAN, NAN]]])
    values, indices = _exported(MaxPool(2, 1), line)(line)
    np.testing.assert_array_equal(indices[0, 0], [1, 1, 2, 3, 4, 6, 6, 8, 9])
    _same(values, MaxPool(2, 1)(line)[0])


@pytest.mark.parametrize("dtype", [torch.float64, torch.int32, torch.int64, torch.uint8])
def test_max_pool_export_dtypes(dtype):
    module = MaxPool(3, 2, 1)
    x = (
        _pooled_input((1, 2, 5, 6), dtype)
        if dtype != torch.uint8
        else torch.randint(0, 3, (1, 2, 5, 6), dtype=dtype)
    )
    values, indices = _exported(module, x)(x)
    expected_values, expected_indices = module(x)
    _same(values, expected_values)
    _same(indices, expected_indices)


def test_max_pool_export_at_opset_11():
    module = MaxPool(3, 2, 1, 1, True)
    x = _pooled_input((1, 2, 6, 7))
    values, indices = _exported(module, x, opset=11)(x)
    _same(values, module(x)[0])
    _same(indices, module(x)[1])


# ---------------------------------------------------------------------------------- MaxUnpool
MAX_UNPOOL = {
    "1d-k2": ((2,), (2,), 0, (2, 3, 8), None),
    "1d-k3s2p1-size": ((3,), (2,), 1, (1, 2, 9), (10,)),
    "2d-k2": ((2, 2), None, 0, (1, 2, 6, 8), None),
    "2d-k3s2p1-size": ((3, 3), (2, 2), 1, (1, 2, 7, 8), (7, 8)),
    "3d-k2": ((2, 2, 2), None, 0, (1, 2, 4, 6, 4), None),
    "3d-k2x3x2-s1x2x2-size": ((2, 3, 2), (1, 2, 2), 0, (1, 1, 5, 7, 6), (5, 8, 6)),
}


@pytest.mark.parametrize("name", list(MAX_UNPOOL))
def test_max_unpool_exports(name):
    """Indices from the pooling (overlapping windows give duplicates: the later input wins);
    ``output_size`` fixed at export time."""
    kernel, stride, padding, shape, output_size = MAX_UNPOOL[name]
    values, indices = MaxPool(kernel, stride, padding)(_pooled_input(shape))
    module = MaxUnpool(kernel, stride, padding)

    class WithSize(torch.nn.Module):
        def forward(self, x, i):
            return module(x, i, output_size)

    probe = torch.randn(values.shape)
    (got,) = _exported(WithSize(), values, indices)(probe, indices)
    _same(got, module(probe, indices, output_size))


def test_max_unpool_export_seed_5x5():
    """The seed's example: a larger output_size moves the values (indices stay flat)."""
    x = torch.arange(1.0, 17.0).reshape(1, 1, 4, 4)
    out, idx = MaxPool(2, 2)(x)

    class Seed(torch.nn.Module):
        def forward(self, v, i):
            return MaxUnpool(2, 2)(v, i, output_size=(1, 1, 5, 5))

    (got,) = _exported(Seed(), out, idx)(out, idx)
    expected = np.zeros((5, 5), np.float32)
    expected[1, 0], expected[1, 2], expected[2, 3], expected[3, 0] = 6, 8, 14, 16
    np.testing.assert_array_equal(got[0, 0], expected)


def test_max_unpool_export_duplicates_later_input_wins():
    module = MaxUnpool(2)
    x = torch.randn(2, 3, 4, 5)
    indices = torch.randint(0, 6, x.shape)  # 20 inputs on 6 of 80 outputs per plane
    run = _exported(module, x, indices)
    (got,) = run(x, indices)
    _same(got, module(x, indices))
    flat_x, flat_i = x[1, 2].flatten(), indices[1, 2].flatten()
    for target in range(6):  # the rule itself, not only agreement
        named = (flat_i == target).nonzero().flatten()
        want = flat_x[named[-1]].item() if len(named) else 0.0
        assert got[1, 2].flatten()[target] == np.float32(want)


@pytest.mark.parametrize("bad", [80, 81, 1000, -1, -80])
def test_max_unpool_export_index_outside_plane_fails_in_the_runtime(bad):
    module = MaxUnpool(2)
    x = torch.randn(2, 3, 4, 5)
    indices = torch.randint(0, 80, x.shape)
    run = _exported(module, x, indices)
    indices[1, 0, 2, 3] = bad
    with pytest.raises(Exception, match="out of data bounds"):
        run(x, indices)


# ------------------------------------------------------------------------ encoder-decoder
class _SegNetLike(torch.nn.Module):
    """Conv -> MaxPool -> Conv -> MaxUnpool (to the encoder's size) -> Unpool -> Conv."""

    def __init__(self, dims: int):
        super().__init__()
        conv = (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)[dims - 1]
        self.enc = conv(2, 4, 3, padding=1)
        self.pool = MaxPool(2)
        self.mid = conv(4, 4, 3, padding=1)
        self.unpool = MaxUnpool(2)
        self.up = Unpool(2, "bed_of_nails", offset=1)
        self.dec = conv(4, 1, 1)

    def forward(self, x):
        e = torch.relu(self.enc(x))
        p, i = self.pool(e)
        u = self.unpool(torch.relu(self.mid(p)), i, output_size=e.shape[2:])
        return self.dec(self.up(u)), i


@pytest.mark.parametrize("dims,shape", [(1, (2, 2, 9)), (2, (1, 2, 7, 6)), (3, (1, 2, 4, 5, 4))])
def test_encoder_decoder_exports(dims, shape):
    torch.manual_seed(dims)
    model = _SegNetLike(dims).eval()
    x = torch.randn(shape)
    got, got_indices = _exported(model, x)(x)
    with torch.no_grad():
        expected, expected_indices = model(x)
    _same(got_indices, expected_indices)
    np.testing.assert_allclose(got, expected.numpy(), rtol=1e-5, atol=1e-6)  # the convolutions


# ------------------------------------------------- the export graphs in eager mode, wider grid
def _pool_grid():
    for dims, k, s, p, d, ceil in itertools.product(
        (1, 2, 3), (1, 2, 3), (1, 2, 3), (0, 1), (1, 2), (False, True)
    ):
        if p <= k // 2:
            yield pytest.param(dims, k, s, p, d, ceil, id=f"{dims}d-k{k}s{s}p{p}d{d}-{ceil}")


@pytest.mark.parametrize("dims,k,s,p,d,ceil", list(_pool_grid()))
def test_export_graph_of_max_pool_equals_the_op(dims, k, s, p, d, ceil):
    shape = (1, 2, *(7, 6, 5)[:dims])
    x = _pooled_input(shape, seed=dims * 100 + k * 10 + s)
    x[0, 1].view(-1)[::5] = NAN
    x[0, 0].view(-1)[::3] = -INF
    args = shapes.pool_arguments(dims, k, s, p, d, ceil, "test")
    expected = up.max_pool(x, k, s, p, d, ceil, return_indices=True)
    values, indices = export_ops.max_pool(x, *args)
    torch.testing.assert_close(values, expected[0], rtol=0, atol=0, equal_nan=True)
    assert torch.equal(indices, expected[1])


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_export_graph_of_max_unpool_equals_the_op(dims):
    g = torch.Generator().manual_seed(dims)
    x = torch.randn((2, 3, *(4, 3, 2)[:dims]), generator=g)
    out_size = tuple(2 * a for a in x.shape[2:])
    plane = int(np.prod(out_size))
    for high in (3, plane):  # crowded (duplicates everywhere) and spread
        indices = torch.randint(0, high, x.shape, generator=g)
        expected = up.max_unpool(x, indices, 2, output_size=out_size)
        assert torch.equal(export_ops.max_unpool(x, indices, out_size), expected)


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("mode", ["nearest", "bed_of_nails"])
def test_export_graph_of_unpool_equals_the_op(dims, mode):
    x = torch.randn((2, 3, *(4, 3, 2)[:dims]))
    for scale in itertools.product((1, 2, 3), repeat=dims):
        offsets = itertools.product(*(range(s) for s in scale)) if mode != "nearest" else [0]
        for offset in offsets:
            offset = offset if mode != "nearest" else (0,) * dims
            expected = up.unpool(x, scale, mode, offset=offset)
            got = export_ops.unpool(x, scale, offset, mode == "bed_of_nails")
            assert torch.equal(got, expected), (scale, offset)


def test_export_checks_arguments_like_eager():
    """The export path refuses what the functions refuse (a wrong rank, a bad output_size)."""
    with pytest.raises(ValueError, match=r"^max_pool: "):
        _exported(MaxPool(2), torch.randn(2, 3))
    x, i = MaxPool(2)(torch.randn(1, 1, 4, 4))

    class BadSize(torch.nn.Module):
        def forward(self, v, j):
            return MaxUnpool(2)(v, j, output_size=(9, 9))

    with pytest.raises(ValueError, match=r"^max_unpool: output_size"):
        _exported(BadSize(), x, i)


def test_export_plan_of_max_unpool_writes_each_output_once():
    """The runtime may apply duplicate scatter writes in any order: inside the plane every
    target is distinct, and the input written to an output is the last one that names it."""
    g = torch.Generator().manual_seed(0)
    plane = 7
    idf = torch.randint(0, plane, (4, 30), generator=g)
    order, target = unpool_ops.last_writes(idf, plane)
    for row in range(len(idf)):
        inside = target[row] < plane
        assert torch.equal(target[row][inside].unique(), idf[row].unique())
        for out, pos in zip(target[row][inside].tolist(), order[row][inside].tolist(), strict=True):
            assert pos == (idf[row] == out).nonzero().max().item()
        assert bool((target[row][~inside] == plane).all())
    idf[2, 5] = plane
    _, target = unpool_ops.last_writes(idf, plane)
    assert (target == plane + 1).sum() == 1  # refused by the runtime's bounds check
