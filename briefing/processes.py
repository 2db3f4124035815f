"""Worker processes that end with the build that started them."""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from contextlib import suppress
from typing import Any

PR_SET_PDEATHSIG = 1
"""Linux prctl option: the signal a process gets when its parent dies."""


def worker_pool(workers: int, fork: bool = False) -> ProcessPoolExecutor:
    """A process pool whose workers get SIGTERM when the build dies, however it dies (even SIGKILL)."""
    context = multiprocessing.get_context("fork") if fork else None
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_die_with_parent)


def _die_with_parent() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent decides
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    library = ctypes.util.find_library("c")
    if library is None:
        return
    try:
        ctypes.CDLL(library, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the parent's handlers still stop its workers
        return


class Terminated(BaseException):
    """SIGTERM (what ``timeout`` and CI cancellation send): unwind like Ctrl-C, removing temporary files."""


class SignalGuard:
    """Turns SIGTERM into ``Terminated`` in the main thread while a command runs, and remembers it."""

    def __init__(self) -> None:
        self.terminated = False
        self._previous: object = None
        self._previous_hook = sys.unraisablehook
        self._installed = False

    def __enter__(self) -> SignalGuard:
        if threading.current_thread() is threading.main_thread():  # signals reach only that one
            self._previous = signal.signal(signal.SIGTERM, self._terminate)
            self._previous_hook = sys.unraisablehook
            sys.unraisablehook = self._swallowed
            self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            signal.signal(signal.SIGTERM, self._previous)  # type: ignore[arg-type]
            sys.unraisablehook = self._previous_hook

    def _swallowed(self, unraisable: Any) -> None:
        """The signal landed where Python cannot raise (a fork hook, a finalizer): deliver it again."""
        if isinstance(unraisable.exc_value, Terminated):
            threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGTERM)).start()
            return
        self._previous_hook(unraisable)

    def _terminate(self, signum: int, frame: object) -> None:
        self.terminated = True
        stop_workers()
        raise Terminated


def stop_workers() -> None:
    """Layout workers end with the build that started them, not when their queue is next read."""
    for child in multiprocessing.active_children():
        child.terminate()


def _default_signals_in_child() -> None:
    """A forked worker must not run the parent's SIGTERM handler, even before its initializer runs."""
    with suppress(ValueError):  # not the main thread: no Python handler can run there anyway
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


os.register_at_fork(after_in_child=_default_signals_in_child)
