"""Dock panels of the main window (schedules, TODO, inspector, memory, runs, search)."""
