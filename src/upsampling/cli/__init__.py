"""The command line ``upsampling demo | compare | explain | bench`` (or ``python -m upsampling``).

Importing this package imports nothing heavy; typer, rich and matplotlib are loaded by
:func:`main` and the commands that need them.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); exits with its status."""
    try:
        from .app import app
    except ImportError as exc:  # typer, rich or matplotlib missing
        import sys

        sys.stderr.write(
            f"upsampling: the command line needs the 'cli' extra ({exc.name} is missing): "
            "pip install 'upsampling[cli]'\n"
        )
        raise SystemExit(1) from None
    app(args=None if argv is None else list(argv), prog_name="upsampling")
