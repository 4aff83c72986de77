"""Calibration maps: Platt scaling and isotonic regression of the judge's probability of *true*, and the
calibration file that holds them. Pure Python, no numpy.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._files import write_atomic
from .metrics import _same_length

if TYPE_CHECKING:
    from .certify import Certificate

__all__ = ["CalibrationMap", "calibrator", "fit_isotonic", "fit_platt", "load_maps", "save_maps"]

MAP_VERSION = 1
TIE = 1e-15
"""Scores closer than this to the first of a run are one score to the isotonic fit (scikit-learn's rule:
the resolution of a float64, ``numpy.finfo(float).resolution``)."""


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def fit_platt(
    scores: Sequence[float], labels: Sequence[bool], *, smooth: bool = True, on_logit: bool = True
) -> tuple[float, float]:
    """Platt scaling: ``a, b`` maximising the likelihood of ``sigmoid(a * x + b)``, ``x = logit(score)``.

    With ``smooth`` the targets are Platt's (n+ + 1) / (n+ + 2) and 1 / (n- + 2), which keeps the fit
    finite on separable data; without it this is an unpenalised logistic regression. Newton's method
    with step halving, to a gradient of 1e-12.
    """
    _same_length(scores, labels)
    xs = [_logit(s) if on_logit else float(s) for s in scores]
    positives = sum(1 for y in labels if y)
    negatives = len(labels) - positives
    hi = (positives + 1.0) / (positives + 2.0) if smooth else 1.0
    lo = 1.0 / (negatives + 2.0) if smooth else 0.0
    targets = [hi if y else lo for y in labels]

    def loss(a: float, b: float) -> float:
        total = 0.0
        for x, t in zip(xs, targets, strict=True):
            z = a * x + b
            # log(1 + e^z) - t*z, computed stably
            total += (z if z > 0 else 0.0) + math.log1p(math.exp(-abs(z))) - t * z
        return total

    a, b = 1.0, 0.0
    current = loss(a, b)
    for _ in range(200):
        g_a = g_b = h_aa = h_ab = h_bb = 0.0
        for x, t in zip(xs, targets, strict=True):
            p = _sigmoid(a * x + b)
            d = p - t
            w = max(p * (1 - p), 1e-300)
            g_a += d * x
            g_b += d
            h_aa += w * x * x
            h_ab += w * x
            h_bb += w
        det = h_aa * h_bb - h_ab * h_ab
        if abs(g_a) + abs(g_b) < 1e-12 or det <= 0:
            break
        step_a = (h_bb * g_a - h_ab * g_b) / det
        step_b = (h_aa * g_b - h_ab * g_a) / det
        scale = 1.0
        while scale > 1e-10:
            na, nb = a - scale * step_a, b - scale * step_b
            new = loss(na, nb)
            if new <= current + 1e-15:
                break
            scale /= 2
        else:
            break
        a, b, current = na, nb, new
        if abs(scale * step_a) + abs(scale * step_b) < 1e-15:
            break
    return a, b


def fit_isotonic(scores: Sequence[float], labels: Sequence[bool]) -> tuple[list[float], list[float]]:
    """Increasing isotonic regression of the labels on the scores, clipped to [0, 1].

    Returns the thresholds ``(xs, ys)`` that scikit-learn's IsotonicRegression keeps: ties in the score are
    averaged first (scores within ``TIE`` of the first of a run count as one, as scikit-learn merges them:
    0.4 and 0.4000000000000001 are one step), pool-adjacent-violators merges, and interior points of flat
    runs are dropped.
    """
    _same_length(scores, labels)
    pairs = sorted(zip(scores, (float(y) for y in labels), strict=True))
    xs: list[float] = []
    sums: list[float] = []
    weights: list[float] = []
    for x, y in pairs:
        if xs and x - xs[-1] < TIE:
            sums[-1] += y
            weights[-1] += 1.0
        else:
            xs.append(float(x))
            sums.append(y)
            weights.append(1.0)
    # pool adjacent violators over blocks of (mean, weight, count of points)
    blocks: list[list[float]] = []
    for total, weight in zip(sums, weights, strict=True):
        blocks.append([total / weight, weight, 1.0])
        while len(blocks) > 1 and blocks[-2][0] >= blocks[-1][0]:
            mean_b, w_b, c_b = blocks.pop()
            mean_a, w_a, c_a = blocks[-1]
            weight_sum = w_a + w_b
            blocks[-1] = [(mean_a * w_a + mean_b * w_b) / weight_sum, weight_sum, c_a + c_b]
    ys: list[float] = []
    for mean, _weight, count in blocks:
        ys.extend([min(max(mean, 0.0), 1.0)] * int(count))
    keep = [True] * len(ys)
    for i in range(1, len(ys) - 1):
        keep[i] = ys[i] != ys[i - 1] or ys[i] != ys[i + 1]
    return [x for x, k in zip(xs, keep, strict=True) if k], [y for y, k in zip(ys, keep, strict=True) if k]


def _interpolate(x: float, xs: Sequence[float], ys: Sequence[float]) -> float:
    if len(xs) == 1:
        return ys[0]
    x = min(max(x, xs[0]), xs[-1])
    lo, hi = 0, len(xs) - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if xs[mid] <= x:
            lo = mid
        else:
            hi = mid
    if xs[hi] == xs[lo]:
        return ys[lo]
    t = (x - xs[lo]) / (xs[hi] - xs[lo])
    return ys[lo] + t * (ys[hi] - ys[lo])


_METHODS = "valid methods are platt, isotonic"


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return float(value)


def _numbers(value: Any, what: str) -> list[float]:
    if not isinstance(value, list):
        raise ValueError(f"{what} must be a list of numbers, got {value!r}")
    return [_number(v, what) for v in value]


@dataclass(frozen=True)
class CalibrationMap:
    """A fitted map from the judge's probability of *true* to a calibrated one."""

    method: str
    params: Mapping[str, Any]
    n_train: int = 0

    def probability_true(self, q: float) -> float:
        """The calibrated probability that the answer is true, from ``q = p_true / coverage``."""
        if self.method == "platt":
            return _sigmoid(float(self.params["a"]) * _logit(q) + float(self.params["b"]))
        if self.method == "isotonic":
            return _interpolate(q, self.params["x"], self.params["y"])
        raise ValueError(f"unknown calibration method {self.method!r}; {_METHODS}")

    def confidence(self, value: bool | None, p_true: float, coverage: float) -> float | None:
        """The calibrated confidence of a verdict; None when it is undecided."""
        if value is None:
            return None
        q = p_true / coverage if coverage > 0 else 0.5
        calibrated = self.probability_true(q)
        return calibrated if value else 1.0 - calibrated

    def refusal(self) -> str | None:
        """Why this map would mislead (None when it keeps the judge's ranking and is not flat).

        A Platt map with a slope at or below 0 turns the ranking upside down (or erases it); an isotonic
        map that is flat gives every verdict the same probability, whatever the judge said.
        """
        if self.method == "platt":
            a = float(self.params["a"])
            if not a > 0:
                return (
                    f"its slope a = {a:.4f} is not positive: a higher p_true / coverage would get a lower "
                    "calibrated probability of true, turning the judge's ranking upside down"
                )
            return None
        ys = list(self.params["y"])
        if len(ys) < 2 or max(ys) <= min(ys):
            return (
                f"it is flat: every verdict would get P(true) = {ys[0]:.3f}, whatever the judge said, so "
                "the judge's confidence has no order for it to keep"
            )
        return None

    @classmethod
    def fit(cls, scores: Sequence[float], labels: Sequence[bool], method: str = "platt") -> CalibrationMap:
        """Fit a map (check ``refusal()`` before using it)."""
        if method == "platt":
            a, b = fit_platt(scores, labels)
            return cls("platt", {"a": a, "b": b}, len(scores))
        if method == "isotonic":
            xs, ys = fit_isotonic(scores, labels)
            return cls("isotonic", {"x": xs, "y": ys}, len(scores))
        raise ValueError(f"unknown calibration method {method!r}; {_METHODS}")

    def describe(self) -> str:
        if self.method == "platt":
            return f"platt a={float(self.params['a']):.4f} b={float(self.params['b']):.4f}"
        return f"isotonic, {len(self.params['x'])} points"

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "n_train": self.n_train, **self.params}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CalibrationMap:
        """A map from its JSON; a ValueError when it is malformed or would mislead (see ``refusal``)."""
        method = str(data.get("method"))
        keys = {"platt": ("a", "b"), "isotonic": ("x", "y")}.get(method)
        if keys is None:
            raise ValueError(f"unknown calibration method {method!r}; {_METHODS}")
        missing = [k for k in keys if k not in data]
        if missing:
            raise ValueError(f"a {method} map needs {', '.join(keys)}; missing {', '.join(missing)}")
        params: dict[str, Any]
        if method == "platt":
            params = {"a": _number(data["a"], "a platt map's a"), "b": _number(data["b"], "a platt map's b")}
        else:
            xs = _numbers(data["x"], "an isotonic map's x")
            ys = _numbers(data["y"], "an isotonic map's y")
            if len(xs) != len(ys) or not xs:
                raise ValueError(
                    f"an isotonic map needs as many x as y, at least one; got {len(xs)} and {len(ys)}"
                )
            if any(b <= a for a, b in itertools.pairwise(xs)):
                raise ValueError("an isotonic map's x must increase")
            if any(b < a for a, b in itertools.pairwise(ys)) or not all(0 <= y <= 1 for y in ys):
                raise ValueError("an isotonic map's y must be probabilities that never decrease")
            params = {"x": xs, "y": ys}
        fitted = cls(method, params, int(data.get("n_train", 0)))
        reason = fitted.refusal()
        if reason is not None:
            raise ValueError(
                f"the {method} map is refused: {reason}; fit a new one with `pytest-llmconfidence calibrate`"
            )
        return fitted


Certified = Mapping[str, Mapping[str, Sequence["Certificate"]]]
"""Certificates by model, then by question (``verdicts``, ``choices``, ``score >= 4 (scale 1..5)``)."""


def save_maps(
    path: Path,
    maps: Mapping[str, CalibrationMap],
    extra: Mapping[str, Any] | None = None,
    certified: Certified | None = None,
) -> None:
    """Write ``{"version": 1, "models": {model: map}}`` atomically, with ``"certified": {model: {question:
    [certificate, ...]}}`` when there are certificates."""
    data: dict[str, Any] = {
        "version": MAP_VERSION,
        "models": {m: cal.to_dict() for m, cal in sorted(maps.items())},
    }
    if certified:
        data["certified"] = {
            model: {question: [c.to_dict() for c in certs] for question, certs in sorted(by_question.items())}
            for model, by_question in sorted(certified.items())
        }
    if extra:
        data.update(extra)
    write_atomic(path, json.dumps(data, indent=2) + "\n")


def load_maps(path: Path) -> dict[str, CalibrationMap]:
    """The maps of a calibration file, by model; a clear ValueError when it is not one."""
    return load_calibration(path)[0]


def load_calibration(path: Path) -> tuple[dict[str, CalibrationMap], dict[str, dict[str, list[Certificate]]]]:
    """The maps and the certificates of a calibration file; a clear ValueError when it is not one."""
    from .certify import Certificate

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(
            f"calibration file {path} does not exist; write one with "
            "`pytest-llmconfidence calibrate REPORT.json --out PATH`"
        ) from None
    except (OSError, ValueError) as exc:
        raise ValueError(f"calibration file {path} is not valid JSON: {exc}") from None
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, dict):
        raise ValueError(f"calibration file {path} has no 'models' object; is it a calibration map?")
    certified = data.get("certified", {})
    if not isinstance(certified, dict) or not all(isinstance(v, dict) for v in certified.values()):
        raise ValueError(f"calibration file {path}: 'certified' must map each model to its questions' lists")
    try:
        maps = {str(model): CalibrationMap.from_dict(entry) for model, entry in models.items()}
        certificates = {
            str(model): {
                str(question): [Certificate.from_dict(entry) for entry in _entries(entries)]
                for question, entries in by_question.items()
            }
            for model, by_question in certified.items()
        }
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"calibration file {path}: {exc}") from None
    return maps, certificates


def _entries(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"each question's certificates must be a list, got {value!r}")
    return value


def calibrator(maps: Mapping[str, CalibrationMap], certified: Any = None) -> Callable[[Any], Any]:
    """A function giving each verdict of a mapped model its ``calibrated`` confidence, and each verdict,
    score and choice the certificates its ``certified=`` checks look up (a ``Certified``)."""

    def calibrate(result: Any) -> Any:
        fitted = maps.get(result.model)
        if fitted is not None and hasattr(result, "p_true"):
            value = fitted.confidence(result.value, result.p_true, result.coverage)
            result = result.model_copy(update={"calibrated": value})
        if certified is not None:
            result._certificates = certified
        return result

    return calibrate


def run_calibrator(config: Any) -> tuple[Callable[[Any], Any], Any]:
    """The run's calibrator and its certificates (a ``Certified``) from its configuration
    (``llm_calibration_file``, ``llm_certified``, ``llm_cascade``); a ValueError naming the option and what
    to do when they do not fit together."""
    from .certify import Certified

    path = config.calibration_file
    if path is None:
        which = "llm_certified" if config.certified else "llm_cascade"
        raise ValueError(
            f"{which} needs certified thresholds: set llm_calibration_file to a file written by "
            "`pytest-llmconfidence calibrate report.json --certify 0.9 --out calibration.json`"
        )
    try:
        maps, certificates = load_calibration(path)
    except ValueError as exc:
        raise ValueError(f"llm_calibration_file: {exc}") from None
    certified = Certified(certificates, path.name, config.certified)
    for model in config.cascade:
        certified.find(model, "verdicts", config.cascade_accuracy, "llm_cascade")
    return calibrator(maps, certified), certified
