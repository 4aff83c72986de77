"""Cassettes, the vcrpy side: one cassette per test, matched on method, path and the canonical JSON body.

Knows nothing of pytest. Importing this module imports vcrpy, so it is imported on a test's first
cassette only (the plugin's ``_llm_cassette`` fixture), never when the plugin loads.

vcrpy is extended through its public seams (a persister, a matcher, ``before_record_*`` filters,
``skip_patchers``) and a ``Cassette`` subclass. The subclass also relies on a few of vcrpy's private
members (``_load``, ``_save``, ``_path``, ``_persister``, ``_serializer``, ``_before_record_request``,
``_old_interactions``, ``_played_interactions``, ``_metadata``): the vcrpy range they were tested on is
pinned in the package's requirements, and a test fails loudly when one of them changes.

The judge's requests reach a cassette through ``_transport``; a response played from a cassette
carries ``REPLAY_HEADER``, so whether it was replayed travels on the response itself.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import re
import shlex
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from ._errors import CassetteCorruptError, CassetteMissError, CassetteSecretError, LLMConfidenceError
from ._files import write_atomic
from ._text import display_path, shorten
from ._transport import JUDGE_HEADER, PLACEHOLDER_KEYS, REPLAY_HEADER

# vcrpy imports every HTTP library it knows of: what was loaded before it is what the tests use.
_PATCHER_MODULES = {
    "httplib": "http.client",
    "requests": "requests",
    "boto3": "botocore",
    "urllib3": "urllib3",
    "httplib2": "httplib2",
    "tornado": "tornado",
    "aiohttp": "aiohttp",
    "httpx": "httpx",
    "httpx2": "httpx2",
}
_LOADED_BEFORE_VCR = frozenset(module for module in _PATCHER_MODULES.values() if module in sys.modules)

from vcr.cassette import Cassette  # noqa: E402
from vcr.filters import decode_response  # noqa: E402
from vcr.patch import CassettePatcherBuilder  # noqa: E402
from vcr.persisters.filesystem import CassetteNotFoundError  # noqa: E402
from vcr.record_mode import RecordMode  # noqa: E402
from vcr.serialize import deserialize, serialize  # noqa: E402

__all__ = [
    "IGNORED_BODY_FIELDS",
    "ActiveCassette",
    "AtomicPersister",
    "LLMCassette",
    "cassette_path",
    "llm_request",
    "request_key",
]

IGNORED_BODY_FIELDS = frozenset(
    {"user", "metadata", "store", "stream_options", "prompt_cache_key", "safety_identifier"}
)
REQUEST_HEADERS_KEPT = frozenset({"content-type"})
RESPONSE_HEADERS_DROPPED = frozenset(
    {
        "set-cookie",
        "openai-organization",
        "openai-project",
        "x-request-id",
        REPLAY_HEADER,
        "authorization",
        "proxy-authorization",
        "api-key",
        "x-api-key",
    }
)
_SECRET_WORDS = ("key", "secret", "token", "auth", "cookie", "session", "password")
_UNSAFE = re.compile(r"[^\w.\-\[\]=,+@]")
_MAX_NAME = 200

RequestKey = tuple[str, str, str]


# --- the path of a test's cassette ------------------------------------------------------------


def _safe(part: str) -> str:
    text = _UNSAFE.sub("_", part) or "_"
    if text in (".", ".."):
        text = text.replace(".", "_")
    if len(text) > _MAX_NAME:
        digest = hashlib.sha1(text.encode()).hexdigest()[:10]
        text = f"{text[: _MAX_NAME - 11]}-{digest}"
    return text


def cassette_path(cassette_dir: Path, rootpath: Path, module_path: Path, nodeid: str) -> Path:
    """``<cassette_dir>/<module path from rootdir, no .py>/<Class.>test_name[<param id>].yaml``."""
    try:
        relative = module_path.relative_to(rootpath)
    except ValueError:
        try:
            relative = module_path.resolve().relative_to(rootpath.resolve())
        except ValueError:
            relative = Path(*(p for p in Path(nodeid.split("::", 1)[0]).parts if p not in ("..", "/", "\\")))
    module_parts = list(relative.with_suffix("").parts)
    names = nodeid.split("::")[1:] or [module_path.stem]
    directory = cassette_dir.joinpath(*(_safe(part) for part in module_parts))
    return directory / (_safe(".".join(names)) + ".yaml")


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
    canonical = _canonical_body(body) if isinstance(body, (bytes, bytearray, str)) or body is None else body
    if isinstance(canonical, dict):
        canonical = {k: v for k, v in canonical.items() if k not in IGNORED_BODY_FIELDS}
    if isinstance(canonical, (bytes, bytearray, str)):
        text = canonical.encode() if isinstance(canonical, str) else bytes(canonical)
    else:
        text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return (str(method).upper(), path, hashlib.sha1(text).hexdigest())


def _key(request: Any) -> RequestKey:
    """The request key of a vcrpy request, cached on the request object."""
    cached: RequestKey | None = request.__dict__.get("_llm_key")
    if cached is None:
        body = request.body_bytes if hasattr(request, "body_bytes") else request.body
        cached = request_key(request.method, request.path, body)
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
                for prefix in ("Bearer ", "bearer ", "Basic "):
                    text = text.removeprefix(prefix)
                found.append(text.strip())
    return found


def _is_secret(value: str) -> bool:
    return len(value) >= 8 and value not in PLACEHOLDER_KEYS


def _clean_response(response: dict[str, Any], secrets: set[str]) -> dict[str, Any] | None:
    status = int(response.get("status", {}).get("code", 0) or 0)
    if status == 429 or status >= 500:
        return None  # the client retried it; replay must never replay a failure
    response = decode_response(response)
    headers = {}
    for name, value in (response.get("headers") or {}).items():
        lowered = name.lower()
        if lowered in RESPONSE_HEADERS_DROPPED or any(word in lowered for word in _SECRET_WORDS):
            continue
        values = value if isinstance(value, list) else [value]
        if any(secret in str(item) for item in values for secret in secrets):
            continue
        headers[name] = value
    response["headers"] = headers
    return response


# --- the miss message ---------------------------------------------------------------------------


def _excerpt(value: Any, width: int = 90) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return shorten(text, width)


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
                    lines.append(f"  messages[{index}] (the question, response or prompt):")
                    lines.append(f"    now:      {_excerpt(a_text)}")
                    lines.append(f"    recorded: {_excerpt(b_text)}")
                    break
        else:
            lines.append(f"  {name}: now {_excerpt(new)}, recorded {_excerpt(old)}")
    return "\n".join(lines)


# --- the cassette -----------------------------------------------------------------------------


class LLMCassette(Cassette):  # type: ignore[misc]
    """A vcrpy cassette that replays in record order under a lock, and raises our errors on a miss.

    Recordings read from the file are indexed by request key, so replaying a request costs the same
    whatever the cassette's size.
    """

    nodeid = ""
    file_existed = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock = threading.RLock()
        self._reserved: dict[int, tuple[Any, int]] = {}
        self._index: dict[RequestKey, list[int]] = {}

    def _load(self) -> None:
        # vcrpy's _load runs every recording through append (two deep copies and the record
        # filters): recordings read from the file are stored as they are, which halves the cost.
        try:
            requests, responses, *metadata = self._persister.load_cassette(
                self._path, serializer=self._serializer
            )
        except CassetteNotFoundError:
            return
        for request, response in zip(requests, responses, strict=False):
            self._index.setdefault(_key(request), []).append(len(self.data))
            self.data.append((request, response))
            self._old_interactions.append((request, response))
        self._loaded_count = len(self.data)
        self.dirty = False
        self.rewound = True
        self._metadata = metadata[0] if metadata else {}
        self.file_existed = True

    def unplayed(self, key: RequestKey) -> int | None:
        """The first recording loaded from the file with this key that has not played yet."""
        for index in self._index.get(key, ()):
            if self.play_counts[index] == 0:
                return index
        return None

    def can_play_response_for(self, request: Any) -> bool:
        # Choosing the interaction and marking it played is one step, so two threads making the
        # same call each get their own recording, in order. Only recordings loaded from the file
        # replay: while recording, a repeated call goes to the server and is recorded again.
        if self.record_mode == RecordMode.ALL:
            return False
        with self._lock:
            if id(request) in self._reserved:
                return True
            filtered = self._before_record_request(request)
            index = self.unplayed(_key(filtered)) if filtered else None
            if index is None:
                return False
            self.play_counts[index] += 1
            self._played_interactions.append(self.data[index])
            self._reserved[id(request)] = (request, index)
            return True

    def play_response(self, request: Any) -> Any:
        with self._lock:
            reserved = self._reserved.pop(id(request), None)
        if reserved is None:
            if not self.can_play_response_for(request):
                raise self.miss(request)
            with self._lock:
                reserved = self._reserved.pop(id(request))
        response = self.data[reserved[1]][1]
        headers = dict(response.get("headers") or {})
        headers[REPLAY_HEADER] = ["1"]
        return {**response, "headers": headers}

    def append(self, request: Any, response: Any) -> None:
        with self._lock:
            super().append(request, response)

    def filter_request(self, request: Any) -> Any:
        # vcrpy calls this only for a request it cannot play while the cassette is write
        # protected: that is a miss, reported as ours (a request the scope ignores passes).
        filtered = self._before_record_request(request)
        if filtered and self.write_protected:
            raise self.miss(filtered)
        return filtered

    def miss(self, request: Any) -> CassetteMissError:
        path = display_path(Path(self._path))
        if not self.file_existed:
            return CassetteMissError(
                f"no cassette for this test: {path} does not exist (record mode "
                f"{self.record_mode.value!r}, {request.method} {request.path}).\n"
                f"Record it with a key: {record_command(self.nodeid, 'once')}"
            )
        key = _key(request)
        same_route = [stored for stored, _ in self.data if _key(stored)[:2] == key[:2]]
        if any(_key(stored) == key for stored in same_route):
            count = sum(1 for stored in same_route if _key(stored) == key)
            reason = f"this request was recorded {count} time(s) and the test now makes it once more"
        elif same_route:
            now = _canonical_body(request.body_bytes)
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
            f"or re-record the test: {record_command(self.nodeid, 'all')}"
        )

    def _save(self, force: bool = False) -> None:
        with self._lock:
            super()._save(force=force)


class AtomicPersister:
    """Loads a cassette (a parse error is ``CassetteCorruptError``) and writes it atomically."""

    def __init__(self, secrets: set[str]) -> None:
        self.secrets = secrets

    def load_cassette(self, cassette_path: Any, serializer: Any) -> Any:
        path = Path(cassette_path)
        try:
            data = path.read_text(encoding="utf-8")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise CassetteNotFoundError() from None
        except (OSError, UnicodeDecodeError) as exc:
            raise CassetteCorruptError(self._corrupt(path, exc)) from None
        if not data.strip():
            raise CassetteNotFoundError()
        try:
            result = deserialize(data, serializer)
        except Exception as exc:  # any parse error: yaml, a missing key, a wrong shape
            raise CassetteCorruptError(self._corrupt(path, exc)) from None
        return result

    @staticmethod
    def _corrupt(path: Path, exc: BaseException) -> str:
        detail = " ".join(str(exc).split())[:200] or type(exc).__name__
        return (
            f"the cassette {display_path(path)} cannot be read ({type(exc).__name__}: {detail}). "
            "It was left untouched: fix it, or delete it and record again with "
            "--llm-record-mode=once and OPENAI_API_KEY set."
        )

    def save_cassette(self, cassette_path: Any, cassette_dict: Any, serializer: Any) -> None:
        path = Path(cassette_path)
        data = serialize(cassette_dict, serializer)
        leaked = [secret for secret in self.secrets if _is_secret(secret) and secret in data]
        if leaked:
            raise CassetteSecretError(
                f"not writing the cassette {display_path(path)}: it contains the API key in use "
                f"({leaked[0][:3]}…). Report this as a bug; the previous file, if any, is intact."
            )
        write_atomic(path, data)


def _skip_patchers(scope: str) -> tuple[str, ...]:
    """The judge needs httpx2 only; a whole-test cassette also patches what the test code loaded."""
    if scope == "judge":
        return tuple(name for name in _PATCHER_MODULES if name != "httpx2")
    keep = {"httpx2", "httplib"} | {
        name for name, module in _PATCHER_MODULES.items() if module in _LOADED_BEFORE_VCR
    }
    return tuple(name for name in _PATCHER_MODULES if name not in keep)


# --- activating a test's cassette ------------------------------------------------------------


class ActiveCassette:
    """A test's cassette, active between ``__enter__`` and ``__exit__`` (the plugin's fixture)."""

    def __init__(self, path: Path, *, record_mode: str, scope: str, nodeid: str) -> None:
        self.path = path
        self.record_mode = record_mode
        self.scope = scope
        self.nodeid = nodeid
        self.cassette: Any = None
        self._stack: contextlib.ExitStack | None = None
        self._set_key = False

    @property
    def replay_only(self) -> bool:
        """Whether every request must come from the cassette (so the client must not retry)."""
        return self.record_mode == "none" or (self.record_mode == "once" and bool(self.cassette.file_existed))

    def record_command(self, mode: str) -> str:
        return record_command(self.nodeid, mode)

    def can_replay(self, method: str, path: str, body: Any) -> bool:
        """Whether a request (its JSON ``body``) would be played from this cassette now."""
        if self.record_mode == "all":  # "all" records every request afresh
            return False
        with self.cassette._lock:
            return self.cassette.unplayed(request_key(method, path, body)) is not None

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
            if scope == "judge" and JUDGE_HEADER not in headers:  # vcrpy's headers ignore case
                state["_llm_filtered"] = None
                return None
            secrets.update(s for s in _secret_values(headers) if _is_secret(s))
            _key(request)
            stored = copy.copy(request)
            stored.headers = {k: v for k, v in headers.items() if k.lower() in REQUEST_HEADERS_KEPT}
            stored.__dict__["_llm_filtered"] = stored
            state["_llm_filtered"] = stored
            return stored

        def before_record_response(response: Any) -> Any:
            return _clean_response(response, secrets)

        return before_record_request, before_record_response

    def __enter__(self) -> ActiveCassette:
        __tracebackhide__ = True
        secrets: set[str] = set()
        key = os.environ.get("OPENAI_API_KEY")
        if key:
            secrets.add(key)
        before_record_request, before_record_response = self._filters(secrets)
        cassette = LLMCassette(
            path=str(self.path),
            persister=AtomicPersister(secrets),
            record_mode=RecordMode(self.record_mode),
            match_on=(llm_request,),
            before_record_request=before_record_request,
            before_record_response=before_record_response,
            skip_patchers=_skip_patchers(self.scope),
        )
        cassette.nodeid = self.nodeid
        try:
            cassette._load()
        except LLMConfidenceError as exc:
            raise exc.with_traceback(None) from None
        self.cassette = cassette
        stack = contextlib.ExitStack()
        try:
            for patcher in CassettePatcherBuilder(cassette).build():
                stack.enter_context(patcher)
        except BaseException:
            stack.close()
            raise
        self._stack = stack
        if not os.environ.get("OPENAI_API_KEY"):
            self._set_key = True
            os.environ["OPENAI_API_KEY"] = next(iter(PLACEHOLDER_KEYS))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        __tracebackhide__ = True
        if self._set_key:
            os.environ.pop("OPENAI_API_KEY", None)
            self._set_key = False
        if self._stack is not None:
            self._stack.close()
            self._stack = None
        try:
            self.cassette._save()
        except LLMConfidenceError as error:
            raise error.with_traceback(None) from None
