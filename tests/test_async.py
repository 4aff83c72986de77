"""await judge.acheck(): the judge without blocking the event loop, under pytest-asyncio and anyio."""

from __future__ import annotations

import asyncio
from typing import Any

import openai  # noqa: F401  (loaded once here, not again in every in-process inner run)
import pytest
from fake_openai import FakeOpenAI, Reply, completion, verdict
from records_seen import RecordsSeen

from pytest_llmconfidence import Judge, JudgeConfig, NoLogprobsError, Transport
from pytest_llmconfidence._judge.transport import build_client

ASYNC_TESTS = """
    import asyncio
    import pytest

    {mark}
    async def test_one(judge):
        v = await judge.acheck("Is the capital right?", "Paris is the capital of France.")
        assert v.value is True
        assert round(v.confidence, 2) == 0.95
        assert v.response == "Paris is the capital of France."
        assert v.confident_true(0.9)
        from pytest_llmconfidence import response_confidence
        entry = {{"token": "Hi", "logprob": -0.5, "top_logprobs": []}}
        response_confidence({{"choices": [{{"message": {{"content": "Hi"}}, "logprobs": {{"content": [entry]}}}}]}})

    {mark}
    async def test_concurrent_in_another_loop(judge):
        verdicts = await asyncio.gather(*(judge.acheck(f"slow {{n}}?") for n in range(3)))
        assert [v.question for v in verdicts] == ["slow 0?", "slow 1?", "slow 2?"]
        print("CLIENT", type(judge.async_client()).__name__)
    """


ANYIO_ON_ASYNCIO = """
    import pytest
    @pytest.fixture
    def anyio_backend():
        return "asyncio"
    """


def _run_async(
    judged: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, runner: str, seen: RecordsSeen | None = None
) -> Any:
    if runner == "asyncio":
        monkeypatch.setenv("PYTEST_ADDOPTS", "-p asyncio")
        ini = judged.path.joinpath("tox.ini").read_text().rstrip("\n")
        judged.makeini(ini + "\nasyncio_default_fixture_loop_scope = function\nasyncio_mode = strict\n")
        mark = "@pytest.mark.asyncio"
    else:
        mark = "@pytest.mark.anyio"
        judged.makeconftest(
            """
            import pytest
            @pytest.fixture
            def anyio_backend():
                return "asyncio"
            """
        )
    judged.makepyfile(ASYNC_TESTS.format(mark=mark))
    return judged.inline_run("-s", plugins=[seen] if seen is not None else [])


@pytest.mark.parametrize("runner", ["asyncio", "anyio"])
def test_acheck_gives_the_same_verdict_under_pytest_asyncio_and_anyio(
    judged: pytest.Pytester,
    fake_openai: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    runner: str,
) -> None:
    """acheck works in every test's own event loop, with one AsyncOpenAI client for the session."""
    fake_openai.rule("capital", completion([("true", 0.90), (" True", 0.05), ("false", 0.03)]))
    fake_openai.rule("slow", Reply(verdict(0.9, 0.1), delay_s=0.2))
    fake_openai.max_in_flight = 0
    seen = RecordsSeen()
    reprec = _run_async(judged, monkeypatch, runner, seen)
    reprec.assertoutcome(passed=2)
    assert "CLIENT AsyncOpenAI" in capfd.readouterr().out
    assert fake_openai.max_in_flight == 3
    records = seen.records
    verdicts = [r for r in records if r["kind"] == "verdict"]
    assert sorted(r["question"] for r in verdicts) == [
        "Is the capital right?",
        "slow 0?",
        "slow 1?",
        "slow 2?",
    ]
    (response,) = [r for r in records if r["kind"] == "response"]
    assert response["test_id"].endswith("::test_one") and response["text"] == "Hi"
    assert {r.headers.get("x-stainless-async") for r in fake_openai.requests} == {"async:asyncio"}


def test_acheck_uses_the_prompt_and_verdict_hooks(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """build_messages makes the async prompt; the verdict hook hears every async verdict."""
    judged.makeconftest(
        """
        import pytest
        @pytest.fixture
        def anyio_backend():
            return "asyncio"

        def pytest_llmconfidence_build_messages(question, response, context, config):
            return [{"role": "user", "content": "ASYNC " + question}]

        def pytest_llmconfidence_verdict(item, verdict):
            print("HEARD", item.name, verdict.question)
        """
    )
    judged.makepyfile(
        """
        import pytest
        @pytest.mark.anyio
        async def test_it(judge):
            await judge.acheck("q?", model="async-model")
        """
    )
    result = judged.runpytest("-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*HEARD test_it q?*"])
    (request,) = fake_openai.requests
    assert request.body["messages"] == [{"role": "user", "content": "ASYNC q?"}]
    assert request.body["model"] == "async-model"


def test_acheck_replays_from_the_cassette(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An async verdict is recorded once and replayed offline, like a sync one."""
    judged.makeconftest(ANYIO_ON_ASYNCIO)
    judged.makepyfile(
        """
        import pytest
        @pytest.mark.anyio
        async def test_it(judge):
            v = await judge.acheck("Is it recorded?", "yes")
            print("GOT", v.value, round(v.confidence, 2), v.replayed)
        """
    )
    judged.runpytest("-s", "--llm-record-mode=once").stdout.fnmatch_lines(["*GOT True 0.95 False*"])
    judged.runpytest("-s", "--llm-record-mode=none").stdout.fnmatch_lines(["*GOT True 0.95 True*"])
    assert len(fake_openai.requests) == 1


def test_acheck_errors_are_the_judges_errors(judged: pytest.Pytester, fake_openai: FakeOpenAI) -> None:
    """No logprobs from the async client: the same NoLogprobsError as judge()."""
    fake_openai.default = Reply(completion([("true", 0.9)], logprobs=False))
    judged.makeconftest(ANYIO_ON_ASYNCIO)
    judged.makepyfile(
        """
        import pytest
        @pytest.mark.anyio
        async def test_it(judge):
            await judge.acheck("q?")
        """
    )
    result = judged.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["E *NoLogprobsError: *returned no logprobs for model 'fake-judge'*"])


def test_judge_outside_pytest_builds_its_own_async_client(fake_openai: FakeOpenAI) -> None:
    """A bare Judge makes an AsyncOpenAI from its client on first acheck, and maps errors the same way."""
    config = JudgeConfig(base_url=fake_openai.base_url, model="fake-judge")
    judge = Judge(config, Transport(build_client(fake_openai.base_url)))

    async def main() -> Any:
        try:
            first = await judge.acheck("q?")
            fake_openai.default = Reply(completion([("true", 0.9)], logprobs=False))
            with pytest.raises(NoLogprobsError):
                await judge.acheck("q?")
            return first
        finally:
            await judge.transport.async_client().close()

    assert asyncio.run(main()).confidence == pytest.approx(0.95)
    assert len(fake_openai.requests) == 2


def test_async_client_fixture_is_documented(pytester: pytest.Pytester) -> None:
    """pytest --fixtures lists judge_async_client with what it is."""
    result = pytester.runpytest("--fixtures")
    result.stdout.fnmatch_lines(["judge_async_client*", "*openai.AsyncOpenAI client of judge.acheck*"])


def test_async_client_can_be_overridden_in_a_conftest(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """A conftest's judge_async_client (a plain session fixture) is the client acheck uses."""
    judged.makeconftest(
        f"""
        import asyncio, openai, pytest

        @pytest.fixture
        def anyio_backend():
            return "asyncio"

        @pytest.fixture(scope="session")
        def judge_async_client():
            # one client for every test's event loop: keep no connection alive between requests
            http = openai.DefaultAsyncHttpxClient(limits=openai.DEFAULT_CONNECTION_LIMITS.__class__(max_keepalive_connections=0))
            client = openai.AsyncOpenAI(
                base_url="{fake_openai.base_url}", api_key="k", default_headers={{"x-mine": "1"}}, http_client=http
            )
            yield client
            asyncio.run(client.close())
        """
    )
    judged.makepyfile(
        """
        import pytest
        @pytest.mark.anyio
        async def test_it(judge):
            assert (await judge.acheck("q?")).value is True
        """
    )
    judged.runpytest("--llm-base-url=http://127.0.0.1:9/v1").assert_outcomes(passed=1)
    assert fake_openai.requests[0].headers["x-mine"] == "1"
