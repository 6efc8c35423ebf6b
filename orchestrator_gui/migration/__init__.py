"""Migration from the workspace files to the spherical thought graph (pure Python, no Qt).

Modules
-------
extract    read the five workspace files into nodes with stable ids and exact sources
sections   split schedule instructions into sections (headings, else numbered steps)
links      mention detection: reference ids, task ids, mode slugs, title phrases
relate     the derived edges (parent, ran_as, scheduled_by, mentions, serves)
goals      which items, headings and schedules serve which goals (serves edges)
place      positions for nodes added by an incremental rebuild
build      build_graph (fresh) and update_graph (incremental transaction)
matching   pairs an edited file's items with the nodes they continue (position and neighbours)
continuity ids an update keeps, and fresh ids for new items
"""

from orchestrator_gui.migration.build import ACTOR, WorkspacePlan, build_graph, plan_workspace, update_graph
from orchestrator_gui.migration.extract import MIGRATION_FILES, node_id
from orchestrator_gui.migration.relate import BY

__all__ = [
    "ACTOR", "BY", "MIGRATION_FILES", "WorkspacePlan", "build_graph", "node_id", "plan_workspace", "update_graph",
]
