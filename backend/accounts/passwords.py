"""Passwords: the policy, bcrypt hashing, and a constant-time check that also runs for unknown accounts."""

from __future__ import annotations

import bcrypt

from backend.accounts.errors import AccountError

BCRYPT_COST = 12
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_BYTES = 72  # bcrypt ignores (bcrypt 5 refuses) anything longer


PASSWORD_POLICY = (
    f"At least {MIN_PASSWORD_LENGTH} characters with at least one letter and one digit, "
    f"and at most {MAX_PASSWORD_BYTES} bytes."
)


# Checked against when an email is unknown, so that a miss costs as much as a wrong password.
UNKNOWN_ACCOUNT_HASH = bcrypt.hashpw(b"no such account", bcrypt.gensalt(BCRYPT_COST))


def check_password_policy(password: str) -> None:
    password = password or ""
    if (
        len(password) < MIN_PASSWORD_LENGTH
        or len(password.encode()) > MAX_PASSWORD_BYTES
        or not any(c.isalpha() for c in password)
        or not any(c.isdigit() for c in password)
    ):
        raise AccountError(f"Choose another password: {PASSWORD_POLICY}", field="password")


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(BCRYPT_COST)).decode()


def password_matches(password: str, password_hash: bytes) -> bool:
    candidate = (password or "").encode()
    if len(candidate) > MAX_PASSWORD_BYTES:  # could never have been set; still spend the same time
        bcrypt.checkpw(b"", password_hash)
        return False
    return bcrypt.checkpw(candidate, password_hash)
