"""User-facing errors: readable one-line messages in the status bar or a dialog, never a traceback.

Every place in the UI that can fail calls :meth:`ErrorReporter.report`. The
message is derived from the exception (:func:`describe`); the traceback, when
there is one worth keeping, goes to a log file in the user data folder so a
bug report can still include it.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import sqlite3
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, Signal

from orchestrator_gui.problems import ConflictError, FormatError, ReadOnlyError

log = logging.getLogger("orchestrator_gui.ui")

#: Exceptions that describe a user-facing situation; anything else is a bug and gets logged with its traceback.
EXPECTED = (FormatError, OSError, ValueError, KeyError, sqlite3.Error, LookupError)


def describe(exc: BaseException) -> str:
    """One readable sentence for ``exc`` (no traceback, no class paths).

    Parameters
    ----------
    exc : BaseException

    Returns
    -------
    str
    """
    if isinstance(exc, ConflictError):
        return f"{exc.file}: changed on disk by another program; nothing was written. {_tail(exc.message)}"
    if isinstance(exc, ReadOnlyError):
        return f"{exc.file} is read-only here: {exc.message}"
    if isinstance(exc, FormatError):
        return str(exc)
    if isinstance(exc, PermissionError):
        return f"permission denied: {exc.filename or exc}"
    if isinstance(exc, FileNotFoundError):
        return f"not found: {exc.filename or exc}"
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")
    if isinstance(exc, sqlite3.Error):
        return f"graph store error: {exc}"
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0]) if not isinstance(exc.args[0], str) else _strip_quotes(str(exc))
    text = str(exc).strip()
    name = type(exc).__name__
    if not text:
        return f"unexpected {name}"
    return text if isinstance(exc, EXPECTED) else f"{text} ({name})"


def _tail(message: str) -> str:
    # The ConflictError text already says "nothing was written"; keep only the advice after it.
    parts = message.split("nothing was written.", 1)
    return parts[1].strip() if len(parts) == 2 else ""


def _strip_quotes(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"" else text


def log_path() -> Path:
    """Where unexpected errors are logged (``$XDG_STATE_HOME``-like folder under the user data dir)."""
    from orchestrator_gui.demo import user_data_dir

    return user_data_dir() / "logs" / "orchestrator-gui.log"


def _log_exception(exc: BaseException, tb: TracebackType | None = None) -> None:
    try:
        path = log_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"--- {_dt.datetime.now().isoformat(timespec='seconds')} pid {os.getpid()}\n")
            fh.write("".join(traceback.format_exception(type(exc), exc, tb or exc.__traceback__)))
    except OSError:  # logging must never raise in an error path
        pass


class ErrorReporter(QObject):
    """Turns exceptions into messages for the status bar and, when asked, a dialog.

    Signals
    -------
    message(str, int)
        Text and timeout in ms (0 = until replaced), for the status bar.

    Parameters
    ----------
    show_dialog : callable, optional
        ``show_dialog(title, text)``; the main window passes a non-blocking
        message box. Without one, dialog requests go to the status bar only.
    """

    message = Signal(str, int)

    def __init__(self, show_dialog: Callable[[str, str], None] | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.show_dialog = show_dialog
        #: The last reported text, kept for tests and the status bar tooltip.
        self.last: str | None = None

    def report(self, error: BaseException | str, *, context: str = "", dialog: bool = False,
               timeout_ms: int = 10_000) -> str:
        """Show ``error`` readably; returns the text shown.

        Parameters
        ----------
        error : exception or str
        context : str
            What the user was doing, e.g. ``"Saving the schedule"``; prefixed to the message.
        dialog : bool
            Also show a dialog (for errors that need attention).
        timeout_ms : int
            How long the status bar keeps the message.
        """
        if isinstance(error, BaseException):
            text = describe(error)
            if not isinstance(error, EXPECTED):
                _log_exception(error)
                text += f" — details in {log_path()}"
        else:
            text = str(error)
        if context:
            text = f"{context}: {text}"
        self.last = text
        self.message.emit(text, timeout_ms)
        if dialog and self.show_dialog is not None:
            self.show_dialog("Loop Orchestrator", text)
        return text

    def info(self, text: str, timeout_ms: int = 5_000) -> None:
        """Show a plain status message."""
        self.message.emit(text, timeout_ms)

    def guard(self, context: str = "", *, dialog: bool = False) -> _Guard:
        """Context manager reporting any exception raised inside it (and swallowing it)::

            with reporter.guard("Exporting the graph"):
                export_graph(...)
        """
        return _Guard(self, context, dialog)


class _Guard:
    def __init__(self, reporter: ErrorReporter, context: str, dialog: bool) -> None:
        self.reporter, self.context, self.dialog = reporter, context, dialog
        self.failed = False

    def __enter__(self) -> _Guard:
        return self

    def __exit__(self, et: type | None, exc: BaseException | None, tb: TracebackType | None) -> bool:
        if exc is None or not isinstance(exc, Exception):
            return False
        self.failed = True
        self.reporter.report(exc, context=self.context, dialog=self.dialog)
        return True


def install_excepthook(reporter: ErrorReporter) -> None:
    """Route uncaught exceptions (for example from a Qt slot) to ``reporter`` instead of stderr.

    Used by the real application only; tests keep pytest-qt's own hook so a
    bug in a slot fails the test.
    """
    def hook(et: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(et, KeyboardInterrupt):
            sys.__excepthook__(et, exc, tb)
            return
        if isinstance(exc, EXPECTED):  # report() logs the unexpected ones itself
            _log_exception(exc, tb)
        try:
            reporter.report(exc, dialog=not isinstance(exc, EXPECTED))
        except Exception:  # noqa: BLE001 - never recurse into the hook
            pass

    sys.excepthook = hook
