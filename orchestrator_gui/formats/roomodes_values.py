"""Checks of the values an edit writes into ``.roomodes`` (slug, text fields, tool groups).

:mod:`~orchestrator_gui.formats.roomodes_checks` reports what a file
*contains*; this module refuses what an edit would *write* when Roo Code
would reject it (its zod schema, docs/formats.md §5.2), so no edit turns a
loadable file into one Roo drops entirely. Values already in the file are
never refused by these checks (a kept ``browser`` group, an unknown option
key): only the new ones are.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from orchestrator_gui.formats.roomodes_checks import DEPRECATED_GROUPS, GROUP_OPTION_KEYS, SLUG_RE, TOOL_GROUPS

#: Longest slug we write (Roo sets no limit; real slugs are under 40 characters).
MAX_SLUG_CHARS = 100
#: Longest ``name`` we write (shown in Roo's mode picker; real ones are under 60 characters).
MAX_NAME_CHARS = 500
#: Longest other text field we write (real ``customInstructions`` are under 20 000 characters;
#: the whole file is limited to ``MAX_MODES_BYTES`` anyway).
MAX_TEXT_CHARS = 1_000_000
#: Longest ``fileRegex`` we write.
MAX_REGEX_CHARS = 10_000
#: Most modes a file may have before ``add_mode`` refuses (real files have at most 26).
MAX_MODES = 1_000
#: Tool groups an edit may write, in the order Roo's UI lists them (``browser`` is deprecated but
#: still in Roo's JSON schema, and several real files use it).
WRITABLE_GROUPS = tuple(g for g in ("read", "edit", "browser", "command", "mcp", "modes")
                        if g in TOOL_GROUPS or g in DEPRECATED_GROUPS)
#: Text fields an edit may write; the first two are required and may not be blank.
TEXT_KEYS = ("name", "roleDefinition", "whenToUse", "description", "customInstructions")
REQUIRED_KEYS = ("name", "roleDefinition")


def check_slug(slug: Any) -> str | None:
    """Why ``slug`` cannot be written (``None`` when it can)."""
    if not isinstance(slug, str) or not slug:
        return "the slug must not be empty"
    if len(slug) > MAX_SLUG_CHARS:
        return f"the slug has {len(slug)} characters; at most {MAX_SLUG_CHARS} are allowed"
    if not SLUG_RE.fullmatch(slug):
        return f"slug {slug!r} may contain only letters, digits and '-' (Roo's rule)"
    return None


def check_text(key: str, value: Any) -> str | None:
    """Why ``value`` cannot be written as the text field ``key`` (``None`` when it can)."""
    if key not in TEXT_KEYS:
        return f"{key!r} is not an editable text field (editable: {', '.join(TEXT_KEYS)})"
    if not isinstance(value, str):
        return f"{key} must be text, not {type(value).__name__}"
    limit = MAX_NAME_CHARS if key == "name" else MAX_TEXT_CHARS
    if len(value) > limit:
        return f"{key} has {len(value):,} characters; at most {limit:,} are allowed"
    if key in REQUIRED_KEYS and not value.strip():
        return f"{key} must not be empty (Roo rejects the whole file then)"
    return None


def group_name(entry: Any) -> str | None:
    """The tool group an entry of ``groups`` names (``"edit"`` for ``["edit", {...}]``)."""
    if isinstance(entry, str):
        return entry
    if isinstance(entry, (list, tuple)) and entry and isinstance(entry[0], str):
        return entry[0]
    return None


def _check_entry(entry: Any) -> str | None:
    name = group_name(entry)
    if name is None:
        return f"invalid group entry {entry!r}; expected a group name or [group, {{fileRegex, description}}]"
    if name not in WRITABLE_GROUPS:
        return f"unknown group {name!r} (known: {', '.join(WRITABLE_GROUPS)})"
    if isinstance(entry, str):
        return None
    if len(entry) != 2 or not isinstance(entry[1], dict) or not entry[1]:
        return f"group {name!r}: the options must be one mapping {{fileRegex, description}}"
    options = entry[1]
    for k, v in options.items():
        if k not in GROUP_OPTION_KEYS:
            return f"group {name!r}: unknown option {k!r} (known: {', '.join(GROUP_OPTION_KEYS)})"
        if not isinstance(v, str):
            return f"group {name!r}: {k} must be text"
    regex = options.get("fileRegex")
    if regex is not None:
        if len(regex) > MAX_REGEX_CHARS:
            return f"fileRegex has {len(regex):,} characters; at most {MAX_REGEX_CHARS:,} are allowed"
        try:
            re.compile(regex)
        except re.error as exc:
            return f"fileRegex {regex!r} does not compile ({exc})"
    if len(options.get("description", "")) > MAX_NAME_CHARS:
        return f"the description of group {name!r} has more than {MAX_NAME_CHARS} characters"
    return None


def check_groups(groups: Any, kept: Sequence[Any] = ()) -> str | None:
    """Why ``groups`` cannot be written as a mode's ``groups`` list (``None`` when it can).

    Parameters
    ----------
    groups : list
        Entries as plain values: ``"read"`` or ``["edit", {"fileRegex": "…"}]``.
    kept : sequence
        The mode's present entries; an entry equal to one of them is kept as
        it is even where a new one would be refused (``browser`` options, an
        unknown option key), because the edit does not touch it.
    """
    if not isinstance(groups, (list, tuple)):
        return "groups must be a list"
    seen: set[str] = set()
    for entry in groups:
        problem = None if any(entry == k for k in kept) else _check_entry(entry)
        if problem:
            return problem
        name = group_name(entry)
        if name in seen:
            return f"group {name!r} appears twice"
        if name is not None:
            seen.add(name)
    return None


def new_mode_fields(slug: str, *, name: str, role_definition: str, groups: Any, when_to_use: str | None = None,
                    description: str | None = None, custom_instructions: str | None = None,
                    ) -> tuple[dict[str, Any], str | None]:
    """The keys of a new mode (file names, optional ones only when given) and why they cannot be written.

    Returns
    -------
    fields : dict
        ``slug``, ``name``, ``roleDefinition``, the optional text fields given, ``groups``.
    problem : str or None
        The first value Roo would reject, or ``None``.
    """
    fields: dict[str, Any] = {"slug": slug, "name": name, "roleDefinition": role_definition}
    for key, value in (("whenToUse", when_to_use), ("description", description),
                       ("customInstructions", custom_instructions)):
        if value is not None:
            fields[key] = value
    problem = check_slug(slug) or next(filter(None, (check_text(k, v) for k, v in fields.items() if k != "slug")),
                                       None)
    entries = [list(g) if isinstance(g, tuple) else g for g in groups] if isinstance(groups, (list, tuple)) \
        else groups
    fields["groups"] = entries
    return fields, problem or check_groups(entries)


def parse_group_names(text: str) -> list[str]:
    """``"read, edit,command"`` -> ``["read", "edit", "command"]`` (blank items dropped; not checked)."""
    return [part.strip() for part in text.split(",") if part.strip()]


def groups_from_names(names: Sequence[str], current: Sequence[Any] = (), *,
                      file_regex: str | None = None) -> list[Any]:
    """The ``groups`` list for these names, keeping each present entry's options.

    Parameters
    ----------
    names : sequence of str
        Group names in the wanted order.
    current : sequence
        The mode's present entries: a name already there keeps its entry
        (``["edit", {"fileRegex": …}]`` stays as it is).
    file_regex : str, optional
        New ``fileRegex`` of the ``edit`` group; ``""`` drops its options.
    """
    by_name = {group_name(e): e for e in current}
    out: list[Any] = []
    for name in names:
        entry = by_name.get(name, name)
        if name == "edit" and file_regex is not None:
            options = dict(entry[1]) if isinstance(entry, (list, tuple)) and len(entry) == 2 \
                and isinstance(entry[1], dict) else {}
            options.pop("fileRegex", None)
            if file_regex:
                options = {"fileRegex": file_regex, **options}
            entry = ["edit", options] if options else "edit"
        out.append(list(entry) if isinstance(entry, tuple) else entry)
    return out


__all__ = ["MAX_MODES", "MAX_NAME_CHARS", "MAX_REGEX_CHARS", "MAX_SLUG_CHARS", "MAX_TEXT_CHARS", "REQUIRED_KEYS",
           "TEXT_KEYS", "WRITABLE_GROUPS", "check_groups", "check_slug", "check_text", "group_name",
           "groups_from_names", "new_mode_fields", "parse_group_names"]
