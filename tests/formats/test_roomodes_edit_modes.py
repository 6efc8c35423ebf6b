""".roomodes add_mode / remove_mode / set_groups: exact bytes, only the changed span differs, fixtures round-trip."""

from __future__ import annotations

import pytest
from shared_fixtures import LOCAL_DATA, fixture, fixture_files

from orchestrator_gui.formats.roomodes import ModesDocument, load_modes, new_modes
from orchestrator_gui.formats.roomodes_values import MAX_SLUG_CHARS
from orchestrator_gui.problems import FormatError

FIXTURES = fixture_files("roomodes")
LOCAL = sorted((LOCAL_DATA / "roomodes").glob("*"))
ALL = FIXTURES + LOCAL
EDIT_MD = ["edit", {"fileRegex": r"\.md$", "description": "Markdown only"}]

ROO_YAML = """\
# project modes
customModes:
  - slug: alpha
    name: Alpha
    roleDefinition: You are alpha.
    groups:
      - read
      - - edit
        - fileRegex: \\.py$
          description: Python
    source: project

  - slug: beta   # keep me
    name: Beta
    roleDefinition: |-
      Line one
      Line two
    groups:
      - read
      - command
    source: project
"""

PYYAML = """\
customModes:
- slug: alpha
  name: "\\U0001F9E0 Alpha"
  roleDefinition: You are alpha.
  groups:
  - read
  source: project
"""

JSON = """\
{
  "customModes": [
    {
      "slug": "alpha",
      "name": "Alpha",
      "roleDefinition": "You are alpha.",
      "groups": [
        "read",
        "edit"
      ]
    },
    {
      "slug": "beta",
      "name": "Beta",
      "roleDefinition": "You are beta.",
      "groups": ["read"]
    }
  ]
}"""


def doc_of(text: str | bytes, name: str = ".roomodes") -> ModesDocument:
    return ModesDocument(name, text.encode("utf-8") if isinstance(text, str) else text)


def changed_region(old: bytes, new: bytes) -> tuple[int, int, bytes]:
    """``old[a:b]`` was replaced by the returned bytes; everything else is byte-identical."""
    n = min(len(old), len(new))
    pre = 0
    while pre < n and old[pre] == new[pre]:
        pre += 1
    suf = 0
    while suf < n - pre and old[len(old) - 1 - suf] == new[len(new) - 1 - suf]:
        suf += 1
    return pre, len(old) - suf, new[pre:len(new) - suf]


# -- exact bytes on small YAML and JSON files ------------------------------------------------------------


def test_add_mode_to_roo_style_yaml_writes_its_style_after_the_last_mode():
    doc = doc_of(ROO_YAML)
    doc.add_mode("gamma", name="Gamma", role_definition="First\nSecond", groups=["read", EDIT_MD],
                 when_to_use="For docs.")
    assert doc.data.decode() == ROO_YAML + (
        "\n"
        "  - slug: gamma\n"
        "    name: Gamma\n"
        "    roleDefinition: |-\n"
        "      First\n"
        "      Second\n"
        "    whenToUse: For docs.\n"
        "    groups:\n"
        "      - read\n"
        "      - - edit\n"
        "        - fileRegex: \\.md$\n"
        "          description: Markdown only\n"
        "    source: project\n")
    gamma = doc_of(doc.data).mode("gamma")
    assert gamma.role_definition == "First\nSecond" and gamma.when_to_use == "For docs."
    assert [g.name for g in gamma.groups] == ["read", "edit"]
    assert gamma.groups[1].options == {"fileRegex": r"\.md$", "description": "Markdown only"}


def test_add_mode_to_pyyaml_style_keeps_flush_dashes_and_escapes():
    doc = doc_of(PYYAML)
    doc.add_mode("beta", name="🧪 Beta", role_definition="Plain role.", groups=["read", "mcp"])
    assert doc.data.decode() == PYYAML + (
        "- slug: beta\n"
        '  name: "\\U0001F9EA Beta"\n'
        "  roleDefinition: Plain role.\n"
        "  groups:\n"
        "  - read\n"
        "  - mcp\n"
        "  source: project\n")
    assert doc_of(doc.data).mode("beta").name == "🧪 Beta"


def test_add_mode_to_json_copies_the_last_objects_spacing():
    doc = doc_of(JSON)
    doc.add_mode("gamma", name="Gamma “quoted”", role_definition="Two\nlines", groups=["read", EDIT_MD],
                 custom_instructions="Be brief.")
    expected = JSON.replace('''      "groups": ["read"]
    }
  ]''', '''      "groups": ["read"]
    },
    {
      "slug": "gamma",
      "name": "Gamma \\u201cquoted\\u201d",
      "roleDefinition": "Two\\nlines",
      "customInstructions": "Be brief.",
      "groups": ["read", ["edit", {"fileRegex": "\\\\.md$", "description": "Markdown only"}]]
    }
  ]''')
    assert doc.data.decode() == expected
    assert doc_of(doc.data).mode("gamma").name == "Gamma “quoted”"


def test_first_mode_of_a_new_or_empty_file():
    doc = new_modes("ws/.roomodes")
    doc.add_mode("first", name="First", role_definition="Be first.", groups=["read", "edit"])
    assert doc.data == (b"customModes:\n  - slug: first\n    name: First\n    roleDefinition: Be first.\n"
                        b"    groups:\n      - read\n      - edit\n")
    doc = doc_of('{\n  "customModes": []\n}')
    doc.add_mode("first", name="First", role_definition="r", groups=[])
    assert doc.data.decode() == ('{\n  "customModes": [\n    {\n      "slug": "first",\n      "name": "First",\n'
                                 '      "roleDefinition": "r",\n      "groups": []\n    }\n  ]\n}')


@pytest.mark.parametrize("slug, expected", [
    ("alpha", "# project modes\ncustomModes:\n" + ROO_YAML.split("\n\n", 1)[1]),
    ("beta", ROO_YAML.split("\n\n", 1)[0] + "\n"),
])
def test_remove_mode_yaml_cuts_exactly_its_lines(slug, expected):
    doc = doc_of(ROO_YAML)
    doc.remove_mode(slug)
    assert doc.data.decode() == expected
    assert [m.slug for m in doc.modes] == [s for s in ("alpha", "beta") if s != slug]


def test_remove_the_only_mode_leaves_an_empty_list_and_comments():
    doc = doc_of(PYYAML)
    doc.remove_mode("alpha")
    assert doc.data == b"customModes: []\n"
    doc = doc_of('{"customModes": [{"slug": "a", "name": "A", "roleDefinition": "r", "groups": []}]}')
    doc.remove_mode("a")
    assert doc.data == b'{"customModes": []}'


@pytest.mark.parametrize("slug", ["alpha", "beta"])
def test_remove_mode_json_cuts_the_object_and_one_comma(slug):
    doc = doc_of(JSON)
    doc.remove_mode(slug)
    other = "beta" if slug == "alpha" else "alpha"
    assert [m.slug for m in doc.modes] == [other]
    start = JSON.index("    {") if slug == "alpha" else JSON.index("},\n    {") + 1
    end = JSON.index("    {", start + 5) if slug == "alpha" else JSON.index("\n  ]")
    assert doc.data.decode() == JSON[:start] + JSON[end:]


def test_crlf_bom_and_missing_final_newline_are_kept():
    text = ROO_YAML.rstrip("\n").replace("\n", "\r\n")
    raw = b"\xef\xbb\xbf" + text.encode()
    doc = doc_of(raw)
    doc.add_mode("gamma", name="G", role_definition="r", groups=["read"])
    assert doc.data.startswith(raw) and b"\n" not in doc.data[len(raw):].replace(b"\r\n", b"")
    assert doc.data[len(raw):] == (b"\r\n\r\n  - slug: gamma\r\n    name: G\r\n    roleDefinition: r\r\n"
                                   b"    groups:\r\n      - read\r\n    source: project")
    doc.remove_mode("gamma")
    assert doc.data == raw
    doc.remove_mode("beta")
    assert doc.data == b"\xef\xbb\xbf" + text.split("\r\n\r\n")[0].encode()


# -- groups ----------------------------------------------------------------------------------------------


def test_set_groups_block_touches_only_the_entries_that_change():
    doc = doc_of(ROO_YAML)
    before = doc.data
    doc.set_groups("beta", ["read", "mcp"])
    a, b, new = changed_region(before, doc.data)
    assert before[a:b] == b"command" and new == b"mcp"
    doc.set_groups("beta", ["read"])
    assert doc.data == before.replace(b"      - command\n", b"")
    doc.set_groups("beta", [])
    assert b"    groups: []\n    source: project\n" in doc.data
    assert doc_of(doc.data).mode("beta").groups == []


def test_changing_a_file_regex_splices_only_that_scalar():
    doc = doc_of(ROO_YAML)
    before = doc.data
    doc.set_groups("alpha", ["read", ["edit", {"fileRegex": r"\.rs$", "description": "Python"}]])
    a, b, new = changed_region(before, doc.data)
    assert (before[a:b], new) == (b"py", b"rs")


def test_set_groups_json_keeps_the_array_layout():
    doc = doc_of(JSON)
    doc.set_groups("alpha", ["read", "edit", "command"])
    assert '        "edit",\n        "command"\n      ]' in doc.data.decode()
    doc.set_groups("beta", ["read", EDIT_MD])
    assert '"groups": ["read", ["edit", {"fileRegex": "\\\\.md$", "description": "Markdown only"}]]' in doc.data.decode()
    doc.set_groups("alpha", ["edit", "command"])
    assert '"groups": [\n        "edit",\n        "command"\n      ]' in doc.data.decode()


def test_a_missing_groups_key_is_added_and_untouched_entries_are_kept():
    doc = doc_of("customModes:\n  - slug: a\n    name: A\n    roleDefinition: r\n")
    doc.set_groups("a", ["read"])
    assert doc.data == b"customModes:\n  - slug: a\n    name: A\n    roleDefinition: r\n    groups:\n      - read\n"
    # a kept 'browser' entry with an unknown option is not refused: the edit does not touch it
    odd = ["browser", {"weird": 1}]
    doc = doc_of('{"customModes": [{"slug": "a", "name": "A", "roleDefinition": "r", '
                 '"groups": [["browser", {"weird": 1}]]}]}')
    doc.set_groups("a", [odd, "read"])
    assert doc.record("a")["groups"] == [odd, "read"]


# -- refused input: a FILE:LINE error and nothing changed ------------------------------------------------


@pytest.mark.parametrize("kwargs, fragment, line", [
    ({"slug": "bad slug"}, "letters, digits and '-'", 2),
    ({"slug": "x" * (MAX_SLUG_CHARS + 1)}, "at most 100", 2),
    ({"slug": "beta"}, "exists already", 13),
    ({"name": "  "}, "name must not be empty", 2),
    ({"groups": ["read", "read"]}, "appears twice", 2),
    ({"groups": ["reading"]}, "unknown group 'reading'", 2),
    ({"groups": [["edit", {"fileRegex": "("}]]}, "does not compile", 2),
    ({"groups": [["edit", {"color": "red"}]]}, "unknown option 'color'", 2),
])
def test_add_mode_refuses_what_roo_would_reject(kwargs, fragment, line):
    doc = doc_of(ROO_YAML)
    args = {"slug": "gamma", "name": "G", "role_definition": "r", "groups": ["read"], **kwargs}
    with pytest.raises(FormatError) as exc:
        doc.add_mode(args.pop("slug"), **args)
    assert fragment in exc.value.message and exc.value.line == line
    assert str(exc.value).startswith(f".roomodes:{line}: error: ")
    assert doc.data == ROO_YAML.encode() and len(doc.modes) == 2


def test_unknown_or_duplicate_slug_is_refused_with_a_line():
    doc = doc_of(ROO_YAML)
    with pytest.raises(FormatError, match=r"^\.roomodes:2: error: no mode with slug 'nope'"):
        doc.remove_mode("nope")
    dup = doc_of(ROO_YAML.replace("slug: beta", "slug: alpha"))
    with pytest.raises(FormatError, match="used by 2 modes"):
        dup.set_groups("alpha", ["read"])
    with pytest.raises(FormatError, match="unknown group"):
        doc.set_groups("beta", ["read", "teleport"])
    assert doc.data == ROO_YAML.encode()


# -- every real fixture ----------------------------------------------------------------------------------


def _ids(p):
    return p.name


@pytest.mark.parametrize("path", ALL, ids=_ids)
def test_add_then_remove_round_trips_every_fixture(path):
    original = path.read_bytes()
    doc = load_modes(path)
    before = [doc.record(m.slug) for m in doc.modes if [x.slug for x in doc.modes].count(m.slug) == 1]
    doc.add_mode("zz-added", name="Added 🧪", role_definition="Line one\nline “two”", groups=["read", EDIT_MD],
                 when_to_use="When asked.")
    a, b, _ = changed_region(original, doc.data)
    assert a == b, "adding only inserts bytes"
    again = ModesDocument(path, doc.data)
    added = again.mode("zz-added")
    assert (added.name, added.role_definition, added.when_to_use) == ("Added 🧪", "Line one\nline “two”", "When asked.")
    assert [again.record(r["slug"]) for r in before] == before, "the other modes read exactly as before"
    again.remove_mode("zz-added")
    assert again.data == original


@pytest.mark.parametrize("path", ALL, ids=_ids)
def test_removing_each_mode_cuts_one_span(path):
    original = path.read_bytes()
    slugs = [m.slug for m in load_modes(path).modes]
    # first, second, middle, second-to-last and last: every position a splice treats differently
    picks = sorted({i for i in (0, 1, len(slugs) // 2, len(slugs) - 2, len(slugs) - 1) if 0 <= i < len(slugs)})
    for slug in [slugs[i] for i in picks]:
        if slugs.count(slug) != 1:
            continue
        doc = load_modes(path)
        others = [doc.record(s) for s in slugs if s != slug and slugs.count(s) == 1]
        doc.remove_mode(slug)
        a, b, inserted = changed_region(original, doc.data)
        assert inserted in (b"", b" []"), "removing only deletes bytes: one span"
        assert [m.slug for m in doc.modes] == [s for s in slugs if s != slug]
        after = ModesDocument(path, doc.data)
        assert [after.record(r["slug"]) for r in others] == others or after.format == "json"


def test_removing_the_mode_that_breaks_yaml_is_allowed():
    """maozdemir: only JSON.parse reads it; without 'tutorial' Roo's YAML parse works again."""
    doc = load_modes(fixture("roomodes", "maozdemir"))
    original = doc.data
    doc.remove_mode("tutorial")
    a, b, inserted = changed_region(original, doc.data)
    assert inserted == b"" and b"SPARC Tutorial" in original[a:b]
    assert "tutorial" not in [m.slug for m in ModesDocument(doc.path, doc.data).modes]


@pytest.mark.parametrize("path", ALL, ids=_ids)
def test_setting_groups_of_every_mode_changes_only_a_list(path):
    original = path.read_bytes()
    for mode in load_modes(path).modes[:3]:
        doc = load_modes(path)
        try:
            old = doc.record(mode.slug).get("groups")
        except FormatError:
            continue  # a duplicate slug: refused, as tested above
        if not isinstance(old, list) or any(not isinstance(g, (str, list)) for g in old):
            continue
        names = [g if isinstance(g, str) else g[0] for g in old]
        new = [g for g in old if (g if isinstance(g, str) else g[0]) != "read"]
        new += [] if "mcp" in names else ["mcp"]
        doc.set_groups(mode.slug, new)
        assert ModesDocument(path, doc.data).record(mode.slug)["groups"] == new
        a, b, inserted = changed_region(original, doc.data)
        assert b"slug" not in original[a:b] and b"slug" not in inserted, "only inside one groups list"
