"""Train small networks that differ only in their up-sampler, on the CPU, and compare them.

    python benchmarks/train_upsamplers.py            # a few minutes on two cores
    python benchmarks/train_upsamplers.py --quick    # smoke run, seconds
    python benchmarks/train_upsamplers.py --full     # the published numbers (about an hour)
    options: --tasks sr seg  --scales 2 4  --seeds 3  --iterations N  --methods ...  --jobs J
             --out DIR (results.md, results.json, figure.png)  --load results.json ... (no training)

Task A, super-resolution by 2 and 4: random 48x48 crops (flipped and rotated) of scikit-image's
bundled photographs in grey, down-sampled by antialiased bicubic; "astronaut" and "chelsea" are
held out for testing (whole images). The network is ESPCN-sized: 5x5 conv to 32 channels, tanh,
3x3 conv to 16, tanh, the up-sampler (16 -> 16 channels, by the scale), 3x3 conv to 1. Reported:
test PSNR and SSIM (border of ``scale`` pixels shaved), the up-sampler's parameters, its forward
and forward+backward time on a (16, 16, 48/s, 48/s) batch, and the checkerboard energy: the
residual's (output - truth) spectral power at the period-``scale`` frequencies against the power
around them, in dB (0 dB: no periodic pattern), at initialisation and after training.

Task B, segmentation of generated shapes: 64x64 images with one to three discs, squares and
triangles of random colours on a random background (4 classes with the background). A tiny
encoder (three stages of a 3x3 conv and a stride-2 3x3 conv, each with batch norm and ReLU, to
1/8), a decoder of three stages (up-sampler by 2, 3x3 conv, batch norm, ReLU), a 1x1 head.
Reported: mIoU over the test set and boundary IoU (Cheng et al., 2021: IoU of the bands within
2 pixels of each mask's contour, foreground classes).

Fairness: every method sees the same data in the same order and the same schedule (Adam at
3e-3 with cosine decay, task B after a 100-iteration linear warm-up, batches of 16, the same
iterations); the shared layers are seeded apart
from the up-sampler, so an up-sampler's parameter count never moves the others' initialisation;
each configuration runs with several seeds (mean and standard deviation, and the paired
difference to a reference method, which cancels the seed's share of the spread). The control
"bilinear (params-matched)" widens the shared trunk of the bilinear network (task A: the first
conv; task B: the last encoder stage) until it has as many parameters as the SubPixelConv
network: a gain that survives it comes from the up-sampler, not from its parameters. Runs are
deterministic (one thread each, deterministic algorithms).
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import pathlib
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from common import machine, markdown_table, median_time

METHODS = [
    "nearest",
    "bilinear",
    "bicubic",
    "convT",
    "convT-bilinear",
    "subpixel",
    "subpixel-icnr",
    "resize-conv",
    "carafe",
    "dysample",
    "bilinear-matched",
]
LABELS = {
    "nearest": "nearest",
    "bilinear": "bilinear",
    "bicubic": "bicubic",
    "convT": "ConvTranspose (default init)",
    "convT-bilinear": "ConvTranspose (bilinear init)",
    "subpixel": "SubPixelConv (no ICNR)",
    "subpixel-icnr": "SubPixelConv (ICNR)",
    "resize-conv": "ResizeConv (nearest)",
    "carafe": "CARAFE",
    "dysample": "DySample",
    "bilinear-matched": "bilinear (params-matched)",
}
SHORT = {
    "nearest": "nearest",
    "bilinear": "bilinear",
    "bicubic": "bicubic",
    "convT": "ConvT",
    "convT-bilinear": "ConvT bilinear init",
    "subpixel": "SubPixel",
    "subpixel-icnr": "SubPixel ICNR",
    "resize-conv": "ResizeConv",
    "carafe": "CARAFE",
    "dysample": "DySample",
    "bilinear-matched": "bilinear matched",
}
PRESETS = {  # iterations of task A and task B, seeds
    "quick": {"iterations": (8, 8), "seeds": 1},
    "default": {"iterations": (200, 100), "seeds": 3},
    "full": {"iterations": (1500, 1000), "seeds": 3},
}
TRAIN_IMAGES = [
    "camera",
    "coffee",
    "coins",
    "moon",
    "rocket",
    "brick",
    "gravel",
    "grass",
    "clock",
    "page",
    "text",
    "immunohistochemistry",
]
TEST_IMAGES = ["astronaut", "chelsea"]
PATCH, FEATURES, CROPS = 48, 16, 4096
SEG_SIZE, SEG_TRAIN, SEG_TEST, CLASSES = 64, 2048, 256, 4
WARMUP = 100  # task B's linear warm-up, iterations
FACE = (slice(60, 156), slice(170, 266))  # a 96x96 crop of the astronaut for the figure


# ---------------------------------------------------------------------------------- up-samplers
def upsampler(name: str, c: int, s: int) -> nn.Module:
    from upsampling import nn as unn

    if name in ("nearest", "bilinear", "bicubic", "bilinear-matched"):
        mode = "bilinear" if name == "bilinear-matched" else name
        return unn.Upsample(scale_factor=s, mode=mode)
    if name.startswith("convT"):
        init = "bilinear" if name == "convT-bilinear" else "default"
        return unn.ConvTranspose2d(c, c, 2 * s, s, s // 2, init=init)
    if name.startswith("subpixel"):
        return unn.SubPixelConv(c, c, s, icnr=name == "subpixel-icnr")
    if name == "resize-conv":
        return unn.ResizeConv(c, c, s, mode="nearest")
    if name == "carafe":
        return unn.CARAFE(c, s, k_up=5, k_enc=3, c_mid=16)
    if name == "dysample":
        return unn.DySample(c, s, groups=4)
    raise ValueError(name)


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


class SRNet(nn.Module):
    def __init__(self, method: str, scale: int, seed: int, width: int = 32) -> None:
        super().__init__()
        torch.manual_seed(seed)  # the shared layers: the same draws whatever the up-sampler
        self.body = nn.Sequential(
            nn.Conv2d(1, width, 5, padding=2),
            nn.Tanh(),
            nn.Conv2d(width, FEATURES, 3, padding=1),
            nn.Tanh(),
        )
        self.tail = nn.Conv2d(FEATURES, 1, 3, padding=1)
        torch.manual_seed(seed + 1)
        self.up = upsampler(method, FEATURES, scale)

    def forward(self, x):
        return self.tail(self.up(self.body(x - 0.5))) + 0.5


def block(a: int, b: int, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(a, b, 3, stride, 1), nn.BatchNorm2d(b), nn.ReLU()]


class SegNet(nn.Module):
    def __init__(self, method: str, seed: int, width: int = 32) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.encoder = nn.Sequential(
            *block(3, 16), *block(16, 16, 2),
            *block(16, 32), *block(32, 32, 2),
            *block(32, width), *block(width, 32, 2),
        )  # fmt: skip
        self.convs = nn.ModuleList(
            nn.Sequential(*block(a, b)) for a, b in [(32, 32), (32, 16), (16, 16)]
        )
        self.head = nn.Conv2d(16, CLASSES, 1)
        torch.manual_seed(seed + 1)
        self.ups = nn.ModuleList(upsampler(method, c, 2) for c in (32, 32, 16))

    def forward(self, x):
        h = self.encoder(x - 0.5)
        for up, conv in zip(self.ups, self.convs, strict=True):
            h = conv(up(h))
        return self.head(h)


def matched_width(build, target: int) -> int:
    """The trunk width whose network has ``target`` parameters (the count is linear in it)."""
    a, b = count(build(8)), count(build(9))
    return max(1, round(8 + (target - a) / (b - a)))


def build(task: str, method: str, scale: int, seed: int) -> nn.Module:
    if task == "sr":
        if method != "bilinear-matched":
            return SRNet(method, scale, seed)
        target = count(SRNet("subpixel-icnr", scale, seed))
        width = matched_width(lambda w: SRNet(method, scale, seed, w), target)
        return SRNet(method, scale, seed, width)
    if method != "bilinear-matched":
        return SegNet(method, seed)
    target = count(SegNet("subpixel-icnr", seed))
    return SegNet(method, seed, matched_width(lambda w: SegNet(method, seed, w), target))


# ----------------------------------------------------------------------------------------- data
def grey(name: str) -> np.ndarray:
    import skimage.color
    import skimage.data

    img = np.asarray(getattr(skimage.data, name)(), dtype=np.float64)
    img = img / 255 if img.max() > 1 else img
    if img.ndim == 3:
        img = skimage.color.rgb2gray(img[..., :3])
    return img.astype(np.float32)


def degrade(hr: torch.Tensor, s: int) -> torch.Tensor:
    low = F.interpolate(hr, scale_factor=1 / s, mode="bicubic", antialias=True)
    return low.clamp(0, 1)


_CACHE: dict = {}


def sr_data(scale: int):
    if ("sr", scale) not in _CACHE:
        rng = np.random.default_rng(0)  # the data: one draw for every method and seed
        images = [grey(n) for n in TRAIN_IMAGES]
        crops = np.empty((CROPS, 1, PATCH, PATCH), np.float32)
        for i in range(CROPS):
            img = images[rng.integers(len(images))]
            y, x = rng.integers(0, img.shape[0] - PATCH), rng.integers(0, img.shape[1] - PATCH)
            crop = np.rot90(img[y : y + PATCH, x : x + PATCH], rng.integers(4))
            crops[i, 0] = crop[:, ::-1] if rng.integers(2) else crop
        hr = torch.from_numpy(crops)
        tests = []
        for name in TEST_IMAGES:
            img = grey(name)
            h, w = (img.shape[0] // 4) * 4, (img.shape[1] // 4) * 4
            t = torch.from_numpy(np.ascontiguousarray(img[:h, :w]))[None, None]
            tests.append((t, degrade(t, scale)))
        _CACHE[("sr", scale)] = (degrade(hr, scale), hr, tests)
    return _CACHE[("sr", scale)]


def shapes_images(n: int, rng: np.random.Generator):
    size = SEG_SIZE
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    images = np.empty((n, 3, size, size), np.float32)
    labels = np.zeros((n, size, size), np.int64)
    for i in range(n):
        bg = rng.uniform(0, 1, 3)
        img = np.broadcast_to(bg[:, None, None], (3, size, size)).copy()
        for _ in range(rng.integers(1, 4)):
            cls, r, theta = rng.integers(1, CLASSES), rng.uniform(6, 14), rng.uniform(0, 2 * np.pi)
            cy, cx = rng.uniform(r, size - r, 2)
            u = (xx - cx) * np.cos(theta) + (yy - cy) * np.sin(theta)
            v = -(xx - cx) * np.sin(theta) + (yy - cy) * np.cos(theta)
            if cls == 1:  # disc
                mask = u**2 + v**2 <= r**2
            elif cls == 2:  # square
                mask = np.maximum(abs(u), abs(v)) <= 0.8 * r
            else:  # triangle: inside three half-planes
                angles = np.pi / 2 + 2 * np.pi * np.arange(3) / 3
                mask = np.all([u * np.cos(a) + v * np.sin(a) <= r / 2 for a in angles], axis=0)
            colour = rng.uniform(0, 1, 3)
            while np.abs(colour - bg).mean() < 0.25:
                colour = rng.uniform(0, 1, 3)
            img[:, mask] = colour[:, None]
            labels[i][mask] = cls
        images[i] = img + rng.normal(0, 0.02, img.shape)
    return torch.from_numpy(images), torch.from_numpy(labels)


def seg_data():
    if "seg" not in _CACHE:
        rng = np.random.default_rng(1)
        _CACHE["seg"] = (shapes_images(SEG_TRAIN, rng), shapes_images(SEG_TEST, rng))
    return _CACHE["seg"]


# -------------------------------------------------------------------------------------- metrics
def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / np.mean((a - b) ** 2)))


def checkerboard_db(residual: np.ndarray, s: int) -> float:
    """Spectral power of the residual at the period-``s`` frequencies (each a 3x3 block of
    bins, the residual Hann-windowed so that the image's edges do not leak) over the mean power
    of the ring of bins around the block, in dB: 0 for a residual without a period-s pattern."""
    h, w = residual.shape
    window = np.outer(np.hanning(h), np.hanning(w))
    power = np.abs(np.fft.fft2((residual - residual.mean()) * window)) ** 2
    peaks, rings = [], []
    for a in range(s):
        for b in range(s):
            if a == b == 0:
                continue
            fy, fx = a * h // s, b * w // s
            near = power[
                np.ix_([(fy + d) % h for d in range(-6, 7)], [(fx + d) % w for d in range(-6, 7)])
            ]
            block = near[5:8, 5:8].sum()
            peaks.append(block)
            rings.append((near.sum() - block) / (near.size - 9) * 9)
    return float(10 * np.log10(np.mean(peaks) / np.mean(rings)))


def sr_evaluate(net, tests, s: int) -> dict:
    from skimage.metrics import structural_similarity

    scores = {"psnr": [], "ssim": [], "checkerboard_db": []}
    with torch.no_grad():
        for hr, lr in tests:
            out = net(lr)[0, 0].numpy().astype(np.float64)
            truth = hr[0, 0].numpy().astype(np.float64)
            scores["checkerboard_db"].append(checkerboard_db(out - truth, s))
            a, b = np.clip(out, 0, 1)[s:-s, s:-s], truth[s:-s, s:-s]
            scores["psnr"].append(psnr(a, b))
            scores["ssim"].append(structural_similarity(a, b, data_range=1.0))
    return {k: float(np.mean(v)) for k, v in scores.items()}


def plain_bicubic(s: int) -> dict:
    """The test scores of bicubic interpolation of the low-resolution image, for reference."""

    def interpolate(lr):
        return F.interpolate(lr - 0.5, scale_factor=s, mode="bicubic") + 0.5

    return sr_evaluate(interpolate, sr_data(s)[2], s)


def seg_evaluate(net, images, labels, band: int = 2) -> dict:
    from scipy import ndimage

    with torch.no_grad():
        pred = torch.cat([net(images[i : i + 64]).argmax(1) for i in range(0, len(images), 64)])
    pred, labels = pred.numpy(), labels.numpy()
    ious, inter, union = [], np.zeros(CLASSES), np.zeros(CLASSES)
    for c in range(CLASSES):
        p, t = pred == c, labels == c
        ious.append((p & t).sum() / max((p | t).sum(), 1))
        if c == 0:
            continue
        for i in range(len(p)):  # the band inside each mask within `band` pixels of its contour
            pb = p[i] & ~ndimage.binary_erosion(p[i], iterations=band)
            tb = t[i] & ~ndimage.binary_erosion(t[i], iterations=band)
            inter[c] += (pb & tb).sum()
            union[c] += (pb | tb).sum()
    return {"miou": float(np.mean(ious)), "boundary_iou": float(np.mean(inter[1:] / union[1:]))}


# ------------------------------------------------------------------------------------- training
def train(task: str, method: str, scale: int, seed: int, iterations: int) -> dict:
    import upsampling as up

    torch.set_num_threads(1)
    up.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    net = build(task, method, scale, 1000 * seed)
    order = torch.Generator().manual_seed(1000 * seed + 2)
    optimiser = torch.optim.Adam(net.parameters(), lr=3e-3)
    if task == "sr":
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, max(iterations, 1))
    else:  # without a warm-up a third of the segmentation runs stall at the background
        warm = WARMUP

        def factor(i: int) -> float:
            return min(1.0, (i + 1) / warm) * 0.5 * (1 + math.cos(math.pi * i / iterations))

        schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, factor)
    result = {
        "task": task,
        "method": method,
        "scale": scale,
        "seed": seed,
        "iterations": iterations,
        "params": count(net),
        "upsampler_params": count(net.up if task == "sr" else net.ups),
    }
    if task == "sr":
        lr, hr, tests = sr_data(scale)
        result["init"] = sr_evaluate(net, tests, scale)
    else:
        (images, labels), (test_images, test_labels) = seg_data()
    start = time.perf_counter()
    for _ in range(iterations):
        batch = torch.randint(0, CROPS if task == "sr" else SEG_TRAIN, (16,), generator=order)
        optimiser.zero_grad()
        if task == "sr":
            loss = F.mse_loss(net(lr[batch]), hr[batch])
        else:
            loss = F.cross_entropy(net(images[batch]), labels[batch])
        loss.backward()
        optimiser.step()
        schedule.step()
    result["train_seconds"] = time.perf_counter() - start
    net.eval()
    if task == "sr":
        result.update(sr_evaluate(net, tests, scale))
        if seed == 0 and TEST_IMAGES[0] == "astronaut":
            with torch.no_grad():
                out = net(tests[0][1])[0, 0].clamp(0, 1).numpy()
            result["face"] = out[FACE].round(4).tolist()
    else:
        result.update(seg_evaluate(net, test_images, test_labels))
    return result


def _train(job):
    result = train(*job)
    print(
        f"  {job[0]} {job[1]} x{job[2]} seed {job[3]}: {result['train_seconds']:.0f} s",
        file=sys.stderr,
        flush=True,
    )
    return result


def timing(method: str, scale: int, repeat: int) -> tuple[float, float]:
    """Median ms of the up-sampler alone, forward and forward+backward, on one thread."""
    torch.set_num_threads(1)
    torch.manual_seed(0)
    layer = upsampler(method, FEATURES, scale)
    x = torch.randn(16, FEATURES, PATCH // scale, PATCH // scale)
    xg = x.clone().requires_grad_()
    with torch.no_grad():
        forward = median_time(lambda: layer(x), repeat=repeat)

    def step():
        layer.zero_grad()
        layer(xg).square().mean().backward()

    return forward * 1e3, median_time(step, repeat=repeat) * 1e3


# -------------------------------------------------------------------------------------- report
def mean_sd(values: list[float], digits: int) -> str:
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"


_T975 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26}


def paired(values: list[float], reference: list[float], digits: int) -> str:
    """Mean ± sd of the per-seed difference; * where a paired t-test rejects 0 at 5%."""
    diff = [a - b for a, b in zip(values, reference, strict=True)]
    if len(diff) == 1:
        return f"{diff[0]:+.{digits}f}"
    m, sd = statistics.mean(diff), statistics.stdev(diff)
    t = _T975.get(len(diff) - 1, 1.96)
    significant = (sd == 0 and m != 0) or (sd > 0 and abs(m) > t * sd / math.sqrt(len(diff)))
    star = "*" if significant else ""
    return f"{m:+.{digits}f} ± {sd:.{digits}f}{star}"


def group(results, task, scale=None):
    out: dict[str, list[dict]] = {}
    for r in results:
        if r["task"] == task and (scale is None or r["scale"] == scale):
            out.setdefault(r["method"], []).append(r)
    for runs in out.values():
        runs.sort(key=lambda r: r["seed"])
    return {m: out[m] for m in METHODS if m in out}


def sr_table(results, scale, times, reference="bicubic") -> str:
    runs = group(results, "sr", scale)
    reference = reference if reference in runs else next(iter(runs))
    ref = runs[reference]
    rows = []
    for method, rs in runs.items():
        get = lambda key, rs=rs: [r[key] for r in rs]  # noqa: E731
        rows.append(
            [
                LABELS[method],
                rs[0]["upsampler_params"],
                rs[0]["params"],
                mean_sd(get("psnr"), 2),
                paired(get("psnr"), [r["psnr"] for r in ref], 2),
                mean_sd(get("ssim"), 4),
                mean_sd([r["init"]["checkerboard_db"] for r in rs], 1),
                mean_sd(get("checkerboard_db"), 1),
                f"{times[(method, scale)][0]:.2f}",
                f"{times[(method, scale)][1]:.2f}",
            ]
        )
    header = [
        "up-sampler",
        "up params",
        "total params",
        "PSNR dB",
        f"Δ vs {reference}",
        "SSIM",
        "checkerboard init dB",
        "checkerboard trained dB",
        "fwd ms",
        "fwd+bwd ms",
    ]
    return markdown_table(header, rows)


def seg_table(results, reference="bilinear") -> str:
    runs = group(results, "seg")
    reference = reference if reference in runs else next(iter(runs))
    ref = runs[reference]
    rows = []
    for method, rs in runs.items():
        miou, biou = [r["miou"] for r in rs], [r["boundary_iou"] for r in rs]
        rows.append(
            [
                LABELS[method],
                rs[0]["upsampler_params"],
                rs[0]["params"],
                mean_sd(miou, 4),
                paired(miou, [r["miou"] for r in ref], 4),
                mean_sd(biou, 4),
                paired(biou, [r["boundary_iou"] for r in ref], 4),
            ]
        )
    header = [
        "up-sampler",
        "up params",
        "total params",
        "mIoU",
        f"Δ vs {reference}",
        "boundary IoU",
        f"Δ vs {reference}",
    ]
    return markdown_table(header, rows)


def figure(results, path: pathlib.Path, scales) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("sr", s) for s in scales if group(results, "sr", s)]
    panels += [("seg", None)] if group(results, "seg") else []
    faces = {r["method"]: r["face"] for r in results if "face" in r and r["scale"] == max(scales)}
    fig = plt.figure(
        figsize=(4.2 * max(len(panels), 3), 7.5 if faces else 3.6), layout="constrained"
    )
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.3, 1]) if faces else (fig, None)
    axes = np.atleast_1d(top.subplots(1, len(panels)))
    for ax, (task, scale) in zip(axes, panels, strict=True):
        runs = group(results, task, scale)
        key = "psnr" if task == "sr" else "miou"
        means = [statistics.mean(r[key] for r in rs) for rs in runs.values()]
        sds = [statistics.stdev(r[key] for r in rs) if len(rs) > 1 else 0 for rs in runs.values()]
        ax.barh(range(len(runs)), means, xerr=sds, color="tab:blue", alpha=0.8)
        ax.set_yticks(range(len(runs)), [LABELS[m] for m in runs], fontsize=7)
        ax.invert_yaxis()
        lo = min(m - s for m, s in zip(means, sds, strict=True))
        hi = max(m + s for m, s in zip(means, sds, strict=True))
        ax.set_xlim(lo - 0.1 * (hi - lo + 1e-9), hi + 0.1 * (hi - lo + 1e-9))
        ax.tick_params(axis="x", labelsize=7)
        title = (
            f"x{scale} super-resolution: test PSNR (dB)" if task == "sr" else "segmentation: mIoU"
        )
        ax.set_title(title, fontsize=9)
    if faces:
        truth = grey("astronaut")[FACE]
        shown = [("truth", truth)] + [(SHORT[m], np.array(faces[m])) for m in METHODS if m in faces]
        columns = math.ceil(len(shown) / 2)
        for ax in bottom.subplots(2, columns).ravel():
            ax.axis("off")
            if shown:
                title, img = shown.pop(0)
                ax.imshow(img, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
                ax.set_title(title, fontsize=7)
        bottom.suptitle(f"x{max(scales)}, seed 0: a crop of the held-out astronaut", fontsize=8)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run (seconds)")
    parser.add_argument("--full", action="store_true", help="the published, longer run")
    parser.add_argument("--tasks", nargs="+", choices=["sr", "seg"], default=["sr", "seg"])
    parser.add_argument("--scales", nargs="+", type=int, choices=[2, 4], default=[2, 4])
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=METHODS)
    parser.add_argument("--seeds", type=int, help="seeds per configuration")
    parser.add_argument("--iterations", type=int, nargs="+", help="for task A [and task B]")
    parser.add_argument("--jobs", type=int, default=2, help="training processes in parallel")
    parser.add_argument("--repeat", type=int, default=7, help="timing repeats")
    parser.add_argument("--out", type=pathlib.Path, help="write results.md/json, figure.png")
    parser.add_argument(
        "--load", type=pathlib.Path, nargs="+", help="report on results.json files, no training"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)  # as every training run and the timings use
    preset = PRESETS["quick" if args.quick else "full" if args.full else "default"]
    seeds = args.seeds or preset["seeds"]
    iterations = tuple(args.iterations or preset["iterations"])
    iterations = (iterations * 2)[:2]
    jobs = [
        ("sr", m, s, seed, iterations[0])
        for s in args.scales
        for m in args.methods
        for seed in range(seeds)
        if "sr" in args.tasks
    ]
    jobs += [
        ("seg", m, 2, seed, iterations[1])
        for m in args.methods
        for seed in range(seeds)
        if "seg" in args.tasks
    ]
    jobs.sort(key=lambda j: j[1] != "carafe")  # the slowest first, for the pool's balance
    start = time.perf_counter()
    if args.load:  # report on earlier runs (e.g. the two tasks run apart) without training
        results = [r for path in args.load for r in json.loads(path.read_text())]
        args.tasks = sorted({r["task"] for r in results}, reverse=True)
        args.methods = [m for m in METHODS if any(r["method"] == m for r in results)]
        args.scales = sorted({r["scale"] for r in results if r["task"] == "sr"}) or args.scales
    elif args.jobs > 1:
        with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
            results = pool.map(_train, jobs, chunksize=1)
    else:
        results = [_train(job) for job in jobs]
    elapsed = time.perf_counter() - start
    if args.out:  # the training is the expensive part: keep it before anything can fail
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "results.json").write_text(json.dumps(results, indent=1))
    times = {}
    if "sr" in args.tasks:
        for s in args.scales:
            for m in args.methods:
                times[(m, s)] = timing(m, s, args.repeat)
    done = {
        t: sorted({(r["iterations"], r["seed"]) for r in results if r["task"] == t})
        for t in ("sr", "seg")
    }
    runs = ", ".join(
        f"task {'A' if t == 'sr' else 'B'}: {len({s for _, s in v})} seed(s) of "
        f"{'/'.join(str(i) for i in sorted({i for i, _ in v}))} iterations"
        for t, v in done.items()
        if v
    )
    trained = f"training took {elapsed:.0f} s with {args.jobs} process(es)"
    lines = [f"{machine()}; {runs}; {'loaded from files' if args.load else trained}", ""]
    for s in args.scales if "sr" in args.tasks else []:
        plain = plain_bicubic(s)
        lines += [
            f"Task A, x{s} super-resolution (test: {', '.join(TEST_IMAGES)}; bicubic "
            f"interpolation of the image itself, no network: PSNR {plain['psnr']:.2f} dB, "
            f"SSIM {plain['ssim']:.4f}):",
            "",
            sr_table(results, s, times),
            "",
        ]
    if "seg" in args.tasks:
        lines += [
            "Task B, segmentation of generated shapes (64x64, 4 classes):",
            "",
            seg_table(results),
            "",
        ]
    lines += [
        "Δ: mean ± sd over seeds of the per-seed difference (same data, order and shared "
        "initialisation); *: a paired t-test rejects no difference at 5%."
    ]
    report = "\n".join(lines)
    print(report)
    if args.out:
        (args.out / "results.md").write_text(report + "\n")
        figure(results, args.out / "figure.png", args.scales)


if __name__ == "__main__":
    main()
