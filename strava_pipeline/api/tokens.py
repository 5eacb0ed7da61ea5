"""The token file: rotated refresh token and current access token, written atomically with mode 600."""

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from strava_pipeline.private_files import write_private


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
