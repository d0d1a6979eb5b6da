"""The one table of interpolation modes: every list and check of mode names derives from it.

A row says what a mode name of :func:`upsampling.interpolate` is: the filter family it samples
with (``kind``, a key of :data:`upsampling.filters.FILTERS`), the number of spatial dimensions
it needs (``rank``, ``None`` for any), under which semantics it is accepted (PyTorch's, ONNX
``Resize``'s, or both), whether PyTorch's ``align_corners`` applies, how it takes ``antialias``,
the name of its method in :data:`upsampling.conventions` and whether an ONNX export can write it
as one ``Resize`` node (through ``torch.nn.functional.interpolate``).

Adding a filter (say Mitchell) takes a :class:`upsampling.filters.Filter` subclass in
``filters.py`` and a row here; the plan, the checks, ``nn.Upsample``, ``nn.ResizeConv``, Dask and
export read the rest from the table.

>>> from upsampling.modes import MODES, names
>>> MODES["bilinear"].kind, MODES["bilinear"].rank, MODES["bilinear"].method
('linear', 2, 'linear')
>>> names("onnx")
('nearest', 'linear', 'bilinear', 'trilinear', 'bicubic', 'cubic')
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from . import _checks

__all__ = ["MODES", "Mode", "names", "resize_mode"]

TORCH, ONNX = "torch", "onnx"
# F.interpolate's name of a linear mode by rank (its "bicubic" is 2-D only)
_TORCH_LINEAR = {1: "linear", 2: "bilinear", 3: "trilinear"}


@dataclass(frozen=True)
class Mode:
    """One mode name of ``interpolate``.

    ``antialias`` is ``"no"`` (refused), ``"optional"`` or ``"required"``; ``method`` is the key
    of the mode's presets in :data:`upsampling.conventions` (``"linear"`` for ``"bilinear"``);
    ``resize`` whether ``F.interpolate`` (hence ONNX ``Resize``) computes it with PyTorch's
    options, without antialiasing.
    """

    name: str
    kind: str
    rank: int | None = None
    semantics: tuple[str, ...] = (TORCH, ONNX)
    align_corners: bool = False
    antialias: str = "optional"
    resize: bool = True

    @property
    def method(self) -> str:
        return self.kind if self.name not in ("nearest-exact", "area") else self.name

    @property
    def nearest(self) -> bool:
        """It picks one pixel (no weights): values are only moved."""
        return self.kind == "nearest"

    def check_rank(self, n: int, fn: str) -> None:
        """Refuse an input of ``n`` spatial dims if the mode needs another rank."""
        if self.rank is not None and self.rank != n:
            raise _checks.fail(
                fn,
                f"mode {self.name!r} needs {self.rank} spatial dimensions (a {self.rank + 2}-D "
                f"input), got {n} (input of {n + 2} dims); use 'linear' or 'cubic' for any rank",
            )


_ROWS = (
    Mode("nearest", "nearest", antialias="no"),
    Mode("nearest-exact", "nearest", semantics=(TORCH,), antialias="no"),
    Mode("linear", "linear", align_corners=True),
    Mode("bilinear", "linear", 2, align_corners=True),
    Mode("trilinear", "linear", 3, align_corners=True),
    Mode("bicubic", "cubic", 2, align_corners=True),
    Mode("cubic", "cubic", align_corners=True),
    Mode("area", "area", semantics=(TORCH,), antialias="no", resize=False),
    Mode("lanczos", "lanczos", 2, (TORCH,), align_corners=True, antialias="required", resize=False),
)

MODES = MappingProxyType({m.name: m for m in _ROWS})


def names(semantics: str | None = None, **where) -> tuple[str, ...]:
    """The mode names accepted under ``semantics`` (``"torch"``, ``"onnx"``, or either when
    None) whose rows have the given field values (``names(kind="nearest")``)."""
    return tuple(
        m.name
        for m in _ROWS
        if (semantics is None or semantics in m.semantics)
        and all(getattr(m, k) == v for k, v in where.items())
    )


def resize_mode(mode: str, rank: int) -> str | None:
    """The mode name of ``torch.nn.functional.interpolate`` that computes ``mode`` on ``rank``
    spatial dims with PyTorch's options (what exports as one ONNX ``Resize``), or None."""
    m = MODES[mode]
    if not m.resize:
        return None
    if m.kind == "linear":
        return _TORCH_LINEAR[rank]
    if m.kind == "cubic":
        return "bicubic" if rank == 2 else None
    return m.name
