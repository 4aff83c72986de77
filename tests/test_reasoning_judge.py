"""Reasoning judges: reason briefly, end with `Verdict: true|false`, read at the label after the marker."""

from __future__ import annotations

import pytest
from fake_openai import FakeOpenAI, completion

# "There is no refund after 30 days, so it refuses.\nVerdict: true": the reasoning's own ' no' is a
# label token, which a judge reading the first label would take for the verdict.
REASONED = completion(
    [("There", 0.9)],
    [(" is", 0.9)],
    [(" no", 0.7), (" a", 0.2)],
    [(" refund", 0.9)],
    [(" after", 0.9)],
    [(" 30", 0.9)],
    [(" days", 0.9)],
    [(",", 0.9)],
    [(" so", 0.9)],
    [(" it", 0.9)],
    [(" refuses", 0.9)],
    [(".\n", 0.9)],
    [("Verdict", 0.99)],
    [(":", 0.99)],
    [(" true", 0.62), (" false", 0.30), (" True", 0.05)],
)


def test_reasoning_judge_reads_the_label_after_the_verdict_marker(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """reason=True: the verdict is the label after 'Verdict:', and the reasoning is kept."""
    fake_openai.rule("refuse", REASONED)
    judged.makepyfile(
        """
        import pytest
        def test_it(judge):
            v = judge("Does the reply refuse?", "No refunds after 30 days.", reason=True)
            assert v.value is True
            assert v.confidence == pytest.approx(0.67)
            assert v.position == 14
            assert v.reasoning == "There is no refund after 30 days, so it refuses."
        """
    )
    judged.runpytest().assert_outcomes(passed=1)
    (request,) = fake_openai.requests
    assert "Verdict: true" in request.body["messages"][0]["content"]
    assert request.body["max_tokens"] == 400


def test_reasoning_shows_in_the_failure_message_and_the_llm_verdicts_section(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """A failed check of a reasoning verdict shows the reasoning on its line and in full in the section."""
    fake_openai.rule("refuse", REASONED)
    judged.makepyfile(
        """
        def test_it(judge):
            assert judge("Does the reply refuse?", "No refunds.", reason=True, max_tokens=64).confident_true(0.9)
        """
    )
    result = judged.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*confident_true failed: true at 0.67, needed true >= 0.90; top*"
            "reasoning='There is no refund after 30 days, so it refuses.'; q='Does the reply refuse?'>*",
            "*reasoning:  There is no refund after 30 days, so it refuses.*",
        ]
    )
    assert fake_openai.requests[0].body["max_tokens"] == 64


def test_reasoning_cut_off_before_the_verdict_is_a_clear_error(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """finish_reason length before 'Verdict:' is a JudgeResponseError saying to raise max_tokens."""
    fake_openai.rule("refuse", completion([("There", 0.9)], [(" is", 0.9)], finish_reason="length"))
    judged.makepyfile(
        """
        def test_it(judge):
            judge("Does the reply refuse?", "No refunds.", reason=True, max_tokens=2)
        """
    )
    result = judged.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*JudgeResponseError: model 'fake-judge' was cut off (finish_reason 'length') before its "
            "`Verdict: true|false` line, after 2 tokens: raise max_tokens*"
        ]
    )


def test_reasoning_without_a_verdict_line_is_a_clear_error(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """An answer that stops without 'Verdict:' says so, shows what the model wrote and what to do next."""
    fake_openai.rule("refuse", completion([("It", 0.9)], [(" depends", 0.9)]))
    judged.makepyfile(
        """
        def test_it(judge):
            judge("Does the reply refuse?", "No refunds.", reason=True)
        """
    )
    result = judged.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*did not end with a `Verdict: true` or `Verdict: false` line*'It depends'. The model does not "
            "follow the format: judge with a larger model (--llm-model*), or without reason=True*"
        ]
    )


def test_reason_is_an_llm_marker_option(judged: pytest.Pytester, fake_openai: FakeOpenAI) -> None:
    """@pytest.mark.llm(reason=True) makes every verdict of the test a reasoning one."""
    fake_openai.rule("refuse", REASONED)
    judged.makepyfile(
        """
        import pytest
        @pytest.mark.llm(reason=True)
        def test_it(judge):
            assert judge("Does the reply refuse?", "No refunds.").reasoning.startswith("There is no refund")
        """
    )
    judged.runpytest().assert_outcomes(passed=1)
