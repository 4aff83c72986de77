"""Beyond one judge: which of two answers is better (asked in both orders), and judges pooled in a panel.

``judge.compare(question, a, b)`` shows the two answers in one order, then in the other, and reads the
probability of "A" and "B" each time: a judge that picks whichever answer it sees first shows it as a
large ``position_bias`` and orders that disagree. ``judge.panel(question, response, models=[...])`` asks
several judges and pools them, with their agreement.

This machine has one local model, so the panel pairs it with itself under a second, harsher system prompt
(``HARSH_JUDGE``, panel_judges.py).
"""

from __future__ import annotations

import pytest
from chat_app import MODEL, chat
from on_purpose import on_purpose
from panel_judges import HARSH_JUDGE
from support_bot import reply
from test_chat_app import GREETER, RANDOM_WORDS

pytestmark = pytest.mark.llm(model="smollm2-135m-instruct", threshold=0.3)

BETTER_GREETING = "Which response greets the user better?"
PANEL = [MODEL, HARSH_JUDGE]


class TestPairwise:
    @on_purpose("the order decided: the small judge picks whichever answer it is shown first")
    def test_the_greeting_prompt_answers_better_than_random_words(self, judge):
        greeting, random_words = chat(GREETER, "hello"), chat(RANDOM_WORDS, "hello")
        assert judge.compare(BETTER_GREETING, greeting, random_words).prefers("a")

    def test_the_judge_is_pulled_to_the_answer_it_sees_first(self, judge):
        greeting, random_words = chat(GREETER, "hello"), chat(RANDOM_WORDS, "hello")
        questions = [
            BETTER_GREETING,
            "Which response is a friendly greeting?",
            "Which response makes more sense?",
        ]
        preferences = judge.compare_many([(q, greeting, random_words) for q in questions])
        for preference in preferences:
            print(preference)
        assert not any(p.consistent for p in preferences)
        assert all(p.position_bias > 0.3 for p in preferences)


class TestPanel:
    def test_both_judges_call_the_order_status_reply_polite(self, judge):
        panel = judge.panel("Is the reply polite?", reply("Where is order 12345?"), models=PANEL)
        assert panel.confident_true(0.7)
        assert panel.agreement == 1

    @on_purpose("a panel of one small model agrees with itself: both call the rude reply polite")
    def test_the_rude_reply_is_not_called_polite(self, judge):
        panel = judge.panel("Is the reply polite?", reply("My order is late!"), models=PANEL)
        assert panel.confident_false(0.5)

    @pytest.mark.llm(panel=PANEL)
    def test_every_judge_call_of_a_marked_test_is_a_panel(self, judge):
        hours = reply("What are your opening hours?")
        assert judge("Does the reply say the shop is open on Sunday?", hours).confident_false(0.5)
