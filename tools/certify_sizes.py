"""How many labelled verdicts a certificate needs, and the coverage to expect: a simulation.

A judge whose confidence is c = 1 - 0.5 * u**3 (u uniform on [0, 1]: most verdicts sure, a tail down to
0.5) and whose verdict is right with probability c: it is calibrated, and the verdicts at or above t are
right (3 + t) / 4 of the time, so an oracle knowing the curve would certify 90 % at coverage 0.93, 95 % at
0.74 and 99 % at 0.43. For each size of labelled set, many seeded sets are drawn and certified as
``pytest-llmconfidence calibrate --certify`` does; the table gives the share of sets that get a
certificate, their mean coverage, and how often the certified threshold's true accuracy misses the target
(at most delta, 0.1, is the guarantee)::

    python tools/certify_sizes.py             # 0.9 0.95 0.99 at delta 0.1, 100 sets per size
    python tools/certify_sizes.py --sets 400 --accuracy 0.95 --sizes 500 1000
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pytest_llmconfidence._calibration.certify import certify_counts
from pytest_llmconfidence._calibration.metrics import candidates_of


def draw(seed: int, n: int) -> tuple[list[float], list[bool]]:
    rnd = random.Random(seed)
    confidences = [1 - 0.5 * rnd.random() ** 3 for _ in range(n)]
    return confidences, [rnd.random() < c for c in confidences]


def row(accuracy: float, n: int, sets: int, delta: float) -> tuple[float, float, int]:
    """The share of sets certified, their mean coverage, and how many missed the target."""
    certified = misses = 0
    coverage = 0.0
    for seed in range(sets):
        confidences, correct = draw(seed, n)
        candidates = candidates_of(confidences, correct)
        chosen, *_ = certify_counts(candidates, n, accuracy, delta)
        if chosen is None:
            continue
        threshold, reaching, _ = candidates[chosen]
        certified += 1
        coverage += reaching / n
        misses += (3 + threshold) / 4 < accuracy
    return certified / sets, coverage / certified if certified else 0.0, misses


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accuracy", type=float, nargs="+", default=[0.9, 0.95, 0.99])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 200, 500, 1000, 2000, 5000])
    parser.add_argument("--sets", type=int, default=100)
    parser.add_argument("--delta", type=float, default=0.1)
    args = parser.parse_args(argv)
    print("| accuracy | labelled verdicts | sets certified | mean coverage | oracle coverage | missed |")
    print("|---:|---:|---:|---:|---:|---:|")
    for accuracy in args.accuracy:
        oracle = (8 * (1 - accuracy)) ** (1 / 3)
        for n in args.sizes:
            share, coverage, misses = row(accuracy, n, args.sets, args.delta)
            print(
                f"| {accuracy:g} | {n:,} | {share:.2f} | {coverage:.2f} | {oracle:.2f} | "
                f"{misses} of {args.sets} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
