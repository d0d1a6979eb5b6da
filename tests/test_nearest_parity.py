"""``nearest`` and ``nearest-exact`` with fractional scale factors (and sizes) bit for bit against
``torch.nn.functional.interpolate`` on a large random grid of tiny inputs.

The input holds a different value at every position (an ``arange``), so any other choice of
source index shows as a different output value. PyTorch's choice depends on its arithmetic
path: 1-D and 3-D inputs, and 2-D ones whose output height plus width exceeds 128, go through
its generic CPU kernel (the step and the product in the input's own precision, float64 for
float64 input); smaller 2-D outputs go through its channels-last kernel (``nearest_idx``: a
float32 step whatever the dtype, exact shortcuts where the output is the input size or twice
it). :mod:`upsampling.coordinates` holds one rule per path; both are tested here on their own
(``test_rule_matches_torch_kernel``) and through ``interpolate`` (``test_interpolate_matches``).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import upsampling as up
from upsampling.coordinates import Axis, source_coordinates, torch_nearest_rule

DTYPES = {"float32": torch.float32, "float64": torch.float64}
# the largest spatial size drawn per rank: tiny planes, yet 2-D outputs on both sides of 128
_SIZE = {1: 300, 2: 80, 3: 12}


def _grid(nd: int, dtype: str, mode: str, count: int, seed: int):
    """``count`` random ``(shape, kwargs)`` cases: scale factors with 1 to 4 decimals (three
    in four cases), or output sizes; every output size at least 1."""
    rng = np.random.default_rng([seed, nd, len(dtype), len(mode)])
    cases = []
    while len(cases) < count:
        shape = tuple(int(v) for v in rng.integers(1, _SIZE[nd], size=nd))
        if rng.random() < 0.75:
            factors = tuple(
                float(np.round(rng.uniform(0.15, 4.5), int(rng.integers(1, 5)))) for _ in shape
            )
            out = tuple(int(np.floor(s * f)) for s, f in zip(shape, factors, strict=True))
            kwargs = {"scale_factor": factors}
            if rng.random() < 0.2:
                kwargs["recompute_scale_factor"] = True
        else:
            out = tuple(int(v) for v in rng.integers(1, 4 * _SIZE[nd], size=nd))
            kwargs = {"size": out}
        if min(out) >= 1:
            cases.append((shape, kwargs))
    return cases


def _torch_path(nd: int, shape, kwargs) -> str:
    """Which of PyTorch's CPU kernels serves the case (as :func:`torch_nearest_rule` says)."""
    out = tuple(F.interpolate(torch.zeros((1, 1, *shape)), **kwargs).shape[2:])
    return "channels_last" if torch_nearest_rule(False, out).endswith("_2d") else "generic"


def _check(cases, dtype: str, mode: str) -> None:
    bad = []
    for shape, kwargs in cases:
        x = np.arange(int(np.prod(shape)), dtype=dtype).reshape(1, 1, *shape)
        ref = F.interpolate(torch.from_numpy(x), mode=mode, **kwargs).numpy()
        got = up.interpolate(x, mode=mode, **kwargs)
        if got.shape != ref.shape or not np.array_equal(got, ref):
            bad.append((shape, kwargs))
    assert not bad, f"{len(bad)} of {len(cases)} cases differ, e.g. {bad[:3]}"


def _params(split: bool = False):
    for nd in (1, 2, 3):
        for dtype in DTYPES:
            for mode in ("nearest", "nearest-exact"):
                name = f"{nd}d-{dtype}-{mode}"
                if not (split and nd == 2):
                    yield pytest.param(nd, dtype, mode, None, id=name)
                    continue
                yield pytest.param(nd, dtype, mode, "channels_last", id=f"{name}-small")
                yield pytest.param(nd, dtype, mode, "generic", id=f"{name}-large")


@pytest.mark.parametrize(("nd", "dtype", "mode", "kernel"), list(_params(split=True)))
def test_interpolate_matches(nd, dtype, mode, kernel):
    cases = _grid(nd, dtype, mode, 160, seed=1)
    if kernel is not None:  # the 2-D cases of one of PyTorch's two kernels
        cases = [c for c in cases if _torch_path(nd, *c) == kernel]
        assert len(cases) > 30
    _check(cases, dtype, mode)


@pytest.mark.parametrize(
    ("shape", "factor", "dtype", "mode"),
    [
        # 14 = 2 * 7 rows, out 14 + 127: the generic kernel has no 2x shortcut
        ((7, 63), 2.02, "float32", "nearest"),
        ((7, 1), 2.02, "float32", "nearest"),  # out 14 + 2: the channels-last kernel's shortcut
        # out 18 + 158: the generic kernel's float64 step
        ((8, 69), 2.3, "float64", "nearest"),
        ((8, 69), 2.3, "float64", "nearest-exact"),
        ((8, 40), 2.3, "float64", "nearest"),  # out 18 + 92: channels-last, float32 step
        ((7,), 2.02, "float32", "nearest"),  # 1-D: generic, no shortcut
        ((7, 6, 5), 2.02, "float64", "nearest"),  # 3-D: generic, no 2x shortcut
    ],
)
def test_reported_cases(shape, factor, dtype, mode):
    _check([(shape, {"scale_factor": factor})], dtype, mode)


def test_tensor_input_matches():
    """The same through the torch custom op (tensor in, tensor out)."""
    for nd, dtype, mode in [(1, "float32", "nearest"), (3, "float64", "nearest-exact")]:
        for shape, kwargs in _grid(nd, dtype, mode, 12, seed=2):
            x = torch.arange(int(np.prod(shape)), dtype=DTYPES[dtype]).reshape(1, 1, *shape)
            ref = F.interpolate(x, mode=mode, **kwargs)
            assert torch.equal(up.interpolate(x, mode=mode, **kwargs), ref), (shape, kwargs)


def _rule_indices(rule: str, axis: Axis) -> np.ndarray:
    x, _ = source_coordinates(rule, axis)
    return np.minimum(np.floor(x).astype(np.int64), axis.in_size - 1)


@pytest.mark.parametrize(("nd", "dtype", "mode", "kernel"), list(_params()))
def test_rule_matches_torch_kernel(nd, dtype, mode, kernel):
    """The rule :func:`torch_nearest_rule` names picks PyTorch's source index on every axis (a
    ramp along one axis at a time shows PyTorch's index on that axis)."""
    bad = []
    for shape, kwargs in _grid(nd, dtype, mode, 80, seed=3):
        zeros = torch.zeros((1, 1, *shape), dtype=DTYPES[dtype])
        out = tuple(F.interpolate(zeros, **kwargs).shape[2:])
        rule = torch_nearest_rule(mode == "nearest-exact", out)
        for i in range(nd):
            view = [1] * nd
            view[i] = shape[i]
            ramp = torch.arange(shape[i], dtype=DTYPES[dtype]).reshape(view) + zeros[0, 0]
            ref = F.interpolate(ramp[None, None], mode=mode, **kwargs)[0, 0]
            ref = ref[tuple(slice(None) if j == i else 0 for j in range(nd))].long().numpy()
            factors = kwargs.get("scale_factor")
            given = factors is not None and not kwargs.get("recompute_scale_factor")
            f = factors[i] if given else out[i] / shape[i]
            axis = Axis(shape[i], out[i], f, given, double=dtype == "float64")
            if not np.array_equal(_rule_indices(rule, axis), ref):
                bad.append((shape, kwargs, i))
    assert not bad, f"{len(bad)} axes differ, e.g. {bad[:3]}"
