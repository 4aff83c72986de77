"""Scale: the commands and files a 100,000-verdict suite produces, timed at two sizes to show growth.

- compare: ``pytest-llmconfidence compare OLD NEW`` of two reports of N verdicts (5 % of them changed);
  goal: 100,000 in under 5 s, and linear (10x the verdicts within 12x the time).
- merge: ``pytest-llmconfidence merge`` of 50 shard reports holding N verdicts in all; goal: 100,000 in
  under 8 s and under 600 MB (the command's peak resident memory).
- HTML report: the page ``merge --html`` writes for N verdicts, opened in headless Chromium (``--dump-dom``,
  a fresh profile) against an empty page; goal: 100,000 within 2 s of the empty page, and <= 5 MB.
- cassette load: one cassette of K interactions read as a test's cassette starts; goal: 20,000 in under
  2 s, and one replayed request costing the same in a cassette of 200 or of 20,000. Cassettes are written
  as the plugin writes them (JSON text); the last line reads the same 20,000 as vcrpy's YAML (cassettes
  recorded before, or by other tools).

Each is one subprocess (wall seconds and its own peak memory, ``VmHWM``), so the figures are what a user's
shell sees. Usage: ``python benchmarks/scale.py [--quick] [--only compare|merge|html|cassette]``.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import clean_env

_SHAPE = {
    "kind": "verdict",
    "model": "bench-judge",
    "requested_model": None,
    "threshold": 0.9,
    "replayed": True,
    "usage": {"prompt_tokens": 42, "completion_tokens": 1, "total_tokens": 43},
    "response": "Thank you for asking! Your order ships tomorrow.",
    "context": None,
    "token": "true",
    "alternatives": [{"token": "true", "probability": 0.93}, {"token": "false", "probability": 0.05}],
}


def verdicts(n: int, seed: int = 0, changed: float = 0.0) -> list[dict[str, Any]]:
    """N verdict records as the JSON report writes them; ``changed`` of them flipped or moved."""
    rng, change = random.Random(seed), random.Random(seed + 1)
    out = []
    for i in range(n):
        confidence = round(rng.uniform(0.5, 0.9) if rng.random() < 0.05 else rng.uniform(0.9, 1.0), 4)
        value = True
        if changed and change.random() < changed:
            if change.random() < 0.5:
                value = False
            else:
                confidence = round(max(0.0, confidence - 0.3), 4)
        checks = [
            {"kind": "confident_true", "threshold": 0.9, "score": confidence, "passed": confidence >= 0.9}
        ]
        out.append(
            {
                **_SHAPE,
                "test_id": f"tests/test_module_{i // 1000}.py::test_case[{i}]",
                "question": f"Is answer {i} polite?",
                "value": value,
                "confidence": confidence,
                "checks": checks,
                "status": "passed" if confidence >= 0.9 else "failed",
            }
        )
    return out


def report(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"version": 1, "summary": {"borderline_band": 0.05}, "verdicts": records}


PEAK_KB = """
def peak_kb():
    # the process's own peak (VmHWM): on Linux ru_maxrss also counts the benchmark's memory, from before exec
    try:
        with open('/proc/self/status') as status:
            return next(int(line.split()[1]) for line in status if line.startswith('VmHWM'))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""


def command(*args: str, cwd: Path) -> tuple[float, float]:
    """(wall seconds, peak MB) of one run of the command line in a fresh process."""
    wall, _, mb = timed(*args, cwd=cwd)
    return wall, mb


def timed(*args: str, cwd: Path) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak MB) of one run of the command line in a fresh process; CPU (user +
    system) is what a loaded machine changes least."""
    code = (
        "import resource, sys\n"
        f"{PEAK_KB}\n"
        "from pytest_llmconfidence.__main__ import main\n"
        "status = main(sys.argv[1:])\n"
        "print('MAXRSS_KB', peak_kb(), file=sys.stderr)\n"
        "sys.exit(status)\n"
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=cwd, env=clean_env(), capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode not in (0, 1):
        raise RuntimeError(f"{args} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    rss = next(int(line.split()[1]) for line in result.stderr.splitlines() if line.startswith("MAXRSS_KB"))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, rss / 1024


def run_compare(root: Path, n: int) -> tuple[float, float, float]:
    old, new = root / f"old-{n}.json", root / f"new-{n}.json"
    old.write_text(json.dumps(report(verdicts(n))))
    new.write_text(json.dumps(report(verdicts(n, changed=0.05))))
    return timed("compare", str(old), str(new), cwd=root)


def run_merge(root: Path, n: int, shards: int = 50) -> tuple[float, float, float]:
    records = verdicts(n)
    paths = []
    for s in range(shards):
        path = root / f"shard-{n}-{s}.json"
        path.write_text(json.dumps(report(records[s::shards])))
        paths.append(str(path))
    return timed("merge", *paths, "-o", str(root / f"merged-{n}.json"), cwd=root)


LOAD = """
import json, sys, time
from pathlib import Path
from pytest_llmconfidence._recording.cassette import ActiveCassette
from pytest_llmconfidence._judge.transport import build_client

path = Path(sys.argv[1])
start, cpu = time.perf_counter(), time.process_time()
with ActiveCassette(path, record_mode="none", scope="test", nodeid="t::t") as active:
    loaded, cpu = time.perf_counter() - start, time.process_time() - cpu
    client = build_client("http://bench.invalid/v1")
    body = {"model": "m", "messages": [{"role": "user", "content": "q 0"}]}
    client.chat.completions.create(**body)  # warm the client
    start = time.process_time()
    for i in range(1, 200):
        body["messages"][0]["content"] = f"q {i}"
        client.chat.completions.create(**body)
    per_request = (time.process_time() - start) / 199
    active.errored = True  # write nothing back
print("RESULT", loaded, cpu, per_request)
"""


def write_cassette(path: Path, k: int, form: str = "json") -> None:
    """A cassette of K recorded chat completions (questions ``q 0`` … ``q K-1``), as the plugin writes it
    (``json``), or as vcrpy's YAML (``yaml``: cassettes recorded before, or by other tools)."""
    import yaml

    from pytest_llmconfidence._recording.cassette_file import dumps

    answer = json.dumps(
        {
            "id": "c",
            "object": "chat.completion",
            "created": 1,
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": "true"},
                    "logprobs": {
                        "content": [{"token": "true", "logprob": -0.05, "bytes": None, "top_logprobs": []}]
                    },
                }
            ],
            "usage": {"prompt_tokens": 42, "completion_tokens": 1, "total_tokens": 43},
        }
    )
    interactions = [
        {
            "request": {
                "method": "POST",
                "uri": "http://bench.invalid/v1/chat/completions",
                "body": json.dumps({"messages": [{"role": "user", "content": f"q {i}"}], "model": "m"}),
                "headers": {"content-type": ["application/json"]},
            },
            "response": {
                "status": {"code": 200, "message": "OK"},
                "headers": {"content-type": ["application/json"]},
                "body": {"string": answer},
            },
        }
        for i in range(k)
    ]
    data = {"interactions": interactions, "version": 1}
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    path.write_text(dumps(data) if form == "json" else yaml.dump(data, Dumper=dumper), encoding="utf-8")


def run_load(root: Path, k: int, form: str = "json") -> tuple[float, float, float, float]:
    """(seconds to start the cassette, its CPU seconds, CPU ms per replayed request, MB on disk) of a
    cassette of K."""
    path = root / f"cassette-{k}-{form}.yaml"
    write_cassette(path, k, form)
    env = clean_env(OPENAI_API_KEY="sk-bench")
    result = subprocess.run(
        [sys.executable, "-c", LOAD, str(path)], cwd=root, env=env, capture_output=True, text=True
    )
    found = [line for line in result.stdout.splitlines() if line.startswith("RESULT")]
    if result.returncode != 0 or not found:
        raise RuntimeError(f"loading {path} failed:\n{result.stderr[-3000:]}")
    _, loaded, cpu, per_request = found[0].split()
    return float(loaded), float(cpu), float(per_request) * 1000, path.stat().st_size / 1e6


CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def open_in_chromium(page: Path, repeat: int = 3) -> float | None:
    """Median wall seconds for headless Chromium to load ``page`` and print its DOM; None without it."""
    import shutil
    import statistics

    chromium = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
    if chromium is None:
        return None
    walls = []
    for _ in range(repeat):
        profile = tempfile.mkdtemp(prefix="llm-chromium-")
        start = time.perf_counter()
        subprocess.run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
            capture_output=True,
            check=True,
            timeout=600,
        )
        walls.append(time.perf_counter() - start)
        shutil.rmtree(profile, ignore_errors=True)
    return statistics.median(walls)


def run_html(root: Path, n: int) -> tuple[float, float, float | None, float | None]:
    """(seconds to write, MB, seconds to open, seconds to open an empty page) of the HTML of N verdicts."""
    shard = root / f"html-{n}.json"
    shard.write_text(json.dumps(report(verdicts(n, changed=0.0))))
    page = root / f"report-{n}.html"
    wall, _ = command(
        "merge", str(shard), "-o", str(root / f"html-merged-{n}.json"), "--html", str(page), cwd=root
    )
    empty = root / "empty.html"
    empty.write_text("<!DOCTYPE html><html><body>empty</body></html>")
    return wall, page.stat().st_size / 1e6, open_in_chromium(page), open_in_chromium(empty)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    parts = ("compare", "merge", "html", "cassette")
    parser.add_argument("--only", choices=parts, action="append", help="run only these parts (repeatable)")
    args = parser.parse_args()
    scale = 10 if args.quick else 1

    def sizes(part: str, *values: Any) -> tuple[Any, ...]:
        return values if part in (args.only or parts) else ()

    root = Path(tempfile.mkdtemp(prefix="llm-scale-bench-"))
    try:
        rows = []
        for n in sizes("compare", 10_000 // scale, 100_000 // scale):
            wall, cpu, mb = run_compare(root, n)
            rows.append(f"compare {n:>7,} verdicts: {wall:6.2f} s (CPU {cpu:5.2f} s), {mb:5.0f} MB")
        for n in sizes("merge", 10_000 // scale, 100_000 // scale):
            wall, cpu, mb = run_merge(root, n)
            rows.append(
                f"merge   {n:>7,} verdicts in 50 shards: {wall:6.2f} s (CPU {cpu:5.2f} s), {mb:5.0f} MB"
            )
        for n in sizes("html", 10_000 // scale, 100_000 // scale):
            wall, mb, opened, empty = run_html(root, n)
            browser = (
                "no chromium" if opened is None else f"opens in {opened:.2f} s (empty page {empty:.2f} s)"
            )
            rows.append(f"HTML    {n:>7,} verdicts: merge --html {wall:6.2f} s, {mb:.2f} MB, {browser}")
        for k, form in sizes("cassette", (200, "json"), (20_000 // scale, "json"), (20_000 // scale, "yaml")):
            loaded, cpu, per_request, size = run_load(root, k, form)
            rows.append(
                f"cassette of {k:>6,} interactions ({form}, {size:5.1f} MB): loads in {loaded:6.2f} s "
                f"(CPU {cpu:5.2f} s), {per_request:.3f} ms of CPU per replayed request"
            )
        print("\n".join(rows))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
