"""The guided tour over the real main window: each step is done by doing it (mouse, menus, panels, files)."""

from __future__ import annotations

import json
import shutil

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("vispy")

from PySide6.QtCore import QPoint, Qt  # noqa: E402

from orchestrator_gui.demo import BUNDLED_DEMO  # noqa: E402
from orchestrator_gui.ui.tour import SEEN_FLAG, start_on_first_run, start_tour  # noqa: E402
from orchestrator_gui.ui.tour_diff import byte_diff  # noqa: E402
from orchestrator_gui.ui.tour_overlay import TourOverlay  # noqa: E402
from orchestrator_gui.ui.tour_steps import changed_json_keys  # noqa: E402

LEFT = Qt.MouseButton.LeftButton


def front_node(view, kind=None):
    """A node whose own disc is what a click at its centre picks."""
    g = view.graph
    w, h = view.canvas.size
    for nid in g.node_ids():
        if kind and g.node(nid).kind.value != kind:
            continue
        x, y = view.scene.screen_position(nid)
        if 40 < x < w - 40 and 40 < y < h - 40 and view.scene.pick_at(x, y) == nid:
            return nid
    pytest.fail("no unobstructed node on screen")


def ready_view(window, qtbot):
    view = window.view
    qtbot.waitUntil(lambda: view.canvas.size == (view.canvas.native.width(), view.canvas.native.height()))
    view.fit()
    qtbot.waitUntil(lambda: not view.scene.animating, timeout=5000)
    view.scene.flush()
    return view


def card(window) -> TourOverlay:
    overlay = window.findChild(TourOverlay)
    assert overlay is not None and overlay.isVisible()
    return overlay


def open_item_row(todo):
    """The TODO panel's row of the first open item (its box can be ticked)."""
    return next(row for key, row in todo._rows.items() if key[0] == "item"
                and row.flags() & Qt.ItemFlag.ItemIsUserCheckable and row.checkState(0) == Qt.CheckState.Unchecked)


def drag(qtbot, widget, start: QPoint, dx: int, dy: int, steps: int = 6) -> None:
    qtbot.mousePress(widget, LEFT, pos=start)
    for i in range(1, steps + 1):
        qtbot.mouseMove(widget, QPoint(start.x() + dx * i // steps, start.y() + dy * i // steps))
    qtbot.mouseRelease(widget, LEFT, pos=QPoint(start.x() + dx, start.y() + dy))


def test_the_tour_never_starts_by_itself_in_tests_or_on_a_plain_open(window):
    assert window.tour is None and window.findChild(TourOverlay) is None
    assert not window.settings.flag(SEEN_FLAG)


def test_walk_the_whole_tour_by_doing_each_step(window, qtbot):
    view = ready_view(window, qtbot)
    g = window.session.graph
    tour = start_tour(window)
    assert tour is not None and window.tour is tour
    overlay = card(window)
    assert window.settings.flag(SEEN_FLAG)

    # 1. rotate: a left drag in the 3D view turns the camera
    assert tour.index == 0 and overlay.title.text() == "Turn the sphere"
    assert "Waiting" in overlay.status.text() and not overlay.back.isEnabled()
    centre = QPoint(view.canvas.native.width() // 2, view.canvas.native.height() // 2)
    drag(qtbot, view.canvas.native, centre, 160, 40)
    qtbot.waitUntil(lambda: tour.step.done, timeout=3000)
    assert "You turned the graph by" in overlay.status.text()
    qtbot.mouseClick(overlay.next, LEFT)

    # 2. hover: the pointer resting on a node
    assert tour.index == 1
    view.scene.flush()
    nid = front_node(view)
    pos = view.canvas_position(nid)
    qtbot.mouseMove(view.canvas.native, QPoint(pos.x() + 1, pos.y()))
    qtbot.waitUntil(lambda: tour.step.done, timeout=3000)
    hovered = view.scene.hovered
    near = {e.dst for e in g.edges_of(hovered, "out")} | {e.src for e in g.edges_of(hovered, "in")}
    near.discard(hovered)
    assert f"its {len(near)} neighbour" in tour.step.result
    qtbot.mouseClick(overlay.next, LEFT)

    # 3. click: the Inspector shows the node
    assert tour.index == 2 and overlay.spotlight.isVisible()  # the Inspector is outlined
    qtbot.mouseClick(view.canvas.native, LEFT, pos=view.canvas_position(nid))
    qtbot.waitUntil(lambda: tour.step.done, timeout=3000)
    assert window.inspector.node_id == nid
    qtbot.mouseClick(overlay.next, LEFT)

    # 4. double-click: activate
    assert tour.index == 3
    before = g.state(nid).activation
    qtbot.mouseDClick(view.canvas.native, LEFT, pos=view.canvas_position(nid))
    qtbot.waitUntil(lambda: tour.step.done, timeout=3000)
    after = g.state(nid).activation
    assert after > before
    assert f"its activation is now {after:.2f}" in tour.step.result
    qtbot.mouseClick(overlay.next, LEFT)

    # 5. right-click > Generate, then Undo
    assert tour.index == 4
    count = g.number_of_nodes()
    menu = window.build_context_menu([nid])
    next(a for a in menu.actions() if a.text() == "Generate").trigger()
    qtbot.waitUntil(lambda: g.number_of_nodes() > count, timeout=10_000)
    grown = g.number_of_nodes() - count
    qtbot.waitUntil(lambda: "Now undo it" in tour.step.progress, timeout=3000)
    assert tour.step.progress.startswith(f"Generated {grown} node")
    assert not tour.step.done  # generating alone is half of the step
    window.acts["undo"].trigger()
    qtbot.waitUntil(lambda: tour.step.done, timeout=3000)
    assert g.number_of_nodes() == count
    assert f"Undone: the {grown} new node" in tour.step.result
    qtbot.mouseClick(overlay.next, LEFT)

    # 6. tick a TODO item: exactly one byte changes, and the card shows that diff
    assert tour.index == 5 and window.docks["TODO"].isVisible()
    path = window.session.path("TODO.md")
    old = path.read_bytes()
    todo = window.todo
    row = open_item_row(todo)
    line = int(row.text(2))
    row.setCheckState(0, Qt.CheckState.Checked)  # what a click on the box does
    qtbot.waitUntil(lambda: tour.step.done, timeout=5000)
    new = path.read_bytes()
    diff = byte_diff(old, new)
    assert diff.changed == 1 and len(old) == len(new)
    assert (diff.removed, diff.added) == (b" ", b"x") and diff.line == line
    shown = overlay.status.text()
    assert f"line {line}, byte {diff.offset}: 1 byte changed (␣ → x)" in shown
    assert "before" in shown and "after" in shown and "Nothing else in the file moved" in shown
    qtbot.mouseClick(overlay.next, LEFT)

    # 7. change a schedule's interval in the form and save
    assert tour.index == 6 and window.docks["Schedules"].isVisible()
    spath = window.session.path(".roo/schedules.json")
    sold = spath.read_bytes()
    panel = window.schedules
    sched = panel.doc.schedules[0]
    panel.select_schedule(sched.id)
    qtbot.waitUntil(lambda: panel.form.interval.text() == sched.time_interval)
    new_interval = str(int(sched.time_interval) + 7)
    panel.form.interval.setText(new_interval)
    panel.form.interval.textEdited.emit(new_interval)  # what typing in the field signals
    assert panel.btn_save.isEnabled()
    qtbot.mouseClick(panel.btn_save, LEFT)
    qtbot.waitUntil(lambda: tour.step.done, timeout=5000)
    after_json = json.loads(spath.read_bytes())
    saved = next(s for s in after_json["schedules"] if s["id"] == sched.id)
    assert saved["timeInterval"] == new_interval
    assert f"now runs every {new_interval} {sched.time_unit}s (was every {sched.time_interval} {sched.time_unit}" \
        in tour.step.result
    assert changed_json_keys(sold, spath.read_bytes()) == ["timeInterval", "updatedAt"]
    assert "timeInterval, updatedAt" in tour.step.result
    qtbot.mouseClick(overlay.next, LEFT)

    # 8. search and fly
    assert tour.index == 7 and overlay.next.text() == "Finish"
    search = window.search
    qtbot.keyClicks(search.query, "parser")
    qtbot.waitUntil(lambda: search.results.count() > 0, timeout=3000)
    item = search.results.item(0)
    target = item.data(Qt.ItemDataRole.UserRole)
    rect = search.results.visualItemRect(item)
    qtbot.mouseClick(search.results.viewport(), LEFT, pos=rect.center())
    qtbot.waitUntil(lambda: tour.step.done, timeout=3000)
    assert window.selected_ids() == [target]
    qtbot.mouseClick(overlay.next, LEFT)

    # finished: the card is gone, the window is as usable as before
    assert not tour.running and window.tour is None
    qtbot.waitUntil(lambda: window.findChild(TourOverlay) is None, timeout=3000)


def test_a_step_is_not_done_by_what_only_looks_like_it(window, qtbot):
    view = ready_view(window, qtbot)
    tour = start_tour(window)
    # The camera turned by the program (a restored pose, a flight) is not the user turning the sphere.
    pose = view.camera_state()
    view.set_camera_state({**pose, "azimuth": pose["azimuth"] + 90, "elevation": pose["elevation"] + 20})
    view.fly_to(front_node(view))
    qtbot.waitUntil(lambda: not view.scene.animating, timeout=5000)
    qtbot.mouseMove(view.canvas.native, QPoint(5, 5))
    qtbot.mouseClick(view.canvas.native, LEFT, pos=QPoint(5, 5))  # a click is no drag
    assert tour.index == 0 and not tour.step.done and tour.step.turned() == 0
    # A TODO.md write does not complete the schedule step, nor a schedule write the TODO step.
    tour.start(6)
    todo, path = window.todo, window.session.path("TODO.md")
    old = path.read_bytes()
    row = open_item_row(todo)
    row.setCheckState(0, Qt.CheckState.Checked)
    qtbot.waitUntil(lambda: path.read_bytes() != old, timeout=5000)
    assert tour.step.key == "schedule" and not tour.step.done
    tour.start(5)
    spath = window.session.path(".roo/schedules.json")
    sold = spath.read_bytes()
    window.schedules.select_schedule(window.schedules.doc.schedules[0].id)
    window.schedules.toggle_active()  # writes .roo/schedules.json, not TODO.md
    assert spath.read_bytes() != sold
    assert tour.step.key == "todo" and not tour.step.done


def test_back_restarts_a_step_and_skip_ends_the_tour(window, qtbot):
    view = ready_view(window, qtbot)
    tour = start_tour(window)
    overlay = card(window)
    tour.start(1)
    nid = front_node(view)
    pos = view.canvas_position(nid)
    qtbot.mouseMove(view.canvas.native, QPoint(pos.x() + 1, pos.y()))
    qtbot.waitUntil(lambda: tour.step.done, timeout=3000)
    qtbot.mouseClick(overlay.back, LEFT)
    assert tour.index == 0 and not tour.step.done
    qtbot.mouseClick(overlay.next, LEFT)
    assert tour.index == 1 and not tour.step.done  # done again only when done again
    qtbot.mouseClick(overlay.skip, LEFT)
    assert not tour.running and window.tour is None
    # Hovering after the tour ended touches nothing of it (its connections are gone).
    qtbot.mouseMove(view.canvas.native, QPoint(3, 3))
    qtbot.mouseMove(view.canvas.native, QPoint(pos.x() + 1, pos.y()))
    assert not tour.steps[1].done


def test_first_run_starts_once_and_only_on_the_demo(window, qtbot, tmp_path):
    assert start_on_first_run(window)
    assert window.tour is not None and card(window).title.text() == "Turn the sphere"
    window.tour.skip()
    assert not start_on_first_run(window)  # the settings remember it was shown
    window.settings.set_flag(SEEN_FLAG, False)
    other = tmp_path / "ws"
    shutil.copytree(BUNDLED_DEMO, other)
    assert window.open_workspace(other, keep_graph=False)
    assert not start_on_first_run(window)  # not on the user's own folder
    assert window.tour is None


def test_take_the_tour_from_another_workspace_asks_then_opens_the_demo(window, qtbot, tmp_path):
    other = tmp_path / "ws"
    shutil.copytree(BUNDLED_DEMO, other)
    assert window.open_workspace(other, keep_graph=False)
    window.prompter.confirm_answer = False
    window.acts["tour"].trigger()
    assert window.tour is None and window.session.root == other.resolve()
    assert "runs on the demo workspace" in window.prompter.asked[-1][1]
    window.prompter.confirm_answer = True
    window.acts["tour"].trigger()
    assert window.tour is not None and window.tour.running
    assert window.session.root.name == "demo" and window.session.root != other.resolve()


# ---------------------------------------------------------------------- the byte diff the tour shows
def test_byte_diff_finds_the_one_changed_region_in_its_line():
    from orchestrator_gui.ui.tour_diff import describe, diff_html

    before = b"# T\n\n- [ ] first\n- [ ] <b>second</b> & more\n"
    after = before.replace(b"- [ ] <b>", b"- [x] <b>")
    d = byte_diff(before, after)
    assert (d.offset, d.line, d.removed, d.added, d.changed) == (before.index(b"- [ ] <b>") + 3, 4, b" ", b"x", 1)
    assert (d.prefix, d.suffix) == (b"- [", b"] <b>second</b> & more")
    assert not d.prefix_cut and not d.suffix_cut
    assert describe(d) == f"line 4, byte {d.offset}: 1 byte changed (␣ → x)"
    html = diff_html(d)
    assert "<b>second" not in html and "&lt;b&gt;second&lt;/b&gt; &amp; more" in html  # file text is not markup
    assert byte_diff(before, before) is None


def test_byte_diff_of_inserts_deletes_long_lines_and_odd_bytes():
    from orchestrator_gui.ui.tour_diff import CONTEXT_BYTES, diff_html

    d = byte_diff(b"abc", b"abXYc")
    assert (d.removed, d.added, d.changed, d.prefix, d.suffix) == (b"", b"XY", 2, b"ab", b"c")
    d = byte_diff(b"abXYc", b"abc")
    assert (d.removed, d.added, d.changed) == (b"XY", b"", 2)
    long = b"x" * 100 + b" [ ] " + b"y" * 100
    d = byte_diff(long, long.replace(b"[ ]", b"[x]"))
    assert len(d.prefix) == len(d.suffix) == CONTEXT_BYTES and d.prefix_cut and d.suffix_cut
    assert diff_html(d).count("…") == 4  # both ends of both rows
    d = byte_diff(b"a\tb\xff\n", b"a\tc\xff\n")
    assert "\\t" in diff_html(d) and "\\xff" in diff_html(d)  # shown, escaped, never raw control bytes
