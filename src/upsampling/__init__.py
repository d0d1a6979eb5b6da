"""upsampling: the up-sampling (decoding) half of convolutional networks.

NumPy arrays and PyTorch tensors in, the same kind out. ``import upsampling`` never imports torch;
``upsampling.nn`` (the PyTorch layers) does, on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from . import shapes
from ._backend import get_num_threads, set_num_threads
from .conv import checkerboard, conv, conv_matrix, conv_transpose
from .conventions import conventions
from .deconvolution import deblur, deconvolve
from .interpolate import interpolate
from .pixel_shuffle import pixel_shuffle, pixel_unshuffle
from .resize import resize
from .unpool import max_pool, max_unpool, unpool

# The one version string: pyproject.toml reads it (tool.setuptools.dynamic), `upsampling
# --version` prints it.
__version__ = "0.1.0"

__all__ = [
    "checkerboard",
    "conv",
    "conv_matrix",
    "conv_transpose",
    "conventions",
    "data",
    "deblur",
    "deconvolve",
    "get_num_threads",
    "interpolate",
    "max_pool",
    "max_unpool",
    "nn",
    "pixel_shuffle",
    "pixel_unshuffle",
    "resize",
    "set_num_threads",
    "shapes",
    "unpool",
]

_LAZY = {"nn", "data"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'upsampling' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The names of ``__all__`` and the module's dunders (not ``Any`` or ``importlib``)."""
    return sorted({*__all__, *(name for name in globals() if name.startswith("__"))})
