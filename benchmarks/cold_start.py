"""The first call of each operator: with an empty numba cache, with a warm one, read-only install.

    python benchmarks/cold_start.py [--operators interpolate-bilinear,deblur,...] [--read-only]
                                    [--profile] [--src DIR] [--json FILE]

Each measurement runs in a fresh subprocess: ``import upsampling``, then one call of the
operator on a small float32 NumPy input ``(1, 3, 64, 64)`` (``deblur``: a ``(64, 64)`` image),
then a second call. *cold* is the first call with ``NUMBA_CACHE_DIR`` set to a new empty
folder (a fresh install, an upgrade); *warm* is the same in a second process on that folder.
``specialisations`` is how many numba signatures the call compiled (or loaded), summed over the
package's dispatchers, ``cache files`` how many ``.nbi``/``.nbc`` files the cold call left.

``--profile`` adds, per cold call, the ten longest numba compile events (``numba:compile``)
over 0.2 s (``COLD_START_MIN_S=0.01`` for shorter ones): which kernel, which argument types,
how long (nested compiles, e.g. an ``inline="always"`` helper compiled for its caller, are
included in their caller's time).

``--read-only`` copies ``src/upsampling`` to a temporary folder, makes it read-only
(``chmod -R a-w``; as root, whom modes do not stop, ``chattr -R +i``), unsets
``NUMBA_CACHE_DIR`` and points ``HOME`` / ``XDG_CACHE_HOME`` at a new temporary folder, then
runs one operator twice: numba cannot write next to the sources, so its cache goes to the
user-wide folder; the second run shows whether that cache is used.

Times are wall-clock seconds of one run each, with the CPU seconds of the cold call in
parentheses (compilation is single-threaded, so on a loaded machine the CPU time is the steadier
measure of the compile work; wall times there vary by a factor of 2 or more).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

# operator name -> (setup, call): Python source run in the child after ``import upsampling as
# up`` and ``import numpy as np``; the setup is not timed
OPERATORS = {
    "interpolate-nearest": (
        "x = np.random.default_rng(0).random((1, 3, 64, 64), np.float32)",
        "up.interpolate(x, scale_factor=2)",
    ),
    "interpolate-bilinear": (
        "x = np.random.default_rng(0).random((1, 3, 64, 64), np.float32)",
        "up.interpolate(x, scale_factor=2, mode='bilinear')",
    ),
    "interpolate-bicubic": (
        "x = np.random.default_rng(0).random((1, 3, 64, 64), np.float32)",
        "up.interpolate(x, scale_factor=2, mode='bicubic')",
    ),
    "interpolate-bilinear-channels-last": (
        "x = np.random.default_rng(0).random((1, 32, 32, 16), np.float32).transpose(0, 3, 1, 2)",
        "up.interpolate(x, scale_factor=2, mode='bilinear')",
    ),
    "interpolate-bicubic-photo": (  # an (H, W, 3) image as its (1, 3, H, W) view
        "x = np.random.default_rng(0).random((64, 64, 3), np.float32).transpose(2, 0, 1)[None]",
        "up.interpolate(x, scale_factor=2, mode='bicubic')",
    ),
    "interpolate-trilinear": (
        "x = np.random.default_rng(0).random((1, 2, 16, 16, 16), np.float32)",
        "up.interpolate(x, scale_factor=2, mode='trilinear')",
    ),
    "interpolate-area-down": (
        "x = np.random.default_rng(0).random((1, 3, 64, 64), np.float32)",
        "up.interpolate(x, size=(24, 40), mode='area')",
    ),
    "interpolate-bilinear-uint8": (  # the PyTorch convention on an 8-bit photo
        "x = np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8)",
        "up.resize(x, scale=2)",
    ),
    "resize-photo-opencv": (  # an (H, W, 3) uint8 photo through OpenCV's fixed point
        "x = np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8)",
        "up.resize(x, scale=2, convention='opencv')",
    ),
    "resize-photo-pillow": (
        "x = np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8)",
        "up.resize(x, scale=2, convention='pillow')",
    ),
    "resize-photo-opencv-bicubic": (  # OpenCV's bicubic: float32 sums
        "x = np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8)",
        "up.resize(x, scale=2, method='bicubic', convention='opencv')",
    ),
    "resize-photo-pillow-lanczos": (
        "x = np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8)",
        "up.resize(x, scale=0.75, method='lanczos', convention='pillow')",
    ),
    "resize-gray-opencv": (  # one channel: OpenCV's rows without the RGB sweep
        "x = np.random.default_rng(0).integers(0, 256, (64, 64), np.uint8)",
        "up.resize(x, scale=2, convention='opencv')",
    ),
    "resize-photo16-pillow": (  # 16-bit RGB: float64 sums
        "x = np.random.default_rng(0).integers(0, 65536, (64, 64, 3), np.uint16)",
        "up.resize(x, scale=2, convention='pillow')",
    ),
    "unpool": (
        "x = np.random.default_rng(0).random((1, 3, 64, 64), np.float32)",
        "up.unpool(x, 2)",
    ),
    "max_pool": (
        "x = np.random.default_rng(0).random((1, 3, 64, 64), np.float32)",
        "up.max_pool(x, 2, return_indices=True)",
    ),
    "max_unpool": (
        # the indices max_pool(kernel 2) gives on an increasing input: each window's last
        "x = np.random.default_rng(0).random((1, 3, 32, 32), np.float32)\n"
        "r = np.arange(32)\n"
        "i = ((2 * r + 1)[:, None] * 64 + (2 * r + 1)[None, :]).astype(np.int64)\n"
        "i = np.broadcast_to(i, x.shape).copy()",
        "up.max_unpool(x, i, 2)",
    ),
    "conv_transpose": (
        "rng = np.random.default_rng(0)\n"
        "x = rng.random((1, 3, 64, 64), np.float32)\n"
        "w = rng.random((3, 3, 4, 4), np.float32)",
        "up.conv_transpose(x, w, stride=2, padding=1)",
    ),
    "deblur": (
        "rng = np.random.default_rng(0)\n"
        "x = rng.random((64, 64), np.float32)\n"
        "psf = np.outer(*2 * [np.array([1, 4, 6, 4, 1], np.float32)]); psf /= psf.sum()",
        "up.deblur(x, psf)",
    ),
}

# the child: prints one JSON line
CHILD = r"""
import json, sys, time
t0, c0 = time.perf_counter(), time.process_time()
import numpy as np
import upsampling as up
t_import, c_import = time.perf_counter() - t0, time.process_time() - c0
PROFILE = {profile}
{setup}
events = []
if PROFILE:
    from numba.core import event
    watch = event.install_recorder("numba:compile")
    recorder = watch.__enter__()
t1, c1 = time.perf_counter(), time.process_time()
{call}
t_first, c_first = time.perf_counter() - t1, time.process_time() - c1
if PROFILE:
    watch.__exit__(None, None, None)
    starts = {{}}
    for ts, ev in recorder.buffer:
        key = id(ev.data["dispatcher"]), str(ev.data["args"])
        if ev.is_start:
            starts[key] = ts
        elif key in starts:
            d = ev.data["dispatcher"]
            events.append([d.py_func.__module__ + "." + d.py_func.__qualname__,
                           str(ev.data["args"]), ts - starts.pop(key)])
t2 = time.perf_counter()
{call}
t_second = time.perf_counter() - t2
import numba.core.registry
from numba.core.dispatcher import Dispatcher
n = 0
for name, mod in list(sys.modules.items()):
    if name.startswith("upsampling."):
        for v in vars(mod).values():
            if isinstance(v, Dispatcher):
                n += len(v.signatures)
print("RESULT " + json.dumps(dict(import_s=t_import, first_s=t_first, second_s=t_second,
                                  import_cpu_s=c_import, first_cpu_s=c_first,
                                  specialisations=n, events=events)))
"""


def child(operator: str, env: dict[str, str], *, profile: bool = False) -> dict:
    """Run one fresh interpreter that imports the package and calls ``operator`` twice."""
    setup, call = OPERATORS[operator]
    code = CHILD.format(profile=profile, setup=setup, call=call)
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        raise RuntimeError(f"{operator}: child failed\n{done.stdout}\n{done.stderr}")
    return json.loads(lines[-1][len("RESULT ") :])


def cache_files(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.suffix in (".nbi", ".nbc"))


def base_env(src: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(src), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.pop("NUMBA_CACHE_DIR", None)
    return env


def cold_and_warm(operator: str, *, profile: bool, src: Path = SRC) -> dict:
    with tempfile.TemporaryDirectory(prefix="numba-cold-") as cache:
        env = {**base_env(src), "NUMBA_CACHE_DIR": cache}
        cold = child(operator, env, profile=profile)
        files = cache_files(Path(cache))
        warm = child(operator, env)
    return {"operator": operator, "cold": cold, "warm": warm, "cache_files": files}


def read_only(operator: str, src_root: Path = SRC) -> dict:
    """Two runs on a read-only copy of the package with ``NUMBA_CACHE_DIR`` unset. Root, whom
    ``chmod`` does not stop, gets the copy marked immutable (``chattr -R +i``) instead."""
    root = os.geteuid() == 0
    with tempfile.TemporaryDirectory(prefix="upsampling-ro-") as tmp:
        tmp = Path(tmp)
        src = tmp / "src"
        shutil.copytree(
            src_root / "upsampling",
            src / "upsampling",
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        home = tmp / "home"
        home.mkdir()
        if root:
            subprocess.run(["chattr", "-R", "+i", str(src)], check=True)
        else:
            for p in [src, *src.rglob("*")]:
                p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        env = {**base_env(src), "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")}
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        try:
            first = child(operator, env)
            second = child(operator, env)
            user_cache = cache_files(home)
            in_tree = cache_files(src)
        finally:  # let the temporary folder be removed
            if root:
                subprocess.run(["chattr", "-R", "-i", str(src)], check=True)
            for p in [src, *src.rglob("*")]:
                p.chmod(p.stat().st_mode | stat.S_IWUSR)
    return {
        "operator": operator,
        "first": first,
        "second": second,
        "user_cache_files": user_cache,
        "in_tree_cache_files": in_tree,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operators", default=",".join(OPERATORS))
    parser.add_argument("--read-only", action="store_true", help="also the read-only check")
    parser.add_argument("--profile", action="store_true", help="numba compile events")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument(
        "--src", type=Path, default=SRC, help="the folder holding the package (a modified copy)"
    )
    args = parser.parse_args()
    names = [n for n in args.operators.split(",") if n]
    unknown = sorted(set(names) - set(OPERATORS))
    if unknown:
        parser.error(f"unknown operators {unknown}; known: {sorted(OPERATORS)}")
    results = []
    print(
        "| operator | import s | cold first call s (CPU s) | warm first call s | second call s "
        "| specialisations | cache files |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in names:
        r = cold_and_warm(name, profile=args.profile, src=args.src)
        results.append(r)
        c, w = r["cold"], r["warm"]
        print(
            f"| {name} | {w['import_s']:.2f} | {c['first_s']:.2f} ({c['first_cpu_s']:.2f}) "
            f"| {w['first_s']:.3f} "
            f"| {w['second_s']:.4f} | {c['specialisations']} | {r['cache_files']} |",
            flush=True,
        )
        for fn, sig, s in sorted(c["events"], key=lambda e: -e[2])[:10]:
            if s > float(os.environ.get("COLD_START_MIN_S", "0.2")):
                print(f"|   compile {fn}{sig} | | {s:.2f} | | | | |", flush=True)
    if args.read_only:
        r = read_only(names[0], args.src)
        results.append(r)
        print(
            f"\nread-only package, NUMBA_CACHE_DIR unset, {names[0]}: first run "
            f"{r['first']['first_s']:.2f} s, second run {r['second']['first_s']:.3f} s, "
            f"{r['user_cache_files']} cache files under the user cache folder, "
            f"{r['in_tree_cache_files']} in the package"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
