"""Signing keys for the sign-in cookie and the API's tokens: from the settings, else made once."""

from __future__ import annotations

import secrets

from pydantic import SecretStr

from backend.core.settings import get_settings


def signing_key(configured: SecretStr | None, file_name: str) -> str:
    """The configured key, else a random key kept in DATA_DIR/`file_name` (made once, readable by its owner only)."""
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value()
    path = get_settings().data_dir / file_name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()
