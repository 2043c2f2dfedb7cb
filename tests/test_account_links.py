"""Password reset and email change by one-time links through the outbox; profile details."""

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import text

from backend.accounts import details, links, pictures, sessions, users
from backend.accounts import errors as account_errors
from backend.notify import mail

PASSWORD = "correct horse 42"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BASE = "http://localhost:8501"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def picture(kind: str, size: tuple[int, int] = (40, 30), **save) -> bytes:
    """A real picture made with Pillow: a red rectangle with a blue corner."""
    made = Image.new("RGB", size, (200, 20, 20))
    made.paste((20, 20, 200), (0, 0, 8, 8))
    out = io.BytesIO()
    made.save(out, format=kind, **save)
    return out.getvalue()


@pytest.fixture
def alice(engine):
    return users.register(engine, "alice@example.com", "Alice", PASSWORD, now=T0)


def link_in_last_message(engine, user_id, path):
    message = mail.outbox(engine, user_id)[0]
    return message, re.search(rf"{re.escape(BASE)}/{path}\?token=(\S+)", message["body"]).group(1)


def test_reset_link_sets_a_new_password_once_ends_sessions_and_lifts_the_lock(engine, alice):
    for _ in range(sessions.FAILURES_BEFORE_LOCK):
        with pytest.raises(account_errors.AccountError):
            sessions.authenticate(engine, "alice@example.com", "wrong password 1", now=T0)
    links.request_password_reset(engine, "ALICE@example.com", BASE, now=T0)
    message, token = link_in_last_message(engine, alice.user_id, "reset-password")
    assert message["to_address"] == "alice@example.com" and message["error"] == mail.NOT_CONFIGURED
    with engine.connect() as conn:  # only a hash of the secret is stored
        assert (
            conn.execute(
                text("SELECT count(*) FROM account_links WHERE token_hash LIKE :s"),
                {"s": "%" + token.split(".")[1] + "%"},
            ).scalar()
            == 0
        )

    links.reset_password(engine, token, "brand new pass 7", now=T0 + timedelta(minutes=10))
    assert sessions.session_user(engine, "alice@example.com", T0 + timedelta(days=7, minutes=5)) is None
    assert sessions.authenticate(engine, "alice@example.com", "brand new pass 7", now=T0 + timedelta(minutes=11))
    with pytest.raises(account_errors.AccountError, match="invalid, was already used"):
        links.reset_password(engine, token, "another pass 8", now=T0 + timedelta(minutes=12))


def test_reset_link_expires_after_thirty_minutes(engine, alice):
    links.request_password_reset(engine, "alice@example.com", BASE, now=T0)
    _, token = link_in_last_message(engine, alice.user_id, "reset-password")
    with pytest.raises(account_errors.AccountError, match="expired"):
        links.reset_password(engine, token, "brand new pass 7", now=T0 + timedelta(minutes=31))
    assert sessions.authenticate(engine, "alice@example.com", PASSWORD, now=T0 + timedelta(minutes=32))


def test_reset_keeps_the_link_when_the_new_password_is_weak(engine, alice):
    links.request_password_reset(engine, "alice@example.com", BASE, now=T0)
    _, token = link_in_last_message(engine, alice.user_id, "reset-password")
    with pytest.raises(account_errors.AccountError, match="At least"):
        links.reset_password(engine, token, "weak", now=T0)
    links.reset_password(engine, token, "strong enough 9", now=T0)


def test_reset_for_unknown_or_suspended_accounts_sends_nothing(engine, alice):
    links.request_password_reset(engine, "nobody@example.com", BASE, now=T0)
    with engine.begin() as conn:
        conn.execute(text("UPDATE users SET suspended_at = :t"), {"t": T0})
    links.request_password_reset(engine, "alice@example.com", BASE, now=T0)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM email_outbox")).scalar() == 0


@pytest.mark.parametrize("token", ["", "x", "1.", ".abc", "abc.def", "999.nope", "1." + "a" * 10_000, "<script>"])
def test_malformed_or_unknown_links_are_refused_cleanly(engine, alice, token):
    with pytest.raises(account_errors.AccountError, match="invalid"):
        links.reset_password(engine, token, "brand new pass 7", now=T0)
    with pytest.raises(account_errors.AccountError, match="invalid"):
        links.confirm_email_change(engine, token, now=T0)


def test_email_change_happens_when_the_link_to_the_new_address_is_opened(engine, alice):
    with pytest.raises(account_errors.AccountError, match="password is not correct"):
        links.request_email_change(engine, alice.user_id, "new@example.com", "wrong password 1", BASE, now=T0)
    links.request_email_change(engine, alice.user_id, "New@Example.com", PASSWORD, BASE, now=T0)
    message, token = link_in_last_message(engine, alice.user_id, "confirm-email")
    assert message["to_address"] == "new@example.com"
    assert users.find_user_by_email(engine, "alice@example.com") is not None  # nothing changed yet

    changed = links.confirm_email_change(engine, token, now=T0 + timedelta(hours=1))
    assert changed.email == "new@example.com"
    assert users.find_user_by_email(engine, "alice@example.com") is None
    assert (
        sessions.authenticate(engine, "new@example.com", PASSWORD, now=T0 + timedelta(hours=2)).user_id == alice.user_id
    )
    with pytest.raises(account_errors.AccountError):
        links.confirm_email_change(engine, token, now=T0 + timedelta(hours=2))


def test_email_change_to_a_taken_address_is_refused_even_if_taken_meanwhile(engine, alice):
    users.register(engine, "bob@example.com", "Bob", PASSWORD, now=T0)
    with pytest.raises(account_errors.AccountError, match="Another account uses"):
        links.request_email_change(engine, alice.user_id, "bob@example.com", PASSWORD, BASE, now=T0)
    links.request_email_change(engine, alice.user_id, "carol@example.com", PASSWORD, BASE, now=T0)
    _, token = link_in_last_message(engine, alice.user_id, "confirm-email")
    users.register(engine, "carol@example.com", "Carol", PASSWORD, now=T0)
    with pytest.raises(account_errors.AccountError, match="took this email"):
        links.confirm_email_change(engine, token, now=T0)
    assert users.get_user(engine, alice.user_id).email == "alice@example.com"


@pytest.mark.parametrize(
    ("typed", "stored"), [("+44 20 7946 0958", "+442079460958"), ("(415) 555-2671", "+14155552671"), ("", None)]
)
def test_phone_numbers_are_stored_in_e164(engine, alice, typed, stored):
    details.update_details(engine, alice.user_id, name="Alice", bio="", phone=typed)
    assert details.details(engine, alice.user_id).phone_e164 == stored


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phone", "12", "valid phone"),
        ("phone", "x" * 10_000, "valid phone"),
        ("bio", "b" * 501, "at most 500"),
        ("name", "", "Enter your name"),
    ],
)
def test_bad_profile_details_are_refused_and_change_nothing(engine, alice, field, value, message):
    before = details.details(engine, alice.user_id)
    fields = {"name": "Alice", "bio": "", "phone": ""} | {field: value}
    with pytest.raises(account_errors.AccountError, match=message):
        details.update_details(engine, alice.user_id, **fields)
    assert details.details(engine, alice.user_id) == before


def test_markup_and_unicode_in_the_bio_are_stored_as_typed(engine, alice):
    bio = "<img src=x onerror=alert(1)> Zoë 🎬"
    assert details.update_details(engine, alice.user_id, name="Alice", bio=bio, phone="").bio == bio


@pytest.mark.parametrize(("kind", "media_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")])
def test_pictures_are_decoded_and_re_encoded_without_their_metadata(engine, alice, kind, media_type):
    exif = Image.Exif()
    exif[0x010E] = "secret location note"  # ImageDescription
    details.set_avatar(engine, alice.user_id, picture(kind, exif=exif.tobytes()))
    stored, stored_type = details.avatar_with_type(engine, alice.user_id)
    assert stored_type == media_type
    with Image.open(io.BytesIO(stored)) as shown:
        assert (shown.format, shown.size) == (kind, (40, 30))
        assert shown.convert("RGB").getpixel((20, 20))[0] > 150  # still red
        assert 0x010E not in shown.getexif()
    assert b"secret location note" not in stored


def test_big_pictures_are_scaled_down_to_fit_the_square(engine, alice):
    details.set_avatar(engine, alice.user_id, picture("PNG", (2000, 1000)))
    with Image.open(io.BytesIO(details.avatar(engine, alice.user_id))) as shown:
        assert shown.size == (pictures.AVATAR_SIDE, pictures.AVATAR_SIDE // 2)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"GIF89a" + b"\x00" * 10, "PNG, JPEG or WebP"),
        (b"<svg onload=alert(1)>", "PNG, JPEG or WebP"),
        (PNG_SIGNATURE + b"\x00" * 45, "PNG, JPEG or WebP"),  # the 53-byte file that only starts like a PNG
        (picture("PNG")[:-30], "PNG, JPEG or WebP"),  # truncated
        (b"\xff\xd8\xff\xe0" + b"\x00" * 64, "PNG, JPEG or WebP"),
        (picture("GIF"), "PNG, JPEG or WebP"),  # a real picture of another kind
        (picture("PNG") + b"\x00" * details.MAX_AVATAR_BYTES, "at most 1 MB"),
        (picture("PNG", (6000, 5000), compress_level=9), "million pixels"),  # a small file with too many pixels
    ],
)
def test_other_files_and_big_pictures_are_refused(engine, alice, data, message):
    with pytest.raises(account_errors.AccountError, match=message):
        details.set_avatar(engine, alice.user_id, data)
    assert details.avatar(engine, alice.user_id) is None


def test_an_undecodable_picture_stored_before_is_treated_as_none(engine, alice):
    with engine.begin() as conn:  # as the old signature check let it be stored
        conn.execute(
            text("UPDATE users SET avatar = :a, avatar_type = 'image/png' WHERE user_id = :i"),
            {"a": PNG_SIGNATURE + b"\x00" * 45, "i": alice.user_id},
        )
    assert details.avatar(engine, alice.user_id) is None
    assert details.avatar_with_type(engine, alice.user_id) is None
