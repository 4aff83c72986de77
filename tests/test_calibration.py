"""Calibration metrics and maps, checked against scikit-learn on random data."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score

from pytest_llmconfidence._calibration.fit import (
    CalibrationMap,
    fit_isotonic,
    fit_platt,
    load_maps,
    save_maps,
)
from pytest_llmconfidence._calibration.metrics import auroc, brier_score, ece_equal_mass
from pytest_llmconfidence._calibration.report import calibration_report, report_lines


def random_scores(seed: int, n: int = 300, ties: bool = False) -> tuple[list[float], list[bool]]:
    rnd = random.Random(seed)
    labels = [rnd.random() < 0.4 for _ in range(n)]
    scores = []
    for y in labels:
        s = min(max(rnd.gauss(0.65 if y else 0.4, 0.2), 0.001), 0.999)
        scores.append(round(s, 1) if ties else s)
    return scores, labels


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("ties", [False, True])
def test_brier_and_auroc_match_scikit_learn(seed: int, ties: bool) -> None:
    """Brier score and AUROC (ties included) equal scikit-learn's to 1e-9."""
    scores, labels = random_scores(seed, ties=ties)
    assert brier_score(scores, labels) == pytest.approx(brier_score_loss(labels, scores), abs=1e-9)
    assert auroc(scores, labels) == pytest.approx(roc_auc_score(labels, scores), abs=1e-9)


def test_auroc_is_undefined_with_one_class() -> None:
    """Only positives: no AUROC."""
    assert auroc([0.2, 0.9], [True, True]) is None


@pytest.mark.parametrize("seed", range(4))
def test_platt_without_smoothing_is_logistic_regression_on_the_logit(seed: int) -> None:
    """Unsmoothed Platt equals an unpenalised LogisticRegression on logit(score)."""
    scores, labels = random_scores(seed)
    a, b = fit_platt(scores, labels, smooth=False)
    x = np.log(np.array(scores) / (1 - np.array(scores))).reshape(-1, 1)
    lr = LogisticRegression(C=np.inf, solver="newton-cg", tol=1e-12, max_iter=1000).fit(x, labels)
    assert a == pytest.approx(lr.coef_[0][0], abs=1e-6)
    assert b == pytest.approx(lr.intercept_[0], abs=1e-6)
    ours = CalibrationMap("platt", {"a": a, "b": b}).probability_true(scores[0])
    assert ours == pytest.approx(lr.predict_proba(x[:1])[0][1], abs=1e-9)


def test_platt_smoothing_uses_platts_targets() -> None:
    """Smoothed Platt equals LogisticRegression on soft targets written as weighted samples."""
    scores, labels = random_scores(7, n=120)
    a, b = fit_platt(scores, labels)
    pos = sum(labels)
    neg = len(labels) - pos
    hi, lo = (pos + 1) / (pos + 2), 1 / (neg + 2)
    x = np.log(np.array(scores) / (1 - np.array(scores)))
    targets = np.array([hi if y else lo for y in labels])
    xx = np.concatenate([x, x]).reshape(-1, 1)
    yy = np.concatenate([np.ones_like(x), np.zeros_like(x)])
    ww = np.concatenate([targets, 1 - targets])
    lr = LogisticRegression(C=np.inf, solver="newton-cg", tol=1e-12, max_iter=1000).fit(
        xx, yy, sample_weight=ww
    )
    assert a == pytest.approx(lr.coef_[0][0], abs=1e-6)
    assert b == pytest.approx(lr.intercept_[0], abs=1e-6)


def test_platt_stays_finite_on_separable_data() -> None:
    """Perfectly separated labels still give a finite map."""
    a, b = fit_platt([0.1, 0.2, 0.8, 0.9], [False, False, True, True])
    assert math.isfinite(a) and math.isfinite(b) and a > 0


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("ties", [False, True])
def test_isotonic_matches_scikit_learn(seed: int, ties: bool) -> None:
    """Isotonic thresholds and predictions equal IsotonicRegression's to 1e-9."""
    scores, labels = random_scores(seed, n=150, ties=ties)
    xs, ys = fit_isotonic(scores, labels)
    iso = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(scores, labels)
    assert xs == pytest.approx(list(iso.X_thresholds_), abs=1e-12)
    assert ys == pytest.approx(list(iso.y_thresholds_), abs=1e-9)
    probe = [0.0, 0.05, 0.33, 0.5, 0.71, 0.999, 1.0, *scores[:20]]
    ours = [CalibrationMap("isotonic", {"x": xs, "y": ys}).probability_true(p) for p in probe]
    assert ours == pytest.approx(list(iso.predict(probe)), abs=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_isotonic_merges_scores_that_differ_by_rounding_as_scikit_learn_does(seed: int) -> None:
    """Scores a float's rounding apart (0.4 and 0.4000000000000001, sums of probabilities added in another
    order) are one step of the map, as in scikit-learn; scores 1e-9 apart stay two."""
    rnd = random.Random(seed)
    base = [round(rnd.random(), 2) for _ in range(60)]
    scores = [s + rnd.choice([0.0, 1e-16, 2e-16, 5e-16, 1e-9]) for s in base]
    labels = [rnd.random() < s for s in base]
    xs, ys = fit_isotonic(scores, labels)
    iso = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(scores, labels)
    assert xs == pytest.approx(list(iso.X_thresholds_), abs=1e-12)
    assert ys == pytest.approx(list(iso.y_thresholds_), abs=1e-9)
    probe = [0.0, 0.4, 0.4000000000000001, 0.41, 0.77, 1.0, *scores]
    ours = [CalibrationMap("isotonic", {"x": xs, "y": ys}).probability_true(p) for p in probe]
    assert ours == pytest.approx(list(iso.predict(probe)), abs=1e-9)


def test_isotonic_counts_a_rounding_tie_as_one_score() -> None:
    """0.4 and 0.4000000000000001 with labels true and false are one score right half the time."""
    xs, ys = fit_isotonic([0.2, 0.4, 0.4000000000000001, 0.9], [False, True, False, True])
    assert xs == [0.2, 0.4, 0.9] and ys == [0.0, 0.5, 1.0]


def test_ece_uses_equal_mass_bins() -> None:
    """10 verdicts in 2 bins of 5: ECE is the count-weighted gap between accuracy and confidence."""
    conf = [0.55, 0.6, 0.65, 0.7, 0.75, 0.9, 0.92, 0.94, 0.96, 0.98]
    correct = [True, False, True, False, True, True, True, True, True, False]
    ece, bins = ece_equal_mass(conf, correct, bins=2)
    assert [b.count for b in bins] == [5, 5]
    expected = 0.5 * abs(0.6 - 0.65) + 0.5 * abs(0.8 - 0.94)
    assert ece == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_ece_matches_a_numpy_reference(seed: int) -> None:
    """Bins split as numpy.array_split splits the sorted confidences."""
    scores, labels = random_scores(seed, n=103)
    conf = [max(s, 1 - s) for s in scores]
    correct = [(s >= 0.5) == y for s, y in zip(scores, labels, strict=True)]
    order = np.argsort(conf, kind="stable")
    total = 0.0
    for chunk in np.array_split(order, 10):
        total += (
            len(chunk) / len(conf) * abs(np.mean(np.array(correct)[chunk]) - np.mean(np.array(conf)[chunk]))
        )
    assert ece_equal_mass(conf, correct, 10)[0] == pytest.approx(total, abs=1e-9)


def _records(n: int, seed: int = 0, model: str = "m") -> list[dict[str, object]]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        expected = rnd.random() < 0.5
        p_true = min(max(rnd.gauss(0.8 if expected else 0.6, 0.15), 0.01), 0.99)
        p_false = 1 - p_true
        value = p_true > p_false
        out.append(
            {
                "kind": "verdict",
                "test_id": f"t{i}",
                "question": f"q{i}",
                "model": model,
                "expected": expected,
                "value": value,
                "confidence": max(p_true, p_false),
                "p_true": p_true,
                "coverage": 1.0,
            }
        )
    return out


def test_report_fits_on_training_and_measures_held_out() -> None:
    """A judge biased towards true gets a map that lowers held-out ECE."""
    (report,) = calibration_report(_records(400), bins=10)
    assert report.raw["n"] == 400
    assert report.held_out_raw is not None and report.held_out_calibrated is not None
    assert report.held_out_raw["n"] == 200
    assert report.held_out_calibrated["ece"] < report.held_out_raw["ece"]
    lines = report_lines([report])
    assert lines[1].startswith("model m: 400 labelled verdicts (")
    assert "held-out, platt" in "\n".join(lines)


def test_unlabelled_records_are_ignored_and_explained() -> None:
    """Without expected labels the report says how to add them."""
    assert report_lines(calibration_report([{"kind": "verdict", "expected": None}])) == [
        "no labelled verdicts: give judge(..., expected=True/False) to measure calibration"
    ]


def test_maps_round_trip_through_a_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A saved map loads back and gives the same numbers."""
    cal = CalibrationMap.fit(*random_scores(3), method="isotonic")
    save_maps(tmp_path / "cal.json", {"m": cal})
    loaded = load_maps(tmp_path / "cal.json")["m"]
    assert loaded.probability_true(0.42) == cal.probability_true(0.42)


def test_bad_calibration_files_are_clear_errors(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Missing, invalid and wrong-shape files say what is wrong."""
    with pytest.raises(ValueError, match="does not exist; write one with `pytest-llmconfidence calibrate"):
        load_maps(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ValueError, match="is not valid JSON"):
        load_maps(tmp_path / "bad.json")
    (tmp_path / "shape.json").write_text('{"models": {"m": {"method": "magic"}}}')
    with pytest.raises(
        ValueError, match="unknown calibration method 'magic'; valid methods are platt, isotonic"
    ):
        load_maps(tmp_path / "shape.json")
