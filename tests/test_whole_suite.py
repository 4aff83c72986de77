"""The whole suite replays, not just the test: wider fixtures' cassettes, unmarked tests, misses inside the
app's client (through pytester, written as a user's suite is)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from fake_openai import FakeOpenAI, completion

KEY = "sk-test-SECRET1234567890abcdef"
CLOSED = "http://127.0.0.1:9/v1"

APP = """
import os

import openai

client = openai.OpenAI(base_url=os.environ.get("APP_BASE_URL", "{base_url}"))  # built at import


def answer(question):
    reply = client.chat.completions.create(
        model="bot", messages=[{{"role": "user", "content": question}}], logprobs=True
    )
    return reply.choices[0].message.content
"""

CONFTEST = """
import pytest

import app


@pytest.fixture(scope="session")
def greeting():
    text = app.answer("Say hello")
    yield text
    app.answer("Say goodbye")  # tear-down calls are recorded too


def pytest_sessionfinish(session):
    app.client.close()
"""

SUITE = """
import pytest

import app


@pytest.fixture(scope="module")
def refund_answer():
    return app.answer("What is the refund window?")


def test_polite(judge, refund_answer, greeting):
    assert judge("Is it polite?", refund_answer).value is True


def test_on_topic(judge, refund_answer):
    assert judge("Is it about refunds?", refund_answer).value is True


def test_short(judge, refund_answer):
    assert judge("Is it short?", refund_answer).value is True
"""


def record(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, *args: str) -> pytest.RunResult:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    result = pytester.runpytest("--llm-record-mode=once", *args)
    monkeypatch.delenv("OPENAI_API_KEY")
    return result


def replay(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, *args: str) -> pytest.RunResult:
    """CI: no key, record mode none, the app's and the judge's endpoints unreachable."""
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("APP_BASE_URL", CLOSED)
    result = pytester.runpytest(f"--llm-base-url={CLOSED}", *args)
    monkeypatch.delenv("CI")
    monkeypatch.delenv("APP_BASE_URL")
    return result


def prompts(path: Path) -> list[str]:
    """The user messages of a cassette's requests, in order."""
    found = []
    for interaction in yaml.safe_load(path.read_text())["interactions"]:
        body = yaml.safe_load(interaction["request"]["body"])
        found.append(body["messages"][-1]["content"])
    return found


@pytest.fixture
def suite(judged: pytest.Pytester, fake_openai: FakeOpenAI) -> pytest.Pytester:
    """A suite whose answers come from a conftest's session fixture and a module fixture."""
    fake_openai.rule("refund window", completion([("30 days", 0.9)]))
    fake_openai.rule("hello", completion([("Hello!", 0.9)]))
    judged.makepyfile(app=APP.format(base_url=fake_openai.base_url))
    judged.mkpydir("tests")
    (judged.path / "tests" / "conftest.py").write_text(CONFTEST)
    (judged.path / "tests" / "test_refunds.py").write_text(SUITE)
    judged.makeconftest("import sys, os\nsys.path.insert(0, os.path.dirname(__file__))\n")
    return judged


def test_wider_fixtures_record_into_cassettes_of_their_own_beside_the_tests(
    suite: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A module fixture's call is in tests/test_refunds/refund_answer.module.yaml, a conftest's session
    fixture's set-up and tear-down in tests/greeting.session.yaml; the tests' cassettes hold only theirs."""
    record(suite, monkeypatch).assert_outcomes(passed=3)
    cassettes = suite.path / "cassettes" / "tests"
    assert prompts(cassettes / "greeting.session.yaml") == ["Say hello", "Say goodbye"]
    assert prompts(cassettes / "test_refunds" / "refund_answer.module.yaml") == ["What is the refund window?"]
    for name in ("test_polite", "test_on_topic", "test_short"):
        assert len(prompts(cassettes / "test_refunds" / f"{name}.yaml")) == 1  # the verdict only


@pytest.mark.parametrize(
    "selection",
    [
        ["-k", "test_short"],
        ["-k", "test_on_topic or test_polite"],
        ["-n", "2"],
        ["tests/test_refunds.py::test_short", "tests/test_refunds.py::test_polite"],
    ],
)
def test_the_fixture_recording_replays_whichever_test_sets_it_up(
    suite: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, selection: list[str]
) -> None:
    """Recorded in one order, replayed offline with -k, -n 2 or in full: nothing reaches the network."""
    record(suite, monkeypatch).assert_outcomes(passed=3)
    fake_openai.requests.clear()
    result = replay(suite, monkeypatch, *selection)
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == outcomes.get("errors", 0) == 0, result.stdout.str()
    assert outcomes["passed"] >= 1
    assert fake_openai.requests == []


def test_a_fixture_set_up_before_the_judge_records_into_the_tests_cassette(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``def test_x(early, judge)``: early's call is in the test's cassette, and replays from it."""
    fake_openai.rule("early", completion([("Soon", 0.9)]))
    judged.makepyfile(app=APP.format(base_url=fake_openai.base_url))
    judged.makepyfile(
        test_early="""
        import pytest
        import app

        @pytest.fixture
        def early():
            return app.answer("early question")

        def test_x(early, judge):
            assert early == "Soon"
            assert judge("Is it polite?", early).value is True
        """
    )
    record(judged, monkeypatch).assert_outcomes(passed=1)
    assert prompts(judged.path / "cassettes" / "test_early" / "test_x.yaml")[0] == "early question"
    fake_openai.requests.clear()
    replay(judged, monkeypatch).assert_outcomes(passed=1)
    assert fake_openai.requests == []


UNMARKED = """
import pytest
import app


def test_unmarked():
    assert app.answer("What is the refund window?")


@pytest.mark.llm
def test_marked():
    assert app.answer("What is the refund window?")
"""


def test_an_unmarked_test_calling_the_model_fails_in_replay_saying_to_mark_it(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In none mode a test with no cassette sending /chat/completions fails with CassetteMissError saying
    to mark it; nothing leaves the process, and no retry is waited for."""
    fake_openai.rule("refund window", completion([("30 days", 0.9)]))
    judged.makepyfile(app=APP.format(base_url=fake_openai.base_url), test_app=UNMARKED)
    record(judged, monkeypatch).assert_outcomes(passed=2)
    assert not (judged.path / "cassettes" / "test_app" / "test_unmarked.yaml").exists()
    fake_openai.requests.clear()
    result = replay(judged, monkeypatch)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "FAILED test_app.py::test_unmarked - pytest_llmconfidence.CassetteMissError: this test has no "
            "cassette and sent POST /v1/chat/completions*",
        ]
    )
    result.stdout.fnmatch_lines(["*Mark it @pytest.mark.llm (or set llm_record_tests = all)*"])
    assert fake_openai.requests == []


def test_llm_record_tests_all_records_and_replays_every_test(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """llm_record_tests = all: the unmarked test has its cassette too, and replays offline."""
    fake_openai.rule("refund window", completion([("30 days", 0.9)]))
    judged.makepyfile(app=APP.format(base_url=fake_openai.base_url), test_app=UNMARKED)
    (judged.path / "tox.ini").write_text(
        f"[pytest]\nllm_base_url = {fake_openai.base_url}\nllm_record_tests = all\n"
    )
    record(judged, monkeypatch).assert_outcomes(passed=2)
    assert (judged.path / "cassettes" / "test_app" / "test_unmarked.yaml").is_file()
    fake_openai.requests.clear()
    replay(judged, monkeypatch).assert_outcomes(passed=2)
    assert fake_openai.requests == []


def test_a_miss_inside_the_apps_client_is_the_headline_and_is_not_retried(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The openai client (2 retries by default) fails at once with CassetteMissError as the one-line
    summary, not "Connection error."."""
    judged.makepyfile(
        app=APP.format(base_url=fake_openai.base_url),
        test_app="""
        import pytest
        import app

        @pytest.mark.llm
        def test_changed():
            app.answer("a question never recorded")
        """,
    )
    result = replay(judged, monkeypatch)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "FAILED test_app.py::test_changed - pytest_llmconfidence.CassetteMissError: no cassette for this test*"
        ]
    )
    assert "Connection error" not in result.stdout.str()
    assert "Retrying request" not in result.stdout.str() + result.stderr.str()


POOL = """
import time
from concurrent.futures import ThreadPoolExecutor

import app


def test_fanned_out(llm_responses):
    questions = ["first slow", "second slower", "third fast"]
    with ThreadPoolExecutor(3) as pool:
        futures = []
        for question in questions:
            futures.append(pool.submit(app.answer, question))
            time.sleep(0.3)  # sent in this order; answered in the opposite one
        answers = [future.result() for future in futures]
    print("ORDER", [r.text for r in llm_responses])
    assert [r.text for r in llm_responses] == answers == ["One", "Two", "Three"]
"""


def test_llm_responses_follow_the_order_requests_were_sent_live_and_replayed(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Calls fanned out on threads answer in any order; llm_responses lists them as they were sent."""
    from fake_openai import Reply

    fake_openai.rule("first", Reply(completion([("One", 0.9)]), delay_s=1.2))
    fake_openai.rule("second", Reply(completion([("Two", 0.9)]), delay_s=0.6))
    fake_openai.rule("third", completion([("Three", 0.9)]))
    judged.makepyfile(app=APP.format(base_url=fake_openai.base_url), test_pool=POOL)
    record(judged, monkeypatch, "--llm-watch").assert_outcomes(passed=1)
    replay(judged, monkeypatch, "--llm-watch").assert_outcomes(passed=1)


FALLBACK = """
import openai
import pytest

import app

fallback_client = app.client.with_options(max_retries=1)


@pytest.mark.llm
def test_falls_back_when_the_model_stays_down():
    try:
        fallback_client.chat.completions.create(
            model="bot", messages=[{"role": "user", "content": "down?"}]
        )
    except openai.InternalServerError:
        answer = "Sorry, try again later."
    assert answer == "Sorry, try again later."


@pytest.mark.llm
def test_a_retry_that_succeeds_stores_only_the_answer():
    assert app.answer("flaky?") == "Fine"
"""


def test_a_request_whose_every_try_fails_stores_its_final_exchange_and_the_fallback_replays(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 503 that stays is stored once (the final try) and answers every try in replay; a 503 the client
    got past is not stored."""
    from fake_openai import Reply, error

    fake_openai.rule("down", error(503, "overloaded"))
    fake_openai.rule("flaky", [error(503, "overloaded"), Reply(completion([("Fine", 0.9)]))])
    judged.makepyfile(app=APP.format(base_url=fake_openai.base_url), test_fallback=FALLBACK)
    record(judged, monkeypatch).assert_outcomes(passed=2)
    cassettes = judged.path / "cassettes" / "test_fallback"
    down = yaml.safe_load((cassettes / "test_falls_back_when_the_model_stays_down.yaml").read_text())
    assert [i["response"]["status"]["code"] for i in down["interactions"]] == [503]
    flaky = yaml.safe_load((cassettes / "test_a_retry_that_succeeds_stores_only_the_answer.yaml").read_text())
    assert [i["response"]["status"]["code"] for i in flaky["interactions"]] == [200]
    fake_openai.requests.clear()
    replay(judged, monkeypatch).assert_outcomes(passed=2)
    assert fake_openai.requests == []


def _chat(question: str) -> tuple[Any, dict[str, Any]]:
    from vcr.request import Request

    body = json.dumps({"model": "bot", "messages": [{"role": "user", "content": question}]}).encode()
    request = Request("POST", "http://host/v1/chat/completions", body, {"content-type": "application/json"})
    response = {
        "status": {"code": 200, "message": "OK"},
        "headers": {"content-type": ["application/json"]},
        "body": {"string": json.dumps(completion([(question.upper(), 0.9)])).encode()},
    }
    return request, response


def test_two_writers_adding_to_one_cassette_keep_each_others_additions(tmp_path: Path) -> None:
    """new_episodes re-reads the file under its lock before writing: both additions are kept, and the
    lock file is gone after."""
    from pytest_llmconfidence._recording.cassette import ActiveCassette

    path = tmp_path / "tests" / "test_bot" / "test_it.yaml"
    writers = [
        ActiveCassette(path, record_mode="new_episodes", scope="test", nodeid="t.py::test_it").open()
        for _ in range(2)
    ]  # both read the file before either writes, as two xdist workers or CI jobs do
    for writer, question in zip(writers, ("one", "two"), strict=True):
        writer.cassette.append(*_chat(question))
    for writer in writers:
        writer.save()
    assert sorted(prompts(path)) == ["one", "two"]
    writers[0].cassette.append(*_chat("three"))  # a fixture's cassette saves again after its tear-down
    writers[0].save()
    assert sorted(prompts(path)) == ["one", "three", "two"]
    assert [p.name for p in path.parent.iterdir()] == ["test_it.yaml"]


def test_test_ids_whose_safe_names_collide_get_distinct_files() -> None:
    """a::b and a.b (a class's test and a dotted item name) are two files; plain names are unchanged."""
    from pytest_llmconfidence._recording.cassette import cassette_path

    root = Path("/project")

    def name(nodeid: str) -> str:
        return cassette_path(Path("cassettes"), root, root / "t.py", nodeid).name

    assert name("t.py::a::b") == "a.b.yaml"
    assert name("t.py::a.b").startswith("a.b~") and name("t.py::a.b") != name("t.py::a::b")
    assert name("t.py::TestX::test_y[0.5]") == "TestX.test_y[0.5].yaml"


def test_a_wider_fixture_that_opens_a_database_connection_is_not_refused_in_replay(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The socket guard is the tests': a session fixture connecting to its own server (a database) is let
    through in record mode none, while the test's own connection is refused."""
    judged.makepyfile(
        test_db=f"""
        import socket
        import pytest

        @pytest.fixture(scope="session")
        def database():
            return socket.create_connection(("127.0.0.1", {fake_openai.port}), timeout=5)

        @pytest.mark.llm
        def test_uses_the_database(database):
            database.close()

        @pytest.mark.llm
        def test_connects_itself():
            socket.create_connection(("127.0.0.1", {fake_openai.port}), timeout=5)
        """
    )
    monkeypatch.setenv("CI", "true")
    result = judged.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["FAILED test_db.py::test_connects_itself - *CassetteMissError*"])
