"""Pairwise preferences and panels: the maths, from completion dicts (no pytest run)."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from fake_openai import completion, verdict
from hypothesis import given
from hypothesis import strategies as st

from pytest_llmconfidence import JudgeConfig, verdict_from_completion
from pytest_llmconfidence._report.baseline import compare
from pytest_llmconfidence._report.json_report import to_json
from pytest_llmconfidence._report.pairs import cohen_kappa, comparison_stats, panel_agreement
from pytest_llmconfidence._report.summary import summarize
from pytest_llmconfidence._report.terminal import plain, summary_lines
from pytest_llmconfidence._scoring.confidence import positions_from_logprobs
from pytest_llmconfidence._scoring.pairwise import PairOrder, Preference, pair_order, preference
from pytest_llmconfidence._scoring.panel import PanelVerdict, pool
from pytest_llmconfidence._scoring.results import Verdict

Q = "Which reply answers the refund question better?"


def order(first: str, *alternatives: tuple[str, float], model: str = "judge-m") -> PairOrder:
    """One order of a comparison read from a one-token completion."""
    data = completion(list(alternatives), model=model)
    positions = positions_from_logprobs(data["choices"][0]["logprobs"]["content"])
    return pair_order(positions, first, model=model)  # type: ignore[arg-type]


def prefer(a_first: PairOrder, b_first: PairOrder, threshold: float = 0.9) -> Preference:
    return preference(
        (a_first, b_first), question=Q, response_a="short", response_b="long", threshold=threshold
    )


def test_each_order_is_mapped_back_to_the_arguments_and_averaged() -> None:
    """p_a and p_b are each argument's probability averaged over the two orders, never renormalised."""
    pref = prefer(order("a", ("A", 0.80), ("B", 0.15)), order("b", ("A", 0.60), ("B", 0.35)))
    assert pref.orders[0].p_a == pytest.approx(0.80) and pref.orders[1].p_a == pytest.approx(0.35)
    assert pref.p_a == pytest.approx((0.80 + 0.35) / 2)
    assert pref.p_b == pytest.approx((0.15 + 0.60) / 2)
    assert pref.value == "a" and pref.confidence == pytest.approx(0.575)
    assert not pref.consistent
    assert [o.value for o in pref.orders] == ["a", "b"]


def test_position_bias_is_the_mean_share_given_to_the_response_shown_first_minus_a_half() -> None:
    """A judge pulled to the first response shows a positive bias; shares are over the labels' probability."""
    pref = prefer(order("a", ("A", 0.80), ("B", 0.15)), order("b", ("A", 0.60), ("B", 0.35)))
    assert pref.position_bias == pytest.approx((0.80 / 0.95 + 0.60 / 0.95) / 2 - 0.5)


def test_a_fair_judge_with_low_coverage_shows_no_position_bias() -> None:
    """Probability spent on other words does not read as a bias against the first response."""
    pref = prefer(order("a", ("A", 0.30), ("B", 0.30), ("The", 0.4)), order("b", ("B", 0.30), ("A", 0.30)))
    assert pref.position_bias == pytest.approx(0.0)
    assert pref.value is None and pref.confidence == 0.0


def test_every_spelling_of_a_label_is_summed() -> None:
    """'A', ' A' and '"a' are one label; the answer is read where the model wrote it."""
    first = order("a", ("A", 0.5), (" A", 0.2), ('"a', 0.1), ("B", 0.1))
    assert first.p_first == pytest.approx(0.8) and first.p_second == pytest.approx(0.1)
    assert first.coverage == pytest.approx(0.9)


def test_both_orders_choosing_the_same_argument_is_consistent() -> None:
    """consistent: both orders chose one argument; the check passes at the mean probability."""
    pref = prefer(order("a", ("B", 0.9), ("A", 0.1)), order("b", ("A", 0.95), ("B", 0.05)), threshold=0.9)
    assert pref.consistent and pref.value == "b"
    assert pref.confidence == pytest.approx(0.925)
    check = pref.prefers("b")
    assert check and repr(check).startswith("<prefers passed: b at 0.93 >= 0.90")
    assert not pref.prefers("a")


def test_a_failed_prefers_says_when_the_order_decided() -> None:
    """Each order chose the response it showed first: the repr leads with the facts and names the orders."""
    pref = prefer(order("a", ("A", 0.70), ("B", 0.30)), order("b", ("A", 0.70), ("B", 0.30)))
    check = pref.prefers("a")
    assert not check
    assert repr(check) == (
        "<prefers failed: undecided (p_a 0.50, p_b 0.50), needed a >= 0.90; the order decided: "
        "A first chose a 0.70, B first chose b 0.70; position bias +0.20; "
        "q='Which reply answers the refund question better?'>"
    )
    assert "\n" not in repr(check) and pref.checks == (check,)


def test_a_consistent_preference_below_the_threshold_says_both_orders_agreed() -> None:
    """Below the threshold with both orders agreeing, the repr gives each order's probability."""
    pref = prefer(order("a", ("A", 0.70), ("B", 0.30)), order("b", ("B", 0.60), ("A", 0.40)))
    assert repr(pref.prefers("a", 0.8)).startswith(
        "<prefers failed: a at 0.65, needed a >= 0.80; both orders chose a (A first 0.70, B first 0.60); "
        "position bias +0.05;"
    )


def test_an_order_with_no_label_is_undecided_and_the_preference_inconsistent() -> None:
    """An order that named neither label chose nothing: inconsistent, and its share is left out of the bias."""
    pref = prefer(order("a", ("A", 0.8), ("B", 0.2)), order("b", ("Sure", 0.9)))
    assert pref.orders[1].value is None and pref.orders[1].coverage == 0.0
    assert not pref.consistent
    assert pref.position_bias == pytest.approx(0.3)
    assert pref.p_a == pytest.approx(0.4) and pref.value == "a"
    assert "the orders disagree: A first chose a 0.80, B first undecided" in repr(pref.prefers("a"))


def test_prefers_names_an_argument_and_a_probability() -> None:
    """prefers('A') or a threshold outside 0..1 is an error saying what to give."""
    pref = prefer(order("a", ("A", 0.8)), order("b", ("B", 0.8)))
    with pytest.raises(ValueError, match="name the argument, 'a' or 'b'"):
        pref.prefers("A")
    with pytest.raises(ValueError, match="between 0 and 1"):
        pref.prefers("a", 1.5)
    with pytest.raises(TypeError, match="no truth value"):
        bool(pref)


def test_a_preference_record_is_json_with_both_orders_and_its_checks() -> None:
    """The record (kind comparison) carries the numbers, both raw orders and every check."""
    pref = prefer(order("a", ("A", 0.8), ("B", 0.2)), order("b", ("B", 0.7), ("A", 0.3)))
    pref.prefers("a", 0.7)
    record = json.loads(json.dumps(pref.to_record()))
    assert record["kind"] == "comparison" and record["value"] == "a"
    assert [o["first"] for o in record["orders"]] == ["a", "b"]
    assert record["consistent"] is True and record["checks"][0]["kind"] == "prefers"
    assert record["response_a"] == "short" and record["response_b"] == "long"


@given(
    st.floats(0, 1),
    st.floats(0, 1),
    st.floats(0, 1),
    st.floats(0, 1),
)
def test_swapping_the_arguments_mirrors_the_preference(x: float, y: float, u: float, v: float) -> None:
    """compare(q, a, b) and compare(q, b, a) give mirrored numbers and the same position bias."""
    first_a, second_a = x * (1 - y), x * y  # an order's labels never hold more than 1
    first_b, second_b = u * (1 - v), u * v

    def one(first: str, p_first: float, p_second: float) -> PairOrder:
        return PairOrder(
            first=first,  # type: ignore[arg-type]
            p_first=p_first,
            p_second=p_second,
            coverage=p_first + p_second,
            value=None,
            confidence=0,
            token="A",
            model="m",
        )

    ab = preference(
        (one("a", first_a, second_a), one("b", first_b, second_b)), question=Q, response_a="x", response_b="y"
    )
    ba = preference(
        (one("b", first_a, second_a), one("a", first_b, second_b)), question=Q, response_a="y", response_b="x"
    )
    assert ab.p_a == pytest.approx(ba.p_b) and ab.p_b == pytest.approx(ba.p_a)
    assert ab.position_bias == pytest.approx(ba.position_bias)
    assert 0.0 <= ab.p_a + ab.p_b <= 1.0 + 1e-9
    assert -0.5 <= ab.position_bias <= 0.5


CONFIG = JudgeConfig(model="m")


def member(p_true: float, p_false: float, model: str) -> Verdict:
    return verdict_from_completion(
        verdict(p_true, p_false, model=model), question="Is it polite?", config=CONFIG
    )


def panel_of(*members: Verdict, threshold: float = 0.9) -> PanelVerdict:
    return pool(members, question="Is it polite?", response="Thanks!", threshold=threshold)


def test_a_panel_pools_the_mean_of_its_members_normalized_p_true() -> None:
    """p_true is the mean of p_true/coverage; agreement the share of members with the panel's value."""
    panel = panel_of(member(0.8, 0.2, "m1"), member(0.45, 0.45, "m2"), member(0.2, 0.6, "m3"))
    assert panel.p_true == pytest.approx((0.8 + 0.5 + 0.25) / 3)
    assert panel.value is True and panel.confidence == pytest.approx(panel.p_true)
    assert panel.agreement == pytest.approx(1 / 3)
    assert panel.models == ("m1", "m2", "m3")


def test_a_member_that_named_no_label_counts_as_a_coin_toss() -> None:
    """A member with no verdict label among its tokens adds 0.5 (no say), never a confident answer."""
    silent = verdict_from_completion(completion([("Sure", 0.9)]), question="q", config=CONFIG)
    panel = panel_of(member(0.9, 0.1, "m1"), silent)
    assert panel.p_true == pytest.approx(0.7)
    assert panel.agreement == 0.5


def test_an_evenly_split_panel_is_undecided_and_fails_every_check() -> None:
    """p_true exactly 0.5: undecided, confidence 0; the repr names every member's verdict."""
    panel = panel_of(member(0.9, 0.1, "m1"), member(0.1, 0.9, "m2"))
    assert panel.value is None and panel.confidence == 0.0 and panel.agreement == 0.0
    check = panel.confident_true()
    assert not check
    assert repr(check) == (
        "<confident_true failed: panel undecided (p_true 0.50), needed true >= 0.90; 0 of 2 agree: "
        "m1 true 0.90, m2 false 0.90; q='Is it polite?'>"
    )


def test_a_panel_check_passes_on_the_pooled_confidence() -> None:
    """confident_false holds when the pooled verdict is false at the threshold or more."""
    panel = panel_of(member(0.05, 0.95, "m1"), member(0.1, 0.85, "m2"), threshold=0.8)
    assert panel.confident_false() and not panel.confident_true()
    assert repr(panel.checks[0]).startswith("<confident_false passed: panel false at 0.92 >= 0.80")
    with pytest.raises(TypeError, match="no truth value"):
        bool(panel)


def test_a_panel_record_lists_its_members_in_brief() -> None:
    """The record (kind panel) holds the pooled numbers and each member's model, value and p_true."""
    panel = panel_of(member(0.8, 0.2, "m1"), member(0.6, 0.2, "m2"))
    panel.confident_true(0.7)
    record = json.loads(json.dumps(panel.to_record()))
    assert record["kind"] == "panel" and record["models"] == ["m1", "m2"]
    assert [m["p_true"] for m in record["members"]] == pytest.approx([0.8, 0.75])
    assert "verdicts" not in record and record["checks"][0]["passed"] is True


def test_cohen_kappa_is_agreement_beyond_chance() -> None:
    """The textbook case: 70 % observed agreement, 50 % by chance, kappa 0.4."""
    pairs = [(True, True)] * 20 + [(True, False)] * 5 + [(False, True)] * 10 + [(False, False)] * 15
    assert cohen_kappa(pairs) == pytest.approx(0.4)
    assert cohen_kappa([(True, False), (False, True)]) == pytest.approx(-1.0)


def test_cohen_kappa_is_undefined_when_both_raters_gave_one_label_only() -> None:
    """Two judges that always said true agree by chance alone: kappa is not a number, and says so."""
    assert cohen_kappa([(True, True)] * 5) is None
    assert cohen_kappa([]) is None


def panel_record(test_id: str, **values: Any) -> dict[str, Any]:
    members = [{"model": model, "value": value, "confidence": 0.9} for model, value in values.items()]
    return {
        "kind": "panel",
        "test_id": test_id,
        "question": "q",
        "value": True,
        "confidence": 0.9,
        "agreement": 1.0,
        "members": members,
        "checks": [],
    }


def test_panel_agreement_is_counted_per_pair_of_models_over_the_run() -> None:
    """Each pair of models is rated over the panels both sat on, in the order the models first sat."""
    records = [
        panel_record("t1", m1=True, m2=True, m3=False),
        panel_record("t2", m1=False, m2=True, m3=False),
        panel_record("t3", m1=True, m2=True),
    ]
    pairs = {(p.first, p.second): p for p in panel_agreement(records)}
    assert list(pairs) == [("m1", "m2"), ("m1", "m3"), ("m2", "m3")]
    assert (pairs["m1", "m2"].panels, pairs["m1", "m2"].agreed) == (3, 2)
    assert (pairs["m1", "m3"].panels, pairs["m1", "m3"].agreed) == (2, 1)
    assert pairs["m2", "m3"].kappa == 0.0  # m2 always said true: all agreement is chance
    assert pairs["m1", "m3"].line() == "  m1 ~ m3: agreed on 1 of 2 panels (0.50), kappa 0.00"


def comparison_record(
    test_id: str, value: str, consistent: bool, bias: float, passed: bool
) -> dict[str, Any]:
    return {
        "kind": "comparison",
        "test_id": test_id,
        "question": Q,
        "value": value,
        "confidence": 0.7,
        "consistent": consistent,
        "position_bias": bias,
        "model": "m",
        "checks": [{"kind": "prefers", "threshold": 0.6, "passed": passed, "score": 0.7}],
    }


def test_the_summary_counts_comparisons_and_panels() -> None:
    """The terminal lines: comparisons, inconsistent ones, the mean bias; panels and each pair's kappa."""
    records = [
        comparison_record("t::a", "a", True, 0.1, True),
        comparison_record("t::b", "b", False, 0.3, False),
        panel_record("t::c", m1=True, m2=True),
        panel_record("t::d", m1=True, m2=True),
    ]
    lines = plain(summary_lines(summarize(records)))
    assert (
        "2 comparisons (both orders): 1 inconsistent across orders; mean position bias +0.20; 1 of 2 checks failed"
        in lines
    )
    assert "2 panels: mean agreement 1.00; 0 undecided; 0 of 0 checks failed" in lines
    assert "  m1 ~ m2: agreed on 2 of 2 panels (1.00), kappa n/a (one label only)" in lines
    stats = comparison_stats(records[:2])
    assert (stats.count, stats.inconsistent, stats.checks_failed) == (2, 1, 1)


def test_the_json_report_lists_comparisons_and_panels_with_their_aggregates() -> None:
    """comparisons and panels are lists of their own; the summary holds their aggregates."""
    records = [comparison_record("t::a", "a", False, 0.25, True), panel_record("t::c", m1=True, m2=False)]
    data = to_json(summarize(records))
    assert [r["test_id"] for r in data["comparisons"]] == ["t::a"]
    assert data["comparisons"][0]["status"] == "passed"
    assert data["panels"][0]["members"][1] == {"model": "m2", "value": False, "confidence": 0.9}
    assert data["summary"]["comparisons"] == {
        "count": 1,
        "inconsistent": 1,
        "mean_position_bias": 0.25,
        "checks": 1,
        "checks_failed": 0,
        "checks_xfailed": 0,
    }
    assert data["summary"]["panels"]["pairs"] == [
        {"models": ["m1", "m2"], "panels": 1, "agreed": 0, "agreement": 0.0, "kappa": 0.0}
    ]
    assert to_json(summarize([]))["comparisons"] == [] and "panels" not in to_json(summarize([]))["summary"]


def test_a_preference_that_flipped_since_the_baseline_is_a_flip() -> None:
    """Comparisons are matched by test id and question like verdicts; a new winner is a flip."""
    before = {"verdicts": [], "comparisons": [comparison_record("t::a", "a", True, 0.0, True)]}
    after = {"verdicts": [], "comparisons": [comparison_record("t::a", "b", True, 0.0, True)]}
    result = compare(before, after)
    (change,) = result.flipped
    assert (change.kind, change.old_value, change.new_value) == ("comparison", "a", "b")
    assert "flipped     t::a  a 0.70 -> b 0.70" in change.describe()
    assert math.isclose(result.matched, 1)


def test_a_panel_names_its_members_as_they_were_asked_for() -> None:
    """A server that answers as one model for several names keeps the panel's names apart."""
    panel = pool(
        [member(0.8, 0.2, "served"), member(0.3, 0.6, "served")], question="q", models=["strict", "lenient"]
    )
    assert panel.models == ("strict", "lenient")
    assert [m["model"] for m in panel.to_record()["members"]] == ["strict", "lenient"]
    assert "strict true 0.80, lenient false 0.60" in repr(panel)


def test_the_github_step_summary_counts_comparisons_and_panels() -> None:
    """The Markdown table gains a comparisons row, a panels row and one row per pair of models."""
    from pytest_llmconfidence._report.markdown import markdown

    records = [comparison_record("t::a", "a", False, 0.25, True), panel_record("t::c", m1=True, m2=True)]
    text = markdown(summarize(records))
    assert (
        "| comparisons | 1 comparison (both orders): 1 inconsistent across orders; mean position bias +0.25;"
        in text
    )
    assert "| m1 ~ m2 | agreed on 1 of 1 panel (1.00), kappa n/a (one label only) |" in text
