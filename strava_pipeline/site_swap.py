"""Swap a freshly built folder in for the one being served, so that a reader (or a `kill -9` at any moment) only
ever sees the old folder or the new one, whole.

On Linux the two folders are exchanged in one step (renameat2 with RENAME_EXCHANGE); elsewhere the old one is renamed
aside and the new one into its place, and a folder left aside by a kill between those two renames is put back by
`recover` before the next swap."""

import ctypes
import errno
import os
import shutil
from pathlib import Path

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two existing paths; False when the system cannot (no renameat2, or not supported)."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(a), None, str(b))


def aside(site: Path) -> Path:
    return site.with_name(site.name + ".old")


def recover(site: Path) -> None:
    """A kill between the two renames of a swap without exchange leaves the old folder aside: put it back."""
    old = aside(site)
    if old.is_dir() and not site.exists():
        old.rename(site)


def swap_in(fresh: Path, site: Path) -> None:
    """Make `fresh` the folder at `site`; the previous one is deleted afterwards."""
    recover(site)
    if site.exists() and _exchange(fresh, site):
        shutil.rmtree(fresh, ignore_errors=True)  # now the previous site
        return
    old = aside(site)
    shutil.rmtree(old, ignore_errors=True)
    if site.exists():
        site.rename(old)
    fresh.rename(site)
    shutil.rmtree(old, ignore_errors=True)
