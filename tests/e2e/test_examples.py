"""The example suite replays offline from its committed cassettes, with the outcomes its README shows.

A change to the judge's request (prompt, parameters) or to the example app's requests makes these
recordings miss: re-record them with `make record-examples` and update examples/README.md.
"""

from __future__ import annotations

import json
import shutil

import pytest

from .conftest import ROOT

# examples/README.md describes these outcomes; re-recording with another model may change them.
PASSING = [
    "test_support_bot.py::TestPolicy::test_returns_within_30_days_are_accepted",
    "test_support_bot.py::TestPolicy::test_password_is_never_asked_for",
    "test_support_bot.py::TestTone::test_order_status_is_polite",
    "test_support_bot.py::TestFacts::test_opening_hours_follow_the_policy",
    "test_support_bot.py::TestFacts::test_shop_is_closed_on_sunday",
    "test_support_bot.py::TestFacts::test_order_status_names_the_order",
    "test_chat_app.py::TestPromptSanity::test_the_greeting_prompt_is_understood",
    "test_chat_app.py::TestCompareResponses::test_the_clearest_prompt_gets_the_surest_answer",
    "test_chat_app.py::TestCompareResponses::test_answers_without_logprobs_are_counted_not_scored",
    "test_grading.py::TestChoices::test_password_trouble_goes_to_the_account_team",
    "test_pairwise_and_panels.py::TestPairwise::test_the_judge_is_pulled_to_the_answer_it_sees_first",
    "test_pairwise_and_panels.py::TestPanel::test_both_judges_call_the_order_status_reply_polite",
    "test_pairwise_and_panels.py::TestPanel::test_every_judge_call_of_a_marked_test_is_a_panel",
    "test_answer_once.py::test_the_answer_is_polite",
    "test_answer_once.py::test_the_answer_is_about_returns",
    "test_answer_once.py::test_the_answer_asks_for_no_password",
]
ON_PURPOSE = [
    "test_support_bot.py::TestPolicy::test_late_returns_are_refused_citing_the_window",
    "test_support_bot.py::TestPolicy::test_card_number_is_never_asked_for",
    "test_support_bot.py::TestTone::test_complaints_get_no_rude_reply",
    "test_support_bot.py::TestFacts::test_shipping_is_not_promised_free_on_every_order",
    "test_support_bot.py::TestFacts::test_off_topic_questions_are_not_answered_with_guesses",
    "test_chat_app.py::TestPromptSanity::test_a_random_words_prompt_is_understood",
    "test_grading.py::TestScores::test_the_order_status_reply_is_rated_polite",
    "test_grading.py::TestChoices::test_a_late_return_goes_to_the_returns_team",
    "test_pairwise_and_panels.py::TestPairwise::test_the_greeting_prompt_answers_better_than_random_words",
    "test_pairwise_and_panels.py::TestPanel::test_the_rude_reply_is_not_called_polite",
]


@pytest.fixture
def examples(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A copy of the examples and their cassettes, with CI set, no key and nothing listening."""
    shutil.copytree(ROOT / "examples", pytester.path / "examples")
    shutil.copytree(ROOT / "cassettes" / "examples", pytester.path / "cassettes" / "examples")
    pytester.makeini("[pytest]\n")
    monkeypatch.setenv("CI", "true")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens: replay only
    return pytester


def test_the_examples_replay_offline_green_with_their_failures_shown(examples: pytest.Pytester) -> None:
    """`make examples`' command: every call replayed, a green run, and each on-purpose failure's message."""
    result = examples.runpytest(
        "examples", "-rA", "-p", "no:cacheprovider", "--llm-watch", "--llm-html=reports/examples.html"
    )
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=len(PASSING), xfailed=len(ON_PURPOSE))
    result.stdout.fnmatch_lines(["20 verdicts in 17 tests: 20 replayed, 0 live"])
    result.stdout.fnmatch_lines(["checks: 0 of 14 checks failed, 5 more as expected (xfail); 1 undecided;*"])
    result.stdout.fnmatch_lines(
        [
            "1 score and 2 choices: 0 of 3 checks failed, 2 more as expected (xfail);*",
            "4 comparisons (both orders): 4 inconsistent across orders; mean position bias +0.42; "
            "0 of 1 check failed, 1 more as expected (xfail)",
            "3 panels: mean agreement 1.00; 0 undecided; 0 of 3 checks failed, 1 more as expected (xfail)",
            "  smollm2-135m-instruct ~ smollm2-135m-instruct-harsh: agreed on 3 of 3 panels (1.00), kappa 1.00",
        ]
    )
    result.stdout.fnmatch_lines(
        ["10 app responses in 6 tests: 9 scored (9 replayed, 0 live), 1 skipped (no logprobs 1)"]
    )
    result.stdout.fnmatch_lines_random([f"PASSED examples/{name}" for name in PASSING])
    result.stdout.fnmatch_lines_random([f"XFAIL examples/{name}*on purpose*" for name in ON_PURPOSE])
    # The section that shows what each failed check said, as a failure would.
    result.stdout.fnmatch_lines(
        [
            "*failed checks, shown on purpose (xfail)*",
            "examples/test_chat_app.py::TestPromptSanity::test_a_random_words_prompt_is_understood",
            "*on purpose: a prompt the model cannot follow shows as low confidence",
            "*assert <at_least failed: geometric_mean 0.33, needed >= 0.45 over 10 tokens;*",
        ]
    )
    result.stdout.fnmatch_lines(["*confident_false failed: undecided (no false/true among the top tokens)*"])
    result.stdout.fnmatch_lines(
        [
            "*assert <prefers failed: b at 0.09, needed a >= 0.30; the order decided: A first chose a 0.16, "
            "B first chose b 0.16; position bias +0.41; q='Which response greets the user better?'>",
        ]
    )
    # The closing lines: pytest's counts, then the run in one sentence.
    assert "16 passed, 10 xfailed" in result.outlines[-2]
    assert result.outlines[-1] == (
        "The example suite: 16 tests passed and 10 failed on purpose, as expected (listed above); the HTML "
        "report is reports/examples.html."
    )
    assert (examples.path / "reports" / "examples.html").stat().st_size > 0


def test_the_seed_experiment_replays_with_its_measured_confidences(examples: pytest.Pytester) -> None:
    """The clear prompt's answer at 0.51 geometric mean, the random-words prompt's at 0.33, in the JSON."""
    result = examples.runpytest(
        "examples/test_chat_app.py", "-p", "no:cacheprovider", "--llm-watch", "--llm-report=r.json"
    )
    assert result.ret == pytest.ExitCode.OK
    report = json.loads((examples.path / "r.json").read_text())
    scored = [r for r in report["app_responses"] if not r.get("skipped")]
    by_text = {r["text"]: round(r["geometric_mean"], 2) for r in scored}
    assert by_text["Hello there, hello there, hello there."] == 0.33
    greeting = [value for text, value in by_text.items() if text.startswith("hello. i'm here to help")]
    assert greeting == [0.51]


def test_the_example_cassettes_hold_no_credentials() -> None:
    """The app's client was given a key to construct while recording: no cassette holds it, or any header of it."""
    cassettes = sorted((ROOT / "cassettes" / "examples").rglob("*.yaml"))
    fixtures = [path for path in cassettes if path.name.endswith(".module.yaml")]  # one answer, judged thrice
    assert len(cassettes) == len(PASSING) + len(ON_PURPOSE) + len(fixtures) and len(fixtures) == 1
    for path in cassettes:
        text = path.read_text(encoding="utf-8").lower()
        for secret in ("sk-", "authorization", "api-key", "openai-organization", "openai-project", "cookie"):
            assert secret not in text, f"{path.name} holds {secret!r}"
        assert path.stat().st_mode & 0o111 == 0, f"{path.name} is executable"
