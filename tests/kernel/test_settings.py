"""Settings: read from env and .env, documented in the README, secrets never printed."""
from pathlib import Path

from vcr_core.kernel.settings import Settings, get_settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_documented_in_the_readme():
    text = README.read_text()
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in text]
    assert not missing, f"document these settings in README.md: {missing}"


def test_env_file_and_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("ANTHROPIC_API_KEY=sk-test-123\nNER_BACKEND=hunflair2\n")
    monkeypatch.setenv("NER_BACKEND", "dictionary")
    get_settings.cache_clear()
    s = get_settings()
    assert s.provider_keys()["anthropic"] is True and s.provider_keys()["openai"] is False
    assert s.ner_backend == "dictionary"  # environment wins over .env
    assert "sk-test-123" not in repr(s) and "sk-test-123" not in str(s.model_dump())


def test_default_database_is_sqlite_in_user_dir(isolated_settings):
    s = get_settings()
    assert s.resolved_database_url == f"sqlite:///{isolated_settings / 'vcr.db'}"


def test_settings_shown_on_the_status_page_hide_passwords_and_keys(monkeypatch):
    from vcr_core.system.status import settings_for_display

    monkeypatch.setenv("DATABASE_URL", "postgresql://u:secretpw@db.example/vcr")
    monkeypatch.setenv("PUBMED_SERVER_URL", "http://bob:hunter2@127.0.0.1:8003")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret")
    get_settings.cache_clear()
    shown = settings_for_display()
    text = str(shown)
    assert "secretpw" not in text and "hunter2" not in text and "sk-very-secret" not in text
    assert shown["openai_api_key"] == "set" and shown["anthropic_api_key"] == "not set"
    assert shown["database_url"].startswith("postgresql://u:")
