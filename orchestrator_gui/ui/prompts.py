"""Questions the UI asks the user, behind one object so tests can answer them.

Panels never call ``QMessageBox``/``QInputDialog`` directly: they ask a
:class:`Prompter`. Tests replace its methods (``monkeypatch.setattr``) and
so never block on a modal dialog.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QInputDialog, QLineEdit, QMessageBox, QWidget

#: Width of the text input dialogs (pixels): room for a whole TODO line or schedule name.
TEXT_DIALOG_WIDTH = 460

class Prompter:
    """Modal questions and non-blocking notices, parented to ``parent``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.parent = parent

    def confirm(self, title: str, text: str, *, ok: str = "OK") -> bool:
        """Ask a yes/no question; True when the user accepts."""
        box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=self.parent)
        yes = box.addButton(ok, QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is yes

    def choose(self, title: str, text: str, choices: list[str], *, detail: str = "") -> str | None:
        """Offer ``choices`` as buttons; returns the one clicked, ``None`` when cancelled."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, parent=self.parent)
        if detail:
            box.setInformativeText(detail)
        buttons = {box.addButton(c, QMessageBox.ButtonRole.ActionRole): c for c in choices}
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return buttons.get(box.clickedButton())

    def ask_text(self, title: str, label: str, text: str = "", *, multiline: bool = False) -> str | None:
        """Ask for a line (or a block) of text; ``None`` when cancelled."""
        dlg = QInputDialog(self.parent)
        dlg.setWindowTitle(title)
        dlg.setLabelText(label)
        if multiline:
            dlg.setOption(QInputDialog.InputDialogOption.UsePlainTextEditForTextInput)
        dlg.setTextEchoMode(QLineEdit.EchoMode.Normal)
        dlg.setTextValue(text)
        # Qt's default is ~200 px: a TODO title or a schedule name did not fit, nor did the window title.
        hint = dlg.sizeHint()
        dlg.resize(max(hint.width(), TEXT_DIALOG_WIDTH), hint.height())
        ok = dlg.exec() == QDialog.DialogCode.Accepted
        return dlg.textValue() if ok else None

    def ask_int(self, title: str, label: str, value: int, minimum: int, maximum: int) -> int | None:
        """Ask for a whole number; ``None`` when cancelled."""
        got, ok = QInputDialog.getInt(self.parent, title, label, value, minimum, maximum)
        return got if ok else None

    def notify(self, title: str, text: str) -> None:
        """Show an information box without blocking (``open()``, not ``exec()``)."""
        box = QMessageBox(QMessageBox.Icon.Information, title, text, parent=self.parent)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
