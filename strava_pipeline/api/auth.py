"""OAuth with Strava: refresh-token grant with rotation persisted, the code exchange behind `strava.py auth`."""

from collections.abc import Callable
from urllib.parse import parse_qs, urlencode, urlparse

import requests

from strava_pipeline import settings
from strava_pipeline.api.tokens import Tokens, TokenStore, fingerprint
from strava_pipeline.config import StravaConfig, UserError, strava_command

# refresh a little before expiry so a request never leaves with a token that dies in flight
EXPIRY_MARGIN_S = 120
REDIRECT_URI = "http://localhost/exchange_token"


class TokenRejected(UserError):
    """Strava refused this athlete's refresh or access token (revoked, replaced): only `strava.py auth` helps."""


def reauthorize(data_dir) -> str:
    """The hint to authorize again, with the exact command for the data dir that holds the tokens."""
    return f"run `{strava_command(data_dir, 'auth')}` to authorize the app again"


def authorize_url(cfg: StravaConfig, redirect_uri: str = REDIRECT_URI) -> str:
    """The page where the athlete approves the app; its host is the one of access_token_url."""
    parts = urlparse(cfg.access_token_url)
    base = f"{parts.scheme}://{parts.netloc}{parts.path.rsplit('/', 1)[0]}/authorize"
    query = {
        "client_id": cfg.client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "approval_prompt": "force",
        "scope": settings.SCOPES,
    }
    return f"{base}?{urlencode(query, safe=',:/')}"


def code_from_paste(pasted: str) -> str:
    """Accept the bare code or the whole redirect URL Strava sent the browser to."""
    pasted = pasted.strip()
    if not pasted:
        raise UserError("Nothing was pasted: paste the code or the whole URL of the page Strava redirected to.")
    if "://" in pasted or pasted.startswith(("localhost", "?")) or "code=" in pasted:
        url = pasted if "://" in pasted else "http://x/" + pasted.lstrip("/")
        if "?" not in url:
            url = "http://x/?" + pasted  # the query alone: code=...&scope=...
        query = parse_qs(urlparse(url).query)
        if "error" in query:
            raise UserError(
                f"Strava reported '{query['error'][0]}': approve the app on the authorize page and try again."
            )
        if "code" not in query:
            raise UserError("The pasted URL has no code= parameter: copy the full address of the page after approving.")
        return query["code"][0]
    return pasted


class StravaAuth:
    """Hands out a valid access token; refreshes when it expires or the API says 401; saves every rotation at once."""

    def __init__(
        self,
        cfg: StravaConfig,
        store: TokenStore,
        session: requests.Session,
        clock,
        timeout: float = 30.0,
        on_refresh: Callable[[], None] | None = None,
        data_dir=None,
    ) -> None:
        self.cfg = cfg
        self.store = store
        self.data_dir = data_dir or store.path.parent  # the hints name it
        self.session = session
        self.clock = clock
        self.timeout = timeout
        self.token_requests = 0
        self.on_refresh = on_refresh
        self._tokens: Tokens | None = None

    @property
    def tokens(self) -> Tokens:
        if self._tokens is None:
            self._tokens = self._initial_tokens()
        return self._tokens

    def _initial_tokens(self) -> Tokens:
        stored = self.store.load()
        seed = fingerprint(self.cfg.refresh_token)
        if (
            stored
            and stored.client_id == self.cfg.client_id
            and stored.refresh_token
            and (self.cfg.refresh_token is None or stored.seeded_from == seed)
        ):
            return stored
        if self.cfg.refresh_token:
            return Tokens(client_id=self.cfg.client_id, refresh_token=self.cfg.refresh_token, seeded_from=seed)
        raise UserError(
            f"No Strava refresh token yet: run `{strava_command(self.data_dir, 'auth')}`"
            " (or set sources.strava.credentials.refresh_token)."
        )

    def access_token(self) -> str:
        if not self.tokens.access_token or self.tokens.expires_at - EXPIRY_MARGIN_S <= self.clock.now():
            self.refresh()
        return self.tokens.access_token

    def refresh(self) -> None:
        body = self._token_request({"grant_type": "refresh_token", "refresh_token": self.tokens.refresh_token})
        self._store(body)

    def exchange_code(self, code: str) -> dict:
        body = self._token_request({"grant_type": "authorization_code", "code": code})
        self._tokens = Tokens(client_id=self.cfg.client_id, refresh_token=body.get("refresh_token") or "")
        self._store(body)
        return body

    def _store(self, body: dict) -> None:
        try:
            self.tokens.access_token = body["access_token"]
            self.tokens.expires_at = int(body["expires_at"])
            # Strava may rotate the refresh token; the old one stops working, so persist before anything else
            self.tokens.refresh_token = body.get("refresh_token") or self.tokens.refresh_token
        except (KeyError, TypeError, ValueError):
            raise UserError(
                f"The token endpoint {self.cfg.access_token_url} answered without a usable token: "
                "check sources.strava.credentials.access_token_url."
            ) from None
        if isinstance(body.get("athlete"), dict) and body["athlete"].get("id") is not None:
            self.tokens.athlete_id = int(body["athlete"]["id"])
        if body.get("scope"):
            self.tokens.scope = str(body["scope"])
        self.tokens.client_id = self.cfg.client_id
        self.tokens.seeded_from = fingerprint(self.cfg.refresh_token)
        self.store.save(self.tokens)
        if self.on_refresh:
            self.on_refresh()

    def _token_request(self, grant: dict) -> dict:
        form = {"client_id": self.cfg.client_id, "client_secret": self.cfg.client_secret, **grant}
        last_error: Exception | None = None
        for attempt in range(3):
            self.token_requests += 1
            try:
                resp = self.session.post(self.cfg.access_token_url, data=form, timeout=self.timeout)
            except requests.RequestException as exc:
                last_error = exc
                self.clock.sleep(2**attempt)
                continue
            if resp.status_code >= 500:
                last_error = RuntimeError(f"HTTP {resp.status_code}")
                self.clock.sleep(2**attempt)
                continue
            if resp.status_code in (400, 401, 403):
                message, revoked = _rejection(resp, grant["grant_type"], self.data_dir)
                raise (TokenRejected if revoked else UserError)(message)
            if resp.status_code != 200:
                raise UserError(
                    f"The token endpoint {self.cfg.access_token_url} answered HTTP {resp.status_code}: "
                    "check sources.strava.credentials.access_token_url."
                )
            try:
                return resp.json()
            except ValueError:
                raise UserError(
                    f"The token endpoint {self.cfg.access_token_url} did not answer with JSON: "
                    "check sources.strava.credentials.access_token_url."
                ) from None
        raise UserError(
            f"Cannot reach the Strava token endpoint {self.cfg.access_token_url} ({type(last_error).__name__}): "
            "check sources.strava.credentials.access_token_url and your network."
        )


def _rejection_message(resp: requests.Response, grant_type: str, data_dir) -> str:
    return _rejection(resp, grant_type, data_dir)[0]


def _rejection(resp: requests.Response, grant_type: str, data_dir) -> tuple[str, bool]:
    """The sentence for a refused token request, and whether it is this athlete's token (not the app) that failed."""
    try:
        errors = resp.json().get("errors") or []
    except ValueError:
        errors = []
    fields = {(e.get("resource"), e.get("field")) for e in errors if isinstance(e, dict)}
    if any(resource == "Application" for resource, _ in fields):
        return (
            "Strava rejected the client id or secret: check sources.strava.credentials.client_id and client_secret "
            "in .dlt/secrets.toml.",
            False,
        )
    if grant_type == "authorization_code":
        return (
            "Strava rejected the authorization code (codes work once and expire quickly):"
            f" run `{strava_command(data_dir, 'auth')}` again.",
            False,
        )
    return f"Strava rejected the refresh token (revoked, or replaced by a newer one): {reauthorize(data_dir)}.", True
