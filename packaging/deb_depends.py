"""Compute the ``Depends:`` line of the .deb from the bundle's ELF files.

Usage: ``python3 packaging/deb_depends.py STAGE_DIR`` prints one line, e.g.
``libc6 (>= 2.35), libfontconfig1 (>= 2.12.6), ..., libgl1-mesa-dri``.

``STAGE_DIR`` is the package's root (it holds ``DEBIAN/`` and ``opt/...``).
``dpkg-shlibdeps`` reads every ELF file in it, finds each library it links to
(libraries inside the stage are the package's own and give no dependency) and
names the Debian package and the lowest version that provides it. To that,
the packages whose libraries are only loaded by name at run time
(:data:`bundle.LINUX_DLOPENED_PACKAGES`) are added. A library that no
installed package provides fails the build: the bundle would not start.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bundle  # noqa: E402

#: A stage holds a few hundred ELF files; more means the wrong folder was given.
MAX_ELF_FILES = 5000


def elf_files(root: Path) -> list[Path]:
    """Regular (not symlinked) ELF files under ``root``, sorted."""
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_symlink() or not path.is_file() or "DEBIAN" in path.relative_to(root).parts:
            continue
        with open(path, "rb") as fh:
            if fh.read(4) == b"\x7fELF":
                found.append(path)
        if len(found) > MAX_ELF_FILES:
            raise SystemExit(f"error: more than {MAX_ELF_FILES} ELF files under {root}; is it the stage folder?")
    return found


def shlibs_depends(stage: Path, files: list[Path]) -> list[str]:
    """Run ``dpkg-shlibdeps`` on ``files`` and return its dependencies, one per item."""
    search = sorted({str(f.parent) for f in files})
    with tempfile.TemporaryDirectory() as tmp:
        # dpkg-shlibdeps wants a source package's debian/control in its working folder.
        (Path(tmp) / "debian").mkdir()
        (Path(tmp) / "debian" / "control").write_text(
            f"Source: {bundle.DIST_NAME}\n\nPackage: {bundle.DIST_NAME}\nArchitecture: amd64\n")
        cmd = ["dpkg-shlibdeps", "-O", *(f"-l{d}" for d in search), *(str(f) for f in files)]
        proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        errors = [line for line in proc.stderr.splitlines() if "error" in line]
        raise SystemExit("\n".join(errors or proc.stderr.splitlines()[-5:]) or "error: dpkg-shlibdeps failed")
    m = re.search(r"^shlibs:Depends=(.*)$", proc.stdout, re.M)
    if not m:
        raise SystemExit("error: dpkg-shlibdeps printed no shlibs:Depends line")
    return [d.strip() for d in m.group(1).split(",") if d.strip()]


def depends_line(stage: Path) -> str:
    """The full ``Depends:`` value for the stage folder."""
    if not (stage / "DEBIAN").is_dir():
        raise SystemExit(f"error: {stage} has no DEBIAN folder (dpkg-shlibdeps uses it to tell the package's own "
                         "libraries from the system's)")
    files = elf_files(stage)
    if not files:
        raise SystemExit(f"error: no ELF files under {stage}")
    deps = shlibs_depends(stage, files)
    names = {re.split(r"[\s(]", d, maxsplit=1)[0] for d in deps}
    deps += [p for p in bundle.LINUX_DLOPENED_PACKAGES if p not in names]
    return ", ".join(sorted(deps))


def main(argv: list[str]) -> int:
    """Print the ``Depends:`` value; returns the exit status."""
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    print(depends_line(Path(argv[0]).resolve()))  # dpkg-shlibdeps runs in a temporary folder
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
