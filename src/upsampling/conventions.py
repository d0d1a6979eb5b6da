"""The conventions of each library: how PyTorch's and ONNX's arguments normalise into a plan,
and ``conventions``, the arguments of :func:`upsampling.interpolate` that reproduce other libraries.

:func:`make_plan` turns ``interpolate``'s arguments into a :class:`upsampling.filters.Plan` (one
coordinate rule, one filter and one set of options per axis), following PyTorch 2.13 when the
ONNX keywords are left unset and ONNX ``Resize`` (opset 19) otherwise.

``conventions[library][method]`` are keyword arguments of :func:`upsampling.interpolate`
(``mode`` included) for ``library`` in ``"pytorch"``, ``"onnx"``, ``"tensorflow"``
(``tf.image.resize``), ``"opencv"`` (``cv2.resize`` on float images) and ``"pillow"``
(``Image.resize`` on mode ``"F"``), and ``method`` in ``"nearest"``, ``"linear"``, ``"cubic"``,
plus ``"nearest-exact"`` and ``"area"`` where the library has them. Presets hold ``mode``
except nearest ones (``"nearest"`` is the default mode); under PyTorch's names
(``"bilinear"``, ``"bicubic"``, ``"trilinear"``) the same presets come without ``mode``, for calls
that name it: ``interpolate(x, scale_factor=2, mode="bicubic",
**conventions["pillow"]["bicubic"])``. Pillow's ``NEAREST`` and
OpenCV's ``INTER_NEAREST`` / ``INTER_NEAREST_EXACT`` pick their pixel with their own arithmetic,
reproduced bit for bit by private coordinate rules (:mod:`upsampling.coordinates`). OpenCV's
``INTER_NEAREST_EXACT`` is that of its PyPI wheels, whose resize goes through the IPP HAL (the
same accumulation as Pillow's); OpenCV built without it uses 16.16 fixed point, which differs
at a few ties. TensorFlow and OpenCV's ``INTER_AREA`` (exact pixel-overlap averages) have no
preset: ``"area"`` is PyTorch's adaptive average.

>>> import numpy as np
>>> from upsampling.conventions import conventions
>>> from upsampling.interpolate import interpolate
>>> x = np.arange(3).reshape(1, 1, 3)
>>> interpolate(x, size=7, **conventions["pillow"]["nearest"])
array([[[0, 0, 1, 1, 1, 2, 2]]])
>>> interpolate(x, size=7, **conventions["pytorch"]["nearest"])
array([[[0, 0, 0, 1, 1, 2, 2]]])
>>> sorted(conventions["opencv"])
['cubic', 'linear', 'nearest', 'nearest-exact']
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from . import _checks, shapes
from .coordinates import COORDINATE_MODES, Axis
from .filters import EDGES, FILTERS, NEAREST_MODES, AxisPlan, Cubic, Linear, Nearest, Plan

__all__ = ["conventions", "make_plan"]

TORCH_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "trilinear", "bicubic", "cubic")
TORCH_MODES += ("area", "lanczos")
ONNX_MODES = ("nearest", "linear", "cubic", "bilinear", "trilinear", "bicubic")
_RANK = {"bilinear": 2, "bicubic": 2, "trilinear": 3, "lanczos": 2}


# ------------------------------------------------------------------------------- normalisation
def make_plan(
    fn: str,
    in_size: tuple[int, ...],
    size: Any = None,
    scale_factor: Any = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
    *,
    coordinate_transformation_mode: str | None = None,
    nearest_mode: str | None = None,
    cubic_coeff_a: float | None = None,
    exclude_outside: bool = False,
    extrapolation_value: float = 0.0,
    roi: Any = None,
    double: bool = False,
) -> Plan:
    """Normalise ``interpolate``'s arguments (see :func:`upsampling.interpolate`) for an input of
    spatial size ``in_size`` into a :class:`Plan`; ``double`` says the input is float64 (PyTorch
    picks nearest pixels in float64 arithmetic then)."""
    n = len(in_size)
    antialias = _checks.boolean(antialias, fn, "antialias")
    exclude_outside = _checks.boolean(exclude_outside, fn, "exclude_outside")
    if isinstance(extrapolation_value, bool) or not isinstance(extrapolation_value, numbers.Real):
        raise _checks.fail(
            fn, f"extrapolation_value {extrapolation_value!r} must be a real number", TypeError
        )
    extrapolation_value = float(extrapolation_value)
    ctm = coordinate_transformation_mode
    onnx = onnx_keywords(
        ctm, nearest_mode, cubic_coeff_a, exclude_outside, extrapolation_value, roi
    )
    mode = _checks.choice(mode, ONNX_MODES if onnx else TORCH_MODES, fn, "mode")
    if mode in _RANK and _RANK[mode] != n:
        raise _checks.fail(
            fn,
            f"mode {mode!r} needs {_RANK[mode]} spatial dimensions (a {_RANK[mode] + 2}-D "
            f"input), got {n} (input of {n + 2} dims); use 'linear' or 'cubic' for any rank",
        )
    common = (fn, in_size, size, scale_factor, mode, align_corners, recompute_scale_factor)
    if onnx:
        return _onnx_plan(
            *common,
            antialias,
            ctm,
            nearest_mode,
            cubic_coeff_a,
            exclude_outside,
            extrapolation_value,
            roi,
        )
    return _torch_plan(*common, antialias, double)


def onnx_keywords(ctm, nearest_mode, cubic_coeff_a, exclude_outside, extrapolation, roi) -> bool:
    """Whether a call uses ONNX ``Resize``'s conventions (any of its keywords set)."""
    return (
        any(v is not None for v in (ctm, nearest_mode, cubic_coeff_a, roi))
        or bool(exclude_outside)
        or extrapolation != 0.0
    )


def output_size(fn: str, in_size, size, scale_factor, onnx: bool) -> tuple:
    """The output's spatial size: ``size``, or ``floor(in_size * scale)`` with ONNX's scales
    rounded to float32 first. Plain arithmetic, so the sizes may be symbolic (``torch.compile``
    with dynamic shapes)."""
    if onnx and size is None and scale_factor is not None:
        return shapes._interpolate(in_size, None, _onnx_scales(scale_factor, len(in_size), fn), fn)
    return shapes._interpolate(in_size, size, scale_factor, fn)


def _onnx_scales(scale_factor, n: int, fn: str) -> tuple[float, ...]:
    """ONNX's scales are float32."""
    return tuple(float(np.float32(s)) for s in shapes.interpolate_scales(scale_factor, n, fn))


def call_output_size(fn: str, in_size, args: tuple) -> tuple:
    """:func:`output_size` of an ``interpolate`` call given as the arguments after ``x`` (in
    order: size, scale_factor, mode, align_corners, recompute_scale_factor, antialias, then the
    ONNX keywords)."""
    size, scale_factor, *_, ctm, nearest_mode, a, exclude, extrapolation, roi = args
    onnx = onnx_keywords(ctm, nearest_mode, a, exclude, extrapolation, roi)
    return output_size(fn, in_size, size, scale_factor, onnx)


def _torch_plan(fn, in_size, size, scale_factor, mode, align_corners, recompute, antialias, double):
    n = len(in_size)
    if align_corners is not None:
        align_corners = _checks.boolean(align_corners, fn, "align_corners")
        if mode in ("nearest", "nearest-exact", "area"):
            raise _checks.fail(
                fn,
                f"align_corners {align_corners!r} applies only to the interpolating modes "
                f"'linear', 'bilinear', 'trilinear', 'bicubic', 'cubic'; leave it None with "
                f"mode {mode!r}",
            )
    align_corners = bool(align_corners)
    if recompute is not None:
        recompute = _checks.boolean(recompute, fn, "recompute_scale_factor")
        if recompute and size is not None:
            raise _checks.fail(fn, "recompute_scale_factor True is not meaningful with a size")
    if antialias and mode in ("nearest", "nearest-exact", "area"):
        raise _checks.fail(
            fn, f"antialias True applies to the linear, cubic and lanczos modes, not {mode!r}"
        )
    if mode == "lanczos" and (align_corners or not antialias):
        raise _checks.fail(fn, "mode 'lanczos' needs antialias=True and align_corners False")
    out = output_size(fn, in_size, size, scale_factor, onnx=False)
    given = scale_factor is not None and not recompute and mode != "area"
    scales = shapes.interpolate_scales(scale_factor, n, fn) if given else None
    axes = []
    # PyTorch's linear and antialiased kernels leave an axis whose size does not change alone,
    # whatever the scale factor (its cubic and nearest kernels do not)
    keeps = antialias or mode in ("linear", "bilinear", "trilinear")
    for i, (a, o) in enumerate(zip(in_size, out, strict=True)):
        given_i = given and not (keeps and a == o)
        axis = Axis(a, o, scales[i] if given_i else o / a, given_i)
        if mode == "area":
            axes.append(AxisPlan(axis, "half_pixel", FILTERS["area"]()))
        elif mode in ("nearest", "nearest-exact"):
            rule = "_torch_nearest_exact" if mode == "nearest-exact" else "_torch_nearest"
            axis = dataclasses.replace(axis, double=double)
            rule += "_2d" if n == 2 else ""
            axes.append(AxisPlan(axis, rule, Nearest("floor")))
        elif antialias:  # PyTorch's separable antialiased kernels (Pillow's algorithm)
            if align_corners:
                step = (a - 1) / (o - 1) if o > 1 else 0.0
                axis = Axis(a, o, 1 / step if step else math.inf, True)
            filt = {"lanczos": FILTERS["lanczos"](), "bicubic": Cubic(-0.5), "cubic": Cubic(-0.5)}
            stretch = max(1.0, 1.0 / axis.scale)
            f = filt.get(mode, Linear())
            axes.append(AxisPlan(axis, "half_pixel", f, stretch, "exclude", True))
        else:
            rule = "align_corners" if align_corners else "half_pixel"
            f = Cubic(-0.75) if mode in ("bicubic", "cubic") else Linear()
            axes.append(AxisPlan(axis, rule, f))
    return Plan(tuple(axes))


def _onnx_plan(
    fn,
    in_size,
    size,
    scale_factor,
    mode,
    align_corners,
    recompute,
    antialias,
    ctm,
    nearest_mode,
    cubic_coeff_a,
    exclude_outside,
    extrapolation_value,
    roi,
):
    n = len(in_size)
    for name, value in (("align_corners", align_corners), ("recompute_scale_factor", recompute)):
        if value is not None:
            raise _checks.fail(
                fn,
                f"{name} {value!r} is PyTorch's option; with the ONNX keywords set use "
                "coordinate_transformation_mode (e.g. 'align_corners') and leave it None",
            )
    ctm = _checks.choice(
        "half_pixel" if ctm is None else ctm,
        tuple(COORDINATE_MODES),
        fn,
        "coordinate_transformation_mode",
    )
    rounding = _checks.choice(
        "round_prefer_floor" if nearest_mode is None else nearest_mode,
        NEAREST_MODES,
        fn,
        "nearest_mode",
    )
    a = -0.75 if cubic_coeff_a is None else _checks.finite_float(cubic_coeff_a, fn, "cubic_coeff_a")
    if antialias and mode == "nearest":
        raise _checks.fail(fn, "antialias True applies to the linear and cubic modes")
    if roi is not None and ctm != "tf_crop_and_resize":
        raise _checks.fail(
            fn,
            f"roi applies only to coordinate_transformation_mode 'tf_crop_and_resize', not {ctm!r}",
        )
    region = [(0.0, 1.0)] * n
    if roi is not None:
        values = tuple(roi) if not isinstance(roi, str) and hasattr(roi, "__len__") else (roi,)
        if len(values) != 2 * n:
            raise _checks.fail(
                fn, f"roi {roi!r} must hold {2 * n} numbers: {n} starts then {n} ends"
            )
        values = [_checks.finite_float(v, fn, "roi") for v in values]
        region = list(zip(values[:n], values[n:], strict=True))
    out = output_size(fn, in_size, size, scale_factor, onnx=True)
    if size is None and scale_factor is not None:
        scales = _onnx_scales(scale_factor, n, fn)
    else:
        scales = tuple(o / i for o, i in zip(out, in_size, strict=True))
    base = "cubic" if mode in ("cubic", "bicubic") else mode
    base = "linear" if base in ("bilinear", "trilinear") else base
    edge = EDGES[1] if exclude_outside else EDGES[0]
    axes = []
    for i, o, s, r in zip(in_size, out, scales, region, strict=True):
        axis = Axis(i, o, s, size is None, s * i, r)
        if base == "nearest":
            axes.append(AxisPlan(axis, ctm, Nearest(rounding), 1.0, edge))
        else:
            f = Cubic(a) if base == "cubic" else Linear()
            stretch = max(1.0, 1.0 / s) if antialias else 1.0
            axes.append(AxisPlan(axis, ctm, f, stretch, edge, antialias))
    extrapolation = extrapolation_value if ctm == "tf_crop_and_resize" else None
    return Plan(tuple(axes), extrapolation, "onnx")


# ----------------------------------------------------------------------------------- presets
def _preset(**kwargs: Any) -> Mapping[str, Any]:
    return MappingProxyType(kwargs)


def _floor(rule: str) -> Mapping[str, Any]:
    return _preset(coordinate_transformation_mode=rule, nearest_mode="floor")


_HALF = "half_pixel"
_ALIASES = {"bilinear": "linear", "trilinear": "linear", "bicubic": "cubic"}


class _Methods(Mapping):
    """One library's presets by method. Each holds ``mode`` (but for nearest, the default
    mode, so a call may name it or not); under PyTorch's names of the
    method (``"bilinear"``, ``"trilinear"``, ``"bicubic"``) the same preset comes without
    ``mode``, for calls that name the mode themselves:
    ``interpolate(x, scale_factor=2, mode="bicubic", **conventions["pillow"]["bicubic"])``."""

    def __init__(self, presets: dict[str, Mapping[str, Any]]) -> None:
        self._presets = presets

    def __getitem__(self, method: str) -> Mapping[str, Any]:
        if method in self._presets:
            return self._presets[method]
        if _ALIASES.get(method) in self._presets:
            preset = self._presets[_ALIASES[method]]
            return MappingProxyType({k: v for k, v in preset.items() if k != "mode"})
        raise KeyError(method)

    def __iter__(self):
        return iter(self._presets)

    def __len__(self) -> int:
        return len(self._presets)

    def __repr__(self) -> str:
        return repr(dict(self._presets))


conventions: Mapping[str, Mapping[str, Mapping[str, Any]]] = MappingProxyType(
    {
        # torch.nn.functional.interpolate (2.13), any rank
        "pytorch": _Methods(
            {
                "nearest": _preset(),
                "nearest-exact": _preset(mode="nearest-exact"),
                "linear": _preset(mode="linear", align_corners=False),
                "cubic": _preset(mode="cubic", align_corners=False),
                "area": _preset(mode="area"),
            }
        ),
        # ONNX Resize with its default attributes
        "onnx": _Methods(
            {
                "nearest": _preset(
                    coordinate_transformation_mode=_HALF, nearest_mode="round_prefer_floor"
                ),
                "linear": _preset(mode="linear", coordinate_transformation_mode=_HALF),
                "cubic": _preset(
                    mode="cubic", coordinate_transformation_mode=_HALF, cubic_coeff_a=-0.75
                ),
            }
        ),
        # tf.image.resize (TF 2): half-pixel centres, Keys a = -0.5 with out-of-range taps
        # dropped, no antialiasing
        "tensorflow": _Methods(
            {
                "nearest": _floor("_tf_half_pixel_nearest"),
                "linear": _preset(mode="linear", coordinate_transformation_mode=_HALF),
                "cubic": _preset(
                    mode="cubic",
                    coordinate_transformation_mode=_HALF,
                    cubic_coeff_a=-0.5,
                    exclude_outside=True,
                ),
            }
        ),
        # cv2.resize on float images: INTER_NEAREST, INTER_NEAREST_EXACT, INTER_LINEAR,
        # INTER_CUBIC (edge pixels replicated)
        "opencv": _Methods(
            {
                "nearest": _floor("_opencv_nearest"),
                "nearest-exact": _floor("_accumulated"),
                "linear": _preset(mode="linear", coordinate_transformation_mode=_HALF),
                "cubic": _preset(
                    mode="cubic", coordinate_transformation_mode=_HALF, cubic_coeff_a=-0.75
                ),
            }
        ),
        # PIL.Image.resize on mode "F": NEAREST, BILINEAR, BICUBIC (kernels widened when
        # down-sampling, truncated at the edges and renormalised)
        "pillow": _Methods(
            {
                "nearest": _floor("_accumulated"),
                "linear": _preset(
                    mode="linear",
                    coordinate_transformation_mode=_HALF,
                    antialias=True,
                    exclude_outside=True,
                ),
                "cubic": _preset(
                    mode="cubic",
                    coordinate_transformation_mode=_HALF,
                    cubic_coeff_a=-0.5,
                    antialias=True,
                    exclude_outside=True,
                ),
            }
        ),
    }
)
