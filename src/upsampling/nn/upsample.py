"""``Upsample``: :func:`upsampling.interpolate` as a layer.

The operator exports to ONNX itself (see :mod:`upsampling.nn._export_ops`): ``Resize`` for
PyTorch's options, the weight tables of the eager operator for the ONNX-only ones.
"""

from __future__ import annotations

import inspect
from typing import Any

from torch import Tensor

from .._typing import Device, DType
from ..interpolate import interpolate as _interpolate
from ..interpolate import resize_by
from ..modes import names
from ..spec import ResizeSpec
from . import _layer_utils as U

__all__ = ["MODES", "Upsample"]

MODES = names()  # every mode of interpolate (the table: upsampling.modes)


class Upsample(U.Parameterless):
    """Interpolation as a layer; the arguments are those of :func:`upsampling.interpolate` after
    ``x`` (PyTorch's, then the keyword-only ONNX ``Resize`` attributes), normalised and checked
    here into one :class:`upsampling.spec.ResizeSpec` (the layer's :attr:`spec`), so that it
    accepts exactly what the function accepts and a bad value fails at construction. The
    arguments read back as attributes (``layer.mode``). ``device`` and ``dtype`` (keyword-only)
    are accepted like every module's and checked; the layer holds no tensors.

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
        self, *args: Any, device: Device = None, dtype: DType = None, **kwargs: Any
    ) -> None:
        super().__init__()
        U.check_factory("Upsample", device, dtype)
        self.spec = ResizeSpec.of("Upsample", *args, **kwargs)

    def options(self) -> dict[str, Any]:
        """The keyword arguments this layer passes to :func:`upsampling.interpolate`."""
        return self.spec.options()

    def forward(self, x: Tensor) -> Tensor:
        return resize_by(x, self.spec)

    def extra_repr(self) -> str:
        default = ResizeSpec()
        shown = [
            f"{k}={v!r}"
            for k, v in self.options().items()
            if k == "mode" or v != getattr(default, k)
        ]
        return ", ".join(shown)


def _field(name: str) -> property:
    return property(lambda self: getattr(self.spec, name), doc=f"The spec's ``{name}``.")


for _name in ResizeSpec.__dataclass_fields__:
    setattr(Upsample, _name, _field(_name))
# the signature help and documentation show: interpolate's arguments after x, device, dtype
_SIGNATURE = inspect.signature(_interpolate)
Upsample.__init__.__signature__ = _SIGNATURE.replace(
    parameters=[
        inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        *list(_SIGNATURE.parameters.values())[1:],
        inspect.Parameter(
            "device", inspect.Parameter.KEYWORD_ONLY, default=None, annotation="Device"
        ),
        inspect.Parameter(
            "dtype", inspect.Parameter.KEYWORD_ONLY, default=None, annotation="DType"
        ),
    ],
    return_annotation=None,
)
