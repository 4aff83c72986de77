"""Streamed answers read as whole ones: the chunks of a chat completion stream, or the events of a
Responses API stream, merged into the completion they add up to. Pure: no pytest, no openai.

Every chunk of a stream requested with logprobs carries the logprobs of its tokens, so the merged
completion is scored exactly as the same answer sent whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["is_stream_events", "merge_stream", "parse_sse"]


def parse_sse(raw: bytes | bytearray | str) -> list[dict[str, Any]]:
    """The JSON objects of a server-sent events body (``data: {...}`` lines), ``[DONE]`` left out.

    A ``data:`` line that is not a JSON object raises ValueError.
    """
    text = raw.decode("utf-8") if isinstance(raw, (bytes, bytearray)) else raw
    events: list[dict[str, Any]] = []
    data: list[str] = []

    def flush() -> None:
        if data:
            payload = "\n".join(data)
            data.clear()
            if payload.strip() != "[DONE]":
                event = json.loads(payload)
                if not isinstance(event, dict):
                    raise ValueError("an event's data is not a JSON object")
                events.append(event)

    for line in text.splitlines():
        if not line.strip():
            flush()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip(" "))
    flush()
    return events


def is_stream_events(events: Iterable[Any]) -> bool:
    """Whether ``events`` (dicts) look like the chunks of a stream rather than whole completions."""
    for event in events:
        if not isinstance(event, Mapping):
            return False
        kind = str(event.get("object") or event.get("type") or "")
        if kind == "chat.completion.chunk" or kind.startswith("response."):
            return True
        choices = event.get("choices")
        first = choices[0] if isinstance(choices, list) and choices else None
        return isinstance(first, Mapping) and "delta" in first
    return False


def merge_stream(events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The whole completion a stream's chunks (or Responses API events) add up to, logprobs included."""
    if any(str(event.get("type") or "").startswith("response.") for event in events):
        return _merge_responses(events)
    return _merge_chat(events)


def _merge_chat(chunks: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    choices: dict[int, dict[str, Any]] = {}
    merged: dict[str, Any] = {"object": "chat.completion"}
    for chunk in chunks:
        for key in ("id", "model", "created", "usage", "system_fingerprint"):
            if chunk.get(key) is not None:
                merged[key] = chunk[key]
        for part in chunk.get("choices") or []:
            if not isinstance(part, Mapping):
                continue
            index = part.get("index", 0)
            choice = choices.setdefault(
                index if isinstance(index, int) else 0,
                {"text": [], "entries": [], "refusal": [], "finish_reason": None, "logprobs": False},
            )
            delta = part.get("delta") or {}
            if isinstance(delta, Mapping):
                if delta.get("content"):
                    choice["text"].append(str(delta["content"]))
                if delta.get("refusal"):
                    choice["refusal"].append(str(delta["refusal"]))
            logprobs = part.get("logprobs")
            if isinstance(logprobs, Mapping):
                choice["logprobs"] = True
                content = logprobs.get("content")
                if isinstance(content, list):
                    choice["entries"].extend(content)
            if part.get("finish_reason"):
                choice["finish_reason"] = part["finish_reason"]
    merged["choices"] = [
        {
            "index": index,
            "message": {
                "role": "assistant",
                "content": "".join(choice["text"]) if choice["text"] or not choice["refusal"] else None,
                "refusal": "".join(choice["refusal"]) or None,
            },
            "finish_reason": choice["finish_reason"],
            "logprobs": {"content": choice["entries"]} if choice["logprobs"] else None,
        }
        for index, choice in sorted(choices.items())
    ]
    return merged


def _merge_responses(events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    texts: list[str] = []
    entries: list[Any] = []
    model = None
    for event in events:
        kind = event.get("type")
        response = event.get("response")
        if isinstance(response, Mapping) and response.get("model"):
            model = response["model"]
        completed = kind == "response.completed" and isinstance(response, Mapping) and response.get("output")
        if completed and isinstance(response, Mapping) and (_has_logprobs(response) or not entries):
            return dict(response)
        if kind == "response.output_text.delta":
            texts.append(str(event.get("delta") or ""))
            found = event.get("logprobs")
            if isinstance(found, list):
                entries.extend(found)
    return {
        "object": "response",
        "model": model,
        "output": [
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "".join(texts), "logprobs": entries}],
            }
        ],
    }


def _has_logprobs(response: Mapping[str, Any]) -> bool:
    for item in response.get("output") or []:
        for part in (item.get("content") or []) if isinstance(item, Mapping) else []:
            if isinstance(part, Mapping) and part.get("logprobs"):
                return True
    return False
