"""The eight steps of the guided tour, each completed by the real event that shows the user did it.

=====  ===========================  ==============================================
step   the user                     completed by
=====  ===========================  ==============================================
1      rotates the sphere           the camera turned >= :data:`ROTATE_DEGREES`
                                    during a mouse gesture in the 3D view
2      hovers a node                the view's ``hovered`` signal names a node
3      clicks a node                the graph's selection becomes non-empty
4      double-clicks a node         the view's ``node_double_clicked``
5      generates, then undoes       a committed *generate* transaction, then
                                    the undo history no longer holding its nodes
6      ticks a TODO item            ``TODO.md`` written by the app (its bytes
                                    differ from those at the step's start; the
                                    step shows the byte diff)
7      changes a schedule interval  ``.roo/schedules.json`` written with another
                                    interval or unit for one schedule
8      searches and flies           the Search panel asks for a node
=====  ===========================  ==============================================
"""

from __future__ import annotations

import difflib
import html
import re
from typing import Any

from PySide6.QtCore import QEvent
from PySide6.QtGui import QKeySequence

from orchestrator_gui.formats.schedules import ScheduleDocument
from orchestrator_gui.formats.workspace import SCHEDULES, TODO
from orchestrator_gui.ui.theme import display_title
from orchestrator_gui.ui.tour import TourStep
from orchestrator_gui.ui.tour_diff import byte_diff, describe, diff_html

#: How far the camera must turn (azimuth and elevation changes added, degrees) to count as "rotated".
ROTATE_DEGREES = 15.0
#: Largest file the tour reads to show a diff (bytes); a bigger one is reported, not diffed.
MAX_DIFF_FILE = 8 * 1024 * 1024
_JSON_KEY = re.compile(rb'^\s*"([^"\\]{1,80})"\s*:')


def _title(win: Any, node_id: str) -> str:
    """A node's title as the view labels it, escaped for rich text."""
    g = win.session.graph if win.session is not None else None
    if g is None or node_id not in g:
        return html.escape(node_id)
    return html.escape(display_title(g.node(node_id).title) or node_id)


def _keys(win: Any, name: str) -> str:
    """The shortcut of the main window's action ``name`` as the menus show it ("Ctrl+Z")."""
    act = getattr(win, "acts", {}).get(name)
    return act.shortcut().toString(QKeySequence.SequenceFormat.NativeText) if act is not None else ""


def _read(path: Any) -> bytes | None:
    try:
        if path.stat().st_size > MAX_DIFF_FILE:
            return None
        return path.read_bytes()
    except OSError:
        return None


class RotateStep(TourStep):
    """Step 1: done when the user's own drags turned the camera by :data:`ROTATE_DEGREES`."""

    key = "rotate"
    title = "Turn the sphere"
    text = ("Drag with the <b>left mouse button</b> in the 3D view to turn the graph around its centre. "
            "(The wheel or a right-drag zooms, a middle-drag pans; View ▸ Fit to View frames everything again.)")

    def arm(self) -> None:
        camera = getattr(getattr(self.win.view, "scene", None), "camera", None)
        canvas = getattr(getattr(self.win.view, "canvas", None), "native", None)
        if camera is None or canvas is None:
            self.note("The 3D view is not available here: press Next.")
            return
        self._camera = camera
        #: Degrees turned by finished gestures, and the pose at the start of the gesture under way.
        self._turned = 0.0
        self._pressed: tuple[float, float] | None = None
        # Only the user's own drags count: a flight or a restored camera is not the user turning it.
        self.hooks.watch(canvas, self._on_event)

    def _pose(self) -> tuple[float, float]:
        return float(self._camera.azimuth), float(self._camera.elevation)

    def _since_press(self) -> float:
        if self._pressed is None:
            return 0.0
        (az0, el0), (az1, el1) = self._pressed, self._pose()
        return abs((az1 - az0 + 180.0) % 360.0 - 180.0) + abs(el1 - el0)

    def turned(self) -> float:
        """Degrees the user's drags turned the camera since the step started (azimuth + elevation changes)."""
        return self._turned + self._since_press()

    def _on_event(self, event: QEvent) -> None:
        # The filter sees each event before the camera does: a move shows the moves before it,
        # and the release shows the whole drag.
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress:
            self._pressed = self._pose()
            return
        if kind not in (QEvent.Type.MouseMove, QEvent.Type.MouseButtonRelease) or self._pressed is None:
            return
        degrees = self.turned()
        if kind == QEvent.Type.MouseButtonRelease:
            self._turned, self._pressed = degrees, None
        if degrees >= ROTATE_DEGREES and not self.done:
            self.complete(f"You turned the graph by {degrees:.0f}°. Its nodes sit on three shells: goals, "
                          "schedules and modes inside; plans, thoughts and memories in the middle; TODO items, "
                          "tasks and runs outside.")


class HoverStep(TourStep):
    """Step 2: done when the pointer rests on a node (the view's ``hovered``)."""

    key = "hover"
    title = "Hover over a node"
    text = "Rest the pointer on a node, without clicking."

    def arm(self) -> None:
        self.hooks.connect(self.win.view.hovered, self._on_hover)

    def _on_hover(self, node_id: str) -> None:
        g = self.win.session.graph if self.win.session is not None else None
        if self.done or not node_id or g is None or node_id not in g:
            return
        near = {e.dst for e in g.edges_of(node_id, "out")} | {e.src for e in g.edges_of(node_id, "in")}
        near.discard(node_id)
        n = len(near)
        self.complete(f"“{_title(self.win, node_id)}” lights up with its {n} neighbour{'s' if n != 1 else ''} "
                      "and the links between them; the rest of the graph dims.")


class ClickStep(TourStep):
    """Step 3: done when a node is selected; the Inspector is outlined."""

    key = "click"
    title = "Click a node"
    text = "Click a node to select it. The <b>Inspector</b> on the right shows what it is."
    dock = "Inspector"

    def arm(self) -> None:
        self.hooks.connect(self.win.view.selection_changed, self._on_selection)

    def _on_selection(self, ids: list) -> None:
        if ids and not self.done:
            self.complete(f"“{_title(self.win, ids[-1])}” is selected. The Inspector shows its kind, shell, text, "
                          "activation and source; <i>Open source line</i> shows the file at that line "
                          "(and the item in its panel).")


class ActivateStep(TourStep):
    """Step 4: done on the view's ``node_double_clicked`` (double click or Enter)."""

    key = "activate"
    title = "Double-click to activate"
    text = ("Double-click a node (or press Enter with one selected). That records a use of the node; "
            "activation is recomputed and spreads along its links.")

    def arm(self) -> None:
        self.hooks.connect(self.win.view.node_double_clicked, self._on_activate)

    def _on_activate(self, node_id: str) -> None:
        g = self.win.session.graph if self.win.session is not None else None
        if self.done or g is None or node_id not in g:
            return
        # The window activates it first (connected before the tour): the value is the new one.
        value = g.state(node_id).activation
        self.complete(f"Activated “{_title(self.win, node_id)}”: its activation is now {value:.2f}. Nodes above "
                      "the toolbar's <i>Active ≥</i> threshold are drawn bright.")


class GenerateUndoStep(TourStep):
    """Step 5: a committed *generate*, then done once the undo history has removed its nodes."""

    key = "generate"
    title = "Generate, then undo"
    text = ("Right-click a node and choose <b>Generate</b>: new thoughts grow out of it. "
            "Then undo that with Edit ▸ Undo ({undo}).")

    def arm(self) -> None:
        self._created: list[str] = []
        self._source = ""
        self.text = type(self).text.format(undo=_keys(self.win, "undo") or "Edit ▸ Undo")
        self.hooks.connect(self.win.actions_.applied, self._on_applied)
        if self.win.session is not None:
            self.hooks.connect(self.win.session.undo.changed, self._check_undone)

    def _on_applied(self, tx: Any) -> None:
        if self.done:
            return
        if not self._created and tx.provenance.operation == "generate":
            self._created = [e.node.id for e in tx.edits if e.op == "add_node"]
            inputs = tx.provenance.params.get("node_ids") or [tx.provenance.params.get("node_id")]
            self._source = next((i for i in inputs if isinstance(i, str)), "")
            n = len(self._created)
            src = f" from “{_title(self.win, self._source)}”" if self._source else ""
            self.note(f"Generated {n} node{'s' if n != 1 else ''}{src}. Now undo it: Edit ▸ Undo "
                      f"({_keys(self.win, 'undo')}).")
            return
        self._check_undone()

    def _check_undone(self) -> None:
        session = self.win.session
        if self.done or not self._created or session is None:
            return
        if not any(i in session.graph for i in self._created):
            n = len(self._created)
            self.complete(f"Undone: the {n} new node{'s are' if n != 1 else ' is'} gone and the graph is as it was. "
                          f"Every change is one step of the undo history; Edit ▸ Redo ({_keys(self.win, 'redo')}) "
                          "brings them back.")


class TodoTickStep(TourStep):
    """Step 6: done when the app wrote ``TODO.md``; shows the byte diff against the bytes at the start."""

    key = "todo"
    title = "Tick a TODO item"
    text = ("In the <b>TODO</b> panel, tick the box of an open item. The app writes TODO.md itself; "
            "see how little of it changes.")
    dock = "TODO"
    FILE = TODO.as_posix()

    def arm(self) -> None:
        session = self.win.session
        self._before: bytes | None = None
        if session is None:
            return
        self._path = session.path(self.FILE)
        self._before = _read(self._path)
        self.hooks.connect(session.files_changed, self._on_files)

    def _on_files(self, names: list) -> None:
        if self.FILE not in names or self._before is None:
            return
        after = _read(self._path)
        if after is None:
            return
        diff = byte_diff(self._before, after)
        if diff is None:  # ticked and unticked again: the file is as it was
            if self.done:
                self.complete("TODO.md is back to the bytes it had: no difference now.")
            return
        nothing_else = " Nothing else in the file moved." if diff.changed == 1 else ""
        self.complete(f"<b>{self.FILE}</b>, {html.escape(describe(diff))}.{nothing_else}{diff_html(diff)}"
                      f"Edit ▸ Undo ({_keys(self.win, 'undo')}) puts the old bytes back.")


def _schedules(data: bytes | None, path: Any) -> dict[str, tuple[str, str, str]]:
    """id -> (name, interval, unit) of a schedules.json's bytes (empty when unreadable)."""
    if data is None:
        return {}
    try:
        doc = ScheduleDocument(path, data)
    except Exception:  # noqa: BLE001 - a broken file mid-edit: nothing to compare yet
        return {}
    return {s.id: (s.name or s.id, s.time_interval or "?", s.time_unit or "?") for s in doc.schedules}


def every(interval: str, unit: str) -> str:
    """``("10", "minute")`` -> ``"every 10 minutes"`` (the file stores the unit in the singular)."""
    return f"every {interval} {unit}" + ("" if interval == "1" or unit.endswith("s") or unit == "?" else "s")


def changed_json_keys(before: bytes, after: bytes) -> list[str]:
    """Keys of the JSON lines that a write changed, in file order (``["timeInterval", "updatedAt"]``)."""
    a, b = before.splitlines(), after.splitlines()
    keys: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        for line in a[i1:i2] + b[j1:j2]:
            m = _JSON_KEY.match(line)
            name = m.group(1).decode("utf-8", "replace") if m else "…"
            if name not in keys:
                keys.append(name)
    return keys


class ScheduleStep(TourStep):
    """Step 7: done when ``schedules.json`` was written with another interval or unit for a schedule."""

    key = "schedule"
    title = "Change a schedule's interval"
    text = ("In the <b>Schedules</b> panel, pick a schedule, change how often it runs (<i>every N unit</i>) "
            "and press <b>Save</b>.")
    dock = "Schedules"
    FILE = SCHEDULES.as_posix()

    def arm(self) -> None:
        session = self.win.session
        self._before: bytes | None = None
        if session is None:
            return
        self._path = session.path(self.FILE)
        self._before = _read(self._path)
        self._old = _schedules(self._before, self._path)
        self.hooks.connect(session.files_changed, self._on_files)

    def _on_files(self, names: list) -> None:
        if self.FILE not in names or self._before is None or self.done:
            return
        after = _read(self._path)
        new = _schedules(after, self._path)
        for sid, (name, interval, unit) in new.items():
            old = self._old.get(sid)
            if old is not None and old[1:] != (interval, unit):
                keys = ", ".join(changed_json_keys(self._before, after or b""))
                self.complete(f"“{html.escape(name)}” now runs {html.escape(every(interval, unit))} "
                              f"(was {html.escape(every(*old[1:]))}). In <b>{self.FILE}</b> "
                              f"only these values changed: {html.escape(keys)}.")
                return


class SearchStep(TourStep):
    """Step 8: done when the Search panel asks for a node (the view flies to it)."""

    key = "search"
    title = "Search and fly"
    text = ("In the <b>Search</b> panel, type a word (try <i>parser</i>) and pick a result: the view flies to it. "
            "Edit ▸ Find ({find}) brings you to the search box from anywhere.")
    dock = "Search"

    def arm(self) -> None:
        self.text = type(self).text.format(find=_keys(self.win, "find") or "Edit ▸ Find")
        self.hooks.connect(self.win.search.node_requested, self._on_pick)
        self.win.search.focus_query()

    def _on_pick(self, node_id: str) -> None:
        if node_id:
            self.complete(f"Flew to “{_title(self.win, node_id)}”. That's the tour: Help ▸ Take the Tour shows it "
                          "again, Help ▸ Keyboard Shortcuts lists every key, Help ▸ User Guide explains the rest.")


def default_steps() -> list[TourStep]:
    """The tour's eight steps, in order (fresh objects: a step keeps its state while shown)."""
    return [RotateStep(), HoverStep(), ClickStep(), ActivateStep(), GenerateUndoStep(), TodoTickStep(),
            ScheduleStep(), SearchStep()]
