"""The judge against a real language model (SmolLM2-135M-Instruct) behind llama.cpp's server."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from pytest_llmconfidence._scoring.prompts import default_messages
from pytest_llmconfidence._settings import DEFAULT_MAX_TOKENS

Verdicts = Callable[[], list[dict[str, Any]]]

QUESTION = "Does the reply mention order 12345?"
REPLY = "Order #12345 shipped on 2 March and should arrive in 3-5 business days."


def label_probability(top_logprobs: list[Any], labels: set[str]) -> float:
    """Recomputed by hand: the summed probability of the alternatives that spell one of ``labels``."""
    return sum(
        math.exp(alt.logprob)
        for alt in top_logprobs
        if alt.token.strip().strip("'\"").lower() in labels and alt.logprob > -100
    )


def test_verdict_probabilities_are_those_of_the_raw_top_logprobs(
    real_project: pytest.Pytester, read_verdicts: Verdicts, raw_client: Any, model_alias: str
) -> None:
    """p_true, p_false, confidence and alternatives equal a by-hand sum over the same request's top_logprobs."""
    real_project.makepyfile(
        f"""
        def test_it(judge):
            judge({QUESTION!r}, {REPLY!r})
        """
    )
    real_project.runpytest().assert_outcomes(passed=1)
    (verdict,) = read_verdicts()

    raw = raw_client.chat.completions.create(
        model=model_alias,
        messages=default_messages(QUESTION, REPLY, None),
        temperature=0,
        logprobs=True,
        top_logprobs=20,
        max_tokens=DEFAULT_MAX_TOKENS,
    )
    first = raw.choices[0].logprobs.content[0]
    assert len(first.top_logprobs) == 20
    p_true = label_probability(first.top_logprobs, {"true", "yes"})
    p_false = label_probability(first.top_logprobs, {"false", "no"})

    assert verdict["position"] == 0
    assert verdict["token"] == first.token
    assert [(alt["token"], alt["logprob"]) for alt in verdict["alternatives"]] == [
        (alt.token, alt.logprob) for alt in first.top_logprobs
    ]
    assert verdict["p_true"] == pytest.approx(p_true, rel=1e-9)
    assert verdict["p_false"] == pytest.approx(p_false, rel=1e-9)
    assert verdict["coverage"] == pytest.approx(p_true + p_false, rel=1e-9)
    assert verdict["value"] is (p_true > p_false)
    assert verdict["confidence"] == pytest.approx(max(p_true, p_false), rel=1e-9)
    assert verdict["normalized"] == pytest.approx(max(p_true, p_false) / (p_true + p_false), rel=1e-9)
    assert 0 < verdict["coverage"] < 1
    assert verdict["model"] == model_alias
    assert verdict["replayed"] is False
    assert verdict["usage"]["completion_tokens"] >= 1


def test_the_same_question_twice_gives_identical_verdicts(
    real_project: pytest.Pytester, read_verdicts: Verdicts
) -> None:
    """At temperature 0 the real server is deterministic: two calls, the same value and probabilities."""
    real_project.makepyfile(
        f"""
        def test_twice(judge):
            first = judge({QUESTION!r}, {REPLY!r})
            second = judge({QUESTION!r}, {REPLY!r})
            assert first.model_dump(exclude={{"latency_s"}}) == second.model_dump(exclude={{"latency_s"}})
        """
    )
    real_project.runpytest().assert_outcomes(passed=1)
    first, second = read_verdicts()
    assert first["alternatives"] == second["alternatives"]


# Questions SmolLM2-135M-Instruct answers right, with the right label ahead of the wrong one
# by at least MARGIN, through the default prompt (found by experiment; it leans towards "true"
# and gets many simple questions wrong, so most questions are not here).
RELIABLE = [
    (QUESTION, REPLY, True),
    ("Is the reply polite?", "Thank you for your patience, I'm happy to help.", True),
    (
        "Does the reply ask for the customer's password?",
        "Never share your password; use the reset link on the login page.",
        False,
    ),
    ("Is the answer correct?", "The capital of France is Berlin.", False),
]
MARGIN = 0.05


def test_questions_the_small_model_answers_reliably(
    real_project: pytest.Pytester, read_verdicts: Verdicts
) -> None:
    """A few questions the real model gets right, each with a clear lead of the right label."""
    real_project.makepyfile(
        f"""
        import pytest

        @pytest.mark.parametrize(("question", "reply"), {[(q, r) for q, r, _ in RELIABLE]!r})
        def test_it(judge, question, reply):
            judge(question, reply)
        """
    )
    real_project.runpytest().assert_outcomes(passed=len(RELIABLE))
    verdicts = {(v["question"], v["response"]): v for v in read_verdicts()}
    for question, reply, expected in RELIABLE:
        verdict = verdicts[question, reply]
        right, wrong = (
            (verdict["p_true"], verdict["p_false"]) if expected else (verdict["p_false"], verdict["p_true"])
        )
        assert verdict["value"] is expected, (question, reply, verdict)
        assert right - wrong >= MARGIN, (question, reply, verdict)


def test_llama_cpp_responses_api_needs_logprobs_true_and_returns_none(
    raw_client: Any, model_alias: str
) -> None:
    """docs/response-confidence.md's llama.cpp row: top_logprobs alone is a 400; with logprobs: true, no logprobs."""
    import openai

    from pytest_llmconfidence import NoLogprobsError, response_confidence

    request = {
        "model": model_alias,
        "input": "The capital of France, in one word?",
        "max_output_tokens": 4,
        "include": ["message.output_text.logprobs"],
        "top_logprobs": 5,
    }
    with pytest.raises(openai.BadRequestError, match="top_logprobs requires logprobs to be set to true"):
        raw_client.responses.create(**request)
    result = raw_client.responses.create(**request, extra_body={"logprobs": True})
    with pytest.raises(NoLogprobsError, match="use its chat completions"):
        response_confidence(result)
