"""A member's own details: name, bio, phone number (normalised to E.164) and avatar picture."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, text

from backend.accounts.errors import AccountError
from backend.accounts.users import check_name
from backend.core.clock import clock
from backend.core.settings import get_settings

MAX_BIO_LENGTH = 500
MAX_AVATAR_BYTES = 1_048_576
AVATAR_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


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
    Numbers without a country code are read as the DEFAULT_PHONE_REGION setting's."""
    import phonenumbers

    phone = (phone or "").strip()
    if not phone:
        return None
    try:
        number = phonenumbers.parse(phone[:40], get_settings().default_phone_region)
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
