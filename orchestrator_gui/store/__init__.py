"""Crash-safe persistence of the thought graph (no Qt): SQLite or a fleet's PostgreSQL; journal, snapshots, history.

See ``docs/store.md`` for the database schema, record format and recovery rules.
"""

from orchestrator_gui.store.base import GraphStoreAPI, StoreEvents
from orchestrator_gui.store.diff import diff_to_transaction, same_content
from orchestrator_gui.store.exchange import EXPORT_FORMATS, export_graph, import_json
from orchestrator_gui.store.opening import open_graph_store
from orchestrator_gui.store.recovery import HistoryEntry, Loaded
from orchestrator_gui.store.schema import store_path
from orchestrator_gui.store.store import GraphStore

__all__ = [
    "EXPORT_FORMATS",
    "GraphStore",
    "GraphStoreAPI",
    "HistoryEntry",
    "Loaded",
    "diff_to_transaction",
    "export_graph",
    "import_json",
    "open_graph_store",
    "same_content",
    "StoreEvents",
    "store_path",
]
