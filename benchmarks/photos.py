"""Photographs: ``up.resize`` on 8- and 16-bit (H, W, C) images against OpenCV, Pillow and
PyTorch, in one process, with the exactness of each preset.

scikit-image's astronaut, coffee and chelsea, and a 4096x4096 tile made of them; uint8 (RGB)
and uint16 (the same times 257: RGB for OpenCV, the grey channel for Pillow, whose 16-bit
mode ``I;16`` has one band). For every photo, dtype, scale and method: our time with the
OpenCV preset over ``cv2.resize``'s, with the Pillow preset over ``Image.resize``'s, and
PyTorch's ``F.interpolate`` on a uint8 channels_last tensor (antialiased when shrinking, as
Pillow) over ``up.interpolate`` with the same arguments (the PyTorch convention); and how far
each is from its library (largest difference, share of differing values). Times are medians
of interleaved rounds; ratios are medians of per-round ratios (``> 1``: ours faster).

    python benchmarks/photos.py [--quick] [--threads N] [--tile SIDE] [--scales 0.5,2]
                                [--dtypes uint8] [--methods bicubic]

``--quick``: astronaut and a 2048 tile, scales 0.5, 1.5, 2 (none above 1.5 on the tile), no
16-bit bicubic, 3 rounds. The other flags narrow or resize a full run (7 rounds).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import upsampling as up

from common import markdown_table, rounds, set_threads, speedup

CV_FLAGS = {"bilinear": "INTER_LINEAR", "bicubic": "INTER_CUBIC"}
PIL_FLAGS = {"bilinear": "BILINEAR", "bicubic": "BICUBIC"}


def photos(quick: bool, side: int) -> dict[str, np.ndarray]:
    from skimage import data

    shots = {"astronaut": data.astronaut(), "coffee": data.coffee(), "chelsea": data.chelsea()}
    tile = np.zeros((side, side, 3), np.uint8)
    pics = list(shots.values())
    for i, y in enumerate(range(0, side, 400)):
        for j, x in enumerate(range(0, side, 600)):
            p = pics[(i + j) % 3]
            h, w = min(p.shape[0], side - y), min(p.shape[1], side - x)
            tile[y : y + h, x : x + w] = p[:h, :w]
    if quick:
        return {"astronaut": shots["astronaut"], f"tile{side}": tile}
    return {**shots, f"tile{side}": tile}


def exactness(ours: np.ndarray, ref: np.ndarray) -> str:
    diff = np.abs(ours.astype(np.int64) - ref.reshape(ours.shape).astype(np.int64))
    return f"{int(diff.max())} / {100 * np.mean(diff > 0):.2f}%"


def run_case(img, scale, method, repeat):
    import cv2
    import torch
    from PIL import Image

    h, w = img.shape[:2]
    size = (max(1, int(h * scale)), max(1, int(w * scale)))
    flag = getattr(cv2, CV_FLAGS[method])
    grey = np.ascontiguousarray(img[..., 0]) if img.dtype == np.uint16 else img
    pil = Image.fromarray(grey)
    pil_flag = getattr(Image.Resampling, PIL_FLAGS[method])
    fns = {
        "ours_cv": lambda: up.resize(img, size, method=method, convention="opencv"),
        "cv": lambda: cv2.resize(img, size[::-1], interpolation=flag),
        "ours_pil": lambda: up.resize(grey, size, method=method, convention="pillow"),
        "pil": lambda: pil.resize(size[::-1], pil_flag),
    }
    if img.dtype == np.uint8:  # a uint8 tensor, both sides with PyTorch's own arguments
        t = torch.from_numpy(img).permute(2, 0, 1)[None]  # channels_last, no copy
        kw = dict(size=size, mode=method, antialias=scale < 1)
        fns["torch"] = lambda: torch.nn.functional.interpolate(t, **kw)
        fns["ours_torch"] = lambda: up.interpolate(t, **kw)
    times = rounds(fns, repeat=repeat, warmup=1)
    row = {
        "ms ours (cv)": 1e3 * np.median(times["ours_cv"]),
        "x OpenCV": speedup(times, "cv", "ours_cv"),
        "exact OpenCV": exactness(fns["ours_cv"](), fns["cv"]()),
        "x Pillow": speedup(times, "pil", "ours_pil"),
        "exact Pillow": exactness(fns["ours_pil"](), np.asarray(fns["pil"]())),
        "x PyTorch": speedup(times, "torch", "ours_torch") if "torch" in fns else "-",
        "exact PyTorch": (
            exactness(fns["ours_torch"]().numpy(), fns["torch"]().numpy())
            if "torch" in fns
            else "-"
        ),
    }
    return size, row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two photos, three scales")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tile", type=int, help="the tile's side (default 4096, quick 2048)")
    parser.add_argument("--scales", help="comma-separated scales (default 0.5,0.75,1.5,2,4)")
    parser.add_argument("--dtypes", default="uint8,uint16", help="comma-separated")
    parser.add_argument("--methods", default=",".join(CV_FLAGS), help="comma-separated")
    args = parser.parse_args(argv)
    set_threads(args.threads)
    scales = (0.5, 1.5, 2.0) if args.quick else (0.5, 0.75, 1.5, 2.0, 4.0)
    if args.scales:
        scales = tuple(float(v) for v in args.scales.split(","))
    side = args.tile or (2048 if args.quick else 4096)
    dtypes = [np.dtype(v).type for v in args.dtypes.split(",")]
    methods = [m for m in CV_FLAGS if m in args.methods.split(",")]
    repeat = 3 if args.quick else 7
    rows = []
    for name, img in photos(args.quick, side).items():
        for dtype in dtypes:
            pic = img if dtype == np.uint8 else img.astype(np.uint16) * 257
            for scale in scales:
                if args.quick and pic.shape[0] >= 2048 and scale > 1.5:
                    continue
                for method in methods:
                    if args.quick and dtype == np.uint16 and method == "bicubic":
                        continue
                    _, r = run_case(pic, scale, method, repeat)
                    rows.append(
                        [
                            f"{name} {pic.shape[0]}x{pic.shape[1]}",
                            np.dtype(dtype).name,
                            scale,
                            method,
                            *r.values(),
                        ]
                    )
                    print(" | ".join(str(v) for v in rows[-1]), file=sys.stderr, flush=True)
    header = [
        "photo",
        "dtype",
        "scale",
        "method",
        "ms ours (cv)",
        "x OpenCV",
        "exact OpenCV",
        "x Pillow",
        "exact Pillow",
        "x PyTorch",
        "exact PyTorch",
    ]
    print(f"threads {args.threads}; x > 1: ours faster; exact: max |diff| / share differing")
    print(markdown_table(header, rows))


if __name__ == "__main__":
    main()
