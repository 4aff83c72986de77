"""Hooks that conftest files and plugins may implement (loaded in ``pytest_addhooks``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import pytest

    from ._scoring.results import Verdict
    from ._settings import JudgeConfig

hookspec = pluggy.HookspecMarker("pytest")


@hookspec(firstresult=True)
def pytest_llmconfidence_build_messages(
    question: str, response: str | None, context: str | None, config: JudgeConfig
) -> list[dict[str, str]] | None:
    """Return the chat messages the judge sends, or None to leave it to the next implementation.

    The first non-None result wins; the plugin's own implementation (the default prompt) runs last.
    Used by ``judge()``, ``judge.acheck()`` and ``judge.many()`` alike (scores and choices use
    ``pytest_llmconfidence_build_graded_messages``). Example, in a ``conftest.py``::

        def pytest_llmconfidence_build_messages(question, response, context, config):
            return [
                {"role": "system", "content": "Reply with one word: true or false. Be harsh."},
                {"role": "user", "content": f"Answer: {response}\\n\\nQuestion: {question}"},
            ]
    """


@hookspec(firstresult=True)
def pytest_llmconfidence_build_graded_messages(
    kind: str,
    question: str,
    response: str | None,
    context: str | None,
    labels: tuple[str, ...],
    options: tuple[str, ...],
    config: JudgeConfig,
) -> list[dict[str, str]] | None:
    """Return the chat messages of a score or a choice, or None to leave it to the next implementation.

    ``kind`` is ``"score"`` (``judge.score()``, ``ascore()``, ``score_many()``) or ``"choice"``
    (``judge.choose()``, ``achoose()``, ``choose_many()``); the model must answer with exactly one of
    ``labels``, and ``options`` says what each label stands for (a choice's options, asked for as A, B, C…
    when they are not single words; a score's labels themselves). The first non-None result wins; the
    plugin's own implementation (the default prompt) runs last. Verdicts never come here. Example, in a
    ``conftest.py``::

        def pytest_llmconfidence_build_graded_messages(kind, question, response, labels, options):
            if kind != "score":
                return None
            return [
                {"role": "system", "content": f"Grade harshly. Reply with one of {', '.join(labels)} only."},
                {"role": "user", "content": f"Answer: {response}\\n\\nQuestion: {question}"},
            ]
    """


@hookspec(firstresult=True)
def pytest_llmconfidence_build_pairwise_messages(
    question: str, response_a: str, response_b: str, context: str | None, config: JudgeConfig
) -> list[dict[str, str]] | None:
    """Return the chat messages of one order of a comparison, or None to leave it to the next one.

    ``judge.compare(question, a, b)`` (and ``acompare()``, ``compare_many()``) asks twice: once with
    ``response_a=a, response_b=b``, once with ``response_a=b, response_b=a``; the model must answer with
    one label, ``A`` for the response shown first or ``B`` for the other. The first non-None result
    wins; the plugin's own implementation (the default prompt) runs last. Example, in a ``conftest.py``::

        def pytest_llmconfidence_build_pairwise_messages(question, response_a, response_b, context):
            return [
                {"role": "system", "content": "Pick the more helpful reply. Answer A or B only."},
                {
                    "role": "user",
                    "content": f"Question: {question}\\n\\nA: {response_a}\\n\\nB: {response_b}",
                },
            ]
    """


@hookspec
def pytest_llmconfidence_verdict(item: pytest.Item, verdict: Verdict) -> None:
    """Called with every verdict the judge returns, while its test runs, on the test's thread.

    ``judge()``, ``await judge.acheck()`` and each verdict of ``judge.many()`` (in input order) call it.
    Example, in a ``conftest.py``, showing low-coverage verdicts in the test's report (``-rA``)::

        def pytest_llmconfidence_verdict(item, verdict):
            if verdict.coverage < 0.5:
                item.add_report_section("call", "judge", f"low coverage {verdict.coverage:.2f}")
    """


@hookspec
def pytest_llmconfidence_summary(records: list[dict[str, Any]], config: pytest.Config) -> list[str] | None:
    """Return extra lines for the confidence summary.

    ``records`` holds every record of the run as a JSON dict: ``kind`` "verdict" (a ``Verdict``'s
    fields and checks), "response" (a ``ResponseConfidence``'s aggregates and checks), "score",
    "choice", "comparison" (a ``Preference``) or "panel" (a ``PanelVerdict``), and its ``test_id``.
    Example, in a ``conftest.py``::

        def pytest_llmconfidence_summary(records, config):
            verdicts = [r for r in records if r["kind"] == "verdict"]
            live = [r for r in verdicts if not r["replayed"]]
            return [f"{len(live)} of {len(verdicts)} verdicts were live"]
    """


def __dir__() -> list[str]:
    """The hook specifications: all that ``add_hookspecs`` looks for when it scans this module."""
    return [name for name in globals() if name.startswith("pytest_llmconfidence_")]
