"""Text a user or an admin supplied, shown literally: the one helper every page uses for such strings.

Streamlit renders Markdown (links, images, emphasis, emoji shortcodes, LaTeX, colour directives) in st.markdown,
st.caption, titles and headers, alerts, toasts and widget labels; `md` backslash-escapes every character that
could start any of them, so a name like ``[x](https://evil.example)`` shows as typed. (HTML is never rendered:
no page passes unsafe_allow_html.)
"""

from __future__ import annotations

import re

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=^&@/])")


def md(value: object) -> str:
    """`value` as text that Markdown shows literally: every Markdown, emoji-shortcode, LaTeX and autolink
    character is backslash-escaped; line breaks stay line breaks."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(value)).replace("\n", "  \n")
