"""One edit of a TODO.md text as a splice: replace a run of lines, keep every other byte as it is.

:class:`~orchestrator_gui.formats.todo.TodoDocument` used to copy the whole
file into a list of rows for every add, edit or remove (a million-line file:
a million small lists). The edit only ever changes one run of lines, so the
new text is the old text before the run, the new rows, and the old text after
it. The end-of-file rules of the row editor are kept: every row but a last
one without final newline ends with a line ending, and in a file without a
final newline trailing blank rows cannot exist (they would make one).
"""

from __future__ import annotations

from collections.abc import Callable

from orchestrator_gui.formats.fileio import strip_terminator
from orchestrator_gui.formats.todo_parse import TodoParse

Row = list  # [original line number or None, line text with or without terminator]


def splice(parse: TodoParse, lo: int, hi: int, middle: list[Row], *, final_newline: bool,
           newline: str) -> tuple[str, Callable[[int], int | None]]:
    """The text with lines ``lo`` to ``hi - 1`` (0-based) replaced by ``middle``.

    Parameters
    ----------
    parse : TodoParse
        The scanned text being edited.
    lo, hi : int
        The run of lines replaced (``lo == hi``: an insertion before line ``lo``).
    middle : list of rows
        The new rows, ``[original line or None, text]``; a text without line
        ending gets ``newline`` (unless it ends a file without final newline).
    final_newline : bool
        Whether the file ends with a line ending (kept).
    newline : str
        The line ending of new rows.

    Returns
    -------
    text : str
        The new text.
    new_line : callable
        Maps an old 1-based line number to its new one (``None``: removed).
    """
    n = parse.line_count
    rows = [list(r) for r in middle]
    if hi == n and not final_newline:
        # The rows before the edit that the end-of-file rules may change join it: the blank
        # rows at the end, and the last other row (it may gain or lose its line ending).
        k = lo
        while k > 0 and parse.line(k - 1) in ("\n", "\r\n", ""):
            k -= 1
        k = max(k - 1, 0)
        rows = [[j + 1, parse.line(j)] for j in range(k, lo)] + rows
        lo = k
        while rows and rows[-1][1] in ("\n", "\r\n", ""):
            rows.pop()
    last = len(rows) - 1 if hi == n else -1  # the row that ends the file, if it is one of ours
    for k, row in enumerate(rows):
        if k != last or final_newline:
            if not row[1].endswith("\n"):
                row[1] += newline
        else:
            row[1] = strip_terminator(row[1])
    t = parse.table
    head = t.char_offset(int(t.start[lo])) if lo < n else len(parse.text)
    tail = t.char_offset(int(t.start[hi])) if hi < n else len(parse.text)
    text = parse.text[:head] + "".join(row[1] for row in rows) + parse.text[tail:]
    kept = {row[0]: lo + k + 1 for k, row in enumerate(rows) if row[0] is not None}
    delta = len(rows) - (hi - lo)

    def new_line(old: int) -> int | None:
        if old <= lo:
            return old
        if old > hi:
            return old + delta
        return kept.get(old)

    return text, new_line
