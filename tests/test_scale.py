"""What keeps a suite of 100,000 judged tests linear: no work per test that grows with the suite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from pytest_llmconfidence._recording.cassette import ActiveCassette
from pytest_llmconfidence._report.baseline import Comparison, compare, load_report
from pytest_llmconfidence._report.json_report import dumps


def _cassette(path: Path) -> None:
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "q"}]})
    interaction = {
        "request": {"method": "POST", "uri": "http://h/v1/chat/completions", "body": body, "headers": {}},
        "response": {"status": {"code": 200, "message": "OK"}, "headers": {}, "body": {"string": "{}"}},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"interactions": [interaction], "version": 1}))


def test_replaying_a_cassette_never_lists_its_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Starting and ending a replayed test's cassette reads its file only: no glob of the module's folder
    (which grew each test's cost with the number of tests beside it)."""
    path = tmp_path / "cassettes" / "test_m" / "test_a.yaml"
    _cassette(path)
    for sibling in range(50):
        _cassette(path.parent / f"test_{sibling}.yaml")

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the cassette folder was listed")

    monkeypatch.setattr(Path, "glob", refuse)
    monkeypatch.setattr(Path, "iterdir", refuse)
    monkeypatch.setattr("os.scandir", refuse)
    monkeypatch.setattr("os.listdir", refuse)
    with ActiveCassette(path, record_mode="none", scope="judge", nodeid="test_m.py::test_a") as active:
        assert active.cassette.file_existed
    with ActiveCassette(path, record_mode="once", scope="judge", nodeid="test_m.py::test_a") as active:
        assert active.replay_only


def test_stale_temp_files_go_when_the_cassette_beside_them_is_written(tmp_path: Path) -> None:
    """A temporary file an interrupted write left is removed by the next write of that cassette."""
    path = tmp_path / "test_a.yaml"
    stale = tmp_path / f".{path.name}.k1ll9.tmp"
    stale.write_text("interactions: [half a")
    with ActiveCassette(path, record_mode="all", scope="judge", nodeid="t::a") as active:
        active.cassette.dirty = True
    assert path.exists() and not stale.exists()


def test_comparison_counts_per_model_in_one_pass() -> None:
    """per_model and counts read each change once: the same numbers, in linear time."""
    old = [
        {"test_id": f"t::{i}", "question": "q", "value": True, "confidence": 0.95, "model": f"m{i % 3}"}
        for i in range(300)
    ]
    new = [{**r, "value": i % 2 == 0} for i, r in enumerate(old)]
    result = compare(old, new)
    assert result.counts()["flipped"] == 150
    per_model = result.per_model()
    assert sum(counts["flipped"] for counts in per_model.values()) == 150
    assert set(per_model) == {"m0", "m1", "m2"}
    assert Comparison(margin=0.1).per_model() == {}


def test_a_json_report_puts_each_record_on_its_own_line_and_reads_back_the_same() -> None:
    """The report text is JSON equal to the data, one verdict per line (fast to write, short diffs)."""
    data = {
        "version": 1,
        "summary": {"verdicts": 2, "confidence": {"min": 0.5}},
        "verdicts": [{"test_id": "t::a", "question": "é\n"}, {"test_id": "t::b", "question": "q"}],
        "responses": [],
    }
    text = dumps(data)
    assert json.loads(text) == data
    lines = text.splitlines()
    assert '    {"test_id": "t::a", "question": "é\\n"},' in lines
    assert '    {"test_id": "t::b", "question": "q"}' in lines


def test_the_command_leaves_the_cycle_collector_as_it_found_it(tmp_path: Path) -> None:
    """compare (and a run's --llm-baseline) pause Python's cycle collector while they read (a report's
    objects hold no cycles) and turn it back on after, so a program that calls them keeps collecting."""
    import gc

    from pytest_llmconfidence.__main__ import main

    report = tmp_path / "r.json"
    report.write_text(json.dumps({"verdicts": [{"test_id": "t::a", "question": "q", "confidence": 0.9}]}))
    assert gc.isenabled()
    assert main(["compare", str(report), str(report)]) == 0
    assert gc.isenabled()
    assert load_report(report)["verdicts"][0]["test_id"] == "t::a"
    assert gc.isenabled()
    gc.disable()
    try:
        assert main(["compare", str(report), str(report)]) == 0
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_compare_prices_a_record_by_the_kind_of_its_list() -> None:
    """A record without a kind has its list's: a cost on a response (not a judge call) is not counted."""
    verdict = {"test_id": "t::a", "question": "q", "confidence": 0.9, "cost_usd": 0.5, "replayed": True}
    response = {"test_id": "t::b", "question": "q", "confidence": 0.9, "cost_usd": 7.0}
    old = {"verdicts": [verdict], "responses": [response]}
    new = {"verdicts": [{**verdict, "cost_usd": 1.5}], "responses": [response]}
    result = compare(old, new)
    assert (result.cost_before, result.cost_now) == (0.5, 1.5)
    assert result.matched == 2
