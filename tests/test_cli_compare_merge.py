"""``pytest-llmconfidence compare`` and ``merge`` on reports written by real runs (pytester)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fake_openai import FakeOpenAI, verdict

from pytest_llmconfidence.__main__ import main

FILES = {
    "test_a": "def test_a1(judge):\n    assert judge('Is a polite?', 'Yes.').confident_true(0.9)\n\n"
    "def test_a2(judge):\n    judge('Is a short?', 'Yes.')\n",
    "test_b": "def test_b(judge):\n    judge('Is b short?', 'Yes.')\n    judge('Is b short?', 'Yes!')\n",
    "test_c": "def test_c(judge):\n    assert judge('Is c kind?', 'No.').confident_true(0.9)\n",
}


@pytest.fixture
def recorded(judged: pytest.Pytester, fake_openai: FakeOpenAI) -> pytest.Pytester:
    """A three-file suite with cassettes recorded, so every later run replays the same verdicts."""
    fake_openai.rule("polite", verdict(0.97, 0.03))
    fake_openai.rule("a short", verdict(0.70, 0.30))
    fake_openai.rule("b short", verdict(0.55, 0.45))
    fake_openai.rule("kind", verdict(0.20, 0.80))
    judged.makepyfile(**FILES)
    judged.runpytest("-p", "no:xdist", "--llm-record-mode=all")
    return judged


def _without_latency(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "latency_s"} for r in report["verdicts"]]


def test_three_shards_merged_equal_one_unsharded_run(
    recorded: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    replay = ("-p", "no:xdist", "--llm-record-mode=none")
    recorded.runpytest(*replay, "--llm-report=all.json").assert_outcomes(passed=3, failed=1)
    for name in FILES:
        recorded.runpytest(*replay, f"{name}.py", f"--llm-report={name}.json")
    shards = [str(recorded.path / f"{name}.json") for name in FILES]
    merged_path = recorded.path / "merged.json"
    assert main(["merge", *shards, "-o", str(merged_path), "--html", str(recorded.path / "merged.html")]) == 0
    assert "merged 3 reports: 5 verdicts in 4 tests" in capsys.readouterr().out
    whole = json.loads((recorded.path / "all.json").read_text())
    merged = json.loads(merged_path.read_text())
    assert merged["summary"] == whole["summary"]
    assert merged["summary"]["verdicts"] == 5 and merged["summary"]["checks_failed"] == 1
    assert _without_latency(merged) == _without_latency(whole)
    assert "Is c kind?" in (recorded.path / "merged.html").read_text()


def test_merge_refuses_duplicate_test_ids_unless_allowed(recorded: pytest.Pytester) -> None:
    recorded.runpytest("-p", "no:xdist", "--llm-record-mode=none", "test_a.py", "--llm-report=a.json")
    a = str(recorded.path / "a.json")
    out = str(recorded.path / "out.json")
    with pytest.raises(SystemExit, match=r"2 test ids are in more than one report") as error:
        main(["merge", a, a, "-o", out])
    assert "test_a.py::test_a1 in" in str(error.value) and not Path(out).exists()
    assert main(["merge", a, a, "-o", out, "--allow-duplicates"]) == 0
    assert json.loads(Path(out).read_text())["summary"]["verdicts"] == 4


def test_compare_prints_text_markdown_html_and_fails_on_drop_only_when_asked(
    recorded: pytest.Pytester, fake_openai: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    recorded.runpytest("-p", "no:xdist", "--llm-record-mode=none", "--llm-report=old.json")
    fake_openai.rules.clear()
    fake_openai.rule("polite", verdict(0.30, 0.70))
    fake_openai.rule("a short", verdict(0.70, 0.30))
    fake_openai.rule("b short", verdict(0.55, 0.45))
    fake_openai.rule("kind", verdict(0.20, 0.80))
    recorded.runpytest("-p", "no:xdist", "--llm-record-mode=all", "--llm-report=new.json")
    old, new = str(recorded.path / "old.json"), str(recorded.path / "new.json")
    capsys.readouterr()
    assert main(["compare", old, new]) == 0
    text = capsys.readouterr().out
    assert "5 matched: 1 flipped, 0 fell and 0 rose by more than 0.10, 1 checks now failing" in text
    assert "flipped     test_a.py::test_a1  true 0.97 -> false 0.70" in text
    assert (
        main(["compare", old, new, "--markdown", "--fail-on-drop", "--html", str(recorded.path / "c.html")])
        == 1
    )
    md = capsys.readouterr().out
    assert "| flipped | `test_a.py::test_a1` | true 0.97 | false 0.70 |" in md
    assert (recorded.path / "c.html").read_text().count("<circle") == 5
    assert main(["compare", old, old, "--fail-on-drop"]) == 0
    with pytest.raises(SystemExit, match="does not exist"):
        main(["compare", old, str(recorded.path / "nope.json")])
