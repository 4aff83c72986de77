"""A labelled set of true/false statements whose truth is known by construction.

Generated from code with a fixed seed: arithmetic, comparisons of numbers, dates and string facts,
half of them true. ``statements()`` always returns the same list.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from dataclasses import dataclass

SEED = 20261128
PER_KIND = 55


@dataclass(frozen=True)
class Statement:
    id: str
    text: str
    truth: bool


def _arithmetic(rnd: random.Random, i: int) -> Statement:
    a, b = rnd.randint(2, 60), rnd.randint(2, 60)
    op = rnd.choice(["+", "-", "*"])
    result = a + b if op == "+" else a - b if op == "-" else a * b
    truth = i % 2 == 0
    shown = result if truth else result + rnd.choice([-3, -2, -1, 1, 2, 3, 10])
    return Statement(f"arithmetic-{i:02d}", f"{a} {op} {b} = {shown}", truth)


def _comparison(rnd: random.Random, i: int) -> Statement:
    a, b = rnd.sample(range(1, 1000), 2)
    word = rnd.choice(["greater", "smaller"])
    truth = a > b if word == "greater" else a < b
    return Statement(f"comparison-{i:02d}", f"{a} is {word} than {b}", truth)


def _date(rnd: random.Random, i: int) -> Statement:
    kind = i % 3
    if kind == 0:
        year = rnd.randint(1890, 2030)
        truth = calendar.isleap(year)
        return Statement(f"date-{i:02d}", f"{year} is a leap year", truth)
    start = dt.date(2000, 1, 1) + dt.timedelta(days=rnd.randint(0, 9000))
    if kind == 1:
        other = start + dt.timedelta(days=rnd.choice([-40, -9, -1, 1, 9, 40]))
        truth = other > start
        return Statement(f"date-{i:02d}", f"{other:%d %B %Y} comes after {start:%d %B %Y}", truth)
    truth = rnd.random() < 0.5
    nxt = start + dt.timedelta(days=1 if truth else rnd.choice([2, 3]))
    return Statement(f"date-{i:02d}", f"The day after {start:%d %B %Y} is {nxt:%d %B %Y}", truth)


WORDS = [
    "apple",
    "banana",
    "cherry",
    "garden",
    "window",
    "pencil",
    "rocket",
    "silver",
    "planet",
    "candle",
    "bridge",
    "forest",
    "level",
    "radar",
    "stats",
    "civic",
    "kayak",
    "rotor",
    "noon",
    "refer",
    "madam",
    "python",
    "pytest",
    "judge",
    "token",
    "model",
]


def _string(rnd: random.Random, i: int) -> Statement:
    word = rnd.choice(WORDS)
    kind = i % 4
    if kind == 0:
        shown = len(word) if rnd.random() < 0.5 else len(word) + rnd.choice([-1, 1, 2])
        return Statement(f"string-{i:02d}", f"The word '{word}' has {shown} letters", shown == len(word))
    if kind == 1:
        return Statement(f"string-{i:02d}", f"The word '{word}' reads the same backwards", word == word[::-1])
    if kind == 2:
        letter = word[0] if rnd.random() < 0.5 else rnd.choice("abcdefghijklmnopqrstuvwxyz")
        return Statement(
            f"string-{i:02d}", f"The word '{word}' starts with the letter '{letter}'", word[0] == letter
        )
    other = rnd.choice([w for w in WORDS if w != word])
    return Statement(
        f"string-{i:02d}", f"'{word}' comes before '{other}' in alphabetical order", word < other
    )


def statements() -> list[Statement]:
    """220 statements: 55 each of arithmetic, comparisons, dates and string facts."""
    rnd = random.Random(SEED)
    out = []
    for make in (_arithmetic, _comparison, _date, _string):
        out.extend(make(rnd, i) for i in range(PER_KIND))
    return out
