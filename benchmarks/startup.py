"""Start-up cost: a one-test project run with the plugin loaded against ``-p no:llmconfidence``.

Runs are interleaved (plugin, no plugin, plugin, ...) so machine noise hits both alike, and timed in CPU
seconds (user + system) of the pytest process, steadier than wall time on a shared machine; the ratio of the
medians is the plugin's cost on every pytest run of a project that never judges. Goal: <= 1.03.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from _common import cpu_run, median, pytest_cmd

ONE_TEST = "def test_unrelated():\n    assert 1 + 1 == 2\n"


def run(runs: int = 15) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "test_one.py").write_text(ONE_TEST)
        (project / "pytest.ini").write_text("[pytest]\n")
        with_plugin = ["-p", "no:asyncio", "-p", "no:recording", "-p", "no:xdist", "-p", "no:cov"]
        without = [*with_plugin, "-p", "no:llmconfidence"]
        cpu_run(pytest_cmd(*with_plugin), project)  # warm the file cache
        plugin_times, bare_times = [], []
        for _ in range(runs):
            plugin_times.append(cpu_run(pytest_cmd(*with_plugin), project))
            bare_times.append(cpu_run(pytest_cmd(*without), project))
    plugin, bare = median(plugin_times), median(bare_times)
    return {
        "name": "start-up (one unrelated test)",
        "runs": runs,
        "with_plugin_s": plugin,
        "without_plugin_s": bare,
        "ratio": plugin / bare,
        "goal": "<= 1.03x",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    result = run(parser.parse_args().runs)
    print(
        f"{result['name']}: plugin {result['with_plugin_s'] * 1000:.0f} ms CPU, "
        f"-p no:llmconfidence {result['without_plugin_s'] * 1000:.0f} ms, "
        f"ratio {result['ratio']:.3f}x (goal {result['goal']}, median of {result['runs']})"
    )


if __name__ == "__main__":
    main()
