"""Start-up cost: a one-test project run with the plugin loaded against ``-p no:llmconfidence``.

Runs are interleaved (plugin, no plugin, plugin, ...) so machine noise hits both alike. Two settings: with
bytecode cached (an installed copy) and with ``PYTHONDONTWRITEBYTECODE=1`` (every run compiles the plugin's
sources, as an editable install in a shell that forbids bytecode does). The ratio of the medians of wall
time is the plugin's cost on every pytest run of a project that never judges (goal: <= 1.02); CPU seconds
are reported beside it, steadier on a shared machine.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from _common import clean_env, median, pytest_cmd, timed_run

ONE_TEST = "def test_unrelated():\n    assert 1 + 1 == 2\n"


def _measure(project: Path, runs: int, env: dict[str, str]) -> dict[str, float]:
    with_plugin = ["-p", "no:asyncio", "-p", "no:recording", "-p", "no:xdist", "-p", "no:cov"]
    without = [*with_plugin, "-p", "no:llmconfidence"]
    timed_run(pytest_cmd(*with_plugin), project, env)  # warm the file cache
    plugin, bare = [], []
    for _ in range(runs):
        plugin.append(timed_run(pytest_cmd(*with_plugin), project, env))
        bare.append(timed_run(pytest_cmd(*without), project, env))
    wall, bare_wall = median([w for w, _ in plugin]), median([w for w, _ in bare])
    cpu, bare_cpu = median([c for _, c in plugin]), median([c for _, c in bare])
    return {"wall_s": wall, "bare_wall_s": bare_wall, "cpu_s": cpu, "bare_cpu_s": bare_cpu}


def run(runs: int = 15) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "test_one.py").write_text(ONE_TEST)
        (project / "pytest.ini").write_text("[pytest]\n")
        cached = _measure(project, runs, clean_env())
        compiled = _measure(project, runs, clean_env(PYTHONDONTWRITEBYTECODE="1"))
    return {
        "name": "start-up (one unrelated test)",
        "runs": runs,
        "with_plugin_s": cached["wall_s"],
        "without_plugin_s": cached["bare_wall_s"],
        "ratio": cached["wall_s"] / cached["bare_wall_s"],
        "cpu_ratio": cached["cpu_s"] / cached["bare_cpu_s"],
        "no_bytecode_ratio": compiled["wall_s"] / compiled["bare_wall_s"],
        "no_bytecode_cpu_ratio": compiled["cpu_s"] / compiled["bare_cpu_s"],
        "goal": "<= 1.02x",
    }


def describe(result: dict[str, Any]) -> str:
    return (
        f"{result['with_plugin_s'] * 1000:.0f} ms wall with the plugin, {result['without_plugin_s'] * 1000:.0f} ms "
        f"with `-p no:llmconfidence` (CPU {result['cpu_ratio']:.3f}x); with no bytecode cache "
        f"{result['no_bytecode_ratio']:.3f}x wall, {result['no_bytecode_cpu_ratio']:.3f}x CPU "
        f"(medians of {result['runs']}, interleaved)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    result = run(parser.parse_args().runs)
    print(f"{result['name']}: ratio {result['ratio']:.3f}x (goal {result['goal']}); {describe(result)}")


if __name__ == "__main__":
    main()
