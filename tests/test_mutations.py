"""Tests that each fail on one plausible one-line bug a reviewer tried (RELIABILITY.md lists them): window boundaries,
no wait after a 429, no timeout, the tile privacy guard, the Sail display distance, answers Strava gives on a bad day
(404, 403 "inactive", persistent 5xx, token endpoint 5xx/400) and a damaged or freshly rotated token file."""

import csv
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
import requests
import shapely

from strava_pipeline.api.auth import StravaAuth
from strava_pipeline.api.client import MAX_ATTEMPTS, ItemError, NotFound, ServerFailing, StravaClient
from strava_pipeline.api.ratelimit import WINDOW_S, Budget, BudgetStop, window_start
from strava_pipeline.api.tokens import Tokens, TokenStore
from strava_pipeline.clock import FakeClock
from strava_pipeline.config import StravaConfig, UserError
from tests.conftest import REFERENCE
from tests.support.scripted_http import Answer, ScriptedServer

# 10:00:00 UTC on 2026-11-20, the start of a quarter hour
T0 = datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC).timestamp()
FAR = int(T0) + 10 * 86400


def spent_headers(read_15: int, read_day: int = 300) -> dict:
    return {
        "X-RateLimit-Limit": "200,2000",
        "X-RateLimit-Usage": f"{read_15},{read_day}",
        "X-ReadRateLimit-Limit": "100,1000",
        "X-ReadRateLimit-Usage": f"{read_15},{read_day}",
    }


# ------------------------------------------------------------------------------------------ window boundaries


def test_window_boundaries_are_exact():
    assert window_start(T0 + 14 * 60 + 59) == T0
    assert window_start(T0 + 14 * 60 + 59.999) == T0
    assert window_start(T0 + 15 * 60) == T0 + WINDOW_S
    assert window_start(T0 + 7 * 60 + 31) == T0  # past the middle of the window: still this one


@pytest.mark.parametrize(
    ("at", "expected_wait"),
    [
        (14 * 60 + 59, 2.0),  # one second left in the window, plus the one-second safety
        (7 * 60 + 30, 7 * 60 + 31.0),
        (0, WINDOW_S + 1.0),
    ],
)
def test_wait_for_a_spent_window_ends_one_second_into_the_next(at, expected_wait):
    clock = FakeClock(T0 + at)
    waits = []
    budget = Budget(clock=clock, on_wait=lambda s, r: (waits.append(s), clock.sleep(s)))
    budget.update(spent_headers(100))
    budget.before_request()
    assert waits == [expected_wait]
    assert clock.now() == T0 + WINDOW_S + 1


def test_usage_of_the_last_second_of_a_window_is_forgotten_at_the_boundary():
    clock = FakeClock(T0 + 14 * 60 + 59)
    budget = Budget(clock=clock, wait=False)
    budget.update(spent_headers(100))
    with pytest.raises(BudgetStop):
        budget.before_request()
    clock.set(T0 + 15 * 60)  # xx:15:00 exactly: a new window
    budget.before_request()
    assert budget.counters["read"].usage_15 == 0 and budget.counters["read"].usage_day == 300


def test_usage_seen_at_the_start_of_a_window_still_counts_at_its_end():
    clock = FakeClock(T0)
    budget = Budget(clock=clock, wait=False)
    budget.update(spent_headers(100))
    clock.set(T0 + 14 * 60 + 59)
    with pytest.raises(BudgetStop):
        budget.before_request()


# ------------------------------------------------------------------------------------------ the HTTP client


def make_client(base_url: str, clock, token_url: str = "http://127.0.0.1:9/oauth/token", timeout: float = 5.0):
    """A client whose access token is valid for days (no token request unless a 401 asks for one)."""
    cfg = StravaConfig(base_url, token_url, "123", "top-secret", "refresh-0")
    store = TokenStore(Path("/nonexistent/never-written.json"))
    auth = StravaAuth(cfg, store, requests.Session(), clock, timeout=timeout)
    auth._tokens = Tokens("123", "refresh-0", access_token="access-0", expires_at=FAR)
    budget = Budget(clock=clock)
    return StravaClient(base_url, auth, budget, requests.Session(), clock, timeout=timeout)


def test_a_429_mid_window_waits_for_the_next_window_before_asking_again():
    clock = FakeClock(T0 + 5 * 60)
    # the headers say the window is not spent (another app, or Strava's count ahead of ours): only the 429 tells
    script = [Answer(429, {"message": "Rate Limit Exceeded"}, spent_headers(60)), Answer(200, [{"id": 1}])]
    with ScriptedServer(script, clock) as server:
        client = make_client(server.url, clock)
        assert client.get("/athlete/activities") == [{"id": 1}]
    assert len(server.seen) == 2
    first, second = server.seen
    assert window_start(first.at) == T0
    assert window_start(second.at) == T0 + WINDOW_S  # not a second attempt in the window that said 429


def test_a_second_429_after_waiting_stops_the_run():
    clock = FakeClock(T0 + 5 * 60)
    with ScriptedServer([], clock, then=Answer(429, {"message": "Rate Limit Exceeded"}, spent_headers(60))) as server:
        client = make_client(server.url, clock)
        with pytest.raises(BudgetStop) as stop:
            client.get("/athlete/activities")
    assert stop.value.daily and len(server.seen) == 2


def test_a_slow_api_answer_times_out_and_is_asked_again():
    clock = FakeClock(T0)
    with ScriptedServer([Answer(200, [{"id": "late"}], delay_s=1.5)], clock, then=Answer(200, [{"id": 2}])) as server:
        client = make_client(server.url, clock, timeout=0.3)
        assert client.get("/athlete/activities") == [{"id": 2}]
    assert len(server.seen) == 2


def test_a_slow_token_endpoint_times_out_and_is_asked_again(tmp_path):
    clock = FakeClock(T0)
    token = {"access_token": "a1", "refresh_token": "r1", "expires_at": FAR}
    with ScriptedServer([Answer(200, {"late": True}, delay_s=1.5)], clock, then=Answer(200, token)) as server:
        cfg = StravaConfig(server.url, server.url + "/oauth/token", "123", "top-secret", "refresh-0")
        auth = StravaAuth(cfg, TokenStore(tmp_path / "tokens.json"), requests.Session(), clock, timeout=0.3)
        assert auth.access_token() == "a1"
    assert [s.path for s in server.seen] == ["/oauth/token", "/oauth/token"]


def fake_client(fake, clock, tmp_path) -> StravaClient:
    cfg = StravaConfig(fake.base_url, fake.token_url, fake.client_id, fake.client_secret, fake.issue_refresh_token())
    auth = StravaAuth(cfg, TokenStore(tmp_path / "t.json"), requests.Session(), clock)
    return StravaClient(fake.base_url, auth, Budget(clock=clock), requests.Session(), clock)


def test_404_is_not_found_and_asked_once(fake, clock, tmp_path):
    client = fake_client(fake, clock, tmp_path)
    fake.reset_log()
    with pytest.raises(NotFound):
        client.get("/activities/1", label="GET /activities/{id}")
    assert fake.counts()["GET /activities/{id}"] == 1


def test_403_inactive_application_points_to_the_bulk_export():
    clock = FakeClock(T0)
    # the words of API-FACTS.md; the rest of the body is a guess
    body = {"message": "Application Status Inactive", "errors": [{"resource": "Application", "code": "forbidden"}]}
    with ScriptedServer([], clock, then=Answer(403, body)) as server:
        client = make_client(server.url, clock)
        with pytest.raises(UserError) as err:
            client.get("/athlete")
    assert "inactive" in str(err.value) and "import-archive" in str(err.value)
    assert len(server.seen) == 1  # nothing a retry could fix


def test_403_without_inactive_asks_to_authorize_again():
    clock = FakeClock(T0)
    body = {"message": "Authorization Error", "errors": [{"resource": "Athlete", "field": "access_token"}]}
    with ScriptedServer([], clock, then=Answer(403, body)) as server:
        client = make_client(server.url, clock)
        with pytest.raises(UserError) as err:
            client.get("/athlete")
    assert "strava.py" in str(err.value) and " auth`" in str(err.value) and "inactive" not in str(err.value)


def test_persistent_5xx_gives_up_after_the_retry_budget(fake, clock, tmp_path):
    client = fake_client(fake, clock, tmp_path)
    fake.faults.add("5xx", count=50, path=r"/athlete$", status=503)
    fake.reset_log()
    before = clock.now()
    with pytest.raises(ItemError, match=f"failed {MAX_ATTEMPTS} times .HTTP 503"):
        client.get("/athlete", label="GET /athlete")
    assert fake.counts()["GET /athlete"] == MAX_ATTEMPTS
    assert clock.now() > before  # it backed off between attempts (on the test clock)


# ------------------------------------------------------------------------------------------ the token endpoint


def auth_for(token_url: str, tmp_path: Path, clock, refresh_token: str = "refresh-0") -> StravaAuth:
    cfg = StravaConfig("http://127.0.0.1:9/api/v3", token_url, "123", "top-secret", refresh_token)
    return StravaAuth(cfg, TokenStore(tmp_path / "tokens.json"), requests.Session(), clock)


def test_token_endpoint_5xx_is_retried_then_works(tmp_path):
    clock = FakeClock(T0)
    token = {"access_token": "a1", "refresh_token": "r1", "expires_at": FAR}
    with ScriptedServer([Answer(502, {}), Answer(503, {})], clock, then=Answer(200, token)) as server:
        auth = auth_for(server.url + "/oauth/token", tmp_path, clock)
        assert auth.access_token() == "a1"
    assert len(server.seen) == 3
    assert json.loads((tmp_path / "tokens.json").read_text())["refresh_token"] == "r1"


def test_token_endpoint_5xx_storm_is_one_clear_sentence(tmp_path):
    clock = FakeClock(T0)
    with ScriptedServer([], clock, then=Answer(503, {})) as server:
        auth = auth_for(server.url + "/oauth/token", tmp_path, clock)
        with pytest.raises(UserError, match="Cannot reach the Strava token endpoint"):
            auth.access_token()
    assert len(server.seen) == 3
    assert not (tmp_path / "tokens.json").exists()


def test_token_endpoint_400_for_a_bad_refresh_token_asks_to_authorize_again(tmp_path):
    clock = FakeClock(T0)
    body = {
        "message": "Bad Request",
        "errors": [{"resource": "RefreshToken", "field": "refresh_token", "code": "invalid"}],
    }
    with ScriptedServer([], clock, then=Answer(400, body)) as server:
        auth = auth_for(server.url + "/oauth/token", tmp_path, clock)
        with pytest.raises(UserError, match="rejected the refresh token.*strava.py.* auth`"):
            auth.access_token()
    assert len(server.seen) == 1  # a 400 is not retried


def test_token_endpoint_400_for_a_bad_client_names_the_client_settings(tmp_path):
    clock = FakeClock(T0)
    body = {"message": "Bad Request", "errors": [{"resource": "Application", "field": "client_id", "code": "invalid"}]}
    with ScriptedServer([], clock, then=Answer(400, body)) as server:
        auth = auth_for(server.url + "/oauth/token", tmp_path, clock)
        with pytest.raises(UserError, match="client id or secret"):
            auth.access_token()


def test_the_secret_goes_in_the_form_only(tmp_path):
    clock = FakeClock(T0)
    token = {"access_token": "a1", "refresh_token": "r1", "expires_at": FAR}
    with ScriptedServer([], clock, then=Answer(200, token)) as server:
        auth_for(server.url + "/oauth/token", tmp_path, clock).access_token()
    (seen,) = server.seen
    assert seen.method == "POST" and "top-secret" not in seen.path and b"client_secret=top-secret" in seen.body


# ------------------------------------------------------------------------------------------ the token file


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"{",
        b"\x00\xff\xfe garbage",
        b"[]",
        b"null",
        b'{"client_id": "123"}',
        b'{"refresh_token": 5}',
        b'{"client_id": "demo", "refresh_token": "stale", "expires_at": "soon", "access_token": 7}',
    ],
)
def test_a_damaged_token_file_falls_back_to_the_configured_token(fake, clock, tmp_path, damage):
    path = tmp_path / "strava_tokens.json"
    path.write_bytes(damage)
    cfg = StravaConfig(fake.base_url, fake.token_url, fake.client_id, fake.client_secret, fake.issue_refresh_token())
    auth = StravaAuth(cfg, TokenStore(path), requests.Session(), clock)
    assert auth.access_token()
    saved = json.loads(path.read_text())  # rewritten whole, with the rotated refresh token
    assert saved["refresh_token"] and saved["refresh_token"] != cfg.refresh_token
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_damaged_token_file_and_a_used_configured_token_is_one_clear_sentence(cli, fake):
    assert cli("--no-detail", "--no-streams")[0] == 0  # rotates the configured refresh token
    (cli.data_dir / "strava_tokens.json").write_text('{"client_id": "demo", "refresh_tok')
    rc, out, err = cli("--no-detail", "--no-streams")
    assert rc == 2 and "strava.py" in err and "auth" in err and "Traceback" not in err
    assert err.strip().count("\n") == 0


class Killed(BaseException):
    """Stands for a kill -9 right after the rotated token reached the disk."""


def test_a_kill_right_after_a_token_refresh_keeps_the_rotated_token(fake, clock, tmp_path):
    path = tmp_path / "strava_tokens.json"
    configured = fake.issue_refresh_token()
    cfg = StravaConfig(fake.base_url, fake.token_url, fake.client_id, fake.client_secret, configured)

    def die() -> None:
        raise Killed()

    first = StravaAuth(cfg, TokenStore(path), requests.Session(), clock, on_refresh=die)
    with pytest.raises(Killed):
        first.access_token()
    rotated = json.loads(path.read_text())["refresh_token"]
    assert rotated != configured
    # Strava stopped accepting the configured token: only the one on disk works now
    fake.expire_access_tokens()
    again = StravaAuth(cfg, TokenStore(path), requests.Session(), clock)
    fake.reset_log()
    assert again.access_token()
    client = StravaClient(fake.base_url, again, Budget(clock=clock), requests.Session(), clock)
    assert client.get("/athlete", label="GET /athlete")["id"] == fake.athlete_id
    assert json.loads(path.read_text())["refresh_token"] not in (configured, rotated)


# ------------------------------------------------------------------------------------------ the tiles' guard


def test_tiles_refuse_an_unmasked_route_and_keep_the_last_good_tiles(tmp_path, monkeypatch):
    from strava_pipeline.maps import settings as map_settings
    from strava_pipeline.maps.synthetic import DEFAULT_ZONES, Route, generate_routes, insert_routes, write_warehouse
    from strava_pipeline.maps.tiles import update_tiles

    zones_csv = tmp_path / "privacy_zones.csv"
    zones_csv.write_text(
        "name,lat,lon,radius_m\n" + "".join(f"{z.name},{z.lat},{z.lon},{z.radius_m}\n" for z in DEFAULT_ZONES)
    )
    monkeypatch.setattr(map_settings, "ZONES_CSV", zones_csv)
    data = tmp_path / "data"
    write_warehouse(data / "strava.duckdb", generate_routes(6, seed=3, length_km=(3.0, 8.0)))
    assert update_tiles(data, max_zoom=12).mode == "full"
    before = {p: p.read_bytes() for p in (data / "tiles").rglob("*") if p.is_file()}
    home = DEFAULT_ZONES[0]
    leak = Route(
        7,
        "Leak",
        "Run",
        date(2024, 3, 3),
        2.0,
        shapely.MultiLineString([[(home.lon - 0.01, home.lat), (home.lon + 0.01, home.lat)]]),
    )
    with duckdb.connect(str(data / "strava.duckdb")) as con:
        insert_routes(con, [leak])
    with pytest.raises(RuntimeError, match="privacy zone 'home'"):
        update_tiles(data, max_zoom=12)
    with pytest.raises(RuntimeError, match="privacy zone 'home'"):
        update_tiles(data, max_zoom=12, rebuild=True)
    after = {p: p.read_bytes() for p in (data / "tiles").rglob("*") if p.is_file()}
    assert after == before


# ------------------------------------------------------------------------------------------ Sail distance


def _real_csv_with(row_id: str, blank_metres: bool) -> bytes:
    path = REFERENCE / "files" / "activities.csv"
    if not path.is_file():
        pytest.skip(f"{path} is missing (set STRAVA_REFERENCE_DIR)")
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    header, body = rows[0], [r for r in rows[1:] if r and r[0] == row_id]
    assert header[17] == "Distance" and len(body) == 1
    if blank_metres:
        body[0][17] = ""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *body])
    return out.getvalue().encode()


@pytest.mark.parametrize(
    ("row_id", "sport", "display", "unit_m"),
    [("9024249421", "Sail", 15.9, 1852.0), ("9060711981", "Sail", 5.8, 1852.0)],
)
def test_sail_with_only_the_display_distance_is_nautical_miles(row_id, sport, display, unit_m):
    from strava_pipeline.archive.activities_csv import parse_activities_csv

    result = parse_activities_csv(_real_csv_with(row_id, blank_metres=True))
    (row,) = result.rows
    assert row["sport_type"] == sport
    assert row["distance"] == pytest.approx(display * unit_m, abs=1e-6)


def test_a_ride_with_only_the_display_distance_is_kilometres():
    from strava_pipeline.archive.activities_csv import parse_activities_csv

    path = REFERENCE / "files" / "activities.csv"
    if not path.is_file():
        pytest.skip(f"{path} is missing (set STRAVA_REFERENCE_DIR)")
    ride = next(
        r
        for r in csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")))
        if len(r) > 17 and r[3] == "Ride" and r[6] and r[17]
    )
    (row,) = parse_activities_csv(_real_csv_with(ride[0], blank_metres=True)).rows
    assert row["distance"] == pytest.approx(float(ride[6]) * 1000.0, abs=1e-6)


# ------------------------------------------------------------------------------------------ CI without the references


@pytest.mark.parametrize(("ci", "expected_rc"), [("true", 4), ("", 0)])
def test_missing_reference_files_fail_ci_loudly_and_only_skip_locally(tmp_path, ci, expected_rc):
    import os
    import subprocess
    import sys

    env = {**os.environ, "CI": ci, "STRAVA_REFERENCE_DIR": str(tmp_path / "nowhere")}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "tests/test_ratelimit.py"],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == expected_rc, proc.stdout + proc.stderr
    if ci:
        assert "reference files are missing" in proc.stderr and "STRAVA_REFERENCE_DIR" in proc.stderr


# ------------------------------------------------------------------------------------------ survivors of mutmut


def test_the_guard_says_which_route_zone_and_source_and_what_to_do():
    from strava_pipeline.maps.privacy import check_outside_zones
    from strava_pipeline.maps.routes import Zone

    home = Zone("home", 46.0569, 14.5058, 400.0)
    far = shapely.MultiLineString([[(14.60, 46.10), (14.61, 46.11)]])
    near = shapely.MultiLineString([[(14.5058, 46.0569 + 300 / 111_195), (14.52, 46.07)]])  # a vertex 300 m away
    check_outside_zones([far], [11], [home], [home])  # clear of both: no exception
    with pytest.raises(RuntimeError) as bug:
        check_outside_zones([far, near], [11, 22], [home], [])
    assert str(bug.value) == (
        "1 route(s), e.g. activity 22, come within 300 m of privacy zone 'home' of the warehouse, although the "
        "masking should have removed them: nothing was written; check int_activity_tracks__masked."
    )
    with pytest.raises(UserError) as stale:
        check_outside_zones([near, near], [22, 33], [], [home], dbt_build="DBT-BUILD")
    assert str(stale.value) == (
        "2 route(s), e.g. activity 22, come within 300 m of privacy zone 'home' of seeds/privacy_zones.csv: the "
        "masked routes are older than the privacy zones, run `DBT-BUILD` and export again."
    )
    # the slack widens the zone: a vertex 2 m outside is inside 400 + 2.5 m
    edge = shapely.MultiLineString([[(14.5058, 46.0569 + 402 / 111_195), (14.6, 46.2)]])
    check_outside_zones([edge], [1], [home], [], slack_m=0.0)
    with pytest.raises(RuntimeError):
        check_outside_zones([edge], [1], [home], [], slack_m=2.5)


def test_budget_stop_carries_its_reason_and_kind():
    stop = BudgetStop("why", daily=True)
    assert (str(stop), stop.reason, stop.daily, stop.cap) == ("why", "why", True, False)
    capped = BudgetStop("cap", daily=False, cap=True)
    assert (capped.daily, capped.cap) == (False, True)


@pytest.mark.parametrize(
    ("read", "overall", "exhausted"),
    [
        ((5, 999), (5, 999), False),
        ((5, 1000), (5, 1000), True),
        ((5, 10), (5, 2000), True),
        ((5, 10), (5, 1999), False),
    ],
)
def test_exhausted_daily_looks_at_both_kinds(read, overall, exhausted):
    budget = Budget(clock=FakeClock(T0))
    budget.update(
        {
            "X-RateLimit-Limit": "200,2000",
            "X-RateLimit-Usage": f"{overall[0]},{overall[1]}",
            "X-ReadRateLimit-Limit": "100,1000",
            "X-ReadRateLimit-Usage": f"{read[0]},{read[1]}",
        }
    )
    assert budget.exhausted_daily() is exhausted


def test_backoff_is_full_jitter_up_to_the_cap():
    import random

    from strava_pipeline.api.client import BACKOFF_BASE_S, BACKOFF_CAP_S

    class Highest(random.Random):
        def uniform(self, a, b):
            return b

    class Lowest(random.Random):
        def uniform(self, a, b):
            return a

    for rng, expected in ((Highest(), lambda n: min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**n)), (Lowest(), lambda n: 0)):
        clock = FakeClock(T0)
        client = StravaClient("http://127.0.0.1:9", None, Budget(clock=clock), requests.Session(), clock, rng=rng)
        for attempt in (0, 1, 3, 10):
            before = clock.now()
            client._backoff(attempt)
            assert clock.now() - before == expected(attempt)
    assert (BACKOFF_BASE_S, BACKOFF_CAP_S) == (1.0, 60.0)


def test_forbidden_and_rejection_messages_word_for_word(tmp_path):
    from strava_pipeline.api.auth import _rejection_message
    from strava_pipeline.api.client import _forbidden_message
    from strava_pipeline.config import strava_command

    class Resp:
        def __init__(self, body):
            self.text = json.dumps(body)

        def json(self):
            return json.loads(self.text)

    data_dir = tmp_path / "d"
    auth = strava_command(data_dir, "auth")
    assert _forbidden_message(Resp({"message": "Application Status INACTIVE"}), data_dir) == (
        "Strava says the API application is inactive (HTTP 403): API access now needs a developer subscription; "
        f"import your bulk export with `{strava_command(data_dir, 'import-archive', 'PATH')}` instead."
    )
    assert _forbidden_message(Resp({"message": "Forbidden"}), data_dir) == (
        f"Strava refused access (HTTP 403): authorize with all scopes (run `{auth}` to authorize the app again)."
    )
    app = Resp({"errors": [{"resource": "Application", "field": "client_id", "code": "invalid"}]})
    code = Resp({"errors": [{"resource": "AuthorizationCode", "field": "code", "code": "invalid"}]})
    assert _rejection_message(app, "refresh_token", data_dir) == (
        "Strava rejected the client id or secret: check sources.strava.credentials.client_id and client_secret "
        "in .dlt/secrets.toml."
    )
    assert _rejection_message(code, "authorization_code", data_dir) == (
        f"Strava rejected the authorization code (codes work once and expire quickly): run `{auth}` again."
    )
    assert _rejection_message(code, "refresh_token", data_dir) == (
        "Strava rejected the refresh token (revoked, or replaced by a newer one): "
        f"run `{auth}` to authorize the app again."
    )

    class NotJson(Resp):
        def json(self):
            raise ValueError("not json")

    assert "rejected the refresh token" in _rejection_message(NotJson({}), "refresh_token", data_dir)
    assert "rejected the refresh token" in _rejection_message(
        Resp({"errors": ["junk", None]}), "refresh_token", data_dir
    )


@pytest.mark.parametrize(
    ("pasted", "code"),
    [
        ("?code=abc&scope=read", "abc"),
        ("code=abc", "abc"),
        ("/exchange_token?state=&code=abc", "abc"),
        ("localhost/exchange_token?code=abc", "abc"),
        ("https://localhost/exchange_token?code=abc&scope=read", "abc"),
        ("  abc/def  ", "abc/def"),
    ],
)
def test_every_form_of_the_paste_gives_the_code(pasted, code):
    from strava_pipeline.api.auth import code_from_paste

    assert code_from_paste(pasted) == code


@pytest.mark.parametrize(
    ("pasted", "message"),
    [
        ("  \n", "Nothing was pasted: paste the code or the whole URL of the page Strava redirected to."),
        (
            "localhost/exchange_token?state=&error=access_denied",
            "Strava reported 'access_denied': approve the app on the authorize page and try again.",
        ),
        (
            "http://localhost/exchange_token?state=",
            "The pasted URL has no code= parameter: copy the full address of the page after approving.",
        ),
    ],
)
def test_an_unusable_paste_says_exactly_what_to_do(pasted, message):
    from strava_pipeline.api.auth import code_from_paste

    with pytest.raises(UserError) as err:
        code_from_paste(pasted)
    assert str(err.value) == message


def test_the_token_answer_is_stored_whole_and_a_missing_refresh_token_keeps_the_old(tmp_path):
    clock = FakeClock(T0)
    first = {
        "access_token": "a1",
        "refresh_token": "r1",
        "expires_at": FAR,
        "athlete": {"id": 42},
        "scope": "read,activity:read_all",
    }
    second = {"access_token": "a2", "expires_at": str(FAR + 1)}  # no refresh token: the old one stays valid
    with ScriptedServer([Answer(200, first), Answer(200, second)], clock) as server:
        auth = auth_for(server.url + "/oauth/token", tmp_path, clock)
        auth.exchange_code("the-code")
        saved = json.loads((tmp_path / "tokens.json").read_text())
        assert saved == {
            "client_id": "123",
            "refresh_token": "r1",
            "access_token": "a1",
            "expires_at": FAR,
            "seeded_from": saved["seeded_from"],
            "athlete_id": 42,
            "scope": "read,activity:read_all",
        }
        assert saved["seeded_from"] and "refresh-0" not in saved["seeded_from"]
        auth.refresh()
        saved = json.loads((tmp_path / "tokens.json").read_text())
        assert (saved["access_token"], saved["refresh_token"], saved["expires_at"]) == ("a2", "r1", FAR + 1)
        assert (saved["athlete_id"], saved["scope"]) == (42, "read,activity:read_all")
    assert b"grant_type=authorization_code" in server.seen[0].body and b"code=the-code" in server.seen[0].body
    assert b"grant_type=refresh_token" in server.seen[1].body and b"refresh_token=r1" in server.seen[1].body


@pytest.mark.parametrize("body", [{"refresh_token": "r"}, {"access_token": "a", "expires_at": "soon"}, []])
def test_a_token_answer_without_a_usable_token_is_one_sentence(tmp_path, body):
    clock = FakeClock(T0)
    with ScriptedServer([], clock, then=Answer(200, body)) as server:
        auth = auth_for(server.url + "/oauth/token", tmp_path, clock)
        with pytest.raises(UserError) as err:
            auth.access_token()
    assert str(err.value) == (
        f"The token endpoint {server.url}/oauth/token answered without a usable token: "
        "check sources.strava.credentials.access_token_url."
    )
    assert not (tmp_path / "tokens.json").exists()


def test_waiting_without_a_display_sleeps_on_the_clock_and_counts_the_wait():
    clock = FakeClock(T0 + 10 * 60)
    budget = Budget(clock=clock)
    budget.wait_for_next_window("why")
    assert clock.now() == T0 + WINDOW_S + 1 and budget.waited_s == 5 * 60 + 1
    budget.wait_for_next_window("again")
    assert budget.waited_s == 5 * 60 + 1 + WINDOW_S
    with pytest.raises(BudgetStop) as stop:
        Budget(clock=clock, wait=False).wait_for_next_window("15-minute limit reached")
    assert (stop.value.reason, stop.value.daily) == ("15-minute limit reached (--no-wait)", False)


def test_remaining_today_counts_both_kinds_the_cap_and_a_new_day():
    clock = FakeClock(T0)
    budget = Budget(clock=clock, max_requests=50)
    budget.update(spent_headers(10, 980))  # read 980 of 1000, overall 980 of 2000
    assert budget.remaining_today() == 20
    budget.sent = 45
    assert budget.remaining_today() == 5
    budget.sent = 60
    assert budget.remaining_today() == 0
    clock.set(T0 - 10 * 3600 + 86_400)  # the next UTC day
    budget.sent = 0
    assert budget.remaining_today() == 50
    assert Budget(clock=FakeClock(T0)).remaining_today() == 1000


@pytest.mark.parametrize(
    ("requests_", "per_day", "left", "days"),
    [
        (0, 1000, 0, 0),
        (1, 1000, 1, 1),
        (1000, 1000, 1000, 1),
        (1001, 1000, 1000, 2),
        (1, 1000, 0, 1),
        (2001, 1000, 0, 3),
    ],
)
def test_days_needed_at_the_edges(requests_, per_day, left, days):
    from strava_pipeline.api.ratelimit import days_needed

    assert days_needed(requests_, per_day, left) == days


def test_the_client_replays_the_journal_instead_of_asking_again(tmp_path):
    from strava_pipeline.api.journal import ResponseJournal

    clock = FakeClock(T0)
    script = [Answer(200, {"id": 7}), Answer(404, {"message": "Record Not Found"})]
    with ScriptedServer(script, clock, then=Answer(500, {})) as server:
        journal = ResponseJournal(tmp_path / "j.sqlite", clock)
        client = make_client(server.url, clock)
        client.journal = journal
        assert client.get("/activities/7", {"a": 1}) == {"id": 7}
        with pytest.raises(NotFound) as missing:
            client.get("/activities/8")
        assert str(missing.value) == "GET /activities/8"
        journal.close()
        # a new run (a new client) on the same journal: no request at all
        again = make_client(server.url, clock)
        again.journal = ResponseJournal(tmp_path / "j.sqlite", clock)
        assert again.get("/activities/7", {"a": 1}) == {"id": 7}
        with pytest.raises(NotFound) as missing:
            again.get("/activities/8", label="GET /activities/{id}")
        assert str(missing.value) == "GET /activities/{id}"
        assert again.requests_sent == 0 and again.journal.replayed == 2
        with pytest.raises(ServerFailing):
            again.get("/activities/7", {"a": 2})  # another question: asked (and the server fails it)
        again.journal.close()
    assert [s.path for s in server.seen][:2] == ["/activities/7?a=1", "/activities/8"]


def test_a_spent_read_window_stops_reads_even_when_overall_is_free():
    clock = FakeClock(T0)
    with ScriptedServer([], clock, then=Answer(200, [])) as server:
        client = make_client(server.url, clock)
        client.budget.wait = False
        client.budget.update(
            {
                "X-RateLimit-Limit": "200,2000",
                "X-RateLimit-Usage": "100,100",
                "X-ReadRateLimit-Limit": "100,1000",
                "X-ReadRateLimit-Usage": "100,100",
            }
        )
        with pytest.raises(BudgetStop):
            client.get("/athlete")
    assert server.seen == []


def test_private_dir_creates_nested_folders_0700_and_leaves_existing_ones(tmp_path):
    import os

    from strava_pipeline.private_files import private_dir

    old = os.umask(0o022)
    try:
        deep = private_dir(tmp_path / "a" / "b" / "data")
        assert deep.is_dir() and deep.stat().st_mode & 0o777 == 0o700
        assert private_dir(deep) == deep  # again: no error
        mine = tmp_path / "mine"
        mine.mkdir(mode=0o755)
        private_dir(mine)
        assert mine.stat().st_mode & 0o777 == 0o755
    finally:
        os.umask(old)


@pytest.mark.parametrize(("used", "allowed"), [(998, True), (999, True), (1000, False), (1001, False)])
def test_the_last_request_of_the_day_is_sent_and_no_more(used, allowed):
    budget = Budget(clock=FakeClock(T0))
    budget.update(spent_headers(5, used))
    if allowed:
        budget.before_request()
    else:
        with pytest.raises(BudgetStop) as stop:
            budget.before_request()
        assert (stop.value.reason, stop.value.daily, stop.value.cap) == ("daily limit reached", True, False)


def test_writes_need_only_the_overall_budget_and_the_cap_says_so():
    budget = Budget(clock=FakeClock(T0), wait=False, max_requests=1)
    budget.update(spent_headers(100, 1000))  # reads spent for the window and the day, overall not
    budget.counters["overall"].usage_15 = budget.counters["overall"].usage_day = 0
    budget.before_request(is_read=False)
    with pytest.raises(BudgetStop):
        budget.before_request(is_read=True)
    budget.sent = 1
    with pytest.raises(BudgetStop) as stop:
        budget.before_request(is_read=False)
    assert (stop.value.reason, stop.value.daily, stop.value.cap) == ("--max-requests 1 reached", False, True)


@pytest.mark.parametrize("status", [500, 502, 599])
def test_token_endpoint_retries_every_5xx_with_growing_pauses(tmp_path, status):
    clock = FakeClock(T0)
    token = {"access_token": "a1", "refresh_token": "r1", "expires_at": FAR}
    with ScriptedServer([Answer(status, {}), Answer(status, {})], clock, then=Answer(200, token)) as server:
        auth = auth_for(server.url + "/oauth/token", tmp_path, clock)
        assert auth.access_token() == "a1"
    assert auth.token_requests == 3 and len(server.seen) == 3
    assert clock.now() - T0 == 1 + 2  # 2**0 then 2**1 seconds


def test_token_endpoint_gives_up_after_three_with_the_reason(tmp_path):
    clock = FakeClock(T0)
    with ScriptedServer([], clock, then=Answer(503, {})) as server:
        auth = auth_for(server.url + "/oauth/token", tmp_path, clock)
        with pytest.raises(UserError) as err:
            auth.access_token()
    assert str(err.value) == (
        f"Cannot reach the Strava token endpoint {server.url}/oauth/token (RuntimeError): "
        "check sources.strava.credentials.access_token_url and your network."
    )
    assert auth.token_requests == 3 and clock.now() - T0 == 1 + 2 + 4


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (401, {"errors": [{"resource": "Application", "field": "client_secret"}]}, "client id or secret"),
        (403, {"errors": []}, "rejected the refresh token"),
        (404, {}, "answered HTTP 404: check sources.strava.credentials.access_token_url."),
        (302, {}, "answered HTTP 302: check sources.strava.credentials.access_token_url."),
        (200, b"<html>not json</html>", "did not answer with JSON: check sources.strava.credentials.access_token_url."),
    ],
)
def test_token_endpoint_answers_that_need_the_user(tmp_path, status, body, message):
    clock = FakeClock(T0)
    with ScriptedServer([], clock, then=Answer(status, body)) as server:
        auth = auth_for(server.url + "/oauth/token", tmp_path, clock)
        with pytest.raises(UserError) as err:
            auth.access_token()
    assert message in str(err.value)
    assert len(server.seen) == 1 and auth.token_requests == 1
