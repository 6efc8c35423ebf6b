"""``renameat2(2)`` through ctypes: swap two names atomically, or rename without replacing.

``RENAME_EXCHANGE`` lets the write protocol put the new file in place while
the old one stays linked under the temporary name. It can then check what it
swapped out (was it still the file it read? did anybody write to it?) and,
on a mismatch, swap back, so nothing another program wrote is ever left in
an unlinked inode. ``RENAME_NOREPLACE`` creates a file only if the name is
still free. Both return ``False`` where the system or the file system does
not support them (not Linux, an old kernel, a file system without the
flag); callers then fall back to ``os.replace``.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import sys

RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2
_AT_FDCWD = -100
#: ``syscall`` numbers of renameat2, for a libc older than glibc 2.28 that has no wrapper.
_SYSCALL_NR = {"x86_64": 316, "aarch64": 276, "riscv64": 276, "i686": 353, "i386": 353,
               "armv7l": 382, "armv8l": 382, "ppc64le": 357, "ppc64": 357, "s390x": 347}
#: errno values meaning "this kernel or file system cannot do it", not "it failed".
_UNSUPPORTED = {errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP}

_call = None
if sys.platform.startswith("linux"):
    try:
        _libc = ctypes.CDLL(None, use_errno=True)
        _fn = getattr(_libc, "renameat2", None)
        if _fn is not None:
            _fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
            _call = lambda a, b, flags: _fn(_AT_FDCWD, a, _AT_FDCWD, b, flags)  # noqa: E731
        elif platform.machine() in _SYSCALL_NR:  # pragma: no cover - glibc < 2.28
            _nr = _SYSCALL_NR[platform.machine()]
            _sys = _libc.syscall
            _call = lambda a, b, flags: _sys(ctypes.c_long(_nr), ctypes.c_int(_AT_FDCWD), a,  # noqa: E731
                                             ctypes.c_int(_AT_FDCWD), b, ctypes.c_uint(flags))
    except (OSError, AttributeError):  # pragma: no cover
        _call = None


def _renameat2(src: str, dst: str, flags: int) -> bool:
    if _call is None:
        return False
    if _call(os.fsencode(src), os.fsencode(dst), flags) == 0:
        return True
    err = ctypes.get_errno()
    if err in _UNSUPPORTED:
        return False
    raise OSError(err, os.strerror(err), dst)


def exchange(a: str, b: str) -> bool:
    """Atomically swap the files named ``a`` and ``b`` (both must exist).

    Returns
    -------
    bool
        ``True`` when swapped; ``False`` when unsupported here (nothing happened).

    Raises
    ------
    OSError
        Any other failure (``ENOENT`` when one name is gone, ``EACCES`` ...).
    """
    return _renameat2(a, b, RENAME_EXCHANGE)


def rename_noreplace(src: str, dst: str) -> bool:
    """Rename ``src`` to ``dst`` only if ``dst`` does not exist.

    Returns
    -------
    bool
        ``True`` when renamed; ``False`` when unsupported here (nothing happened).

    Raises
    ------
    FileExistsError
        ``dst`` exists.
    OSError
        Any other failure.
    """
    return _renameat2(src, dst, RENAME_NOREPLACE)


__all__ = ["exchange", "rename_noreplace"]
