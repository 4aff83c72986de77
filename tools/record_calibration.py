"""Re-record the labelled set's cassettes (calibration/) against a real model on this machine.

Starts llama.cpp's OpenAI-compatible server (xllamacpp) with SmolLM2-135M-Instruct on 127.0.0.1, then runs::

    pytest calibration --llm-record-mode=all --llm-base-url=http://127.0.0.1:PORT/v1 --llm-report=...

so each of the 220 statements records its cassette under cassettes/calibration/, and prints the calibration
report of the run. No network access and no API key are needed: ``python tools/record_calibration.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from local_model import MODEL_FILENAME, serve  # noqa: E402

CASSETTES = ROOT / "cassettes" / "calibration"
CLEARED = ("CI", "OPENAI_API_KEY", "OPENAI_BASE_URL", "LLM_JUDGE_MODEL", "LLM_RECORD_MODE", "PYTEST_ADDOPTS")


def main(argv: list[str]) -> int:
    if CASSETTES.exists():
        shutil.rmtree(CASSETTES)
    env = {name: value for name, value in os.environ.items() if name not in CLEARED}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, serve() as base_url:
        print(f"recording against {MODEL_FILENAME} served by llama.cpp (xllamacpp) at {base_url}", flush=True)
        report = Path(tmp) / "report.json"
        command = [
            sys.executable,
            "-m",
            "pytest",
            "calibration",
            "-q",
            "-p",
            "no:cacheprovider",
            "--llm-record-mode=all",
            f"--llm-base-url={base_url}",
            f"--llm-report={report}",
            "--llm-calibration",
            "--llm-summary=off",
            *argv,
        ]
        status = subprocess.call(command, cwd=ROOT, env=env)
    recorded = sorted(CASSETTES.rglob("*.yaml")) if CASSETTES.exists() else []
    print(
        f"recorded {len(recorded)} cassettes in {time.perf_counter() - started:.1f} s "
        f"(pytest exit status {status})"
    )
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
