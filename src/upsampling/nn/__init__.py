"""PyTorch layers for up-sampling (imports torch; ``import upsampling`` alone does not)."""

from __future__ import annotations

import torch  # noqa: F401  (this package is the torch layer)

from . import _unpool_ops  # noqa: F401  (registers the upsampling:: custom ops)
from .modules import MaxPool, MaxUnpool, Unpool

__all__ = ["MaxPool", "MaxUnpool", "Unpool"]
