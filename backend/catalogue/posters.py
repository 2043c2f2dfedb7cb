"""Generated poster art: one deterministic SVG per title, no external images.

Colours and the shape motif come from a hash of the show id, so a title always gets the same poster;
the title is wrapped over up to five lines and every piece of text is XML-escaped.
"""

from __future__ import annotations

import colorsys
import hashlib
import textwrap
from functools import lru_cache
from html import escape

WIDTH, HEIGHT = 200, 300
MAX_LINES = 5


def _hex(hue: float, lightness: float, saturation: float) -> str:
    r, g, b = colorsys.hls_to_rgb(hue % 1.0, lightness, saturation)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def _lines(title: str) -> tuple[list[str], int]:
    """The title wrapped to fit, and a font size that suits its length."""
    wide = sum(c.isupper() for c in title) > len(title) / 2  # capitals take more room
    for size, width in ((26, 12), (22, 14), (18, 17), (15, 21)):
        width = int(width * 0.75) if wide else width
        lines = textwrap.wrap(title, width=width, break_long_words=True) or [""]
        if len(lines) <= MAX_LINES - (size >= 22):
            return lines, size
    lines = textwrap.wrap(title, width=21, break_long_words=True)
    if len(lines) > MAX_LINES:
        lines = lines[:MAX_LINES]
        lines[-1] = lines[-1][:19].rstrip() + "…"
    return lines, 15


def _motif(digest: bytes, accent: str) -> str:
    """A few circles or stripes placed by the hash."""
    shapes = []
    if digest[3] % 2:
        for i in range(3):
            cx, cy, r = 20 + digest[4 + i] % 160, 30 + digest[7 + i] % 140, 25 + digest[10 + i] % 60
            shapes.append(f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="{accent}" fill-opacity="0.{2 + i}"/>')
    else:
        angle = -30 + digest[4] % 60
        for i in range(4):
            y = 10 + i * 45 + digest[5 + i] % 20
            shapes.append(
                f'<rect x="-60" y="{y}" width="320" height="{8 + digest[9 + i] % 18}" fill="{accent}" '
                f'fill-opacity="0.25" transform="rotate({angle} 100 150)"/>'
            )
    return "".join(shapes)


@lru_cache(maxsize=20_000)
def poster_svg(show_id: str, title: str, kind: str, access_level: str = "basic") -> str:
    """The SVG markup of a title's poster (200x300)."""
    digest = hashlib.sha256(show_id.encode()).digest()
    hue = digest[0] / 255
    top, bottom = _hex(hue, 0.32, 0.55), _hex(hue + 0.08 + digest[1] / 2550, 0.12, 0.5)
    accent = _hex(hue + 0.5, 0.6, 0.7)
    lines, size = _lines(title)
    first_y = HEIGHT - 34 - (len(lines) - 1) * (size + 4)
    text_rows = "".join(
        f'<tspan x="14" y="{first_y + i * (size + 4)}">{escape(line)}</tspan>' for i, line in enumerate(lines)
    )
    badge = "SERIES" if kind == "tv_show" else "FILM"
    premium = (
        '<rect x="124" y="12" width="64" height="20" rx="4" fill="#f5c518"/>'
        '<text x="156" y="26" font-size="11" font-weight="700" text-anchor="middle" fill="#111">PREMIUM</text>'
        if access_level == "premium"
        else ""
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{escape(title)} poster">'
        f'<defs><linearGradient id="g{digest.hex()[:8]}" x1="0" y1="0" x2="0" y2="1">'
        f'<stop offset="0" stop-color="{top}"/><stop offset="1" stop-color="{bottom}"/></linearGradient></defs>'
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="url(#g{digest.hex()[:8]})"/>'
        f"{_motif(digest, accent)}"
        f'<rect x="0" y="{HEIGHT - 130}" width="{WIDTH}" height="130" fill="#000" fill-opacity="0.35"/>'
        f'<rect x="12" y="12" width="{len(badge) * 8 + 14}" height="20" rx="4" fill="#e50914"/>'
        f'<text x="19" y="26" font-size="11" font-weight="700" fill="#fff" font-family="Helvetica, Arial, sans-serif">'
        f"{badge}</text>{premium}"
        f'<text font-family="Georgia, \'Times New Roman\', serif" font-size="{size}" font-weight="700" fill="#fff">'
        f"{text_rows}</text></svg>"
    )
