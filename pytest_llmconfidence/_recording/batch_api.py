"""Recording through OpenAI's Batch API (``--llm-record-mode=batch``): half the price, answers within 24 h.

A run in batch mode replays what is recorded and queues every judge request that has none (its test is
skipped); at the end of the run the queued requests are uploaded as one JSONL file and a batch is created
(``client.files.create``, ``client.batches.create``), noted in ``.llm-batch.json`` beside the cassettes. The
next run in batch mode asks for each noted batch (``client.batches.retrieve``); once one has ended, its output
and error files are downloaded and each answer is written into its test's cassette by sending the request
through the cassette to a stand-in endpoint that answers with it: the same matching, filters and secret scan
as a live recording. Then the tests replay. Knows nothing of pytest.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._errors import BatchQueuedError, CassetteSecretError, LLMConfidenceError
from .._files import write_atomic
from .._text import display_path

__all__ = [
    "STATE_NAME",
    "BatchBook",
    "Collected",
    "TestBatch",
    "collect",
    "submit",
]

STATE_NAME = ".llm-batch.json"
ENDPOINT = "/v1/chat/completions"
WINDOW = "24h"
ENDED = ("completed", "expired", "cancelled", "failed")
RUN_AGAIN = "pytest --llm-record-mode=batch"
QUEUED = "queued for the Batch API (the batch is created at the end of this run)"
"""Why a test whose request was queued is skipped; the id replaces the parenthesis once the batch exists."""


def _key_text(key: Iterable[Any]) -> str:
    return json.dumps(list(key))


class BatchBook:
    """``.llm-batch.json``: the batches this suite is waiting for, and each request's test and cassette.

    ``{"version": 1, "batches": [{"id", "status", "input_file_id", "created_at", "requests": [{"custom_id",
    "test_id", "cassette", "key", "body", "error"?}]}]}``; cassettes are relative to the cassette folder.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.batches: list[dict[str, Any]] = []
        if path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                batches = data["batches"]
                if not isinstance(batches, list) or not all(isinstance(b, dict) for b in batches):
                    raise ValueError("'batches' is not a list of objects")
            except (ValueError, KeyError, TypeError, OSError) as exc:
                raise LLMConfidenceError(
                    f"{display_path(path)} is not a batch file as --llm-record-mode=batch writes it ({exc}); "
                    "remove it to queue the unrecorded requests in a new batch"
                ) from None
            self.batches = batches
        self._by_key: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        self._index()

    def _index(self) -> None:
        self._by_key.clear()
        for batch in self.batches:
            for request in batch.get("requests", ()):
                self._by_key.setdefault(_key_text(request.get("key", ())), (batch, request))

    def find(self, key: Iterable[Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The batch and the entry of a request (by its cassette key), or None when no batch holds it."""
        return self._by_key.get(_key_text(key))

    def save(self) -> None:
        """Write the file (atomically), or remove it when no batch is left."""
        self.batches = [batch for batch in self.batches if batch.get("requests")]
        self._index()
        if not self.batches:
            self.path.unlink(missing_ok=True)
            return
        write_atomic(self.path, json.dumps({"version": 1, "batches": self.batches}, indent=1) + "\n")


class TestBatch:
    """One test's part in batch mode: what its unrecorded requests are (pending, failed) or become (queued).

    The transport calls ``request(key, params)`` for each judge request the cassette cannot replay; it
    raises ``BatchQueuedError`` (the plugin skips the test) or the error the batch gave for the request.
    """

    __test__ = False

    def __init__(self, book: BatchBook | None, test_id: str, cassette: str) -> None:
        self.book = book
        self.test_id = test_id
        self.cassette = cassette
        self.queued: list[dict[str, Any]] = []

    def request(self, key: Iterable[Any], params: Mapping[str, Any]) -> None:
        __tracebackhide__ = True
        found = self.book.find(key) if self.book is not None else None
        if found is not None:
            batch, entry = found
            if entry.get("error"):
                raise LLMConfidenceError(
                    f"batch {batch['id']} did not answer this judge request: {entry['error']}. Run "
                    f"`{RUN_AGAIN}` again to queue it in a new batch, or record it live with "
                    "--llm-record-mode=once."
                )
            counts = batch.get("request_counts") or {}
            done = f", {counts.get('completed', 0)} of {counts.get('total', '?')} answered" if counts else ""
            raise BatchQueuedError(
                f"queued in batch {batch['id']} ({batch.get('status', 'in_progress')}{done}); "
                f"run `{RUN_AGAIN}` again once it has completed"
            )
        text = json.dumps(params, sort_keys=True)
        from .secrets import known

        if any(secret and secret in text for secret in known()):
            raise CassetteSecretError(
                "this judge request holds an API key in use; it is not queued for a batch (the batch file "
                "and the upload would carry it). Keep keys out of the question and the response."
            )
        digest = hashlib.sha1(f"{self.test_id}\0{text}\0{len(self.queued)}".encode()).hexdigest()[:16]
        self.queued.append(
            {
                "custom_id": f"llmc-{digest}",
                "test_id": self.test_id,
                "cassette": self.cassette,
                "key": list(key),
                "body": dict(params),
            }
        )
        raise BatchQueuedError(f"{QUEUED}; run `{RUN_AGAIN}` again once it has completed")


def submit(client: Any, book: BatchBook, queued: list[dict[str, Any]]) -> str:
    """Upload the queued requests as one JSONL file, create the batch, note it in the book; its id."""
    seen: set[str] = set()
    requests = []
    for entry in queued:  # a test re-run in one session (--reruns, -n with retries) queues once
        if entry["custom_id"] not in seen and book.find(entry["key"]) is None:
            seen.add(entry["custom_id"])
            requests.append(entry)
    lines = [
        json.dumps({"custom_id": e["custom_id"], "method": "POST", "url": ENDPOINT, "body": e["body"]})
        for e in requests
    ]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    uploaded = client.files.create(file=("llm-batch.jsonl", data), purpose="batch")
    batch = client.batches.create(
        input_file_id=uploaded.id,
        endpoint=ENDPOINT,
        completion_window=WINDOW,
        metadata={"created_by": "pytest-llmconfidence"},
    )
    book.batches.append(
        {
            "id": batch.id,
            "status": getattr(batch, "status", "validating"),
            "input_file_id": uploaded.id,
            "created_at": int(time.time()),
            "requests": requests,
        }
    )
    book.save()
    return str(batch.id)


@dataclass
class Collected:
    """What the start of a batch-mode run found: answers written, failures, batches still waiting."""

    written: dict[str, int] = field(default_factory=dict)
    """Per batch id, how many answers were written into cassettes."""
    cost: dict[str, float] = field(default_factory=dict)
    """Per batch id, what the answers written cost at the batch price (priced models only)."""
    full_cost: dict[str, float] = field(default_factory=dict)
    """Per batch id, what the same answers would have cost live."""
    failed: list[tuple[str, str, str]] = field(default_factory=list)
    """(batch id, test id, what went wrong) of each request a batch did not answer."""
    ended: list[tuple[str, str, int]] = field(default_factory=list)
    """(batch id, status, unanswered requests) of batches that expired, were cancelled or failed."""
    waiting: list[tuple[str, str, int]] = field(default_factory=list)
    """(batch id, status, requests) of batches still running."""

    def lines(self) -> list[str]:
        from .._report.cost import dollars

        out = []
        for batch_id, count in self.written.items():
            cost, full = self.cost.get(batch_id), self.full_cost.get(batch_id)
            price = (
                f" (cost {dollars(cost)} at the batch price, {dollars(full)} live)" if cost and full else ""
            )
            out.append(f"batch {batch_id}: {count} answers written to cassettes{price}")
        again = f"run `{RUN_AGAIN}` again"
        for batch_id, status, count in self.ended:
            out.append(
                f"batch {batch_id} {status} with {count} requests unanswered: their tests fail saying so; "
                f"{again} to queue them in a new batch"
            )
        for batch_id, test_id, error in self.failed:
            out.append(f"batch {batch_id} failed a request of {test_id}: {error}")
        for batch_id, status, count in self.waiting:
            out.append(f"batch {batch_id} is {status} ({count} requests): {again} once it has completed")
        return out


def _file_lines(client: Any, file_id: str | None) -> dict[str, dict[str, Any]]:
    """A batch output or error file's lines by custom id."""
    if not file_id:
        return {}
    content = client.files.content(file_id)
    text = content.text if hasattr(content, "text") else content.read().decode("utf-8")
    found = {}
    for line in text.splitlines():
        if line.strip():
            entry = json.loads(line)
            found[str(entry.get("custom_id"))] = entry
    return found


def _error_text(entry: Mapping[str, Any] | None) -> str:
    if not entry:
        return "no answer in the batch's output"
    error = entry.get("error")
    response = entry.get("response") or {}
    body = response.get("body") if isinstance(response, Mapping) else None
    inner = body.get("error") if isinstance(body, Mapping) else None
    found = error or inner
    if isinstance(found, Mapping):
        code = f" ({found['code']})" if found.get("code") else ""
        return f"{found.get('message') or 'failed'}{code}"
    status = response.get("status_code") if isinstance(response, Mapping) else None
    return f"HTTP {status}" if status else "no answer in the batch's output"


def collect(
    client: Any, book: BatchBook, cassette_dir: Path, base_url: str | None, prices: Any = None
) -> Collected:
    """Ask for each noted batch; write the answers of those that ended into their tests' cassettes.

    Answered requests leave the book; requests a batch failed (or never answered, when it expired or was
    cancelled) stay with their ``error`` for this run, so their tests fail saying so, and leave it at the
    next ``save`` after the run. Batches still running stay as they are.
    """
    result = Collected()
    for batch in book.batches:
        if batch.get("ended"):
            batch["requests"] = []  # reported in the previous run: the next run queues them afresh
            continue
        found = client.batches.retrieve(batch["id"])
        status = str(getattr(found, "status", "?"))
        batch["status"] = status
        counts = getattr(found, "request_counts", None)
        if counts is not None:
            batch["request_counts"] = {
                name: getattr(counts, name, 0) for name in ("total", "completed", "failed")
            }
        if status not in ENDED:
            result.waiting.append((batch["id"], status, len(batch.get("requests", ()))))
            continue
        answers = _file_lines(client, getattr(found, "output_file_id", None))
        errors = _file_lines(client, getattr(found, "error_file_id", None))
        left = []
        written = 0
        by_cassette: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
        for request in batch.get("requests", ()):
            answer = answers.get(request["custom_id"])
            response = (answer or {}).get("response") or {}
            if answer and not answer.get("error") and response.get("status_code") == 200:
                by_cassette.setdefault(request["cassette"], []).append((request, response["body"]))
                continue
            if request["custom_id"] in errors or answer is not None:
                request["error"] = _error_text(errors.get(request["custom_id"]) or answer)
                result.failed.append((batch["id"], request["test_id"], request["error"]))
            else:
                request["error"] = f"batch {batch['id']} {status} before answering it"
            left.append(request)
        for cassette, answered in by_cassette.items():
            _write(cassette_dir / cassette, answered, base_url)
            written += len(answered)
            if prices is not None:
                for _, body in answered:
                    model, usage = str(body.get("model")), _usage(body)
                    result.full_cost[batch["id"]] = result.full_cost.get(batch["id"], 0.0) + (
                        prices.cost(model, usage) or 0.0
                    )
                    result.cost[batch["id"]] = result.cost.get(batch["id"], 0.0) + (
                        prices.cost(model, usage, batch=True) or 0.0
                    )
        unanswered = [r for r in left if r["error"].startswith(f"batch {batch['id']} {status}")]
        if unanswered:
            result.ended.append((batch["id"], status, len(unanswered)))
        if written:
            result.written[batch["id"]] = written
        batch["requests"] = left
        batch["ended"] = True
    book.save()
    return result


def _usage(body: Mapping[str, Any]) -> dict[str, Any]:
    from .._scoring.results import usage_counts

    usage = body.get("usage")
    return usage_counts(usage) if isinstance(usage, Mapping) else {}


def _write(path: Path, answered: list[tuple[dict[str, Any], dict[str, Any]]], base_url: str | None) -> None:
    """Record each request with its answer into the cassette at ``path``, as a live recording would: the
    request goes through the cassette (new interactions added) to a stand-in endpoint answering with it."""
    from .._judge.openai_internals import response_class
    from .._judge.transport import Transport
    from .cassette import ActiveCassette

    http = importlib.import_module(response_class().__module__.split(".")[0])
    bodies = {json.dumps(request["body"], sort_keys=True): body for request, body in answered}

    def answer(request: Any) -> Any:
        sent = json.dumps(json.loads(request.content), sort_keys=True)
        return http.Response(200, json=bodies[sent])

    import openai

    client = openai.OpenAI(
        api_key="sk-batch-answer",  # never sent anywhere: the stand-in endpoint answers in process
        base_url=base_url or "https://api.openai.com/v1",
        http_client=openai.DefaultHttpxClient(transport=http.MockTransport(answer)),
        max_retries=0,
    )
    test_id = answered[0][0]["test_id"]
    with ActiveCassette(path, record_mode="new_episodes", scope="judge", nodeid=test_id) as cassette:
        transport = Transport(client, cassette=cassette)
        for request, _ in answered:
            transport.send(dict(request["body"]))
    client.close()
