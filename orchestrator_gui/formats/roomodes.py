"""Lossless reader and editor for ``.roomodes`` (Roo Code custom modes).

A ``.roomodes`` file is YAML or JSON (docs/formats.md §5). It is read the way
Roo Code reads it (character normalisation, YAML 1.2, ``JSON.parse``
fallback) into typed :class:`Mode` views, validated into :class:`Problem`
records, and edited by splicing the source text of exactly what changes:
one scalar (keeping its quoting style), the changed entries of a ``groups``
list, or one whole mode added or removed. Nothing is ever re-serialised, so
every byte the user did not change stays as it was; every edit is re-parsed
and kept only when the file then reads as exactly the requested change.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

from orchestrator_gui.formats.fileio import TextFile, atomic_write, decode_text, line_of_offset, read_bytes
from orchestrator_gui.formats.roomodes_checks import check_mode
from orchestrator_gui.formats.roomodes_edit import EditContext, insert_candidates, replace_candidates
from orchestrator_gui.formats.roomodes_entries import add_candidates, remove_splice
from orchestrator_gui.formats.roomodes_groups import groups_candidates
from orchestrator_gui.formats.roomodes_layout import Splice, TextStyle, apply_splices, same_reading
from orchestrator_gui.formats.roomodes_syntax import (
    LimitProblem,
    LineIndex,
    Mapping,
    Node,
    Scalar,
    Sequence,
    SyntaxProblem,
    compose_yaml,
    content_end,
    scan_json,
    to_python,
)
from orchestrator_gui.formats.roomodes_values import MAX_MODES, check_groups, new_mode_fields
from orchestrator_gui.problems import FormatError, Problem

#: Largest ``.roomodes`` read. Real files are under 100 KB (77 KB the largest seen). Files with many
#: nodes stop at ``MAX_NODES``; this bounds the rest, long scalars, which ruamel scans at 0.3 to 1.5
#: microseconds a character (the slow end: a quoted scalar broken every other character, found by
#: benchmarks/fuzz.py; 2 MB of it took 3.1 s, so the limit is 1 MB: every command on it stays under 2 s).
MAX_MODES_BYTES = 1024 * 1024

#: What a new ``.roomodes`` starts as (Roo's own writer makes YAML).
NEW_FILE = b"customModes: []\n"

#: Editable text fields: file key by file key and by model attribute name.
EDITABLE = {
    "name": "name", "roleDefinition": "roleDefinition", "role_definition": "roleDefinition",
    "whenToUse": "whenToUse", "when_to_use": "whenToUse", "description": "description",
    "customInstructions": "customInstructions", "custom_instructions": "customInstructions",
}


class ModeGroup(BaseModel):
    """One entry of a mode's ``groups`` list.

    Attributes
    ----------
    name : str
        Tool group (``read``, ``edit``, ``command``, ``mcp``, ``modes``, or
        the deprecated ``browser``; unknown names are kept and reported).
    options : dict or None
        For the tuple form ``[edit, {fileRegex, description}]``, the options.
    """

    name: str
    options: dict[str, Any] | None = None


class Mode(BaseModel):
    """Read-only view of one custom mode as Roo Code sees it.

    Text fields hold the value after Roo's pre-parse normalisation (smart
    quotes as ASCII quotes, etc.), because that is what Roo uses. Required
    text fields that are missing read as ``""`` and are reported by
    :meth:`ModesDocument.problems`.

    Attributes
    ----------
    slug, name, role_definition : str
        Required fields (``roleDefinition`` in the file).
    when_to_use, description, custom_instructions : str or None
        Optional fields; ``None`` when absent.
    groups : list of ModeGroup
        Tool groups in file order.
    source : str or None
        ``project`` or ``global`` when valid; kept verbatim otherwise.
    extra_keys : list of str
        Keys that are not in Roo's schema, in file order (values not kept here).
    line : int
        1-based line where this mode's mapping starts.
    """

    slug: str
    name: str
    role_definition: str
    when_to_use: str | None = None
    description: str | None = None
    custom_instructions: str | None = None
    groups: list[ModeGroup] = Field(default_factory=list)
    source: str | None = None
    extra_keys: list[str] = Field(default_factory=list)
    line: int


@dataclass
class _ModeRef:
    """Where one mode lives in the syntax tree."""

    index: int  # position in customModes (counting non-mapping items too)
    node: Mapping
    keys: dict[str, tuple[Node, Node]]  # last occurrence wins, as in JSON
    duplicates: set[str]


@dataclass
class _View:
    """Everything derived from one parse of the text."""

    python: Any
    modes: list[Mode]
    refs: list[_ModeRef]
    problems: list[Problem]
    via: str  # "yaml" or "json": which parser Roo would succeed with
    root: Mapping
    key: Node  # the customModes key
    seq: Sequence  # the customModes list


def _detect_format(text: str) -> Literal["yaml", "json"]:
    return "json" if text.lstrip(" \t\r\n")[:1] == "{" else "yaml"


def _parse_tree(name: str, text: str, fmt: str) -> tuple[Node | None, str]:
    """Parse like Roo: YAML on normalised text, then ``JSON.parse`` on the original."""
    try:
        return compose_yaml(text), "yaml"
    except LimitProblem as exc:  # refused whichever way Roo would read it: no JSON fallback
        line = None if exc.offset is None else line_of_offset(text, exc.offset)
        raise FormatError(name, f"refused: {exc.message}", line=line) from None
    except SyntaxProblem as yaml_exc:
        if fmt != "json":
            line = None if yaml_exc.offset is None else line_of_offset(text, yaml_exc.offset)
            raise FormatError(name, f"invalid YAML: {yaml_exc.message}", line=line) from None
    try:
        return scan_json(text), "json"
    except SyntaxProblem as exc:
        line = None if exc.offset is None else line_of_offset(text, exc.offset)
        what = "refused" if isinstance(exc, LimitProblem) else "invalid JSON"
        raise FormatError(name, f"{what}: {exc.message}", line=line) from None


def _key_name(node: Node) -> str | None:
    return node.value if isinstance(node, Scalar) and isinstance(node.value, str) else None


def _build(name: str, text: str, fmt: str) -> _View:
    root, via = _parse_tree(name, text, fmt)
    line_at = LineIndex(text)
    if root is None:
        raise FormatError(name, "file is empty; expected a mapping with a 'customModes' list", line=1)
    if not isinstance(root, Mapping):
        raise FormatError(name, "the top level must be a mapping with a 'customModes' list",
                          line=line_at(root.start))
    problems: list[Problem] = []
    modes_node: Node | None = None
    modes_key: Node = root
    for k, v in root.items:
        key = _key_name(k)
        if key == "customModes":
            if modes_node is not None:
                problems.append(Problem(file=name, line=line_at(k.start),
                                        message="duplicate key 'customModes'; only the last one counts"))
            modes_node, modes_key = v, k
        else:
            problems.append(Problem(
                file=name, line=line_at(k.start), severity="warning",
                message=f"unknown top-level key {key or to_python(k)!r}; Roo reads only 'customModes'"))
    if modes_node is None:
        raise FormatError(name, "no 'customModes' key at the top level", line=line_at(root.start))
    if not isinstance(modes_node, Sequence):
        raise FormatError(name, "'customModes' must be a list of modes", line=line_at(modes_key.start))
    modes: list[Mode] = []
    refs: list[_ModeRef] = []
    slugs: dict[str, int] = {}
    for index, item in enumerate(modes_node.items):
        line = line_at(item.start)
        if not isinstance(item, Mapping):
            problems.append(Problem(file=name, line=line, message=(
                f"mode #{index + 1} is not a mapping of keys; Roo rejects the whole file")))
            continue
        keys: dict[str, tuple[Node, Node]] = {}
        duplicates: set[str] = set()
        for k, v in item.items:
            key = _key_name(k) or repr(to_python(k))
            if key in keys:
                duplicates.add(key)
                problems.append(Problem(file=name, line=line_at(k.start), message=(
                    f"duplicate key {key!r} in one mode; YAML parsers reject the file, "
                    "JSON keeps the last one")))
            keys[key] = (k, v)
        fields, mode_problems = check_mode(name, line_at, keys, line)
        problems.extend(mode_problems)
        slug = fields["slug"]
        if slug and slug in slugs:
            problems.append(Problem(file=name, line=line, message=(
                f"duplicate slug {slug!r} (first on line {slugs[slug]}); Roo rejects the whole file")))
        slugs.setdefault(slug, line)
        modes.append(Mode(**fields))
        refs.append(_ModeRef(index, item, keys, duplicates))
    try:
        python = to_python(root)
    except RecursionError:
        raise FormatError(name, "a YAML alias refers to itself; cannot read the file", line=1) from None
    return _View(python, modes, refs, problems, via, root, modes_key, modes_node)


class ModesDocument(TextFile):
    """A ``.roomodes`` file: typed view, validation and lossless scalar edits.

    Parameters
    ----------
    path : path-like
        Location of the file (used for messages and :meth:`save`).
    data : bytes
        The file's content.

    Attributes
    ----------
    format : {"yaml", "json"}
        ``json`` when the first non-blank character is ``{``; edits keep it.
    modes : list of Mode
        The modes in file order, re-read after every edit.

    Raises
    ------
    FormatError
        Undecodable text, broken YAML/JSON, or a top level that is not a
        mapping with a ``customModes`` list.
    """

    def __init__(self, path: str | os.PathLike[str], data: bytes) -> None:
        super().__init__(path, data)
        if len(data) > MAX_MODES_BYTES:
            raise FormatError(self.name, f"refused: the file has {len(data):,} bytes; a .roomodes may have at most "
                                         f"{MAX_MODES_BYTES:,} (real ones are under 100 KB)")
        self._text, self._bom = decode_text(data, self.name)
        self.format: Literal["yaml", "json"] = _detect_format(self._text)
        self._view = _build(self.name, self._text, self.format)
        self.modes: list[Mode] = self._view.modes

    # -- reading ---------------------------------------------------------

    def problems(self) -> list[Problem]:
        """Return the validation findings (docs/formats.md §5.2/§5.4); nothing is fixed.

        Roo rejects the whole file when any mode is invalid, so every
        ``error`` means Roo loads none of the project modes.
        """
        out = sorted(self._view.problems, key=lambda p: p.line or 0)
        if self.path.parent.name == ".roo":
            out.insert(0, Problem(file=self.name, line=None, severity="warning", message=(
                "Roo ignores a .roomodes inside .roo/; it reads <workspace>/.roomodes")))
        return out

    def source_range(self, slug: str, key: str) -> tuple[int, int] | None:
        """Byte range ``[start, end)`` in :attr:`data` of one field's value source.

        For block scalars the range ends after the last content line (blank
        lines after it are not part of it). ``None`` when the key is absent.
        Meant for highlighting a field and for checking edits.
        """
        ref = self._view.refs[self.modes.index(self.mode(slug))]
        entry = ref.keys.get(EDITABLE.get(key, key))
        if entry is None:
            return None
        start, end = entry[1].start, content_end(self._text, entry[1])
        bom = 3 if self._bom else 0
        head = len(self._text[:start].encode("utf-8")) + bom
        return head, head + len(self._text[start:end].encode("utf-8"))

    def mode(self, slug: str) -> Mode:
        """Return the (first) mode with this slug; :class:`FormatError` if none."""
        for m in self.modes:
            if m.slug == slug:
                return m
        raise FormatError(self.name, f"no mode with slug {slug!r}")

    # -- editing ---------------------------------------------------------

    def set_field(self, slug: str, key: str, value: str) -> None:
        """Replace one text field of one mode, changing only that scalar's bytes.

        The scalar keeps its style (plain, single- or double-quoted with the
        same escaping of non-ASCII, ``|``/``>`` block, JSON string). When the
        value cannot be written in that style safely, that scalar alone
        becomes double-quoted. A missing key is added after the mode's last
        key (block mappings: a new ``key: "value"`` line; JSON/flow mappings:
        ``, "key": "value"``). The result is re-parsed and must read back as
        exactly the requested change, otherwise nothing changes.

        Parameters
        ----------
        slug : str
            The mode to edit (must be unique in the file).
        key : str
            ``name``, ``roleDefinition``, ``whenToUse``, ``description`` or
            ``customInstructions`` (snake_case model names are accepted too).
        value : str
            The new text.

        Raises
        ------
        FormatError
            Unknown slug/key, a duplicate slug or key, a field that is not
            text (list, anchor/tag), or a value that cannot be written safely.
        """
        if not isinstance(value, str):
            raise FormatError(self.name, f"{key}: value must be text, got {type(value).__name__}")
        file_key = EDITABLE.get(key)
        if file_key is None:
            raise FormatError(self.name, f"cannot edit {key!r}; editable fields: "
                              "name, roleDefinition, whenToUse, description, customInstructions")
        index, ref = self._find(slug)
        line = self.modes[index].line
        if file_key in ref.duplicates:
            raise FormatError(self.name, f"mode {slug!r} has {file_key!r} more than once; fix that first",
                              line=line)
        expected = copy.deepcopy(self._view.python)
        expected["customModes"][ref.index][file_key] = value
        ctx = self._context()
        entry = ref.keys.get(file_key)
        if entry is not None and isinstance(entry[1], Scalar) and entry[1].value == value:
            return  # unchanged: rewriting would only risk re-folding its lines
        if entry is None:
            candidates = insert_candidates(ctx, ref.node, file_key, value, line)
        else:
            candidates = replace_candidates(ctx, entry[0], entry[1], value)
        self._commit([[c] for c in candidates], expected,
                     f"cannot write this {file_key} of mode {slug!r} safely; nothing was changed", line)

    def set_groups(self, slug: str, groups: list[Any]) -> None:
        """Replace one mode's ``groups`` (entries as plain values: ``"read"``, ``["edit", {"fileRegex": …}]``).

        Only the entries that change are touched; the others keep their bytes
        (:mod:`~orchestrator_gui.formats.roomodes_groups`). Raises
        :class:`FormatError` for an unknown or duplicate slug, ``groups``
        present but not a list, a new entry Roo would reject
        (:func:`~orchestrator_gui.formats.roomodes_values.check_groups`), or a
        change that cannot be written safely.
        """
        index, ref = self._find(slug)
        line = self.modes[index].line
        entry = ref.keys.get("groups")
        old = to_python(entry[1]) if entry is not None else []
        old = old if isinstance(old, list) else []
        new = [list(g) if isinstance(g, tuple) else g for g in groups] if isinstance(groups, (list, tuple)) else groups
        problem = check_groups(new, old)
        if problem:
            raise FormatError(self.name, f"groups of mode {slug!r}: {problem}; nothing was changed", line=line)
        if entry is not None and old == new:
            return
        if "groups" in ref.duplicates:
            raise FormatError(self.name, f"mode {slug!r} has 'groups' more than once; fix that first", line=line)
        expected = copy.deepcopy(self._view.python)
        expected["customModes"][ref.index]["groups"] = new
        ctx = self._context()
        style = TextStyle.of(ctx, [r.node for r in self._view.refs])
        candidates = groups_candidates(ctx, style, ref.node, entry, old, new, line)
        self._commit(candidates, expected, f"cannot write the groups of mode {slug!r} safely; nothing was changed",
                     line)

    def add_mode(self, slug: str, *, name: str, role_definition: str, groups: list[Any],
                 when_to_use: str | None = None, description: str | None = None,
                 custom_instructions: str | None = None) -> Mode:
        """Append a new mode to ``customModes`` in the file's own style; returns it as read back.

        The entry copies the last mode's indentation, key order and spacing
        and the file's quoting (:mod:`~orchestrator_gui.formats.roomodes_entries`);
        ``source: project`` is written when the last mode has it. Raises
        :class:`FormatError` for a slug that is invalid or taken, a value Roo
        would reject (:mod:`~orchestrator_gui.formats.roomodes_values`), too
        many modes, or an entry that cannot be written safely.
        """
        line = line_of_offset(self._text, self._view.key.start)
        fields, problem = new_mode_fields(slug, name=name, role_definition=role_definition, groups=groups,
                                          when_to_use=when_to_use, description=description,
                                          custom_instructions=custom_instructions)
        if problem:
            raise FormatError(self.name, f"new mode: {problem}; nothing was changed", line=line)
        taken = next((m for m in self.modes if m.slug == slug), None)
        if taken is not None:
            raise FormatError(self.name, f"a mode with slug {slug!r} exists already; nothing was changed",
                              line=taken.line)
        if len(self._view.seq.items) >= MAX_MODES:
            raise FormatError(self.name, f"the file has {len(self._view.seq.items)} modes; at most {MAX_MODES} "
                              "are allowed; nothing was changed", line=line)
        last = self._view.refs[-1].keys.get("source") if self._view.refs else None
        if last is not None and isinstance(last[1], Scalar) and last[1].value == "project":
            fields["source"] = "project"
        expected = copy.deepcopy(self._view.python)
        expected["customModes"].append(dict(fields))
        ctx = self._context()
        view = self._view
        candidates = add_candidates(ctx, view.root, view.key, view.seq, [r.node for r in view.refs], fields)
        self._commit(candidates, expected, f"cannot add mode {slug!r} to this file safely; nothing was changed", line)
        return self.modes[-1]

    def remove_mode(self, slug: str) -> None:
        """Remove exactly one mode's entry (:mod:`~orchestrator_gui.formats.roomodes_entries`).

        Raises :class:`FormatError` for an unknown or duplicate slug or an
        entry that cannot be cut out safely.
        """
        index, ref = self._find(slug)
        expected = copy.deepcopy(self._view.python)
        del expected["customModes"][ref.index]
        splice = remove_splice(self._context(), self._view.key, self._view.seq, ref.index)
        self._commit([[splice]], expected, f"cannot remove mode {slug!r} safely; nothing was changed",
                     self.modes[index].line, loose=True)

    def record(self, slug: str) -> dict[str, Any]:
        """The mode's keys and plain values as Roo reads them (a copy; text after Roo's normalisation)."""
        _, ref = self._find(slug)
        return copy.deepcopy(self._view.python["customModes"][ref.index])

    def save(self) -> None:
        """Write the edits atomically; creates the file for a document made by :func:`new_modes`."""
        if self.original is None:
            atomic_write(self.path, self.data, expected=None, create=True)
            self.original = self.data
            return
        super().save()

    # -- helpers ---------------------------------------------------------

    def _find(self, slug: str) -> tuple[int, _ModeRef]:
        hits = [i for i, m in enumerate(self.modes) if m.slug == slug]
        if not hits:
            raise FormatError(self.name, f"no mode with slug {slug!r}",
                              line=line_of_offset(self._text, self._view.key.start))
        if len(hits) > 1:
            raise FormatError(self.name, f"slug {slug!r} is used by {len(hits)} modes; fix that first",
                              line=self.modes[hits[1]].line)
        return hits[0], self._view.refs[hits[0]]

    def _context(self) -> EditContext:
        return EditContext(self.name, self._text, self.format, self._view.via)

    def _commit(self, candidates: list[list[Splice]], expected: Any, message: str, line: int | None, *,
                loose: bool = False) -> None:
        """Apply the first candidate whose re-parse reads as ``expected`` (``loose``: up to Roo's
        normalisation, see :func:`~orchestrator_gui.formats.roomodes_layout.same_reading`); else change nothing."""
        for splices in candidates:
            text = apply_splices(self._text, splices)
            try:
                data = (b"\xef\xbb\xbf" if self._bom else b"") + text.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate written raw: not UTF-8
                continue
            if len(data) > MAX_MODES_BYTES:
                raise FormatError(self.name, f"the file would have {len(data):,} bytes; a .roomodes may have at "
                                  f"most {MAX_MODES_BYTES:,}; nothing was changed", line=line)
            try:
                view = _build(self.name, text, self.format)
            except FormatError:
                continue
            if view.python == expected or (loose and same_reading(view.python, expected)):
                self._text, self._view, self.modes, self.data = text, view, view.modes, data
                return
        raise FormatError(self.name, message, line=line)


def load_modes(path: str | os.PathLike[str]) -> ModesDocument:
    """Read a ``.roomodes`` file (YAML or JSON).

    Parameters
    ----------
    path : path-like
        The file.

    Returns
    -------
    ModesDocument

    Raises
    ------
    FormatError
        Unreadable file, broken YAML/JSON (with the line), or a top level that
        is not a mapping with a ``customModes`` list.
    """
    return ModesDocument(path, read_bytes(path))


def new_modes(path: str | os.PathLike[str]) -> ModesDocument:
    """A document for a workspace with no ``.roomodes`` yet (YAML, as Roo writes it); :meth:`save` creates it."""
    doc = ModesDocument(path, NEW_FILE)
    doc.original = None  # type: ignore[assignment]
    return doc


__all__ = ["EDITABLE", "MAX_MODES_BYTES", "NEW_FILE", "Mode", "ModeGroup", "ModesDocument", "load_modes",
           "new_modes"]
