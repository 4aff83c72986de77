"""Where the verdict is read: the first token the model *wrote* as a label, in any answer shape."""

from __future__ import annotations

import math

import pytest
from fake_openai import FakeOpenAI, completion

from pytest_llmconfidence._scoring.confidence import find_verdict_position, positions_from_logprobs


def _content(*positions: list[tuple[str, float]]) -> list[dict[str, object]]:
    return [
        {
            "token": alts[0][0],
            "logprob": math.log(alts[0][1]),
            "top_logprobs": [{"token": tok, "logprob": math.log(p)} for tok, p in alts],
        }
        for alts in positions
    ]


# A few-shot JSON judge with max_tokens=8: the answer {"verdict": false}, whose first token's long
# tail of alternatives holds a 'True' (the wrong verdict, at 0.07, that reading position 0 gave).
JSON_FALSE = (
    [('{"', 0.80), ("True", 0.0666), ("{", 0.05)],
    [("verdict", 0.99), ("result", 0.005)],
    [('":', 0.99)],
    [(" false", 0.45), (" true", 0.38), (' "', 0.10)],
    [("}", 0.99)],
)


def test_json_answer_is_read_at_its_sampled_label_not_at_an_earlier_alternative() -> None:
    """{"verdict": false} is read at ' false' (position 3), though position 0's alternatives hold 'True'."""
    position = find_verdict_position(positions_from_logprobs(_content(*JSON_FALSE)))
    assert position is not None
    assert (position.index, position.token) == (3, " false")


def test_alternatives_decide_only_when_no_sampled_token_is_a_label() -> None:
    """When the model wrote no label, the first position whose alternatives hold one is read."""
    content = _content([("Maybe", 0.6), ("true", 0.3)], [(".", 0.9), ("false", 0.05)])
    position = find_verdict_position(positions_from_logprobs(content))
    assert position is not None and position.index == 0


def test_no_label_anywhere_is_no_position() -> None:
    """An answer with no label sampled or among the alternatives has no verdict position."""
    content = _content([("Maybe", 0.6), ("Perhaps", 0.3)], [(".", 0.9)])
    assert find_verdict_position(positions_from_logprobs(content)) is None


@pytest.mark.parametrize(
    ("positions", "value", "confidence", "index"),
    [
        pytest.param(JSON_FALSE, False, 0.45, 3, id="json-verdict-false"),
        pytest.param(
            (
                [('{"', 0.9)],
                [("result", 0.99)],
                [('":', 0.99)],
                [("true", 0.9241), ("false", 0.0758)],
                [("}", 1.0)],
            ),
            True,
            0.9241,
            3,
            id="json-result-true",
        ),
        pytest.param(
            ([('"', 0.9), ("false", 0.05)], [("true", 0.88), ("false", 0.11)], [('"', 0.99)]),
            True,
            0.88,
            1,
            id="quoted",
        ),
        pytest.param(
            (
                [("The", 0.7), ("True", 0.2)],
                [(" answer", 0.9)],
                [(" is", 0.9)],
                [(":", 0.9)],
                [(" false", 0.81), (" true", 0.17)],
            ),
            False,
            0.81,
            4,
            id="preamble",
        ),
        pytest.param(([("Perhaps", 0.9), ("Maybe", 0.09)],), None, 0.0, 0, id="undecided"),
    ],
)
def test_judge_reads_the_verdict_where_the_model_wrote_it(
    judged: pytest.Pytester,
    fake_openai: FakeOpenAI,
    positions: tuple[list[tuple[str, float]], ...],
    value: bool | None,
    confidence: float,
    index: int,
) -> None:
    """JSON, quoted and preambled answers give the verdict of the label token the model wrote."""
    fake_openai.rule("shaped", completion(*positions))
    judged.makepyfile(
        f"""
        import pytest
        def test_it(judge):
            v = judge("Is the shaped answer right?", "reply", max_tokens=8)
            assert v.value is {value}
            assert v.confidence == pytest.approx({confidence})
            assert v.position == {index}
        """
    )
    judged.runpytest().assert_outcomes(passed=1)
