"""Signing keys: the environment wins; otherwise one key is made in data/, kept private and reused."""

import stat

import database
from backend.core import keys


def test_the_environment_wins(monkeypatch, tmp_path):
    monkeypatch.setattr(database, "DATA_DIR", tmp_path)
    monkeypatch.setenv("SOME_KEY", "from-the-environment")
    assert keys.signing_key("SOME_KEY", "some_key") == "from-the-environment"
    assert not (tmp_path / "some_key").exists()


def test_a_key_is_made_once_readable_by_its_owner_only(monkeypatch, tmp_path):
    monkeypatch.setattr(database, "DATA_DIR", tmp_path / "data")
    monkeypatch.delenv("SOME_KEY", raising=False)
    first = keys.signing_key("SOME_KEY", "some_key")
    assert len(first) >= 48 and keys.signing_key("SOME_KEY", "some_key") == first
    assert stat.S_IMODE((tmp_path / "data" / "some_key").stat().st_mode) == 0o600
    assert keys.signing_key("SOME_KEY", "other_key") != first
