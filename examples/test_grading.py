"""Scores and choices: the judge grades a reply on a scale, or picks one of several options.

The same maths as a verdict over more labels: the probability of every label is read at the answer
token, so a judge that is not really answering shows it in its coverage.
"""

from __future__ import annotations

import pytest
from on_purpose import on_purpose
from support_bot import reply

pytestmark = pytest.mark.llm(model="smollm2-135m-instruct", threshold=0.3)

TEAMS = ["Returns team", "Shipping team", "Account team"]


class TestScores:
    @on_purpose("a 135M judge cannot grade, and its score says so")
    def test_the_order_status_reply_is_rated_polite(self, judge):
        answer = reply("Where is order 12345?")
        score = judge.score("How polite is the reply, from 1 (rude) to 5 (very polite)?", answer)
        assert score.at_least(4)


class TestChoices:
    def test_password_trouble_goes_to_the_account_team(self, judge):
        choice = judge.choose(
            "Which team should handle this customer message?", "I forgot my password.", options=TEAMS
        )
        assert choice.confident("Account team", threshold=0.15)

    @on_purpose("the judge picks the wrong team, at low confidence")
    def test_a_late_return_goes_to_the_returns_team(self, judge):
        message = "Can I return shoes after 40 days?"
        choice = judge.choose("Which team should handle this customer message?", message, options=TEAMS)
        assert choice.confident("Returns team", threshold=0.15)
