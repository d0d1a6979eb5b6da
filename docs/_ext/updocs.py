"""What the pages show that is computed while the site is built.

* ``builder-inited``: the ``upsampling explain`` figures (through ``write_topic``, the function
  the command calls), the command line's own ``--help`` text, and the table of
  :data:`upsampling.conventions` checked against the libraries it names, written under
  ``docs/_generated/`` (a file is rewritten only when its content changes, so a rebuild rereads
  only what changed).
* ``env-check-consistency``: every name of ``upsampling.__all__``, ``upsampling.nn.__all__`` and
  ``upsampling.shapes.__all__`` has an entry in the API reference, or the build warns.
* ``.. run-code::``: a block of Python run at build time in one namespace per page; the page
  shows the code and what it printed. An exception fails the build.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import textwrap
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx.util import logging

sys.path.insert(0, os.path.dirname(__file__))

import conventions_table

logger = logging.getLogger(__name__)

# the figures the method pages show: (topic, file name, options of `upsampling explain`)
FIGURES = [
    ("unpooling", "unpooling.png", {}),
    ("max-unpooling", "max-unpooling.png", {}),
    ("bilinear", "bilinear.png", {}),
    ("deconvolution", "deconvolution.png", {}),
    ("conv-matrix", "conv-matrix.png", {}),
    ("transposed-conv", "transposed-conv.png", {}),
    ("checkerboard", "checkerboard.png", {}),
]


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _figures(out: Path) -> None:
    from upsampling.cli.demo import write_topic

    out.mkdir(parents=True, exist_ok=True)
    for topic, name, options in FIGURES:
        new = out / f".{name}"
        write_topic(topic, new, force=True, **options)
        old = out / name
        if old.exists() and old.read_bytes() == new.read_bytes():
            new.unlink()
        else:
            new.replace(old)


def _cli_help() -> str:
    """The help of ``upsampling`` and of each command, as typer prints it, in one reST page."""
    import typer
    from typer.testing import CliRunner

    from upsampling.cli.app import app

    env = {"COLUMNS": "80", "TERMINAL_WIDTH": "80", "NO_COLOR": "1", "TERM": "dumb"}
    runner = CliRunner()

    def help_of(*args: str) -> str:
        result = runner.invoke(app, [*args, "--help"], prog_name="upsampling", env=env)
        if result.exit_code != 0:
            raise RuntimeError(f"upsampling {' '.join(args)} --help failed: {result.output}")
        lines = [line.rstrip() for line in result.output.splitlines()]
        text = "\n".join(lines).strip("\n")
        return textwrap.indent(text, "   ")

    parts = [
        "``upsampling``",
        "--------------",
        "",
        ".. code-block:: text",
        "",
        help_of(),
        "",
    ]
    for name in typer.main.get_command(app).commands:
        title = f"``upsampling {name}``"
        parts += [title, "-" * len(title), "", ".. code-block:: text", "", help_of(name), ""]
    return "\n".join(parts) + "\n"


def _nn_modules() -> str:
    """A section per public module of ``upsampling.nn``: its docstring and what it defines."""
    import importlib
    import inspect
    import pkgutil

    import upsampling.nn as nn

    parts = []
    for info in sorted(pkgutil.iter_modules(nn.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        name = f"upsampling.nn.{info.name}"
        module = importlib.import_module(name)
        own = getattr(module, "__all__", None) or [
            n
            for n, v in vars(module).items()
            if not n.startswith("_") and getattr(v, "__module__", None) == name
        ]
        exported = [n for n in own if n in nn.__all__]
        others = [n for n in own if n not in nn.__all__ and inspect.isfunction(getattr(module, n))]
        title = f"``{name}``"
        parts += [title, "~" * len(title), "", f".. automodule:: {name}", "   :no-members:", ""]
        if exported:
            links = ", ".join(f":obj:`~upsampling.nn.{n}`" for n in exported)
            parts += [f"Defines {links}.", ""]
        for n in others:
            parts += [f".. autofunction:: {name}.{n}", ""]
    return "\n".join(parts) + "\n"


def generate(app) -> None:
    gen = Path(app.srcdir) / "_generated"
    _figures(gen / "explain")
    _write_if_changed(gen / "nn_modules.rst", _nn_modules())
    _write_if_changed(gen / "cli.rst", _cli_help())
    _write_if_changed(gen / "conventions_table.rst", conventions_table.rst())


class RunCode(Directive):
    """Run the block's Python (one namespace per page) and show it with what it printed."""

    has_content = True

    def run(self):
        env = self.state.document.settings.env
        spaces = env.temp_data.setdefault("run_code_namespaces", {})
        namespace = spaces.setdefault(env.docname, {"__name__": "__docs__"})
        code = "\n".join(self.content)
        printed = io.StringIO()
        try:
            with contextlib.redirect_stdout(printed):
                exec(compile(code, f"<{env.docname}>", "exec"), namespace)
        except Exception as exc:
            raise self.error(f"run-code failed: {type(exc).__name__}: {exc}") from exc
        source = nodes.literal_block(code, code, language="python")
        out = [source]
        if printed.getvalue():
            text = printed.getvalue().rstrip("\n")
            shown = nodes.literal_block(text, text, language="text", classes=["run-code-output"])
            out.append(shown)
        return out


def _public_names() -> list[str]:
    import upsampling
    import upsampling.nn
    import upsampling.shapes

    names = [f"upsampling.{n}" for n in upsampling.__all__]
    names += [f"upsampling.nn.{n}" for n in upsampling.nn.__all__]
    names += [f"upsampling.shapes.{n}" for n in upsampling.shapes.__all__]
    return names


def check_documented(app, env) -> None:
    """Every public name has a page: a name added to an ``__all__`` without one fails ``-W``."""
    domain = env.get_domain("py")
    known = set(domain.objects) | set(domain.modules)
    for name in _public_names():
        if name not in known:
            logger.warning("public name %s is not in the API reference (docs/api/)", name)


def setup(app):
    app.connect("builder-inited", generate)
    app.connect("env-check-consistency", check_documented)
    app.add_directive("run-code", RunCode)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
