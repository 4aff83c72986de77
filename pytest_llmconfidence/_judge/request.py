"""A judge request: its inputs checked and its body built, in one place for every kind of call."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

_T = TypeVar("_T")

__all__ = ["Call", "chat_request", "check_inputs", "option_names", "panel_models", "scale_items"]


def chat_request(
    model: str, messages: Any, *, top_logprobs: int, max_tokens: int | None = None, **extra: Any
) -> dict[str, Any]:
    """The body of ``chat.completions.create`` for a judge: greedy (``temperature=0``), with logprobs.

    Every judge request (verdicts, scores, choices, ``ask``) is built here; ``extra`` adds or overrides
    fields (``ask`` passes the caller's own).
    """
    body: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "temperature": 0,
        "logprobs": True,
        "top_logprobs": top_logprobs,
    }
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    body.update(extra)
    return body


@dataclass(frozen=True)
class Call(Generic[_T]):
    """One judge request, checked and built: the body to send, and how its completion becomes the result.

    ``finish(completion, replayed, latency_s)`` reads the completion and records the result; the sync,
    async and batch paths only differ in how they send ``params``.
    """

    params: dict[str, Any]
    finish: Callable[[Any, bool, float], _T]


def check_inputs(question: str, response: str | None, context: str | None) -> None:
    """The arguments every judge call shares, checked."""
    __tracebackhide__ = True
    if not isinstance(question, str) or not question.strip():
        raise TypeError(f"judge() needs the question as a non-empty string, got {question!r}")
    for name, value in (("response", response), ("context", context)):
        if value is not None and not isinstance(value, str):
            raise TypeError(f"judge() needs {name} as a string or None, got {type(value).__name__}")


def scale_items(scale: Sequence[Any]) -> dict[str, int | str]:
    """A score's scale, checked (at least two distinct labels): each label the model is asked for, and
    the item it stands for in ``Score`` (an integer of the scale stays an integer; anything else is its
    label)."""
    items = tuple(scale) if not isinstance(scale, str) else ()
    labels = tuple(str(item) for item in items)
    if len(labels) < 2 or len(set(labels)) != len(labels):
        raise ValueError(f"judge.score() needs a scale of at least two distinct labels, got {scale!r}")
    return {
        label: item if isinstance(item, int) and not isinstance(item, bool) else label
        for label, item in zip(labels, items, strict=True)
    }


def option_names(options: Sequence[str]) -> tuple[str, ...]:
    """A choice's options, checked: at least two distinct strings."""
    names = tuple(options) if not isinstance(options, str) else ()
    if len(names) < 2 or len(set(names)) != len(names) or not all(isinstance(o, str) for o in names):
        raise ValueError(f"judge.choose() needs at least two distinct options as strings, got {options!r}")
    blank = [name for name in names if not name.strip()]
    if blank:
        raise ValueError(f"judge.choose() needs options that are not blank, got {options!r}")
    return names


def panel_models(models: Any) -> tuple[str, ...]:
    """A panel's models, checked: at least two distinct model names."""
    from .._settings import MARKER_FIELDS, ConfigValueError

    try:
        names: tuple[str, ...] = MARKER_FIELDS["panel"](models)
    except ConfigValueError as exc:
        raise ValueError(f"judge.panel(models=...): {str(exc).removeprefix('panel: ')}") from None
    if not names:
        raise ValueError(f"judge.panel() needs at least two distinct models, got {models!r}")
    return names
