"""``@on_purpose(reason)``: a test that fails on purpose, to show what a failed check looks like.

It is pytest's strict ``xfail`` limited to assertion failures: the run stays green while the check
fails, any other error (a missing cassette, a bug) still fails the test, and a check that starts to
pass is reported too (strict). examples/conftest.py prints each one's failure message at the end.
"""

from __future__ import annotations

import pytest


def on_purpose(reason: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(strict=True, raises=AssertionError, reason=f"on purpose: {reason}")
