"""Watching the app's own LLM calls (--llm-watch): scored, recorded, replayed, summarised (through pytester)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from fake_openai import FakeOpenAI, Reply, completion, responses_api, verdict
from test_cassettes import record, replay

from pytest_llmconfidence.__main__ import main

SSE = (
    b'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"bot","choices":[{"index":0,'
    b'"delta":{"content":"Hi"},"finish_reason":null}]}\n\ndata: [DONE]\n\n'
)

CAPITAL = completion([("Paris", 0.8), ("Lyon", 0.1)])  # geometric mean 0.8
WEATHER = completion([("Sun", 0.9), ("Rain", 0.05)], [("ny", 0.4), ("shine", 0.35)])  # sqrt(0.36) = 0.6
UNSURE = completion([("maybe", 0.3), ("yes", 0.25)])  # 0.3: below llm_watch_min 0.5
TOWER = responses_api([[("Eiffel", 0.9), ("Big", 0.05)], [(" Tower", 0.4), (" tower", 0.3)]])  # 0.6


def script(fake: FakeOpenAI) -> None:
    """The app's model: known logprobs per question; one answer without logprobs, one streamed without."""
    fake.rule("capital", CAPITAL)
    fake.rule("weather", WEATHER)
    fake.rule("unsure", UNSURE)
    fake.rule("plain", completion([("Hello", 0.9)], logprobs=False))
    fake.rule("stream", Reply({}, raw=SSE, headers={"Content-Type": "text/event-stream"}))
    fake.rule("tower", TOWER)
    fake.rule("Is the answer", verdict(0.97, 0.02))


APP = """
import asyncio

import openai
import pytest

BASE = "{base_url}"
client = openai.OpenAI(base_url=BASE)  # built at import time, as apps do


def ask(question, **options):
    reply = client.chat.completions.create(
        model="bot", messages=[{{"role": "user", "content": question}}], logprobs=True, top_logprobs=5, **options
    )
    return reply.choices[0].message.content


def test_capital(llm_responses):
    assert ask("capital of France?") == "Paris"
    assert llm_responses[-1].at_least(0.75)


def test_weather_judged(judge, llm_responses):
    answer = ask("weather today?")
    assert judge("Is the answer about the weather?", answer).value is True
    assert len(llm_responses) == 1


def test_async_client(llm_responses):
    async def main():
        async with openai.AsyncOpenAI(base_url=BASE) as aclient:
            return await aclient.chat.completions.create(
                model="bot", messages=[{{"role": "user", "content": "capital?"}}], logprobs=True
            )

    asyncio.run(main())
    assert [round(r.geometric_mean, 6) for r in llm_responses] == [0.8]


def test_skipped(llm_responses):
    client.chat.completions.create(model="bot", messages=[{{"role": "user", "content": "plain"}}])
    for _ in client.chat.completions.create(
        model="bot", messages=[{{"role": "user", "content": "stream"}}], stream=True
    ):
        pass
    assert len(llm_responses) == 0
    assert llm_responses.skipped == {{"no logprobs": 2}}  # the stream asked for no logprobs either


def test_responses_api(llm_responses):
    # top_logprobs in the body: older openai releases (1.66 among them) lack the argument on responses.create
    client.responses.create(
        model="bot", input="tower?", include=["message.output_text.logprobs"], extra_body={{"top_logprobs": 5}}
    )
    assert llm_responses[-1].geometric_mean == pytest.approx(0.6)


def test_unsure(llm_responses):
    ask("unsure?")
"""


CLOSE_CLIENTS = """
def pytest_sessionfinish(session):
    # The runs are in-process: an app client left open warns (ResourceWarning) in a later test.
    for module in {item.module for item in session.items}:
        if hasattr(module, "client"):
            module.client.close()
"""


@pytest.fixture
def app(judged: pytest.Pytester, fake_openai: FakeOpenAI) -> pytest.Pytester:
    """A project whose code under test calls the scripted model with the openai client."""
    script(fake_openai)
    judged.makeconftest(CLOSE_CLIENTS)
    judged.makepyfile(test_app=APP.format(base_url=fake_openai.base_url))
    return judged


def section(result: pytest.RunResult) -> list[str]:
    """The app responses' lines of the summary, the replayed/live counts left out."""
    lines = result.stdout.lines
    start = next(i for i, line in enumerate(lines) if " app responses in " in line)
    end = next((i for i in range(start, len(lines)) if lines[i].startswith(("=", "- generated"))), len(lines))
    head = re.sub(r"\(\d+ replayed, \d+ live\)", "", lines[start])
    return [head, *lines[start + 1 : end]]


def app_report(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    data = json.loads(path.read_text())
    return data["summary"]["app_responses"], data["app_responses"]


def test_app_responses_are_scored_live_and_replayed_with_the_same_figures(
    app: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recorded live, then replayed offline in CI, the app's responses give the same figures."""
    live = record(app, monkeypatch, "--llm-watch", "--llm-report=live.json")
    live.assert_outcomes(passed=6)
    served = len(fake_openai.requests)
    replayed = replay(app, monkeypatch, "--llm-watch", "--llm-report=replayed.json")
    replayed.assert_outcomes(passed=6)
    assert len(fake_openai.requests) == served  # nothing reached the server
    assert section(live) == section(replayed)
    live_summary, live_records = app_report(app.path / "live.json")
    replay_summary, replay_records = app_report(app.path / "replayed.json")
    assert (live_summary["live"], live_summary["replayed"]) == (5, 0)
    assert (replay_summary["live"], replay_summary["replayed"]) == (0, 5)

    def figures(records: list[dict[str, Any]]) -> list[Any]:
        return [(r["test_id"], r.get("score"), r.get("skipped")) for r in records]

    assert figures(live_records) == figures(replay_records)


def test_summary_counts_scored_and_skipped_and_never_the_judge(
    app: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Six calls by the app (and one by the judge): five scored, two skipped by reason, judge not counted."""
    result = record(app, monkeypatch, "--llm-watch", "--llm-report=report.json")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(
        [
            "*= llm confidence summary =*",
            "1 verdict in 1 test*",
            "7 app responses in 6 tests: 5 scored (0 replayed, 5 live), 2 skipped (no logprobs 2)",
            "warning: 1 of 5 app responses unsure (geometric_mean below llm_watch_min 0.50)",
            "confidence (geometric_mean): min 0.30, median 0.60, mean 0.62",
            "app confidence histogram (geometric_mean):",
            "least sure app responses (5 of 5):",
            "  0.30  unsure  test_app.py::test_unsure  'maybe'",
            "        choice points: 'maybe' 0.30 vs 'yes' 0.25",
            "  0.60  sure    test_app.py::test_responses_api  'Eiffel Tower'",
            "        choice points: ' Tower' 0.40 vs ' tower' 0.30",
            "  0.60  sure    test_app.py::test_weather_judged  'Sunny'",
            "        choice points: 'ny' 0.40 vs 'shine' 0.35",
            "  0.80  sure    test_app.py::test_async_client  'Paris'",
        ]
    )
    summary, records = app_report(app.path / "report.json")
    assert summary["scored"] == 5 and summary["skipped"] == {"no logprobs": 2}
    assert summary["confidence"]["min"] == pytest.approx(0.3)
    assert summary["confidence"]["median"] == pytest.approx(0.6)
    assert summary["confidence"]["mean"] == pytest.approx((0.8 + 0.6 + 0.8 + 0.6 + 0.3) / 5)
    assert summary["unsure"] == 1 and summary["by"] == "geometric_mean"
    weather = next(r for r in records if r["test_id"].endswith("test_weather_judged"))
    assert weather["geometric_mean"] == pytest.approx(math.sqrt(0.9 * 0.4))
    assert weather["choice_points"] == [
        {
            "index": 1,
            "token": "ny",
            "probability": pytest.approx(0.4),
            "runner_up": "shine",
            "runner_up_probability": pytest.approx(0.35),
        }
    ]
    capital = next(r for r in records if r["test_id"].endswith("test_capital"))
    assert capital["checks"][0]["passed"] is True
    assert capital["api"] == "chat.completions" and capital["route"] == "POST /v1/chat/completions"
    tower = next(r for r in records if r["test_id"].endswith("test_responses_api"))
    assert tower["api"] == "responses"


CHECKS = """
import openai

client = openai.OpenAI(base_url="{base_url}")


def ask(question):
    client.chat.completions.create(
        model="bot", messages=[{{"role": "user", "content": question}}], logprobs=True, top_logprobs=5
    )


def test_sure_enough(llm_responses):
    ask("weather today?")
    assert llm_responses[-1].at_least(0.9)


def test_nothing_scored(llm_responses):
    client.chat.completions.create(model="bot", messages=[{{"role": "user", "content": "plain"}}])
    assert llm_responses[-1].at_least(0.5)
"""


def test_llm_responses_checks_fail_with_the_facts_and_say_why_nothing_was_scored(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed at_least names the aggregate, the threshold and the weakest token; an empty list says why."""
    script(fake_openai)
    judged.makeconftest(CLOSE_CLIENTS)
    judged.makepyfile(test_checks=CHECKS.format(base_url=fake_openai.base_url))
    result = record(judged, monkeypatch, "--llm-watch")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "E *assert <at_least failed: geometric_mean 0.60, needed >= 0.90 over 2 tokens; weakest 'ny' 0.40*",
            "E *IndexError: llm_responses?-1?: the code under test has received 0 scored response(s) so far "
            "(1 skipped: no logprobs 1)*logprobs=True, top_logprobs=5*",
        ]
    )
    result.stdout.fnmatch_lines(["*- llm verdicts -*", "app response #1 (POST /v1/chat/completions, *live):"])


def test_strict_fails_a_test_that_received_an_unsure_answer_naming_it(
    app: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--llm-watch-strict fails the test with the unsure answer's score and choice points; others pass."""
    result = record(app, monkeypatch, "--llm-watch", "--llm-watch-strict")
    result.assert_outcomes(passed=5, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_unsure _*",
            "llm_watch_strict: the code under test received 1 unsure response(s), geometric_mean below "
            "llm_watch_min 0.50:",
            "  app response #1 (POST /v1/chat/completions, model bot, live): geometric_mean 0.30 "
            "(mean 0.30, min 0.30 at 'maybe'); text='maybe'",
            "    choice points: 'maybe' 0.30 vs 'yes' 0.25",
            "Make the app's answer surer*",
            "FAILED test_app.py::test_unsure*",
        ]
    )


def test_llm_watch_min_and_by_decide_what_is_unsure(
    app: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """llm_watch_min 0.7 with llm_watch_by = min flags every answer whose weakest token is below 0.7."""
    result = record(app, monkeypatch, "--llm-watch", "--llm-watch-min=0.7", "--llm-watch-by=min")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(
        [
            "warning: 3 of 5 app responses unsure (min below llm_watch_min 0.70)",
            "confidence (min): min 0.30, median 0.40, mean 0.54",
        ]
    )


def test_xdist_gives_the_same_summary_as_a_serial_run(
    app: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Records travel on the reports, so two workers add up to the serial run's section."""
    record(app, monkeypatch, "--llm-watch").assert_outcomes(passed=6)  # both runs replay the same
    serial = replay(app, monkeypatch, "--llm-watch", "-p", "no:xdist")
    parallel = replay(app, monkeypatch, "--llm-watch", "-n", "2")
    parallel.assert_outcomes(passed=6)
    assert section(serial) == section(parallel)
    assert len(section(serial)) > 20


def test_off_by_default_nothing_is_watched_and_the_fixture_says_how_to_turn_it_on(
    app: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --llm-watch there is no section and no record; llm_responses errors naming --llm-watch."""
    judged_only = APP.split("def test_capital")[0].replace("import pytest\n", "")
    app.makepyfile(
        test_judged=judged_only.format(base_url=fake_openai.base_url)
        + "def test_it(judge):\n    assert judge('Is the answer right?', ask('capital?')).value is True\n"
    )
    result = record(app, monkeypatch, "--llm-report=report.json")
    result.assert_outcomes(passed=1, errors=6)
    assert "app responses" not in result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*the llm_responses fixture lists the app's responses only while they are "
            "watched: run with --llm-watch*"
        ]
    )
    data = json.loads((app.path / "report.json").read_text())
    assert "app_responses" not in data and "app_responses" not in data["summary"]
    assert data["summary"]["verdicts"] == 1


def test_the_llm_marker_watches_one_test(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch
) -> None:
    """@pytest.mark.llm(watch=True) watches that test alone."""
    script(fake_openai)
    judged.makeconftest(CLOSE_CLIENTS)
    judged.makepyfile(
        test_marked=CHECKS.format(base_url=fake_openai.base_url)
        .replace(
            "def test_sure_enough(llm_responses):",
            "@pytest.mark.llm(watch=True, watch_min=0.7)\ndef test_sure_enough(llm_responses):",
        )
        .replace("import openai", "import openai\nimport pytest")
    )
    result = record(judged, monkeypatch, "-k", "sure_enough")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "1 app response in 1 test: 1 scored (0 replayed, 1 live)",
            "warning: 1 of 1 app response unsure*0.70)",
        ]
    )


def judge_scope(pytester: pytest.Pytester, fake: FakeOpenAI, *lines: str) -> None:
    """An ini file whose cassettes hold the judge's calls only."""
    extra = "".join(f"{line}\n" for line in lines)
    pytester.makefile(
        ".ini", tox=f"[pytest]\nllm_base_url = {fake.base_url}\nllm_record_scope = judge\n{extra}"
    )


def test_judge_scope_warns_that_watching_needs_the_test_scope(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """With llm_record_scope = judge the app's calls are not intercepted: the run says so once."""
    judge_scope(judged, fake_openai, "llm_watch = true")
    script(fake_openai)
    judged.makepyfile(
        "def test_one(judge):\n    assert judge('Is the answer right?', 'yes').value\n\n"
        "def test_two(judge):\n    assert judge('Is the answer right?', 'yes').value\n"
    )
    result = judged.runpytest()
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            '*PytestConfigWarning: pytest-llmconfidence: --llm-watch (llm_watch)*with "judge" nothing is watched.'
        ]
    )
    assert result.stdout.str().count("nothing is watched") == 1
    assert "app response" not in result.stdout.str()


def test_watch_options_are_documented_and_validated(pytester: pytest.Pytester) -> None:
    """Every watch option is in --help; a bad llm_watch_by lists the valid values."""
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(
        [
            "*--llm-watch *score every chat completion*",
            "*--llm-watch-by=*",
            "*--llm-watch-min=*",
            "*--llm-watch-strict*",
        ]
    )
    result = pytester.runpytest("--llm-watch-by=median")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*llm_watch_by: 'median' is not valid; valid values are geometric_mean, mean, min (from the command line)"
        ]
    )


def test_html_and_github_summary_get_the_app_section_and_user_scores_stay_apart(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The HTML report and the step summary list the least sure answers; response_confidence() on the
    same answer still counts once as the user's response, and app answers change no other figure."""
    script(fake_openai)
    judged.makepyfile(
        test_both=f"""
        import openai
        from pytest_llmconfidence import response_confidence

        def test_it(llm_responses):
            with openai.OpenAI(base_url="{fake_openai.base_url}") as client:
                reply = client.chat.completions.create(
                    model="bot", messages=[{{"role": "user", "content": "unsure?"}}], logprobs=True
                )
            assert response_confidence(reply).geometric_mean == llm_responses[0].geometric_mean
        """
    )
    summary_file = judged.path / "step.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary_file))
    result = record(judged, monkeypatch, "--llm-watch", "--llm-html=r.html", "--llm-report=r.json")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["1 response scored: 0 of 0 checks failed; 0 borderline", "1 app response in 1 test*"]
    )
    data = json.loads((judged.path / "r.json").read_text())
    assert data["summary"]["responses"] == 1 and len(data["responses"]) == 1
    assert data["summary"]["app_responses"]["scored"] == 1
    page = (judged.path / "r.html").read_text()
    assert '<section id="app-responses">' in page and "test_both.py::test_it" in page
    assert "&#x27;maybe&#x27; 0.30 vs &#x27;yes&#x27; 0.25" in page
    step = summary_file.read_text()
    assert "### App responses (--llm-watch)" in step
    assert "| 0.30 | unsure | test_both.py::test_it |" in step


LISTLIKE = """
import openai

client = openai.OpenAI(base_url="{base_url}")


def ask(question):
    client.chat.completions.create(
        model="bot", messages=[{{"role": "user", "content": question}}], logprobs=True, top_logprobs=5
    )


def test_behaves_like_a_list(llm_responses):
    assert llm_responses == [] and [] == llm_responses and not llm_responses and len(llm_responses) == 0
    ask("capital?")
    client.chat.completions.create(model="bot", messages=[{{"role": "user", "content": "plain"}}])
    ask("weather?")
    first, second = llm_responses
    assert llm_responses == [first, second] and llm_responses == (first, second)
    assert llm_responses != [second, first] and llm_responses != [first]
    assert bool(llm_responses) and len(llm_responses) == 2
    assert llm_responses[0] is first and llm_responses[-1] is second
    assert llm_responses[1:] == [second] and list(llm_responses) == [first, second]
    assert [round(r.geometric_mean, 6) for r in llm_responses] == [0.8, 0.6]
    assert llm_responses.skipped == {{"no logprobs": 1}}


def test_a_wrong_list_shows_the_difference(llm_responses):
    ask("capital?")
    assert llm_responses == []
"""


def test_llm_responses_compares_indexes_slices_and_iterates_like_a_list(
    judged: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """llm_responses == [] holds before any scored call; it then equals the list of what was scored."""
    script(fake_openai)
    judged.makeconftest(CLOSE_CLIENTS)
    judged.makepyfile(test_listlike=LISTLIKE.format(base_url=fake_openai.base_url))
    result = record(judged, monkeypatch, "--llm-watch")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["E *assert <llm_responses: 1 scored> == []", "E *Left contains one more item*"]
    )


def test_merging_shard_reports_keeps_the_app_responses(
    app: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pytest-llmconfidence merge joins the app responses of its shards and recomputes their figures."""
    record(app, monkeypatch, "--llm-watch", "-k", "capital or weather", "--llm-report=a.json")
    record(app, monkeypatch, "--llm-watch", "-k", "unsure", "--llm-report=b.json")
    assert (
        main(["merge", str(app.path / "a.json"), str(app.path / "b.json"), "-o", str(app.path / "all.json")])
        == 0
    )
    summary, records = app_report(app.path / "all.json")
    assert [r["test_id"].split("::")[1] for r in records] == [
        "test_capital",
        "test_unsure",
        "test_weather_judged",
    ]
    assert summary["scored"] == 3 and summary["unsure"] == 1
    assert summary["confidence"]["min"] == pytest.approx(0.3)


def test_llm_responses_fixture_is_documented(pytester: pytest.Pytester) -> None:
    """pytest --fixtures shows llm_responses and what it needs."""
    pytester.runpytest("--fixtures").stdout.fnmatch_lines(["llm_responses -- *", "*needs --llm-watch*"])


def _stored(body: bytes, content_type: str = "application/json", **headers: str) -> dict[str, Any]:
    """A response as the cassette holds it."""
    return {
        "status": {"code": 200, "message": "OK"},
        "headers": {"Content-Type": [content_type], **{k: [v] for k, v in headers.items()}},
        "body": {"string": body},
    }


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (_stored(b'{"choices": [ '), "unreadable"),
        (_stored(b'{"model": "\xff\xfe"}'), "unreadable"),
        (_stored(b"[1, 2]"), "unreadable"),
        (_stored(b"<html>Sign in</html>", "text/html"), "unreadable"),
        (_stored(json.dumps({"model": "m", "choices": {"0": {}}}).encode()), "unreadable"),
        (
            _stored(json.dumps({"model": "m", "choices": [{"logprobs": {"content": "x"}}]}).encode()),
            "unreadable",
        ),
        (_stored(json.dumps({"output": [{"type": "message", "content": 3}]}).encode()), "unreadable"),
        (_stored(json.dumps(completion([("Hi", 0.9)], logprobs=False)).encode()), "no logprobs"),
        (_stored(SSE, "text/event-stream"), "no logprobs"),
        (_stored(SSE, "application/octet-stream"), "no logprobs"),
        (_stored(b"data: [1, 2]\n\n", "text/event-stream"), "unreadable"),
    ],
    ids=[
        "truncated",
        "not-utf8",
        "json-list",
        "html",
        "choices-dict",
        "content-text",
        "output-content-int",
        "no-logprobs",
        "sse",
        "sse-unlabelled",
        "sse-not-objects",
    ],
)
def test_a_body_that_cannot_be_scored_is_skipped_by_reason_never_an_error(
    response: dict[str, Any], reason: str
) -> None:
    """The watcher never raises into the app's call: what it cannot score it counts as skipped."""
    from pytest_llmconfidence._report.records import TestRecords
    from pytest_llmconfidence._watch import Watcher

    class Request:
        method, path = "POST", "/v1/chat/completions"

    watcher = Watcher(TestRecords("t.py::test_it"))
    watcher(Request(), response, False)
    assert watcher.skipped() == {reason: 1} and watcher.scored() == []
    assert watcher.records.take_new()[0]["skipped"] == reason


def test_a_gzipped_response_is_scored_and_other_routes_and_statuses_are_ignored() -> None:
    """A compressed body is read decompressed; GET, /embeddings and a 429 are not answers to score."""
    import gzip

    from pytest_llmconfidence._report.records import TestRecords
    from pytest_llmconfidence._watch import Watcher

    class Request:
        def __init__(self, method: str, path: str) -> None:
            self.method, self.path = method, path

    watcher = Watcher(TestRecords("t.py::test_it"))
    body = json.dumps(CAPITAL).encode()
    watcher(
        Request("POST", "/v1/chat/completions"),
        _stored(gzip.compress(body), **{"Content-Encoding": "gzip"}),
        True,
    )
    watcher(Request("GET", "/v1/responses/resp_1"), _stored(body), True)
    watcher(Request("POST", "/v1/embeddings"), _stored(body), True)
    watcher(Request("POST", "/v1/chat/completions"), {**_stored(body), "status": {"code": 429}}, True)
    assert [round(r.geometric_mean, 6) for r in watcher.scored()] == [0.8]
    assert watcher.skipped() == {}


def test_a_marker_asking_to_watch_in_judge_scope_warns_and_the_fixture_says_why(
    judged: pytest.Pytester, fake_openai: FakeOpenAI
) -> None:
    """@pytest.mark.llm(watch=True) under llm_record_scope = judge warns; llm_responses names the scope."""
    judge_scope(judged, fake_openai)
    judged.makepyfile(
        "import pytest\n\n@pytest.mark.llm(watch=True)\ndef test_it(llm_responses):\n    pass\n"
    )
    result = judged.runpytest("-W", "default::pytest.PytestWarning")  # not an error, as in this suite
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            '*llm_record_scope = "test"*',
            "*PytestWarning: pytest-llmconfidence: --llm-watch (llm_watch)*nothing is watched.",
        ]
    )
