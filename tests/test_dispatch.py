"""How the custom ops are declared (``nn._dispatch.define``), what a torch backend provides
(``_backend.TorchBackend``), and the plain-PyTorch implementations against the numba ones."""

from __future__ import annotations

import inspect
from unittest import mock

import numpy as np
import pytest
import torch

import upsampling as up
from upsampling import _backend
from upsampling.nn import _conv_ops, _dispatch, _export_ops, _interpolate_ops, _unpool_ops
from upsampling.unpool import max_unpool_array, max_unpool_backward_array, unpool_array

# ------------------------------------------------------------------------------ the protocol
FAMILY_MODULES = {"unpool": _unpool_ops, "interpolate": _interpolate_ops, "conv": _conv_ops}


def _parameters(function, *, method: bool) -> list[str]:
    names = list(inspect.signature(function).parameters)
    return names[1:] if method else names


def _members(protocol) -> list[str]:
    return sorted(
        n
        for n in dir(protocol)
        if not n.startswith("_") and inspect.isfunction(getattr(protocol, n))
    )


@pytest.mark.parametrize("family", sorted(_backend.FAMILIES))
def test_family_modules_provide_their_part_of_the_protocol(family):
    protocol, module = _backend.FAMILIES[family], FAMILY_MODULES[family]
    assert isinstance(module, protocol)
    assert _backend.torch_ops(family) is module
    for name in _members(protocol):
        expected = _parameters(getattr(protocol, name), method=True)
        assert _parameters(getattr(module, name), method=False) == expected, name


def test_export_path_is_a_whole_backend():
    assert isinstance(_export_ops, _backend.TorchBackend)
    whole = _members(_backend.TorchBackend)
    assert whole == sorted(
        ["unpool", "max_pool", "max_unpool", "interpolate", "conv", "conv_transpose"]
    )
    assert whole == sorted(n for p in _backend.FAMILIES.values() for n in _members(p))
    for name in whole:
        expected = _parameters(getattr(_backend.TorchBackend, name), method=True)
        assert _parameters(getattr(_export_ops, name), method=False) == expected, name
    with mock.patch.object(_export_ops, "exporting", lambda: True):
        assert all(_backend.torch_ops(f) is _export_ops for f in _backend.FAMILIES)


def test_a_partial_module_is_not_a_backend():
    assert not isinstance(_unpool_ops, _backend.TorchBackend)
    assert not isinstance(np, _backend.UnpoolBackend)


# --------------------------------------------------------------------------------- define()
_calls: list[tuple[str, str]] = []


def _twice_torch(x: torch.Tensor, scale: list[int], view: bool) -> torch.Tensor:
    _calls.append(("torch", type(scale).__name__))
    return x.reshape(x.shape) if view else x * 2


def _twice_numba(x, scale, view):
    _calls.append(("numba", type(scale).__name__))
    assert isinstance(x, np.ndarray)
    return x if view else x * 2


def _twice_fake(x, scale, view):
    return torch.empty_like(x)


_twice = _dispatch.define("_test_dispatch_twice", _twice_torch, _twice_fake, numba=_twice_numba)
_twice_old = _dispatch.define("_test_dispatch_twice_old", _twice_torch, _twice_fake)


@pytest.mark.parametrize(
    ("dtype", "path"),
    [(torch.float32, "numba"), (torch.int64, "numba"), (torch.float16, "torch")],
    ids=str,
)
def test_define_runs_numba_where_it_computes_else_torch(dtype, path):
    x = torch.arange(6).reshape(1, 2, 3).to(dtype)
    _calls.clear()
    assert torch.equal(_twice(x, [1], False), x * 2)
    assert _calls == [(path, "tuple" if path == "numba" else "list")]


def test_define_old_form_runs_impl_only():
    _calls.clear()
    _twice_old(torch.ones(1, 1, 2), [1], False)
    assert _calls == [("torch", "list")]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=str)
def test_define_clones_an_output_that_aliases_an_input(dtype):
    """Either implementation may hand back (a view of) its input; the op never does."""
    x = torch.ones(1, 1, 4, dtype=dtype)
    y = _twice(x, [1], True)
    assert torch.equal(y, x) and y.untyped_storage().data_ptr() != x.untyped_storage().data_ptr()
    assert _twice_old(x, [1], True).untyped_storage().data_ptr() != x.untyped_storage().data_ptr()


def test_define_clones_a_returned_view_of_an_input_made_from_numpy():
    """The eager path skips the alias check for arrays NumPy allocated; the view of a tensor made
    by ``torch.from_numpy`` (whose memory NumPy allocated too) must still be cloned."""
    a = np.ones((1, 2, 4), dtype=np.float32)
    x = torch.from_numpy(a)
    y = _twice(x, [1], True)
    assert torch.equal(y, x) and not np.shares_memory(y.numpy(), a)
    assert not np.shares_memory(_twice(x[:, 1:], [1], True).numpy(), a)
    assert _dispatch._owned(np.empty(3)[1:]) and not _dispatch._owned(x.numpy()[:, 1:])


def test_define_takes_the_schema_from_the_torch_implementation():
    schema = str(_twice._opoverload._schema)
    assert (
        schema == "upsampling::_test_dispatch_twice(Tensor x, SymInt[] scale, bool view) -> Tensor"
    )


def test_numba_runs_looks_at_the_data_and_the_devices():
    f32, f16 = torch.zeros(2), torch.zeros(2, dtype=torch.float16)
    flag, u16 = torch.tensor(True), torch.zeros(2, dtype=torch.uint16)
    assert _dispatch.numba_runs((f32, u16, [1], flag))  # an index or flag of any dtype
    assert not _dispatch.numba_runs((f16, u16))
    assert not _dispatch.numba_runs((torch.zeros(2, device="meta"),))
    assert not _dispatch.numba_runs((f32, torch.zeros(2, device="meta")))


def test_torch_path_fixture_reaches_the_torch_implementation(monkeypatch):
    """The tests' way to send CPU tensors down the CUDA code: patch ``_dispatch.numba_ok``."""
    monkeypatch.setattr(_dispatch, "numba_ok", lambda *tensors: False)
    _calls.clear()
    _twice(torch.ones(1, 1, 2), [1], False)
    assert _calls == [("torch", "list")]


# ------------------------------------------------- plain PyTorch against the numba kernels
@pytest.mark.parametrize("bed_of_nails", [False, True], ids=["nearest", "bed_of_nails"])
@pytest.mark.parametrize(
    ("size", "scale", "offset"),
    [((5,), (3,), (2,)), ((3, 4), (1, 2), (0, 1)), ((2, 3, 2), (2, 1, 3), (1, 0, 2))],
    ids=["1d", "2d", "3d"],
)
def test_unpool_torch_equals_the_kernel(size, scale, offset, bed_of_nails, rng):
    x = rng.standard_normal((2, 3, *size))
    x[0, 0] = -0.0
    got = _unpool_ops.unpool_torch(torch.from_numpy(x), scale, offset, bed_of_nails)
    expected = unpool_array(x, scale, offset, bed_of_nails)
    assert np.array_equal(got.numpy().view(np.int64), expected.view(np.int64))


@pytest.mark.parametrize("plane", [1, 5, 40])
def test_max_unpool_torch_equals_the_kernel_with_repeats(plane, rng):
    x = rng.standard_normal((2, 3, 4, 5))
    idx = rng.integers(0, plane, size=x.shape)
    got = _unpool_ops.max_unpool_torch(torch.from_numpy(x), torch.from_numpy(idx), (plane,))
    assert np.array_equal(got.numpy(), max_unpool_array(x, idx, (plane,)))
    g = rng.standard_normal((2, 3, plane))
    back = _unpool_ops._max_unpool_backward_torch(
        torch.from_numpy(g), torch.from_numpy(idx), torch.tensor(True)
    )
    assert np.array_equal(back.numpy(), max_unpool_backward_array(g, idx))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=str)
def test_max_unpool_torch_path_of_empty_planes(dtype):
    """No inputs per plane (a zero-size spatial axis with an explicit output size) and no planes:
    the sort-based plan has nothing to sort."""
    x = torch.zeros((1, 2, 0, 2), dtype=dtype, requires_grad=True)
    idx = torch.zeros(x.shape, dtype=torch.int64)
    y = up.max_unpool(x, idx, 2, output_size=(1, 4))
    assert y.shape == (1, 2, 1, 4) and not y.any()
    y.sum().backward()
    assert x.grad.shape == x.shape
    x = torch.zeros((0, 2, 2, 2), dtype=dtype)
    assert up.max_unpool(x, torch.zeros(x.shape, dtype=torch.int64), 2).shape == (0, 2, 4, 4)


# ------------------------------------------------------------------- the interpolate op's key
_KEY_VALUES = [None, True, False, 0, 3, -7, 0.0, -0.0, 2.5, 1 / 3, 1e300, 5e-324, np.float64(0.1)]
_KEY_VALUES += [float("inf"), float("-inf"), float("nan"), "nearest", "opencv/bilinear"]
_KEY_VALUES += ['a "quoted" \\ name', "caf\u00e9", (1.5, 2.0), (), [1, 2]]


def test_the_key_is_the_json_of_its_parts(rng):
    """``spec.key_of`` writes JSON in plain Python (so that Dynamo folds it into a constant
    without ``torch._dynamo.assume_constant_result``): the text of ``json.dumps`` exactly, so
    ``ResizeSpec.from_key`` reads it back."""
    import json

    from upsampling.spec import key_of

    for _ in range(300):
        parts = tuple(_KEY_VALUES[i] for i in rng.integers(0, len(_KEY_VALUES), rng.integers(14)))
        assert key_of(parts) == json.dumps(parts), parts
    with pytest.raises(TypeError):
        key_of((object(),))


def test_the_key_of_onnx_keywords_compiles_into_the_graph():
    """Every kind of value the key holds (strings, None, bools, floats, a tuple) folds into a
    constant under ``torch.compile(fullgraph=True)``: no graph break."""
    x = torch.rand(1, 2, 5, 6, dtype=torch.float64)
    kw = dict(
        size=(7, 4),
        mode="cubic",
        coordinate_transformation_mode="tf_crop_and_resize",
        roi=(0.1, 0.2, 0.9, 0.8),
        cubic_coeff_a=-0.5,
        exclude_outside=True,
        extrapolation_value=-1.5,
    )
    compiled = torch.compile(lambda t: up.interpolate(t, **kw), fullgraph=True, backend="eager")
    assert torch.equal(compiled(x), up.interpolate(x, **kw))
