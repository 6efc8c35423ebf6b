"""Per-user settings of the desktop app (QSettings, INI format), stored outside every workspace.

The file lives in the user's configuration folder
(``$XDG_CONFIG_HOME/LoopOrchestrator/orchestrator-gui.ini``, by default
``~/.config/…``), never inside a workspace, so opening a project does not
leave files behind in it. Values are plain strings/JSON so the file stays
readable and a damaged value falls back to its default instead of failing.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow

ORGANIZATION = "LoopOrchestrator"
APPLICATION = "orchestrator-gui"
MAX_RECENT = 10
VISIBILITY_KEYS = ("shells", "edges", "labels", "suppressed")


#: Highest Active ≥ threshold (activation is unbounded above; the slider follows the graph's highest value).
THRESHOLD_MAX = 100.0

class AppSettings:
    """Typed access to the app's persistent settings.

    Parameters
    ----------
    qsettings : QSettings, optional
        The backing store. By default the per-user INI file; tests pass one
        pointing into a temporary folder (see :meth:`at`).
    """

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self.q = qsettings or QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                                        ORGANIZATION, APPLICATION)

    @classmethod
    def at(cls, path: str | os.PathLike[str]) -> AppSettings:
        """Settings kept in the INI file ``path`` (tests, portable installs)."""
        return cls(QSettings(str(path), QSettings.Format.IniFormat))

    @property
    def file(self) -> str:
        """Path of the backing file."""
        return self.q.fileName()

    def sync(self) -> None:
        """Write pending changes to disk."""
        self.q.sync()

    # ------------------------------------------------------------------ plumbing
    def _get_json(self, key: str, default: Any) -> Any:
        raw = self.q.value(key)
        if raw in (None, ""):
            return default
        try:
            return json.loads(str(raw))
        except ValueError:  # a hand-edited or damaged value: ignore it, keep the default
            return default

    def _set_json(self, key: str, value: Any) -> None:
        self.q.setValue(key, json.dumps(value))

    # ------------------------------------------------------------------ workspaces
    def recent_workspaces(self) -> list[str]:
        """Recently opened workspace folders, newest first (folders that vanished are dropped)."""
        items = self._get_json("workspaces/recent", [])
        if not isinstance(items, list):
            return []
        return [p for p in items if isinstance(p, str) and os.path.isdir(p)][:MAX_RECENT]

    def add_recent(self, path: str | os.PathLike[str]) -> None:
        """Put ``path`` first in the recent list and remember it as the last workspace."""
        p = str(Path(path).resolve())
        items = [x for x in self._get_json("workspaces/recent", []) if isinstance(x, str) and x != p]
        self._set_json("workspaces/recent", [p, *items][:MAX_RECENT])
        self.q.setValue("workspaces/last", p)

    def clear_recent(self) -> None:
        """Forget the recent workspaces."""
        self._set_json("workspaces/recent", [])

    def last_workspace(self) -> str | None:
        """The workspace open when the app last quit, if it still exists."""
        p = self.q.value("workspaces/last")
        return str(p) if p and os.path.isdir(str(p)) else None

    # ------------------------------------------------------------------ view
    @property
    def theme(self) -> str:
        """``"dark"`` (default) or ``"light"``."""
        value = str(self.q.value("view/theme", "dark"))
        return value if value in ("dark", "light") else "dark"

    @theme.setter
    def theme(self, name: str) -> None:
        self.q.setValue("view/theme", name)

    def visibility(self) -> dict[str, bool]:
        """Show/hide switches of the 3D view (shells, edges, labels, suppressed nodes)."""
        data = self._get_json("view/visibility", {})
        data = data if isinstance(data, dict) else {}
        defaults = {"shells": True, "edges": True, "labels": True, "suppressed": False}
        return {k: bool(data.get(k, defaults[k])) for k in VISIBILITY_KEYS}

    def set_visibility(self, values: dict[str, bool]) -> None:
        self._set_json("view/visibility", {k: bool(values[k]) for k in VISIBILITY_KEYS if k in values})

    @property
    def activation_threshold(self) -> float:
        """Threshold of the active region, 0..:data:`THRESHOLD_MAX` (0: off)."""
        try:
            value = float(self.q.value("view/threshold", 0.5))
        except (TypeError, ValueError):
            return 0.5
        return min(THRESHOLD_MAX, max(0.0, value)) if value == value else 0.5

    @activation_threshold.setter
    def activation_threshold(self, value: float) -> None:
        self.q.setValue("view/threshold", float(value))

    @staticmethod
    def workspace_key(workspace: str | os.PathLike[str]) -> str:
        """A short stable key of a workspace folder for per-workspace settings."""
        # Paths may contain characters QSettings treats specially ('/', '\\'); hash them.
        return hashlib.sha1(str(Path(workspace).resolve()).encode("utf-8", "surrogatepass")).hexdigest()[:16]

    def camera(self, workspace: str | os.PathLike[str]) -> dict | None:
        """Saved camera state of ``workspace`` (see ``GraphScene.camera_state``)."""
        data = self._get_json(f"camera/{self.workspace_key(workspace)}", None)
        return data if isinstance(data, dict) else None

    def set_camera(self, workspace: str | os.PathLike[str], state: dict | None) -> None:
        if state:
            try:
                self._set_json(f"camera/{self.workspace_key(workspace)}", state)
            except (TypeError, ValueError):  # a camera state with numpy values: store what JSON can
                self._set_json(f"camera/{self.workspace_key(workspace)}", json.loads(json.dumps(state, default=float)))

    # ------------------------------------------------------------------ window
    def save_window(self, window: QMainWindow, state: QByteArray | None = None, version: int = 0) -> None:
        """Remember the window's geometry and its docks/toolbars layout.

        ``state`` is the layout to store (default: the window's present one;
        the main window passes the one from before *graph only*), ``version``
        the layout version :meth:`restore_window` must be asked for.
        """
        self.q.setValue("window/geometry", window.saveGeometry())
        self.q.setValue("window/state", state if state is not None else window.saveState(version))

    def restore_window(self, window: QMainWindow, version: int = 0) -> bool:
        """Restore geometry and dock layout; returns whether a saved dock layout of ``version`` was restored.

        A layout saved with another version (an older default) is ignored, so the window keeps the
        default arrangement it was built with; the geometry is restored either way.
        """
        geom, state = self.q.value("window/geometry"), self.q.value("window/state")
        if isinstance(geom, QByteArray) and not geom.isEmpty():
            window.restoreGeometry(geom)
        return isinstance(state, QByteArray) and not state.isEmpty() and window.restoreState(state, version)

    def clear_window(self) -> None:
        """Forget the saved geometry and layout (View ▸ Reset Layout also resets the window at once)."""
        self.q.remove("window")

    # ------------------------------------------------------------------ one-time notices
    def flag(self, name: str) -> bool:
        """A boolean remembered between runs, e.g. ``"told/reload_window"``."""
        return str(self.q.value(f"flags/{name}", "false")).lower() in ("true", "1")

    def set_flag(self, name: str, value: bool = True) -> None:
        self.q.setValue(f"flags/{name}", "true" if value else "false")
