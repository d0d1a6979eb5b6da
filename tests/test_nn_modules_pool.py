"""upsampling.nn.Unpool / MaxPool / MaxUnpool: argument checks at construction, forward equal to
the functions, extra_repr, autograd, the seed's pipeline, torch.compile."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import upsampling as up
from upsampling.nn import MaxPool, MaxUnpool, Unpool


def test_exported_from_the_package():
    assert up.nn.Unpool is Unpool and up.nn.MaxPool is MaxPool and up.nn.MaxUnpool is MaxUnpool


# ------------------------------------------------------------------------------- construction
BAD = [
    ("Unpool", lambda: Unpool(0), ValueError, "scale_factor (0,) must be positive"),
    ("Unpool", lambda: Unpool(1.5), TypeError, "scale_factor"),
    ("Unpool", lambda: Unpool(True), TypeError, "scale_factor"),
    ("Unpool", lambda: Unpool((2, 0)), ValueError, "scale_factor (2, 0)"),
    ("Unpool", lambda: Unpool(2, "bilinear"), ValueError, "mode 'bilinear'"),
    ("Unpool", lambda: Unpool(2, offset=1), ValueError, "bed_of_nails"),
    ("Unpool", lambda: Unpool(2, "bed_of_nails", offset=2), ValueError, "0 <= offset"),
    ("Unpool", lambda: Unpool((2, 2), "bed_of_nails", offset=(0, 1, 0)), ValueError, "all alike"),
    ("Unpool", lambda: Unpool((2,) * 4), ValueError, "1 to 3"),
    ("Unpool", lambda: Unpool(2, dtype="float32"), TypeError, "dtype"),
    ("Unpool", lambda: Unpool(2, device="gpu0"), TypeError, "device"),
    ("MaxPool", lambda: MaxPool(0), ValueError, "kernel_size"),
    ("MaxPool", lambda: MaxPool(2, stride=0), ValueError, "stride"),
    ("MaxPool", lambda: MaxPool(2, padding=-1), ValueError, "padding"),
    ("MaxPool", lambda: MaxPool(2, padding=2), ValueError, "at most half of kernel_size"),
    ("MaxPool", lambda: MaxPool((3, 2), padding=(1, 2)), ValueError, "at most half"),
    ("MaxPool", lambda: MaxPool(2, dilation=0), ValueError, "dilation"),
    ("MaxPool", lambda: MaxPool(2, ceil_mode="yes"), TypeError, "ceil_mode"),
    ("MaxPool", lambda: MaxPool((2, 2), stride=(1, 1, 1)), ValueError, "all alike"),
    ("MaxPool", lambda: MaxPool("2"), TypeError, "kernel_size"),
    ("MaxUnpool", lambda: MaxUnpool(0), ValueError, "kernel_size"),
    ("MaxUnpool", lambda: MaxUnpool(2, stride=-1), ValueError, "stride"),
    ("MaxUnpool", lambda: MaxUnpool(2, padding=-1), ValueError, "padding"),
    ("MaxUnpool", lambda: MaxUnpool(2.0), TypeError, "kernel_size"),
    ("MaxUnpool", lambda: MaxUnpool((2, 2), padding=(1, 1, 1)), ValueError, "all alike"),
]


@pytest.mark.parametrize("cls,make,exc,words", BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_construction_validates(cls, make, exc, words):
    with pytest.raises(exc, match=f"^{cls}: ") as info:
        make()
    assert words in str(info.value)


def test_stored_arguments_and_repr():
    assert repr(Unpool(2)) == "Unpool(scale_factor=2, mode='nearest', offset=0)"
    assert (
        repr(Unpool((2, 3), "bed_of_nails", offset=(1, 2)))
        == "Unpool(scale_factor=(2, 3), mode='bed_of_nails', offset=(1, 2))"
    )
    assert repr(MaxPool(2)) == (
        "MaxPool(kernel_size=2, stride=None, padding=0, dilation=1, ceil_mode=False)"
    )
    pool = MaxPool((3, 2), 2, 1, ceil_mode=True)
    assert (pool.kernel_size, pool.stride, pool.padding, pool.dilation) == (
        (3, 2),
        (2, 2),
        (1, 1),
        (1, 1),
    )
    assert "ceil_mode=True" in repr(pool)
    assert MaxPool(2, stride=[]).stride is None
    assert repr(MaxUnpool(2, 2)) == "MaxUnpool(kernel_size=2, stride=2, padding=0)"
    assert MaxPool(np.int64(2)).kernel_size == 2
    for module in (Unpool(2), MaxPool(2), MaxUnpool(2)):
        assert list(module.parameters()) == [] and module.state_dict() == {}


def test_device_and_dtype_are_accepted():
    x = torch.arange(8.0, dtype=torch.float64).reshape(1, 1, 8)
    kw = {"device": "cpu", "dtype": torch.float64}
    assert torch.equal(Unpool(2, **kw)(x), up.unpool(x, 2))
    values, indices = MaxPool(2, **kw)(x)
    assert values.tolist() == [[[1.0, 3.0, 5.0, 7.0]]]
    assert torch.equal(MaxUnpool(2, **kw)(values, indices), up.max_unpool(values, indices, 2))


# ------------------------------------------------------------------------------------ forward
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_forward_equals_the_functions(dims, rng):
    x = torch.from_numpy(rng.standard_normal((2, 3, *(6,) * dims)))
    assert torch.equal(Unpool(2)(x), up.unpool(x, 2))
    offset = (1, 0, 1)[:dims]
    nails = Unpool((2,) * dims, "bed_of_nails", offset=offset)
    assert torch.equal(nails(x), up.unpool(x, 2, "bed_of_nails", offset=offset))
    values, indices = MaxPool(3, 2, 1)(x)
    ref_values, ref_indices = up.max_pool(x, 3, 2, 1, return_indices=True)
    assert torch.equal(values, ref_values) and torch.equal(indices, ref_indices)
    unpooled = MaxUnpool(3, 2, 1)(values, indices, output_size=x.shape)
    assert torch.equal(unpooled, up.max_unpool(values, indices, 3, 2, 1, output_size=x.shape))


def test_seed_pipeline_with_modules():
    """The seed's code with our modules in place of nn.MaxPool2d / nn.MaxUnpool2d."""
    pool, unpool = MaxPool(2, stride=2), MaxUnpool(2, stride=2)
    x = torch.tensor([[[[1.0, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]]])
    output, indices = pool(x)
    assert unpool(output, indices).tolist() == [
        [[[0.0, 0, 0, 0], [0, 6, 0, 8], [0, 0, 0, 0], [0, 14, 0, 16]]]
    ]
    assert unpool(output, indices, output_size=torch.Size([1, 1, 5, 5])).tolist() == [
        [[[0.0, 0, 0, 0, 0], [6, 0, 8, 0, 0], [0, 0, 0, 14, 0], [16, 0, 0, 0, 0], [0, 0, 0, 0, 0]]]
    ]
    ref = torch.nn.MaxUnpool2d(2, 2)(*torch.nn.MaxPool2d(2, 2, return_indices=True)(x))
    assert torch.equal(unpool(output, indices), ref)


def test_module_errors_name_the_function_at_forward(rng):
    """Arguments that only the input's rank can check fail at forward, naming the function."""
    with pytest.raises(ValueError, match="unpool: scale_factor"):
        Unpool((2, 2))(torch.zeros(1, 1, 4))
    with pytest.raises(ValueError, match="max_unpool: output_size"):
        MaxUnpool(2)(torch.zeros(1, 1, 2), torch.zeros(1, 1, 2, dtype=torch.long), (9,))


def test_autograd_through_modules(rng):
    x = torch.from_numpy(rng.standard_normal((1, 2, 4, 6))).requires_grad_()

    def chain(t):
        values, indices = MaxPool(2)(t)
        return Unpool(2)(MaxUnpool(2)(values, indices))

    assert torch.autograd.gradcheck(chain, (x,))


def test_matches_torch_modules_in_training_loop(rng):
    """A few optimiser steps through MaxPool -> MaxUnpool give the same parameters as the same
    network built on torch.nn's pooling modules."""
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(1, 2, 3, padding=1, dtype=torch.float64)
    twin = torch.nn.Conv2d(1, 2, 3, padding=1, dtype=torch.float64)
    twin.load_state_dict(conv.state_dict())
    ours = (MaxPool(2), MaxUnpool(2))
    theirs = (torch.nn.MaxPool2d(2, return_indices=True), torch.nn.MaxUnpool2d(2))
    opt = torch.optim.SGD(conv.parameters(), lr=0.1)
    opt_twin = torch.optim.SGD(twin.parameters(), lr=0.1)
    x = torch.from_numpy(rng.standard_normal((2, 1, 8, 8)))
    for _ in range(3):
        for net, (pool, unpool), o in ((conv, ours, opt), (twin, theirs, opt_twin)):
            o.zero_grad()
            y = unpool(*pool(net(x)))
            F.mse_loss(y, x.expand_as(y)).backward()
            o.step()
    assert torch.equal(conv.weight, twin.weight) and torch.equal(conv.bias, twin.bias)


def test_torch_compile_module():
    module = torch.nn.Sequential(Unpool(2), Unpool((1, 2), "bed_of_nails", offset=(0, 1)))
    compiled = torch.compile(module, fullgraph=True)
    x = torch.tensor([[[[1.0, 2.0]]]])
    assert compiled(x).tolist() == [[[[0, 1, 0, 1, 0, 2, 0, 2], [0, 1, 0, 1, 0, 2, 0, 2]]]]
