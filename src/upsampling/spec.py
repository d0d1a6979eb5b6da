"""One resize call as a value: :class:`ResizeSpec`, the arguments of ``interpolate`` after ``x``.

Every way into interpolation normalises its arguments here once: the function
(:func:`upsampling.interpolate`), the Dask path, the torch custom op (which carries the spec as a
JSON key plus the sizes and factors, which may be symbolic under ``torch.compile``) and
``nn.Upsample`` (which stores one, so it accepts exactly what the function accepts and fails at
construction). What depends on the input (its rank, its sizes) is checked when the spec meets an
input: :func:`upsampling.conventions.make_plan`.

>>> from upsampling.spec import ResizeSpec
>>> s = ResizeSpec.of("interpolate", scale_factor=2, mode="linear", nearest_mode=None)
>>> s.scale_factor, s.mode, s.onnx
(2.0, 'linear', False)
>>> s = ResizeSpec.of("interpolate", size=[4, 5], nearest_mode="floor")
>>> s.size, s.onnx, s.resolved("coordinate_transformation_mode")
((4, 5), True, 'half_pixel')
>>> ResizeSpec.of("interpolate", size=2, mode="box")  # doctest: +ELLIPSIS
Traceback (most recent call last):
    ...
ValueError: interpolate: mode 'box' must be one of 'nearest', 'nearest-exact', 'linear', ...
"""

from __future__ import annotations

import dataclasses
import json
import numbers
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _backend, _checks, shapes
from .coordinates import COORDINATE_MODES
from .filters import NEAREST_MODES
from .modes import MODES, ONNX, TORCH, names

__all__ = ["ResizeSpec"]


@dataclasses.dataclass(frozen=True)
class ResizeSpec:
    """The arguments of :func:`upsampling.interpolate` after ``x``, normalised.

    Build one with :meth:`of` (which checks and normalises; the plain constructor takes values
    as they are). ``size`` is an int (broadcast to every spatial axis) or a tuple, ``scale_factor``
    a float or a tuple of floats, entries of either possibly symbolic (``torch.compile``);
    sequences are tuples, NumPy scalars Python numbers. ONNX keywords left at None read as
    ONNX's defaults through :meth:`resolved` (``coordinate_transformation_mode="half_pixel"``,
    ``nearest_mode="round_prefer_floor"``, ``cubic_coeff_a=-0.75``).
    """

    size: Any = None
    scale_factor: Any = None
    mode: str = "nearest"
    align_corners: bool | None = None
    recompute_scale_factor: bool | None = None
    antialias: bool = False
    coordinate_transformation_mode: str | None = None
    nearest_mode: str | None = None
    cubic_coeff_a: float | None = None
    exclude_outside: bool = False
    extrapolation_value: float = 0.0
    roi: tuple[float, ...] | None = None
    preset: str | None = None

    # ------------------------------------------------------------------------------ building
    @classmethod
    def of(cls, fn: str, /, *args: Any, **kwargs: Any) -> ResizeSpec:
        """The normalised spec of ``interpolate``'s arguments after ``x`` (positional or by
        name, as the function takes them), checked as far as they can be without an input;
        errors name ``fn``."""
        if _compiling():  # traced values: no cache
            return cls._build(fn, args, kwargs)._normalised(fn)
        values = (*args, *kwargs.values())
        types = tuple(map(type, values))
        try:  # the types are part of the key: 2, 2.0 and True are equal but not the same
            if _PLAIN.issuperset(types):  # the usual call: no tuple, array or tensor to look in
                key = (fn, len(args), tuple(kwargs), values, types)
            else:
                key = (fn, len(args), tuple(kwargs), _typed(values))
            found = _NORMALISED.get(key)
        except TypeError:  # an unhashable value (a list, an array): normalise it each time
            return cls._build(fn, args, kwargs)._normalised(fn)
        if found is None:
            found = cls._build(fn, args, kwargs)._normalised(fn)
            if len(_NORMALISED) >= 1024:
                _NORMALISED.clear()
            _NORMALISED[key] = found
        return found

    @classmethod
    def _build(cls, fn: str, args: tuple, kwargs: dict) -> ResizeSpec:
        try:
            return cls(*args, **kwargs)
        except TypeError as e:  # an unknown keyword or too many arguments
            message = str(e).replace("ResizeSpec.__init__()", "arguments")
            raise _checks.fail(fn, message, TypeError) from None

    def _normalised(self, fn: str) -> ResizeSpec:
        size, scale = _plain(self.size), _plain(self.scale_factor)
        if (size is None) == (scale is None):
            raise _checks.fail(fn, "give exactly one of size and scale_factor")
        if _compiling():  # values may be traced: the op checks them when it runs
            pass
        elif size is not None:
            entries = tuple(_checks.integer(v, fn, "size") for v in _entries(size))
            _checks.positive(entries, fn, "size")
            size = entries if isinstance(size, tuple) else entries[0]
        else:
            entries = shapes.interpolate_scales(scale, len(_entries(scale)), fn)
            scale = entries if isinstance(scale, tuple) else entries[0]
        antialias = _checks.boolean(self.antialias, fn, "antialias")
        exclude = _checks.boolean(self.exclude_outside, fn, "exclude_outside")
        extrapolation = _plain(self.extrapolation_value)
        if isinstance(extrapolation, bool | np.bool_) or not isinstance(
            extrapolation, numbers.Real
        ):
            raise _checks.fail(
                fn, f"extrapolation_value {extrapolation!r} must be a real number", TypeError
            )
        roi = self.roi
        if roi is not None:
            values = _plain(roi)
            if not isinstance(values, tuple):
                raise _checks.fail(fn, f"roi {roi!r} must be a sequence of numbers", TypeError)
            roi = tuple(_checks.finite_float(v, fn, "roi") for v in values)
        spec = dataclasses.replace(
            self,
            size=size,
            scale_factor=scale,
            antialias=antialias,
            exclude_outside=exclude,
            extrapolation_value=float(extrapolation),
            roi=roi,
        )
        spec._check_preset(fn)
        return spec._onnx(fn) if spec.onnx else spec._torch(fn)

    def _check_preset(self, fn: str) -> None:
        """A preset of :data:`upsampling.conventions` names itself (``"opencv/bilinear"``): its
        method must be the mode's, or the call would silently run another mode (presets of the
        default mode, nearest, and those for calls that name their mode carry no ``mode``)."""
        if self.preset is None:
            return
        from .conventions import conventions  # (conventions builds on this module)

        library, _, method = str(self.preset).partition("/")
        if not isinstance(self.preset, str) or method not in conventions.get(library, {}):
            raise _checks.fail(
                fn,
                f"preset {self.preset!r} must name a preset of upsampling.conventions as "
                "'library/method' (e.g. 'opencv/bilinear'); pass the mapping itself: "
                "**up.conventions['opencv']['bilinear']",
            )
        mode = MODES.get(self.mode) if isinstance(self.mode, str) else None
        wanted = MODES[conventions[library].mode_of(method)].method
        if mode is not None and mode.method != wanted:
            modes = ", ".join(repr(m) for m in names() if MODES[m].method == wanted)
            raise _checks.fail(
                fn,
                f"preset {self.preset!r} reproduces mode {modes}, but mode is {self.mode!r}; "
                f"pass mode={modes.split(', ')[0]} with it",
            )

    @property
    def onnx(self) -> bool:
        """ONNX ``Resize``'s semantics (some ONNX keyword was set), else PyTorch's."""
        return (
            any(
                v is not None
                for v in (
                    self.coordinate_transformation_mode,
                    self.nearest_mode,
                    self.cubic_coeff_a,
                    self.roi,
                )
            )
            or self.exclude_outside
            or self.extrapolation_value != 0.0
        )

    def _torch(self, fn: str) -> ResizeSpec:
        mode = MODES[_checks.choice(self.mode, names(TORCH), fn, "mode")]
        corners, recompute = self.align_corners, self.recompute_scale_factor
        if corners is not None:
            corners = _checks.boolean(corners, fn, "align_corners")
            if not mode.align_corners:
                allowed = ", ".join(map(repr, names(TORCH, align_corners=True)))
                raise _checks.fail(
                    fn,
                    f"align_corners {corners!r} applies only to the interpolating modes "
                    f"{allowed}; leave it None with mode {mode.name!r}",
                )
        if recompute is not None:
            recompute = _checks.boolean(recompute, fn, "recompute_scale_factor")
            if recompute and self.size is not None:
                raise _checks.fail(fn, "recompute_scale_factor True is not meaningful with a size")
        _check_antialias(mode.name, self.antialias, bool(corners), fn)
        return dataclasses.replace(self, align_corners=corners, recompute_scale_factor=recompute)

    def _onnx(self, fn: str) -> ResizeSpec:
        mode = _checks.choice(self.mode, names(ONNX), fn, "mode")
        for name in ("align_corners", "recompute_scale_factor"):
            value = getattr(self, name)
            if value is not None:
                raise _checks.fail(
                    fn,
                    f"{name} {value!r} is PyTorch's option; with the ONNX keywords set use "
                    "coordinate_transformation_mode (e.g. 'align_corners') and leave it None",
                )
        ctm = self.resolved("coordinate_transformation_mode")
        _checks.choice(ctm, tuple(COORDINATE_MODES), fn, "coordinate_transformation_mode")
        _checks.choice(self.resolved("nearest_mode"), NEAREST_MODES, fn, "nearest_mode")
        a = self.cubic_coeff_a
        a = None if a is None else _checks.finite_float(a, fn, "cubic_coeff_a")
        if self.antialias and MODES[mode].antialias == "no":
            raise _checks.fail(fn, f"antialias True applies to the {_smoothing(ONNX)} modes")
        if self.roi is not None and ctm != "tf_crop_and_resize":
            raise _checks.fail(
                fn,
                f"roi applies only to coordinate_transformation_mode 'tf_crop_and_resize', "
                f"not {ctm!r}",
            )
        return dataclasses.replace(self, cubic_coeff_a=a)

    # ----------------------------------------------------------------------------- reading
    def resolved(self, name: str) -> Any:
        """An ONNX keyword's value, its ONNX default where it was left None."""
        value = getattr(self, name)
        return _ONNX_DEFAULTS[name] if value is None else value

    def options(self) -> dict[str, Any]:
        """The keyword arguments of ``interpolate`` that give this spec."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def output_size(self, in_size: tuple, fn: str) -> tuple:
        """The output's spatial size for an input of spatial size ``in_size``: ``size``, or
        ``floor(in_size * scale)`` with ONNX's scales rounded to float32 first. Plain
        arithmetic, so sizes may be symbolic (``torch.compile`` with dynamic shapes)."""
        return shapes.interpolate_sizes(in_size, self.size, self.scales(len(in_size), fn), fn)

    def scales(self, n: int, fn: str) -> tuple[float, ...] | None:
        """The scale factor per axis of ``n`` spatial dims (float32 under ONNX, as the
        operator stores it), or None when a size is given."""
        if self.scale_factor is None:
            return None
        scales = shapes.interpolate_scales(self.scale_factor, n, fn)
        return tuple(float(np.float32(s)) for s in scales) if self.onnx else scales

    # ------------------------------------------------------------------- the op's arguments
    def key(self) -> str:
        """Everything but the values of ``size`` and ``scale_factor`` as a JSON string (with
        how each was given), a constant whatever the input: see :meth:`from_key`."""
        return key_of(self.key_parts())

    def key_parts(self) -> tuple:
        """The plain values :meth:`key` encodes (read under ``torch.compile`` as traced values:
        the op's key is made from them by a function that the compiler runs as a constant)."""
        rest = tuple(getattr(self, f.name) for f in dataclasses.fields(self)[2:])
        return (_form(self.size, "int"), _form(self.scale_factor, "number"), *rest)

    def op_arguments(self) -> tuple[str, list, list]:
        """``(key(), size_values(), scale_values())``, computed once per spec (eager calls
        only: under ``torch.compile`` the op builds them from traced values). The lists are
        shared between calls: read them, never change them."""
        cached = self.__dict__.get("_op_arguments")
        if cached is None:
            cached = (self.key(), self.size_values(), self.scale_values())
            object.__setattr__(self, "_op_arguments", cached)  # frozen: not a field
        return cached

    def cause(self) -> str:
        """The argument that sets the output size, with its value, for messages:
        ``"size (4, 5)"`` or ``"scale_factor 2.0"``."""
        if self.size is not None:
            return f"size {self.size!r}"
        return f"scale_factor {self.scale_factor!r}"

    def size_values(self) -> list:
        return [] if self.size is None else list(_entries(self.size))

    def scale_values(self) -> list[float]:
        return [] if self.scale_factor is None else [float(s) for s in _entries(self.scale_factor)]

    @classmethod
    def from_key(cls, key: str, size: Sequence, scale: Sequence) -> ResizeSpec:
        """The spec back from :meth:`key`, :meth:`size_values` and :meth:`scale_values`."""
        size_form, scale_form, *rest = json.loads(key)
        fields = dict(zip(_FIELDS[2:], rest, strict=True))
        fields["roi"] = None if fields["roi"] is None else tuple(fields["roi"])
        return cls(_join(size_form, size), _join(scale_form, scale), **fields)


_ONNX_DEFAULTS = {
    "coordinate_transformation_mode": "half_pixel",
    "nearest_mode": "round_prefer_floor",
    "cubic_coeff_a": -0.75,
}


def key_of(parts: tuple) -> str:
    """:meth:`ResizeSpec.key` of its :meth:`ResizeSpec.key_parts`: the text of
    ``json.dumps(parts)``, written in plain Python so that ``torch.compile`` folds it into a
    constant while it traces (Dynamo cannot trace the json module's C encoder; marking a
    function with ``torch.compiler.assume_constant_result`` instead would import
    ``torch._dynamo``, about 1.6 s, with ``upsampling.nn``)."""
    return _json(parts)


# characters a JSON string holds as they are (every mode, coordinate rule and preset name); a
# str, not a set: what older Dynamo folds surely (as it does str(), join and comparisons)
_JSON_PLAIN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-/. "


def _json(value: Any) -> str:
    """``json.dumps(value)`` for None, bools, ints, floats, strings and tuples of them."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        for c in value:
            if c not in _JSON_PLAIN:  # escapes: never under a trace (names are checked first)
                return json.dumps(value)
        return '"' + value + '"'
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        value = float(value)
        if value != value:
            return "NaN"
        if value == _INF or value == -_INF:
            return "Infinity" if value > 0 else "-Infinity"
        return str(value)  # (float.__repr__, as json writes it)
    if isinstance(value, (tuple, list)):  # (a tuple of types: older Dynamo)
        return "[" + ", ".join([_json(v) for v in value]) + "]"
    return json.dumps(value)  # anything else: json's own answer (or its TypeError)


_INF = float("inf")


def _smoothing(semantics: str) -> str:
    """The filter kinds that take ``antialias`` under ``semantics``, as words."""
    kinds = list(
        dict.fromkeys(MODES[m].kind for m in names(semantics) if MODES[m].antialias != "no")
    )
    return ", ".join(kinds[:-1]) + " and " + kinds[-1] if len(kinds) > 1 else kinds[0]


def _check_antialias(mode: str, antialias: bool, corners: bool, fn: str) -> None:
    need = MODES[mode].antialias
    if antialias and need == "no":
        raise _checks.fail(
            fn, f"antialias True applies to the {_smoothing(TORCH)} modes, not {mode!r}"
        )
    if need == "required" and (corners or not antialias):
        raise _checks.fail(fn, f"mode {mode!r} needs antialias=True and align_corners False")


_FIELDS = tuple(f.name for f in dataclasses.fields(ResizeSpec))
# normalised specs of recent calls, by the call's arguments with their types (small calls
# would otherwise spend a good part of their time checking the same arguments again)
_NORMALISED: dict[tuple, ResizeSpec] = {}
# the types whose values are the whole key (immutable, hashed by value, nothing inside)
_PLAIN = frozenset({type(None), bool, int, float, str})


def _typed(value: Any) -> Any:
    if isinstance(value, tuple):
        return (type(value), tuple(_typed(v) for v in value))
    if _backend.is_tensor(value):  # hashed by identity and mutable: never part of a key
        raise TypeError("a tensor is not a cache key")
    return (type(value), value)


def _compiling() -> bool:
    """Inside a ``torch.compile`` trace (recognised without importing torch)."""
    torch = sys.modules.get("torch")
    return torch is not None and torch.compiler.is_compiling()


def _plain(value: Any) -> Any:
    """NumPy scalars and arrays, tensors, lists and ``torch.Size`` as Python values and tuples
    (a 0-d array or tensor as its value, PyTorch accepts ``size=torch.tensor(7)``)."""
    if _backend.is_tensor(value) and not _compiling():  # traced: the op checks it when it runs
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, list | tuple):  # torch.Size is a tuple
        return tuple(_plain(v) for v in value)
    return value


def _entries(value: Any) -> tuple:
    return value if isinstance(value, tuple) else (value,)


def _form(value: Any, single: str) -> str:
    return "none" if value is None else "tuple" if isinstance(value, tuple) else single


def _join(form: str, values: Sequence) -> Any:
    return None if form == "none" else tuple(values) if form == "tuple" else values[0]
