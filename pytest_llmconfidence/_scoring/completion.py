"""Checking the shape of a chat completion's JSON before reading it. Plain Python, cheap to import."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._errors import JudgeResponseError

__all__ = ["chat_choice", "kind_of"]


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
