"""Scores and choices in batches (score_many, choose_many), awaited (ascore, achoose) and through a hook."""

from __future__ import annotations

import json
from typing import Any

import openai  # noqa: F401  (loaded once here, not again in every in-process inner run)
import pytest
from fake_openai import FakeOpenAI, Reply, completion

ANYIO_ON_ASYNCIO = """
    import pytest
    @pytest.fixture
    def anyio_backend():
        return "asyncio"
    """


def _report(pytester: pytest.Pytester) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((pytester.path / "report.json").read_text())
    return data


def test_score_many_and_choose_many_come_back_in_input_order_whatever_finishes_first(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """The slowest first: results, and their records in the report, still come in the order of the items."""
    for n, delay in enumerate([0.5, 0.4, 0.3, 0.2]):
        fake_openai.rule(f"grade {n}", Reply(completion([(str(n + 1), 0.9), ("5", 0.05)]), delay_s=delay))
        fake_openai.rule(f"pick {n}", Reply(completion([("red" if n % 2 else "blue", 0.8)]), delay_s=delay))
    fake_openai.max_in_flight = 0
    judged.makepyfile(
        """
        def test_batch(judge):
            scores = judge.score_many([(f"grade {n}?", f"answer {n}") for n in range(4)], concurrency=4)
            assert [s.value for s in scores] == [1, 2, 3, 4]
            assert [s.response for s in scores] == [f"answer {n}" for n in range(4)]
            choices = judge.choose_many([f"pick {n}?" for n in range(4)], options=["red", "blue"])
            assert [c.value for c in choices] == ["blue", "red", "blue", "red"]
            assert all(c.confident(c.value, 0.75) for c in choices)
        """
    )
    judged.runpytest("--llm-report=report.json").assert_outcomes(passed=1)
    assert fake_openai.max_in_flight == 4
    report = _report(judged)
    assert [s["question"] for s in report["scores"]] == [f"grade {n}?" for n in range(4)]
    assert [c["question"] for c in report["choices"]] == [f"pick {n}?" for n in range(4)]
    assert [len(c["checks"]) for c in report["choices"]] == [1, 1, 1, 1]


def test_batched_scores_replay_the_same_whatever_the_concurrency(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """Recorded at concurrency 8, replayed at 1 (and back): the same scores, identical requests included."""
    fake_openai.rule("same", [Reply(completion([("5", 0.9)]), delay_s=0.05), Reply(completion([("2", 0.6)]))])
    fake_openai.rule("other", completion([("3", 0.7)]))
    fake_openai.rule("tone", completion([("B", 0.8), ("A", 0.1)]))
    judged.makepyfile(
        """
        import os
        def test_batch(judge):
            n = int(os.environ["CONCURRENCY"])
            scores = judge.score_many([("same?", "x"), ("other?", "y"), ("same?", "x")], concurrency=n)
            (choice,) = judge.choose_many(["tone?"], options=["very formal", "warm and kind"], concurrency=n)
            print("GOT", [(s.value, round(s.confidence, 1), s.replayed) for s in scores], choice.value)
        """
    )
    outputs = []
    for concurrency, mode in [("8", "all"), ("1", "none"), ("8", "none")]:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("CONCURRENCY", concurrency)
            result = judged.runpytest("-s", f"--llm-record-mode={mode}")
        result.assert_outcomes(passed=1)
        outputs.append(next(line[line.index("GOT") :] for line in result.stdout.lines if "GOT" in line))
    assert outputs[0] == "GOT [(5, 0.9, False), (3, 0.7, False), (2, 0.6, False)] warm and kind"
    assert outputs[1] == outputs[2] == outputs[0].replace("False", "True")


def test_batch_items_are_checked_before_any_request(judged: pytest.Pytester, fake_openai: FakeOpenAI) -> None:
    """Dict items take the call's keyword arguments; a bad item, scale or concurrency sends nothing."""
    fake_openai.rule("helpful", completion([("4", 0.7), ("3", 0.2)]))
    judged.makepyfile(
        """
        import pytest
        def test_batch(judge):
            (s,) = judge.score_many([{"question": "helpful?", "response": "r", "expected": 4}], scale=range(1, 6))
            assert (s.value, s.expected_label, s.scale) == (4, "4", (1, 2, 3, 4, 5))
            assert judge.score_many([]) == [] and judge.choose_many([], options=["a", "b"]) == []

        def test_refusals(judge):
            with pytest.raises(TypeError, match="judge.choose_many.. items as dicts need 'question' and may have response, context"):
                judge.choose_many([{"question": "q?", "expected": "a"}], options=["a", "b"])
            with pytest.raises(TypeError, match="dicts of judge.score.. arguments"):
                judge.score_many([42])
            with pytest.raises(ValueError, match="not on the scale 1, 2, 3"):
                judge.score_many(["ok?", {"question": "q?", "expected": 9}], scale=(1, 2, 3))
            with pytest.raises(ValueError, match="at least two distinct labels"):
                judge.score_many(["q?"], scale=(1,))
            with pytest.raises(ValueError, match="at least two distinct options"):
                judge.choose_many(["q?"], options="ab")
            with pytest.raises(ValueError, match="concurrency must be a whole number >= 1"):
                judge.score_many(["q?"], concurrency=0)
        """
    )
    judged.runpytest().assert_outcomes(passed=2)
    assert len(fake_openai.requests) == 1


def test_ascore_and_achoose_are_score_and_choose_awaited_and_replayed(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """Awaited concurrently: the same Score and Choice as the sync calls, recorded once, replayed offline."""
    fake_openai.rule("helpful", Reply(completion([("4", 0.6), ("5", 0.3)]), delay_s=0.1))
    fake_openai.rule("colour", Reply(completion([("red", 0.9), ("blue", 0.05)]), delay_s=0.1))
    fake_openai.max_in_flight = 0
    judged.makeconftest(ANYIO_ON_ASYNCIO)
    judged.makepyfile(
        """
        import asyncio
        import pytest
        @pytest.mark.anyio
        async def test_it(judge):
            s, c = await asyncio.gather(
                judge.ascore("How helpful?", "Great.", expected=4),
                judge.achoose("Which colour?", "It is red.", options=["red", "blue"]),
            )
            assert s.at_least(4, confidence=0.85) and c.confident("red", 0.9)
            assert (s.value, s.expected_label) == (4, "4")
            assert s.distribution == judge.score("How helpful?", "Great.").distribution
            print("GOT", s.value, round(s.confidence, 2), c.value, round(c.confidence, 2), s.replayed, c.replayed)
        """
    )
    judged.runpytest("-s", "--llm-record-mode=once").stdout.fnmatch_lines(["*GOT 4 0.6 red 0.9 False False*"])
    assert fake_openai.max_in_flight == 2
    served = len(fake_openai.requests)
    result = judged.runpytest("-s", "--llm-record-mode=none", "--llm-report=report.json")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*GOT 4 0.6 red 0.9 True True*"])
    assert len(fake_openai.requests) == served
    report = _report(judged)
    assert (len(report["scores"]), len(report["choices"])) == (2, 1)


def test_a_two_token_label_is_read_whichever_way_the_model_spells_it(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """0-10: "10" as one token, as "1" then "0" (split with the next position), and "1" at the end of text."""
    fake_openai.rule("one token", completion([("10", 0.7), ("9", 0.2), ("1", 0.05)]))
    fake_openai.rule("two tokens", completion([("1", 0.8), ("9", 0.15)], [("0", 0.9), ("\n", 0.05)]))
    fake_openai.rule("end of text", completion([("1", 0.8), ("10", 0.1), ("2", 0.05)]))
    fake_openai.rule("then a stop", completion([("1", 0.8), ("10", 0.1)], [(".", 0.7), ("0", 0.2)]))
    judged.makepyfile(
        """
        import pytest
        def distribution(s):
            return {label: round(p, 4) for label, p in s.distribution.items() if p}

        def test_it(judge):
            one = judge.score("one token?", scale=range(11))
            assert (one.value, one.token) == (10, "10")
            assert distribution(one) == {1: 0.05, 9: 0.2, 10: 0.7}

            two = judge.score("two tokens?", scale=range(11))
            assert (two.value, two.token, two.position) == (10, "10", 0)
            assert distribution(two) == {1: 0.08, 9: 0.15, 10: 0.72}
            assert two.at_least(10, confidence=0.72) and not two.at_least(10, confidence=0.73)

            end = judge.score("end of text?", scale=range(11))
            assert (end.value, end.token) == (1, "1")
            assert distribution(end) == {1: 0.8, 2: 0.05, 10: 0.1}

            stop = judge.score("then a stop?", scale=range(11))
            assert (stop.value, stop.token) == (1, "1")
            assert distribution(stop) == {1: 0.64, 10: 0.26}

            small = judge.score("two tokens?", scale=(1, 2, 3))
            assert distribution(small) == {1: 0.8}
        """
    )
    judged.runpytest().assert_outcomes(passed=1)


def test_graded_messages_hook_example_rewrites_the_score_prompt_only(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """The hookspec's example, as a conftest: scores get its prompt; choices and verdicts keep theirs."""
    from test_hooks import docstring_example

    judged.makeconftest(docstring_example("pytest_llmconfidence_build_graded_messages"))
    judged.makepyfile(
        """
        def test_it(judge):
            judge.score("Is it clear?", "Yes.", scale=("poor", "good"))
            judge.choose("Which colour?", "Red.", options=["red", "blue"])
            judge("Is it polite?", "Thanks!")
        """
    )
    judged.runpytest().assert_outcomes(passed=1)
    score, choice, verdict = (request.body["messages"] for request in fake_openai.requests)
    assert score == [
        {"role": "system", "content": "Grade harshly. Reply with one of poor, good only."},
        {"role": "user", "content": "Answer: Yes.\n\nQuestion: Is it clear?"},
    ]
    assert "Reply with exactly one of red, blue" in choice[0]["content"]
    assert "true or false" in verdict[0]["content"]


def test_graded_messages_hook_sees_every_kind_and_batched_and_awaited_calls(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """kind, labels and options reach the hook for choose, score_many and ascore; build_messages is not asked."""
    fake_openai.default = Reply(completion([("B", 0.9)]))
    judged.makeconftest(
        ANYIO_ON_ASYNCIO
        + """
    def pytest_llmconfidence_build_messages(question):
        raise AssertionError("scores and choices do not use build_messages")

    def pytest_llmconfidence_build_graded_messages(kind, question, labels, options, config):
        print("HOOK", kind, question, labels, options, config.model)
        return [{"role": "user", "content": f"{kind}: {question} ({'/'.join(labels)})"}]
    """
    )
    judged.makepyfile(
        """
        import pytest
        @pytest.mark.anyio
        async def test_it(judge):
            c = judge.choose("tone?", options=["very formal", "warm"], model="m2")
            assert c.value == "warm"
            judge.score_many(["a?", "b?"], scale=("A", "B"))
            await judge.ascore("c?", scale=(1, 2))
        """
    )
    result = judged.runpytest("-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*HOOK choice tone? ('A', 'B') ('very formal', 'warm') m2",
            "HOOK score a? ('A', 'B') ('A', 'B') fake-judge",
            "HOOK score b? ('A', 'B') ('A', 'B') fake-judge",
            "HOOK score c? ('1', '2') ('1', '2') fake-judge",
        ]
    )
    # The batch's two requests are in flight together, so the server may see them in either order.
    assert sorted(r.body["messages"][0]["content"] for r in fake_openai.requests) == [
        "choice: tone? (A/B)",
        "score: a? (A/B)",
        "score: b? (A/B)",
        "score: c? (1/2)",
    ]


def test_graded_messages_hook_returning_none_leaves_the_default_prompt(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """An implementation that returns None falls through to the plugin's own prompt."""
    judged.makeconftest("def pytest_llmconfidence_build_graded_messages(kind):\n    return None\n")
    judged.makepyfile("def test_it(judge):\n    judge.score('Is it clear?', 'Yes.')\n")
    judged.runpytest().assert_outcomes(passed=1)
    (request,) = fake_openai.requests
    assert "exactly one of 1, 2, 3, 4, 5" in request.body["messages"][0]["content"]


def test_a_score_speaks_the_scale_as_given_and_its_record_as_text(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """On a scale of integers the value is an integer (0 too: not undecided); on words, a word; the JSON
    record keeps every label as text."""
    fake_openai.rule("zero?", completion([("0", 0.9), ("1", 0.05)]))
    fake_openai.rule("words?", completion([("good", 0.8), ("poor", 0.1)]))
    judged.makepyfile(
        """
        def test_it(judge):
            zero = judge.score("zero?", scale=range(11))
            assert (zero.value, zero.distribution[0], zero.scale[:3]) == (0, 0.9, (0, 1, 2))
            assert repr(zero).startswith("<Score 0 0.90") and zero.at_least(0, 0.9)
            word = judge.score("words?", scale=("poor", "good"))
            assert (word.value, word.distribution["good"]) == ("good", 0.8)
        """
    )
    judged.runpytest("--llm-report=report.json").assert_outcomes(passed=1)
    records = json.loads((judged.path / "report.json").read_text())["scores"]
    zero = next(r for r in records if r["question"] == "zero?")
    assert (zero["value"], zero["distribution"]["0"], zero["scale"][:2]) == ("0", 0.9, ["0", "1"])
