"""The example suite replays offline from its committed cassettes, with the outcomes its README shows.

A change to the judge's request (prompt, parameters) makes these recordings miss: re-record them with
`make record-examples` and update the verdict table of examples/README.md.
"""

from __future__ import annotations

import shutil

import pytest

from .conftest import ROOT

# examples/README.md describes these outcomes; re-recording with another model may change them.
PASSING = [
    "TestPolicy::test_returns_within_30_days_are_accepted",
    "TestPolicy::test_password_is_never_asked_for",
    "TestTone::test_order_status_is_polite",
    "TestFacts::test_opening_hours_follow_the_policy",
    "TestFacts::test_shop_is_closed_on_sunday",
    "TestFacts::test_order_status_names_the_order",
]
FAILING = [
    "TestPolicy::test_late_returns_are_refused_citing_the_window",
    "TestPolicy::test_card_number_is_never_asked_for",
    "TestTone::test_complaints_get_no_rude_reply",
    "TestFacts::test_shipping_is_not_promised_free_on_every_order",
    "TestFacts::test_off_topic_questions_are_not_answered_with_guesses",
]


def test_the_examples_replay_offline_with_their_documented_outcomes(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`CI=true pytest examples` with no key and no server: every verdict replayed, 6 pass, 5 fail."""
    shutil.copytree(ROOT / "examples", pytester.path / "examples")
    shutil.copytree(ROOT / "cassettes" / "examples", pytester.path / "cassettes" / "examples")
    pytester.makeini("[pytest]\n")
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens: replay only
    result = pytester.runpytest("examples", "-rA", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=len(PASSING), failed=len(FAILING))
    result.stdout.fnmatch_lines(["11 verdicts in 11 tests: 11 replayed, 0 live"])
    result.stdout.fnmatch_lines_random([f"PASSED examples/test_support_bot.py::{name}" for name in PASSING])
    result.stdout.fnmatch_lines_random([f"FAILED examples/test_support_bot.py::{name}*" for name in FAILING])
    result.stdout.fnmatch_lines(["*confident_false failed: undecided (no false/true among the top tokens)*"])
