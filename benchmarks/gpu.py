"""The CUDA path (the Triton kernels of ``upsampling._triton``) against PyTorch on one GPU.

    python benchmarks/gpu.py [--repeat 10] [--budget 280] [--shapes big|small]
    TRITON_INTERPRET=1 python benchmarks/gpu.py --dry-run      # CPU, interpreter, no timing

Written to run once, whole, on a CUDA machine with its own torch and Triton (the project
installed there with ``pip install --no-deps -e .``), in at most five minutes. For each case
(bilinear, bicubic, nearest, trilinear, max_pool, max_unpool, unpool) at ``(8, 64, 128, 128)``
and ``(16, 128, 256, 256)`` (trilinear: a 5-D input of as many elements), in float32 and
bfloat16, it checks parity with ``torch.nn.functional`` on the GPU (values, indices, gradients),
that our gradient is the same bit for bit on a second run, and that the op ran a Triton kernel,
then times forward, backward, and backward under ``torch.use_deterministic_algorithms(True)``
with CUDA events (median of ``--repeat`` after warm-up). Ratios are PyTorch's time over ours
(> 1: we are faster); "raises" where PyTorch has no deterministic kernel. A failing case prints
its error and the script goes on; it prints a final markdown table and exits 0.

``--dry-run`` runs the same checks on tiny CPU tensors through the kernels under Triton's
interpreter (``UPSAMPLING_KERNELS=triton``, ``TRITON_INTERPRET=1``, set here), without timing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import traceback

DRY = "--dry-run" in sys.argv
if DRY:  # before Triton is imported: the kernels it creates then run in the interpreter
    os.environ.setdefault("TRITON_INTERPRET", "1")
    os.environ["UPSAMPLING_KERNELS"] = "triton"

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import upsampling as up  # noqa: E402
from upsampling import _triton  # noqa: E402

BIG = [(8, 64, 128, 128), (16, 128, 256, 256)]
TINY = [(2, 3, 6, 8)]
DTYPES = [torch.float32, torch.bfloat16]
RAN: list[str] = []  # the ops that ran a Triton kernel since the last clear
_lookup = _triton.kernel


def _recording(name, args):
    fn = _lookup(name, args)
    if fn is not None:
        RAN.append(name)
    return fn


_triton.kernel = _recording  # the dispatch looks the function up on the module at every call


# ----------------------------------------------------------------------------------- the cases
# A case: (ours, theirs, rank, op, prepare); ``prepare(x)`` makes the inputs, of which the first
# is the one differentiated; ``ours(*inputs)`` and ``theirs(*inputs)`` compute the same thing.
def _alone(x):
    return (x,)


def _interp(mode, rank=2):
    def ours(x):
        return up.interpolate(x, scale_factor=2, mode=mode)

    def theirs(x):
        return F.interpolate(x, scale_factor=2, mode=mode)

    return ours, theirs, rank, "interpolate", _alone


def _max_pool():
    def ours(x):
        return up.max_pool(x, 2, return_indices=True)

    def theirs(x):
        return F.max_pool2d(x, 2, return_indices=True)

    return ours, theirs, 2, "max_pool", _alone


def _max_unpool():
    """``max_unpool`` of the values and indices of PyTorch's pooling of ``x``."""

    def ours(v, i):
        return up.max_unpool(v, i, 2)

    def theirs(v, i):
        return F.max_unpool2d(v, i, 2)

    def prepare(x):
        with torch.no_grad():
            return F.max_pool2d(x, 2, return_indices=True)

    return ours, theirs, 2, "max_unpool", prepare


def _unpool():
    def ours(x):
        return up.unpool(x, 2)

    def theirs(x):
        return F.interpolate(x, scale_factor=2, mode="nearest")

    return ours, theirs, 2, "unpool", _alone


CASES = {
    "bilinear": _interp("bilinear"),
    "bicubic": _interp("bicubic"),
    "nearest": _interp("nearest"),
    "trilinear": _interp("trilinear", rank=3),
    "max_pool": _max_pool(),
    "max_unpool": _max_unpool(),
    "unpool": _unpool(),
}


def _shape(shape4, rank):
    """The 4-D benchmark shape, or a 5-D one of as many elements for 3-D modes."""
    if rank == 2:
        return shape4
    n, c, h, w = shape4
    return (n, max(1, c // 16), 16, h, w)


def _first(y):
    return y[0] if isinstance(y, tuple) else y


# ------------------------------------------------------------------------------------ checking
def _tolerance(dtype, name):
    if name in ("max_pool", "max_unpool", "unpool", "nearest"):
        return dict(rtol=0, atol=0)  # values only move (sums of bfloat16 gradients aside)
    return dict(rtol=1e-5, atol=1e-5) if dtype == torch.float32 else dict(rtol=2e-2, atol=2e-2)


def _grad_tolerance(dtype, name):
    if dtype == torch.float32:
        return dict(rtol=1e-5, atol=1e-4)
    return dict(rtol=2e-2, atol=5e-2)


def _gradient(fn, inputs, g):
    x = inputs[0].detach().requires_grad_()
    y = _first(fn(x, *inputs[1:]))
    (gx,) = torch.autograd.grad(y, x, g)
    return gx


def check(name, shape, dtype, device):
    """Parity of values (and indices), gradients, the second run's bits and the kernels; the
    inputs and output gradient for the timings."""
    ours, theirs, rank, op, prepare = CASES[name]
    gen = torch.Generator(device=device).manual_seed(0)
    x = torch.randn(_shape(shape, rank), generator=gen, device=device).to(dtype)
    inputs = prepare(x)
    RAN.clear()
    mine, ref = ours(*inputs), theirs(*inputs)
    if op not in RAN:
        raise AssertionError(f"{op} did not run a Triton kernel (ran {sorted(set(RAN))})")
    if isinstance(mine, tuple):
        torch.testing.assert_close(mine[1], ref[1], rtol=0, atol=0)
    torch.testing.assert_close(_first(mine), _first(ref), **_tolerance(dtype, name))
    g = torch.randn(_first(ref).shape, generator=gen, device=device).to(dtype)
    RAN.clear()
    gx = _gradient(ours, inputs, g)
    if f"{op}_backward" not in RAN:
        raise AssertionError(f"the gradient of {op} ran no Triton kernel (ran {sorted(set(RAN))})")
    torch.testing.assert_close(gx, _gradient(theirs, inputs, g), **_grad_tolerance(dtype, name))
    if not torch.equal(gx, _gradient(ours, inputs, g)):
        raise AssertionError("our gradient differs between two runs")
    return inputs, g


# ------------------------------------------------------------------------------------- timing
def cuda_time(fn, repeat: int, warmup: int = 3) -> float:
    """The median of ``repeat`` timings of ``fn()`` in milliseconds, by CUDA events."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        stop.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(stop))
    return statistics.median(times)


def _backward_timer(fn, inputs, g):
    x = inputs[0].detach().requires_grad_()
    y = _first(fn(x, *inputs[1:]))

    def run():
        torch.autograd.grad(y, x, g, retain_graph=True)

    return run


def timings(name, inputs, g, repeat):
    """Forward, backward and deterministic-backward times (ours) and ratios (PyTorch's time
    over ours)."""
    ours, theirs = CASES[name][:2]
    row = {}
    with torch.no_grad():
        t_ours = cuda_time(lambda: ours(*inputs), repeat)
        t_theirs = cuda_time(lambda: theirs(*inputs), repeat)
    row["fwd ms"], row["fwd ratio"] = t_ours, t_theirs / t_ours
    b_ours = cuda_time(_backward_timer(ours, inputs, g), repeat)
    b_theirs = cuda_time(_backward_timer(theirs, inputs, g), repeat)
    row["bwd ms"], row["bwd ratio"] = b_ours, b_theirs / b_ours
    torch.use_deterministic_algorithms(True)
    try:
        d_ours = cuda_time(_backward_timer(ours, inputs, g), repeat)
        row["det bwd ms"] = d_ours
        try:
            row["det ratio"] = cuda_time(_backward_timer(theirs, inputs, g), repeat) / d_ours
        except RuntimeError:
            row["det ratio"] = "raises"
    finally:
        torch.use_deterministic_algorithms(False)
    return row


# ---------------------------------------------------------------------------------------- main
def _cell(v) -> str:
    return f"{v:.2f}" if isinstance(v, float) else str(v)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="CPU, interpreter, no timing")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--budget", type=float, default=280.0, help="seconds, then stop timing")
    parser.add_argument("--shapes", choices=("big", "small"), default="big")
    args = parser.parse_args()
    if args.dry_run:
        device, shapes = "cpu", TINY
    elif not torch.cuda.is_available():
        print("no CUDA device: run with --dry-run (CPU, Triton's interpreter) instead")
        return 0
    else:
        device, shapes = "cuda", BIG if args.shapes == "big" else [(2, 16, 64, 64)]
        print(torch.cuda.get_device_name(), "torch", torch.__version__, end=" ")
    import triton

    print("triton", triton.__version__, "upsampling", up.__version__, "device", device)
    began = time.monotonic()
    header = ["case", "shape", "dtype", "parity", "fwd ms", "fwd ratio", "bwd ms", "bwd ratio"]
    header += ["det bwd ms", "det ratio"]
    rows = []
    for shape in shapes:
        for dtype in DTYPES:
            for name in CASES:
                row = {"case": name, "shape": "x".join(map(str, _shape(shape, CASES[name][2])))}
                row["dtype"] = str(dtype).removeprefix("torch.")
                try:
                    inputs, g = check(name, shape, dtype, device)
                    row["parity"] = "ok"
                    if device == "cuda" and time.monotonic() - began < args.budget:
                        row.update(timings(name, inputs, g, args.repeat))
                    elif device == "cuda":
                        row["fwd ms"] = "over budget"
                except Exception as e:  # one case's failure must not stop the others
                    row.setdefault("parity", f"ERROR {type(e).__name__}")
                    print(f"{name} {row['shape']} {row['dtype']}: {type(e).__name__}: {e}")
                    traceback.print_exc(limit=3)
                finally:
                    if device == "cuda":
                        torch.cuda.empty_cache()
                print(" ".join(f"{k}={_cell(v)}" for k, v in row.items()), flush=True)
                rows.append([_cell(row.get(h, "")) for h in header])
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print(f"\n{time.monotonic() - began:.0f} s; ratios are PyTorch's time over ours (> 1: faster)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
