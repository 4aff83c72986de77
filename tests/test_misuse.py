"""Misuse that cost money or passed in silence: checked at the door, named, before any request is sent.

Each case is what a careless user (or an attacker editing a report) writes; each error names the argument
and what was given. The endpoint counts requests, so "before any request" is checked, not assumed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fake_openai import FakeOpenAI, Reply

from pytest_llmconfidence import Judge, JudgeConfig, JudgeResponseError, NoLogprobsError, Transport
from pytest_llmconfidence.__main__ import cli, main


@pytest.fixture
def judge(fake_openai: FakeOpenAI) -> Judge:
    """A judge talking to the scripted endpoint directly (no pytest run, no cassette)."""
    from openai import OpenAI

    client = OpenAI(api_key="sk-test-misuse-0123456789", base_url=fake_openai.base_url, max_retries=0)
    return Judge(JudgeConfig(model="fake-judge", base_url=fake_openai.base_url), Transport(client))


MISUSES = [
    pytest.param(lambda j: j.many("Is the reply polite?"), TypeError, "judge.many", "got str", id="many-str"),
    pytest.param(lambda j: j.score_many("ab"), TypeError, "score_many", "got str 'ab'", id="score_many-str"),
    pytest.param(
        lambda j: j.choose_many(b"ab", options=["a", "b"]), TypeError, "choose_many", "bytes", id="bytes"
    ),
    pytest.param(lambda j: j.many({"question": "q"}), TypeError, "many", "got dict", id="many-dict"),
    pytest.param(lambda j: j.many(5), TypeError, "many", "got int 5", id="many-int"),
    pytest.param(
        lambda j: j("q?", "r", true_labels=5), TypeError, "true_labels", "5 is not valid", id="labels-5"
    ),
    pytest.param(
        lambda j: j("q?", "r", true_labels=["yes"], false_labels=["Yes"]),
        TypeError,
        "'yes' is both a true and a false label",
        "false labels ('Yes',)",
        id="same-labels",
    ),
    pytest.param(
        lambda j: j("q?", "r", model=None), TypeError, "model", "None is not valid", id="model-none"
    ),
    pytest.param(
        lambda j: j("q?", "r", threshold=True), TypeError, "threshold", "True is not valid", id="thr-true"
    ),
    pytest.param(
        lambda j: j.ask(None), TypeError, "judge.ask() needs the prompt", "NoneType None", id="ask-none"
    ),
    pytest.param(lambda j: j.ask(""), TypeError, "judge.ask() needs the prompt", "str ''", id="ask-empty"),
    pytest.param(
        lambda j: j.ask([{"content": "x"}]), TypeError, "list of chat messages", "list", id="ask-no-role"
    ),
    pytest.param(lambda j: j.ask("Hi", model=5), TypeError, "model", "got 5", id="ask-model-int"),
    pytest.param(
        lambda j: j.choose("Which?", "r", options=["refund", "  "]),
        ValueError,
        "options that are not blank",
        "'  '",
        id="blank-option",
    ),
    pytest.param(lambda j: j(None, "r"), TypeError, "question", "got None", id="question-none"),
]


@pytest.mark.parametrize(("call", "error", "names", "given"), MISUSES)
def test_misuse_is_refused_at_the_door_naming_the_argument_before_any_request(
    judge: Judge, fake_openai: FakeOpenAI, call: Any, error: type[Exception], names: str, given: str
) -> None:
    """Each misuse is a TypeError or ValueError naming the argument and what was given; nothing is sent."""
    with pytest.raises(error) as info:
        call(judge)
    assert names in str(info.value) and given in str(info.value), str(info.value)
    assert fake_openai.requests == []


@pytest.mark.parametrize(
    ("check", "error", "fragment"),
    [
        (
            lambda v: v.confident_true("high"),
            TypeError,
            "confident_true(threshold=...) takes a number from 0 to 1, got 'high' (str)",
        ),
        (lambda v: v.confident_false(True), TypeError, "got True (bool)"),
        (lambda v: v.confident_true(1.5), ValueError, "between 0 and 1, got 1.5"),
        (lambda v: v.confident_true(float("nan")), ValueError, "got nan"),
    ],
    ids=["str", "bool", "above-1", "nan"],
)
def test_a_checks_threshold_is_a_number_from_0_to_1(
    judge: Judge, check: Any, error: type[Exception], fragment: str
) -> None:
    """confident_true("high") and confident_false(True) name the argument; nothing is recorded as checked."""
    verdict_ = judge("Is it polite?", "Thank you!")
    with pytest.raises(error) as info:
        check(verdict_)
    assert fragment in str(info.value)
    assert verdict_.checks == ()


@pytest.mark.parametrize(
    ("marker", "fragment"),
    [
        ("model=None", "model: None is not valid"),
        ("threshold=True", "threshold: True is not valid"),
        ("true_labels=5", "true_labels: 5 is not valid"),
        ("true_labels=['no'], false_labels=['no']", "'no' is both a true and a false label"),
    ],
)
def test_a_marker_misuse_is_a_usage_error_naming_the_argument(
    pytester: pytest.Pytester, marker: str, fragment: str
) -> None:
    """@pytest.mark.llm(model=None) and friends stop the test with the argument named, no request made."""
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.llm({marker})
        def test_it(judge):
            judge("Is it polite?", "Thank you!")
        """
    )
    result = pytester.runpytest("--llm-base-url=http://127.0.0.1:9/v1", "--llm-record-mode=all")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*@pytest.mark.llm: {fragment}*"])


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("http://[::1", "'http://[::1' is not a valid URL (Invalid IPv6 URL)"),
        ("127.0.0.1:8080/v1", "give an http or https URL with a host"),
        ("http://host:port/v1", "is not a valid URL"),
    ],
)
def test_a_base_url_that_does_not_parse_is_a_usage_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, url: str, fragment: str
) -> None:
    """OPENAI_BASE_URL=http://[::1 is a usage error naming the option, not a ValueError deep in the client."""
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    pytester.makepyfile("def test_it():\n    pass\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*llm_base_url: *{fragment}*(from the env*"])


def test_identical_true_and_false_labels_in_the_ini_are_a_usage_error(pytester: pytest.Pytester) -> None:
    """llm_true_labels = yes, llm_false_labels = Yes: a verdict would be both; the run stops at the start."""
    pytester.makeini("[pytest]\nllm_true_labels = true yes\nllm_false_labels = false Yes\n")
    pytester.makepyfile("def test_it():\n    pass\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*'yes' is both a true and a false label*"])


# --- answers that are not what they seem ------------------------------------------------------------

TOOL_CALL = {
    "id": "c",
    "object": "chat.completion",
    "model": "fake-judge",
    "choices": [
        {
            "index": 0,
            "finish_reason": "tool_calls",
            "logprobs": None,
            "message": {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "t1", "type": "function", "function": {"name": "lookup_order", "arguments": "{}"}}
                ],
            },
        }
    ],
}


def test_a_tool_call_only_answer_is_a_judge_response_error_not_no_logprobs(
    judge: Judge, fake_openai: FakeOpenAI
) -> None:
    """An answer that only calls a tool is not an endpoint without logprobs: it names the tool call."""
    fake_openai.rule("tool", TOOL_CALL)
    with pytest.raises(JudgeResponseError) as info:
        judge("Does the tool answer?", "r")
    assert not isinstance(info.value, NoLogprobsError)
    assert "tool call (lookup_order)" in str(info.value) and "finish_reason 'tool_calls'" in str(info.value)


def test_a_200_carrying_an_error_shows_the_servers_message(judge: Judge, fake_openai: FakeOpenAI) -> None:
    """{"error": {"message": ...}} with status 200 (some proxies do this) shows what the server said."""
    fake_openai.rule(
        "proxy", {"error": {"message": "upstream quota exhausted for this project", "code": 429}}
    )
    with pytest.raises(JudgeResponseError) as info:
        judge("Does the proxy answer?", "r")
    assert "upstream quota exhausted for this project" in str(info.value)
    assert "HTTP 200" in str(info.value)


def test_a_malformed_answer_recorded_behind_pytest_raises_replays_as_the_same_error(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A test that expects JudgeResponseError from a broken body passes live and replayed alike (it was a
    CassetteCorruptError on replay); a cassette edited by hand into broken JSON is still corrupt."""
    fake_openai.rule("broken", Reply({}, raw=b'{"choices": [ '))
    judged.makepyfile(
        test_x="""
        import pytest
        from pytest_llmconfidence import JudgeResponseError

        def test_it(judge):
            with pytest.raises(JudgeResponseError, match="not JSON"):
                judge("Is the broken answer read?", "r")
        """
    )
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-recorded-0123456789")
    judged.runpytest("--llm-record-mode=once").assert_outcomes(passed=1)
    monkeypatch.delenv("OPENAI_API_KEY")
    cassette = judged.path / "cassettes" / "test_x" / "test_it.yaml"
    monkeypatch.setenv("CI", "true")
    judged.runpytest("--llm-base-url=http://127.0.0.1:9/v1").assert_outcomes(passed=1)
    # the same broken body typed in by hand, without the mark of a recording: corrupt, named
    text = cassette.read_text()
    cassette.write_text("\n".join(line for line in text.splitlines() if "malformed_body" not in line) + "\n")
    result = judged.runpytest("--llm-base-url=http://127.0.0.1:9/v1")
    result.stdout.fnmatch_lines(["*CassetteCorruptError*test_it.yaml*does not parse*"])


# --- the command line ----------------------------------------------------------------------------

GOOD = {
    "kind": "verdict",
    "test_id": "t.py::t",
    "question": "q",
    "model": "m",
    "value": True,
    "confidence": 0.9,
    "threshold": 0.9,
    "checks": [{"kind": "confident_true", "threshold": 0.9, "passed": True, "score": 0.9}],
}

CORRUPT = [
    pytest.param({**GOOD, "confidence": 1.7}, "confidence 1.7, not a number from 0 to 1", id="confidence"),
    pytest.param({**GOOD, "test_id": 7}, "test_id 7, not text", id="test-id"),
    pytest.param({**GOOD, "question": ["q"]}, "question ['q'], not text", id="question"),
    pytest.param({**GOOD, "value": "true"}, "value 'true', not true, false or null", id="value"),
    pytest.param({**GOOD, "expected": 1}, "expected 1, not true, false or null", id="expected"),
    pytest.param({**GOOD, "threshold": "0.9"}, "threshold '0.9', not a number from 0 to 1", id="threshold"),
    pytest.param({**GOOD, "checks": {"passed": True}}, "checks dict, not a list", id="checks-dict"),
    pytest.param({**GOOD, "checks": ["ok"]}, "checks[0] str, not an object", id="check-str"),
    pytest.param(
        {**GOOD, "checks": [{"passed": "yes"}]}, "checks[0].passed 'yes', not true or false", id="passed"
    ),
    pytest.param("verdict", "entry 0 of 'verdicts' is str, not an object", id="entry-str"),
]


@pytest.mark.parametrize(("entry", "fragment"), CORRUPT)
def test_compare_merge_and_calibrate_name_a_corrupt_entry_and_exit_with_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], entry: Any, fragment: str
) -> None:
    """Every command names the entry and what is wrong with it, on one line, with exit status 2."""
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps({"verdicts": [GOOD]}))
    bad.write_text(json.dumps({"verdicts": [entry]}))
    for argv in (
        ["compare", str(good), str(bad)],
        ["merge", str(good), str(bad), "-o", str(tmp_path / "out.json"), "--allow-duplicates"],
        ["calibrate", str(bad)],
    ):
        capsys.readouterr()
        assert cli(argv) == 2, argv
        err = capsys.readouterr().err
        assert fragment in err and "bad.json" in err and "Traceback" not in err
    assert not (tmp_path / "out.json").exists()


def test_compare_and_merge_show_no_known_secret_in_any_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key of the environment found in a report (a test id, a question) reads *** in compare's text,
    Markdown and HTML, in merge's JSON and HTML, and in their error lines."""
    key = "sk-live-cli0123456789abcdef"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    entry = {**GOOD, "test_id": f"t.py::t[{key}]", "question": f"Is {key} hidden?"}
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps({"verdicts": [entry]}))
    new.write_text(json.dumps({"verdicts": [{**entry, "value": False}]}))
    files = [tmp_path / name for name in ("c.html", "m.json", "m.html")]
    for argv, names_the_test in (
        (["compare", str(old), str(new)], True),
        (["compare", str(old), str(new), "--markdown", "--html", str(files[0])], True),
        (["merge", str(old), "-o", str(files[1]), "--html", str(files[2])], False),
        (["merge", str(old), str(old), "-o", str(tmp_path / "twice.json")], True),  # the error line
    ):
        cli(argv)
        shown = "".join(capsys.readouterr())
        assert key not in shown, argv
        assert ("t.py::t[***]" in shown) is names_the_test, argv
    for path in files:
        text = path.read_text()
        assert key not in text and "[***]" in text, path


def test_merge_keeps_scores_and_choices_it_used_to_drop(tmp_path: Path) -> None:
    """A shard's scores and choices reach the merged report (merge kept only verdicts and responses)."""
    score = {
        "kind": "score",
        "test_id": "s.py::s",
        "question": "q",
        "model": "m",
        "value": "4",
        "confidence": 0.8,
    }
    choice = {
        "kind": "choice",
        "test_id": "c.py::c",
        "question": "q",
        "model": "m",
        "value": "A",
        "confidence": 0.7,
    }
    (tmp_path / "a.json").write_text(json.dumps({"verdicts": [GOOD], "scores": [score]}))
    (tmp_path / "b.json").write_text(json.dumps({"verdicts": [], "choices": [choice]}))
    out = tmp_path / "all.json"
    assert main(["merge", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "-o", str(out)]) == 0
    merged = json.loads(out.read_text())
    assert [s["test_id"] for s in merged["scores"]] == ["s.py::s"]
    assert [c["test_id"] for c in merged["choices"]] == ["c.py::c"]


def test_compare_piped_into_head_ends_without_a_broken_pipe_traceback(tmp_path: Path) -> None:
    """`pytest-llmconfidence compare old new | head -1`: the first line, and no BrokenPipeError."""
    old = [{**GOOD, "test_id": f"t.py::t{i}", "question": f"question {i} " + "x" * 80} for i in range(3000)]
    new = [{**entry, "value": False, "confidence": 0.6} for entry in old]
    (tmp_path / "old.json").write_text(json.dumps({"verdicts": old}))
    (tmp_path / "new.json").write_text(json.dumps({"verdicts": new}))
    command = f"{sys.executable} -m pytest_llmconfidence compare old.json new.json | head -1"
    done = subprocess.run(command, shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.stdout.startswith("compared old.json (before) with new.json (now)")
    assert "BrokenPipeError" not in done.stderr and "Traceback" not in done.stderr, done.stderr
