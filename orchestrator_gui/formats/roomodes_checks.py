"""Validation of one ``.roomodes`` mode against Roo Code's schema (docs/formats.md §5.2).

Roo validates with zod (``customModesSettingsSchema``) and rejects the whole
file when any mode is invalid, so each error says so. Keys outside the JSON
schema (``schemas/roomodes.json`` has ``additionalProperties: false``) are
warnings: Roo strips them in memory but loads the mode.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from orchestrator_gui.formats.roomodes_syntax import Node, Scalar, Sequence, to_python
from orchestrator_gui.problems import Problem

SCHEMA_KEYS = ("slug", "name", "roleDefinition", "whenToUse", "description",
               "customInstructions", "groups", "source", "rulesFiles")
REQUIRED_TEXT = ("slug", "name", "roleDefinition")
OPTIONAL_TEXT = ("whenToUse", "description", "customInstructions")
TOOL_GROUPS = ("read", "edit", "command", "mcp", "modes")
DEPRECATED_GROUPS = ("browser",)
GROUP_OPTION_KEYS = ("fileRegex", "description")
SOURCES = ("project", "global")
SLUG_RE = re.compile(r"[a-zA-Z0-9-]+")
_REJECTS = "; Roo rejects the whole file"


def text_of(value: Any) -> str:
    """Show a non-text scalar the way it appears in YAML/JSON (``true``, ``12``)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def check_mode(file: str, line_at: Callable[[int], int], keys: dict[str, tuple[Node, Node]],
               line: int) -> tuple[dict[str, Any], list[Problem]]:
    """Validate one mode mapping.

    Parameters
    ----------
    file : str
        File name for the problems.
    line_at : callable
        Offset to 1-based line number in the document text.
    keys : dict
        The mode's keys (last occurrence of a duplicate) to (key node, value node).
    line : int
        1-based line where the mode starts.

    Returns
    -------
    fields : dict
        Keyword arguments for :class:`orchestrator_gui.formats.roomodes.Mode`.
    problems : list of Problem
    """
    problems: list[Problem] = []

    def at(node: Node) -> int:
        return line_at(node.start)

    def err(where: int, msg: str) -> None:
        problems.append(Problem(file=file, line=where, severity="error", message=msg + _REJECTS))

    def warn(where: int, msg: str) -> None:
        problems.append(Problem(file=file, line=where, severity="warning", message=msg))

    slug_value = keys.get("slug", (None, None))[1]
    label = repr(slug_value.value) if isinstance(slug_value, Scalar) else f"on line {line}"
    fields: dict[str, Any] = {"line": line}

    def text_field(key: str, required: bool) -> str | None:
        entry = keys.get(key)
        if entry is None:
            if required:
                err(line, f"mode {label} has no {key!r}")
            return "" if required else None
        # Report on the key's line: an empty value's mark is at the next token.
        where, node = at(entry[0]), entry[1]
        if not isinstance(node, Scalar):
            err(where, f"{key!r} of mode {label} must be text, not a list or mapping")
            return "" if required else None
        if node.value is None:
            # zod's optional() accepts undefined, not null.
            err(where, f"{key!r} of mode {label} is empty (null)"
                + ("" if required else "; remove it or give it text"))
            return "" if required else None
        if not isinstance(node.value, str):
            err(where, f"{key!r} of mode {label} must be text, not {text_of(node.value)}")
            return text_of(node.value)
        if required and not node.value:
            err(where, f"{key!r} of mode {label} is empty")
        return node.value

    for key in REQUIRED_TEXT:
        fields[_attr(key)] = text_field(key, True)
    if fields["slug"] and not SLUG_RE.fullmatch(fields["slug"]):
        err(at(keys["slug"][0]), f"slug {fields['slug']!r} may contain only letters, digits and '-'")
    for key in OPTIONAL_TEXT:
        fields[_attr(key)] = text_field(key, False)

    fields["groups"] = _groups(keys.get("groups"), label, line, at, err, warn)

    source = keys.get("source")
    fields["source"] = None
    if source is not None:
        value = source[1].value if isinstance(source[1], Scalar) else to_python(source[1])
        fields["source"] = text_of(value)
        if value not in SOURCES:
            err(at(source[0]), f"source {text_of(value)!r} of mode {label} is invalid "
                "(must be 'project' or 'global')")

    fields["extra_keys"] = [k for k in keys if k not in SCHEMA_KEYS]
    for k in fields["extra_keys"]:
        warn(at(keys[k][0]), f"key {k!r} of mode {label} is not in Roo's schema; Roo ignores it")
    return fields, problems


def _attr(key: str) -> str:
    return re.sub(r"[A-Z]", lambda m: "_" + m.group().lower(), key)


def _groups(entry: tuple[Node, Node] | None, label: str, line: int, at, err, warn) -> list[dict[str, Any]]:
    if entry is None:
        err(line, f"mode {label} has no 'groups' list")
        return []
    node = entry[1]
    if not isinstance(node, Sequence):
        err(at(entry[0]), f"'groups' of mode {label} must be a list")
        return []
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in node.items:
        options: Any = None
        if isinstance(item, Scalar) and isinstance(item.value, str):
            name = item.value
        elif (isinstance(item, Sequence) and 1 <= len(item.items) <= 2
              and isinstance(item.items[0], Scalar) and isinstance(item.items[0].value, str)):
            name = item.items[0].value
            options = to_python(item.items[1]) if len(item.items) == 2 else None
            if isinstance(options, dict):
                options = {str(k): v for k, v in options.items()}
            if len(item.items) == 2 and not isinstance(options, dict):
                err(at(item), f"group {name!r} of mode {label}: the second element must be "
                    "a mapping {fileRegex, description}")
                options = None
        else:
            err(at(item), f"invalid group entry {text_of(to_python(item))} in mode {label}; "
                "expected a group name or [group, {fileRegex, description}]")
            continue
        out.append({"name": name, "options": options})
        if name in DEPRECATED_GROUPS:
            warn(at(item), f"group {name!r} of mode {label} is deprecated; current Roo drops it")
            continue
        if name not in TOOL_GROUPS:
            err(at(item), f"unknown group {name!r} in mode {label} "
                f"(known: {', '.join(TOOL_GROUPS)})")
        elif name in seen:
            err(at(item), f"group {name!r} appears twice in mode {label}")
        seen.add(name)
        if options:
            _check_options(options, name, label, at(item), err, warn)
    return out


def _check_options(options: dict[str, Any], name: str, label: str, where: int, err, warn) -> None:
    regex = options.get("fileRegex")
    if "fileRegex" in options and not isinstance(regex, str):
        err(where, f"fileRegex of group {name!r} in mode {label} must be text")
    elif isinstance(regex, str):
        try:
            re.compile(regex)
        except re.error as exc:
            err(where, f"fileRegex {regex!r} of group {name!r} in mode {label} does not compile "
                f"({exc}; checked with Python's re, an approximation of JavaScript RegExp)")
    if "description" in options and not isinstance(options["description"], str):
        err(where, f"description of group {name!r} in mode {label} must be text")
    for k in options:
        if k not in GROUP_OPTION_KEYS:
            warn(where, f"option {k!r} of group {name!r} in mode {label} is not in Roo's schema")
