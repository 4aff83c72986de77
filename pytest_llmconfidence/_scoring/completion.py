"""Reading an answer: a chat completion's JSON checked, its token positions, and the Verdict it gives.

Plain Python over JSON dicts (pydantic for the results): no pytest, openai or vcr."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._errors import JudgeResponseError, NoLogprobsError, no_logprobs_message
from .._text import shorten
from .confidence import (
    Position,
    find_verdict_position,
    normalize_token,
    positions_from_logprobs,
    score_alternatives,
)
from .results import Alternative, Usage, Verdict, as_dict, usage_counts

if TYPE_CHECKING:
    from .._settings import JudgeConfig

__all__ = ["chat_choice", "kind_of", "read_completion", "usage_of", "verdict_from_completion"]


def kind_of(value: Any) -> str:
    """What a JSON value is, as messages say it: ``null``, ``a str``, ``a dict``…"""
    return "null" if value is None else f"a {type(value).__name__}"


def chat_choice(choices: Any, index: int) -> tuple[Mapping[str, Any], Mapping[str, Any]] | None:
    """``choices[index]`` and its message; ``None`` when there is no such choice.

    A malformed part is a ``JudgeResponseError`` naming the field (``choices[0].message is a str…``).
    """
    if not isinstance(choices, (list, tuple)):
        raise JudgeResponseError(f"'choices' is {kind_of(choices)}, not a list")
    if len(choices) <= index:
        return None
    choice = choices[index]
    if not isinstance(choice, Mapping):
        raise JudgeResponseError(f"choices[{index}] is {kind_of(choice)}, not an object")
    message = choice.get("message") or {}
    if not isinstance(message, Mapping):
        raise JudgeResponseError(f"choices[{index}].message is {kind_of(message)}, not an object")
    content = message.get("content")
    if content is not None and not isinstance(content, str):
        raise JudgeResponseError(f"choices[{index}].message.content is {kind_of(content)}, not text")
    logprobs = choice.get("logprobs")
    if logprobs is not None and not isinstance(logprobs, Mapping):
        raise JudgeResponseError(f"choices[{index}].logprobs is {kind_of(logprobs)}, not an object")
    return choice, message


def read_completion(
    completion: Any, config: JudgeConfig, base_url: str
) -> tuple[dict[str, Any], str, Any, Mapping[str, Any], list[Position]]:
    """A chat completion checked and read: its JSON, model, finish reason, message and token positions."""
    __tracebackhide__ = True
    data = as_dict(completion, JudgeResponseError, f"the endpoint {base_url} did not send a chat completion")
    model = str(data.get("model") or config.model)
    error = data.get("error")
    if error and not data.get("choices"):  # a proxy's failure sent with status 200
        said = error.get("message") if isinstance(error, Mapping) else None
        raise JudgeResponseError(
            f"the endpoint {base_url} answered HTTP 200 with an error instead of a completion for model "
            f"{model!r}: {said if isinstance(said, str) and said else error!r}"
        )
    choice, message = first_choice(data, model, base_url)
    finish = choice.get("finish_reason")
    refusal = message.get("refusal")
    if refusal:
        raise JudgeResponseError(f"model {model!r} refused to judge: {refusal}")
    if finish == "content_filter":
        raise JudgeResponseError(
            f"model {model!r} stopped with finish_reason 'content_filter': the provider's content "
            "filter blocked the judge's answer; rephrase the question or judge with another model"
        )
    logprobs = choice.get("logprobs") or {}
    content = logprobs.get("content")
    calls = message.get("tool_calls") or message.get("function_call")
    if not content and calls and not (message.get("content") or "").strip():
        raise JudgeResponseError(
            f"model {model!r} answered with a {_tool_calls_text(calls)} instead of a word (finish_reason "
            f"{finish!r}); the judge sends no tools: a proxy or server default that adds tools, or forces "
            "a tool choice, must be turned off for the judge's requests"
        )
    if not content:
        text = message.get("content")
        if content is not None and not (text.strip() if isinstance(text, str) else text):
            raise JudgeResponseError(
                f"model {model!r} returned an empty answer (finish_reason {finish!r}); "
                "the judge expects one word, true or false"
            )
        raise NoLogprobsError(no_logprobs_message(model, base_url), model=model, base_url=base_url)
    try:
        positions = positions_from_logprobs(content)
    except JudgeResponseError as exc:
        raise JudgeResponseError(f"the endpoint {base_url} sent {exc} (model {model!r})") from None
    return data, model, finish, message, positions


def verdict_from_completion(
    completion: Any,
    *,
    question: str,
    config: JudgeConfig,
    response: str | None = None,
    context: str | None = None,
    base_url: str = "the endpoint",
    replayed: bool = False,
    latency_s: float = 0.0,
    expected: bool | None = None,
) -> Verdict:
    """The Verdict of a chat completion (a ``ChatCompletion`` or its JSON dict)."""
    __tracebackhide__ = True
    data, model, finish, message, positions = read_completion(completion, config, base_url)
    reasoning = None
    if config.reason:
        reasoning, positions = after_marker(positions, finish, model, message.get("content"))
    position = find_verdict_position(positions, config.true_labels, config.false_labels) or positions[0]
    labels = {normalize_token(label) for label in (*config.true_labels, *config.false_labels)}
    candidates = position.candidates()
    scores = score_alternatives(candidates, config.true_labels, config.false_labels)
    return Verdict(
        value=scores.value,
        confidence=scores.confidence,
        normalized=scores.normalized,
        p_true=scores.p_true,
        p_false=scores.p_false,
        coverage=scores.coverage,
        token=position.token,
        position=position.index,
        alternatives=tuple(
            Alternative(token=token, probability=math.exp(logprob), logprob=logprob)
            for token, logprob in candidates
        ),
        question=question,
        response=response,
        context=context,
        model=model,
        threshold=config.threshold,
        replayed=replayed,
        usage=usage_of(data.get("usage")),
        reasoning=reasoning,
        requested_model=config.model if _differs(config.model, model) else None,
        finish_reason=str(finish) if finish is not None else None,
        cut_off=finish == "length" and normalize_token(position.token) not in labels,
        latency_s=latency_s,
        expected=expected,
    )


def _tool_calls_text(calls: Any) -> str:
    """``tool call (lookup_order)``: what a tool-call answer called, as a message names it."""
    items = calls if isinstance(calls, list) else [calls]
    names = []
    for item in items:
        function = item.get("function", item) if isinstance(item, Mapping) else None
        name = function.get("name") if isinstance(function, Mapping) else None
        names.append(str(name) if name else "?")
    return f"tool call ({', '.join(names)})"


def first_choice(
    data: Mapping[str, Any], model: str, base_url: str
) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """``choices[0]`` and its message, or a ``JudgeResponseError`` saying what is malformed."""
    choices = data.get("choices")
    found = None
    if choices:
        try:
            found = chat_choice(choices, 0)
        except JudgeResponseError as exc:
            raise JudgeResponseError(
                f"the endpoint {base_url} sent a malformed chat completion for model {model!r}: {exc}"
            ) from None
    if found is None:
        raise JudgeResponseError(f"the endpoint {base_url} returned no choices for model {model!r}")
    return found


def after_marker(
    positions: list[Position], finish: Any, model: str, text: str | None
) -> tuple[str, list[Position]]:
    """A reasoning answer split at its last ``Verdict:`` line: the reasoning, and the positions after it."""
    joined = "".join(position.token for position in positions)
    found = list(re.finditer(r"verdict\s*:", joined, re.IGNORECASE))
    if not found:
        excerpt = shorten(text if text is not None else joined, 120)
        if finish == "length":
            raise JudgeResponseError(
                f"model {model!r} was cut off (finish_reason 'length') before its `Verdict: true|false` "
                f"line, after {len(positions)} tokens: raise max_tokens (judge(..., max_tokens=800) or the "
                f"llm marker). It wrote: {excerpt!r}"
            )
        raise JudgeResponseError(
            f"model {model!r} reasoned but did not end with a `Verdict: true` or `Verdict: false` line "
            f"(finish_reason {finish!r}); it wrote: {excerpt!r}. The model does not follow the format: "
            "judge with a larger model (--llm-model, or judge(..., model=...)), or without reason=True (the "
            "verdict is then its first word); a pytest_llmconfidence_build_messages hook must keep asking "
            "for that last line."
        )
    marker = found[-1]
    offset = 0
    after: list[Position] = []
    for position in positions:
        offset += len(position.token)
        if offset > marker.end():
            after.append(position)
    if not after:
        raise JudgeResponseError(
            f"model {model!r} was cut off right after `Verdict:` (finish_reason {finish!r}): raise max_tokens"
        )
    return joined[: marker.start()].strip(), after


def _differs(requested: str, served: str) -> bool:
    """Whether the server says it used another model than the one asked for (dated snapshots aside)."""
    return not (served == requested or served.startswith(f"{requested}-"))


def usage_of(usage: Any) -> Usage | None:
    """The token counts the endpoint reported; ``None`` when they do not parse (the verdict stands)."""
    if not isinstance(usage, Mapping):
        return None
    try:
        counts = {k: int(v or 0) for k, v in usage_counts(usage).items()}
    except (TypeError, ValueError, OverflowError):
        return None
    if any(count < 0 for count in counts.values()):
        return None
    return Usage(**counts)
