"""pytest-llmconfidence: confident LLM judges for pytest.

The public names load lazily, so that pytest loading the plugin imports neither pydantic nor openai.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._errors import (
        BudgetExceededError,
        CassetteCorruptError,
        CassetteMissError,
        CassetteSecretError,
        JudgeResponseError,
        LLMConfidenceError,
        NoLogprobsError,
        ReportFileError,
        UnassertedCheckWarning,
    )
    from ._judge.judge import Judge, JudgeHooks
    from ._judge.transport import Transport
    from ._scoring.completion import verdict_from_completion
    from ._scoring.graded import Choice, Score
    from ._scoring.pairwise import PairOrder, Preference
    from ._scoring.panel import PanelVerdict
    from ._scoring.response import ChoicePoint, ResponseConfidence, TokenConfidence, response_confidence
    from ._scoring.results import Alternative, CascadeStep, Check, Checks, Usage, Verdict
    from ._settings import JudgeConfig

__all__ = [
    "Alternative",
    "BudgetExceededError",
    "CascadeStep",
    "CassetteCorruptError",
    "CassetteMissError",
    "CassetteSecretError",
    "Check",
    "Checks",
    "Choice",
    "ChoicePoint",
    "Judge",
    "JudgeConfig",
    "JudgeHooks",
    "JudgeResponseError",
    "LLMConfidenceError",
    "NoLogprobsError",
    "PairOrder",
    "PanelVerdict",
    "Preference",
    "ReportFileError",
    "ResponseConfidence",
    "Score",
    "TokenConfidence",
    "Transport",
    "UnassertedCheckWarning",
    "Usage",
    "Verdict",
    "response_confidence",
    "verdict_from_completion",
]

__version__ = "0.1.0"

_LAZY = {
    "BudgetExceededError": "._errors",
    "CassetteCorruptError": "._errors",
    "CassetteMissError": "._errors",
    "CassetteSecretError": "._errors",
    "JudgeResponseError": "._errors",
    "LLMConfidenceError": "._errors",
    "NoLogprobsError": "._errors",
    "ReportFileError": "._errors",
    "UnassertedCheckWarning": "._errors",
    "Alternative": "._scoring.results",
    "CascadeStep": "._scoring.results",
    "Check": "._scoring.results",
    "Checks": "._scoring.results",
    "Usage": "._scoring.results",
    "Verdict": "._scoring.results",
    "Score": "._scoring.graded",
    "Choice": "._scoring.graded",
    "PairOrder": "._scoring.pairwise",
    "Preference": "._scoring.pairwise",
    "PanelVerdict": "._scoring.panel",
    "Judge": "._judge.judge",
    "JudgeHooks": "._judge.judge",
    "Transport": "._judge.transport",
    "verdict_from_completion": "._scoring.completion",
    "JudgeConfig": "._settings",
    "ChoicePoint": "._scoring.response",
    "ResponseConfidence": "._scoring.response",
    "TokenConfidence": "._scoring.response",
    "response_confidence": "._scoring.response",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
