import pytest
from pydantic import SecretStr, ValidationError

from anxin.core.config import DEFAULT_SECRET_KEY, Settings


def test_defaults_are_the_embedded_setup(monkeypatch):
    for name in ("ANXIN_DATABASE_URL", "ANXIN_ENVIRONMENT", "ANXIN_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert settings.database_url == "sqlite:///./var/anxin.db"
    assert str(settings.sqlite_path()) == "var/anxin.db"
    assert settings.bus_url == "memory://"


def test_environment_prefix(monkeypatch):
    monkeypatch.setenv("ANXIN_PORT", "9100")
    assert Settings(_env_file=None).port == 9100


def test_production_refuses_the_default_secret():
    with pytest.raises(ValidationError, match="ANXIN_SECRET_KEY"):
        Settings(_env_file=None, environment="production", secret_key=SecretStr(DEFAULT_SECRET_KEY))
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(_env_file=None, environment="production", secret_key=SecretStr("short"))
    ok = Settings(_env_file=None, environment="production", secret_key=SecretStr("x" * 40))
    assert ok.is_production
