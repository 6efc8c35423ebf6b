"""Positions for the nodes a build or rebuild adds, without moving any existing node.

The placer itself is :class:`orchestrator_gui.model.shell_placement.ShellPlanner`
(see that module for the rules); it lives in the model so that builds, the
engine's run nodes and the force-directed layout's overlap fix-up share one
spatial hash and one spiral walk.  A fresh build then settles the planner's
spots with :func:`orchestrator_gui.model.layout.arrange_directions` (see
:mod:`orchestrator_gui.migration.build`).  This module keeps the name the
migration and its callers have always imported.
"""

from __future__ import annotations

from orchestrator_gui.model.shell_placement import ShellPlanner

__all__ = ["ShellPlanner"]
