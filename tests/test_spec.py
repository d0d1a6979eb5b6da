"""One resize spec and one mode table: ``interpolate``, ``nn.Upsample`` and ``nn.ResizeConv``
accept the same arguments, the mode table is what the function accepts, and the spec survives
the custom op's encoding."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import upsampling as up
from upsampling.modes import MODES, names, resize_mode
from upsampling.nn import ResizeConv, Upsample
from upsampling.spec import ResizeSpec

F64 = torch.float64


def _keywords(mode: str) -> dict:
    """The keywords a call with ``mode`` needs (lanczos exists only antialiased)."""
    return {"mode": mode, **({"antialias": True} if MODES[mode].antialias == "required" else {})}


def _rank(mode: str) -> int:
    return MODES[mode].rank or 2


def _x(rng, rank: int, channels: int = 2) -> torch.Tensor:
    return torch.from_numpy(rng.standard_normal((1, channels, *(5,) * rank)))


# ------------------------------------------------------------------- the two Upsample bugs
def test_upsample_takes_lanczos(rng):
    x = _x(rng, 2)
    layer = Upsample(scale_factor=2, mode="lanczos", antialias=True)
    expected = up.interpolate(x, scale_factor=2, mode="lanczos", antialias=True)
    assert torch.equal(layer(x), expected)


def test_resize_conv_takes_lanczos(rng):
    layer = ResizeConv(2, 3, 2, mode="lanczos", dtype=F64)
    x = _x(rng, 2)
    assert layer.upsample.antialias is True
    expected = layer.conv(up.interpolate(x, scale_factor=2, mode="lanczos", antialias=True))
    assert torch.equal(layer(x), expected)


@pytest.mark.parametrize("library", sorted(up.conventions))
def test_upsample_takes_every_preset(rng, library):
    x = _x(rng, 2)
    for method, preset in up.conventions[library].items():
        kw = {"mode": "nearest", **preset}
        expected = up.interpolate(x, scale_factor=2, **kw)
        assert torch.equal(Upsample(scale_factor=2, **kw)(x), expected), (library, method)
        got = ResizeConv(2, 2, 2, dtype=F64, **kw).upsample(x)
        assert torch.equal(got, expected), (library, method)


# ------------------------------------------------------------ every mode, the same keywords
@pytest.mark.parametrize("mode", names())
def test_every_mode_of_interpolate_is_a_mode_of_the_layers(rng, mode):
    rank = _rank(mode)
    x = _x(rng, rank)
    kw = _keywords(mode)
    expected = up.interpolate(x, scale_factor=2, **kw)
    assert torch.equal(Upsample(scale_factor=2, **kw)(x), expected)
    layer = ResizeConv(2, 3, 2, dims=rank, dtype=F64, **kw)
    assert torch.equal(layer.upsample(x), expected)
    assert layer(x).shape == (1, 3, *(10,) * rank)


@pytest.mark.parametrize("mode", names("onnx"))
def test_every_onnx_mode_with_onnx_keywords(rng, mode):
    rank = _rank(mode)
    x = _x(rng, rank)
    kw = dict(mode=mode, coordinate_transformation_mode="asymmetric", nearest_mode="ceil")
    expected = up.interpolate(x, size=7, **kw)
    assert torch.equal(Upsample(size=7, **kw)(x), expected)


def test_modes_outside_the_table_are_refused_alike():
    for make in (
        lambda: up.interpolate(np.zeros((1, 1, 4, 4)), scale_factor=2, mode="box"),
        lambda: Upsample(scale_factor=2, mode="box"),
        lambda: ResizeConv(1, 1, 2, mode="box"),
    ):
        with pytest.raises(ValueError, match=r"mode 'box' must be one of 'nearest'.*'lanczos'"):
            make()


def test_resize_conv_checks_the_rank_of_its_mode():
    with pytest.raises(ValueError, match="ResizeConv: mode 'bilinear' needs 2 spatial"):
        ResizeConv(1, 1, 2, mode="bilinear", dims=3)


def test_the_table_is_what_interpolate_accepts(rng):
    """Each name of the table works on its rank under its semantics and is refused under the
    others; the table's PyTorch semantics are F.interpolate's where resize_mode names one."""
    for mode in names():
        m = MODES[mode]
        x = _x(rng, _rank(mode))
        up.interpolate(x, scale_factor=2, **_keywords(mode))
        if "onnx" not in m.semantics:
            with pytest.raises(ValueError, match=f"mode {mode!r}"):
                up.interpolate(x, scale_factor=2, mode=mode, nearest_mode="floor")
        if m.rank is not None:
            with pytest.raises(ValueError, match=f"{m.rank} spatial dimensions"):
                up.interpolate(_x(rng, m.rank % 3 + 1), scale_factor=2, **_keywords(mode))
        for rank in (1, 2, 3):
            name = resize_mode(mode, rank)
            if name is None or (m.rank is not None and m.rank != rank):
                continue
            x = _x(rng, rank)
            torch.testing.assert_close(
                up.interpolate(x, scale_factor=2, mode=mode), F.interpolate(x, None, 2, name)
            )


# ------------------------------------------------------------------------------- the spec
SPECS = [
    dict(size=4),
    dict(size=(4, 5)),
    dict(size=np.array([4, 5])),
    dict(scale_factor=np.float32(1.5), mode="bicubic", align_corners=True),
    dict(scale_factor=(2, 0.5), mode="linear", antialias=True, recompute_scale_factor=True),
    dict(size=3, mode="cubic", cubic_coeff_a=-0.5, exclude_outside=True),
    dict(
        size=[3, 4],
        mode="linear",
        coordinate_transformation_mode="tf_crop_and_resize",
        roi=[0.1, 0.2, 0.8, 0.9],
        extrapolation_value=float("nan"),
    ),
]


@pytest.mark.parametrize("kw", SPECS, ids=range(len(SPECS)))
def test_spec_survives_the_ops_encoding(kw):
    spec = ResizeSpec.of("t", **kw)
    back = ResizeSpec.from_key(spec.key(), spec.size_values(), spec.scale_values())
    assert back.key() == spec.key() and back.size == spec.size
    assert back.scale_factor == spec.scale_factor
    assert repr(back) == repr(spec)  # (nan != nan: compare the text)


def test_spec_holds_plain_values():
    spec = ResizeSpec.of("t", size=np.array([4, 5]), exclude_outside=np.bool_(True))
    assert spec.size == (4, 5) and all(type(v) is int for v in spec.size)
    assert spec.exclude_outside is True and spec.onnx
    assert spec.resolved("nearest_mode") == "round_prefer_floor"
    assert ResizeSpec.of("t", scale_factor=[2, 3]).scale_factor == (2.0, 3.0)


def test_spec_refuses_unknown_arguments():
    with pytest.raises(TypeError, match=r"t: arguments got an unexpected keyword .*'sise'"):
        ResizeSpec.of("t", sise=2)
    with pytest.raises(TypeError, match="Upsample: arguments got an unexpected keyword"):
        Upsample(scale_factor=2, sise=2)


def test_upsample_reads_its_spec_and_shows_interpolates_signature():
    layer = Upsample(size=[3, 4], mode="bilinear", align_corners=False)
    assert layer.size == (3, 4) and layer.mode == "bilinear" and layer.align_corners is False
    assert layer.options() == layer.spec.options()
    shown = list(inspect.signature(Upsample).parameters)
    expected = list(inspect.signature(up.interpolate).parameters)[1:]
    assert shown == [*expected, "device", "dtype"]
    with pytest.raises(AttributeError):
        layer.mode = "nearest"  # one spec, not a copy that could drift


def test_upsample_compiles_with_its_spec(rng):
    layer = Upsample(scale_factor=2, mode="lanczos", antialias=True)
    x = _x(rng, 2).requires_grad_()
    compiled = torch.compile(layer, fullgraph=True, backend="eager")
    y = compiled(x)
    assert torch.equal(y, layer(x))


def test_the_spec_cache_keeps_types_apart():
    """2, 2.0 and True are equal keys to a dict: the cache must not let a bool through after
    the number it equals, nor hand one call's spec to a call with other types."""
    x = np.zeros((1, 1, 4, 4))
    up.interpolate(x, scale_factor=1)
    up.interpolate(x, size=1)
    with pytest.raises(TypeError, match="scale_factor True must be a real number"):
        up.interpolate(x, scale_factor=True)
    with pytest.raises(TypeError, match="size"):
        up.interpolate(x, size=True)
    up.interpolate(x, size=(2, 3), mode="bilinear", antialias=False)
    with pytest.raises(TypeError, match="antialias"):
        up.interpolate(x, size=(2, 3), mode="bilinear", antialias=0)
    assert ResizeSpec.of("t", size=[2, 3]) == ResizeSpec.of("t", size=(2, 3))  # lists: no cache


def test_upsample_refuses_an_absurd_factor_at_construction():
    with pytest.raises(ValueError, match=r"Upsample: scale_factor 1e\+300 must be at most 2\*\*62"):
        Upsample(scale_factor=1e300)


# ------------------------------------------------------------------------------ presets
def test_a_preset_without_its_mode_is_refused():
    """The footgun: a preset for calls that name their mode, used without mode, ran nearest."""
    x = np.random.default_rng(0).random((1, 1, 5, 5))
    with pytest.raises(ValueError, match=r"preset 'opencv/bilinear' reproduces mode 'linear'"):
        up.interpolate(x, scale_factor=2, **up.conventions["opencv"]["bilinear"])
    with pytest.raises(ValueError, match=r"Upsample: preset 'pillow/nearest'"):
        Upsample(scale_factor=2, mode="bicubic", **up.conventions["pillow"]["nearest"])
    with pytest.raises(ValueError, match="preset 'nope/linear' must name a preset"):
        up.interpolate(x, scale_factor=2, preset="nope/linear")


@pytest.mark.parametrize("library", sorted(up.conventions))
def test_every_preset_works_with_its_own_mode(rng, library):
    """Each preset runs with the modes of its method, and gives what it gave without the
    ``preset`` keyword (it changes nothing but the check)."""
    x = _x(rng, 2)
    for method in [*up.conventions[library], "bilinear", "bicubic"]:
        if method not in up.conventions[library]:
            continue
        preset = dict(up.conventions[library][method])
        assert preset.pop("preset") == f"{library}/{method}"
        mode = preset.pop(
            "mode", {"bilinear": "bilinear", "bicubic": "bicubic"}.get(method, "nearest")
        )
        got = up.interpolate(x, size=(7, 9), mode=mode, preset=f"{library}/{method}", **preset)
        assert torch.equal(got, up.interpolate(x, size=(7, 9), mode=mode, **preset))
