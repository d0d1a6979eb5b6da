"""``import upsampling`` and ``import upsampling.nn``, and a first eager call of each operator on
tensors, do not import ``torch._dynamo`` (about 1.6 CPU s: the compiler, loaded only by those who
compile or export). Checked in a fresh interpreter, as the modules a process has loaded are
the whole point."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

_SCRIPT = r"""
import json, sys
loaded = lambda: "torch._dynamo" in sys.modules
seen = {}
import upsampling as up
seen["import upsampling"] = loaded()
import torch
import upsampling.nn
seen["import upsampling.nn"] = loaded()
x = torch.randn(1, 4, 4, 4)
w = torch.randn(4, 3, 4, 4)
for grad in (False, True):
    t = x.clone().requires_grad_(grad)
    calls = {
        "interpolate bilinear": lambda: up.interpolate(t, scale_factor=2, mode="bilinear"),
        "interpolate nearest": lambda: up.interpolate(t, scale_factor=2),
        "unpool": lambda: up.unpool(t, 2),
        "max_pool": lambda: up.max_pool(t, 2),
        "max_unpool": lambda: up.max_unpool(t, torch.zeros(1, 4, 4, 4, dtype=torch.int64), 2),
        "conv_transpose": lambda: up.conv_transpose(t, w, stride=2, padding=1),
        "pixel_shuffle": lambda: up.pixel_shuffle(t, 2),
        "Upsample": lambda: upsampling.nn.Upsample(scale_factor=2, mode="bicubic")(t),
    }
    for name, call in calls.items():
        y = call()
        if grad:
            y.sum().backward()
        seen[f"{name} {'fwd+bwd' if grad else 'fwd'}"] = loaded()
print(json.dumps(seen))
"""


@pytest.fixture(scope="module")
def loaded() -> dict[str, bool]:
    """Whether ``torch._dynamo`` was loaded after each step of :data:`_SCRIPT`."""
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_the_package_and_its_torch_layer_leaves_the_compiler_alone(loaded):
    assert loaded["import upsampling"] is False
    assert loaded["import upsampling.nn"] is False


def test_first_eager_calls_leave_the_compiler_alone(loaded):
    calls = {k: v for k, v in loaded.items() if not k.startswith("import")}
    assert len(calls) == 16
    assert not any(calls.values()), [k for k, v in calls.items() if v]
