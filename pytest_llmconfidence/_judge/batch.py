"""Many judge requests at once: items checked, identical requests kept in order, results in input order."""

from __future__ import annotations

import contextvars
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from .request import Call

_T = TypeVar("_T")

__all__ = ["BATCH_KEYS", "batch_item", "check_concurrency", "run_many", "send_calls"]

BATCH_KEYS = ("question", "response", "context", "expected")
"""The keyword arguments an item of a batch may give (a choice takes the first three)."""


def run_many(
    send: Callable[[dict[str, Any]], tuple[Any, bool, float]],
    items: Iterable[Any],
    concurrency: int,
    where: str,
    keys: tuple[str, ...],
    make: Callable[..., Call[_T]],
) -> list[_T]:
    """Many requests at once (``many``, ``score_many``, ``choose_many``), each sent by ``send``.

    Every item is checked and its request built (``make`` of the item's arguments) before anything is
    sent. At most ``concurrency`` requests are in flight; identical requests are sent one after another
    in input order (a cassette replays identical requests in the order it recorded them). Results are
    finished (recorded) on this thread in input order; the first failure, in input order, is raised.
    """
    __tracebackhide__ = True
    check_items(items, where)
    check_concurrency(concurrency)
    calls = [make(**batch_item(item, where, keys)) for item in items]
    return send_calls(send, calls, concurrency)


def check_items(items: Any, where: str) -> None:
    """A batch's items are a list (any iterable) of them: a string or a dict is one item spelled out, and
    iterating it would send one request per character or key."""
    if isinstance(items, (str, bytes, bytearray, Mapping)) or not isinstance(items, Iterable):
        shown = repr(items) if len(repr(items)) <= 60 else repr(items)[:57] + "..."
        raise TypeError(
            f"{where} takes a list of items (questions, (question, response) pairs or dicts), "
            f"got {type(items).__name__} {shown}: wrap a single item in a list, [...]"
        )


def check_concurrency(concurrency: Any) -> None:
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be a whole number >= 1, got {concurrency!r}")


def send_calls(
    send: Callable[[dict[str, Any]], tuple[Any, bool, float]], calls: Sequence[Call[_T]], concurrency: int
) -> list[_T]:
    """Send built requests at once, at most ``concurrency`` in flight, identical ones one after another in
    order; finish them on this thread in order, and raise the first failure in order."""
    __tracebackhide__ = True
    check_concurrency(concurrency)
    groups: dict[str, list[int]] = {}
    for index, call in enumerate(calls):
        groups.setdefault(json.dumps(call.params, sort_keys=True, default=str), []).append(index)
    sent: list[tuple[Any, bool, float] | None] = [None] * len(calls)
    errors: list[BaseException | None] = [None] * len(calls)

    def run(indices: list[int]) -> None:
        for index in indices:
            try:
                sent[index] = send(calls[index].params)
            except Exception as exc:
                errors[index] = exc
                return

    if groups:
        with ThreadPoolExecutor(min(concurrency, len(groups)), "llmconfidence-judge") as pool:
            for indices in groups.values():
                pool.submit(contextvars.copy_context().run, run, indices)
    results = []
    for index, call in enumerate(calls):
        found = sent[index]
        if found is None:
            raise errors[index] or next(exc for exc in errors if exc is not None)
        results.append(call.finish(*found))
    return results


def batch_item(item: Any, where: str, keys: tuple[str, ...]) -> dict[str, Any]:
    """One item of a batch (``many``, ``score_many``, ``choose_many``) as keyword arguments named ``keys``."""
    if isinstance(item, str):
        return {key: item if key == "question" else None for key in keys}
    if isinstance(item, Mapping):
        unknown = sorted(set(item) - set(keys))
        if unknown or "question" not in item:
            raise TypeError(
                f"{where} items as dicts need 'question' and may have {', '.join(keys[1:])}; "
                f"got {sorted(item)}"
            )
        return {key: item.get(key) for key in keys}
    if isinstance(item, (tuple, list)) and 1 <= len(item) <= 3:
        values = [*item, None, None, None][: len(keys)]
        return dict(zip(keys, values, strict=True))
    raise TypeError(
        f"{where} takes questions, (question, response[, context]) tuples or dicts of "
        f"{where.replace('_many', '').replace('.many', '')} arguments; got {item!r}"
    )
