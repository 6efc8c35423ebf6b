"""``task_timing.tsv`` (and the read-only ``task_timing.csv`` sibling): docs/formats.md §4.

Public entry point. The lossless reader lives in
:mod:`orchestrator_gui.formats.timing_read`, the append-only writer in
:mod:`orchestrator_gui.formats.timing_write`; import from here.

Example
-------
>>> doc = load_timing("task_timing.tsv")              # doctest: +SKIP
>>> doc.to_bytes() == doc.data                        # doctest: +SKIP
True
>>> append_row("task_timing.tsv", NewTimingRow(...))  # doctest: +SKIP
"""

from orchestrator_gui.formats.timing_read import (
    STANDARD_COLUMNS,
    Layout,
    TimingDocument,
    TimingRow,
    is_iso,
    is_ts,
    load_timing,
    parse_instant,
    parse_timing,
)
from orchestrator_gui.formats.timing_write import (
    HEADER,
    NewTimingRow,
    append_row,
    clean_text,
    format_row,
    iso_js,
)

__all__ = [
    "HEADER",
    "STANDARD_COLUMNS",
    "Layout",
    "NewTimingRow",
    "TimingDocument",
    "TimingRow",
    "append_row",
    "clean_text",
    "format_row",
    "is_iso",
    "is_ts",
    "iso_js",
    "load_timing",
    "parse_instant",
    "parse_timing",
]
