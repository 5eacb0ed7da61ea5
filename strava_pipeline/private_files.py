"""Files and folders only their owner can read: the data dir (0700) and what holds secrets or state (0600)."""

import os
import tempfile
from pathlib import Path


def private_dir(path: Path) -> Path:
    """Create a folder readable by its owner only (0700) when it does not exist yet: the data dir holds the tokens
    and the athlete's data. An existing folder keeps the mode its owner gave it."""
    if not path.is_dir():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path, 0o700)  # mkdir's mode passes through the umask
    return path


def write_private(path: Path, text: str, durable: bool = True) -> None:
    """Write text to path atomically, readable by the owner only (0600) from the first byte.

    durable: fsync before the rename (tokens: a rotated refresh token must survive a power cut)."""
    private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
