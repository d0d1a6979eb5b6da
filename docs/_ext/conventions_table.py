"""The table of ``upsampling.conventions``, checked at build time against the libraries it names.

Every row is one preset of the live mapping (so a preset added to ``conventions.py`` appears on
the next build). Where the library is installed, the preset is run against it on a few size
pairs (up- and down-sampling, odd ratios) in float32 and, for OpenCV and Pillow, in uint8, and
the cell says what came out: "bit for bit", or the largest difference seen. The test suite
(``tests/test_conventions.py``) is the full check; this table only shows it.
"""

from __future__ import annotations

import importlib.util

import numpy as np

# (height, width) in -> out: up, down, mixed, one odd ratio
PAIRS = [((13, 17), (31, 40)), ((31, 40), (13, 17)), ((16, 16), (24, 9)), ((33, 17), (32, 18))]

OPENCV = {
    "nearest": "INTER_NEAREST",
    "nearest-exact": "INTER_NEAREST_EXACT",
    "linear": "INTER_LINEAR",
    "cubic": "INTER_CUBIC",
    "area": "INTER_AREA",
    "lanczos": "INTER_LANCZOS4",
}
PILLOW = {
    "nearest": "NEAREST",
    "linear": "BILINEAR",
    "cubic": "BICUBIC",
    "area": "BOX",
    "box": "BOX",
    "hamming": "HAMMING",
    "lanczos": "LANCZOS",
}
TORCH = {"linear": "bilinear", "cubic": "bicubic"}


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _opencv(x, size, method):
    import cv2

    flag = getattr(cv2, OPENCV[method])
    return cv2.resize(x, (size[1], size[0]), interpolation=flag)


def _pillow(x, size, method):
    from PIL import Image

    flag = getattr(Image.Resampling, PILLOW[method])
    mode = "F" if x.dtype == np.float32 else "L"
    return np.asarray(Image.fromarray(x, mode=mode).resize((size[1], size[0]), flag))


def _pytorch(x, size, method, preset):
    import torch

    mode = TORCH.get(method, preset.get("mode", "nearest"))
    extra = {"align_corners": preset["align_corners"]} if "align_corners" in preset else {}
    t = torch.from_numpy(np.ascontiguousarray(x)[None, None])
    return torch.nn.functional.interpolate(t, size=size, mode=mode, **extra)[0, 0].numpy()


def _onnx(x, size, method, preset):
    from onnx import TensorProto, helper
    from onnx.reference import ReferenceEvaluator

    attrs = {k: v for k, v in preset.items() if k not in ("mode", "preset")}
    for flag in ("exclude_outside", "antialias"):
        if flag in attrs:
            attrs[flag] = int(attrs[flag])
    node = helper.make_node(
        "Resize", ["x", "", "", "sizes"], ["y"], mode=preset.get("mode", "nearest"), **attrs
    )
    graph = helper.make_graph(
        [node],
        "resize",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, *x.shape]),
            helper.make_tensor_value_info("sizes", TensorProto.INT64, [4]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    feeds = {"x": x[None, None], "sizes": np.array([1, 1, *size], dtype=np.int64)}
    return ReferenceEvaluator(model).run(None, feeds)[0][0, 0]


def _oracle(library: str, method: str):
    """A function ``(x, size, preset) -> array`` of the library itself, or why there is none."""
    if library == "opencv":
        if method not in OPENCV:
            return None, "no OpenCV flag for this method in the table"
        if not _has("cv2"):
            return None, "OpenCV not installed"
        return lambda x, s, p: _opencv(x, s, method), None
    if library == "pillow":
        if method not in PILLOW:
            return None, "no Pillow filter for this method in the table"
        if not _has("PIL"):
            return None, "Pillow not installed"
        return lambda x, s, p: _pillow(x, s, method), None
    if library == "pytorch":
        if not _has("torch"):
            return None, "PyTorch not installed"
        return lambda x, s, p: _pytorch(x, s, method, p), None
    if library == "onnx":
        if not _has("onnx"):
            return None, "onnx not installed"
        return lambda x, s, p: _onnx(x, s, method, p), None
    return None, "not run here (see below)"


def _compare(oracle, preset, dtype) -> str:
    from upsampling import interpolate

    rng = np.random.default_rng(0)
    worst, differ, total = 0.0, 0, 0
    for in_size, out_size in PAIRS:
        if dtype == np.uint8:
            x = rng.integers(0, 256, in_size, dtype=np.uint8)
        else:
            x = rng.random(in_size, dtype=np.float32)
        try:
            ref = oracle(x, out_size, preset)
        except Exception as exc:  # the library refuses this dtype or method
            return f"the library refuses it ({type(exc).__name__})"
        try:
            got = interpolate(x[None, None], size=out_size, **preset)[0, 0]
        except (ValueError, TypeError) as exc:
            return f"not supported: {str(exc).split(':')[0]}"
        if got.shape != ref.shape:
            return f"shape {got.shape} vs {ref.shape}"
        d = np.abs(got.astype(np.float64) - ref.astype(np.float64))
        worst = max(worst, float(d.max()))
        differ += int(np.count_nonzero(d))
        total += d.size
    if worst == 0:
        return "bit for bit"
    if dtype == np.uint8:
        return f"±{worst:g} on {100 * differ / total:.2g}% of pixels"
    return f"≤ {worst:.1e}"


def _kwargs(preset) -> str:
    shown = {k: v for k, v in preset.items() if k != "preset"}
    return ", ".join(f"``{k}={v!r}``" for k, v in shown.items()) or "(none: the defaults)"


def rows() -> list[tuple[str, str, str, str, str]]:
    from upsampling import conventions

    out = []
    for library, methods in conventions.items():
        for method in methods:
            preset = dict(methods[method])
            oracle, why = _oracle(library, method)
            if oracle is None:
                f32 = u8 = why
            else:
                f32 = _compare(oracle, preset, np.float32)
                u8 = _compare(oracle, preset, np.uint8) if library in ("opencv", "pillow") else "—"
            out.append((library, method, _kwargs(preset), f32, u8))
    return out


def rst() -> str:
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 10 11 47 16 16",
        "   :class: conventions-table",
        "",
        "   * - library",
        "     - method",
        "     - keyword arguments of ``interpolate``",
        "     - float32 vs the library",
        "     - uint8 vs the library (grey levels)",
    ]
    for row in rows():
        lines.append(f"   * - {row[0]}")
        lines += [f"     - {cell}" for cell in row[1:]]
    return "\n".join(lines) + "\n"
