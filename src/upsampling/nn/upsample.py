"""``Upsample``: :func:`upsampling.interpolate` as a layer.

The operator exports to ONNX itself (see :mod:`upsampling.nn._export_ops`): ``Resize`` for
PyTorch's options, the weight tables of the eager operator for the ONNX-only ones.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from .. import _checks, shapes
from ..interpolate import interpolate as _interpolate
from . import _layer_utils as U

__all__ = ["MODES", "Upsample"]

MODES = ("nearest", "nearest-exact", "linear", "bilinear", "trilinear", "bicubic", "cubic", "area")
_LINEAR = ("linear", "bilinear", "trilinear", "bicubic", "cubic")
_COORDINATES = (
    "half_pixel",
    "half_pixel_symmetric",
    "pytorch_half_pixel",
    "align_corners",
    "asymmetric",
    "tf_crop_and_resize",
)
_NEAREST = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil")


def _optional_bool(value: Any, fn: str, name: str) -> bool | None:
    return None if value is None else _checks.boolean(value, fn, name)


class Upsample(U.Parameterless):
    """Interpolation as a layer; the arguments are those of :func:`upsampling.interpolate` after
    ``x`` (PyTorch's, then the keyword-only ONNX ``Resize`` attributes), checked here so that a
    bad value fails at construction. ``device`` and ``dtype`` (keyword-only) are accepted like
    every module's and checked; the layer holds no tensors.

    Examples
    --------
    >>> import torch
    >>> from upsampling.nn import Upsample
    >>> Upsample(scale_factor=2, mode="bilinear")(torch.tensor([[[[6.0, 10], [9, 12]]]]))[0, 0]
    tensor([[ 6.0000,  7.0000,  9.0000, 10.0000],
            [ 6.7500,  7.6875,  9.5625, 10.5000],
            [ 8.2500,  9.0625, 10.6875, 11.5000],
            [ 9.0000,  9.7500, 11.2500, 12.0000]])
    """

    def __init__(
        self,
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
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        fn = "Upsample"
        U.check_factory(fn, device, dtype)
        if (size is None) == (scale_factor is None):
            raise _checks.fail(fn, "give exactly one of size and scale_factor")
        if size is not None:
            items = size if isinstance(size, tuple | list) else (size,)
            U.per_dim(items, len(items), fn, "size")
            size = size if isinstance(size, int) else tuple(size)
        else:
            n = len(scale_factor) if isinstance(scale_factor, tuple | list) else 1
            scales = shapes.interpolate_scales(scale_factor, n, fn)
            scale_factor = scales if isinstance(scale_factor, tuple | list) else scales[0]
        self.size, self.scale_factor = size, scale_factor
        self.mode = _checks.choice(mode, MODES, fn, "mode")
        self.align_corners = _optional_bool(align_corners, fn, "align_corners")
        if self.align_corners is not None and self.mode not in _LINEAR:
            raise _checks.fail(
                fn,
                f"align_corners {align_corners!r} applies to modes "
                f"{', '.join(map(repr, _LINEAR))} only, not {mode!r}",
            )
        self.recompute_scale_factor = _optional_bool(
            recompute_scale_factor, fn, "recompute_scale_factor"
        )
        self.antialias = _checks.boolean(antialias, fn, "antialias")
        self.coordinate_transformation_mode = (
            None
            if coordinate_transformation_mode is None
            else _checks.choice(
                coordinate_transformation_mode, _COORDINATES, fn, "coordinate_transformation_mode"
            )
        )
        self.nearest_mode = (
            None
            if nearest_mode is None
            else _checks.choice(nearest_mode, _NEAREST, fn, "nearest_mode")
        )
        self.cubic_coeff_a = (
            None
            if cubic_coeff_a is None
            else _checks.finite_float(cubic_coeff_a, fn, "cubic_coeff_a")
        )
        self.exclude_outside = _checks.boolean(exclude_outside, fn, "exclude_outside")
        self.extrapolation_value = _checks.finite_float(
            extrapolation_value, fn, "extrapolation_value"
        )
        if roi is not None:
            if not isinstance(roi, tuple | list):
                raise _checks.fail(fn, f"roi {roi!r} must be a tuple of numbers", TypeError)
            roi = tuple(_checks.finite_float(r, fn, "roi") for r in roi)
        self.roi = roi

    def options(self) -> dict[str, Any]:
        """The keyword arguments this layer passes to :func:`upsampling.interpolate`."""
        return {
            "size": self.size,
            "scale_factor": self.scale_factor,
            "mode": self.mode,
            "align_corners": self.align_corners,
            "recompute_scale_factor": self.recompute_scale_factor,
            "antialias": self.antialias,
            "coordinate_transformation_mode": self.coordinate_transformation_mode,
            "nearest_mode": self.nearest_mode,
            "cubic_coeff_a": self.cubic_coeff_a,
            "exclude_outside": self.exclude_outside,
            "extrapolation_value": self.extrapolation_value,
            "roi": self.roi,
        }

    def forward(self, x: Tensor) -> Tensor:
        return _interpolate(x, **self.options())

    def extra_repr(self) -> str:
        shown = [f"{k}={v!r}" for k, v in self.options().items() if v != _UPSAMPLE_DEFAULTS[k]]
        return ", ".join(shown)


_UPSAMPLE_DEFAULTS: dict[str, Any] = {
    "size": None,
    "scale_factor": None,
    "mode": None,  # always shown
    "align_corners": None,
    "recompute_scale_factor": None,
    "antialias": False,
    "coordinate_transformation_mode": None,
    "nearest_mode": None,
    "cubic_coeff_a": None,
    "exclude_outside": False,
    "extrapolation_value": 0.0,
    "roi": None,
}
