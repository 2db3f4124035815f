"""``briefing preview``: the web edition served on 127.0.0.1, following saves, showing problems, PDFs beside it.

Only loopback traffic; every wait is bounded.
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from briefing.config import BuildConfig
from briefing.preview import Preview

from .conftest import ContentTree

pytestmark = pytest.mark.slow

TIMEOUT = 120.0


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return str(response.read().decode("utf-8"))


def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
def preview(content_tree: ContentTree, tmp_path: Path) -> Iterator[Preview]:
    folder = content_tree()
    config = BuildConfig(folder, tmp_path / "out", cache_dir=tmp_path / "cache", epoch=0)
    started = Preview(config, port=0, pdfs=True)
    started.start()
    try:
        yield started
    finally:
        started.stop(wait=TIMEOUT)  # its threads end with the test, not in a later one


def test_the_page_follows_saves_and_shows_located_problems(preview: Preview) -> None:
    assert preview.url.startswith("http://127.0.0.1:")
    section = preview.config.content_dir / "sections" / "one.md"
    _until(lambda: "Text citing" in _get(preview.url), "the first page")
    page = _get(preview.url)
    assert "Doe 2001" in page
    assert "<script>" in page  # the reload mechanism, in the served page only

    generation = preview.site.page_generation
    events = http.client.HTTPConnection("127.0.0.1", int(preview.url.rsplit(":", 1)[1].strip("/")), timeout=30)
    events.request("GET", f"/events?page={generation}")
    stream = events.getresponse()
    assert stream.getheader("Content-Type") == "text/event-stream"
    section.write_text("# One {#sec-one}\n\nA sentence saved just now [@ref1].\n", encoding="utf-8")
    lines = []
    while not lines or lines[-1] != "event: reload":
        lines.append(stream.readline().decode().strip())
    stream.close()
    events.close()
    assert "A sentence saved just now" in _get(preview.url)

    section.write_text("# One {#sec-one}\n\nBroken [@nobody].\n", encoding="utf-8")
    expected = f"{section}:3:9: error: unknown citation key &#39;nobody&#39;"
    _until(lambda: "does not build" in _get(preview.url), "the problems page")
    assert expected in _get(preview.url)
    section.write_text("# One {#sec-one}\n\nMended [@ref1].\n", encoding="utf-8")
    _until(lambda: "Mended" in _get(preview.url), "the mended page")


def test_the_pdfs_are_rebuilt_in_the_background_and_their_state_shown(preview: Preview) -> None:
    out = preview.config.output_dir
    _until(lambda: "brief.pdf</a>" in _get(preview.url), "the PDF editions")
    assert "ready in" in _get(preview.url)
    for name in ("brief.pdf", "brief-print.pdf", "brief-handout.pdf"):
        assert (out / name).is_file()
        with urllib.request.urlopen(preview.url + name, timeout=30) as response:
            assert response.read(5) == b"%PDF-"
    written = (out / "brief.html").read_text(encoding="utf-8")
    assert "<script" not in written  # the edition in output/ is the plain one
    assert "briefing-preview" not in written


def test_only_the_page_its_events_and_the_editions_are_served(preview: Preview) -> None:
    _until(lambda: preview.builds > 0, "the first page")
    for path in ("/../briefing.yaml", "/sections/one.md", "/brief.manifest.json", "/%2e%2e/%2e%2e/etc/passwd"):
        with pytest.raises(urllib.error.HTTPError) as error:
            _get(preview.url.rstrip("/") + path)
        error.value.close()
        assert error.value.code == 404, path
    port = int(preview.url.rsplit(":", 1)[1].strip("/"))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/", headers={"Host": f"attacker.example:{port}"})  # DNS rebinding
    response = connection.getresponse()
    response.read()
    response.close()
    connection.close()
    assert response.status == 403


def test_the_command_prints_its_address_and_stops_on_ctrl_c(content_tree: ContentTree, tmp_path: Path) -> None:
    folder = content_tree()
    process = subprocess.Popen(
        [sys.executable, "-m", "briefing", "preview", str(folder), "--no-pdf", "--out", str(tmp_path / "out")],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "SOURCE_DATE_EPOCH": "0"},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith(f"previewing {folder} at http://127.0.0.1:"), line
        url = line.split(" at ", 1)[1].split()[0]
        _until(lambda: "Text citing" in _get(url), "the page")
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        assert "stopped the preview" in err
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def test_a_browser_reloads_itself_after_each_save(content_tree: ContentTree, tmp_path: Path) -> None:
    """In Chromium: the injected event stream reloads the page; problems replace it, the fix brings it back."""
    from .browser import chromium

    folder = content_tree()
    preview = Preview(BuildConfig(folder, tmp_path / "out", cache_dir=tmp_path / "cache", epoch=0), pdfs=False)
    preview.start()
    shots = Path(os.environ.get("BRIEFING_SCREENSHOTS") or tmp_path)
    try:
        _until(lambda: preview.builds > 0, "the first page")
        with chromium(tmp_path / "profile", allow=(preview.url,)) as browser:
            page = browser.context.new_page()  # type: ignore[attr-defined]
            page.set_viewport_size({"width": 1280, "height": 900})
            page.goto(preview.url)
            assert "Text citing" in page.inner_text("main")
            section = folder / "sections" / "one.md"
            section.write_text("# One {#sec-one}\n\nSaved again [@ref1].\n", encoding="utf-8")
            page.wait_for_function("document.body.innerText.includes('Saved again')", timeout=TIMEOUT * 1000)
            section.write_text("# One {#sec-one}\n\nBroken [@nobody].\n", encoding="utf-8")
            page.wait_for_function("document.body.innerText.includes('does not build')", timeout=TIMEOUT * 1000)
            assert f"{section}:3:9: error: unknown citation key 'nobody'" in page.inner_text("main")
            page.screenshot(path=str(shots / "preview-problems.png"))
            section.write_text("# One {#sec-one}\n\nMended [@ref1].\n", encoding="utf-8")
            page.wait_for_function("document.body.innerText.includes('Mended')", timeout=TIMEOUT * 1000)
            page.screenshot(path=str(shots / "preview-mended.png"))
            assert {url.split("?")[0] for url in browser.requests} == {preview.url, preview.url + "events"}
    finally:
        preview.stop(wait=TIMEOUT)
