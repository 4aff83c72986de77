"""Helpers shared by the benchmarks: timing subprocess runs, medians, a one-test project."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without keys, endpoints or addopts that would change a run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LLM_", "PYTEST_"))}
    env.pop("CI", None)
    # Installed packages run from cached bytecode; a shell that forbids writing it would make every run
    # recompile the plugin's sources, a cost no installed copy pays.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(extra)
    return env


def timed_run(args: Sequence[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system) of one subprocess run; CPU is steadier on a busy machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(list(args), cwd=cwd, env=env or clean_env(), capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout[-3000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def cpu_run(args: Sequence[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    """CPU seconds (user + system) of one subprocess run: steadier than wall time on a busy machine."""
    return timed_run(args, cwd, env)[1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def pytest_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
