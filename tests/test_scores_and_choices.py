"""judge.score and judge.choose: the verdict's maths over a scale or a set of options."""

from __future__ import annotations

import json
import math

import pytest
from fake_openai import FakeOpenAI, completion
from hypothesis import assume, given
from hypothesis import strategies as st

from pytest_llmconfidence._scoring.confidence import Position
from pytest_llmconfidence._scoring.graded import read_distribution


def test_score_gives_the_distribution_the_value_and_the_mean_of_the_scale(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """Spellings are summed, never renormalised; expected is the mean over the renormalised distribution."""
    fake_openai.rule(
        "helpful", completion([("4", 0.55), (" 4", 0.05), ("5", 0.25), ("3", 0.10), ("I", 0.03)])
    )
    judged.makepyfile(
        """
        import pytest
        def test_it(judge):
            s = judge.score("How helpful is the reply?", "Here is how to reset it.", expected=4)
            assert s.value == 4 and s.confidence == pytest.approx(0.60)
            assert s.distribution == pytest.approx({1: 0, 2: 0, 3: 0.10, 4: 0.60, 5: 0.25})
            assert s.scale == (1, 2, 3, 4, 5)
            assert s.coverage == pytest.approx(0.95)
            assert s.expected == pytest.approx((3 * 0.10 + 4 * 0.60 + 5 * 0.25) / 0.95)
            assert s.at_least(4, confidence=0.8)
            assert not s.at_least(5, confidence=0.5)
        """
    )
    result = judged.runpytest("--llm-report=report.json")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*1 score and 0 choices: 1 of 2 checks failed; lowest confidence 0.60*"])
    (request,) = fake_openai.requests
    assert "exactly one of 1, 2, 3, 4, 5" in request.body["messages"][0]["content"]
    assert request.body["temperature"] == 0
    assert request.body["max_tokens"] == 1  # every label of 1-5 is one token
    (score,) = json.loads((judged.path / "report.json").read_text())["scores"]
    assert score["kind"] == "score" and score["expected_label"] == "4"
    assert score["expected"] == pytest.approx(4.1579, abs=1e-4)
    assert [c["passed"] for c in score["checks"]] == [True, False]


def test_a_failed_score_check_leads_with_the_facts(judged: pytest.Pytester, fake_openai: FakeOpenAI) -> None:
    """The at_least repr: the probability, what was needed, the score and its distribution, the question."""
    fake_openai.rule("helpful", completion([("3", 0.5), ("4", 0.3), ("5", 0.1)]))
    judged.makepyfile(
        """
        def test_it(judge):
            assert judge.score("How helpful is the reply?", "Meh.").at_least(4)
        """
    )
    result = judged.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*assert <at_least failed: P(score >= 4) 0.40, needed >= 0.90; score 3 at 0.50; "
            "distribution 1:0.00 2:0.00 3:0.50 4:0.30 5:0.10; q='How helpful is the reply?'>*",
            "*distribution: 1:0.00 2:0.00 3:0.50 4:0.30 5:0.10*",
        ]
    )


def test_choose_asks_by_letters_for_long_options_and_maps_them_back(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """Options that are not one short word are asked for as A, B, C; the Choice speaks the options."""
    fake_openai.rule("tone", completion([("B", 0.7), ("A", 0.2), (" b", 0.05)]))
    judged.makepyfile(
        """
        import pytest
        def test_it(judge):
            c = judge.choose("Which tone is it?", "Thanks a lot!", options=["very formal", "warm and friendly", "rude"])
            assert c.value == "warm and friendly" and c.confidence == pytest.approx(0.75)
            assert c.distribution == pytest.approx({"very formal": 0.2, "warm and friendly": 0.75, "rude": 0})
            assert c.labels == ("A", "B", "C")
            assert c.confident("warm and friendly", 0.7)
            assert not c.confident("rude", 0.1)
        """
    )
    judged.runpytest("--llm-report=report.json", "--llm-html=report.html").assert_outcomes(passed=1)
    html = (judged.path / "report.html").read_text()
    assert "<h2>Scores and choices</h2>" in html
    assert '<td data-label="value">warm and friendly</td>' in html and "warm and friendly:0.75" in html
    user = fake_openai.requests[0].body["messages"][-1]["content"]
    assert "A. very formal\nB. warm and friendly\nC. rude" in user
    assert fake_openai.requests[0].body["max_tokens"] == 1  # A, B, C: one token each
    (choice,) = json.loads((judged.path / "report.json").read_text())["choices"]
    assert choice["value"] == "warm and friendly" and choice["kind"] == "choice"


def test_scores_and_choices_replay_from_the_cassette(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """Recorded once, a score and a choice replay offline with the same numbers."""
    fake_openai.rule("helpful", completion([("5", 0.8), ("4", 0.15)]))
    fake_openai.rule("colour", completion([("red", 0.9), ("blue", 0.05)]))
    judged.makepyfile(
        """
        import pytest
        def test_it(judge):
            s = judge.score("How helpful is the reply?", "Great.")
            c = judge.choose("Which colour?", "It is red.", options=["red", "blue"])
            assert s.value == 5 and s.confidence == pytest.approx(0.8)
            assert c.value == "red" and c.confidence == pytest.approx(0.9)
            print("REPLAYED", s.replayed, c.replayed)
        """
    )
    judged.runpytest("--llm-record-mode=once", "-s").stdout.fnmatch_lines(["*REPLAYED False False*"])
    served = len(fake_openai.requests)
    result = judged.runpytest("--llm-record-mode=none", "-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*REPLAYED True True*"])
    assert len(fake_openai.requests) == served


def test_score_rejects_an_expected_label_off_the_scale(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """expected must be a label of the scale; the error lists the scale."""
    judged.makepyfile(
        """
        import pytest
        def test_it(judge):
            with pytest.raises(ValueError, match="not on the scale 1, 2, 3"):
                judge.score("How helpful?", "x", scale=(1, 2, 3), expected=7)
        """
    )
    judged.runpytest().assert_outcomes(passed=1)


def test_score_and_choice_are_exported_lazily() -> None:
    """Score and Choice are public names of the package."""
    import pytest_llmconfidence

    assert pytest_llmconfidence.Score.__name__ == "Score"
    assert pytest_llmconfidence.Choice.__name__ == "Choice"


_PROBABILITY = st.floats(min_value=0.001, max_value=1.0)


@given(
    p_one=_PROBABILITY,
    p_ten=st.floats(min_value=0.0, max_value=1.0),
    p_zero=_PROBABILITY,
    p_stop=st.floats(min_value=0.0, max_value=1.0),
)
def test_a_two_token_split_keeps_the_sampled_tokens_probability(
    p_one: float, p_ten: float, p_zero: float, p_stop: float
) -> None:
    """Splitting "1" between "1" and "10" neither creates nor loses probability; the total stays <= 1."""
    assume(p_one + p_ten <= 1.0 and p_zero + p_stop <= 1.0)
    first = Position(0, "1", math.log(p_one), (("1", math.log(p_one)), ("10", math.log(p_ten or 1e-300))))
    after = Position(1, "0", math.log(p_zero), (("0", math.log(p_zero)), ("\n", math.log(p_stop or 1e-300))))
    reading = read_distribution([first, after], [str(n) for n in range(11)])
    assert reading.distribution["10"] == pytest.approx(p_ten + p_one * p_zero, abs=1e-12)
    assert reading.distribution["1"] == pytest.approx(p_one * (1 - p_zero), abs=1e-12)
    assert math.fsum(reading.distribution.values()) <= 1.0 + 1e-12
    assert reading.token == "10"


def test_a_graded_answer_asks_for_one_token_only_when_every_label_is_one_character() -> None:
    """1-5 and A-C are one token in every tokenizer; 10 or a word may take two."""
    from pytest_llmconfidence._scoring.graded import answer_tokens

    assert answer_tokens(("1", "2", "3", "4", "5")) == 1
    assert answer_tokens(("A", "B", "C")) == 1
    assert answer_tokens(tuple(str(n) for n in range(11))) == 2
    assert answer_tokens(("billing", "returns")) == 2
