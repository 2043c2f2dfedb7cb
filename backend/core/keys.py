"""Signing keys for the sign-in cookie and the API's tokens: from the environment, else made once."""

from __future__ import annotations

import os
import secrets

import database


def signing_key(env_var: str, file_name: str) -> str:
    """$`env_var`, else a random key kept in data/`file_name` (created once, readable by its owner only)."""
    key = os.environ.get(env_var)
    if key:
        return key
    path = database.DATA_DIR / file_name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()
