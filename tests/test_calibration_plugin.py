"""Calibration through pytest: labelled verdicts, --llm-calibration, llm_calibration_file."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from fake_openai import FakeOpenAI, Reply, verdict

LABELLED = """
import pytest

CASES = [(f"statement {i}", i % 2 == 0) for i in range(40)]

@pytest.mark.parametrize(("text", "truth"), CASES)
def test_item(judge, text, truth):
    v = judge(text, expected=truth)
    assert v.expected is truth
"""


def script(fake: FakeOpenAI) -> None:
    """True statements get p_true 0.7, false ones 0.6: an over-confident judge that says true."""
    for i in range(40):
        p_true = 0.7 if i % 2 == 0 else 0.6
        fake.rule(f"statement {i}\n", Reply(verdict(p_true, 1 - p_true - 0.01)))


def test_llm_calibration_prints_metrics_per_model(judged: pytest.Pytester, fake_openai: FakeOpenAI) -> None:
    """--llm-calibration adds a section with accuracy, ECE, Brier and AUROC, raw and held-out."""
    script(fake_openai)
    judged.makepyfile(LABELLED)
    result = judged.runpytest("--llm-calibration")
    result.assert_outcomes(passed=40)
    result.stdout.fnmatch_lines(
        [
            "*= llm calibration =*",
            "model fake-judge",
            "  all, raw * n=40   accuracy 0.500  ECE * (10 bins)  Brier *  AUROC 1.000  right when confidence*",
            "  held-out, raw * n=20 *",
            "  held-out, platt * n=20 *",
            "  map: platt a=* b=* (fitted on 20)",
        ]
    )


def test_calibration_section_is_absent_without_the_flag(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """No flag, no calibration section."""
    judged.makepyfile(LABELLED)
    result = judged.runpytest()
    assert "llm calibration" not in result.stdout.str()


def test_calibration_file_gives_verdicts_a_calibrated_confidence(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """With llm_calibration_file, verdicts carry `calibrated` and checks can use it, showing both numbers."""
    fake_openai.default = Reply(verdict(0.95, 0.04))
    (judged.path / "cal.json").write_text(
        json.dumps({"version": 1, "models": {"fake-judge": {"method": "platt", "a": 1.0, "b": -2.0}}})
    )
    judged.makepyfile(
        """
        import math
        def test_calibrated(judge):
            v = judge("q?")
            q = 0.95 / 0.99
            expected = 1 / (1 + math.exp(-(math.log(q / (1 - q)) - 2.0)))
            assert abs(v.calibrated - expected) < 1e-12
            assert v.confident_true(0.9)
            assert v.confident_true(0.9, calibrated=True)
        """
    )
    result = judged.runpytest("--llm-calibration-file=cal.json")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*<confident_true failed: true at 0.76 calibrated (raw 0.95), needed true >= 0.90; top 'true' 0.95*"]
    )


def test_other_models_stay_uncalibrated(judged: pytest.Pytester, fake_openai: FakeOpenAI) -> None:
    """A model missing from the map gets no calibrated value; asking for it says how to get one."""
    (judged.path / "cal.json").write_text(
        json.dumps({"models": {"other": {"method": "platt", "a": 1, "b": 0}}})
    )
    judged.makepyfile(
        """
        import pytest
        def test_it(judge):
            v = judge("q?")
            assert v.calibrated is None
            with pytest.raises(ValueError, match="needs a calibration map: set llm_calibration_file"):
                v.confident_true(calibrated=True)
        """
    )
    judged.runpytest("--llm-calibration-file=cal.json").assert_outcomes(passed=1)


def test_bad_calibration_file_is_a_usage_error(pytester: pytest.Pytester) -> None:
    """A missing map file stops the run and says how to write one."""
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest("--llm-calibration-file=missing.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*llm_calibration_file: calibration file *missing.json does not exist*"])


def test_calibrate_command_reads_a_report_and_writes_a_map(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`pytest-llmconfidence calibrate REPORT.json --out MAP` prints metrics and writes a usable map."""
    verdicts = []
    for i in range(60):
        truth = i % 3 != 0
        p_true = 0.8 if truth else 0.65
        verdicts.append(
            {
                "kind": "verdict",
                "test_id": f"t::{i}",
                "question": f"q{i}",
                "model": "m",
                "expected": truth,
                "value": True,
                "confidence": p_true,
                "p_true": p_true,
                "p_false": 1 - p_true,
                "coverage": 1.0,
            }
        )
    (tmp_path / "report.json").write_text(json.dumps({"verdicts": verdicts}))
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest_llmconfidence",
            "calibrate",
            str(tmp_path / "report.json"),
            "--out",
            str(tmp_path / "map.json"),
            "--method",
            "isotonic",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "model m" in out and "held-out, isotonic" in out
    data = json.loads((tmp_path / "map.json").read_text())
    assert data["models"]["m"]["method"] == "isotonic"


def test_calibrate_command_explains_a_bad_report(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A file that is not a report is named, with how to write one."""
    (tmp_path / "x.json").write_text("[]")
    result = subprocess.run(
        [sys.executable, "-m", "pytest_llmconfidence", "calibrate", str(tmp_path / "x.json")],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "has no 'verdicts' list; is it a report written by --llm-report?" in result.stderr


def test_calibrated_checks_show_both_numbers_in_the_summary_json_and_html(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """A check made with calibrated=True shows its calibrated score beside the raw confidence everywhere a
    check is shown; the JSON check carries `raw` and `calibrated: true`, an uncalibrated one neither."""
    fake_openai.default = Reply(verdict(0.95, 0.04))
    (judged.path / "cal.json").write_text(
        json.dumps({"version": 1, "models": {"fake-judge": {"method": "platt", "a": 1.0, "b": -2.0}}})
    )
    judged.makepyfile(
        """
        def test_calibrated(judge):
            assert judge("q?").confident_true(0.7, calibrated=True)

        def test_raw(judge):
            assert judge("q?").confident_true(0.9)
        """
    )
    result = judged.runpytest(
        "--llm-calibration-file=cal.json", "--llm-report=report.json", "--llm-html=report.html"
    )
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        ["  0.95  true       0.70  passed      *::test_calibrated  [[]calibrated 0.76[]] q?"]
    )
    checks = {
        v["test_id"].split("::")[1]: v["checks"]
        for v in json.loads((judged.path / "report.json").read_text())["verdicts"]
    }
    (calibrated,) = checks["test_calibrated"]
    assert calibrated["calibrated"] is True
    assert calibrated["raw"] == pytest.approx(0.95)
    assert calibrated["score"] == pytest.approx(0.7627, abs=1e-4)
    assert checks["test_raw"] == [{"kind": "confident_true", "threshold": 0.9, "passed": True, "score": 0.95}]
    page = (judged.path / "report.html").read_text()
    assert "passed (calibrated 0.76)" in page
    assert "(calibrated 0.7627, raw 0.9500)" in page
