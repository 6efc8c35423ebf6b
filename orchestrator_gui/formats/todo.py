"""Lossless reader and editor for ``TODO.md`` checklists (docs/formats.md §2).

:class:`TodoDocument` keeps the file's exact bytes. Every edit rewrites only
the lines it concerns (a toggle changes exactly one byte) and re-parses, so
:attr:`TodoDocument.items` always carries fresh line numbers. Edits touch
``.data`` only; the caller saves with :meth:`TextFile.save`, which refuses
when the file changed on disk meanwhile.

Line endings (LF, CRLF, even mixed), a UTF-8 BOM and the presence or absence
of a final newline are kept; new lines use the file's dominant line ending.

Case of ``X``: ``uncheck`` remembers whether the box held ``x`` or ``X``
(the memory follows the item through later edits of this document) and
``check`` writes that letter back, so ``uncheck`` then ``check`` restores the
original bytes. Without a memory, ``check`` writes ``X`` only when the
file's done items mostly use ``X``, else ``x``.
"""

from __future__ import annotations

import os
from array import array
from collections import Counter
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from orchestrator_gui.formats.fileio import (
    UTF8_BOM,
    TextFile,
    decode_text,
    read_bytes,
)
from orchestrator_gui.formats.limits import check_line_count
from orchestrator_gui.formats.todo_items import TodoItems
from orchestrator_gui.formats.todo_model import TodoHeading, TodoItem, item_state
from orchestrator_gui.formats.todo_parse import (
    ITEM_RE,
    ScannedItem,
    TodoParse,
    is_blank,
    scan_todo,
    strip_terminator,
    terminator,
)
from orchestrator_gui.formats.todo_splice import splice
from orchestrator_gui.formats.todo_style import (
    blank_separated,
    child_indent,
    child_style,
    document_blank_separated,
    reindent,
    section_slot,
    siblings,
    slot_after,
)
from orchestrator_gui.formats.todo_titles import first_same, title_spans
from orchestrator_gui.problems import Findings, FormatError, Problem

__all__ = ["TodoDocument", "TodoHeading", "TodoItem", "TodoItems", "TodoParse", "load_todo", "parse_todo"]


def parse_todo(text: str) -> TodoParse:
    """Scan TODO.md text (BOM removed) into lines, items, headings and notes.

    Parameters
    ----------
    text : str
        Decoded file content.

    Returns
    -------
    TodoParse
        The scanner's result; see :mod:`orchestrator_gui.formats.todo_parse`.
    """
    return scan_todo(text)


def load_todo(path: str | os.PathLike[str]) -> TodoDocument:
    """Read and parse a TODO.md file.

    Parameters
    ----------
    path : path-like
        The file.

    Returns
    -------
    TodoDocument

    Raises
    ------
    FormatError
        If the file cannot be read or is not UTF-8 text.
    """
    return TodoDocument(path, read_bytes(path))


def _dominant_newline(text: str) -> str:
    """``dominant_newline`` of the text's lines, counted without splitting it."""
    crlf = text.count("\r\n")
    return "\r\n" if crlf > text.count("\n") - crlf else "\n"


Row = list  # [original line number or None, line text with terminator]


class TodoDocument(TextFile):
    """A TODO.md file with its checklist items, editable without loss.

    Parameters
    ----------
    path : path-like
        Location of the file (used for saving and in messages).
    data : bytes
        The file's content as read.

    Raises
    ------
    FormatError
        If ``data`` is not UTF-8 text.
    """

    def __init__(self, path: str | os.PathLike[str], data: bytes) -> None:
        super().__init__(path, data)
        check_line_count(self.name, data)
        text, self._bom = decode_text(data, self.name)
        self._final_newline = text == "" or text.endswith("\n")
        self._case: dict[int, str] = {}  # item line -> "x"/"X" it was unchecked from
        # The scanner works on the UTF-8 bytes: hand it the file's own (no copy without a BOM).
        self._apply_text(text, data[len(UTF8_BOM):] if self._bom else data)
        # Kept so a file emptied by edits still gets its own line ending back.
        self._newline = _dominant_newline(text)

    # ------------------------------------------------------------------ views
    def _apply_text(self, text: str, raw: bytes | None = None) -> None:
        self._parse = scan_todo(text, raw)
        # Items are made on access: a million-line file would otherwise hold a
        # million pydantic models (gigabytes) that most commands never look at.
        self.items: TodoItems = TodoItems(self._parse)
        self.headings: list[TodoHeading] = [
            TodoHeading.model_construct(line=h.line, level=h.level, text=h.text)
            for h in self._parse.headings
        ]

    @property
    def titles(self) -> Sequence[str]:
        """The item titles in file order, as :attr:`TodoItem.text` (each made when read)."""
        return self._parse.cols.text

    @property
    def item_lines(self) -> array:
        """The line of each item, in file order."""
        return self._parse.cols.line

    @property
    def item_boxes(self) -> list[str]:
        """The boxes of each item as written (``"[x]"``), in file order (do not change the list)."""
        return self._parse.cols.boxes

    @property
    def item_depths(self) -> array:
        """The nesting depth of each item, in file order."""
        return self._parse.cols.depth

    @property
    def item_sections(self) -> array:
        """The index in :attr:`headings` of each item's section, -1 for none, in file order."""
        return self._parse.cols.section

    def rows(self, state: str = "all") -> Iterator[tuple[int, str, str, int, str | None, str]]:
        """``(line, state, text, depth, section, boxes)`` of every item in file order, without making items.

        Parameters
        ----------
        state : {"all", "open", "done", "other"}
            Only the items in this state.
        """
        cols = self._parse.cols
        headings = [h.text for h in self._parse.headings]
        states = {b: item_state(b[1]) for b in set(cols.boxes)}
        for line, boxes, text, depth, section in zip(cols.line, cols.boxes, cols.text, cols.depth, cols.section,
                                                     strict=True):
            st = states[boxes]
            if state == "all" or st == state:
                yield line, st, text, depth, headings[section] if section >= 0 else None, boxes

    def problems(self) -> list[Problem]:
        """Return validation findings; nothing is changed.

        Returns
        -------
        list of Problem
            Unclosed code fences or comments (warning), non-standard ``[*]``
            boxes (warning), duplicate titles and details that follow a blank
            line and may belong to another item (info), sorted by line.
        """
        # At most 100 findings of each kind, then a count (a million duplicate titles gave a
        # million findings: seconds and hundreds of MB for lines nobody reads).
        found = Findings(self.name)
        for ln, sev, msg in self._parse.notes:
            found.add(ln, sev, msg)  # type: ignore[arg-type]
        cols = self._parse.cols
        odd = {b for b in set(cols.boxes) if "[*]" in b}
        # Only the items with something to say are visited (a big file has a million clean ones).
        same = first_same(cols.text)
        _, start, end = title_spans(cols.text)
        flagged = np.flatnonzero((same >= 0) | (start == end))
        if odd:
            flagged = np.union1d(flagged, [k for k, b in enumerate(cols.boxes) if b in odd])
        for k in flagged.tolist():
            line, boxes = cols.line[k], cols.boxes[k]
            if boxes in odd:
                found.add(line, "warning", f"non-standard checkbox state in {boxes}; shown as 'other' "
                                           "(GitHub renders it as plain text)", "non-standard checkboxes")
            if start[k] == end[k]:
                found.add(line, "info", "item has no title")
            elif same[k] >= 0:
                found.add(line, "info", f"duplicate item title (same as line {cols.line[int(same[k])]}); "
                                        "items are told apart by line number", "duplicate item titles")
        return sorted(found.result(), key=lambda p: p.line or 0)

    def item_at(self, line: int) -> TodoItem:
        """Return the item on ``line``; raise :class:`FormatError` if there is none."""
        return self.items[self._index(line)]

    def _index(self, line: int) -> int:
        k = self._parse.item_index_at(line)
        if k is None:
            raise FormatError(self.name, f"no TODO item at line {line}", line)
        return k

    def _scanned(self, line: int) -> ScannedItem:
        return self._parse.items[self._index(line)]

    # ---------------------------------------------------------- edit plumbing
    def _rows(self) -> list[Row]:
        return [[k + 1, ln] for k, ln in enumerate(self._parse.lines)]

    def _new_row(self, content: str) -> Row:
        return [None, content]

    def _commit(self, rows: list[Row], verify: Callable[[], str | None] | None = None) -> None:
        """Install edited rows, re-parse, and roll back if ``verify`` reports a problem."""
        saved = (self.data, self._parse, self.items, self.headings, self._case)
        nl = self._newline
        if "\n" in self._parse.text:
            nl = _dominant_newline(self._parse.text)
        if not self._final_newline:
            # Without a final newline, blank lines an edit left at the very end
            # cannot be represented: they would become a final newline.
            while rows and rows[-1][1] in ("\n", "\r\n", ""):
                rows.pop()
        last = len(rows) - 1
        for k, row in enumerate(rows):
            if k < last or self._final_newline:
                if not row[1].endswith("\n"):
                    row[1] += nl
            else:
                row[1] = strip_terminator(row[1])
        old_case = self._case
        self._case = {k + 1: old_case[row[0]] for k, row in enumerate(rows) if row[0] in old_case}
        text = "".join(row[1] for row in rows)
        self.data = (UTF8_BOM if self._bom else b"") + text.encode("utf-8")
        self._apply_text(text)
        problem = verify() if verify is not None else None
        if problem is not None:
            self.data, self._parse, self.items, self.headings, self._case = saved
            raise FormatError(self.name, problem)

    def _splice(self, lo: int, hi: int, middle: list[Row], verify: Callable[[], str | None] | None = None) -> None:
        """Replace lines ``lo`` to ``hi - 1`` (0-based) by ``middle``, re-parse, roll back if ``verify`` objects.

        The same edit as :meth:`_commit` on all rows, without copying the
        lines outside the run (:mod:`orchestrator_gui.formats.todo_splice`).
        """
        old_data, old_case = self.data, self._case
        old_text = self._parse.text
        nl = _dominant_newline(old_text) if "\n" in old_text else self._newline
        del old_text  # a refused edit decodes old_data again: one text less held through the scan
        text, new_line = splice(self._parse, lo, hi, middle, final_newline=self._final_newline, newline=nl)
        self._case = {moved: letter for old, letter in self._case.items()
                      if (moved := new_line(old)) is not None}
        # The old scan goes before the new one is made (a big file's scan is some 80 MB);
        # a refused edit scans the old text again.
        del self._parse, self.items
        raw = text.encode("utf-8")
        self.data = (UTF8_BOM if self._bom else b"") + raw
        self._apply_text(text, raw)
        del text
        # An edit is saved next: its text is not kept beside its bytes (decoded again if asked for).
        self._parse.table.drop_text()
        problem = verify() if verify is not None else None
        if problem is not None:
            self.data, self._case = old_data, old_case
            raw = old_data[len(UTF8_BOM):] if self._bom else old_data
            self._apply_text(raw.decode("utf-8"), raw)
            raise FormatError(self.name, problem)

    def _set_marker(self, line: int, marker: str) -> None:
        # A toggle cannot change the structure, so patch the one byte in place
        # instead of re-parsing (toggling is the hot path in the UI and the CLI).
        self._parse.set_marker(self._index(line), marker)
        self.data = (UTF8_BOM if self._bom else b"") + self._parse.table.raw

    def _check_title(self, text: str, line: int | None = None) -> None:
        if not isinstance(text, str) or not text.strip():
            raise FormatError(self.name, "item title is empty", line)
        if "\n" in text or "\r" in text:
            raise FormatError(self.name, "item title must be a single line", line)

    # ------------------------------------------------------------ toggling
    def check(self, line: int) -> None:
        """Mark the item on ``line`` done by changing its first box to ``x`` or ``X``.

        Exactly one byte changes; other boxes of a multi-box item are left
        alone. Already done items are left unchanged. See the module notes
        for how the case of ``X`` is chosen.
        """
        it = self._scanned(line)
        if it.marker in "xX":
            return
        letter = self._case.get(line)
        if letter is None:
            counts: Counter[str] = Counter()
            for boxes, n in Counter(self._parse.cols.boxes).items():  # counted at C speed, then by letter
                counts[boxes[1]] += n
            letter = "X" if counts["X"] > counts["x"] else "x"
        self._set_marker(line, letter)

    def uncheck(self, line: int) -> None:
        """Mark the item on ``line`` open (first box ``' '``); one byte changes."""
        it = self._scanned(line)
        if it.marker == " ":
            return
        if it.marker in "xX":
            self._case[line] = it.marker
        else:
            self._case.pop(line, None)
        self._set_marker(line, " ")

    # ------------------------------------------------------------- editing
    def edit(self, line: int, text: str) -> None:
        """Replace the title of the item on ``line`` with ``text``.

        Only the title bytes change: indentation, bullet, boxes, the space
        after them and trailing whitespace (a hard break) stay.
        """
        self._scanned(line)
        self._check_title(text, line)
        raw = self._parse.line(line - 1)
        content = strip_terminator(raw)
        m = ITEM_RE.fullmatch(content)
        assert m is not None
        rest = m.group(6) or ""
        if m.group(5) is None:
            new = content + " " + text
        else:
            title = rest.rstrip(" \t")
            new = content[: m.start(6)] + text + rest[len(title):]
        self._splice(line - 1, line, [[line, new + terminator(raw)]],
                     lambda: None if self._parse.item_index_at(line) is not None
                     else "the edited title would no longer be a TODO item")

    def add(self, text: str, *, section: str | None = None, under: int | None = None) -> int:
        """Add an open item and return its line number.

        Parameters
        ----------
        text : str
            Title of the new item (one line, not empty).
        section : str, optional
            Heading text (exact, else case-insensitive match) of the section
            to append to: after its last top-level item, or after its last
            non-blank line if it has none.
        under : int, optional
            Line of a parent item; the new item becomes its last child.

        Without either, the item goes after the last non-blank line of the
        file. Style (bullet or bare, indentation characters, number of
        boxes, blank-line separation) is copied from the nearest sibling.
        """
        self._check_title(text)
        if section is not None and under is not None:
            raise FormatError(self.name, "give either a section or a parent item, not both")
        parse = self._parse
        expect_parent: int | None = None
        if under is not None:
            parent = self._scanned(under)
            style = child_style(parse, parent)
            kids = [parse.items[k] for k in parent.children]
            blank = bool(blank_separated(parse, kids)) if len(kids) > 1 else False
            after = parent.end_line
            expect_parent = parent.line
        elif section is not None:
            after, style, blank = section_slot(parse, section, self.name)
        else:
            after, style, blank = slot_after(parse, parse.last_nonblank(), None)
        new_rows = [self._new_row("")] if blank else []
        new_rows.append(self._new_row(style.render(text)))
        new_line = after + len(new_rows)
        del parse  # not kept alive through the edit: _splice frees the old scan before the new one

        def verify() -> str | None:
            k = self._parse.item_index_at(new_line)
            if k is None:
                return "the new item would not be recognised there (inside a code block or comment?)"
            got = self.items[k].parent_line
            if under is not None and got != expect_parent:
                return f"the new item would not nest under line {under}"
            return None

        self._splice(after, after, new_rows, verify)
        return new_line

    def remove(self, line: int) -> None:
        """Delete the item on ``line`` with its details and nested items.

        One adjacent blank line goes too when the deletion would leave two
        blank lines in a row, or a blank line at the end of the file.
        """
        it = self._scanned(line)
        lo, hi, n = it.line - 1, it.end_line, self._parse.line_count
        blank = self._parse.blank
        # As _close_gap on the rows: one blank line goes when the seam doubles it or ends the file.
        if lo > 0 and hi < n and blank[lo - 1] and blank[hi]:
            hi += 1
        elif hi == n and lo > 0 and blank[lo - 1]:
            lo -= 1
        self._splice(lo, hi, [])

    @staticmethod
    def _close_gap(rows: list[Row], at: int) -> None:
        """Drop one blank line at a deletion seam if it doubled up or ended the file."""
        def blank(k: int) -> bool:
            return 0 <= k < len(rows) and is_blank(strip_terminator(rows[k][1]))
        if blank(at - 1) and blank(at):
            del rows[at]
        elif at == len(rows) and blank(at - 1):
            del rows[at - 1]

    # ----------------------------------------------------------- structure
    def indent(self, line: int) -> None:
        """Nest the item on ``line`` (with its range) under the item above it at its level."""
        it = self._scanned(line)
        group = siblings(self._parse, it)
        pos = next(k for k, s in enumerate(group) if s.index == it.index)
        if pos == 0:
            raise FormatError(self.name, "no item above at the same level to nest under", line)
        prev = group[pos - 1]
        self._shift(it, child_indent(self._parse, prev), prev.line)

    def outdent(self, line: int) -> None:
        """Move the item on ``line`` (with its range) up one nesting level, in place."""
        it = self._scanned(line)
        if it.parent is None:
            raise FormatError(self.name, "item is already at the top level", line)
        parent = self._parse.items[it.parent]
        grand = self._parse.items[parent.parent].line if parent.parent is not None else None
        self._shift(it, parent.indent, grand)

    def _shift(self, it: ScannedItem, new_indent: str, expect_parent: int | None) -> None:
        rows = self._rows()
        for k in range(it.line - 1, it.end_line):
            raw = rows[k][1]
            rows[k][1] = reindent(strip_terminator(raw), it.indent, new_indent) + terminator(raw)
        line = it.line

        def verify() -> str | None:
            k = self._parse.item_index_at(line)
            if k is None or self.items[k].parent_line != expect_parent:
                return f"cannot change the nesting of line {line}: the lines around it do not allow it"
            return None

        self._commit(rows, verify)

    def move(self, line: int, before_line: int | None) -> None:
        """Move the item on ``line`` with its range before the item on ``before_line``.

        ``None`` moves it after the last item at its level in its section.
        The moved lines take the target's indentation, and blank-line
        separation follows the target group's habit.
        """
        it = self._scanned(line)
        parse = self._parse
        if before_line is None:
            group = siblings(parse, it)
            if group[-1].index == it.index:
                return
            target, anchor = None, group[-1].end_line
            new_indent = it.indent
        else:
            target = self._scanned(before_line)
            if target.index == it.index:
                return
            if it.line <= target.line <= it.end_line:
                raise FormatError(self.name, "cannot move an item into its own range", before_line)
            group = siblings(parse, target)
            anchor, new_indent = target.line, target.indent
        sep = blank_separated(parse, group)
        blank = document_blank_separated(parse) if sep is None else sep
        rows = self._rows()
        block = rows[it.line - 1: it.end_line]
        for row in block:
            row[1] = reindent(strip_terminator(row[1]), it.indent, new_indent) + terminator(row[1])
        del rows[it.line - 1: it.end_line]
        self._close_gap(rows, it.line - 1)
        at = next((k for k, row in enumerate(rows) if row[0] == anchor), None)
        if at is None:  # only if the anchor was a blank line the gap closing dropped
            raise FormatError(self.name, f"cannot move line {line} there", before_line)
        spacer = [self._new_row("")] if blank else []
        if target is None:
            rows[at + 1: at + 1] = spacer + block
            start = at + 1 + len(spacer)
        else:
            rows[at:at] = block + spacer
            start = at
        want = None if target is None else target.line

        def verify() -> str | None:
            k = self._parse.item_index_at(start + 1)
            t = None if want is None else next(r for r, row in enumerate(rows) if row[0] == want)
            if k is None:
                return "the moved item would not be recognised at its new place"
            if t is not None:
                tk = self._parse.item_index_at(t + 1)
                if tk is None or self.items[tk].parent_line != self.items[k].parent_line:
                    return f"cannot move line {line} there: it would not stay beside line {want}"
            return None

        self._commit(rows, verify)
