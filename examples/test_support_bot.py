"""The Acme Shoes support bot, judged for policy, tone and facts by a confident LLM judge.

The verdicts replay from the cassettes in cassettes/examples/ (recorded against SmolLM2-135M-Instruct,
see examples/README.md). The tests marked ``@on_purpose`` fail on purpose, to show what a failed check
looks like; their failure messages are printed at the end of the run.
"""

from __future__ import annotations

import pytest
from on_purpose import on_purpose
from support_bot import POLICY, reply

# SmolLM2-135M is a judge small enough for a CPU in CI. It spreads its probability over many
# first tokens ("True", "False", "The", "I", ...), so its verdicts rarely reach 0.4: this suite
# asks for 0.3. With a large judge (gpt-4.1-mini) keep the default of 0.9.
pytestmark = pytest.mark.llm(model="smollm2-135m-instruct", threshold=0.3)


class TestPolicy:
    def test_returns_within_30_days_are_accepted(self, judge):
        answer = reply("Can I return my shoes after 10 days?")
        assert judge("Does the reply say the shoes can be returned?", answer).confident_true()

    @on_purpose("the right verdict, but below the threshold")
    def test_late_returns_are_refused_citing_the_window(self, judge):
        answer = reply("Can I return shoes after 40 days?")
        verdict = judge("Does the reply refuse the return, citing the 30-day return window?", answer)
        assert verdict.confident_true()

    def test_password_is_never_asked_for(self, judge):
        answer = reply("I forgot my password and cannot log in.")
        assert judge("Does the reply ask for the customer's password?", answer).confident_false()

    @on_purpose("the bot breaks the policy, and the judge sees it")
    def test_card_number_is_never_asked_for(self, judge):
        answer = reply("My card was charged twice for one order.")
        assert judge("Does the reply ask for the full card number?", answer).confident_false()


class TestTone:
    def test_order_status_is_polite(self, judge):
        answer = reply("Where is order 12345?")
        assert judge("Is the reply polite?", answer).confident_true()

    @on_purpose("the bot is rude, and the judge sees it")
    def test_complaints_get_no_rude_reply(self, judge):
        answer = reply("My order is late and nobody answers my emails!")
        assert judge("Is the reply rude?", answer).confident_false()


class TestFacts:
    def test_opening_hours_follow_the_policy(self, judge):
        answer = reply("When are you open?")
        assert judge("Is the reply consistent with the policy?", answer, context=POLICY).confident_true()

    def test_shop_is_closed_on_sunday(self, judge):
        answer = reply("What are your opening hours?")
        assert judge("Is the shop open on Sunday?", answer).confident_false()

    @on_purpose("the bot promises what the policy does not, and the judge sees it")
    def test_shipping_is_not_promised_free_on_every_order(self, judge):
        answer = reply("How much is shipping?")
        assert judge("Does the reply say that shipping is always free?", answer).confident_false()

    def test_order_status_names_the_order(self, judge):
        answer = reply("Where is order 12345?")
        assert judge("Does the reply mention order 12345?", answer).confident_true()

    # Some endpoints return only the chosen token's logprob; top_logprobs=1 shows what happens then:
    # this model opens its answer with "The", no verdict word is in sight, and the verdict is
    # undecided. An undecided verdict fails every check instead of guessing.
    @pytest.mark.llm(top_logprobs=1)
    @on_purpose("an undecided verdict fails every check")
    def test_off_topic_questions_are_not_answered_with_guesses(self, judge):
        answer = reply("Do you sell socks?")
        assert judge("Is the customer's question answered?", answer).confident_false()
