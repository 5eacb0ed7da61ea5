"""HTTP side of the fake: a keep-alive ThreadingHTTPServer, routing, auth, rate limits, faults and the endpoints."""

from __future__ import annotations

import json
import re
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from strava_pipeline.fake_api import errors
from strava_pipeline.fake_api.faults import Faults
from strava_pipeline.fake_api.oauth import TokenStore, normalize_scope
from strava_pipeline.fake_api.ratelimit import ServerRateLimiter, Usage
from strava_pipeline.fake_api.requestlog import RequestLog, RequestLogEntry
from strava_pipeline.fake_api.streams import render_streams

API_PREFIX = "/api/v3"
ADMIN_PREFIX = "/__fake__"
JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"
CACHE_CONTROL = ("Cache-Control", "max-age=0, private, must-revalidate")


class FakeBackend(Protocol):
    """What the HTTP side needs of the fake: FakeStrava (fake.py) has it. A protocol rather than an import keeps the
    dependency one way (fake.py starts this server; this module does not know fake.py)."""

    clock: Any  # FakeClock (the admin endpoints set it) or SystemClock
    faults: Faults
    header_case: str
    streams_without_ratelimit_headers: bool
    _data: Any  # the first athlete: GeneratedAthlete or ReplayAthlete
    _tokens: TokenStore
    _limiter: ServerRateLimiter
    _log: RequestLog

    @property
    def usage(self) -> Usage: ...

    @property
    def log(self) -> list[RequestLogEntry]: ...

    def set_usage(self, read_15min=None, read_daily=None, overall_15min=None, overall_daily=None) -> Usage: ...
    def counts(self) -> Any: ...
    def reset_log(self) -> None: ...
    def issue_refresh_token(self, scope: str = ...) -> str: ...
    def issue_authorization_code(self, scope: str = ...) -> str: ...
    def revoke_all_tokens(self) -> None: ...
    def expire_access_tokens(self) -> None: ...
    def activities(self, visible_only: bool = True) -> list[dict]: ...
    def dataset(self, athlete_id: int | None) -> Any: ...

    @property
    def athlete_ids(self) -> list[int]: ...


PER_PAGE_DEFAULT = 30
PER_PAGE_MAX = 200


@dataclass
class Request:
    method: str
    path: str
    query: dict  # name -> list of values
    headers: object  # email.message.Message (case-insensitive get)
    body: bytes = b""

    def param(self, name: str) -> str | None:
        vals = self.query.get(name)
        return vals[0] if vals else None

    def form(self) -> dict:
        """Parameters from the query string, overridden by a form-encoded or JSON body."""
        out = {k: v[0] for k, v in self.query.items() if v}
        if self.body:
            ctype = (self.headers.get("Content-Type") or "").lower()
            text = self.body.decode("utf-8", "replace")
            if "json" in ctype or text.lstrip().startswith("{"):
                try:
                    data = json.loads(text)
                    if isinstance(data, dict):
                        out.update({k: str(v) if not isinstance(v, str) else v for k, v in data.items()})
                except ValueError:
                    pass
            else:
                out.update({k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items() if v})
        return out


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = JSON_TYPE
    headers: list = field(default_factory=list)
    drop: bool = False  # close the connection without answering


def json_response(status: int, obj, headers: list | None = None) -> Response:
    body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(status, body, JSON_TYPE, [CACHE_CONTROL] + list(headers or []))


class BadParam(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _int_param(req: Request, name: str) -> int | None:
    raw = req.param(name)
    if raw is None or raw == "":
        return None
    if not re.fullmatch(r"[+-]?\d+", raw.strip()):
        raise BadParam(name)
    return int(raw)


# ---------------------------------------------------------------------------------------------------- API
@dataclass
class Ctx:
    fake: FakeBackend
    req: Request
    now: float
    scope: str
    match: dict
    data: Any  # the dataset of the athlete the access token belongs to

    @property
    def read_all(self) -> bool:
        return "activity:read_all" in self.scope.split(",")

    def activity_scope_error(self) -> Response | None:
        scopes = self.scope.split(",")
        if "activity:read" in scopes or "activity:read_all" in scopes:
            return None
        return json_response(401, errors.missing_permission("activity:read_permission"))


def _activity(ctx: Ctx):
    try:
        activity_id = int(ctx.match["id"])
    except ValueError:
        return None
    return ctx.data.lookup(activity_id, ctx.now, ctx.read_all)


def h_athlete(ctx: Ctx) -> Response:
    return json_response(200, ctx.data.athlete(ctx.now))


def h_athlete_zones(ctx: Ctx) -> Response:
    if "profile:read_all" not in ctx.scope.split(","):
        return json_response(401, errors.missing_permission("profile:read_permission"))
    return json_response(200, ctx.data.athlete_zones())


def h_stats(ctx: Ctx) -> Response:
    try:
        athlete_id = int(ctx.match["id"])
    except ValueError:
        return json_response(404, errors.not_found("Athlete"))
    if athlete_id != ctx.data.athlete_id:
        return json_response(403, errors.FORBIDDEN_ATHLETE)
    return json_response(200, ctx.data.stats(ctx.now))


def h_gear(ctx: Ctx) -> Response:
    gear = ctx.data.gear(ctx.match["id"], ctx.now)
    if gear is None:
        return json_response(404, errors.not_found("Gear"))
    return json_response(200, gear)


def h_activities(ctx: Ctx) -> Response:
    err = ctx.activity_scope_error()
    if err:
        return err
    try:
        after = _int_param(ctx.req, "after")
        before = _int_param(ctx.req, "before")
        page = _int_param(ctx.req, "page")
        per_page = _int_param(ctx.req, "per_page")
    except BadParam as e:
        return json_response(400, errors.bad_request(e.name))
    page = page if page and page > 0 else 1
    per_page = per_page if per_page and per_page > 0 else PER_PAGE_DEFAULT
    per_page = min(per_page, PER_PAGE_MAX)
    items = ctx.data.listing(ctx.now, ctx.read_all, after, before, page, per_page)
    return json_response(200, items)


def _readable_activity(ctx: Ctx):
    """The activity of the path if the token may read it: (record, None), else (None, the 401/404 response)."""
    err = ctx.activity_scope_error()
    if err:
        return None, err
    rec = _activity(ctx)
    if rec is None:
        return None, json_response(404, errors.not_found("Activity"))
    return rec, None


def h_activity(ctx: Ctx) -> Response:
    rec, refusal = _readable_activity(ctx)
    if refusal:
        return refusal
    return json_response(200, ctx.data.detail(rec))


def h_streams(ctx: Ctx) -> Response:
    rec, refusal = _readable_activity(ctx)
    if refusal:
        return refusal
    data = ctx.data
    keys = [k.strip() for v in ctx.req.query.get("keys", []) for k in v.split(",") if k.strip()]
    key_by_type = (ctx.req.param("key_by_type") or "").lower() == "true"
    recorded = getattr(data, "recorded_streams", lambda _id: None)(rec.id)
    if recorded is not None and set(keys) <= {"distance"} and key_by_type:
        # exactly what was recorded for this activity (the recording was made without keys)
        return json_response(200, recorded)
    streams = data.streams_for(rec)
    if streams is None:
        # a manual activity has no file, hence no streams
        return json_response(404, errors.not_found("Activity"))
    return json_response(200, render_streams(streams, keys, key_by_type))


def h_laps(ctx: Ctx) -> Response:
    rec, refusal = _readable_activity(ctx)
    if refusal:
        return refusal
    return json_response(200, ctx.data.laps_for(rec))


def h_zones(ctx: Ctx) -> Response:
    rec, refusal = _readable_activity(ctx)
    if refusal:
        return refusal
    return json_response(200, ctx.data.zones_for(rec))


API_ROUTES: list[tuple[str, re.Pattern, str, Callable[[Ctx], Response]]] = [
    ("GET", re.compile(r"/athlete"), "/athlete", h_athlete),
    ("GET", re.compile(r"/athlete/zones"), "/athlete/zones", h_athlete_zones),
    ("GET", re.compile(r"/athlete/activities"), "/athlete/activities", h_activities),
    ("GET", re.compile(r"/athletes/(?P<id>[^/]+)/stats"), "/athletes/{id}/stats", h_stats),
    ("GET", re.compile(r"/gear/(?P<id>[^/]+)"), "/gear/{id}", h_gear),
    ("GET", re.compile(r"/activities/(?P<id>[^/]+)"), "/activities/{id}", h_activity),
    ("GET", re.compile(r"/activities/(?P<id>[^/]+)/streams"), "/activities/{id}/streams", h_streams),
    ("GET", re.compile(r"/activities/(?P<id>[^/]+)/laps"), "/activities/{id}/laps", h_laps),
    ("GET", re.compile(r"/activities/(?P<id>[^/]+)/zones"), "/activities/{id}/zones", h_zones),
]


def match_api(method: str, sub: str):
    for m, pattern, template, handler in API_ROUTES:
        found = pattern.fullmatch(sub)
        if found:
            return template, (handler if m == method else None), found.groupdict()
    return None, None, {}


def bearer_token(req: Request) -> str | None:
    auth = req.headers.get("Authorization") or ""
    parts = auth.split(None, 1)
    if len(parts) == 2 and parts[0].lower() == "bearer":
        return parts[1].strip()
    return req.param("access_token")


def handle_api(fake: FakeBackend, req: Request, now: float, sub: str, over_limit: bool) -> Response:
    template, handler, groups = match_api(req.method, sub)
    if over_limit:
        return json_response(429, errors.RATE_LIMITED)
    state, scope, athlete_id = fake._tokens.authenticate_athlete(bearer_token(req))
    if state == "expired":
        return json_response(401, errors.AUTH_EXPIRED)
    if state != "ok":
        return json_response(401, errors.AUTH_INVALID)
    if handler is None:
        return json_response(404, errors.UNKNOWN_ROUTE)
    return handler(Ctx(fake, req, now, scope or "", groups, fake.dataset(athlete_id)))


# ---------------------------------------------------------------------------------------------------- OAuth
def handle_oauth(fake: FakeBackend, req: Request) -> Response:
    tokens = fake._tokens
    if req.path == "/oauth/token" and req.method == "POST":
        p = req.form()
        if not tokens.check_client(p.get("client_id", ""), p.get("client_secret", "")):
            return json_response(400, errors.INVALID_CLIENT)
        grant = p.get("grant_type")
        if grant == "authorization_code":
            res = tokens.exchange_code(p.get("code", ""))
            if res is None:
                return json_response(400, errors.INVALID_CODE)
            return json_response(
                200,
                {
                    "token_type": "Bearer",
                    "expires_at": res["expires_at"],
                    "expires_in": res["expires_in"],
                    "refresh_token": res["refresh_token"],
                    "access_token": res["access_token"],
                    "athlete": fake.dataset(res["athlete_id"]).athlete_summary(),
                },
            )
        if grant == "refresh_token":
            res = tokens.refresh(p.get("refresh_token", ""))
            if res is None:
                return json_response(400, errors.INVALID_REFRESH)
            return json_response(
                200,
                {
                    "token_type": "Bearer",
                    "access_token": res["access_token"],
                    "expires_at": res["expires_at"],
                    "expires_in": res["expires_in"],
                    "refresh_token": res["refresh_token"],
                },
            )
        return json_response(400, errors.bad_request("grant_type"))
    if req.path == "/oauth/authorize" and req.method == "GET":
        p = req.form()
        if p.get("client_id", "") != tokens.client_id:
            return json_response(400, errors.INVALID_CLIENT)
        redirect = p.get("redirect_uri")
        if not redirect:
            return json_response(400, errors.bad_request("redirect_uri"))
        # the user approves at once; the code carries the scopes they granted
        # who is signed in: the first athlete, or (a fake-only parameter) the one named by athlete_id
        signed_in = int(p["athlete_id"]) if (p.get("athlete_id") or "").isdigit() else None
        if signed_in is not None and signed_in not in fake.athlete_ids:
            return json_response(400, errors.bad_request("athlete_id"))
        code = tokens.issue_authorization_code(p.get("scope") or "read", signed_in)
        granted = normalize_scope(p.get("scope") or "read")
        parts = urlsplit(redirect)
        extra = urlencode({"state": p.get("state", ""), "code": code, "scope": granted}, safe=",:")
        query = f"{parts.query}&{extra}" if parts.query else extra
        location = urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
        return Response(302, b"", HTML_TYPE, [("Location", location)])
    if req.path == "/oauth/deauthorize" and req.method == "POST":
        token = bearer_token(req) or req.form().get("access_token")
        if not tokens.deauthorize(token):
            return json_response(401, errors.AUTH_INVALID)
        return json_response(200, {"access_token": token})
    return json_response(404, errors.UNKNOWN_ROUTE)


OAUTH_ROUTES = {
    "/oauth/token": "/oauth/token",
    "/oauth/authorize": "/oauth/authorize",
    "/oauth/deauthorize": "/oauth/deauthorize",
}


# ---------------------------------------------------------------------------------------------------- faults
def fault_5xx(status: int) -> Response:
    if status == 500:
        return json_response(500, {"message": "Internal Server Error", "errors": []})
    reason = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}.get(status, "Server Error")
    html = (
        f"<html><head><title>{status} {reason}</title></head><body><h1>{status} {reason}</h1>"
        f"<p>The server is temporarily unable to service your request.</p></body></html>"
    )
    return Response(status, html.encode(), HTML_TYPE)


def fault_html() -> Response:
    html = (
        "<!DOCTYPE html><html><head><title>Wi-Fi login</title></head><body>"
        "<h1>Welcome to Hotel Wi-Fi</h1><p>Please accept the terms of use to continue.</p>"
        "<form method='post'><button>Accept</button></form></body></html>"
    )
    return Response(200, html.encode(), HTML_TYPE)


# ---------------------------------------------------------------------------------------------------- dispatch
def dispatch(fake: FakeBackend, req: Request) -> Response:
    if req.path == ADMIN_PREFIX or req.path.startswith(ADMIN_PREFIX + "/"):
        return handle_admin(fake, req)  # not rate limited, not logged
    now = fake.clock.now()
    is_api = req.path == API_PREFIX or req.path.startswith(API_PREFIX + "/")
    sub = req.path[len(API_PREFIX) :] if is_api else ""
    over_limit = False
    usage = None
    if is_api:
        template = match_api(req.method, sub)[0]
        route = f"{req.method} {template or sub}"
        # every API request counts before it is checked, so a rejected one uses budget too
        over_limit, usage = fake._limiter.hit(req.method == "GET")
    elif req.path.startswith("/oauth/"):
        route = f"{req.method} {OAUTH_ROUTES.get(req.path, req.path)}"
    else:
        route = f"{req.method} {req.path}"
    fault = fake.faults.take(req.path, is_api)
    resp: Response | None = None
    rate_headers = is_api
    if fault is not None:
        if fault.kind == "drop":
            resp = Response(0, drop=True)
        elif fault.kind == "slow":
            time.sleep(fault.delay)  # real seconds: the client's timeout is what is being tested
        elif fault.kind == "5xx":
            resp = fault_5xx(fault.status)
        elif fault.kind == "html":
            resp = fault_html()
            rate_headers = False  # a captive portal or proxy page, not Strava
    if resp is None:
        if is_api:
            resp = handle_api(fake, req, now, sub, over_limit)
        elif req.path.startswith("/oauth/"):
            resp = handle_oauth(fake, req)
        else:
            resp = json_response(404, errors.UNKNOWN_ROUTE)
        if fault is not None and fault.kind == "truncate":
            resp = Response(200, resp.body[: len(resp.body) // 2], resp.content_type, list(resp.headers))
    if rate_headers and usage is not None and not resp.drop:
        if not (fake.streams_without_ratelimit_headers and route.endswith("/streams")):
            resp.headers.extend(fake._limiter.headers(usage, fake.header_case))
    fake._log.add(
        now, req.method, req.path, {k: v[0] for k, v in req.query.items() if v}, 0 if resp.drop else resp.status, route
    )
    return resp


def handle_admin(fake: FakeBackend, req: Request) -> Response:
    """Test controls for a client running in another process."""
    sub = req.path[len(ADMIN_PREFIX) :]
    try:
        body = json.loads(req.body.decode("utf-8")) if req.body.strip() else {}
        if not isinstance(body, dict):
            raise ValueError("body must be a JSON object")
        if sub == "/clock":
            if req.method == "POST":
                if "advance" in body:
                    fake.clock.advance(float(body["advance"]))
                elif "set" in body:
                    fake.clock.set(float(body["set"]))
                else:
                    raise ValueError('expected {"advance": seconds} or {"set": epoch}')
            return json_response(200, {"now": fake.clock.now()})
        if sub == "/faults":
            if req.method == "POST":
                if body.get("clear"):
                    fake.faults.clear()
                else:
                    fake.faults.add(
                        body["kind"],
                        int(body.get("count", 1)),
                        body.get("path"),
                        int(body.get("status", 503)),
                        float(body.get("delay", 2.0)),
                    )
            return json_response(200, {"pending": [f.__dict__ for f in fake.faults.pending]})
        if sub == "/usage":
            if req.method == "POST":
                fake.set_usage(**{k: int(v) for k, v in body.items()})
            return json_response(200, fake.usage.__dict__)
        if sub == "/log":
            return json_response(200, [e._asdict() for e in fake.log])
        if sub == "/reset_log" and req.method == "POST":
            fake.reset_log()
            return json_response(200, {"ok": True})
        if sub == "/counts":
            return json_response(200, dict(fake.counts()))
        if sub == "/tokens" and req.method == "POST":
            action = body.get("action", "issue_refresh_token")
            scope = body.get("scope") or None
            if action == "issue_refresh_token":
                return json_response(
                    200, {"refresh_token": fake.issue_refresh_token(**({"scope": scope} if scope else {}))}
                )
            if action == "issue_authorization_code":
                return json_response(
                    200, {"code": fake.issue_authorization_code(**({"scope": scope} if scope else {}))}
                )
            if action == "expire_access_tokens":
                fake.expire_access_tokens()
                return json_response(200, {"ok": True})
            if action == "revoke_all":
                fake.revoke_all_tokens()
                return json_response(200, {"ok": True})
            raise ValueError(f"unknown action {action!r}")
        if sub == "/activities":
            visible_only = (req.param("visible_only") or "true").lower() != "false"
            return json_response(200, fake.activities(visible_only=visible_only))
    except (KeyError, ValueError, TypeError, AttributeError) as e:
        return json_response(400, {"error": f"{type(e).__name__}: {e}"})
    return json_response(404, {"error": f"no admin endpoint {req.method} {req.path}"})


# ---------------------------------------------------------------------------------------------------- server
class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: requests.Session reuses the connection
    timeout = 60  # idle keep-alive connections are closed after this

    def version_string(self) -> str:
        return "FakeBackend/1.0"

    def date_time_string(self, timestamp=None) -> str:
        # the Date header follows the fake's clock: a client may align its rate-limit windows on it
        return formatdate(self.server.app.clock.now() if timestamp is None else timestamp, usegmt=True)

    def setup(self) -> None:
        super().setup()
        # answers go out in one write; without NODELAY, Nagle + delayed ACK would add ~40 ms per request
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format, *args) -> None:  # noqa: A002
        pass  # request lines can carry tokens in the query: never print them

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.send_error(400, "bad Content-Length")
            return
        body = self.rfile.read(length) if length > 0 else b""
        req = Request(self.command, url.path, parse_qs(url.query, keep_blank_values=True), self.headers, body)
        try:
            resp = dispatch(self.server.app, req)
        except Exception:  # a bug in the fake must show up as a 500, not a hung client
            traceback.print_exc(file=sys.stderr)
            resp = json_response(500, {"message": "Internal Server Error (fake)", "errors": []})
        self._send(resp)

    def _send(self, resp: Response) -> None:
        if resp.drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        try:
            self.send_response(resp.status)
            self.send_header("Content-Type", resp.content_type)
            self.send_header("Content-Length", str(len(resp.body)))
            for name, value in resp.headers:
                self.send_header(name, value)
            self._headers_buffer.append(b"\r\n")
            if self.command != "HEAD":
                self._headers_buffer.append(resp.body)
            self.flush_headers()  # status line, headers and body in one write
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. its timeout during a "slow" fault)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _dispatch


class FakeHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, app: FakeBackend) -> None:
        self.app = app
        self._conns: set = set()
        self._conns_lock = threading.Lock()
        self.connections_accepted = 0
        super().__init__(address, _Handler)

    def track(self, conn, alive: bool) -> None:
        with self._conns_lock:
            if alive:
                self._conns.add(conn)
                self.connections_accepted += 1
            else:
                self._conns.discard(conn)

    def close_all(self) -> None:
        """Hang up on idle keep-alive connections so their handler threads end with the server."""
        with self._conns_lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
