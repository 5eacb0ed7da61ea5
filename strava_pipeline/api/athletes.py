"""The athletes a data dir imports: one token file each, all mode 600, found on disk at the start of every run.

The first athlete keeps the data dir's single token file (<data dir>/strava_tokens.json, seeded from
sources.strava.credentials.refresh_token or written by the first `strava.py auth`), so a data dir made before there
were several athletes is already in the new layout: nothing is moved, and its incremental cursor, journal keys and
token rotation go on as before. Every other athlete `strava.py auth` adds gets <data dir>/athletes/<id>/tokens.json.
"""

import os
from dataclasses import dataclass, replace
from pathlib import Path

from strava_pipeline import settings
from strava_pipeline.api.tokens import Tokens, TokenStore
from strava_pipeline.config import StravaConfig, UserError, strava_command
from strava_pipeline.private_files import private_dir

ATHLETES_DIR = "athletes"
ATHLETE_TOKENS = "tokens.json"


@dataclass
class AthleteSlot:
    """One authorized athlete: where their tokens live and whom they belong to (None: not known yet)."""

    store: TokenStore
    athlete_id: int | None
    first: bool  # the data dir's original token file

    @property
    def label(self) -> str:
        return f"athlete {self.athlete_id}" if self.athlete_id is not None else "the configured athlete"

    @property
    def resource_name(self) -> str:
        """The dlt resource that lists this athlete's activities: its name keys the incremental cursor (`after`)
        in the pipeline state, so each athlete has their own; the first keeps the name it always had."""
        return "activities" if self.first else f"activities_{self.athlete_id}"

    @property
    def key_prefix(self) -> str:
        """Prefix of this athlete's keys in the response journal (/athlete means another athlete for each token)."""
        return "" if self.first else f"athlete:{self.athlete_id}:"

    def config(self, cfg: StravaConfig) -> StravaConfig:
        """The configured refresh token seeds the first athlete only; the others live on their own token files."""
        return cfg if self.first else replace(cfg, refresh_token=None)

    def remember(self, tokens: Tokens, athlete_id: int) -> None:
        """The first athlete's id, learned from GET /athlete, kept in their token file for --athlete and `auth`."""
        self.athlete_id = int(athlete_id)
        if tokens.athlete_id != self.athlete_id:
            tokens.athlete_id = self.athlete_id
            self.store.save(tokens)


def first_store(data_dir: Path) -> TokenStore:
    return TokenStore(data_dir / settings.TOKENS_FILE)


def athlete_store(data_dir: Path, athlete_id: int) -> TokenStore:
    return TokenStore(data_dir / ATHLETES_DIR / str(int(athlete_id)) / ATHLETE_TOKENS)


def discover(data_dir: Path, cfg: StravaConfig | None = None) -> list[AthleteSlot]:
    """Every authorized athlete, the first one first, then the others by id."""
    first = first_store(data_dir)
    first_tokens = first.load()
    first_id = first_tokens.athlete_id if first_tokens else None
    others = []
    folder = data_dir / ATHLETES_DIR
    if folder.is_dir():
        for path in sorted(folder.glob(f"*/{ATHLETE_TOKENS}"), key=lambda p: (len(p.parent.name), p.parent.name)):
            if path.parent.name.isdigit() and int(path.parent.name) != first_id:
                others.append(AthleteSlot(TokenStore(path), int(path.parent.name), first=False))
    has_first = first.path.exists() or (cfg is not None and bool(cfg.refresh_token)) or not others
    return ([AthleteSlot(first, first_id, first=True)] if has_first else []) + others


def select(slots: list[AthleteSlot], athlete_id: int | None, data_dir: Path) -> list[AthleteSlot]:
    """All slots, or the one of --athlete ID."""
    if athlete_id is None:
        return slots
    chosen = [s for s in slots if s.athlete_id == athlete_id]
    if not chosen:
        known = ", ".join(str(s.athlete_id) for s in slots if s.athlete_id is not None) or "none known yet"
        raise UserError(
            f"Athlete {athlete_id} is not authorized in {data_dir} (authorized: {known}): add them with "
            f"`{strava_command(data_dir, 'auth')}`."
        )
    return chosen


def authorized(data_dir: Path) -> bool:
    """Whether any athlete has a token file in this data dir."""
    return first_store(data_dir).path.exists() or any((data_dir / ATHLETES_DIR).glob(f"*/{ATHLETE_TOKENS}"))


def store_for_new_athlete(data_dir: Path, athlete_id: int | None, configured: bool = False) -> TokenStore:
    """Where `strava.py auth` keeps the tokens of the athlete who just approved the app: the first token file when
    it is that athlete's (authorizing again) or there is none yet and no refresh token is configured (the configured
    one is the first athlete's), else a file of their own."""
    first = first_store(data_dir)
    current = first.load()
    if athlete_id is None or (current is None and not configured) or (current and current.athlete_id == athlete_id):
        return first
    store = athlete_store(data_dir, athlete_id)
    private_dir(store.path.parent)
    return store


def pending_store(data_dir: Path) -> TokenStore:
    """Where a code exchange writes before the athlete is known (then moved by `settle`)."""
    private_dir(data_dir)  # the data dir first: mkdir(parents=True) would give it the umask's mode
    private_dir(data_dir / ATHLETES_DIR)
    return TokenStore(data_dir / ATHLETES_DIR / "new-tokens.json")


def settle(pending: TokenStore, data_dir: Path, configured: bool = False) -> Path:
    """Move the tokens of a fresh code exchange to the athlete's file (atomic rename, the mode stays 600)."""
    tokens = pending.load()
    target = store_for_new_athlete(data_dir, tokens.athlete_id if tokens else None, configured)
    os.replace(pending.path, target.path)
    return target.path
