"""Settings: production refuses a missing or weak secret; development generates one once."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.settings import Settings


def test_production_refuses_to_start_without_a_secret_and_says_why():
    with pytest.raises(ValidationError, match="FAIRSLOT_SECRET_KEY must be set"):
        Settings(_env_file=None, env="production", secret_key=None)


def test_production_refuses_a_short_secret():
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(_env_file=None, env="production", secret_key="short")


def test_production_accepts_a_strong_secret():
    settings = Settings(_env_file=None, env="production", secret_key="x" * 48)
    assert settings.secret_bytes() == b"x" * 48


def test_development_generates_the_secret_once_into_a_private_file(tmp_path):
    path = tmp_path / "secret"
    settings = Settings(_env_file=None, secret_file=path)
    first = settings.secret_bytes()
    assert len(first) >= 32
    assert path.stat().st_mode & 0o777 == 0o600
    assert Settings(_env_file=None, secret_file=path).secret_bytes() == first


def test_a_plain_postgresql_url_gets_the_psycopg_driver():
    settings = Settings(_env_file=None, database_url="postgresql://postgres@127.0.0.1:5432/app")
    assert settings.database_url == "postgresql+psycopg://postgres@127.0.0.1:5432/app"


def test_settings_come_from_fairslot_environment_variables(monkeypatch):
    monkeypatch.setenv("FAIRSLOT_OFFER_TTL_HOURS", "12")
    monkeypatch.setenv("FAIRSLOT_REDRAW_WITHIN", "PT2H")
    settings = Settings(_env_file=None)
    assert settings.offer_ttl_hours == 12
    assert settings.redraw_within.total_seconds() == 7200


def test_production_refuses_the_local_beacon_chain_and_says_why():
    with pytest.raises(ValueError, match="proves nothing against whoever runs the host"):
        Settings(_env_file=None, env="production", secret_key="x" * 48, beacon_chain="local")


def test_production_defaults_to_the_public_quicknet_chain_and_its_relays():
    settings = Settings(_env_file=None, env="production", secret_key="x" * 48)
    assert settings.effective_beacon_chain == "quicknet"
    assert settings.beacon_relays and all(url.startswith("https://") for url in settings.beacon_relays)


def test_development_defaults_to_a_local_chain_signed_in_process():
    settings = Settings(_env_file=None, env="development")
    assert settings.effective_beacon_chain == "local"
    assert settings.beacon_relays == []
    custom = Settings(_env_file=None, beacon_urls="http://relay-a/ , http://relay-b")
    assert custom.beacon_relays == ["http://relay-a", "http://relay-b"]


def test_a_beacon_chain_must_be_named_or_given_by_its_info():
    with pytest.raises(ValidationError, match="chain info"):
        Settings(_env_file=None, beacon_chain="my-own-chain")
    with pytest.raises(ValidationError, match="needs hash"):
        Settings(_env_file=None, beacon_chain='{"hash": "00"}')
