"""Cassettes on the edges a real suite reaches: compressed and binary bodies, recordings cut short.

Each test records against the scripted endpoint on 127.0.0.1 with a key, then replays as CI does (no key,
record mode none, the endpoint unreachable), through pytester.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
import yaml
from fake_openai import FakeOpenAI, Reply, error
from test_cassettes import KEY, interactions, record, replay
from test_replay_trust import every_byte

CASSETTE = Path("cassettes", "test_x", "test_it.yaml")

GZIP_TEST = """
import gzip
try:  # the openai client's HTTP library: httpx2 for openai 3, httpx before
    import httpx2 as http
except ImportError:
    import httpx as http

def test_it(judge):
    body = gzip.compress({body!r}, mtime={mtime})
    reply = http.post(
        "{url}/chat/completions",
        content=body,
        headers={{"Content-Encoding": "gzip", "Content-Type": "application/json"}},
    )
    assert reply.status_code == 200
    assert judge("Is it polite?", "Thank you!").confident_true()
"""


def test_a_gzip_compressed_request_body_is_stored_decoded_and_replays_whatever_its_timestamp(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A body sent with Content-Encoding: gzip is stored as its text and matched on it, not on the gzip bytes."""
    body = b'{"question": "shop hours"}'
    judged.makepyfile(test_x=GZIP_TEST.format(body=body, mtime=1, url=fake_openai.base_url))
    record(judged, monkeypatch).assert_outcomes(passed=1)
    stored = interactions(judged.path / CASSETTE)[0]["request"]
    assert stored["body"] == body.decode()
    assert list(stored["headers"]) == ["content-type"]
    # the same request compressed a second later has other gzip bytes: it still replays
    judged.makepyfile(test_x=GZIP_TEST.format(body=body, mtime=2, url=fake_openai.base_url))
    replay(judged, monkeypatch).assert_outcomes(passed=1)


def test_a_key_inside_a_gzip_compressed_request_body_is_never_written(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key is found in the decompressed body: the cassette is not written, compressed or not."""
    body = b'{"api_key": "' + KEY.encode() + b'"}'
    judged.makepyfile(test_x=GZIP_TEST.format(body=body, mtime=1, url=fake_openai.base_url))
    result = record(judged, monkeypatch)
    result.stdout.fnmatch_lines(["*CassetteSecretError: not writing the cassette*"])
    assert not (judged.path / CASSETTE).exists()
    written = every_byte(judged.path)
    assert KEY.encode() not in written
    assert gzip.compress(body, mtime=1) not in written


BINARY_TEST = """
try:
    import httpx2 as http
except ImportError:
    import httpx as http

def test_it(judge):
    reply = http.post("{url}/chat/completions", content={body!r})
    assert reply.status_code == 200
"""


def test_a_changed_binary_body_is_a_miss_naming_the_body_not_a_crash(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A body that is neither JSON nor UTF-8 and changed since recording: CassetteMissError showing both."""
    judged.makepyfile(test_x=BINARY_TEST.format(url=fake_openai.base_url, body=b"\xff\x00upload one"))
    record(judged, monkeypatch).assert_outcomes(passed=1)
    # A length of its own: pytest's cache of rewritten test modules goes by size and mtime (seconds)
    judged.makepyfile(
        test_x=BINARY_TEST.format(url=fake_openai.base_url, body=b"\xff\x00upload two, changed")
    )
    result = replay(judged, monkeypatch)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*CassetteMissError: no recording for this request*the body changed: now*upload two*recorded*upload one*"
        ]
    )
    assert "TypeError" not in result.stdout.str()


CUT_SHORT_TEST = """
import pytest
try:
    import httpx2 as http
except ImportError:
    import httpx as http

def test_it(judge):
    assert judge("Is it polite?", "Thank you!").confident_true()
    {then}
    assert judge("Is it kind?", "Thank you!").confident_true()
"""


@pytest.mark.parametrize(
    "then",
    [
        'http.post("{url}/chat/completions", json={{"messages": [{{"content": "down"}}]}}).raise_for_status()',
        'raise KeyError("a bug in the test")',
        'pytest.skip("not today")',
    ],
    ids=["server error", "exception", "skip"],
)
def test_a_recording_cut_short_by_an_error_leaves_the_previous_cassette_intact(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, then: str
) -> None:
    """--llm-record-mode=all on a test that errors midway writes nothing: the full recording still replays."""
    fake_openai.rule("down", Reply(error(503, "unavailable").body, 503, headers={"x-should-retry": "false"}))
    judged.makepyfile(test_x=CUT_SHORT_TEST.format(then="pass"))
    record(judged, monkeypatch).assert_outcomes(passed=1)
    before = (judged.path / CASSETTE).read_bytes()
    assert len(yaml.safe_load(before)["interactions"]) == 2
    judged.makepyfile(test_x=CUT_SHORT_TEST.format(then=then.format(url=fake_openai.base_url)))
    result = record(judged, monkeypatch, "--llm-record-mode=all")
    assert result.ret != 0 or "skip" in then
    assert (judged.path / CASSETTE).read_bytes() == before
    judged.makepyfile(test_x=CUT_SHORT_TEST.format(then="pass"))
    replay(judged, monkeypatch).assert_outcomes(passed=1)


def test_a_new_recording_cut_short_by_an_error_is_not_written_and_the_next_run_records_it_whole(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first recording that errors midway writes no cassette, so --llm-record-mode=once records it all next time."""
    judged.makepyfile(test_x=CUT_SHORT_TEST.format(then='raise KeyError("a bug in the test")'))
    record(judged, monkeypatch).assert_outcomes(failed=1)
    assert not (judged.path / CASSETTE).exists()
    judged.makepyfile(test_x=CUT_SHORT_TEST.format(then="pass"))
    record(judged, monkeypatch).assert_outcomes(passed=1)
    replay(judged, monkeypatch).assert_outcomes(passed=1)


def test_a_failed_check_still_writes_its_recording_so_ci_fails_the_same_way(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed assertion is a complete recording: it is written, and the replay fails on the same check."""
    judged.makepyfile(test_x=CUT_SHORT_TEST.format(then="assert False, 'the app is wrong'"))
    record(judged, monkeypatch).assert_outcomes(failed=1)
    assert len(interactions(judged.path / CASSETTE)) == 1
    result = replay(judged, monkeypatch)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*AssertionError: the app is wrong*"])


FORM_TEST = """
try:
    import httpx2 as http
except ImportError:
    import httpx as http

def test_it(judge):
    form = {{"grant_type": "client_credentials", "client_secret": "{secret}", "code": "{code}"}}
    reply = http.post("{url}/chat/completions", data=form)
    assert reply.status_code == 200
"""


def test_secret_fields_of_a_form_body_are_replaced_on_disk_and_in_matching(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """client_secret=, code=… of a form body are stored REDACTED, as a query's are; a new code still replays."""
    secret, code = "cs-not-in-the-environment-4821", "auth-code-first-7731"
    judged.makepyfile(test_x=FORM_TEST.format(url=fake_openai.base_url, secret=secret, code=code))
    record(judged, monkeypatch).assert_outcomes(passed=1)
    stored = interactions(judged.path / CASSETTE)[0]["request"]["body"]
    assert stored == "grant_type=client_credentials&client_secret=REDACTED&code=REDACTED"
    assert secret.encode() not in every_byte(judged.path) and code.encode() not in every_byte(judged.path)
    judged.makepyfile(test_x=FORM_TEST.format(url=fake_openai.base_url, secret=secret, code="auth-code-2"))
    replay(judged, monkeypatch).assert_outcomes(passed=1)
