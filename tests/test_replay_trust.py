"""CI replay on suites shaped like real apps, and cassettes an attacker cannot get a secret out of.

Each test records against the scripted endpoint on 127.0.0.1 with a key, then replays as CI does (no key,
record mode none, the endpoint unreachable), through pytester.
"""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path

import pytest
import yaml
from fake_openai import FakeOpenAI, Reply, error, verdict
from test_cassettes import CLOSED, JUDGED_TEST, KEY, interactions, record, replay

CASSETTE = Path("cassettes", "test_x", "test_it.yaml")


def every_byte(root: Path) -> bytes:
    """Everything written under ``root``, with YAML's !!binary bodies decoded too."""
    found = []
    for path in root.rglob("*"):
        if path.is_file() and path.suffix in (".yaml", ".xml", ".json", ".md", ".html", ".tmp"):
            data = path.read_bytes()
            found.append(data)
            for match in re.finditer(rb"!!binary \|?\s*([A-Za-z0-9+/=\s]+)", data):
                found.append(base64.b64decode(b"".join(match.group(1).split())))
    return b"\n".join(found)


# --- real apps --------------------------------------------------------------------------------


APP = """
import openai

CLIENT = openai.OpenAI(base_url="{base_url}")
AZURE = openai.AzureOpenAI(azure_endpoint="https://example-resource.openai.azure.com", api_version="2024-06-01")


def reply(question):
    answer = CLIENT.chat.completions.create(model="fake-judge", messages=[{{"role": "user", "content": question}}])
    return answer.choices[0].message.content
"""

APP_TEST = """
import app

def test_it(judge):
    assert app.reply("Is the shop open?") == "true"
    assert judge("Does it answer?", "true").confident_true()
"""


@pytest.mark.parametrize("where", ["app module", "conftest"])
def test_clients_built_at_import_time_construct_when_replaying_with_no_key(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """openai.OpenAI() and openai.AzureOpenAI(...) at module level: CI=true pytest collects and replays."""
    judged.makepyfile(app=APP.format(base_url=fake_openai.base_url), test_x=APP_TEST)
    if where == "conftest":
        judged.makeconftest("import app  # noqa: F401  (the app's clients are built before any test)\n")
    record(judged, monkeypatch).assert_outcomes(passed=1)
    served = len(fake_openai.requests)
    result = replay(judged, monkeypatch)
    result.assert_outcomes(passed=1)
    assert len(fake_openai.requests) == served
    assert "OPENAI_API_KEY" not in os.environ and "AZURE_OPENAI_API_KEY" not in os.environ


def test_a_real_key_is_never_replaced_by_the_placeholder(
    judged: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The placeholder fills only unset variables."""
    judged.makepyfile(
        test_x="import os\ndef test_it():\n    assert os.environ['OPENAI_API_KEY'] == 'sk-real-1234567890'\n"
        "    assert os.environ['AZURE_OPENAI_API_KEY'].startswith('sk-llmconfidence-placeholder')\n"
    )
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real-1234567890")
    monkeypatch.setenv("CI", "true")
    judged.runpytest().assert_outcomes(passed=1)


def test_the_async_judge_uses_an_overridden_judge_client(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """acheck goes through the conftest's judge_client (its key and headers), not a client of its own."""
    judged.makeconftest(
        f"""
        import openai
        import pytest

        @pytest.fixture(scope="session")
        def judge_client():
            return openai.OpenAI(
                base_url="{fake_openai.base_url}", api_key="sk-conftest-0123456789",
                default_headers={{"x-team": "refunds"}},
            )
        """
    )
    judged.makepyfile(
        test_x="""
        import asyncio

        def test_it(judge):
            verdict = asyncio.run(judge.acheck("Is it polite?", "Thanks!"))
            assert verdict.confident_true()
        """
    )
    judged.runpytest("--llm-record-mode=all", "--llm-base-url=http://127.0.0.1:9/v1").assert_outcomes(
        passed=1
    )
    assert [r.headers.get("x-team") for r in fake_openai.requests] == ["refunds"]
    assert fake_openai.requests[0].headers["authorization"] == "Bearer sk-conftest-0123456789"


def test_all_mode_rewrites_the_cassette_with_only_what_the_run_sent(
    judged: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    judged.makepyfile(test_x=JUDGED_TEST)
    record(judged, monkeypatch).assert_outcomes(passed=1)
    judged.makepyfile(test_x=JUDGED_TEST.replace("Is it polite?", "Is it kind?"))
    record(judged, monkeypatch, "--llm-record-mode=all").assert_outcomes(passed=1)
    bodies = [i["request"]["body"] for i in interactions(judged.path / CASSETTE)]
    assert len(bodies) == 1 and "Is it kind?" in bodies[0]


def test_test_ids_that_differ_only_in_unsafe_characters_replay_their_own_cassettes(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """a/b, a_b, a b, a:b and a very long non-ASCII id: one file each, each replays its own verdict (-n 2)."""
    ids = ["a/b", "a_b", "a b", "a:b", "é" * 200]
    judged.makepyfile(
        test_x=f"""
        import pytest

        @pytest.mark.parametrize("name", {ids!r})
        def test_it(judge, name):
            v = judge("Is " + name + " fine?")
            print("CONFIDENCE", name[:3], round(v.confidence, 2))
        """
    )
    for index, name in enumerate(ids):
        fake_openai.rule(f"Is {name} fine?", verdict(0.5 + index / 10, 0.0))
    record(judged, monkeypatch).assert_outcomes(passed=len(ids))
    assert len(list((judged.path / "cassettes").rglob("*.yaml"))) == len(ids)
    result = replay(judged, monkeypatch, "-n", "2", "-p", "xdist")
    result.assert_outcomes(passed=len(ids))
    result = replay(judged, monkeypatch)
    for index, name in enumerate(ids):
        result.stdout.fnmatch_lines([f"*CONFIDENCE {name[:3]} {0.5 + index / 10:.1f}*"])


def test_the_miss_message_shows_where_a_long_question_changed(
    judged: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A question that changed after its first 200 characters: both versions of the changed part show."""
    prefix = "Given the refund policy of the shop, which allows returns within thirty days " * 3
    judged.makepyfile(test_x=JUDGED_TEST.replace("Is it polite?", prefix + "is it polite?"))
    record(judged, monkeypatch).assert_outcomes(passed=1)
    judged.makepyfile(test_x=JUDGED_TEST.replace("Is it polite?", prefix + "is it rude?"))
    result = replay(judged, monkeypatch)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*now: *is it rude?*", "*recorded: *is it polite?*"])


# --- secrets ----------------------------------------------------------------------------------


def test_a_key_inside_a_binary_body_is_never_written(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A non-UTF-8 body is stored as !!binary: the key inside it is found all the same."""
    fake_openai.rule(
        "binary",
        Reply(
            {}, raw=b"\xff\xfe" + KEY.encode() + b"\x00", headers={"Content-Type": "application/octet-stream"}
        ),
    )
    judged.makepyfile(
        test_x=f"""
        try:  # the openai client's HTTP library: httpx2 for openai 3, httpx before
            import httpx2 as http
        except ImportError:
            import httpx as http

        def test_it(judge):
            body = b'\\xff\\x00binary' + {KEY.encode()!r}
            reply = http.post("{fake_openai.base_url}/chat/completions", content=body)
            assert reply.status_code == 200
        """
    )
    result = record(judged, monkeypatch)
    result.stdout.fnmatch_lines(["*CassetteSecretError: not writing the cassette*body of interaction 1*"])
    assert KEY.encode() not in every_byte(judged.path)


@pytest.mark.parametrize(
    "query", ["api-key", "key", "access_token", "sig", "code", "token", "client_secret", "password"]
)
def test_secret_query_parameters_are_replaced_in_the_stored_uri(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    """?api-key= (Azure's default_query), ?key=, ?access_token=, ?sig=, ?code=…: REDACTED on disk; replays."""
    judged.makepyfile(
        test_x=f"""
        import openai
        import pytest

        @pytest.mark.llm
        def test_it():
            query = {{"{query}": "{KEY}", "api-version": "2024-06-01"}}
            client = openai.OpenAI(base_url="{fake_openai.base_url}", default_query=query)
            answer = client.chat.completions.create(model="m", messages=[{{"role": "user", "content": "hi"}}])
            assert answer.choices[0].message.content == "true"
        """
    )
    record(judged, monkeypatch).assert_outcomes(passed=1)
    stored = interactions(judged.path / CASSETTE)[0]["request"]["uri"]
    assert f"{query}=REDACTED" in stored and "api-version=2024-06-01" in stored
    assert KEY.encode() not in every_byte(judged.path)
    replay(judged, monkeypatch).assert_outcomes(passed=1)


def test_url_user_info_is_never_stored_nor_shown(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """http://user:PASS@host/v1: not in the cassette's uri, not in an error message, not in JUnit XML."""
    password = "hunter2-very-secret"
    with_user = fake_openai.base_url.replace("http://", f"http://judge:{password}@")
    judged.makepyfile(test_x=JUDGED_TEST)
    record(judged, monkeypatch, f"--llm-base-url={with_user}").assert_outcomes(passed=1)
    assert "judge:" not in interactions(judged.path / CASSETTE)[0]["request"]["uri"]
    closed = f"http://judge:{password}@127.0.0.1:9/v1"
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    result = judged.runpytest(f"--llm-base-url={closed}", "--llm-record-mode=all", "--junitxml=out.xml")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*could not reach http://127.0.0.1:9/v1*"])
    assert password not in result.stdout.str()
    assert password.encode() not in every_byte(judged.path)


def test_a_key_the_server_echoes_in_a_401_is_masked_in_the_message_and_junit_xml(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_openai.default = error(401, f"Incorrect API key provided: {KEY}. Find your key at the dashboard.")
    judged.makepyfile(test_x=JUDGED_TEST)
    result = record(judged, monkeypatch, "--junitxml=out.xml")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*refused the API key (HTTP 401): Incorrect API key provided: ***.*"])
    assert KEY not in result.stdout.str()
    assert KEY.encode() not in every_byte(judged.path)
    assert not (judged.path / CASSETTE).exists() or not interactions(judged.path / CASSETTE)


def test_response_headers_are_kept_by_allow_list(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LiteLLM's internal URL, call ids, org echoes: none is written; content-type and rate limits are."""
    fake_openai.default = Reply(
        verdict(0.95, 0.04),
        headers={
            "x-litellm-model-api-base": "http://10.0.0.7:8000/internal",
            "x-litellm-call-id": "c-123",
            "x-org-echo": "org-abcdef123456",
            "cf-ray": "8a1b2c3d4e5f",
            "x-ratelimit-remaining-requests": "499",
        },
    )
    judged.makepyfile(test_x=JUDGED_TEST)
    record(judged, monkeypatch).assert_outcomes(passed=1)
    headers = {k.lower() for k in interactions(judged.path / CASSETTE)[0]["response"]["headers"]}
    assert headers == {"content-type", "x-ratelimit-remaining-requests"}
    assert b"10.0.0.7" not in every_byte(judged.path) and b"org-abcdef" not in every_byte(judged.path)


# --- faults and determinism -------------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        error(408, "timeout"),
        error(409, "conflict"),
        error(429, "slow down"),
        error(503, "overloaded"),
        Reply(error(400, "try again").body, 400, headers={"x-should-retry": "true"}),
    ],
    ids=["408", "409", "429", "503", "400-should-retry"],
)
def test_only_the_final_exchange_of_a_retried_request_is_stored(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, failure: Reply
) -> None:
    failure.headers.setdefault("retry-after-ms", "1")
    fake_openai.rule("polite", [failure, Reply(verdict(0.95, 0.04))])
    judged.makepyfile(test_x=JUDGED_TEST)
    record(judged, monkeypatch).assert_outcomes(passed=1)
    assert len(fake_openai.requests) == 2
    stored = interactions(judged.path / CASSETTE)
    assert [i["response"]["status"]["code"] for i in stored] == [200]
    replay(judged, monkeypatch).stdout.fnmatch_lines(["*REPLAYED True 0.95*"])


REQUESTS_TEST = """
import pytest

pytestmark = pytest.mark.llm


def test_it():
    import requests  # first imported here, after the cassette started

    reply = requests.post("{base_url}/chat/completions", json={{"model": "m", "messages": []}}, timeout=5)
    print("STATUS", reply.status_code)
"""

SOCKET_TEST = """
import socket

import pytest

pytestmark = pytest.mark.llm


def test_it():
    with socket.create_connection(("127.0.0.1", {port}), timeout=5) as sock:
        sock.sendall(b"GET /v1/models HTTP/1.0\\r\\n\\r\\n")
        print("STATUS", sock.recv(12).decode())
"""


def refused(port: int) -> str:
    return (
        f"*CassetteMissError: record mode 'none' replays only, and this test tried to connect to "
        f"127.0.0.1:{port}, which its cassette cassettes/test_x/test_it.yaml cannot answer*"
    )


def test_record_mode_none_opens_no_socket_for_libraries_imported_inside_a_test(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """requests first imported in the test body (a fresh process): no connection reaches the server."""
    pytest.importorskip("requests")
    judged.makepyfile(test_x=REQUESTS_TEST.format(base_url=fake_openai.base_url))
    monkeypatch.setenv("CI", "true")
    result = judged.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([refused(fake_openai.port)])
    assert fake_openai.requests == []


def test_a_raw_socket_is_refused_in_record_mode_none_unless_its_host_is_allowed(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guard sits at the socket: whatever makes the connection, and llm_allow_hosts lets a local server in."""
    judged.makepyfile(test_x=SOCKET_TEST.format(port=fake_openai.port))
    monkeypatch.setenv("CI", "true")
    result = judged.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([refused(fake_openai.port), "*--llm-allow-hosts=127.0.0.1*"])
    judged.runpytest("--llm-allow-hosts=127.0.0.1", "-s").stdout.fnmatch_lines(["*STATUS HTTP/1.? 200*"])
    judged.makeini("[pytest]\nllm_allow_hosts = localhost\n")
    judged.runpytest("-s").stdout.fnmatch_lines(["*STATUS HTTP/1.? 200*"])
    result = judged.runpytest("--llm-allow-hosts=not-an-address")
    result.stderr.fnmatch_lines(["*llm_allow_hosts: 'not-an-address' is not an address*"])


HTTP_SERVICE_TEST = """
import json, urllib.request, pytest

@pytest.mark.llm
def test_local_service():
    with urllib.request.urlopen("http://{host}:{port}/v1/models") as answer:
        assert json.load(answer)["object"] == "list"
"""


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_an_allowed_host_reached_over_http_is_live_and_never_recorded(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, host: str
) -> None:
    """llm_allow_hosts lets an HTTP library's request out in replay-only modes, as it does a raw socket.

    It was a CassetteMissError telling the user to record the call with a key; nothing is written
    (record mode none, or once with a cassette that exists).
    """
    judged.makepyfile(test_x=HTTP_SERVICE_TEST.format(host=host, port=fake_openai.port))
    monkeypatch.setenv("CI", "true")
    judged.runpytest("--llm-allow-hosts=127.0.0.1").assert_outcomes(passed=1)
    assert not (judged.path / "cassettes").exists()
    result = judged.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*CassetteMissError*"])
    cassette = judged.path / "cassettes" / "test_x" / "test_local_service.yaml"
    cassette.parent.mkdir(parents=True)
    cassette.write_text("interactions: []\nversion: 1\n")
    judged.runpytest("--llm-allow-hosts=localhost", "--llm-record-mode=once").assert_outcomes(passed=1)
    assert cassette.read_text() == "interactions: []\nversion: 1\n"


def test_cassettes_honour_the_umask_and_stale_temp_files_are_removed(
    judged: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    judged.makepyfile(test_x=JUDGED_TEST)
    stale = judged.path / CASSETTE.parent / f".{CASSETTE.name}.k1ll9.tmp"
    stale.parent.mkdir(parents=True)
    stale.write_text("interactions: [half a")
    old = os.umask(0o022)
    try:
        record(judged, monkeypatch).assert_outcomes(passed=1)
    finally:
        os.umask(old)
    assert (judged.path / CASSETTE).stat().st_mode & 0o777 == 0o644
    assert not stale.exists()


OTHER = {
    "request": {"body": "{}", "headers": {}, "method": "POST", "uri": "http://h/v1/other"},
    "response": {
        "status": {"code": 200, "message": "OK"},
        "headers": {"content-type": ["application/json"]},
        "body": {"string": "{}"},
    },
}
EDITS = {
    "response is a string": lambda i: i.update(response="OK"),
    "no status": lambda i: i["response"].pop("status"),
    "status is text": lambda i: i["response"].update(status={"code": "two hundred"}),
    "no body": lambda i: i["response"].pop("body"),
    "body is a list": lambda i: i["response"].update(body=["x"]),
    "headers as a list": lambda i: i["response"].update(headers=["content-type: application/json"]),
    "non-JSON body": lambda i: i["response"].update(body={"string": "<html>oops</html>"}),
    "empty JSON body": lambda i: i["response"].update(body={"string": ""}),
    "no request": lambda i: i.pop("request"),
    "request without uri": lambda i: i["request"].pop("uri"),
}


@pytest.mark.parametrize("change", list(EDITS))
def test_a_hand_edited_cassette_is_a_corrupt_error_naming_the_file_and_interaction(
    judged: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """Cassettes that still parse but cannot be used: never a raw KeyError, the file left as it was."""
    judged.makepyfile(test_x=JUDGED_TEST)
    record(judged, monkeypatch).assert_outcomes(passed=1)
    path = judged.path / CASSETTE
    data = yaml.safe_load(path.read_text())
    EDITS[change](data["interactions"][0])
    data["interactions"].insert(0, OTHER)
    text = yaml.safe_dump(data)
    path.write_text(text)
    result = replay(judged, monkeypatch)
    assert result.ret != 0
    result.stdout.fnmatch_lines(
        ["*CassetteCorruptError: the cassette cassettes/test_x/test_it.yaml cannot be read (interaction 2*"]
    )
    assert "Traceback" not in result.stdout.str() and "KeyError" not in result.stdout.str()
    assert path.read_text() == text


@pytest.mark.parametrize("mode", ["none", "once", "new_episodes", "all"])
def test_an_empty_cassette_is_corrupt_and_never_overwritten(
    judged: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    judged.makepyfile(test_x=JUDGED_TEST)
    path = judged.path / CASSETTE
    path.parent.mkdir(parents=True)
    path.write_text("")
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    result = judged.runpytest(f"--llm-record-mode={mode}")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*CassetteCorruptError: the cassette cassettes/test_x/test_it.yaml cannot be read (the file is empty*"
        ]
    )
    assert path.read_text() == ""


def test_a_full_disk_is_explained_naming_the_cassette_not_a_temp_file(
    judged: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    judged.makeconftest(
        """
        import errno
        import os

        real_fsync = os.fsync

        def fsync(fd):
            raise OSError(errno.ENOSPC, "No space left on device")

        def pytest_configure(config):  # the whole run: the cassette is written after the last fixture
            os.fsync = fsync

        def pytest_unconfigure(config):
            os.fsync = real_fsync
        """
    )
    judged.makepyfile(test_x=JUDGED_TEST)
    result = record(judged, monkeypatch)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*could not write the cassette cassettes/test_x/test_it.yaml (No space left on device); the previous file*"
        ]
    )
    assert ".tmp" not in result.stdout.str()
    assert not list(judged.path.rglob("*.tmp")) and not (judged.path / CASSETTE).exists()


def test_identical_requests_replay_in_record_order(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_openai.rule("same", [Reply(verdict(0.9, 0.1)), Reply(verdict(0.6, 0.4)), Reply(verdict(0.3, 0.7))])
    judged.makepyfile(
        test_x="def test_it(judge):\n    print('ORDER', [round(judge('the same?').p_true, 1) for _ in range(3)])\n"
    )
    record(judged, monkeypatch).assert_outcomes(passed=1)
    replay(judged, monkeypatch).stdout.fnmatch_lines(["*ORDER ?0.9, 0.6, 0.3?*"])
    assert CLOSED


def test_a_key_inside_a_question_is_masked_in_the_summary_and_the_reports(
    judged: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reports (terminal, JSON, HTML) show *** where the configured key appeared."""
    judged.makepyfile(test_x=JUDGED_TEST.replace("Is it polite?", f"Is {KEY} a key?"))
    result = record(judged, monkeypatch, "--llm-report=r.json", "--llm-html=r.html", "--llm-summary=full")
    result.assert_outcomes(passed=1, errors=1)  # and the cassette is not written: it would hold the key
    result.stdout.fnmatch_lines(["*Is *** a key?*"])
    assert KEY not in result.stdout.str()
    report = json.loads((judged.path / "r.json").read_text())
    assert report["verdicts"][0]["question"] == "Is *** a key?"
    assert KEY not in (judged.path / "r.html").read_text()


EVERY_LIBRARY = """
import asyncio
import importlib.util
import socket
import urllib.request

import httpx2
import pytest
import requests

URL = "http://{host}:{port}/v1/models"


@pytest.mark.llm
@pytest.mark.parametrize("library", ["httpx2", "requests", "urllib", "aiohttp"])
def test_reaches_the_allowed_server(library):
    if library == "httpx2":
        status = httpx2.get(URL).status_code
    elif library == "requests":
        status = requests.get(URL, timeout=5).status_code
    elif library == "urllib":
        status = urllib.request.urlopen(URL, timeout=5).status
    else:
        if importlib.util.find_spec("aiohttp") is None:
            pytest.skip("aiohttp is not installed")
        import aiohttp

        async def get():
            async with aiohttp.ClientSession() as session, session.get(URL) as response:
                return response.status

        status = asyncio.run(get())
    assert status == 200


@pytest.mark.llm
def test_a_dns_look_up_is_refused():
    socket.getaddrinfo("api.openai.com", 443)


@pytest.mark.llm
def test_a_udp_send_is_refused():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"ping", ("192.0.2.1", 53))
"""


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_allowed_hosts_are_reached_by_every_http_library_and_dns_and_udp_are_refused(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, host: str
) -> None:
    """--llm-allow-hosts lets httpx, requests, urllib and aiohttp reach a local server in record mode none,
    as it does a raw socket; a name looked up or a datagram sent elsewhere is refused like a connect."""
    pytest.importorskip("requests")
    judged.makepyfile(test_x=EVERY_LIBRARY.format(host=host, port=fake_openai.port))
    monkeypatch.setenv("CI", "true")
    result = judged.runpytest("--llm-allow-hosts=127.0.0.1", "-p", "no:cacheprovider")
    outcomes = result.parseoutcomes()
    assert outcomes["passed"] >= 3 and outcomes["failed"] == 2, result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "FAILED test_x.py::test_a_dns_look_up_is_refused - pytest_llmconfidence.CassetteMissError: "
            "record mode 'none' replays only, and this test tried to look up api.openai.com*",
            "FAILED test_x.py::test_a_udp_send_is_refused - pytest_llmconfidence.CassetteMissError: "
            "record mode 'none' replays only, and this test tried to send to 192.0.2.1:53*",
        ]
    )
    assert not (judged.path / "cassettes").exists()  # what an allowed host answered is not stored
