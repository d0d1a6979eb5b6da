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
**conventions["pillow"]["bicubic"])``. Every preset also names itself
(``preset="pillow/bicubic"``), and ``interpolate`` refuses a call whose ``mode`` is not the
preset's: forgetting ``mode=`` with such a preset is an error, not a nearest resize.
Pillow's ``NEAREST`` and
OpenCV's ``INTER_NEAREST`` / ``INTER_NEAREST_EXACT`` pick their pixel with their own arithmetic,
reproduced bit for bit by private coordinate rules (:mod:`upsampling.coordinates`). OpenCV's
``INTER_NEAREST_EXACT`` is that of its PyPI wheels, whose resize goes through the IPP HAL (the
same accumulation as Pillow's); OpenCV built without it uses 16.16 fixed point, which differs
at a few ties. TensorFlow and OpenCV's ``INTER_AREA`` (exact pixel-overlap averages) have no
preset: ``"area"`` is PyTorch's adaptive average; nor have OpenCV's ``INTER_LANCZOS4`` and
Pillow's ``BOX`` and ``HAMMING`` (no mode computes them).

On integer images the OpenCV and Pillow presets compute with that library's own fixed-point
arithmetic (:mod:`upsampling._integer`, which lists the measured exceptions):

=====================================  ======================================================
preset                                 bit for bit with the library on
=====================================  ======================================================
``opencv`` nearest, nearest-exact      any dtype (pixels are copied)
``opencv/linear``                      uint8 (``cv2.resize``); uint16 within 1
``opencv/cubic``                       none: uint8 within 1 at near-ties (OpenCV's IPP
                                       back end computes in floating point: 0.005% of the
                                       pixels of noise, at most 0.02% on photos); uint16
                                       within 1
``pillow/nearest``                     any dtype
``pillow`` linear, cubic, lanczos      uint8 (modes L, RGB, CMYK) and uint16 (``I;16``)
                                       when the height does not shrink; when it does,
                                       Pillow 13 may resample vertically first by a rule
                                       ours matches in about 90% of the shapes
=====================================  ======================================================

Float images follow the float formulas of the libraries' float paths (mode ``"F"`` for
Pillow, ``CV_32F`` for OpenCV).

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
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

from . import _checks
from .coordinates import Axis, torch_nearest_rule
from .filters import EDGES, FILTERS, AxisPlan, Cubic, Nearest, Plan
from .modes import MODES
from .spec import ResizeSpec

__all__ = ["conventions", "make_plan"]


# ------------------------------------------------------------------------------- normalisation
def make_plan(
    spec: ResizeSpec, in_size: tuple[int, ...], *, double: bool = False, fn: str = "interpolate"
) -> Plan:
    """The :class:`Plan` of a normalised call (:meth:`ResizeSpec.of`) on an input of spatial
    size ``in_size``, following PyTorch 2.13 or, with the ONNX keywords, ONNX ``Resize``
    (opset 19); what depends on the input (its rank, the output size) is checked here.
    ``double`` says the input is float64 (PyTorch picks nearest pixels in float64 arithmetic
    then)."""
    mode = MODES[spec.mode]
    mode.check_rank(len(in_size), fn)
    out = spec.output_size(in_size, fn)
    scales = spec.scales(len(in_size), fn)
    if spec.onnx:
        plan = _onnx_plan(spec, mode, in_size, out, scales, fn)
    else:
        plan = _torch_plan(spec, mode, in_size, out, scales, double)
    return plan if spec.preset is None else dataclasses.replace(plan, preset=spec.preset)


def _torch_plan(spec, mode, in_size, out, scales, double) -> Plan:
    align_corners, antialias = bool(spec.align_corners), spec.antialias
    given = scales is not None and not spec.recompute_scale_factor and mode.kind != "area"
    axes = []
    # PyTorch's linear and antialiased kernels leave an axis whose size does not change alone,
    # whatever the scale factor (its cubic and nearest kernels do not)
    keeps = antialias or mode.kind == "linear"
    factors = []
    for i, (a, o) in enumerate(zip(in_size, out, strict=True)):
        given_i = given and not (keeps and a == o)
        factors.append(scales[i] if given_i else None)
        axis = Axis(a, o, scales[i] if given_i else o / a, given_i)
        if mode.kind == "area":
            axes.append(AxisPlan(axis, "half_pixel", FILTERS["area"]()))
        elif mode.nearest:
            rule = torch_nearest_rule(mode.name == "nearest-exact", out)
            axis = dataclasses.replace(axis, double=double)
            axes.append(AxisPlan(axis, rule, Nearest("floor")))
        elif antialias:  # PyTorch's separable antialiased kernels (Pillow's algorithm)
            if align_corners:
                step = (a - 1) / (o - 1) if o > 1 else 0.0
                axis = Axis(a, o, 1 / step if step else math.inf, True)
            f = Cubic(-0.5) if mode.kind == "cubic" else FILTERS[mode.kind]()
            stretch = max(1.0, 1.0 / axis.scale)
            axes.append(AxisPlan(axis, "half_pixel", f, stretch, "exclude", True))
        else:
            rule = "align_corners" if align_corners else "half_pixel"
            f = Cubic(-0.75) if mode.kind == "cubic" else FILTERS[mode.kind]()
            axes.append(AxisPlan(axis, rule, f))
    uint8 = None  # how PyTorch's 2-D bilinear/bicubic kernels are called (their uint8 arithmetic)
    if len(in_size) == 2 and mode.kind in ("linear", "cubic") and not mode.nearest:
        uint8 = (mode.kind, bool(antialias), align_corners, tuple(factors))
    return Plan(tuple(axes), torch_uint8=uint8)


def _onnx_plan(spec, mode, in_size, out, scales, fn) -> Plan:
    n = len(in_size)
    ctm = spec.resolved("coordinate_transformation_mode")
    region = [(0.0, 1.0)] * n
    if spec.roi is not None:
        if len(spec.roi) != 2 * n:
            raise _checks.fail(
                fn, f"roi {spec.roi!r} must hold {2 * n} numbers: {n} starts then {n} ends"
            )
        region = list(zip(spec.roi[:n], spec.roi[n:], strict=True))
    if scales is None:
        scales = tuple(o / i for o, i in zip(out, in_size, strict=True))
    edge = EDGES[1] if spec.exclude_outside else EDGES[0]
    axes = []
    for i, o, s, r in zip(in_size, out, scales, region, strict=True):
        axis = Axis(i, o, s, spec.size is None, s * i, r)
        if mode.nearest:
            axes.append(AxisPlan(axis, ctm, Nearest(spec.resolved("nearest_mode")), 1.0, edge))
        else:
            a = spec.resolved("cubic_coeff_a")
            f = Cubic(a) if mode.kind == "cubic" else FILTERS[mode.kind]()
            stretch = max(1.0, 1.0 / s) if spec.antialias else 1.0
            axes.append(AxisPlan(axis, ctm, f, stretch, edge, spec.antialias))
    extrapolation = spec.extrapolation_value if ctm == "tf_crop_and_resize" else None
    return Plan(tuple(axes), extrapolation, "onnx")


# ----------------------------------------------------------------------------------- presets
def _preset(**kwargs: Any) -> Mapping[str, Any]:
    return MappingProxyType(kwargs)


def _floor(rule: str) -> Mapping[str, Any]:
    return _preset(coordinate_transformation_mode=rule, nearest_mode="floor")


_HALF_PIXEL = "half_pixel"
# PyTorch's names of a method (bilinear, trilinear, bicubic) -> the method
_ALIASES = {m.name: m.method for m in MODES.values() if m.method != m.name}


class _Methods(Mapping):
    """One library's presets by method. Each holds ``mode`` (but for nearest, the default
    mode, so a call may name it or not); under PyTorch's names of the
    method (``"bilinear"``, ``"trilinear"``, ``"bicubic"``) the same preset comes without
    ``mode``, for calls that name the mode themselves:
    ``interpolate(x, scale_factor=2, mode="bicubic", **conventions["pillow"]["bicubic"])``."""

    def __init__(self, library: str, presets: dict[str, Mapping[str, Any]]) -> None:
        self._library = library
        self._presets = {
            method: MappingProxyType({**preset, "preset": f"{library}/{method}"})
            for method, preset in presets.items()
        }

    def __getitem__(self, method: str) -> Mapping[str, Any]:
        if method in self._presets:
            return self._presets[method]
        if _ALIASES.get(method) in self._presets:
            preset = self._presets[_ALIASES[method]]
            named = {k: v for k, v in preset.items() if k != "mode"}
            return MappingProxyType({**named, "preset": f"{self._library}/{method}"})
        raise KeyError(method)

    def mode_of(self, method: str) -> str:
        """The mode the preset of ``method`` is made for (nearest where it names none)."""
        return self._presets[_ALIASES.get(method, method)].get("mode", "nearest")

    def __iter__(self) -> Iterator[str]:
        return iter(self._presets)

    def __len__(self) -> int:
        return len(self._presets)

    def __repr__(self) -> str:
        return repr(dict(self._presets))


conventions: Mapping[str, Mapping[str, Mapping[str, Any]]] = MappingProxyType(
    {
        # torch.nn.functional.interpolate (2.13), any rank
        "pytorch": _Methods(
            "pytorch",
            {
                "nearest": _preset(),
                "nearest-exact": _preset(mode="nearest-exact"),
                "linear": _preset(mode="linear", align_corners=False),
                "cubic": _preset(mode="cubic", align_corners=False),
                "area": _preset(mode="area"),
            },
        ),
        # ONNX Resize with its default attributes
        "onnx": _Methods(
            "onnx",
            {
                "nearest": _preset(
                    coordinate_transformation_mode=_HALF_PIXEL, nearest_mode="round_prefer_floor"
                ),
                "linear": _preset(mode="linear", coordinate_transformation_mode=_HALF_PIXEL),
                "cubic": _preset(
                    mode="cubic", coordinate_transformation_mode=_HALF_PIXEL, cubic_coeff_a=-0.75
                ),
            },
        ),
        # tf.image.resize (TF 2): half-pixel centres, Keys a = -0.5 with out-of-range taps
        # dropped, no antialiasing
        "tensorflow": _Methods(
            "tensorflow",
            {
                "nearest": _floor("_tf_half_pixel_nearest"),
                "linear": _preset(mode="linear", coordinate_transformation_mode=_HALF_PIXEL),
                "cubic": _preset(
                    mode="cubic",
                    coordinate_transformation_mode=_HALF_PIXEL,
                    cubic_coeff_a=-0.5,
                    exclude_outside=True,
                ),
            },
        ),
        # cv2.resize on float images: INTER_NEAREST, INTER_NEAREST_EXACT, INTER_LINEAR,
        # INTER_CUBIC (edge pixels replicated)
        "opencv": _Methods(
            "opencv",
            {
                "nearest": _floor("_opencv_nearest"),
                "nearest-exact": _floor("_accumulated"),
                "linear": _preset(mode="linear", coordinate_transformation_mode=_HALF_PIXEL),
                "cubic": _preset(
                    mode="cubic", coordinate_transformation_mode=_HALF_PIXEL, cubic_coeff_a=-0.75
                ),
            },
        ),
        # PIL.Image.resize on mode "F": NEAREST, BILINEAR, BICUBIC, LANCZOS (kernels widened
        # when down-sampling, truncated at the edges and renormalised)
        "pillow": _Methods(
            "pillow",
            {
                "nearest": _floor("_accumulated"),
                "linear": _preset(
                    mode="linear",
                    coordinate_transformation_mode=_HALF_PIXEL,
                    antialias=True,
                    exclude_outside=True,
                ),
                "cubic": _preset(
                    mode="cubic",
                    coordinate_transformation_mode=_HALF_PIXEL,
                    cubic_coeff_a=-0.5,
                    antialias=True,
                    exclude_outside=True,
                ),
                # LANCZOS: 3 lobes, widened when down-sampling, truncated and renormalised
                "lanczos": _preset(mode="lanczos", antialias=True),
            },
        ),
    }
)
