"""A scripted OpenAI-compatible endpoint on 127.0.0.1, for tests.

Rules map a substring of the request's messages to a reply; every request is kept for inspection.
Replies are built with ``completion()`` (chat completions with logprobs) or ``error()``.
"""

from __future__ import annotations

import json
import math
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Alternatives = Sequence[tuple[str, float]]


def logp(probability: float) -> float:
    """The logprob of a probability (``-9999`` for 0, as OpenAI pads)."""
    return math.log(probability) if probability > 0 else -9999.0


def completion(
    *positions: Alternatives,
    model: str = "fake-judge",
    finish_reason: str = "stop",
    logprobs: bool = True,
    refusal: str | None = None,
    usage: dict[str, int] | None = None,
    choices: bool = True,
) -> dict[str, Any]:
    """A chat completion whose generated tokens are the first alternative of each position.

    Each position is a list of ``(token, probability)``; probabilities become logprobs.
    """
    content = []
    for alternatives in positions:
        top = [{"token": tok, "logprob": logp(p), "bytes": list(tok.encode())} for tok, p in alternatives]
        first = top[0] if top else {"token": "", "logprob": 0.0, "bytes": []}
        content.append({**first, "top_logprobs": top})
    text = "".join(entry["token"] for entry in content)
    choice: dict[str, Any] = {
        "index": 0,
        "message": {"role": "assistant", "content": None if refusal else text, "refusal": refusal},
        "finish_reason": finish_reason,
        "logprobs": {"content": content, "refusal": None} if logprobs else None,
    }
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [choice] if choices else [],
        "usage": usage
        or {"prompt_tokens": 42, "completion_tokens": len(positions), "total_tokens": 42 + len(positions)},
    }


def responses_api(*parts: list[list[tuple[str, float]]], model: str = "gpt-4.1-mini") -> dict[str, Any]:
    """A Responses API result: one message whose output_text parts carry the given positions."""
    content = []
    for positions in parts:
        logprobs = []
        for alternatives in positions:
            top = [{"token": tok, "bytes": list(tok.encode()), "logprob": logp(p)} for tok, p in alternatives]
            logprobs.append({**top[0], "top_logprobs": top})
        text = "".join(entry["token"] for entry in logprobs)
        content.append({"type": "output_text", "text": text, "annotations": [], "logprobs": logprobs})
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1_700_000_000,
        "model": model,
        "output": [
            {"type": "reasoning", "id": "rs_1", "summary": []},
            {
                "type": "message",
                "id": "msg_1",
                "role": "assistant",
                "status": "completed",
                "content": content,
            },
        ],
        "parallel_tool_calls": False,
        "tool_choice": "auto",
        "tools": [],
    }


def verdict(p_true: float, p_false: float, *, first: str | None = None, **kwargs: Any) -> dict[str, Any]:
    """A one-token verdict: 'true' and 'false' at the given probabilities, best first."""
    alternatives = sorted([("true", p_true), ("false", p_false)], key=lambda alt: -alt[1])
    if first is not None:
        alternatives = [alt for alt in alternatives if alt[0] == first] + [
            a for a in alternatives if a[0] != first
        ]
    return completion(alternatives, **kwargs)


@dataclass
class Reply:
    body: dict[str, Any]
    status: int = 200
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    """Bytes sent as the body instead of ``body``'s JSON (binary, broken or non-JSON answers)."""
    keep_model: bool = False
    """Answer with ``body``'s model, not the requested one (a server that serves another model)."""


def error(status: int, message: str, *, param: str | None = None, code: str | None = None) -> Reply:
    return Reply(
        {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}, status
    )


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def text(self) -> str:
        text = "\n".join(str(m.get("content", "")) for m in self.body.get("messages", []))
        return text + (f"\n{self.body['input']}" if isinstance(self.body.get("input"), str) else "")


class _Server(ThreadingHTTPServer):
    """Keeps handler errors off stderr's traceback printer.

    Python 3.11.7's traceback printer parses source lines with ``ast.parse``, which races with the
    parse that assertion rewriting does on the main thread (CPython gh-106905, fixed in 3.11.8) and
    turns an in-process pytester run into ``SystemError: AST constructor recursion depth mismatch``.
    A client that hangs up early (a retry, a timeout) is normal here and is not reported; any other
    error is kept in ``errors`` and printed on one line.
    """

    errors: list[BaseException]

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if error is None or isinstance(error, ConnectionError):
            return
        self.errors.append(error)
        print(f"fake endpoint: {type(error).__name__}: {error}", file=sys.stderr)


class FakeOpenAI:
    """The endpoint: ``rule(substring, reply)`` scripts it, ``requests`` lists what it received."""

    def __init__(self) -> None:
        self.rules: list[tuple[str, str | None, Reply | list[Reply]]] = []
        self.default = Reply(verdict(0.95, 0.04))
        self.requests: list[Request] = []
        self.routes: Any = None
        """Extra routes (``fake_batches.FakeBatches.route``): (method, path, headers, body) -> answer or None."""
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests answered at once (reset it before counting)
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._server.errors = []
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def rule(
        self, contains: str, reply: Reply | dict[str, Any] | list[Reply], *, model: str | None = None
    ) -> None:
        """Answer requests whose messages contain ``contains`` (and, given ``model``, that ask that model);
        a list of replies is served in turn."""
        if isinstance(reply, dict):
            reply = Reply(reply)
        self.rules.insert(0, (contains, model, reply))

    def reply_for(self, request: Request) -> Reply:
        with self._lock:
            for contains, model, reply in self.rules:
                if contains in request.text and model in (None, request.body.get("model")):
                    if isinstance(reply, list):
                        return reply.pop(0) if len(reply) > 1 else reply[0]
                    return reply
        return self.default

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(
                self,
                status: int,
                body: dict[str, Any],
                headers: dict[str, str] | None = None,
                raw: bytes | None = None,
            ) -> None:
                data = json.dumps(body).encode() if raw is None else raw
                self.send_response(status)
                if "content-type" not in {key.lower() for key in headers or {}}:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def _routed(self, method: str, raw: bytes) -> bool:
                if fake.routes is None:
                    return False
                headers = {k.lower(): v for k, v in self.headers.items()}
                found = fake.routes(method, self.path, headers, raw)
                if found is None:
                    return False
                status, body = found
                if isinstance(body, bytes):
                    self._send(status, {}, {"content-type": "application/octet-stream"}, body)
                else:
                    self._send(status, body)
                return True

            def do_GET(self) -> None:
                if self._routed("GET", b""):
                    return
                if self.path.rstrip("/").endswith("/models"):
                    self._send(200, {"object": "list", "data": [{"id": "fake-judge", "object": "model"}]})
                else:
                    self._send(404, {"error": {"message": f"no route {self.path}"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b"{}"
                if self._routed("POST", raw):
                    return
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {}
                request = Request(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with fake._lock:
                    fake.requests.append(request)
                if not self.path.split("?")[0].endswith(("/chat/completions", "/responses")):
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                reply = fake.reply_for(request)
                with fake._lock:
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                try:
                    if reply.delay_s:
                        time.sleep(reply.delay_s)
                finally:
                    with fake._lock:
                        fake.in_flight -= 1
                body_out = dict(reply.body)
                if reply.status == 200 and "model" in body_out and body.get("model") and not reply.keep_model:
                    body_out["model"] = body["model"]
                self._send(reply.status, body_out, reply.headers, reply.raw)

        return Handler


def serve() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    try:
        yield server
    finally:
        server.stop()


if __name__ == "__main__":  # serve until killed: python tests/fake_openai.py [delay_s]
    import sys

    endpoint = FakeOpenAI()
    endpoint.default = Reply(verdict(0.93, 0.05), delay_s=float(sys.argv[1]) if len(sys.argv) > 1 else 0.0)
    print(endpoint.base_url, flush=True)
    endpoint._server.serve_forever()
