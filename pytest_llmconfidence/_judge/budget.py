"""The run's budget for live judge calls (``--llm-max-cost``): a ledger shared by every xdist worker.

Before a live call, ``Budget.reserve`` adds what the run has spent, what calls in flight may cost and what
this call may cost at most; when that would pass the limit the call is refused (``BudgetExceededError``).
After the call, ``settle`` replaces the reservation with what the call cost. The ledger is a small JSON file
updated under an exclusive lock (``fcntl.flock``; ``msvcrt.locking`` on Windows), so workers sharing it never
overshoot by more than the error of their estimates; with no file it lives in memory. Knows nothing of pytest.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .._errors import BudgetExceededError

__all__ = ["Budget", "Ticket", "estimate_cost"]

CHARS_PER_TOKEN = 4
"""How many characters of a prompt make a token, for the estimate of a call before it is sent."""


def estimate_cost(price: Any, params: Mapping[str, Any]) -> float:
    """The most a request may cost: its messages at about four characters a token at the input price, and
    its ``max_tokens`` (or ``max_completion_tokens``) at the output price."""
    text = json.dumps(params.get("messages"), ensure_ascii=False, default=str)
    prompt = len(text) // CHARS_PER_TOKEN + 1
    limit = params.get("max_completion_tokens") or params.get("max_tokens") or 0
    output = int(limit) if isinstance(limit, int | float) and not isinstance(limit, bool) else 0
    return float(price.cost(prompt, output, 0))


class Ticket:
    """One live call's reservation: settled with what the call cost, or released when it failed."""

    __slots__ = ("budget", "estimate")

    def __init__(self, budget: Budget, estimate: float) -> None:
        self.budget, self.estimate = budget, estimate

    def settle(self, cost: float | None) -> None:
        """The call was answered: ``cost`` dollars spent (the estimate when its usage did not parse)."""
        self.budget._update(spent=self.estimate if cost is None else cost, reserved=-self.estimate)

    def release(self) -> None:
        """The call failed before it was answered: nothing spent."""
        self.budget._update(spent=0.0, reserved=-self.estimate)


class Budget:
    """``limit`` dollars for the run's live judge calls, priced by ``prices`` (a ``PriceTable``).

    ``path`` is the ledger file every process of the run shares (the plugin puts it in the run's temporary
    folder and hands it to the xdist workers); None keeps the ledger in this process.
    """

    def __init__(self, limit: float, prices: Any, path: Path | None = None) -> None:
        self.limit = limit
        self.prices = prices
        self.path = path
        self._lock = threading.Lock()
        self._memory = {"spent": 0.0, "reserved": 0.0, "refused": 0}

    def reserve(self, params: Mapping[str, Any]) -> Ticket | None:
        """Reserve what the request in ``params`` may cost, or raise ``BudgetExceededError`` when the run's
        live spending would pass the limit; None for a model without a price (it cannot be held to one)."""
        __tracebackhide__ = True
        price = self.prices.price(str(params.get("model")))
        if price is None:
            return None
        estimate = estimate_cost(price, params)
        with self._ledger() as ledger:
            if ledger["spent"] + ledger["reserved"] + estimate > self.limit + 1e-12:
                ledger["refused"] += 1
                spent, in_flight = ledger["spent"], ledger["reserved"]
            else:
                ledger["reserved"] += estimate
                return Ticket(self, estimate)
        raise BudgetExceededError(self._refusal(spent, in_flight, estimate), limit=self.limit, spent=spent)

    def spent(self) -> tuple[float, int]:
        """Dollars the run has spent live so far, and how many calls the budget refused."""
        with self._ledger() as ledger:
            return ledger["spent"], int(ledger["refused"])

    def _refusal(self, spent: float, in_flight: float, estimate: float) -> str:
        from .._report.cost import dollars

        flight = f" (and {dollars(in_flight)} for calls in flight)" if in_flight > 0 else ""
        raise_to = max(self.limit * 2, spent + estimate)
        return (
            f"the live judge calls of this run would pass llm_max_cost {dollars(self.limit)}: "
            f"{dollars(spent)} spent{flight}, this call may cost up to {dollars(estimate)}. Raise the budget "
            f"(--llm-max-cost={raise_to:.2f} or llm_max_cost in the ini), or replay what is recorded "
            "(--llm-record-mode=none)."
        )

    def _update(self, *, spent: float, reserved: float) -> None:
        with self._ledger() as ledger:
            ledger["spent"] += spent
            ledger["reserved"] = max(0.0, ledger["reserved"] + reserved)

    @contextlib.contextmanager
    def _ledger(self) -> Iterator[dict[str, Any]]:
        """The ledger, read and written back under the lock (the file's, when shared)."""
        with self._lock:
            if self.path is None:
                yield self._memory
                return
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                _lock(fd)
                with os.fdopen(os.dup(fd), "r+", encoding="utf-8") as handle:
                    text = handle.read()
                    ledger = {**self._memory, **(json.loads(text) if text.strip() else {})}
                    yield ledger
                    handle.seek(0)
                    handle.truncate()
                    handle.write(json.dumps(ledger))
                    handle.flush()
            finally:
                os.close(fd)  # closing the descriptor releases the lock


def _lock(fd: int) -> None:
    """An exclusive lock on the open file ``fd``, waiting for it."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_LOCK, 1)  # type: ignore[attr-defined]
        return
    fcntl.flock(fd, fcntl.LOCK_EX)
