"""A briefing folder -> its web edition served on 127.0.0.1, reloaded after every save; the PDFs rebuilt beside it.

The web edition is rendered in this warm process (figures and font subsets cached), which is
what makes a save show within half a second. The served page gets a small status panel and a
server-sent-events script that reloads it; the file written to ``output/`` never has either.
The PDF editions are built by a ``briefing build`` child process at low priority, restarted
by each save, and their state is pushed to the panel. Bad content replaces the page by its
located problems, and the server keeps running.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from contextlib import suppress
from dataclasses import dataclass, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from .config import DEFAULT_VARIANTS, BuildConfig, Variant, resolve_epoch
from .errors import Diagnostic, Diagnostics
from .log import LOGGER
from .render_html import make_environment
from .watch import ChangeFeed, WatchedPaths, attempt

HOST = "127.0.0.1"
"""Loopback only: a preview is for the person editing, not the network."""
KEEP_ALIVE = 10.0
"""Seconds between comments on an idle event stream (proxies and browsers drop silent ones)."""
PROBLEM_LINES = 20
"""At most this many lines of a failed PDF build are shown on the page."""


@dataclass(frozen=True)
class EditionStatus:
    """One line of the status panel."""

    state: str
    """``ok``, ``busy``, ``failed`` or ``off`` (a CSS class)."""
    text: str
    files: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()


class PreviewSite:
    """What the server shows, shared by the builder thread and the request threads."""

    def __init__(self, config: BuildConfig) -> None:
        self.config = config
        self.env = make_environment(config.templates_dir)
        self._changed = threading.Condition()
        self.page = b""
        self.page_generation = 0
        self.status_generation = 0
        self.web = EditionStatus("busy", "building…")
        self.pdf = EditionStatus("off", "not built")
        self.closed = False

    def publish_page(self, page: bytes, status: EditionStatus) -> None:
        with self._changed:
            self.page, self.web = page, status
            self.page_generation += 1
            self._changed.notify_all()

    def publish_problems(self, problems: list[Diagnostic], status: EditionStatus) -> None:
        html = self.env.get_template("preview/error.html").render(folder=self.config.content_dir, problems=problems)
        self.publish_page(html.encode("utf-8"), status)

    def publish_pdf(self, status: EditionStatus) -> None:
        with self._changed:
            self.pdf = status
            self.status_generation += 1
            self._changed.notify_all()

    def close(self) -> None:
        with self._changed:
            self.closed = True
            self._changed.notify_all()

    def served_page(self) -> bytes:
        """The page with the status panel and the reload script before ``</body>``."""
        with self._changed:
            page, generation = self.page, self.page_generation
            overlay = self.env.get_template("preview/overlay.html").render(web=self.web, pdf=self.pdf, generation=generation)
        marker = page.rfind(b"</body>")
        at = marker if marker >= 0 else len(page)
        return page[:at] + overlay.encode("utf-8") + page[at:]

    def status_html(self) -> str:
        with self._changed:
            return self.env.get_template("preview/status.html").render(web=self.web, pdf=self.pdf)

    def wait(self, page_seen: int, status_seen: int, timeout: float) -> tuple[int, int]:
        """Block until the page or the status is newer than seen (or ``timeout``); the current generations."""
        with self._changed:
            self._changed.wait_for(
                lambda: self.closed or self.page_generation != page_seen or self.status_generation != status_seen,
                timeout=timeout,
            )
            return self.page_generation, self.status_generation

    def pdf_file(self, name: str) -> Path | None:
        """An edition in the output folder, by its exact file name; nothing else is ever served."""
        for variant in DEFAULT_VARIANTS:
            path = self.config.output_path(variant)
            if path.name == name and path.is_file():
                return path
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: PreviewSite


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        site = self.server.site
        if not self._host_is_loopback():
            self.send_error(HTTPStatus.FORBIDDEN, "preview answers only to 127.0.0.1 and localhost")
            return
        url = urlsplit(self.path)
        if url.path in ("/", "/index.html"):
            self._send(site.served_page(), "text/html; charset=utf-8")
        elif url.path == "/events":
            self._events(site, parse_qs(url.query))
        elif (path := site.pdf_file(url.path.lstrip("/"))) is not None:
            self._send(path.read_bytes(), "application/pdf")
        else:
            self.send_error(HTTPStatus.NOT_FOUND)

    def _host_is_loopback(self) -> bool:
        """Refuse other host names: a web page rebinding its name to 127.0.0.1 must not read the briefing."""
        port = self.server.server_address[1]
        return self.headers.get("Host", "") in (f"{HOST}:{port}", f"localhost:{port}")

    def _send(self, body: bytes, kind: str) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _events(self, site: PreviewSite, query: dict[str, list[str]]) -> None:
        """Server-sent events: ``reload`` when the page is newer than the one asking, ``status`` otherwise."""
        try:
            page_seen = int(query.get("page", ["0"])[0])
        except ValueError:
            page_seen = 0
        status_seen = site.status_generation
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        try:
            while True:
                page, status = site.wait(page_seen, status_seen, KEEP_ALIVE)
                if site.closed:
                    return
                if page != page_seen:
                    self._event("reload", str(page))
                    return  # the page reloads and opens a stream of its own
                if status != status_seen:
                    status_seen = status
                    self._event("status", json.dumps(site.status_html()))
                else:
                    self.wfile.write(b": idle\n\n")
                    self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return

    def _event(self, name: str, data: str) -> None:
        self.wfile.write(f"event: {name}\ndata: {data}\n\n".encode())
        self.wfile.flush()

    def log_message(self, format: str, *args: object) -> None:
        LOGGER.debug("preview: " + format, *args)


class PdfBuilds:
    """The PDF editions, built by a child ``briefing build`` at low priority; a new save restarts it."""

    def __init__(self, config: BuildConfig, site: PreviewSite) -> None:
        self.config, self.site = config, site
        self._process: subprocess.Popen[str] | None = None
        self._stopping: list[subprocess.Popen[str]] = []
        self._lock = threading.Lock()

    def command(self) -> list[str]:
        config = self.config
        command = [sys.executable, "-m", "briefing", "build", str(config.content_dir), "--out", str(config.output_dir),
                   "--quiet", *[f"--variant={v.value}" for v in (*DEFAULT_VARIANTS, Variant.HTML)]]
        if config.paper is not None:
            command.append(f"--paper={config.paper.value}")
        if config.strict:
            command.append("--strict")
        nice = shutil.which("nice")
        return [nice, "-n", "10", *command] if nice else command  # the web edition comes first

    def restart(self) -> None:
        self.stop()
        with self._lock:
            process = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            self._process = process
        self.site.publish_pdf(EditionStatus("busy", "building…"))
        threading.Thread(target=self._wait, args=(process, time.perf_counter()), daemon=True).start()

    def interrupt(self) -> None:
        """Ask the running build to stop, without waiting: a save's web edition must not wait for it."""
        with self._lock:
            process, self._process = self._process, None
            if process is not None:
                self._stopping.append(process)
        if process is not None and process.poll() is None:
            process.terminate()  # the build removes its temporary files and exits 143

    def stop(self) -> None:
        """Stop the running build and wait until every stopped one is gone (so two never write at once)."""
        self.interrupt()
        with self._lock:
            stopping, self._stopping = self._stopping, []
        for process in stopping:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _wait(self, process: subprocess.Popen[str], started: float) -> None:
        _, err = process.communicate()
        with self._lock:
            if process is not self._process:
                return  # stopped for a newer save: that build reports instead
        lines = tuple(line for line in err.splitlines() if line.strip())
        seconds = time.perf_counter() - started
        if process.returncode == 0:
            files = tuple(self.config.output_path(v).name for v in DEFAULT_VARIANTS if self.config.output_path(v).is_file())
            self.site.publish_pdf(EditionStatus("ok", f"ready in {seconds:.1f} s", files, lines[-PROBLEM_LINES:]))
        else:
            self.site.publish_pdf(EditionStatus("failed", f"failed (exit {process.returncode})", (), lines[-PROBLEM_LINES:]))


def _listen_for_ctrl_c() -> None:
    """An interactive server stops on Ctrl-C even when started with SIGINT ignored or blocked
    (a script's background job, a test runner's worker): both are inherited, and would make it unstoppable."""
    if threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    with suppress(AttributeError, OSError, ValueError):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


STOP_WAIT_SECONDS = 3.0
"""How long stopping waits for a render in progress before leaving it to die with the process."""


class Preview:
    """The server, the watcher and the builds of one briefing; ``start`` and ``stop`` for tests, ``run`` for the CLI."""

    def __init__(self, config: BuildConfig, port: int = 0, pdfs: bool = True) -> None:
        if config.epoch is None:  # once: every rebuild then skips asking git
            config = replace(config, epoch=resolve_epoch(config.content_dir, config.generated_dirs()))
        self.config = replace(config, variants=(Variant.HTML,))
        self.site = PreviewSite(self.config)
        self.server = _Server((HOST, port), _Handler)
        self.server.site = self.site
        self.pdfs = PdfBuilds(self.config, self.site) if pdfs else None
        if not pdfs:
            self.site.pdf = EditionStatus("off", "not built (--no-pdf)")
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.builds = 0
        """Web edition renders so far (the benchmark and the tests wait on it)."""

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server.server_address[1]}/"

    def start(self) -> None:
        feed = ChangeFeed(WatchedPaths.of(self.config))
        feed.__enter__()
        self._threads = [
            threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True),
            threading.Thread(target=self._follow, args=(feed,), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self, wait: float = STOP_WAIT_SECONDS) -> None:
        """Stop serving and watching; a refresh under way gets ``wait`` seconds to finish (tests wait it out)."""
        self._stop.set()
        self.site.close()
        self.server.shutdown()
        self.server.server_close()
        for thread in self._threads:
            # A refresh under way may finish if it is quick; Ctrl-C never waits long for it (the threads are
            # daemons: they end with the process, and what they render after this is dropped).
            thread.join(timeout=wait)
        if self.pdfs:
            self.pdfs.stop()

    def run(self) -> int:
        """Serve until Ctrl-C."""
        _listen_for_ctrl_c()
        self.start()
        try:
            # Short waits: a signal delivered to another thread (the server's, the watcher's) runs its
            # Python handler only when the main thread next wakes, so Ctrl-C is never left for an hour.
            while not self._stop.wait(0.25):
                pass
        except KeyboardInterrupt:
            LOGGER.info("stopped the preview")
        finally:
            self.stop()
        return 0

    def _follow(self, feed: ChangeFeed) -> None:
        try:
            self.refresh()
            while not self._stop.is_set():
                changed = feed.next_change(timeout=0.25)
                if changed:
                    self.refresh()
        finally:
            feed.stop()

    def refresh(self) -> None:
        """Render the web edition now; then start the PDFs (only for content that builds)."""
        from .pipeline import render_web_edition

        if self.pdfs:
            self.pdfs.interrupt()  # its cores are the web edition's first
        started = time.perf_counter()
        report = Diagnostics(strict=self.config.strict)
        page, problems = attempt(lambda: render_web_edition(self.config, report), report)
        seconds = time.perf_counter() - started
        for diagnostic in problems if problems is not None else report:
            LOGGER.info("%s", diagnostic)
        if page is None:
            problems = problems or []
            self.site.publish_problems(problems, EditionStatus("failed", f"{len(problems)} problem(s) found"))
            if self.pdfs:
                self.site.publish_pdf(EditionStatus("off", "waiting for the content to build"))
            LOGGER.info("preview: problems found in %.2f s; waiting for the next save", seconds)
        else:
            self.site.publish_page(page, EditionStatus("ok", f"updated {time.strftime('%H:%M:%S')} in {seconds:.2f} s"))
            LOGGER.info("preview: updated in %.2f s", seconds)
            if self.pdfs:
                self.pdfs.restart()
        self.builds += 1
