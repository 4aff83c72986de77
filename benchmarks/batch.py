"""Live batch: judge.many() against a local endpoint that answers each call after 100 ms.

200 judge calls at concurrency 16 against the ideal 200 x 0.1 / 16 s (perfect overlap, zero overhead).
Goal: <= 1.3x. The endpoint is the tests' scripted OpenAI-compatible server, in its own process on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from typing import Any

from _common import ROOT


def run(calls: int = 200, concurrency: int = 16, delay_s: float = 0.1) -> dict[str, Any]:
    from pytest_llmconfidence._judge.judge import Judge
    from pytest_llmconfidence._judge.transport import Transport, build_client
    from pytest_llmconfidence._settings import JudgeConfig

    # The endpoint runs in its own process, as a real server would: it must not share our GIL.
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "fake_openai.py"), str(delay_s)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        base_url = server.stdout.readline().strip()
        config = JudgeConfig(model="fake-judge", base_url=base_url, record_mode="all")
        client = build_client(base_url, max_retries=0)
        judge = Judge(config, Transport(client))
        judge.many([f"warm-up {i}?" for i in range(concurrency)], concurrency=concurrency)
        items = [(f"Is item {i} right?", f"answer {i}") for i in range(calls)]
        start = time.perf_counter()
        verdicts = judge.many(items, concurrency=concurrency)
        elapsed = time.perf_counter() - start
        client.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert [v.question for v in verdicts] == [q for q, _ in items]
    ideal = calls * delay_s / concurrency
    return {
        "name": f"live batch ({calls} calls, {delay_s * 1000:.0f} ms each, concurrency {concurrency})",
        "elapsed_s": elapsed,
        "ideal_s": ideal,
        "ratio": elapsed / ideal,
        "goal": "<= 1.3x",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    r = run(args.calls, args.concurrency)
    print(
        f"{r['name']}: {r['elapsed_s']:.2f} s against ideal {r['ideal_s']:.2f} s, ratio {r['ratio']:.2f}x (goal {r['goal']})"
    )


if __name__ == "__main__":
    main()
