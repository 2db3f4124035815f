"""Benchmark: our builds against the raw engine and the peers, on this machine, in one run.

Prints a table of medians and ratios and writes it to docs/performance.md. Not a test: nothing
here fails a build; each target line says whether it holds.

    make bench                    # BENCH_REPS=5 make bench for more repetitions
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
BRIEFING = PROJECT / "content" / "us-iran-relations"
PYTHON = sys.executable
BIN = Path(sys.executable).parent
REPS = int(os.environ.get("BENCH_REPS", "3"))
ENV = {**os.environ, "SOURCE_DATE_EPOCH": "1750000000"}


@dataclass
class Layouts:
    """How many edition builds laid the body out again (the References' guessed page count was wrong)."""

    again: int = 0
    editions: int = 0

    def read(self, cache: Path, since: float) -> None:
        """Add the editions built since ``since``, as their remembered counts in ``cache`` say."""
        for path in (cache / "layout").glob("*.json"):
            if path.stat().st_mtime >= since:
                self.editions += 1
                self.again += json.loads(path.read_text(encoding="utf-8"))["body_layouts"] - 1

    def __str__(self) -> str:
        return f"{self.again} of {self.editions}"


def counted(measure: Callable[[], float], cache: Path, layouts: Layouts) -> Callable[[], float]:
    """The measure, counting the body's extra layouts of the builds it runs."""

    def run() -> float:
        since = time.time() - 1  # file times are coarser than the clock on some file systems
        seconds = measure()
        layouts.read(cache, since)
        return seconds

    return run


@dataclass
class Timing:
    name: str
    seconds: list[float] = field(default_factory=list)
    peak_mb: float | None = None
    pages: int | None = None
    layouts: Layouts | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def timed(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run a command; its wall time (s) and peak memory (MB), as /usr/bin/time measures them."""
    result = subprocess.run(
        ["/usr/bin/time", "-f", "BENCH %e %M", *command], cwd=cwd, env=env or ENV,
        capture_output=True, text=True, check=False,
    )
    line = next((l for l in result.stderr.splitlines() if l.startswith("BENCH ")), None)
    if result.returncode != 0 or line is None:
        raise SystemExit(f"benchmark command failed: {' '.join(command)}\n{result.stdout}\n{result.stderr}")
    _, seconds, kilobytes = line.split()
    return float(seconds), int(kilobytes) / 1024


def briefing_cmd(*args: str) -> list[str]:
    return [str(BIN / "briefing"), *args]


def alternate(measures: dict[str, Callable[[], float]]) -> dict[str, Timing]:
    """Repeat every measure in turn, so drift of the machine spreads over all of them."""
    timings = {name: Timing(name) for name in measures}
    for _ in range(REPS):
        for name, measure in measures.items():
            timings[name].seconds.append(measure())
    return timings


def touch(path: Path) -> None:
    path.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")


# -- the briefing itself ----------------------------------------------------------------------


def main_builds(work: Path) -> dict[str, Timing]:
    content = work / "content" / "us-iran-relations"
    shutil.copytree(BRIEFING, content)
    first_section = sorted((content / "sections").glob("*.md"))[0]
    html_path = work / "final.html"
    # The whole document in one HTML, as the old layout-twice build gave it to the engine last.
    subprocess.run(
        [PYTHON, "-c", f"import sys; sys.path.insert(0, {str(PROJECT)!r}); from pathlib import Path; "
         "from briefing.config import BuildConfig, Variant; from tests.layout_twice import layout_twice; "
         f"config = BuildConfig(content_dir=Path({str(content)!r}), cache_dir=Path(sys.argv[2])); "
         "Path(sys.argv[1]).write_text(layout_twice(config, Variant.PDF).html)",
         str(html_path), str(work / "final-cache")],
        cwd=work, env=ENV, check=True, capture_output=True,
    )
    raw = [PYTHON, "-m", "weasyprint", "--pdf-variant", "pdf/ua-1", "--pdf-tags", "-u", content.as_uri() + "/",
           str(html_path), str(work / "raw.pdf")]
    fonttools = [PYTHON, "-c", "import sys, weasyprint.pdf.fonts as f; f.harfbuzz_subset = None; "
                 "from weasyprint.__main__ import main; sys.argv[0] = 'weasyprint'; main()", *raw[3:]]

    def cold() -> float:
        shutil.rmtree(work / ".cache", ignore_errors=True)
        return timed(briefing_cmd("build", "-q", "--no-cache", "--variant", "pdf", str(content)), work)[0]

    def warm() -> float:
        touch(first_section)  # a change: the build runs, the figures come from the cache
        return timed(briefing_cmd("build", "-q", "--variant", "pdf", str(content)), work)[0]

    def noop() -> float:
        return timed(briefing_cmd("build", "-q", "--variant", "pdf", str(content)), work)[0]

    def defaults() -> float:
        touch(first_section)
        return timed(briefing_cmd("build", "-q", str(content)), work)[0]

    cache = work / ".cache"
    layouts = {name: Layouts() for name in ("cold", "warm", "defaults")}
    timings = alternate({
        "cold build, digital edition (--no-cache)": counted(cold, cache, layouts["cold"]),
        "warm build, digital edition": counted(warm, cache, layouts["warm"]),
        "no-op rebuild": noop,
        "warm build, default editions (pdf print handout)": counted(defaults, cache, layouts["defaults"]),
        "raw engine on our final HTML (HarfBuzz subsetting)": lambda: timed(raw, work)[0],
        "raw engine on our final HTML (fontTools subsetting)": lambda: timed(fonttools, work)[0],
    })
    timings["cold build, digital edition (--no-cache)"].layouts = layouts["cold"]
    timings["warm build, digital edition"].layouts = layouts["warm"]
    timings["warm build, default editions (pdf print handout)"].layouts = layouts["defaults"]
    return timings


WATCH_PROBE = """
import json, sys, time
from pathlib import Path
from briefing.config import BuildConfig, Variant
from briefing.watch import warm_builder
build = warm_builder()                          # what `briefing watch` builds with
folder = Path(sys.argv[1]); section = sorted((folder / "sections").glob("*.md"))[0]
config = BuildConfig(content_dir=folder, variants=(Variant.PDF,), cache_dir=folder.parent / ".cache")
build(config)                                   # the watcher's first build warms the process
original = section.read_text()
memory = next((config.cache_dir / "layout").glob("*.json"))
for n in range(int(sys.argv[2])):
    section.write_text(original.replace("\\n\\n", f"\\n\\nEdit {n}: one more sentence in a paragraph. ", 1))
    started = time.perf_counter(); build(config); print("WATCH", time.perf_counter() - started)
    print("AGAIN", json.loads(memory.read_text())["body_layouts"] - 1)
"""


def watch_rebuild(work: Path) -> Timing:
    content = work / "watch" / "us-iran-relations"
    shutil.copytree(BRIEFING, content)
    result = subprocess.run([PYTHON, "-c", WATCH_PROBE, str(content), str(REPS)], cwd=work, env=ENV,
                            capture_output=True, text=True, check=True)
    seconds = [float(line.split()[1]) for line in result.stdout.splitlines() if line.startswith("WATCH ")]
    again = [int(line.split()[1]) for line in result.stdout.splitlines() if line.startswith("AGAIN ")]
    return Timing("watch rebuild after a one-paragraph edit", seconds, layouts=Layouts(sum(again), len(again)))


PREVIEW_PROBE = """
import http.client, sys, time, urllib.request
from pathlib import Path
from briefing.config import BuildConfig
from briefing.preview import Preview
folder, out = Path(sys.argv[1]), Path(sys.argv[2]); section = sorted((folder / "sections").glob("*.md"))[0]
preview = Preview(BuildConfig(content_dir=folder, output_dir=out), pdfs=True)   # PDFs rebuilt behind, as a user has it
preview.start()
port = preview.server.server_address[1]
while preview.builds == 0:
    time.sleep(0.05)
original = section.read_text()
for n in range(int(sys.argv[3])):
    time.sleep(1.0)                             # a writer pauses between saves; the PDF build is running by now
    events = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    events.request("GET", f"/events?page={preview.site.page_generation}")
    stream = events.getresponse()
    marker = f"Edit {n}: one more sentence in a paragraph."
    started = time.perf_counter()
    section.write_text(original.replace("\\n\\n", f"\\n\\n{marker} ", 1))
    while stream.readline().strip() != b"event: reload":
        pass
    with urllib.request.urlopen(preview.url, timeout=60) as response:
        page = response.read().decode()
    seconds = time.perf_counter() - started
    assert marker in page, "the page did not show the edit"
    stream.close(); events.close()
    print("PREVIEW", seconds, flush=True)
preview.stop()
"""


def preview_update(work: Path) -> Timing:
    """From a save to the served page showing it: watcher, web edition, event to the browser, the page fetched."""
    content = work / "preview" / "us-iran-relations"
    shutil.copytree(BRIEFING, content)
    result = subprocess.run([PYTHON, "-c", PREVIEW_PROBE, str(content), str(work / "preview" / "output"), str(REPS)],
                            cwd=work, env=ENV, capture_output=True, text=True, check=True)
    seconds = [float(line.split()[1]) for line in result.stdout.splitlines() if line.startswith("PREVIEW ")]
    return Timing("preview: page updated after a save", seconds)


# -- peers on the same Markdown -----------------------------------------------------------------


def peers(work: Path) -> dict[str, Timing]:
    import pypandoc

    pandoc = pypandoc.get_pandoc_path()
    peer = work / "peer"
    peer.mkdir()
    sections = sorted((BRIEFING / "sections").glob("*.md"))
    markdown = peer / "briefing.md"
    body = "\n\n".join(p.read_text(encoding="utf-8") for p in sections)
    markdown.write_text("---\ntitle: United States–Iran Relations\n---\n\n" + body, encoding="utf-8")
    common = [pandoc, str(markdown), "--citeproc", "--bibliography", str(BRIEFING / "references.yaml")]

    def pandoc_weasyprint() -> float:
        html_time = timed([*common, "-s", "-o", str(peer / "peer.html")], peer)[0]
        return html_time + timed([PYTHON, "-m", "weasyprint", str(peer / "peer.html"), str(peer / "peer.pdf")], peer)[0]

    def pandoc_typst() -> float:
        typ_time = timed([*common, "-s", "-t", "typst", "-o", str(peer / "peer.typ")], peer)[0]
        compile_ = [PYTHON, "-c", "import sys, typst; typst.compile(sys.argv[1], output=sys.argv[2])",
                    str(peer / "peer.typ"), str(peer / "peer-typst.pdf")]
        return typ_time + timed(compile_, peer)[0]

    return alternate({"peer: Pandoc -> WeasyPrint": pandoc_weasyprint, "peer: Pandoc -> Typst": pandoc_typst})


# -- scale and batch ----------------------------------------------------------------------------

PARAGRAPH = (
    "The negotiating record shows how far positions moved between rounds, and how often a single "
    "incident reset them. Each side tested the other's red lines through intermediaries before any "
    "direct contact, and the pattern held across administrations [@ref{n}]. Analysts who follow the "
    "file closely note that sanctions relief, verification and sequencing remain the three questions "
    "on which every earlier attempt turned, and that the answers depend on domestic politics as much "
    "as on the text on the table.\n\n"
)


def synthetic(folder: Path, sections: int, paragraphs: int) -> Path:
    """A briefing of about ``sections * paragraphs / 5`` pages, with citations, a table and a figure."""
    (folder / "sections").mkdir(parents=True)
    names = []
    for s in range(1, sections + 1):
        text = f"# Section {s} {{#sec-{s}}}\n\n"
        for sub in range(1, 3):
            text += f"## Part {s}.{sub}\n\n" + "".join(PARAGRAPH.format(n=(s + p) % 20) for p in range(paragraphs // 2))
        if s == 1:
            text += "::: {#fig-all .timeline}\nEvents.\n:::\n\n| A | B |\n|---|---|\n| 1 | 2 |\n\nTable: A table {#tbl-a}\n"
        names.append(f"sections/{s:03d}.md")
        (folder / names[-1]).write_text(text, encoding="utf-8")
    refs = "".join(f"- id: ref{n}\n  type: book\n  title: Book {n}\n  author: [{{family: Author{n}, given: A.}}]\n"
                   f"  issued: {{date-parts: [[{1990 + n}]]}}\n  publisher: Press\n" for n in range(20))
    (folder / "refs.yaml").write_text(refs, encoding="utf-8")
    events = "".join(f'  - {{date: "{1990 + n}", title: Event {n}, sources: [ref{n}]}}\n' for n in range(20))
    (folder / "timeline.yaml").write_text("events:\n" + events, encoding="utf-8")
    (folder / "briefing.yaml").write_text(textwrap.dedent(f"""\
        title: Synthetic briefing
        date: "2025-06-01"
        classification: UNCLASSIFIED
        sections: [{", ".join(names)}]
        references: refs.yaml
        timeline: timeline.yaml
        """), encoding="utf-8")
    return folder


def scale(work: Path) -> list[Timing]:
    timings = []
    for label, sections, paragraphs in (("about 30 pages", 6, 24), ("about 100 pages", 20, 24), ("about 300 pages", 60, 24)):
        folder = synthetic(work / "scale" / f"s{sections}", sections, paragraphs)
        layouts, since = Layouts(), time.time() - 1
        seconds, peak = timed(briefing_cmd("build", "-q", "--no-cache", "--variant", "pdf", "--out", "out", str(folder)),
                              work)
        pdf = work / "out" / f"{folder.name}.pdf"
        pages = int(subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
                    .stdout.split("Pages:")[1].split()[0])
        layouts.read(work / ".cache", since)
        timings.append(Timing(f"scale: {label}", [seconds], peak, pages, layouts))
    return timings


def batch(work: Path) -> dict[str, Timing]:
    folders = [str(synthetic(work / "batch" / f"b{n}", 2, 16)) for n in range(8)]

    def run(jobs: str) -> Callable[[], float]:
        return lambda: timed(briefing_cmd("build", "-q", "--no-cache", "--variant", "pdf", "--jobs", jobs,
                                          "--out", "batch-out", *folders), work)[0]

    layouts = {jobs: Layouts() for jobs in ("1", "2")}
    timings = alternate({f"batch of 8, --jobs {jobs}": counted(run(jobs), work / ".cache", layouts[jobs])
                         for jobs in ("1", "2")})
    for jobs in ("1", "2"):
        timings[f"batch of 8, --jobs {jobs}"].layouts = layouts[jobs]
    return timings


# -- report -------------------------------------------------------------------------------------


def machine() -> str:
    model = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                  if l.startswith("model name")), platform.processor() or "unknown CPU")
    memory = next((l.split()[1] for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")), "0")
    return (f"{model}, {os.cpu_count()} cores, {int(memory) // 1024 // 1024} GiB, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}")


def report(timings: dict[str, Timing]) -> str:
    raw = timings["raw engine on our final HTML (HarfBuzz subsetting)"].median
    rows = ["| measure | median (s) | × raw engine | runs | body laid out again (guess wrong) |",
            "| --- | ---: | ---: | ---: | ---: |"]
    for timing in timings.values():
        extra = f", {timing.pages} pages, {timing.peak_mb:.0f} MB peak" if timing.pages else ""
        again = str(timing.layouts) if timing.layouts else ""
        rows.append(f"| {timing.name}{extra} | {timing.median:.2f} | {timing.median / raw:.2f} | {len(timing.seconds)} "
                    f"| {again} |")

    def t(name: str) -> float:
        return timings[name].median

    scale_rows = [timings[k] for k in timings if k.startswith("scale:")]
    per_page = {s.name: s.median / (s.pages or 1) for s in scale_rows}
    targets = [
        ("warm build of the digital edition ≤ 1.10 × raw engine", t("warm build, digital edition") / raw, 1.10),
        ("cold build ≤ 1.5 × raw engine", t("cold build, digital edition (--no-cache)") / raw, 1.5),
        ("default editions together ≤ 1.6 × one raw-engine render",
         t("warm build, default editions (pdf print handout)") / raw, 1.6),
        ("no-op rebuild ≤ 0.2 s", t("no-op rebuild"), 0.2),
        ("watch rebuild ≤ 0.8 × a raw-engine process", t("watch rebuild after a one-paragraph edit") / raw, 0.8),
        ("preview page updated ≤ 0.5 s after a save", t("preview: page updated after a save"), 0.5),
        ("time per page at 300 pages ≤ 1.0 × at 30 pages",
         per_page["scale: about 300 pages"] / per_page["scale: about 30 pages"], 1.0),
        ("peak memory at 300 pages ≤ 1.0 GB (MB / 1000)",
         (timings["scale: about 300 pages"].peak_mb or 0) / 1000, 1.0),
        ("batch speed-up with --jobs 2 ≥ 1.8 (shown as 1 / speed-up ≤ 1/1.8)",
         t("batch of 8, --jobs 2") / t("batch of 8, --jobs 1"), 1 / 1.8),
    ]
    lines = ["| target | measured | limit | holds |", "| --- | ---: | ---: | --- |"]
    for name, value, limit in targets:
        lines.append(f"| {name} | {value:.2f} | {limit:.2f} | {'yes' if value <= limit else 'NO'} |")
    return "\n".join(rows) + "\n\n" + "\n".join(lines) + "\n"


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="briefing-bench-") as temporary:
        work = Path(temporary)
        print(f"benchmarking with {REPS} repetitions on {machine()}", file=sys.stderr)
        timings = main_builds(work)
        timings["watch rebuild after a one-paragraph edit"] = watch_rebuild(work)
        timings["preview: page updated after a save"] = preview_update(work)
        timings.update(peers(work))
        timings.update({s.name: s for s in scale(work)})
        timings.update(batch(work))
    table = report(timings)
    print(table)
    docs = PROJECT / "docs" / "performance.md"
    text = docs.read_text(encoding="utf-8") if docs.exists() else "# Performance\n"
    marker = "<!-- bench -->"
    head, _, rest = text.partition(marker)
    _, _, tail = rest.partition(marker)
    stamp = f"Measured {dt.date.today().isoformat()} on {machine()}, medians of {REPS} alternating runs.\n\n"
    docs.write_text(f"{head}{marker}\n{stamp}{table}{marker}{tail}", encoding="utf-8")
    print(f"written to {docs.relative_to(PROJECT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
