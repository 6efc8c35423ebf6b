"""A read-only view of a workspace file at one line: what "Open source line" opens.

The node's panel already shows the item, so raising it alone looked like a
no-op (GUI review #14). This window shows the file itself, scrolled to the
node's line with that line marked, and offers to open the file in the
system's editor. It never writes.

Big files (a persistent-memory.md can hold 300k entries) are not loaded
whole: only a window of :data:`CONTEXT_LINES` lines around the target is
read, streamed, so opening one costs the same at any size.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QColor, QDesktopServices, QFont, QTextCursor, QTextFormat
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

#: Lines shown before and after the target line.
CONTEXT_LINES = 400
#: Longest line shown in full (longer ones are cut with "…": a minified line must not freeze the view).
MAX_LINE_CHARS = 2_000


def read_window(path: Path, line: int, context: int = CONTEXT_LINES) -> tuple[list[str], int]:
    """Lines ``line - context .. line + context`` of ``path`` (1-based ``line``) and the first one's number.

    Decoding errors show as U+FFFD; a line past the end gives the file's last lines.
    """
    line = max(1, int(line))
    first = max(1, line - context)
    last = line + context
    kept: list[str] = []
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        for number, text in enumerate(fh, start=1):
            if number < first:
                continue
            if number > last:
                break
            text = text.rstrip("\r\n")
            kept.append(text if len(text) <= MAX_LINE_CHARS else text[:MAX_LINE_CHARS] + "…")
    if not kept and first > 1:  # the line is past the end (the file shrank): show its tail
        return read_window(path, max(1, line - 2 * context), context)
    return kept, first


class SourceView(QDialog):
    """The file ``path`` (shown as ``name``) scrolled to ``line``, that line highlighted.

    Parameters
    ----------
    path : Path
        The file on disk.
    name : str
        The workspace-relative name shown in the title.
    line : int
        1-based line to show.
    parent : QWidget, optional
    """

    def __init__(self, path: Path, name: str, line: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = Path(path)
        self.line = max(1, int(line))
        self.setWindowTitle(f"{name}:{self.line} — Loop Orchestrator")
        self.resize(820, 560)
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFont("monospace"))
        lines, first = read_window(self.path, self.line)
        self.first_line = first
        width = len(str(first + len(lines)))
        self.text.setPlainText("\n".join(f"{first + i:>{width}}  {t}" for i, t in enumerate(lines)))
        self.caption = QLabel(
            f"<b>{name}</b>, line {self.line} (read-only; lines {first}–{first + max(len(lines) - 1, 0)} shown)")
        editor = QPushButton("Open in Default Editor")
        editor.setToolTip("Open the file with the application your desktop uses for it")
        editor.clicked.connect(self.open_externally)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.addButton(editor, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.caption)
        lay.addWidget(self.text)
        lay.addWidget(buttons)
        self._mark(self.line - first)

    def _mark(self, row: int) -> None:
        block = self.text.document().findBlockByNumber(max(0, row))
        cursor = QTextCursor(block)
        self.text.setTextCursor(cursor)
        self.text.centerCursor()
        mark = QTextEdit.ExtraSelection()
        mark.format.setBackground(QColor(255, 200, 60, 90))
        mark.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
        mark.cursor = cursor
        self.text.setExtraSelections([mark])

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        # Centring needs the laid-out viewport, which exists only once the window is shown.
        self.text.centerCursor()

    def marked_text(self) -> str:
        """The text of the highlighted line, without its line number (tests)."""
        sel = self.text.extraSelections()
        if not sel:
            return ""
        return sel[0].cursor.block().text().lstrip().split("  ", 1)[-1]

    def open_externally(self) -> bool:
        """Hand the file to the desktop's default application (no shell, no command built from data)."""
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.path)))
