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
