"""judge.compare and judge.panel in real runs: recorded, replayed, summarised, reported, merged, compared."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fake_openai import FakeOpenAI, completion, verdict
from test_hooks import docstring_example

from pytest_llmconfidence.__main__ import main

PAIR_TESTS = """
import asyncio

import pytest

Q = "Which reply states the refund window?"


def test_prefers_the_precise_reply(judge):
    assert judge.compare(Q, "Refunds within 30 days.", "No idea.").prefers("a", 0.6)


def test_the_order_decides(judge):
    assert judge.compare("Which reply is friendlier?", "Hi there!", "Hello!").prefers("a", 0.6)


def test_many_and_awaited(judge):
    prefs = judge.compare_many(
        [(Q, "Refunds within 30 days.", "No idea."), ("Which reply is friendlier?", "Hello!", "Hi there!", "ctx")]
    )
    assert [p.value for p in prefs] == ["a", None]
    awaited = asyncio.run(judge.acompare(Q, "No idea.", "Refunds within 30 days."))
    assert awaited.value == "b" and awaited.consistent
"""

PANEL_TESTS = """
import pytest


def test_a_panel_of_three(judge):
    panel = judge.panel("Is it polite?", "Thanks!", models=["m1", "m2", "m3"])
    assert panel.confident_true(0.6)
    assert panel.agreement == pytest.approx(2 / 3)


@pytest.mark.llm(panel=["m1", "m2"])
def test_the_marker_makes_every_judge_call_a_panel(judge):
    verdict = judge("Is it kind?", "Sure.")
    assert type(verdict).__name__ == "PanelVerdict" and verdict.models == ("m1", "m2")
    assert verdict.confident_true(0.6)
"""


def script(fake: FakeOpenAI, *, precise_wins: bool = True) -> None:
    """The endpoint's answers: each order of each comparison, each model of each panel."""
    fake.rules.clear()
    precise, vague = ([("A", 0.8), ("B", 0.2)], [("B", 0.7), ("A", 0.3)])
    if not precise_wins:
        precise, vague = ([("B", 0.8), ("A", 0.2)], [("A", 0.7), ("B", 0.3)])
    fake.rule("Response A:\nRefunds within 30 days.", completion(precise))
    fake.rule("Response A:\nNo idea.", completion(vague))
    fake.rule("friendlier", completion([("A", 0.75), ("B", 0.25)]))
    for model, (p_true, p_false) in {"m1": (0.9, 0.1), "m2": (0.8, 0.1), "m3": (0.2, 0.7)}.items():
        fake.rule("polite", verdict(p_true, p_false), model=model)
    fake.rule("kind", verdict(0.9, 0.1), model="m1")
    fake.rule("kind", verdict(0.6, 0.3), model="m2")


@pytest.fixture
def recorded(judged: pytest.Pytester, fake_openai: FakeOpenAI) -> pytest.Pytester:
    """A suite of comparisons and panels, recorded once; later runs replay it."""
    script(fake_openai)
    judged.makepyfile(test_pair=PAIR_TESTS, test_panel=PANEL_TESTS)
    result = judged.runpytest("-p", "no:xdist", "--llm-record-mode=once")
    result.assert_outcomes(passed=4, failed=1)
    return judged


def report(project: pytest.Pytester, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((project.path / name).read_text())
    return data


def test_comparisons_and_panels_are_recorded_and_replayed_offline(
    recorded: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """Every order and every member is in the test's cassette; a replay sends nothing and gives the same."""
    assert sorted(p.name for p in (recorded.path / "cassettes").rglob("*.yaml")) == [
        "test_a_panel_of_three.yaml",
        "test_many_and_awaited.yaml",
        "test_prefers_the_precise_reply.yaml",
        "test_the_marker_makes_every_judge_call_a_panel.yaml",
        "test_the_order_decides.yaml",
    ]
    sent = len(fake_openai.requests)
    assert sent == 2 + 2 + 6 + 3 + 2
    result = recorded.runpytest("-p", "no:xdist", "--llm-record-mode=none", "--llm-report=replay.json")
    result.assert_outcomes(passed=4, failed=1)
    assert len(fake_openai.requests) == sent
    data = report(recorded, "replay.json")
    assert all(c["replayed"] and all(o["replayed"] for o in c["orders"]) for c in data["comparisons"])
    assert all(p["replayed"] for p in data["panels"])


def test_the_failure_says_the_order_decided(recorded: pytest.Pytester) -> None:
    """A preference the position decided fails with both orders named on the assertion line."""
    result = recorded.runpytest("-p", "no:xdist", "--llm-record-mode=none", "test_pair.py")
    result.stdout.fnmatch_lines(
        [
            "E       AssertionError: assert <prefers failed: undecided (p_a 0.50, p_b 0.50), needed a >= 0.60; the order "
            "decided: A first chose a 0.75, B first chose b 0.75; position bias +0.25; "
            "q='Which reply is friendlier?'>",
            "*- llm verdicts -*",
            "orders:     the order decided: A first chose a 0.75, B first chose b 0.75; inconsistent; "
            "position bias +0.2500",
        ]
    )


def test_the_summary_counts_comparisons_and_each_pair_of_panel_models(recorded: pytest.Pytester) -> None:
    """Pairwise: how many, inconsistent, mean bias; panels: agreement and Cohen's kappa per pair."""
    result = recorded.runpytest("-p", "no:xdist", "--llm-record-mode=none")
    result.stdout.fnmatch_lines(
        [
            "*llm confidence summary*",
            "5 verdicts in 2 tests: 5 replayed, 0 live",
            "*",
            "5 comparisons (both orders): 2 inconsistent across orders; mean position bias +0.13; "
            "1 of 2 checks failed",
            "2 panels: mean agreement 0.83; 0 undecided; 0 of 2 checks failed",
            "  m1 ~ m2: agreed on 2 of 2 panels (1.00), kappa n/a (one label only)",
            "  m1 ~ m3: agreed on 0 of 1 panel (0.00), kappa 0.00",
            "  m2 ~ m3: agreed on 0 of 1 panel (0.00), kappa 0.00",
        ]
    )


def test_the_json_and_html_reports_list_comparisons_and_panels(recorded: pytest.Pytester) -> None:
    """comparisons and panels in the JSON report, with both orders and every member; sections in the HTML."""
    recorded.runpytest("-p", "no:xdist", "--llm-record-mode=none", "--llm-report=r.json", "--llm-html=r.html")
    data = report(recorded, "r.json")
    first = data["comparisons"][0]
    assert first["test_id"] == "test_pair.py::test_many_and_awaited" and first["kind"] == "comparison"
    precise = next(c for c in data["comparisons"] if c["test_id"].endswith("precise_reply"))
    assert precise["p_a"] == pytest.approx(0.75) and precise["consistent"] is True
    assert precise["position_bias"] == pytest.approx(0.05, abs=1e-9) and precise["status"] == "passed"
    assert [o["first"] for o in precise["orders"]] == ["a", "b"]
    assert data["summary"]["comparisons"]["count"] == 5
    assert data["summary"]["comparisons"]["inconsistent"] == 2
    (three, two) = sorted(data["panels"], key=lambda p: len(p["members"]), reverse=True)
    assert three["models"] == ["m1", "m2", "m3"] and three["agreement"] == pytest.approx(2 / 3)
    assert three["p_true"] == pytest.approx((0.9 + 0.8 / 0.9 + 0.2 / 0.9) / 3)
    assert two["checks"][0]["passed"] is True
    assert [v["model"] for v in data["verdicts"]] == ["m1", "m2", "m3", "m1", "m2"]
    html = (recorded.path / "r.html").read_text()
    assert "<h2>Comparisons (both orders)</h2>" in html and "<h2>Panels</h2>" in html
    assert "Cohen's kappa" in html and "A first chose a 0.75; B first chose b 0.75 (inconsistent)" in html


def test_xdist_workers_and_merged_shards_report_the_same_comparisons_and_panels(
    recorded: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    """Under -n 2, and merged from one report per file, the numbers equal one plain run's."""
    replay = ("--llm-record-mode=none",)
    recorded.runpytest("-p", "no:xdist", *replay, "--llm-report=all.json")
    recorded.runpytest("-n", "2", *replay, "--llm-report=xdist.json")
    for name in ("test_pair", "test_panel"):
        recorded.runpytest("-p", "no:xdist", *replay, f"{name}.py", f"--llm-report={name}.json")
    shards = [str(recorded.path / f"{name}.json") for name in ("test_pair", "test_panel")]
    assert main(["merge", *shards, "-o", str(recorded.path / "merged.json")]) == 0
    whole = report(recorded, "all.json")
    for other in (report(recorded, "xdist.json"), report(recorded, "merged.json")):
        assert other["summary"] == whole["summary"]
        for name in ("comparisons", "panels"):
            assert _stable(other[name]) == _stable(whole[name])


def _stable(records: list[dict[str, Any]]) -> list[Any]:
    return [{k: v for k, v in r.items() if "latency" not in k and k != "orders"} for r in records]


def test_a_preference_that_flipped_since_the_baseline_is_a_flip(
    recorded: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """--llm-baseline lists the comparison whose winner changed; --llm-fail-on-drop fails the run on it."""
    recorded.runpytest("-p", "no:xdist", "--llm-record-mode=none", "--llm-report=old.json")
    script(fake_openai, precise_wins=False)
    result = recorded.runpytest(
        "-p",
        "no:xdist",
        "--llm-record-mode=all",
        "--llm-baseline=old.json",
        "--llm-fail-on-drop",
        "test_pair.py",
    )
    result.stdout.fnmatch_lines(
        [
            "*llm baseline*",
            "*4 matched: 2 flipped*",
            "flipped     test_pair.py::test_many_and_awaited  a 0.75 -> b 0.75*",
            "flipped     test_pair.py::test_prefers_the_precise_reply  a 0.75 -> b 0.75*",
        ]
    )
    assert result.ret == 1


def test_the_pairwise_hook_example_replaces_the_prompt(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """The build_pairwise_messages docstring example, as a conftest, is what each order sends."""
    judged.makeconftest(docstring_example("pytest_llmconfidence_build_pairwise_messages"))
    judged.makepyfile("def test_it(judge):\n    judge.compare('Which is kinder?', 'Thanks!', 'Go away.')\n")
    judged.runpytest().assert_outcomes(passed=1)
    assert sorted(r.body["messages"][1]["content"] for r in fake_openai.requests) == [
        "Question: Which is kinder?\n\nA: Go away.\n\nB: Thanks!",
        "Question: Which is kinder?\n\nA: Thanks!\n\nB: Go away.",
    ]
    assert fake_openai.requests[0].body["messages"][0]["content"].startswith("Pick the more helpful reply.")


def test_llm_panel_makes_every_judge_call_a_panel_unless_a_call_names_its_model(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """The ini's panel asks each model; judge(..., model=...) asks that one; a bad panel is a usage error."""
    fake_openai.rule("polite", verdict(0.6, 0.4), model="small")
    fake_openai.rule("polite", verdict(0.95, 0.05), model="large")
    judged.makepyfile(
        """
        import pytest

        def test_it(judge):
            panel = judge("Is it polite?", "Thanks!")
            assert type(panel).__name__ == "PanelVerdict" and panel.models == ("small", "large")
            assert abs(panel.p_true - 0.775) < 1e-9
            assert type(judge("Is it polite?", "Thanks!", model="large")).__name__ == "Verdict"

        @pytest.mark.llm(panel=[])
        def test_one_judge(judge):
            assert type(judge("Is it polite?", "Thanks!")).__name__ == "Verdict"
        """
    )
    judged.runpytest("-o", "llm_panel=small large").assert_outcomes(passed=2)
    models = [r.body["model"] for r in fake_openai.requests]
    assert sorted(models[:2]) == ["large", "small"] and models[2:] == ["large", "fake-judge"]
    result = judged.runpytest("-o", "llm_panel=small")
    result.stderr.fnmatch_lines(["*llm_panel: * is not valid; give at least two distinct model names*"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_bad_arguments_say_what_to_give(judged: pytest.Pytester) -> None:
    """compare needs two strings, panel two distinct models, compare_many triples."""
    judged.makepyfile(
        """
        import pytest

        def test_it(judge):
            with pytest.raises(TypeError, match="judge.compare.. needs b as a string, got NoneType"):
                judge.compare("Which?", "x", None)
            with pytest.raises(ValueError, match="at least two distinct model names"):
                judge.panel("Is it?", "x", models=["m1", "m1"])
            with pytest.raises(TypeError, match="models=.*not model="):
                judge.panel("Is it?", "x", models=["m1", "m2"], model="m3")
            with pytest.raises(TypeError, match=r"\\(question, a, b\\[, context\\]\\) tuples"):
                judge.compare_many([("Which?", "x")])
        """
    )
    judged.runpytest().assert_outcomes(passed=1)


def test_every_comparison_and_panel_reaches_the_summary_hook(recorded: pytest.Pytester) -> None:
    """pytest_llmconfidence_summary receives the records of kind comparison and panel."""
    recorded.makeconftest(
        """
        def pytest_llmconfidence_summary(records, config):
            kinds = sorted({r["kind"] for r in records})
            return ["kinds: " + ", ".join(kinds)]
        """
    )
    result = recorded.runpytest("-p", "no:xdist", "--llm-record-mode=none")
    result.stdout.fnmatch_lines(["kinds: comparison, panel, verdict"])
