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
    """pytest loads every installed plugin in every run: ours imports no openai, vcr, httpx, pydantic or
    yaml, and of its own modules only the option table, the run's state, each test's phases and the hook
    specifications: not the validators, the judge or the recorder."""
    import subprocess
    import sys

    code = (
        "import sys, pytest_llmconfidence.plugin, pytest_llmconfidence; "
        "heavy = {'openai', 'vcr', 'httpx', 'httpx2', 'pydantic', 'yaml'}; "
        "print(sorted({m for m in sys.modules if m.split('.')[0] in heavy}))\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('pytest_llmconfidence'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    heavy, ours = out.splitlines()
    assert heavy == "[]"
    light = {
        "pytest_llmconfidence",
        "pytest_llmconfidence.plugin",
        "pytest_llmconfidence._plugin",
        "pytest_llmconfidence._plugin.item",
        "pytest_llmconfidence._plugin.options",
        "pytest_llmconfidence._plugin.run",
        "pytest_llmconfidence._startup",
        "pytest_llmconfidence._report",
        "pytest_llmconfidence._report.current",
        "pytest_llmconfidence.hookspec",
    }
    assert set(ours.split()) <= light


def test_the_modules_every_run_loads_use_pythons_loader_and_hold_no_assert(tmp_path: Path) -> None:
    """pytest reads a plugin's bytecode through its assertion-rewriting hook, ten times slower than Python's
    own loader: the modules every run needs load with Python's (none slipped through pytest's hook by being
    imported first), so they must hold no ``assert`` for pytest to rewrite."""
    import ast
    import subprocess
    import sys

    from pytest_llmconfidence._plugin import EVERY_RUN

    for name in EVERY_RUN:
        tree = ast.parse((ROOT / "pytest_llmconfidence" / (name.replace(".", "/") + ".py")).read_text())
        assert not [node for node in ast.walk(tree) if isinstance(node, ast.Assert)], name
    (tmp_path / "conftest.py").write_text(
        "import sys\n"
        "def pytest_unconfigure(config):\n"
        "    for name in sorted(sys.modules):\n"
        "        if name.startswith('pytest_llmconfidence'):\n"
        "            print('LOADER', name, type(sys.modules[name].__loader__).__name__)\n"
    )
    (tmp_path / "test_one.py").write_text("def test_one():\n    pass\n")
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-s", "-p", "no:xdist", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout
    loaders = dict(line.split()[1:] for line in out.splitlines() if line.startswith("LOADER"))
    assert {
        f"pytest_llmconfidence.{name}": "SourceFileLoader" for name in EVERY_RUN
    }.items() <= loaders.items()


def test_the_plugin_loads_from_a_zip_file_too(tmp_path: Path) -> None:
    """Where the package is not a folder of source files (a zip on sys.path), its modules load the usual
    way."""
    import subprocess
    import sys
    import zipfile

    archive = tmp_path / "plugin.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in (ROOT / "pytest_llmconfidence").rglob("*.py"):
            zipped.write(path, path.relative_to(ROOT).as_posix())
    code = (
        f"import sys; sys.path.insert(0, {str(archive)!r}); import pytest_llmconfidence.plugin as p; "
        "print(type(p.__loader__).__name__, sorted(p.FIXTURES)[0], "
        "type(sys.modules['pytest_llmconfidence._plugin.run'].__loader__).__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["zipimporter", "judge", "zipimporter"]


def _core_modules() -> list[str]:
    """Every module of the package outside plugin.py and _plugin/ (the pytest side)."""
    package = ROOT / "pytest_llmconfidence"
    names = []
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if len(parts) > 1 and parts[1] in ("plugin", "_plugin"):
            continue
        names.append(".".join(parts))
    return names


def test_the_core_imports_no_pytest() -> None:
    """Every module outside plugin.py and _plugin/ is pure: importing all of them in a fresh interpreter
    loads no pytest (the confidence maths, the judge, recording and reports are testable without it)."""
    import subprocess
    import sys

    modules = _core_modules()
    assert "pytest_llmconfidence._recording.cassette" in modules and len(modules) > 30
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pytest', '_pytest')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_package_has_no_import_circle() -> None:
    """No module of the package imports, directly or through others, a module that imports it back
    (deferred imports inside functions count too)."""
    import ast

    package = ROOT / "pytest_llmconfidence"
    edges: dict[str, set[str]] = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        is_init = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_init else parts)
        here = name.split(".") if is_init else name.split(".")[:-1]
        found = edges.setdefault(name, set())
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = here[: len(here) - node.level + 1]
                target = ".".join([*base, node.module]) if node.module else ".".join(base)
                targets = [target] if node.module else [f"{target}.{a.name}" for a in node.names]
                found.update(t for t in targets if t != "pytest_llmconfidence")
    modules = set(edges)
    graph = {m: {t for t in ts if t in modules and t != m} for m, ts in edges.items()}
    circles = []

    def visit(node: str, path: list[str]) -> None:
        for nxt in graph[node]:
            if nxt in path:
                circles.append(" -> ".join([*path[path.index(nxt) :], nxt]))
            elif nxt not in seen:
                seen.add(nxt)
                visit(nxt, [*path, nxt])

    for start in sorted(graph):
        seen = {start}
        visit(start, [start])
    assert circles == [], "\n".join(circles)


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
    from pytest_llmconfidence._plugin.controller import Controller
    from pytest_llmconfidence._plugin.run import RunState

    hooks = {name for name in vars(Controller) if name.startswith("pytest_")}
    assert set(dir(Controller(RunState(plugin.JudgeConfig())))) == hooks


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
