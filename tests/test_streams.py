"""Streamed answers: recorded and replayed chunk for chunk, scored from their chunks' logprobs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fake_openai import FakeOpenAI, Reply, completion, responses_api

from pytest_llmconfidence import response_confidence

KEY = "sk-test-SECRET1234567890abcdef"
CLOSED = "http://127.0.0.1:9/v1"
WHOLE = completion([("Paris", 0.8), ("Lyon", 0.1)], [(" is", 0.5), (" was", 0.3)])  # geometric mean 0.632
TOWER = responses_api([[("Eiffel", 0.9), ("Big", 0.05)], [(" Tower", 0.4), (" tower", 0.3)]])  # 0.6


def chat_chunks(whole: dict[str, Any]) -> list[dict[str, Any]]:
    """The chunks a server streams for ``whole``: one token each, with its logprobs, then the finish."""
    entries = whole["choices"][0]["logprobs"]["content"]
    base = {"id": "chatcmpl-s", "object": "chat.completion.chunk", "created": 1, "model": whole["model"]}
    chunks = [
        {
            **base,
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}],
        }
    ]
    for entry in entries:
        delta = {"content": entry["token"]}
        choice = {"index": 0, "delta": delta, "logprobs": {"content": [entry]}, "finish_reason": None}
        chunks.append({**base, "choices": [choice]})
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return chunks


def response_events(whole: dict[str, Any]) -> list[dict[str, Any]]:
    """The events of a Responses API stream for ``whole``: a delta per token, then response.completed."""
    events: list[dict[str, Any]] = [{"type": "response.created", "response": {**whole, "output": []}}]
    for part in whole["output"][1]["content"]:
        for entry in part["logprobs"]:
            events.append(
                {
                    "type": "response.output_text.delta",
                    "item_id": "msg_1",
                    "output_index": 1,
                    "content_index": 0,
                    "delta": entry["token"],
                    "logprobs": [entry],
                    "sequence_number": len(events),
                }
            )
    events.append({"type": "response.completed", "response": whole, "sequence_number": len(events)})
    return events


def sse(events: list[dict[str, Any]], *, named: bool = False) -> bytes:
    lines = []
    for event in events:
        if named:
            lines.append(f"event: {event['type']}")
        lines.append("data: " + json.dumps(event))
        lines.append("")
    if not named:
        lines += ["data: [DONE]", ""]
    return ("\n".join(lines) + "\n").encode()


def test_response_confidence_scores_a_list_of_chunks_as_the_whole_completion() -> None:
    """The chunks of a chat stream and the events of a Responses stream score as the answer sent whole."""
    whole = response_confidence(WHOLE)
    streamed = response_confidence(chat_chunks(WHOLE))
    assert streamed.text == whole.text == "Paris is"
    assert streamed.geometric_mean == pytest.approx(whole.geometric_mean)
    assert [t.token for t in streamed.tokens] == ["Paris", " is"]
    assert response_confidence(iter(chat_chunks(WHOLE))).min == pytest.approx(0.5)
    assert response_confidence(response_events(TOWER)).geometric_mean == pytest.approx(0.6)
    deltas_only = [e for e in response_events(TOWER) if e["type"] != "response.completed"]
    assert response_confidence(deltas_only).text == "Eiffel Tower"


def test_an_empty_or_read_stream_says_to_pass_its_chunks() -> None:
    """A stream read already (no chunks) or a list of something else is a TypeError saying what it takes."""
    with pytest.raises(TypeError, match="a stream can be read once: pass the list of chunks it yielded"):
        response_confidence(iter([]))
    with pytest.raises(TypeError, match="holds no stream chunks"):
        response_confidence([WHOLE])


STREAM_APP = """
import os

import openai
import pytest

from pytest_llmconfidence import response_confidence

client = openai.OpenAI(base_url=os.environ.get("APP_BASE_URL", "{base_url}"))


@pytest.mark.llm
def test_streamed_chat(llm_responses):
    chunks = list(client.chat.completions.create(
        model="bot", messages=[{{"role": "user", "content": "capital?"}}], stream=True, logprobs=True
    ))
    print("DELTAS", [c.choices[0].delta.content for c in chunks if c.choices])
    assert round(response_confidence(chunks).geometric_mean, 3) == 0.632
    assert round(llm_responses[-1].geometric_mean, 3) == 0.632


def test_streamed_responses(llm_responses):
    events = list(client.responses.create(
        model="bot", input="tower?", stream=True, include=["message.output_text.logprobs"]
    ))
    print("EVENTS", [e.type for e in events])
    assert round(llm_responses[-1].geometric_mean, 3) == 0.6


def pytest_sessionfinish(session):
    client.close()
"""


def test_a_streamed_chat_replays_chunk_for_chunk_and_is_watched(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recorded live, replayed offline: the same chunks in the same order, scored by --llm-watch."""
    fake_openai.rule(
        "capital", Reply({}, raw=sse(chat_chunks(WHOLE)), headers={"Content-Type": "text/event-stream"})
    )
    fake_openai.rule(
        "tower",
        Reply({}, raw=sse(response_events(TOWER), named=True), headers={"Content-Type": "text/event-stream"}),
    )
    judged.makepyfile(test_app=STREAM_APP.format(base_url=fake_openai.base_url))
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    live = judged.runpytest("--llm-record-mode=once", "--llm-watch", "-s")
    monkeypatch.delenv("OPENAI_API_KEY")
    live.assert_outcomes(passed=2)
    fake_openai.requests.clear()
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("APP_BASE_URL", CLOSED)
    replayed = judged.runpytest("--llm-watch", "-s")
    replayed.assert_outcomes(passed=2)
    assert fake_openai.requests == []
    for marker in ("DELTAS", "EVENTS"):
        lines = [line for line in live.outlines if marker in line]
        assert lines and lines == [line for line in replayed.outlines if marker in line]
    replayed.stdout.fnmatch_lines(["*2 app responses in 2 tests: 2 scored (2 replayed, 0 live)*"])
