"""Light and dark themes of the desktop app: a Fusion palette, a small style sheet and shared colours.

The 3D view gets the theme *name* (``"light"``/``"dark"``) and picks its own
colours; the panels use :data:`KIND_COLORS` so a node's kind looks the same in
a list as in the view.
"""

from __future__ import annotations

import re
import unicodedata

from PySide6.QtGui import QColor, QFont, QFontMetrics, QPalette
from PySide6.QtWidgets import QApplication

from orchestrator_gui.model.display import display_text, strip_pictographs
from orchestrator_gui.render.theme import DARK as RENDER_DARK

THEMES = ("dark", "light")

#: Colour of each node kind (hex), shared by panels (chips, chart points).
def _hex_of(rgba) -> str:
    return "#" + "".join(f"{round(min(max(c, 0.0), 1.0) * 255):02x}" for c in rgba[:3])


#: Node kind -> colour, the 3D view's own (dark theme), so a kind looks the same in a list as in the
#: view and its legend (they once disagreed: runs blue in the panels and red in the view).
KIND_COLORS: dict[str, str] = {kind: _hex_of(rgba) for kind, rgba in RENDER_DARK.kinds.items()}

#: Colour of each run / item status (chart points, table text).
STATUS_COLORS: dict[str, str] = {
    "completed": "#27ae60",
    "done": "#27ae60",
    "failed": "#eb5757",
    "timeout": "#eb5757",
    "cancelled": "#9e9e9e",
    "started": "#f2c94c",
    "in_progress": "#f2c94c",
    "pending": "#56ccf2",
}

_DARK = {
    QPalette.ColorRole.Window: "#1e2127",
    QPalette.ColorRole.WindowText: "#d7dae0",
    QPalette.ColorRole.Base: "#16181d",
    QPalette.ColorRole.AlternateBase: "#1c1f25",
    QPalette.ColorRole.ToolTipBase: "#2b2f37",
    QPalette.ColorRole.ToolTipText: "#e6e6e6",
    QPalette.ColorRole.PlaceholderText: "#6b717c",
    QPalette.ColorRole.Text: "#d7dae0",
    QPalette.ColorRole.Button: "#262a31",
    QPalette.ColorRole.ButtonText: "#d7dae0",
    QPalette.ColorRole.BrightText: "#ff6b6b",
    QPalette.ColorRole.Highlight: "#3d6fb6",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#6aa7ff",
    QPalette.ColorRole.Mid: "#3a3f47",
    QPalette.ColorRole.Dark: "#111317",
}

_LIGHT = {
    QPalette.ColorRole.Window: "#f3f4f6",
    QPalette.ColorRole.WindowText: "#1f2328",
    QPalette.ColorRole.Base: "#ffffff",
    QPalette.ColorRole.AlternateBase: "#f6f8fa",
    QPalette.ColorRole.ToolTipBase: "#ffffe8",
    QPalette.ColorRole.ToolTipText: "#1f2328",
    QPalette.ColorRole.PlaceholderText: "#8c959f",
    QPalette.ColorRole.Text: "#1f2328",
    QPalette.ColorRole.Button: "#eaecef",
    QPalette.ColorRole.ButtonText: "#1f2328",
    QPalette.ColorRole.BrightText: "#cf222e",
    QPalette.ColorRole.Highlight: "#3b82f6",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#0969da",
    QPalette.ColorRole.Mid: "#c9ced6",
    QPalette.ColorRole.Dark: "#a0a7b1",
}

# Kept short on purpose: the palette does most of the work, the sheet only
# tightens what Fusion leaves loose (dock titles, headers, the error banner).
_SHEET = """
QDockWidget::title {{ padding: 4px 6px; background: {title_bg}; }}
QHeaderView::section {{ padding: 3px 6px; border: none; border-right: 1px solid {grid};
                        border-bottom: 1px solid {grid}; background: {header_bg}; }}
QToolBar {{ spacing: 4px; border: none; }}
QStatusBar QLabel {{ padding: 0 6px; }}
QLabel[role="muted"] {{ color: {muted}; }}
QLabel[role="title"] {{ font-size: 15px; font-weight: 600; }}
QLabel[role="error"] {{ color: {error}; }}
QFrame[role="notice"] {{ background: {notice_bg}; border: 1px solid {notice_border}; border-radius: 4px; }}
QLineEdit[invalid="true"], QPlainTextEdit[invalid="true"], QComboBox[invalid="true"] {{
    border: 1px solid {error}; }}
"""

_SHEET_VALUES = {
    "dark": dict(title_bg="#262a31", grid="#30343c", header_bg="#22262d", muted="#8b919c", error="#ff6b6b",
                 notice_bg="#2c2a1f", notice_border="#6b5d2a"),
    "light": dict(title_bg="#e4e7eb", grid="#d0d7de", header_bg="#eef0f3", muted="#6e7781", error="#cf222e",
                  notice_bg="#fff8c5", notice_border="#d4a72c"),
}


def normalise(name: str | None) -> str:
    """Return a known theme name (``dark`` for anything unknown)."""
    return name if name in THEMES else "dark"


def palette(name: str) -> QPalette:
    """The Fusion palette of theme ``name``."""
    pal = QPalette()
    for role, color in (_DARK if normalise(name) == "dark" else _LIGHT).items():
        pal.setColor(role, QColor(color))
    disabled = QColor("#6b717c" if normalise(name) == "dark" else "#a0a7b1")
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return pal


def apply_theme(app: QApplication, name: str) -> str:
    """Apply theme ``name`` to the whole application; returns the name applied."""
    name = normalise(name)
    app.setStyle("Fusion")
    app.setPalette(palette(name))
    app.setStyleSheet(_SHEET.format(**_SHEET_VALUES[name]))
    return name


def kind_color(kind: str) -> QColor:
    """Colour of a node kind (grey for unknown kinds)."""
    return QColor(KIND_COLORS.get(str(kind), "#9e9e9e"))


def status_color(status: str | None) -> QColor:
    """Colour of a run/item status word (grey when unknown)."""
    return QColor(STATUS_COLORS.get((status or "").lower(), "#9e9e9e"))


_EMPHASIS = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")


def plain(text: str) -> str:
    """A Markdown line for a read-only cell: no leading list marker, no ``**bold**`` markers."""
    text = text.strip()
    if text[:2] in ("- ", "* ", "+ "):
        text = text[2:]
    return _EMPHASIS.sub(lambda m: m.group(1) or m.group(2), text)


_GLYPHS: dict[tuple[str, int], bool] = {}


def _has_glyph(font: QFont | None):
    """``has_glyph(ch)`` for ``font`` (the application font when ``None``), memoised per family."""
    fm = QFontMetrics(font or QFont())
    family = (font or QFont()).family()

    def has(ch: str) -> bool:
        key = (family, ord(ch))
        ok = _GLYPHS.get(key)
        if ok is None:
            ok = _GLYPHS[key] = fm.inFontUcs4(ord(ch))
        return ok

    return has


def display_title(text: str | None, font: QFont | None = None) -> str:
    """A node title as the UI shows it (tooltip, Inspector, status bar): one line, no Markdown, emoji fallback.

    The same cleaning as the 3D view's labels
    (:func:`orchestrator_gui.model.display.display_text`): ``**``/``__``/backticks
    and list markers go, and pictographs ``font`` cannot draw are dropped
    rather than shown as empty boxes. Only for read-only text.
    """
    if not text:
        return ""
    return display_text(text, has_glyph=None if text.isascii() else _pictograph_check(font))


def _pictograph_check(font: QFont | None):
    # Qt substitutes other fonts for letters and for most symbols, but a pictograph missing from the
    # primary font shows as a box on machines without an emoji font: only pictographs are asked about.
    has = _has_glyph(font)
    return lambda ch: unicodedata.category(ch) != "So" or has(ch)


def displayable(text: str, font: QFont | None = None) -> str:
    """``text`` without the pictographs the UI font cannot draw (emoji would show as empty boxes).

    Only symbols (Unicode category ``So``: emoji, dingbats) are dropped, never
    letters: CJK text must stay even where the primary font lacks it, because
    Qt falls back to other fonts for letters. Only for read-only labels;
    editable fields always show the exact text. Markdown is left as it is
    (:func:`display_title` strips it too).
    """
    return strip_pictographs(text, _pictograph_check(font)) if not text.isascii() else text
