"""The result models share one base; their dumps, records and checks stay each model's own."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pytest_llmconfidence._scoring.graded import Choice, Score
from pytest_llmconfidence._scoring.pairwise import PairOrder, preference
from pytest_llmconfidence._scoring.panel import pool
from pytest_llmconfidence._scoring.results import JudgedResult, Usage, Verdict

USAGE = Usage(prompt_tokens=10, completion_tokens=1, total_tokens=11)


def a_verdict(value: bool = True, model: str = "m") -> Verdict:
    return Verdict(
        value=value, confidence=0.9, normalized=0.95, p_true=0.9 if value else 0.05,
        p_false=0.05 if value else 0.9, coverage=0.95, token="Yes" if value else "No",
        question="Is it polite?", model=model, threshold=0.9, usage=USAGE, latency_s=0.25,
    )  # fmt: skip


def an_order(first: Any) -> PairOrder:
    return PairOrder(
        first=first, p_first=0.8, p_second=0.2, coverage=1.0, value=first, confidence=0.8, token="A",
        model="m", usage=USAGE,
    )  # fmt: skip


def every_result() -> dict[str, JudgedResult]:
    graded: dict[str, Any] = {"coverage": 0.9, "question": "Which?", "model": "m", "threshold": 0.9}
    return {
        "verdict": a_verdict(),
        "score": Score(
            value=4, distribution={4: 0.6, 5: 0.3}, scale=(4, 5), confidence=0.6, token="4", **graded
        ),
        "choice": Choice(
            value="A",
            distribution={"A": 0.7, "B": 0.2},
            options=("A", "B"),
            labels=("A", "B"),
            confidence=0.7,
            token="A",
            **graded,
        ),
        "comparison": preference(
            (an_order("a"), an_order("b")), question="Q", response_a="x", response_b="y"
        ),
        "panel": pool([a_verdict(), a_verdict(False, "m2")], question="Is it polite?", models=["m", "m2"]),
    }


SHARED = ["threshold", "replayed", "usage", "latency_s"]
ANSWER = ["token", "position", "alternatives", "question", "response", "context", "model", *SHARED]
RECORD_KEYS = {
    "verdict": [
        "value", "confidence", "normalized", "p_true", "p_false", "coverage", *ANSWER, "expected",
        "calibrated", "reasoning", "requested_model", "finish_reason", "cut_off", "decided_by", "cascade",
        "certified", "checks",
    ],
    "score": [
        "confidence", "coverage", *ANSWER, "value", "distribution", "scale", "expected", "expected_label",
        "kind", "checks",
    ],
    "choice": [
        "confidence", "coverage", *ANSWER, "value", "distribution", "options", "labels", "expected_option",
        "kind", "checks",
    ],
    "comparison": [
        "p_a", "p_b", "value", "confidence", "consistent", "position_bias", "orders", "question",
        "response_a", "response_b", "context", "model", *SHARED, "kind", "checks",
    ],
    "panel": [
        "value", "confidence", "p_true", "p_false", "agreement", "models", "question", "response",
        "context", *SHARED, "kind", "members", "checks",
    ],
}  # fmt: skip


@pytest.mark.parametrize("kind", RECORD_KEYS)
def test_every_result_keeps_the_key_order_of_its_records_and_dumps(kind: str) -> None:
    """The JSON report, baselines and merged reports list a result's keys in one order; the fields the
    models share stand where each model always had them, in every dump and in the JSON schema."""
    result = every_result()[kind]
    assert list(result.to_record()) == RECORD_KEYS[kind]
    fields = [key for key in RECORD_KEYS[kind] if key not in ("kind", "checks", "members")]
    if kind == "panel":
        fields.insert(fields.index("models"), "verdicts")
    assert list(result.model_dump()) == fields
    assert list(json.loads(result.model_dump_json())) == fields
    assert list(dict(result)) == fields
    assert list(type(result).model_json_schema()["properties"]) == fields
    assert list(result.model_dump(exclude={"question"})) == [key for key in fields if key != "question"]


def test_checks_made_on_a_result_stay_on_that_result() -> None:
    """Each result keeps its own checks (the base's list is made per result), copies carry them, and the
    records list them; the models stay frozen."""
    first, second = a_verdict(), a_verdict()
    assert first.confident_true(0.8) and not first.confident_false()
    assert [check.kind for check in first.checks] == ["confident_true", "confident_false"]
    assert second.checks == ()
    assert first.model_copy().checks == first.checks
    assert [check["kind"] for check in first.to_record()["checks"]] == ["confident_true", "confident_false"]
    panel = every_result()["panel"]
    assert not panel.confident_true(0.5) and [check.kind for check in panel.checks] == ["confident_true"]
    with pytest.raises(ValueError, match="frozen"):
        first.threshold = 0.5  # type: ignore[misc]


def test_a_panel_and_a_comparison_count_the_tokens_of_every_call_cached_ones_included() -> None:
    """A panel's usage is its members' summed, a comparison's its two orders', each with cached tokens."""
    cached = Usage(prompt_tokens=10, completion_tokens=1, total_tokens=11, cached_tokens=8)
    members = [a_verdict().model_copy(update={"usage": cached}), a_verdict(False, "m2")]
    together = Usage(prompt_tokens=20, completion_tokens=2, total_tokens=22, cached_tokens=8)
    assert pool(members, question="Is it polite?").usage == together
    orders = (an_order("a").model_copy(update={"usage": cached}), an_order("b"))
    assert preference(orders, question="Q", response_a="x", response_b="y").usage == together
    assert pool([a_verdict().model_copy(update={"usage": None})], question="Q").usage is None
