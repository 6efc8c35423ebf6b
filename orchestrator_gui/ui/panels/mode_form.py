"""The form of one custom mode: name, role, when to use, description, instructions, tool groups.

The form tracks which fields the user touched (:meth:`ModeForm.changes`),
so saving writes exactly those and nothing else: a field the file lacks
stays absent unless the user typed into it, and the ``groups`` list keeps
the entries the user did not change (with their ``fileRegex`` options and
any group this form has no box for). Values are checked with Roo's rules
(:mod:`orchestrator_gui.formats.roomodes_values`) as the user types; Save
is disabled while one is refused, and the message says why.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from orchestrator_gui.formats.roomodes_values import (
    TEXT_KEYS,
    WRITABLE_GROUPS,
    check_groups,
    check_text,
    group_name,
    groups_from_names,
)

#: Labels of the text fields, in the order the form shows them.
LABELS = {"name": "Name", "roleDefinition": "Role", "whenToUse": "When to use", "description": "Description",
          "customInstructions": "Instructions"}


def _edit_regex(groups: Any) -> str:
    for entry in groups if isinstance(groups, list) else []:
        if isinstance(entry, list) and len(entry) == 2 and entry[0] == "edit" and isinstance(entry[1], dict):
            regex = entry[1].get("fileRegex")
            return regex if isinstance(regex, str) else ""
    return ""


class ModeForm(QWidget):
    """Editor of one mode's fields.

    Signals
    -------
    edited()
        A field changed (the panel enables Save/Revert).

    Attributes
    ----------
    base : dict
        The fields as loaded (what the user's changes were made against).
    widgets : dict
        Field key -> its editor (``groups`` is the row of group boxes).
    """

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.base: dict[str, Any] = {}
        self._dirty: set[str] = set()
        self._loading = False
        self.widgets: dict[str, QWidget] = {}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.slug = QLabel()
        self.slug.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("Slug", self.slug)
        for key in TEXT_KEYS:
            if key in ("name", "description"):
                w: QWidget = QLineEdit()
                w.textEdited.connect(lambda _t, k=key: self._touch(k))
            else:
                w = QPlainTextEdit()
                w.setMinimumHeight(60 if key == "whenToUse" else 90)
                w.textChanged.connect(lambda k=key: self._touch(k))
            w.setObjectName(f"mode_{key}")
            self.widgets[key] = w
            form.addRow(LABELS[key], w)
        self.group_boxes: dict[str, QCheckBox] = {}
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        for name in WRITABLE_GROUPS:
            box = QCheckBox(name)
            box.toggled.connect(lambda _on=False: self._touch("groups"))
            self.group_boxes[name] = box
            row.addWidget(box)
        row.addStretch(1)
        boxes = QWidget()
        boxes.setLayout(row)
        self.widgets["groups"] = boxes
        form.addRow("Tools", boxes)
        self.file_regex = QLineEdit()
        self.file_regex.setPlaceholderText("edit only files matching this regex (optional)")
        self.file_regex.textEdited.connect(lambda _t: self._touch("groups"))
        form.addRow("Edit files", self.file_regex)
        self.problems = QLabel()
        self.problems.setProperty("role", "error")
        self.problems.setWordWrap(True)
        self.problems.hide()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(form)
        lay.addWidget(self.problems)
        lay.addStretch(1)
        self.load(None)

    # ------------------------------------------------------------------ state
    @property
    def dirty(self) -> bool:
        """Whether the user changed a field since :meth:`load`."""
        return bool(self.changes())

    def load(self, slug: str | None, fields: dict[str, Any] | None = None, *, editable: bool = True) -> None:
        """Show one mode's ``fields`` (``None``: nothing selected); forgets every change."""
        self._loading = True
        try:
            self.base = dict(fields or {})
            self._dirty.clear()
            self.slug.setText(slug or "")
            for key in TEXT_KEYS:
                self._set_text(key, self.base.get(key))
            self._set_groups(self.base.get("groups"))
        finally:
            self._loading = False
        for w in (*self.widgets.values(), self.file_regex):
            w.setEnabled(fields is not None and editable)
        self._refresh()

    def _set_text(self, key: str, value: Any) -> None:
        w = self.widgets[key]
        text = value if isinstance(value, str) else ""
        if isinstance(w, QLineEdit):
            w.setText(text)
        else:
            w.setPlainText(text)

    def _set_groups(self, groups: Any) -> None:
        names = {group_name(e) for e in groups} if isinstance(groups, list) else set()
        for name, box in self.group_boxes.items():
            box.setChecked(name in names)
        self.file_regex.setText(_edit_regex(groups))

    def _touch(self, key: str) -> None:
        if self._loading:
            return
        self._dirty.add(key)
        self._refresh()
        self.edited.emit()

    def _refresh(self) -> None:
        self.file_regex.setEnabled(self.group_boxes["edit"].isChecked() and self.widgets["groups"].isEnabled())
        problems = self.validation()
        self.problems.setText("\n".join(problems))
        self.problems.setVisible(bool(problems))

    # ------------------------------------------------------------------ values
    def value(self, key: str) -> Any:
        """The field's value as the form shows it (``groups``: the whole list of entries)."""
        if key == "groups":
            return self._groups_value()
        w = self.widgets[key]
        text = w.text() if isinstance(w, QLineEdit) else w.toPlainText()
        return None if text == "" and self.base.get(key) is None else text

    def _groups_value(self) -> list[Any]:
        base = self.base.get("groups") if isinstance(self.base.get("groups"), list) else []
        checked = [n for n, box in self.group_boxes.items() if box.isChecked()]
        known = [group_name(e) for e in base]
        # Entries the form has no box for stay where they are; new groups go at the end.
        names = [n for n in known if n in checked or n not in self.group_boxes]
        names += [n for n in checked if n not in names]
        regex = self.file_regex.text()
        return groups_from_names(names, base, file_regex=None if regex == _edit_regex(base) else regex)

    def changes(self) -> dict[str, Any]:
        """The fields the user changed, with their new values (nothing else)."""
        out = {}
        for key in self._dirty:
            value = self.value(key)
            if value != self.base.get(key):
                out[key] = value
        return out

    def restore(self, pending: dict[str, Any]) -> None:
        """Put unsaved values back after the form was loaded again (a reload from disk)."""
        self._loading = True
        try:
            for key, value in pending.items():
                if key == "groups":
                    self._set_groups(value)
                else:
                    self._set_text(key, value)
                self._dirty.add(key)
        finally:
            self._loading = False
        self._refresh()

    def validation(self) -> list[str]:
        """Why the changed values cannot be saved (Roo would reject them); empty when they can."""
        out = []
        for key, value in self.changes().items():
            problem = check_groups(value, self.base.get("groups") or []) if key == "groups" \
                else check_text(key, value)
            if problem:
                out.append(problem)
        return out


__all__ = ["LABELS", "ModeForm"]
