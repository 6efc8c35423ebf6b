"""Shared CLI plumbing: errors, workspace resolution and printing."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from orchestrator_gui.formats.workspace import Workspace
from orchestrator_gui.problems import Problem


class CliError(Exception):
    """An operation was refused; printed as ``error: message``, exit status 1."""


class UsageError(Exception):
    """The command line is wrong; exit status 2."""


def workspace(args: argparse.Namespace) -> Workspace:
    """Resolve ``-w DIR`` / ``--demo`` / the current folder."""
    if args.demo and args.workspace:
        raise UsageError("orchestrator-gui: use either --demo or -w/--workspace, not both")
    if args.demo:
        from orchestrator_gui.demo import demo_workspace

        return Workspace.at(demo_workspace())
    return Workspace.at(args.workspace or ".")


def emit_json(value: Any) -> None:
    """Print ``value`` as JSON on stdout (UTF-8, non-ASCII raw, indented by 2).

    The text is ``json.dumps(value, ensure_ascii=False, indent=2)`` and a
    newline, byte for byte. A list is written one element at a time, and flat
    objects (scalar values) are rendered without the pure-Python indenting
    encoder: a list of a million rows would otherwise take seconds and hold
    its whole text in memory.
    """
    if isinstance(value, (list, tuple)):
        emit_json_array(json_element(v) for v in value)
    else:
        sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


#: JSON string literal of a str, as ``json.dumps(..., ensure_ascii=False)`` writes it (C speed).
json_str = json.encoder.encode_basestring  # type: ignore[attr-defined]
#: Elements of a streamed array buffered per write.
_CHUNK = 4096


def emit_json_array(elements: Iterable[str]) -> None:
    """Print a JSON array of pre-rendered ``elements`` (each as :func:`emit_json` indents it at level 1).

    Each element is the text ``json.dumps(v, ensure_ascii=False, indent=2)``
    gives for an element of a top-level array: its first line indented by
    2, its further lines by 2 more than ``json.dumps(v, indent=2)`` alone.
    """
    batch: list[str] = []

    def batches() -> Iterator[list[str]]:
        for text in elements:
            batch.append(text)
            if len(batch) >= _CHUNK:
                yield batch
                batch.clear()
        yield batch

    emit_json_batches(batches())


def emit_json_batches(batches: Iterable[list[str]]) -> None:
    """:func:`emit_json_array` for elements that come in lists (each written with one ``join``)."""
    write = sys.stdout.write
    first = True
    for batch in batches:
        if not batch:
            continue
        write(("[\n" if first else ",\n") + ",\n".join(batch))
        first = False
    write("[]\n" if first else "\n]\n")


def _scalar(v: Any) -> str | None:
    """The JSON text of a scalar (``None`` for anything else), as ``json.dumps`` writes it."""
    t = type(v)
    if t is str:
        return json_str(v)
    if v is None:
        return "null"
    if t is bool:
        return "true" if v else "false"
    if t is int:
        return int.__repr__(v)
    if t is float:
        return json.dumps(v)
    return None


def json_element(v: Any) -> str:
    """One element of a top-level array, rendered as :func:`emit_json_array` takes it."""
    if type(v) is dict and v and all(type(k) is str for k in v):
        parts = []
        for k, x in v.items():
            text = _scalar(x)
            if text is None:  # a nested value: the standard encoder, shifted to its depth
                text = json.dumps(x, ensure_ascii=False, indent=2).replace("\n", "\n    ")
            parts.append(f"    {json_str(k)}: {text}")
        return "  {\n" + ",\n".join(parts) + "\n  }"
    return "  " + json.dumps(v, ensure_ascii=False, indent=2).replace("\n", "\n  ")


def print_problems(problems: Iterable[Problem], as_json: bool) -> None:
    """Print problems one per line (stdout), or as a JSON array."""
    problems = list(problems)
    if as_json:
        emit_json([p.model_dump() for p in problems])
        return
    for p in problems:
        print(p.format())


def table(rows: Iterable[dict[str, Any]], columns: list[str], widths: dict[str, int] | None = None) -> None:
    """Print a plain aligned text table; long cells are cut with an ellipsis.

    The rows are read twice (a list, or anything iterable twice): once for
    the column widths, once to print, so no table of all cells is held.
    """
    widths = widths or {}

    def cell(v: Any, col: str) -> str:
        s = "" if v is None else str(v).replace("\n", " ")
        w = widths.get(col)
        return s if w is None or len(s) <= w else s[: w - 1] + "…"

    sizes = [len(c) for c in columns]
    empty = True
    for r in rows:
        empty = False
        for i, c in enumerate(columns):
            n = len(cell(r.get(c), c))
            if n > sizes[i]:
                sizes[i] = n
    if empty:
        return
    write = sys.stdout.write
    buf = ["  ".join(c.upper().ljust(sizes[i]) for i, c in enumerate(columns)).rstrip() + "\n"]
    for r in rows:
        buf.append("  ".join(cell(r.get(c), c).ljust(sizes[i]) for i, c in enumerate(columns)).rstrip() + "\n")
        if len(buf) >= _CHUNK:
            write("".join(buf))
            buf.clear()
    write("".join(buf))


def done(args: argparse.Namespace, message: str, payload: dict[str, Any]) -> int:
    """Report a successful edit, as text or JSON."""
    if args.json:
        emit_json({"ok": True, **payload})
    else:
        print(message)
    return 0
