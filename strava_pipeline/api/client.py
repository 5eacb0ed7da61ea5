"""HTTP client for Strava API v3: budget before every request, one token refresh on 401, bounded retries."""

import logging
import random
from typing import Any

import orjson
import requests

from strava_pipeline.api.auth import StravaAuth, TokenRejected, reauthorize
from strava_pipeline.api.journal import ResponseJournal, request_key
from strava_pipeline.api.ratelimit import Budget, BudgetStop
from strava_pipeline.config import UserError, strava_command

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 60.0


class ItemError(Exception):
    """One resource could not be fetched this run (bad or truncated body, repeated 5xx): retried on a later run."""


class ServerFailing(ItemError):
    """Every attempt ended in a 5xx or a lost connection: Strava (or the way to it) is failing, not this resource."""


class NotFound(Exception):
    """404: the activity (or its streams) does not exist on Strava."""


class StravaClient:
    def __init__(
        self,
        base_url: str,
        auth: StravaAuth,
        budget: Budget,
        session: requests.Session,
        clock,
        timeout: float = 60.0,
        rng: random.Random | None = None,
        journal: ResponseJournal | None = None,
        key_prefix: str = "",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.budget = budget
        self.session = session
        self.clock = clock
        self.timeout = timeout
        self.rng = rng or random.Random()
        # answers fetched by a run that did not commit them: replayed instead of asked again
        self.journal = journal
        self.key_prefix = key_prefix  # whose answers these are in the journal: several athletes ask the same paths
        self.requests_by_path: dict[str, int] = {}
        self.reached_server = False

    @property
    def requests_sent(self) -> int:
        return self.budget.sent

    def _backoff(self, attempt: int) -> None:
        # full jitter: spreads retries of many clients, bounded by the cap
        self.clock.sleep(self.rng.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**attempt)))

    def get(self, path: str, params: dict | None = None, label: str | None = None) -> Any:
        """GET base_url+path and return the decoded JSON.

        Raises BudgetStop (no budget now), NotFound (404), ItemError (this resource failed, try later) or
        UserError (something only the user can fix: credentials, base URL, access).
        """
        url = self.base_url + path
        label = label or f"GET {path}"
        key = self.key_prefix + request_key(path, params)
        if self.journal is not None:
            stored = self.journal.replay(key)
            if stored is not None:
                status, body = stored
                if status == 404:
                    raise NotFound(label)
                return orjson.loads(body)
        refreshed = False
        waited_after_429 = False
        last_problem = "no answer"
        for attempt in range(MAX_ATTEMPTS):
            self.budget.before_request(is_read=True)
            headers = {"Authorization": f"Bearer {self.auth.access_token()}", "Accept": "application/json"}
            self.budget.note_sent(is_read=True)
            self.requests_by_path[label] = self.requests_by_path.get(label, 0) + 1
            try:
                resp = self.session.get(url, params=params, headers=headers, timeout=self.timeout)
            except requests.exceptions.InvalidURL:
                raise UserError(
                    f"sources.strava.base_url {self.base_url!r} is not a valid URL: fix it in .dlt/config.toml."
                ) from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                last_problem = type(exc).__name__
                log.warning("%s failed (%s), attempt %d/%d", label, last_problem, attempt + 1, MAX_ATTEMPTS)
                self._backoff(attempt)
                continue
            self.reached_server = True
            self.budget.update(resp.headers)
            status = resp.status_code
            if status == 401:
                if refreshed:
                    raise TokenRejected(
                        f"Strava keeps refusing the access token (HTTP 401): {reauthorize(self.auth.data_dir)}."
                    )
                refreshed = True
                self.auth.refresh()
                continue
            if status == 429:
                if waited_after_429 or self.budget.exhausted_daily():
                    raise BudgetStop("Strava answered 429 Too Many Requests", daily=True)
                waited_after_429 = True
                self.budget.wait_for_next_window("Strava answered 429 Too Many Requests")
                continue
            if status >= 500:
                last_problem = f"HTTP {status}"
                log.warning("%s answered %s, attempt %d/%d", label, status, attempt + 1, MAX_ATTEMPTS)
                self._backoff(attempt)
                continue
            if status == 404:
                if self.journal is not None:
                    self.journal.record(key, 404, b"")
                raise NotFound(label)
            if status == 403:
                raise UserError(_forbidden_message(resp, self.auth.data_dir))
            if status >= 400:
                raise ItemError(f"{label} answered HTTP {status}: {resp.text[:200]}")
            try:
                decoded = orjson.loads(resp.content)
            except ValueError:
                kind = (
                    "an HTML page"
                    if "html" in resp.headers.get("Content-Type", "")
                    else "a truncated or invalid JSON body"
                )
                raise ItemError(f"{label} returned {kind}") from None
            if self.journal is not None:
                # on disk before the caller can send the next request: a crash from here on costs no request
                self.journal.record(key, status, resp.content)
            return decoded
        if not self.reached_server:
            raise UserError(
                f"Cannot reach the Strava API at {self.base_url} ({last_problem}):"
                " check sources.strava.base_url and your network."
            )
        raise ServerFailing(f"{label} failed {MAX_ATTEMPTS} times ({last_problem})")


def _forbidden_message(resp: requests.Response, data_dir) -> str:
    text = resp.text[:500]
    if "inactive" in text.lower():
        return (
            "Strava says the API application is inactive (HTTP 403): API access now needs a developer subscription; "
            f"import your bulk export with `{strava_command(data_dir, 'import-archive', 'PATH')}` instead."
        )
    return f"Strava refused access (HTTP 403): authorize with all scopes ({reauthorize(data_dir)})."
