"""Chat answers padded to megabytes (found by benchmarks/fuzz.py) are refused before the lenient parsing."""

from __future__ import annotations

import pytest

from orchestrator_gui.engine.thinkers.base import BackendError
from orchestrator_gui.engine.thinkers.prompts import MAX_ANSWER_CHARS, parse_lines, parse_scores, parse_text


@pytest.mark.parametrize("parse", [
    lambda c: parse_scores("tiny", c, 2),
    lambda c: parse_lines("tiny", c, 3),
    lambda c: parse_text("tiny", "refine", c),
])
def test_an_answer_past_the_limit_is_refused_and_one_at_it_is_read(parse):
    answer = "1. 0.5\n2. 0.75\n"
    padded = answer + " " * (MAX_ANSWER_CHARS - len(answer))
    assert parse(padded)  # at the limit: read as before
    with pytest.raises(BackendError) as info:
        parse(padded + " ")
    assert str(info.value).startswith(f"thinker 'tiny': the answer has {MAX_ANSWER_CHARS + 1:,} characters, "
                                      f"more than the {MAX_ANSWER_CHARS:,} read from a thought answer")


def test_scores_at_the_limit_are_the_same_as_without_padding():
    answer = "1. 0.5\n2. 75%\n"
    assert parse_scores("tiny", answer + " " * (MAX_ANSWER_CHARS - len(answer)), 2) == [0.5, 0.75]
