"""Settings: production refuses a missing or weak secret; development generates one once."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.settings import Settings

PUBLIC = "https://rdv.example.fr"


def test_production_refuses_to_start_without_a_secret_and_says_why():
    with pytest.raises(ValidationError, match="FAIRSLOT_SECRET_KEY must be set"):
        Settings(_env_file=None, env="production", secret_key=None)


def test_production_refuses_a_short_secret():
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(_env_file=None, env="production", secret_key="short")


def test_production_accepts_a_strong_secret():
    settings = Settings(_env_file=None, env="production", secret_key="x" * 48, public_url=PUBLIC)
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
        Settings(
            _env_file=None, env="production", secret_key="x" * 48, public_url=PUBLIC, beacon_chain="local"
        )


def test_production_defaults_to_the_public_quicknet_chain_and_its_relays():
    settings = Settings(_env_file=None, env="production", secret_key="x" * 48, public_url=PUBLIC)
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


def test_production_refuses_to_start_without_a_public_url_and_says_why():
    with pytest.raises(ValidationError, match="FAIRSLOT_PUBLIC_URL must be set in production"):
        Settings(_env_file=None, env="production", secret_key="x" * 48)


def test_a_public_url_is_absolute_and_kept_without_its_trailing_slash():
    assert Settings(_env_file=None, public_url="https://rdv.example.fr/").public_url == PUBLIC
    with pytest.raises(ValidationError, match="absolute"):
        Settings(_env_file=None, public_url="rdv.example.fr")


def test_links_fall_back_to_the_local_address_only_when_no_public_url_is_given(monkeypatch):
    monkeypatch.delenv("FAIRSLOT_PUBLIC_URL", raising=False)
    assert not Settings(_env_file=None).public_url_is_set
    monkeypatch.setenv("FAIRSLOT_PUBLIC_URL", "http://127.0.0.1:8111")
    given = Settings(_env_file=None)
    assert given.public_url_is_set
    assert given.public_url == "http://127.0.0.1:8111"


def test_the_development_message_catcher_is_on_in_development_only_and_refused_in_production():
    assert Settings(_env_file=None, env="development").dev_messages_enabled
    assert not Settings(_env_file=None, env="test").dev_messages_enabled
    assert Settings(_env_file=None, env="test", dev_messages=True).dev_messages_enabled
    with pytest.raises(ValidationError, match="FAIRSLOT_DEV_MESSAGES is refused in production"):
        Settings(_env_file=None, env="production", secret_key="x" * 48, public_url=PUBLIC, dev_messages=True)
