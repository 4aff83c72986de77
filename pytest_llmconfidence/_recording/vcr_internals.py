"""Every vcrpy name the cassette layer uses that vcrpy does not document, in one file.

vcrpy's public surface (``VCR``, ``use_cassette``, persisters, matchers, ``before_record_*``) builds a
cassette per ``with`` block; the cassette layer drives a ``Cassette`` itself, indexes its recordings and
writes it atomically, which reaches into vcrpy's modules and a cassette's private members. They are all
here, each behind a small function, and ``tests/test_vcrpy_seams.py`` pins every one of them: a vcrpy
release that renames one fails there, not in a user's run.

Importing this module imports vcrpy (and vcrpy imports every HTTP library it knows of), so it is loaded
on a test's first cassette only, never when the plugin loads.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from typing import Any

PATCHER_MODULES = {
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
"""vcrpy's patcher names (``skip_patchers``) and the module each patches."""
LOADED_BEFORE_VCR = frozenset(module for module in PATCHER_MODULES.values() if module in sys.modules)
"""The HTTP libraries loaded before vcrpy imported all it knows of: what the tests themselves use."""

from vcr.cassette import Cassette  # noqa: E402
from vcr.filters import decode_response  # noqa: E402
from vcr.patch import CassettePatcherBuilder, ConnectionRemover  # noqa: E402
from vcr.persisters.filesystem import CassetteNotFoundError  # noqa: E402
from vcr.record_mode import RecordMode  # noqa: E402
from vcr.request import Request  # noqa: E402
from vcr.serialize import serialize  # noqa: E402
from vcr.serializers import compat  # noqa: E402

__all__ = [
    "LOADED_BEFORE_VCR",
    "PATCHER_MODULES",
    "Cassette",
    "CassetteNotFoundError",
    "RecordMode",
    "adopt_recordings",
    "cassette_file",
    "decode_response",
    "drop_stub_connections",
    "loaded_count",
    "mark_played",
    "persist",
    "read_recordings",
    "record_filter",
    "replacements",
    "request_from_dict",
    "response_as_bytes",
    "save_cassette",
    "serialize_cassette",
]


def cassette_file(cassette: Any) -> str:
    """The path a cassette was opened with (``Cassette._path``)."""
    path: str = cassette._path
    return path


def read_recordings(cassette: Any) -> tuple[list[Any], list[Any], Any] | None:
    """The requests, responses and metadata in a cassette's file through its persister and
    serializer, or None when there is no file (``_persister``, ``_serializer``)."""
    try:
        requests, responses, *metadata = cassette._persister.load_cassette(
            cassette._path, serializer=cassette._serializer
        )
    except CassetteNotFoundError:
        return None
    return requests, responses, (metadata[0] if metadata else {})


def adopt_recordings(cassette: Any, pairs: Iterable[tuple[Any, Any]], metadata: Any) -> None:
    """Keep recordings read from the file as they are, as vcrpy's ``_load`` would after running each
    through ``append`` (two deep copies and the record filters): ``_old_interactions``,
    ``_loaded_count``, ``_metadata``, and the cassette left clean and rewound."""
    for pair in pairs:
        cassette.data.append(pair)
        cassette._old_interactions.append(pair)
    cassette._loaded_count = len(cassette.data)
    cassette.dirty = False
    cassette.rewound = True
    cassette._metadata = metadata


def mark_played(cassette: Any, index: int) -> None:
    """Count the recording at ``index`` as played (``play_counts``, ``_played_interactions``)."""
    cassette.play_counts[index] += 1
    cassette._played_interactions.append(cassette.data[index])


def record_filter(cassette: Any, request: Any) -> Any:
    """The request as the cassette stores it: its ``before_record_request`` filters applied."""
    return cassette._before_record_request(request)


def save_cassette(cassette: Any, force: bool = False) -> None:
    """Write the cassette through its persister when it has new recordings (``Cassette._save``)."""
    Cassette._save(cassette, force=force)


def loaded_count(cassette: Any) -> int:
    """How many of the cassette's recordings were read from its file (``_loaded_count``)."""
    count: int = cassette._loaded_count
    return count


def persist(cassette: Any, cassette_dict: Any) -> None:
    """Write ``{"requests": [...], "responses": [...]}`` as the cassette's file, through its
    ``before_save`` hooks and persister (``Cassette._persist``)."""
    cassette._persist(cassette_dict)


def replacements(cassette: Any) -> tuple[list[tuple[Any, str, Any]], list[Any]]:
    """What vcrpy's patchers for ``cassette`` put in place, as ``(object, attribute, replacement)``, and
    its urllib3 connection removers (the patchers that are not ``mock.patch`` objects).

    Built once, the replacements can be put in place and taken away with ``setattr`` as often as
    needed; a ``mock.patch`` object's ``getter()`` is the object it patches, ``attribute`` and ``new``
    what it sets on it.
    """
    patches, removers = [], []
    for patcher in CassettePatcherBuilder(cassette).build():
        if isinstance(patcher, ConnectionRemover):
            removers.append(patcher)
        else:
            patches.append((patcher.getter(), patcher.attribute, patcher.new))
    return patches, removers


def drop_stub_connections(remover: Any) -> None:
    """Close the stub connections a connection remover saw urllib3's pools open, and forget them
    (what vcrpy does as a cassette exits: ``ConnectionRemover.__exit__``, on a fresh remover next time)."""
    remover.__exit__(None, None, None)
    remover._connection_pool_to_connections.clear()


def request_from_dict(data: Mapping[str, Any]) -> Any:
    """A vcrpy request from its stored form (``Request._from_dict``)."""
    return Request._from_dict(data)


def response_as_bytes(response: Any) -> Any:
    """A stored response with its body as bytes, as vcrpy replays it (``compat.convert_to_bytes``)."""
    return compat.convert_to_bytes(response)


def serialize_cassette(cassette_dict: Any, serializer: Any) -> str:
    """A cassette's requests and responses as the text of its file."""
    text: str = serialize(cassette_dict, serializer)
    return text
