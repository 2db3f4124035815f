"""Command line -> builds: argparse, one briefing folder after another, exit codes of the contract."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
import traceback
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path

from . import __version__
from .config import (
    BRIEFING_FILE,
    DEFAULT_CACHE_DIR,
    DEFAULT_CONTENT_DIR,
    DEFAULT_OUTPUT_DIR,
    DEFAULT_VARIANTS,
    BuildConfig,
    Variant,
    resolve_epoch,
)
from .errors import BriefingError, ContentError, Diagnostics, OutputError, UsageError, missing_dependency
from .log import LOGGER, configure_logging
from .model import BuildResult, Output, Paper
from .processes import SignalGuard, Terminated, run_all, stop_workers, worker_pool

# The pipeline (WeasyPrint, citeproc, Markdown) is imported only when something must be built:
# a rebuild with nothing changed answers before paying for it.

STARTER_DIR = Path(__file__).parent / "starter"
ISSUE_URL_HINT = "please report it with the command you ran (rerun with --debug for the traceback)"


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, run the command, return the exit code."""
    parser = _make_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    configure_logging(quiet=getattr(args, "quiet", False))
    signals = SignalGuard()
    try:
        with signals:
            return int(args.run(args))
    except BriefingError as error:
        LOGGER.error("error: %s", error)
        return error.exit_code
    except (KeyboardInterrupt, Terminated) as stop:
        stop_workers()
        LOGGER.error("interrupted" if isinstance(stop, KeyboardInterrupt) else "terminated")
        return 130 if isinstance(stop, KeyboardInterrupt) else 143
    except ModuleNotFoundError as missing:  # lazily imported stages, run with a Python lacking them
        LOGGER.error("error: %s", missing_dependency(missing))
        return 2
    except Exception as error:
        if signals.terminated:  # a worker ended by the signal broke its pool before the signal unwound us
            stop_workers()
            LOGGER.error("terminated")
            return 143
        if getattr(args, "debug", False):
            traceback.print_exc()
        LOGGER.error("internal error: %s: %s; %s", type(error).__name__, error, ISSUE_URL_HINT)
        return 70


def _make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="briefing", description="Turn structured content into print-ready PDF briefings.")
    parser.add_argument("--version", action="version", version=f"briefing {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quiet", "-q", action="store_true", help="print only problems and the summary")
    common.add_argument("--strict", action="store_true", help="treat warnings as errors")
    common.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")

    build_parser = commands.add_parser("build", parents=[common], help="build briefings into PDFs")
    build_parser.add_argument(
        "paths", nargs="*", type=Path, metavar="PATH", help="briefing folders (default: every folder under content/)"
    )
    build_parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUTPUT_DIR, metavar="DIR", help="output folder (default: output/)"
    )
    build_parser.add_argument(
        "--variant", action="append", choices=[v.value for v in Variant] + ["all"], metavar="NAME",
        help="pdf, print, handout, booklet, html or all (repeatable; default: pdf print handout)",
    )
    build_parser.add_argument("--paper", choices=[p.value for p in Paper], help="override the briefing's paper size")
    build_parser.add_argument("--jobs", "-j", type=_positive_int, default=1, metavar="N", help="build N briefings at once")
    build_parser.add_argument("--no-cache", action="store_true", help="redraw figures and rebuild everything")
    build_parser.set_defaults(run=_run_build)

    check_parser = commands.add_parser("check", parents=[common], help="validate content; write nothing")
    check_parser.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    check_parser.add_argument("--explain", action="store_true",
                              help="print each setting of briefing.yaml and the file it comes from")
    check_parser.set_defaults(run=_run_check)

    watch_parser = commands.add_parser("watch", parents=[common], help="rebuild on every saved change")
    watch_parser.add_argument("path", type=Path, metavar="PATH")
    watch_parser.add_argument("--out", type=Path, default=DEFAULT_OUTPUT_DIR, metavar="DIR")
    watch_parser.add_argument("--variant", action="append", choices=[v.value for v in Variant] + ["all"], metavar="NAME",
                              help="editions to rebuild (default: pdf, the one an author looks at)")
    watch_parser.add_argument("--paper", choices=[p.value for p in Paper])
    watch_parser.add_argument("--interval", type=float, default=0.05, help=argparse.SUPPRESS)  # quiet time ending a save
    watch_parser.add_argument("--max-builds", type=int, default=None, help=argparse.SUPPRESS)
    watch_parser.set_defaults(run=_run_watch)

    preview_parser = commands.add_parser(
        "preview", parents=[common], help="serve the web edition on 127.0.0.1, reloaded after every save"
    )
    preview_parser.add_argument("path", type=Path, metavar="PATH")
    preview_parser.add_argument("--out", type=Path, default=DEFAULT_OUTPUT_DIR, metavar="DIR",
                                help="where the PDF editions are rebuilt in the background (default: output/)")
    preview_parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    preview_parser.add_argument("--paper", choices=[p.value for p in Paper])
    preview_parser.add_argument("--no-pdf", action="store_true", help="serve the web edition only")
    preview_parser.set_defaults(run=_run_preview)

    list_parser = commands.add_parser("list", help="the briefings under the content tree, for a CI matrix")
    list_parser.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="folders (default: under content/)")
    list_parser.add_argument("--json", action="store_true", help="one JSON array: slug, folder, editions, digest")
    list_parser.add_argument("--variant", action="append", choices=[v.value for v in Variant] + ["all"], metavar="NAME",
                             help="the editions each build makes (default: pdf print handout)")
    list_parser.set_defaults(run=_run_list, quiet=False)

    verify_parser = commands.add_parser("verify", help="check a folder of outputs against their manifests")
    verify_parser.add_argument("folder", type=Path, metavar="DIR")
    verify_parser.set_defaults(run=_run_verify, quiet=False)

    new_parser = commands.add_parser("new", help="write a small working briefing to start from")
    new_parser.add_argument("path", type=Path, metavar="PATH")
    new_parser.set_defaults(run=_run_new, quiet=False)
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _briefing_folders(paths: Sequence[Path]) -> list[Path]:
    if paths:
        for path in paths:
            if not path.is_dir():
                raise UsageError(f"'{path}' is not a folder")
        return list(paths)
    if not DEFAULT_CONTENT_DIR.is_dir():
        raise UsageError("no PATH given and no content/ folder here; run 'briefing new PATH' to start a briefing")
    found = sorted(p.parent for p in DEFAULT_CONTENT_DIR.glob(f"*/{BRIEFING_FILE}"))
    if not found:
        raise UsageError(f"no folder under content/ holds a {BRIEFING_FILE}")
    return found


def _variants(names: list[str] | None) -> tuple[Variant, ...]:
    if not names:
        return DEFAULT_VARIANTS
    if "all" in names:
        return tuple(Variant)
    return tuple(Variant(name) for name in dict.fromkeys(names))


def _run_build(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    folders = _briefing_folders(args.paths)
    _check_output_folder(args.out)
    base = BuildConfig(
        content_dir=Path("."),
        output_dir=args.out,
        variants=_variants(args.variant),
        paper=Paper(args.paper) if args.paper else None,
        strict=args.strict,
        use_cache=not args.no_cache,
        cache_dir=DEFAULT_CACHE_DIR,
    )
    if args.no_cache and base.cache_dir.exists():
        shutil.rmtree(base.cache_dir / "figures", ignore_errors=True)
    # One briefing at a time: its editions share the cores. Several at once (--jobs): the briefings do.
    parallel_briefings = args.jobs > 1 and len(folders) > 1
    workers = 1 if parallel_briefings else os.cpu_count() or 1
    configs = [replace(base, content_dir=folder, workers=workers) for folder in folders]
    with _progress_display(args.quiet):
        if parallel_briefings:
            with worker_pool(min(args.jobs, len(configs), os.cpu_count() or 1)) as pool:
                outcomes = run_all(pool, _build_one, configs, [args.quiet] * len(configs))
        else:
            outcomes = [_build_one(config, args.quiet) for config in configs]
    failed, exit_code = 0, 0
    for outcome in outcomes:
        for line in outcome.messages:
            print(line, file=sys.stderr)
        result = outcome.result
        if result is None:
            failed += 1
            exit_code = max(exit_code, outcome.exit_code)
            continue
        if result.up_to_date:
            LOGGER.info("%s: up to date (nothing changed since the last build)", result.briefing)
            continue
        for output in result.outputs:
            pages = f" ({output.pages} page{'' if output.pages == 1 else 's'})" if output.pages else ""
            LOGGER.info("wrote %s%s", output.path, pages)
    elapsed = time.perf_counter() - started
    built = len(outcomes) - failed
    LOGGER.info("%d briefing%s built, %d failed, in %.1f s", built, "" if built == 1 else "s", failed, elapsed)
    return exit_code


def _progress_display(quiet: bool) -> AbstractContextManager[object]:
    """On a terminal, one live line per briefing; elsewhere the plain stage lines of the log."""
    if quiet or not sys.stderr.isatty():
        return nullcontext()  # decided before importing rich: a no-op rebuild answers in a fraction of a second
    from .progress import LiveProgress

    return LiveProgress(sys.stderr) if LiveProgress.wanted(sys.stderr, quiet) else nullcontext()


def _check_output_folder(folder: Path) -> None:
    """Say at once, before any layout, when the outputs could not be written anyway (and create nothing)."""
    from .write import output_error

    try:
        existing = folder
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir():
            raise OutputError(f"cannot write to '{folder}': '{existing}' is a file, not a folder (--out names a folder)")
        if not os.access(existing, os.W_OK | os.X_OK):
            raise output_error(folder, PermissionError(13, "Permission denied"))
    except OSError as error:
        raise output_error(folder, error) from error


@dataclass(frozen=True)
class Outcome:
    """What one briefing's build gives the command: its result (None on failure) and its messages."""

    result: BuildResult | None
    messages: list[str]
    exit_code: int = 0


def _build_one(config: BuildConfig, quiet: bool) -> Outcome:
    """Build one briefing unless nothing changed."""
    from . import build_cache
    from .write import recover

    configure_logging(quiet)  # again: in a worker process logging starts unconfigured
    started = time.perf_counter()
    recover(config.output_dir)  # a set of outputs a kill interrupted is finished before anything reads it
    if config.epoch is None:
        config = replace(config, epoch=resolve_epoch(config.content_dir, config.generated_dirs()))
    assert config.epoch is not None
    print_ = build_cache.fingerprint(config, config.epoch)
    if not config.use_cache:
        build_cache.forget(config)
    elif (previous := build_cache.up_to_date(config, print_)) is not None:
        outputs = [Output(path, pages) for path, pages in previous]
        return Outcome(BuildResult(config.slug, outputs, time.perf_counter() - started, up_to_date=True), [])
    from .pipeline import build

    report = Diagnostics(strict=config.strict)
    try:
        result = build(config, report)
    except ContentError as error:
        return Outcome(None, [str(d) for d in report] + [f"{config.content_dir}: error: {error}"], 1)
    except OutputError as error:
        return Outcome(None, [str(d) for d in report] + [f"error: {error}"], OutputError.exit_code)
    build_cache.remember(config, print_, [(o.path, o.pages) for o in result.outputs], result.theme_inputs)
    return Outcome(result, [str(d) for d in report])


def _run_check(args: argparse.Namespace) -> int:
    from .pipeline import check

    failed = 0
    for folder in _briefing_folders(args.paths):
        report = Diagnostics(strict=args.strict)
        stopped = False
        try:
            check(BuildConfig(content_dir=folder), report)
        except ContentError:
            stopped = True
        if args.explain:
            _explain(folder)
        for diagnostic in report:
            print(diagnostic, file=sys.stderr)
        problems = stopped or report.has_failures()
        failed += problems
        LOGGER.info("%s: %s", folder, "problems found" if problems else "ok")
    return 1 if failed else 0


def _explain(folder: Path) -> None:
    """Each effective top-level setting, its value, and where it is written (the briefing or the tree's defaults)."""
    from .load import load_content

    files = load_content(folder, Diagnostics())
    for key, value in (files.config or {}).items():
        where = getattr(value, "location", None) or getattr(key, "location", None)
        shown = " ".join(str(value).split()) if not isinstance(value, (dict, list)) else f"({len(value)} entries)"
        print(f"{key}: {shown[:70]}{'…' if len(shown) > 70 else ''}  [{where}]")


def _run_watch(args: argparse.Namespace) -> int:
    """One warm process: wait for a save, rebuild, print the time and the problems; never die."""
    from .watch import watch

    (folder,) = _briefing_folders([args.path])
    config = BuildConfig(
        content_dir=folder,
        output_dir=args.out,
        variants=_variants(args.variant) if args.variant else (Variant.PDF,),
        paper=Paper(args.paper) if args.paper else None,
        strict=args.strict,
    )
    return watch(config, quiet_time=args.interval, max_builds=args.max_builds)


def _run_preview(args: argparse.Namespace) -> int:
    """Serve the web edition and follow every save until Ctrl-C; the address goes to standard output."""
    from .preview import Preview

    (folder,) = _briefing_folders([args.path])
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port}: a port is a number from 1 to 65535 (0: a free one)")
    config = BuildConfig(content_dir=folder, output_dir=args.out, paper=Paper(args.paper) if args.paper else None,
                         strict=args.strict)
    try:
        preview = Preview(config, port=args.port, pdfs=not args.no_pdf)
    except OSError as error:
        raise UsageError(f"cannot serve on 127.0.0.1:{args.port}: {error.strerror or error}") from error
    print(f"previewing {folder} at {preview.url} (Ctrl-C to stop)", flush=True)
    return preview.run()


def _run_list(args: argparse.Namespace) -> int:
    from .listing import list_briefings, listing_json

    folders = [folder for folder in _briefing_folders(args.paths) if (folder / BRIEFING_FILE).is_file()]
    listed = list_briefings(folders, _variants(args.variant), Path.cwd())
    if args.json:
        print(listing_json(listed))
    else:
        for row in listed:
            print(f"{row.slug}\t{row.folder}\t{' '.join(row.editions)}\t{row.digest[:12]}")
    return 0


def _run_verify(args: argparse.Namespace) -> int:
    from .listing import verify_outputs

    if not args.folder.is_dir():
        raise UsageError(f"'{args.folder}' is not a folder")
    report = Diagnostics()
    checked = verify_outputs(args.folder, report)
    for diagnostic in report:
        print(diagnostic, file=sys.stderr)
    LOGGER.info("%d output%s checked, %d problem%s", checked, "" if checked == 1 else "s",
                len(report), "" if len(report) == 1 else "s")
    return 1 if report.errors else 0


def _run_new(args: argparse.Namespace) -> int:
    from .write import output_error

    target: Path = args.path
    if target.exists() and not target.is_dir():
        raise UsageError(f"'{target}' is a file; 'briefing new' writes a new folder (try: briefing new {target.parent})")
    if target.is_dir() and any(target.iterdir()):
        raise UsageError(f"'{target}' exists and is not empty; choose a new folder")
    try:
        shutil.copytree(STARTER_DIR, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    except OSError as error:
        raise output_error(target, error) from error
    except shutil.Error as error:  # copytree collects the failures of every file
        failures = error.args[0] if error.args and isinstance(error.args[0], list) else []
        cause = failures[0][2] if failures and len(failures[0]) == 3 else str(error)
        raise OutputError(f"cannot write '{target}': {cause}") from error
    LOGGER.info("wrote a starter briefing to %s; build it with: briefing build %s", target, target)
    return 0
