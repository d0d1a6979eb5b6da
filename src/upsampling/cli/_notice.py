"""A one-line notice on stderr while numba compiles the package's kernels for a first use.

With an empty numba cache (a fresh install, an upgrade) the first call of an operator compiles
its kernels: seconds with no output. Numba announces each compilation (a cache miss; a kernel
loaded from the cache compiles nothing) through its event API (``numba:compile``), so the
notice is exact: it appears at the first compilation of one of the package's kernels, once,
and never when the cache is warm.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

NOTICE = "Compiling numba kernels for first use (once per install; cached afterwards)..."


def _ours(event) -> bool:
    """Whether ``event`` compiles one of the package's kernels (not another library's)."""
    try:
        module = event.data["dispatcher"].py_func.__module__
    except (AttributeError, KeyError, TypeError):
        return False
    return module == "upsampling" or module.startswith("upsampling.")


@contextmanager
def compile_notice(write: Callable[[str], None]) -> Iterator[None]:
    """Within the block, call ``write(NOTICE)`` once when numba starts compiling one of the
    package's kernels (from any thread: :func:`upsampling._backend.run_planes` may compile in a
    worker), and not at all when every kernel comes from the cache.

    Parameters
    ----------
    write
        Writes one line, e.g. to stderr (so that ``--json`` output on stdout stays clean).
    """
    from numba.core import event

    lock = threading.Lock()
    done = [False]

    class _Listener(event.Listener):
        def on_start(self, ev) -> None:
            if not _ours(ev):
                return
            with lock:
                if done[0]:
                    return
                done[0] = True
            write(NOTICE)

        def on_end(self, ev) -> None:
            return None

    listener = _Listener()
    event.register("numba:compile", listener)
    try:
        yield
    finally:
        event.unregister("numba:compile", listener)
