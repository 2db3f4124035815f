"""Headless Chromium for the web edition's tests: the system's ``chromium`` on PATH, driven by Playwright, offline.

Playwright is pointed at the system executable, so nothing is downloaded (never ``playwright
install``). Every request the page makes is recorded and anything but ``file:`` and ``data:`` is
refused, so a test sees it if the "self-contained" page tries to fetch something.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
"""Debian's and Ubuntu's names first, then Google's build: whichever is on PATH."""
CHROMIUM_ARGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)
"""The sandbox this runs in has no user namespaces (hence no sandbox) and no network worth asking."""


def find_chromium() -> Path | None:
    """The first Chromium on PATH."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def chromium_or_skip() -> Path:
    """The system Chromium; CI installs it (scripts/system-deps.sh test), so there its absence is a failure."""
    found = find_chromium()
    if found is not None:
        return found
    message = f"no Chromium on PATH ({', '.join(CHROMIUM_NAMES)}); sudo sh scripts/system-deps.sh test installs Debian's"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class Browser:
    context: object
    requests: list[str] = field(default_factory=list)


@contextmanager
def chromium(profile: Path, allow: tuple[str, ...] = ()) -> Iterator[Browser]:
    """A fresh Chromium profile in ``profile``; requests recorded, only local ones (and ``allow``) let through."""
    from playwright.sync_api import sync_playwright

    executable = chromium_or_skip()
    shutil.rmtree(profile, ignore_errors=True)
    profile.mkdir(parents=True)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(executable), args=list(CHROMIUM_ARGS), headless=True,
            offline=not allow, service_workers="block",  # offline blocks loopback too
        )
        browser = Browser(context)

        def route(route: object) -> None:
            url = route.request.url  # type: ignore[attr-defined]
            browser.requests.append(url)
            if url.startswith(("file:", "data:", *allow)):
                route.continue_()  # type: ignore[attr-defined]
            else:
                route.abort()  # type: ignore[attr-defined]

        context.route("**/*", route)
        try:
            yield browser
        finally:
            context.close()
