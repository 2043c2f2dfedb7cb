"""Text a user or an admin supplied, shown literally: the one helper every page uses for such strings.

Streamlit renders Markdown (links, images, emphasis, code, tables, LaTeX, emoji and icon shortcodes, colour
directives, bare-URL and email autolinks, headings, lists, quotes) in st.markdown, st.caption, titles and headers,
alerts, toasts and widget labels. `md` backslash-escapes exactly the characters that could start any of those, and
leaves ordinary punctuation (hyphens, colons, full stops) as it is, so messages still read as written. HTML is never
rendered: no page passes unsafe_allow_html.
"""

from __future__ import annotations

import re

_INLINE = re.compile(r"([\\`*_\[\]<>~$|&@])")  # emphasis, code, links, images, HTML, LaTeX, tables, entities, emails
_SHORTCODE = re.compile(r":([\w+\-/]+):")  # :smile:, :material/home:
_URL_SCHEME = re.compile(r"(?i)\b(https?|ftp|mailto|xmpp|file)(:)")  # bare-URL autolinks
_WWW = re.compile(r"(?i)\b(www)(\.)")
_LINE_MARKER = re.compile(r"(?m)^([ \t]*)([#>+\-=])")  # headings, quotes, lists, rules, setext underlines
_LINE_NUMBER = re.compile(r"(?m)^([ \t]*\d+)([.)])")  # ordered lists


def md(value: object) -> str:
    """`value` as Markdown that shows it literally; line breaks stay line breaks."""
    text = _INLINE.sub(r"\\\1", str(value))
    text = _SHORTCODE.sub(r"\\:\1\\:", text)
    text = _URL_SCHEME.sub(r"\1\\\2", text)
    text = _WWW.sub(r"\1\\\2", text)
    text = _LINE_MARKER.sub(r"\1\\\2", text)
    text = _LINE_NUMBER.sub(r"\1\\\2", text)
    return text.replace("\r\n", "\n").replace("\n", "  \n")
