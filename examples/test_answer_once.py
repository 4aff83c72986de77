"""One answer, generated once and judged many times: the shape of most eval suites.

The module fixture asks the chat assistant (a real model call) once; every test below judges that same
answer for one property. The fixture's call is recorded in a cassette of its own,
cassettes/examples/test_answer_once/return_answer.module.yaml, so it replays whichever test sets the
fixture up first: ``pytest examples -k polite``, ``-n 2`` or the whole file.
"""

from __future__ import annotations

import pytest
from chat_app import chat

# The same small judge as test_support_bot.py; a long, rambling answer spreads its verdicts thinner
# (0.17 to 0.21 here, each the right way), so these checks ask for 0.15.
pytestmark = pytest.mark.llm(model="smollm2-135m-instruct", threshold=0.15)

SUPPORT = "You are the support assistant of Acme Shoes. Shoes can be returned within 30 days."


@pytest.fixture(scope="module")
def return_answer():
    """The assistant's answer to a returns question: one model call for the whole module."""
    return chat(SUPPORT, "Can I return my shoes?")


def test_the_answer_is_polite(judge, return_answer):
    assert judge("Is the reply polite?", return_answer).confident_true()


def test_the_answer_is_about_returns(judge, return_answer):
    assert judge("Is the reply about returning shoes?", return_answer).confident_true()


def test_the_answer_asks_for_no_password(judge, return_answer):
    assert judge("Does the reply ask for the customer's password?", return_answer).confident_false()
