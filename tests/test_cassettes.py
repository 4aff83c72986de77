"""Cassettes: record once with a key, replay offline, never write a secret (through pytester)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from fake_openai import FakeOpenAI, Reply, error, verdict

KEY = "sk-test-SECRET1234567890abcdef"
CLOSED = "http://127.0.0.1:9/v1"

JUDGED_TEST = """
def test_it(judge):
    v = judge("Is it polite?", "Thank you for asking!")
    print("REPLAYED", v.replayed, round(v.confidence, 2))
    assert v.confident_true()
"""


def interactions(path: Path) -> list[dict]:
    return yaml.safe_load(path.read_text())["interactions"]


def record(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, *args: str) -> pytest.RunResult:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    result = pytester.runpytest("--llm-record-mode=once", "-s", *args)
    monkeypatch.delenv("OPENAI_API_KEY")
    return result


def replay(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, *args: str) -> pytest.RunResult:
    """CI: no key, record mode none from CI=true, the endpoint unreachable."""
    monkeypatch.setenv("CI", "true")
    result = pytester.runpytest(f"--llm-base-url={CLOSED}", "-s", *args)
    monkeypatch.delenv("CI")
    return result


def test_recording_writes_one_cassette_per_test_at_module_class_and_param_path(
    judged: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cassettes/<module path without .py>/<Class.>test[param].yaml, unsafe characters replaced by _."""
    judged.mkpydir("tests")
    judged.path.joinpath("tests", "test_bot.py").write_text(
        "import pytest\n"
        "class TestRefunds:\n"
        "    @pytest.mark.parametrize('when', ['late', 'a/b c'])\n"
        "    def test_window(self, judge, when):\n"
        "        judge('Is it ' + when + '?')\n"
        "def test_plain(judge):\n"
        "    judge('q?')\n"
    )
    record(judged, monkeypatch).assert_outcomes(passed=3)
    written = sorted(str(p.relative_to(judged.path)) for p in judged.path.rglob("*.yaml"))
    assert len(written) == 3
    assert written[0].startswith("cassettes/tests/test_bot/TestRefunds.test_window[a_b_c]~")
    assert written[1:] == [
        "cassettes/tests/test_bot/TestRefunds.test_window[late].yaml",
        "cassettes/tests/test_bot/test_plain.yaml",
    ]


def test_cassette_dir_option_is_relative_to_rootdir(
    judged: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--llm-cassette-dir is resolved against rootdir, whatever the current directory."""
    judged.makepyfile(test_x=JUDGED_TEST)
    judged.mkdir("elsewhere")
    monkeypatch.chdir(judged.path / "elsewhere")
    record(judged, monkeypatch, "--llm-cassette-dir=recorded", str(judged.path)).assert_outcomes(passed=1)
    assert (judged.path / "recorded" / "test_x" / "test_it.yaml").is_file()


def test_cassette_stores_no_key_no_request_headers_and_no_identifying_response_headers(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Request headers are dropped; set-cookie, openai-organization/project, x-request-id and key headers too."""
    fake_openai.default = Reply(
        verdict(0.95, 0.04),
        headers={
            "Set-Cookie": "__cf_bm=cookie-value-123; path=/",
            "OpenAI-Organization": "org-secretorg",
            "OpenAI-Project": "proj_secretproject",
            "X-Request-Id": "req_identifying",
            "X-Echo-Api-Key": KEY,
            "X-Debug": f"seen {KEY}",
            "Content-Encoding": "identity",
        },
    )
    judged.makepyfile(test_x=JUDGED_TEST)
    record(judged, monkeypatch).assert_outcomes(passed=1)
    assert fake_openai.requests[0].headers["authorization"] == f"Bearer {KEY}"
    text = (judged.path / "cassettes" / "test_x" / "test_it.yaml").read_text()
    lowered = text.lower()
    for secret in (
        KEY,
        "SECRET123",
        "authorization",
        "bearer",
        "set-cookie",
        "cookie-value",
        "openai-organization",
        "org-secretorg",
        "openai-project",
        "proj_secretproject",
        "x-request-id",
        "req_identifying",
        "x-llmconfidence",
    ):
        assert secret.lower() not in lowered, secret
    (interaction,) = interactions(judged.path / "cassettes" / "test_x" / "test_it.yaml")
    assert set(interaction["request"]["headers"]) <= {"content-type"}
    assert interaction["response"]["status"]["code"] == 200
    assert '"chat.completion"' in interaction["response"]["body"]["string"]


def test_a_cassette_that_would_contain_the_key_is_not_written(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A last scan refuses to write a cassette holding the API key in use, and says so."""
    body = verdict(0.95, 0.04)
    body["id"] = f"echo-{KEY}"
    fake_openai.default = Reply(body)
    judged.makepyfile(test_x=JUDGED_TEST)
    result = record(judged, monkeypatch)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*CassetteSecretError: not writing the cassette cassettes/test_x/test_it.yaml: "
            "it contains the API key in use*"
        ]
    )
    assert KEY not in result.stdout.str()
    assert not list(judged.path.rglob("*.yaml")) and not list(judged.path.rglob("*.tmp"))


def test_replay_needs_no_key_and_no_endpoint_and_says_it_replayed(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recorded against one base URL, a test replays against an unreachable one, with no key."""
    judged.makepyfile(test_x=JUDGED_TEST)
    result = record(judged, monkeypatch)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*REPLAYED False 0.95*"])
    result = replay(judged, monkeypatch)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*REPLAYED True 0.95*"])
    assert len(fake_openai.requests) == 1


def test_replayed_is_exact_per_call_when_a_test_adds_a_new_episode(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In new_episodes mode, the recorded call replays and the new one is live, in one test."""
    judged.makepyfile(test_x="def test_it(judge):\n    print('R1', judge('one?').replayed)\n")
    record(judged, monkeypatch).assert_outcomes(passed=1)
    judged.makepyfile(
        test_x="def test_it(judge):\n    print('R1', judge('one?').replayed)\n    print('R2', judge('two?').replayed)\n"
    )
    result = record(judged, monkeypatch, "--llm-record-mode=new_episodes")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*R1 True*", "*R2 False*"])
    assert len(interactions(judged.path / "cassettes" / "test_x" / "test_it.yaml")) == 2
    replay(judged, monkeypatch).assert_outcomes(passed=1)


def test_two_identical_calls_in_a_test_replay_in_order(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same request made twice is recorded twice and replayed in the order recorded."""
    fake_openai.rule("same?", [Reply(verdict(0.9, 0.1)), Reply(verdict(0.2, 0.8))])
    judged.makepyfile(
        test_x="def test_it(judge):\n    print('SEQ', [round(judge('same?').p_true, 1) for _ in range(2)])\n"
    )
    record(judged, monkeypatch).stdout.fnmatch_lines(["*SEQ [[]0.9, 0.2]*"])
    replay(judged, monkeypatch).stdout.fnmatch_lines(["*SEQ [[]0.9, 0.2]*"])
    result = replay(judged, monkeypatch)
    result.assert_outcomes(passed=1)


def test_missing_cassette_in_none_mode_names_the_file_and_the_record_command(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No socket is opened; CassetteMissError says the file does not exist and how to record it."""
    judged.makepyfile(test_x=JUDGED_TEST)
    result = judged.runpytest("--llm-record-mode=none")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E *CassetteMissError: no cassette for this test: cassettes/test_x/test_it.yaml does not exist*",
            "E *Record it with a key: OPENAI_API_KEY=… pytest test_x.py::test_it --llm-record-mode=once",
        ]
    )
    assert "site-packages/vcr" not in result.stdout.str()
    assert "site-packages/openai" not in result.stdout.str()
    assert fake_openai.requests == []
    assert not (judged.path / "cassettes").exists()


def test_changed_question_names_the_field_and_the_commands_that_add_or_rerecord_it(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request that changed since recording names the differing field, in none and once modes."""
    judged.makepyfile(test_x=JUDGED_TEST)
    record(judged, monkeypatch).assert_outcomes(passed=1)
    path = judged.path / "cassettes" / "test_x" / "test_it.yaml"
    before = path.read_bytes()
    judged.makepyfile(test_x=JUDGED_TEST.replace("Is it polite?", "Is it rude?"))
    for mode in ("none", "once"):
        result = judged.runpytest(f"--llm-record-mode={mode}", f"--llm-base-url={CLOSED}")
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(
            [
                f"E *CassetteMissError: no recording for this request in cassettes/test_x/test_it.yaml "
                f"(record mode '{mode}'): the request changed since it was recorded: messages differ",
                "E *messages[[]1] (the question, response or prompt):",
                "E *now:      *Is it rude?*",
                "E *recorded: *Is it polite?*",
                "E *Add it with a key: OPENAI_API_KEY=… pytest test_x.py::test_it --llm-record-mode=new_episodes",
                "E *or re-record the test: OPENAI_API_KEY=… pytest test_x.py::test_it --llm-record-mode=all",
            ]
        )
        assert "site-packages/vcr" not in result.stdout.str()
    assert path.read_bytes() == before


def test_changed_parameter_is_named_with_its_old_and_new_value(
    judged: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A different top_logprobs (or model) is named with both values."""
    judged.makepyfile(test_x=JUDGED_TEST)
    record(judged, monkeypatch).assert_outcomes(passed=1)
    result = replay(judged, monkeypatch, "--llm-top-logprobs=5", "--llm-model=other")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*the request changed since it was recorded: model, top_logprobs differ",
            "E *model: now other, recorded fake-judge",
            "E *top_logprobs: now 5, recorded 20",
        ]
    )


def test_new_episodes_adds_a_request_and_all_rerecords_the_test(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """new_episodes keeps the old recording and adds the new one; all rewrites the cassette with only
    what that run sent (the old question's recording is gone)."""
    judged.makepyfile(test_x=JUDGED_TEST)
    record(judged, monkeypatch).assert_outcomes(passed=1)
    path = judged.path / "cassettes" / "test_x" / "test_it.yaml"
    judged.makepyfile(test_x=JUDGED_TEST.replace("Is it polite?", "Is it rude?"))
    record(judged, monkeypatch, "--llm-record-mode=new_episodes").assert_outcomes(passed=1)
    assert len(interactions(path)) == 2
    fake_openai.default = Reply(verdict(0.99, 0.01))
    record(judged, monkeypatch, "--llm-record-mode=all").assert_outcomes(passed=1)
    assert len(interactions(path)) == 1
    assert "Is it rude?" in interactions(path)[0]["request"]["body"]
    replay(judged, monkeypatch).stdout.fnmatch_lines(["*REPLAYED True 0.99*"])


def test_corrupt_cassette_is_an_error_naming_the_file_and_is_never_overwritten(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unparsable cassette raises CassetteCorruptError in every mode and stays untouched."""
    judged.makepyfile(test_x=JUDGED_TEST)
    path = judged.path / "cassettes" / "test_x" / "test_it.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("interactions: [ {request: broken\n")
    for mode in ("none", "once", "all"):
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        result = judged.runpytest(f"--llm-record-mode={mode}")
        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines(
            ["E *CassetteCorruptError: the cassette cassettes/test_x/test_it.yaml cannot be read (*"]
        )
        assert "site-packages/vcr" not in result.stdout.str()
        assert path.read_text() == "interactions: [ {request: broken\n"
    assert fake_openai.requests == []


def test_server_errors_and_rate_limits_are_never_recorded(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The client retries a 429 or 500; only the successful answer is in the cassette."""
    fast = {"retry-after-ms": "1"}
    fake_openai.rule(
        "polite",
        [
            Reply(error(429, "slow down").body, 429, headers=fast),
            Reply(error(500, "oops").body, 500, headers=fast),
            Reply(verdict(0.95, 0.04)),
        ],
    )
    judged.makepyfile(test_x=JUDGED_TEST)
    record(judged, monkeypatch).assert_outcomes(passed=1)
    assert len(fake_openai.requests) == 3
    (interaction,) = interactions(judged.path / "cassettes" / "test_x" / "test_it.yaml")
    assert interaction["response"]["status"]["code"] == 200


def test_recording_under_xdist_writes_valid_cassettes(
    judged: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With -n 2 each test's cassette is written whole by its worker, and replays."""
    judged.makepyfile(
        test_x="import pytest\n@pytest.mark.parametrize('n', range(6))\n"
        "def test_it(judge, n):\n    assert judge(f'question {n}?').value is True\n",
        test_y="import pytest\n@pytest.mark.parametrize('n', range(6))\n"
        "def test_it(judge, n):\n    assert judge(f'other {n}?').value is True\n",
    )
    record(judged, monkeypatch, "-n", "2").assert_outcomes(passed=12)
    files = sorted(judged.path.rglob("*.yaml"))
    assert len(files) == 12
    assert all(len(interactions(path)) == 1 for path in files)
    assert not list(judged.path.rglob("*.tmp"))
    replay(judged, monkeypatch, "-n", "2").assert_outcomes(passed=12)


def test_a_failed_write_leaves_the_previous_cassette_intact(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writes are atomic: a run interrupted while writing leaves the earlier file whole and no temp file."""
    judged.makepyfile(test_x=JUDGED_TEST)
    record(judged, monkeypatch).assert_outcomes(passed=1)
    path = judged.path / "cassettes" / "test_x" / "test_it.yaml"
    before = path.read_bytes()
    judged.makeconftest(
        """
        import os

        fsync = os.fsync

        def fail(fd):
            raise OSError(28, "No space left on device")

        def pytest_configure(config):
            os.fsync = fail

        def pytest_unconfigure(config):
            os.fsync = fsync
        """
    )
    fake_openai.default = Reply(verdict(0.5, 0.5))
    result = record(judged, monkeypatch, "--llm-record-mode=all")
    result.assert_outcomes(failed=1, errors=1)
    result.stdout.fnmatch_lines(["*No space left on device*"])
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["test_it.yaml"]


def test_replay_keeps_a_placeholder_key_for_the_session_and_removes_it_after(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no OPENAI_API_KEY the code under test can build its own client, in a test or outside one."""
    judged.makepyfile(
        test_x=f"""
        import os
        import openai

        def test_bot(judge):
            client = openai.OpenAI(base_url="{fake_openai.base_url}")
            assert client.api_key == os.environ["OPENAI_API_KEY"]
            judge("q?")

        def test_after():
            assert os.environ["OPENAI_API_KEY"].startswith("sk-llmconfidence-placeholder")
        """
    )
    monkeypatch.setenv("CI", "true")
    judged.runpytest().assert_outcomes(passed=1, failed=1)  # nothing recorded: the judge misses
    assert "OPENAI_API_KEY" not in os.environ
    result = judged.runpytest("--llm-record-mode=once")
    result.assert_outcomes(passed=2)
    assert "OPENAI_API_KEY" not in os.environ


BOT_TEST = """
import openai
import pytest

def support_bot(question):
    # Closed at once: an open keep-alive socket would surface as a ResourceWarning in a later run.
    with openai.OpenAI(base_url="{base_url}") as client:
        reply = client.chat.completions.create(model="bot", messages=[{{"role": "user", "content": question}}])
    return reply.choices[0].message.content

def test_bot(judge):
    reply = support_bot("Can I return shoes?")
    assert judge("Does it answer?", reply).value is True
"""


@pytest.mark.parametrize(("scope", "recorded", "served_in_replay"), [("test", 2, 0), ("judge", 1, 1)])
def test_record_scope_decides_whether_the_code_under_test_is_recorded(
    judged: pytest.Pytester,
    fake_openai: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
    scope: str,
    recorded: int,
    served_in_replay: int,
) -> None:
    """llm_record_scope=test records every HTTP call of the test; judge only the judge's."""
    judged.makeini(
        f"""
        [pytest]
        llm_base_url = {fake_openai.base_url}
        llm_model = fake-judge
        llm_record_scope = {scope}
        """
    )
    judged.makepyfile(test_bot=BOT_TEST.format(base_url=fake_openai.base_url))
    record(judged, monkeypatch).assert_outcomes(passed=1)
    assert len(fake_openai.requests) == 2
    assert len(interactions(judged.path / "cassettes" / "test_bot" / "test_bot.yaml")) == recorded
    replay(judged, monkeypatch).assert_outcomes(passed=1)
    assert len(fake_openai.requests) == 2 + served_in_replay


def test_llm_marker_without_the_judge_gets_a_cassette(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A test marked llm records and replays its own calls even when it does not use the judge."""
    judged.makepyfile(
        test_bot=BOT_TEST.format(base_url=fake_openai.base_url)
        .replace("def test_bot(judge):", "@pytest.mark.llm\ndef test_bot():")
        .replace('assert judge("Does it answer?", reply).value is True', 'assert reply == "true"')
    )
    record(judged, monkeypatch).assert_outcomes(passed=1)
    assert len(interactions(judged.path / "cassettes" / "test_bot" / "test_bot.yaml")) == 1
    replay(judged, monkeypatch).assert_outcomes(passed=1)
    assert len(fake_openai.requests) == 1


def test_a_test_without_judge_or_marker_does_not_import_vcr(judged: pytest.Pytester) -> None:
    """vcrpy loads on first judge use only."""
    judged.makepyfile(test_x="import sys\ndef test_it():\n    assert 'vcr' not in sys.modules\n")
    judged.runpytest_subprocess("-p", "no:recording").assert_outcomes(passed=1)


def test_works_alongside_pytest_recording(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pytest-recording's vcr marker and options live beside ours in one run."""
    judged.makepyfile(
        test_x="""
        import pytest

        @pytest.mark.vcr
        def test_theirs(vcr):
            assert vcr.record_mode == "none"

        def test_ours(judge):
            assert judge("q?").value is True
        """
    )
    result = record(judged, monkeypatch, "--record-mode=none")
    result.assert_outcomes(passed=2)
    assert (judged.path / "cassettes" / "test_x" / "test_ours.yaml").is_file()
    replay(judged, monkeypatch, "--record-mode=none").assert_outcomes(passed=2)
    help_text = judged.runpytest("--help").stdout.str()
    assert "--record-mode" in help_text and "--llm-record-mode" in help_text


def test_batches_and_async_verdicts_replay_and_say_so_per_call(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """judge.many (threads) and judge.acheck (AsyncOpenAI) go through the cassette; replayed is per call."""
    fake_openai.rule("same?", [Reply(verdict(0.9, 0.1)), Reply(verdict(0.2, 0.8))])
    judged.makepyfile(
        test_x="""
        import pytest

        @pytest.fixture
        def anyio_backend():
            return "asyncio"

        def test_many(judge):
            verdicts = judge.many([("same?", "a"), ("other?", "b"), ("same?", "a")], concurrency=3)
            print("MANY", [(round(v.p_true, 1), v.replayed) for v in verdicts])

        @pytest.mark.anyio
        async def test_async(judge):
            v = await judge.acheck("async?", "c")
            print("ASYNC", v.replayed)
        """
    )
    result = record(judged, monkeypatch)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*MANY [[](0.9, False), (0.9, False), (0.2, False)]*", "*ASYNC False*"])
    result = replay(judged, monkeypatch)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*MANY [[](0.9, True), (0.9, True), (0.2, True)]*", "*ASYNC True*"])
    assert len(interactions(judged.path / "cassettes" / "test_x" / "test_async.yaml")) == 1


def test_no_key_and_nothing_to_replay_says_to_set_the_key_or_commit_cassettes(
    pytester: pytest.Pytester,
) -> None:
    """Against OpenAI's own API with no key and no recording, the judge says what to do and calls nobody."""
    pytester.makepyfile("def test_it(judge):\n    judge('q?')\n")
    result = pytester.runpytest("--llm-record-mode=once")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E *LLMConfidenceError: no API key: the judge's request has no recording in cassettes/test_no_key*/test_it.yaml and OPENAI_API_KEY is not set.",
            "E *Set it to record the test: OPENAI_API_KEY=… pytest test_no_key*::test_it --llm-record-mode=once",
            "E *or commit the test's cassette so it replays offline.",
        ]
    )
    assert not (pytester.path / "cassettes").exists() or not list(
        (pytester.path / "cassettes").rglob("*.yaml")
    )


def test_a_replayable_recording_needs_no_key_even_against_openai(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recorded against an endpoint, the test replays with no key and OpenAI's default base URL."""
    judged.makepyfile("def test_it(judge):\n    assert judge('q?').replayed\n")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-recording-key-0123456789")
    judged.runpytest("--llm-record-mode=once").assert_outcomes(failed=1)  # live: not replayed
    monkeypatch.delenv("OPENAI_API_KEY")
    judged.makeini("[pytest]\nllm_model = fake-judge\n")
    judged.runpytest("--llm-record-mode=once").assert_outcomes(passed=1)


def test_a_recording_with_non_ascii_text_replays_with_no_key_in_once_mode(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A question with "café" recorded once replays keyless: the no-key check and the matcher agree."""
    judged.makepyfile(
        "def test_it(judge):\n    assert judge('Is the café open?', 'Oui, naïvement… 営業中').replayed\n"
    )
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-recording-key-0123456789")
    judged.runpytest("--llm-record-mode=once").assert_outcomes(failed=1)  # live: not replayed
    monkeypatch.delenv("OPENAI_API_KEY")
    judged.makeini("[pytest]\nllm_model = fake-judge\n")
    result = judged.runpytest("--llm-record-mode=once")
    result.assert_outcomes(passed=1)
    assert "no API key" not in result.stdout.str()


def test_a_miss_shows_the_test_line_and_no_frame_from_inside_openai_or_vcrpy(judged: pytest.Pytester) -> None:
    """The failure of a replay miss points at the test's own line, not at library internals."""
    judged.makepyfile("def test_it(judge):\n    judge('q?')\n")
    result = judged.runpytest("--llm-record-mode=none")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert ">       judge('q?')" in out
    assert "site-packages" not in out and "_cassette.py" not in out and "_transport.py" not in out
