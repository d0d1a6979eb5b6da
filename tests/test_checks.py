"""upsampling._checks: every helper accepts what it should, refuses the rest, and its message
has the shape ``function: parameter <value> must be <what is allowed>``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from upsampling import _checks


def test_fail_builds_the_exception_with_the_function_name():
    exc = _checks.fail("f", "x must be good", TypeError)
    assert isinstance(exc, TypeError) and str(exc) == "f: x must be good"
    assert isinstance(_checks.fail("f", "m"), ValueError)


@pytest.mark.parametrize("value", [3, np.int64(3), np.uint8(3), torch.tensor(3).item()])
def test_integer_accepts_integers(value):
    out = _checks.integer(value, "f", "k")
    assert out == 3 and type(out) is int


@pytest.mark.parametrize("value", [3.0, 2.5, True, np.bool_(True), "3", None, np.float32(3)])
def test_integer_refuses_the_rest(value):
    with pytest.raises(TypeError, match=r"^f: k .* must be an int$"):
        _checks.integer(value, "f", "k")


def test_ntuple_broadcasts_and_checks_length():
    assert _checks.ntuple(2, 3, "f", "k") == (2, 2, 2)
    assert _checks.ntuple((1, 2), 2, "f", "k") == (1, 2)
    assert _checks.ntuple([1, np.int32(2)], 2, "f", "k") == (1, 2)
    assert _checks.ntuple(torch.Size([4, 5]), 2, "f", "k") == (4, 5)
    with pytest.raises(ValueError, match=r"^f: k \(1, 2, 3\) must be an int or a tuple of 2 ints"):
        _checks.ntuple((1, 2, 3), 2, "f", "k")
    with pytest.raises(ValueError, match=r"^f: k \(1,\) must be .* tuple of 2 ints"):
        _checks.ntuple((1,), 2, "f", "k")
    with pytest.raises(TypeError, match=r"^f: k \(1, 2.5\) must be an int or a tuple of 2 ints"):
        _checks.ntuple((1, 2.5), 2, "f", "k")
    with pytest.raises(TypeError, match=r"^f: k '22' must be an int"):
        _checks.ntuple("22", 2, "f", "k")
    with pytest.raises(TypeError, match=r"^f: k None must be an int"):
        _checks.ntuple(None, 2, "f", "k")


def test_ntuple_bounds_the_magnitude():
    assert _checks.ntuple(2**62, 1, "f", "k") == (2**62,)
    assert _checks.ntuple(-(2**62), 1, "f", "k") == (-(2**62),)
    for value in (2**62 + 1, -(2**62) - 1, (1, 2**64)):
        with pytest.raises(ValueError, match=r"^f: k .* is out of range: .* at most 2\*\*62"):
            _checks.ntuple(value, 2 if isinstance(value, tuple) else 1, "f", "k")


def test_positive_and_nonnegative():
    assert _checks.positive((1, 2), "f", "k") == (1, 2)
    assert _checks.nonnegative((0, 2), "f", "k") == (0, 2)
    with pytest.raises(ValueError, match=r"^f: k \(0, 2\) must be positive$"):
        _checks.positive((0, 2), "f", "k")
    with pytest.raises(ValueError, match=r"^f: k \(-1,\) must be non-negative$"):
        _checks.nonnegative((-1,), "f", "k")


def test_boolean():
    assert _checks.boolean(True, "f", "b") is True
    assert _checks.boolean(np.bool_(False), "f", "b") is False
    for value in (0, 1, None, "True"):
        with pytest.raises(TypeError, match=r"^f: b .* must be True or False$"):
            _checks.boolean(value, "f", "b")


def test_choice():
    assert _checks.choice("a", ("a", "b"), "f", "mode") == "a"
    with pytest.raises(ValueError, match=r"^f: mode 'c' must be one of 'a', 'b'$"):
        _checks.choice("c", ("a", "b"), "f", "mode")
    with pytest.raises(TypeError, match=r"^f: mode None must be one of 'a', 'b'$"):
        _checks.choice(None, ("a", "b"), "f", "mode")


def test_finite_float():
    assert _checks.finite_float(2, "f", "s") == 2.0
    assert _checks.finite_float(np.float32(0.5), "f", "s") == 0.5
    for value in (float("nan"), float("inf"), -np.inf):
        with pytest.raises(ValueError, match=r"^f: s .* must be finite$"):
            _checks.finite_float(value, "f", "s")
    for value in (True, "1.0", None, 1j):
        with pytest.raises(TypeError, match=r"^f: s .* must be a real number$"):
            _checks.finite_float(value, "f", "s")


@pytest.mark.parametrize("ndim", [3, 4, 5])
@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_array_returns_the_spatial_rank(ndim, kind):
    x = np.zeros((1,) * ndim, dtype=np.float32)
    x = torch.from_numpy(x) if kind == "torch" else x
    assert _checks.array(x, "f") == ndim - 2


def test_array_refusals():
    with pytest.raises(
        TypeError, match=r"^f: x must be a numpy.ndarray or a torch.Tensor, got list$"
    ):
        _checks.array([[[1.0]]], "f")
    with pytest.raises(
        ValueError, match=r"^f: x has shape \(2, 2\) \(2 dims\); expected .* 3, 4, 5"
    ):
        _checks.array(np.zeros((2, 2)), "f")
    with pytest.raises(ValueError, match=r"has shape \(1, 1, 1, 1, 1, 1\) \(6 dims\)"):
        _checks.array(np.zeros((1,) * 6), "f")
    with pytest.raises(TypeError, match=r"^f: x has dtype object; allowed dtypes: float16"):
        _checks.array(np.zeros((1, 1, 1), dtype=object), "f")
    with pytest.raises(TypeError, match=r"^f: idx has dtype float32; allowed dtypes: uint8, int8"):
        _checks.array(np.zeros((1, 1, 1), np.float32), "f", "idx", dtypes=_checks.INDEX_DTYPES)
    with pytest.raises(TypeError, match=r"dtype bool"):
        _checks.array(torch.zeros((1, 1, 1), dtype=torch.bool), "f")
    with pytest.raises(TypeError, match=r"dtype complex64"):
        _checks.array(torch.zeros((1, 1, 1), dtype=torch.complex64), "f")
    with pytest.raises(ValueError, match=r"expected \(N, C, \*spatial\) with 4 dims in all"):
        _checks.array(np.zeros((1, 1, 1)), "f", min_spatial=2, max_spatial=2)


def test_same_device():
    a, t = np.zeros(1), torch.zeros(1)
    _checks.same_device(a, a, "f", "x", "y")
    _checks.same_device(t, t, "f", "x", "y")
    with pytest.raises(TypeError, match=r"^f: x is a ndarray but y is a Tensor; pass both"):
        _checks.same_device(a, t, "f", "x", "y")
    with pytest.raises(ValueError, match=r"^f: x is on cpu but y is on meta$"):
        _checks.same_device(t, torch.zeros(1, device="meta"), "f", "x", "y")


def test_fits_in_memory():
    _checks.fits_in_memory((1024, 1024), 8, "f")
    with pytest.raises(
        ValueError,
        match=r"^f: the output of shape \(1048576, 1048576\) would take "
        r"8,796,093,022,208 bytes \(8192.0 GiB\), more than",
    ):
        _checks.fits_in_memory((2**20, 2**20), 8, "f")
    # Python ints: no overflow however absurd
    with pytest.raises(ValueError, match="would take"):
        _checks.fits_in_memory((2**62, 2**62, 2**62), 8, "f")


def test_fits_in_ram():
    _checks.fits_in_ram(1 << 20, "f", "the thing")
    with pytest.raises(ValueError, match=r"^f: the thing would take .* more than half of this"):
        _checks.fits_in_ram(_checks._RAM_LIMIT + 1, "f", "the thing")
    assert 0 < _checks._RAM_LIMIT <= _checks._MAX_BYTES


def test_dtype_tables():
    assert set(_checks.REAL_DTYPES) == set(_checks.FLOAT_DTYPES) | set(_checks.INT_DTYPES)
    assert "bool" not in _checks.REAL_DTYPES and "bool" not in _checks.INDEX_DTYPES
    assert not set(_checks.INDEX_DTYPES) & set(_checks.FLOAT_DTYPES)


def test_half_dtypes_are_the_16_bit_floats():
    assert _checks.HALF_DTYPES == ("float16", "bfloat16")
    assert _checks.FLOAT_DTYPES[: len(_checks.HALF_DTYPES)] == _checks.HALF_DTYPES


def test_array_or_tensor_dtype_in_and_same_dtype():
    _checks.array_or_tensor(np.zeros(1), "f", "w")
    _checks.array_or_tensor(torch.zeros(1), "f", "w")
    with pytest.raises(
        TypeError, match=r"^f: w must be a numpy.ndarray or a torch.Tensor, got int$"
    ):
        _checks.array_or_tensor(3, "f", "w")
    _checks.dtype_in(np.zeros(1, np.float32), _checks.FLOAT_DTYPES, "f", "w")
    with pytest.raises(TypeError, match=r"^f: w has dtype int64; allowed dtypes: float16, bf"):
        _checks.dtype_in(np.zeros(1, np.int64), _checks.FLOAT_DTYPES, "f", "w")
    _checks.same_dtype(np.zeros(1), torch.zeros(1, dtype=torch.float64), "f", "a", "b")
    with pytest.raises(
        TypeError, match=r"^f: a has dtype float32 but b has dtype float64; they must match$"
    ):
        _checks.same_dtype(np.zeros(1, np.float32), np.zeros(1), "f", "a", "b")


def test_length():
    assert _checks.length((1, 2), "f", "s") == 2
    for value in (3, None, 2.5):
        with pytest.raises(TypeError, match=rf"^f: s {value!r} must be a tuple of ints$"):
            _checks.length(value, "f", "s")


# ------------------------------------------------------------------------------- convolutions
def _conv_weight_error(*args, **kwargs) -> str:
    with pytest.raises((TypeError, ValueError)) as info:
        _checks.conv_weight("f", *args, **kwargs)
    return str(info.value)


def test_conv_weight_returns_groups_and_shape():
    x, w = np.zeros((1, 4, 5, 5)), np.zeros((6, 2, 3, 3))
    assert _checks.conv_weight("f", w, 2, x) == (2, (6, 2, 3, 3))
    assert _checks.conv_weight("f", w, 3) == (3, (6, 2, 3, 3))  # no x: only the weight's own
    assert _checks.conv_weight("f", w, 2, np.zeros((1, 6, 5, 5)), transposed=True)[0] == 2
    y = np.zeros((1, 6, 3, 3), np.float32)  # a convolution's output: any float weight
    assert _checks.conv_weight("f", w, 2, y, name="y", output=True) == (2, (6, 2, 3, 3))


def test_conv_weight_messages():
    x, w = np.zeros((1, 4, 5, 5)), np.zeros((6, 2, 3, 3))
    assert _conv_weight_error([1.0], 1, x) == (
        "f: weight must be a numpy.ndarray or a torch.Tensor, got list"
    )
    assert "pass both" in _conv_weight_error(torch.zeros(6, 2, 3, 3, dtype=torch.float64), 1, x)
    assert _conv_weight_error(np.zeros((6, 2, 3)), 1, x) == (
        "f: weight has shape (6, 2, 3) (3 dims); for x of shape (1, 4, 5, 5) it must have 4 "
        "dims, (C_out, C_in / groups, *kernel_size)"
    )
    assert _conv_weight_error(np.zeros((3, 3)), 1) == (
        "f: weight has shape (3, 3); expected (C_out, C_in / groups, *kernel_size) with 1 to 3 "
        "kernel dims"
    )
    assert _conv_weight_error(w.astype(np.float32), 2, x) == (
        "f: weight has dtype float32 but x has dtype float64; they must match"
    )
    assert "weight has dtype int64; allowed dtypes" in _conv_weight_error(w.astype(int), 1)
    assert _conv_weight_error(w, 3, x) == "f: groups 3 must divide the input channels 4"
    assert _conv_weight_error(w, 4, np.zeros((1, 8, 5, 5))) == (
        "f: groups 4 must divide the output channels 6 (weight shape (6, 2, 3, 3))"
    )
    assert _conv_weight_error(w, 1, x) == (
        "f: weight has shape (6, 2, 3, 3), (C_out, C_in / groups, *kernel_size): for x's 4 "
        "channels and groups 1 its axis 1 must be 4"
    )
    assert _conv_weight_error(w, 1, x, transposed=True) == (
        "f: weight has shape (6, 2, 3, 3), (C_in, C_out / groups, *kernel_size): its C_in 6 must "
        "equal x's 4 channels"
    )
    assert _conv_weight_error(w, 4, np.zeros((1, 6, 5, 5)), transposed=True) == (
        "f: groups 4 must divide the input channels 6 (weight shape (6, 2, 3, 3))"
    )
    assert "its C_out 6 must equal y's 4 channels" in _conv_weight_error(
        w, 1, x, name="y", output=True
    )
    assert _conv_weight_error(np.zeros((6, 2, 0, 3)), 1) == (
        "f: weight has shape (6, 2, 0, 3): the kernel size must be positive"
    )
    assert _conv_weight_error(w, 0) == "f: groups 0 must be positive"


def test_conv_operands_checks_the_bias_too():
    x, w = np.zeros((1, 4, 5, 5)), np.zeros((6, 4, 3, 3))
    assert _checks.conv_operands("f", x, w, np.zeros(6), 1, False) == (2, 1, 6)
    assert _checks.conv_operands("f", x, np.zeros((4, 3, 3, 3)), None, 2, True) == (2, 2, 6)
    with pytest.raises(ValueError, match=r"^f: bias has shape \(5,\); it must be \(6,\)$"):
        _checks.conv_operands("f", x, w, np.zeros(5), 1, False)
    with pytest.raises(TypeError, match=r"^f: bias has dtype float32 but x has dtype float64"):
        _checks.conv_operands("f", x, w, np.zeros(6, np.float32), 1, False)
    with pytest.raises(TypeError, match=r"^f: bias must be None or an array, got list$"):
        _checks.conv_operands("f", x, w, [0.0] * 6, 1, False)


def test_transpose_output_padding():
    _checks.transpose_output_padding((1, 0), (0, 0), (2, 1), (1, 1), "f")
    _checks.transpose_output_padding((1,), (0,), (1,), (2,), "f")  # smaller than the dilation
    _checks.transpose_output_padding((0, 0), "same", (2, 2), (1, 1), "f")
    with pytest.raises(
        ValueError,
        match=r"^f: output_padding \(2, 0\) must be smaller than stride \(2, 1\) or dilation "
        r"\(1, 1\)$",
    ):
        _checks.transpose_output_padding((2, 0), (0, 0), (2, 1), (1, 1), "f")
    with pytest.raises(
        ValueError, match=r"^f: output_padding \(1, 0\) cannot be combined with padding 'same'$"
    ):
        _checks.transpose_output_padding((1, 0), "same", (2, 2), (1, 1), "f")


@pytest.mark.parametrize("dtype", ["float32", "float64", "int16", "uint16", "int64"])
def test_native_puts_arrays_in_native_byte_order(dtype):
    a = np.arange(6, dtype=dtype).reshape(2, 3)
    b = a.astype(a.dtype.newbyteorder("S"))  # ">f4" on a little-endian machine
    out = _checks.native(b, "f")
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    assert out.tobytes() == a.tobytes()
    assert _checks.native(a, "f") is a  # native arrays, tensors and the rest unchanged
    t = torch.zeros(2)
    assert _checks.native(t, "f") is t and _checks.native(None, "f") is None


def test_native_and_array_refuse_masked_arrays():
    m = np.ma.masked_array(np.zeros((1, 1, 2)), mask=[[[True, False]]])
    message = r"^f: w is a numpy.ma.MaskedArray, .*; pass np.ma.filled\(w, value\) or w.data$"
    with pytest.raises(TypeError, match=message):
        _checks.native(m, "f", "w")
    with pytest.raises(TypeError, match=r"^f: x is a numpy.ma.MaskedArray"):
        _checks.array(m, "f")


@pytest.mark.parametrize("zero_d", [torch.tensor, np.array], ids=["torch", "numpy"])
def test_0d_arguments_count_as_their_values(zero_d):
    assert _checks.integer(zero_d(3), "f", "k") == 3
    assert type(_checks.integer(zero_d(3), "f", "k")) is int
    assert _checks.ntuple(zero_d(2), 3, "f", "k") == (2, 2, 2)
    assert _checks.ntuple(zero_d([4, 5]), 2, "f", "k") == (4, 5)  # 1-d: one per dim
    assert _checks.ntuple((zero_d(4), zero_d(5)), 2, "f", "k") == (4, 5)
    assert _checks.finite_float(zero_d(0.5), "f", "s") == 0.5
    assert type(_checks.finite_float(zero_d(2), "f", "s")) is float
    for value in (zero_d(2.0), zero_d(True)):
        with pytest.raises(TypeError, match=r"^f: k .* must be an int$"):
            _checks.integer(value, "f", "k")
        with pytest.raises(TypeError, match=r"^f: k .* must be an int or a tuple of 2 ints$"):
            _checks.ntuple(value, 2, "f", "k")
    with pytest.raises(ValueError, match=r"^f: k .* must be an int or a tuple of 2 ints"):
        _checks.ntuple(zero_d([1, 2, 3]), 2, "f", "k")
    with pytest.raises(TypeError, match=r"^f: s .* must be a real number$"):
        _checks.finite_float(zero_d(True), "f", "s")
    with pytest.raises(ValueError, match=r"^f: s .* must be finite$"):
        _checks.finite_float(zero_d(float("nan")), "f", "s")
