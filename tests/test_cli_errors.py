"""The command line's output paths: an existing file, a path below a file, a directory without
write permission. Each is one line on stderr naming the path and the reason, exit status 1, no
traceback, and nothing written (issue 19)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from upsampling.cli.app import app
from upsampling.cli.io import CliError, directory_problem, write_atomic

ROOT = os.name == "posix" and os.geteuid() == 0
needs_permissions = pytest.mark.skipif(
    os.name != "posix" or ROOT, reason="file permissions are not enforced for root"
)


def invoke(*args, **env: str):
    return CliRunner().invoke(app, [str(a) for a in args], env=env or None)


def one_line(result, command: str) -> str:
    """The single stderr line of a refused command, without its ``upsampling CMD: `` prefix."""
    assert result.exit_code == 1, result.output
    # typer.Exit, not an exception escaping (which the runner would record as the exception)
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    (line,) = result.stderr.strip().splitlines()
    prefix = f"upsampling {command}: "
    assert line.startswith(prefix)
    return line[len(prefix) :]


@pytest.fixture
def image(tmp_path):
    y, x = np.mgrid[0:24, 0:24] / 24
    rgb = np.stack([x, y, 0.5 + 0.4 * np.sin(9 * x * y)], -1)
    path = tmp_path / "good.png"
    Image.fromarray(np.rint(rgb * 255).astype(np.uint8)).save(path)
    return path


@pytest.fixture
def afile(tmp_path):
    path = tmp_path / "afile"
    path.write_text("not a directory")
    return path


@pytest.fixture
def readonly(tmp_path):
    path = tmp_path / "readonly"
    path.mkdir(mode=0o500)
    yield path
    path.chmod(0o700)


def listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


# ------------------------------------------------------------------- compare and demo --out
def dir_cases(tmp_path, afile, readonly):
    return {
        "an-existing-file": (afile, f"{afile} is a file, not a directory"),
        "below-a-file": (afile / "sub", f"{afile} is a file, not a directory"),
        "unwritable": (readonly, f"permission denied: cannot write into {readonly}"),
        "below-unwritable": (
            readonly / "sub",
            f"permission denied: cannot create a directory in {readonly}",
        ),
    }


DIR_CASES = [
    "an-existing-file",
    "below-a-file",
    pytest.param("unwritable", marks=needs_permissions),
    pytest.param("below-unwritable", marks=needs_permissions),
]


@pytest.mark.parametrize("case", DIR_CASES)
def test_compare_out_that_cannot_be_a_directory(tmp_path, image, afile, readonly, case):
    out, reason = dir_cases(tmp_path, afile, readonly)[case]
    before = listing(tmp_path)
    result = invoke("compare", image, "-m", "nearest", "--out", out, "-f", "json")
    assert one_line(result, "compare") == f"{out}: cannot write the output there ({reason})"
    assert result.stdout == ""  # refused before any work
    assert listing(tmp_path) == before


@pytest.mark.parametrize("case", DIR_CASES)
def test_demo_out_that_cannot_be_a_directory(tmp_path, afile, readonly, case):
    out, reason = dir_cases(tmp_path, afile, readonly)[case]
    before = listing(tmp_path)
    result = invoke("demo", "--out", out, "--no-explain", UPSAMPLING_DEMO_SIZE="16")
    assert one_line(result, "demo") == f"{out}: cannot write the output there ({reason})"
    assert listing(tmp_path) == before


def test_compare_output_file_that_is_a_directory(tmp_path, image):
    out = tmp_path / "out"
    (out / "results.json").mkdir(parents=True)
    result = invoke("compare", image, "-m", "nearest", "--out", out, "--force")
    line = one_line(result, "compare")
    assert line == f"{out / 'results.json'}: is a directory, cannot write a file there"


# ---------------------------------------------------------------------------- explain --out
@pytest.mark.parametrize(
    "case",
    [
        "below-a-file",
        "two-below-a-file",
        "a-directory",
        pytest.param("unwritable", marks=needs_permissions),
        pytest.param("below-unwritable", marks=needs_permissions),
    ],
)
def test_explain_out_that_cannot_be_written(tmp_path, afile, readonly, case):
    (tmp_path / "dir.png").mkdir()
    out, message = {
        "below-a-file": (
            afile / "x.png",
            f"cannot write the file ({afile} is a file, not a directory)",
        ),
        "two-below-a-file": (
            afile / "y" / "x.png",
            f"cannot write the file ({afile} is a file, not a directory)",
        ),
        "a-directory": (tmp_path / "dir.png", "is a directory, cannot write a file there"),
        "unwritable": (
            readonly / "x.png",
            f"cannot write the file (permission denied: cannot write into {readonly})",
        ),
        "below-unwritable": (
            readonly / "y" / "x.png",
            f"cannot write the file (permission denied: cannot create a directory in {readonly})",
        ),
    }[case]
    before = listing(tmp_path)
    result = invoke("explain", "unpooling", "--out", out, "--force")
    assert one_line(result, "explain") == f"{out}: {message}"
    assert listing(tmp_path) == before


# ------------------------------------------------------------------- the layers underneath
def test_directory_problem_sees_permissions_as_os_access_does(tmp_path, monkeypatch):
    # root ignores mode bits; here the permission check itself is exercised for every user
    assert directory_problem(tmp_path / "new" / "deeper") is None
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    assert directory_problem(tmp_path) == f"permission denied: cannot write into {tmp_path}"
    assert directory_problem(tmp_path / "new") == (
        f"permission denied: cannot create a directory in {tmp_path}"
    )


@pytest.mark.parametrize(
    "error",
    [PermissionError(13, "Permission denied"), OSError(28, "No space left on device")],
    ids=["permission", "disk-full"],
)
def test_write_atomic_turns_os_errors_into_one_line(tmp_path, monkeypatch, error):
    def refuse(*args, **kwargs):
        raise error

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    target = tmp_path / "out.bin"
    with pytest.raises(CliError) as caught:
        write_atomic(target, b"data", force=False)
    reason = error.strerror[0].lower() + error.strerror[1:]
    assert str(caught.value) == f"{target}: cannot write the file ({reason})"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_write_atomic_removes_its_temporary_file_when_the_rename_fails(tmp_path, monkeypatch):
    def refuse(src, dst):
        raise PermissionError(13, "Permission denied", os.fspath(dst))

    monkeypatch.setattr(os, "replace", refuse)
    target = tmp_path / "out.bin"
    with pytest.raises(CliError) as caught:
        write_atomic(target, b"data", force=False)
    assert str(caught.value) == f"{target}: cannot write the file (permission denied)"
    assert os.listdir(tmp_path) == []


def test_an_os_error_the_commands_do_not_foresee_is_one_line(monkeypatch, image, tmp_path):
    from upsampling.cli import compare

    def refuse(path):
        raise OSError(5, "Input/output error", os.fspath(path))

    monkeypatch.setattr(compare, "read_image", refuse)
    result = invoke("compare", image, "-m", "nearest")
    assert one_line(result, "compare") == f"{image}: input/output error"


# --------------------------------------------------------------------- a real process, too
def test_no_traceback_from_the_installed_command(tmp_path, image, afile):
    run = subprocess.run(
        [sys.executable, "-m", "upsampling", "compare", str(image), "--out", str(afile)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1
    assert run.stderr == (
        f"upsampling compare: {afile}: cannot write the output there "
        f"({afile} is a file, not a directory)\n"
    )
    assert run.stdout == ""
