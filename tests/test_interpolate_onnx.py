"""``interpolate`` with the ONNX keywords against ONNX's reference ``Resize`` (opset 19), built as
a single node with scales or sizes as inputs, and against onnxruntime where the spec and the
reference part ways."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

from upsampling.interpolate import interpolate

CTMS = [
    "half_pixel",
    "half_pixel_symmetric",
    "pytorch_half_pixel",
    "align_corners",
    "asymmetric",
    "tf_crop_and_resize",
]
NEAREST_MODES = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]
PAIRS = [(5, 3), (4, 9), (7, 7), (6, 2), (2, 5), (3, 1)]
ROI = (0.1, -0.2, 0.8, 1.1)  # partly outside the input: extrapolation


def _model(x_shape, dtype, n, attrs, roi, scales, sizes):
    names = ["X", "roi" if roi else "", "scales" if scales else "", "sizes" if sizes else ""]
    while names[-1] == "":
        names.pop()
    node = helper.make_node("Resize", names, ["Y"], **attrs)
    inputs = [helper.make_tensor_value_info("X", dtype, x_shape)]
    if roi:
        inputs.append(helper.make_tensor_value_info("roi", TensorProto.DOUBLE, [2 * (n + 2)]))
    if scales:
        inputs.append(helper.make_tensor_value_info("scales", TensorProto.FLOAT, [n + 2]))
    if sizes:
        inputs.append(helper.make_tensor_value_info("sizes", TensorProto.INT64, [n + 2]))
    out = helper.make_tensor_value_info("Y", dtype, None)
    graph = helper.make_graph([node], "resize", inputs, [out])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])


def _feeds(x, n, roi, scales, sizes):
    feeds = {"X": x}
    if roi:
        feeds["roi"] = np.array([0, 0, *roi[:n], 1, 1, *roi[n:]], np.float64)
    if scales:
        feeds["scales"] = np.array([1, 1, *scales], np.float32)
    if sizes:
        feeds["sizes"] = np.array([*x.shape[:2], *sizes], np.int64)
    return feeds


ONNX_DTYPES = {np.float64: TensorProto.DOUBLE, np.float32: TensorProto.FLOAT}
ONNX_DTYPES[np.uint8] = TensorProto.UINT8


def onnx_reference(x, *, roi=None, scales=None, sizes=None, **attrs):
    """ONNX's reference implementation of one Resize node."""
    n = x.ndim - 2
    model = _model(x.shape, ONNX_DTYPES[x.dtype.type], n, attrs, roi, scales, sizes)
    return ReferenceEvaluator(model).run(None, _feeds(x, n, roi, scales, sizes))[0]


def _keywords(attrs: dict) -> dict:
    """Our keyword arguments for the same attributes."""
    kw = dict(attrs)
    kw["exclude_outside"] = bool(kw.get("exclude_outside", 0))
    kw["antialias"] = bool(kw.get("antialias", 0))
    kw.setdefault("coordinate_transformation_mode", "half_pixel")  # ONNX's default, and the
    return kw  # keyword that selects ONNX semantics


def _check(x, attrs, *, roi=None, scales=None, sizes=None, atol=1e-10):
    ref = onnx_reference(x, roi=roi, scales=scales, sizes=sizes, **attrs)
    kw = _keywords(attrs)
    if roi:
        kw["roi"] = roi
    got = interpolate(x, size=sizes, scale_factor=scales, **kw)
    assert got.shape == ref.shape and got.dtype == ref.dtype, (got.shape, ref.shape)
    np.testing.assert_allclose(got, ref, rtol=0, atol=atol, err_msg=str((attrs, scales, sizes)))


def _attribute_grid():
    for ctm, mode in itertools.product(CTMS, ["nearest", "linear", "cubic"]):
        roundings = NEAREST_MODES if mode == "nearest" else [None]
        for rounding, aa, ex in itertools.product(
            roundings, [0] if mode == "nearest" else [0, 1], [0, 1]
        ):
            attrs = dict(mode=mode, coordinate_transformation_mode=ctm, exclude_outside=ex)
            if mode != "nearest":
                attrs["antialias"] = aa
            if rounding:
                attrs["nearest_mode"] = rounding
            if ctm == "tf_crop_and_resize":
                attrs["extrapolation_value"] = -3.5
            name = "-".join([ctm, rounding or mode, f"aa{aa}", f"ex{ex}"])
            yield pytest.param(attrs, id=name)


ATTRIBUTES = list(_attribute_grid())


@pytest.mark.parametrize("attrs", ATTRIBUTES)
def test_every_attribute_combination_matches_the_reference(attrs, rng):
    """Every coordinate mode x mode x nearest_mode x antialias x exclude_outside, with sizes and
    with scales, up and down, in two dimensions at once. The reference evaluates its cubic
    coefficients in float32 (the attribute is float32), hence the cubic tolerance."""
    atol = 3e-5 if attrs["mode"] == "cubic" else 1e-10
    roi = ROI if attrs["coordinate_transformation_mode"] == "tf_crop_and_resize" else None
    for n_in, n_out in PAIRS:
        x = rng.standard_normal((1, 2, n_in, n_in + 1))
        if attrs["coordinate_transformation_mode"] == "pytorch_half_pixel" and n_out == 1:
            continue  # the reference departs from the spec there: see the onnxruntime test
        _check(x, attrs, roi=roi, sizes=(n_out, n_out + 1), atol=atol)
        scales = (n_out / n_in * 1.07, (n_out + 1) / (n_in + 1) * 0.93)
        _check(x, attrs, roi=roi, scales=scales, atol=atol)


@pytest.mark.parametrize("a", [-0.5, -0.75, -1.0])
@pytest.mark.parametrize("nd", [1, 3], ids=["1d", "3d"])
def test_cubic_coeff_a_in_one_and_three_dims(a, nd, rng):
    x = rng.standard_normal((1, 2, *(4 + i for i in range(nd))))
    sizes = tuple(7 - 2 * i for i in range(nd))
    attrs = dict(mode="cubic", cubic_coeff_a=a)
    _check(x, attrs, sizes=sizes, atol=3e-5)
    _check(x, dict(attrs, exclude_outside=1, antialias=1), sizes=sizes, atol=3e-5)


@pytest.mark.parametrize("mode", ["nearest", "linear", "cubic"])
def test_roi_crop_with_scales_and_extrapolation(mode, rng):
    x = rng.standard_normal((2, 1, 6, 5))
    attrs = dict(
        mode=mode, coordinate_transformation_mode="tf_crop_and_resize", extrapolation_value=9.0
    )
    for roi in [(0.0, 0.0, 1.0, 1.0), (0.25, 0.5, 0.75, 0.9), (-0.5, 0.2, 0.4, 1.5)]:
        _check(x, attrs, roi=roi, scales=(1.5, 0.8), atol=3e-5)
        _check(x, attrs, roi=roi, sizes=(1, 4), atol=3e-5)


@pytest.mark.parametrize("mode", ["nearest", "linear", "cubic"])
def test_float32_and_uint8_inputs(mode, rng):
    x = rng.standard_normal((1, 3, 5, 4)).astype(np.float32)
    _check(x, dict(mode=mode), sizes=(8, 3), atol=1e-5)
    u = rng.integers(0, 256, (1, 3, 5, 4)).astype(np.uint8)
    ref = onnx_reference(u, sizes=(8, 3), mode=mode)
    got = interpolate(u, size=(8, 3), mode=mode, coordinate_transformation_mode="half_pixel")
    assert got.dtype == np.uint8
    # ONNX rounds once, half to even; our float32 sums may land on the other side of a .5
    assert np.abs(got.astype(int) - ref.astype(int)).max() <= (0 if mode == "nearest" else 1)


def test_scales_are_float32_as_onnx_stores_them(rng):
    """0.3 is 0.30000001192... in float32: 10 * 0.3 gives 3 in both, but the coordinates use the
    float32 value, as the operator does."""
    x = rng.standard_normal((1, 1, 10))
    _check(x, dict(mode="linear", coordinate_transformation_mode="asymmetric"), scales=(0.3,))
    _check(x, dict(mode="nearest", coordinate_transformation_mode="asymmetric"), scales=(2.3,))


def test_pytorch_half_pixel_with_one_output_follows_the_spec(rng):
    """The spec (and onnxruntime) sample coordinate 0 when the output has one sample; the
    reference samples -0.5, which differs for cubic."""
    ort = pytest.importorskip("onnxruntime")
    x = rng.standard_normal((1, 1, 5, 6)).astype(np.float32)
    for mode in ("nearest", "linear", "cubic"):
        attrs = dict(mode=mode, coordinate_transformation_mode="pytorch_half_pixel")
        model = _model(x.shape, TensorProto.FLOAT, 2, attrs, None, None, (1, 1))
        session = ort.InferenceSession(
            model.SerializeToString(), providers=["CPUExecutionProvider"]
        )
        ref = session.run(None, _feeds(x, 2, None, None, (1, 1)))[0]
        got = interpolate(x, size=(1, 1), **attrs)
        np.testing.assert_allclose(got, ref, rtol=1e-6)
        assert got[0, 0, 0, 0] == x[0, 0, 0, 0]


def test_onnx_gradients_gather(rng):
    torch = pytest.importorskip("torch")
    x = torch.from_numpy(rng.standard_normal((1, 2, 4, 5))).requires_grad_()
    for kw in (
        dict(mode="cubic", coordinate_transformation_mode="half_pixel_symmetric", antialias=True),
        dict(mode="linear", coordinate_transformation_mode="align_corners", exclude_outside=True),
    ):
        assert torch.autograd.gradcheck(lambda t, kw=kw: interpolate(t, size=(3, 7), **kw), (x,))
