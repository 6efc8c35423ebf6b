"""``formats/markup_spans``: the same spans as the regular expressions, in linear time."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator_gui.formats.markup_spans import LinkPattern
from orchestrator_gui.formats.todo_markup import CODE, LINK, PAIRS, STRAY, plain_text
from orchestrator_gui.model.display import display_text

# The patterns as they were written before (and as Markdown readers know them).
OLD_STRAY = re.compile(r"\*\*+|(?<![\w])__+|__+(?![\w])|`+")
OLD_CODE = re.compile(r"`+([^`]+)`+")

markdownish = st.text(alphabet="*_~`[]()! a1\n", max_size=60)


def _spans(matches) -> list[tuple[int, int, int, int]]:
    return [(m.start(), m.start(1), m.end(1), m.end()) for m in matches]


@settings(max_examples=400, deadline=None)
@given(markdownish)
def test_every_pair_finds_what_its_regular_expression_finds(text):
    for pair in PAIRS:
        assert _spans(pair.finditer(text)) == _spans(pair.pattern.finditer(text)), pair.marker
        assert pair.sub(lambda m: m.group(1), text) == pair.pattern.sub(lambda m: m.group(1), text)
    assert _spans(LINK.finditer(text)) == _spans(LinkPattern.pattern.finditer(text))


@settings(max_examples=400, deadline=None)
@given(markdownish)
def test_stray_markers_and_code_spans_match_as_before(text):
    assert [m.span() for m in STRAY.finditer(text)] == [m.span() for m in OLD_STRAY.finditer(text)]
    assert CODE.split(text) == OLD_CODE.split(text)


def test_titles_from_the_docs_still_render():
    assert plain_text("**TW-012** Parser rejects `\\r` files") == "TW-012 Parser rejects \\r files"
    assert display_text("![logo](a.png) [see](http://x) ~~old~~ *new* _it_ snake_case_name 2 * 3") == \
        "logo see old new it snake_case_name 2 * 3"


def test_a_long_title_of_unclosed_markers_keeps_its_text():
    # Found by benchmarks/fuzz.py (which measures the time): every opening without a closing made
    # the regular expressions scan to the end of the title; 80 000 characters of "**a " took 16 s.
    assert display_text("**a " * 20_000) == " ".join(["a"] * 20_000)
    assert display_text("[[" * 20_000 + "]") == "[[" * 20_000 + "]"
    assert plain_text("a" + "_" * 20_000 + "b") == "a" + "_" * 20_000 + "b"
    assert plain_text("![a" * 20_000) == "![a" * 20_000
