"""Same inputs, same bytes: every edition, built twice from scratch with SOURCE_DATE_EPOCH."""

from __future__ import annotations

import json
from pathlib import Path

import pikepdf
import pytest

from briefing.cli import STARTER_DIR, main

pytestmark = pytest.mark.slow

EPOCH = "1750000000"  # 2025-06-15T15:06:40Z


def _build(workdir: Path) -> dict[str, bytes]:
    """Every edition of the starter, in a folder of its own (with its own cache: figures drawn again)."""
    workdir.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
        patch.chdir(workdir)
        assert main(["build", "--quiet", "--variant", "all", "--out", "out", str(STARTER_DIR)]) == 0
    return {path.name: path.read_bytes() for path in sorted((workdir / "out").iterdir())}


@pytest.fixture(scope="module")
def first_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    """One build shared by the tests that only read it."""
    workdir = tmp_path_factory.mktemp("reproducible") / "one"
    return workdir, _build(workdir)


def test_two_builds_give_byte_identical_outputs(first_build: tuple[Path, dict[str, bytes]], tmp_path: Path) -> None:
    first = first_build[1]
    second = _build(tmp_path / "two")
    assert set(first) == {
        "starter.pdf", "starter-print.pdf", "starter-handout.pdf", "starter-booklet.pdf", "starter.html",
        "starter.manifest.json",
    }
    for name in first:
        assert first[name] == second[name], f"{name} differs between two builds"


def test_dates_come_from_the_epoch(first_build: tuple[Path, dict[str, bytes]]) -> None:
    workdir, outputs = first_build
    manifest = json.loads(outputs["starter.manifest.json"])
    assert manifest["source_date_epoch"] == int(EPOCH)
    assert manifest["built"] == "2025-06-15T15:06:40+00:00"
    for name in ("starter.pdf", "starter-print.pdf"):
        with pikepdf.open(workdir / "out" / name) as pdf:
            assert str(pdf.docinfo["/CreationDate"]).startswith("D:20250615150640")
            assert str(pdf.docinfo["/ModDate"]).startswith("D:20250615150640")


def test_manifest_lists_inputs_and_outputs_with_hashes(first_build: tuple[Path, dict[str, bytes]]) -> None:
    import hashlib

    outputs = first_build[1]
    manifest = json.loads(outputs["starter.manifest.json"])
    inputs = {entry["path"] for entry in manifest["inputs"]}
    assert {"briefing.yaml", "sections/01-background.md", "timeline.yaml", "references.bib"} <= inputs
    for entry in manifest["outputs"]:
        assert entry["sha256"] == hashlib.sha256(outputs[entry["path"]]).hexdigest()
    pages = {entry["path"]: entry["pages"] for entry in manifest["outputs"]}
    assert pages["starter-handout.pdf"] <= 2
    assert manifest["tools"]["weasyprint"].startswith("70.")


def test_bad_source_date_epoch_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    assert main(["build", "--quiet", str(STARTER_DIR)]) == 2
    assert "SOURCE_DATE_EPOCH must be a whole number of seconds, found 'yesterday'" in capsys.readouterr().err
