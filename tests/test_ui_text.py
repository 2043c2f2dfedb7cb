"""The text helpers that show what users and admins typed literally: Markdown for Streamlit, labels for Plotly."""

import pandas as pd

from ui.text import WORD_JOINER, chart_label, chart_text, md


def test_markdown_payloads_are_escaped_and_ordinary_text_reads_as_written():
    assert md("[phish](https://evil.example/e)") == "\\[phish\\](https" + WORD_JOINER + "://evil.example/e)"
    assert md("**bold** <b>x</b> :red[alert]") == "\\*\\*bold\\*\\* \\<b\\>x\\</b\\> \\:red\\[alert\\]"
    assert md("# heading\n- item") == "\\# heading  \n\\- item"
    assert md("Sign-ins at 10:30, all fine.") == "Sign-ins at 10:30, all fine."


def test_chart_labels_show_tags_and_entities_as_typed():
    assert chart_label("<b>Family</b> & <a href='https://evil.example'>x</a>") == (
        "&lt;b&gt;Family&lt;/b&gt; &amp; &lt;a href='https://evil.example'&gt;x&lt;/a&gt;"
    )
    assert chart_label("Standard") == "Standard" and chart_label(42) == "42"
    assert chart_text(pd.Series(["<i>A</i>", "B"])).tolist() == ["&lt;i&gt;A&lt;/i&gt;", "B"]
