"""Scheduling, execution, timeouts, failure tracking and thinkers (no Qt)."""
