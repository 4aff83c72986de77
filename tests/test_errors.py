"""The public errors: one tree, the data they name, importable and picklable (xdist sends them)."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

import pytest_llmconfidence as llmc
from pytest_llmconfidence._report.baseline import load_report

ERRORS = (
    "LLMConfidenceError",
    "NoLogprobsError",
    "JudgeResponseError",
    "CassetteMissError",
    "CassetteCorruptError",
    "CassetteSecretError",
    "ReportFileError",
    "BudgetExceededError",
)


@pytest.mark.parametrize("name", ERRORS)
def test_every_error_is_public_derives_from_the_base_and_prints_as_users_import_it(name: str) -> None:
    """Each error is exported, is an LLMConfidenceError, and names itself pytest_llmconfidence.<Name>."""
    error = getattr(llmc, name)
    assert name in llmc.__all__
    assert issubclass(error, llmc.LLMConfidenceError)
    assert f"{error.__module__}.{error.__qualname__}" == f"pytest_llmconfidence.{name}"


@pytest.mark.parametrize("name", ERRORS)
def test_every_error_survives_pickling_with_its_message_and_its_data(name: str) -> None:
    """pytest-xdist pickles errors between processes: the message and the data attributes come back."""
    error = getattr(llmc, name)(
        "the cassette cassettes/t.yaml has no recording", path=Path("cassettes/t.yaml"), nodeid="t.py::t"
    )
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error)
    assert str(back) == str(error) == "the cassette cassettes/t.yaml has no recording"
    assert back.path == Path("cassettes/t.yaml") and back.nodeid == "t.py::t"


def test_an_error_with_no_data_reads_none_for_what_it_could_name() -> None:
    """Data the situation does not have reads None rather than raising AttributeError."""
    assert llmc.CassetteMissError("no socket").path is None
    assert llmc.CassetteMissError("no socket").nodeid is None
    assert llmc.NoLogprobsError("none").model is None


def test_a_message_holding_a_known_key_is_redacted_and_stays_so_after_pickling(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The message is redacted when the error is made, so no copy of it shows the key."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-0123456789abcdefghijklmnop")
    error = llmc.JudgeResponseError("the server echoed sk-live-0123456789abcdefghijklmnop")
    assert "sk-live" not in str(pickle.loads(pickle.dumps(error)))


def test_a_missing_report_names_its_path(tmp_path: Path) -> None:
    """ReportFileError.path is the report that could not be read."""
    missing = tmp_path / "old.json"
    with pytest.raises(llmc.ReportFileError) as caught:
        load_report(missing, what="baseline")
    assert caught.value.path == missing


def test_a_corrupt_cassette_names_its_path(tmp_path: Path) -> None:
    """CassetteCorruptError.path is the cassette that does not parse."""
    from pytest_llmconfidence._recording.cassette import ActiveCassette

    path = tmp_path / "t.yaml"
    path.write_text("interactions: {not: a list}\n")
    with (
        pytest.raises(llmc.CassetteCorruptError) as caught,
        ActiveCassette(path, record_mode="none", scope="test", nodeid="t.py::t"),
    ):
        pass
    assert caught.value.path == path
