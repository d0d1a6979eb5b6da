"""``up.resize``: one image resized as image libraries do (see ``../shared/API.md``)."""

from __future__ import annotations

from typing import Any

__all__ = ["resize"]


def resize(
    image: Any,
    size: Any = None,
    *,
    scale: Any = None,
    method: str = "bilinear",
    convention: str = "pytorch",
    antialias: bool | None = None,
) -> Any:
    """Not written yet."""
    raise NotImplementedError("upsampling.resize")
