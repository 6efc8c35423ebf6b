"""Runs panel: the runs recorded in ``task_timing.tsv`` (one row per task id) and a duration chart.

A run's rows (``started``, then ``completed``/``failed``/…) are folded into
one table row: start time, mode, task id, task, duration, result, priority.
The chart plots each finished run's duration against its start time with
plain ``QPainter`` (no chart library), coloured by status; clicking a point
selects the run.

Two things come from our own run records (``.orchestrator/runs.jsonl``,
:class:`~orchestrator_gui.workspace.recorded_runs.RecordedRuns`), looked at
every second: **dry runs**, which write no timing row, are listed with the
status *dry run* in their own colour (never *completed*, and not on the
duration chart); and a run that passed 80 % of its time limit gets a ⚠ and
the warning in its Result cell.

Above the table, the *Pending approval* section
(:class:`~orchestrator_gui.ui.panels.approvals_box.PendingApprovalsBox`) lists
the runs that wait for the user, with Approve / Skip / Edit & approve, and the
"Ask before running" switch of the schedule or TODO item selected in the graph.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

from orchestrator_gui.formats.timing import TimingDocument, TimingRow, parse_instant, parse_timing
from orchestrator_gui.formats.timing_read import MAX_PAGE_ROWS, group_by_task, read_timing_page
from orchestrator_gui.formats.workspace import TIMING, TIMING_CSV
from orchestrator_gui.ui.panels.approvals_box import PendingApprovalsBox
from orchestrator_gui.ui.panels.base import FilterTable, Panel, PanelContext
from orchestrator_gui.ui.theme import displayable, status_color
from orchestrator_gui.workspace.recorded_runs import DRY_RUN, RecordedRuns

FILE = TIMING.as_posix()
#: Narrower than this, the chart goes below the table instead of beside it.
WIDE_PX = 620
COLUMNS = ["Started", "Mode", "Task id", "Task", "Duration", "Status", "Result", "Priority", "Machine"]
#: The Machine column (last, so the others keep their places); shown in fleet mode only.
MACHINE_COLUMN = len(COLUMNS) - 1
#: How often, in fleet mode, the other machines' runs are fetched (they change no local file).
FLEET_POLL_MS = 5000
#: Colour of a dry run's status (its own: a rehearsal is neither a success nor a failure).
DRY_RUN_COLOR = "#9b7fd4"
#: How often the run records are looked at (one ``stat`` when nothing changed).
RECORDS_POLL_MS = 1000
WARNING_MARK = "⚠"
#: Timing rows read at first, and added by each "Load older runs": the log is append-only and may
#: outgrow the 20 MB read limit, so the panel reads its newest rows from the end, never the whole file.
PAGE_ROWS = 2000


@dataclass
class Run:
    """One task id's rows folded together."""

    task_id: str
    start: float | None
    start_raw: str
    mode: str
    task: str
    duration_s: float | None
    status: str
    result: str
    priority: str
    line: int
    machine: str = ""


def fold_runs(rows: Iterable[TimingRow]) -> list[Run]:
    """One :class:`Run` per task id of ``rows``, in file order (the last row holds the current state)."""
    out = []
    for task_id, task_rows in group_by_task(rows).items():
        first, last = task_rows[0], task_rows[-1]
        start_raw = first.start_time or first.timestamp or ""
        duration = next((r.duration_s for r in reversed(task_rows) if r.duration_s is not None), None)
        if duration is None:
            duration = next((r.computed_duration_s for r in reversed(task_rows)
                             if r.computed_duration_s is not None), None)
        out.append(Run(task_id=task_id, start=parse_instant(start_raw), start_raw=start_raw, mode=last.mode or "",
                       task=last.task or first.task or "", duration_s=duration, status=last.status or "",
                       result=last.result or "", priority=last.priority or "", line=first.line))
    return out


def format_duration(seconds: float | None) -> str:
    """``"2m 08s"``, ``"40m 08s"``, ``"1h 05m"``; ``"—"`` when unknown."""
    if seconds is None:
        return "—"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    if h:
        return f"{h}h {m:02d}m"
    return f"{m}m {sec:02d}s" if m else f"{sec}s"


class DurationChart(QWidget):
    """Run durations over time, one dot per finished run (QPainter only)."""

    picked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runs: list[Run] = []
        self.selected: str | None = None
        self._points: list[tuple[QPointF, str]] = []
        self.setMinimumHeight(110)
        self.setToolTip("Run durations over time; click a dot to select the run")

    def set_runs(self, runs: list[Run]) -> None:
        self.runs = [r for r in runs if r.start is not None and r.duration_s is not None]
        self.update()

    def set_selected(self, task_id: str | None) -> None:
        self.selected = task_id
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        p.fillRect(self.rect(), pal.color(pal.ColorRole.Base))
        text = pal.color(pal.ColorRole.PlaceholderText)
        fm = p.fontMetrics()
        left, right, top, bottom = fm.horizontalAdvance("00h 00m") + 10, 10, 10, fm.height() + 8
        plot = QRectF(left, top, max(10, self.width() - left - right), max(10, self.height() - top - bottom))
        p.setPen(QPen(pal.color(pal.ColorRole.Mid), 1))
        p.drawRect(plot)
        self._points = []
        if not self.runs:
            p.setPen(text)
            p.drawText(plot, Qt.AlignmentFlag.AlignCenter, "no finished runs")
            p.end()
            return
        t0 = min(r.start for r in self.runs)
        t1 = max(r.start for r in self.runs)
        span = max(t1 - t0, 60.0)
        dmax = max(r.duration_s for r in self.runs) or 1.0
        # sqrt scale: a 40-minute run must not flatten the 2-minute heartbeats into the axis
        scale = math.sqrt(dmax)
        p.setPen(QPen(pal.color(pal.ColorRole.Mid), 1, Qt.PenStyle.DotLine))
        for frac in (0.25, 0.5, 0.75):
            y = plot.bottom() - frac * plot.height()
            p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        p.setPen(text)
        p.drawText(QRectF(0, plot.top() - 2, left - 6, fm.height()), Qt.AlignmentFlag.AlignRight,
                   format_duration(dmax))
        p.drawText(QRectF(0, plot.bottom() - fm.height() + 2, left - 6, fm.height()), Qt.AlignmentFlag.AlignRight, "0")
        fmt = "%d %b %H:%M" if span < 3 * 86400 else "%d %b"
        p.drawText(QRectF(plot.left(), plot.bottom() + 3, 200, fm.height()), Qt.AlignmentFlag.AlignLeft,
                   _dt.datetime.fromtimestamp(t0).strftime(fmt))
        p.drawText(QRectF(plot.right() - 200, plot.bottom() + 3, 200, fm.height()), Qt.AlignmentFlag.AlignRight,
                   _dt.datetime.fromtimestamp(t1).strftime(fmt))
        for r in sorted(self.runs, key=lambda r: r.task_id == self.selected):
            x = plot.left() + 6 + (plot.width() - 12) * (r.start - t0) / span
            y = plot.bottom() - 4 - (plot.height() - 8) * math.sqrt(r.duration_s) / scale
            c = status_color(r.status)
            pt = QPointF(x, y)
            self._points.append((pt, r.task_id))
            if r.task_id == self.selected:
                p.setPen(QPen(pal.color(pal.ColorRole.Text), 2))
                p.setBrush(c)
                p.drawEllipse(pt, 6, 6)
            else:
                p.setPen(QPen(c.darker(130), 1))
                p.setBrush(QColor(c.red(), c.green(), c.blue(), 200))
                p.drawEllipse(pt, 4, 4)
        p.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        pos = event.position()
        best = min(self._points, key=lambda pt: (pt[0] - pos).manhattanLength(), default=None)
        if best is not None and (best[0] - pos).manhattanLength() < 14:
            self.picked.emit(best[1])


def shown_time(start: object, raw: str) -> str:
    """A run's start as people read it: local time to the second (timing rows and dry runs alike).

    The files hold UTC with milliseconds and ``Z`` (the agents' format) and our own records
    ``+00:00`` with microseconds; neither is for reading, and mixed in one column they looked like
    two kinds of run. Unparsable times are shown as written.
    """
    if isinstance(start, _dt.datetime):
        return start.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(start, (int, float)) and start > 0:
        return _dt.datetime.fromtimestamp(float(start)).strftime("%Y-%m-%d %H:%M:%S")
    return raw


def dry_run_rows(recorded: RecordedRuns) -> list[Run]:
    """The recorded dry runs as rows (no duration: they are not on the chart)."""
    return [Run(task_id=d.task_id, start=d.start, start_raw=d.started_raw, mode=d.mode, task=d.title,
                duration_s=None, status=DRY_RUN, result=d.result, priority=d.kind, line=0)
            for d in recorded.dry_runs()]


def fleet_rows(rows: list[dict], known: set[str]) -> list[Run]:
    """The other machines' runs (``workspace.runs.fleet_run_rows``) as table rows, leaving out ``known`` task ids."""
    out = []
    for r in rows:
        if r["task_id"] in known:
            continue  # this machine's own run: its task_timing.tsv row is shown already
        started = r.get("started") or ""
        out.append(Run(task_id=r["task_id"], start=parse_instant(started) if started else None, start_raw=started,
                       mode=r.get("mode") or "", task=r.get("name") or r.get("subject_id") or "",
                       duration_s=r.get("duration_s"), status=r.get("status") or "running", result="",
                       priority=r.get("kind") or "", line=0, machine=r.get("machine") or ""))
    return out


def status_colour(status: str):
    """The table's colour of a status word (a dry run has its own)."""
    from PySide6.QtGui import QColor

    return QColor(DRY_RUN_COLOR) if status == DRY_RUN else status_color(status)


class RunsPanel(Panel):
    """Table of runs and the duration chart."""

    FILE = FILE

    def __init__(self, ctx: PanelContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.runs: list[Run] = []
        self.recorded: RecordedRuns | None = None
        self.warnings: dict[str, str] = {}
        self._poll = QTimer(self)
        self._poll.setInterval(RECORDS_POLL_MS)
        self._poll.timeout.connect(self._check_records)
        self._fleet_poll = QTimer(self)
        self._fleet_poll.setInterval(FLEET_POLL_MS)
        self._fleet_poll.timeout.connect(self._check_fleet)
        self.machine: str | None = None  # this machine's fleet name; None when not in a fleet
        self._fleet_cache: list[dict] | None = None  # the fleet's runs as last fetched
        self.table = FilterTable(COLUMNS, choice_column=5, choice_label="All statuses", stretch_column=3)
        self.table.activated.connect(self._on_activated)
        self.table.filtered.connect(self._on_filtered)
        self.chart = DurationChart()
        # A dot is a pick even when the table's filter hides its row (or it is already selected: fly again).
        self.chart.picked.connect(self._on_activated)
        self.status = QLabel()
        self.status.setProperty("role", "muted")
        self.status.setWordWrap(True)  # in a narrow dock the count and "from the newest N rows" take two lines
        self.rows_wanted = PAGE_ROWS  # newest timing rows read; "Load older runs" adds a page
        self.more = False  # whether the log has rows older than those read
        self.clipped = False  # whether the read stopped at the read limit, 20 MB back from the end
        self.older = QPushButton("Load older runs")
        self.older.clicked.connect(self.load_older)
        self.older.hide()
        self.approvals = PendingApprovalsBox(ctx.reporter)
        split = self.split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(self.chart)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([900, 500])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.approvals)
        lay.addWidget(split, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.older)
        lay.addLayout(bottom)
        for col, width in ((0, 185), (1, 115), (2, 80), (4, 80), (5, 75), (6, 200), (7, 65), (8, 110)):
            self.table.view.setColumnWidth(col, width)
        self.table.view.setColumnHidden(MACHINE_COLUMN, True)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        """Chart beside the table when the panel is wide, below it when it is a narrow column."""
        super().resizeEvent(event)
        wide = self.width() >= WIDE_PX
        self.split.setOrientation(Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical)

    def on_files_changed(self, names: list[str]) -> None:
        if FILE in names or TIMING_CSV.as_posix() in names:
            self.reload()

    def set_session(self, session) -> None:
        self.recorded = RecordedRuns(session.root) if session is not None else None
        self.approvals.set_root(session.root if session is not None else None,
                                session.graph if session is not None else None)
        super().set_session(session)
        if session is not None:
            self._poll.start()
        else:
            self._poll.stop()
            self._fleet_poll.stop()

    def _check_records(self) -> None:
        """Reload when our run records changed (a dry run or a warning: no workspace file tells)."""
        if self.recorded is not None and self.recorded.changed():
            self.reload()

    def make_doc(self, path: Path, data: bytes | None) -> TimingDocument:
        return parse_timing(data or b"", str(path))

    def reload(self) -> None:
        rows: list[TimingRow] = []
        self.more = self.clipped = False
        if self.session is not None:
            path = self.session.path(FILE)
            if not path.exists() and self.session.path(TIMING_CSV.as_posix()).exists():
                path = self.session.path(TIMING_CSV.as_posix())
            if path.exists():
                try:
                    page = read_timing_page(path, limit=min(self.rows_wanted, MAX_PAGE_ROWS), partial=True)
                except Exception as exc:  # noqa: BLE001 - shown in the status bar; the last good runs stay
                    self.ctx.reporter.report(exc, context="Showing the last readable version")
                    return
                rows, self.more, self.clipped = page.rows, page.more, page.clipped
        self.runs = fold_runs(rows)
        if self.recorded is not None:
            self.recorded.changed()  # what is shown now is up to date
            try:
                known = {r.task_id for r in self.runs}
                self.runs += [r for r in dry_run_rows(self.recorded) if r.task_id not in known]
                self.warnings = self.recorded.warnings()
            except OSError as exc:  # shown in the status bar; the timing rows still show
                self.ctx.reporter.report(exc, context="Reading the run records")
        self._add_fleet_runs()
        rows = []
        for r in self.runs:
            warning = self.warnings.get(r.task_id)
            result = f"{WARNING_MARK} {warning} · {r.result}" if warning else r.result
            rows.append((r.task_id,
                         [r.start or 0.0, r.mode, r.task_id, r.task.lower(), r.duration_s or -1.0, r.status,
                          result.lower(), r.priority, r.machine],
                         [shown_time(r.start, r.start_raw), r.mode, r.task_id, displayable(r.task),
                          format_duration(r.duration_s), r.status,
                          displayable(result), r.priority, r.machine]))
        self.table.set_rows(rows)
        for i in range(self.table.model.rowCount()):
            self.table.model.item(i, 5).setForeground(status_colour(self.table.model.item(i, 5).text()))
            tid = self.table.model.item(i, 2).text()
            if tid in self.warnings:
                self.table.model.item(i, 6).setToolTip(f"Time-limit warning: {self.warnings[tid]}")
        self._on_filtered()

    def load_older(self) -> None:
        """Read one more page of the log, further back (up to :data:`MAX_PAGE_ROWS` rows in all)."""
        self.rows_wanted = min(self.rows_wanted + PAGE_ROWS, MAX_PAGE_ROWS)
        self.reload()

    def _add_fleet_runs(self) -> None:
        """In fleet mode: name this machine on its rows and add every other machine's runs (the Machine column)."""
        if self.session is None:
            return
        from orchestrator_gui.engine.fleet_config import fleet_settings

        try:
            settings = fleet_settings(self.session.root)
        except Exception as exc:  # noqa: BLE001 - a bad [fleet] is reported; the local runs still show
            self.ctx.reporter.report(exc, context="Fleet runs")
            settings = None
        self.machine = settings.machine if settings is not None else None
        self.table.view.setColumnHidden(MACHINE_COLUMN, self.machine is None)
        if self.machine is None:
            self._fleet_poll.stop()
            return
        if not self._fleet_poll.isActive():
            self._fleet_poll.start()
        for r in self.runs:
            r.machine = r.machine or self.machine
        rows = self._fleet_cache if self._fleet_cache is not None else self._fetch_fleet()
        self._fleet_cache = None
        self.runs += fleet_rows(rows or [], {r.task_id for r in self.runs})

    def _fetch_fleet(self) -> list[dict] | None:
        from orchestrator_gui.workspace.runs import fleet_run_rows

        try:
            return fleet_run_rows(self.session.root) or []
        except Exception as exc:  # noqa: BLE001 - the database is away: this machine's runs still show
            self.ctx.reporter.info(f"Fleet runs unavailable: {exc}")
            return None

    def _check_fleet(self) -> None:
        """Every few seconds in fleet mode: show the table again only when another machine's runs changed."""
        if self.session is None or self.machine is None:
            return
        rows = self._fetch_fleet()
        if rows is None:
            return
        shown = {(r.machine, r.task_id, r.status) for r in self.runs}
        if any((r["machine"], r["task_id"], r.get("status") or "running") not in shown
               for r in rows if r["machine"] != self.machine):
            self._fleet_cache = rows
            self.reload()

    def row_of(self, task_id: str) -> dict[str, str] | None:
        """The shown cells of a run's row by column name (tests, the status line), None when absent."""
        m = self.table.model
        for i in range(m.rowCount()):
            if m.item(i, 2).text() == task_id:
                return {c: m.item(i, k).text() for k, c in enumerate(COLUMNS)}
        return None

    def _on_filtered(self) -> None:
        """The chart and the count show the runs the table's filters let through."""
        shown = set(self.table.visible_keys())
        runs = [r for r in self.runs if r.task_id in shown]
        self.chart.set_runs(runs)
        failed = sum(r.status in ("failed", "timeout") for r in runs)
        dry = sum(r.status == DRY_RUN for r in runs)
        of = f" of {len(self.runs)}" if len(runs) < len(self.runs) else ""
        older = f" · newest {min(self.rows_wanted, MAX_PAGE_ROWS):,} rows of the log" if self.more else ""
        self.status.setText(f"{len(runs)}{of} runs · {failed} failed" + (f" · {dry} dry" if dry else "") + older
                            if self.runs else "")
        self.older.setVisible(self.more)
        at_cap = self.rows_wanted >= MAX_PAGE_ROWS or self.clipped
        self.older.setEnabled(not at_cap)
        self.older.setToolTip(
            f"The panel reads at most the newest {MAX_PAGE_ROWS:,} rows, within 20 MB of the log's end; "
            "'orchestrator-gui timing list --offset N' pages further back" if at_cap
            else f"Read {PAGE_ROWS:,} more rows of the log, further back")

    def _on_activated(self, task_id) -> None:
        self.chart.set_selected(task_id)
        if task_id and self.session is not None:
            self.request_node(self.session.node_for(FILE, key=f"run/{task_id}"))

    def show_node(self, node) -> None:
        self.mirror_selection([node] if node is not None else [])

    def mirror_selection(self, nodes: list) -> None:
        """Highlight the rows of every selected run (the last one current, and marked on the chart)."""
        self._ask_about(nodes)
        mine = [n for n in nodes if self.owns(n) and (n.source.key or "").startswith("run/")]
        tids = [n.source.key[4:] for n in mine]
        self.table.highlight(tids, tids[-1] if tids else None)
        self.chart.set_selected(tids[-1] if tids else None)
        if mine:
            self._remember_rows(mine[-1].id)

    def _ask_about(self, nodes: list) -> None:
        """Point "Ask before running" at the last selected schedule or TODO item (none: switched off)."""
        for n in reversed(nodes):
            key = (n.source.key or "") if n.source is not None else ""
            if n.kind.value == "schedule" and key.startswith("schedule/"):
                self.approvals.set_subject(("schedule", key[len("schedule/"):]), n.title)
                return
            if n.kind.value == "todo" and key.startswith("item/"):
                self.approvals.set_subject(("todo", key), n.title)
                return
        self.approvals.set_subject(None)
