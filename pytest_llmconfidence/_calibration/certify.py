"""Certified thresholds: the lowest confidence whose verdicts are right at least a target share of the
time, with a finite-sample guarantee over the draw of the labelled set."""

from __future__ import annotations
