"""The notice the command line prints while numba compiles kernels for a first use."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numba as nb
from numba.core import event
from typer.testing import CliRunner

from upsampling.cli import resize
from upsampling.cli._notice import NOTICE, compile_notice
from upsampling.cli.app import app


def fresh_kernel(module: str):
    """A numba function never compiled before, reported as defined in ``module``."""

    def kernel(a):
        return a + 1

    kernel.__module__ = module
    return nb.njit(kernel)  # no cache: every call of this helper compiles anew


def compile_event(module: str) -> None:
    data = {"dispatcher": SimpleNamespace(py_func=SimpleNamespace(__module__=module))}
    event.start_event("numba:compile", data=data)
    event.end_event("numba:compile", data=data)


def test_notice_once_for_the_packages_compilations_only():
    lines = []
    with compile_notice(lines.append):
        compile_event("other_library.kernels")
        assert lines == []
        compile_event("upsampling._kernels.interpolate")
        compile_event("upsampling._kernels.unpool")
    assert lines == [NOTICE]
    compile_event("upsampling._kernels.interpolate")  # outside the block: no listener left
    assert lines == [NOTICE]


def test_notice_on_a_real_compilation_and_not_on_a_warm_kernel():
    kernel = fresh_kernel("upsampling._kernels.test_only")
    lines = []
    with compile_notice(lines.append):
        assert kernel(1) == 2  # compiles
    assert lines == [NOTICE]
    lines.clear()
    with compile_notice(lines.append):
        assert kernel(2) == 3  # compiled already: nothing to say
    assert lines == []


def test_cli_notice_goes_to_stderr_and_json_stdout_stays_clean(monkeypatch, tmp_path):
    def fake_run_resize(inputs, options, *, json, echo, **_):
        assert json
        fresh_kernel("upsampling._kernels.test_only")(1)  # the first call compiles
        echo('[{"input": "a.png"}]')
        return 0

    monkeypatch.setattr(resize, "run_resize", fake_run_resize)
    result = CliRunner().invoke(app, ["resize", str(tmp_path / "a.png"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"input": "a.png"}]
    assert result.stderr.strip() == NOTICE
