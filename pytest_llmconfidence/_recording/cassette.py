"""Cassettes, the vcrpy side: one cassette per test, matched on method, path and the canonical JSON body.

Knows nothing of pytest. Importing this module imports vcrpy, so it is imported on a test's first
cassette only (the plugin's ``_llm_cassette`` fixture), never when the plugin loads.

vcrpy is extended through its public seams (a persister, a matcher, ``before_record_*`` filters,
``skip_patchers``) and a ``Cassette`` subclass. What else it needs of vcrpy (its modules' helpers and
a cassette's private members) goes through ``vcr_internals``, the one file that names them.

The judge's requests reach a cassette through ``_judge.transport``; the cassette tells the judge's
request it answers whether it played it from its recordings (``transport.answered``).
"""

from __future__ import annotations

import contextlib
import copy
import glob
import hashlib
import itertools
import json
import os
import re
import shlex
import threading
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from .._errors import (
    CassetteCorruptError,
    CassetteMissError,
    CassetteSecretError,
    LLMConfidenceError,
    ReplayMiss,
)
from .._files import TEMP_SUFFIX, collector_paused, temp_prefix, write_atomic
from .._judge.transport import answered, is_judge_request
from .._text import display_path, shorten
from . import guard as _guard
from . import patches as _patches
from . import secrets as _secrets
from . import vcr_internals as _vcr
from .cassette_file import JsonFirst
from .cassette_file import loads as parse_cassette
from .encodings import IDENTITY, UndecodableBody
from .encodings import decode as decode_body
from .hosts import allows
from .secrets import is_secret, scrub_url
from .vcr_internals import Cassette, RecordMode

__all__ = [
    "IGNORED_BODY_FIELDS",
    "ActiveCassette",
    "AtomicPersister",
    "LLMCassette",
    "cassette_path",
    "fixture_path",
    "llm_request",
    "request_key",
]

IGNORED_BODY_FIELDS = frozenset(
    {"user", "metadata", "store", "stream_options", "prompt_cache_key", "safety_identifier"}
)
REQUEST_HEADERS_KEPT = frozenset({"content-type"})
RESPONSE_HEADERS_KEPT = frozenset(
    {
        "content-type",
        "retry-after",
        "openai-processing-ms",
        "openai-version",
        "x-ratelimit-limit-requests",
        "x-ratelimit-limit-tokens",
        "x-ratelimit-remaining-requests",
        "x-ratelimit-remaining-tokens",
        "x-ratelimit-reset-requests",
        "x-ratelimit-reset-tokens",
    }
)
"""Response headers are stored by allow-list: what a replay (or an app reading rate limits) needs."""
RETRIED_STATUSES = frozenset({408, 409, 429})
"""Failures the openai client retries (with every 5xx, and whatever says ``x-should-retry: true``)."""
_SECRET_WORDS = ("key", "secret", "token", "auth", "cookie", "session", "password", "organization")
_UNSAFE = re.compile(r"[^\w.\-\[\]=,+@]")
_MAX_NAME_BYTES = 200
"""A file name's budget in bytes (file systems allow 255), with room left for the temporary file's."""
MALFORMED = "malformed_body"
"""Set on a stored response whose body did not parse as the JSON it claims, as the server sent it: it
replays as sent (the judge's error again), where a body edited into broken JSON is a corrupt cassette."""
UNDECODABLE = "_llm_undecodable"
"""Set on a request (and a response's dict) whose body could not be decoded: what its encoding was."""
_HASH_MARK = "~"
"""Separates a name from the hash that keeps it distinct; itself unsafe, so never part of a plain name."""

RequestKey = tuple[str, str, str]
SENT = "_llm_sent"
"""Where a request keeps its place in the order the test sent its requests (``llm_responses`` order)."""


# --- the path of a test's cassette ------------------------------------------------------------


def _safe(part: str, *, distinct: bool = True, hashed: bool = False) -> str:
    """``part`` as a file name: unsafe characters replaced by ``_``, at most 200 bytes.

    A name that had to change (or is ``hashed``) ends with ``~`` and a hash of the original, so two
    test ids never share a file (``a/b`` and ``a_b``), however long or non-ASCII they are.
    """
    text = _UNSAFE.sub("_", part) or "_"
    if text in (".", ".."):
        text = text.replace(".", "_")
    encoded = text.encode("utf-8", "surrogatepass")
    if hashed or (distinct and text != part) or len(encoded) > _MAX_NAME_BYTES:
        digest = _digest(part)
        room = _MAX_NAME_BYTES - len(digest) - len(_HASH_MARK)
        text = encoded[:room].decode("utf-8", "ignore") + _HASH_MARK + digest
    return text


def _relative(path: Path, rootpath: Path) -> Path | None:
    try:
        return path.relative_to(rootpath)
    except ValueError:
        try:
            return path.resolve().relative_to(rootpath.resolve())
        except ValueError:
            return None


def _folder(cassette_dir: Path, parts: Any) -> Path:
    return cassette_dir.joinpath(*(_safe(part, distinct=False) for part in parts))


def cassette_path(cassette_dir: Path, rootpath: Path, module_path: Path, nodeid: str) -> Path:
    """``<cassette_dir>/<module path from rootdir, no .py>/<Class.>test_name[<param id>].yaml``."""
    relative = _relative(module_path, rootpath)
    if relative is None:
        relative = Path(*(p for p in Path(nodeid.split("::", 1)[0]).parts if p not in ("..", "/", "\\")))
    names = nodeid.split("::")[1:] or [module_path.stem]
    # Parts are joined by ".": a part whose name holds a dot itself (a::b against a.b, doctests, other
    # plugins' items) could meet another test's name, so it keeps a hash of the whole id.
    dotted = any("." in name.split("[", 1)[0] for name in names)
    directory = _folder(cassette_dir, relative.with_suffix("").parts)
    name = "::".join(names) if dotted else ".".join(names)
    if _secrets.contains(name):  # a key as a parametrize id: the file is named by a hash, never by the key
        return directory / (
            _safe(_secrets.redact(name)).split(_HASH_MARK)[0] + _HASH_MARK + _digest(name) + ".yaml"
        )
    return directory / (_safe(name, hashed=dotted) + ".yaml")


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:10]


def fixture_path(
    cassette_dir: Path,
    rootpath: Path,
    source: Path,
    *,
    module: str,
    holders: list[str],
    name: str,
    param: str | None,
    scope: str,
) -> Path:
    """The cassette of a fixture of a wider scope than the test, beside the tests' cassettes.

    ``<cassette_dir>/<module path, no .py>/<Class.>name[<param>].<scope>.yaml`` for a fixture of a test
    module, ``<cassette_dir>/<the conftest's folder>/name.<scope>.yaml`` for a conftest's, and
    ``<cassette_dir>/<plugin module>/name.<scope>.yaml`` for an installed plugin's.
    """
    relative = _relative(source, rootpath)
    if relative is None:
        parts: Any = module.split(".")
    elif relative.name == "conftest.py":
        parts = relative.parent.parts
    else:
        parts = relative.with_suffix("").parts
    label = ".".join([*holders, name]) + (f"[{param}]" if param is not None else "")
    return _folder(cassette_dir, parts) / f"{_safe(label)}.{scope}.yaml"


def record_command(nodeid: str, mode: str) -> str:
    """The command that records ``nodeid`` in record mode ``mode``."""
    return f"OPENAI_API_KEY=… pytest {shlex.quote(nodeid)} --llm-record-mode={mode}"


# --- matching: the one request key ------------------------------------------------------------


def _canonical_body(body: Any) -> Any:
    """The body as JSON with the ignored fields removed, or the raw bytes when it is not JSON."""
    if body is None or body == b"" or body == "":
        return None
    raw = body if isinstance(body, (bytes, str)) else bytes(body)
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return raw
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k not in IGNORED_BODY_FIELDS}
    return data


def request_key(method: str, path: str, body: Any) -> RequestKey:
    """(method, path, hash of the canonical body): what a request is matched on, everywhere.

    ``body`` is the request body as sent (bytes or text) or, for a request about to be sent, its JSON
    data; key order, the ignored fields and the JSON spelling (``\\u00e9`` or ``é``) do not matter.
    """
    if isinstance(body, (bytes, bytearray, str)) or body is None:
        canonical = _canonical_body(body)
    elif isinstance(body, dict):
        canonical = {k: v for k, v in body.items() if k not in IGNORED_BODY_FIELDS}
    else:
        canonical = body
    if isinstance(canonical, (bytes, bytearray, str)):
        text = canonical.encode() if isinstance(canonical, str) else bytes(canonical)
    else:
        text = _CANONICAL.encode(canonical).encode()
    return (str(method).upper(), path, hashlib.sha1(text).hexdigest())


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
"""The one spelling of a JSON body that its key is the hash of (made once: it is on every request's path)."""


def _decoded_body(request: Any, headers: Mapping[str, Any] | None = None) -> Any:
    """A vcrpy request's body as it is stored and matched: decompressed when its ``Content-Encoding``
    says gzip, deflate, br or zstd, a form's secret fields replaced (``_scrubbed_form``).

    A compressed body is stored decoded, so the secret scan reads it and a gzip header's timestamp does
    not make the same request differ from its recording. ``headers``, when given, are the request's as a
    plain mapping (a cassette's file), quicker to look in than a vcrpy request's.
    """
    body = request.body_bytes if hasattr(request, "body_bytes") else request.body
    if headers is None:
        headers = getattr(request, "headers", None) or {}
    encoding = _header(headers, "content-encoding")
    if encoding not in IDENTITY and isinstance(body, (bytes, bytearray)) and body:
        try:
            return decode_body(bytes(body), encoding)
        except UndecodableBody as exc:  # never stored unscanned: the cassette is not written (_undecodable)
            request.__dict__[UNDECODABLE] = str(exc)
            return body
    if "x-www-form-urlencoded" in _header(headers, "content-type"):
        return _scrubbed_form(body)
    return body


def _scrubbed_form(body: Any) -> Any:
    """A form body with the values of its secret-looking fields replaced, as a query string's are.

    ``client_secret=…&password=…&code=…`` is stored and matched as ``client_secret=REDACTED&…``; the
    values are remembered as secrets of the run.
    """
    try:
        text = bytes(body).decode("ascii") if isinstance(body, (bytes, bytearray)) else None
    except UnicodeDecodeError:
        return body
    if not text:
        return body
    scrubbed = scrub_url("?" + text)[1:]
    return body if scrubbed == text else scrubbed.encode("ascii")


def _key(request: Any, headers: Mapping[str, Any] | None = None) -> RequestKey:
    """The request key of a vcrpy request, cached on the request object (``headers``: ``_decoded_body``)."""
    cached: RequestKey | None = request.__dict__.get("_llm_key")
    if cached is None:
        cached = request_key(request.method, request.path, _decoded_body(request, headers))
        request.__dict__["_llm_key"] = cached
    return cached


def llm_request(r1: Any, r2: Any) -> bool:
    """vcrpy matcher: method, URL path and canonical JSON body (never headers, never the host)."""
    return _key(r1) == _key(r2)


# --- what is stored ---------------------------------------------------------------------------


def _secret_values(headers: Mapping[str, Any]) -> list[str]:
    found = []
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in ("authorization", "proxy-authorization") or any(w in lowered for w in _SECRET_WORDS):
            for item in value if isinstance(value, list) else [value]:
                text = str(item)
                for prefix in ("Bearer ", "bearer ", "Basic ", "basic "):
                    text = text.removeprefix(prefix)
                found.append(text.strip())
    return found


def _header(headers: Mapping[str, Any], name: str) -> str:
    """A header's first value, whatever the case of its name ('' when absent)."""
    for key, value in (headers or {}).items():
        if key.lower() == name:
            first = value[0] if isinstance(value, list) and value else value
            return str(first).strip().lower()
    return ""


def _status_code(response: Mapping[str, Any]) -> int:
    status = response.get("status")
    try:
        return int(status.get("code", 0) if isinstance(status, Mapping) else 0)
    except (TypeError, ValueError):
        return 0


def retried(response: Mapping[str, Any]) -> bool:
    """Whether the client retries this response: 408, 409, 429, 5xx, or ``x-should-retry: true``
    (``x-should-retry: false`` says it does not)."""
    code = _status_code(response)
    retry = _header(response.get("headers") or {}, "x-should-retry")
    return retry == "true" or (retry != "false" and (code in RETRIED_STATUSES or code >= 500))


def _clean_response(response: dict[str, Any], secrets: set[str]) -> dict[str, Any] | None:
    if _status_code(response) in (0, 401):
        return None  # a refused key says nothing about the request: fixed by a key, not a recording
    response = _decoded_response(response)
    if _body_problem(response):
        response[MALFORMED] = True
    headers = {}
    for name, value in (response.get("headers") or {}).items():
        if name.lower() not in RESPONSE_HEADERS_KEPT:
            continue
        values = value if isinstance(value, list) else [value]
        if any(secret in str(item) for item in values for secret in secrets):
            continue
        headers[name] = value
    response["headers"] = headers
    return response


def _decoded_response(response: dict[str, Any]) -> dict[str, Any]:
    """A response (vcrpy's dict, a copy) with its body decoded as its ``Content-Encoding`` says.

    A body that cannot be decoded keeps its encoding, and ``UNDECODABLE`` says why: the cassette is not
    written (``_undecodable``).
    """
    headers = dict(response.get("headers") or {})
    names = [name for name in headers if name.lower() == "content-encoding"]
    encoding = ", ".join(_header(headers, name) for name in names[:1])
    body = (response.get("body") or {}).get("string")
    if encoding in IDENTITY or not isinstance(body, (bytes, bytearray, str)) or not body:
        return response
    raw = body.encode("latin-1", "replace") if isinstance(body, str) else bytes(body)
    try:
        decoded = decode_body(raw, encoding)
    except UndecodableBody as exc:
        return {**response, UNDECODABLE: str(exc)}
    for name in names:
        del headers[name]
    for name in [name for name in headers if name.lower() == "content-length"]:
        headers[name] = [str(len(decoded))]
    return {**response, "headers": headers, "body": {**response["body"], "string": decoded}}


def _undecodable(cassette_dict: Mapping[str, Any]) -> str | None:
    """Which body of the cassette could not be decoded to be scanned, and its encoding."""
    pairs = zip(cassette_dict["requests"], cassette_dict["responses"], strict=False)
    for number, (request, response) in enumerate(pairs, 1):
        for side, why in (
            ("request", request.__dict__.get(UNDECODABLE)),
            ("response", response.get(UNDECODABLE)),
        ):
            if why:
                return f"the {side} body of interaction {number} is compressed with {why}"
    return None


def _leaks(cassette_dict: Mapping[str, Any], text: str, secrets: set[str]) -> str | None:
    """Where a secret would be written, in any of its forms (``secrets.contains``): in the text, or in
    the bytes of a body (binary ones too)."""
    pairs = zip(cassette_dict["requests"], cassette_dict["responses"], strict=False)
    for number, (request, response) in enumerate(pairs, 1):
        bodies = {"request": request.body_bytes, "response": (response.get("body") or {}).get("string")}
        for side, body in bodies.items():
            raw = body.encode() if isinstance(body, str) else body
            if isinstance(raw, (bytes, bytearray)) and _secrets.found_in_bytes(bytes(raw), secrets):
                return f"the {side} body of interaction {number}"
    return "the cassette's text" if _secrets.contains(text, secrets) else None


# --- the miss message ---------------------------------------------------------------------------


def _text_of(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):  # a body that is neither JSON nor UTF-8 (binary, form)
        return bytes(value).decode("utf-8", "backslashreplace")
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _excerpt(value: Any, width: int = 90) -> str:
    return shorten(_text_of(value), width)


def _differing(now: Any, recorded: Any, context: int = 30, width: int = 90) -> tuple[str, str]:
    """Both texts around the first character where they differ, ``context`` characters before it."""
    a, b = _secrets.redact(_text_of(now)), _secrets.redact(_text_of(recorded))  # before any cut
    at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    start = max(0, at - context)

    def cut(text: str) -> str:
        piece = text[start : start + width]
        return ("…" if start else "") + repr(piece)[1:-1] + ("…" if start + width < len(text) else "")

    return cut(a), cut(b)


def _describe_difference(now: Any, recorded: Any) -> str:
    """Which field of the JSON body changed, and how (only on the miss path: never on replay)."""
    if not isinstance(now, dict) or not isinstance(recorded, dict):
        return f"the body changed: now {_excerpt(now)}, recorded {_excerpt(recorded)}"
    fields = sorted(k for k in set(now) | set(recorded) if now.get(k) != recorded.get(k))
    lines = [f"the request changed since it was recorded: {', '.join(fields)} differ"]
    for name in fields:
        new, old = now.get(name), recorded.get(name)
        if name == "messages" and isinstance(new, list) and isinstance(old, list):
            for index in range(max(len(new), len(old))):
                a = new[index] if index < len(new) else None
                b = old[index] if index < len(old) else None
                if a != b:
                    a_text = a.get("content") if isinstance(a, dict) else a
                    b_text = b.get("content") if isinstance(b, dict) else b
                    a_cut, b_cut = _differing(a_text, b_text)
                    lines.append(f"  messages[{index}] (the question, response or prompt):")
                    lines.append(f"    now:      {a_cut}")
                    lines.append(f"    recorded: {b_cut}")
                    break
        else:
            a_cut, b_cut = _differing(new, old)
            lines.append(f"  {name}: now {a_cut}, recorded {b_cut}")
    return "\n".join(lines)


# --- the cassette -----------------------------------------------------------------------------


class LLMCassette(Cassette):  # type: ignore[misc]
    """A vcrpy cassette that replays in record order under a lock, and raises our errors on a miss.

    Recordings read from the file are indexed by request key, so replaying a request costs the same
    whatever the cassette's size.
    """

    nodeid = ""
    subject = "this test"
    """Whose cassette it is, as messages say it: this test, or a fixture of a wider scope."""
    file_existed = False
    allowed: tuple[Any, ...] = ()
    """The networks of llm_allow_hosts: requests to them that cannot be replayed go out live."""
    watcher: Any = None
    """Called as ``watcher(request, response, replayed)`` with every response the test's code gets."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock = threading.RLock()
        self._reserved: dict[int, tuple[Any, int]] = {}
        self._index: dict[RequestKey, list[int]] = {}
        self._next: dict[RequestKey, int] = {}
        self._checked: set[int] = set()
        self._sent = itertools.count()
        self._failing: dict[RequestKey, tuple[Any, Any]] = {}
        self._saved = 0
        """How many of ``data`` this cassette wrote already (a fixture's cassette saves twice)."""

    def read_file(self) -> None:
        """Load the recordings of the cassette's file, if it exists, and index them by request key."""
        # vcrpy's _load runs every recording through append (two deep copies and the record
        # filters): recordings read from the file are stored as they are, which halves the cost.
        recordings = _vcr.read_recordings(self)
        if recordings is None:
            return
        self.file_existed = True
        if self.record_mode == RecordMode.ALL:
            return  # "all" records the test afresh: the file is replaced by what this run sends
        requests, responses, metadata = recordings
        for index, request in enumerate(requests[: len(responses)]):
            self._index.setdefault(_key(request), []).append(index)
        _vcr.adopt_recordings(self, zip(requests, responses, strict=False), metadata)

    def unplayed(self, key: RequestKey) -> int | None:
        """The first recording loaded from the file with this key that has not played yet.

        Recordings play in order and only once, so a cursor per key finds it in constant time, however
        many identical requests the cassette holds.
        """
        indices = self._index.get(key)
        if not indices:
            return None
        position = self._next.get(key, 0)
        while position < len(indices) and self.play_counts[indices[position]]:
            position += 1
        self._next[key] = position
        return indices[position] if position < len(indices) else None

    def play_answer(self, key: RequestKey) -> Any:
        """The next recording of ``key`` played, when its answer is a JSON object sent with a success: that
        object. None (nothing played) for anything a client must read itself: an error, another body."""
        with self._lock:
            index = self.unplayed(key)
            if index is None:
                return None
            response = self.data[index][1]
            headers = response.get("headers") or {}
            if not 200 <= _status_code(response) < 300 or "json" not in _header(headers, "content-type"):
                return None
            if _header(headers, "content-encoding") not in IDENTITY:
                return None
            try:
                answer = json.loads(response["body"]["string"])
            except (ValueError, TypeError, KeyError):  # UnicodeDecodeError is a ValueError
                return None
            if not isinstance(answer, dict):
                return None
            next(self._sent)
            _vcr.mark_played(self, index)
            self._checked.add(index)
            return answer

    def can_play_response_for(self, request: Any) -> bool:
        # Choosing the interaction and marking it played is one step, so two threads making the
        # same call each get their own recording, in order. Only recordings loaded from the file
        # replay: while recording, a repeated call goes to the server and is recorded again.
        with self._lock:
            request.__dict__.setdefault(SENT, next(self._sent))  # the order the app sent its requests in
            if self.record_mode == RecordMode.ALL:
                return False
            if id(request) in self._reserved:
                return True
            filtered = _vcr.record_filter(self, request)
            index = self.unplayed(_key(filtered)) if filtered else None
            if index is None and filtered:
                index = self._sticky(_key(filtered))
            if index is None:
                return False
            _vcr.mark_played(self, index)
            self._reserved[id(request)] = (request, index)
            return True

    def play_response(self, request: Any) -> Any:
        with self._lock:
            reserved = self._reserved.pop(id(request), None)
        if reserved is None:
            if not self.can_play_response_for(request):
                raise ReplayMiss(self.miss(request))
            with self._lock:
                reserved = self._reserved.pop(id(request))
        index = reserved[1]
        response = self.data[index][1]
        if index not in self._checked:
            self._checked.add(index)
            problem = None if response.get(MALFORMED) is True else _body_problem(response)
            if problem:
                where = f"interaction {index + 1}, {_route(self.data[index][0])}"
                path = Path(_vcr.cassette_file(self))
                raise CassetteCorruptError(_corrupt_message(path, f"{where}: {problem}"), path=path)
        answered(replayed=True)
        if self.watcher is not None and not is_judge_request():
            self.watcher(request, response, True)
        return response

    def append(self, request: Any, response: Any) -> None:
        # A failure the client retries is held back: the next try's answer replaces it, and only the
        # final exchange of a request whose every try failed (a 503 that stays) is stored, on saving.
        answered(replayed=False)
        if self.record_mode == RecordMode.NONE:  # an allowed host's live answer: never stored
            if self.watcher is not None and not is_judge_request():
                self.watcher(request, response, False)
            return
        filtered = _vcr.record_filter(self, request)
        key = _key(filtered) if filtered else None
        with self._lock:
            if key is not None and retried(response):
                self._failing[key] = (request, response)
                return
            if key is not None:
                self._failing.pop(key, None)
            super().append(request, response)
        if self.watcher is not None and not is_judge_request():
            self.watcher(request, response, False)

    def _sticky(self, key: RequestKey) -> int | None:
        """The stored final failure of a request that stayed down, which answers every try again."""
        indices = self._index.get(key)
        if indices and retried(self.data[indices[-1]][1]):
            return indices[-1]
        return None

    def filter_request(self, request: Any) -> Any:
        # vcrpy calls this only for a request it cannot play while the cassette is write
        # protected: that is a miss, reported as ours (a request the scope ignores passes). A host
        # llm_allow_hosts lets in is reached live and, the cassette being write protected, not recorded.
        filtered = _vcr.record_filter(self, request)
        if filtered and self.write_protected:
            if allows(self.allowed, request.host):
                request.__dict__["_llm_filtered"] = None  # what append() asks next: nothing to store
                return None
            raise ReplayMiss(self.miss(filtered))
        return filtered

    def miss(self, request: Any) -> CassetteMissError:
        file = Path(_vcr.cassette_file(self))
        path = display_path(file)
        if not self.file_existed:
            return CassetteMissError(
                f"no cassette for {self.subject}: {path} does not exist (record mode "
                f"{self.record_mode.value!r}, {request.method} {request.path}).\n"
                f"Record it with a key: {record_command(self.nodeid, 'once')}",
                path=file,
                nodeid=self.nodeid,
            )
        key = _key(request)
        same_route = [stored for stored, _ in self.data if _key(stored)[:2] == key[:2]]
        if any(_key(stored) == key for stored in same_route):
            count = sum(1 for stored in same_route if _key(stored) == key)
            reason = f"this request was recorded {count} time(s) and the test now makes it once more"
        elif same_route:
            now = _canonical_body(_decoded_body(request))
            reason = min(
                (_describe_difference(now, _canonical_body(stored.body_bytes)) for stored in same_route),
                key=lambda text: text.count(","),
            )
        else:
            recorded = sorted({f"{stored.method} {stored.path}" for stored, _ in self.data}) or ["nothing"]
            reason = (
                f"no recording of {request.method} {request.path}; the cassette holds {', '.join(recorded)}"
            )
        return CassetteMissError(
            f"no recording for this request in {path} (record mode {self.record_mode.value!r}): "
            f"{reason}\n"
            f"Add it with a key: {record_command(self.nodeid, 'new_episodes')}\n"
            f"or re-record the test: {record_command(self.nodeid, 'all')}",
            path=file,
            nodeid=self.nodeid,
        )

    def write_file(self, force: bool = False) -> None:
        """Write the cassette (atomically, through its persister) when it has new recordings."""
        with self._lock:
            failing, self._failing = self._failing, {}
            for request, response in failing.values():
                super().append(request, response)
            adding = self.record_mode in (RecordMode.ONCE, RecordMode.NEW_EPISODES)
            if not adding or not (force or self.dirty):
                _vcr.save_cassette(self, force=force)
                return
            with locked(Path(_vcr.cassette_file(self))):
                self._save_locked()

    def _save_locked(self) -> None:
        """Write under the cassette's lock file, with what another process wrote meanwhile kept.

        ``new_episodes`` re-reads the file and adds this run's new recordings to it, so two processes
        adding to one cassette (xdist workers sharing a fixture, two CI jobs) never lose each other's; in
        ``once``, a file another process wrote meanwhile is left as it is.
        """
        new = self.data[max(_vcr.loaded_count(self), self._saved) :]
        recordings = _vcr.read_recordings(self)
        requests, responses = (recordings[0], recordings[1]) if recordings is not None else ([], [])
        if recordings is not None and self.record_mode == RecordMode.ONCE and not self._saved:
            self.dirty = False  # recorded by another process meanwhile: "once" never changes a file
            return
        _vcr.persist(
            self,
            {
                "requests": [*requests, *(request for request, _ in new)],
                "responses": [*responses, *(response for _, response in new)],
            },
        )
        self._saved = len(self.data)
        self.dirty = False


def _route(request: Any) -> str:
    return f"{request.method} {request.path}"


def _corrupt_message(path: Path, detail: str) -> str:
    return (
        f"the cassette {display_path(path)} cannot be read ({detail}). It was left untouched: fix it, "
        "or delete it and record the test again with --llm-record-mode=once and OPENAI_API_KEY set."
    )


def _body_problem(response: Mapping[str, Any]) -> str | None:
    """What is wrong with a stored response's body for its content type (JSON that does not parse)."""
    if "json" not in _header(response.get("headers") or {}, "content-type"):
        return None
    body = response["body"].get("string")
    if body in (None, b"", ""):
        return "the response says it is JSON but has an empty body"
    try:
        json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        return f"the response says it is JSON but its body does not parse ({exc})"
    return None


def _texts(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(i, str) for i in value))


def _shape_problem(interaction: Any) -> str | None:
    """What is wrong with the shape of one interaction as read from a cassette file, or None."""
    if not isinstance(interaction, Mapping):
        return f"an interaction must be a mapping with request and response, not {type(interaction).__name__}"
    request, response = interaction.get("request"), interaction.get("response")
    if not isinstance(request, Mapping):
        return "the request is missing or not a mapping"
    if not isinstance(request.get("method"), str) or not isinstance(request.get("uri"), str):
        return "the request needs a method and a uri, both text"
    if request.get("body") is not None and not isinstance(request.get("body"), (str, bytes)):
        return "the request body must be text"
    if not isinstance(response, Mapping):
        return f"the response must be a mapping with status, headers and body, not {type(response).__name__}"
    status = response.get("status")
    if (
        not isinstance(status, Mapping)
        or not isinstance(status.get("code"), int)
        or isinstance(status.get("code"), bool)
    ):
        return "the response has no status code (status: {code: 200, message: OK})"
    for part, headers in (("request", request.get("headers", {})), ("response", response.get("headers", {}))):
        if headers is None:
            continue
        if not isinstance(headers, Mapping) or not all(_texts(value) for value in headers.values()):
            return f"the {part} headers must be a mapping of names to lists of text"
    body = response.get("body")
    if not isinstance(body, Mapping) or not isinstance(body.get("string"), (str, bytes)):
        return "the response has no body (body: {string: ...})"
    return None


def _route_of(interaction: Any) -> str:
    """``, POST /v1/chat/completions`` for an interaction whose request has a method and a uri."""
    request = interaction.get("request") if isinstance(interaction, Mapping) else None
    if not isinstance(request, Mapping):
        return ""
    return f", {request.get('method', '?')} {urlsplit(str(request.get('uri', ''))).path or '/'}"


class AtomicPersister:
    """Loads a cassette (anything it cannot use is ``CassetteCorruptError``) and writes it atomically."""

    def __init__(self, secrets: set[str]) -> None:
        self.secrets = secrets

    def load_cassette(self, cassette_path: Any, serializer: Any) -> Any:
        with collector_paused():
            return self._load(Path(cassette_path), serializer)

    def _load(self, path: Path, serializer: Any) -> Any:
        try:
            data = path.read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError):
            raise _vcr.CassetteNotFoundError() from None
        except (OSError, UnicodeDecodeError) as exc:
            raise CassetteCorruptError(_corrupt_message(path, self._detail(exc)), path=path) from None
        if not data.strip():
            raise CassetteCorruptError(
                _corrupt_message(path, "the file is empty (a cassette holds at least `interactions: []`)"),
                path=path,
            )
        try:
            parsed = parse_cassette(data, serializer)
        except Exception as exc:  # any parse error of JSON or of the serializer (yaml's or a user's)
            raise CassetteCorruptError(_corrupt_message(path, self._detail(exc)), path=path) from None
        interactions = parsed.get("interactions") if isinstance(parsed, Mapping) else None
        if not isinstance(interactions, list):
            raise CassetteCorruptError(
                _corrupt_message(path, "it is not a cassette (no list of interactions at its top level)"),
                path=path,
            )
        requests, responses = [], []
        for number, interaction in enumerate(interactions, 1):
            problem = _shape_problem(interaction)
            if problem:
                raise CassetteCorruptError(
                    _corrupt_message(path, f"interaction {number}{_route_of(interaction)}: {problem}"),
                    path=path,
                )
            request = dict(interaction["request"])
            request["headers"] = request.get("headers") or {}
            response = dict(interaction["response"])
            response["headers"] = response.get("headers") or {}
            stored = _vcr.request_from_dict(request)
            _key(stored, request["headers"])  # indexed by it next: quicker from the file's plain headers
            requests.append(stored)
            responses.append(_vcr.response_as_bytes(response))
        metadata = parsed.get("metadata")
        return (requests, responses, metadata) if metadata else (requests, responses)

    @staticmethod
    def _detail(exc: BaseException) -> str:
        return f"{type(exc).__name__}: {' '.join(str(exc).split())[:200] or type(exc).__name__}"

    def save_cassette(self, cassette_path: Any, cassette_dict: Any, serializer: Any) -> None:
        path = Path(cassette_path)
        undecodable = _undecodable(cassette_dict)
        if undecodable:
            raise CassetteSecretError(
                f"not writing the cassette {display_path(path)}: {undecodable}, so it cannot be scanned for "
                "secrets. Nothing was written; the previous file, if any, is intact. Install the module "
                "named, or have the test send and receive bodies in an encoding that can be decoded."
            )
        for response in cassette_dict["responses"]:
            response.pop(UNDECODABLE, None)
        data = _vcr.serialize_cassette(cassette_dict, JsonFirst(serializer))
        secrets = {secret for secret in self.secrets | _secrets.known() if is_secret(secret)}
        where = _leaks(cassette_dict, data, secrets)
        if where:
            raise CassetteSecretError(
                f"not writing the cassette {display_path(path)}: it contains the API key in use or "
                f"another secret of this run (in {where}). Nothing was written; the previous file, if any, "
                "is intact. Keep secrets out of what the test sends and receives, or report a bug if the "
                "plugin should have scrubbed it.",
                path=path,
            )
        remove_stale_temp_files(path)
        try:
            write_atomic(path, data)
        except OSError as exc:
            raise LLMConfidenceError(
                f"could not write the cassette {display_path(path)} ({exc.strerror or type(exc).__name__}); "
                "the previous file, if any, is intact. Free disk space or make the folder writable, "
                "or run with --llm-record-mode=none to replay without recording."
            ) from None


@contextlib.contextmanager
def locked(path: Path) -> Any:
    """Hold the lock file beside a cassette (``.<name>.yaml.lock``, removed after) while writing it.

    Processes wait for each other's writes (``flock``; where it does not exist, nothing is locked). A
    lock file is removed before it is released, so a process that waited re-opens it if it was replaced.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    lock = path.with_name(f".{path.name}.lock")
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        yield  # the write reports what is wrong with the folder
        return
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if os.fstat(fd).st_ino == os.stat(lock).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock)
        os.close(fd)


def remove_stale_temp_files(path: Path) -> None:
    """Remove the temporary files an interrupted write of ``path`` left beside it (kill -9, power cut)."""
    with contextlib.suppress(OSError):
        for stale in path.parent.glob(f"{glob.escape(temp_prefix(path))}*{TEMP_SUFFIX}"):
            with contextlib.suppress(OSError):
                stale.unlink()


# --- activating a test's cassette ------------------------------------------------------------


class ActiveCassette:
    """A cassette, active between ``__enter__`` and ``__exit__`` (a test's, or a fixture's).

    A fixture of a wider scope is active while it is set up and again while it is torn down: ``open``
    loads it once, ``activate``/``deactivate`` put its patchers (and, replaying only, the socket guard)
    in place and take them away, ``save`` writes what was recorded so far.
    """

    def __init__(
        self,
        path: Path,
        *,
        record_mode: str,
        scope: str,
        nodeid: str,
        allow_hosts: tuple[Any, ...] = (),
        watcher: Any = None,
        subject: str = "this test",
        guarded: bool = True,
    ) -> None:
        self.guarded = guarded
        """Whether record mode none puts the socket guard in place (a test's cassette); a wider
        fixture's suspends the test's guard instead, so the database or server it opens is not refused."""
        self.watcher = watcher
        self.path = path
        self.record_mode = record_mode
        self.scope = scope
        self.nodeid = nodeid
        self.allow_hosts = allow_hosts
        self.subject = subject
        self.cassette: Any = None
        self.guard: _guard.SocketGuard | None = None
        self._patched: _patches.Patched | None = None
        self._guarding: _guard.SocketGuard | None = None
        self._set_key = False
        self.errored = False
        """Whether the test stopped on an error, not a failed check (the plugin sets it): then nothing
        is written, since what was recorded may be cut short."""

    @property
    def replay_only(self) -> bool:
        """Whether every request must come from the cassette (so the client must not retry)."""
        return self.record_mode == "none" or (self.record_mode == "once" and bool(self.cassette.file_existed))

    def record_command(self, mode: str) -> str:
        return record_command(self.nodeid, mode)

    def key_of(self, method: str, path: str, body: Any) -> RequestKey:
        """The key a request (its JSON ``body``) is matched on: what a batch notes it by."""
        return request_key(method, path, body)

    def can_replay(self, method: str, path: str, body: Any) -> bool:
        """Whether a request (its JSON ``body``) would be played from this cassette now."""
        if self.record_mode == "all":  # "all" records every request afresh
            return False
        with self.cassette._lock:
            return self.cassette.unplayed(request_key(method, path, body)) is not None

    def recorded_answer(self, method: str, path: str, body: Any) -> dict[str, Any] | None:
        """The JSON answer recorded for a request (its JSON ``body``), played now without an HTTP round
        trip; None when it must go through the HTTP library (nothing recorded, or not a JSON success)."""
        if self.record_mode == "all":  # "all" records every request afresh
            return None
        answer: dict[str, Any] | None = self.cassette.play_answer(request_key(method, path, body))
        return answer

    def _filters(self, secrets: set[str]) -> tuple[Any, Any]:
        scope = self.scope

        def before_record_request(request: Any) -> Any:
            # Called several times per request: the outcome is kept on the request. The request
            # itself is never changed (some stubs send it on), a copy without headers is stored.
            if request is None:
                return None
            state = request.__dict__
            if "_llm_filtered" in state:
                return state["_llm_filtered"]
            headers = request.headers
            if scope == "judge" and not is_judge_request():  # a marker in the process, not a header
                state["_llm_filtered"] = None
                return None
            found = [value for value in _secret_values(headers) if is_secret(value)]
            secrets.update(found)
            _secrets.add(found)
            _key(request)
            stored = copy.copy(request)
            stored.uri = _secrets.redact(scrub_url(request.uri, secrets), secrets)  # q=<key>, in any form
            stored.headers = {k: v for k, v in headers.items() if k.lower() in REQUEST_HEADERS_KEPT}
            decoded = _decoded_body(request)
            if decoded is not request.body_bytes:  # stored decoded (no content-encoding kept), scrubbed
                stored.body = decoded
            stored.__dict__["_llm_filtered"] = stored
            state["_llm_filtered"] = stored
            return stored

        def before_record_response(response: Any) -> Any:
            return _clean_response(response, secrets)

        return before_record_request, before_record_response

    def open(self) -> ActiveCassette:
        """Load the cassette (a file that does not parse is ``CassetteCorruptError``)."""
        __tracebackhide__ = True
        secrets: set[str] = _secrets.known()
        before_record_request, before_record_response = self._filters(secrets)
        cassette = LLMCassette(
            path=str(self.path),
            persister=AtomicPersister(secrets),
            record_mode=RecordMode("new_episodes" if self.record_mode == "batch" else self.record_mode),
            match_on=(llm_request,),
            before_record_request=before_record_request,
            before_record_response=before_record_response,
        )
        cassette.nodeid = self.nodeid
        cassette.subject = self.subject
        cassette.watcher = self.watcher
        cassette.allowed = self.allow_hosts
        try:
            cassette.read_file()
        except LLMConfidenceError as exc:
            raise exc.with_traceback(None) from None
        self.cassette = cassette
        return self

    def activate(self) -> None:
        """Put the cassette's patches in place (and in record mode none, the socket guard)."""
        groups = _patches.OPENAI if self.scope == "judge" else _patches.WHOLE_TEST
        self._patched = _patches.start(self.cassette, groups)
        if not self.guarded:
            self._guarding = _guard.SocketGuard(where="", remedy="", suspends=True).__enter__()
        elif self.record_mode == "none" and self.scope == "test":  # "judge": the test's calls are live
            self.guard = _guard.SocketGuard(
                path=Path(self.path),
                nodeid=self.nodeid,
                where=f"its cassette {display_path(self.path)}",
                remedy=(
                    "Record the call with a key (an HTTP library imported only inside the test is "
                    f"recorded once conftest.py imports it too): {record_command(self.nodeid, 'once')}\n"
                    "or, for a server the test starts itself, allow its address: "
                    "--llm-allow-hosts=127.0.0.1 (ini llm_allow_hosts)."
                ),
                allowed=self.allow_hosts,
            )
            self._guarding = self.guard.__enter__()
        if not os.environ.get("OPENAI_API_KEY"):
            self._set_key = True
            os.environ["OPENAI_API_KEY"] = _secrets.PLACEHOLDER_KEY

    def deactivate(self) -> None:
        """Take the patches and the guard away (the placeholder key too)."""
        if self._set_key:
            os.environ.pop("OPENAI_API_KEY", None)
            self._set_key = False
        if self._guarding is not None:
            self._guarding.__exit__(None, None, None)
            self._guarding = None
        if self._patched is not None:
            _patches.stop(self._patched)
            self._patched = None

    def save(self) -> None:
        """Write what was recorded (nothing when the test errored: the recording may be cut short)."""
        __tracebackhide__ = True
        if self.errored:
            return  # an interrupted recording is partial: the previous file, if any, stays as it was
        try:
            self.cassette.write_file()
        except LLMConfidenceError as error:
            raise error.with_traceback(None) from None

    def __enter__(self) -> ActiveCassette:
        __tracebackhide__ = True
        self.open()
        self.activate()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        __tracebackhide__ = True
        self.deactivate()
        self.save()


# --- what a test outside the recorded set may send -------------------------------------------------

LLM_PATHS = ("/chat/completions", "/completions", "/responses", "/embeddings")
"""The API paths of LLM calls: a test with no cassette must not send them in record mode none."""


def is_llm_path(path: str) -> bool:
    route = path.split("?", 1)[0].rstrip("/")
    return route.endswith(LLM_PATHS) or "/responses/" in route


class _Unrecorded(Cassette):  # type: ignore[misc]
    """A cassette that records nothing and refuses the LLM API calls of a test that has no cassette."""

    nodeid = ""

    def can_play_response_for(self, request: Any) -> bool:
        if is_llm_path(request.path):
            raise ReplayMiss(
                CassetteMissError(
                    f"this test has no cassette and sent {request.method} {request.path}, an LLM API call, "
                    "in record mode 'none' (nothing left the process). Mark it @pytest.mark.llm (or set "
                    "llm_record_tests = all) and record it with a key: "
                    f"{record_command(self.nodeid, 'once')}",
                    nodeid=self.nodeid,
                )
            )
        return False

    def append(self, request: Any, response: Any) -> None:
        return None

    def write_file(self, force: bool = False) -> None:
        return None


@contextlib.contextmanager
def refusing_llm_calls(nodeid: str) -> Any:
    """While active, a request to an LLM API path (``LLM_PATHS``) is refused; the others pass."""
    cassette = _Unrecorded(path=os.devnull, record_mode=RecordMode.NEW_EPISODES)
    cassette.nodeid = nodeid
    patched = _patches.start(cassette, _patches.WHOLE_TEST)
    try:
        yield cassette
    finally:
        _patches.stop(patched)
