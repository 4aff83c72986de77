"""Start-up cost: a one-test project run with the plugin loaded against ``-p no:llmconfidence``.

Each round runs the plugin once and the bare command twice, each first in turn, so machine noise hits all
alike, and the second bare run gives an A/A control: the ratio of two identical commands, which is how far
this machine moves between runs with nothing changed. The median of the rounds' wall-time ratios is the
plugin's cost on every pytest run of a project that never judges (goal: <= 1.02); CPU seconds are reported
beside it. A shared machine moves wall time by more than the goal, so ``--instructions`` also
counts instructions with valgrind's callgrind (the same count every run, give or take 0.2 %).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from _common import clean_env, median, pytest_cmd, timed_run

ONE_TEST = "def test_unrelated():\n    assert 1 + 1 == 2\n"
OTHER_PLUGINS = ["-p", "no:asyncio", "-p", "no:recording", "-p", "no:xdist", "-p", "no:cov"]


def _measure(project: Path, runs: int, env: dict[str, str]) -> dict[str, float]:
    commands = {
        "plugin": pytest_cmd(*OTHER_PLUGINS),
        "bare": pytest_cmd(*OTHER_PLUGINS, "-p", "no:llmconfidence"),
        "control": pytest_cmd(*OTHER_PLUGINS, "-p", "no:llmconfidence"),
    }
    for command in commands.values():  # warm the file cache, write the bytecode
        timed_run(command, project, env)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    names = list(commands)
    for round_ in range(runs):
        for name in names[round_ % 3 :] + names[: round_ % 3]:  # each goes first in turn
            times[name].append(timed_run(commands[name], project, env))

    def ratio(name: str, which: int) -> float:
        """The median of the round-by-round ratios to the bare run: a slow minute slows both sides."""
        return median([a[which] / b[which] for a, b in zip(times[name], times["bare"], strict=True)])

    return {
        "wall_s": median([w for w, _ in times["plugin"]]),
        "bare_wall_s": median([w for w, _ in times["bare"]]),
        "ratio": ratio("plugin", 0),
        "cpu_ratio": ratio("plugin", 1),
        "control_ratio": ratio("control", 0),
    }


def _instructions(project: Path, env: dict[str, str], *args: str) -> int:
    """The instructions one run executes, counted by callgrind (hash seed fixed)."""
    out = project / "callgrind.out"
    command = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out}",
        *pytest_cmd(*OTHER_PLUGINS, *args),
    ]
    result = subprocess.run(
        command, cwd=project, env={**env, "PYTHONHASHSEED": "0"}, capture_output=True, text=True
    )
    out.unlink(missing_ok=True)
    found = re.search(r"Collected : (\d+)", result.stderr)
    if result.returncode != 0 or found is None:
        raise RuntimeError(f"callgrind failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return int(found.group(1))


def run(runs: int = 15, instructions: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "test_one.py").write_text(ONE_TEST)
        (project / "pytest.ini").write_text("[pytest]\n")
        cached = _measure(project, runs, clean_env())
        counted: dict[str, Any] = {}
        if instructions and shutil.which("valgrind"):
            plugin = _instructions(project, clean_env())
            bare = _instructions(project, clean_env(), "-p", "no:llmconfidence")
            counted = {"instructions": plugin, "bare_instructions": bare, "instructions_ratio": plugin / bare}
        compiled = _measure(project, runs, clean_env(PYTHONDONTWRITEBYTECODE="1"))
    return {
        "name": "start-up (one unrelated test)",
        "runs": runs,
        "with_plugin_s": cached["wall_s"],
        "without_plugin_s": cached["bare_wall_s"],
        "ratio": cached["ratio"],
        "cpu_ratio": cached["cpu_ratio"],
        "control_ratio": cached["control_ratio"],
        "no_bytecode_ratio": compiled["ratio"],
        "no_bytecode_cpu_ratio": compiled["cpu_ratio"],
        **counted,
        "goal": "<= 1.02x",
    }


def describe(result: dict[str, Any]) -> str:
    text = (
        f"{result['with_plugin_s'] * 1000:.0f} ms wall with the plugin, {result['without_plugin_s'] * 1000:.0f} ms "
        f"with `-p no:llmconfidence` (CPU {result['cpu_ratio']:.3f}x); the bare command against itself "
        f"{result['control_ratio']:.3f}x (the machine's noise); with no bytecode cache "
        f"{result['no_bytecode_ratio']:.3f}x wall, {result['no_bytecode_cpu_ratio']:.3f}x CPU "
        f"(medians of {result['runs']} interleaved rounds)"
    )
    if "instructions_ratio" in result:
        text += (
            f"; instructions {result['instructions_ratio']:.4f}x ({result['instructions'] / 1e6:,.0f} million "
            f"against {result['bare_instructions'] / 1e6:,.0f} million, callgrind)"
        )
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--instructions", action="store_true", help="also count instructions (needs valgrind)"
    )
    options = parser.parse_args()
    result = run(options.runs, options.instructions)
    print(f"{result['name']}: ratio {result['ratio']:.3f}x (goal {result['goal']}); {describe(result)}")


if __name__ == "__main__":
    main()
