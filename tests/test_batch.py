"""judge.many(): verdicts in input order, bounded concurrency, every verdict recorded."""

from __future__ import annotations

from typing import Any

import openai  # noqa: F401  (loaded once here, not again in every in-process inner run)
import pytest
from fake_openai import FakeOpenAI, Reply, error, verdict
from records_seen import RecordsSeen


def _records(seen: RecordsSeen) -> list[dict[str, Any]]:
    return seen.records


def test_many_returns_verdicts_in_input_order_whatever_finishes_first(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """The slowest first: verdicts and records still come in the order of the items."""
    for n, delay in enumerate([0.3, 0.2, 0.1, 0.0]):
        fake_openai.rule(f"question {n}", Reply(verdict(0.5 + n / 10, 0.4 - n / 10), delay_s=delay))
    judged.makepyfile(
        """
        import pytest
        def test_batch(judge):
            verdicts = judge.many([(f"question {n}?", f"answer {n}") for n in range(4)], concurrency=4)
            assert [round(v.confidence, 2) for v in verdicts] == [0.5, 0.6, 0.7, 0.8]
            assert [v.question for v in verdicts] == [f"question {n}?" for n in range(4)]
            assert [v.response for v in verdicts] == [f"answer {n}" for n in range(4)]
        """
    )
    seen = RecordsSeen()
    reprec = judged.inline_run(plugins=[seen])
    reprec.assertoutcome(passed=1)
    assert [r["question"] for r in _records(seen)] == [f"question {n}?" for n in range(4)]


def test_many_keeps_at_most_concurrency_requests_in_flight(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """Eight slow requests, concurrency 3: the endpoint never sees more than three at once."""
    fake_openai.default = Reply(verdict(0.9, 0.1), delay_s=0.2)
    fake_openai.max_in_flight = 0
    judged.makepyfile(
        """
        def test_batch(judge):
            verdicts = judge.many([f"question {n}?" for n in range(8)], concurrency=3)
            assert len(verdicts) == 8
        """
    )
    judged.runpytest().assert_outcomes(passed=1)
    assert len(fake_openai.requests) == 8
    assert fake_openai.max_in_flight == 3


def test_identical_requests_are_sent_one_after_another_in_input_order(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """The same request twice is never in flight twice, so replies (and replays) keep input order."""
    fake_openai.rule(
        "same",
        [
            Reply(verdict(0.9, 0.1), delay_s=0.1),
            Reply(verdict(0.8, 0.2), delay_s=0.1),
            Reply(verdict(0.7, 0.3)),
        ],
    )
    fake_openai.max_in_flight = 0
    judged.makepyfile(
        """
        def test_batch(judge):
            verdicts = judge.many([("same?", "x")] * 3, concurrency=8)
            assert [round(v.confidence, 1) for v in verdicts] == [0.9, 0.8, 0.7]
        """
    )
    judged.runpytest().assert_outcomes(passed=1)
    assert fake_openai.max_in_flight == 1


def test_batch_replays_from_its_cassette_in_the_recorded_order(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """Recorded once, replayed offline: the same verdicts in the same order, identical requests included."""
    fake_openai.rule("same", [Reply(verdict(0.9, 0.1), delay_s=0.05), Reply(verdict(0.6, 0.4))])
    fake_openai.rule("other", Reply(verdict(0.2, 0.7)))
    judged.makepyfile(
        """
        def test_batch(judge):
            verdicts = judge.many([("same?", "x"), ("other?", "y"), ("same?", "x")], concurrency=3)
            print("GOT", "; ".join(f"{v.value} {v.confidence:.1f} {v.replayed}" for v in verdicts))
        """
    )
    judged.runpytest("-s", "--llm-record-mode=once").stdout.fnmatch_lines(
        ["*GOT True 0.9 False; False 0.7 False; True 0.6 False*"]
    )
    assert len(fake_openai.requests) == 3
    result = judged.runpytest("-s", "--llm-record-mode=none")
    result.stdout.fnmatch_lines(["*GOT True 0.9 True; False 0.7 True; True 0.6 True*"])
    assert len(fake_openai.requests) == 3


def test_many_accepts_questions_tuples_and_dicts(judged: pytest.Pytester, fake_openai: FakeOpenAI) -> None:
    """Items: a question, (question, response[, context]), or a dict of judge() arguments."""
    judged.makepyfile(
        """
        import pytest
        def test_batch(judge):
            verdicts = judge.many(
                ["q1?", ("q2?", "r2"), ("q3?", "r3", "c3"), {"question": "q4?", "response": "r4", "expected": True}],
                model="batch-model",
            )
            assert [(v.question, v.response, v.context, v.expected) for v in verdicts] == [
                ("q1?", None, None, None), ("q2?", "r2", None, None), ("q3?", "r3", "c3", None), ("q4?", "r4", None, True)
            ]
            assert {v.model for v in verdicts} == {"batch-model"}
            assert judge.many([]) == []
        """
    )
    judged.runpytest().assert_outcomes(passed=1)
    assert {r.body["model"] for r in fake_openai.requests} == {"batch-model"}
    assert "c3" in fake_openai.requests[2].text or any("c3" in r.text for r in fake_openai.requests)


def test_bad_items_and_concurrency_are_refused_before_any_request(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """A bad item or concurrency is a TypeError/ValueError, and nothing is sent."""
    judged.makepyfile(
        """
        import pytest
        def test_batch(judge):
            with pytest.raises(ValueError, match="concurrency must be a whole number >= 1, got 0"):
                judge.many(["refused q?"], concurrency=0)
            with pytest.raises(TypeError, match="takes questions, \\\\(question, response\\\\[, context\\\\]\\\\) tuples"):
                judge.many(["refused q?", 42])
            with pytest.raises(TypeError, match="need 'question' and may have response, context, expected"):
                judge.many([{"q": "x"}])
            with pytest.raises(TypeError, match="non-empty string"):
                judge.many(["refused q?", ""])
        """
    )
    judged.runpytest().assert_outcomes(passed=1)
    assert not [r for r in fake_openai.requests if "refused" in r.text]


def test_a_failure_raises_the_first_error_in_input_order_after_recording_earlier_verdicts(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """Item 2 fails: items 0 and 1 are recorded, then item 2's error is raised."""
    fake_openai.rule("broken", error(400, "max_tokens is too large"))
    judged.makepyfile(
        """
        def test_batch(judge):
            judge.many(["fine 0?", "fine 1?", "broken?", "fine 3?"], concurrency=2)
        """
    )
    seen = RecordsSeen()
    reprec = judged.inline_run(plugins=[seen])
    reprec.assertoutcome(failed=1)
    assert [r["question"] for r in _records(seen)] == ["fine 0?", "fine 1?"]
    (failed,) = [r for r in reprec.getreports("pytest_runtest_logreport") if r.failed]
    assert "rejected the judge's request" in str(failed.longrepr)
    assert "max_tokens is too large" in str(failed.longrepr)


def test_each_batched_verdict_reaches_the_verdict_hook(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """pytest_llmconfidence_verdict hears every batched verdict, in input order, on the test's thread."""
    judged.makeconftest(
        """
        import threading
        def pytest_llmconfidence_verdict(item, verdict):
            print("HEARD", verdict.question, threading.current_thread() is threading.main_thread())
        """
    )
    judged.makepyfile(
        """
        def test_batch(judge):
            judge.many([f"q{n}?" for n in range(3)], concurrency=3)
        """
    )
    result = judged.runpytest("-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*HEARD q0? True*", "*HEARD q1? True*", "*HEARD q2? True*"])
