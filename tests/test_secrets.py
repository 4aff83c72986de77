"""No secret in any form: every spelling of a key, found before any cut, on every way out, as an attacker tries.

The pure part (forms, redaction, cuts, file names, compressed bodies) is tested directly; what only a pytest
run shows (the assertion line, JUnit XML, cassettes refused, warnings) through pytester against the scripted
endpoint.
"""

from __future__ import annotations

import base64
import gzip
import json
import sys
import types
import zlib
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import yaml
from fake_openai import FakeOpenAI, Reply, verdict
from test_replay_trust import every_byte

from pytest_llmconfidence._recording import encodings, secrets
from pytest_llmconfidence._recording.cassette import _differing, cassette_path
from pytest_llmconfidence._scoring.results import Verdict
from pytest_llmconfidence._text import shorten

KEY = "sk-proj-Ab/cD+eF=gh0123456789ijklmnopQRSTuv"
"""A key with the characters URL and JSON encodings change: '/', '+' and '='."""


def pieces(secret: str, length: int = 8) -> list[str]:
    """Every run of ``length`` characters of ``secret``: none of them may survive anywhere."""
    return [secret[i : i + length] for i in range(len(secret) - length + 1)]


def leaked(text: str, secret: str = KEY, length: int = 8) -> list[str]:
    return [piece for piece in pieces(secret, length) if piece in text]


def _all_unicode_escaped(text: str) -> str:
    return "".join(f"\\u{ord(char):04x}" for char in text)


def _mixed_escapes(text: str) -> str:
    """Every other character JSON-escaped, upper-case hex, the slashes as ``\\/``: what a hand-rolled
    encoder sends."""
    out = []
    for index, char in enumerate(text):
        if char == "/":
            out.append("\\/")
        elif index % 2:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return "".join(out)


FORMS = {
    "as-is": KEY,
    "percent-encoded": quote(KEY, safe=""),
    "percent-encoded, lower-case hex": quote(KEY, safe="").replace("%2F", "%2f").replace("%2B", "%2b"),
    "form-encoded (+ kept as %2B, slash kept)": quote_plus(KEY, safe="/"),
    "json with escaped slashes": json.dumps(KEY).replace("/", "\\/")[1:-1],
    "json, every character \\uXXXX": _all_unicode_escaped(KEY),
    "json, mixed escapes": _mixed_escapes(KEY),
    "html character references": KEY.replace("/", "&#47;").replace("+", "&#x2B;").replace("=", "&#61;"),
    "base64": base64.b64encode(KEY.encode()).decode(),
    "base64 after one byte": base64.b64encode(b"x" + KEY.encode()).decode(),
    "base64 of 'Bearer <key>'": base64.b64encode(f"Bearer {KEY}".encode()).decode(),
    "url-safe base64 after two bytes": base64.urlsafe_b64encode(b"ab" + KEY.encode()).decode(),
    "base64 unpadded": base64.b64encode(KEY.encode()).decode().rstrip("="),
}


@pytest.mark.parametrize("form", list(FORMS.values()), ids=list(FORMS))
def test_every_form_of_a_key_is_found_and_redacted(form: str) -> None:
    """Each encoding of the key on its way to a file or a terminal is found and shown as ***."""
    text = f"prefix {form} suffix"
    assert secrets.contains(text, {KEY})
    assert secrets.found_in_bytes(text.encode(), {KEY})
    redacted = secrets.redact(text, {KEY})
    assert "***" in redacted and redacted.startswith("prefix ")
    assert form not in redacted
    if not form.startswith(base64.b64encode(b"x")[:2].decode()):  # base64 keeps only its edge characters
        assert leaked(redacted) == []


def test_a_text_without_the_key_is_left_alone() -> None:
    """Neither a key's prefix nor its base64 alphabet alone is a match: no *** where there was no key."""
    text = "sk-proj-Ab is a prefix; eHNrLXByb2o= is base64 of something else; %2F alone"
    assert not secrets.contains(text, {KEY})
    assert secrets.redact(text, {KEY}) == text


@pytest.mark.parametrize("limit", range(12, 70, 3))
def test_text_is_redacted_before_it_is_cut(monkeypatch: pytest.MonkeyPatch, limit: int) -> None:
    """However the cut falls across the key, no piece of it survives an excerpt."""
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    text = f"Is the reply {KEY} a leak of the key?"
    assert leaked(shorten(text, limit)) == []


def test_a_checks_question_is_cut_after_the_key_is_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    """q='…' in a check's and a verdict's repr never holds 15–24 characters of the key (cut before)."""
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    verdict_ = Verdict(
        value=True,
        confidence=0.6,
        normalized=0.6,
        p_true=0.6,
        p_false=0.4,
        coverage=1.0,
        token="true",
        question="Does the reply refuse politely? " * 3 + KEY + " and more",
        model="m",
        threshold=0.9,
    )
    check = verdict_.confident_true()
    assert not check
    for text in (repr(check), repr(verdict_), str(check)):
        assert leaked(text) == [], text
        assert "***" in text or "…" in text


def test_the_miss_messages_excerpt_hides_the_key_before_it_is_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    """The 'now / recorded' excerpts of a changed request are cut around the change after redaction."""
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    now, recorded = f"question {KEY} new wording", f"question {KEY} old wording"
    for text in _differing(now, recorded, context=12, width=30):
        assert leaked(text) == [], text


def test_a_key_in_a_test_id_is_hashed_in_the_cassette_file_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """A key used as a parametrize id (in any form) never becomes part of a file name; ids stay distinct."""
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    root = Path("/project")
    paths = [
        cassette_path(root / "cassettes", root, root / "tests/test_x.py", f"tests/test_x.py::test_it[{form}]")
        for form in (KEY, quote(KEY, safe=""), f"{KEY}-2")
    ]
    assert len(set(paths)) == 3
    for path in paths:
        assert leaked(str(path)) == [] and leaked(str(path).replace("_", "/")) == []
        assert path.name.startswith("test_it[") and "~" in path.name
    plain = cassette_path(root / "cassettes", root, root / "tests/test_x.py", "tests/test_x.py::test_it[a]")
    assert plain.name == "test_it[a].yaml"


def test_a_secret_from_llm_secret_env_and_the_organisation_id_are_known(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Variables named by llm_secret_env and OPENAI_ORG_ID count as secrets, whatever their names."""
    monkeypatch.setenv("OPENAI_ORG_ID", "org-AbCdEf0123456789")
    monkeypatch.setenv("SUPPORT_WEBHOOK", "https://hooks.example/T000/B000/XXXXXXXX")
    assert "org-AbCdEf0123456789" in secrets.known()
    assert "https://hooks.example/T000/B000/XXXXXXXX" not in secrets.known()
    monkeypatch.setattr(secrets, "_env_names", set())
    secrets.secret_env(["SUPPORT_WEBHOOK"])
    assert "https://hooks.example/T000/B000/XXXXXXXX" in secrets.known()


# --- compressed bodies ----------------------------------------------------------------------------

BODY = b'{"messages": [{"role": "user", "content": "hello"}]}'


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", lambda data: gzip.compress(data, mtime=0)),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some clients send it
        ("gzip, deflate", lambda data: zlib.compress(gzip.compress(data, mtime=0))),
        ("identity", lambda data: data),
    ],
    ids=["gzip", "deflate", "raw-deflate", "gzip-then-deflate", "identity"],
)
def test_standard_encodings_are_decoded(encoding: str, compress: types.FunctionType) -> None:
    """gzip, deflate (zlib or raw) and chains of them decode to the body that was sent."""
    assert encodings.decode(compress(BODY), encoding) == BODY


@pytest.mark.parametrize("module", ["brotli", "zstandard"])
def test_brotli_and_zstd_are_decoded_with_the_installed_module(module: str) -> None:
    """With brotli or zstandard importable, br and zstd bodies are decoded (to be scanned and stored)."""
    found = pytest.importorskip(module)
    if module == "brotli":
        assert encodings.decode(found.compress(BODY), "br") == BODY
    else:
        assert encodings.decode(found.ZstdCompressor().compress(BODY), "zstd") == BODY


@pytest.mark.parametrize(("encoding", "module"), [("br", "brotli"), ("zstd", "zstandard")])
def test_without_a_module_a_br_or_zstd_body_is_refused_naming_the_encoding(
    monkeypatch: pytest.MonkeyPatch, encoding: str, module: str
) -> None:
    """No module to decode it: UndecodableBody naming the encoding and what to install."""
    for name in ("brotli", "brotlicffi", "zstandard", "compression.zstd"):
        monkeypatch.setitem(sys.modules, name, None)  # import fails
    with pytest.raises(encodings.UndecodableBody, match=f"^{encoding}.*pip install {module}"):
        encodings.decode(b"\x28\xb5\x2f\xfd compressed", encoding)


@pytest.mark.parametrize(
    ("encoding", "fragment"),
    [("gzip", "gzip (the bytes are not gzip data"), ("compress", "'compress', an encoding"), ("br", "br")],
)
def test_a_body_that_does_not_decode_is_refused_naming_the_encoding(encoding: str, fragment: str) -> None:
    """Bytes that are not what the header says, or an unknown encoding, name the encoding."""
    with pytest.raises(encodings.UndecodableBody) as info:
        encodings.decode(b"not compressed at all", encoding)
    assert str(info.value).startswith(fragment)


# --- through a pytest run ---------------------------------------------------------------------------

CASSETTES = Path("cassettes")


def _record(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, *args: str) -> pytest.RunResult:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    result = pytester.runpytest("--llm-record-mode=once", *args)
    monkeypatch.delenv("OPENAI_API_KEY")
    return result


def _written(root: Path) -> str:
    return every_byte(root).decode("utf-8", "replace")


def test_a_failed_check_on_a_question_holding_the_key_shows_it_nowhere(
    judged: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The assertion line, the traceback's locals (-l), the summary, JUnit XML and the JSON report: ***."""
    judged.makepyfile(
        test_x="""
        import os

        def test_it(judge):
            key = os.environ["OPENAI_API_KEY"]
            question = "Does the reply keep the key " + key + " out of the answer?"
            v = judge(question, "Sure, here it is.")
            assert v.confident_false(0.9)
        """
    )
    result = _record(
        judged, monkeypatch, "-l", "--junitxml=junit.xml", "--llm-report=r.json", "--llm-summary=full"
    )
    result.assert_outcomes(failed=1, errors=1)  # the error: the cassette is refused, it would hold the key
    output = result.stdout.str() + result.stderr.str()
    assert "confident_false failed" in output
    assert "q='Does the reply keep the key *** out of the answer?'" in output
    assert leaked(output) == []
    assert leaked(_written(judged.path)) == []
    assert "***" in (judged.path / "junit.xml").read_text()


def test_a_key_echoed_in_a_failed_judge_calls_message_and_locals_is_hidden(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A call that fails (a 400 quoting the question) shows no run of the key, with -l and --tb=long."""
    fake_openai.rule(
        "quoted",
        Reply({"error": {"message": f"bad question: quoted {KEY}", "type": "invalid_request_error"}}, 400),
    )
    judged.makepyfile(
        test_x="""
        import os

        def test_it(judge):
            secret_question = "Is the key quoted " + os.environ["OPENAI_API_KEY"]
            judge(secret_question, "reply")
        """
    )
    result = _record(judged, monkeypatch, "-l", "--tb=long", "--junitxml=junit.xml")
    result.assert_outcomes(failed=1)
    output = result.stdout.str() + result.stderr.str()
    assert "quoted ***" in output
    # pytest cuts long locals in the middle (after any redaction could run): no run of 10 characters is left
    assert leaked(output, length=secrets.PIECE_LENGTH) == []
    assert leaked(_written(judged.path)) == []


APP_CALL = """
import base64
import gzip
try:  # the openai client's HTTP library: httpx2 for openai 3, httpx before
    import httpx2 as http
except ImportError:
    import httpx as http

def test_it(judge):
    key = {key_expr}
    reply = http.post("{url}/chat/completions", params={params}, content={content}, headers={headers})
    assert reply.status_code == 200
    assert judge("Is it polite?", "Thank you!").confident_true()
"""


def _app_test(url: str, *, params: str = "{}", content: str = "b'{}'", headers: str = "{}") -> str:
    return APP_CALL.format(
        key_expr='__import__("os").environ["OPENAI_API_KEY"]',
        url=url,
        params=params,
        content=content,
        headers=headers,
    )


def test_a_key_sent_url_encoded_in_a_query_value_is_stored_as_stars(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """?q=<key> goes out as q=sk-proj-Ab%2FcD%2BeF%3D…: the stored URI reads q=***, and it replays."""
    judged.makepyfile(test_x=_app_test(fake_openai.base_url, params='{"q": key, "lang": "en"}'))
    _record(judged, monkeypatch).assert_outcomes(passed=1)
    text = (judged.path / CASSETTES / "test_x" / "test_it.yaml").read_text()
    assert "q=***" in text and "lang=en" in text
    assert leaked(_written(judged.path)) == [] and leaked(text.replace("%2F", "/").replace("%2B", "+")) == []
    monkeypatch.setenv("CI", "true")
    judged.runpytest("--llm-base-url=http://127.0.0.1:9/v1").assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("content", "encoding"),
    [
        ("gzip.compress(b'{\"k\": \"' + key.encode() + b'\"}', mtime=0)", "gzip"),
        ("__import__('brotli').compress(b'{\"k\": \"' + key.encode() + b'\"}')", "br"),
        ("__import__('zstandard').ZstdCompressor().compress(b'{\"k\": \"' + key.encode() + b'\"}')", "zstd"),
        ("base64.b64encode(key.encode())", "identity"),
    ],
    ids=["gzip", "brotli", "zstd", "base64-plain"],
)
def test_a_key_inside_a_compressed_or_encoded_request_body_is_never_written(
    judged: pytest.Pytester,
    fake_openai: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
    content: str,
    encoding: str,
) -> None:
    """The body is decoded (gzip, br, zstd) and scanned for every form: the cassette is refused."""
    if encoding in ("br", "zstd"):
        pytest.importorskip({"br": "brotli", "zstd": "zstandard"}[encoding])
    headers = f'{{"Content-Encoding": "{encoding}", "Content-Type": "application/json"}}'
    judged.makepyfile(test_x=_app_test(fake_openai.base_url, content=content, headers=headers))
    result = _record(judged, monkeypatch)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*CassetteSecretError: not writing the cassette*it contains the API key*"])
    assert not (judged.path / CASSETTES / "test_x" / "test_it.yaml").exists()


def test_a_brotli_body_is_stored_decoded_and_replays(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With brotli installed, a br request body is stored as its text and matched on it."""
    pytest.importorskip("brotli")
    content = "__import__('brotli').compress(b'{\"question\": \"shop hours\"}')"
    headers = '{"Content-Encoding": "br", "Content-Type": "application/json"}'
    judged.makepyfile(test_x=_app_test(fake_openai.base_url, content=content, headers=headers))
    _record(judged, monkeypatch).assert_outcomes(passed=1)
    text = (judged.path / CASSETTES / "test_x" / "test_it.yaml").read_text()
    assert yaml.safe_load(text)["interactions"][0]["request"]["body"] == '{"question": "shop hours"}'
    monkeypatch.setenv("CI", "true")
    judged.runpytest("--llm-base-url=http://127.0.0.1:9/v1").assert_outcomes(passed=1)


def test_a_body_in_an_encoding_that_cannot_be_decoded_is_not_written(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A br body with no brotli module (or gzip bytes that are not gzip): refused, naming the encoding."""
    judged.makeconftest("import sys\nsys.modules['brotli'] = sys.modules['brotlicffi'] = None\n")
    headers = '{"Content-Encoding": "br", "Content-Type": "application/json"}'
    judged.makepyfile(
        test_x=_app_test(fake_openai.base_url, content="b'\\x8b\\x02\\x80{}\\x03'", headers=headers)
    )
    result = _record(judged, monkeypatch)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*not writing the cassette*request body of interaction 1 is compressed with br*"]
    )
    assert "pip install brotli" in result.stdout.str()
    assert not (judged.path / CASSETTES / "test_x" / "test_it.yaml").exists()


ORG = "org-AbCdEfGh0123456789xyz"


@pytest.mark.parametrize(
    "echo",
    [
        json.dumps(KEY).replace("/", "\\/"),
        json.dumps(_all_unicode_escaped(KEY))[1:-1].replace("\\\\", "\\"),
        json.dumps(base64.b64encode(f"Bearer {KEY}".encode()).decode()),
        json.dumps(quote(KEY, safe="")),
        json.dumps(ORG),
    ],
    ids=["json-slashes", "json-unicode", "base64-bearer", "percent", "organisation"],
)
def test_a_server_echoing_the_key_or_organisation_in_any_form_gets_no_cassette(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, echo: str
) -> None:
    """An answer that echoes the key (JSON-escaped, base64, percent-encoded) or the organisation id is
    never written; the test's own outcome stands."""
    monkeypatch.setenv("OPENAI_ORG_ID", ORG)
    body = json.dumps(verdict(0.95, 0.04))
    raw = body[:-1] + ', "echo": ' + (echo if echo.startswith('"') else f'"{echo}"') + "}"
    fake_openai.rule("echo", Reply({}, raw=raw.encode()))
    judged.makepyfile(test_x='def test_it(judge):\n    assert judge("Does it echo?", "r").confident_true()\n')
    result = _record(judged, monkeypatch)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*CassetteSecretError: not writing the cassette*it contains the API key*"])
    written = _written(judged.path)
    assert leaked(written) == [] and ORG not in written


@pytest.mark.parametrize("encoding", ["br", "zstd"])
def test_a_response_compressed_with_br_or_zstd_is_decoded_and_scanned(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, encoding: str
) -> None:
    """An echo of the key inside a br or zstd response body is found once decoded: no cassette."""
    module = pytest.importorskip({"br": "brotli", "zstd": "zstandard"}[encoding])
    body = json.dumps({**verdict(0.95, 0.04), "echo": KEY}).encode()
    compressed = module.compress(body) if encoding == "br" else module.ZstdCompressor().compress(body)
    fake_openai.rule("compressed", Reply({}, raw=compressed, headers={"Content-Encoding": encoding}))
    judged.makepyfile(
        test_x=f"""
try:
    import httpx2 as http
except ImportError:
    import httpx as http

def test_it(judge):
    reply = http.post("{fake_openai.base_url}/chat/completions", json={{"messages": [{{"content": "compressed"}}]}})
    assert reply.status_code == 200
"""
    )
    result = _record(judged, monkeypatch)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*not writing the cassette*it contains the API key*"])
    assert leaked(_written(judged.path)) == []


def test_a_key_as_a_parametrize_id_never_names_a_file(
    judged: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pytest.param(..., id=key): the cassette is written under a hashed name, and replays from it."""
    judged.makepyfile(
        test_x=f"""
        import pytest

        @pytest.mark.parametrize("tone", ["polite"], ids=[{quote(KEY, safe="")!r}])
        def test_it(judge, tone):
            assert judge("Is it " + tone + "?", "Thank you!").confident_true()
        """
    )
    _record(judged, monkeypatch).assert_outcomes(passed=1)
    files = [str(path.relative_to(judged.path)) for path in (judged.path / CASSETTES).rglob("*.yaml")]
    assert len(files) == 1 and "~" in files[0]
    assert leaked(" ".join(files)) == [] and leaked(" ".join(files).replace("%2F", "/")) == []
    monkeypatch.setenv("CI", "true")
    judged.runpytest("--llm-base-url=http://127.0.0.1:9/v1").assert_outcomes(passed=1)


def test_llm_secret_env_and_the_clients_own_key_are_redacted(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A value named by llm_secret_env, and the key of an overridden judge_client, read *** in the output."""
    webhook = "https://hooks.example/T0001/B0002/zzWebhookSecret"
    client_key = "sk-client-only-0123456789abcdefXYZ"
    monkeypatch.setenv("SUPPORT_WEBHOOK", webhook)
    judged.makeconftest(
        f"""
        import pytest
        from openai import OpenAI

        @pytest.fixture(scope="session")
        def judge_client():
            return OpenAI(api_key={client_key!r}, base_url={fake_openai.base_url!r})
        """
    )
    judged.makepyfile(
        test_x=f"""
        def test_it(judge):
            assert judge("Is {webhook} or {client_key} in the reply?", "r").confident_false()
        """
    )
    result = judged.runpytest("--llm-record-mode=all", "-o", "llm_secret_env=SUPPORT_WEBHOOK")
    result.assert_outcomes(failed=1, errors=1)
    output = result.stdout.str()
    assert "q='Is *** or *** in the reply?'" in output
    assert leaked(output, webhook) == [] and leaked(output, client_key) == []
    # without the option the webhook is no secret: the control that the option is what hides it
    result = judged.runpytest("--llm-record-mode=all")
    assert webhook in result.stdout.str() and client_key not in result.stdout.str()


# --- a check nobody asserted --------------------------------------------------------------------

UNASSERTED = """
def test_forgot_assert(judge):
    judge("Is the reply rude?", "Thank you!").confident_true(0.9)

def test_asserted(judge):
    assert judge("Is the reply polite?", "Thank you!").confident_true(0.9)

def test_checked_with_if(judge):
    if not judge("Is the reply rude?", "Thank you!").confident_true(0.9):
        pass

def test_passing_check_unasserted(judge):
    judge("Is the reply polite?", "Thank you!").confident_true(0.5)
"""


def test_a_failed_check_written_without_assert_is_reported_at_the_end_of_its_test(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """`judge(...).confident_true()` alone on its line warns, naming the test and the check."""
    fake_openai.rule("rude", verdict(0.1, 0.88))
    judged.makepyfile(test_x=UNASSERTED)
    # a suite with no warning filters of its own (this one turns every warning into an error)
    result = judged.runpytest(
        "--llm-record-mode=all", "-W", "default::pytest_llmconfidence.UnassertedCheckWarning"
    )
    result.assert_outcomes(passed=4, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*test_x.py::test_forgot_assert*",
            "*UnassertedCheckWarning: test_x.py::test_forgot_assert: the check <confident_true failed: false at 0.88*"
            "q='Is the reply rude?'> failed, but nothing asserted it*",
        ]
    )
    warnings_section = result.stdout.str().split("warnings summary")[1].split("-- Docs")[0]
    assert "test_checked_with_if" not in warnings_section and "test_passing" not in warnings_section


def test_with_w_error_an_unasserted_failed_check_fails_its_test(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """-W error turns the warning into the test's failure."""
    fake_openai.rule("rude", verdict(0.1, 0.88))
    judged.makepyfile(test_x=UNASSERTED)
    result = judged.runpytest(
        "--llm-record-mode=all", "-W", "error::pytest_llmconfidence.UnassertedCheckWarning"
    )
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["FAILED test_x.py::test_forgot_assert - pytest_llmconfidence.Unasserted*"])


@pytest.mark.parametrize(
    "given",
    [
        [f"--llm-base-url=ftp://user:{quote(KEY, safe='')}@example.com/v1"],
        [f"--llm-threshold={KEY}"],
        ["-o", f"llm_record_mode={KEY}"],
        ["-o", f"llm_true_labels={KEY} true", "-o", f"llm_false_labels={KEY} false"],
        [f"--llm-prices-file={KEY}.toml"],
    ],
    ids=["url-credentials", "flag", "ini", "labels", "file"],
)
def test_a_key_given_as_an_option_value_is_hidden_in_the_usage_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, given: list[str]
) -> None:
    """A key pasted into the wrong option, or a URL holding credentials, is refused at start-up with the
    option named and the key shown nowhere (CI logs keep what the terminal prints)."""
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    pytester.makepyfile("def test_plain():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:xdist", *given)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    out = result.stdout.str() + result.stderr.str()
    assert "pytest-llmconfidence: llm_" in out
    assert leaked(out) == [] and leaked(out, quote(KEY, safe="")) == []


def test_a_key_given_to_the_llm_marker_is_hidden_in_its_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """@pytest.mark.llm with a key where a number belongs: the test errors naming the argument, not the key."""
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.llm(threshold={KEY!r})
        def test_marked(judge_config):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:xdist")
    out = result.stdout.str() + result.stderr.str()
    assert "threshold" in out and "is not valid" in out
    assert leaked(out) == []
