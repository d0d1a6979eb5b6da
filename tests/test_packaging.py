"""Packaging basics (issue 18): one version string, ``upsampling --version``, ``py.typed`` and
the licence in the built package, and a ``dir(upsampling.nn)`` without ``torch``."""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

import upsampling
from upsampling.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
needs_checkout = pytest.mark.skipif(
    not (ROOT / "pyproject.toml").is_file(), reason="needs the source checkout"
)


# ------------------------------------------------------------------------------- the version
def test_version_option():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"upsampling {upsampling.__version__}\n"
    run = subprocess.run(
        [sys.executable, "-m", "upsampling", "--version"], capture_output=True, text=True
    )
    assert (run.returncode, run.stdout) == (0, f"upsampling {upsampling.__version__}\n")


def test_the_installed_version_is_the_package_version():
    assert importlib.metadata.version("upsampling") == upsampling.__version__


@needs_checkout
def test_pyproject_reads_the_one_version_string():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"]
    assert "version" in pyproject["project"]["dynamic"]
    dynamic = pyproject["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "upsampling.__version__"}


# ------------------------------------------------------------------------------ upsampling.nn
def test_dir_of_nn_lists_its_layers_only():
    import upsampling.nn as nn

    names = dir(nn)
    assert "torch" not in names and "annotations" not in names
    assert set(nn.__all__) <= set(names)
    assert [n for n in names if not n.startswith("__")] == sorted(nn.__all__)
    from upsampling.nn import MaxPool, _dispatch  # noqa: F401  (imports still work)


# ------------------------------------------------------------------------ files of the package
def test_py_typed_is_in_the_installed_package():
    assert importlib.resources.files("upsampling").joinpath("py.typed").is_file()


@needs_checkout
def test_license_and_changelog():
    licence = (ROOT / "LICENSE").read_text()
    assert licence.startswith("MIT License\n\nCopyright (c) 2026 the upsampling developers\n")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["license"] == "MIT"
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert "\n## Unreleased\n" in changelog and "\n## 0.1.0\n" in changelog


@needs_checkout
def test_the_wheel_holds_py_typed_the_license_and_the_version(tmp_path):
    """Built offline with the installed setuptools (no build isolation) from a copy of the
    checkout, so that the working tree gets no build files."""
    setuptools = pytest.importorskip("setuptools")
    if int(setuptools.__version__.split(".")[0]) < 77:
        pytest.skip("the build needs setuptools>=77")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, tmp_path / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=ignore)
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "-q", "-w", str(tmp_path / "dist"), str(tmp_path)],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "upsampling/py.typed" in names
    info = f"upsampling-{upsampling.__version__}.dist-info"
    assert f"{info}/licenses/LICENSE" in names
    metadata = zipfile.ZipFile(wheel).read(f"{info}/METADATA").decode()
    assert f"\nVersion: {upsampling.__version__}\n" in metadata
    assert "\nLicense-Expression: MIT\n" in metadata


def test_dir_of_the_package_lists_its_api_only():
    import upsampling as up

    names = dir(up)
    assert not {"Any", "annotations", "importlib"} & set(names)
    assert [n for n in names if not n.startswith("__")] == sorted(up.__all__)
    assert "__version__" in names and up.nn.Upsample and up.data.sample  # lazy names still load
