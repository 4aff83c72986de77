"""Hooks that conftest files and plugins may implement (loaded in ``pytest_addhooks``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import pytest

    from ._config import JudgeConfig
    from ._models import Verdict

hookspec = pluggy.HookspecMarker("pytest")


@hookspec(firstresult=True)
def pytest_llmconfidence_build_messages(
    question: str, response: str | None, context: str | None, config: JudgeConfig
) -> list[dict[str, str]] | None:
    """Return the chat messages the judge sends, or None to leave it to the next implementation.

    The first non-None result wins; the plugin's own implementation (the default prompt) runs last.
    Example, in a ``conftest.py``::

        def pytest_llmconfidence_build_messages(question, response, context, config):
            return [
                {"role": "system", "content": "Reply with one word: true or false. Be harsh."},
                {"role": "user", "content": f"Answer: {response}\\n\\nQuestion: {question}"},
            ]
    """


@hookspec
def pytest_llmconfidence_verdict(item: pytest.Item, verdict: Verdict) -> None:
    """Called with every verdict the judge returns, while its test runs.

    Example, in a ``conftest.py``::

        def pytest_llmconfidence_verdict(item, verdict):
            if verdict.coverage < 0.5:
                item.add_report_section("call", "judge", f"low coverage {verdict.coverage:.2f}")
    """


@hookspec
def pytest_llmconfidence_summary(records: list[dict[str, Any]], config: pytest.Config) -> list[str] | None:
    """Return extra lines for the confidence summary; ``records`` holds every verdict of the run as a dict.

    Example, in a ``conftest.py``::

        def pytest_llmconfidence_summary(records, config):
            live = [r for r in records if not r.get("replayed")]
            return [f"{len(live)} verdicts were live"]
    """
