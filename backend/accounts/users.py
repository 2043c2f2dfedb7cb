"""Accounts: registration, lookup, roles and the server-side role check (`require_role`).

Every function takes the current time as `now` (defaulting to the clock) so that behaviour over time can be
replayed in tests. Messages of `AccountError` are safe to show. Sign-in and sessions are in
backend.accounts.sessions, passwords in .passwords, profiles in .profiles, a member's details in .details.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from backend.accounts.errors import AccountError, EmailTaken
from backend.accounts.passwords import check_password_policy, hash_password
from backend.core.clock import clock
from backend.core.errors import NotAuthorised

ROLES = ("subscriber", "admin", "analyst")
STAFF_ROLES = ("admin", "analyst")
MAX_NAME_LENGTH = 80
MAX_EMAIL_LENGTH = 254


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


def normalise_email(email: str) -> str:
    """The address as stored (checked by email-validator for syntax only, no DNS; lower-cased), or
    AccountError. Only plain mailbox@domain addresses pass: no display names, quoting or IP literals."""
    email = (email or "").strip()
    try:
        if len(email) > MAX_EMAIL_LENGTH:
            raise EmailNotValidError("too long")
        checked = validate_email(
            email, check_deliverability=False, allow_quoted_local=False, allow_domain_literal=False
        )
    except EmailNotValidError:
        raise AccountError("Enter a valid email address, like name@example.com.", field="email") from None
    return checked.normalized.lower()


def check_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise AccountError("Enter your name.", field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise AccountError(f"Names are at most {MAX_NAME_LENGTH} characters.", field="name")
    return name


USER_COLUMNS = "u.user_id, u.email, u.display_name, u.role, u.tokens_valid_after, u.suspended_at"


def user_from_row(row) -> User:
    """A User from a row that holds its columns (and maybe others)."""
    return User(**{name: row._mapping[name] for name in User.__dataclass_fields__})


def register(
    engine: Engine, email: str, name: str, password: str, *, role: str = "subscriber", now: datetime | None = None
) -> User:
    """Create an account, its login entry and a first viewing profile, in one transaction."""
    email, name = normalise_email(email), check_name(name)
    check_password_policy(password)
    if role not in ROLES:
        raise AccountError(f"Unknown role {role!r}.", field="role")
    password_hash = hash_password(password)
    now = clock(now)
    try:
        with engine.begin() as conn:
            row = conn.execute(
                text(f"""
                INSERT INTO users AS u (email, display_name, password_hash, role, tokens_valid_after, created_at,
                                        updated_at)
                VALUES (:email, :name, :hash, :role, :now, :now, :now)
                RETURNING {USER_COLUMNS}"""),
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
            raise EmailTaken("An account with this email already exists. Sign in instead.", field="email") from None
        raise
    return user_from_row(row)


def get_user(engine: Engine, user_id: int) -> User | None:
    with engine.connect() as conn:
        row = conn.execute(text(f"SELECT {USER_COLUMNS} FROM users u WHERE u.user_id = :id"), {"id": user_id}).first()
    return user_from_row(row) if row else None


def find_user_by_email(engine: Engine, email: str) -> User | None:
    try:
        email = normalise_email(email)
    except AccountError:
        return None
    with engine.connect() as conn:
        row = conn.execute(
            text(f"""
            SELECT {USER_COLUMNS} FROM user_logins l JOIN users u ON u.user_id = l.user_id
            WHERE l.email = :email"""),
            {"email": email},
        ).first()
    return user_from_row(row) if row else None


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
