"""Which refresh token a run starts from, what a token file must hold to be used, when an access token is refreshed,
and what the client sends and makes of odd answers: the branches of TokenStore.load, StravaAuth._initial_tokens,
access_token and StravaClient.get that mutation testing found unasserted (RELIABILITY.md). Observed from the outside:
the file on disk and the requests a scripted server sees."""

import json
import os
from pathlib import Path

import pytest
import requests

from strava_pipeline.api.auth import EXPIRY_MARGIN_S, StravaAuth
from strava_pipeline.api.tokens import Tokens, TokenStore, fingerprint
from strava_pipeline.clock import FakeClock
from strava_pipeline.config import StravaConfig, UserError
from tests.support.scripted_http import Answer, ScriptedServer

T0 = 1_795_000_000.0
FAR = int(T0) + 10 * 86400
ANSWER = {"access_token": "fresh-access", "refresh_token": "rotated", "expires_at": FAR}


def auth_with(url: str, path: Path, clock, client_id: str = "123", refresh_token: str | None = "configured"):
    cfg = StravaConfig("http://127.0.0.1:9/api/v3", url, client_id, "top-secret", refresh_token)
    return StravaAuth(cfg, TokenStore(path), requests.Session(), clock)


def stored(path: Path, **fields) -> None:
    data = {
        "client_id": "123",
        "refresh_token": "from-file",
        "access_token": None,
        "expires_at": 0,
        "seeded_from": fingerprint("configured"),
        "athlete_id": 7,
        "scope": "read",
    }
    data.update(fields)
    path.write_text(json.dumps(data))


def refresh_token_sent(tmp_path: Path, client_id: str = "123", refresh_token: str | None = "configured") -> str:
    """The refresh token the run's first token request sends."""
    clock = FakeClock(T0)
    with ScriptedServer([], clock, then=Answer(200, ANSWER)) as server:
        auth = auth_with(server.url + "/oauth/token", tmp_path / "tokens.json", clock, client_id, refresh_token)
        assert auth.access_token() == "fresh-access"
    (request,) = server.seen
    form = dict(pair.split("=", 1) for pair in request.body.decode().split("&"))
    assert form["grant_type"] == "refresh_token"
    return form["refresh_token"]


# ------------------------------------------------------------------------------------------ TokenStore.load


def test_a_whole_token_file_loads_field_for_field(tmp_path):
    path = tmp_path / "tokens.json"
    stored(path, access_token="a", expires_at=FAR, extra="ignored")
    assert TokenStore(path).load() == Tokens("123", "from-file", "a", FAR, fingerprint("configured"), 7, "read")


@pytest.mark.parametrize(
    "content",
    [
        None,  # no file
        "",
        "{",
        "[]",
        '"text"',
        '{"refresh_token": "r"}',  # no client id
        '{"client_id": 123, "refresh_token": "r"}',  # not a string
        '{"client_id": "123", "refresh_token": null}',
        '{"client_id": "123"}',
    ],
)
def test_what_is_not_a_token_file_loads_as_none(tmp_path, content):
    path = tmp_path / "tokens.json"
    if content is not None:
        path.write_text(content)
    assert TokenStore(path).load() is None


def test_an_unreadable_token_file_loads_as_none(tmp_path):
    (tmp_path / "tokens.json").mkdir()  # reading it is an OSError
    assert TokenStore(tmp_path / "tokens.json").load() is None


@pytest.mark.parametrize(
    ("access_token", "expires_at"), [("a", "soon"), ("a", None), ("a", 1.5), (5, FAR), (["a"], FAR)]
)
def test_a_token_file_with_a_bad_access_token_or_expiry_keeps_its_refresh_token(tmp_path, access_token, expires_at):
    path = tmp_path / "tokens.json"
    stored(path, access_token=access_token, expires_at=expires_at)
    tokens = TokenStore(path).load()
    assert (tokens.refresh_token, tokens.access_token, tokens.expires_at) == ("from-file", None, 0)
    assert (tokens.athlete_id, tokens.scope, tokens.client_id) == (7, "read", "123")


def test_a_token_file_with_a_good_access_token_keeps_it(tmp_path):
    path = tmp_path / "tokens.json"
    stored(path, access_token=None, expires_at=FAR)
    tokens = TokenStore(path).load()
    assert (tokens.access_token, tokens.expires_at) == (None, FAR)


def test_save_writes_every_field_owner_only(tmp_path):
    path = tmp_path / "tokens.json"
    tokens = Tokens("123", "r", "a", FAR, "seed", 7, "read")
    TokenStore(path).save(tokens)
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert json.loads(path.read_text()) == {
        "client_id": "123",
        "refresh_token": "r",
        "access_token": "a",
        "expires_at": FAR,
        "seeded_from": "seed",
        "athlete_id": 7,
        "scope": "read",
    }
    assert TokenStore(path).load() == tokens


# ------------------------------------------------------------------------------------------ which refresh token


def test_the_file_wins_when_it_descends_from_the_configured_token(tmp_path):
    stored(tmp_path / "tokens.json")
    assert refresh_token_sent(tmp_path) == "from-file"


def test_a_new_configured_token_wins_over_the_file(tmp_path):
    """The user pasted a new refresh token into secrets.toml: the file descends from the old one."""
    stored(tmp_path / "tokens.json", seeded_from=fingerprint("an older one"))
    assert refresh_token_sent(tmp_path) == "configured"
    saved = json.loads((tmp_path / "tokens.json").read_text())
    # a token seeded from the configuration: its client, its fingerprint, the rotated token
    assert (saved["client_id"], saved["seeded_from"], saved["refresh_token"]) == (
        "123",
        fingerprint("configured"),
        "rotated",
    )


def test_a_token_file_of_an_earlier_version_still_descends_from_the_configured_token(tmp_path):
    """seeded_from as every version so far wrote it (16 hex digits of the SHA-256 of the configured token): another
    length or hash would drop every athlete's rotated token after an upgrade, and the configured one is dead."""
    stored(tmp_path / "tokens.json", seeded_from="20158224750041d6")
    assert refresh_token_sent(tmp_path) == "from-file"


def test_an_exchange_answer_without_a_refresh_token_leaves_nothing_a_later_run_would_use(tmp_path):
    clock = FakeClock(T0)
    answer = {"access_token": "a1", "expires_at": FAR, "athlete": {"id": 7}}
    with ScriptedServer([], clock, then=Answer(200, answer)) as server:
        auth_with(server.url + "/oauth/token", tmp_path / "tokens.json", clock, refresh_token=None).exchange_code("c")
    later = auth_with("http://127.0.0.1:9/oauth/token", tmp_path / "tokens.json", clock, refresh_token=None)
    with pytest.raises(UserError, match="^No Strava refresh token yet: "):
        later.access_token()


def test_a_file_of_another_client_is_not_used(tmp_path):
    stored(tmp_path / "tokens.json", client_id="999")
    assert refresh_token_sent(tmp_path) == "configured"


def test_a_file_with_an_empty_refresh_token_is_not_used(tmp_path):
    stored(tmp_path / "tokens.json", refresh_token="")
    assert refresh_token_sent(tmp_path) == "configured"


def test_without_a_configured_token_the_file_is_used_whatever_it_descends_from(tmp_path):
    stored(tmp_path / "tokens.json", seeded_from=None)
    assert refresh_token_sent(tmp_path, refresh_token=None) == "from-file"


def test_without_a_configured_token_or_a_file_the_run_says_to_authorize(tmp_path):
    auth = auth_with(
        "http://127.0.0.1:9/oauth/token", tmp_path / "data" / "tokens.json", FakeClock(T0), refresh_token=None
    )
    with pytest.raises(UserError) as err:
        auth.access_token()
    # the command is the one to paste for this data dir (tmp_path is outside the project: its absolute path)
    assert str(err.value) == (
        f"No Strava refresh token yet: run `uv run strava.py --data-dir {tmp_path / 'data'} auth`"
        " (or set sources.strava.credentials.refresh_token)."
    )


def test_a_seeded_token_starts_without_an_access_token(tmp_path):
    clock = FakeClock(T0)
    auth = auth_with("http://127.0.0.1:9/oauth/token", tmp_path / "tokens.json", clock)
    assert auth.tokens == Tokens("123", "configured", None, 0, fingerprint("configured"))


# ------------------------------------------------------------------------------------------ when to refresh


@pytest.mark.parametrize(
    ("left_s", "refreshes"),
    [(EXPIRY_MARGIN_S + 1, False), (EXPIRY_MARGIN_S, True), (EXPIRY_MARGIN_S - 1, True), (-10, True)],
)
def test_the_access_token_is_refreshed_within_the_margin_of_its_expiry(tmp_path, left_s, refreshes):
    clock = FakeClock(T0)
    stored(tmp_path / "tokens.json", access_token="current", expires_at=int(T0) + left_s)
    with ScriptedServer([], clock, then=Answer(200, ANSWER)) as server:
        auth = auth_with(server.url + "/oauth/token", tmp_path / "tokens.json", clock)
        assert auth.access_token() == ("fresh-access" if refreshes else "current")
        assert auth.access_token() == ("fresh-access" if refreshes else "current")  # once, then the new one holds
    assert len(server.seen) == (1 if refreshes else 0)
    assert auth.token_requests == len(server.seen)


def test_a_file_without_an_access_token_is_refreshed_first(tmp_path):
    stored(tmp_path / "tokens.json", access_token=None, expires_at=FAR)
    assert refresh_token_sent(tmp_path) == "from-file"


# ------------------------------------------------------------------------------------------ the client's exchanges


def client_for(url: str, clock, **options):
    from strava_pipeline.api.client import StravaClient
    from strava_pipeline.api.ratelimit import Budget

    cfg = StravaConfig(url, url + "/oauth/token", "123", "top-secret", "configured")
    auth = StravaAuth(cfg, TokenStore(Path("/nonexistent/tokens.json")), requests.Session(), clock)
    auth._tokens = Tokens("123", "configured", access_token="access-0", expires_at=FAR)
    return StravaClient(url + "/", auth, Budget(clock=clock), requests.Session(), clock, **options)


def test_a_request_carries_the_bearer_token_the_query_and_no_double_slash():
    clock = FakeClock(T0)
    with ScriptedServer([], clock, then=Answer(200, [{"id": 1}])) as server:
        client = client_for(server.url, clock)
        assert client.get("/athlete/activities", {"page": 2, "per_page": 200}) == [{"id": 1}]
        assert client.get("/athlete/activities", {"page": 3}, label="listing") == [{"id": 1}]
    assert [s.path for s in server.seen] == ["/athlete/activities?page=2&per_page=200", "/athlete/activities?page=3"]
    assert client.requests_by_path == {"GET /athlete/activities": 1, "listing": 1}
    assert client.requests_sent == 2 and client.reached_server


def test_the_headers_sent(monkeypatch):
    clock = FakeClock(T0)
    sent = []
    with ScriptedServer([], clock, then=Answer(200, {})) as server:
        client = client_for(server.url, clock)
        real = client.session.get

        def spy(url, **kwargs):
            sent.append((url, kwargs))
            return real(url, **kwargs)

        monkeypatch.setattr(client.session, "get", spy)
        client.get("/athlete")
    ((url, kwargs),) = sent
    assert url == server.url + "/athlete"
    assert kwargs["headers"] == {"Authorization": "Bearer access-0", "Accept": "application/json"}
    assert kwargs["timeout"] == 60.0 and kwargs["params"] is None


def test_a_401_refreshes_once_and_asks_again_with_the_new_token():
    clock = FakeClock(T0)
    token = {"access_token": "access-1", "refresh_token": "r1", "expires_at": FAR}
    script = [Answer(401, {"message": "Authorization Error"}), Answer(200, token), Answer(200, {"id": 5})]
    with ScriptedServer(script, clock) as server:
        client = client_for(server.url, clock)
        client.auth.store.save = lambda tokens: None  # nothing on disk in this test
        assert client.get("/athlete") == {"id": 5}
    assert [s.path for s in server.seen] == ["/athlete", "/oauth/token", "/athlete"]


def test_a_second_401_is_one_sentence_to_authorize_again():
    clock = FakeClock(T0)
    token = {"access_token": "access-1", "refresh_token": "r1", "expires_at": FAR}
    script = [Answer(401, {}), Answer(200, token), Answer(401, {})]
    with ScriptedServer(script, clock, then=Answer(200, {})) as server:
        client = client_for(server.url, clock)
        client.auth.store.save = lambda tokens: None
        with pytest.raises(UserError) as err:
            client.get("/athlete")
    assert str(err.value).startswith("Strava keeps refusing the access token (HTTP 401): ")
    assert len(server.seen) == 3


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (Answer(422, b"x" * 300), "GET /athlete answered HTTP 422: " + "x" * 200),
        (Answer(400, b"bad"), "GET /athlete answered HTTP 400: bad"),
        (Answer(200, b"{trunc"), "GET /athlete returned a truncated or invalid JSON body"),
        (
            Answer(200, b"<html>maintenance</html>", {"Content-Type": "text/html"}),
            "GET /athlete returned an HTML page",
        ),
        (Answer(200, b"<html>", {"Content-Type": None}), "GET /athlete returned a truncated or invalid JSON body"),
    ],
)
def test_an_answer_the_client_cannot_use_is_an_item_error_word_for_word(answer, message):
    from strava_pipeline.api.client import ItemError

    clock = FakeClock(T0)
    with ScriptedServer([], clock, then=answer) as server:
        client = client_for(server.url, clock)
        with pytest.raises(ItemError) as err:
            client.get("/athlete")
    assert str(err.value) == message and len(server.seen) == 1


def test_a_5xx_then_an_answer_returns_it_and_notes_the_headers():
    clock = FakeClock(T0)
    headers = {"X-ReadRateLimit-Limit": "100,1000", "X-ReadRateLimit-Usage": "7,70"}
    with ScriptedServer([Answer(502, {})], clock, then=Answer(200, [1], headers)) as server:
        client = client_for(server.url, clock)  # no rng given: a default one draws the backoff
        assert client.get("/athlete/activities") == [1]
    assert len(server.seen) == 2 and clock.now() - T0 <= 1.0  # the first backoff is at most 1 s
    counter = client.budget.counters["read"]
    assert (counter.usage_15, counter.usage_day) == (7, 70)


def test_an_api_nobody_answers_is_one_sentence_after_every_attempt():
    from strava_pipeline.api.client import MAX_ATTEMPTS

    clock = FakeClock(T0)
    client = client_for("http://127.0.0.1:9", clock)  # nothing listens on port 9
    with pytest.raises(UserError) as err:
        client.get("/athlete")
    assert str(err.value) == (
        "Cannot reach the Strava API at http://127.0.0.1:9 (ConnectionError): check sources.strava.base_url and "
        "your network."
    )
    assert client.requests_sent == MAX_ATTEMPTS and not client.reached_server
    assert 0 < clock.now() - T0 <= 1 + 2 + 4 + 8 + 16  # full-jitter pauses between the attempts


def test_an_invalid_base_url_is_one_sentence():
    clock = FakeClock(T0)
    client = client_for("http://[::1", clock)
    with pytest.raises(UserError) as err:
        client.get("/athlete")
    assert str(err.value) == ("sources.strava.base_url 'http://[::1' is not a valid URL: fix it in .dlt/config.toml.")


def test_answers_in_the_journal_are_kept_apart_per_athlete(tmp_path):
    from strava_pipeline.api.journal import ResponseJournal

    clock = FakeClock(T0)
    journal = ResponseJournal(tmp_path / "journal.sqlite", clock)
    with ScriptedServer([Answer(200, {"who": "a"}), Answer(200, {"who": "b"})], clock) as server:
        first = client_for(server.url, clock, journal=journal, key_prefix="athlete/1:")
        second = client_for(server.url, clock, journal=journal, key_prefix="athlete/2:")
        assert first.get("/athlete") == {"who": "a"}
        assert second.get("/athlete") == {"who": "b"}  # not athlete 1's answer from the journal
        assert first.get("/athlete") == {"who": "a"}  # replayed: no third request
    assert len(server.seen) == 2


# ------------------------------------------------------------------------------------------ refusals and pauses


@pytest.mark.parametrize(
    ("errors", "grant", "rejected"),
    [
        ([{"resource": "Athlete", "field": "refresh_token", "code": "invalid"}], "refresh", True),
        ([{"resource": "Application", "field": "client_id", "code": "invalid"}], "refresh", False),
        ([{"resource": "AuthorizationCode", "field": "code", "code": "invalid"}], "code", False),
    ],
)
def test_only_a_refused_athlete_token_is_a_token_rejection(tmp_path, errors, grant, rejected):
    """TokenRejected (this athlete must authorize again; the others go on) only for the athlete's own token."""
    from strava_pipeline.api.auth import TokenRejected

    clock = FakeClock(T0)
    with ScriptedServer([], clock, then=Answer(400, {"message": "Bad Request", "errors": errors})) as server:
        auth = auth_with(server.url + "/oauth/token", tmp_path / "tokens.json", clock)
        with pytest.raises(UserError) as err:
            auth.refresh() if grant == "refresh" else auth.exchange_code("c")
    assert isinstance(err.value, TokenRejected) is rejected
    assert len(server.seen) == 1


def test_an_unreachable_token_endpoint_pauses_1_2_4_seconds_then_says_so(tmp_path):
    clock = FakeClock(T0)
    auth = auth_with("http://127.0.0.1:9/oauth/token", tmp_path / "tokens.json", clock)
    with pytest.raises(UserError) as err:
        auth.refresh()
    assert clock.now() - T0 == 1 + 2 + 4
    assert auth.token_requests == 3
    assert str(err.value) == (
        "Cannot reach the Strava token endpoint http://127.0.0.1:9/oauth/token (ConnectionError): "
        "check sources.strava.credentials.access_token_url and your network."
    )


# ------------------------------------------------------------------------ what a user reads while it retries


def warnings_of_the_client(caplog) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == "strava_pipeline.api.client" and r.levelname == "WARNING"
    ]


def test_each_5xx_is_one_warning_with_the_status_and_the_attempt(caplog):
    clock = FakeClock(T0)
    script = [Answer(502, {}), Answer(503, {})]
    with ScriptedServer(script, clock, then=Answer(200, {"id": 1})) as server:
        client = client_for(server.url, clock)
        with caplog.at_level("WARNING", logger="strava_pipeline.api.client"):
            assert client.get("/activities/1", label="GET /activities/{id}") == {"id": 1}
    assert warnings_of_the_client(caplog) == [
        "GET /activities/{id} answered 502, attempt 1/5",
        "GET /activities/{id} answered 503, attempt 2/5",
    ]


def test_each_lost_connection_is_one_warning_with_the_cause_and_the_attempt(caplog):
    clock = FakeClock(T0)
    client = client_for("http://127.0.0.1:9", clock)  # nothing listens on port 9
    with caplog.at_level("WARNING", logger="strava_pipeline.api.client"), pytest.raises(UserError):
        client.get("/athlete")
    assert warnings_of_the_client(caplog) == [
        f"GET /athlete failed (ConnectionError), attempt {n}/5" for n in range(1, 6)
    ]


def test_a_429_wait_says_why_and_a_second_429_stops_with_the_same_reason():
    from strava_pipeline.api.ratelimit import BudgetStop

    clock = FakeClock(T0)
    assert T0 % 900 == 400  # 400 s into a quarter hour: 500 s to its end, plus the one-second safety
    waits = []
    with ScriptedServer([], clock, then=Answer(429, {"message": "Rate Limit Exceeded"})) as server:
        client = client_for(server.url, clock)
        client.budget.on_wait = lambda s, reason: (waits.append((s, reason)), clock.sleep(s))
        with pytest.raises(BudgetStop) as stop:
            client.get("/athlete")
    assert waits == [(501.0, "Strava answered 429 Too Many Requests")]
    assert (stop.value.reason, stop.value.daily) == ("Strava answered 429 Too Many Requests", True)
    assert len(server.seen) == 2


def test_every_attempt_counts_as_a_read_for_its_label_even_without_rate_limit_headers():
    clock = FakeClock(T0)
    with ScriptedServer([Answer(502, {}), Answer(503, {})], clock, then=Answer(200, {"id": 1})) as server:
        client = client_for(server.url, clock)
        client.get("/activities/1", label="detail")
        client.get("/activities/1/laps", label="laps")
    assert client.requests_by_path == {"detail": 3, "laps": 1} and client.requests_sent == 4
    counted = {k: (c.usage_15, c.usage_day) for k, c in client.budget.counters.items()}
    assert counted == {"overall": (4, 4), "read": (4, 4)}  # GETs are reads: the read budget is the smaller one
