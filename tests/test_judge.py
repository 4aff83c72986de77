"""The judge fixture, its verdicts, its assertions and its errors, through pytester."""

from __future__ import annotations

import pytest
from fake_openai import FakeOpenAI, Reply, completion, error, verdict


def test_judge_returns_the_confidence_of_the_verdict_token(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """judge() returns value, confidence, p_true/p_false and coverage from top_logprobs."""
    fake_openai.rule("capital", completion([("true", 0.90), (" True", 0.05), ("false", 0.03)]))
    judged.makepyfile(
        """
        import pytest
        def test_it(judge):
            v = judge("Is the capital right?", "Paris is the capital of France.")
            assert v.value is True
            assert v.confidence == pytest.approx(0.95)
            assert v.p_false == pytest.approx(0.03)
            assert v.coverage == pytest.approx(0.98)
            assert v.normalized == pytest.approx(0.95 / 0.98)
            assert v.token == "true"
            assert v.model == "fake-judge"
            assert v.replayed is False
            assert v.usage.completion_tokens == 1
            assert v.latency_s > 0
            assert v.threshold == 0.9
            assert v.confident_true(0.9)
            assert not v.confident_false(0.5)
        """
    )
    judged.runpytest().assert_outcomes(passed=1)


def test_judge_sends_one_deterministic_chat_completion_with_logprobs(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """temperature 0, logprobs, top_logprobs from config, a small max_tokens, the question and response."""
    judged.makepyfile(
        """
        def test_it(judge):
            judge("Is it polite?", "Thank you for asking!", context="A support chat.")
        """
    )
    judged.runpytest("--llm-top-logprobs=7").assert_outcomes(passed=1)
    (request,) = fake_openai.requests
    body = request.body
    assert body["temperature"] == 0
    assert body["logprobs"] is True
    assert body["top_logprobs"] == 7
    assert 1 <= body["max_tokens"] <= 8
    assert body["model"] == "fake-judge"
    assert body["messages"][0]["role"] == "system"
    assert "true or false" in body["messages"][0]["content"]
    user = body["messages"][-1]["content"]
    assert "Is it polite?" in user and "Thank you for asking!" in user and "A support chat." in user


def test_failed_check_shows_verdict_confidence_threshold_tokens_and_question(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """The assertion message leads with the facts and ends with the question."""
    fake_openai.rule("30-day", completion([("false", 0.55), ("true", 0.40), ("False", 0.03)]))
    judged.makepyfile(
        """
        def test_refund(judge):
            assert judge("Does the reply refuse, citing the 30-day return window?", "Sure!").confident_true(0.9)
        """
    )
    result = judged.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*assert <confident_true failed: false at 0.58, needed true >= 0.90; "
            "top 'false' 0.55 'true' 0.40 'False' 0.03; q='Does the reply refuse, citing the 30-day return window?'>*",
        ]
    )


def test_failed_test_has_an_llm_verdicts_section(judged: pytest.Pytester, fake_openai: FakeOpenAI) -> None:
    """Every verdict of a failed test is listed in full in its report."""
    fake_openai.rule("tone", completion([("false", 0.7), ("true", 0.3)]))
    judged.makepyfile(
        """
        def test_tone(judge):
            judge("Is the tone friendly?", "Whatever.")
            assert judge("Is the tone friendly?", "Go away.").confident_true()
        """
    )
    result = judged.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- llm verdicts -*",
            "question:   Is the tone friendly?",
            "response:   Whatever.",
            "verdict:    false at 0.7000*",
            "*response:   Go away.",
            "check:      confident_true failed: false at 0.70, needed true >= 0.90*",
            "top tokens: 'false' 0.7000, 'true' 0.3000",
        ]
    )


def test_undecided_verdict_fails_every_check_and_lists_the_tokens(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """No true/false among the alternatives: undecided, confidence 0, the tokens it wanted instead."""
    fake_openai.rule("weather", completion([("Maybe", 0.6), ("I", 0.3)]))
    judged.makepyfile(
        """
        def test_it(judge):
            v = judge("Is the weather nice?")
            assert v.value is None and v.confidence == 0.0
            assert v.confident_false(0.1)
        """
    )
    result = judged.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*<confident_false failed: undecided (no false/true among the top tokens), needed false >= 0.10; "
            "top 'Maybe' 0.60 'I' 0.30; q='Is the weather nice?'>*"
        ]
    )


def test_threshold_defaults_to_the_configured_one(judged: pytest.Pytester, fake_openai: FakeOpenAI) -> None:
    """confident_true() uses llm_threshold, and the llm marker overrides it per test."""
    fake_openai.default = Reply(verdict(0.85, 0.1))
    judged.makepyfile(
        """
        import pytest
        def test_default(judge):
            assert judge("q?").confident_true()

        @pytest.mark.llm(threshold=0.8)
        def test_marker(judge, judge_config):
            assert judge_config.threshold == 0.8
            assert judge("q?").confident_true()
        """
    )
    result = judged.runpytest("--llm-threshold=0.5")
    result.assert_outcomes(passed=2)
    result = judged.runpytest()
    result.assert_outcomes(passed=1, failed=1)


def test_marker_overrides_model_and_top_logprobs(judged: pytest.Pytester, fake_openai: FakeOpenAI) -> None:
    """@pytest.mark.llm(model=..., top_logprobs=...) reaches the request."""
    judged.makepyfile(
        """
        import pytest
        @pytest.mark.llm(model="other-model", top_logprobs=3)
        def test_it(judge):
            assert judge("q?").model == "other-model"
        """
    )
    judged.runpytest().assert_outcomes(passed=1)
    assert fake_openai.requests[0].body["model"] == "other-model"
    assert fake_openai.requests[0].body["top_logprobs"] == 3


def test_judge_call_overrides_and_rejects_unknown_arguments(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """judge(..., model=...) overrides one call; an unknown keyword names the valid ones."""
    judged.makepyfile(
        """
        import pytest
        def test_it(judge):
            assert judge("q?", model="m2", top_logprobs=2).model == "m2"
            with pytest.raises(TypeError, match="unknown argument 'temperature'; valid arguments are model"):
                judge("q?", temperature=1)
        """
    )
    judged.runpytest().assert_outcomes(passed=1)


def test_bad_marker_argument_is_a_usage_error(judged: pytest.Pytester) -> None:
    """An unknown or bad marker value says what is valid."""
    judged.makepyfile(
        """
        import pytest
        @pytest.mark.llm(threshold=2)
        def test_bad(judge):
            pass

        @pytest.mark.llm(colour="red")
        def test_unknown(judge):
            pass
        """
    )
    result = judged.runpytest()
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*@pytest.mark.llm: threshold: 2 is not valid; valid values are numbers with 0 <= value <= 1*",
            "*@pytest.mark.llm: unknown argument 'colour'; valid arguments are model, threshold*",
        ]
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--llm-threshold=high"],
            "llm_threshold: 'high' is not valid; valid values are numbers with 0 <= value <= 1",
        ),
        (
            ["--llm-record-mode=sometimes"],
            "llm_record_mode: 'sometimes' is not valid; valid values are none, once, new_episodes, all",
        ),
        (["--llm-summary=loud"], "llm_summary: 'loud' is not valid; valid values are off, short, full"),
        (
            ["--llm-top-logprobs=50"],
            "llm_top_logprobs: '50' is not valid; valid values are whole numbers from 0 to 20",
        ),
    ],
)
def test_bad_option_values_are_usage_errors_listing_valid_values(
    pytester: pytest.Pytester, args: list[str], message: str
) -> None:
    """A bad option value stops the run with the valid values."""
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{message}*"])


def test_bad_ini_and_environment_values_are_usage_errors(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ini file and the environment are validated too, naming where the value came from."""
    pytester.makeini("[pytest]\nllm_borderline = 2\n")
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*llm_borderline: '2' is not valid; valid values are numbers with 0 <= value < 1 (from the ini)*"]
    )
    pytester.makeini("[pytest]\n")
    monkeypatch.setenv("LLM_RECORD_MODE", "never")
    result = pytester.runpytest()
    result.stderr.fnmatch_lines(["*llm_record_mode: 'never' is not valid*(from the environment)*"])


def test_command_line_beats_environment_beats_ini(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Precedence: command line > environment > ini > default."""
    pytester.makeini("[pytest]\nllm_model = from-ini\nllm_record_mode = all\n")
    pytester.makepyfile(
        """
        import os
        def test_it(judge_config):
            print("MODEL", judge_config.model, "MODE", judge_config.record_mode)
        """
    )
    assert "MODEL from-ini MODE all" in pytester.runpytest("-s").stdout.str()
    monkeypatch.setenv("LLM_JUDGE_MODEL", "from-env")
    monkeypatch.setenv("LLM_RECORD_MODE", "none")
    assert "MODEL from-env MODE none" in pytester.runpytest("-s").stdout.str()
    out = pytester.runpytest("-s", "--llm-model=from-cli", "--llm-record-mode=new_episodes").stdout.str()
    assert "MODEL from-cli MODE new_episodes" in out


def test_record_mode_defaults_to_none_in_ci_and_once_elsewhere(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CI set: replay only; otherwise record once."""
    pytester.makepyfile(
        """
        def test_it(judge_config):
            print("MODE", judge_config.record_mode)
        """
    )
    assert "MODE once" in pytester.runpytest("-s").stdout.str()
    monkeypatch.setenv("CI", "true")
    assert "MODE none" in pytester.runpytest("-s").stdout.str()


def test_help_lists_every_option(pytester: pytest.Pytester) -> None:
    """pytest --help has an llmconfidence group with every flag, ini key and environment variable."""
    from pytest_llmconfidence._settings import OPTIONS

    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["*confident LLM judges (pytest-llmconfidence)*"])
    out = result.stdout.str()
    for option in OPTIONS:
        for name in (option.flag, option.ini, option.env):
            if name:
                assert name in out, name
    for flag in (
        "--llm-model",
        "--llm-base-url",
        "--llm-threshold",
        "--llm-top-logprobs",
        "--llm-record-mode",
        "--llm-cassette-dir",
        "--llm-report",
        "--llm-summary",
        "--llm-html",
    ):
        assert flag in out, flag
    for ini in (
        "llm_model",
        "llm_base_url",
        "llm_threshold",
        "llm_top_logprobs",
        "llm_record_mode",
        "llm_cassette_dir",
        "llm_record_scope",
        "llm_report",
        "llm_summary",
        "llm_html",
        "llm_borderline",
    ):
        assert ini in out, ini


def test_configuration_reference_documents_every_option() -> None:
    """docs/configuration.md names every flag, ini key and environment variable."""
    from pathlib import Path

    from pytest_llmconfidence._settings import OPTIONS

    doc = (Path(__file__).resolve().parent.parent / "docs" / "configuration.md").read_text()
    for option in OPTIONS:
        for name in (option.flag, option.ini, option.env):
            if name:
                assert f"`{name}`" in doc, name


def test_fixtures_and_marker_are_documented(pytester: pytest.Pytester) -> None:
    """pytest --fixtures and --markers show the judge, its client, its config and the llm marker."""
    fixtures = pytester.runpytest("--fixtures").stdout
    fixtures.fnmatch_lines(["judge -- *", "*A judge for this test*"])
    fixtures.fnmatch_lines(["judge_client*", "*openai.OpenAI client*"])
    fixtures.fnmatch_lines(["judge_config -- *", "*resolved, frozen configuration*"])
    pytester.runpytest("--markers").stdout.fnmatch_lines(["@pytest.mark.llm(model=*"])


def test_judge_client_can_be_overridden_in_a_conftest(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """A conftest's judge_client (any OpenAI-compatible client) is the one the judge uses."""
    judged.makeconftest(
        f"""
        import openai, pytest
        @pytest.fixture(scope="session")
        def judge_client():
            return openai.OpenAI(base_url="{fake_openai.base_url}", api_key="k", default_headers={{"x-mine": "1"}})
        """
    )
    judged.makepyfile("def test_it(judge):\n    judge('q?')\n")
    judged.runpytest("--llm-base-url=http://127.0.0.1:9/v1").assert_outcomes(passed=1)
    assert fake_openai.requests[0].headers["x-mine"] == "1"


@pytest.mark.parametrize(
    ("reply", "error_name", "message"),
    [
        (
            Reply(completion([("true", 0.9)], logprobs=False)),
            "NoLogprobsError",
            "returned no logprobs for model 'fake-judge'",
        ),
        (
            error(400, "logprobs is not supported with this model.", param="logprobs"),
            "NoLogprobsError",
            "The server said: logprobs is not supported with this model.",
        ),
        (
            error(403, "You are not allowed to request logprobs from this model"),
            "NoLogprobsError",
            "The server said: You are not allowed to request logprobs*",
        ),
        (Reply(completion([("true", 0.9)], choices=False)), "JudgeResponseError", "returned no choices"),
        (
            Reply(completion([("x", 1.0)], refusal="I can't help with that.")),
            "JudgeResponseError",
            "refused to judge: I can't help with that.",
        ),
        (
            Reply(completion(logprobs=False, finish_reason="content_filter")),
            "JudgeResponseError",
            "*finish_reason 'content_filter'*",
        ),
        (
            error(400, "max_tokens is too large"),
            "LLMConfidenceError",
            "*rejected the judge's request*HTTP 400*max_tokens is too large",
        ),
    ],
)
def test_endpoint_errors_say_what_went_wrong(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, reply: Reply, error_name: str, message: str
) -> None:
    """No logprobs, a rejected logprobs parameter, no choices, refusals and filters are clear errors."""
    fake_openai.default = reply
    judged.makepyfile("def test_it(judge):\n    judge('q?')\n")
    result = judged.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"E *pytest_llmconfidence.{error_name}: *"])
    result.stdout.fnmatch_lines([f"E *{message}*"])
    assert "site-packages/openai" not in result.stdout.str()


def test_server_errors_are_retried_by_the_client(judged: pytest.Pytester, fake_openai: FakeOpenAI) -> None:
    """A 503 then a verdict: the openai client's own retry gets the verdict."""
    fake_openai.rule("flaky", [error(503, "overloaded"), Reply(verdict(0.97, 0.01))])
    judged.makepyfile("def test_it(judge):\n    assert judge('flaky?').confident_true()\n")
    judged.runpytest().assert_outcomes(passed=1)
    assert len(fake_openai.requests) == 2


def test_unreachable_endpoint_says_so(pytester: pytest.Pytester) -> None:
    """A refused connection names the endpoint and the options to check."""
    pytester.makepyfile("def test_it(judge):\n    judge('q?')\n")
    result = pytester.runpytest("--llm-base-url=http://127.0.0.1:9/v1", "--llm-record-mode=all")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["E   *LLMConfidenceError: could not reach http://127.0.0.1:9/v1/*--llm-base-url*"]
    )


def test_judge_rejects_bad_arguments_before_calling(judged: pytest.Pytester, fake_openai: FakeOpenAI) -> None:
    """An empty question or a non-string response is a TypeError, and nothing is sent."""
    judged.makepyfile(
        """
        import pytest
        def test_it(judge):
            with pytest.raises(TypeError, match="non-empty string"):
                judge("")
            with pytest.raises(TypeError, match="response as a string or None, got int"):
                judge("q?", 3)
            with pytest.raises(TypeError, match="no truth value"):
                assert judge("q?")
        """
    )
    judged.runpytest().assert_outcomes(passed=1)
    assert len(fake_openai.requests) == 1


def test_verdict_hook_and_build_messages_hook(judged: pytest.Pytester, fake_openai: FakeOpenAI) -> None:
    """A conftest can replace the prompt and hear of every verdict."""
    judged.makeconftest(
        """
        def pytest_llmconfidence_build_messages(question, response, context, config):
            return [{"role": "user", "content": "CUSTOM " + question}]

        def pytest_llmconfidence_verdict(item, verdict):
            print("HEARD", item.name, verdict.value, round(verdict.confidence, 2))
        """
    )
    judged.makepyfile("def test_it(judge):\n    judge('q?')\n")
    result = judged.runpytest("-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*HEARD test_it True 0.95*"])
    assert fake_openai.requests[0].body["messages"] == [{"role": "user", "content": "CUSTOM q?"}]


def test_plugin_can_be_disabled(pytester: pytest.Pytester) -> None:
    """-p no:llmconfidence runs unrelated tests as usual."""
    pytester.makepyfile("def test_x(): pass")
    pytester.runpytest("-p", "no:llmconfidence").assert_outcomes(passed=1)


def test_azure_client_reaches_the_deployment_of_the_model(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """An AzureOpenAI judge_client sends the verdict request to /deployments/<model>/chat/completions."""
    endpoint = fake_openai.base_url.removesuffix("/v1")
    judged.makeconftest(
        f"""
        import openai, pytest
        @pytest.fixture(scope="session")
        def judge_client():
            client = openai.AzureOpenAI(azure_endpoint="{endpoint}", api_key="k", api_version="2024-10-21")
            yield client
            client.close()
        """
    )
    judged.makepyfile("def test_it(judge):\n    assert judge('q?', model='my-deployment').confident_true()\n")
    judged.runpytest().assert_outcomes(passed=1)
    (request,) = fake_openai.requests
    assert request.path.startswith(
        "/openai/deployments/my-deployment/chat/completions?api-version=2024-10-21"
    )


AZURE_CONFTEST = """
import openai, pytest

@pytest.fixture(scope="session")
def judge_client():
    client = openai.AzureOpenAI(
        azure_endpoint="http://127.0.0.1:9", api_key="a-key", api_version="2024-10-21", max_retries=0
    )
    yield client
    client.close()
"""


def test_an_unreachable_azure_client_is_pointed_at_its_fixture_not_at_llm_base_url(
    pytester: pytest.Pytester,
) -> None:
    """An overridden AzureOpenAI judge_client ignores --llm-base-url: the error names what does set it."""
    pytester.makeconftest(AZURE_CONFTEST)
    pytester.makepyfile("def test_it(judge):\n    judge('q?')\n")
    result = pytester.runpytest("--llm-record-mode=all")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E   *LLMConfidenceError: could not reach http://127.0.0.1:9/openai/*is the server running, "
            "and is the azure_endpoint your judge_client fixture builds its AzureOpenAI client with "
            "(AZURE_OPENAI_ENDPOINT; --llm-base-url has no effect on it) right?"
        ]
    )
