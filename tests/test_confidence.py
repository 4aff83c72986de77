"""The confidence maths of a verdict, as pure functions."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_llmconfidence._scoring.confidence import (
    Position,
    find_verdict_position,
    normalize_token,
    positions_from_logprobs,
    score_alternatives,
)


def lp(p: float) -> float:
    return math.log(p)


@pytest.mark.parametrize(
    ("token", "label"),
    [
        ("true", "true"),
        (" True", "true"),
        ("TRUE", "true"),
        ('"true"', "true"),
        ("'False'", "false"),
        (' "Yes" ', "yes"),
        ("\nno", "no"),
        ("`true`", "true"),
    ],
)
def test_tokens_normalise_without_whitespace_quotes_or_case(token: str, label: str) -> None:
    """Whitespace and quotes are stripped and case folded."""
    assert normalize_token(token) == label


def test_true_and_false_sum_over_tokenisations() -> None:
    """Every spelling of a label adds to its class."""
    scores = score_alternatives(
        [("true", lp(0.5)), (" True", lp(0.2)), ("yes", lp(0.1)), ("false", lp(0.15))]
    )
    assert scores.p_true == pytest.approx(0.8)
    assert scores.p_false == pytest.approx(0.15)
    assert scores.coverage == pytest.approx(0.95)
    assert scores.value is True
    assert scores.confidence == pytest.approx(0.8)
    assert scores.normalized == pytest.approx(0.8 / 0.95)


def test_padding_entries_are_ignored() -> None:
    """Logprobs at or below -100 (OpenAI's -9999 padding) count as absent."""
    scores = score_alternatives([("false", lp(0.6)), ("true", -9999.0), ("True", -100.0)])
    assert scores.p_true == 0.0
    assert scores.value is False


def test_no_label_is_undecided_with_zero_confidence() -> None:
    """Without a label the verdict is undecided, confidence 0."""
    scores = score_alternatives([("Maybe", lp(0.7)), ("I", lp(0.2))])
    assert scores.value is None
    assert scores.confidence == 0.0
    assert scores.coverage == 0.0
    assert scores.normalized == 0.0


def test_equal_mass_is_undecided() -> None:
    """p_true == p_false gives no verdict."""
    scores = score_alternatives([("true", lp(0.4)), ("false", lp(0.4))])
    assert scores.value is None
    assert scores.confidence == 0.0


def test_custom_labels_replace_the_defaults() -> None:
    """Configured labels decide which tokens count."""
    scores = score_alternatives([("pass", lp(0.7)), ("true", lp(0.2))], ["pass"], ["fail"])
    assert scores.p_true == pytest.approx(0.7)


def test_verdict_position_is_the_first_with_a_label() -> None:
    """Leading tokens without a label are skipped."""
    content = [
        {"token": "{", "logprob": 0.0, "top_logprobs": [{"token": "{", "logprob": 0.0}]},
        {"token": '"', "logprob": 0.0, "top_logprobs": [{"token": '"', "logprob": 0.0}]},
        {
            "token": "true",
            "logprob": lp(0.7),
            "top_logprobs": [{"token": "true", "logprob": lp(0.7)}, {"token": "false", "logprob": lp(0.3)}],
        },
    ]
    position = find_verdict_position(positions_from_logprobs(content))
    assert position is not None
    assert position.index == 2


def test_sampled_token_stands_in_when_no_alternatives_were_returned() -> None:
    """top_logprobs=0 still gives a verdict from the sampled token."""
    position = Position(0, "false", lp(0.9), ())
    assert score_alternatives(position.candidates()).p_false == pytest.approx(0.9)


token_text = st.sampled_from(
    ["true", "True", " true", "false", " False", "yes", "No", "maybe", "I", "The", "\n"]
)


@st.composite
def distributions(draw: st.DrawFn) -> list[tuple[str, float]]:
    tokens = draw(st.lists(token_text, min_size=0, max_size=11, unique=True))
    weights = draw(st.lists(st.floats(0.001, 1.0), min_size=len(tokens) + 1, max_size=len(tokens) + 1))
    total = sum(weights)
    return [(tok, math.log(w / total)) for tok, w in zip(tokens, weights, strict=False)]


@given(distributions(), st.randoms())
def test_scores_do_not_depend_on_alternative_order(alternatives: list[tuple[str, float]], rnd) -> None:  # type: ignore[no-untyped-def]
    """Shuffling the alternatives changes nothing."""
    shuffled = list(alternatives)
    rnd.shuffle(shuffled)
    a, b = score_alternatives(alternatives), score_alternatives(shuffled)
    assert a.value == b.value
    assert a.confidence == pytest.approx(b.confidence)
    assert a.coverage == pytest.approx(b.coverage)


@given(distributions())
def test_confidence_never_exceeds_normalized_or_one(alternatives: list[tuple[str, float]]) -> None:
    """0 <= confidence <= normalized <= 1 and coverage <= 1."""
    s = score_alternatives(alternatives)
    assert 0.0 <= s.confidence <= s.normalized + 1e-12 <= 1.0 + 1e-12
    assert 0.0 <= s.coverage <= 1.0 + 1e-12
    assert s.p_true + s.p_false == pytest.approx(s.coverage)


@given(distributions(), st.lists(st.sampled_from(["Maybe", "perhaps", "?", "The"]), unique=True))
def test_unknown_tokens_do_not_change_the_verdict(
    alternatives: list[tuple[str, float]], extra: list[str]
) -> None:
    """Tokens that are no label are ignored (here added at tiny probability)."""
    known = {tok for tok, _ in alternatives}
    more = alternatives + [(tok, math.log(1e-6)) for tok in extra if tok not in known]
    a, b = score_alternatives(alternatives), score_alternatives(more)
    assert (a.value, a.p_true, a.p_false) == (b.value, b.p_true, b.p_false)
