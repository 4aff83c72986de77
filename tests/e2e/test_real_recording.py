"""Recording the real model's answers, then replaying them with the server stopped."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from .conftest import COLLECT_VERDICTS

Verdicts = Callable[[], list[dict[str, Any]]]

TESTS = """
def test_refund(judge):
    judge("Does the reply refuse the refund?", "Sorry, returns are accepted within 30 days of delivery.")
    judge("Is the reply polite?", "Sorry, returns are accepted within 30 days of delivery.")

def test_order(judge):
    judge("Does the reply mention order 12345?", "Order #12345 shipped on 2 March.")
"""

LIVE_ONLY = {"latency_s", "replayed"}


def without(record: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key not in keys}


def test_a_recorded_run_replays_identical_verdicts_with_the_server_stopped(
    pytester: pytest.Pytester, local_model: ModuleType, model_alias: str, read_verdicts: Verdicts
) -> None:
    """Record against the real server, stop it, replay offline: the same verdicts, marked replayed."""
    pytester.makeconftest(COLLECT_VERDICTS)
    pytester.makepyfile(test_bot=TESTS)
    with local_model.serve() as base_url:
        pytester.makeini(
            f"""
            [pytest]
            llm_base_url = {base_url}
            llm_model = {model_alias}
            """
        )
        pytester.runpytest("--llm-record-mode=once").assert_outcomes(passed=2)
    recorded = read_verdicts()

    with pytest.raises(urllib.error.URLError):
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(f"{base_url}/models", timeout=2)
    assert sorted(p.name for p in (pytester.path / "cassettes" / "test_bot").iterdir()) == [
        "test_order.yaml",
        "test_refund.yaml",
    ]

    pytester.runpytest("--llm-record-mode=none").assert_outcomes(passed=2)
    replayed = read_verdicts()

    assert len(recorded) == len(replayed) == 3
    assert [v["replayed"] for v in recorded] == [False] * 3
    assert [v["replayed"] for v in replayed] == [True] * 3
    assert [without(v, LIVE_ONLY) for v in replayed] == [without(v, LIVE_ONLY) for v in recorded]
