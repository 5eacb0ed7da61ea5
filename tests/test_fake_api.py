"""Tests of the fake Strava API: real HTTP over loopback with requests, FakeClock for time, no mocks."""

from __future__ import annotations

import http.client
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import requests

from strava_pipeline.clock import FakeClock
from strava_pipeline.fake_api import AthleteSpec, FakeStrava, RateLimits
from strava_pipeline.fake_api.polyline import decode, encode
from strava_pipeline.fake_api.replay import reference_dir

REPO = Path(__file__).resolve().parents[1]
API = reference_dir() / "api"
NOW = datetime(2025, 6, 15, 10, 7, 0, tzinfo=UTC).timestamp()  # a Sunday, 10:07 UTC
SPEC = AthleteSpec(seed=7, first_day=date(2024, 1, 1), activities_per_week=4.0, stream_scale=0.2)
HOME = (46.0569, 14.5058)
SCOPE_ALL = "read_all,activity:read_all,profile:read_all"


def load(name: str):
    return json.loads((API / name).read_text(encoding="utf-8"))


def ts(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


def dist_m(a, b) -> float:
    dlat = math.radians(b[0] - a[0])
    dlng = math.radians(b[1] - a[1]) * math.cos(math.radians(a[0]))
    return 6_371_000 * math.hypot(dlat, dlng)


class Api:
    """A minimal client: one refresh grant, then GETs with a bearer token over one keep-alive session."""

    def __init__(self, fake: FakeStrava, scope: str = SCOPE_ALL) -> None:
        self.fake = fake
        self.s = requests.Session()
        self.refresh_token = fake.issue_refresh_token(scope)
        body = self.token(grant_type="refresh_token", refresh_token=self.refresh_token).json()
        self.access_token = body["access_token"]
        self.refresh_token = body["refresh_token"]

    def refresh(self) -> None:
        body = self.token(grant_type="refresh_token", refresh_token=self.refresh_token).json()
        self.access_token, self.refresh_token = body["access_token"], body["refresh_token"]

    def token(self, **form) -> requests.Response:
        data = {"client_id": "demo", "client_secret": "demo-secret", **form}
        return self.s.post(self.fake.token_url, data=data, timeout=10)

    def get(self, path: str, token: str | None = None, timeout: float = 10, **params) -> requests.Response:
        headers = {"Authorization": f"Bearer {token or self.access_token}"}
        return self.s.get(self.fake.base_url + path, headers=headers, params=params, timeout=timeout)

    def json(self, path: str, **params):
        r = self.get(path, **params)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        return r.json()

    def all_activities(self, **params) -> list[dict]:
        out, page = [], 1
        while True:
            items = self.json("/athlete/activities", page=page, per_page=200, **params)
            if not items:
                return out
            out.extend(items)
            page += 1


@pytest.fixture(scope="module")
def gen():
    """A generated athlete shared by read-only tests (its clock is never moved)."""
    with FakeStrava(athlete=SPEC, clock=FakeClock(NOW), limits=RateLimits(10**6, 10**7, 10**6, 10**7)) as fake:
        yield fake


@pytest.fixture(scope="module")
def gen_api(gen):
    return Api(gen)


@pytest.fixture(scope="module")
def gen_acts(gen):
    return gen.activities()


@pytest.fixture
def fresh():
    """A generated athlete with its own FakeClock and Strava's real limits, for tests that move time."""
    clock = FakeClock(NOW)
    with FakeStrava(athlete=SPEC, clock=clock) as fake:
        yield fake


@pytest.fixture(scope="module")
def replay():
    with FakeStrava(athlete="replay", limits=RateLimits(10**6, 10**7, 10**6, 10**7)) as fake:
        yield fake


@pytest.fixture(scope="module")
def replay_api(replay):
    return Api(replay)


def pick(acts, pred):
    return next(a for a in acts if pred(a))


# ---------------------------------------------------------------------------------------------------- listing
def test_paging_default_cap_and_end(gen_api, gen_acts):
    assert len(gen_acts) > 250
    assert len(gen_api.json("/athlete/activities")) == 30  # Strava's default page size
    assert len(gen_api.json("/athlete/activities", per_page=500)) == 200  # capped at 200
    last = math.ceil(len(gen_acts) / 200)
    assert len(gen_api.json("/athlete/activities", per_page=200, page=last)) == len(gen_acts) - 200 * (last - 1)
    assert gen_api.json("/athlete/activities", per_page=200, page=last + 1) == []
    walked = gen_api.all_activities()
    assert [a["id"] for a in walked] == [a["id"] for a in gen_acts]
    assert walked == gen_acts


def test_order_and_exclusive_bounds(gen_api, gen_acts):
    newest_first = [ts(a["start_date"]) for a in gen_acts]
    assert newest_first == sorted(newest_first, reverse=True) and len(set(newest_first)) == len(newest_first)
    pivot, older = gen_acts[40], gen_acts[80]
    p, o = ts(pivot["start_date"]), ts(older["start_date"])

    after = gen_api.json("/athlete/activities", after=p, per_page=200)  # after only: oldest first
    assert [a["id"] for a in after] == [a["id"] for a in reversed(gen_acts[:40])]
    before = gen_api.json("/athlete/activities", before=p, per_page=20)  # before only: newest first
    assert [a["id"] for a in before] == [a["id"] for a in gen_acts[41:61]]
    both = gen_api.json("/athlete/activities", after=o, before=p, per_page=200)  # both: newest first, exclusive
    assert [a["id"] for a in both] == [a["id"] for a in gen_acts[41:80]]
    # bounds are exclusive: one second either side includes the activity again
    assert gen_api.json("/athlete/activities", after=p - 1, per_page=1)[0]["id"] == pivot["id"]
    assert gen_api.json("/athlete/activities", before=p + 1, per_page=1)[0]["id"] == pivot["id"]


def test_bad_params_are_400(gen_api):
    for name, value in (("after", "yesterday"), ("before", "1.5"), ("page", "x"), ("per_page", "ten")):
        r = gen_api.get("/athlete/activities", **{name: value})
        assert r.status_code == 400
        assert r.json() == {
            "message": "Bad Request",
            "errors": [{"resource": "Application", "field": name, "code": "invalid"}],
        }


# ---------------------------------------------------------------------------------------------------- replay
def test_replay_page_one_is_the_recording(replay_api):
    r = replay_api.get("/athlete/activities", page=1)
    assert r.status_code == 200
    recorded = load("activities_page_001.json")
    assert r.json() == recorded
    # same keys in the same order, same number types
    assert json.dumps(r.json()) == json.dumps(recorded)


def test_replay_walk_yields_all_recorded_ids(replay_api):
    recorded = []
    for i in range(1, 40):
        recorded += [a["id"] for a in load(f"activities_page_{i:03d}.json")]
    assert len(recorded) == 1132
    walked = replay_api.all_activities()
    assert [a["id"] for a in walked] == recorded
    assert replay_api.json("/athlete/activities", page=39) == []
    both = replay_api.json("/athlete/activities", after=1541088000, before=1543683600)
    assert [a["id"] for a in both] == [a["id"] for a in load("activities_after_before_2018_11.json")]


def test_replay_recorded_objects(replay, replay_api):
    assert replay.athlete_id == 26462176
    assert replay_api.json("/athlete") == load("athlete.json")
    assert replay_api.json("/athlete/zones") == load("athlete_zones.json")
    assert replay_api.json(f"/athletes/{replay.athlete_id}/stats") == load("athlete_stats.json")
    assert replay_api.json("/gear/g3423618") == load("gear.json")
    assert replay_api.json("/gear/b16988545") == load("gear_bike.json")
    assert replay_api.json("/activities/1946417534") == load("activity_detail.json")
    assert replay_api.json("/activities/15605032352/laps") == load("activity_laps.json")
    assert replay_api.json("/activities/1946417534/zones") == load("activity_zones.json")
    assert replay_api.json("/activities/1946417534/streams", key_by_type="true") == load("activity_streams.json")
    # asked for more than was recorded: the recorded distance, the rest made to fit it
    more = replay_api.json("/activities/1946417534/streams", keys="latlng,time,heartrate", key_by_type="true")
    assert list(more) == ["distance", "latlng", "time", "heartrate"]
    assert more["distance"] == load("activity_streams.json")["distance"]
    assert len(more["latlng"]["data"]) == len(more["distance"]["data"]) == 13129


def test_replay_synthesizes_other_activities(replay_api):
    acts = load("activities_page_001.json")
    run = pick(acts, lambda a: a["map"]["summary_polyline"] and not a["manual"])
    st = replay_api.json(f"/activities/{run['id']}/streams", keys="latlng,time,altitude,heartrate", key_by_type="true")
    assert st["distance"]["data"][-1] == pytest.approx(run["distance"], abs=0.1)
    assert st["time"]["data"][-1] == run["elapsed_time"]
    assert st["latlng"]["data"][0] == run["start_latlng"]
    assert min(st["altitude"]["data"]) == pytest.approx(run["elev_low"], abs=0.1)
    assert max(st["heartrate"]["data"]) == run["max_heartrate"]
    detail = replay_api.json(f"/activities/{run['id']}")
    assert detail["resource_state"] == 3 and detail["laps"][0]["end_index"] == len(st["time"]["data"]) - 1
    assert {k: v for k, v in detail.items() if k in run and k not in ("resource_state", "map")} == {
        k: v for k, v in run.items() if k not in ("resource_state", "map")
    }
    manual = None
    for i in range(1, 40):
        manual = manual or next((a for a in load(f"activities_page_{i:03d}.json") if a["manual"]), None)
    assert replay_api.get(f"/activities/{manual['id']}/streams", keys="time", key_by_type="true").status_code == 404


# ---------------------------------------------------------------------------------------------------- OAuth
def test_authorization_code_exchange(fresh):
    s = requests.Session()
    code = fresh.issue_authorization_code()
    form = {"client_id": "demo", "client_secret": "demo-secret", "grant_type": "authorization_code", "code": code}
    r = s.post(fresh.token_url, data=form)
    assert r.status_code == 200
    body = r.json()
    recorded = load("oauth_token_authorization_code.json")
    assert list(body) == list(recorded)
    assert list(body["athlete"]) == list(recorded["athlete"])
    assert body["athlete"]["id"] == fresh.athlete_id and body["token_type"] == "Bearer"
    assert body["expires_in"] == 21600 and body["expires_at"] == int(NOW) + 21600
    assert re.fullmatch(r"[0-9a-f]{40}", body["access_token"]) and body["access_token"] != body["refresh_token"]
    # a code works once
    again = s.post(fresh.token_url, data=form)
    assert again.status_code == 400 and again.json() == load("oauth_token_invalid_code.json")
    bad = s.post(fresh.token_url, data={**form, "client_secret": "wrong", "code": fresh.issue_authorization_code()})
    assert bad.status_code == 400 and bad.json() == load("oauth_token_invalid_client.json")
    # OAuth answers carry no rate-limit headers and use no budget
    assert "X-RateLimit-Usage" not in r.headers and fresh.usage.overall_daily == 0
    ok = s.get(fresh.base_url + "/athlete", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert ok.status_code == 200


def test_authorize_redirects_with_code(fresh):
    r = requests.get(
        fresh.authorize_url,
        allow_redirects=False,
        params={
            "client_id": "demo",
            "redirect_uri": "http://127.0.0.1:9/callback",
            "response_type": "code",
            "approval_prompt": "force",
            "scope": "activity:read_all,profile:read_all",
            "state": "xyz",
        },
    )
    assert r.status_code == 302
    loc = r.headers["Location"]
    assert loc.startswith("http://127.0.0.1:9/callback?state=xyz&code=")
    query = dict(p.split("=", 1) for p in loc.split("?", 1)[1].split("&"))
    assert query["scope"] == "read,activity:read_all,profile:read_all"
    tok = requests.post(
        fresh.token_url,
        data={
            "client_id": "demo",
            "client_secret": "demo-secret",
            "grant_type": "authorization_code",
            "code": query["code"],
        },
    )
    assert tok.status_code == 200


def test_refresh_rotates_and_keeps_a_fresh_access_token(fresh):
    api = Api(fresh)  # first refresh at NOW
    first_access, rt = api.access_token, api.refresh_token
    fresh.clock.advance(2 * 3600)
    r = api.token(grant_type="refresh_token", refresh_token=rt)
    body = r.json()
    assert list(body) == list(load("oauth_token_refresh.json"))
    assert body["refresh_token"] != rt  # rotated
    assert body["access_token"] == first_access  # more than 1 h left: the same token and expiry
    assert body["expires_at"] == int(NOW) + 21600 and body["expires_in"] == 21600 - 2 * 3600
    old = api.token(grant_type="refresh_token", refresh_token=rt)
    assert old.status_code == 400
    assert old.json() == {
        "message": "Bad Request",
        "errors": [{"resource": "RefreshToken", "field": "refresh_token", "code": "invalid"}],
    }
    fresh.clock.advance(3.5 * 3600)  # 30 min left: a new access token
    newer = api.token(grant_type="refresh_token", refresh_token=body["refresh_token"]).json()
    assert newer["access_token"] != first_access
    assert newer["expires_at"] == int(fresh.clock.now()) + 21600 and newer["expires_in"] == 21600
    # JSON bodies are accepted too
    j = requests.post(
        fresh.token_url,
        json={
            "client_id": "demo",
            "client_secret": "demo-secret",
            "grant_type": "refresh_token",
            "refresh_token": newer["refresh_token"],
        },
    )
    assert j.status_code == 200


def test_expired_unknown_and_missing_tokens(fresh):
    api = Api(fresh)
    assert api.get("/athlete").status_code == 200
    assert api.get("/athlete", access_token=api.access_token, token="x").status_code == 401
    r = requests.get(fresh.base_url + "/athlete", params={"access_token": api.access_token})
    assert r.status_code == 200  # the token as a query parameter works too
    fresh.clock.advance(21600)
    r = api.get("/athlete")
    assert r.status_code == 401
    assert r.json() == {
        "message": "Authorization Error",
        "errors": [{"resource": "Athlete", "field": "access_token", "code": "invalid"}],
    }
    assert "X-RateLimit-Usage" in r.headers
    unknown = api.get("/athlete", token="0" * 40)
    assert unknown.status_code == 401 and unknown.json() == load("error_401.json")
    missing = requests.get(fresh.base_url + "/athlete")
    assert missing.status_code == 401 and missing.json() == load("error_401.json")
    # the expired client refreshes once and carries on
    body = api.token(grant_type="refresh_token", refresh_token=api.refresh_token).json()
    assert api.get("/athlete", token=body["access_token"]).status_code == 200
    # tokens never reach the log
    assert all(
        "0" * 40 not in json.dumps(e._asdict()) and api.access_token not in json.dumps(e._asdict()) for e in fresh.log
    )
    assert any(e.query.get("access_token") == "REDACTED" for e in fresh.log)


def test_expire_revoke_and_deauthorize(fresh):
    api = Api(fresh)
    fresh.expire_access_tokens()
    assert api.get("/athlete").json()["errors"][0]["field"] == "access_token"
    body = api.token(grant_type="refresh_token", refresh_token=api.refresh_token).json()
    token = body["access_token"]
    assert api.get("/athlete", token=token).status_code == 200
    d = requests.post(fresh.deauthorize_url, headers={"Authorization": f"Bearer {token}"})
    assert d.status_code == 200 and d.json() == {"access_token": token}
    assert api.get("/athlete", token=token).status_code == 401
    assert api.token(grant_type="refresh_token", refresh_token=body["refresh_token"]).status_code == 400
    other = Api(fresh)
    fresh.revoke_all_tokens()
    assert other.get("/athlete").status_code == 401
    assert other.token(grant_type="refresh_token", refresh_token=other.refresh_token).status_code == 400


def test_state_file_keeps_the_latest_refresh_token(tmp_path):
    state = tmp_path / "fake_state.json"
    clock = FakeClock(NOW)
    with FakeStrava(athlete=SPEC, clock=clock, state_file=state) as one:
        api = Api(one)
        first_rt = api.refresh_token
        latest = api.token(grant_type="refresh_token", refresh_token=first_rt).json()["refresh_token"]
    assert oct(state.stat().st_mode & 0o777) == "0o600"
    with FakeStrava(athlete=SPEC, clock=clock, state_file=state) as two:
        s = requests.Session()
        form = {"client_id": "demo", "client_secret": "demo-secret", "grant_type": "refresh_token"}
        assert s.post(two.token_url, data={**form, "refresh_token": first_rt}).status_code == 400
        r = s.post(two.token_url, data={**form, "refresh_token": latest})
        assert r.status_code == 200
        assert (
            s.get(
                two.base_url + "/athlete", headers={"Authorization": f"Bearer {r.json()['access_token']}"}
            ).status_code
            == 200
        )


def test_private_activities_need_activity_read_all(gen, gen_acts):
    private = [a for a in gen_acts if a["private"]]
    assert private and all(a["visibility"] == "only_me" for a in private)
    assert all(a["visibility"] == "everyone" for a in gen_acts if not a["private"])
    limited = Api(gen, scope="read,activity:read")
    listed = limited.all_activities()
    assert {a["id"] for a in listed} == {a["id"] for a in gen_acts if not a["private"]}
    pid = private[0]["id"]
    for path in (
        f"/activities/{pid}",
        f"/activities/{pid}/streams",
        f"/activities/{pid}/laps",
        f"/activities/{pid}/zones",
    ):
        r = limited.get(path)
        assert r.status_code == 404 and r.json()["errors"][0]["resource"] == "Activity"
    full = Api(gen)
    assert full.get(f"/activities/{pid}").status_code == 200
    no_activity_scope = Api(gen, scope="read")
    r = no_activity_scope.get("/athlete/activities")
    assert r.status_code == 401 and r.json()["errors"][0]["field"] == "activity:read_permission"


# ---------------------------------------------------------------------------------------------------- rate limits
def usage(r: requests.Response, read: bool = True) -> str:
    return r.headers["X-ReadRateLimit-Usage" if read else "X-RateLimit-Usage"]


def test_rate_limit_window_429_and_reset(fresh):
    api = Api(fresh)
    fresh.clock.set(datetime(2025, 6, 15, 10, 0, 5, tzinfo=UTC).timestamp())
    for i in range(1, 101):
        r = api.get("/athlete")
        assert r.status_code == 200, i
    assert usage(r) == "100,100" and r.headers["X-ReadRateLimit-Limit"] == "100,1000"
    assert r.headers["X-RateLimit-Limit"] == "200,2000" and usage(r, read=False) == "100,100"
    r = api.get("/athlete")
    assert r.status_code == 429
    assert r.json() == {
        "message": "Rate Limit Exceeded",
        "errors": [{"resource": "Application", "field": "rate limit", "code": "exceeded"}],
    }
    assert usage(r) == "101,101"
    r = api.get("/athlete")  # rejected requests count too
    assert r.status_code == 429 and usage(r) == "102,102"
    assert fresh.count_429 == 2 and fresh.usage.read_15min == 102
    fresh.clock.set(datetime(2025, 6, 15, 10, 14, 59, tzinfo=UTC).timestamp())
    assert api.get("/athlete").status_code == 429
    fresh.clock.set(datetime(2025, 6, 15, 10, 15, 0, tzinfo=UTC).timestamp())  # next quarter hour
    r = api.get("/athlete")
    assert r.status_code == 200 and usage(r) == "1,104"
    # daily window: midnight UTC
    fresh.clock.set(datetime(2025, 6, 15, 23, 59, 50, tzinfo=UTC).timestamp())
    api.refresh()
    fresh.set_usage(read_daily=1000, overall_daily=1000)
    r = api.get("/athlete")
    assert r.status_code == 429 and usage(r) == "1,1001"
    fresh.clock.advance(15)
    r = api.get("/athlete")
    assert r.status_code == 200 and usage(r) == "1,1" and usage(r, read=False) == "1,1"


def test_rate_limit_headers_everywhere_and_set_usage(fresh):
    api = Api(fresh)
    fresh.set_usage(read_15min=98, read_daily=500, overall_15min=150, overall_daily=700)
    ok = api.get("/athlete")
    missing = api.get("/gear/g1")
    assert missing.status_code == 404
    assert missing.json() == {
        "message": "Resource Not Found",
        "errors": [{"resource": "Gear", "field": "id", "code": "not found"}],
    }
    assert usage(ok) == "99,501" and usage(missing) == "100,502" and usage(missing, read=False) == "152,702"
    limited = api.get("/athlete")
    assert limited.status_code == 429
    bad = api.get("/athlete", token="nope")
    for r in (ok, missing, limited, bad):
        for h in ("X-RateLimit-Limit", "X-RateLimit-Usage", "X-ReadRateLimit-Limit", "X-ReadRateLimit-Usage"):
            assert h in r.headers
    # a non-GET counts only toward the overall limit (and is not a route: 404)
    post = api.s.post(fresh.base_url + "/athlete", headers={"Authorization": f"Bearer {api.access_token}"})
    assert post.status_code == 404 and usage(post) == "102,504" and usage(post, read=False) == "155,705"
    u = fresh.usage
    assert (u.overall_15min, u.overall_daily, u.read_15min, u.read_daily) == (155, 705, 102, 504)


@pytest.mark.parametrize(
    "case,names",
    [
        ("lower", ["x-ratelimit-limit", "x-ratelimit-usage", "x-readratelimit-limit", "x-readratelimit-usage"]),
        ("ruby", ["X-Ratelimit-Limit", "X-Ratelimit-Usage", "X-Readratelimit-Limit", "X-Readratelimit-Usage"]),
        ("docs", ["X-RateLimit-Limit", "X-RateLimit-Usage", "X-ReadRateLimit-Limit", "X-ReadRateLimit-Usage"]),
    ],
)
def test_header_case(case, names):
    with FakeStrava(
        athlete=SPEC,
        clock=FakeClock(NOW),
        header_case=case,
        limits=RateLimits(20, 30, 10, 15),
        streams_without_ratelimit_headers=True,
    ) as fake:
        api = Api(fake)
        conn = http.client.HTTPConnection("127.0.0.1", fake.port)
        conn.request("GET", "/api/v3/athlete", headers={"Authorization": f"Bearer {api.access_token}"})
        resp = conn.getresponse()
        resp.read()
        got = [k for k, _ in resp.getheaders() if "ratelimit" in k.lower()]
        assert got == names
        assert dict(resp.getheaders())[names[0]] == "20,30"
        assert dict(resp.getheaders())["Date"] == "Sun, 15 Jun 2025 10:07:00 GMT"  # the fake clock's time
        aid = api.json("/athlete/activities", per_page=1)[0]["id"]
        conn.request(
            "GET",
            f"/api/v3/activities/{aid}/streams?keys=time&key_by_type=true",
            headers={"Authorization": f"Bearer {api.access_token}"},
        )
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200 and not [k for k, _ in resp.getheaders() if "ratelimit" in k.lower()]
        conn.close()


# ---------------------------------------------------------------------------------------------------- streams
def test_streams_shapes(gen_api, gen_acts):
    run = pick(gen_acts, lambda a: a["type"] == "Run" and a["start_latlng"] and a["has_heartrate"])
    keys = "time,latlng,altitude,velocity_smooth,heartrate,cadence,watts,temp,moving,grade_smooth,bogus"
    by_type = gen_api.json(f"/activities/{run['id']}/streams", keys=keys, key_by_type="true")
    assert list(by_type)[0] == "distance" and "watts" not in by_type and "bogus" not in by_type
    as_list = gen_api.json(f"/activities/{run['id']}/streams", keys=keys)
    assert [s["type"] for s in as_list] == list(by_type)
    n = len(by_type["time"]["data"])
    for s in as_list:
        assert list(s) == ["type", "data", "series_type", "original_size", "resolution"]
        assert s["data"] == by_type[s["type"]]["data"]
        assert s["original_size"] == len(s["data"]) == n and s["series_type"] == "distance"
    for v in by_type.values():
        assert list(v) == ["data", "series_type", "original_size", "resolution"] and v["resolution"] == "high"
    assert all(isinstance(p, list) and len(p) == 2 for p in by_type["latlng"]["data"])
    assert all(isinstance(x, int) for x in by_type["time"]["data"] + by_type["heartrate"]["data"])
    assert all(isinstance(x, bool) for x in by_type["moving"]["data"])
    d = by_type["distance"]["data"]
    assert all(isinstance(x, float) for x in d) and all(b >= a for a, b in zip(d, d[1:]))
    only = gen_api.json(f"/activities/{run['id']}/streams", key_by_type="true")
    assert list(only) == ["distance"]


def test_streams_missing_for_manual_and_no_gps(gen_api, gen_acts):
    manual = pick(gen_acts, lambda a: a["manual"])
    r = gen_api.get(f"/activities/{manual['id']}/streams", keys="time", key_by_type="true")
    assert r.status_code == 404
    assert manual["map"]["summary_polyline"] == "" and manual["start_latlng"] == [] and manual["upload_id"] is None
    assert "upload_id_str" not in manual and manual["max_speed"] == 0 and manual["total_elevation_gain"] == 0
    for sport in ("Swim", "WeightTraining", "VirtualRide"):
        a = pick(gen_acts, lambda x, sport=sport: x["sport_type"] == sport and not x["manual"])
        st = gen_api.json(f"/activities/{a['id']}/streams", keys="latlng,altitude,time", key_by_type="true")
        assert "latlng" not in st and "time" in st, sport
        assert a["start_latlng"] == [] and a["end_latlng"] == [] and a["map"]["summary_polyline"] == ""
        assert a["trainer"] is True and a["total_elevation_gain"] == 0


ALL_KEYS = "time,latlng,altitude,velocity_smooth,heartrate,cadence,watts,temp,moving,grade_smooth"


def check_consistent(summary: dict, st: dict) -> None:
    d, t, moving = st["distance"]["data"], st["time"]["data"], st["moving"]["data"]
    assert d[-1] == pytest.approx(summary["distance"], abs=0.1)
    assert t[0] == 0 and t[-1] == summary["elapsed_time"]
    assert sum(b - a for a, b, m in zip(t, t[1:], moving[1:]) if m) == summary["moving_time"]
    assert summary["average_speed"] == pytest.approx(summary["distance"] / summary["moving_time"], abs=0.001)
    if "velocity_smooth" in st:
        assert summary["max_speed"] == pytest.approx(max(st["velocity_smooth"]["data"]), abs=0.001)
    if "latlng" in st:
        ll = st["latlng"]["data"]
        assert summary["start_latlng"] == ll[0] and summary["end_latlng"] == ll[-1]
        poly = decode(summary["map"]["summary_polyline"])
        assert dist_m(poly[0], ll[0]) < 2 and dist_m(poly[-1], ll[-1]) < 2
    else:
        assert summary["start_latlng"] == [] and summary["map"]["summary_polyline"] == ""
    if "altitude" in st:
        alt = st["altitude"]["data"]
        gain = sum(max(b - a, 0) for a, b in zip(alt, alt[1:]))
        assert summary["total_elevation_gain"] == pytest.approx(gain, abs=0.05)
        assert summary["elev_high"] == max(alt) and summary["elev_low"] == min(alt)
    else:
        assert "elev_high" not in summary and summary["total_elevation_gain"] == 0
    assert summary["has_heartrate"] == ("heartrate" in st)
    if "heartrate" in st:
        hr = st["heartrate"]["data"]
        assert summary["average_heartrate"] == pytest.approx(sum(hr) / len(hr), abs=0.05)
        assert summary["max_heartrate"] == max(hr) and "suffer_score" in summary
    else:
        assert not {"average_heartrate", "max_heartrate", "suffer_score"} & set(summary)
    if "watts" in st:
        w = [x for x, m in zip(st["watts"]["data"], moving) if m]
        assert summary["average_watts"] == pytest.approx(sum(w) / len(w), abs=0.05)
        assert summary["max_watts"] == max(st["watts"]["data"]) and summary["device_watts"] is True
        assert summary["kilojoules"] == pytest.approx(summary["average_watts"] * summary["moving_time"] / 1000, abs=0.1)
    else:
        assert not {"average_watts", "weighted_average_watts", "kilojoules", "device_watts", "max_watts"} & set(summary)
    if "cadence" in st:
        c = [x for x, m in zip(st["cadence"]["data"], moving) if m and x > 0]
        assert summary["average_cadence"] == pytest.approx(sum(c) / len(c), abs=0.05)
    else:
        assert "average_cadence" not in summary
    if "temp" in st:
        assert summary["average_temp"] == round(sum(st["temp"]["data"]) / len(st["temp"]["data"]))
    else:
        assert "average_temp" not in summary


def test_summary_agrees_with_streams(gen_api, gen_acts):
    seen = Counter()
    for a in gen_acts:
        key = (a["sport_type"], bool(a.get("device_watts")), a["has_heartrate"])
        if a["manual"] or seen[key] >= 2:
            continue
        seen[key] += 1
        st = gen_api.json(f"/activities/{a['id']}/streams", keys=ALL_KEYS, key_by_type="true")
        check_consistent(a, st)
        detail = gen_api.json(f"/activities/{a['id']}")
        n = len(st["time"]["data"])
        laps = detail["laps"]
        assert laps == gen_api.json(f"/activities/{a['id']}/laps")
        assert laps[0]["start_index"] == 0 and laps[-1]["end_index"] == n - 1
        assert sum(lap["elapsed_time"] for lap in laps) == a["elapsed_time"]
        assert sum(lap["distance"] for lap in laps) == pytest.approx(a["distance"], abs=0.5)
        if "splits_metric" in detail:
            assert sum(s["distance"] for s in detail["splits_metric"]) == pytest.approx(a["distance"], abs=0.5)
            assert sum(s["moving_time"] for s in detail["splits_standard"]) == a["moving_time"]
        poly = decode(detail["map"]["polyline"])
        if "latlng" in st:
            assert dist_m(poly[0], st["latlng"]["data"][0]) < 2 and dist_m(poly[-1], st["latlng"]["data"][-1]) < 2
        else:
            assert poly == []
    assert {k[0] for k in seen} >= {"Run", "TrailRun", "Ride", "VirtualRide", "Swim", "WeightTraining", "Hike", "Walk"}


def test_summary_field_rules(gen_acts):
    for a in gen_acts:
        assert a["resource_state"] == 2 and a["athlete"] == {"id": a["athlete"]["id"], "resource_state": 1}
        assert a["map"]["id"] == f"a{a['id']}" and list(a["map"]) == ["id", "summary_polyline", "resource_state"]
        assert ("workout_type" in a) == (a["type"] in ("Run", "Ride"))
        assert a["type"] == ("Run" if a["sport_type"] == "TrailRun" else a["sport_type"])
        assert isinstance(a["utc_offset"], float) and isinstance(a["distance"], float)
        local = ts(a["start_date_local"]) - ts(a["start_date"])
        assert local == a["utc_offset"] and a["start_date"].endswith("Z") and a["start_date_local"].endswith("Z")
        tg = a["total_elevation_gain"]
        assert (tg == 0 and isinstance(tg, int)) or (tg > 0 and isinstance(tg, float))
        if a["gear_id"]:
            assert a["gear_id"][0] == ("g" if a["type"] in ("Run", "Walk", "Hike") else "b")
        assert a["gear_id"] is None or re.fullmatch(r"[gb]\d{8}", a["gear_id"])
        assert (a["gear_id"] is None) == (a["sport_type"] in ("Swim", "WeightTraining"))
        assert ("upload_id_str" in a) == (not a["manual"])
        order = [k for k in SUMMARY_ORDER if k in a]
        assert list(a) == order
    ljubljana = [a for a in gen_acts if a["timezone"] == "(GMT+01:00) Europe/Ljubljana"]
    assert {a["utc_offset"] for a in ljubljana} == {3600.0, 7200.0}
    for a in ljubljana:
        month = int(a["start_date"][5:7])
        if month in (1, 2, 12):
            assert a["utc_offset"] == 3600.0
        if month in (6, 7, 8):
            assert a["utc_offset"] == 7200.0


SUMMARY_ORDER = [
    "resource_state",
    "athlete",
    "name",
    "distance",
    "moving_time",
    "elapsed_time",
    "total_elevation_gain",
    "type",
    "sport_type",
    "workout_type",
    "id",
    "start_date",
    "start_date_local",
    "timezone",
    "utc_offset",
    "location_city",
    "location_state",
    "location_country",
    "achievement_count",
    "kudos_count",
    "comment_count",
    "athlete_count",
    "photo_count",
    "map",
    "trainer",
    "commute",
    "manual",
    "private",
    "visibility",
    "flagged",
    "gear_id",
    "start_latlng",
    "end_latlng",
    "average_speed",
    "max_speed",
    "average_cadence",
    "average_temp",
    "average_watts",
    "max_watts",
    "weighted_average_watts",
    "kilojoules",
    "device_watts",
    "has_heartrate",
    "average_heartrate",
    "max_heartrate",
    "heartrate_opt_out",
    "display_hide_heartrate_option",
    "elev_high",
    "elev_low",
    "upload_id",
    "upload_id_str",
    "external_id",
    "from_accepted_tag",
    "pr_count",
    "total_photo_count",
    "has_kudoed",
    "suffer_score",
]
DETAIL_EXTRA = [
    "description",
    "calories",
    "perceived_exertion",
    "prefer_perceived_exertion",
    "segment_efforts",
    "splits_metric",
    "splits_standard",
    "laps",
    "best_efforts",
    "gear",
    "photos",
    "stats_visibility",
    "hide_from_home",
    "device_name",
    "embed_token",
    "similar_activities",
    "available_zones",
]


def test_detail_shapes(gen_api, gen_acts):
    run = pick(gen_acts, lambda a: a["sport_type"] == "Run" and a["distance"] > 10_000 and not a["manual"])
    d = gen_api.json(f"/activities/{run['id']}")
    recorded = load("activity_detail.json")
    assert list(d) == [k for k in SUMMARY_ORDER + DETAIL_EXTRA if k in d]
    assert set(recorded) - {"average_cadence", "average_temp"} <= set(d) | {"average_cadence", "average_temp"}
    assert list(d["map"]) == ["id", "polyline", "resource_state", "summary_polyline"] and d["resource_state"] == 3
    assert {k: v for k, v in d.items() if k in run and k not in ("resource_state", "map")} == {
        k: v for k, v in run.items() if k not in ("resource_state", "map")
    }
    names = [b["name"] for b in d["best_efforts"]]
    assert names[:6] == ["400m", "1/2 mile", "1K", "1 mile", "2 mile", "5K"] and "10K" in names
    assert list(d["best_efforts"][0]) == list(recorded["best_efforts"][0])
    assert list(d["splits_metric"][0]) == list(recorded["splits_metric"][0])
    assert len(d["splits_metric"]) == math.ceil(run["distance"] / 1000 - 0.001)
    lap_keys = list(recorded["laps"][0])
    assert [k for k in d["laps"][0] if k != "average_cadence"] == lap_keys
    assert d["gear"]["id"] == run["gear_id"] and d["gear"]["resource_state"] == 2
    ride = pick(gen_acts, lambda a: a["sport_type"] == "Ride" and a.get("device_watts"))
    rd = gen_api.json(f"/activities/{ride['id']}")
    assert "best_efforts" not in rd and "similar_activities" not in rd
    assert rd["available_zones"] == (["heartrate", "power"] if ride["has_heartrate"] else ["power"])
    zones = gen_api.json(f"/activities/{ride['id']}/zones")
    assert [z["type"] for z in zones][-1] == "power" and zones[-1]["distribution_buckets"][-1]["max"] == -1
    manual = pick(gen_acts, lambda a: a["manual"])
    md = gen_api.json(f"/activities/{manual['id']}")
    assert not {"laps", "splits_metric", "splits_standard", "device_name"} & set(md)
    assert md["photos"] == {"primary": None, "count": manual["total_photo_count"]}
    assert md["map"] == {"id": f"a{manual['id']}", "polyline": "", "resource_state": 3, "summary_polyline": ""}
    assert gen_api.json(f"/activities/{manual['id']}/laps") == []
    rz = gen_api.json(f"/activities/{run['id']}/zones")
    assert [z["type"] for z in rz] == (["heartrate", "pace"] if run["has_heartrate"] else ["pace"])
    for z in rz:
        assert z["distribution_buckets"][-1]["max"] == -1
        assert sum(b["time"] for b in z["distribution_buckets"]) == pytest.approx(run["elapsed_time"], abs=3)
    r = gen_api.get("/activities/12345")
    assert r.status_code == 404 and r.json() == {
        "message": "Resource Not Found",
        "errors": [{"resource": "Activity", "field": "id", "code": "not found"}],
    }
    assert gen_api.get("/no/such/route").status_code == 404


def test_athlete_stats_gear(gen, gen_api, gen_acts):
    athlete = gen_api.json("/athlete")
    assert set(athlete) == set(load("athlete.json")) and athlete["id"] == gen.athlete_id
    assert athlete["resource_state"] == 3 and athlete["measurement_preference"] == "meters"
    gear_ids = {a["gear_id"] for a in gen_acts if a["gear_id"]}
    shoes = sorted(g for g in gear_ids if g.startswith("g"))
    bikes = sorted(g for g in gear_ids if g.startswith("b"))
    assert len(shoes) == 2 and len(bikes) == 2
    gears = {g: gen_api.json(f"/gear/{g}") for g in shoes + bikes}
    assert sum(g["retired"] for g in gears.values()) == 1
    listed = {g["id"] for g in athlete["shoes"] + athlete["bikes"]}
    assert listed == {g for g, v in gears.items() if not v["retired"]}  # retired gear is not on the athlete
    for g, v in gears.items():
        assert v["distance"] == pytest.approx(sum(a["distance"] for a in gen_acts if a["gear_id"] == g), abs=1)
        keys = list(load("gear.json" if g.startswith("g") else "gear_bike.json"))
        assert list(v) == keys
    stats = gen_api.json(f"/athletes/{gen.athlete_id}/stats")
    assert list(stats) == list(load("athlete_stats.json"))
    public = [a for a in gen_acts if not a["private"]]
    runs = [a for a in public if a["type"] == "Run"]
    assert stats["all_run_totals"]["count"] == len(runs)
    assert stats["all_run_totals"]["distance"] == pytest.approx(sum(a["distance"] for a in runs))
    assert stats["all_run_totals"]["elevation_gain"] == pytest.approx(sum(a["total_elevation_gain"] for a in runs))
    recent = [a for a in public if a["type"] in ("Ride", "VirtualRide") and ts(a["start_date"]) >= NOW - 28 * 86400]
    assert stats["recent_ride_totals"]["count"] == len(recent)
    ytd = [a for a in public if a["type"] == "Swim" and a["start_date"] >= "2025-01-01"]
    assert stats["ytd_swim_totals"]["moving_time"] == sum(a["moving_time"] for a in ytd)
    r = gen_api.get("/athletes/1/stats")
    assert r.status_code == 403
    zones = gen_api.json("/athlete/zones")
    assert zones["heart_rate"]["zones"][-1]["max"] == -1 and len(zones["heart_rate"]["zones"]) == 5


# ---------------------------------------------------------------------------------------------------- faults
def test_faults(fresh):
    api = Api(fresh)
    aid = fresh.activities()[0]["id"]
    fresh.faults.add("5xx", count=2, status=503)
    for _ in range(2):
        r = api.get("/athlete")
        assert r.status_code == 503 and "text/html" in r.headers["Content-Type"] and "X-RateLimit-Usage" in r.headers
    assert api.get("/athlete").status_code == 200
    fresh.faults.add("5xx", status=500)
    r = api.get("/athlete")
    assert r.status_code == 500 and r.json()["message"] == "Internal Server Error"

    fresh.faults.add("slow", delay=0.6)
    with pytest.raises(requests.Timeout):
        api.get("/athlete", timeout=0.15)
    assert api.get("/athlete").status_code == 200

    fresh.faults.add("drop")
    with pytest.raises(requests.ConnectionError):
        api.get("/athlete")
    assert api.get("/athlete").status_code == 200

    fresh.faults.add("truncate")
    r = api.get(f"/activities/{aid}")
    assert r.status_code == 200 and int(r.headers["Content-Length"]) == len(r.content)
    with pytest.raises(ValueError):
        json.loads(r.content)
    full = api.get(f"/activities/{aid}")
    assert full.content.startswith(r.content) and len(r.content) == len(full.content) // 2

    fresh.faults.add("html")
    r = api.get("/athlete")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html") and "<html" in r.text

    # only requests whose path matches
    fresh.faults.add("5xx", count=1, path=r"/streams$", status=502)
    assert api.get("/athlete").status_code == 200
    assert api.get(f"/activities/{aid}/streams", keys="time", key_by_type="true").status_code == 502
    assert api.get(f"/activities/{aid}/streams", keys="time", key_by_type="true").status_code == 200
    fresh.faults.add("5xx", count=5)
    fresh.faults.clear()
    assert api.get("/athlete").status_code == 200
    # every one of them used budget: 15 API requests so far
    assert fresh.usage.read_daily == 15
    deadline = time.monotonic() + 5  # the slow request is logged when its (abandoned) answer is written
    while len([e for e in fresh.log if e.path.startswith("/api/v3")]) < 15 and time.monotonic() < deadline:
        time.sleep(0.05)
    statuses = [e.status for e in fresh.log if e.path.startswith("/api/v3")]
    assert statuses.count(0) == 1 and statuses.count(503) == 2 and len(statuses) == 15
    with pytest.raises(ValueError):
        fresh.faults.add("boom")


# ---------------------------------------------------------------------------------------------------- admin, log
def test_admin_endpoints_and_counts(fresh):
    api = Api(fresh)
    admin = fresh.base_url.replace("/api/v3", "/__fake__")
    s = requests.Session()
    assert s.post(admin + "/clock", json={"advance": 60}).json()["now"] == NOW + 60
    assert s.post(admin + "/clock", json={"set": NOW + 900}).json()["now"] == NOW + 900
    assert fresh.clock.now() == NOW + 900
    assert s.post(admin + "/usage", json={"read_15min": 99, "read_daily": 99}).json()["read_15min"] == 99
    assert api.get("/athlete").status_code == 200
    assert api.get("/athlete").status_code == 429
    s.post(admin + "/usage", json={"read_15min": 0})
    assert s.post(admin + "/faults", json={"kind": "5xx", "count": 1, "path": "/athlete$"}).status_code == 200
    assert api.get("/athlete").status_code == 503
    acts = api.json("/athlete/activities", per_page=3)
    api.json(f"/activities/{acts[0]['id']}/streams", keys="time", key_by_type="true")
    counts = s.get(admin + "/counts").json()
    assert counts == {
        "POST /oauth/token": 1,
        "GET /athlete": 3,
        "GET /athlete/activities": 1,
        "GET /activities/{id}/streams": 1,
    }
    assert fresh.counts() == Counter(counts)
    log = s.get(admin + "/log").json()
    assert [e["status"] for e in log] == [200, 200, 429, 503, 200, 200]
    assert log[0]["method"] == "POST" and log[0]["path"] == "/oauth/token" and log[4]["query"]["per_page"] == "3"
    assert fresh.count_429 == 1
    assert s.post(admin + "/clock", json={"nope": 1}).status_code == 400
    rt = s.post(admin + "/tokens", json={"action": "issue_refresh_token"}).json()["refresh_token"]
    assert api.token(grant_type="refresh_token", refresh_token=rt).status_code == 200
    fresh.reset_log()
    assert fresh.log == [] and fresh.counts() == Counter() and fresh.count_429 == 0


def test_keep_alive_reuses_one_connection(gen):
    api = Api(gen)
    before = gen._server.connections_accepted
    for _ in range(5):
        assert api.get("/athlete").status_code == 200
    assert gen._server.connections_accepted - before <= 1


# ---------------------------------------------------------------------------------------------------- generation
def test_determinism_and_ids(gen_acts):
    with FakeStrava(athlete=SPEC, clock=FakeClock(NOW)) as again:
        assert again.activities() == gen_acts
        a = Api(again)
        b = pick(gen_acts, lambda x: x["sport_type"] == "Ride" and not x["manual"])
        s1 = a.get(f"/activities/{b['id']}/streams", keys=ALL_KEYS, key_by_type="true").content
    with FakeStrava(athlete=SPEC, clock=FakeClock(NOW)) as third:
        s2 = Api(third).get(f"/activities/{b['id']}/streams", keys=ALL_KEYS, key_by_type="true").content
    assert s1 == s2
    other = FakeStrava(athlete=AthleteSpec(seed=8, first_day=SPEC.first_day, stream_scale=0.2), clock=FakeClock(NOW))
    assert [a["id"] for a in other.activities()] != [a["id"] for a in gen_acts]
    ids = [a["id"] for a in gen_acts]
    assert len(set(ids)) == len(ids) and all(10_000_000_000 <= i < 100_000_000_000 for i in ids)
    # newest first by start_date is not the same as descending ids (ids follow the upload)
    assert ids != sorted(ids, reverse=True)


def test_three_thousand_activities():
    clock = FakeClock(NOW)
    spec = AthleteSpec(seed=11, n_activities=3000, stream_scale=0.01)
    with FakeStrava(athlete=spec, clock=clock) as fake:
        api = Api(fake)
        acts = api.all_activities()
        assert len(acts) == 3000 == len(fake.activities())
        assert fake.counts()["GET /athlete/activities"] == 16
        assert all(ts(a["start_date"]) + a["elapsed_time"] <= NOW for a in acts)
        assert len({a["id"] for a in acts}) == 3000
        weeks = (ts(acts[0]["start_date"]) - ts(acts[-1]["start_date"])) / (7 * 86400)
        assert 3.5 <= 3000 / weeks <= 7
        share = Counter(a["type"] for a in acts)
        expected = {
            "Run": 0.45,
            "Ride": 0.25,
            "VirtualRide": 0.05,
            "Swim": 0.08,
            "WeightTraining": 0.05,
            "Hike": 0.05,
            "Walk": 0.05,
        }
        for sport, p in expected.items():
            assert abs(share[sport] / 3000 - p) < 0.035, (sport, share[sport])
        assert 0.02 < sum(a["sport_type"] == "TrailRun" for a in acts) / share["Run"] < 0.25
        assert 0.035 < sum(a["private"] for a in acts) / 3000 < 0.065
        assert 0.01 < sum(a["manual"] for a in acts) / 3000 < 0.035
        assert sum(bool(a.get("device_watts")) for a in acts if a["sport_type"] == "Ride") > 50
        gps = [a for a in acts if a["start_latlng"]]
        near_home = [a for a in gps if dist_m(a["start_latlng"], HOME) < 350]
        assert 0.6 < len(near_home) / len(gps) < 0.97
        assert len({a["timezone"] for a in acts}) >= 4
        small = api.json(f"/activities/{gps[0]['id']}/streams", keys="latlng", key_by_type="true")
        assert len(small["latlng"]["data"]) < 100  # stream_scale=0.01


def test_clock_makes_new_activities_visible(fresh):
    api = Api(fresh)
    before = fresh.activities()
    newest = ts(before[0]["start_date"])
    assert api.json("/athlete/activities", after=newest) == []
    fresh.clock.advance(5 * 86400)
    api.refresh()
    after = fresh.activities()
    new = api.json("/athlete/activities", after=newest)
    assert new and len(after) == len(before) + len(new)
    assert [a["id"] for a in new] == [a["id"] for a in reversed(after[: len(new)])]
    assert after[len(new) :] == before  # older activities did not change


def test_add_update_delete(fresh):
    api = Api(fresh)
    added = fresh.add_activity(sport_type="Ride", name="Brand new ride", distance=42_000.0)
    assert added["distance"] == 42_000.0 and added["name"] == "Brand new ride" and added["type"] == "Ride"
    listed = api.json("/athlete/activities", per_page=1)[0]
    assert listed == added and added["id"] > max(a["id"] for a in fresh.activities()[1:])
    st = api.json(f"/activities/{added['id']}/streams", keys=ALL_KEYS, key_by_type="true")
    check_consistent(added, st)
    manual = fresh.add_activity(sport_type="Run", manual=True, distance=5000.0, moving_time=1500)
    assert manual["manual"] and api.get(f"/activities/{manual['id']}/streams", keys="time").status_code == 404
    fresh.update_activity(added["id"], name="Renamed", private=True)
    d = api.json(f"/activities/{added['id']}")
    assert d["name"] == "Renamed" and d["private"] is True and d["visibility"] == "only_me"
    public_api = Api(fresh, scope="read,activity:read")
    assert added["id"] not in {a["id"] for a in public_api.json("/athlete/activities", per_page=5)}
    fresh.update_activity(added["id"], start_date="2024-03-01T07:00:00Z")
    moved = api.json(f"/activities/{added['id']}")
    assert moved["start_date"] == "2024-03-01T07:00:00Z" and moved["start_date_local"] == "2024-03-01T08:00:00Z"
    fresh.delete_activity(added["id"])
    assert api.get(f"/activities/{added['id']}").status_code == 404
    assert added["id"] not in {a["id"] for a in fresh.activities()}


def test_cli_runs_in_foreground():
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "strava_pipeline.fake_api", "--port", "0", "--seed", "3"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        lines = {}
        for line in proc.stdout:
            if line.startswith("Ctrl-C"):
                break
            parts = line.split()
            if len(parts) == 2:
                lines[parts[0]] = parts[1]
        base = lines["base_url"]
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api/v3", base)
        tok = requests.post(
            lines["token_url"],
            data={
                "client_id": "demo",
                "client_secret": "demo-secret",
                "grant_type": "refresh_token",
                "refresh_token": lines["refresh_token"],
            },
        ).json()
        r = requests.get(base + "/athlete", headers={"Authorization": f"Bearer {tok['access_token']}"})
        assert r.status_code == 200 and r.json()["id"] == int(lines["athlete_id"])
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0


def test_polyline_codec():
    pts = [(38.5, -120.2), (40.7, -120.95), (43.252, -126.453)]
    assert encode(pts) == "_p~iF~ps|U_ulLnnqC_mqNvxq`@"
    assert decode("_p~iF~ps|U_ulLnnqC_mqNvxq`@") == pts
    assert encode([]) == ""
