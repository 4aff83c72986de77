"""In -v, a live judge call that is slow to answer says in the terminal what it waits for."""

from __future__ import annotations

import threading

import pytest
from fake_openai import FakeOpenAI, Reply, verdict

from pytest_llmconfidence._plugin.progress import Progress

SLOW = 0.5
"""How long the endpoint takes to answer: well past the delay of 0 the tests configure."""

CALLS = {
    "judge": 'judge("Is it slow?", "yes")',
    "score": 'judge.score("Is it slow?", "yes", scale=("true", "false"))',
    "choose": 'judge.choose("Is it slow?", "yes", options=("true", "false"))',
    "ask": 'judge.ask("Is it slow?")',
    "acheck": 'asyncio.run(judge.acheck("Is it slow?", "yes"))',
    "many": 'judge.many([("Is it slow?", "yes"), ("Is it slow?", "no"), ("Is it slow?", "maybe")])',
    "ascore": 'asyncio.run(judge.ascore("Is it slow?", "yes", scale=("true", "false")))',
    "choose_many": 'judge.choose_many([("Is it slow?", "yes"), ("Is it slow?", "no")], options=("true", "false"))',
}


def _slow_suite(judged: pytest.Pytester, fake_openai: FakeOpenAI, call: str = CALLS["judge"]) -> None:
    fake_openai.rule("slow", Reply(verdict(0.9, 0.1), delay_s=SLOW))
    ini = judged.path / "tox.ini"
    if "llm_progress_delay" not in ini.read_text():
        ini.write_text(f"{ini.read_text()}\nllm_progress_delay = 0\n")
    judged.makepyfile(
        test_slow=f"""
        import asyncio
        import threading

        def test_it(judge):
            {call}
            assert not [t for t in threading.enumerate() if t.name == "llmconfidence-progress"]
        """
    )


def test_verbose_run_names_the_model_endpoint_and_test_a_slow_live_call_waits_for(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """Every kind of judge call that goes to the endpoint gets one line, and leaves no thread running."""
    _slow_suite(judged, fake_openai)
    judged.makepyfile(
        test_kinds="import asyncio, threading\n"
        + "".join(
            f"def test_{kind}(judge):\n    {call}\n"
            '    assert not [t for t in threading.enumerate() if t.name == "llmconfidence-progress"]\n'
            for kind, call in CALLS.items()
        )
    )
    result = judged.runpytest("-v", "-p", "no:xdist", "test_kinds.py")
    result.assert_outcomes(passed=len(CALLS))
    where = f"fake-judge at {fake_openai.base_url}"
    for kind in CALLS:
        result.stdout.fnmatch_lines(
            [
                f"test_kinds.py::test_{kind} ",
                f"llm: waiting for {where} (test_kinds.py::test_{kind}, * s)... answered in * s",
                "PASSED*",
            ]
        )
    assert result.stdout.str().count("llm: waiting") == len(CALLS)


@pytest.mark.parametrize("verbosity", [[], ["-q"]])
def test_default_and_quiet_runs_print_nothing_while_waiting(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, verbosity: list[str]
) -> None:
    """Without -v a slow live call prints nothing."""
    _slow_suite(judged, fake_openai)
    result = judged.runpytest(*verbosity, "-p", "no:xdist")
    result.assert_outcomes(passed=1)
    assert "llm: waiting" not in result.stdout.str()


def test_replayed_calls_never_print(judged: pytest.Pytester, fake_openai: FakeOpenAI) -> None:
    """A call a cassette answers is not waited for, so it prints nothing even in -v."""
    _slow_suite(judged, fake_openai)
    judged.runpytest("-p", "no:xdist").assert_outcomes(passed=1)
    result = judged.runpytest("-v", "-p", "no:xdist", "--llm-record-mode=once")
    result.assert_outcomes(passed=1)
    assert "llm: waiting" not in result.stdout.str()


def test_a_request_new_to_its_cassette_prints_in_new_episodes_mode(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """new_episodes replays what it has and waits for the rest: only the new request is announced."""
    _slow_suite(judged, fake_openai)
    judged.runpytest("-p", "no:xdist").assert_outcomes(passed=1)
    _slow_suite(judged, fake_openai, 'judge("Is it slow?", "yes"); judge("Is it slow, really?", "yes")')
    result = judged.runpytest("-v", "-p", "no:xdist", "--llm-record-mode=new_episodes")
    result.assert_outcomes(passed=1)
    assert result.stdout.str().count("llm: waiting") == 1


def test_xdist_workers_print_nothing(judged: pytest.Pytester, fake_openai: FakeOpenAI) -> None:
    """Under pytest-xdist the workers have no terminal: no line, and the run is unchanged."""
    _slow_suite(judged, fake_openai)
    result = judged.runpytest("-v", "-n", "2", "-p", "xdist")
    result.assert_outcomes(passed=1)
    assert "llm: waiting" not in result.stdout.str()


def test_off_turns_the_line_off(judged: pytest.Pytester, fake_openai: FakeOpenAI) -> None:
    """llm_progress_delay = off: -v prints no waiting line."""
    _slow_suite(judged, fake_openai)
    result = judged.runpytest("-v", "-p", "no:xdist", "-o", "llm_progress_delay=off")
    result.assert_outcomes(passed=1)
    assert "llm: waiting" not in result.stdout.str()


def test_a_bad_delay_is_a_usage_error_listing_the_valid_values(judged: pytest.Pytester) -> None:
    """llm_progress_delay takes seconds >= 0 or off."""
    judged.makepyfile("def test_it(): pass")
    result = judged.runpytest("-o", "llm_progress_delay=soon")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*llm_progress_delay: 'soon' is not valid; valid values are a number*off*"])


def test_progress_announces_a_wait_once_answers_it_and_stops_its_timer() -> None:
    """Waits for the same model and endpoint at once share a line; no timer outlives them."""
    pieces: list[str] = []
    written = threading.Event()

    def write(text: str) -> None:
        pieces.append(text)
        written.set()

    progress = Progress(write, delay=0)
    where = ("m", "http://h/v1/")
    with progress.waiting(*where, nodeid="t.py::a"), progress.waiting(*where, nodeid="t.py::a"):
        assert written.wait(5)
    text = "".join(pieces)
    assert text.startswith("\nllm: waiting for m at http://h/v1 (t.py::a, ")
    assert text.count("llm: waiting") == 1 and " s)... answered in " in text and text.endswith(" s\n")
    assert not [t for t in threading.enumerate() if t.name == "llmconfidence-progress"]


def test_a_call_that_fails_ends_its_line_without_an_answer() -> None:
    """An error ends the waiting line; pytest shows the error itself."""
    pieces: list[str] = []
    written = threading.Event()
    progress = Progress(lambda text: (pieces.append(text), written.set()), delay=0)
    with pytest.raises(ConnectionError), progress.waiting("m", "http://h/v1"):
        assert written.wait(5)
        raise ConnectionError
    assert "".join(pieces).endswith("...\n")
