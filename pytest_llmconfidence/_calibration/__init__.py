"""Calibration of the judge's confidence against labelled verdicts."""
