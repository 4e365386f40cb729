"""One settings object, read from the environment and a ``.env`` file.

Names follow the original pipeline (``DATA_DIR``, ``STARK_PRIMEKG_DIR``, ``DRUGBANK_XML_PATH``,
provider keys) plus the application's own. Every setting is documented in the README; a test
fails when one is not.
"""
from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_NAME = "vcr-curation"
CONSENSUS_RULES = ("one", "two_agree")


def user_data_dir() -> Path:
    """Per-user data directory (database, caches) unless ``VCR_HOME`` says otherwise."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


class Settings(BaseSettings):
    """Application settings. Environment variables win over ``.env``; unknown keys are ignored."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False)

    # -- where things live
    vcr_home: Path = Field(default_factory=user_data_dir, description="Per-user directory for the database and caches.")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite file in VCR_HOME.")
    data_dir: Path | None = Field(default=None, description="Original pipeline's data directory (mondo.json, ...).")
    stark_primekg_dir: Path | None = Field(default=None, description="STaRK PrimeKG directory.")
    primekg_csv: Path | None = Field(default=None, description="PrimeKG kg.csv file (alternative to STaRK).")
    drugbank_xml_path: Path | None = Field(default=None, description="Optional DrugBank full database XML.")

    # -- providers (never stored, logged or shown)
    anthropic_api_key: SecretStr | None = None
    openai_api_key: SecretStr | None = None
    gemini_api_key: SecretStr | None = None
    ncbi_api_key: SecretStr | None = None

    # -- preprocessing and tools
    ner_backend: str = Field(default="dictionary", description="'dictionary' (offline) or 'hunflair2'.")
    hunflair2_model: str = Field(default="hunflair/hunflair2-ner", description="flair model name or path.")
    pubmed_backend: str = Field(default="auto", description="'auto', 'server', 'native', 'eutils' or 'off'.")
    pubmed_server_url: str | None = Field(default=None, description="Base URL of a /find_matches server.")
    pubmed_index_dir: Path | None = Field(default=None, description="Native index directory (data.bin, ids.bin).")
    pubmed_db: Path | None = Field(default=None, description="SQLite articles database (pubmed-vectors schema).")
    offline: bool = Field(default=False, description="Never touch the network (PubChem, E-utilities, Harmonizome, Wikipedia).")
    tool_timeout_s: float = Field(default=60.0, gt=0, description="Per-tool time-out for one record.")

    # -- knowledge sources (issue 11a): the offline Gene Ontology file and two network services
    orgdb_path: Path | None = Field(default=None, description="org.Hs.eg.sqlite (Entrez gene2go, aliases, UniProt); default: <venv>/share/vcr/org.Hs.eg.sqlite.")
    go_ontology_path: Path | None = Field(default=None, description="GO.sqlite (the Gene Ontology: names, synonyms, relations; from Debian's r-bioc-go.db); default: <venv>/share/vcr/GO.sqlite.")
    indra_url: str = Field(default="https://db.indra.bio", description="INDRA statement REST service (indra verifier).")
    chembl_url: str = Field(default="https://www.ebi.ac.uk/chembl/api/data", description="ChEMBL web services (chembl verifier).")
    indra_api_key: SecretStr | None = Field(default=None, description="Optional INDRA DB REST key.")

    # -- models
    default_model: str | None = Field(default=None, description="litellm model used when none is chosen.")
    llm_timeout_s: float = Field(default=120.0, gt=0, description="Per-call time-out for model calls.")
    llm_max_retries: int = Field(default=4, ge=0, description="Retries on 429, 5xx and time-outs.")
    local_model_port: int = Field(default=8765, description="Port of the embedded local model server on 127.0.0.1.")
    llm_max_concurrent: int | None = Field(default=None, description="Cap on model calls in flight per provider, "
                                           "across every worker and Ray task on the database.")
    shared_rate_limits: bool = Field(default=True, description="Keep rate limits in the database, shared by all "
                                     "workers (false: per process).")

    # -- app
    app_worker: bool = Field(default=True, description="The app supervises a separate `vcr worker` process.")

    consensus: str = Field(default="one", description="'one' curator's judgment decides, or 'two_agree': two curators who agree.")
    lease_s: float = Field(default=600.0, gt=0, le=7 * 86400,
                           description="Seconds a trace handed to a curator from a queue stays theirs.")
    admins: str = Field(default="", description="Comma-separated curator names (or signed-in e-mails) who are admins: "
                        "database download, backups, restores and settings. Empty: the identity provider's claims decide; "
                        "without login everyone on the machine is admin.")
    admin_claim: str = Field(default="roles", description="Claim of the signed-in user (OIDC) that lists their roles; "
                             "a user whose claim holds 'admin' (or 'owner') is an admin.")

    # -- ingest
    max_upload_mb: float = Field(default=50.0, gt=0, description="Largest accepted upload or import file (vcr import-traces), in MB.")

    # -- filter policy
    policy_min_supported: float = Field(default=0.5, description="Share of claims that must be supported to pass; "
                                        "below it a trace with no contradiction is 'insufficient' (not 'fail').")
    policy_contradiction_min_score: float = Field(default=0.5, description="Score from which a verifier's contradiction "
                                                  "counts as credible and fails the trace.")
    expression_padj: float = Field(default=0.05, description="Adjusted p below which a gene counts as significant.")
    expression_min_abs_log2fc: float = Field(default=1.0, description="|log2FC| above which a gene counts as changed.")

    @field_validator("consensus", mode="before")
    @classmethod
    def _consensus_rule(cls, v: Any) -> str:
        rule = str(v if v is not None else "one").strip().lower() or "one"
        if rule not in CONSENSUS_RULES:
            raise ValueError(f"use one of {', '.join(CONSENSUS_RULES)}")
        return rule

    @property
    def admin_names(self) -> set[str]:
        """The ``ADMINS`` as curator keys (``identity.curator_key``)."""
        from .identity import key_or_none

        return {k for k in (key_or_none(n) for n in self.admins.split(",")) if k}

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.vcr_home / 'vcr.db'}"

    @property
    def cache_dir(self) -> Path:
        path = self.vcr_home / "cache"
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def resolved_orgdb_path(self) -> Path:
        """``ORGDB_PATH``, else the file the set-up command extracts beside the virtual environment."""
        if self.orgdb_path:
            return Path(self.orgdb_path).expanduser()
        return Path(sys.prefix) / "share" / "vcr" / "org.Hs.eg.sqlite"

    @property
    def resolved_go_ontology_path(self) -> Path:
        """``GO_ONTOLOGY_PATH``, else the GO.sqlite the set-up command extracts beside the virtual environment."""
        if self.go_ontology_path:
            return Path(self.go_ontology_path).expanduser()
        return Path(sys.prefix) / "share" / "vcr" / "GO.sqlite"

    def provider_keys(self) -> dict[str, bool]:
        """Which provider keys are present (never the keys themselves)."""
        return {
            "anthropic": bool(self.anthropic_api_key and self.anthropic_api_key.get_secret_value()),
            "openai": bool(self.openai_api_key and self.openai_api_key.get_secret_value()),
            "gemini": bool(self.gemini_api_key and self.gemini_api_key.get_secret_value()),
        }


class SettingsError(ValueError):
    """A setting whose value cannot be used: one line naming it, its value and what it takes."""


def settings_error_line(exc: ValidationError) -> str:
    """One line for every invalid setting in ``exc`` (no traceback, no pydantic URL)."""
    parts = []
    for err in exc.errors():
        name = str(err.get("loc", ("?",))[0]).upper()
        value = err.get("input")
        shown = repr(value) if isinstance(value, (str, int, float)) and len(repr(value)) <= 40 else "the value given"
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{name} is {shown}: {msg}")
    return "; ".join(parts) + " (fix it in the environment or .env)"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; call ``get_settings.cache_clear()`` after changing env).

    An invalid value raises ``SettingsError`` with one line naming the setting and what it takes."""
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(settings_error_line(exc)) from None
