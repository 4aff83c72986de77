"""Response confidence: per-token and whole-response confidence of any completion."""

from __future__ import annotations

import contextvars
import math
import sys
from typing import Any

import pydantic
import pytest
from fake_openai import completion, responses_api
from hypothesis import given, settings
from hypothesis import strategies as st
from openai.types.chat import ChatCompletion
from openai.types.responses import Response
from records_seen import RecordsSeen

from pytest_llmconfidence import (
    ChoicePoint,
    NoLogprobsError,
    ResponseConfidence,
    response_confidence,
)

PARIS_ONE = [[("Paris", 0.8), ("Lyon", 0.1)]]
PARIS_TWO = [[("Par", 0.9), ("Lyon", 0.05)], [("is", 0.5), ("ma", 0.4)]]
SENTENCE = [
    [("The", 0.9), ("A", 0.05)],
    [(" capital", 0.6), (" city", 0.3)],
    [(" is", 0.3), (" was", 0.25), (" has", 0.2)],
]


@pytest.mark.parametrize("as_object", [False, True], ids=["dict", "object"])
@pytest.mark.parametrize(
    ("positions", "mean", "geometric_mean", "minimum", "min_token"),
    [
        (PARIS_ONE, 0.8, 0.8, 0.8, "Paris"),
        (PARIS_TWO, 0.7, math.sqrt(0.45), 0.5, "is"),
        (SENTENCE, 0.6, (0.9 * 0.6 * 0.3) ** (1 / 3), 0.3, " is"),
    ],
    ids=["one-token", "two-tokens", "sentence"],
)
def test_chat_completion_aggregates_match_hand_computed_numbers(
    positions: list[Any], mean: float, geometric_mean: float, minimum: float, min_token: str, as_object: bool
) -> None:
    """mean is the arithmetic mean of probabilities, geometric_mean exp(mean logprob), min the least."""
    data = completion(*positions)
    rc = response_confidence(ChatCompletion.model_validate(data) if as_object else data)
    assert rc.mean == pytest.approx(mean)
    assert rc.geometric_mean == pytest.approx(geometric_mean)
    assert rc.min == pytest.approx(minimum)
    assert rc.min_token == min_token
    assert rc.api == "chat.completions"
    assert rc.model == "fake-judge"
    assert len(rc.tokens) == len(positions)


def test_sentence_numbers_written_out() -> None:
    """0.9, 0.6, 0.3: mean 0.6, geometric mean 0.5451, min 0.3 (the numbers, not the formula)."""
    rc = response_confidence(completion(*SENTENCE))
    assert (round(rc.mean, 4), round(rc.geometric_mean, 4), round(rc.min, 4)) == (0.6, 0.5451, 0.3)


@pytest.mark.parametrize("as_object", [False, True], ids=["dict", "object"])
def test_responses_api_result_is_scored_across_its_output_text_parts(as_object: bool) -> None:
    """Responses API: every output_text part's logprobs count; reasoning items are skipped."""
    data = responses_api(PARIS_TWO, [[(".", 0.25), ("!", 0.7)]])
    rc = response_confidence(Response.model_validate(data) if as_object else data)
    assert rc.api == "responses"
    assert rc.model == "gpt-4.1-mini"
    assert rc.text == "Paris."
    assert [tok.token for tok in rc.tokens] == ["Par", "is", "."]
    assert rc.mean == pytest.approx((0.9 + 0.5 + 0.25) / 3)
    assert rc.geometric_mean == pytest.approx((0.9 * 0.5 * 0.25) ** (1 / 3))
    assert rc.min == pytest.approx(0.25)
    assert rc.min_token == "."


def test_tokens_carry_probability_logprob_and_alternatives() -> None:
    """Each token entry: its text, probability, logprob and alternatives best first."""
    rc = response_confidence(completion(*PARIS_TWO))
    second = rc.tokens[1]
    assert (second.index, second.token) == (1, "is")
    assert second.probability == pytest.approx(0.5)
    assert second.logprob == pytest.approx(math.log(0.5))
    assert [(alt.token, round(alt.probability, 3)) for alt in second.alternatives] == [
        ("is", 0.5),
        ("ma", 0.4),
    ]
    assert second.runner_up() is not None and second.runner_up().token == "ma"  # type: ignore[union-attr]


def test_padding_is_ignored_in_alternatives_and_aggregates() -> None:
    """Logprobs at -100 or below are absent: dropped from alternatives, a padded token counts nowhere."""
    data = completion([("Yes", 0.5), ("No", 0.0)], [("!", 0.0)])
    rc = response_confidence(data)
    assert [alt.token for alt in rc.tokens[0].alternatives] == ["Yes"]
    assert rc.tokens[1].logprob is None and rc.tokens[1].probability == 0.0
    assert (rc.mean, rc.geometric_mean, rc.min, rc.min_token) == (
        pytest.approx(0.5),
        pytest.approx(0.5),
        pytest.approx(0.5),
        "Yes",
    )


def test_choice_points_are_positions_whose_top_two_are_closer_than_the_margin() -> None:
    """top-1 minus top-2 below the margin, in order, with the sampled token and its runner-up."""
    rc = response_confidence(completion(*SENTENCE))
    (point,) = rc.choice_points(margin=0.1)
    assert isinstance(point, ChoicePoint)
    assert (point.index, point.token, point.runner_up) == (2, " is", " was")
    assert (point.probability, point.runner_up_probability) == (pytest.approx(0.3), pytest.approx(0.25))
    points = rc.choice_points(margin=0.31)
    assert [(p.index, p.token, p.runner_up) for p in points] == [(1, " capital", " city"), (2, " is", " was")]
    assert rc.choice_points(margin=0.0) == []
    with pytest.raises(ValueError, match="margin must be between 0 and 1, got 2"):
        rc.choice_points(margin=2)


def test_choice_point_of_a_sampled_token_that_was_not_the_favourite() -> None:
    """Sampled below the top: the runner-up is the favourite the model did not write."""
    data = completion([("Lyon", 0.45), ("Paris", 0.5)])
    rc = response_confidence(data)
    (point,) = rc.choice_points(margin=0.1)
    assert (point.token, point.runner_up) == ("Lyon", "Paris")
    assert point.probability == pytest.approx(0.45)
    assert point.runner_up_probability == pytest.approx(0.5)


def test_at_least_passes_and_fails_by_each_aggregate() -> None:
    """at_least(threshold, by=...) compares geometric_mean (default), mean or min to the threshold."""
    rc = response_confidence(completion(*SENTENCE))
    assert rc.at_least(0.5)
    assert not rc.at_least(0.55)
    assert rc.at_least(0.6, by="mean")
    assert not rc.at_least(0.31, by="min")
    assert [c.passed for c in rc.checks] == [True, False, True, False]
    with pytest.raises(
        ValueError, match="by='median' is not valid; valid values are geometric_mean, mean, min"
    ):
        rc.at_least(0.5, by="median")
    with pytest.raises(ValueError, match=r"threshold must be a number between 0 and 1, got 1\.5"):
        rc.at_least(1.5)


def test_failed_at_least_repr_lists_aggregate_threshold_and_weakest_tokens_in_context() -> None:
    """The repr leads with the aggregate and the threshold, then the weak tokens with context."""
    rc = response_confidence(completion(*SENTENCE))
    assert repr(rc.at_least(0.8)) == (
        "<at_least failed: geometric_mean 0.55, needed >= 0.80 over 3 tokens; "
        "weakest ' is' 0.30 in 'The capital[ is]', ' capital' 0.60 in 'The[ capital] is'; "
        "text='The capital is'>"
    )
    assert repr(rc.at_least(0.5)) == "<at_least passed: geometric_mean 0.55 >= 0.50; text='The capital is'>"


def test_failed_at_least_repr_of_a_long_answer_fits_pytests_line() -> None:
    """A sentence of fourteen tokens: the failing repr stays under pytest's 240 characters."""
    tokens = [
        ("The", 0.9),
        (" capital", 0.95),
        (" of", 0.99),
        (" France", 0.97),
        (" is", 0.9),
        (" Lyon", 0.3),
    ]
    tokens += [
        (",", 0.6),
        (" a", 0.5),
        (" city", 0.8),
        (" on", 0.7),
        (" the", 0.9),
        (" Rh", 0.4),
        ("ône", 0.99),
    ]
    rc = response_confidence(completion(*[[token] for token in tokens], [(".", 0.9)]))
    text = repr(rc.at_least(0.9))
    assert len(text) <= 240
    assert text.startswith(
        "<at_least failed: geometric_mean 0.73, needed >= 0.90 over 14 tokens; weakest ' Lyon' 0.30 in 'France is[ Lyon],'"
    )
    assert text.endswith(
        "' a' 0.50 in 'Lyon,[ a] city'; text='The capital of France is Lyon, a city on the Rhôn…'>"
    )


def test_result_is_frozen_and_has_a_short_repr() -> None:
    """A ResponseConfidence cannot be changed, and its repr fits on one line."""
    rc = response_confidence(completion(*SENTENCE))
    with pytest.raises(pydantic.ValidationError):
        rc.text = "other"  # type: ignore[misc]
    assert repr(rc) == (
        "<ResponseConfidence geometric_mean 0.55, mean 0.60, min 0.30 at ' is'; 3 tokens; text='The capital is'>"
    )
    assert isinstance(rc, ResponseConfidence)


@pytest.mark.parametrize(
    "data",
    [
        completion([("Hi", 0.9)], logprobs=False),
        responses_api([[("Hi", 0.9)]])
        | {
            "output": [
                {"type": "message", "content": [{"type": "output_text", "text": "Hi", "logprobs": []}]}
            ]
        },
        completion([("Hi", 0.0)]),
    ],
    ids=["chat-null", "responses-empty", "all-padding"],
)
def test_completion_without_logprobs_says_how_to_request_them(data: dict[str, Any]) -> None:
    """No logprobs: NoLogprobsError naming both ways of asking for them."""
    with pytest.raises(NoLogprobsError) as info:
        response_confidence(data)
    message = str(info.value)
    assert "carries no logprobs" in message
    assert "logprobs=True, top_logprobs=5" in message
    assert 'include=["message.output_text.logprobs"]' in message


def test_anything_else_is_a_type_error() -> None:
    """A string or an unrelated dict is refused with what is accepted."""
    with pytest.raises(TypeError, match="takes a ChatCompletion, a Responses API Response, the JSON dict"):
        response_confidence("Paris")
    with pytest.raises(TypeError, match="with keys \\['text'\\]"):
        response_confidence({"text": "Paris"})


@settings(deadline=None)  # no timing: the suite shares two cores
@given(
    st.lists(
        st.floats(min_value=1e-6, max_value=1.0, allow_nan=False),
        min_size=1,
        max_size=40,
    )
)
def test_aggregates_are_ordered_min_geometric_mean_arithmetic_mean(probabilities: list[float]) -> None:
    """0 <= min <= geometric_mean <= mean <= 1 for any probabilities."""
    data = completion(*[[(f"t{i}", p)] for i, p in enumerate(probabilities)])
    rc = contextvars.Context().run(response_confidence, data)  # a fresh context: not recorded in this test
    assert 0.0 <= rc.min <= rc.geometric_mean <= rc.mean <= 1.0


@settings(deadline=None)  # no timing: the suite shares two cores
@given(
    st.lists(
        st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=4), min_size=1, max_size=10
    )
)
def test_choice_points_are_in_order_and_within_the_margin(positions: list[list[float]]) -> None:
    """Every choice point's margin is below the limit, and the points come in text order."""
    distributions = [[p / max(1.0, sum(ps)) for p in ps] for ps in positions]  # each adds up to at most 1
    data = completion(*[[(f"t{j}", p) for j, p in enumerate(ps)] for ps in distributions])
    try:
        rc = contextvars.Context().run(response_confidence, data)
    except NoLogprobsError:
        return
    points = rc.choice_points(margin=0.3)
    assert [p.index for p in points] == sorted(p.index for p in points)
    for point in points:
        top = sorted((alt.probability for alt in rc.tokens[point.index].alternatives), reverse=True)
        assert top[0] - (top[1] if len(top) > 1 else 0.0) < 0.3


def test_response_confidence_is_recorded_in_the_test_that_made_it(pytester: pytest.Pytester) -> None:
    """Inside a test, the result and its checks travel as a "response" record; a failure lists it."""
    pytester.makepyfile(
        f"""
        import sys
        sys.path.insert(0, {str(__import__("pathlib").Path(__file__).parent)!r})
        from fake_openai import completion
        from pytest_llmconfidence import response_confidence

        def test_good():
            rc = response_confidence(completion([("Paris", 0.9)], [(".", 0.8)]))
            assert rc.at_least(0.5)

        def test_weak():
            rc = response_confidence(completion([("Lyon", 0.4), ("Paris", 0.35)]))
            assert rc.at_least(0.9, by="min")
        """
    )
    seen = RecordsSeen()
    reprec = pytester.inline_run(plugins=[seen])
    reprec.assertoutcome(passed=1, failed=1)
    records = {r.nodeid.split("::")[-1]: found for r, found in seen.by_report if found}
    (good,) = records["test_good"]
    assert good["kind"] == "response"
    assert good["test_id"].endswith("::test_good")
    assert good["tokens"] == 2
    assert good["mean"] == pytest.approx(0.85)
    assert good["min_token"] == "."
    assert good["checks"] == [
        {"kind": "at_least", "threshold": 0.5, "passed": True, "score": pytest.approx(math.sqrt(0.72))}
    ]
    (weak,) = records["test_weak"]
    assert weak["checks"][0]["passed"] is False
    assert weak["choice_points"] == 1
    failed = next(r for r in reprec.getreports("pytest_runtest_logreport") if r.failed)
    section = dict(failed.sections)["llm verdicts"]
    assert "confidence: geometric_mean 0.4000  mean 0.4000  min 0.4000 at 'Lyon' (1 tokens)" in section
    assert "check:      at_least failed: min 0.40, needed >= 0.90 over 1 tokens" in section
    assert "choices:    1 with margin < 0.2: 'Lyon' 0.40 vs 'Paris' 0.35" in section


def test_failed_at_least_assertion_shows_the_facts(pytester: pytest.Pytester) -> None:
    """pytest prints the check's one-line repr when at_least fails."""
    pytester.makepyfile(
        f"""
        import sys
        sys.path.insert(0, {str(__import__("pathlib").Path(__file__).parent)!r})
        from fake_openai import completion
        from pytest_llmconfidence import response_confidence

        def test_weak():
            assert response_confidence(completion([("It", 0.9)], [(" rains", 0.2), (" snows", 0.7)])).at_least(0.8)
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E   *assert <at_least failed: geometric_mean 0.42, needed >= 0.80 over 2 tokens; "
            "weakest ' rains' 0.20 in 'It[[] rains]'; text='It rains'>"
        ]
    )


def test_outside_pytest_it_works_and_records_nothing(pytester: pytest.Pytester) -> None:
    """A plain script scores completions too; nothing is recorded anywhere."""
    script = pytester.makepyfile(
        f"""
        import sys
        sys.path.insert(0, {str(__import__("pathlib").Path(__file__).parent)!r})
        from fake_openai import completion
        from pytest_llmconfidence import response_confidence

        rc = response_confidence(completion([("Hi", 0.5)]))
        print("GM", round(rc.geometric_mean, 2), "PLUGIN", "pytest_llmconfidence.plugin" in sys.modules)
        """
    )
    result = pytester.run(sys.executable, str(script))
    assert result.ret == 0
    result.stdout.fnmatch_lines(["GM 0.5 PLUGIN False"])


def test_not_recorded_outside_the_call_phase() -> None:
    """A thread started without the test's context records nothing (and still works)."""
    import threading

    from pytest_llmconfidence._report import records as _records

    seen: list[bool] = []
    thread = threading.Thread(target=lambda: seen.append(_records.record(object())))
    thread.start()
    thread.join()
    assert seen == [False]


def test_judge_ask_scores_a_models_answer_in_one_line(judged: pytest.Pytester, fake_openai: Any) -> None:
    """judge.ask(prompt) asks with logprobs through the judge's client and records the ResponseConfidence."""
    fake_openai.rule("France", completion([("Paris", 0.9), ("Lyon", 0.05)], [(".", 0.6), ("!", 0.3)]))
    judged.makepyfile(
        """
        def test_it(judge):
            rc = judge.ask("What is the capital of France?", model="bot-model", max_tokens=20)
            assert rc.text == "Paris."
            assert rc.at_least(0.7)
            assert not judge.ask([{"role": "user", "content": "France?"}], top_logprobs=2).at_least(0.9, by="min")
        """
    )
    seen = RecordsSeen()
    reprec = judged.inline_run(plugins=[seen])
    reprec.assertoutcome(passed=1)
    first, second = (r.body for r in fake_openai.requests)
    assert first["model"] == "bot-model" and first["max_tokens"] == 20
    assert (first["logprobs"], first["top_logprobs"]) == (True, 20)
    assert first["messages"] == [{"role": "user", "content": "What is the capital of France?"}]
    assert (second["model"], second["top_logprobs"]) == ("fake-judge", 2)
    (found,) = [records for r, records in seen.by_report if r.when == "call"]
    assert [(r["kind"], r["model"], [c["passed"] for c in r["checks"]]) for r in found] == [
        ("response", "bot-model", [True]),
        ("response", "fake-judge", [False]),
    ]
