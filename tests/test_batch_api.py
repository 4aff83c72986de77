"""Recording through the Batch API (--llm-record-mode=batch), against a local fake of Files and Batches."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import yaml
from fake_batches import FakeBatches
from fake_openai import FakeOpenAI, completion, verdict

SUITE = """
import pytest

@pytest.mark.parametrize("i", range(4))
def test_golden(judge, i):
    assert judge(f"Is answer {i} right?", "Yes.").confident_true(0.9)

def test_recorded(judge):
    assert judge("Is the sky blue?", "Blue.").confident_true(0.9)
"""


@pytest.fixture
def batches(fake_openai: FakeOpenAI) -> Iterator[FakeBatches]:
    found = FakeBatches(fake_openai)
    yield found
    fake_openai.routes = None


@pytest.fixture
def golden(priced: pytest.Pytester, fake_openai: FakeOpenAI, batches: FakeBatches) -> pytest.Pytester:
    """Five tests, one of them recorded already; answers priced at $1,000 a million tokens."""
    usage = {"prompt_tokens": 1000, "completion_tokens": 1, "total_tokens": 1001}
    fake_openai.rule("Is answer", completion([("true", 0.99), ("false", 0.01)], usage=usage))
    fake_openai.rule("Is the sky blue?", verdict(0.99, 0.01))
    priced.makepyfile(test_golden=SUITE)
    priced.runpytest("--llm-record-mode=once", "-k", "recorded").assert_outcomes(passed=1)
    fake_openai.requests.clear()
    return priced


def _chat_requests(fake: FakeOpenAI) -> list[str]:
    return [r.path for r in fake.requests if r.path.endswith("/chat/completions")]


@pytest.mark.parametrize("mode", [["-p", "no:xdist"], ["-n", "2"]], ids=["no-xdist", "two-workers"])
def test_a_batch_run_queues_what_is_unrecorded_and_a_later_run_writes_the_answers_and_replays(
    golden: pytest.Pytester, fake_openai: FakeOpenAI, batches: FakeBatches, mode: list[str]
) -> None:
    """Run 1 skips the unrecorded tests, uploads their requests as one batch and notes it; run 2, once the
    batch completed, writes each answer into its test's cassette and replays; run 3 replays offline."""
    first = golden.runpytest("--llm-record-mode=batch", "-rs", *mode)
    first.assert_outcomes(passed=1, skipped=4)
    assert not _chat_requests(fake_openai)  # nothing sent live
    (batch_id,) = batches.batches
    first.stdout.fnmatch_lines(
        [
            "*= llm batch =*",
            f"batch {batch_id}: 4 judge requests queued (noted in .llm-batch.json); run "
            "`pytest --llm-record-mode=batch` again once it has completed (within 24 h)",
            f"SKIPPED [[]4[]] test_golden.py:3: queued in batch {batch_id}; run `pytest --llm-record-mode=batch` "
            "again once it has completed",
        ]
    )
    lines = batches.lines(batch_id)
    assert sorted(line["body"]["messages"][-1]["content"].count("Is answer") for line in lines) == [
        1,
        1,
        1,
        1,
    ]
    assert {line["url"] for line in lines} == {"/v1/chat/completions"}
    book = json.loads((golden.path / "cassettes" / ".llm-batch.json").read_text())
    assert [b["id"] for b in book["batches"]] == [batch_id]

    waiting = golden.runpytest("--llm-record-mode=batch", "-rs", *mode)
    waiting.assert_outcomes(passed=1, skipped=4)
    waiting.stdout.fnmatch_lines(
        [
            f"batch {batch_id} is in_progress (4 requests): run `pytest --llm-record-mode=batch` again once *",
            f"SKIPPED [[]4[]] * queued in batch {batch_id} (in_progress, 0 of 4 answered); run "
            "`pytest --llm-record-mode=batch` again once it has completed",
        ]
    )
    assert len(batches.batches) == 1 and not _chat_requests(fake_openai)

    batches.finish(batch_id)
    collected = golden.runpytest("--llm-record-mode=batch", "--llm-report=r.json", *mode)
    collected.assert_outcomes(passed=5)
    assert not _chat_requests(fake_openai)
    # 1,001 tokens at $1,000 a million: $1.00 live, $0.50 at the batch price; four of them
    collected.stdout.fnmatch_lines(
        [f"batch {batch_id}: 4 answers written to cassettes (cost $2.00 at the batch price, $4.00 live)"]
    )
    report = json.loads((golden.path / "r.json").read_text())
    assert report["summary"]["replayed"] == 5
    assert not (golden.path / "cassettes" / ".llm-batch.json").exists()
    cassette = golden.path / "cassettes" / "test_golden" / "test_golden[2].yaml"
    recorded = yaml.safe_load(cassette.read_text())["interactions"]
    assert len(recorded) == 1 and "Is answer 2 right?" in recorded[0]["request"]["body"]
    assert "authorization" not in {k.lower() for k in recorded[0]["request"]["headers"]}

    offline = golden.runpytest("--llm-record-mode=none", *mode)
    offline.assert_outcomes(passed=5)


def test_requests_a_batch_failed_are_named_and_their_tests_fail(
    golden: pytest.Pytester, fake_openai: FakeOpenAI, batches: FakeBatches
) -> None:
    """A partial failure names the request's test and the batch's error; the rest is written."""
    golden.runpytest("--llm-record-mode=batch").assert_outcomes(passed=1, skipped=4)
    (batch_id,) = batches.batches
    batches.finish(batch_id, fail=("Is answer 3",))
    result = golden.runpytest("--llm-record-mode=batch")
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(
        [
            f"*LLMConfidenceError: batch {batch_id} did not answer this judge request: the prompt was flagged "
            "(invalid_prompt). Run `pytest --llm-record-mode=batch` again to queue it in a new batch, or "
            "record it live with --llm-record-mode=once.",
            f"batch {batch_id} failed a request of test_golden.py::test_golden[[]3[]]: the prompt was flagged "
            "(invalid_prompt)",
        ]
    )
    again = golden.runpytest("--llm-record-mode=batch")
    again.assert_outcomes(passed=4, skipped=1)
    assert len(batches.batches) == 2


@pytest.mark.parametrize("status", ["expired", "cancelled"])
def test_an_expired_or_cancelled_batch_says_so_and_how_to_resubmit(
    golden: pytest.Pytester, batches: FakeBatches, status: str
) -> None:
    """A batch that ended without answering fails its tests saying so; the next run queues them anew."""
    golden.runpytest("--llm-record-mode=batch").assert_outcomes(passed=1, skipped=4)
    (batch_id,) = batches.batches
    batches.end(batch_id, status)
    result = golden.runpytest("--llm-record-mode=batch")
    result.assert_outcomes(passed=1, failed=4)
    result.stdout.fnmatch_lines(
        [
            f"batch {batch_id} {status} with 4 requests unanswered: their tests fail saying so; run "
            "`pytest --llm-record-mode=batch` again to queue them in a new batch",
        ]
    )
    assert f"batch {batch_id} {status} before answering it" in result.stdout.str()
    golden.runpytest("--llm-record-mode=batch").assert_outcomes(passed=1, skipped=4)
    assert len(batches.batches) == 2
