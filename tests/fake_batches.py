"""OpenAI's Files and Batches endpoints, faked beside the scripted chat endpoint of ``fake_openai``.

``FakeBatches(fake)`` adds to a ``FakeOpenAI`` the routes the Batch API uses: ``POST /files`` (a multipart
upload), ``POST /batches``, ``GET /batches/{id}`` and ``GET /files/{id}/content``. A batch stays
``in_progress`` until the test calls ``finish(batch_id)`` (every request answered by the fake's rules, some
failed on demand) or ``end(batch_id, "expired")``.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from fake_openai import FakeOpenAI, Request


class FakeBatches:
    def __init__(self, fake: FakeOpenAI) -> None:
        self.fake = fake
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.retrieved = 0
        self._ids = itertools.count(1)
        fake.routes = self.route

    def lines(self, batch_id: str) -> list[dict[str, Any]]:
        """The requests a batch's input file holds."""
        data = self.files[self.batches[batch_id]["input_file_id"]]
        return [json.loads(line) for line in data.decode().splitlines() if line.strip()]

    def finish(self, batch_id: str, *, fail: tuple[str, ...] = ()) -> None:
        """Answer every request of the batch with the fake's rules; a request whose question contains one
        of ``fail`` gets an error line instead."""
        output, errors = [], []
        for line in self.lines(batch_id):
            request = Request(line["url"], {}, line["body"])
            if any(text in request.text for text in fail):
                errors.append(
                    {
                        "id": f"batch_req_{next(self._ids)}",
                        "custom_id": line["custom_id"],
                        "response": None,
                        "error": {"code": "invalid_prompt", "message": "the prompt was flagged"},
                    }
                )
                continue
            body = dict(self.fake.reply_for(request).body)
            body["model"] = line["body"]["model"]
            output.append(
                {
                    "id": f"batch_req_{next(self._ids)}",
                    "custom_id": line["custom_id"],
                    "response": {"status_code": 200, "request_id": "req_1", "body": body},
                    "error": None,
                }
            )
        batch = self.batches[batch_id]
        batch["output_file_id"] = self._file("\n".join(json.dumps(o) for o in output).encode())
        if errors:
            batch["error_file_id"] = self._file("\n".join(json.dumps(e) for e in errors).encode())
        batch["status"] = "completed"
        batch["request_counts"] = {
            "total": len(output) + len(errors),
            "completed": len(output),
            "failed": len(errors),
        }

    def end(self, batch_id: str, status: str) -> None:
        """The batch expired or was cancelled before answering anything."""
        self.batches[batch_id]["status"] = status

    def _file(self, data: bytes) -> str:
        file_id = f"file-{next(self._ids)}"
        self.files[file_id] = data
        return file_id

    def _batch(self, batch_id: str) -> dict[str, Any]:
        batch = self.batches[batch_id]
        counts = batch.get("request_counts") or {
            "total": len(self.lines(batch_id)),
            "completed": 0,
            "failed": 0,
        }
        return {
            "id": batch_id,
            "object": "batch",
            "endpoint": batch["endpoint"],
            "input_file_id": batch["input_file_id"],
            "completion_window": "24h",
            "status": batch["status"],
            "output_file_id": batch.get("output_file_id"),
            "error_file_id": batch.get("error_file_id"),
            "created_at": 1_700_000_000,
            "request_counts": counts,
        }

    def route(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any] | None:
        """The answer to a Files or Batches request (status, JSON or bytes), or None for other paths."""
        path = path.split("?")[0].rstrip("/")
        if method == "POST" and path.endswith("/files"):
            data = _multipart_file(headers.get("content-type", ""), raw)
            file_id = self._file(data)
            return 200, {
                "id": file_id,
                "object": "file",
                "bytes": len(data),
                "purpose": "batch",
                "filename": "llm-batch.jsonl",
                "created_at": 1_700_000_000,
                "status": "processed",
            }
        if method == "POST" and path.endswith("/batches"):
            body = json.loads(raw)
            batch_id = f"batch_{next(self._ids)}"
            self.batches[batch_id] = {
                "input_file_id": body["input_file_id"],
                "endpoint": body["endpoint"],
                "status": "in_progress",
            }
            return 200, self._batch(batch_id)
        if method == "GET" and "/batches/" in path:
            self.retrieved += 1
            batch_id = path.rsplit("/", 1)[1]
            if batch_id not in self.batches:
                return 404, {"error": {"message": f"no batch {batch_id}"}}
            return 200, self._batch(batch_id)
        if method == "GET" and path.endswith("/content") and "/files/" in path:
            return 200, self.files[path.split("/")[-2]]
        return None


def _multipart_file(content_type: str, raw: bytes) -> bytes:
    """The ``file`` part of a multipart/form-data body."""
    boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
    for part in raw.split(b"--" + boundary):
        head, _, body = part.partition(b"\r\n\r\n")
        if b'name="file"' in head:
            return body.rstrip(b"\r\n")
    raise ValueError("no file in the upload")
