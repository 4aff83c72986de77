"""The calibration report on scripted judges whose truth is known: what it says, what it refuses."""

from __future__ import annotations

import json
import math
import random
import time
from pathlib import Path

import pytest
from scripted_judges import score_record, scripted

from pytest_llmconfidence._calibration.fit import CalibrationMap, load_maps
from pytest_llmconfidence._calibration.labelled import labelled_from_records
from pytest_llmconfidence._calibration.metrics import bootstrap_intervals, ece_equal_mass, thresholds_for
from pytest_llmconfidence._calibration.report import calibration_report, report_lines, threshold_sentence


def test_a_calibrated_judge_ranks_better_than_chance_and_is_neither_over_nor_under_confident() -> None:
    """A judge whose confidence is the truth's probability: ranking above chance, gap interval around 0,
    and a map with a positive slope."""
    (report,) = calibration_report(scripted("calibrated", 400))
    ranking, confidence = report.sentences
    assert ranking.startswith(
        "Its confidence ranks answers better than chance: AUROC of p_true / coverage 0."
    )
    assert confidence.startswith("It is neither over- nor under-confident on average: its mean confidence is")
    assert "contains 0)." in confidence
    assert report.map is not None and report.map.params["a"] > 0
    assert report.to_dict()["ranking"] == "better" and report.to_dict()["confidence"] == "neither"


def test_an_over_confident_judge_is_called_over_confident_and_where() -> None:
    """Sharpened probabilities: it still ranks well, but says more than it knows, most at the top."""
    (report,) = calibration_report(scripted("over", 400))
    ranking, confidence = report.sentences
    assert "better than chance" in ranking
    assert confidence.startswith("It is over-confident: its mean confidence is")
    assert "; most clearly at confidence " in confidence
    assert confidence.endswith("-1.00 (200 verdicts: said 0.99, right 0.85).")


def test_an_under_confident_judge_is_called_under_confident() -> None:
    """Softened probabilities: right more often than it says."""
    (report,) = calibration_report(scripted("under", 400))
    assert report.sentences[1].startswith("It is under-confident:")
    assert report.to_dict()["confidence"] == "under"


def test_a_judge_at_chance_is_no_better_than_chance() -> None:
    """Confidence unrelated to the truth: the AUROC interval contains 0.5 and the report says so."""
    (report,) = calibration_report(scripted("chance", 300))
    assert report.raw["intervals"]["auroc"][0] <= 0.5 <= report.raw["intervals"]["auroc"][1]
    assert report.sentences[0].startswith(
        "Its confidence is no better than chance at telling true from false answers: AUROC of p_true"
    )
    assert report.sentences[0].endswith("contains 0.5.")
    assert report.sentences[1].startswith("It is over-confident:")


def test_a_backwards_judge_is_called_backwards_and_its_platt_map_is_refused() -> None:
    """Confidence that ranks answers backwards: said in words, and the negative-slope map is not kept."""
    (report,) = calibration_report(scripted("backwards", 300))
    assert report.raw["intervals"]["auroc"][1] < 0.5
    assert report.sentences[0].startswith(
        "Its confidence ranks answers backwards, true ones below false ones:"
    )
    assert report.map is None and report.held_out_calibrated is None
    assert report.refused is not None and report.refused["a"] < 0
    assert report.map_sentence is not None
    assert report.map_sentence.startswith("No map: the platt fit on 150 training verdicts (")
    assert "is refused: its slope a = -" in report.map_sentence
    assert "turning the judge's ranking upside down" in report.map_sentence
    text = "\n".join(report_lines([report]))
    assert "held-out, platt" not in text and "is refused" in text


def test_a_flat_isotonic_map_is_refused() -> None:
    """Every true item scored below every false one: isotonic regression pools all into one flat value."""
    records = scripted("calibrated", 0)
    for i in range(80):
        truth = i < 40
        q = 0.1 + 0.003 * i if truth else 0.6 + 0.003 * i
        records.append(
            {"kind": "verdict", "test_id": f"t{i}", "question": "q", "model": "m", "expected": truth,
             "value": q > 0.5, "confidence": max(q, 1 - q), "p_true": q, "coverage": 1.0}
        )  # fmt: skip
    (report,) = calibration_report(records, method="isotonic")
    assert report.map is None
    assert report.map_sentence is not None
    assert "the isotonic fit on 40 training verdicts" in report.map_sentence
    assert "is refused: it is flat: every verdict would get P(true) = 0.500" in report.map_sentence


@pytest.mark.parametrize("n", [2, 30])
def test_no_map_is_fitted_below_the_minimum_of_labelled_items_per_label(n: int) -> None:
    """2 items (or 15 of each label in training) give no map, and the report says what is needed."""
    (report,) = calibration_report(scripted("calibrated", n, seed=3))
    assert report.map is None and report.refused is None and report.held_out_raw is None
    assert report.map_sentence is not None
    assert report.map_sentence.startswith("No map fitted: the training split holds ")
    assert "a map needs 20 of each" in report.map_sentence
    assert "a map needs 20 labelled verdicts of each label in its training split" in report_lines([report])[0]


def test_a_map_file_with_a_non_positive_slope_is_rejected(tmp_path: Path) -> None:
    """load_maps refuses what calibrate would refuse: a slope at or below 0, a flat or falling isotonic map."""
    cases = {
        "negative": {"method": "platt", "a": -0.21, "b": -0.39},
        "zero": {"method": "platt", "a": 0, "b": 0.1},
        "flat": {"method": "isotonic", "x": [0.1, 0.9], "y": [0.4, 0.4]},
        "falling": {"method": "isotonic", "x": [0.1, 0.9], "y": [0.8, 0.2]},
        "text": {"method": "platt", "a": "1", "b": 0},
    }
    messages = {
        "negative": "the platt map is refused: its slope a = -0.2100 is not positive",
        "zero": "the platt map is refused: its slope a = 0.0000 is not positive",
        "flat": "the isotonic map is refused: it is flat",
        "falling": "an isotonic map's y must be probabilities that never decrease",
        "text": "a platt map's a must be a finite number, got '1'",
    }
    for name, entry in cases.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({"version": 1, "models": {"m": entry}}))
        with pytest.raises(ValueError, match="calibration file .*: " + messages[name].replace("(", r"\(")):
            load_maps(path)


def test_equal_mass_ece_does_not_depend_on_the_order_of_tied_confidences() -> None:
    """1,000 verdicts with confidences on a 0.05 grid, shuffled 50 times: one ECE, one set of bins."""
    rnd = random.Random(11)
    pairs = []
    for _ in range(1000):
        confidence = round(rnd.uniform(0.5, 1.0) * 20) / 20
        pairs.append((confidence, rnd.random() < confidence - 0.05))
    seen = set()
    for _ in range(50):
        rnd.shuffle(pairs)
        ece, bins = ece_equal_mass([c for c, _ in pairs], [ok for _, ok in pairs], 10)
        seen.add((ece, tuple(b.count for b in bins)))
    assert len(seen) == 1


def test_tied_confidences_share_a_bin() -> None:
    """Six verdicts at 0.5 and four at 0.9 in two bins: the boundary moves to keep the six together."""
    _, bins = ece_equal_mass([0.5] * 6 + [0.9] * 4, [True, False] * 5, 2)
    assert [(b.count, b.low, b.high) for b in bins] == [(6, 0.5, 0.5), (4, 0.9, 0.9)]


def test_the_report_does_not_depend_on_the_order_of_the_records() -> None:
    """xdist workers report in any order: intervals, sentences and maps stay the same."""
    records = scripted("over", 200, seed=5)
    first = calibration_report(records)[0].to_dict()
    random.Random(0).shuffle(records)
    assert calibration_report(records)[0].to_dict() == first


def _calibrated_sample(rnd: random.Random, n: int) -> tuple[list[float], list[bool], list[float], list[bool]]:
    confidences, correct, probabilities, labels = [], [], [], []
    for _ in range(n):
        p = rnd.random()
        truth = rnd.random() < p
        confidences.append(max(p, 1 - p))
        correct.append((p > 0.5) == truth)
        probabilities.append(p)
        labels.append(truth)
    return confidences, correct, probabilities, labels


def test_a_95_percent_interval_holds_the_true_value_about_95_times_in_100() -> None:
    """200 seeded samples of a calibrated judge, whose accuracy (3/4), Brier (1/6), AUROC (5/6) and gap
    (0) are known: each interval contains its true value in 88 % to 99 % of them."""
    truth = {"accuracy": 0.75, "brier": 1 / 6, "auroc": 5 / 6, "gap": 0.0}
    hits = dict.fromkeys(truth, 0)
    rnd = random.Random(1)
    trials = 200
    for trial in range(trials):
        intervals = bootstrap_intervals(*_calibrated_sample(rnd, 60), resamples=200, seed=trial)
        for name, value in truth.items():
            low, high = intervals[name] or (math.nan, math.nan)
            hits[name] += low <= value <= high
    coverage = {name: count / trials for name, count in hits.items()}
    assert all(0.88 <= share <= 0.99 for share in coverage.values()), coverage


def test_intervals_are_seeded() -> None:
    """The same data and seed give the same intervals; another seed moves them a little."""
    sample = _calibrated_sample(random.Random(2), 100)
    once = bootstrap_intervals(*sample, resamples=300, seed=7)
    assert bootstrap_intervals(*sample, resamples=300, seed=7) == once
    assert bootstrap_intervals(*sample, resamples=300, seed=8) != once


def test_thresholds_name_the_lowest_confidence_right_often_enough() -> None:
    """41 right verdicts at 0.97 and above, three wrong at 0.96, 66 wrong from 0.89 down: use 0.97 to be
    right 95 % of the time, 0.89 for 90 %."""
    confidences = [0.97 + 0.0007 * i for i in range(41)] + [0.96] * 3 + [0.89 - 0.006 * i for i in range(66)]
    correct = [True] * 41 + [False] * 69
    (report,) = calibration_report(
        [
            {"kind": "verdict", "test_id": f"t{i}", "question": "q", "model": "m", "expected": ok,
             "value": True, "confidence": c, "p_true": c, "coverage": 1.0}
            for i, (c, ok) in enumerate(zip(confidences, correct, strict=True))
        ],
        resamples=10,
    )  # fmt: skip
    sentences = [threshold_sentence(entry) for entry in report.raw["thresholds"]]
    assert sentences[1] == (
        "to be right 95 % of the time, use 0.97: 41 of 110 verdicts reach it, right 1.00 "
        "(95 % interval 0.91 to 1.00, which reaches below 95 %)"
    )
    assert sentences[0].startswith(
        "to be right 90 % of the time, use 0.89: 45 of 110 verdicts reach it, right 0.91"
    )
    assert sentences[2].startswith("to be right 99 % of the time, use 0.97: 41 of 110")


def test_a_threshold_is_shown_with_the_digits_that_select_exactly_its_verdicts() -> None:
    """0.9712 and a wrong 0.9705 below it: "0.97" would let the wrong one in, so the report says 0.971."""
    (entry, *_) = thresholds_for([0.9712, 0.98, 0.9705], [True, True, False], targets=(0.9,))
    assert (entry["threshold"], entry["digits"], entry["count"]) == (0.971, 3, 2)


def test_undecided_verdicts_never_reach_a_threshold() -> None:
    """An undecided verdict has confidence 0 and fails every check: no threshold counts it."""
    (entry,) = thresholds_for([0.0, 0.0, 0.8], [False, False, True], [False, False, True], targets=(0.9,))
    assert (entry["threshold"], entry["count"]) == (0.8, 1)
    (none,) = thresholds_for([0.0, 0.7], [False, False], [False, True], targets=(0.9,))
    assert none["threshold"] is None


def test_a_labelled_score_is_calibrated_on_each_score_at_least_k_question() -> None:
    """P(score >= k) is the mass on labels >= k over the mass on the scale; right when expected >= k."""
    record = score_record(0, "4", {"1": 0.05, "2": 0.05, "3": 0.2, "4": 0.4, "5": 0.2})
    items = labelled_from_records([record, score_record(1, None, {"3": 0.9})])
    assert [item.question for item in items] == [f"score >= {k} (scale 1..5)" for k in "2345"]
    at_least_4 = items[2]
    assert at_least_4.q == pytest.approx(0.6 / 0.9)
    assert (at_least_4.value, at_least_4.expected, at_least_4.correct) == (True, True, True)
    assert at_least_4.confidence == pytest.approx(0.6)
    at_least_5 = items[3]
    assert (at_least_5.value, at_least_5.expected, at_least_5.correct) == (False, False, True)
    assert at_least_5.confidence == pytest.approx(0.7)


def test_the_report_covers_labelled_scores_per_model_and_k() -> None:
    """A scripted grader whose mass centres on the true grade: a block per "score >= k", ranking better
    than chance, thresholds for at_least(k); no map (scores have nowhere to use one yet)."""
    rnd = random.Random(9)
    records = []
    for i in range(200):
        grade = rnd.randint(1, 5)
        weights = {str(k): math.exp(-abs(k - grade) * 1.5) * rnd.uniform(0.5, 1.5) for k in range(1, 6)}
        total = sum(weights.values()) / 0.95
        records.append(score_record(i, str(grade), {k: w / total for k, w in weights.items()}))
    records += scripted("calibrated", 100)
    reports = calibration_report(records, resamples=200)
    assert [r.title for r in reports] == ["m"] + [f"m, score >= {k} (scale 1..5)" for k in "2345"]
    for report in reports[1:]:
        assert report.raw["n"] == 200
        assert report.map is None and report.map_sentence is None
        assert report.sentences[0].startswith(
            "Its confidence ranks answers better than chance: AUROC of P(score >="
        )
    lines = report_lines(reports)
    assert "model m, score >= 4 (scale 1..5): 200 labelled scores (" in "\n".join(lines)
    assert "  thresholds on raw confidence (all answers):" in lines


def test_score_records_whose_expected_label_is_off_the_scale_are_skipped_and_named() -> None:
    """An expected label the scale lacks cannot be calibrated: a note names the test."""
    (report, *_) = calibration_report([score_record(7, "9", {"5": 0.9}), *scripted("calibrated", 40)])
    assert report.notes == [
        "1 labelled score record(s) skipped: the expected label is not on the scale (test_s.py::test_score[7])"
    ]


def test_a_220_item_report_takes_well_under_a_second() -> None:
    """220 verdicts, 1,000 resamples per interval, three blocks of figures: a fraction of a CPU second."""
    records = scripted("over", 220)
    start = time.process_time()
    calibration_report(records)
    assert time.process_time() - start < 1.0


def test_maps_refuse_what_would_mislead_whatever_built_them() -> None:
    """CalibrationMap.refusal is the one rule: positive slope, increasing and not flat."""
    assert CalibrationMap("platt", {"a": 0.5, "b": 0}).refusal() is None
    assert "not positive" in (CalibrationMap("platt", {"a": -1, "b": 0}).refusal() or "")
    assert CalibrationMap("isotonic", {"x": [0.1, 0.9], "y": [0.2, 0.7]}).refusal() is None
    assert "flat" in (CalibrationMap("isotonic", {"x": [0.5], "y": [0.3]}).refusal() or "")
