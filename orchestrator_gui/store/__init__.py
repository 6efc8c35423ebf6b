"""Crash-safe persistence of the thought graph (no Qt)."""
