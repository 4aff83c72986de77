"""Request matching: method, path and the canonical JSON body; never headers, never the host."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from vcr.request import Request

from pytest_llmconfidence._recording.cassette import cassette_path, llm_request

BODY = {"model": "m", "messages": [{"role": "user", "content": "q?"}], "top_logprobs": 20}


def request(body: object, url: str = "https://api.openai.com/v1/chat/completions", **headers: str) -> Request:
    return Request("POST", url, json.dumps(body).encode(), headers)


def test_key_order_headers_and_host_do_not_matter() -> None:
    """The same JSON in another key order, with other headers, to another host, matches."""
    reordered = dict(reversed(list(BODY.items())))
    assert llm_request(
        request(BODY, authorization="Bearer a"),
        request(reordered, "http://127.0.0.1:9/v1/chat/completions", authorization="Bearer b"),
    )


def test_fields_that_do_not_change_the_answer_are_ignored() -> None:
    """user, metadata, store, stream_options, prompt_cache_key and safety_identifier are ignored."""
    extra = {
        **BODY,
        "user": "u1",
        "metadata": {"run": "1"},
        "store": True,
        "stream_options": {"include_usage": True},
        "prompt_cache_key": "k",
        "safety_identifier": "s",
    }
    assert llm_request(request(BODY), request(extra))


def test_path_method_and_answer_changing_fields_matter() -> None:
    """A different path, method, question or top_logprobs does not match."""
    assert not llm_request(request(BODY), request(BODY, "https://api.openai.com/v1/responses"))
    assert not llm_request(
        request(BODY), Request("GET", "https://api.openai.com/v1/chat/completions", b"", {})
    )
    assert not llm_request(request(BODY), request({**BODY, "top_logprobs": 5}))
    assert not llm_request(request(BODY), request({**BODY, "messages": [{"role": "user", "content": "r?"}]}))


def test_cassette_path_follows_module_class_and_parameters(tmp_path: Path) -> None:
    """<dir>/<module path without .py>/<Class.>name[param].yaml; a name that needed replacing gets a hash."""
    module = tmp_path / "tests" / "test_bot.py"
    plain = cassette_path(tmp_path / "cassettes", tmp_path, module, "tests/test_bot.py::TestA::test_b[late]")
    assert plain == tmp_path / "cassettes" / "tests" / "test_bot" / "TestA.test_b[late].yaml"
    path = cassette_path(tmp_path / "cassettes", tmp_path, module, "tests/test_bot.py::TestA::test_b[x:y/z]")
    assert path.parent == plain.parent
    assert path.name.startswith("TestA.test_b[x_y_z]~") and path.suffix == ".yaml"


@pytest.mark.parametrize(
    "ids",
    [
        ("a/b", "a_b", "a b", "a:b", "a\\b", "a*b"),
        ("é" * 300, "é" * 300 + "x", "é" * 299 + "_"),
        ("x" * 500, "x" * 499 + "y"),
        (".", "_", ".."),
    ],
)
def test_distinct_test_ids_get_distinct_cassette_files_within_255_bytes(
    tmp_path: Path, ids: tuple[str, ...]
) -> None:
    """Replacing unsafe characters never merges two tests' cassettes; names fit any file system."""
    module = tmp_path / "test_bot.py"
    paths = [cassette_path(tmp_path, tmp_path, module, f"test_bot.py::test_it[{param}]") for param in ids]
    assert len(set(paths)) == len(paths)
    for path in paths:
        assert len(path.name.encode()) <= 220  # room for the temporary file's ".<name>.<random>.tmp"
        assert path.suffix == ".yaml" and path.parent == tmp_path / "test_bot"


def test_the_request_key_ignores_how_json_spells_non_ascii_text() -> None:
    """A body sent with \\u00e9 escapes and the same body with é have one key, whatever the key order."""
    import json

    from pytest_llmconfidence._recording.cassette import request_key

    body = {"model": "m", "messages": [{"role": "user", "content": "Is the café open? 営業中"}], "user": "x"}
    escaped = json.dumps(body).encode()
    plain = json.dumps(dict(reversed(body.items())), ensure_ascii=False).encode()
    assert escaped != plain
    keys = {request_key("POST", "/v1/chat/completions", data) for data in (escaped, plain, body)}
    assert len(keys) == 1
