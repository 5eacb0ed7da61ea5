"""FakeStrava: a faithful fake of Strava API v3 on 127.0.0.1 for tests and the demo mode (the public object)."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

from strava_pipeline.clock import SystemClock
from strava_pipeline.fake_api.data import AthleteSpec, GeneratedAthlete
from strava_pipeline.fake_api.faults import Faults
from strava_pipeline.fake_api.oauth import DEFAULT_SCOPE, TokenStore
from strava_pipeline.fake_api.ratelimit import HEADER_NAMES, RateLimits, ServerRateLimiter, Usage
from strava_pipeline.fake_api.requestlog import RequestLog, RequestLogEntry
from strava_pipeline.fake_api.server import API_PREFIX, FakeHTTPServer


class NotStarted(AttributeError, RuntimeError):
    """URLs exist only once the server runs (an AttributeError, so getattr(fake, "base_url", None) works)."""


# activity ids of the n-th athlete start this far after the first's: no two athletes share an activity id
ATHLETE_ID_SPACING = 1_000_000


class FakeStrava:
    """Start with start() (or use as a context manager); see the package docstring for the behaviour.

    `athletes=[AthleteSpec, ...]` serves several athletes of one app (a club, a coach): each has their own OAuth
    grants and data, all share the app's one rate-limit budget. `athlete` is then ignored; the first spec is the
    default athlete of the helpers that take an optional athlete_id."""

    def __init__(
        self,
        athlete: AthleteSpec | str = AthleteSpec(),
        clock=None,
        limits: RateLimits = RateLimits(),
        state_file: Path | None = None,
        client_id: str = "demo",
        client_secret: str = "demo-secret",
        host: str = "127.0.0.1",
        port: int = 0,
        header_case: str = "docs",
        streams_without_ratelimit_headers: bool = False,
        athletes: list[AthleteSpec] | None = None,
    ) -> None:
        if header_case not in HEADER_NAMES:
            raise ValueError(f"header_case must be one of {sorted(HEADER_NAMES)}")
        self.clock = clock if clock is not None else SystemClock()
        if athletes:
            if not all(isinstance(a, AthleteSpec) for a in athletes):
                raise TypeError("athletes must be AthleteSpec objects")
            datasets = [GeneratedAthlete(a, self.clock, i * ATHLETE_ID_SPACING) for i, a in enumerate(athletes)]
            self._data = datasets[0]
        elif isinstance(athlete, str):
            if athlete != "replay":
                raise ValueError('athlete must be an AthleteSpec or "replay"')
            from strava_pipeline.fake_api.replay import ReplayAthlete

            self._data = ReplayAthlete(self.clock)
        elif isinstance(athlete, AthleteSpec):
            self._data = GeneratedAthlete(athlete, self.clock)
        else:
            raise TypeError('athlete must be an AthleteSpec or "replay"')
        if not athletes:
            datasets = [self._data]
        self._datasets = {d.athlete_id: d for d in datasets}
        if len(self._datasets) != len(datasets):
            raise ValueError("two athletes have the same seed: give each AthleteSpec its own seed")
        self.limits = limits
        self.header_case = header_case
        self.streams_without_ratelimit_headers = bool(streams_without_ratelimit_headers)
        self.client_id = str(client_id)
        self.client_secret = str(client_secret)
        self.host = host
        self.port = int(port)
        self._limiter = ServerRateLimiter(limits, self.clock)
        self._tokens = TokenStore(
            self.clock,
            self.client_id,
            self.client_secret,
            self._data.athlete_id,
            Path(state_file) if state_file is not None else None,
        )
        self.faults = Faults()
        self._log = RequestLog()
        self._server: FakeHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._root: str | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> str:
        """Serve on a background thread; returns the API base URL (http://127.0.0.1:PORT/api/v3)."""
        if self._server is not None:
            raise RuntimeError("FakeStrava is already running")
        self._server = FakeHTTPServer((self.host, self.port), self)
        host, port = self._server.server_address[:2]
        self.port = port
        self._root = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"fake-strava-{port}", daemon=True
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.close_all()
        server.server_close()
        if thread is not None:
            thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> FakeStrava:
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _url(self, path: str) -> str:
        if self._root is None:
            raise NotStarted("FakeStrava is not started: call start() first")
        return self._root + path

    @property
    def base_url(self) -> str:
        return self._url(API_PREFIX)

    @property
    def token_url(self) -> str:
        return self._url("/oauth/token")

    @property
    def authorize_url(self) -> str:
        return self._url("/oauth/authorize")

    @property
    def deauthorize_url(self) -> str:
        return self._url("/oauth/deauthorize")

    @property
    def admin_url(self) -> str:
        return self._url("/__fake__")

    # ------------------------------------------------------------------ OAuth helpers
    def issue_refresh_token(self, scope: str = DEFAULT_SCOPE, athlete_id: int | None = None) -> str:
        """A valid refresh token, as if the user (default: the first athlete) had authorized the app with `scope`."""
        return self._tokens.issue_refresh_token(scope, self._known(athlete_id))

    def issue_authorization_code(self, scope: str = DEFAULT_SCOPE, athlete_id: int | None = None) -> str:
        """A one-time code for grant_type=authorization_code (default: the first athlete's)."""
        return self._tokens.issue_authorization_code(scope, self._known(athlete_id))

    def revoke_athlete(self, athlete_id: int) -> None:
        """Like one athlete who deauthorized the app: their tokens stop working, the others' do not."""
        self._tokens.revoke_athlete(self._known(athlete_id))

    def revoke_all_tokens(self) -> None:
        """Like a user who deauthorized the app: every refresh and access token stops working."""
        self._tokens.revoke_all()

    def expire_access_tokens(self) -> None:
        """Every access token issued so far is expired from now on."""
        self._tokens.expire_access_tokens()

    # ------------------------------------------------------------------ rate limits, log
    @property
    def usage(self) -> Usage:
        return self._limiter.usage()

    def set_usage(self, read_15min=None, read_daily=None, overall_15min=None, overall_daily=None) -> Usage:
        """Budget already used in the current windows (by "another app" of the same client)."""
        return self._limiter.set_usage(
            overall_15min=overall_15min, overall_daily=overall_daily, read_15min=read_15min, read_daily=read_daily
        )

    @property
    def log(self) -> list[RequestLogEntry]:
        return self._log.entries()

    def counts(self) -> Counter:
        """Requests per route template, e.g. counts()["GET /activities/{id}/streams"]."""
        return self._log.counts()

    @property
    def count_429(self) -> int:
        return self._log.count_status(429)

    def reset_log(self) -> None:
        self._log.reset()

    # ------------------------------------------------------------------ the athletes
    @property
    def athlete_id(self) -> int:
        return self._data.athlete_id

    @property
    def athlete_ids(self) -> list[int]:
        return list(self._datasets)

    def _known(self, athlete_id: int | None) -> int | None:
        if athlete_id is not None and int(athlete_id) not in self._datasets:
            raise ValueError(f"no athlete {athlete_id} on this fake (athletes: {self.athlete_ids})")
        return athlete_id

    def dataset(self, athlete_id: int | None = None):
        """The data of one athlete (default: the first)."""
        return self._data if athlete_id is None else self._datasets[int(athlete_id)]

    def activities(self, visible_only: bool = True, athlete_id: int | None = None) -> list[dict]:
        """Summaries (copies), newest first; visible = started by the clock's now and not deleted."""
        return self.dataset(athlete_id).all_summaries(self.clock.now(), visible_only)

    def add_activity(self, athlete_id: int | None = None, **overrides) -> dict:
        """A new activity (generated like the others; fields given here win). Default: finished a minute ago."""
        return self.dataset(athlete_id).add(self.clock.now(), overrides)

    def update_activity(self, activity_id: int, **fields) -> dict:
        """Edit fields as a user would (name, type, private, gear_id, start_date, description, ...)."""
        return self._owner(activity_id).update(activity_id, fields)

    def delete_activity(self, activity_id: int) -> None:
        self._owner(activity_id).delete(activity_id)

    def _owner(self, activity_id: int):
        """The dataset holding this activity (the first athlete's when none does: it raises as before)."""
        return next((d for d in self._datasets.values() if int(activity_id) in d._records), self._data)
