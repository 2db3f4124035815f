"""Worker processes that end with the build that started them."""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

T = TypeVar("T")

PR_SET_PDEATHSIG = 1
"""Linux prctl option: the signal a process gets when its parent dies."""


HELD_SIGNALS = {signal.SIGINT, signal.SIGTERM}


@contextmanager
def signals_held() -> Iterator[None]:
    """Ctrl-C or a TERM waits the moment a step takes that must not be cut in half, then acts."""
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
    except (AttributeError, OSError, ValueError):  # no signal masks here
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def run_all(pool: ProcessPoolExecutor, function: Callable[..., T], *arguments: Iterable[Any]) -> list[T]:
    """``pool.map``, with the workers started while signals are held.

    The workers are forked when the tasks are submitted; a signal handled in the middle of a fork
    would raise inside the fork hooks of the standard library, where Python can only print it.
    """
    with signals_held():
        results = pool.map(function, *arguments)
    return list(results)


def worker_pool(workers: int, fork: bool = False) -> ProcessPoolExecutor:
    """A process pool whose workers get SIGTERM when the build dies, however it dies (even SIGKILL)."""
    context = multiprocessing.get_context("fork") if fork else None
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_die_with_parent)


def _die_with_parent() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent decides
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
        self._installed = False

    def __enter__(self) -> SignalGuard:
        if threading.current_thread() is threading.main_thread():  # signals reach only that one
            self._previous = signal.signal(signal.SIGTERM, self._terminate)
            self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            signal.signal(signal.SIGTERM, self._previous)  # type: ignore[arg-type]

    def _terminate(self, signum: int, frame: object) -> None:
        self.terminated = True
        stop_workers()
        raise Terminated


def stop_workers() -> None:
    """Layout workers end with the build that started them, not when their queue is next read."""
    for child in multiprocessing.active_children():
        child.terminate()


def _default_signals_in_child() -> None:
    """A forked worker must not run the parent's SIGTERM handler, nor inherit its held signals."""
    with suppress(ValueError):  # not the main thread: no Python handler can run there anyway
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    with suppress(AttributeError, OSError, ValueError):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, HELD_SIGNALS)


# Registered once, on import: every fork of a build process (pool workers, and any other) starts with
# SIGTERM at its default and nothing held, whatever the parent was doing at that moment.
os.register_at_fork(after_in_child=_default_signals_in_child)
