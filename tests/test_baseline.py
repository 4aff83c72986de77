"""Comparing two runs' JSON reports: flips, confidence moves beyond the margin, new failures, new and gone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fake_openai import FakeOpenAI, verdict

from pytest_llmconfidence import LLMConfidenceError
from pytest_llmconfidence._report.baseline import compare, load_report

SUITE = """
def test_polite(judge):
    assert judge("Is the reply polite?", "Thanks!").confident_true(0.3)

def test_refund(judge):
    assert judge("Does it refuse the refund?", "No.").confident_true(0.9)

def test_twice(judge):
    judge("Is it short?", "Yes.")
    judge("Is it short?", "Yes, quite.")

def test_{extra}(judge):
    judge("Is it extra?", "Yes.")
"""


def _run(
    pytester: pytest.Pytester, fake: FakeOpenAI, rules: dict[str, Any], extra: str, name: str
) -> dict[str, Any]:
    fake.rules.clear()
    for contains, reply in rules.items():
        fake.rule(contains, reply)
    pytester.makepyfile(test_suite=SUITE.replace("{extra}", extra))
    pytester.runpytest("-p", "no:xdist", "--llm-record-mode=all", f"--llm-report={name}")
    return json.loads((pytester.path / name).read_text())


def test_two_runs_with_different_confidences_give_flips_drops_rises_new_failures_new_and_gone(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """A verdict that turned false, one that fell, one that rose, the n-th of a repeated question, renames."""
    old = _run(
        judged,
        fake_openai,
        {
            "polite": verdict(0.97, 0.03),
            "refund": verdict(0.95, 0.05),
            "short": verdict(0.60, 0.40),
            "extra": verdict(0.9, 0.1),
        },
        "old",
        "old.json",
    )
    new = _run(
        judged,
        fake_openai,
        {
            "polite": verdict(0.46, 0.54),
            "refund": verdict(0.80, 0.20),
            "short": verdict(0.85, 0.15),
            "extra": verdict(0.9, 0.1),
        },
        "fresh",
        "new.json",
    )
    result = compare(old, new)
    by_what = {what: [(c.test_id, c.question) for c in result.of(what)] for what in result.counts()}
    assert by_what["flipped"] == [("test_suite.py::test_polite", "Is the reply polite?")]
    assert by_what["dropped"] == [("test_suite.py::test_refund", "Does it refuse the refund?")]
    assert by_what["rose"] == [("test_suite.py::test_twice", "Is it short?")] * 2
    # confident_true(0.9) passed at 0.95 and fails at 0.80; the flipped one fails too.
    assert sorted(by_what["now_failing"]) == [
        ("test_suite.py::test_polite", "Is the reply polite?"),
        ("test_suite.py::test_refund", "Does it refuse the refund?"),
    ]
    assert by_what["new"] == [("test_suite.py::test_fresh", "Is it extra?")]
    assert by_what["gone"] == [("test_suite.py::test_old", "Is it extra?")]
    assert result.matched == 4
    drop = result.dropped[0]
    assert drop.old_confidence == pytest.approx(0.95, abs=0.01)
    assert drop.delta == pytest.approx(-0.15, abs=0.01)
    assert [c.what for c in result.failing] == ["flipped", "dropped"]
    assert result.per_model() == {
        "fake-judge": {"flipped": 1, "dropped": 1, "rose": 2, "now_failing": 2, "new": 1, "gone": 1}
    }
    lines = result.text_lines()
    assert lines[0] == (
        "4 matched: 1 flipped, 1 fell and 2 rose by more than 0.10, 2 checks now failing, 1 new, 1 gone"
    )
    assert any(
        line.startswith("flipped     test_suite.py::test_polite  true 0.97 -> false 0.54") for line in lines
    )
    assert "| flipped | `test_suite.py::test_polite` | true 0.97 | false 0.54 |" in result.markdown()
    assert json.loads(json.dumps(result.to_dict()))["counts"]["flipped"] == 1
    # A wider margin keeps the flip, not the drop of 0.15.
    assert compare(old, new, margin=0.2).counts()["dropped"] == 0


def test_the_same_report_compared_with_itself_changes_nothing() -> None:
    record = {
        "kind": "verdict",
        "test_id": "t.py::t",
        "question": "Q?",
        "value": True,
        "confidence": 0.9,
        "model": "m",
    }
    report = {
        "verdicts": [record, {**record, "confidence": 0.5}],
        "scores": [{**record, "kind": "score", "value": 3}],
    }
    result = compare(report, report)
    assert result.empty and result.matched == 3


def test_scores_are_compared_by_their_confidence() -> None:
    score = {
        "kind": "score",
        "test_id": "t.py::t",
        "question": "Rate it",
        "value": 4,
        "confidence": 0.8,
        "model": "m",
    }
    result = compare(
        {"verdicts": [], "scores": [score]}, {"verdicts": [], "scores": [{**score, "confidence": 0.5}]}
    )
    assert [(c.what, c.kind) for c in result.changes] == [("dropped", "score")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ("{not json", "is not JSON"),
        ('{"cassettes": []}', "not a pytest-llmconfidence report"),
    ],
)
def test_a_bad_report_file_is_a_clear_error(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "old.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(LLMConfidenceError, match=message):
        load_report(path, what="baseline")


OLD = {"polite": verdict(0.97, 0.03), "refund": verdict(0.95, 0.05), "short": verdict(0.60, 0.40)}
NEW = {"polite": verdict(0.46, 0.54), "refund": verdict(0.92, 0.08), "short": verdict(0.62, 0.38)}


def _second_run(pytester: pytest.Pytester, fake: FakeOpenAI, *args: str) -> pytest.RunResult:
    _run(pytester, fake, {**OLD, "extra": verdict(0.9, 0.1)}, "extra", "old.json")
    fake.rules.clear()
    for contains, reply in {**NEW, "extra": verdict(0.9, 0.1)}.items():
        fake.rule(contains, reply)
    return pytester.runpytest("-p", "no:xdist", "--llm-record-mode=all", "--llm-baseline=old.json", *args)


def test_baseline_section_in_the_terminal_json_and_github_summary(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The flip is listed in each place; the run's outcome is unchanged without --llm-fail-on-drop."""
    summary = judged.path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = _second_run(judged, fake_openai, "--llm-report=new.json", "--llm-html=new.html")
    assert result.ret == 1  # test_polite fails its own check; the baseline adds nothing to that
    result.stdout.fnmatch_lines(
        [
            "*= llm baseline =*",
            "compared with *old.json",
            "5 matched: 1 flipped, 0 fell and 0 rose by more than 0.10, 1 checks now failing, 0 new, 0 gone",
            "  fake-judge: 1 flipped, 1 now failing",
            "flipped     test_suite.py::test_polite  true 0.97 -> false 0.54  [fake-judge]  'Is the reply polite?'",
        ]
    )
    assert "--llm-fail-on-drop" not in result.stdout.str()
    data = json.loads((judged.path / "new.json").read_text())
    assert data["baseline"]["counts"]["flipped"] == 1
    assert data["baseline"]["changes"][0]["test_id"] == "test_suite.py::test_polite"
    text = summary.read_text()
    assert (
        "### llm baseline" in text
        and "| flipped | `test_suite.py::test_polite` | true 0.97 | false 0.54 |" in text
    )
    page = (judged.path / "new.html").read_text()
    assert '<section id="baseline">' in page and page.count("<circle") == 5


def test_fail_on_drop_fails_a_green_run_and_lists_the_drops(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """Every test passes, yet a confidence fell by 0.35: --llm-fail-on-drop makes the exit status 1."""
    judged.makepyfile(test_one="def test_one(judge):\n    judge('Is it short?', 'Yes.')\n")
    fake_openai.rule("short", verdict(0.95, 0.05))
    judged.runpytest("-p", "no:xdist", "--llm-record-mode=all", "--llm-report=old.json").assert_outcomes(
        passed=1
    )
    fake_openai.rules.clear()
    fake_openai.rule("short", verdict(0.60, 0.40))
    args = ("-p", "no:xdist", "--llm-record-mode=all", "--llm-baseline=old.json")
    calm = judged.runpytest(*args)
    assert calm.ret == 0
    result = judged.runpytest(*args, "--llm-fail-on-drop")
    result.assert_outcomes(passed=1)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "--llm-fail-on-drop: 1 verdicts flipped or fell by more than 0.10 since the baseline; the run fails:",
            "  dropped     test_one.py::test_one  true 0.95 -> true 0.60 (-0.35)  [fake-judge]  'Is it short?'",
        ]
    )
    assert judged.runpytest(*args, "--llm-fail-on-drop", "-o", "llm_baseline_margin=0.4").ret == 0


def test_a_baseline_not_written_yet_is_a_line_not_an_error(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """The first CI run on a branch has no baseline: the run goes on and says so."""
    judged.makepyfile(test_one="def test_one(judge):\n    judge('Is it short?', 'Yes.')\n")
    result = judged.runpytest("-p", "no:xdist", "--llm-baseline=missing.json", "--llm-fail-on-drop")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["*= llm baseline =*", "no baseline at *missing.json yet: nothing compared.*"]
    )


@pytest.mark.parametrize(
    ("content", "message"), [("{oops", "is not JSON"), ("[1, 2]", "not a pytest-llmconfidence report")]
)
def test_a_baseline_that_is_not_a_report_is_a_usage_error(
    judged: pytest.Pytester, content: str, message: str
) -> None:
    (judged.path / "old.json").write_text(content)
    judged.makepyfile(test_one="def test_one():\n    pass\n")
    result = judged.runpytest("--llm-baseline=old.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*pytest-llmconfidence: the baseline (llm_baseline) *old.json* {message}*"])
    assert "Traceback" not in result.stderr.str()


def test_verbose_shows_the_lowest_confidence_beside_the_outcome(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """-v: PASSED [true 0.97]; a failed check FAILED [false 0.80]; -q and unjudged tests unchanged."""
    fake_openai.rule("polite", verdict(0.97, 0.03))
    fake_openai.rule("short", verdict(0.70, 0.30))
    fake_openai.rule("kind", verdict(0.20, 0.80))
    judged.makepyfile(
        test_v="def test_two(judge):\n    judge('Is it polite?', 'x')\n    judge('Is it short?', 'x')\n\n"
        "def test_kind(judge):\n    assert judge('Is it kind?', 'x').confident_true(0.9)\n\n"
        "def test_plain():\n    pass\n"
    )
    result = judged.runpytest("-p", "no:xdist", "-v")
    result.stdout.fnmatch_lines(
        [
            "test_v.py::test_two PASSED [[]true 0.70[]]*",
            "test_v.py::test_kind FAILED [[]false 0.80[]]*",
            "test_v.py::test_plain PASSED*",
        ]
    )
    assert "test_plain PASSED [" not in result.stdout.str()
    quiet = judged.runpytest("-p", "no:xdist", "-q")
    assert "[true" not in quiet.stdout.str() and "0.70]" not in quiet.stdout.str()
    quiet.stdout.fnmatch_lines([".F.*"])


def test_ansi_escapes_in_questions_are_shown_not_interpreted(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """A question carrying colour codes shows them written out in the summary and the failure report."""
    fake_openai.rule("polite", verdict(0.2, 0.8))
    judged.makepyfile(
        test_ansi="def test_ansi(judge):\n"
        "    assert judge('Is it \\x1b[31mpolite\\x1b[0m?', 'x').confident_true(0.9)\n"
    )
    result = judged.runpytest("-p", "no:xdist", "--llm-summary=full")
    out = result.stdout.str()
    assert "\x1b" not in out
    assert out.count("Is it \\x1b[31mpolite\\x1b[0m?") >= 2


def test_html_says_in_words_why_a_confident_true_failed(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    fake_openai.rule("polite", verdict(0.46, 0.54))
    judged.makepyfile(
        test_h="def test_h(judge):\n    assert judge('Is it polite?', 'x').confident_true(0.3)\n"
    )
    judged.runpytest("-p", "no:xdist", "--llm-html=r.html").assert_outcomes(failed=1)
    assert "false at 0.54, needed true &ge; 0.30" in (judged.path / "r.html").read_text()


def test_the_app_responses_of_a_watched_run_are_not_taken_for_new_verdicts() -> None:
    """A run with --llm-watch compares its verdicts only: an app response has a score, not a confidence."""
    verdict_record = {
        "kind": "verdict",
        "test_id": "t.py::test_a",
        "question": "Q?",
        "value": True,
        "confidence": 0.9,
    }
    app = {"kind": "app_response", "test_id": "t.py::test_a", "score": 0.4, "geometric_mean": 0.4}
    skipped = {"kind": "app_response", "test_id": "t.py::test_a", "skipped": "no logprobs"}
    result = compare({"verdicts": [verdict_record]}, [verdict_record, app, skipped])
    assert result.matched == 1
    assert result.counts().get("new", 0) == 0
