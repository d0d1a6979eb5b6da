"""Where each output sample comes from: one table, coordinate rule name -> formula.

An output index ``o`` along an axis maps to a (real) source coordinate ``x`` in input pixels,
pixel ``j`` sitting at ``x = j``. The public names are ONNX ``Resize``'s
``coordinate_transformation_mode`` values; PyTorch's rules are entries of the same table (its
``align_corners=False`` is ``half_pixel``, ``align_corners=True`` is ``align_corners``). Names
starting with an underscore reproduce another library's own arithmetic bit for bit where it picks
a nearest pixel (their ties fall differently from exact rounding):

========================  ==========================================================================
rule                      source coordinate of output index ``o``
========================  ==========================================================================
half_pixel                ``(o + 0.5) / scale - 0.5``
half_pixel_symmetric      ``half_pixel`` shifted so the kept span is centred:
                          ``in / 2 * (1 - out / (scale * in)) + (o + 0.5) / scale - 0.5``
pytorch_half_pixel        ``half_pixel``, but ``0`` when the output has one sample
align_corners             ``o * (in - 1) / (length - 1)`` (``0`` when ``length == 1``)
asymmetric                ``o / scale``
tf_crop_and_resize        ``start * (in - 1) + o * (end - start) * (in - 1) / (length - 1)`` over
                          the region of interest ``(start, end)``; samples outside ``[0, in - 1]``
                          take the extrapolation value
_torch_nearest            PyTorch's ``nearest`` in its generic CPU kernel (1-D, 3-D, and 2-D
                          outputs with height + width > 128): ``o * step`` in float32 for
                          float32 input, in float64 rounded to float32 for float64 input,
                          ``step`` being ``1 / scale_factor`` or ``in / out`` in that precision
_torch_nearest_2d         PyTorch's ``nearest`` in its channels-last CPU kernel (2-D outputs
                          with height + width <= 128): ``o * step`` in float32 whatever the
                          dtype, with exact shortcuts ``o`` when ``out == in``, ``o // 2`` when
                          ``out == 2 * in``
_torch_nearest_exact      PyTorch's ``nearest-exact``, generic kernel: ``fma(step, o + 0.5,
                          -0.5)`` in the input's precision (float32 or float64), clamped at 0,
                          plus 0.5 rounded to float32
_torch_nearest_exact_2d   PyTorch's ``nearest-exact``, channels-last kernel: ``(o + 0.5) * step``
                          with a float32 ``step``, rounded to float32
_tf_half_pixel_nearest    TensorFlow's ``resize_nearest_neighbor`` with half-pixel centres (what
                          ``tf.image.resize`` does): ``(o + 0.5) * (in / out)`` in float32
_accumulated              Pillow's ``NEAREST`` (and OpenCV's ``INTER_NEAREST_EXACT`` in builds
                          whose resize goes through the IPP HAL, as the PyPI wheels do):
                          ``step / 2`` plus ``step`` added ``o`` times in float64,
                          ``step = in / out``
_opencv_nearest           OpenCV's ``INTER_NEAREST``: ``o * (1 / (out / in))`` in float64
========================  ==========================================================================

``scale`` is ONNX's (output over input: the scale factor given, or ``out / in``), ``length`` is
``scale * in`` as ONNX's reference evaluates it (``out`` for PyTorch's rules). The private rules
give a coordinate to be floored (``nearest_mode="floor"``).

PyTorch 2.13 picks a nearest pixel with different arithmetic on different paths of its CPU
code, and :func:`torch_nearest_rule` names the rule of the path it takes: a 2-D input goes
through its channels-last kernel when the output's height plus width is at most 128 (or when
the input is channels-last with more than 3 channels), through its generic kernel otherwise;
1-D and 3-D inputs through the generic one (its 3-D channels-last kernel serves channels-last
inputs with more than 3 channels). So PyTorch itself may pick another row for the same plane
at another width, or for the same values in channels-last memory; these rules follow its
kernel for contiguous ``(N, C, *spatial)`` input, whose path depends on the output size alone
(a contiguous input with more than 3 channels is channels-last only with a ``1 x 1`` plane,
where every rule picks pixel 0).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["COORDINATE_MODES", "Axis", "source_coordinates", "torch_nearest_rule"]


@dataclass(frozen=True)
class Axis:
    """What a coordinate rule knows about one spatial axis.

    ``scale`` is the output/input ratio the rule divides by; ``given`` says whether it is the
    user's scale factor (PyTorch's rules then use ``1 / scale`` rather than ``in / out``);
    ``length`` is ONNX's real-valued output length; ``roi`` the region of interest of
    ``tf_crop_and_resize`` in normalised coordinates; ``double`` whether PyTorch's rules
    compute in float64 (its arithmetic for float64 input).
    """

    in_size: int
    out_size: int
    scale: float
    given: bool = False
    length: float | None = None
    roi: tuple[float, float] = (0.0, 1.0)
    double: bool = False

    @property
    def length_resized(self) -> float:
        return float(self.out_size) if self.length is None else self.length


Rule = Callable[[np.ndarray, Axis], np.ndarray]


def _half_pixel(o: np.ndarray, a: Axis) -> np.ndarray:
    return (o + 0.5) / a.scale - 0.5


def _half_pixel_symmetric(o: np.ndarray, a: Axis) -> np.ndarray:
    adjustment = a.out_size / (a.scale * a.in_size)
    offset = a.in_size / 2 * (1 - adjustment)
    return offset + (o + 0.5) / a.scale - 0.5


def _pytorch_half_pixel(o: np.ndarray, a: Axis) -> np.ndarray:
    if a.out_size == 1:
        return np.zeros_like(o)
    return (o + 0.5) / a.scale - 0.5


def _align_corners(o: np.ndarray, a: Axis) -> np.ndarray:
    length = a.length_resized
    if length == 1:
        return np.zeros_like(o)
    return o * (a.in_size - 1) / (length - 1)


def _asymmetric(o: np.ndarray, a: Axis) -> np.ndarray:
    return o / a.scale


def _tf_crop_and_resize(o: np.ndarray, a: Axis) -> np.ndarray:
    start, end = a.roi
    length = a.length_resized
    if length == 1:
        x = np.full_like(o, (end - start) * (a.in_size - 1) / 2)
    else:
        x = o * (end - start) * (a.in_size - 1) / (length - 1)
    return x + start * (a.in_size - 1)


def _torch_step(a: Axis, dtype=np.float32):
    """PyTorch's ``compute_scales_value``: input pixels per output pixel, in ``dtype``."""
    if a.given:
        return dtype(1.0 / a.scale)
    return dtype(a.in_size) / dtype(a.out_size)


# PyTorch's 2-D nearest kernels: its channels-last kernel serves outputs with H + W <= this
_TORCH_CHANNELS_LAST_2D = 128


def torch_nearest_rule(exact: bool, out_size: tuple[int, ...]) -> str:
    """The coordinate rule of PyTorch's ``nearest`` (``exact``: ``nearest-exact``) on a
    contiguous input whose spatial output size is ``out_size``: the rule of the CPU kernel
    PyTorch 2.13 runs for it.

    >>> torch_nearest_rule(False, (14, 127)), torch_nearest_rule(True, (14, 14))
    ('_torch_nearest', '_torch_nearest_exact_2d')
    """
    rule = "_torch_nearest_exact" if exact else "_torch_nearest"
    small = len(out_size) == 2 and sum(out_size) <= _TORCH_CHANNELS_LAST_2D
    return rule + "_2d" if small else rule


def _torch_nearest(o: np.ndarray, a: Axis) -> np.ndarray:
    if a.double:
        return (o * _torch_step(a, np.float64)).astype(np.float32).astype(np.float64)
    return (o.astype(np.float32) * _torch_step(a)).astype(np.float64)


def _torch_nearest_2d(o: np.ndarray, a: Axis) -> np.ndarray:
    if a.out_size == a.in_size:
        return o.copy()
    if a.out_size == 2 * a.in_size:
        return np.floor(o / 2)
    return (o.astype(np.float32) * _torch_step(a)).astype(np.float64)


def _torch_nearest_exact(o: np.ndarray, a: Axis) -> np.ndarray:
    if a.double:
        # float64 ``fma(step, o + 0.5, -0.5)``, clamped at 0, ``+ 0.5``, to float32: with the
        # rounded product ``p >= 0.5``, ``p - 0.5 + 0.5`` is exactly ``p`` (0.5 is a multiple
        # of its ulp), and the fused product differs from ``p`` by under one float64 ulp only
        # where ``p - 0.5`` falls into a lower binade; below 0.5 both floor to 0
        return ((o + 0.5) * _torch_step(a, np.float64)).astype(np.float32).astype(np.float64)
    # float32 ``fma(step, o + 0.5, -0.5)`` (one rounding: the product and the difference are
    # exact in float64), clamped at 0, then ``+ 0.5`` rounded to float32
    src = np.maximum((np.float64(_torch_step(a)) * (o + 0.5) - 0.5).astype(np.float32), 0)
    return (src.astype(np.float64) + 0.5).astype(np.float32).astype(np.float64)


def _torch_nearest_exact_2d(o: np.ndarray, a: Axis) -> np.ndarray:
    return ((o + 0.5) * np.float64(_torch_step(a))).astype(np.float32).astype(np.float64)


def _tf_half_pixel_nearest(o: np.ndarray, a: Axis) -> np.ndarray:
    step = np.float32(a.in_size) / np.float32(a.out_size)
    return ((o.astype(np.float32) + np.float32(0.5)) * step).astype(np.float64)


def _accumulated(o: np.ndarray, a: Axis) -> np.ndarray:
    step = a.in_size / a.out_size
    terms = np.full(len(o), step)
    terms[0] = step * 0.5
    return np.add.accumulate(terms)  # strictly left to right, as a C loop adds


def _opencv_nearest(o: np.ndarray, a: Axis) -> np.ndarray:
    return o * (1.0 / (a.out_size / a.in_size))


COORDINATE_MODES: dict[str, Rule] = {
    "half_pixel": _half_pixel,
    "half_pixel_symmetric": _half_pixel_symmetric,
    "pytorch_half_pixel": _pytorch_half_pixel,
    "align_corners": _align_corners,
    "asymmetric": _asymmetric,
    "tf_crop_and_resize": _tf_crop_and_resize,
    "_torch_nearest": _torch_nearest,
    "_torch_nearest_2d": _torch_nearest_2d,
    "_torch_nearest_exact": _torch_nearest_exact,
    "_torch_nearest_exact_2d": _torch_nearest_exact_2d,
    "_tf_half_pixel_nearest": _tf_half_pixel_nearest,
    "_accumulated": _accumulated,
    "_opencv_nearest": _opencv_nearest,
}


def source_coordinates(rule: str, axis: Axis) -> tuple[np.ndarray, np.ndarray | None]:
    """The source coordinate of every output index, and which of them lie outside the input
    (only ``tf_crop_and_resize`` extrapolates; ``None`` otherwise).

    >>> x, outside = source_coordinates("align_corners", Axis(2, 4, 2.0))
    >>> x.tolist(), outside
    ([0.0, 0.3333333333333333, 0.6666666666666666, 1.0], None)
    """
    x = COORDINATE_MODES[rule](np.arange(axis.out_size, dtype=np.float64), axis)
    if rule != "tf_crop_and_resize":
        return x, None
    return x, (x < 0) | (x > axis.in_size - 1)
