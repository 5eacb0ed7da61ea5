"""The token file: rotated refresh token and current access token, written atomically with mode 600."""

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path


def fingerprint(secret: str | None) -> str | None:
    """A short hash that tells whether secrets.toml got a new refresh token, without storing it twice."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16] if secret else None


@dataclass
class Tokens:
    client_id: str
    refresh_token: str
    access_token: str | None = None
    expires_at: int = 0
    seeded_from: str | None = None  # fingerprint of the configured refresh token these descend from
    athlete_id: int | None = None
    scope: str | None = None


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


class TokenStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> Tokens | None:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            # a damaged file is no reason to stop: the configured refresh token is used instead
            return None
        if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("client_id", "refresh_token")):
            return None  # valid JSON but not a token file (an editor or another program wrote it)
        tokens = Tokens(**{k: data.get(k) for k in Tokens.__dataclass_fields__})
        if not isinstance(tokens.expires_at, int) or not isinstance(tokens.access_token, str | None):
            tokens.access_token, tokens.expires_at = None, 0  # refreshed before first use
        return tokens

    def save(self, tokens: Tokens) -> None:
        write_private(self.path, json.dumps(asdict(tokens), indent=1))
