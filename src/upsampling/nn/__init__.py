"""PyTorch layers for up-sampling (imports torch; ``import upsampling`` alone does not).

Importing this package registers every ``upsampling::`` custom op, so that the functional
operators find their ops by attribute lookup (which ``torch.compile`` can trace).
"""

from __future__ import annotations

import torch  # noqa: F401  (this package is the torch layer)

from . import _conv_ops, _export_ops, _interpolate_ops, _unpool_ops  # noqa: F401  (the ops)
from .carafe import CARAFE, carafe_reassemble
from .conv_transpose import ConvTranspose, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .dysample import DySample
from .inverse import inverse_of
from .layers import PixelShuffle, ResizeConv, SubPixelConv
from .modules import MaxPool, MaxUnpool, Unpool
from .upsample import Upsample

__all__ = [
    "CARAFE",
    "ConvTranspose",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "ConvTranspose3d",
    "DySample",
    "MaxPool",
    "MaxUnpool",
    "PixelShuffle",
    "ResizeConv",
    "SubPixelConv",
    "Unpool",
    "Upsample",
    "carafe_reassemble",
    "inverse_of",
]


def __dir__() -> list[str]:
    """The layers and functions of ``__all__`` (not ``torch`` or the submodules' names)."""
    return sorted({*__all__, *(name for name in globals() if name.startswith("__"))})
