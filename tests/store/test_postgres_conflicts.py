"""Concurrent commits on two machines: commuting ones both commit (rebased), clashing ones are refused."""

from __future__ import annotations

import pytest
from pg_wait import pulled_to

from orchestrator_gui.model import operations
from orchestrator_gui.problems import ConflictError


@pytest.fixture
def pair(open_pg):
    """Two machines that both see thoughts a and b."""
    a, b = open_pg("m1"), open_pg("m2")
    g = a.graph
    g.apply(operations.add_thought(g, "A", node_id="thought-a"))
    g.apply(operations.add_thought(g, "B", node_id="thought-b"))
    pulled_to(b, 2)
    return a, b


def test_commuting_edits_made_on_the_same_base_both_commit_and_both_machines_converge(pair):
    a, b = pair
    # Neither has seen the other's edit when it commits: b's is rebased after a's.
    ta = a.graph.apply(operations.edit(a.graph, "thought-a", title="A by m1"))
    tb = b.graph.apply(operations.move(b.graph, {"thought-b": (1.0, 0.5)}))
    tc = b.graph.apply(operations.add_thought(b.graph, "C", node_id="thought-c", parent="thought-b"))
    pulled_to(a, 5)
    pulled_to(b, 5)
    assert [e.tx_id for e in a.history()] == [e.tx_id for e in b.history()]
    assert [e.tx_id for e in a.history()][2:] == [ta.id, tb.id, tc.id]
    for g in (a.graph, b.graph):
        assert g.node("thought-a").title == "A by m1"
        assert g.node("thought-b").theta == pytest.approx(1.0)
        assert g.has_edge("thought-b", "thought-c", "parent")
    assert a.problems == [] and b.problems == []


def test_a_clashing_edit_is_refused_with_a_clear_message_and_nothing_is_lost(pair):
    a, b = pair
    a.graph.apply(operations.edit(a.graph, "thought-a", title="A by m1"))
    with pytest.raises(ConflictError) as err:
        b.graph.apply(operations.edit(b.graph, "thought-a", title="A by m2"))
    message = str(err.value)
    assert "conflict" in message and "'thought-a'" in message and "'m1'" in message
    assert "nothing was saved" in message
    assert b.graph.node("thought-a").title == "A"  # rolled back here, not half-applied
    pulled_to(b, 3)
    assert b.graph.node("thought-a").title == "A by m1"  # the other machine's edit arrives
    # Made again on top of it, the edit commits.
    b.graph.apply(operations.edit(b.graph, "thought-a", title="A by m2"))
    pulled_to(a, 4)
    assert a.graph.node("thought-a").title == b.graph.node("thought-a").title == "A by m2"
    assert [e.operation for e in a.history()] == ["add_thought", "add_thought", "edit", "edit"]


def test_removing_a_node_the_other_machine_just_linked_is_a_conflict(pair):
    a, b = pair
    a.graph.apply(operations.link(a.graph, "thought-a", "thought-b", "mentions"))
    with pytest.raises(ConflictError, match="thought-b"):
        b.graph.apply(operations.delete(b.graph, "thought-b"))
    pulled_to(b, 3)
    assert b.graph.has_edge("thought-a", "thought-b", "mentions") and "thought-b" in b.graph


def test_undo_undoes_only_this_machines_transactions(pair):
    a, b = pair
    ta = a.graph.apply(operations.edit(a.graph, "thought-a", title="A by m1"))
    pulled_to(b, 3)
    tb = b.graph.apply(operations.edit(b.graph, "thought-b", title="B by m2"))
    pulled_to(a, 4)
    # m1's newest own step is its edit, although m2's edit is newer in the journal.
    assert a.graph.history.can_undo and a.graph.history.undo_description == ta.description
    a.graph.undo()
    pulled_to(b, 5)
    for g in (a.graph, b.graph):
        assert g.node("thought-a").title == "A" and g.node("thought-b").title == "B by m2"
    assert [e.tx_id for e in b.own_history()] == [tb.id]
    assert [e.operation for e in a.own_history()][-1] == "undo"
