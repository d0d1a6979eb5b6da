"""Run every benchmark: each ``benchmarks/<name>.py`` module's ``main()``, one after the other.

    python benchmarks/run.py              # all of them (what ``make bench`` runs)
    python benchmarks/run.py unpool conv  # only these
    python benchmarks/run.py --list

A module takes part when it defines ``main(argv)`` or ``main()``; it gets no arguments, so each
uses its own defaults (same thread count for every library, median of repeats: see
``common.py``). A table that ``main`` returns is also written to ``benchmarks/results/<name>.md``
(ignored by git). ``upsampling bench`` is the installed, shorter version of the same comparison.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import pathlib
import sys
import time
import traceback

HERE = pathlib.Path(__file__).resolve().parent
NOT_BENCHMARKS = {"run", "common"}


def modules() -> list[str]:
    return sorted(
        p.stem
        for p in HERE.glob("*.py")
        if p.stem not in NOT_BENCHMARKS and not p.stem.startswith("_")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="benchmark modules to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the benchmark modules")
    args = parser.parse_args(argv)
    available = modules()
    if args.list:
        print("\n".join(available))
        return 0
    unknown = [n for n in args.names if n not in available]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(available)}")
    sys.path.insert(0, str(HERE))
    failed = []
    for name in args.names or available:
        print(f"\n## {name}\n", flush=True)
        start = time.perf_counter()
        try:
            module = importlib.import_module(name)
            if not callable(getattr(module, "main", None)):
                print(f"(skipped: {name}.py has no main())")
                continue
            # an empty command line, so a module's argparse never sees this script's arguments
            takes_argv = bool(inspect.signature(module.main).parameters)
            saved, sys.argv = sys.argv, [str(HERE / f"{name}.py")]
            try:
                table = module.main([]) if takes_argv else module.main()
            finally:
                sys.argv = saved
        except Exception:  # one broken benchmark must not hide the others
            traceback.print_exc()
            failed.append(name)
            continue
        if isinstance(table, str) and table:
            out = HERE / "results" / f"{name}.md"
            out.parent.mkdir(exist_ok=True)
            out.write_text(table + "\n")
        print(f"\n({name}: {time.perf_counter() - start:.1f} s)", flush=True)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
