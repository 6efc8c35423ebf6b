"""TODO panel: the checklist of ``TODO.md`` as a tree that mirrors the file.

Headings nest by level, items under their heading or parent item, details
under their item. Open/done items have checkboxes; other first boxes
(``[-]``, ``[~]`` …) are shown as written. Every action is one minimal edit
through :class:`~orchestrator_gui.formats.todo.TodoDocument` (a toggle
changes exactly one byte), saved through the undo stack.

Rows are identified by the item's key
(:func:`orchestrator_gui.model.identity.todo_keys`: a hash of the text and its
occurrence number, not the line), so the selection and the folding survive
edits that shift lines (ours or an agent's). A row finds its node through the
graph, by the node's source key (which follows the item's text while the
node keeps its id) and, until the graph has synced an edit, by the row's line.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSignalBlocker, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QDropEvent, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QStyledItemDelegate,
    QToolBar,
    QTreeWidget,
    QTreeWidgetItem,
    QTreeWidgetItemIterator,
    QVBoxLayout,
    QWidget,
)

from orchestrator_gui.formats.todo import TodoDocument
from orchestrator_gui.formats.workspace import TODO
from orchestrator_gui.model.identity import todo_keys
from orchestrator_gui.ui.panels.base import Panel, PanelContext
from orchestrator_gui.ui.panels.todo_editing import EditInProgress, capture_edit, resume_edit
from orchestrator_gui.ui.theme import display_title, displayable, plain

FILE = TODO.as_posix()
ROLE = Qt.ItemDataRole.UserRole
#: The item's title as written in TODO.md (the tree shows it cleaned).
RAW_ROLE = Qt.ItemDataRole.UserRole + 1
#: (kind, text, identity key) of a tree row; kind is "heading", "item" or "detail".
Key = tuple[str, str, str]


#: What other box characters mean (FORMATS.md: ``[-]`` = declined); shown in words, the file's text in a tooltip.
BOX_WORDS = {" ": "open", "x": "done", "X": "done", "-": "declined", "~": "in progress", "/": "in progress",
             ">": "deferred", "<": "scheduled", "?": "question", "!": "important"}


def state_words(state: str, boxes: str) -> str:
    """The State column: ``open``/``done``/``declined``…, and each stage of a multi-box item in words."""
    marks = boxes[1::3] if len(boxes) % 3 == 0 else ""
    words = [BOX_WORDS.get(m, f"“{m}”") for m in marks]
    head = state if state != "other" else (words[0] if words else boxes)
    if len(words) > 1:
        return f"{head} (stages: {', '.join(words)})"
    return head


def rkey(row: QTreeWidgetItem | None) -> Key | None:
    """Identity key stored on a tree row (Qt hands tuples back as lists)."""
    if row is None:
        return None
    value = row.data(0, ROLE)
    return tuple(value) if value else None


def item_keys(doc: TodoDocument) -> dict[int, Key]:
    """Line -> (kind, text, identity key) of every item and heading of ``doc``."""
    ids = todo_keys(doc.headings, doc.items)
    rows = {h.line: ("heading", h.text) for h in doc.headings} | {i.line: ("item", i.text) for i in doc.items}
    return {line: (*rows[line], key) for line, key in ids.items()}


def line_of(doc: TodoDocument, key: Key) -> int | None:
    """Line of the item/heading with identity ``key`` in ``doc``."""
    for line, k in item_keys(doc).items():
        if k == key:
            return line
    return None


class _RawEditor(QStyledItemDelegate):
    """Edits an item's title as written in the file (Markdown included), not as shown."""

    def setEditorData(self, editor: QWidget, index) -> None:  # noqa: N802 - Qt override
        raw = index.data(RAW_ROLE)
        if raw is not None and isinstance(editor, QLineEdit):
            editor.setText(raw)
            return
        super().setEditorData(editor, index)


class _TodoTree(QTreeWidget):
    """Tree whose drag-and-drop asks for a file edit instead of moving rows itself."""

    dropped = Signal(object, object, bool)  # dragged key, target key, below

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        src = self.currentItem()
        target = self.itemAt(event.position().toPoint())
        pos = self.dropIndicatorPosition()
        event.setDropAction(Qt.DropAction.IgnoreAction)
        event.accept()  # the file is edited and the tree rebuilt; Qt must not move the rows
        if src is None or target is None or src is target:
            return
        below = pos == QAbstractItemView.DropIndicatorPosition.BelowItem
        self.dropped.emit(rkey(src), rkey(target), below)


class TodoPanel(Panel):
    """The TODO tree with filters, search and edit actions."""

    FILE = FILE

    def __init__(self, ctx: PanelContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.doc: TodoDocument | None = None
        self._rows: dict[Key, QTreeWidgetItem] = {}
        self._collapsed: set[Key] = set()

        self.filter = QComboBox()
        self.filter.addItems(["All", "Open", "Done"])
        self.filter.currentIndexChanged.connect(self.apply_filter)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search TODO…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.apply_filter)
        top = QHBoxLayout()
        top.addWidget(self.filter)
        top.addWidget(self.search, 1)

        self.tree = _TodoTree()
        self._editor = _RawEditor(self.tree)
        self.tree.setItemDelegateForColumn(0, self._editor)
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["Item", "State", "Line"])
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed
                                  | QAbstractItemView.EditTrigger.DoubleClicked)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.tree.setDefaultDropAction(Qt.DropAction.MoveAction)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(28)
        self.tree.setIndentation(14)  # deep outlines leave the titles some room in a narrow dock
        self.tree.itemChanged.connect(self._on_changed)
        self.tree.itemSelectionChanged.connect(self._on_select)
        self.tree.itemCollapsed.connect(lambda it: self._collapsed.add(rkey(it)))
        self.tree.itemExpanded.connect(lambda it: self._collapsed.discard(rkey(it)))
        self.tree.dropped.connect(self._on_dropped)

        # A toolbar, not a row of buttons: in a narrow dock it folds what does not fit into its
        # overflow menu instead of eliding every label ("A…m", "I…t").
        bar = QToolBar(self)
        bar.setIconSize(QSize(0, 0))
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.buttons = {}
        for name, tip, slot in (
            ("Add", "Add an item in the selected section (or after the selected item's siblings)", self.add_item),
            ("Add sub-item", "Add an item nested under the selected item", self.add_subitem),
            ("Edit", "Edit the selected item's title (or double-click it; F2)", self.edit_current),
            ("Indent", "Nest the item under the item above it", self.indent_current),
            ("Outdent", "Move the item one level up", self.outdent_current),
            ("Delete", "Delete the item with its details and sub-items", self.delete_current),
        ):
            act = bar.addAction(name)
            act.setToolTip(tip)
            act.triggered.connect(slot)
            self.buttons[name] = act
        self.counts = QLabel()
        self.counts.setProperty("role", "muted")

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(self.tree, 1)
        lay.addWidget(bar)
        lay.addWidget(self.counts)
        self._update_buttons()

    # ------------------------------------------------------------------ loading
    def make_doc(self, path: Path, data: bytes | None) -> TodoDocument:
        return TodoDocument(path, data if data is not None else b"")

    def reload(self) -> None:
        keep = self.current_key()
        editing = self._capture_edit(keep)
        self.doc = self.read_doc() if self.session is not None else None
        self._build()
        if keep is not None and keep in self._rows:
            with QSignalBlocker(self.tree):
                self.tree.setCurrentItem(self._rows[keep])
        self.apply_filter()
        self._update_buttons()
        if editing is not None:
            self._resume_edit(editing)

    def mirror_selection(self, nodes: list) -> None:
        if self.tree.state() == QAbstractItemView.State.EditingState:
            return  # never pull the row out from under the user's open editor (it follows on commit)
        super().mirror_selection(nodes)

    def _capture_edit(self, key: Key | None) -> EditInProgress | None:
        if self.doc is None or key is None or key[0] != "item":
            return None
        line = line_of(self.doc, key)
        ordinal = next((k for k, it in enumerate(self.doc.items) if it.line == line), -1)
        return capture_edit(self.tree, key, ordinal, key[1])

    def _resume_edit(self, edit: EditInProgress) -> None:
        keys = item_keys(self.doc) if self.doc is not None else {}
        resume_edit(self.tree, edit, self.doc.items if self.doc is not None else [],
                    lambda key: self._rows.get(key), lambda line: keys.get(line), self.ctx, FILE)

    def _build(self) -> None:
        with QSignalBlocker(self.tree):
            self.tree.clear()
            self._rows.clear()
            doc = self.doc
            if doc is None:
                self.counts.setText("")
                return
            keys = item_keys(doc)
            by_line: dict[int, QTreeWidgetItem] = {}
            stack: list[tuple[int, QTreeWidgetItem]] = []
            bold = QFont(self.tree.font())
            bold.setBold(True)
            events = sorted([(h.line, 0, h) for h in doc.headings] + [(i.line, 1, i) for i in doc.items],
                            key=lambda e: e[0])
            for line, is_item, obj in events:
                key = keys[line]
                if not is_item:
                    while stack and stack[-1][0] >= obj.level:
                        stack.pop()
                    row = QTreeWidgetItem([displayable(obj.text), "", str(line)])
                    row.setFont(0, bold)
                    row.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                                 | Qt.ItemFlag.ItemIsDropEnabled)
                    (stack[-1][1] if stack else self.tree.invisibleRootItem()).addChild(row)
                    stack.append((obj.level, row))
                else:
                    parent = by_line.get(obj.parent_line) if obj.parent_line else None
                    parent = parent or (stack[-1][1] if stack else self.tree.invisibleRootItem())
                    state = state_words(obj.state, obj.boxes)
                    # Shown cleaned (no ``**``, emoji fallback); edited as written (see _RawEditor).
                    row = QTreeWidgetItem([display_title(obj.text), state, str(line)])
                    row.setData(0, RAW_ROLE, obj.text)
                    flags = (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEditable
                             | Qt.ItemFlag.ItemIsDragEnabled | Qt.ItemFlag.ItemIsDropEnabled)
                    if obj.state != "other":
                        flags |= Qt.ItemFlag.ItemIsUserCheckable
                    row.setFlags(flags)
                    if obj.state != "other":
                        row.setCheckState(0, Qt.CheckState.Checked if obj.state == "done" else Qt.CheckState.Unchecked)
                    else:
                        italic = QFont(self.tree.font())
                        italic.setItalic(True)
                        row.setFont(0, italic)
                        row.setToolTip(0, f"first box “{obj.marker}”: shown as written")
                    if obj.state == "other" or len(obj.boxes) > 3:
                        row.setToolTip(1, f"written as {obj.boxes}")
                    parent.addChild(row)
                    by_line[line] = row
                    for k, detail in enumerate(d for d in obj.details if d.strip()):
                        sub = QTreeWidgetItem([displayable(plain(detail)), "", ""])
                        sub.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                        sub.setForeground(0, self.palette().color(self.palette().ColorRole.PlaceholderText))
                        sub.setData(0, ROLE, ("detail", obj.text, f"{key[2]}/detail/{k}"))
                        sub.setToolTip(0, detail.strip())
                        row.addChild(sub)
                row.setData(0, ROLE, key)
                row.setData(2, ROLE, line)
                self._rows[key] = row
            for key, row in self._rows.items():
                row.setExpanded(key not in self._collapsed and row.childCount() > 0)
            n_open = sum(i.state == "open" for i in doc.items)
            n_done = sum(i.state == "done" for i in doc.items)
            self.counts.setText(f"{n_open} open · {n_done} done · {len(doc.items) - n_open - n_done} other")

    # ------------------------------------------------------------------ filter
    def apply_filter(self) -> None:
        """Show items matching the state filter and search text (with their headings and parents)."""
        mode = self.filter.currentText().lower()
        words = self.search.text().lower().split()

        def visit(row: QTreeWidgetItem) -> bool:
            kind = (rkey(row) or ("",))[0]
            child_hit = False
            for i in range(row.childCount()):
                child_hit |= visit(row.child(i))
            if kind == "detail":
                hit = not words or all(w in row.text(0).lower() for w in words)
                row.setHidden(False)
                return hit and mode == "all"
            if kind == "heading":
                hit = (mode == "all" and not words) or child_hit
                row.setHidden(not hit)
                return hit
            state = row.text(1).split(" ")[0]
            ok_state = mode == "all" or state == mode
            text = " ".join([row.text(0)] + [row.child(i).text(0) for i in range(row.childCount())]).lower()
            ok_text = not words or all(w in text for w in words)
            hit = (ok_state and ok_text) or child_hit
            row.setHidden(not hit)
            return hit

        root = self.tree.invisibleRootItem()
        for i in range(root.childCount()):
            visit(root.child(i))

    def visible_items(self) -> list[str]:
        """Titles (as written in the file) of the item rows currently shown (tests)."""
        out = []
        it = QTreeWidgetItemIterator(self.tree)
        while it.value():
            row = it.value()
            key = rkey(row)
            if key and key[0] == "item" and not row.isHidden():
                p, shown = row.parent(), True
                while p is not None:
                    shown &= not p.isHidden()
                    p = p.parent()
                if shown:
                    out.append(row.data(0, RAW_ROLE) or row.text(0))
            it += 1
        return out

    # ------------------------------------------------------------------ selection
    def current_key(self) -> Key | None:
        """Identity key of the selected row."""
        row = self.tree.currentItem()
        return rkey(row) if row is not None else None

    def row_of_line(self, line: int) -> QTreeWidgetItem | None:
        """The tree row of the item or heading on ``line``."""
        if self.doc is None:
            return None
        key = item_keys(self.doc).get(line)
        return self._rows.get(key) if key else None

    def select_line(self, line: int) -> bool:
        """Select the item/heading on ``line`` (tests, cross-selection)."""
        row = self.row_of_line(line)
        if row is not None:
            self.tree.setCurrentItem(row)
            self.tree.scrollToItem(row)
        return row is not None

    def _on_select(self) -> None:
        self._update_buttons()
        key = self.current_key()
        if key is not None and key[0] == "detail":
            key = rkey(self.tree.currentItem().parent())
        if key is not None and self.session is not None and self.doc is not None:
            self.request_node(self.session.node_for(FILE, key=key[2], line=line_of(self.doc, key)))

    def show_node(self, node) -> None:
        if node is None or node.source is None or node.source.file != FILE or node.source.line is None:
            return
        row = self.row_of_line(node.source.line)
        if row is not None and row is not self.tree.currentItem():
            self._mirroring = True
            try:
                with QSignalBlocker(self.tree):
                    self.tree.setCurrentItem(row)
                self.tree.scrollToItem(row)
                self._update_buttons()
            finally:
                self._mirroring = False

    def _update_buttons(self) -> None:
        key = self.current_key()
        is_item = key is not None and key[0] in ("item", "detail")
        ok = self.doc is not None and self.session is not None
        self.buttons["Add"].setEnabled(ok)
        for name in ("Add sub-item", "Edit", "Indent", "Outdent", "Delete"):
            self.buttons[name].setEnabled(ok and is_item)

    # ------------------------------------------------------------------ edits
    def _edit(self, key: Key, action, text: str):
        """Run ``action(doc, line)`` on the item ``key`` as one saved, undoable edit."""
        def op(doc: TodoDocument):
            line = line_of(doc, key)
            if line is None:
                raise ValueError(f"the item “{key[1]}” is no longer in {FILE}")
            return action(doc, line)
        return self.commit_edit(self.doc, op, text)

    def _on_changed(self, row: QTreeWidgetItem, column: int) -> None:
        key = rkey(row)
        if column != 0 or not key or key[0] != "item" or self.doc is None:
            return
        # Qt emits itemChanged from inside the row's own setData(); handling it there
        # rebuilds the tree and deletes that row while Qt still uses it (a crash).
        # So take plain values now and act once control is back in the event loop.
        text, checked = row.text(0), row.checkState(0) == Qt.CheckState.Checked
        raw = row.data(0, RAW_ROLE)
        if raw is not None and text == display_title(raw):
            text = raw  # only the box changed: the shown title is the cleaned one, not an edit
        QTimer.singleShot(0, self, lambda: self._apply_change(key, text, checked))

    def _apply_change(self, key, text: str, checked: bool) -> None:
        if self.doc is None:
            return
        line = line_of(self.doc, key)
        if line is None:
            return
        item = self.doc.item_at(line)
        if text != item.text:
            title = text.strip()
            if not title:
                self.reload()
                return
            self._edit(key, lambda d, ln: d.edit(ln, title), "Edit TODO item")
            return
        if item.state != "other" and checked != (item.state == "done"):
            self.set_done(line, checked)

    def set_done(self, line: int, done: bool) -> bool:
        """Check or uncheck the item on ``line``; one byte of the file changes."""
        if self.doc is None:
            return False
        key = item_keys(self.doc)[line]
        ok = self._edit(key, (lambda d, ln: d.check(ln)) if done else (lambda d, ln: d.uncheck(ln)),
                        f"{'Check' if done else 'Uncheck'} “{key[1][:40]}”")
        if not ok:
            self.reload()  # put the checkbox back to what the file says
        return bool(ok)

    def add_item(self) -> None:
        """Add an open item in the selected heading's section, beside the selected item, or at the end."""
        if self.doc is None:
            return
        key = self.current_key()
        row = self.tree.currentItem()
        if key is not None and key[0] == "detail":
            row = row.parent()
            key = rkey(row)
        # Say where it goes before asking (GUI review #18: it landed at the section's end unannounced).
        title = self.ctx.prompter.ask_text("Add TODO item", f"Title (added {self._add_destination(key)})")
        if not title or not title.strip():
            return
        title = title.strip()
        if key is not None and key[0] == "heading":
            section = key[1]
            self.commit_edit(self.doc, lambda d: d.add(title, section=section), "Add TODO item")
        elif key is not None and key[0] == "item":
            def op(d: TodoDocument):
                ln = line_of(d, key)
                it = d.item_at(ln)
                if it.parent_line is not None:
                    return d.add(title, under=it.parent_line)
                return d.add(title, section=it.section) if it.section else d.add(title)
            self.commit_edit(self.doc, op, "Add TODO item")
        else:
            self.commit_edit(self.doc, lambda d: d.add(title), "Add TODO item")
        self._select_title(title)

    def _add_destination(self, key: Key | None) -> str:
        """Where :meth:`add_item` puts a new item for the selection ``key``, in words."""
        if key is not None and key[0] == "heading":
            return f"at the end of section “{display_title(key[1])}”"
        if key is not None and key[0] == "item" and self.doc is not None:
            try:
                it = self.doc.item_at(line_of(self.doc, key))
            except Exception:  # noqa: BLE001 - the row went stale: the add itself will say so
                it = None
            if it is not None and it.parent_line is not None:
                parent = self.doc.item_at(it.parent_line)
                return f"as the last sub-item of “{display_title(parent.text)}”"
            if it is not None and it.section:
                return f"at the end of section “{display_title(it.section)}”"
        return f"at the end of {FILE}"

    def add_subitem(self) -> None:
        """Add an open item nested under the selected item."""
        key = self._item_key()
        if key is None:
            return
        title = self.ctx.prompter.ask_text("Add sub-item", "Title")
        if not title or not title.strip():
            return
        self._edit(key, lambda d, ln: d.add(title.strip(), under=ln), "Add TODO sub-item")
        self._select_title(title.strip())

    def _select_title(self, title: str) -> None:
        for key, row in self._rows.items():
            if key[0] == "item" and key[1] == title:
                self.tree.setCurrentItem(row)

    def _item_key(self) -> Key | None:
        row = self.tree.currentItem()
        if row is None:
            return None
        key = rkey(row)
        if key and key[0] == "detail":
            key = rkey(row.parent())
        return key if key and key[0] == "item" else None

    def edit_current(self) -> None:
        """Start editing the selected item's title in place."""
        key = self._item_key()
        if key is not None:
            self.tree.editItem(self._rows[key], 0)

    def indent_current(self) -> None:
        key = self._item_key()
        if key is not None:
            self._edit(key, lambda d, ln: d.indent(ln), "Indent TODO item")

    def outdent_current(self) -> None:
        key = self._item_key()
        if key is not None:
            self._edit(key, lambda d, ln: d.outdent(ln), "Outdent TODO item")

    def delete_current(self) -> None:
        key = self._item_key()
        if key is None:
            return
        if not self.ctx.prompter.confirm("Delete TODO item",
                                         f"Delete “{key[1]}” with its details and sub-items? "
                                         "(Edit ▸ Undo restores it.)",
                                         ok="Delete"):
            return
        self._edit(key, lambda d, ln: d.remove(ln), "Delete TODO item")

    def move_item(self, key: Key, target: Key, *, below: bool = False) -> bool:
        """Move item ``key`` above (or below) item ``target``: one edit of the file."""
        if target[0] != "item" or key[0] != "item":
            self.ctx.reporter.info("Drop an item onto another item to reorder")
            return False

        def op(d: TodoDocument):
            src, dst = line_of(d, key), line_of(d, target)
            if src is None or dst is None:
                raise ValueError("the item moved on disk meanwhile")
            d.move(src, dst)
            if below:  # "below the target" = above it, then the target back above the moved item
                d.move(line_of(d, target), line_of(d, key))
        ok = self.commit_edit(self.doc, op, "Move TODO item")
        if ok and key in self._rows:
            self.tree.setCurrentItem(self._rows[key])
        return bool(ok)

    def _on_dropped(self, key, target, below: bool) -> None:
        if key and target:
            self.move_item(tuple(key), tuple(target), below=below)
