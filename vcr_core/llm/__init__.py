"""Model access through litellm: provider and model choice, retries, time-outs, tokens and cost,
and the embedded local model."""
import os as _os

# Before anything imports litellm: use its bundled cost map, never download one.
_os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from .client import CallInfo, LlmError, LlmResponse, complete, redact  # noqa: E402
from .local import (LOCAL_MODEL_DESCRIPTION, LOCAL_MODEL_NAME, LOCAL_MODEL_SHORT, LocalModelError,  # noqa: E402
                    ensure_local_model, local_status, stop_local_model)
from .models import (KNOWLEDGE_MODEL, KNOWLEDGE_PROVIDER, MODEL_TYPES, PROVIDER_DEFAULTS, ModelChoice, missing_key_message, model_available,  # noqa: E402
                     resolve_model)

__all__ = [
    "CallInfo", "KNOWLEDGE_MODEL", "KNOWLEDGE_PROVIDER", "LOCAL_MODEL_DESCRIPTION", "LOCAL_MODEL_NAME", "LOCAL_MODEL_SHORT", "LlmError", "LlmResponse",
    "LocalModelError", "MODEL_TYPES", "PROVIDER_DEFAULTS", "ModelChoice", "complete", "ensure_local_model",
    "local_status", "missing_key_message", "model_available", "redact", "resolve_model", "stop_local_model",
]
