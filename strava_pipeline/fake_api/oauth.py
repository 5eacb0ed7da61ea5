"""OAuth token store: authorization codes, rotating refresh tokens, 6-hour access tokens; optionally kept as JSON."""

from __future__ import annotations

import json
import os
import secrets
import threading
from pathlib import Path

ACCESS_TTL_S = 21600
# a refresh while the access token still has more than this left returns the same access token (as recorded)
KEEP_ACCESS_IF_REMAINING_S = 3600
DEFAULT_SCOPE = "read_all,activity:read_all,profile:read_all"


def normalize_scope(scope: str | None) -> str:
    """Comma-separated scopes as Strava reports them back: "read" is always granted, duplicates dropped."""
    parts = [p.strip() for p in (scope or "").replace(" ", ",").split(",") if p.strip()]
    out = ["read"]
    for p in parts:
        if p not in out:
            out.append(p)
    return ",".join(out)


def _token() -> str:
    # 40 hex characters, like Strava's tokens
    return secrets.token_hex(20)


class TokenStore:
    """All state behind one lock; never logs token values."""

    def __init__(
        self, clock, client_id: str, client_secret: str, athlete_id: int, state_file: Path | None = None
    ) -> None:
        self.clock = clock
        self.client_id = str(client_id)
        self.client_secret = str(client_secret)
        self.athlete_id = int(athlete_id)
        self.state_file = Path(state_file) if state_file is not None else None
        self._lock = threading.Lock()
        # grant id -> {"scope", "refresh_token", "access_token"}: one per user authorization
        self._grants: dict[str, dict] = {}
        # access token -> {"grant", "expires_at"}; older access tokens of a grant stay valid until they expire
        self._access: dict[str, dict] = {}
        self._codes: dict[str, str] = {}
        self._load()

    # --- persistence (demo mode keeps the latest rotated refresh token valid across process runs)
    def _load(self) -> None:
        if self.state_file is None or not self.state_file.exists():
            return
        try:
            data = json.loads(self.state_file.read_text(encoding="utf-8"))
            grants = {str(k): dict(v) for k, v in data.get("grants", {}).items()}
            access = {str(k): dict(v) for k, v in data.get("access_tokens", {}).items()}
        except (OSError, ValueError, AttributeError, TypeError):
            # an unreadable state file is like no file: earlier tokens are simply invalid now
            return
        for grant in grants.values():
            grant.setdefault("athlete_id", self.athlete_id)  # state files from before several athletes
        self._grants = grants
        self._access = {k: v for k, v in access.items() if v.get("grant") in grants}

    def _save(self) -> None:
        if self.state_file is None:
            return
        now = self.clock.now()
        # drop access tokens that expired more than a day ago: they can only ever answer "expired"
        self._access = {
            k: v
            for k, v in self._access.items()
            if v["expires_at"] > now - 86400 or self._grants.get(v["grant"], {}).get("access_token") == k
        }
        data = {"version": 1, "athlete_id": self.athlete_id, "grants": self._grants, "access_tokens": self._access}
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_name(self.state_file.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1)
        os.replace(tmp, self.state_file)

    # --- test / admin helpers
    def _athlete(self, athlete_id: int | None) -> int:
        return self.athlete_id if athlete_id is None else int(athlete_id)

    def issue_refresh_token(self, scope: str = DEFAULT_SCOPE, athlete_id: int | None = None) -> str:
        with self._lock:
            rt = _token()
            self._grants[_token()] = {
                "scope": normalize_scope(scope),
                "refresh_token": rt,
                "access_token": None,
                "athlete_id": self._athlete(athlete_id),
            }
            self._save()
            return rt

    def issue_authorization_code(self, scope: str = DEFAULT_SCOPE, athlete_id: int | None = None) -> str:
        with self._lock:
            code = _token()
            self._codes[code] = (normalize_scope(scope), self._athlete(athlete_id))
            return code

    def revoke_all(self) -> None:
        with self._lock:
            self._grants.clear()
            self._access.clear()
            self._codes.clear()
            self._save()

    def revoke_athlete(self, athlete_id: int) -> None:
        """One athlete deauthorized the app: their tokens stop working, the other athletes' keep working."""
        with self._lock:
            gone = {g for g, v in self._grants.items() if v["athlete_id"] == int(athlete_id)}
            self._grants = {g: v for g, v in self._grants.items() if g not in gone}
            self._access = {k: v for k, v in self._access.items() if v["grant"] not in gone}
            self._save()

    def expire_access_tokens(self) -> None:
        with self._lock:
            now = int(self.clock.now())
            for info in self._access.values():
                info["expires_at"] = min(info["expires_at"], now)
            self._save()

    # --- OAuth endpoints
    def check_client(self, client_id, client_secret) -> bool:
        return str(client_id) == self.client_id and str(client_secret) == self.client_secret

    def _new_access(self, grant_id: str) -> tuple[str, int]:
        tok = _token()
        expires_at = int(self.clock.now()) + ACCESS_TTL_S
        self._access[tok] = {"grant": grant_id, "expires_at": expires_at}
        self._grants[grant_id]["access_token"] = tok
        return tok, expires_at

    def exchange_code(self, code: str) -> dict | None:
        """grant_type=authorization_code: a code works once."""
        with self._lock:
            issued = self._codes.pop(code, None)
            if issued is None:
                return None
            scope, athlete_id = issued
            grant_id = _token()
            rt = _token()
            self._grants[grant_id] = {
                "scope": scope,
                "refresh_token": rt,
                "access_token": None,
                "athlete_id": athlete_id,
            }
            at, expires_at = self._new_access(grant_id)
            self._save()
            return {
                "access_token": at,
                "refresh_token": rt,
                "expires_at": expires_at,
                "expires_in": expires_at - int(self.clock.now()),
                "scope": scope,
                "athlete_id": athlete_id,
            }

    def refresh(self, refresh_token: str) -> dict | None:
        """grant_type=refresh_token: always a new refresh token (the old one dies); access token kept if > 1 h left."""
        with self._lock:
            grant_id = next((g for g, v in self._grants.items() if v["refresh_token"] == refresh_token), None)
            if grant_id is None or not refresh_token:
                return None
            grant = self._grants[grant_id]
            now = int(self.clock.now())
            current = grant.get("access_token")
            info = self._access.get(current) if current else None
            if info is not None and info["expires_at"] - now > KEEP_ACCESS_IF_REMAINING_S:
                at, expires_at = current, info["expires_at"]
            else:
                at, expires_at = self._new_access(grant_id)
            grant["refresh_token"] = _token()
            self._save()
            return {
                "access_token": at,
                "refresh_token": grant["refresh_token"],
                "expires_at": expires_at,
                "expires_in": expires_at - now,
            }

    def authenticate(self, access_token: str | None) -> tuple[str, str | None]:
        """-> ("ok", scope) | ("invalid", None) | ("expired", None)."""
        return self.authenticate_athlete(access_token)[:2]

    def authenticate_athlete(self, access_token: str | None) -> tuple[str, str | None, int | None]:
        """-> ("ok", scope, athlete_id) | ("invalid", None, None) | ("expired", None, None)."""
        if not access_token:
            return "invalid", None, None
        with self._lock:
            info = self._access.get(access_token)
            if info is None or info["grant"] not in self._grants:
                return "invalid", None, None
            if self.clock.now() >= info["expires_at"]:
                return "expired", None, None
            grant = self._grants[info["grant"]]
            return "ok", grant["scope"], grant["athlete_id"]

    def deauthorize(self, access_token: str | None) -> bool:
        """Revokes the whole authorization the token belongs to (all its tokens)."""
        with self._lock:
            info = self._access.get(access_token or "")
            if info is None or info["grant"] not in self._grants or self.clock.now() >= info["expires_at"]:
                return False
            grant_id = info["grant"]
            del self._grants[grant_id]
            self._access = {k: v for k, v in self._access.items() if v["grant"] != grant_id}
            self._save()
            return True
