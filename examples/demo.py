"""Unpool the bundled sample photograph and write a figure into ./upsampling-demo/.

    python examples/demo.py

Down-samples the sample by max pooling (remembering where each maximum came from), then brings
it back with nearest unpooling, bed of nails, and max unpooling with the remembered indices.
"""

from __future__ import annotations

import pathlib
import time

import numpy as np

import upsampling as up


def psnr(reference: np.ndarray, estimate: np.ndarray) -> float:
    mse = float(np.mean((reference.astype(np.float64) - estimate) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(1.0 / mse)


def main(out_dir: str = "upsampling-demo") -> pathlib.Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    image = up.data.sample()
    pooled, indices = up.max_pool(image, 2, return_indices=True)
    methods = {
        "nearest unpooling": lambda: up.unpool(pooled, 2),
        "bed of nails": lambda: up.unpool(pooled, 2, mode="bed_of_nails"),
        "max unpooling": lambda: up.max_unpool(pooled, indices, 2),
    }
    results = {}
    print(f"{'method':<20} {'PSNR dB':>8} {'ms':>8}")
    for name, run in methods.items():
        run()  # compile once; time the second call
        start = time.perf_counter()
        restored = run()
        elapsed = time.perf_counter() - start
        results[name] = restored
        print(f"{name:<20} {psnr(image, restored):8.2f} {elapsed * 1e3:8.2f}")

    crop = (slice(60, 188), slice(180, 308))  # the face, 128 x 128
    panels = {"original": image, "max pooled (x1/2)": up.unpool(pooled, 2), **results}
    fig, axes = plt.subplots(1, len(panels), figsize=(3 * len(panels), 3.3))
    for ax, (name, img) in zip(axes, panels.items(), strict=True):
        ax.imshow(np.clip(img[0].transpose(1, 2, 0)[crop], 0, 1), interpolation="nearest")
        ax.set_title(name, fontsize=10)
        ax.axis("off")
    fig.tight_layout()
    out = pathlib.Path(out_dir)
    out.mkdir(exist_ok=True)
    path = out / "unpooling.png"
    fig.savefig(path, dpi=100)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
