"""Re-record the labelled set's cassettes (calibration/) against a real model on this machine.

Starts llama.cpp's OpenAI-compatible server (xllamacpp) with SmolLM2-135M-Instruct on 127.0.0.1, then runs::

    pytest calibration --llm-record-mode=all --llm-base-url=http://127.0.0.1:PORT/v1 --llm-report=...

so each of the 220 statements records its cassette under cassettes/calibration/, and prints the calibration
report of the run. No network access and no API key are needed: ``python tools/record_calibration.py``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from record_examples import record_suite


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        status, _ = record_suite(
            "calibration",
            ["-q", f"--llm-report={report}", "--llm-calibration", "--llm-summary=off", *argv],
        )
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
