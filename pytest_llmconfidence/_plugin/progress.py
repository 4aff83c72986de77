"""A line in the terminal while a live judge call is slow to answer (``-v`` only).

``Progress.waiting`` wraps one live call: a timer announces it once it has waited ``delay`` seconds, and
is cancelled and joined when the call returns, so no thread outlives the call. Knows nothing of pytest:
``terminal_writer`` builds the writer from the pytest objects it is given.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["Progress", "terminal_writer"]


class Progress:
    """Announces, through ``write``, each live call that waits longer than ``delay`` seconds.

    The line ends ``...`` while the call waits, and `` answered in N s`` when it returns (if nothing
    else was announced meanwhile). Calls waiting at once for the same model and endpoint
    (``judge.many``) share one line. ``write`` is given text, newlines included, one piece at a time.
    """

    def __init__(self, write: Callable[[str], None], delay: float) -> None:
        self.write = write
        self.delay = delay
        self._lock = threading.Lock()
        self._waiting: dict[str, tuple[int, float]] = {}
        """Announced waits in flight: their count and when the first of them started."""
        self._open: str | None = None
        """The wait whose line is the terminal's current one, still open for its answer."""
        self._last_test: str | None = None

    @contextlib.contextmanager
    def waiting(self, model: str, where: str, *, nodeid: str = "") -> Iterator[None]:
        """While the body runs (one live call), print a line once it has taken ``delay`` seconds."""
        what = f"{model} at {where.rstrip('/')}"
        start = time.monotonic()
        announced = threading.Event()
        timer = threading.Timer(self.delay, self._announce, (what, nodeid, start, announced))
        timer.name = "llmconfidence-progress"
        timer.daemon = True
        timer.start()
        answered = False
        try:
            yield
            answered = True
        finally:
            timer.cancel()
            timer.join()
            if announced.is_set():
                self._done(what, answered)

    def _announce(self, what: str, nodeid: str, start: float, announced: threading.Event) -> None:
        with self._lock:
            announced.set()
            count, first = self._waiting.get(what, (0, start))
            self._waiting[what] = (count + 1, first)
            if count:
                return
            # The first line of a test starts below pytest's "test_x.py::test_y " of -v.
            lead = "\n" if self._open is not None or nodeid != self._last_test else ""
            test = f"{nodeid}, " if nodeid else ""
            self.write(f"{lead}llm: waiting for {what} ({test}{time.monotonic() - start:.1f} s)...")
            self._open, self._last_test = what, nodeid

    def _done(self, what: str, answered: bool) -> None:
        with self._lock:
            count, first = self._waiting.pop(what)
            if count > 1:
                self._waiting[what] = (count - 1, first)
            elif self._open == what:
                self._open = None
                took = f" answered in {time.monotonic() - first:.1f} s" if answered else ""
                self.write(f"{took}\n")


def terminal_writer(reporter: Any, capture: Any = None) -> Callable[[str], None]:
    """A writer to pytest's terminal reporter, with output capturing paused meanwhile.

    A test's output is captured while it runs (its judge calls included): ``capture`` is pytest's
    capture manager, whose ``global_and_fixture_disabled`` lets the text reach the terminal.
    """

    def write(text: str) -> None:
        paused = capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext()
        with paused:
            reporter.write(text, flush=True)

    return write
