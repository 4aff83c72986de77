"""Comparing two runs' JSON reports: flips, confidence moves beyond the margin, new failures, new and gone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fake_openai import FakeOpenAI, verdict

from pytest_llmconfidence import LLMConfidenceError
from pytest_llmconfidence._baseline import compare, load_report

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
