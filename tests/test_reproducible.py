"""Same inputs, same bytes: every edition, built twice from scratch with SOURCE_DATE_EPOCH."""

from __future__ import annotations

import json
from pathlib import Path

import pikepdf
import pytest

from briefing.cli import STARTER_DIR, main

pytestmark = pytest.mark.slow

EPOCH = "1750000000"  # 2025-06-15T15:06:40Z


def _build(tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    workdir = tmp_path / name
    workdir.mkdir()
    monkeypatch.chdir(workdir)  # a cache of its own: the figures are drawn again
    assert main(["build", "--quiet", "--variant", "all", "--out", "out", str(STARTER_DIR)]) == 0
    return {path.name: path.read_bytes() for path in sorted((workdir / "out").iterdir())}


def test_two_builds_give_byte_identical_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    first = _build(tmp_path, "one", monkeypatch)
    second = _build(tmp_path, "two", monkeypatch)
    assert set(first) == {
        "starter.pdf", "starter-print.pdf", "starter-handout.pdf", "starter-booklet.pdf", "starter.html",
        "starter.manifest.json",
    }
    for name in first:
        assert first[name] == second[name], f"{name} differs between two builds"


def test_dates_come_from_the_epoch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    outputs = _build(tmp_path, "one", monkeypatch)
    manifest = json.loads(outputs["starter.manifest.json"])
    assert manifest["source_date_epoch"] == int(EPOCH)
    assert manifest["built"] == "2025-06-15T15:06:40+00:00"
    for name in ("starter.pdf", "starter-print.pdf"):
        with pikepdf.open(tmp_path / "one" / "out" / name) as pdf:
            assert str(pdf.docinfo["/CreationDate"]).startswith("D:20250615150640")
            assert str(pdf.docinfo["/ModDate"]).startswith("D:20250615150640")


def test_manifest_lists_inputs_and_outputs_with_hashes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    outputs = _build(tmp_path, "one", monkeypatch)
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
