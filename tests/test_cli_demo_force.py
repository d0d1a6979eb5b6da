"""``upsampling demo`` refuses to overwrite its outputs without ``--force``, as ``compare`` and
``explain`` do: one line on stderr, exit status 1, checked before any work (issue 18)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from upsampling.cli.app import app

QUICK = ("--no-explain", "--size", "16")
OUTPUTS = ["methods.png", "results.csv", "results.json"]


def invoke(*args, **env: str):
    return CliRunner().invoke(app, [str(a) for a in args], env=env or None)


def one_line(result) -> str:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("upsampling demo: ")
    return line.removeprefix("upsampling demo: ")


def contents(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def test_a_rerun_is_refused_without_force_and_replaces_with_it(tmp_path):
    out = tmp_path / "demo"
    assert invoke("demo", "--out", out, *QUICK).exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == OUTPUTS
    before = contents(out)
    line = one_line(invoke("demo", "--out", out, *QUICK))
    assert line == (
        f"{out / 'methods.png'}: already exists (use --force to overwrite it) (and 2 other outputs)"
    )
    assert contents(out) == before  # nothing written
    result = invoke("demo", "--out", out, "--no-explain", "--size", "24", "--force")
    assert result.exit_code == 0, result.output
    assert json.loads((out / "results.json").read_text())["images"][0]["size"] == [24, 24]


def test_one_existing_output_is_named_alone_and_nothing_is_written(tmp_path):
    out = tmp_path / "demo"
    out.mkdir()
    (out / "results.csv").write_text("mine")
    line = one_line(invoke("demo", "--out", out, *QUICK))
    assert line == f"{out / 'results.csv'}: already exists (use --force to overwrite it)"
    assert contents(out) == {"results.csv": b"mine"}


def test_an_empty_or_unrelated_directory_is_fine(tmp_path):
    out = tmp_path / "demo"
    out.mkdir()
    (out / "notes.txt").write_text("kept")
    assert invoke("demo", "--out", out, *QUICK).exit_code == 0
    assert (out / "notes.txt").read_text() == "kept"


def test_make_demo_passes_force():
    """``make demo`` must keep working on a rerun (the README's quick start)."""
    makefile = (Path(__file__).parents[1] / "Makefile").read_text()
    recipe = makefile.split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    assert "-m upsampling demo --force" in recipe
