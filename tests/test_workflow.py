"""The CI workflow users copy: valid YAML whose commands are the README's."""

from __future__ import annotations

import yaml

from .conftest import PROJECT_DIR


def test_workflow_is_valid_and_runs_the_readme_commands() -> None:
    workflow = yaml.safe_load((PROJECT_DIR / ".github" / "workflows" / "briefings.yml").read_text())
    steps = workflow["jobs"]["build"]["steps"]
    commands = [step["run"].strip() for step in steps if "run" in step and "\n" not in step["run"].strip()]
    readme = (PROJECT_DIR / "README.md").read_text()
    assert commands, "the workflow runs commands"
    for command in commands:
        assert command in readme, f"'{command}' is not in the README"
    assert any("SOURCE_DATE_EPOCH" in command for command in commands)
    uploads = [step for step in steps if step.get("uses", "").startswith("actions/upload-artifact")]
    assert "output/SHA256SUMS" in uploads[0]["with"]["path"]
    assert any("gh release upload" in step.get("run", "") for step in steps)


def test_ci_entry_point_runs_the_readme_test_command() -> None:
    assert "make test" in (PROJECT_DIR / ".ci" / "run").read_text()
    assert "make test" in (PROJECT_DIR / "README.md").read_text().split("\n\n")[2]
