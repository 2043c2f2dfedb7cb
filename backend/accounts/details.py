"""A member's own details: name, bio, phone number (normalised to E.164) and avatar picture."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, text

from backend.accounts import pictures
from backend.accounts.errors import AccountError
from backend.accounts.users import check_name
from backend.core.clock import clock
from backend.core.settings import get_settings

MAX_BIO_LENGTH = 500
MAX_AVATAR_BYTES = pictures.MAX_AVATAR_BYTES


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
        raise AccountError("Enter a valid phone number, with its country code (e.g. +44 20 7946 0958).", field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def update_details(
    engine: Engine,
    user_id: int,
    *,
    name: str | None = None,
    bio: str | None = None,
    phone: str | None = None,
    now: datetime | None = None,
) -> Details:
    """Change the details given; None keeps a detail as it is (an empty phone removes the number)."""
    current = details(engine, user_id)
    name = check_name(current.display_name if name is None else name)
    phone_e164 = current.phone_e164 if phone is None else normalise_phone(phone)
    bio = current.bio if bio is None else bio
    bio = (bio or "").strip()
    if len(bio) > MAX_BIO_LENGTH:
        raise AccountError(f"The bio is at most {MAX_BIO_LENGTH} characters.", field="bio")
    with engine.begin() as conn:
        conn.execute(
            text("""UPDATE users SET display_name = :name, bio = :bio, phone_e164 = :phone, updated_at = :now
                             WHERE user_id = :id"""),
            {"name": name, "bio": bio, "phone": phone_e164, "now": clock(now), "id": user_id},
        )
    return details(engine, user_id)


def set_avatar(engine: Engine, user_id: int, data: bytes, *, now: datetime | None = None) -> None:
    """Store the member's picture, decoded and re-encoded (pictures.reencoded); AccountError if it is not one."""
    stored, kind = pictures.reencoded(data)
    with engine.begin() as conn:
        conn.execute(
            text("""UPDATE users SET avatar = :data, avatar_type = :kind, updated_at = :now
                             WHERE user_id = :id"""),
            {"data": stored, "kind": kind, "now": clock(now), "id": user_id},
        )


def avatar(engine: Engine, user_id: int) -> bytes | None:
    found = avatar_with_type(engine, user_id)
    return found[0] if found else None


def avatar_with_type(engine: Engine, user_id: int) -> tuple[bytes, str] | None:
    """The picture and its media type (image/png, image/jpeg or image/webp); None without one."""
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT avatar, avatar_type FROM users WHERE user_id = :id AND avatar IS NOT NULL"), {"id": user_id}
        ).first()
    if row is None or not pictures.is_picture(bytes(row.avatar)):  # an old, undecodable upload: as if none
        return None
    return bytes(row.avatar), row.avatar_type or "image/png"


def remove_avatar(engine: Engine, user_id: int, *, now: datetime | None = None) -> bool:
    """Remove the picture; whether there was one."""
    with engine.begin() as conn:
        found = conn.execute(
            text("""UPDATE users SET avatar = NULL, avatar_type = NULL, updated_at = :now
                    WHERE user_id = :id AND avatar IS NOT NULL"""),
            {"now": clock(now), "id": user_id},
        ).rowcount
    return bool(found)
