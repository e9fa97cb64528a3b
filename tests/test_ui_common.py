"""Visitor text shown in notices and Markdown stays text."""

from demos.ui_common import visitor_markdown, visitor_text


def test_notice_text_escapes_markup_and_is_kept_short():
    assert visitor_text("<a href=//evil.example>Log in</a>") == (
        "&lt;a href=//evil.example&gt;Log in&lt;/a&gt;"
    )
    assert visitor_text("<img src=x>") == "&lt;img src=x&gt;"
    assert visitor_text("a" * 100, limit=10) == "a" * 10 + "…"
    assert visitor_text("two\nlines\tand  spaces") == "two lines and spaces"
    assert visitor_text("it's 5 & 6") == "it's 5 &amp; 6"


def test_markdown_text_escapes_links_images_and_emphasis():
    text = visitor_markdown("[Log in](//evil.example) ![x](/x) **bold** <b>")
    assert "[" not in text.replace("\\[", "")
    assert "(" not in text.replace("\\(", "")
    assert "<" not in text and "*" not in text.replace("\\*", "")
    assert text.startswith("\\[Log in\\]\\(//evil.example\\)")
