"""The newcomer path: the README's two commands and what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```sh\n(.*?)```", text, re.S)
    assert block is not None, "README has no sh block"
    assert text.index(block.group(0)) < text.index("\n---"), "the commands come first"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_the_main_job_and_the_test_command() -> None:
    """Exactly two set-up commands, before anything else: the examples offline, then the tests."""
    assert readme_commands() == ["make examples", "make test"]


def test_ci_runs_the_readme_test_command() -> None:
    """.ci/run calls the README's test command."""
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M)


def test_make_examples_runs_the_examples_offline() -> None:
    """The main job replays the examples with CI set: no key, no network."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\nexamples:", 1)[1].split("\n\n", 1)[0]
    assert "CI=true" in recipe and "pytest examples" in recipe


def test_loading_the_plugin_imports_no_heavy_dependency() -> None:
    """pytest loads every installed plugin in every run: ours imports no openai, vcr, httpx or pydantic,
    and none of its own heavy modules (models, judge, recording, reports)."""
    import subprocess
    import sys

    code = (
        "import sys, pytest_llmconfidence.plugin, pytest_llmconfidence; "
        "heavy = {'openai', 'vcr', 'httpx', 'httpx2', 'pydantic', 'yaml'}; "
        "ours = {'_report', '_summary', '_html', '_models', '_judge', '_cassette', '_transport', '_response', '_calibration'}; "
        "print(sorted({m for m in sys.modules if m.split('.')[0] in heavy or m.split('.')[-1] in ours}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_names_pytest_scans_in_the_plugin_are_all_its_hooks_and_fixtures() -> None:
    """dir() of the plugin lists every hook and fixture it defines (pytest and pluggy find them
    there), and nothing else."""
    import _pytest.fixtures

    from pytest_llmconfidence import plugin

    defined = {
        name
        for name, value in vars(plugin).items()
        if name.startswith("pytest_") or isinstance(value, _pytest.fixtures.FixtureFunctionDefinition)
    }
    assert set(dir(plugin)) == defined
    assert {"judge", "judge_config", "judge_client", "llm_responses", "pytest_configure"} <= defined
    hooks = {name for name in vars(plugin.RunState) if name.startswith("pytest_")}
    assert set(dir(plugin.RunState(plugin.JudgeConfig()))) == hooks


def test_judge_config_is_frozen_compares_by_value_and_names_a_wrong_field() -> None:
    import pytest

    from pytest_llmconfidence import JudgeConfig

    config = JudgeConfig(model="m", threshold=0.5)
    assert (config.model, config.threshold, config.top_logprobs) == ("m", 0.5, 20)
    assert config == JudgeConfig(threshold=0.5, model="m") and hash(config) == hash(
        JudgeConfig(model="m", threshold=0.5)
    )
    changed = config.replace(threshold=0.7)
    assert (changed.threshold, config.threshold, changed.model) == (0.7, 0.5, "m")
    assert changed != config
    assert "threshold=0.5" in repr(config)
    # the named-tuple spellings, as fixtures overriding judge_config may use them
    assert config._replace(model="n").model == "n"
    assert config._asdict()["threshold"] == 0.5 and tuple(config._asdict()) == JudgeConfig._fields
    with pytest.raises(AttributeError, match=r"frozen: use config.replace\(threshold=...\)"):
        config.threshold = 0.1  # type: ignore[misc]
    with pytest.raises(TypeError, match="JudgeConfig has no field 'treshold'; its fields are model, "):
        JudgeConfig(treshold=0.5)
