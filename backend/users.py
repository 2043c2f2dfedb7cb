"""Accounts: registration, sign-in with throttling, sessions, roles and viewing profiles.

Every function takes the current time as `now` (defaulting to the clock) so that behaviour over
time (lock-outs, sign-outs) can be replayed in tests. Messages of `AccountError` are safe to show.

CLI: `python -m backend.users create-admin --email E --name N` (password from $ADMIN_PASSWORD or a prompt).
"""

from __future__ import annotations

import argparse
import getpass
import os
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import bcrypt
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

ROLES = ("subscriber", "admin", "analyst")
STAFF_ROLES = ("admin", "analyst")
BCRYPT_COST = 12
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_BYTES = 72  # bcrypt ignores (bcrypt 5 refuses) anything longer
PASSWORD_POLICY = (
    f"At least {MIN_PASSWORD_LENGTH} characters with at least one letter and one digit, "
    f"and at most {MAX_PASSWORD_BYTES} bytes."
)
MAX_NAME_LENGTH = 80
MAX_EMAIL_LENGTH = 254
MAX_PROFILES = 5
SESSION_DAYS = 7  # a sign-in cookie lasts this long
FAILURES_BEFORE_LOCK = 5
LOCK_MINUTES = 15
SIGN_IN_FAILED = "Email or password is incorrect."
EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Checked against when an email is unknown, so that a miss costs as much as a wrong password.
_UNKNOWN_ACCOUNT_HASH = bcrypt.hashpw(b"no such account", bcrypt.gensalt(BCRYPT_COST))


class AccountError(ValueError):
    """A refusal whose message can be shown to the person as it is."""


class SignInLocked(AccountError):
    pass


class NotAuthorised(PermissionError):
    pass


@dataclass(frozen=True)
class User:
    user_id: int
    email: str
    display_name: str
    role: str
    tokens_valid_after: datetime
    suspended_at: datetime | None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


@dataclass(frozen=True)
class Profile:
    profile_id: int
    name: str
    is_kids: bool
    maturity_cap: str | None


def clock(now: datetime | None = None) -> datetime:
    """`now` when given (tests replay time), else the current UTC time."""
    return now or datetime.now(UTC)


# --- validation ----------------------------------------------------------------------------------


def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    if len(email) > MAX_EMAIL_LENGTH or not EMAIL_SHAPE.match(email):
        raise AccountError("Enter a valid email address, like name@example.com.")
    return email


def check_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise AccountError("Enter your name.")
    if len(name) > MAX_NAME_LENGTH:
        raise AccountError(f"Names are at most {MAX_NAME_LENGTH} characters.")
    return name


def check_password_policy(password: str) -> None:
    password = password or ""
    if (
        len(password) < MIN_PASSWORD_LENGTH
        or len(password.encode()) > MAX_PASSWORD_BYTES
        or not any(c.isalpha() for c in password)
        or not any(c.isdigit() for c in password)
    ):
        raise AccountError(f"Choose another password: {PASSWORD_POLICY}")


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(BCRYPT_COST)).decode()


def _password_matches(password: str, password_hash: bytes) -> bool:
    candidate = (password or "").encode()
    if len(candidate) > MAX_PASSWORD_BYTES:  # could never have been set; still spend the same time
        bcrypt.checkpw(b"", password_hash)
        return False
    return bcrypt.checkpw(candidate, password_hash)


# --- accounts ------------------------------------------------------------------------------------

_USER_COLUMNS = "u.user_id, u.email, u.display_name, u.role, u.tokens_valid_after, u.suspended_at"


def _user(row) -> User:
    """A User from a row that holds its columns (and maybe others)."""
    return User(**{name: row._mapping[name] for name in User.__dataclass_fields__})


def register(
    engine: Engine, email: str, name: str, password: str, *, role: str = "subscriber", now: datetime | None = None
) -> User:
    """Create an account, its login entry and a first viewing profile, in one transaction."""
    email, name = normalise_email(email), check_name(name)
    check_password_policy(password)
    if role not in ROLES:
        raise AccountError(f"Unknown role {role!r}.")
    password_hash = hash_password(password)
    now = clock(now)
    try:
        with engine.begin() as conn:
            row = conn.execute(
                text(f"""
                INSERT INTO users AS u (email, display_name, password_hash, role, tokens_valid_after, created_at,
                                        updated_at)
                VALUES (:email, :name, :hash, :role, :now, :now, :now)
                RETURNING {_USER_COLUMNS}"""),
                {"email": email, "name": name, "hash": password_hash, "role": role, "now": now},
            ).one()
            conn.execute(
                text("INSERT INTO user_logins (email, user_id, created_at) VALUES (:email, :id, :now)"),
                {"email": email, "id": row.user_id, "now": now},
            )
            conn.execute(
                text("INSERT INTO profiles (user_id, name, created_at) VALUES (:id, :name, :now)"),
                {"id": row.user_id, "name": name.split()[0][:30], "now": now},
            )
    except IntegrityError as error:
        if "user_logins_pkey" in str(error.orig):
            raise AccountError("An account with this email already exists. Sign in instead.") from None
        raise
    return _user(row)


def get_user(engine: Engine, user_id: int) -> User | None:
    with engine.connect() as conn:
        row = conn.execute(text(f"SELECT {_USER_COLUMNS} FROM users u WHERE u.user_id = :id"), {"id": user_id}).first()
    return _user(row) if row else None


def find_user_by_email(engine: Engine, email: str) -> User | None:
    try:
        email = normalise_email(email)
    except AccountError:
        return None
    with engine.connect() as conn:
        row = conn.execute(
            text(f"""
            SELECT {_USER_COLUMNS} FROM user_logins l JOIN users u ON u.user_id = l.user_id
            WHERE l.email = :email"""),
            {"email": email},
        ).first()
    return _user(row) if row else None


def _lock_message(locked_until: datetime, now: datetime) -> str:
    minutes = max(1, round((locked_until - now).total_seconds() / 60))
    return (
        f"Too many failed sign-ins for this email. Try again in {minutes} minute{'s' if minutes > 1 else ''}, "
        "or reset your password."
    )


def authenticate(engine: Engine, email: str, password: str, *, now: datetime | None = None) -> User:
    """The account for this email and password, or AccountError with a message that does not say
    whether the account exists. Failures are counted per email in the database: after
    FAILURES_BEFORE_LOCK of them within LOCK_MINUTES, sign-in is locked for LOCK_MINUTES."""
    now = clock(now)
    try:
        email = normalise_email(email)
    except AccountError:
        bcrypt.checkpw(b"", _UNKNOWN_ACCOUNT_HASH)
        raise AccountError(SIGN_IN_FAILED) from None
    with engine.connect() as conn:
        locked_until = conn.execute(
            text("SELECT locked_until FROM login_throttle WHERE email = :e"), {"e": email}
        ).scalar()
        if locked_until and locked_until > now:
            raise SignInLocked(_lock_message(locked_until, now))
        row = conn.execute(
            text(f"""
            SELECT {_USER_COLUMNS}, u.password_hash
            FROM user_logins l JOIN users u ON u.user_id = l.user_id WHERE l.email = :e"""),
            {"e": email},
        ).first()
    stored_hash = row.password_hash.encode() if row else _UNKNOWN_ACCOUNT_HASH
    if not _password_matches(password, stored_hash) or row is None:
        locked_until = _record_failure(engine, email, now)
        if locked_until:
            raise SignInLocked(_lock_message(locked_until, now))
        raise AccountError(SIGN_IN_FAILED)
    if row.suspended_at is not None:
        raise AccountError("This account is suspended. Contact support.")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM login_throttle WHERE email = :e"), {"e": email})
    return _user(row)


def _record_failure(engine: Engine, email: str, now: datetime) -> datetime | None:
    """Count a failed sign-in; returns the lock's end when this failure locks the email."""
    with engine.begin() as conn:
        failures = conn.execute(
            text("""
            INSERT INTO login_throttle AS t (email, failures, window_started_at)
            VALUES (:e, 1, :now)
            ON CONFLICT (email) DO UPDATE SET
                failures = CASE WHEN t.window_started_at > :window_start THEN t.failures + 1 ELSE 1 END,
                window_started_at = CASE WHEN t.window_started_at > :window_start
                                         THEN t.window_started_at ELSE EXCLUDED.window_started_at END,
                locked_until = NULL
            RETURNING failures"""),
            {"e": email, "now": now, "window_start": now - timedelta(minutes=LOCK_MINUTES)},
        ).scalar_one()
        if failures < FAILURES_BEFORE_LOCK:
            return None
        locked_until = now + timedelta(minutes=LOCK_MINUTES)
        conn.execute(
            text(
                "UPDATE login_throttle SET locked_until = :until, failures = 0, window_started_at = :now "
                "WHERE email = :e"
            ),
            {"until": locked_until, "now": now, "e": email},
        )
        return locked_until


def session_user(engine: Engine, email: str, token_expires_at: datetime) -> User | None:
    """The account behind a sign-in cookie that expires at `token_expires_at`, or None when that
    session was signed out, was issued before the account's last password change (or "sign out
    everywhere"), or the account is suspended."""
    try:
        email = normalise_email(email)
    except AccountError:
        return None
    with engine.connect() as conn:  # one query on every Streamlit run
        row = conn.execute(
            text(f"""
            SELECT {_USER_COLUMNS},
                   EXISTS (SELECT 1 FROM signed_out_sessions s
                           WHERE s.user_id = u.user_id AND s.token_expires_at = :exp) AS signed_out
            FROM user_logins l JOIN users u ON u.user_id = l.user_id
            WHERE l.email = :email"""),
            {"email": email, "exp": token_expires_at},
        ).first()
    if row is None or row.signed_out or row.suspended_at is not None:
        return None
    if token_expires_at - timedelta(days=SESSION_DAYS) < row.tokens_valid_after:
        return None
    return _user(row)


def sign_out_session(engine: Engine, user_id: int, token_expires_at: datetime, *, now: datetime | None = None) -> None:
    """End one session (this device): its cookie, even a saved copy, no longer signs in."""
    now = clock(now)
    with engine.begin() as conn:
        conn.execute(
            text("""INSERT INTO signed_out_sessions (user_id, token_expires_at, signed_out_at)
                             VALUES (:id, :exp, :now) ON CONFLICT (user_id, token_expires_at) DO NOTHING"""),
            {"id": user_id, "exp": token_expires_at, "now": now},
        )
        conn.execute(
            text("DELETE FROM signed_out_sessions WHERE user_id = :id AND token_expires_at < :now"),
            {"id": user_id, "now": now},
        )


def sign_out_everywhere(engine: Engine, user_id: int, *, now: datetime | None = None) -> None:
    """End every session of the account: cookies issued before now stop working."""
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE users SET tokens_valid_after = :now, updated_at = :now WHERE user_id = :id"),
            {"now": clock(now), "id": user_id},
        )


def change_password(engine: Engine, user_id: int, current: str, new: str, *, now: datetime | None = None) -> None:
    """Set a new password after checking the current one; every existing session ends."""
    now = clock(now)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM users WHERE user_id = :id"), {"id": user_id}).scalar()
    if stored is None or not _password_matches(current, stored.encode()):
        raise AccountError("Your current password is not correct.")
    check_password_policy(new)
    with engine.begin() as conn:
        conn.execute(
            text("""UPDATE users SET password_hash = :hash, tokens_valid_after = :now, updated_at = :now
                             WHERE user_id = :id"""),
            {"hash": hash_password(new), "now": now, "id": user_id},
        )


def authenticator_credentials(engine: Engine) -> dict:
    """Accounts in the shape streamlit-authenticator expects (email as username); suspended ones left out."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("""SELECT email, display_name, password_hash, role FROM users
                                    WHERE suspended_at IS NULL""")
        ).all()
    return {
        "usernames": {
            r.email: {"email": r.email, "name": r.display_name, "password": r.password_hash, "roles": [r.role]}
            for r in rows
        }
    }


def require_role(engine: Engine, user_id: int | None, *roles: str) -> User:
    """The account, if it exists, is not suspended and has one of `roles`; else NotAuthorised.

    Admin pages and admin backend functions call this on every request: the menu is not a check.
    """
    user = get_user(engine, user_id) if user_id is not None else None
    if user is None or user.suspended_at is not None or user.role not in roles:
        raise NotAuthorised("You do not have access to this.")
    return user


def accounts_by_role(engine: Engine, *, acting_user_id: int | None) -> list[dict]:
    """How many accounts (and suspended ones) each role has. Staff only."""
    require_role(engine, acting_user_id, *STAFF_ROLES)
    with engine.connect() as conn:
        rows = (
            conn.execute(
                text("""SELECT role, count(*) AS accounts, count(suspended_at) AS suspended
                                    FROM users GROUP BY role ORDER BY role""")
            )
            .mappings()
            .all()
        )
    return [dict(r) for r in rows]


# --- profile details ----------------------------------------------------------------------------

MAX_BIO_LENGTH = 500
MAX_AVATAR_BYTES = 1_048_576
AVATAR_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
DEFAULT_PHONE_REGION = os.environ.get("DEFAULT_PHONE_REGION", "US")


@dataclass(frozen=True)
class Details:
    display_name: str
    email: str
    bio: str
    phone_e164: str | None
    has_avatar: bool


def details(engine: Engine, user_id: int) -> Details:
    with engine.connect() as conn:
        row = conn.execute(
            text("""SELECT display_name, email, bio, phone_e164, avatar IS NOT NULL AS has_avatar
                                   FROM users WHERE user_id = :id"""),
            {"id": user_id},
        ).one()
    return Details(**row._mapping)


def normalise_phone(phone: str) -> str | None:
    """E.164 ('+14155550123') for a valid number, None for an empty field; AccountError otherwise.
    Numbers without a country code are read as DEFAULT_PHONE_REGION's."""
    import phonenumbers

    phone = (phone or "").strip()
    if not phone:
        return None
    try:
        number = phonenumbers.parse(phone[:40], DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise AccountError("Enter a valid phone number, with its country code (e.g. +44 20 7946 0958).")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def update_details(
    engine: Engine, user_id: int, *, name: str, bio: str, phone: str, now: datetime | None = None
) -> Details:
    name, phone_e164 = check_name(name), normalise_phone(phone)
    bio = (bio or "").strip()
    if len(bio) > MAX_BIO_LENGTH:
        raise AccountError(f"The bio is at most {MAX_BIO_LENGTH} characters.")
    with engine.begin() as conn:
        conn.execute(
            text("""UPDATE users SET display_name = :name, bio = :bio, phone_e164 = :phone, updated_at = :now
                             WHERE user_id = :id"""),
            {"name": name, "bio": bio, "phone": phone_e164, "now": clock(now), "id": user_id},
        )
    return details(engine, user_id)


def avatar_type_of(data: bytes) -> str | None:
    """The picture's type from its first bytes (never from the file name): PNG, JPEG or WebP."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in AVATAR_TYPES.items() if data.startswith(magic)), None)


def set_avatar(engine: Engine, user_id: int, data: bytes, *, now: datetime | None = None) -> None:
    kind = avatar_type_of(data)
    if kind is None:
        raise AccountError("Upload a PNG, JPEG or WebP picture.")
    if len(data) > MAX_AVATAR_BYTES:
        raise AccountError(f"Pictures are at most {MAX_AVATAR_BYTES // 1_048_576} MB.")
    with engine.begin() as conn:
        conn.execute(
            text("""UPDATE users SET avatar = :data, avatar_type = :kind, updated_at = :now
                             WHERE user_id = :id"""),
            {"data": data, "kind": kind, "now": clock(now), "id": user_id},
        )


def avatar(engine: Engine, user_id: int) -> bytes | None:
    with engine.connect() as conn:
        data = conn.execute(text("SELECT avatar FROM users WHERE user_id = :id"), {"id": user_id}).scalar()
    return bytes(data) if data is not None else None


# --- viewing profiles ----------------------------------------------------------------------------


def list_profiles(engine: Engine, user_id: int) -> list[Profile]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("""SELECT profile_id, name, is_kids, maturity_cap FROM profiles
                                    WHERE user_id = :id ORDER BY created_at, profile_id"""),
            {"id": user_id},
        ).all()
    return [Profile(**r._mapping) for r in rows]


def create_profile(
    engine: Engine, user_id: int, name: str, *, is_kids: bool = False, now: datetime | None = None
) -> Profile:
    """A new viewing profile (at most MAX_PROFILES per account). Kids profiles see kids' and older
    kids' titles only."""
    name = " ".join((name or "").split())
    if not name or len(name) > 30:
        raise AccountError("Profile names are 1 to 30 characters.")
    cap = "older_kids" if is_kids else None
    with engine.begin() as conn:
        conn.execute(text("SELECT 1 FROM users WHERE user_id = :id FOR UPDATE"), {"id": user_id})
        count = conn.execute(text("SELECT count(*) FROM profiles WHERE user_id = :id"), {"id": user_id}).scalar()
        if count >= MAX_PROFILES:
            raise AccountError(f"An account has at most {MAX_PROFILES} profiles.")
        taken = conn.execute(
            text("SELECT 1 FROM profiles WHERE user_id = :id AND lower(name) = lower(:name)"),
            {"id": user_id, "name": name},
        ).first()
        if taken:
            raise AccountError(f"There is already a profile called {name}.")
        row = conn.execute(
            text("""
            INSERT INTO profiles (user_id, name, is_kids, maturity_cap, created_at)
            VALUES (:id, :name, :kids, :cap, :now) RETURNING profile_id, name, is_kids, maturity_cap"""),
            {"id": user_id, "name": name, "kids": is_kids, "cap": cap, "now": clock(now)},
        ).one()
    return Profile(**row._mapping)


# --- CLI -----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    import database

    parser = argparse.ArgumentParser(prog="python -m backend.users")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-admin", help="create an admin account (password: $ADMIN_PASSWORD or prompt)")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--role", choices=STAFF_ROLES, default="admin")
    args = parser.parse_args(argv)

    password = os.environ.get("ADMIN_PASSWORD") or getpass.getpass(f"Password ({PASSWORD_POLICY}): ")
    try:
        user = register(database.get_engine(), args.email, args.name, password, role=args.role)
    except AccountError as error:
        print(error, file=sys.stderr)
        return 2
    print(f"{user.role} {user.email} created (user_id {user.user_id})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
