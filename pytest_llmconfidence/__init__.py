"""pytest-llmconfidence: confident LLM judges for pytest.

The public names load lazily, so that pytest loading the plugin imports neither pydantic nor openai.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._config import JudgeConfig
    from ._errors import (
        CassetteCorruptError,
        CassetteMissError,
        CassetteSecretError,
        JudgeResponseError,
        LLMConfidenceError,
        NoLogprobsError,
    )
    from ._graded import Choice, Score
    from ._judge import Judge, JudgeHooks, verdict_from_completion
    from ._models import Alternative, Check, Usage, Verdict
    from ._response import ChoicePoint, ResponseConfidence, TokenConfidence, response_confidence
    from ._transport import Transport

__all__ = [
    "Alternative",
    "CassetteCorruptError",
    "CassetteMissError",
    "CassetteSecretError",
    "Check",
    "Choice",
    "ChoicePoint",
    "Judge",
    "JudgeConfig",
    "JudgeHooks",
    "JudgeResponseError",
    "LLMConfidenceError",
    "NoLogprobsError",
    "ResponseConfidence",
    "Score",
    "TokenConfidence",
    "Transport",
    "Usage",
    "Verdict",
    "response_confidence",
    "verdict_from_completion",
]

__version__ = "0.1.0"

_LAZY = {
    "CassetteCorruptError": "._errors",
    "CassetteMissError": "._errors",
    "CassetteSecretError": "._errors",
    "JudgeResponseError": "._errors",
    "LLMConfidenceError": "._errors",
    "NoLogprobsError": "._errors",
    "Alternative": "._models",
    "Check": "._models",
    "Usage": "._models",
    "Verdict": "._models",
    "Score": "._graded",
    "Choice": "._graded",
    "Judge": "._judge",
    "JudgeHooks": "._judge",
    "Transport": "._transport",
    "verdict_from_completion": "._judge",
    "JudgeConfig": "._config",
    "ChoicePoint": "._response",
    "ResponseConfidence": "._response",
    "TokenConfidence": "._response",
    "response_confidence": "._response",
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
