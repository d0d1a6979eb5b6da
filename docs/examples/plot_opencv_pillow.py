"""
Reproducing OpenCV's and Pillow's resize
========================================

``cv2.resize`` and ``PIL.Image.resize`` do not compute what
``torch.nn.functional.interpolate`` computes: they place pixel centres, pick nearest pixels,
choose cubic coefficients and treat the edges each their own way. :data:`upsampling.conventions`
holds, per library and method, the keyword arguments of :func:`upsampling.interpolate` that
reproduce them. Here each preset runs next to the library itself on the sample photograph.
(:func:`upsampling.resize` wraps the same presets for one ``(H, W, C)`` image.)
"""

import importlib.util

import matplotlib.pyplot as plt
import numpy as np

import upsampling as up

photo = up.data.sample()[0].transpose(1, 2, 0)  # (H, W, 3) float32 in [0, 1]
crop = np.ascontiguousarray(photo[100:228, 180:308])  # 128x128
size = (203, 171)  # (height, width): not a whole multiple
nchw = crop.transpose(2, 0, 1)[None]


def ours(image_nchw, method, library):
    out = up.interpolate(image_nchw, size=size, **up.conventions[library][method])
    return out[0].transpose(1, 2, 0)


# %%
# OpenCV
# ------
# ``cv2.resize(img, (width, height), interpolation=flag)``. Nearest choices are reproduced bit
# for bit; weighted modes agree to float32 rounding (the sums run in another order).

if importlib.util.find_spec("cv2"):
    import cv2

    flags = {
        "nearest": cv2.INTER_NEAREST,
        "nearest-exact": cv2.INTER_NEAREST_EXACT,
        "linear": cv2.INTER_LINEAR,
        "cubic": cv2.INTER_CUBIC,
    }
    for method, flag in flags.items():
        theirs = cv2.resize(crop, size[::-1], interpolation=flag)
        diff = np.abs(ours(nchw, method, "opencv") - theirs).max()
        print(f"opencv {method:14s} max |ours - cv2.resize| = {diff:.1e}")
else:
    print("OpenCV is not installed: pip install opencv-python-headless")

# %%
# Pillow
# ------
# Pillow resizes each channel as a mode ``"F"`` (float32) image. Its bilinear and bicubic
# filters widen when down-sampling (antialiasing) and are cut and renormalised at the edges;
# the presets say so (``antialias=True, exclude_outside=True``).

if importlib.util.find_spec("PIL"):
    from PIL import Image

    filters = {
        "nearest": Image.Resampling.NEAREST,
        "linear": Image.Resampling.BILINEAR,
        "cubic": Image.Resampling.BICUBIC,
    }

    def pillow(image, flag, out_size):
        channels = [
            np.asarray(Image.fromarray(image[..., c], mode="F").resize(out_size[::-1], flag))
            for c in range(image.shape[2])
        ]
        return np.stack(channels, axis=2)

    for method, flag in filters.items():
        theirs = pillow(crop, flag, size)
        diff = np.abs(ours(nchw, method, "pillow") - theirs).max()
        print(f"pillow {method:8s} max |ours - Image.resize| = {diff:.1e}")
else:
    print("Pillow is not installed: pip install pillow")

# %%
# 8-bit images
# ------------
# On uint8 input :func:`upsampling.interpolate` returns uint8, rounded and saturated. How
# close that is to each library's own integer arithmetic (bit for bit, or how many grey
# levels apart) is measured, preset by preset, in the table of :doc:`/api/conventions`; here
# the OpenCV bilinear case:

if importlib.util.find_spec("cv2"):
    crop8 = np.round(crop * 255).astype(np.uint8)
    theirs = cv2.resize(crop8, size[::-1], interpolation=cv2.INTER_LINEAR)
    mine = ours(crop8.transpose(2, 0, 1)[None], "linear", "opencv")
    apart = np.abs(mine.astype(int) - theirs.astype(int))
    print(f"uint8 bilinear: {np.mean(apart == 0):.1%} of values equal, largest gap {apart.max()}")

# %%
# Where the conventions differ
# ----------------------------
# The same down-sampling by 4 with PyTorch's bicubic and with Pillow's: Pillow's antialiased
# filter averages over the whole footprint, PyTorch's samples four taps (aliasing).

small = (32, 32)
torch_like = up.interpolate(nchw, size=small, mode="bicubic", align_corners=False)
pillow_like = up.interpolate(
    nchw, size=small, mode="bicubic", **up.conventions["pillow"]["bicubic"]
)
fig, axes = plt.subplots(1, 3, figsize=(9, 3.3), layout="constrained")
for ax, image, title in [
    (axes[0], nchw, "original 128x128"),
    (axes[1], torch_like, "pytorch bicubic, 32x32"),
    (axes[2], pillow_like, "pillow bicubic, 32x32"),
]:
    ax.imshow(np.clip(image[0].transpose(1, 2, 0), 0, 1), interpolation="nearest")
    ax.set_title(title, fontsize=10)
    ax.axis("off")
plt.show()
