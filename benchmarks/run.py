"""Run every benchmark and write docs/performance.md (the machine, the date, each ratio).

python benchmarks/run.py            # full sizes, writes docs/performance.md
python benchmarks/run.py --quick    # small sizes (CI: keeps the benchmarks working; no timing asserted)
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import batch
import cost
import startup

try:
    import replay
except ImportError:  # pragma: no cover - replay.py ships with the cassette layer
    replay = None  # type: ignore[assignment]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def _fmt_ratio(value: Any) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def collect(quick: bool) -> list[dict[str, Any]]:
    results = []
    results.append(startup.run(runs=9 if quick else 15, instructions=True))  # instructions: with valgrind
    if replay is not None:
        r = replay.run(n=50 if quick else 1000, repeat=1 if quick else 3)
        seconds, over, wall = r["seconds"], r["ms_per_test_over_bare"], r["wall_ms_per_test_over_bare"]
        results.append(
            {
                "name": f"replay ({r['n']} judged tests from cassettes)",
                "ratio": r["ratio_to_floor"]["cassettes"],
                "goal": (
                    "<= 1.5x the in-memory floor; faster than pytest-recording; <= 2.5 ms wall/test over bare"
                ),
                "detail": (
                    f"CPU s: cassettes {seconds['cassettes']:.2f}, floor {seconds['floor']:.2f}, "
                    f"pytest-recording {seconds['pytest-recording']:.2f} "
                    f"({seconds['pytest-recording'] / seconds['cassettes']:.2f}x slower), "
                    f"bare {seconds['bare']:.2f}; {over['cassettes']:.2f} ms per judged test over a bare test "
                    f"(floor {over['floor']:.2f}); wall time {wall['cassettes']:.2f} ms per test over bare, "
                    "first-use imports included"
                ),
            }
        )
        c = replay.run_calls(small=200 if quick else 1000, repeat=1 if quick else 3)
        small, large = c["calls"]["small"], c["calls"]["large"]
        results.append(
            {
                "name": f"replay of many calls in one test ({large} against {small})",
                "ratio": c["ratio"],
                "goal": f"<= 1.2x: the {large}-call test within 1.2 x {large // small} x the {small}-call test",
                "detail": (
                    f"{c['seconds']['large']:.2f} s for {large} calls ({c['ms_per_call']['large']:.2f} ms each), "
                    f"{c['seconds']['small']:.2f} s for {small} ({c['ms_per_call']['small']:.2f} ms each)"
                ),
            }
        )
    results.append(batch.run(calls=32 if quick else 200, concurrency=16))
    results.append(cost.run())
    results.extend(cost.run_graded())
    return results


def detail(result: dict[str, Any]) -> str:
    name = result["name"]
    if name.startswith("start-up"):
        return startup.describe(result)
    if name.startswith("live batch"):
        return f"{result['elapsed_s']:.2f} s against the ideal {result['ideal_s']:.2f} s"
    if name.startswith("cost"):
        return cost.describe(result)
    return str(result.get("detail", ""))


def markdown(results: list[dict[str, Any]], quick: bool) -> str:
    lines = [
        "# Performance",
        "",
        "Measured by `python benchmarks/run.py`, each benchmark side by side in one run. These machines are shared",
        "and noisy: ratios, measured with both sides interleaved, are the numbers to read; absolute times vary.",
        "",
        f"- machine: {machine()}",
        f"- date: {dt.date.today().isoformat()}",
        f"- sizes: {'quick (CI)' if quick else 'full'}",
        "",
        "| benchmark | ratio | goal | detail |",
        "|---|---:|---|---|",
    ]
    for r in results:
        lines.append(f"| {r['name']} | {_fmt_ratio(r.get('ratio'))} | {r['goal']} | {detail(r)} |")
    lines += [
        "",
        "- **start-up**: a one-test project that never judges, run with the plugin loaded and with",
        "  `-p no:llmconfidence`; the plugin imports neither `openai`, `vcr`, `httpx` nor pydantic until a judge is used.",
        "  Wall time moves by about as much as the goal on a shared machine (see the A/A control in its row); where",
        "  valgrind is installed, the instructions counted by callgrind are the steady figure.",
        "- **replay**: 1,000 judged tests replayed from their cassettes in one pytest run, against the same tests",
        "  served by an in-memory transport (the floor) and against pytest-recording with vcrpy's defaults.",
        "- **replay of many calls**: one test making K and 5K judge calls replayed from its cassette, each timing",
        "  its own loop: the cost of a replayed request does not grow with the cassette.",
        "- **live batch**: `judge.many()` at concurrency 16 against a local endpoint that answers after 100 ms.",
        "- **cost**: completion tokens per verdict, from the `usage` of the committed recordings (ratio = tokens / 1).",
        "- **cost per score / choice**: completion tokens per `judge.score()` / `judge.choose()`, from the `usage`",
        "  of the example suite replayed with `--llm-report` (ratio = tokens / 2: a label may take two tokens).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for CI")
    parser.add_argument(
        "--output", type=Path, default=None, help="also write the table to this file (Markdown)"
    )
    args = parser.parse_args()
    results = collect(args.quick)
    text = markdown(results, args.quick)
    print(text)
    # docs/performance.md gathers this table with replay.py --sizes, scale.py and startup.py by hand.
    output = args.output
    if output is not None:
        output.write_text(text, encoding="utf-8")
        print(f"written to {output}")


if __name__ == "__main__":
    main()
