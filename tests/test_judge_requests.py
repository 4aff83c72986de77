"""What the judge's requests carry: deterministic sampling, SDK options as options, no private marker."""

from __future__ import annotations

from typing import Any

import pytest
from fake_openai import FakeOpenAI, Reply, completion

from pytest_llmconfidence import Judge, JudgeConfig, JudgeHooks, Transport
from pytest_llmconfidence._scoring.graded import graded_messages
from pytest_llmconfidence._scoring.pairwise import pairwise_messages
from pytest_llmconfidence._scoring.prompts import default_messages


def test_ask_samples_at_temperature_zero_unless_told(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """judge.ask sends temperature 0, so a recording does not depend on sampling; temperature= wins."""
    fake_openai.rule("Name", completion([("Paris", 0.9)]))
    judged.makepyfile(
        """
        def test_it(judge):
            judge.ask("Name a city.")
            judge.ask("Name a town.", temperature=0.7)
        """
    )
    judged.runpytest().assert_outcomes(passed=1)
    first, second = fake_openai.requests
    assert first.body["temperature"] == 0
    assert second.body["temperature"] == 0.7


def test_ask_passes_sdk_request_options_to_the_client_not_into_the_body(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """timeout=, extra_headers= and extra_body= act as in the SDK: a header, body fields, a client timeout."""
    fake_openai.rule("Name", completion([("Paris", 0.9)]))
    judged.makepyfile(
        """
        def test_it(judge):
            judge.ask(
                "Name a city.",
                timeout=30,
                extra_headers={"X-Trace": "abc"},
                extra_body={"seed": 7},
                max_tokens=3,
            )
        """
    )
    judged.runpytest().assert_outcomes(passed=1)
    (request,) = fake_openai.requests
    assert request.headers["x-trace"] == "abc"
    assert request.body["seed"] == 7
    assert request.body["max_tokens"] == 3
    for name in ("timeout", "extra_headers", "extra_body"):
        assert name not in request.body


def test_ask_timeout_is_the_clients_timeout(judged: pytest.Pytester, fake_openai: FakeOpenAI) -> None:
    """A timeout= shorter than the server's delay fails the call as a timeout, not as a body field."""
    fake_openai.rule("slow", Reply(completion([("Paris", 0.9)]), delay_s=1.5))
    judged.makepyfile(
        """
        import pytest
        from pytest_llmconfidence import LLMConfidenceError
        def test_it(judge):
            with pytest.raises(LLMConfidenceError, match="could not reach"):
                judge.ask("A slow city.", timeout=0.2, max_retries=0)
        """
    )
    # max_retries is no SDK request option of create(): keep it out of this test's way
    (judged.path / "test_ask_timeout_is_the_clients_timeout.py").write_text(
        (judged.path / "test_ask_timeout_is_the_clients_timeout.py")
        .read_text()
        .replace(", max_retries=0", "")
    )
    judged.runpytest("--llm-record-mode=all").assert_outcomes(passed=1)


@pytest.mark.parametrize("scope", ["test", "judge"])
def test_no_private_marker_header_reaches_the_endpoint(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, scope: str
) -> None:
    """The judge's requests carry no x-llmconfidence-* header, whatever the record scope."""
    judged.makeini(
        f"""
        [pytest]
        llm_base_url = {fake_openai.base_url}
        llm_model = fake-judge
        llm_record_scope = {scope}
        """
    )
    judged.makepyfile(
        """
        def test_it(judge):
            judge("Is it polite?", "Thanks!")
            judge.ask("Name a city.")
        """
    )
    judged.runpytest("--llm-record-mode=once").assert_outcomes(passed=1)
    assert len(fake_openai.requests) == 2
    for request in fake_openai.requests:
        assert not [name for name in request.headers if name.startswith("x-llmconfidence")]
    cassettes = list((judged.path / "cassettes").rglob("*.yaml"))
    assert len(cassettes) == 1 and cassettes[0].read_text().count("Is it polite?") == 1


def test_a_server_answering_as_another_model_is_a_warning_not_a_failure(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """The summary warns when the server's model differs from the one asked for; the test still passes."""
    fake_openai.rule("polite", Reply(completion([("true", 0.95)], model="llama-3-8b"), keep_model=True))
    judged.makepyfile(
        """
        def test_it(judge):
            v = judge("Is it polite?", "Thanks!", model="gpt-4o-mini")
            assert v.model == "llama-3-8b" and v.requested_model == "gpt-4o-mini"
            assert v.confident_true(0.9)
        """
    )
    result = judged.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["*warning: 1 verdict asked for model 'gpt-4o-mini' but the server answered as 'llama-3-8b'*alias*"]
    )


def test_a_dated_snapshot_of_the_requested_model_is_no_mismatch(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """gpt-4o-mini answered as gpt-4o-mini-2024-07-18 is the same model: no warning."""
    fake_openai.rule(
        "polite", Reply(completion([("true", 0.95)], model="gpt-4o-mini-2024-07-18"), keep_model=True)
    )
    judged.makepyfile(
        """
        def test_it(judge):
            assert judge("Is it polite?", "Thanks!", model="gpt-4o-mini").requested_model is None
        """
    )
    result = judged.runpytest()
    result.assert_outcomes(passed=1)
    assert "asked for model" not in result.stdout.str()


def test_an_answer_cut_off_before_its_label_says_to_raise_max_tokens(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """finish_reason length at a non-label token: the failure and the llm verdicts section say so."""
    fake_openai.rule(
        "cut", completion([('{"', 0.9)], [("verdict", 0.99)], [('":', 0.99)], finish_reason="length")
    )
    judged.makepyfile(
        """
        def test_it(judge):
            v = judge("Is the cut answer right?", "reply", max_tokens=3)
            assert v.cut_off
            assert v.confident_true()
        """
    )
    result = judged.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*confident_true failed: undecided*answer cut off (finish_reason length) before a label: "
            "raise max_tokens;*",
            "*note:*cut off*raise max_tokens*",
        ]
    )


def test_a_judge_outside_pytest_sends_the_default_prompts_and_a_hooks_subclass_replaces_them(
    fake_openai: FakeOpenAI,
) -> None:
    """JudgeHooks' build methods give the plugin's default prompts; a subclass overriding one changes that
    kind of request only."""
    from openai import OpenAI

    fake_openai.rule("Which", completion([("A", 0.8), ("B", 0.2)]))
    fake_openai.rule("How", completion([("4", 0.8)]))
    client = OpenAI(api_key="sk-test", base_url=fake_openai.base_url, max_retries=0)
    config = JudgeConfig(model="fake-judge", base_url=fake_openai.base_url)

    def ask_all(hooks: JudgeHooks | None) -> list[Any]:
        fake_openai.requests.clear()
        judge = Judge(config, Transport(client), hooks=hooks)
        judge("Is it kind?", "Thanks!")
        judge.score("How good?", "Fine.", scale=(1, 5))
        judge.choose("Which team?", "Refund.", options=["billing", "shipping"])
        judge.compare("Which is better?", "x", "y")
        return [request.body["messages"] for request in fake_openai.requests]

    sent = ask_all(None)
    assert sent[:3] == [
        default_messages("Is it kind?", "Thanks!", None),
        graded_messages("How good?", "Fine.", None, ["1", "5"], ["1", "5"]),
        graded_messages("Which team?", "Refund.", None, ["billing", "shipping"], ["billing", "shipping"]),
    ]
    both_orders = [pairwise_messages("Which is better?", *shown, None) for shown in (("x", "y"), ("y", "x"))]
    assert sent[3:] in (both_orders, both_orders[::-1])  # the two orders are sent at once

    class Harsh(JudgeHooks):
        def build_graded_messages(self, kind: str, *args: Any) -> list[dict[str, str]]:
            return [{"role": "user", "content": f"Grade the {kind} harshly."}]

    sent = ask_all(Harsh())
    assert sent[1:3] == [
        [{"role": "user", "content": "Grade the score harshly."}],
        [{"role": "user", "content": "Grade the choice harshly."}],
    ]
    assert sent[0] == default_messages("Is it kind?", "Thanks!", None)
