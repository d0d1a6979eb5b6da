"""Non-finite input to ``interpolate``: the one place where we deliberately differ from PyTorch.

Our weight tables drop taps of weight zero and merge the edge-clamped taps that name the same
pixel (``filters._compact``). PyTorch multiplies every tap on its own, so it gives NaN where an
infinity meets a weight of zero (``0 * inf``) or two clamped taps of opposite sign on the same
infinite pixel (``-w * inf + w' * inf``, cubic near the edge). The rule pinned here: we differ
from PyTorch only where PyTorch gives NaN; an output element that weighs no non-finite sample is
finite (and is PyTorch's value for the same input with the non-finite samples made finite); one
that weighs one is non-finite (issue 19)."""

from __future__ import annotations

import numpy as np
import pytest

from upsampling.interpolate import interpolate

torch = pytest.importorskip("torch")
F = torch.nn.functional

INF = np.inf

CASES = {
    # (input spatial shape, interpolate keywords)
    "linear-up": ((7,), dict(size=16, mode="linear")),
    "linear-corners": ((5,), dict(size=13, mode="linear", align_corners=True)),
    "linear-down": ((11,), dict(size=4, mode="linear")),
    "bilinear-up": ((5, 6), dict(size=(10, 13), mode="bilinear")),
    "bilinear-corners": ((4, 5), dict(scale_factor=2.5, mode="bilinear", align_corners=True)),
    "bilinear-antialias": ((12, 9), dict(size=(5, 4), mode="bilinear", antialias=True)),
    "bicubic-up": ((4, 5), dict(scale_factor=2, mode="bicubic")),
    "bicubic-corners": ((5, 4), dict(size=(9, 11), mode="bicubic", align_corners=True)),
    "bicubic-down": ((13, 11), dict(size=(6, 5), mode="bicubic")),
    "bicubic-antialias": ((12, 10), dict(size=(5, 4), mode="bicubic", antialias=True)),
    "trilinear": ((3, 4, 3), dict(size=(5, 7, 6), mode="trilinear")),
    "area": ((8, 6), dict(size=(3, 4), mode="area")),
    "nearest": ((4, 5), dict(scale_factor=1.7, mode="nearest")),
    "nearest-exact": ((4, 5), dict(size=(7, 3), mode="nearest-exact")),
}

PATTERNS = ["scattered", "all-minus-inf", "corner-inf", "edges-plus-minus-inf", "nan"]


def sample(rng, spatial, pattern):
    """``(1, 2, *spatial)`` float64 values in [0, 1] with some samples made non-finite."""
    x = rng.random((1, 2, *spatial))
    corner = (0, 0, *(0 for _ in spatial))
    if pattern == "scattered":
        flat = x.reshape(-1)
        picked = rng.choice(flat.size, size=max(2, flat.size // 8), replace=False)
        flat[picked] = rng.choice([INF, -INF, np.nan], size=picked.size)
    elif pattern == "all-minus-inf":
        x[:] = -INF
    elif pattern == "corner-inf":
        x[corner] = INF
    elif pattern == "edges-plus-minus-inf":
        x[(0, 0, *(0 for _ in spatial))] = INF
        x[(0, 1, *(s - 1 for s in spatial))] = -INF
    else:
        x[(0, 1, *(s // 2 for s in spatial))] = np.nan
    return x


def dense_weights(spatial, kw):
    """PyTorch's weight of every input sample in every output element, from its impulse
    responses: ``W[o, j]`` with edge-clamped taps of one pixel summed, as our tables store."""
    n = int(np.prod(spatial))
    basis = torch.eye(n, dtype=torch.float64).reshape(n, 1, *spatial)
    return F.interpolate(basis, **kw).reshape(n, -1).T.numpy()


def ours(x, kind, kw):
    if kind == "numpy":
        return interpolate(x, **kw)
    return interpolate(torch.from_numpy(x), **kw).numpy()


def check_rule(x, kw, got):
    """The rule of the module docstring, per channel plane."""
    spatial = x.shape[2:]
    weights = dense_weights(spatial, kw)
    theirs = F.interpolate(torch.from_numpy(x), **kw).numpy()
    made_finite = F.interpolate(torch.from_numpy(np.nan_to_num(x, nan=0, posinf=0, neginf=0)), **kw)
    made_finite = made_finite.numpy()
    for c in range(x.shape[1]):
        plane, out = x[0, c].reshape(-1), got[0, c].reshape(-1)
        ref, fin = theirs[0, c].reshape(-1), made_finite[0, c].reshape(-1)
        bad = ~np.isfinite(plane)
        weighs = (weights[:, bad] != 0).sum(axis=1)  # non-finite samples each element weighs
        # 1. we differ from PyTorch only where PyTorch gives NaN
        agree = ~np.isnan(ref)
        np.testing.assert_allclose(out[agree], ref[agree], rtol=1e-12, atol=1e-12)
        # 2. an element that weighs no non-finite sample is finite, the finite input's value
        clean = weighs == 0
        assert np.isfinite(out[clean]).all()
        np.testing.assert_allclose(out[clean], fin[clean], rtol=1e-12, atol=1e-12)
        # 3. one that weighs one non-finite sample is that sample times the sign of its weight
        for o in np.flatnonzero(weighs == 1):
            j = np.flatnonzero(bad & (weights[o] != 0))[0]
            expected = plane[j] * np.sign(weights[o, j])
            assert np.isnan(out[o]) if np.isnan(expected) else out[o] == expected, (o, j)
        # 4. more than one: non-finite (their infinities may cancel to NaN)
        assert not np.isfinite(out[weighs > 1]).any()
    return theirs


@pytest.mark.parametrize("kind", ["numpy", "tensor"])
@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("case", list(CASES))
def test_nonfinite_rule(rng, case, pattern, kind):
    spatial, kw = CASES[case]
    x = sample(rng, spatial, pattern)
    check_rule(x, kw, ours(x, kind, kw))


def test_the_issues_examples_differ_only_where_pytorch_gives_nan(rng):
    """The cases of the report: bilinear on all -inf, bicubic with +-inf at the corners."""
    x = np.full((1, 1, 5, 5), -INF)
    kw = dict(size=(10, 13), mode="bilinear")
    got = interpolate(x, **kw)
    theirs = check_rule(x, kw, got)
    assert (got == -INF).all() and np.isnan(theirs).any()
    x = rng.random((1, 2, 8, 8))
    x[0, 0, 0, 0] = INF
    x[0, 1, -1, -1] = -INF
    kw = dict(scale_factor=2, mode="bicubic")
    got = interpolate(x, **kw)
    theirs = check_rule(x, kw, got)
    differ = np.isnan(theirs) & ~np.isnan(got)
    # per corner, the 5 x 5 outputs that weigh it, less the 2 x 2 that read it once per axis
    assert differ.sum() == 2 * 21 and np.isinf(got[differ]).all()
    assert not np.isnan(got).any()


# ---------------------------------------------------------------- small examples, exact values
@pytest.mark.parametrize("kind", ["numpy", "tensor"])
def test_zero_weight_taps_are_not_read(kind):
    """``0 * inf``: with ``align_corners`` output 0 sits on pixel 0, and PyTorch still reads
    pixel 1 with weight 0."""
    x = np.array([[[1.0, INF, 3.0]]])
    kw = dict(size=5, mode="linear", align_corners=True)
    np.testing.assert_array_equal(ours(x, kind, kw), [[[1.0, INF, INF, INF, 3.0]]])
    np.testing.assert_array_equal(
        F.interpolate(torch.from_numpy(x), **kw), [[[np.nan, INF, INF, INF, 3.0]]]
    )
    # in 2-D: where output and input pixels coincide, the neighbours' weight is 0
    x = np.full((1, 1, 2, 2), -INF)
    x[0, 0, 1, 1] = 4.0
    kw = dict(size=(3, 3), mode="bilinear", align_corners=True)
    np.testing.assert_array_equal(
        ours(x, kind, kw)[0, 0], [[-INF] * 3, [-INF] * 3, [-INF, -INF, 4.0]]
    )
    # PyTorch: NaN wherever a -inf pixel has weight 0 (all but the centre and the 4)
    theirs = F.interpolate(torch.from_numpy(x), **kw)[0, 0].numpy()
    np.testing.assert_array_equal(
        theirs, [[np.nan, np.nan, np.nan], [np.nan, -INF, np.nan], [np.nan, np.nan, 4.0]]
    )


# Keys' cubic (a = -0.75) at the distances of a half-pixel x2 up-sampling: exact in binary.
W025, W075, W125, W175 = 0.87890625, 0.26171875, -0.10546875, -0.03515625


@pytest.mark.parametrize("kind", ["numpy", "tensor"])
def test_edge_clamped_taps_are_merged(kind):
    """``inf - inf``: near the left edge the taps -2, -1 and 0 all read pixel 0, with weights of
    both signs; we multiply pixel 0 once, by their sum."""
    assert W025 + W075 + W125 + W175 == 1.0
    x = np.array([[[INF, 1.0, 2.0, 3.0]]])
    got = ours(x, kind, dict(scale_factor=2, mode="cubic"))
    # merged weight of pixel 0 per output: W175 + W075 + W025 > 0, W125 + W025 > 0,
    # W175 + W075 > 0, W125 < 0, W175 < 0; outputs 5..7 do not weigh pixel 0
    expected = [
        INF,
        INF,
        INF,
        -INF,
        -INF,
        W125 * 1 + W025 * 2 + W075 * 3 + W175 * 3,
        W175 * 1 + W075 * 2 + W025 * 3 + W125 * 3,
        W125 * 2 + (W025 + W075 + W175) * 3,
    ]
    assert expected[5:] == [2.33203125, 2.80859375, 3.10546875]
    np.testing.assert_array_equal(got, [[expected]])
    # in 2-D, an infinity in a corner: the sign of each output is the product of the signs of
    # the merged weights of pixel 0 on each axis, [+, +, +, -, -] for outputs 0..4.
    x2 = np.zeros((1, 1, 4, 4))
    x2[0, 0, 0, 0] = INF
    kw = dict(scale_factor=2, mode="bicubic")
    mine = ours(x2, kind, kw)[0, 0]
    signs = np.array([1.0, 1.0, 1.0, -1.0, -1.0])
    expected2 = np.zeros((8, 8))
    expected2[:5, :5] = np.outer(signs, signs) * INF
    np.testing.assert_array_equal(mine, expected2)
    # PyTorch multiplies taps one by one: NaN wherever weights of both signs meet pixel 0
    # (outputs 0..2 on either axis); the same elsewhere.
    theirs = F.interpolate(torch.from_numpy(x2), **kw)[0, 0].numpy()
    nan = np.zeros((8, 8), bool)
    nan[:5, :3] = nan[:3, :5] = True
    assert (np.isnan(theirs) == nan).all()
    np.testing.assert_array_equal(theirs[~nan], expected2[~nan])


def test_finite_input_is_pytorchs(rng):
    """The rule costs nothing on finite input: bit for bit the same zero pattern, same values."""
    for case in ("bilinear-up", "bicubic-corners", "trilinear"):
        spatial, kw = CASES[case]
        x = rng.random((1, 2, *spatial))
        for kind in ("numpy", "tensor"):
            np.testing.assert_allclose(
                ours(x, kind, kw),
                F.interpolate(torch.from_numpy(x), **kw).numpy(),
                rtol=1e-12,
                atol=1e-12,
            )
