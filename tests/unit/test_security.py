"""Passwords, tokens and secrets at rest."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from issuesync.errors import ConfigurationError
from issuesync.security import (
    SecretBox,
    generate_token,
    hash_password,
    load_or_create_secret_key,
    token_digest,
    verify_password,
)


def test_password_hashes_are_salted_and_verify() -> None:
    first, second = hash_password("hunter2"), hash_password("hunter2")
    assert first != second
    assert "hunter2" not in first
    assert verify_password("hunter2", first)
    assert verify_password("hunter2", second)
    assert not verify_password("hunter3", first)
    assert not verify_password("hunter2", None)
    assert not verify_password("hunter2", "not$a$hash")


def test_tokens_are_random_and_stored_as_digests() -> None:
    token = generate_token()
    assert token.startswith("isy_")
    assert token != generate_token()
    assert token_digest(token) == token_digest(token)
    assert token not in token_digest(token)


def test_secret_box_round_trip_and_wrong_key() -> None:
    box = SecretBox(Fernet.generate_key().decode())
    sealed = box.encrypt("tracker-password")
    assert "tracker-password" not in sealed
    assert box.decrypt(sealed) == "tracker-password"
    with pytest.raises(ConfigurationError, match="ISSUESYNC_SECRET_KEY"):
        SecretBox(Fernet.generate_key().decode()).decrypt(sealed)
    with pytest.raises(ConfigurationError, match="ISSUESYNC_SECRET_KEY"):
        SecretBox("not-a-key")


def test_secret_key_is_generated_once_and_private(tmp_path: Path) -> None:
    key = load_or_create_secret_key(tmp_path, None)
    assert load_or_create_secret_key(tmp_path, None) == key
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0
    assert load_or_create_secret_key(tmp_path, "configured") == "configured"
    SecretBox(key)  # a usable key
