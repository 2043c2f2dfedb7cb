"""Text a user or an admin supplied, shown literally: the one helper every page uses for such strings.

Streamlit renders Markdown (links, images, emphasis, code, tables, LaTeX, emoji and icon shortcodes, colour
directives, bare-URL and email autolinks, headings, lists, quotes) in st.markdown, st.caption, titles and headers,
alerts, toasts and widget labels. `md` backslash-escapes exactly the characters that could start any of those, and
leaves ordinary punctuation (hyphens, colons before a space, full stops) as it is, so messages read as written.
A bare URL gets an invisible word joiner after its scheme (so it is not linked); an email address may still be
shown as a mailto: link, which is the address as typed. HTML is never rendered: no page passes unsafe_allow_html.
"""

from __future__ import annotations

import html
import re

import pandas as pd

_INLINE = re.compile(r"([\\`*_\[\]<>~$|&])")  # emphasis, code, links, images, HTML, LaTeX, tables, entities
_DIRECTIVE = re.compile(r":(?=[A-Za-z])")  # :red[...], :material/home:, :smile: (the escape stops the directive)
# Bare URLs are linked after escapes are resolved (GFM autolink literals), so a backslash cannot stop them: an
# invisible WORD JOINER between the scheme (or "www") and what follows does.
_AUTOLINK = re.compile(r"(?i)\b(https?|ftp|mailto|xmpp|www)(?=:|\.)")
WORD_JOINER = "\u2060"
_LINE_MARKER = re.compile(r"(?m)^([ \t]*)([#>+\-=])")  # headings, quotes, lists, rules, setext underlines
_LINE_NUMBER = re.compile(r"(?m)^([ \t]*\d+)([.)])")  # ordered lists


def md(value: object) -> str:
    """`value` as Markdown that shows it literally; line breaks stay line breaks."""
    text = _INLINE.sub(r"\\\1", str(value))
    text = _DIRECTIVE.sub(r"\\:", text)
    text = _AUTOLINK.sub(lambda found: found.group(1) + WORD_JOINER, text)
    text = _LINE_MARKER.sub(r"\1\\\2", text)
    text = _LINE_NUMBER.sub(r"\1\\\2", text)
    return text.replace("\r\n", "\n").replace("\n", "  \n")


def chart_label(value: object) -> str:
    """A label for Plotly shown literally: Plotly renders a few HTML tags (<b>, <a href>, <br>...) in chart text
    and decodes entities, so &, < and > become the entities it shows as the characters typed."""
    return html.escape(str(value), quote=False)


def chart_text(values: pd.Series) -> pd.Series:
    """`chart_label` of each value (plan names, titles, genres on an axis or in a legend)."""
    return values.map(chart_label)
