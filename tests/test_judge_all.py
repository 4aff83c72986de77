"""judge.all(checks): many checks asserted at once, each failed one explained."""

from __future__ import annotations

import pytest
from fake_openai import FakeOpenAI, verdict

from pytest_llmconfidence import Check, Checks


def _check(passed: bool, text: str) -> Check:
    return Check("confident_true", passed, 0.9, 0.95 if passed else 0.5, text)


def test_checks_hold_when_every_check_holds() -> None:
    """Truthy only when all hold; the repr counts them."""
    checks = Checks([_check(True, "a"), _check(True, "b")])
    assert checks and len(checks) == 2 and repr(checks) == "<all passed: 2 checks>"


def test_failed_checks_are_listed_by_position_with_what_each_says() -> None:
    """The repr says how many of how many failed, then each failed check's own words and its index."""
    checks = Checks(
        [
            _check(True, "fine"),
            _check(False, "confident_true failed: false at 0.50"),
            _check(False, "x failed"),
        ]
    )
    assert not checks
    assert repr(checks) == (
        "<all failed: 2 of 3 checks failed: [1] confident_true failed: false at 0.50; [2] x failed>"
    )
    assert [index for index, _ in checks.failed] == [1, 2]


def test_an_empty_batch_fails() -> None:
    """Asserting no checks at all is more likely an empty batch than a pass; the repr says so."""
    assert not Checks([])
    assert "no checks were given" in repr(Checks(iter(())))


def test_a_verdict_instead_of_a_check_is_a_type_error_saying_what_to_pass() -> None:
    """judge.all(verdicts) names the item and the checks it takes, before anything is asserted."""
    with pytest.raises(
        TypeError, match=r"takes checks, such as verdict.confident_true\(0.9\).*item 1 is str"
    ):
        Checks([_check(True, "a"), "yes"])


def test_asserting_judge_all_explains_each_failed_verdict(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """The test's failure shows each failed check (question, confidence, threshold), not `assert False`."""
    fake_openai.rule("rude?", verdict(0.2, 0.7))
    fake_openai.rule("polite?", verdict(0.97, 0.02))
    judged.makepyfile(
        """
        def test_replies(judge):
            verdicts = judge.many(["Is the reply polite?", "Is the reply rude?", "Is the reply polite?"])
            assert judge.all(v.confident_true(0.9) for v in verdicts)
        """
    )
    result = judged.runpytest("-p", "no:xdist")
    result.assert_outcomes(failed=1)
    failure = "assert <all failed: 1 of 3 checks failed: [1] confident_true failed: false at 0.70, needed true >= 0.90"
    assert failure in result.stdout.str()
    assert "q='Is the reply rude?'>" in result.stdout.str()


def test_asserting_checks_asks_every_check_so_none_is_reported_unasserted() -> None:
    """bool() of the batch evaluates each check (no short cut at the first failure), as assert would one by one."""
    checks = [_check(False, "a failed"), _check(False, "b failed"), _check(True, "c")]
    assert not Checks(checks)
    assert [check.evaluated for check in checks] == [True, True, True]
