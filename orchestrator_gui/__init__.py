"""Loop Orchestrator: a spherical thought graph over a Roo Code agent-loop workspace.

``__version__`` has one source, ``pyproject.toml`` (``[project] version``):
read from the file itself in a source checkout, else from the installed
package's metadata (which the build copied from that file).
"""

from __future__ import annotations

from pathlib import Path

#: The distribution's name in ``pyproject.toml`` and in the installed metadata.
DISTRIBUTION = "orchestrator-gui"
#: Largest ``pyproject.toml`` read for the version (bytes); a bigger one is not ours.
_PYPROJECT_LIMIT = 256 * 1024
#: Shown when neither source is there (a bundle built without the package's metadata).
UNKNOWN_VERSION = "0+unknown"


def _checkout_version(pyproject: Path) -> str | None:
    """``[project] version`` of ``pyproject`` when it describes this package; ``None`` otherwise."""
    import tomllib

    try:
        if not pyproject.is_file() or pyproject.stat().st_size > _PYPROJECT_LIMIT:
            return None
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    project = data.get("project")
    if not isinstance(project, dict) or project.get("name") != DISTRIBUTION:
        return None
    version = project.get("version")
    return version if isinstance(version, str) and 0 < len(version) <= 64 else None


def read_version(pyproject: Path | None = None) -> str:
    """The package's version.

    A source checkout's ``pyproject.toml`` (beside the package folder) wins
    over the installed metadata, because an editable install's metadata is
    only refreshed by reinstalling: after a version bump it would still name
    the old one. An installed wheel has no such file and uses its metadata.

    Parameters
    ----------
    pyproject : Path, optional
        The file to try first (default: ``../pyproject.toml`` from this package).

    Returns
    -------
    str
        The version, or :data:`UNKNOWN_VERSION`.
    """
    found = _checkout_version(pyproject or Path(__file__).resolve().parent.parent / "pyproject.toml")
    if found is not None:
        return found
    from importlib import metadata  # ~10 ms to import: only when there is no checkout

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return UNKNOWN_VERSION


__version__ = read_version()
