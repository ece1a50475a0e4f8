"""The development secret file is created private: mode 0600 from its first byte, never chmod-ed after."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from app.settings import Settings


def test_the_secret_file_is_created_0600_even_under_a_permissive_umask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_chmod(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("written first, then chmod-ed: readable by others in between")

    monkeypatch.setattr(Path, "chmod", no_chmod)
    path = tmp_path / "secret"
    previous = os.umask(0)
    try:
        secret = Settings(_env_file=None, secret_file=path).secret_bytes()  # type: ignore[call-arg]
    finally:
        os.umask(previous)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(secret) >= 32
    assert Settings(_env_file=None, secret_file=path).secret_bytes() == secret  # type: ignore[call-arg]
