"""Members' pictures: decoded and re-encoded with Pillow, so only a real PNG, JPEG or WebP within the size and
pixel limits is stored, without its metadata (EXIF, text chunks), at most AVATAR_SIDE pixels a side."""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from backend.accounts.errors import AccountError

MAX_AVATAR_BYTES = 1_048_576
MAX_AVATAR_PIXELS = 25_000_000  # width × height of an upload; larger is refused before decoding
AVATAR_SIDE = 512  # stored pictures are scaled down to fit this square
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
NOT_A_PICTURE = "Upload a PNG, JPEG or WebP picture."


def reencoded(data: bytes) -> tuple[bytes, str]:
    """(the picture as stored, its media type), or AccountError when `data` is not a picture it can use."""
    if len(data) > MAX_AVATAR_BYTES:
        raise AccountError(f"Pictures are at most {MAX_AVATAR_BYTES // 1_048_576} MB.", field="avatar")
    picture = _decoded(data)
    kind = picture.format or ""
    picture = ImageOps.exif_transpose(picture)
    picture.thumbnail((AVATAR_SIDE, AVATAR_SIDE))
    if kind == "JPEG" and picture.mode not in ("RGB", "L"):
        picture = picture.convert("RGB")
    elif picture.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        picture = picture.convert("RGBA")
    out = io.BytesIO()
    picture.save(out, format=kind, **({"quality": 88} if kind in ("JPEG", "WEBP") else {"optimize": True}))
    return out.getvalue(), FORMATS[kind]


def is_picture(data: bytes) -> bool:
    """Whether stored bytes still decode (a row written before pictures were re-encoded may not)."""
    try:
        _decoded(data)
    except AccountError:
        return False
    return True


def _decoded(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            picture = Image.open(io.BytesIO(data), formats=list(FORMATS))
            if picture.width * picture.height > MAX_AVATAR_PIXELS:
                raise AccountError(
                    f"Pictures are at most {MAX_AVATAR_PIXELS // 1_000_000} million pixels.", field="avatar"
                )
            picture.load()  # decodes every pixel: a truncated or corrupt file fails here
    except AccountError:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ):
        raise AccountError(NOT_A_PICTURE, field="avatar") from None
    return picture
