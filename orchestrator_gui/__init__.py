"""Loop Orchestrator: a spherical thought graph over a Roo Code agent-loop workspace."""

__version__ = "0.1.0"
