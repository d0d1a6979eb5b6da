"""The steps deblur shares with its Dask path (upsampling._deblur_plan): given a plane's own
statistics they are deblur itself; given other statistics, those are what they use."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from upsampling import _deblur_plan as plan
from upsampling.deblur import check_arguments, deblur, estimate_noise

METHODS = ["wiener", "tikhonov", "tv", "richardson_lucy", "richardson_lucy_tv"]


@pytest.fixture(scope="module")
def planes():
    rng = np.random.default_rng(7)
    y = np.cumsum(np.cumsum(rng.standard_normal((2, 24, 20)), axis=1), axis=2) / 20
    return y + 0.02 * rng.standard_normal(y.shape) - 0.3  # negative values too


def test_noise_is_the_median_of_the_haar_detail(planes):
    median = np.median(plan.haar_detail(planes, 2), axis=-1)
    np.testing.assert_array_equal(plan.sigma_from_median(median), estimate_noise(planes, 2))
    np.testing.assert_array_equal(plan.noise(planes, 2), estimate_noise(planes, 2))
    assert plan.haar_detail(planes, 2).shape == (2, 12 * 10)
    np.testing.assert_array_equal(plan.noise(np.ones((3, 1, 5)), 2), np.zeros(3))


def test_spread_of_a_constant_plane():
    stats = plan.PlaneStats(*(np.array([0.0, 0.0]),) * 2, np.array([-3.0, 0.5]), np.zeros(2))
    np.testing.assert_array_equal(stats.spread, [3.0, 1.0])
    np.testing.assert_array_equal(stats.sigma, [3e-2, 1e-2])


@pytest.mark.parametrize("method", METHODS)
def test_solve_with_own_statistics_is_deblur(planes, method):
    p = check_arguments(planes, np.ones((3, 3)), method, "reflect", None, None, False)
    y = planes.astype(p.psf.dtype)
    got = plan.solve(y, p, plan.plane_statistics(planes, y))
    np.testing.assert_array_equal(got, deblur(planes, np.ones((3, 3)), method=method))


def test_richardson_lucy_shift_comes_from_the_given_minimum(planes):
    """A chunk of positive values in a plane with negative ones: shifted as the whole plane."""
    chunk = planes[:1] - planes[:1].min() + 0.1
    p = check_arguments(chunk, np.ones((3, 3)), "richardson_lucy", "reflect", None, 3, False)
    own = plan.plane_statistics(chunk, chunk)
    whole = dataclasses.replace(own, low=np.array([-1.0]))
    shifted = plan.solve(chunk, p, whole)
    by_hand = plan.solve(chunk + own.sigma[0] + 1.0, p, own) - (own.sigma[0] + 1.0)
    np.testing.assert_allclose(shifted, by_hand, rtol=0, atol=1e-12)
    assert np.abs(shifted - plan.solve(chunk, p, own)).max() > 1e-6


def test_finish_clips_then_rounds_and_saturates():
    out = np.array([-3.0, 0.4, 0.6, 300.0])
    np.testing.assert_array_equal(plan.finish(out, "uint8", None), [0, 0, 1, 255])
    np.testing.assert_array_equal(plan.finish(out, "float64", (0.0, 1.0)), [0, 0.4, 0.6, 1])
    assert plan.finish(out, "bfloat16", None) is out
