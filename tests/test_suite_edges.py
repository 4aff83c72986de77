"""Edges a real suite meets: the short test summary in -v, native TOML options, hand-edited reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fake_openai import FakeOpenAI, completion, verdict

from pytest_llmconfidence import response_confidence
from pytest_llmconfidence.__main__ import main


def test_verbose_short_summary_lines_keep_pytests_outcome_then_node_id(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """-v -rA: the progress line shows the confidence; the short summary stays `FAILED <nodeid> - msg`."""
    fake_openai.rule("kind", verdict(0.20, 0.80))
    fake_openai.rule("polite", verdict(0.97, 0.03))
    judged.makepyfile(
        test_v="def test_kind(judge):\n    assert judge('Is it kind?', 'x').confident_true(0.9)\n\n"
        "def test_polite(judge):\n    assert judge('Is it polite?', 'x').confident_true(0.9)\n"
    )
    result = judged.runpytest("-p", "no:xdist", "-v", "-rA")
    result.stdout.fnmatch_lines(
        [
            "test_v.py::test_kind FAILED [[]false 0.80[]]*",
            "test_v.py::test_polite PASSED [[]true 0.97[]]*",
            "*short test summary info*",
            "PASSED test_v.py::test_polite",
            "FAILED test_v.py::test_kind - AssertionError: *",
        ]
    )
    summary = result.stdout.str().split("short test summary info")[1]
    assert "[false 0.80]" not in summary and "[true 0.97]" not in summary


@pytest.mark.skipif(pytest.version_tuple < (9, 2), reason="typed options of [tool.pytest] need pytest 9.2")
def test_native_toml_options_take_numbers_and_booleans(pytester: pytest.Pytester) -> None:
    """pytest 9's [tool.pytest] table: `llm_threshold = 0.8` and `llm_watch = true`, as TOML users write them."""
    pytester.makepyprojecttoml(
        """
        [tool.pytest]
        llm_threshold = 0.8
        llm_top_logprobs = 5
        llm_borderline = 0
        llm_watch = true
        llm_calibration = false
        llm_baseline_margin = 1
        llm_progress_delay = 3
        llm_true_labels = ["true", "correct"]
        """
    )
    pytester.makepyfile(
        test_c="def test_c(judge_config):\n"
        "    c = judge_config\n"
        "    assert (c.threshold, c.top_logprobs, c.borderline, c.watch, c.calibration) == (0.8, 5, 0, True, False)\n"
        "    assert (c.baseline_margin, c.progress_delay, c.true_labels) == (1, 3, ('true', 'correct'))\n"
    )
    result = pytester.runpytest("-p", "no:xdist")
    result.assert_outcomes(passed=1)
    bad = pytester.runpytest("-p", "no:xdist", "-o", "llm_threshold=2")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*llm_threshold: '2' is not valid*"])


def test_ini_file_options_still_read_as_text(pytester: pytest.Pytester) -> None:
    """An ini file's values are text, as before: numbers, switches and label lists parse the same."""
    pytester.makeini(
        "[pytest]\nllm_threshold = 0.75\nllm_top_logprobs = 3\nllm_watch = yes\nllm_false_labels = no nope\n"
    )
    pytester.makepyfile(
        test_c="def test_c(judge_config):\n"
        "    c = judge_config\n"
        "    assert (c.threshold, c.top_logprobs, c.watch, c.false_labels) == (0.75, 3, True, ('no', 'nope'))\n"
    )
    pytester.runpytest("-p", "no:xdist").assert_outcomes(passed=1)


GOOD_REPORT = {
    "version": 1,
    "verdicts": [
        {"kind": "verdict", "test_id": "t.py::t", "question": "q", "value": True, "confidence": 0.9}
    ],
}


@pytest.mark.parametrize(
    ("report", "message"),
    [
        ({"verdicts": [1, 2]}, "entry 0 of 'verdicts' is int, not an object"),
        ({"verdicts": [], "scores": "x"}, "'scores' is str, not a list"),
        (
            {"verdicts": [{"test_id": "t", "question": "q", "confidence": "high"}]},
            "entry 0 of 'verdicts' has confidence 'high', not a number from 0 to 1",
        ),
        (
            {"verdicts": [{"test_id": "t", "question": "q", "confidence": float("nan")}]},
            "entry 0 of 'verdicts' has confidence nan, not a number from 0 to 1",
        ),
        (
            {"verdicts": [], "app_responses": [{"test_id": "t"}, None]},
            "entry 1 of 'app_responses' is null, not an object",
        ),
    ],
)
def test_compare_and_merge_refuse_a_report_of_the_wrong_shape_naming_the_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], report: dict[str, Any], message: str
) -> None:
    """A hand-edited report is refused with the entry that is wrong, never read as if it were empty."""
    (tmp_path / "good.json").write_text(json.dumps(GOOD_REPORT))
    (tmp_path / "bad.json").write_text(json.dumps(report))
    for argv in (
        ["compare", str(tmp_path / "bad.json"), str(tmp_path / "good.json")],
        ["merge", str(tmp_path / "bad.json"), "-o", str(tmp_path / "out.json")],
    ):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert message in str(exc.value) and "bad.json" in str(exc.value)
    assert not (tmp_path / "out.json").exists()


def test_a_baseline_of_the_wrong_shape_is_a_usage_error(pytester: pytest.Pytester) -> None:
    """--llm-baseline reads reports the same way: a wrong entry stops the run before any test."""
    (pytester.path / "old.json").write_text(json.dumps({"verdicts": ["x"]}))
    pytester.makepyfile(test_one="def test_one():\n    pass\n")
    result = pytester.runpytest("-p", "no:xdist", "--llm-baseline=old.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*old.json*entry 0 of 'verdicts' is str, not an object*"])


def test_merge_and_compare_name_an_output_they_cannot_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """-o or --html naming a folder: one error line saying which file could not be written, no traceback."""
    good = tmp_path / "good.json"
    good.write_text(json.dumps(GOOD_REPORT))
    folder = tmp_path / "out"
    folder.mkdir()
    for argv, what in (
        (["merge", str(good), "-o", str(folder)], "merged report"),
        (["merge", str(good), "-o", str(tmp_path / "m.json"), "--html", str(folder)], "HTML report"),
        (["compare", str(good), str(good), "--html", str(folder)], "comparison"),
    ):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert str(exc.value).startswith(f"error: cannot write the {what} to {folder}")


def test_merge_refuses_a_summary_field_that_is_not_a_number(tmp_path: Path) -> None:
    """A shard whose summary says `"borderline_band": "wide"` is named, not a ValueError traceback."""
    shard = tmp_path / "shard.json"
    shard.write_text(json.dumps({**GOOD_REPORT, "summary": {"borderline_band": "wide"}}))
    with pytest.raises(SystemExit) as exc:
        main(["merge", str(shard), "-o", str(tmp_path / "m.json")])
    assert "shard.json" in str(exc.value) and "borderline_band" in str(exc.value)


@pytest.mark.parametrize(
    "flag", ["--llm-report", "--llm-html", "--llm-cassette-dir", "--llm-baseline", "--llm-calibration-file"]
)
def test_an_empty_path_on_the_command_line_is_a_usage_error(pytester: pytest.Pytester, flag: str) -> None:
    """`--llm-report=$UNSET`: refused at start-up naming the option, not a write into the folder itself."""
    pytester.makepyfile(test_one="def test_one():\n    pass\n")
    result = pytester.runpytest("-p", "no:xdist", f"{flag}=")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    ini = "llm_" + flag.removeprefix("--llm-").replace("-", "_")
    result.stderr.fnmatch_lines(
        [f"*pytest-llmconfidence: {ini}: an empty value is not valid*(from the command line)"]
    )


WATCHED = """
import openai
import pytest

client = openai.OpenAI(base_url="{base_url}")


def ask(question):
    client.chat.completions.create(
        model="bot", messages=[{{"role": "user", "content": question}}], logprobs=True, top_logprobs=5
    )


def pytest_sessionfinish():
    client.close()
"""


@pytest.fixture
def watched(judged: pytest.Pytester, fake_openai: FakeOpenAI) -> pytest.Pytester:
    """A project whose code asks the scripted model, answered at a geometric mean of 0.8."""
    fake_openai.rule("capital", completion([("Paris", 0.8), ("Lyon", 0.1)]))
    judged.makeconftest(WATCHED.format(base_url=fake_openai.base_url))
    return judged


def test_the_unsure_warning_names_the_minimum_the_unsure_answers_were_held_to(
    watched: pytest.Pytester,
) -> None:
    """A marker's watch_min (0.95, 0.9) is what the warning cites, not the run's default 0.50."""
    watched.makepyfile(
        test_w="import pytest\nfrom conftest import ask\n\n"
        "@pytest.mark.llm(watch=True, watch_min=0.95)\ndef test_strict():\n    ask('capital?')\n\n"
        "@pytest.mark.llm(watch=True, watch_min=0.9)\ndef test_picky():\n    ask('capital?')\n\n"
        "@pytest.mark.llm(watch=True)\ndef test_default():\n    ask('capital?')\n"
    )
    result = watched.runpytest("-p", "no:xdist", "-k", "test_strict or test_default")
    result.stdout.fnmatch_lines(
        ["warning: 1 of 2 app responses unsure (geometric_mean below llm_watch_min 0.95)"]
    )
    result = watched.runpytest("-p", "no:xdist")
    result.stdout.fnmatch_lines(
        ["warning: 2 of 3 app responses unsure (geometric_mean below llm_watch_min 0.90 / 0.95)"]
    )


def test_an_xfail_test_whose_unsure_answer_fails_it_under_watch_strict_is_xfailed(
    watched: pytest.Pytester,
) -> None:
    """The strict watch's failure is the failure an xfail marker expects; a sure answer still XPASSes."""
    watched.makepyfile(
        test_x="import pytest\nfrom conftest import ask\n\n"
        "@pytest.mark.llm(watch=True, watch_strict=True, watch_min=0.95)\n"
        "@pytest.mark.xfail(reason='the bot guesses', strict=True)\n"
        "def test_strict_xfail():\n    ask('capital?')\n\n"
        "@pytest.mark.llm(watch=True, watch_strict=True, watch_min=0.95)\n"
        "@pytest.mark.xfail(reason='the bot guesses')\n"
        "def test_xfail():\n    ask('capital?')\n\n"
        "@pytest.mark.llm(watch=True, watch_strict=True)\n"
        "@pytest.mark.xfail(reason='sure now', strict=True)\n"
        "def test_sure_strict_xpass():\n    ask('capital?')\n\n"
        "@pytest.mark.llm(watch=True, watch_strict=True, watch_min=0.95)\n"
        "@pytest.mark.xfail(reason='wrong error', raises=KeyError)\n"
        "def test_xfail_other_error():\n    ask('capital?')\n"
    )
    result = watched.runpytest("-p", "no:xdist", "-rxXf")
    result.assert_outcomes(xfailed=2, failed=2)
    result.stdout.fnmatch_lines(
        [
            "XFAIL test_x.py::test_strict_xfail - the bot guesses",
            "XFAIL test_x.py::test_xfail - the bot guesses",
            "FAILED test_x.py::test_sure_strict_xpass*",
            "FAILED test_x.py::test_xfail_other_error*",
        ],
        consecutive=False,
    )
    # why each failed, in its section of the failures (pytest 8 leaves it out of the short summary)
    sections = result.stdout.str().split("short test summary info")[0]
    assert "[XPASS(strict)] sure now" in sections.split("_ test_sure_strict_xpass _")[1]
    assert (
        "llm_watch_strict: the code under test received 1 unsure"
        in sections.split("_ test_xfail_other_error _")[1]
    )


def test_calibrate_refuses_a_report_of_the_wrong_shape_naming_the_entry(tmp_path: Path) -> None:
    """`calibrate` reads reports as compare and merge do: an entry that is not an object is named."""
    (tmp_path / "bad.json").write_text(json.dumps({"verdicts": [GOOD_REPORT["verdicts"][0], "x"]}))
    with pytest.raises(SystemExit) as exc:
        main(["calibrate", str(tmp_path / "bad.json")])
    assert "bad.json" in str(exc.value) and "entry 1 of 'verdicts' is str, not an object" in str(exc.value)


@pytest.mark.parametrize("choice", ["0", -1, 1.0, True])
def test_response_confidence_refuses_a_choice_that_is_not_an_index(choice: Any) -> None:
    """`choice="0"` or `choice=-1` is a TypeError saying what choice takes, not a comparison error or
    the last choice read silently."""
    two = completion([("Hi", 0.9)])
    two["choices"].append({**two["choices"][0], "index": 1})
    with pytest.raises(TypeError, match=r"choice=\.\.\.\) takes a choice index, a whole number >= 0"):
        response_confidence(two, choice=choice)
    assert response_confidence(two, choice=1).text == "Hi"


BAD_PROMPTS = """
def pytest_llmconfidence_build_messages(question):
    if "text" in question:
        return "Reply true or false: " + question
    if "one" in question:
        return {"role": "user", "content": question}
    if "empty" in question:
        return []


def pytest_llmconfidence_build_graded_messages(question):
    return [("user", question)]
"""


def test_a_prompt_hook_that_returns_no_list_of_messages_is_named_before_anything_is_sent(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """A string, a lone dict, an empty list or tuples: a TypeError naming the hook, not a server's 400."""
    judged.makeconftest(BAD_PROMPTS)
    judged.makepyfile(
        test_p="import pytest\n\n"
        "@pytest.mark.parametrize('q', ['text', 'one', 'empty'])\n"
        "def test_verdict(judge, q):\n    judge(q, 'x')\n\n"
        "def test_score(judge):\n    judge.score('How good?', 'x')\n"
    )
    result = judged.runpytest("-p", "no:xdist")
    result.assert_outcomes(failed=4)
    out = result.stdout.str()
    for returned in (
        "pytest_llmconfidence_build_messages returned 'Reply true or false: text' (str); "
        "return a non-empty list of chat messages",
        "pytest_llmconfidence_build_messages returned {'role': 'user', 'content': 'one'} (dict)",
        "pytest_llmconfidence_build_messages returned [] (list)",
        "pytest_llmconfidence_build_graded_messages returned [('user', 'How good?')] (list)",
    ):
        assert f"E       TypeError: {returned}" in out
    assert fake_openai.requests == []
