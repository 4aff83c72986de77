"""Which test a result made now belongs to: the test whose call phase runs on this thread (or task).

``response_confidence()`` records through ``record`` without knowing the plugin. A module of its own,
loaded with every test: the test's records (``records.TestRecords``) are made only when a result is
recorded, so a test that records nothing loads none of them. Pure: knows nothing of pytest.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

__all__ = ["current", "record", "running"]

_CURRENT: ContextVar[Callable[[], Any] | None] = ContextVar("llmconfidence_current_test", default=None)


def current() -> Any:
    """The records (``TestRecords``) of the test whose call runs here, or None outside a test."""
    records = _CURRENT.get()
    return None if records is None else records()


def record(result: Any) -> bool:
    """Record ``result`` for the running test; False (and nothing kept) outside a test."""
    records = current()
    if records is None:
        return False
    records.add(result)
    return True


@contextlib.contextmanager
def running(records: Callable[[], Any]) -> Iterator[None]:
    """While the block runs, results belong to the records ``records()`` makes (or finds) for the test
    (threads started inside copy it)."""
    token = _CURRENT.set(records)
    try:
        yield
    finally:
        _CURRENT.reset(token)
