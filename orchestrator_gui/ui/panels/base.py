"""What every dock panel shares: the session it shows, cross-selection, and safe file edits.

Cross-selection has one model, the graph's selection. A panel asks for a
node with :meth:`Panel.request_node`; the main window selects it (flying
there) and every panel then mirrors the graph's selection with
:meth:`Panel.mirror_selection`: a panel highlights the selected nodes it
shows and nothing else, so no row stays highlighted once the selection is
cleared elsewhere. Clicking the highlighted row again asks for its node
again (the view flies back to it). Filtering a panel never asks for a node.

Panel edits of a workspace file follow one path (:meth:`Panel.commit_edit`):
the edit is applied to a fresh document made from the bytes the panel
loaded, written through the undo stack with a conflict check, and when the
file changed on disk meanwhile the user chooses *Reload* (drop the change,
show the file as it is now) or *Merge* (apply the same change to the new
version). Nothing is ever overwritten silently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSignalBlocker,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from orchestrator_gui.formats.fileio import read_bytes
from orchestrator_gui.problems import ConflictError, FormatError
from orchestrator_gui.ui.errors import ErrorReporter
from orchestrator_gui.ui.prompts import Prompter
from orchestrator_gui.ui.settings import AppSettings

if TYPE_CHECKING:
    from orchestrator_gui.model.nodes import Node
    from orchestrator_gui.ui.session import WorkspaceSession


@dataclass
class PanelContext:
    """Services every panel uses (passed in; there are no global singletons)."""

    reporter: ErrorReporter
    prompter: Prompter
    settings: AppSettings


class Panel(QWidget):
    """Base class of the dock panels.

    Signals
    -------
    node_requested(str)
        The user picked something that has a node in the graph: select it there and fly to it.
    """

    node_requested = Signal(str)
    #: Workspace-relative name of the file this panel mirrors ("" for none).
    FILE = ""

    def __init__(self, ctx: PanelContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.session: WorkspaceSession | None = None
        # Set while the panel reflects a selection made elsewhere, so it does not echo it back.
        self._mirroring = False
        #: Item views kept in step with the graph's selection (see install_selection_sync).
        self._synced: list[QAbstractItemView] = []
        # Requests made so far, and their count when the last mouse press began: a click
        # that made none landed on the row already current (see _on_view_clicked).
        self._requests = 0
        self._requests_at_press = 0
        # The row each synced view last showed for a node, and that node.
        self._row_nodes: dict[int, tuple[QPersistentModelIndex, str]] = {}

    # -- to override -----------------------------------------------------------------------
    def set_session(self, session: WorkspaceSession | None) -> None:
        """Show ``session``'s workspace (``None``: nothing open)."""
        self.session = session
        self.reload()

    def reload(self) -> None:
        """Re-read the panel's file and refresh, keeping the selection where possible."""

    def show_node(self, node: Node | None) -> None:
        """Reflect a selection made elsewhere (the 3D view, another panel)."""

    def make_doc(self, path: Path, data: bytes | None) -> Any:
        """A document of the panel's file type from ``data`` (``None``: the file does not exist)."""
        raise NotImplementedError

    # -- shared ------------------------------------------------------------------------------
    def on_files_changed(self, names: list[str]) -> None:
        """Reload when the panel's file is among ``names``."""
        if self.FILE and self.FILE in names:
            self.reload()

    def request_node(self, node_id: str | None) -> None:
        """Emit :attr:`node_requested` unless the panel is mirroring a selection."""
        if node_id and not self._mirroring:
            self._requests += 1
            self._remember_rows(node_id)
            self.node_requested.emit(node_id)

    # -- one selection: the graph's ------------------------------------------------------------
    def owns(self, node: Node) -> bool:
        """Whether ``node`` is something this panel shows (by default: its source is the panel's file)."""
        return bool(self.FILE) and node.source is not None and node.source.file == self.FILE

    def mirror_selection(self, nodes: list[Node]) -> None:
        """Highlight what the graph has selected (``nodes``, the last one primary), and nothing else.

        The default shows the last selected node the panel owns with
        :meth:`show_node`, after clearing every highlight, so a row never
        stays highlighted for a node that is no longer selected. Panels that
        can highlight several rows override this.
        """
        mine = [n for n in nodes if self.owns(n)]
        if mine and self._shows(mine[-1].id):
            return  # already highlighted (the panel's own pick coming back): leave the click alone
        self._mirroring = True
        try:
            self.clear_highlight()
            if mine:
                self.show_node(mine[-1])
                self._remember_rows(mine[-1].id)
        finally:
            self._mirroring = False

    def _shows(self, node_id: str) -> bool:
        """Whether a synced view has the row of ``node_id`` current and highlighted."""
        for view in self._synced:
            known = self._row_nodes.get(id(view))
            current = view.currentIndex()
            if (known is not None and known[1] == node_id and current.isValid() and known[0].isValid()
                    and known[0].row() == current.row() and known[0].parent() == current.parent()
                    and view.selectionModel().isSelected(current)):
                return True
        return False

    def clear_highlight(self) -> None:
        """Select no row in the synced views (without emitting anything the panel listens to)."""
        for view in self._synced:
            if view.selectionModel() is None:
                continue
            with QSignalBlocker(view):  # the view's own item signals; its repaint still follows
                view.selectionModel().clear()
                view.selectionModel().setCurrentIndex(QModelIndex(), QItemSelectionModel.SelectionFlag.NoUpdate)

    def install_selection_sync(self) -> None:
        """Start keeping the panel's item views in step with the graph's selection (call once, when built).

        Clicking a row that is already current changes nothing in the view,
        so the panel would ask for nothing; the click is then turned into a
        request for the row's node, and the view flies there again.
        """
        self._synced = [v for v in self.findChildren(QAbstractItemView) if not _in_combo(v, self)]
        for view in self._synced:
            view.viewport().installEventFilter(self)
            view.clicked.connect(lambda index, v=view: self._on_view_clicked(v, index))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        """Note the request count when a mouse press on a synced view begins."""
        if event.type() == QEvent.Type.MouseButtonPress:
            self._requests_at_press = self._requests
        return super().eventFilter(watched, event)

    def _remember_rows(self, node_id: str) -> None:
        for view in self._synced:
            current = view.currentIndex()
            if current.isValid():
                self._row_nodes[id(view)] = (QPersistentModelIndex(current.siblingAtColumn(0)), node_id)

    def node_at(self, view: QAbstractItemView, index: QModelIndex) -> str | None:
        """The node a row of ``view`` stands for, or ``None`` when unknown.

        Asked when a click on a row asked for nothing by itself (the row was
        current already). The default knows the row the panel last asked for
        or highlighted; a panel that can map any row overrides this.
        """
        known = self._row_nodes.get(id(view))
        if known is None or not known[0].isValid():
            return None
        row, node_id = known
        return node_id if row.row() == index.row() and row.parent() == index.parent() else None

    def _on_view_clicked(self, view: QAbstractItemView, index: QModelIndex) -> None:
        if self._requests != self._requests_at_press or self._mirroring:
            return  # the click already asked for a node
        self.request_node(self.node_at(view, index))

    def read_doc(self) -> Any | None:
        """The panel's file as a document (an empty one when the file is absent).

        When the file cannot be read or parsed -- often an agent's write caught
        half-way -- the problem is reported and the last good document stays
        shown; editing it then meets the conflict check, never a blind write.
        """
        if self.session is None:
            return None
        path = self.session.path(self.FILE)
        try:
            if not path.exists():
                return self.make_doc(path, None)
            return self.make_doc(path, read_bytes(path))
        except FormatError as exc:
            self.ctx.reporter.report(exc, context="Showing the last readable version")
            previous = getattr(self, "doc", None)
            return previous if previous is not None and Path(previous.path) == path else None

    def commit_edit(self, doc: Any, op: Callable[[Any], Any], text: str) -> Any | None:
        """Apply ``op`` to a copy of ``doc`` and save it through the undo stack.

        Parameters
        ----------
        doc : TextFile-like
            The document as the panel loaded it (its ``original`` bytes are the
            expected disk content).
        op : callable
            ``op(document)`` performs the edit in memory (it may raise
            ``FormatError``/``ValueError``, which are reported).
        text : str
            Undo-menu text.

        Returns
        -------
        The value ``op`` returned when the edit was written, else ``None``.
        """
        if self.session is None:
            return None
        path = self.session.path(self.FILE)
        try:
            work = self.make_doc(path, doc.original)
            result = op(work)
            if work.data == work.original:
                return result
            self.session.undo.push_file_edit(path, work.original, work.data, text)
            self.after_write()
            return result if result is not None else True
        except ConflictError:
            return self._resolve_conflict(path, op, text)
        except (FormatError, ValueError, KeyError) as exc:
            self.ctx.reporter.report(exc, context=text)
            return None

    def _resolve_conflict(self, path: Path, op: Callable[[Any], Any], text: str) -> Any | None:
        choice = self.ctx.prompter.choose(
            "File changed on disk",
            f"{self.FILE} was changed by another program since this panel loaded it.",
            ["Reload", "Merge"],
            detail="Reload shows the file as it is now and drops your change. "
                   "Merge applies your change to the new version of the file.",
        )
        if choice == "Merge":
            try:
                fresh = self.make_doc(path, read_bytes(path) if path.exists() else None)
                result = op(fresh)
                self.session.undo.push_file_edit(path, fresh.original, fresh.data, text)
                self.after_write()
                return result if result is not None else True
            except Exception as exc:  # noqa: BLE001 - a second conflict or an edit that no longer fits
                self.ctx.reporter.report(exc, context=f"{text} (merge)", dialog=True)
                self.reload()
                return None
        if choice == "Reload":
            self.drop_unsaved()
            self.reload()
            self.ctx.reporter.info(f"Reloaded {self.FILE}; your change was not applied")
        return None

    def drop_unsaved(self) -> None:
        """Forget edits not written yet (the user chose Reload after a conflict)."""

    def after_write(self) -> None:
        """Hook run after a successful write (the schedules panel shows its one-time notice)."""


def _in_combo(view: QWidget, stop: QWidget) -> bool:
    """Whether ``view`` is a combo box's popup list (not a view of the panel's items)."""
    w = view.parentWidget()
    while w is not None and w is not stop:
        if isinstance(w, QComboBox):
            return True
        w = w.parentWidget()
    return False


class FilterTable(QWidget):
    """A sortable table with a text filter and one column-value filter (memory log, runs).

    Rows are added with :meth:`set_rows`; each row carries a ``key`` (kept in
    the first column's user data). The highlighted rows are a list of keys
    (:meth:`highlight`, what the graph has selected), re-applied whenever the
    rows or the filters change, so filtering never moves the selection to
    another row and never emits :attr:`activated`.
    """

    activated = Signal(object)  # key of the row the user selected
    filtered = Signal()  # the filters changed which rows are shown

    def __init__(self, columns: list[str], choice_column: int | None = None, choice_label: str = "All",
                 parent: QWidget | None = None, *, stretch_column: int | None = None) -> None:
        super().__init__(parent)
        self.columns = columns
        self.choice_column = choice_column
        self.model = QStandardItemModel(0, len(columns), self)
        self.model.setHorizontalHeaderLabels(columns)
        self.proxy = _RowFilter(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(Qt.ItemDataRole.UserRole + 1)
        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(0, Qt.SortOrder.DescendingOrder)  # logs read newest first
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(22)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        if stretch_column is None:
            header.setStretchLastSection(True)
        else:
            header.setStretchLastSection(False)
            header.setSectionResizeMode(stretch_column, QHeaderView.ResizeMode.Stretch)
        self.view.selectionModel().currentRowChanged.connect(self._on_row)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._refilter)
        self.choice = QComboBox()
        self.choice.addItem(choice_label)
        self.choice.currentIndexChanged.connect(self._refilter)
        self.choice.setVisible(choice_column is not None)
        top = QHBoxLayout()
        top.addWidget(self.choice)
        top.addWidget(self.search, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(top)
        lay.addWidget(self.view, 1)
        self._quiet = False
        #: Keys of the highlighted rows, and of the current one.
        self._keys: list[Any] = []
        self._current: Any = None

    def set_rows(self, rows: list[tuple[Any, list[Any], list[str]]]) -> None:
        """Replace the rows: ``(key, sort values, display texts)`` each; keeps the highlighted keys."""
        self._quiet = True
        try:
            self.model.removeRows(0, self.model.rowCount())
            choices = set()
            for key, sort_values, texts in rows:
                items = []
                for sv, text in zip(sort_values, texts, strict=False):
                    it = QStandardItem(text)
                    it.setData(sv, Qt.ItemDataRole.UserRole + 1)
                    it.setToolTip(text if len(text) > 40 else "")
                    items.append(it)
                items[0].setData(key, Qt.ItemDataRole.UserRole)
                self.model.appendRow(items)
                if self.choice_column is not None:
                    choices.add(texts[self.choice_column])
            if self.choice_column is not None:
                current = self.choice.currentText()
                self.choice.blockSignals(True)
                while self.choice.count() > 1:
                    self.choice.removeItem(1)
                self.choice.addItems(sorted(c for c in choices if c))
                self.choice.setCurrentIndex(max(0, self.choice.findText(current)))
                self.choice.blockSignals(False)
            self._refilter()
        finally:
            self._quiet = False

    def _refilter(self) -> None:
        col = self.choice_column
        value = self.choice.currentText() if col is not None and self.choice.currentIndex() > 0 else None
        was, self._quiet = self._quiet, True  # a row filtered out moves Qt's current row: not a pick
        try:
            self.proxy.set_filters(self.search.text(), col, value)
            self._apply_highlight(scroll=False)
        finally:
            self._quiet = was
        self.filtered.emit()

    def visible_keys(self) -> list[Any]:
        """Keys of the rows the filters let through (in the table's order)."""
        return [self.proxy.index(r, 0).data(Qt.ItemDataRole.UserRole) for r in range(self.proxy.rowCount())]

    def highlight(self, keys: list[Any], current: Any = None) -> None:
        """Highlight exactly the rows of ``keys`` (none: ``[]``), ``current`` current; emits nothing."""
        self._keys, self._current = list(keys), current
        was, self._quiet = self._quiet, True
        try:
            self._apply_highlight(scroll=True)
        finally:
            self._quiet = was

    def _index_of(self, key: Any) -> QModelIndex:
        for r in range(self.model.rowCount()):
            if self.model.item(r, 0).data(Qt.ItemDataRole.UserRole) == key:
                return self.proxy.mapFromSource(self.model.index(r, 0))
        return QModelIndex()

    def _apply_highlight(self, *, scroll: bool) -> None:
        sm = self.view.selectionModel()
        selection = QItemSelection()
        for key in self._keys:
            idx = self._index_of(key)
            if idx.isValid():
                selection.select(idx, idx)
        sm.select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        current = self._index_of(self._current) if self._current is not None else QModelIndex()
        sm.setCurrentIndex(current, QItemSelectionModel.SelectionFlag.NoUpdate)
        if scroll and current.isValid():
            self.view.scrollTo(current)

    def current_key(self) -> Any:
        idx = self.view.currentIndex()
        if not idx.isValid():
            return None
        src = self.proxy.mapToSource(idx)
        return self.model.item(src.row(), 0).data(Qt.ItemDataRole.UserRole)

    def select_key(self, key: Any, *, quiet: bool = False) -> bool:
        """Select the row with ``key`` (as a click would); ``quiet`` does not emit :attr:`activated`."""
        idx = self._index_of(key)
        if not idx.isValid():
            return False
        self._keys, self._current = [key], key
        was = self._quiet
        self._quiet = quiet or was
        try:
            self.view.selectionModel().setCurrentIndex(
                idx, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
            self.view.scrollTo(idx)
        finally:
            self._quiet = was
        return True

    def visible_count(self) -> int:
        """Rows passing the filters."""
        return self.proxy.rowCount()

    def _on_row(self, current, _previous) -> None:
        if not self._quiet and current.isValid():
            key = self.current_key()
            self._keys, self._current = [key], key  # the user's pick, until the graph says otherwise
            self.activated.emit(key)


class _RowFilter(QSortFilterProxyModel):
    """Proxy accepting rows whose texts contain every word, and whose choice column matches."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._words: list[str] = []
        self._col: int | None = None
        self._value: str | None = None

    def set_filters(self, text: str, col: int | None, value: str | None) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt >= 6.10; invalidateFilter() is deprecated there
            self.beginFilterChange()
        self._words = text.lower().split()
        self._col, self._value = col, value
        if hasattr(self, "endFilterChange"):
            self.endFilterChange()
        else:  # pragma: no cover - older Qt
            self.invalidateFilter()

    def filterAcceptsRow(self, row: int, parent) -> bool:  # noqa: N802 - Qt override
        m = self.sourceModel()
        if self._col is not None and self._value is not None:
            if m.index(row, self._col, parent).data() != self._value:
                return False
        if not self._words:
            return True
        text = " ".join(str(m.index(row, c, parent).data() or "") for c in range(m.columnCount())).lower()
        return all(w in text for w in self._words)
