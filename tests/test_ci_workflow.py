"""The GitHub Actions workflow of docs/ci.md, its run: commands executed on a sample suite."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from fake_openai import FakeOpenAI, verdict

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / "docs" / "examples" / "llm-shards.yml"


def _commands(step_runs: list[str], values: dict[str, str]) -> list[str]:
    return [re.sub(r"\$\{\{\s*matrix\.(\w+)\s*\}\}", lambda m: values[m.group(1)], run) for run in step_runs]


def _run(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    if command.startswith("pip install"):
        return subprocess.CompletedProcess(command, 0, "", "")
    return subprocess.run(["bash", "-e", "-c", command], cwd=cwd, env=env, capture_output=True, text=True)


def test_the_docs_show_the_workflow_file() -> None:
    assert WORKFLOW.read_text() in (ROOT / "docs" / "ci.md").read_text()


def test_the_workflow_runs_its_shards_merges_summarises_and_compares(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    shard, merge = workflow["jobs"]["shard"], workflow["jobs"]["merge"]
    for name in shard["strategy"]["matrix"]["shard"]:
        judged.makepyfile(
            **{f"test_{name}": f"def test_{name}(judge):\n    judge('Is {name} fine?', 'Yes.')\n"}
        )
    fake_openai.rule("fine?", verdict(0.9, 0.1))
    judged.runpytest("-p", "no:xdist", "--llm-record-mode=all").assert_outcomes(passed=3)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PYTEST_ADDOPTS", None)
    env["GITHUB_STEP_SUMMARY"] = str(judged.path / "summary.md")
    runs = [step["run"] for step in shard["steps"] if "run" in step]
    for name in shard["strategy"]["matrix"]["shard"]:
        for command in _commands(runs, {"shard": name}):
            done = _run(command, judged.path, env)
            assert done.returncode == 0, done.stdout + done.stderr
    merge_runs = [step["run"] for step in merge["steps"] if "run" in step]
    for command in merge_runs:
        done = _run(command, judged.path, env)
        assert done.returncode == 0, done.stdout + done.stderr
    merged = json.loads((judged.path / "llm-all.json").read_text())
    assert merged["summary"]["verdicts"] == 3 and merged["summary"]["replayed"] == 3
    assert "no report of the main branch yet" in (judged.path / "summary.md").read_text()
    # The next run finds main's report: the comparison goes to the step summary and passes.
    (judged.path / "main-report").mkdir()
    (judged.path / "llm-all.json").rename(judged.path / "main-report" / "llm-all.json")
    for command in merge_runs:
        done = _run(command, judged.path, env)
        assert done.returncode == 0, done.stdout + done.stderr
    assert "**3** matched: **0** flipped" in (judged.path / "summary.md").read_text()
