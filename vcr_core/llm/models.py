"""Which model to call: provider defaults, litellm model names, API bases and keys.

Keys are read from the settings (environment or ``.env``) at call time and handed straight to
litellm; they are never part of a :class:`ModelChoice`, so nothing that stores or prints a choice
can leak one.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from ..kernel.settings import get_settings

# A sensible current default per provider (litellm names; see litellm's model cost map).
PROVIDER_DEFAULTS: dict[str, str] = {
    "anthropic": "anthropic/claude-sonnet-4-6",
    "openai": "openai/gpt-5.4",
    "gemini": "gemini/gemini-3.5-flash",
}
MODEL_TYPES = ("anthropic", "openai", "gemini", "local", "knowledge")
# Not a model: explanations assembled from knowledge bases by rules (vcr_core.agents.assembler).
KNOWLEDGE_PROVIDER = "knowledge"
KNOWLEDGE_MODEL = "knowledge-assembly"
PROVIDER_KEY_ENV = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY", "gemini": "GEMINI_API_KEY"}


@dataclass(frozen=True)
class ModelChoice:
    """A resolved model: ``provider`` (anthropic, openai, gemini, local, or openai-compatible),
    the litellm ``model`` name, an ``api_base`` for OpenAI-compatible servers, and ``is_local``."""

    provider: str
    model: str
    api_base: str | None = None
    is_local: bool = False

    @property
    def is_knowledge(self) -> bool:
        """True for assembly from knowledge (no model is called)."""
        return self.provider == KNOWLEDGE_PROVIDER

    @property
    def label(self) -> str:
        """Short human label, e.g. 'anthropic/claude-sonnet-4-6' or 'local SmolLM2-135M'."""
        if self.is_knowledge:
            return "assembled from knowledge bases (no model)"
        if self.is_local:
            return f"local {self.model.split('/', 1)[-1]} (tiny demo model)"
        return self.model if not self.api_base else f"{self.model} @ {self.api_base}"

    def to_dict(self) -> dict:
        return asdict(self)


def _provider_of(model: str) -> str:
    """The provider a litellm model name belongs to (by prefix or well-known family)."""
    prefix = model.split("/", 1)[0].lower() if "/" in model else ""
    if prefix in ("anthropic", "openai", "gemini"):
        return prefix
    low = model.lower()
    if low.startswith("claude"):
        return "anthropic"
    if low.startswith("gemini"):
        return "gemini"
    if low.startswith(("gpt", "o1", "o3", "o4")):
        return "openai"
    return prefix or "openai"


def resolve_model(model_type: str | None = None, model: str | None = None, api_base: str | None = None) -> ModelChoice:
    """Resolve ``--model_type``/``--model`` (and an optional OpenAI-compatible ``api_base``).

    No arguments: the ``DEFAULT_MODEL`` setting, else the first provider with a key, else assembly
    from knowledge (``knowledge``: no model at all). ``model_type='local'`` always means the embedded
    tiny model, which is never the default: its answers carry no scientific weight.
    """
    from .local import LOCAL_MODEL_NAME, local_api_base

    if model_type and model_type not in MODEL_TYPES:
        raise ValueError(f"unknown model type {model_type!r}; choose one of {', '.join(MODEL_TYPES)}")
    if model_type == KNOWLEDGE_PROVIDER or (not model_type and model == KNOWLEDGE_MODEL):
        return ModelChoice(KNOWLEDGE_PROVIDER, KNOWLEDGE_MODEL, None, False)
    if model_type == "local":
        return ModelChoice("local", model or f"openai/{LOCAL_MODEL_NAME}", api_base or local_api_base(), True)
    if not model and not model_type:
        model = get_settings().default_model
        if not model:
            keys = get_settings().provider_keys()
            model_type = next((p for p in ("anthropic", "openai", "gemini") if keys[p]), None)
            if model_type is None and not api_base:
                return resolve_model(KNOWLEDGE_PROVIDER)
    if not model:
        model = PROVIDER_DEFAULTS[model_type or "openai"]
    elif model_type and "/" not in model:
        model = f"{model_type}/{model}"
    provider = model_type or _provider_of(model)
    if api_base:
        provider = "openai-compatible" if provider == "openai" else provider
        if "/" not in model:
            model = f"openai/{model}"
    return ModelChoice(provider, model, api_base, False)


def api_key_for(choice: ModelChoice) -> str | None:
    """The key to send for ``choice`` (None: let the server go without). Never store or log it."""
    s = get_settings()
    if choice.is_local:
        return "sk-local-no-key"  # the llama.cpp server ignores it; the OpenAI client needs one
    secret = {"anthropic": s.anthropic_api_key, "openai": s.openai_api_key, "gemini": s.gemini_api_key,
              "openai-compatible": s.openai_api_key}.get(choice.provider)
    value = secret.get_secret_value() if secret is not None else ""
    if value:
        return value
    return "sk-no-key" if choice.api_base else None


def missing_key_message(choice: ModelChoice) -> str | None:
    """A sentence saying which key is missing for ``choice``, or None when it can be called."""
    if choice.is_local or choice.api_base or choice.is_knowledge:
        return None
    if api_key_for(choice):
        return None
    env = PROVIDER_KEY_ENV.get(choice.provider, "the provider's API key")
    return (f"no {env} is set, so {choice.model} cannot be called; put {env}=... in the environment or a .env "
            f"file, or choose --model_type knowledge (assembled from knowledge bases, no model) or another provider")


def model_available() -> ModelChoice | None:
    """A model that can be called right now: a configured provider, or the running local model."""
    from .local import local_status

    s = get_settings()
    if s.default_model:
        choice = resolve_model(model=s.default_model)
        if missing_key_message(choice) is None and not choice.is_knowledge:
            return choice
    for provider, present in s.provider_keys().items():
        if present:
            return resolve_model(provider)
    if local_status().running:
        return resolve_model("local")
    return None


def choice_for_run(run) -> ModelChoice:
    """The model a run (a ``store.Run`` row) calls, resolved again from what it stored; keys are never stored."""
    opts = run.options or {}
    if (run.meta or {}).get("is_local") or run.provider == "local":
        return resolve_model("local", run.model)
    if run.provider == "knowledge":
        return resolve_model("knowledge")
    return ModelChoice(run.provider or "openai", run.model or "", opts.get("api_base"), False)
