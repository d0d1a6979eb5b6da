"""The bundled sample photograph.

``astronaut.npz`` holds NASA's portrait of astronaut Eileen Collins (public domain), as shipped by
scikit-image (``skimage.data.astronaut``): one uint8 array ``image`` of shape ``(3, 512, 512)``
(channels R, G, B first), so NumPy alone loads it, with nothing to decode or compile. It was made
once, in this folder, from scikit-image's ``astronaut.png`` decoded by Pillow::

    python -c "import numpy as np; from PIL import Image; \\
    a = np.asarray(Image.open('astronaut.png').convert('RGB')).transpose(2, 0, 1); \\
    np.savez_compressed('astronaut.npz', image=a)"

``tests/test_data.py`` checks it against scikit-image's array where scikit-image is installed.
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["sample"]

_FILE = "astronaut.npz"


def sample() -> npt.NDArray[np.float32]:
    """The bundled photograph as a float32 array ``(1, 3, 512, 512)`` in [0, 1].

    Returns
    -------
    numpy.ndarray
        A new float32 array each call: the 8-bit values divided by 255 (in float32), channels
        R, G, B.

    Examples
    --------
    >>> import upsampling as up
    >>> img = up.data.sample()
    >>> img.shape, img.dtype, float(img.min()) >= 0.0, float(img.max()) <= 1.0
    ((1, 3, 512, 512), dtype('float32'), True, True)
    """
    with resources.as_file(resources.files(__name__) / _FILE) as path, np.load(path) as f:
        pixels = f["image"]
    return (pixels[None] / np.float32(255)).astype(np.float32)
