"""Arguments + input -> pandoc's output: the one place the build runs the pandoc binary.

Pandoc comes from the ``pypandoc-binary`` wheel (a pinned binary, no system install). It is run
as a plain subprocess, never through a shell, with ``--sandbox`` (its readers may open only the
files named on the command line, and nothing over the network), an empty data directory (no
user templates, filters or defaults), a bounded heap and a time limit: pandoc is a parser of
untrusted text, and its manual recommends both bounds for exactly that use.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "pypandoc-binary"
"""The wheel that ships the pandoc binary, named in the message when it is missing."""
HEAP_LIMIT = "768m"
"""Pandoc's heap bound (GHC runtime ``-M``): a US–Iran briefing needs about 40 MB."""
TIME_LIMIT_S = 20.0
"""Wall-clock bound of one run; a briefing's citations take well under a second."""
HEAP_EXHAUSTED = 251
"""The exit status of a GHC program that hit its heap bound."""


class PandocUnavailableError(Exception):
    """The pandoc binary is missing or cannot be run."""


@dataclass(frozen=True)
class PandocResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def out_of_memory(self) -> bool:
        return self.returncode == HEAP_EXHAUSTED or "Heap exhausted" in self.stderr

    @property
    def timed_out(self) -> bool:
        return self.returncode == -1


def pandoc_path() -> Path:
    """The binary inside the ``pypandoc-binary`` wheel, or PandocUnavailableError saying what to install."""
    # Found, not imported: importing pypandoc would cost more than the lookup, and it is never called.
    spec = importlib.util.find_spec("pypandoc")
    if spec is None or spec.origin is None:
        raise PandocUnavailableError(
            f"the citation processor, pandoc, is not installed: install the Python package '{PACKAGE}' (run 'make')"
        )
    path = Path(spec.origin).parent / "files" / ("pandoc.exe" if os.name == "nt" else "pandoc")
    if not path.is_file() or not os.access(path, os.X_OK):
        raise PandocUnavailableError(
            f"the citation processor, pandoc, is missing or not executable at '{path}': "
            f"reinstall the Python package '{PACKAGE}'"
        )
    return path


def run_pandoc(arguments: Sequence[str], stdin: str, time_limit: float = TIME_LIMIT_S) -> PandocResult:
    """Run pandoc sandboxed on ``stdin``; the caller turns a failure into a located message."""
    binary = pandoc_path()
    with tempfile.TemporaryDirectory(prefix="briefing-pandoc-") as data_dir:
        command = [str(binary), "+RTS", f"-M{HEAP_LIMIT}", "-RTS", "--sandbox", f"--data-dir={data_dir}", *arguments]
        # A clean environment: no proxy, no user data folder, UTF-8 whatever the locale.
        environment = {"LANG": "C.UTF-8", "HOME": data_dir, "XDG_DATA_HOME": data_dir, "PATH": "/usr/bin:/bin"}
        try:
            done = subprocess.run(
                command, input=stdin.encode("utf-8"), capture_output=True, timeout=time_limit, env=environment,
                cwd=data_dir, check=False,
            )
        except subprocess.TimeoutExpired:
            return PandocResult(-1, "", f"pandoc took longer than {time_limit:.0f} s")
        except OSError as error:
            raise PandocUnavailableError(
                f"the citation processor, pandoc, cannot be run ({error.strerror}): "
                f"reinstall the Python package '{PACKAGE}'"
            ) from error
    return PandocResult(
        done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")
    )



