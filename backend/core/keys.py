"""Signing keys for the sign-in cookie and the API's tokens: from the settings, else made once."""

from __future__ import annotations

import os
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
        # Written whole under another name, then linked in only if no other process (another app server or
        # test worker starting at the same moment) got there first: every process reads the same, whole key.
        draft = path.with_name(f".{file_name}.{secrets.token_hex(8)}")
        draft.write_text(secrets.token_urlsafe(48))
        draft.chmod(0o600)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()
