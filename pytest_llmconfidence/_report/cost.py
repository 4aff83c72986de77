"""What the judge's calls cost in dollars: the price table, the cost of one call, and the run's totals. Pure.

A price is dollars per million tokens: input, cached input (the part of the prompt the provider served
from its prompt cache, ``usage.prompt_tokens_details.cached_tokens``) and output. The table ships
OpenAI's list prices for the common models (``PRICES_TAKEN``); ``llm_prices`` lines and an
``llm_prices_file`` (TOML or JSON) add models or replace their prices. A model answered under a dated
name (``gpt-4.1-mini-2025-04-14``) costs what its base name costs unless the table names the dated one.
Calls sent through the Batch API cost half (``BATCH_DISCOUNT``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "BATCH_DISCOUNT",
    "COST_FIELD",
    "PRICES_SOURCE",
    "PRICES_TAKEN",
    "SHIPPED_PRICES",
    "CostSummary",
    "Price",
    "PriceTable",
    "base_model",
    "cost_summary",
    "dollars",
    "load_price_file",
    "parse_price_lines",
]

PRICES_TAKEN = "2025-08-07"
"""When the shipped prices were read from OpenAI's pricing page (standard tier, text tokens)."""
PRICES_SOURCE = "https://openai.com/api/pricing/"
BATCH_DISCOUNT = 0.5
"""The Batch API's price as a share of the standard price (half)."""
COST_FIELD = "cost_usd"
"""The field of a record (verdict, score, choice) that holds what its call cost, in dollars."""
_JUDGE_KINDS = ("verdict", "score", "choice", "comparison")
_TOKEN_FIELDS = ("prompt_tokens", "completion_tokens", "cached_tokens")
HOW_TO_PRICE = "add it to llm_prices (MODEL INPUT CACHED_INPUT OUTPUT, dollars per million tokens)"


@dataclass(frozen=True)
class Price:
    """Dollars per million tokens; ``cached_input`` None: cached prompt tokens cost the input price."""

    input: float
    output: float
    cached_input: float | None = None

    def cost(self, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0) -> float:
        """Dollars for one call's tokens (cached tokens are part of the prompt tokens, as OpenAI counts)."""
        cached = min(max(cached_tokens, 0), max(prompt_tokens, 0))
        cached_price = self.input if self.cached_input is None else self.cached_input
        total = (
            (prompt_tokens - cached) * self.input + cached * cached_price + completion_tokens * self.output
        )
        return total / 1_000_000

    def text(self) -> str:
        cached = "-" if self.cached_input is None else f"{self.cached_input:g}"
        return f"{self.input:g} {cached} {self.output:g}"


def _p(input: float, cached: float | None, output: float) -> Price:
    return Price(input=input, output=output, cached_input=cached)


SHIPPED_PRICES: Mapping[str, Price] = {
    # model: input, cached input, output (dollars per million tokens, standard tier)
    "gpt-5": _p(1.25, 0.125, 10.00),
    "gpt-5-mini": _p(0.25, 0.025, 2.00),
    "gpt-5-nano": _p(0.05, 0.005, 0.40),
    "gpt-4.1": _p(2.00, 0.50, 8.00),
    "gpt-4.1-mini": _p(0.40, 0.10, 1.60),
    "gpt-4.1-nano": _p(0.10, 0.025, 0.40),
    "gpt-4o": _p(2.50, 1.25, 10.00),
    "gpt-4o-mini": _p(0.15, 0.075, 0.60),
    "o3": _p(2.00, 0.50, 8.00),
    "o4-mini": _p(1.10, 0.275, 4.40),
    "o3-mini": _p(1.10, 0.55, 4.40),
    "o1": _p(15.00, 7.50, 60.00),
    "gpt-4-turbo": _p(10.00, None, 30.00),
    "gpt-4": _p(30.00, None, 60.00),
    "gpt-3.5-turbo": _p(0.50, None, 1.50),
}

_DATED = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{4})$")


def base_model(model: str) -> str:
    """``model`` without a dated snapshot suffix: ``gpt-4.1-mini-2025-04-14`` -> ``gpt-4.1-mini``,
    ``gpt-4-0613`` -> ``gpt-4``; other names unchanged."""
    return _DATED.sub("", model)


class PriceTable:
    """The shipped prices with the user's on top; ``price(model)`` finds a model's price or None."""

    def __init__(self, extra: Mapping[str, Price] | None = None, *, shipped: bool = True) -> None:
        self.prices: dict[str, Price] = {**(SHIPPED_PRICES if shipped else {}), **(extra or {})}

    def price(self, model: str) -> Price | None:
        found = self.prices.get(model)
        return found if found is not None else self.prices.get(base_model(model))

    def cost(self, model: str, usage: Mapping[str, Any], *, batch: bool = False) -> float | None:
        """Dollars for one call of ``model`` with ``usage`` (a record's usage: prompt, completion and
        cached tokens); None when the model has no price."""
        price = self.price(model)
        if price is None:
            return None
        counts = {name: _count(usage.get(name)) for name in _TOKEN_FIELDS}
        total = price.cost(counts["prompt_tokens"], counts["completion_tokens"], counts["cached_tokens"])
        return total * BATCH_DISCOUNT if batch else total

    def record_cost(self, record: Mapping[str, Any]) -> float | None:
        """What the calls behind ``record`` cost (a batch answer at the batch price): a cascade's verdict
        costs every step it asked; None without usage or without a price for a model it asked."""
        batch = bool(record.get("batch"))
        steps = [s for s in record.get("cascade") or () if isinstance(s, Mapping)]
        if steps and all(isinstance(s.get("usage"), Mapping) for s in steps):
            costs = [self.cost(str(s.get("model") or "?"), s["usage"], batch=batch) for s in steps]
            return None if None in costs else sum(c for c in costs if c is not None)
        usage = record.get("usage")
        if not isinstance(usage, Mapping):
            return None
        return self.cost(str(record.get("model") or "?"), usage, batch=batch)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PriceTable) and self.prices == other.prices

    __hash__ = None  # type: ignore[assignment]


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return 0
    return max(0, int(value))


# --- reading prices from the ini and from a file -----------------------------------------------------

_LINE_HELP = (
    "write one model a line: MODEL INPUT CACHED_INPUT OUTPUT (or MODEL INPUT OUTPUT), in dollars per "
    "million tokens, e.g. gpt-4.1-mini 0.40 0.10 1.60"
)


def _amount(text: Any) -> float:
    if isinstance(text, bool):
        raise ValueError(text)
    value = float(str(text).strip().lstrip("$"))
    if not math.isfinite(value) or value < 0:
        raise ValueError(text)
    return value


def _price_of(numbers: list[Any]) -> Price:
    amounts = [_amount(n) for n in numbers]
    if len(amounts) == 2:
        return Price(input=amounts[0], output=amounts[1])
    if len(amounts) == 3:
        return Price(input=amounts[0], cached_input=amounts[1], output=amounts[2])
    raise ValueError(numbers)


def parse_price_lines(lines: Iterable[str] | str) -> dict[str, Price]:
    """``llm_prices``: one model a line, ``MODEL INPUT [CACHED_INPUT] OUTPUT``; a bad line: ValueError."""
    texts = lines.splitlines() if isinstance(lines, str) else [str(line) for line in lines]
    prices: dict[str, Price] = {}
    for line in texts:
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        try:
            prices[words[0]] = _price_of(words[1:])
        except ValueError:
            raise ValueError(f"{line.strip()!r} is not a price; {_LINE_HELP}") from None
    return prices


def _price_entry(model: str, entry: Any, where: str) -> Price:
    try:
        if isinstance(entry, Mapping):
            unknown = sorted(set(entry) - {"input", "cached_input", "output"})
            if unknown or "input" not in entry or "output" not in entry:
                raise ValueError(entry)
            cached = entry.get("cached_input")
            return Price(
                input=_amount(entry["input"]),
                output=_amount(entry["output"]),
                cached_input=None if cached is None else _amount(cached),
            )
        if isinstance(entry, list):
            return _price_of(entry)
    except (ValueError, TypeError):
        pass
    raise ValueError(
        f"{where}: the price of {model!r} is {entry!r}; give "
        '{"input": 0.40, "cached_input": 0.10, "output": 1.60} (dollars per million tokens; '
        "cached_input may be left out) or [0.40, 0.10, 1.60]"
    )


def load_price_file(path: Path) -> dict[str, Price]:
    """``llm_prices_file``: a TOML or JSON table of models (at the top, or under ``prices``), each
    ``{input, cached_input, output}`` or ``[input, cached_input, output]``; ValueError saying what is
    wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"{path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} cannot be read: {exc}") from None
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            import tomllib

            data = tomllib.loads(text)
    except ValueError as exc:  # JSONDecodeError and TOMLDecodeError are ValueErrors
        kind = "JSON" if path.suffix.lower() == ".json" else "TOML"
        raise ValueError(f"{path} is not valid {kind}: {exc}") from None
    if isinstance(data, Mapping) and isinstance(data.get("prices"), Mapping):
        data = data["prices"]
    if not isinstance(data, Mapping):
        raise ValueError(f"{path} holds no table of models and their prices")
    return {str(model): _price_entry(str(model), entry, str(path)) for model, entry in data.items()}


# --- the run's cost ------------------------------------------------------------------------------------


def dollars(amount: float) -> str:
    """``$0.84``; small amounts keep two significant digits (``$0.00042``); ``$0`` for nothing."""
    if amount == 0:
        return "$0"
    if amount >= 0.01:
        return f"${amount:,.2f}"
    digits = min(10, 1 - math.floor(math.log10(abs(amount))))
    return f"${amount:.{digits}f}"


@dataclass(frozen=True)
class CostSummary:
    """What the run's judge calls cost: spent live, through a batch, and what replaying did not spend."""

    live: float = 0.0
    replayed: float = 0.0
    batch: float = 0.0
    calls: dict[str, int] = field(default_factory=dict)
    """Priced calls by source: ``live``, ``replayed``, ``batch``."""
    per_test: dict[str, float] = field(default_factory=dict)
    """Each test's cost (live, batch and replayed alike: what the test costs to record)."""
    unpriced: dict[str, int] = field(default_factory=dict)
    """Models with no price, and how many calls of each (counted in tokens only)."""

    @property
    def priced(self) -> int:
        return sum(self.calls.values())

    @property
    def empty(self) -> bool:
        return not self.priced and not self.unpriced

    @property
    def spent(self) -> float:
        """Dollars this run sent to the provider (live and batch)."""
        return self.live + self.batch

    @property
    def per_call(self) -> float | None:
        """The mean cost of a priced call, live or replayed (what one verdict costs to record)."""
        total = self.live + self.replayed + self.batch
        return total / self.priced if self.priced else None

    def costliest(self, n: int = 3) -> list[tuple[str, float]]:
        return sorted(self.per_test.items(), key=lambda item: (-item[1], item[0]))[:n]

    def warnings(self) -> list[str]:
        """One line per model without a price."""
        return [
            f"no price for {model!r} ({count} call{'s' if count != 1 else ''} counted in tokens only): "
            f"{HOW_TO_PRICE}"
            for model, count in sorted(self.unpriced.items())
        ]

    def text(self) -> str:
        """``cost: live $0.12, batch $0.40; replayed: $0.84 not spent again; $0.00031 per call``."""
        spent = [f"live {dollars(self.live)}"]
        if self.calls.get("batch"):
            spent.append(f"batch {dollars(self.batch)} (at the batch price)")
        parts = [", ".join(spent), f"replayed: {dollars(self.replayed)} not spent again"]
        if self.per_call is not None:
            parts.append(f"{dollars(self.per_call)} per call")
        return "cost: " + "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "live_usd": round(self.live, 9),
            "replayed_usd": round(self.replayed, 9),
            "batch_usd": round(self.batch, 9),
            "spent_usd": round(self.spent, 9),
            "per_call_usd": None if self.per_call is None else round(self.per_call, 9),
            "calls": dict(self.calls),
            "unpriced_models": dict(sorted(self.unpriced.items())),
            "per_test_usd": {test: round(amount, 9) for test, amount in sorted(self.per_test.items())},
        }


def cost_summary(records: Iterable[Mapping[str, Any]]) -> CostSummary:
    """Add up the ``cost_usd`` of the judge's records (verdicts, scores, choices, comparisons); a record
    with usage but no cost (``cost_usd`` null) names its model as unpriced. Records from before costs were
    kept (no ``cost_usd`` at all) count as nothing."""
    totals = {"live": 0.0, "replayed": 0.0, "batch": 0.0}
    calls: dict[str, int] = {}
    per_test: dict[str, float] = {}
    unpriced: dict[str, int] = {}
    for record in records:
        if record.get("kind", "verdict") not in _JUDGE_KINDS or COST_FIELD not in record:
            continue
        amount = record.get(COST_FIELD)
        if isinstance(amount, bool) or not isinstance(amount, (int, float)) or not math.isfinite(amount):
            model = str(record.get("model") or "?")
            unpriced[model] = unpriced.get(model, 0) + 1
            continue
        source = "batch" if record.get("batch") else "replayed" if record.get("replayed") else "live"
        totals[source] += float(amount)
        calls[source] = calls.get(source, 0) + 1
        test = str(record.get("test_id", "?"))
        per_test[test] = per_test.get(test, 0.0) + float(amount)
    return CostSummary(
        live=totals["live"],
        replayed=totals["replayed"],
        batch=totals["batch"],
        calls=calls,
        per_test=per_test,
        unpriced=unpriced,
    )
