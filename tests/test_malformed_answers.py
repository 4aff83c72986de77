"""Malformed endpoint answers are the plugin's errors naming what was wrong, never a raw traceback."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from fake_openai import FakeOpenAI, Reply, completion, verdict

import pytest_llmconfidence
from pytest_llmconfidence import (
    JudgeResponseError,
    NoLogprobsError,
    response_confidence,
    verdict_from_completion,
)
from pytest_llmconfidence._settings import JudgeConfig


def _with_choice(**changes: Any) -> dict[str, Any]:
    body = verdict(0.9, 0.1)
    body["choices"][0].update(changes)
    return body


def _with_token(**changes: Any) -> dict[str, Any]:
    body = verdict(0.9, 0.1)
    body["choices"][0]["logprobs"]["content"][0].update(changes)
    return body


def _with_alternative(logprob: Any) -> dict[str, Any]:
    body = verdict(0.9, 0.1)
    body["choices"][0]["logprobs"]["content"][0]["top_logprobs"][0]["logprob"] = logprob
    return body


_SSE = b'data: {"id":"x","object":"chat.completion.chunk","choices":[{"delta":{"content":"true"}}]}\n\ndata: [DONE]\n\n'

MALFORMED = [
    pytest.param(Reply({}, raw=b'{"choices": [ '), "JudgeResponseError", "not JSON", id="invalid-json"),
    pytest.param(
        Reply({}, raw=b"<html><body>Sign in</body></html>", headers={"Content-Type": "text/html"}),
        "JudgeResponseError",
        "HTTP 200 with a body that is not JSON (starting '<html>",
        id="html-200",
    ),
    pytest.param(Reply({}, raw=b""), "JudgeResponseError", "an empty body", id="empty-200"),
    pytest.param(
        Reply({}, raw=_SSE, headers={"Content-Type": "text/event-stream"}),
        "JudgeResponseError",
        "streamed",
        id="sse",
    ),
    pytest.param(Reply({}, raw=b'{"model": "\xff\xfe"}'), "JudgeResponseError", "UTF-8", id="not-utf8"),
    pytest.param(Reply({}, raw=b"[1, 2]"), "JudgeResponseError", "not an object", id="json-list"),
    pytest.param(
        Reply({"model": "m", "choices": {"0": {}}}),
        "JudgeResponseError",
        "'choices' is a dict",
        id="choices-dict",
    ),
    pytest.param(
        Reply({"model": "m", "choices": "true"}),
        "JudgeResponseError",
        "'choices' is a str",
        id="choices-string",
    ),
    pytest.param(
        Reply({"model": "m", "choices": [None]}), "JudgeResponseError", "choices[0] is null", id="null"
    ),
    pytest.param(
        Reply(_with_choice(message="true")),
        "JudgeResponseError",
        "choices[0].message is a str",
        id="message-str",
    ),
    pytest.param(
        Reply(_with_choice(message={"role": "assistant", "content": ["true"]})),
        "JudgeResponseError",
        "message.content is a list",
        id="content-list",
    ),
    pytest.param(
        Reply(_with_choice(logprobs="lots")), "JudgeResponseError", "logprobs is a str", id="logprobs-str"
    ),
    pytest.param(
        Reply(_with_token(top_logprobs="true false")),
        "JudgeResponseError",
        "top_logprobs is a str, not a list",
        id="top-logprobs-str",
    ),
    pytest.param(
        Reply(_with_alternative("abc")),
        "JudgeResponseError",
        "top_logprobs[0].logprob is 'abc' (token 'true'), not a number",
        id="logprob-abc",
    ),
    pytest.param(
        Reply(_with_choice(logprobs=None)), "NoLogprobsError", "returned no logprobs", id="no-logprobs"
    ),
]


@pytest.mark.parametrize(("reply", "error", "fragment"), MALFORMED)
def test_malformed_answer_is_a_plugin_error_naming_what_was_wrong(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, reply: Reply, error: str, fragment: str
) -> None:
    """Each malformed answer fails the test with the plugin's error, the endpoint and what was wrong."""
    fake_openai.rule("malformed", reply)
    judged.makepyfile(
        """
        def test_it(judge):
            judge("Is the malformed answer right?", "reply")
        """
    )
    result = judged.runpytest()
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert f"pytest_llmconfidence.{error}: " in output
    assert fragment in output
    assert fake_openai.base_url.split("//")[1] in output
    errors = [line for line in result.stdout.lines if line.startswith("E ")]
    for raw in ("JSONDecodeError", "UnicodeDecodeError", "AttributeError", "KeyError", "OverflowError"):
        assert not any(raw in line for line in errors)


@pytest.mark.parametrize(
    ("logprob", "shown"),
    [(float("inf"), "inf"), (float("-inf"), "-inf"), (float("nan"), "nan"), (1e308, "1e+308"), (0.5, "0.5")],
    ids=["infinity", "minus-infinity", "nan", "1e308", "positive"],
)
def test_a_logprob_that_is_no_probability_fails_the_judged_test_naming_position_token_and_value(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, logprob: float, shown: str
) -> None:
    """NaN, ±Infinity or a positive logprob on the sampled 'true' is an error, never 'false 0.10'."""
    body = verdict(0.9, 0.1)
    body["choices"][0]["logprobs"]["content"][0]["logprob"] = logprob
    body["choices"][0]["logprobs"]["content"][0]["top_logprobs"][0]["logprob"] = logprob
    fake_openai.rule("odd", body)
    judged.makepyfile(
        """
        def test_it(judge):
            v = judge("Is the odd answer right?", "reply")
            assert v.confident_false(0.05), "read as a verdict"
        """
    )
    result = judged.runpytest("--llm-report=report.json")
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "pytest_llmconfidence.JudgeResponseError" in output
    assert f"logprobs.content[0].top_logprobs[0].logprob is {shown} (token 'true')" in output
    assert "read as a verdict" not in output

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in the JSON report")

    report = json.loads((judged.path / "report.json").read_text(), parse_constant=refuse)
    assert report["verdicts"] == []


@pytest.mark.parametrize(
    ("logprobs", "fragment"),
    [
        pytest.param(
            [("true", 0.0), ("false", -0.1), ("yes", -0.2)],
            "add up to a probability of 2.72",
            id="sum-2.7",
        ),
        pytest.param([("true", math.log(0.8)), ("false", math.log(0.8))], "of 1.60", id="sum-1.6"),
        pytest.param([("true", 2e-6), ("false", -5.0)], "is 2e-06 (token 'true')", id="beyond-rounding"),
    ],
)
def test_alternatives_that_are_no_distribution_are_an_error_not_a_verdict(
    logprobs: list[tuple[str, float]], fragment: str
) -> None:
    """Alternatives adding up to more than 1.01, or above 0 beyond rounding, are JudgeResponseError."""
    body = _completion_with(logprobs)
    with pytest.raises(JudgeResponseError, match=r"logprobs\.content\[0\]") as info:
        verdict_from_completion(body, question="q", config=JudgeConfig())
    assert fragment in str(info.value)
    assert "'true'" in str(info.value)


def test_rounding_and_a_distribution_that_adds_up_to_one_are_read() -> None:
    """A logprob of 1e-7 (rounding) reads as probability 1; 0.6 + 0.41 (1.01) is still a distribution."""
    v = verdict_from_completion(_completion_with([("true", 1e-7)]), question="q", config=JudgeConfig())
    assert v.value is True and v.confidence == 1.0
    body = _completion_with([("false", math.log(0.6)), ("true", math.log(0.41))])
    v = verdict_from_completion(body, question="q", config=JudgeConfig())
    assert v.value is False and v.confidence == pytest.approx(0.6 / 1.01)  # rounding, scaled back to 1


@pytest.mark.parametrize("token", [True, False, 1, 0.5], ids=["true", "false", "one", "half"])
def test_a_token_sent_as_a_json_boolean_or_number_is_an_error(token: Any) -> None:
    """{"token": true} is not the label 'true': a token is text, anything else is JudgeResponseError."""
    body = _completion_with([("true", -0.1), ("false", -2.5)])
    body["choices"][0]["logprobs"]["content"][0]["token"] = token
    body["choices"][0]["logprobs"]["content"][0]["top_logprobs"][0]["token"] = token
    with pytest.raises(JudgeResponseError, match="not text") as info:
        verdict_from_completion(body, question="q", config=JudgeConfig())
    assert f"token is {token!r}" in str(info.value)


def test_a_token_sent_only_as_bytes_is_decoded_from_them() -> None:
    """A token with no text but its UTF-8 bytes is read from the bytes, not left undecided."""
    body = _completion_with([("true", math.log(0.8)), ("false", math.log(0.15))])
    for entry in (
        body["choices"][0]["logprobs"]["content"][0],
        *body["choices"][0]["logprobs"]["content"][0]["top_logprobs"],
    ):
        entry["bytes"] = list(entry.pop("token").encode())
    v = verdict_from_completion(body, question="q", config=JudgeConfig())
    assert (v.value, v.token, round(v.confidence, 2)) == (True, "true", 0.8)
    entry = body["choices"][0]["logprobs"]["content"][0]
    entry["bytes"] = [300]
    with pytest.raises(JudgeResponseError, match="byte values"):
        verdict_from_completion(body, question="q", config=JudgeConfig())


def _completion_with(logprobs: list[tuple[str, float]]) -> dict[str, Any]:
    """A chat completion whose one position samples the first token, with these alternatives."""
    top = [{"token": token, "logprob": logprob} for token, logprob in logprobs]
    entry = {"token": logprobs[0][0], "logprob": logprobs[0][1], "top_logprobs": top}
    return {
        "model": "m",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": logprobs[0][0]},
                "logprobs": {"content": [entry]},
            }
        ],
    }


def test_usage_that_does_not_parse_is_dropped_not_the_verdict(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """usage.prompt_tokens "ten" leaves the verdict standing, without usage."""
    fake_openai.rule("usage", completion([("true", 0.93), ("false", 0.05)], usage={"prompt_tokens": "ten"}))  # type: ignore[dict-item]
    judged.makepyfile(
        """
        import pytest
        def test_it(judge):
            v = judge("Is the usage answer right?", "reply")
            assert v.value is True and v.confidence == pytest.approx(0.93)
            assert v.usage is None
        """
    )
    judged.runpytest().assert_outcomes(passed=1)


_GOOD = verdict(0.9, 0.1)


def _dict(**changes: Any) -> dict[str, Any]:
    return {**json.loads(json.dumps(_GOOD)), **changes}


@pytest.mark.parametrize(
    ("completion_dict", "fragment"),
    [
        pytest.param(_dict(choices={"a": 1}), "'choices' is a dict", id="choices-dict"),
        pytest.param(_dict(choices="x"), "'choices' is a str", id="choices-str"),
        pytest.param(_dict(choices=[None]), "choices[0] is null", id="choice-null"),
        pytest.param(_dict(choices=[{"logprobs": "x"}]), "logprobs is a str", id="logprobs-str"),
        pytest.param(_dict(choices=[{"logprobs": {"content": "x"}}]), "content is a str", id="content-str"),
        pytest.param(_dict(choices=[{"logprobs": {"content": [1]}}]), "content[0] is a int", id="entry-int"),
        pytest.param(_with_token(top_logprobs="x"), "top_logprobs is a str", id="top-str"),
        pytest.param(_with_alternative("abc"), "is 'abc' (token 'true'), not a number", id="logprob-abc"),
        pytest.param(_with_alternative([1]), "not a number", id="logprob-list"),
        pytest.param(_with_choice(message="x"), "message is a str", id="message-str"),
        pytest.param({"output": "x"}, "'output' is a str", id="output-str"),
        pytest.param(
            {"output": [{"type": "message", "content": [{"type": "output_text", "logprobs": 3}]}]},
            "logprobs is a int",
            id="responses-logprobs-int",
        ),
    ],
)
def test_response_confidence_raises_the_plugins_error_on_malformed_dicts(
    completion_dict: dict[str, Any], fragment: str
) -> None:
    """response_confidence() on a malformed dict raises JudgeResponseError naming the field."""
    with pytest.raises(JudgeResponseError, match="malformed") as info:
        response_confidence(completion_dict)
    assert fragment in str(info.value)
    assert isinstance(info.value, pytest_llmconfidence.LLMConfidenceError)


def test_response_confidence_without_logprobs_stays_a_no_logprobs_error() -> None:
    """A well-formed completion without logprobs is still NoLogprobsError."""
    with pytest.raises(NoLogprobsError):
        response_confidence(_with_choice(logprobs=None))
