"""The type aliases of the public signatures: for type checkers, IDEs and readers.

Nothing at runtime reads them, and importing this module imports neither torch nor dask nor
Pillow: their types are named under ``TYPE_CHECKING`` only (the modules that use the aliases
have ``from __future__ import annotations``, so their annotations stay strings).

Each ``Literal`` lists the names that a runtime table holds (``tests/test_typing.py`` checks
that they agree, so a new mode without its name here fails the tests):

=============================  ===========================================================
alias                          the table
=============================  ===========================================================
:data:`InterpolateMode`        :data:`upsampling.modes.MODES`
:data:`CoordinateMode`         :data:`upsampling.coordinates.COORDINATE_MODES` (public keys)
:data:`NearestMode`            :data:`upsampling.filters.NEAREST_MODES`
:data:`ResizeMethod`           the modes of 2-D images that some convention has
:data:`Convention`             the keys of :data:`upsampling.conventions`
:data:`UnpoolMode`             ``upsampling.unpool``'s modes
:data:`ConvTransposeMethod`    :data:`upsampling.conv.METHODS`
:data:`DeconvolveMethod`       :data:`upsampling.deconvolution.METHODS`
:data:`DeblurMethod`           :data:`upsampling.deblur.METHODS`
:data:`DeblurBoundary`         :data:`upsampling.deblur.BOUNDARIES`
=============================  ===========================================================

The presets of :data:`upsampling.conventions` also pass private coordinate rules (names with a
leading underscore) to ``interpolate``; they are not part of :data:`CoordinateMode`, which
names what a caller writes.

The array type variables say "the same kind out as in": :data:`Array` for the operators that
take NumPy arrays and torch tensors, :data:`ArrayOrDask` for those that also take Dask arrays
(lazily, chunk by chunk), :data:`ImageOrArray` for :func:`upsampling.resize`, which takes
Pillow images too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal, Optional, TypeAlias, TypeVar, Union

import numpy as np

if TYPE_CHECKING:
    import torch
    from dask.array import Array as DaskArray
    from PIL.Image import Image as PILImage
    from torch import Tensor

__all__ = [
    "AnyArray",
    "Array",
    "ArrayOrDask",
    "CarafeMethod",
    "ConvPadding",
    "ConvTransposeInit",
    "ConvTransposeMethod",
    "ConvTransposePadding",
    "Convention",
    "CoordinateMode",
    "DType",
    "DeblurBoundary",
    "DeblurMethod",
    "DeconvolveMethod",
    "Device",
    "DySampleStyle",
    "FloatOrFloats",
    "ImageOrArray",
    "IntOrInts",
    "InterpolateMode",
    "NearestMode",
    "ResizeMethod",
    "UnpoolMode",
]

# ------------------------------------------------------------------------------ arrays
# torch's, dask's and Pillow's types are forward references (strings) here; ``Union`` (not ``|``,
# which a string does not support at runtime) keeps an annotation like ``AnyArray | None``
# evaluable by ``typing.get_type_hints`` without importing torch.
Array = TypeVar("Array", np.ndarray, "Tensor")
"""A NumPy array or a torch tensor; the result is of the same kind."""

ArrayOrDask = TypeVar("ArrayOrDask", np.ndarray, "Tensor", "DaskArray")
"""A NumPy array, a torch tensor or a Dask array; the result is of the same kind."""

ImageOrArray = TypeVar("ImageOrArray", np.ndarray, "Tensor", "DaskArray", "PILImage")
""":func:`upsampling.resize`'s image: an array, a tensor, a Dask array or a Pillow image."""

AnyArray: TypeAlias = Union[np.ndarray, "Tensor"]
"""A NumPy array or a torch tensor where the kind does not decide the result's (a weight, a
point-spread function)."""

# --------------------------------------------------------------------------- arguments
IntOrInts: TypeAlias = int | Sequence[int]
"""A per-dimension integer (``kernel_size``, ``stride``, ...): one int for every spatial
dimension, or one entry per spatial dimension."""

FloatOrFloats: TypeAlias = float | Sequence[float]
"""A per-dimension factor (``scale_factor``): one number for every spatial dimension, or one
entry per spatial dimension."""

Device: TypeAlias = Union["torch.device", str, int, None]
"""What ``torch.device`` takes (a layer's ``device``)."""

DType: TypeAlias = Optional["torch.dtype"]
"""A layer's ``dtype``."""

# ------------------------------------------------------------------------------- names
InterpolateMode: TypeAlias = Literal[
    "nearest",
    "nearest-exact",
    "linear",
    "bilinear",
    "trilinear",
    "bicubic",
    "cubic",
    "area",
    "lanczos",
]
CoordinateMode: TypeAlias = Literal[
    "half_pixel",
    "half_pixel_symmetric",
    "pytorch_half_pixel",
    "align_corners",
    "asymmetric",
    "tf_crop_and_resize",
]
NearestMode: TypeAlias = Literal["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]
ResizeMethod: TypeAlias = Literal[
    "nearest", "nearest-exact", "linear", "bilinear", "bicubic", "cubic", "area", "lanczos"
]
Convention: TypeAlias = Literal["pytorch", "onnx", "tensorflow", "opencv", "pillow"]
UnpoolMode: TypeAlias = Literal["nearest", "bed_of_nails"]
ConvPadding: TypeAlias = IntOrInts | Literal["same", "valid"]
ConvTransposePadding: TypeAlias = IntOrInts | Literal["same"]
ConvTransposeMethod: TypeAlias = Literal["auto", "scatter", "zero_insertion", "subpixel", "matrix"]
DeconvolveMethod: TypeAlias = Literal["lsqr", "cg", "direct"]
DeblurMethod: TypeAlias = Literal[
    "auto", "tv", "wiener", "tikhonov", "richardson_lucy", "richardson_lucy_tv"
]
DeblurBoundary: TypeAlias = Literal["reflect", "periodic"]

# the layers' own names (upsampling.nn): the tables are in their modules
ConvTransposeInit: TypeAlias = Literal["default", "bilinear"]
CarafeMethod: TypeAlias = Literal["taps", "unfold"]
DySampleStyle: TypeAlias = Literal["lp", "pl"]
