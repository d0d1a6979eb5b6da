"""Train the two learnable layers of ``upsampling demo`` and write their (tiny) weights.

    python examples/train_demo_weights.py

Both layers up-sample by 2 and share one kernel across the colour channels (so they work on
grayscale and RGB alike):

* a transposed convolution, 4x4 kernel, stride 2, padding 1, with a bias (17 parameters),
  started from the bilinear kernel;
* a sub-pixel convolution: a 5x5 convolution to 4 phases and a pixel shuffle (104 parameters),
  started as nearest-neighbour up-sampling (ICNR).

They are trained with L-BFGS on the mean squared error over photographs bundled with
scikit-image, down-sampled exactly as the demo does (``upsampling.cli.methods.degrade``). The
astronaut, which the demo evaluates on, is left out. The result goes to
``src/upsampling/cli/weights/demo_x2.npz`` (float32, well under a few KB).
"""

from __future__ import annotations

import pathlib

import numpy as np
import torch
import torch.nn.functional as F

from upsampling.cli.methods import bilinear_kernel, degrade

TRAINING_IMAGES = ["camera", "coffee", "chelsea", "rocket", "coins", "moon", "brick", "gravel"]
OUT = pathlib.Path(__file__).resolve().parents[1] / "src/upsampling/cli/weights/demo_x2.npz"


def planes() -> tuple[torch.Tensor, torch.Tensor]:
    """Every channel of every training image as a ``(1, 1, H, W)`` plane pair (low, original)."""
    import skimage.data

    lows, highs = [], []
    for name in TRAINING_IMAGES:
        img = np.asarray(getattr(skimage.data, name)(), dtype=np.float32) / 255
        img = img[..., None] if img.ndim == 2 else img[..., :3]
        img = img.transpose(2, 0, 1)[:, None]  # channels become separate planes
        for plane in img:
            p = degrade(plane[None], 2)
            lows.append(torch.from_numpy(p.low))
            highs.append(torch.from_numpy(p.original))
    return lows, highs


def fit(params: list[torch.Tensor], forward, lows, highs, steps: int = 60) -> float:
    opt = torch.optim.LBFGS(
        params, lr=1, max_iter=20, history_size=20, line_search_fn="strong_wolfe"
    )
    pixels = sum(h.numel() for h in highs)

    def closure():
        opt.zero_grad()
        loss = sum(
            F.mse_loss(forward(lo), hi, reduction="sum") for lo, hi in zip(lows, highs, strict=True)
        )
        loss = loss / pixels
        loss.backward()
        return loss

    for _ in range(steps // 20):
        loss = opt.step(closure)
    return float(loss.detach())


def main() -> None:
    torch.manual_seed(0)
    lows, highs = planes()
    lows = [lo.double() for lo in lows]
    highs = [hi.double() for hi in highs]

    tw = torch.tensor(bilinear_kernel(2), dtype=torch.float64)[None, None].requires_grad_()
    tb = torch.zeros(1, dtype=torch.float64, requires_grad=True)

    def transposed(x):
        return F.conv_transpose2d(x, tw, tb, stride=2, padding=1)

    with torch.no_grad():
        before = sum(
            F.mse_loss(transposed(lo), hi, reduction="sum")
            for lo, hi in zip(lows, highs, strict=True)
        )
    loss_t = fit([tw, tb], transposed, lows, highs)

    sw = torch.zeros(4, 1, 5, 5, dtype=torch.float64)
    sw[:, 0, 2, 2] = 1.0  # ICNR: every phase copies the centre pixel (nearest neighbour)
    sw.requires_grad_()
    sb = torch.zeros(4, dtype=torch.float64, requires_grad=True)

    def subpixel(x):
        return F.pixel_shuffle(F.conv2d(x, sw, sb, padding=2), 2)

    loss_s = fit([sw, sb], subpixel, lows, highs)
    pixels = sum(h.numel() for h in highs)
    print(f"training pixels: {pixels:,} in {len(highs)} planes")
    print(f"transposed conv: MSE {float(before) / pixels:.3e} (bilinear) -> {loss_t:.3e}")
    print(f"sub-pixel conv:  MSE {loss_s:.3e}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        OUT,
        **{
            "transposed.weight": tw.detach().numpy()[0, 0].astype(np.float32),
            "transposed.bias": tb.detach().numpy().astype(np.float32),
            "subpixel.weight": sw.detach().numpy().astype(np.float32),
            "subpixel.bias": sb.detach().numpy().astype(np.float32),
        },
    )
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
