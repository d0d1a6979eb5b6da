"""The public type hints: each ``Literal`` of :mod:`upsampling._typing` names exactly what its
runtime table holds (a new mode without its name there fails here), and every public function,
layer and method annotates all its parameters and its return."""

from __future__ import annotations

import importlib
import inspect
import re
import typing

import numpy as np
import numpy.typing
import pytest
import scipy

import upsampling as up
from upsampling import _typing as T
from upsampling import deconvolution, filters
from upsampling.coordinates import COORDINATE_MODES
from upsampling.modes import MODES

# the modules (``upsampling.conv`` as an attribute is the function)
conv, deblur, resize, unpool = (
    importlib.import_module(f"upsampling.{name}") for name in ("conv", "deblur", "resize", "unpool")
)


def _names(alias) -> set[str]:
    """The strings of a ``Literal`` alias (or of the ``Literal`` inside a union)."""
    if typing.get_origin(alias) is typing.Literal:
        return set(typing.get_args(alias))
    literals = [a for a in typing.get_args(alias) if typing.get_origin(a) is typing.Literal]
    assert len(literals) == 1, alias
    return set(typing.get_args(literals[0]))


def _allowed(call) -> set[str]:
    """The names an error message lists as allowed (``... must be one of 'a', 'b'``)."""
    with pytest.raises(ValueError, match="must be one of") as info:
        call()
    listed = re.search(r"must be one of (.*)$", str(info.value)).group(1)
    return set(re.findall(r"'([^']*)'", listed))


def _x() -> np.ndarray:
    return np.zeros((1, 1, 4, 4), np.float32)


def _w() -> np.ndarray:
    return np.ones((1, 1, 3, 3), np.float32)


def _resize_methods() -> set[str]:
    return {m for table in up.conventions.values() for m in resize._methods(table)}


# ------------------------------------------------------------------- the Literals and their tables
TABLES = {
    "InterpolateMode": lambda: set(MODES),
    "CoordinateMode": lambda: {k for k in COORDINATE_MODES if not k.startswith("_")},
    "NearestMode": lambda: set(filters.NEAREST_MODES),
    "ResizeMethod": _resize_methods,
    "Convention": lambda: set(up.conventions),
    "UnpoolMode": lambda: set(unpool._UNPOOL_MODES),
    "ConvTransposeMethod": lambda: set(conv.METHODS),
    "DeconvolveMethod": lambda: set(deconvolution.METHODS),
    "DeblurMethod": lambda: set(deblur.METHODS),
    "DeblurBoundary": lambda: set(deblur.BOUNDARIES),
    "ConvPadding": lambda: _allowed(lambda: up.conv(_x(), _w(), padding="?")),
    "ConvTransposePadding": lambda: _allowed(lambda: up.conv_transpose(_x(), _w(), padding="?")),
}


@pytest.mark.parametrize("alias", sorted(TABLES))
def test_literal_names_what_its_table_holds(alias):
    names = typing.get_args(getattr(T, alias))
    if typing.get_origin(getattr(T, alias)) is typing.Literal:
        assert len(names) == len(set(names)), f"{alias} repeats a name"
    assert _names(getattr(T, alias)) == TABLES[alias]()


def test_the_layers_literals_name_what_their_tables_hold():
    pytest.importorskip("torch")
    from upsampling.nn import carafe, conv_transpose, dysample

    assert _names(T.ConvTransposeInit) == set(conv_transpose._INITS)
    assert _names(T.CarafeMethod) == set(carafe._METHODS)
    assert _names(T.DySampleStyle) == set(dysample._STYLES)


def test_every_literal_alias_is_checked():
    literals = {
        name
        for name in T.__all__
        if typing.get_origin(getattr(T, name)) is typing.Literal
        or any(typing.get_origin(a) is typing.Literal for a in typing.get_args(getattr(T, name)))
    }
    layers = {"ConvTransposeInit", "CarafeMethod", "DySampleStyle"}
    assert literals == set(TABLES) | layers


def test_resize_method_names_the_modes_of_images():
    # the table that ResizeMethod mirrors is computed: pin it, so that the test above compares
    # against something real
    assert _resize_methods() == set(MODES) - {"trilinear"}


# ---------------------------------------------------------------------- complete annotations
def _public_callables():
    """``(qualified name, callable)`` of every public function, layer and layer method."""
    found = []
    modules = [("upsampling", up), ("upsampling.shapes", up.shapes), ("upsampling.data", up.data)]
    try:
        import upsampling.nn

        modules.append(("upsampling.nn", upsampling.nn))
    except ImportError:  # torch not installed
        pass
    for prefix, module in modules:
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj):
                found.append((f"{prefix}.{name}", obj))
            elif inspect.isclass(obj):
                found.append((f"{prefix}.{name}", obj))
                for attr, member in vars(obj).items():
                    if inspect.isfunction(member) and (attr == "forward" or attr[0] != "_"):
                        found.append((f"{prefix}.{name}.{attr}", member))
    return found


CALLABLES = _public_callables()


def test_the_public_names_are_all_found():
    names = {name for name, _ in CALLABLES}
    for expected in ("interpolate", "resize", "max_pool", "shapes.conv_output_size", "data.sample"):
        assert f"upsampling.{expected}" in names
    assert len(CALLABLES) > 20


@pytest.mark.parametrize("name, obj", CALLABLES, ids=[name for name, _ in CALLABLES])
def test_every_parameter_and_return_is_annotated(name, obj):
    signature = inspect.signature(obj)
    parameters = list(signature.parameters.values())
    if not inspect.isclass(obj) and parameters and parameters[0].name == "self":
        parameters = parameters[1:]
    missing = [p.name for p in parameters if p.annotation is inspect.Parameter.empty]
    assert not missing, f"{name}: parameters {missing} have no annotation"
    assert signature.return_annotation is not inspect.Signature.empty, f"{name}: no return type"


@pytest.mark.parametrize("name, obj", CALLABLES, ids=[name for name, _ in CALLABLES])
def test_annotations_name_what_exists(name, obj):
    """Every annotation evaluates in its module (with the aliases, which ``nn.Upsample``'s copy of
    ``interpolate``'s signature names, and the names imported for type checkers only), and a
    ``Literal`` parameter's default is one of its names."""
    function = obj.__init__ if inspect.isclass(obj) else obj
    namespace = {**vars(T), **function.__globals__, "npt": numpy.typing, "scipy": scipy}
    signature = inspect.signature(obj)
    for p in signature.parameters.values():
        if isinstance(p.annotation, str):
            eval(p.annotation, namespace)
            alias = p.annotation.removesuffix(" | None")
            if isinstance(p.default, str) and alias in vars(T):
                assert p.default in _names(getattr(T, alias)), (name, p.name, p.default)
    if isinstance(signature.return_annotation, str):
        eval(signature.return_annotation, namespace)


def test_upsample_shows_interpolates_annotations():
    nn = pytest.importorskip("upsampling.nn")
    shown = inspect.signature(nn.Upsample).parameters
    for p in list(inspect.signature(up.interpolate).parameters.values())[1:]:
        assert shown[p.name].annotation == p.annotation
    assert shown["mode"].annotation == "InterpolateMode"


def test_max_pool_has_overloads_for_its_indices():
    overloads = typing.get_overloads(up.max_pool)
    returns = [inspect.signature(o).return_annotation for o in overloads]
    assert returns == ["Array", "tuple[Array, Array]", "Array | tuple[Array, Array]"]


def test_typing_module_imports_neither_torch_nor_dask():
    import subprocess
    import sys

    code = (
        "import sys, upsampling._typing; "
        "print(any(m in sys.modules for m in ('torch', 'dask', 'PIL')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
