"""
A U-Net decoder with ``upsampling.nn`` layers
=============================================

A small U-Net segments generated shapes (bright discs and dark squares on a noisy
background). Its encoder
halves the resolution twice with :class:`upsampling.nn.MaxPool`; its decoder brings it back
with a learnable :class:`upsampling.nn.ConvTranspose` (started as bilinear interpolation) and a
:class:`upsampling.nn.SubPixelConv` (started as nearest up-sampling by ICNR), each followed by
the skip connection from the encoder. A few dozen training steps are enough to see the loss
fall and the masks take shape.
"""

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

import upsampling.nn as unn

torch.manual_seed(0)
rng = np.random.default_rng(0)


def shapes(n, size=32):
    """``n`` images with a bright disc (class 1) and a dark square (class 2), and their masks."""
    yy, xx = np.mgrid[:size, :size]
    images = rng.normal(0, 0.3, (n, 1, size, size)).astype(np.float32)
    masks = np.zeros((n, size, size), dtype=np.int64)
    for i in range(n):
        for label, sign in ((1, 1.0), (2, -1.0)):
            cy, cx = rng.integers(6, size - 6, 2)
            r = rng.integers(3, 7)
            if label == 1:
                inside = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
            else:
                inside = (abs(yy - cy) <= r) & (abs(xx - cx) <= r)
            masks[i][inside] = label
            images[i, 0][inside] = sign + rng.normal(0, 0.3, int(inside.sum()))
    return torch.from_numpy(images), torch.from_numpy(masks)


def block(c_in, c_out):
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(), nn.Conv2d(c_out, c_out, 3, padding=1)
    )


class UNet(nn.Module):
    def __init__(self, classes=3, width=8):
        super().__init__()
        self.enc1, self.enc2 = block(1, width), block(width, 2 * width)
        self.pool = unn.MaxPool(2)
        self.middle = block(2 * width, 4 * width)
        # bilinear start: each channel up-sampled into itself, so as many out as in
        self.up2 = unn.ConvTranspose(4 * width, 4 * width, 4, stride=2, padding=1, init="bilinear")
        self.dec2 = block(6 * width, 2 * width)
        self.up1 = unn.SubPixelConv(2 * width, width, 2)
        self.dec1 = block(2 * width, width)
        self.head = nn.Conv2d(width, classes, 1)

    def forward(self, x):
        s1 = self.enc1(x)
        s2 = self.enc2(self.pool(s1)[0])  # MaxPool returns (values, indices)
        m = self.middle(self.pool(s2)[0])
        d2 = self.dec2(torch.cat([self.up2(m), s2], 1))
        d1 = self.dec1(torch.cat([self.up1(d2), s1], 1))
        return self.head(d1)


model = UNet()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
losses = []
for _ in range(40):
    images, masks = shapes(12)
    loss = nn.functional.cross_entropy(model(images), masks)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
print(f"loss: {losses[0]:.3f} at the start, {losses[-1]:.3f} after {len(losses)} steps")

# %%
# Predictions on new shapes: the image, the true mask, and the network's mask.

images, masks = shapes(4)
with torch.no_grad():
    predicted = model(images).argmax(1)
for label, name in ((1, "discs"), (2, "squares")):
    both = ((predicted == label) & (masks == label)).sum().item()
    either = ((predicted == label) | (masks == label)).sum().item()
    print(f"intersection over union, {name}: {both / either:.2f}")

fig, axes = plt.subplots(3, 4, figsize=(8, 6), layout="constrained")
for i in range(4):
    for row, (picture, title) in enumerate(
        [(images[i, 0], "image"), (masks[i], "mask"), (predicted[i], "predicted")]
    ):
        scale = {"cmap": "viridis", "vmin": 0, "vmax": 2} if row else {"cmap": "gray"}
        axes[row, i].imshow(picture, **scale)
        axes[row, i].set_title(title, fontsize=9)
        axes[row, i].axis("off")
plt.show()

# %%
# The loss during training.

fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
ax.plot(losses)
ax.set_xlabel("step")
ax.set_ylabel("cross-entropy")
plt.show()
