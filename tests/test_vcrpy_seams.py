"""The private parts of vcrpy that the cassette layer relies on: a vcrpy release that changes one fails here."""

from __future__ import annotations

import inspect

import vcr
from vcr.cassette import Cassette
from vcr.persisters.filesystem import CassetteNotFoundError
from vcr.record_mode import RecordMode


def test_vcrpy_cassettes_still_have_the_private_members_the_cassette_layer_uses(tmp_path) -> None:
    """_load/_save, the persister, serializer and filter attributes, and the interaction lists exist."""
    for method in ("_load", "_save", "append", "can_play_response_for", "play_response", "filter_request"):
        assert callable(getattr(Cassette, method, None)), (
            f"vcrpy {vcr.__version__}: Cassette.{method} is gone"
        )
    assert list(inspect.signature(Cassette._save).parameters) == ["self", "force"]
    parameters = inspect.signature(Cassette.__init__).parameters
    for name in ("persister", "record_mode", "match_on", "before_record_request", "before_record_response"):
        assert name in parameters, f"vcrpy {vcr.__version__}: Cassette() takes no {name}="
    assert "skip_patchers" in parameters, f"vcrpy {vcr.__version__}: Cassette() takes no skip_patchers="
    cassette = Cassette(str(tmp_path / "c.yaml"), record_mode=RecordMode.ONCE)
    for name in (
        "_path",
        "_persister",
        "_serializer",
        "_before_record_request",
        "_old_interactions",
        "_played_interactions",
        "_metadata",
        "data",
        "play_counts",
        "dirty",
        "rewound",
    ):
        assert hasattr(cassette, name), f"vcrpy {vcr.__version__}: a Cassette has no {name}"
    assert cassette.write_protected is False
    assert issubclass(CassetteNotFoundError, Exception)


def test_every_vcrpy_internal_the_cassette_layer_names_still_works(tmp_path) -> None:
    """Each helper of vcr_internals round-trips a real cassette: read, adopt, filter, play, save, patch."""
    from vcr.serializers import yamlserializer

    from pytest_llmconfidence._recording import vcr_internals as internals

    assert set(internals.PATCHER_MODULES.values()) >= {"httpx", "http.client"}
    assert set(internals.PATCHER_MODULES.values()) >= internals.LOADED_BEFORE_VCR
    path = tmp_path / "c.yaml"
    request = internals.request_from_dict(
        {"method": "POST", "uri": "http://h/v1/chat", "body": '{"a": 1}', "headers": {}}
    )
    assert (request.method, request.path, request.body) == ("POST", "/v1/chat", b'{"a": 1}')
    response = internals.response_as_bytes(
        {"status": {"code": 200, "message": "OK"}, "headers": {}, "body": {"string": "ok"}}
    )
    assert response["body"]["string"] == b"ok"
    text = internals.serialize_cassette({"requests": [request], "responses": [response]}, yamlserializer)
    assert "interactions:" in text and "/v1/chat" in text

    cassette = internals.Cassette(
        str(path), record_mode=internals.RecordMode.ONCE, before_record_request=lambda r: None
    )
    assert internals.cassette_file(cassette) == str(path)
    assert internals.read_recordings(cassette) is None  # no file yet
    assert internals.record_filter(cassette, request) is None  # the cassette's own filter ran
    internals.adopt_recordings(cassette, [(request, response)], {"m": 1})
    assert (len(cassette.data), cassette.dirty, cassette.rewound) == (1, False, True)
    assert internals.loaded_count(cassette) == 1
    internals.mark_played(cassette, 0)
    assert cassette.play_counts[0] == 1 and cassette.all_played
    patches, _ = internals.replacements(cassette)
    assert any(getattr(target, "__name__", "") == "HTTPTransport" for target, _, _ in patches)  # httpx's
    for target, attribute, new in patches:  # what vcrpy's patchers set: put in place with setattr
        assert hasattr(target, attribute)
        assert callable(new) or isinstance(new, dict)

    writer = internals.Cassette(str(path), record_mode=internals.RecordMode.ALL)
    writer.append(request, response)
    internals.save_cassette(writer)
    requests, responses, metadata = internals.read_recordings(writer) or ([], [], None)
    assert [r.path for r in requests] == ["/v1/chat"] and responses[0]["status"]["code"] == 200
    assert isinstance(metadata, dict)
    internals.persist(writer, {"requests": [request, request], "responses": [response, response]})
    assert len((internals.read_recordings(writer) or ([], [], None))[0]) == 2
    encoded = {
        "status": {"code": 200, "message": "OK"},
        "headers": {"content-encoding": ["gzip"]},
        "body": {"string": __import__("gzip").compress(b"hi")},
    }
    assert internals.decode_response(encoded)["body"]["string"] == b"hi"
