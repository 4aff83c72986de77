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

SSE = (
    b'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"bot","choices":[{"index":0,'
    b'"delta":{"content":"Hi"},"finish_reason":null}]}\n\ndata: [DONE]\n\n'
)

CAPITAL = completion([("Paris", 0.8), ("Lyon", 0.1)])  # geometric mean 0.8
WEATHER = completion([("Sun", 0.9), ("Rain", 0.05)], [("ny", 0.4), ("shine", 0.35)])  # sqrt(0.36) = 0.6
UNSURE = completion([("maybe", 0.3), ("yes", 0.25)])  # 0.3: below llm_watch_min 0.5
TOWER = responses_api([[("Eiffel", 0.9), ("Big", 0.05)], [(" Tower", 0.4), (" tower", 0.3)]])  # 0.6


def script(fake: FakeOpenAI) -> None:
    """The app's model: known logprobs per question; one answer without logprobs, one streamed."""
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
    assert llm_responses.skipped == {{"no logprobs": 1, "streamed": 1}}


def test_responses_api(llm_responses):
    client.responses.create(
        model="bot", input="tower?", include=["message.output_text.logprobs"], top_logprobs=5
    )
    assert llm_responses[-1].geometric_mean == pytest.approx(0.6)


def test_unsure(llm_responses):
    ask("unsure?")
"""


@pytest.fixture
def app(judged: pytest.Pytester, fake_openai: FakeOpenAI) -> pytest.Pytester:
    """A project whose code under test calls the scripted model with the openai client."""
    script(fake_openai)
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
            "7 app responses in 6 tests: 5 scored (0 replayed, 5 live), 2 skipped (no logprobs 1, streamed 1)",
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
    assert summary["scored"] == 5 and summary["skipped"] == {"no logprobs": 1, "streamed": 1}
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
