"""The plugin's hooks, each implemented in a generated conftest; every hookspec's example runs as written."""

from __future__ import annotations

import inspect
import textwrap

import openai  # noqa: F401  (loaded once here, not again in every in-process inner run)
import pytest
from fake_openai import FakeOpenAI, Reply, completion

from pytest_llmconfidence import hookspec

HOOKS = sorted(name for name in vars(hookspec) if name.startswith("pytest_llmconfidence_"))


def docstring_example(name: str) -> str:
    """The code block after ``::`` in a hookspec's docstring, dedented."""
    doc = inspect.getdoc(getattr(hookspec, name)) or ""
    _, found, after = doc.partition("::\n\n")
    assert found, f"{name} has no example"
    lines = []
    for line in after.splitlines():
        if line and not line.startswith("    "):
            break
        lines.append(line)
    return textwrap.dedent("\n".join(lines)).strip() + "\n"


def test_every_hook_has_a_docstring_example_that_compiles() -> None:
    """Each hookspec documents itself with an implementation of itself."""
    assert HOOKS == [
        "pytest_llmconfidence_build_graded_messages",
        "pytest_llmconfidence_build_messages",
        "pytest_llmconfidence_build_pairwise_messages",
        "pytest_llmconfidence_summary",
        "pytest_llmconfidence_verdict",
    ]
    for name in HOOKS:
        code = docstring_example(name)
        assert f"def {name}(" in code
        compile(code, name, "exec")


def test_build_messages_example_replaces_the_prompt(judged: pytest.Pytester, fake_openai: FakeOpenAI) -> None:
    """The build_messages docstring example, as a conftest, is the prompt the endpoint receives."""
    judged.makeconftest(docstring_example("pytest_llmconfidence_build_messages"))
    judged.makepyfile("def test_it(judge):\n    judge('Is it polite?', 'Thanks!')\n")
    judged.runpytest().assert_outcomes(passed=1)
    assert fake_openai.requests[0].body["messages"] == [
        {"role": "system", "content": "Reply with one word: true or false. Be harsh."},
        {"role": "user", "content": "Answer: Thanks!\n\nQuestion: Is it polite?"},
    ]


def test_verdict_example_reports_low_coverage(judged: pytest.Pytester, fake_openai: FakeOpenAI) -> None:
    """The verdict docstring example, as a conftest, adds a report section for a low-coverage verdict."""
    fake_openai.rule("tone", completion([("Maybe", 0.6), ("true", 0.3)]))
    judged.makeconftest(docstring_example("pytest_llmconfidence_verdict"))
    judged.makepyfile("def test_it(judge):\n    judge('Is the tone friendly?')\n    judge('Is it short?')\n")
    result = judged.runpytest("-rA")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*Captured judge call*", "low coverage 0.30"])
    assert result.stdout.str().count("low coverage") == 1


def test_summary_example_adds_its_line_to_the_summary(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """The summary docstring example, as a conftest, adds its line to the confidence summary."""
    judged.makeconftest(docstring_example("pytest_llmconfidence_summary"))
    judged.makepyfile(
        """
        from pytest_llmconfidence import response_confidence

        def test_it(judge):
            judge("q1?")
            judge("q2?")
            entry = {"token": "Hi", "logprob": -0.1, "top_logprobs": []}
            response_confidence({"choices": [{"message": {"content": "Hi"}, "logprobs": {"content": [entry]}}]})
        """
    )
    result = judged.runpytest("--llm-record-mode=all")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*confidence*", "2 of 2 verdicts were live"])


def test_summary_example_sees_both_kinds_of_record(pytester: pytest.Pytester) -> None:
    """Called directly, the summary example counts verdict records and skips response records."""
    namespace: dict[str, object] = {}
    exec(docstring_example("pytest_llmconfidence_summary"), namespace)
    summary = namespace["pytest_llmconfidence_summary"]
    records = [
        {"kind": "verdict", "replayed": True, "test_id": "t::a"},
        {"kind": "verdict", "replayed": False, "test_id": "t::a"},
        {"kind": "response", "mean": 0.9, "test_id": "t::b"},
    ]
    assert summary(records=records, config=None) == ["1 of 2 verdicts were live"]  # type: ignore[operator]


def test_build_messages_returning_none_falls_back_to_the_default_prompt(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """An implementation that returns None leaves the prompt to the next one, finally the default."""
    judged.makeconftest(
        """
        def pytest_llmconfidence_build_messages(question):
            if "custom" in question:
                return [{"role": "user", "content": "mine: " + question}]
            return None
        """
    )
    judged.makepyfile("def test_it(judge):\n    judge('custom q?')\n    judge('plain q?')\n")
    judged.runpytest().assert_outcomes(passed=1)
    first, second = (r.body["messages"] for r in fake_openai.requests)
    assert first == [{"role": "user", "content": "mine: custom q?"}]
    assert second[0]["role"] == "system" and "true or false" in second[0]["content"]
    assert "plain q?" in second[-1]["content"]


def test_the_nearest_conftest_wins_the_prompt(judged: pytest.Pytester, fake_openai: FakeOpenAI) -> None:
    """firstresult: a sub-directory's conftest answers before the root one."""
    judged.makeconftest(
        """
        def pytest_llmconfidence_build_messages(question):
            return [{"role": "user", "content": "root: " + question}]
        """
    )
    sub = judged.mkpydir("sub")
    sub.joinpath("conftest.py").write_text(
        "def pytest_llmconfidence_build_messages(question):\n"
        "    return [{'role': 'user', 'content': 'sub: ' + question}]\n"
    )
    sub.joinpath("test_sub.py").write_text("def test_it(judge):\n    judge('q?')\n")
    judged.makepyfile("def test_root(judge):\n    judge('q?')\n")
    judged.runpytest("-p", "no:randomly").assert_outcomes(passed=2)
    contents = sorted(r.body["messages"][0]["content"] for r in fake_openai.requests)
    assert contents == ["root: q?", "sub: q?"]


def test_verdict_hook_gets_the_item_and_the_verdict_of_every_call(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """pytest_llmconfidence_verdict(item, verdict) is called once per judged call, after recording."""
    fake_openai.default = Reply(completion([("false", 0.8), ("true", 0.15)]))
    judged.makeconftest(
        """
        def pytest_llmconfidence_verdict(item, verdict):
            item.user_properties.append(("verdict", (verdict.question, verdict.value)))
        """
    )
    judged.makepyfile(
        """
        def test_it(judge, request):
            judge("a?")
            judge("b?")
            assert request.node.user_properties[-2:] == [("verdict", ("a?", False)), ("verdict", ("b?", False))]
        """
    )
    judged.runpytest().assert_outcomes(passed=1)


def test_a_hook_with_a_misspelt_argument_is_refused(judged: pytest.Pytester) -> None:
    """pluggy checks implementations against the specs: an unknown argument stops the run."""
    judged.makeconftest("def pytest_llmconfidence_verdict(item, verdit):\n    pass\n")
    judged.makepyfile("def test_it():\n    pass\n")
    result = judged.runpytest()
    assert result.ret != 0
    output = result.stdout.str() + result.stderr.str()
    assert "hookimpl definition: pytest_llmconfidence_verdict(item, verdit)" in output
    assert (
        "Argument(s) {'verdit'} are declared in the hookimpl but can not be found in the hookspec" in output
    )
