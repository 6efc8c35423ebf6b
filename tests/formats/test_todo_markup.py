"""Plain-text edits of Markdown titles (issue 12): the markup the edit leaves alone stays."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator_gui.formats.todo_markup import (
    MAX_MERGE_CHARS,
    edit_title,
    has_markup,
    merge_plain_edit,
    plain_text,
)
from orchestrator_gui.model.display import strip_markdown

# Titles built from words and the Markdown this module knows, so that spans
# nest, touch, stay unpaired and sit next to punctuation.
_WORDS = st.sampled_from(["fix", "the", "TW-012", "parser", "a", "b", "x_y", "2", "3.5", "é", "\\r", "->", ":"])
_MARKUP = st.sampled_from(["**", "*", "__", "_", "~~", "`", "``", "[", "](u)", "![", "](i.png)", "> ", "- ",
                           "[x] ", "# "])
_TITLE = st.lists(st.one_of(_WORDS, _WORDS, _MARKUP, st.sampled_from([" ", " ", "  "])), max_size=14).map("".join)
_PLAIN = st.lists(st.one_of(_WORDS, st.just(" ")), min_size=1, max_size=14).map("".join).filter(
    lambda t: not has_markup(t))


@pytest.mark.parametrize("raw, new, expected", [
    # The example: the bold id stays, the changed words are plain.
    ("**TW-012** Parser rejects `\\r` files", "TW-012 Parser rejects CRLF files",
     "**TW-012** Parser rejects CRLF files"),
    # Changes inside a span keep it; a replaced edge word stays inside it.
    ("**fix the parser now**", "fix the lexer now", "**fix the lexer now**"),
    ("**TW-012** x", "TW-013 x", "**TW-013** x"),
    ("`foo.py` is broken", "foo.txt is broken", "`foo.txt` is broken"),
    # Words typed next to a span go outside it.
    ("*a* b", "URGENT a b", "URGENT *a* b"),
    ("**a b** c", "a b d c", "**a b** d c"),
    # A link keeps its target when its text is unchanged.
    ("see [the docs](http://x) today", "see the docs tomorrow", "see [the docs](http://x) tomorrow"),
    # A span whose words were all replaced, or deleted, loses its markers.
    ("**old** x", "new x", "new x"),
    ("**a** x *b*", "a b", "**a** *b*"),
    ("keep ~~this~~ please", "keep please", "keep please"),
    # Nested spans and code with markup characters inside.
    ("**a *b* c** d", "a b c e", "**a *b* c** e"),
    ("run `__init__.py` now", "run __init__.py later", "run `__init__.py` later"),
    # Repeated words: the unchanged tail is matched as a whole, so the bold copy stays the bold one.
    ("alpha beta beta **beta**", "alpha omega beta beta", "alpha omega beta **beta**"),
    # A title without markup is simply replaced.
    ("plain words", "other words", "other words"),
])
def test_plain_edit_keeps_untouched_markup(raw, new, expected):
    assert merge_plain_edit(raw, new) == expected
    assert plain_text(expected) == new


@pytest.mark.parametrize("text, marked", [
    ("snake_case_name and 2 * 3 * 4", False),  # what Markdown leaves alone is not markup
    ("TW-012 Parser rejects CRLF files", False),
    ("**bold**", True),
    ("a `code` span", True),
    ("[link](http://x)", True),
    ("~~gone~~", True),
    ("_under_", True),
])
def test_has_markup(text, marked):
    assert has_markup(text) is marked


def test_text_with_its_own_markup_or_raw_is_taken_as_given():
    raw = "**TW-012** Parser rejects `\\r` files"
    assert edit_title(raw, "TW-012 Parser rejects `CRLF` files") == "TW-012 Parser rejects `CRLF` files"
    assert edit_title(raw, "TW-012 Parser rejects CRLF files", as_given=True) == "TW-012 Parser rejects CRLF files"
    assert edit_title(raw, "TW-012 Parser rejects CRLF files") == "**TW-012** Parser rejects CRLF files"


def test_titles_over_the_merge_limit_are_taken_as_given():
    raw = "**a** " + "w " * MAX_MERGE_CHARS
    new = "a " + "w " * MAX_MERGE_CHARS + "z"
    assert edit_title(raw, new) == new


@settings(max_examples=400, deadline=None)
@given(_TITLE)
def test_plain_rendering_is_the_one_the_views_show(raw):
    # model/display.strip_markdown is what the 3D view, tooltip and Inspector show.
    assert plain_text(raw) == strip_markdown(raw)


@settings(max_examples=400, deadline=None)
@given(_TITLE, _PLAIN)
def test_the_edited_title_always_shows_exactly_the_new_text(raw, new):
    assert plain_text(merge_plain_edit(raw, new)) == new
    assert plain_text(edit_title(raw, new)) == new


@settings(max_examples=300, deadline=None)
@given(_TITLE)
def test_an_edit_that_changes_nothing_shown_keeps_every_byte(raw):
    assert merge_plain_edit(raw, plain_text(raw)) == raw


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["alpha", "beta", "gamma", "delta", "TW-7"]),
                          st.sampled_from(["", "**", "*", "~~", "`"])), min_size=2, max_size=8),
       st.data())
def test_replacing_one_plain_word_changes_only_that_word(words, data):
    # Words wrapped in markup, separated by spaces; one unwrapped word is retyped.
    plain_slots = [k for k, (_, mark) in enumerate(words) if not mark]
    if not plain_slots:
        return
    k = data.draw(st.sampled_from(plain_slots))
    raw = " ".join(f"{m}{w}{m}" for w, m in words)
    new_words = [w if j != k else "omega" for j, (w, _) in enumerate(words)]
    expected = " ".join(f"{m}{w}{m}" for w, (_, m) in zip(new_words, words, strict=True))
    assert merge_plain_edit(raw, " ".join(new_words)) == expected
