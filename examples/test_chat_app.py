"""The app's own model calls, watched: how sure was the model of what it answered?

Run with ``--llm-watch``: every chat completion the app receives during a test is scored by its
whole-response confidence and listed in the ``llm_responses`` fixture (and in the reports). Low
confidence across a whole answer can mean the model has a poor grasp of what it is being asked.
"""

from __future__ import annotations

from chat_app import chat
from on_purpose import on_purpose

GREETER = "you are to greet the user"
RANDOM_WORDS = "every response must be random words"
PROMPTS = [GREETER, RANDOM_WORDS, "every response must be random words, nothing else"]


class TestPromptSanity:
    def test_the_greeting_prompt_is_understood(self, llm_responses):
        chat(GREETER, "hello")
        assert llm_responses[-1].at_least(0.45)

    @on_purpose("a prompt the model cannot follow shows as low confidence")
    def test_a_random_words_prompt_is_understood(self, llm_responses):
        chat(RANDOM_WORDS, "hello")
        assert llm_responses[-1].at_least(0.45)


class TestCompareResponses:
    def test_the_clearest_prompt_gets_the_surest_answer(self, llm_responses):
        for prompt in PROMPTS:
            chat(prompt, "hello")
        ranked = sorted(
            zip(PROMPTS, llm_responses, strict=True), key=lambda pair: pair[1].geometric_mean, reverse=True
        )
        for prompt, scored in ranked:
            print(f"{scored.geometric_mean:.2f}  {prompt!r} -> {scored.text!r}")
        assert ranked[0][0] == GREETER

    def test_answers_without_logprobs_are_counted_not_scored(self, llm_responses):
        chat(GREETER, "hello", logprobs=False)
        assert llm_responses == []
