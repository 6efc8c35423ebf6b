"""Lossless readers and editors for the workspace files (no Qt, no vispy)."""
