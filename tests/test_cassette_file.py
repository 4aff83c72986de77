"""The cassette file: JSON text that every YAML reader reads as the same data; YAML cassettes still load."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from fake_openai import FakeOpenAI, Reply
from hypothesis import given, settings
from hypothesis import strategies as st
from vcr.serializers import yamlserializer

from pytest_llmconfidence import CassetteCorruptError
from pytest_llmconfidence._recording.cassette import ActiveCassette
from pytest_llmconfidence._recording.cassette_file import JsonFirst, dumps, loads

READERS = {
    "json": json.loads,
    "yaml.safe_load": yaml.safe_load,
    "libyaml": lambda text: yaml.load(text, Loader=yaml.CSafeLoader),
    "vcrpy": yamlserializer.deserialize,
}
AWKWARD = [
    *"\x00\x07\x08\t\n\x0b\x0c\r\x1b\x1f \"\\/'#:-?{}[],&*!|>%@`",
    *"\x7f\x80\x85\x9f\xa0\u2028\u2029\ufeff\ufffe\uffff\ufffd\ue000\ud7ff\u00e9\u4e2d",
    "\U0001f600",
    "\U0010ffff",
    "\r\n",
    *("yes", "no", "null", "~", "1e3", "0x1f", "<<", "=", "---", "...", "true", ".inf", "2001-12-14"),
]
TEXT = st.lists(st.one_of(st.characters(blacklist_categories=["Cs"]), st.sampled_from(AWKWARD))).map("".join)


def _typed(value: Any) -> Any:
    """``value`` with every leaf's type beside it, so ``True`` and ``1`` (equal in Python) differ."""
    if isinstance(value, dict):
        return {key: _typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_typed(item) for item in value]
    return (type(value).__name__, value)


def _interaction(text: str, *, body: Any = None, code: int = 200) -> dict[str, Any]:
    return {
        "request": {
            "method": "POST",
            "uri": f"http://h/v1/chat/completions?q={text}",
            "body": body if body is not None else json.dumps({"messages": [{"content": text}]}),
            "headers": {"content-type": ["application/json"], text[:100] or "x": [text]},
        },
        "response": {
            "status": {"code": code, "message": text},
            "headers": {"content-type": ["application/json"]},
            "body": {"string": text},
            "malformed_body": True,
        },
    }


@settings(max_examples=400, deadline=None)
@given(TEXT, st.one_of(st.none(), st.booleans(), st.integers(), TEXT))
def test_every_text_a_cassette_can_hold_reads_back_the_same_as_json_and_as_yaml(text: str, leaf: Any) -> None:
    """What the plugin writes is read as the same data by JSON and by every YAML reader (PyYAML,
    libyaml, vcrpy's serializer): non-ASCII, emoji, control characters, U+0085, U+2028, U+FEFF, DEL-U+009F,
    YAML's special words, in bodies, URLs, header names and values."""
    data = {"interactions": [_interaction(text)], "metadata": {text[:100]: [leaf, {"k": leaf}]}, "version": 1}
    written = dumps(data)
    assert written is not None
    written.encode("utf-8")
    for name, read in READERS.items():
        assert _typed(read(written)) == _typed(data), name


def test_a_cassette_is_written_as_indented_json_with_sorted_keys_and_a_final_newline() -> None:
    """One key per line, keys in a stable order (as vcrpy's YAML had them), a final newline: short diffs."""
    data = {"version": 1, "interactions": [_interaction("Is it polite? 😀")]}
    written = dumps(data)
    assert written is not None
    lines = written.splitlines()
    assert lines[:3] == ["{", '  "interactions": [', "    {"]
    assert lines[-2:] == ['  "version": 1', "}"] and written.endswith("}\n")
    assert '"content-type": [' in written and "Is it polite? 😀" in written
    assert written.index('"request"') < written.index('"response"')
    assert dumps(json.loads(written)) == written


@pytest.mark.parametrize(
    "odd",
    [
        pytest.param({"string": b"\x89PNG\r\n\x1a\n\xff\xfe"}, id="binary body"),
        pytest.param({"ratio": 1e-05}, id="float (YAML 1.1 reads 1e-05 as text)"),
        pytest.param({"pair": ("a", "b")}, id="tuple"),
        pytest.param({1: "int key"}, id="key that is not text"),
        pytest.param({"k" * 200: "v"}, id="key longer than YAML allows"),
    ],
)
def test_what_json_cannot_hold_alike_is_written_as_vcrpy_yaml_as_before(odd: dict[Any, Any]) -> None:
    """Bytes, floats, tuples and odd keys are written as vcrpy's YAML, which reads back the same."""
    data = {"interactions": [], "metadata": odd, "version": 1}
    assert dumps(data) is None
    written = JsonFirst(yamlserializer).serialize(data)
    assert written == yamlserializer.serialize(data)
    assert yamlserializer.deserialize(written) == data
    assert loads(written, yamlserializer) == data


@pytest.mark.parametrize("text", ["lone \ud800 half", "\ud83d\ude00"])
def test_surrogates_are_never_written_as_json(text: str) -> None:
    """libyaml refuses an escaped surrogate and JSON joins an escaped pair: no JSON text reads alike."""
    assert dumps({"interactions": [], "metadata": {"text": text}}) is None


def test_a_yaml_cassette_and_a_json_one_load_the_same() -> None:
    """Reading tries JSON, then YAML: cassettes written before, or by hand, load as they did."""
    data = {"interactions": [_interaction("q 1")], "version": 1}
    as_yaml = yamlserializer.serialize(data)
    written = dumps(data)
    assert written is not None
    assert loads(as_yaml, yamlserializer) == loads(written, yamlserializer) == data
    flow = "{interactions: [], version: 1}\n"  # YAML flow style that is not JSON
    assert loads(flow, yamlserializer) == {"interactions": [], "version": 1}


def _post(fake_openai: FakeOpenAI, question: str) -> bytes:
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": question}]}).encode()
    request = urllib.request.Request(
        f"{fake_openai.base_url}/chat/completions", body, {"content-type": "application/json"}
    )
    with urllib.request.urlopen(request) as response:
        answer: bytes = response.read()
    return answer


def test_a_recorded_cassette_is_json_and_replays_offline(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    """A recording is written as JSON under its .yaml name and replays with no server."""
    path = tmp_path / "test_a.yaml"
    fake_openai.rule("emoji", Reply({"answer": "yes 😀\u2028\x85"}))
    with ActiveCassette(path, record_mode="once", scope="test", nodeid="t.py::a"):
        recorded = json.loads(_post(fake_openai, "emoji é \x7f?"))
    assert json.loads(path.read_text()) == yaml.safe_load(path.read_text())
    with ActiveCassette(path, record_mode="none", scope="test", nodeid="t.py::a"):
        assert json.loads(_post(fake_openai, "emoji é \x7f?")) == recorded == {"answer": "yes 😀\u2028\x85"}
    assert len(fake_openai.requests) == 1


def test_a_yaml_cassette_of_an_earlier_version_replays_and_grows_as_json(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    """A cassette in vcrpy's YAML replays as before; new_episodes rewrites it as JSON, nothing lost."""
    path = tmp_path / "test_a.yaml"
    with ActiveCassette(path, record_mode="once", scope="test", nodeid="t.py::a"):
        first = _post(fake_openai, "first")
    path.write_text(yaml.dump(json.loads(path.read_text()), Dumper=yaml.SafeDumper))
    assert not path.read_text().startswith("{")
    with ActiveCassette(path, record_mode="new_episodes", scope="test", nodeid="t.py::a"):
        assert _post(fake_openai, "first") == first
        second = _post(fake_openai, "second")
    assert len(fake_openai.requests) == 2
    assert [i["request"]["uri"] for i in json.loads(path.read_text())["interactions"]] == [
        f"{fake_openai.base_url}/chat/completions"
    ] * 2
    with ActiveCassette(path, record_mode="none", scope="test", nodeid="t.py::a"):
        assert (_post(fake_openai, "first"), _post(fake_openai, "second")) == (first, second)


def test_a_binary_body_is_recorded_as_yaml_and_replays_byte_for_byte(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    """A body that is not UTF-8 text cannot be JSON: that cassette is vcrpy's YAML (``!!binary``)."""
    path = tmp_path / "test_a.yaml"
    raw = b"\x89PNG\r\n\x1a\n\xff\xfe\x00"
    fake_openai.rule("image", Reply({}, raw=raw, headers={"content-type": "image/png"}))
    with ActiveCassette(path, record_mode="once", scope="test", nodeid="t.py::a"):
        assert _post(fake_openai, "image") == raw
    assert "!!binary" in path.read_text()
    with ActiveCassette(path, record_mode="none", scope="test", nodeid="t.py::a"):
        assert _post(fake_openai, "image") == raw


def test_a_json_cassette_broken_by_hand_is_corrupt_naming_the_line(tmp_path: Path) -> None:
    """JSON that neither JSON nor YAML reads is CassetteCorruptError with JSON's line and column."""
    path = tmp_path / "test_a.yaml"
    path.write_text('{\n  "interactions": [\n    {"request": {"method": "POST}}\n  ]\n}\n')
    with (
        pytest.raises(CassetteCorruptError, match=r"test_a.yaml cannot be read \(JSONDecodeError: .*line 3"),
        ActiveCassette(path, record_mode="none", scope="test", nodeid="t.py::a"),
    ):
        pass
    assert path.read_text().startswith('{\n  "interactions"')
