"""Modes panel: the custom modes of ``.roomodes``, a form for the selected one, Add and Remove.

Every change is a use case of :mod:`orchestrator_gui.workspace.modes` (the
same the ``modes`` commands run), written through the undo history: the
file is re-read under its lock and only the bytes of what changed are
spliced. Saving the form merges three ways with what another program wrote
meanwhile: fields only they changed are kept, fields only the user changed
are written, and a field both changed is asked about with both values
(keep mine, keep theirs, cancel). A reload from disk keeps the selection
and the unsaved text. Selecting a mode selects its node in the graph.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from orchestrator_gui.formats.roomodes import ModesDocument, new_modes
from orchestrator_gui.formats.roomodes_values import check_slug
from orchestrator_gui.formats.workspace import ROOMODES
from orchestrator_gui.ui.panels.base import Panel, PanelContext
from orchestrator_gui.ui.panels.form_merge import KEEP_MINE, KEEP_THEIRS
from orchestrator_gui.ui.panels.mode_form import ModeForm
from orchestrator_gui.ui.theme import displayable
from orchestrator_gui.workspace import modes as use
from orchestrator_gui.workspace.merge import FieldConflict

FILE = ROOMODES.as_posix()
COLUMNS = ("Slug", "Name", "Tools")
#: Tool groups of a mode added from the panel (the least a mode can do; the form adds more).
NEW_MODE_GROUPS = ("read",)


class ModesPanel(Panel):
    """List of custom modes (top) and the form of the selected one (bottom)."""

    FILE = FILE

    def __init__(self, ctx: PanelContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.doc: ModesDocument | None = None
        self._shown: str | None = None  # slug the form shows

        self.list = QTreeWidget()
        self.list.setColumnCount(len(COLUMNS))
        self.list.setHeaderLabels(COLUMNS)
        self.list.setRootIsDecorated(False)
        self.list.setAlternatingRowColors(True)
        self.list.setUniformRowHeights(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.list.header()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for i in (0, 2):
            header.setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
        self.list.itemSelectionChanged.connect(self._on_select)

        self.btn_add = QPushButton("Add")
        self.btn_remove = QPushButton("Remove")
        self.btn_save = QPushButton("Save")
        self.btn_revert = QPushButton("Revert")
        self.btn_save.setDefault(True)
        for b, slot in ((self.btn_add, self.add_mode), (self.btn_remove, self.remove_mode),
                        (self.btn_save, self.save), (self.btn_revert, self.revert)):
            b.clicked.connect(slot)
        self.status = QLabel()
        self.status.setProperty("role", "muted")
        self.status.setWordWrap(True)
        self.form = ModeForm()
        self.form.edited.connect(self._update_buttons)

        actions = QHBoxLayout()
        actions.addWidget(self.btn_add)
        actions.addWidget(self.btn_remove)
        actions.addStretch(1)
        top = QWidget()
        tv = QVBoxLayout(top)
        tv.setContentsMargins(0, 0, 0, 0)
        tv.addWidget(self.list, 1)
        tv.addLayout(actions)
        tv.addWidget(self.status)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.form)
        save_row = QHBoxLayout()
        save_row.addStretch(1)
        save_row.addWidget(self.btn_revert)
        save_row.addWidget(self.btn_save)
        bottom = QWidget()
        bv = QVBoxLayout(bottom)
        bv.setContentsMargins(0, 0, 0, 0)
        bv.addWidget(scroll, 1)
        bv.addLayout(save_row)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(bottom)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 2)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.addWidget(split, 1)
        self._update_buttons()

    # ------------------------------------------------------------------ loading
    def make_doc(self, path: Path, data: bytes | None) -> ModesDocument:
        return new_modes(path) if data is None else ModesDocument(path, data)

    def reload(self) -> None:
        keep = self._shown or self.current_slug()
        pending = self.form.changes()
        base = dict(self.form.base) if pending else None
        self.doc = self.read_doc()
        with QSignalBlocker(self.list):
            self.list.clear()
            for m in self.doc.modes if self.doc else []:
                item = QTreeWidgetItem([m.slug, displayable(m.name), ",".join(g.name for g in m.groups)])
                item.setData(0, Qt.ItemDataRole.UserRole, m.slug)
                item.setToolTip(1, f"{m.name} (line {m.line})")
                self.list.addTopLevelItem(item)
            target = self._item(keep) if keep else None
            if target is None and self.list.topLevelItemCount():
                target = self.list.topLevelItem(0)
            if target is not None:
                self.list.setCurrentItem(target)
        self._show_current(pending if keep == self.current_slug() else None, base)
        if self.doc is None:
            self.status.setText("no workspace open" if self.session is None else f"{FILE} cannot be read")
        else:
            errors = [p for p in self.doc.problems() if p.severity == "error"]
            self.status.setText(f"{len(self.doc.modes)} modes"
                                + (f" · {len(errors)} problems: Roo ignores the whole file" if errors else ""))

    def _item(self, slug: str) -> QTreeWidgetItem | None:
        for i in range(self.list.topLevelItemCount()):
            it = self.list.topLevelItem(i)
            if it.data(0, Qt.ItemDataRole.UserRole) == slug:
                return it
        return None

    def current_slug(self) -> str | None:
        """Slug of the selected mode."""
        it = self.list.currentItem()
        return it.data(0, Qt.ItemDataRole.UserRole) if it is not None else None

    def _fields(self, slug: str | None) -> dict[str, Any] | None:
        if self.doc is None or slug is None:
            return None
        try:
            return use.mode_fields(self.doc, slug)
        except Exception:  # noqa: BLE001 - gone from the file, or a duplicate slug: nothing to edit
            return None

    def _show_current(self, pending: dict[str, Any] | None = None, base: dict[str, Any] | None = None) -> None:
        slug = self.current_slug()
        fields = self._fields(slug)
        self.form.load(slug, fields, editable=self.session is not None)
        self._shown = slug
        if fields is not None and pending:
            # Reloaded while the form had unsaved edits: keep them, and the version they were made
            # against, so Save merges three ways instead of losing theirs or mine.
            self.form.restore(pending)
            if base is not None:
                self.form.base = base
        self._update_buttons()

    # ------------------------------------------------------------------ selection
    def _on_select(self) -> None:
        slug = self.current_slug()
        if slug == self._shown:
            return
        if self.form.dirty and not self.ctx.prompter.confirm(
                "Unsaved changes", "Discard the unsaved changes of this mode?", ok="Discard"):
            old = self._item(self._shown) if self._shown else None
            if old is not None:
                with QSignalBlocker(self.list):
                    self.list.setCurrentItem(old)
            return
        self._show_current()
        if slug is not None and self.session is not None:
            self.request_node(self.session.node_for(FILE, key=f"mode/{slug}"))

    def show_node(self, node) -> None:
        if node is None or node.source is None or node.source.file != FILE:
            return
        kind, _, slug = node.source.key.partition("/")
        it = self._item(slug) if kind == "mode" else None
        # A form with unsaved edits never switches to another mode; its own row is highlighted again.
        if it is not None and it is not self.list.currentItem() and (not self.form.dirty or slug == self._shown):
            self._mirroring = True
            try:
                self.list.setCurrentItem(it)
            finally:
                self._mirroring = False

    def select_mode(self, slug: str) -> bool:
        """Select a mode by slug (as a click would)."""
        it = self._item(slug)
        if it is not None:
            self.list.setCurrentItem(it)
        return it is not None

    # ------------------------------------------------------------------ actions
    def _update_buttons(self) -> None:
        have = self.session is not None and self._fields(self._shown) is not None
        self.btn_add.setEnabled(self.session is not None and self.doc is not None)
        self.btn_remove.setEnabled(have)
        dirty = have and self.form.dirty
        self.btn_save.setEnabled(dirty and not self.form.validation())
        self.btn_revert.setEnabled(dirty)

    def _writer(self, text: str):
        """Write through the undo history (Edit ▸ Undo restores the bytes)."""
        return lambda path, before, after: self.session.undo.push_file_edit(path, before, after, text)

    def _choose(self, name: str):
        def choose(conflicts: list[FieldConflict]) -> bool | None:
            answer = self.ctx.prompter.choose(
                "Changed on disk",
                f"Another program changed mode “{name}” while you edited it, in the same "
                f"field{'s' if len(conflicts) > 1 else ''}.",
                [KEEP_MINE, KEEP_THEIRS], detail="\n".join(c.describe() for c in conflicts))
            return None if answer is None else answer == KEEP_MINE
        return choose

    def save(self) -> bool:
        """Write the fields the user changed (merged with changes on disk); True when written."""
        slug, changes = self._shown, self.form.changes()
        if self.session is None or slug is None or not changes:
            return False
        problems = self.form.validation()
        if problems:
            self.ctx.reporter.report("; ".join(problems), context="Not saved")
            return False
        name = self.form.base.get("name") or slug
        with self.ctx.reporter.guard(f"Saving mode “{name}”") as g:
            outcome = use.update_mode(self.session.path(FILE), slug, changes, base=self.form.base,
                                      choose=self._choose(name), write=self._writer(f"Edit mode “{name}”"))
        if g.failed or outcome.status == "cancelled":
            return False  # the form keeps the user's values
        self.form.load(slug, None)  # written (or theirs kept everywhere): show the file as it is now
        self.reload()
        if outcome.written:
            self.ctx.reporter.info(f"Saved mode “{name}” ({', '.join(outcome.changed)})")
        return outcome.written

    def revert(self) -> None:
        """Drop the form's unsaved changes."""
        self._show_current()

    def add_mode(self) -> None:
        """Ask for a slug, a name and a role, and append the new mode (its tools: read)."""
        if self.session is None or self.doc is None:
            return
        slug = self.ctx.prompter.ask_text("New mode", "Slug (letters, digits and '-')")
        if not slug:
            return
        problem = check_slug(slug.strip())
        if problem:
            self.ctx.reporter.report(problem, context="Not added", dialog=True)
            return
        name = self.ctx.prompter.ask_text("New mode", "Name")
        if not name or not name.strip():
            return
        role = self.ctx.prompter.ask_text("New mode", "Role definition", multiline=True)
        if not role or not role.strip():
            return
        with self.ctx.reporter.guard("Add mode") as g:
            use.add_mode(self.session.path(FILE), slug.strip(), name=name.strip(), role_definition=role,
                         groups=list(NEW_MODE_GROUPS), write=self._writer(f"Add mode “{name.strip()}”"))
        if not g.failed:
            self.reload()
            self.select_mode(slug.strip())

    def remove_mode(self) -> None:
        """Remove the selected mode after confirmation (Edit ▸ Undo restores it)."""
        slug = self._shown
        shown = self._fields(slug)
        if self.session is None or slug is None or shown is None:
            return
        name = shown.get("name") or slug
        if not self.ctx.prompter.confirm("Remove mode", f"Remove the mode “{name}” ({slug})? "
                                         "(Edit ▸ Undo restores it.)", ok="Remove"):
            return
        with self.ctx.reporter.guard(f"Remove mode “{name}”") as g:
            outcome = use.remove_mode(self.session.path(FILE), slug, base=shown,
                                      write=self._writer(f"Remove mode “{name}”"))
        if g.failed:
            return
        if outcome.status == "conflict":
            self.ctx.reporter.report(f"mode “{name}” was changed on disk ({', '.join(outcome.theirs_changed)}); "
                                     "not removed. Look at it again, then remove it", context="Not removed")
        self.form.load(None)
        self.reload()


__all__ = ["ModesPanel"]
