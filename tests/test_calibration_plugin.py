"""Calibration through pytest: labelled verdicts, --llm-calibration, llm_calibration_file."""

from __future__ import annotations

import json
import subprocess
import sys
from html import escape
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI, Reply, verdict
from scripted_judges import score_record, scripted

LABELLED = """
import pytest

CASES = [(f"statement {i}", i % 2 == 0) for i in range(80)]

@pytest.mark.parametrize(("text", "truth"), CASES)
def test_item(judge, text, truth):
    v = judge(text, expected=truth)
    assert v.expected is truth
"""


def script(fake: FakeOpenAI) -> None:
    """True statements get p_true 0.7, false ones 0.6: an over-confident judge that says true."""
    for i in range(80):
        p_true = 0.7 if i % 2 == 0 else 0.6
        fake.rule(f"statement {i}\n", Reply(verdict(p_true, 1 - p_true - 0.01)))


def test_llm_calibration_prints_metrics_per_model(judged: pytest.Pytester, fake_openai: FakeOpenAI) -> None:
    """--llm-calibration adds a section with accuracy, ECE, Brier and AUROC with their intervals, raw and
    held-out, what they say in words, the map and the thresholds to act on."""
    script(fake_openai)
    judged.makepyfile(LABELLED)
    result = judged.runpytest("--llm-calibration")
    result.assert_outcomes(passed=80)
    result.stdout.fnmatch_lines(
        [
            "*= llm calibration =*",
            "[brackets]: 95 % intervals, seeded bootstrap of 1000 resamples (seed 0); a map needs 20 labelled"
            " verdicts of each label in its training split",
            "model fake-judge: 80 labelled verdicts (40 true, 40 false)",
            "  all, raw * n=80   accuracy 0.500 [[]0.*, 0.*[]]  ECE 0.450 [[]*[]] (2 bins)  Brier 0.* [[]*[]]"
            "  AUROC 1.000 [[]1.000, 1.000[]]",
            "  * right when confidence >=0.8: n/a of 0*",
            "  held-out, raw * n=40 *",
            "  *right when confidence*",
            "  held-out, platt * n=40 *",
            "  *right when confidence*",
            "  Its confidence ranks answers better than chance: AUROC of p_true / coverage 1.000"
            " (95 % interval 1.000 to 1.000), above 0.5.",
            "  It is over-confident: its mean confidence is 0.650 and it is right 0.500 of the time (gap +0.150,"
            " 95 % interval +0.0* to +0.2*); most clearly at confidence 0.60 (40 verdicts: said 0.60, right 0.00);"
            " under-confident at confidence 0.70 (40 verdicts: said 0.70, right 1.00).",
            "  Map: platt a=* b=*, fitted on 40 training verdicts (20 true, 20 false; 20 of each needed);*",
            "  thresholds on raw confidence (held-out verdicts):",
            "    to be right 90 % of the time, use 0.70: 20 of 40 verdicts reach it, right 1.00"
            " (95 % interval 0.84 to 1.00, which reaches below 90 %)",
            "*",
            "  thresholds on platt-calibrated confidence (held-out verdicts):",
            "    to be right 90 % of the time, use 0.95: 20 of 40 verdicts reach it, right 1.00*",
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
    for i in range(120):
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


def _report_of(records: list[dict[str, object]], path: Path) -> Path:
    path.write_text(json.dumps({"verdicts": records}))
    return path


def _calibrate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_llmconfidence", "calibrate", *args], capture_output=True, text=True
    )


def test_calibrate_writes_no_refused_map(tmp_path: Path) -> None:
    """A backwards judge's negative-slope map is refused: not written, and stderr says why; a good
    model's map beside it is written."""
    records = scripted("backwards", 200, model="backwards") + scripted("calibrated", 200, model="good")
    report = _report_of(records, tmp_path / "report.json")
    result = _calibrate(str(report), "--out", str(tmp_path / "map.json"), "--resamples", "100")
    assert result.returncode == 0, result.stderr
    assert "Its confidence ranks answers backwards, true ones below false ones" in result.stdout
    assert "no map written for backwards: No map: the platt fit on 100 training verdicts" in result.stderr
    assert "is refused: its slope a = -" in result.stderr
    maps = json.loads((tmp_path / "map.json").read_text())["models"]
    assert list(maps) == ["good"] and maps["good"]["a"] > 0


def test_calibrate_writes_nothing_when_every_map_is_refused(tmp_path: Path) -> None:
    """Only refused maps: no file, status 1."""
    report = _report_of(scripted("backwards", 200), tmp_path / "report.json")
    result = _calibrate(str(report), "--out", str(tmp_path / "map.json"), "--resamples", "100")
    assert result.returncode == 1
    assert "no map fitted: nothing written to" in result.stderr
    assert not (tmp_path / "map.json").exists()


def test_calibrate_reads_labelled_scores_beside_the_verdicts(tmp_path: Path) -> None:
    """Score records in the report are calibrated on each "score >= k" question."""
    scores = [score_record(i, str(1 + i % 5), {str(1 + i % 5): 0.7, "3": 0.1}) for i in range(50)]
    path = tmp_path / "report.json"
    path.write_text(json.dumps({"verdicts": [], "scores": scores}))
    result = _calibrate(str(path), "--resamples", "50", "--json", str(tmp_path / "metrics.json"))
    assert result.returncode == 0, result.stderr
    assert "model m, score >= 5 (scale 1..5): 50 labelled scores (10 true, 40 false)" in result.stdout
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert [m["question"] for m in metrics] == [f"score >= {k} (scale 1..5)" for k in "2345"]


SCORES_CONFTEST = """
import pytest
from pytest_llmconfidence._report import records as _records


class Recorded:
    def __init__(self, record):
        self.record = record

    def to_record(self):
        return dict(self.record)

    def describe(self):
        return repr(self.record)


@pytest.fixture
def grade():
    def grade(expected, distribution):
        value = max(distribution, key=distribution.get)
        _records.record(Recorded({
            "kind": "score", "model": "grader", "scale": ["1", "2", "3"], "distribution": distribution,
            "coverage": sum(distribution.values()), "expected": 2.0, "expected_label": expected, "value": value,
            "confidence": distribution[value], "question": "grade?",
        }))
    return grade
"""


def test_llm_calibration_covers_labelled_scores_recorded_in_the_run(pytester: pytest.Pytester) -> None:
    """Score records reported by tests are calibrated per model and "score >= k", in the terminal and JSON."""
    pytester.makeconftest(SCORES_CONFTEST)
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("i", range(60))
        def test_grade(grade, i):
            truth = 1 + i % 3
            grade(str(truth), {str(truth): 0.6, str(1 + (i + 1) % 3): 0.3})
        """
    )
    result = pytester.runpytest("--llm-calibration", "--llm-report=report.json")
    result.assert_outcomes(passed=60)
    result.stdout.fnmatch_lines(
        [
            "model grader, score >= 2 (scale 1..3): 60 labelled scores (40 true, 20 false)",
            "  all, raw * n=60 *",
            "*",
            "  Its confidence ranks answers better than chance: AUROC of P(score >= 2)*",
            "*",
            "model grader, score >= 3 (scale 1..3): 60 labelled scores (20 true, 40 false)",
        ]
    )
    calibration = json.loads((pytester.path / "report.json").read_text())["calibration"]
    assert [c["question"] for c in calibration] == ["score >= 2 (scale 1..3)", "score >= 3 (scale 1..3)"]
    assert all(c["map"] is None and c["ranking"] == "better" for c in calibration)


def test_json_and_html_reports_carry_intervals_sentences_and_thresholds(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """The calibration list of the JSON report and the HTML section hold what the terminal shows."""
    script(fake_openai)
    judged.makepyfile(LABELLED)
    judged.runpytest("--llm-calibration", "--llm-report=r.json", "--llm-html=r.html").assert_outcomes(
        passed=80
    )
    (model,) = json.loads((judged.path / "r.json").read_text())["calibration"]
    for block in ("all_raw", "held_out_raw", "held_out_calibrated"):
        intervals = model[block]["intervals"]
        assert set(intervals) == {"accuracy", "ece", "brier", "auroc", "gap"}
        assert all(low <= high for low, high in intervals.values())
    assert model["ranking"] == "better" and model["confidence"] == "over"
    assert model["minimum_per_label"] == 20 and model["resamples"] == 1000
    assert [t["target"] for t in model["held_out_raw"]["thresholds"]] == [0.9, 0.95, 0.99]
    page = (judged.path / "r.html").read_text()
    assert escape(model["sentences"][1], quote=True) in page
    assert escape(model["map_sentence"], quote=True) in page
    assert escape(model["threshold_sentences"][0]["sentences"][0], quote=True) in page
    assert '<span class="iv">[' in page and 'class="interval"' in page
