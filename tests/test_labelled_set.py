"""The labelled set replays offline from its cassettes and gives the calibration report of a real model."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def labelled_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict, str]:  # type: ignore[type-arg]
    """One offline run of calibration/ (CI=true: replay only), with the JSON and HTML reports."""
    out = tmp_path_factory.mktemp("labelled")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LLM_", "PYTEST_"))}
    env["CI"] = "true"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "calibration",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "--llm-calibration",
            f"--llm-report={out / 'report.json'}",
            f"--llm-html={out / 'report.html'}",
            "--llm-summary=off",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    return result.stdout, report, (out / "report.html").read_text()


def test_labelled_set_has_220_statements_true_and_false() -> None:
    """At least 200 items, both labels, generated the same way every time."""
    sys.path.insert(0, str(ROOT / "calibration"))
    try:
        from statements import statements
    finally:
        sys.path.remove(str(ROOT / "calibration"))
    items = statements()
    assert len(items) == 220 == len({s.id for s in items})
    assert 90 <= sum(s.truth for s in items) <= 130
    assert items == statements()


def test_labelled_set_replays_every_verdict_from_its_cassettes(labelled_run) -> None:  # type: ignore[no-untyped-def]
    """All 220 verdicts come from cassettes, each labelled with the statement's truth."""
    _, report, _ = labelled_run
    verdicts = report["verdicts"]
    assert len(verdicts) == 220
    assert all(v["replayed"] for v in verdicts)
    assert {v["expected"] for v in verdicts} == {True, False}
    assert {v["model"] for v in verdicts} == {"smollm2-135m-instruct"}


def test_calibration_report_of_the_real_model_runs_offline(labelled_run) -> None:  # type: ignore[no-untyped-def]
    """--llm-calibration prints raw and held-out figures with intervals and puts them in the JSON and HTML
    reports; the model's negative-slope Platt map is refused."""
    stdout, report, page = labelled_run
    assert "= llm calibration =" in stdout
    assert "model smollm2-135m-instruct: 220 labelled verdicts (105 true, 115 false)" in stdout
    interval = r"\[0\.\d{3}, 0\.\d{3}\]"
    assert re.search(
        rf"all, raw\s+n=220\s+accuracy 0\.\d{{3}} {interval}\s+ECE 0\.\d{{3}} {interval} \(10 bins\)", stdout
    )
    (model,) = report["calibration"]
    assert model["all_raw"]["n"] == 220
    assert model["held_out_raw"]["n"] == 110
    assert model["map"] is None and model["held_out_calibrated"] is None
    assert model["refused"]["method"] == "platt" and model["refused"]["a"] < 0
    assert (model["ranking"], model["confidence"]) == ("chance", "under")

    class Collect(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.svgs: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "svg":
                self.svgs.append(dict(attrs).get("class") or "")

    parser = Collect()
    parser.feed(page)
    assert "reliability" in parser.svgs and "histogram" in parser.svgs


def _calibration_section(stdout: str) -> list[str]:
    section = stdout.split("= llm calibration =", 1)[1].splitlines()[1:]
    lines = []
    for line in section:
        if line.startswith(("-", "=")) or re.match(r"\d+ passed", line):
            break
        lines.append(line)
    return lines


def test_docs_quote_the_report_as_it_now_reads(labelled_run) -> None:  # type: ignore[no-untyped-def]
    """docs/calibration.md holds the labelled set's calibration section line for line, and its table the
    same figures and intervals."""
    stdout, report, _ = labelled_run
    doc = (ROOT / "docs" / "calibration.md").read_text()
    lines = _calibration_section(stdout)
    assert len(lines) > 10
    missing = [line for line in lines if f"\n{line}\n" not in doc]
    assert not missing, missing
    (model,) = report["calibration"]
    for key in ("all_raw", "held_out_raw"):
        for metric in ("ece", "brier", "auroc", "accuracy"):
            low, high = model[key]["intervals"][metric]
            assert f"{model[key][metric]:.3f} [{low:.3f}, {high:.3f}]" in doc, (key, metric)
