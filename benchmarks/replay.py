"""Replay: N judged tests replayed from their cassettes in one pytest run, against the floor.

Four runs of the same generated project (one pytest process each; CPU seconds, user + system, median
of --repeat interleaved runs):
- bare: N tests that do nothing (pytest's own cost per test);
- floor: the plugin's judge served by an in-memory transport (``httpx2.MockTransport``), no cassette;
- cassettes: pytest-llmconfidence replaying each test's cassette (CI=true, the endpoint unreachable);
- pytest-recording: the same judge, no cassette of ours, through pytest-recording's ``vcr`` marker and
  vcrpy's defaults.
Goal: cassettes <= 1.5x the floor, faster than pytest-recording, and at most 2.5 ms of wall time per test
over bare, first-use imports included ((cassettes - bare) / N, both runs of N tests).

``run_calls`` measures one test that replays many calls: the same test with K and 5K judge calls, each
timing its own loop; goal: the 5K-call test within 1.2x five times the K-call test (replay cost per
request independent of the cassette's size).
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

BASE_URL = "http://bench.invalid/v1"

CONFTEST = """
import json
import math
import os

import httpx2
import openai
import pytest

MODE = os.environ["BENCH_MODE"]
BASE_URL = "{base_url}"


def pytest_unconfigure(config):
    import resource

    if "BENCH_RSS" in os.environ:  # the peak memory, where the benchmark asks for it
        with open(os.environ["BENCH_RSS"], "w") as handle:
            handle.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))


def _answer(request):
    body = json.loads(request.content)
    top = [
        {{"token": "true", "logprob": math.log(0.93), "bytes": [116, 114, 117, 101]}},
        {{"token": "false", "logprob": math.log(0.05), "bytes": [102, 97, 108, 115, 101]}},
    ]
    completion = {{
        "id": "chatcmpl-bench", "object": "chat.completion", "created": 1700000000, "model": body["model"],
        "choices": [{{"index": 0, "finish_reason": "stop",
                     "message": {{"role": "assistant", "content": "true", "refusal": None}},
                     "logprobs": {{"content": [{{**top[0], "top_logprobs": top}}], "refusal": None}}}}],
        "usage": {{"prompt_tokens": 42, "completion_tokens": 1, "total_tokens": 43}},
    }}
    return httpx2.Response(200, json=completion)


@pytest.fixture(scope="session")
def judge_client():
    if MODE in ("floor", "record", "record-theirs"):
        http = httpx2.Client(transport=httpx2.MockTransport(_answer))
        client = openai.OpenAI(api_key="sk-bench", base_url=BASE_URL, http_client=http)
    else:
        client = openai.OpenAI(api_key="sk-bench", base_url=BASE_URL, max_retries=0)
    yield client
    client.close()


if MODE in ("floor", "record-theirs", "theirs"):
    # The plugin's own judge fixture (hooks, records, summary), with no cassette of ours: neither the
    # judge's (the fixture below) nor the one every judged test gets before its first fixture.
    from pytest_llmconfidence._plugin import recording as _recording

    class _NoCassette:
        cassette = None

        def __init__(self, *args, **kwargs):
            pass

        def stop(self, errored):
            pass

    assert hasattr(_recording, "TestRecording"), "the benchmark's floor must replace the test's cassette"
    _recording.TestRecording = _NoCassette

    @pytest.fixture
    def _llm_cassette():
        return None  # the judge's own request path, with no cassette around it


if MODE in ("record-theirs", "theirs"):

    def pytest_collection_modifyitems(items):
        for item in items:
            item.add_marker(pytest.mark.vcr)
"""

JUDGED = """
import pytest

@pytest.mark.parametrize("n", range({n}))
def test_judged(judge, n):
    assert judge(f"Is answer {{n}} polite?", "Thank you for asking!").value is True
"""

BARE = """
import pytest

@pytest.mark.parametrize("n", range({n}))
def test_bare(n):
    pass
"""


RSS_CONFTEST = """
import os
import resource


def pytest_unconfigure(config):
    if "BENCH_RSS" in os.environ:  # the peak memory, where the benchmark asks for it
        with open(os.environ["BENCH_RSS"], "w") as handle:
            handle.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
"""


def make_project(root: Path, n: int) -> None:
    (root / "suite").mkdir()
    (root / "suite" / "conftest.py").write_text(CONFTEST.format(base_url=BASE_URL))
    # In a sub-directory, so pytest-recording's cassettes (suite/cassettes/...) and ours
    # (cassettes/suite/...) do not share paths.
    (root / "suite" / "test_judged.py").write_text(JUDGED.format(n=n))
    (root / "suite" / "test_one.py").write_text(JUDGED.format(n=1))
    (root / "bare").mkdir()
    (root / "bare" / "conftest.py").write_text(RSS_CONFTEST)
    (root / "bare" / "test_bare.py").write_text(BARE.format(n=n))
    (root / "bare" / "test_one.py").write_text(BARE.format(n=1))
    (root / "pytest.ini").write_text("[pytest]\nllm_model = bench-judge\nllm_summary = off\n")


def run(n: int = 1000, repeat: int = 3) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="llm-replay-bench-"))
    try:
        make_project(root, n)
        off = ("-p", "no:randomly", "-p", "no:xdist", "-p", "no:asyncio")

        walls: dict[str, list[float]] = {}
        rss: dict[str, list[float]] = {}
        rss_file = root / "rss"

        def timed(
            mode: str, *args: str, record_mode: str | None = None, kind: str | None = None, size: str = "n"
        ) -> float:
            env = clean_env(BENCH_MODE=mode, BENCH_RSS=str(rss_file))
            if record_mode == "none":
                env["CI"] = "true"
            wall, cpu = timed_run(pytest_cmd(*off, *args), root, env)
            if kind is not None:
                walls.setdefault(kind, []).append(wall)
                rss.setdefault(f"{kind}:{size}", []).append(float(rss_file.read_text()))
            return cpu

        timed("record", "suite", "--llm-record-mode=once")
        timed("record-theirs", "suite", "--record-mode=once", "--llm-record-mode=none")
        assert len(list((root / "cassettes").rglob("*.yaml"))) == n + 1
        assert len(list((root / "suite" / "cassettes").rglob("*.yaml"))) == n + 1
        kinds = {
            "bare": ("bare", ("-p", "no:llmconfidence"), None),
            "floor": ("floor", ("--llm-record-mode=none",), None),
            "cassettes": ("cassettes", (), "none"),
            "pytest-recording": ("theirs", ("--record-mode=none", "--llm-record-mode=none"), None),
        }
        samples: dict[str, list[float]] = {name: [] for name in kinds}
        one: dict[str, list[float]] = {name: [] for name in kinds}
        for _ in range(repeat):  # interleaved, so a busy moment does not favour one kind
            for name, (mode, args, record_mode) in kinds.items():
                where = "bare" if name == "bare" else "suite"
                samples[name].append(
                    timed(
                        mode,
                        f"{where}/test_{'bare' if name == 'bare' else 'judged'}.py",
                        *args,
                        record_mode=record_mode,
                        kind=name,
                    )
                )
                one[name].append(
                    timed(mode, f"{where}/test_one.py", *args, record_mode=record_mode, kind=name, size="1")
                )
        times = {name: median(values) for name, values in samples.items()}
        wall = {name: median(values[::2]) for name, values in walls.items()}
        kb = {key: median(values) for key, values in rss.items()}
        single = {name: median(values) for name, values in one.items()}
    finally:
        shutil.rmtree(root, ignore_errors=True)
    floor = times["floor"]
    # The marginal cost of a test: the run of n tests minus the run of one, per extra test, so start-up
    # and first-use costs (imports, the client) cancel out.
    marginal = {name: (times[name] - single[name]) / (n - 1) * 1000 for name in times}
    over_bare = {name: ms - marginal["bare"] for name, ms in marginal.items()}
    wall_over_bare = {name: (wall[name] - wall["bare"]) / n * 1000 for name in wall}
    # Memory kept per test: the peak of the run of n tests over the run of one, per extra test.
    kb_per_test = {name: (kb[f"{name}:n"] - kb[f"{name}:1"]) / (n - 1) for name in times}
    return {
        "kb_per_test": kb_per_test,
        "kb_per_test_over_bare": {name: k - kb_per_test["bare"] for name, k in kb_per_test.items()},
        "wall_seconds": wall,
        "wall_ms_per_test_over_bare": wall_over_bare,
        "n": n,
        "seconds": times,
        "ratio_to_floor": {name: t / floor for name, t in times.items()},
        "ms_per_test": marginal,
        "ms_per_test_over_bare": over_bare,
        "goal_met": times["cassettes"] <= 1.5 * floor
        and times["cassettes"] < times["pytest-recording"]
        and wall_over_bare["cassettes"] <= 2.5,
    }


CALLS = """
import time


def test_calls(judge):
    start = time.perf_counter()
    for n in range({k}):
        judge(f"Is answer {{n}} polite?", "Thank you for asking!")
    print("LOOP_SECONDS", time.perf_counter() - start)
"""


def run_calls(small: int = 1000, factor: int = 5, repeat: int = 3) -> dict[str, Any]:
    """One test replaying ``small`` calls, and one replaying ``factor`` times as many, from their cassettes."""
    root = Path(tempfile.mkdtemp(prefix="llm-calls-bench-"))
    try:
        (root / "suite").mkdir()
        (root / "suite" / "conftest.py").write_text(CONFTEST.format(base_url=BASE_URL))
        sizes = {"small": small, "large": small * factor}
        for name, k in sizes.items():
            (root / "suite" / f"test_{name}.py").write_text(CALLS.format(k=k))
        (root / "pytest.ini").write_text("[pytest]\nllm_model = bench-judge\nllm_summary = off\n")
        off = ("-p", "no:randomly", "-p", "no:xdist", "-p", "no:asyncio", "-s")

        def loop_seconds(name: str, mode: str, record_mode: str) -> float:
            env = clean_env(BENCH_MODE=mode, **({"CI": "true"} if record_mode == "none" else {}))
            args = pytest_cmd(*off, f"suite/test_{name}.py", f"--llm-record-mode={record_mode}")
            result = subprocess.run(args, cwd=root, env=env, capture_output=True, text=True)
            found = re.search(r"LOOP_SECONDS ([0-9.e-]+)", result.stdout)
            if result.returncode != 0 or found is None:
                raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout[-3000:]}")
            return float(found.group(1))

        for name in sizes:
            loop_seconds(name, "record", "once")
        samples: dict[str, list[float]] = {name: [] for name in sizes}
        for _ in range(repeat):
            for name in sizes:
                samples[name].append(loop_seconds(name, "cassettes", "none"))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    seconds = {name: median(values) for name, values in samples.items()}
    ratio = seconds["large"] / (factor * seconds["small"])
    return {
        "calls": sizes,
        "seconds": seconds,
        "ms_per_call": {name: seconds[name] / sizes[name] * 1000 for name in sizes},
        "ratio": ratio,
        "goal_met": ratio <= 1.2,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default="1000",
        help="judged tests per module, comma-separated (default 1000; e.g. 1000,5000,10000)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each kind; the median is kept")
    parser.add_argument("--no-calls", action="store_true", help="skip the many-calls-in-one-test benchmark")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    print(f"judged tests in one module, one pytest run each (median of {args.repeat}); CPU = user + system")
    print(
        f"{'tests':>7} {'run':<18}{'CPU s':>8}{'x floor':>9}{'ms/test':>9}{'over bare':>11}"
        f"{'KB/test':>9}{'KB over bare':>13}"
    )
    results = {}
    for n in sizes:
        result = results[n] = run(n, args.repeat)
        for name, seconds in result["seconds"].items():
            print(
                f"{n:>7} {name:<18}{seconds:>8.2f}{result['ratio_to_floor'][name]:>9.2f}"
                f"{result['ms_per_test'][name]:>9.2f}{result['ms_per_test_over_bare'][name]:>11.2f}"
                f"{result['kb_per_test'][name]:>9.2f}{result['kb_per_test_over_bare'][name]:>13.2f}"
            )
        theirs = result["seconds"]["pytest-recording"] / result["seconds"]["cassettes"]
        print(f"{n:>7} cassettes are {theirs:.2f}x faster than pytest-recording + vcrpy defaults", flush=True)
    if len(sizes) > 1:
        first = results[sizes[0]]["ms_per_test_over_bare"]["cassettes"]
        for n in sizes[1:]:
            ratio = results[n]["ms_per_test_over_bare"]["cassettes"] / first
            print(f"ms per replayed test over bare at {n} against {sizes[0]}: {ratio:.2f}x")
    if not args.no_calls:
        calls = run_calls(small=max(sizes[0] // 5, 20), repeat=args.repeat)
        small, large = calls["calls"]["small"], calls["calls"]["large"]
        print(
            f"one test replaying {large} calls: {calls['seconds']['large']:.2f} s, {small} calls: "
            f"{calls['seconds']['small']:.2f} s; ratio to {large // small}x the small one {calls['ratio']:.2f} "
            f"(goal <= 1.2: {'met' if calls['goal_met'] else 'NOT met'})"
        )


if __name__ == "__main__":
    main()
